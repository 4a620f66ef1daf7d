#!/usr/bin/env bash
# The demo flow as a test: fails unless every example is Ready and AWS holds
# what the examples ask for. Here it runs on kube-testserver (tests/integration/demo.rs);
# with --cluster kind it runs against a kind cluster where the chart is
# installed (.github/workflows/e2e.yml).
exec "$(dirname "$0")/demo.sh" --check "$@"
