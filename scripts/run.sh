#!/usr/bin/env bash
# Runs Hermetic on this machine with its embedded defaults: `hermetic serve` with the data
# directory ./hermetic-data (SQLite inside), listening on 127.0.0.1:4566. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
cargo build --quiet --release -p hermetic
exec cargo run --quiet --release -p hermetic -- serve "$@"
