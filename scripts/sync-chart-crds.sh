#!/usr/bin/env bash
# Copies crds/ into the Helm chart, which installs CRDs from its own crds/ folder
# (Helm cannot reach outside the chart). tests/integration/chart.rs fails when the copy is stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/charts/aws-access-operator/crds"
cp "$root/crds/awsaccess.dev.yaml" "$root/charts/aws-access-operator/crds/awsaccess.dev.yaml"
