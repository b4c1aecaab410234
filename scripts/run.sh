#!/usr/bin/env bash
# Runs Hermetic's main job on this machine with its embedded defaults. Until the server lands,
# that is the offline policy simulator and validator on the bundled examples.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
cargo build --quiet --release -p hermetic
hermetic() { cargo run --quiet --release -p hermetic -- "$@"; }
echo "== hermetic policy simulate examples/cases.json --check"
hermetic policy simulate examples/cases.json --check
echo
echo "== hermetic policy validate examples/policies/*.json"
# Validation findings are the point here; warnings do not fail the run.
hermetic policy validate examples/policies/*.json
