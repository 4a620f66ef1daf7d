#!/usr/bin/env bash
# Runs kube-rs's own cluster tests (the #[ignore]d ones in kube, kube-client and kube-runtime,
# all features) against a fresh kube-testserver, and prints each test's result and the total.
#
#   kube-testserver/scripts/kube-rs-suite.sh /path/to/kube-rs-checkout
#
# It fetches nothing: the kube-rs checkout is given, its dependencies come from the crates.io
# registry as any cargo build gets them. CARGO_TARGET_DIR is honoured for kube-testserver;
# KUBE_RS_TARGET_DIR (default: <checkout>/target) is where kube-rs builds (10+ minutes the
# first time on two cores). TEST_THREADS (default 1) runs the tests one at a time, since they
# share one cluster, as kube-rs's CI runs them. The tests that need a kubelet (a running pod,
# exec, attach, logs) fail here by design; see kube-testserver/README.md.
set -euo pipefail

kube_rs=${1:?usage: $0 <kube-rs checkout>}
kube_rs=$(cd "$kube_rs" && pwd)
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
server_pid=

cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# KUBE_TESTSERVER_BIN runs a server already built instead of building this checkout's.
server=${KUBE_TESTSERVER_BIN:-}
if [[ -z $server ]]; then
    (cd "$here" && cargo build -q -p kube-testserver)
    server="${CARGO_TARGET_DIR:-$here/target}/debug/kube-testserver"
fi
"$server" --listen 127.0.0.1:0 --write-kubeconfig "$work/kubeconfig" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/server.log" && break
    sleep 0.1
done
grep "listening on" "$work/server.log"

export KUBECONFIG="$work/kubeconfig"
set +e
(cd "$kube_rs" && CARGO_TARGET_DIR="${KUBE_RS_TARGET_DIR:-$kube_rs/target}" \
    timeout "${SUITE_TIMEOUT:-1800}" \
    cargo test -p kube -p kube-client -p kube-runtime --all-features --lib --no-fail-fast \
    -- --ignored --test-threads "${TEST_THREADS:-1}") >"$work/tests.log" 2>&1
set -e

# Tests marked "needs kubeconfig", "needs cluster", "requires a cluster", "needs kubelet …";
# kube-client's auth tests that shell out (ignored for other reasons) are not cluster tests.
results=$(grep -E '^test .* \.\.\. (ok|FAILED)$' "$work/tests.log" | grep -v '::auth::' | sed -E 's/^test (.*) \.\.\. (ok|FAILED)$/\2 \1/' | sort -k2)
echo "$results" | awk '{ printf "%-7s %s\n", ($1 == "ok" ? "passed" : "failed"), $2 }'
passed=$(echo "$results" | grep -c '^ok ' || true)
total=$(echo "$results" | grep -c . || true)
echo "kube-rs cluster tests: $passed of $total passed"
if [[ -n ${SUITE_LOG:-} ]]; then cp "$work/tests.log" "$SUITE_LOG"; fi
