#!/usr/bin/env bash
# Installs what the tests and the demo need, into .tools/ of this checkout.
# Idempotent: a second run only checks. Needs python3 and network access to PyPI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
moto_version=5.2.5

mkdir -p "$tools"
if ! "$tools/moto/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$moto_version')" 2>/dev/null; then
  echo "setup: installing moto[server]==$moto_version into $tools/moto" >&2
  rm -rf "$tools/moto"
  python3 -m venv "$tools/moto"
  "$tools/moto/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version"
fi

if ! command -v kubectl >/dev/null; then
  echo "setup: kubectl is not on PATH; install kubectl 1.30 or newer" >&2
  exit 1
fi
