#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need, then runs them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
export MOTO_SERVER_BIN="$root/.tools/moto/bin/moto_server"
export HELM_BIN="$root/.tools/bin/helm"
# The house style is part of the build: rustfmt.toml's layout, and clippy clean.
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The dependency policy of deny.toml. RustSec's advisory database is a GitHub
# repository, which a CI machine may not reach: then the advisories are skipped
# and the run says so.
cargo deny --locked check --hide-inclusion-graph licenses bans sources
if timeout 30 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --offline check --hide-inclusion-graph advisories
else
  echo "test: advisories skipped: the RustSec advisory database (github.com/RustSec/advisory-db) is unreachable" >&2
fi
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
