#!/usr/bin/env bash
# The operator's performance in one command, on this machine alone: moto
# (AWS) and kube-testserver (Kubernetes) on loopback, the release build of
# the operator, and bench/ (an example of this crate) to create objects,
# read the operator's /metrics and /proc, and time the plain program it is
# compared with. Prints a markdown report; README.md, Performance, explains it.
#
#   scripts/bench.sh [--roles N] [--accounts M] [--objects K] [--resync SECONDS|auto] [--out DIR]
#
# --roles      CrossAccountRoles (Manage) timed from create to Ready, then a
#              restart and one resync pass over them (default 300)
# --accounts   member accounts they are spread over (default 5)
# --objects    Observe roles for the memory and start-up figures with many
#              objects cached; 0 skips that part (default 2000)
# --resync     the operator's --resync-interval for the resync pass; auto
#              (default) takes 30 s or twice the first pass, whichever is
#              longer, so that one pass ends before the next begins
# --out        keep the results (JSON, report.md) and the logs in DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

roles=300
accounts=5
objects=2000
resync=auto
out=
usage() { echo "usage: $0 [--roles N] [--accounts M] [--objects K] [--resync SECONDS|auto] [--out DIR]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --roles) roles=${2:-} ;;
    --accounts) accounts=${2:-} ;;
    --objects) objects=${2:-} ;;
    --resync) resync=${2:-} ;;
    --out) out=${2:-} ;;
    *) usage ;;
  esac
  [ $# -ge 2 ] || usage
  shift 2
done
for value in "$roles" "$accounts" "$objects"; do
  [[ "$value" =~ ^[0-9]+$ ]] || usage
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

# The operator with a given resync interval; $started is when it was spawned.
start_operator() {
  metrics_port=$(free_port)
  started=$(date +%s.%N)
  "$operator_bin" run --metrics-address "127.0.0.1:$metrics_port" --resync-interval "$2" >"$logs/$1-operator.log" 2>&1 &
  operator_pid=$!
  pids+=("$operator_pid")
}

operator_args() {
  echo --metrics "127.0.0.1:$metrics_port" --pid "$operator_pid" --clock-ticks "$clock_ticks" \
    --namespace "$1" --recording "$recording"
}

# The cores may be shared: the report shows how busy the machine was.
cp /proc/loadavg "$results/loadavg-start"
say "1/4 operator: $roles roles in $accounts accounts, create until Ready"
start_moto operator
start_kube operator
"$bench_bin" setup --accounts "$accounts" --out "$results/accounts.json"
# An hour between resyncs: the first pass alone is timed.
start_operator first 1h
# shellcheck disable=SC2046 # operator_args is a list of words
"$bench_bin" first-pass --accounts-file "$results/accounts.json" --roles "$roles" \
  $(operator_args bench) --out "$results/first.json"
stop "$operator_pid"

if [ "$resync" = auto ]; then
  resync=$(python3 -c 'import json, math, sys; print(max(30, math.ceil(2 * json.load(open(sys.argv[1]))["ready_seconds"])))' "$results/first.json")
fi
say "2/4 operator: restart over the $roles roles, then one resync pass at ${resync}s"
offset=$(stat -c %s "$recording")
start_operator restart "${resync}s"
# shellcheck disable=SC2046
"$bench_bin" restart --objects "$roles" --started-at "$started" --resync-pass "$resync" \
  --recording-offset "$offset" $(operator_args bench) --out "$results/restart.json"
stop "$operator_pid"
stop "$kube_pid"
stop "$moto_pid"

say "3/4 plain program: the same roles' writes against a fresh moto"
start_moto plain
"$bench_bin" setup --accounts "$accounts" --out "$results/plain-accounts.json"
"$bench_bin" plain --accounts-file "$results/plain-accounts.json" --roles "$roles" --concurrency 4 \
  --recording "$recording" --out "$results/plain.json"
stop "$moto_pid"

rm -f "$results/objects-create.json" "$results/objects-restart.json"
if [ "$objects" -gt 0 ]; then
  say "4/4 operator: start over $objects Observe roles (created first, with no operator running)"
  start_moto objects
  start_kube objects
  "$bench_bin" setup --accounts "$accounts" --out "$results/objects-accounts.json"
  "$bench_bin" create --accounts-file "$results/objects-accounts.json" --objects "$objects" \
    --namespace observe --observe --out "$results/objects-create.json"
  offset=$(stat -c %s "$recording" 2>/dev/null || echo 0)
  start_operator objects 1h
  # shellcheck disable=SC2046
  "$bench_bin" restart --objects "$objects" --started-at "$started" --recording-offset "$offset" \
    $(operator_args observe) --out "$results/objects-restart.json"
  stop "$operator_pid"
  stop "$kube_pid"
  stop "$moto_pid"
else
  say "4/4 skipped (--objects 0)"
fi

cp /proc/loadavg "$results/loadavg-end"
"$bench_bin" report --dir "$results" | tee "$results/report.md"
succeeded=true
if [ -n "$out" ]; then say "results and logs in $out"; fi
