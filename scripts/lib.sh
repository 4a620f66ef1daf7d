# shellcheck shell=bash
# What scripts/demo.sh and scripts/image.sh share: moto and kube-testserver on
# free loopback ports, the chart's webhook certificate, the AWS side seeded and
# the CRDs installed. Sourced from the checkout's root after scripts/setup.sh,
# with `set -euo pipefail`.
#
# Sourcing it makes `work`, a private temporary directory for logs, the
# kubeconfig and certificates, and `pids`, the processes started here;
# `stop_started` kills those and removes `work` (the callers' EXIT trap).
# Messages start with `$who: ` (default: demo).

who=${who:-demo}
work=$(mktemp -d)
pids=()

stop_started() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_for_url() {
  for _ in $(seq 1 200); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$who: $1 did not come up" >&2; return 1
}

# The directory that `cargo build` writes to (CARGO_TARGET_DIR or target/).
cargo_target_dir() {
  cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

# moto on a free loopback port, its log in $work/moto.log; sets moto_port.
start_moto() {
  moto_port=$(free_port)
  MOTO_IAM_LOAD_MANAGED_POLICIES=true .tools/moto/bin/moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
  pids+=($!)
}

# chart_webhook RELEASE: the admission webhook as the chart registers it for
# release RELEASE in namespace aws-access-operator. Its generated certificate
# goes to $work/webhook-tls/tls.{crt,key}, its registration to
# $work/webhook-registration.yaml.
chart_webhook() {
  mkdir -p "$work/webhook-tls"
  .tools/bin/helm template "$1" charts/aws-access-operator --namespace aws-access-operator \
    --show-only templates/webhook.yaml >"$work/webhook.yaml"
  .tools/moto/bin/python - "$work" <<'EOF'
import base64, sys, yaml
work = sys.argv[1]
documents = [d for d in yaml.safe_load_all(open(f"{work}/webhook.yaml")) if d]
secret = next(d for d in documents if d["kind"] == "Secret")
for name in ("tls.crt", "tls.key"):
    open(f"{work}/webhook-tls/{name}", "wb").write(base64.b64decode(secret["data"][name]))
registration = next(d for d in documents if d["kind"] == "ValidatingWebhookConfiguration")
yaml.safe_dump(registration, open(f"{work}/webhook-registration.yaml", "w"))
EOF
}

# start_kube_testserver BIN [ARG...]: kube-testserver on a free loopback port,
# ARGs added (--service-endpoint ...), its log in $work/kube-testserver.log;
# returns once it has written $work/kubeconfig.
start_kube_testserver() {
  local bin=$1
  shift
  "$bin" --listen 127.0.0.1:0 --write-kubeconfig "$work/kubeconfig" "$@" \
    >"$work/kube-testserver.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  until [ -s "$work/kubeconfig" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$who: kube-testserver exited before it was ready:" >&2
      cat "$work/kube-testserver.log" >&2
      exit 1
    fi
    sleep 0.05
  done
}

# kubectl and the AWS SDKs (boto3, the operator) pointed at the servers started
# above; returns once kube-testserver answers.
use_local_servers() {
  export KUBECONFIG="$work/kubeconfig" KUBECACHEDIR="$work/kube-cache"
  export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  wait_for_url "$(sed -n 's/^ *server: //p' "$KUBECONFIG")/readyz"
}

# What examples/ expect to find in AWS: the organization, and the identity
# account's users alice and bob.
seed_aws() {
  echo "$who: the organization and the identity account's users (alice, bob)" >&2
  .tools/moto/bin/python - <<'EOF'
import boto3
boto3.client("organizations").create_organization(FeatureSet="ALL")
iam = boto3.client("iam")
for user in ("alice", "bob"):
    iam.create_user(UserName=user)
EOF
}

install_crds() {
  kubectl apply -f crds/ >/dev/null
  kubectl wait --for=condition=Established crd --all --timeout=30s >/dev/null
}
