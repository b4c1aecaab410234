#!/usr/bin/env bash
# Runs Hermetic on this machine with its embedded defaults: `hermetic serve` with the data
# directory ./hermetic-data (SQLite inside), listening on 127.0.0.1:4566. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
# The analyzer links Z3 (Debian's libz3-dev; its Rust binding runs bindgen, which needs libclang).
if ! dpkg -s libz3-dev libclang-dev >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq libz3-dev libclang-dev clang
fi
cargo build --quiet --release -p hermetic
exec cargo run --quiet --release -p hermetic -- serve "$@"
