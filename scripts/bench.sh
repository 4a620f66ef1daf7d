#!/usr/bin/env bash
# The operator's performance in one command, on this machine alone: moto
# (AWS) and kube-testserver (Kubernetes) on loopback, the release build of
# the operator, and bench/ (an example of this crate) to create objects,
# read the operator's /metrics and /proc, and time the plain program it is
# compared with. Prints a markdown report; README.md, Performance, explains it.
#
#   scripts/bench.sh [--roles N] [--accounts M] [--objects K] [--resync SECONDS|auto]
#                    [--plain "rust:4 python:8 ..."] [--lifted "ENV=VALUE ..."|none] [--out DIR]
#
# --roles      CrossAccountRoles (Manage) timed from create to Ready, then a
#              restart and one resync pass over them (default 300)
# --accounts   member accounts they are spread over (default 5)
# --objects    Observe roles for the memory and start-up figures with many
#              objects cached; 0 skips that part (default 2000)
# --resync     the operator's --resync-interval for the resync pass; auto
#              (default) takes 30 s or twice the first pass, whichever is
#              longer, so that one pass ends before the next begins
# --plain      the plain programs to time, each against a fresh moto, the
#              fastest reported as "the plain program": LANGUAGE:ROLES_IN_FLIGHT,
#              LANGUAGE rust (the operator's AWS SDK, bench/aws.rs) or python
#              (boto3 on threads, bench/plain.py), with :account for that
#              many in flight in each account rather than overall
#              (default: "rust:4 rust:16 python:4 python:8")
# --lifted     the operator's settings for a second first pass, on a fresh
#              moto and kube-testserver, with its IAM pacing out of the way
#              (default: "IAM_CALLS_PER_SECOND=1000 IAM_CALLS_IN_FLIGHT=64");
#              none skips it
# --floor      objects for kube-testserver's floor (a trivial client's
#              creates, finalizers and status writes); 0 skips it (default:
#              --objects, at least 1000)
# --out        keep the results (JSON, report.md) and the logs in DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

