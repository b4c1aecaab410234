#!/usr/bin/env bash
# Runs every check of the project: formatting, clippy (warnings are errors), every test, and a
# short fuzz smoke run of each fuzz target. Installs what it needs first.
#
# `--s3-tests` also runs the ceph s3-tests conformance suite (`../shared/tools/run-s3-tests`,
# about 6 minutes more) against a release build, and fails if fewer than $S3_TESTS_MIN_PASSED
# (default 330, the count at 9d2a10c) of its tests pass. It is not part of every CI run.
set -euo pipefail
cd "$(dirname "$0")/.."
s3_tests=false
for arg in "$@"; do
    case "$arg" in
        --s3-tests) s3_tests=true ;;
        *) echo "usage: $0 [--s3-tests]"; exit 2 ;;
    esac
done

section() { printf '\n==> %s\n' "$*"; }

section "toolchain"
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
cargo --version

section "python clients (boto3/botocore, moto's S3 server, in .venv)"
if ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-venv
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
# moto's server is the S3-compatible blob store the `--blob-store s3://` tests run against.
.venv/bin/python -m pip install --quiet --disable-pip-version-check boto3 botocore awscli \
    aws-encryption-sdk aws-cryptographic-material-providers 'moto[server]'
export HERMETIC_PYTHON="$PWD/.venv/bin/python"
"$HERMETIC_PYTHON" -c "import botocore; print('botocore', botocore.__version__)"

section "softhsm2 (the PKCS#11 root of trust's tests) and rclone (an S3 client)"
if ! command -v softhsm2-util >/dev/null 2>&1 || ! command -v rclone >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq softhsm2 rclone
fi

section "libz3-dev and libclang-dev (the reason crate's Z3 binding runs bindgen)"
if ! dpkg -s libz3-dev libclang-dev >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq libz3-dev libclang-dev clang
fi

section "postgresql (127.0.0.1:5432, database test)"
if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq postgresql
    fi
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi
pg_isready -h 127.0.0.1 -p 5432
# The tests drive psql, and pg_dump (zero_privilege.rs dumps a schema as the operator would).
if ! command -v pg_dump >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq postgresql-client
fi

section "format"
cargo fmt --all -- --check

section "clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

section "tests"
cargo test --workspace --all-features

section "fuzz smoke"
# cargo-fuzz needs nightly; use the installed nightly, or let stable accept -Z flags.
if rustup run nightly rustc --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
secs="${FUZZ_SECONDS:-30}"
for target in $(cd fuzz && "${fuzz[@]}" list); do
    mkdir -p "fuzz/corpus/$target"
    cp examples/*.json "fuzz/corpus/$target/" 2>/dev/null || true
    (cd fuzz && "${fuzz[@]}" run "$target" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tail -n 2)
done

if $s3_tests; then
    section "ceph s3-tests (conformance)"
    runner="../shared/tools/run-s3-tests"
    [ -x "$runner" ] || { echo "$runner is not here: the conformance suite cannot run"; exit 1; }
    cargo build --release -p hermetic
    report="target/s3-tests-report.txt"
    summary=$("$runner" --bin target/release/hermetic --report "$report" | tail -n 1)
    echo "$summary (failures listed in $report)"
    passed=$(echo "$summary" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    if [ -z "$passed" ] || [ "$passed" -lt "${S3_TESTS_MIN_PASSED:-410}" ]; then
        echo "fewer s3-tests pass than ${S3_TESTS_MIN_PASSED:-410}: a conformance regression"
        exit 1
    fi
fi

section "done"