roles=300
accounts=5
objects=2000
resync=auto
plain="rust:4 rust:16 python:4 python:8"
lifted="IAM_CALLS_PER_SECOND=1000 IAM_CALLS_IN_FLIGHT=64"
floor=
out=
usage() {
  echo "usage: $0 [--roles N] [--accounts M] [--objects K] [--resync SECONDS|auto] [--plain \"LANG:N ...\"] [--lifted \"ENV=VALUE ...\"|none] [--floor K] [--out DIR]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --roles) roles=${2:-} ;;
    --accounts) accounts=${2:-} ;;
    --objects) objects=${2:-} ;;
    --resync) resync=${2:-} ;;
    --plain) plain=${2:-} ;;
    --lifted) lifted=${2:-} ;;
    --floor) floor=${2:-} ;;
    --out) out=${2:-} ;;
    *) usage ;;
  esac
  [ $# -ge 2 ] || usage
  shift 2
done
if [ -z "$floor" ]; then floor=$((objects > 1000 ? objects : 1000)); fi
for value in "$roles" "$accounts" "$objects" "$floor"; do
  [[ "$value" =~ ^[0-9]+$ ]] || usage
done
[ -n "$plain" ] || usage
for program in $plain; do
  [[ "$program" =~ ^(rust|python):[0-9]+(:account)?$ ]] || usage
done
if [ "$lifted" = none ]; then lifted=; fi
for setting in $lifted; do
  [[ "$setting" =~ ^[A-Z_]+=[^[:space:]]+$ ]] || usage
done
[[ "$resync" == auto || "$resync" =~ ^[0-9]+$ ]] || usage
if [ "$roles" -lt 1 ] || [ "$accounts" -lt 1 ] || [ "$resync" = 0 ]; then
  echo "bench: --roles, --accounts and --resync must be at least 1" >&2
  exit 2
fi

say() { echo "bench: $*" >&2; }

scripts/setup.sh
say "building the release binaries (the first build takes several minutes)"
# One invocation, so the operator and kube-testserver are built with the same
# features as without the example.
cargo build --quiet --release --workspace --bins --example bench
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
operator_bin="$target_dir/release/aws-access-operator"
testserver_bin="$target_dir/release/kube-testserver"
bench_bin="$target_dir/release/examples/bench"
clock_ticks=$(getconf CLK_TCK)

# free_port and wait_for_url, shared with demo.sh and image.sh; makes $work and $pids.
who=bench
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
results=${out:-$work/results}
mkdir -p "$results"
logs="$results/logs"
mkdir -p "$logs"
succeeded=false
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if $succeeded; then
    rm -rf "$work"
  else
    say "failed; the logs are in $logs, moto's recordings and the kubeconfigs in $work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one process this script started and waits until it is gone.
stop() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

# A fresh moto whose requests are recorded to $recording (for AssumeRole per account).
start_moto() {
  local port
  port=$(free_port)
  recording="$work/$1.recording"
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ENABLE_RECORDING=true MOTO_RECORDER_FILEPATH="$recording" \
    .tools/moto/bin/moto_server -H 127.0.0.1 -p "$port" >"$logs/$1-moto.log" 2>&1 &
  moto_pid=$!
  pids+=("$moto_pid")
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  wait_for_url "$AWS_ENDPOINT_URL/moto-api/"
}

# A fresh kube-testserver with the CRDs.
start_kube() {
  "$testserver_bin" --listen 127.0.0.1:0 --write-kubeconfig "$work/$1.kubeconfig" >"$logs/$1-kube-testserver.log" 2>&1 &
  kube_pid=$!
  pids+=("$kube_pid")
  until [ -s "$work/$1.kubeconfig" ]; do
    if ! kill -0 "$kube_pid" 2>/dev/null; then
      say "kube-testserver exited before it was ready:"
      cat "$logs/$1-kube-testserver.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  export KUBECONFIG="$work/$1.kubeconfig" KUBECACHEDIR="$work/kube-cache"
  wait_for_url "$(sed -n 's/^ *server: //p' "$KUBECONFIG")/readyz"
  kubectl apply -f crds/ >/dev/null
  kubectl wait --for=condition=Established crd --all --timeout=30s >/dev/null
}

# The operator with a given resync interval and the settings in
# $operator_env, talking to kube-testserver through a proxy that counts its
# requests into $results/$1-kube.json; $started is when it was spawned.
operator_env=()
start_operator() {
  local server address
  server=$(sed -n 's/^ *server: //p' "$KUBECONFIG")
  rm -f "$work/$1.proxy"
  "$bench_bin" kube-proxy --upstream "${server#http://}" --address-file "$work/$1.proxy" \
    --out "$results/$1-kube.json" >"$logs/$1-kube-proxy.log" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  until [ -s "$work/$1.proxy" ]; do sleep 0.05; done
  address=$(cat "$work/$1.proxy")
  sed "s#^\( *server: \).*#\1http://$address#" "$KUBECONFIG" >"$work/$1.operator.kubeconfig"
  metrics_port=$(free_port)
  started=$(date +%s.%N)
  env KUBECONFIG="$work/$1.operator.kubeconfig" "${operator_env[@]}" \
    "$operator_bin" run --metrics-address "127.0.0.1:$metrics_port" --resync-interval "$2" >"$logs/$1-operator.log" 2>&1 &
  operator_pid=$!
  pids+=("$operator_pid")
}

# Stops the operator, then its proxy once it wrote its last counts.
stop_operator() {
  stop "$operator_pid"
  sleep 0.3
  stop "$proxy_pid"
}

operator_args() {
  echo --metrics "127.0.0.1:$metrics_port" --pid "$operator_pid" --clock-ticks "$clock_ticks" \
    --namespace "$1" --recording "$recording" \
    --cpu-of "kube-testserver=$kube_pid" --cpu-of "moto=$moto_pid" --cpu-of "kube-proxy=$proxy_pid"
}

# The cores may be shared: the report shows how busy the machine was.
cp /proc/loadavg "$results/loadavg-start"
rm -f "$results"/*.json "$results/lifted.env"
say "1/6 operator: $roles roles in $accounts accounts, create until Ready"
start_moto operator
start_kube operator
"$bench_bin" setup --accounts "$accounts" --out "$results/accounts.json"
# An hour between resyncs: the first pass alone is timed.
start_operator first 1h
# shellcheck disable=SC2046 # operator_args is a list of words
"$bench_bin" first-pass --accounts-file "$results/accounts.json" --roles "$roles" \
  $(operator_args bench) --out "$results/first.json"
stop_operator

if [ "$resync" = auto ]; then
  resync=$(python3 -c 'import json, math, sys; print(max(30, math.ceil(2 * json.load(open(sys.argv[1]))["ready_seconds"])))' "$results/first.json")
fi
say "2/6 operator: restart over the $roles roles, then one resync pass at ${resync}s"
offset=$(stat -c %s "$recording")
start_operator restart "${resync}s"
# shellcheck disable=SC2046
"$bench_bin" restart --objects "$roles" --started-at "$started" --resync-pass "$resync" \
  --recording-offset "$offset" $(operator_args bench) --out "$results/restart.json"
stop_operator
stop "$kube_pid"
stop "$moto_pid"

if [ -n "$lifted" ]; then
  say "3/6 operator: the first pass again, on a fresh moto and kube-testserver, with $lifted"
  echo "$lifted" >"$results/lifted.env"
  start_moto lifted
  start_kube lifted
  "$bench_bin" setup --accounts "$accounts" --out "$results/lifted-accounts.json"
  read -r -a operator_env <<<"$lifted"
  start_operator first-lifted 1h
  operator_env=()
  # shellcheck disable=SC2046
  "$bench_bin" first-pass --accounts-file "$results/lifted-accounts.json" --roles "$roles" \
    $(operator_args bench) --out "$results/first-lifted.json"
  stop_operator
  stop "$kube_pid"
  stop "$moto_pid"
else
  say "3/6 skipped (--lifted none)"
fi

say "4/6 plain programs: the same roles' writes, each against a fresh moto: $plain"
for program in $plain; do
  IFS=: read -r language in_flight scope <<<"$program"
  run="plain-$language-$in_flight${scope:+-$scope}"
  start_moto "$run"
  "$bench_bin" setup --accounts "$accounts" --out "$results/$run-accounts.json"
  per_account=()
  if [ -n "$scope" ]; then per_account=(--per-account); fi
  case "$language" in
    rust)
      "$bench_bin" plain --accounts-file "$results/$run-accounts.json" --roles "$roles" \
        --concurrency "$in_flight" "${per_account[@]}" --recording "$recording" \
        --cpu-of "moto=$moto_pid" --clock-ticks "$clock_ticks" --out "$results/$run.json"
      ;;
    python)
      [ -z "$scope" ] || { say "python:N:account is not written; use python:N"; exit 2; }
      offset=$(stat -c %s "$recording")
      .tools/moto/bin/python bench/plain.py --accounts-file "$results/$run-accounts.json" --roles "$roles" \
        --concurrency "$in_flight" --moto-pid "$moto_pid" --out "$work/$run.result.json"
      "$bench_bin" plain --accounts-file "$results/$run-accounts.json" --roles "$roles" \
        --recording "$recording" --recording-offset "$offset" --result-from "$work/$run.result.json" \
        --out "$results/$run.json"
      ;;
  esac
  say "  $program: $(python3 -c 'import json, sys; print("%.2f s" % json.load(open(sys.argv[1]))["result"]["seconds"])' "$results/$run.json")"
  stop "$moto_pid"
done

if [ "$objects" -gt 0 ]; then
  say "5/6 operator: start over $objects Observe roles (created first, with no operator running)"
  start_moto objects
  start_kube objects
  "$bench_bin" setup --accounts "$accounts" --out "$results/objects-accounts.json"
  "$bench_bin" create --accounts-file "$results/objects-accounts.json" --objects "$objects" \
    --namespace observe --observe --out "$results/objects-create.json"
  offset=$(stat -c %s "$recording" 2>/dev/null || echo 0)
  start_operator objects 1h
  # shellcheck disable=SC2046
  "$bench_bin" restart --objects "$objects" --started-at "$started" --recording-offset "$offset" \
    --until-outcome "Ready=False DriftDetected" $(operator_args observe) --out "$results/objects-restart.json"
  stop_operator
  stop "$kube_pid"
  stop "$moto_pid"
else
  say "5/6 skipped (--objects 0)"
fi

if [ "$floor" -gt 0 ]; then
  say "6/6 kube-testserver alone: $floor objects' creates, finalizers and status writes from a trivial client"
  start_kube floor
  "$bench_bin" kube-floor --accounts-file "$results/accounts.json" --objects "$floor" --namespace floor \
    --out "$results/kube-floor.json"
  stop "$kube_pid"
else
  say "6/6 skipped (--floor 0)"
fi

cp /proc/loadavg "$results/loadavg-end"
"$bench_bin" report --dir "$results" | tee "$results/report.md"
succeeded=true
if [ -n "$out" ]; then say "results and logs in $out"; fi
