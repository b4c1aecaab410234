#!/usr/bin/env bash
# Load runs (not a test): every bench/*-load.sh against one `hermetic` binary, on SQLite and on
# the local PostgreSQL, each on a fresh server and data directory (and schema). For a before and
# after comparison, run it for both binaries in one sitting on the same machine.
# Usage: bench/all-load.sh HERMETIC_BIN [LABEL]   (writes its report to stdout)
# STORES="sqlite postgres" and LOADS="iam kms sts s3" (the defaults) choose what runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:?usage: bench/all-load.sh HERMETIC_BIN [LABEL]}")"
label="${2:-run}"
# PG_URL: the PostgreSQL to load (default: TCP to the local server; a co-located one can be
# reached over its Unix socket, PG_URL="host=/var/run/postgresql user=postgres dbname=test").
pg="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
port=4790
for store in ${STORES:-sqlite postgres}; do
    for load in ${LOADS:-iam kms sts s3}; do
        port=$((port + 1))
        dir=$(mktemp -d "/tmp/hermetic-load-$label-$store-$load-XXXX")
        schema="lb_${label//[^a-z0-9]/_}_${load}_$$"
        args=(serve --listen "127.0.0.1:$port" --data-dir "$dir")
        if [ "$store" = postgres ]; then
            # PG_ARGS: more serve flags for PostgreSQL (--database-connections 16).
            # shellcheck disable=SC2206
            args+=(--database-url "$pg" --database-schema "$schema" ${PG_ARGS:-})
        fi
        "$bin" "${args[@]}" >"$dir.log" 2>&1 &
        server=$!
        for _ in $(seq 100); do
            grep -q "listening" "$dir.log" 2>/dev/null && break
            sleep 0.1
        done
        case $load in
            s3) params=(10 8) ;;
            *) params=(15 32) ;;
        esac
        echo "### $label $store $load"
        HERMETIC_BIN="$bin" "bench/$load-load.sh" "http://127.0.0.1:$port" "$dir" "${params[@]}" 2>&1 \
            | grep -E "^==|requests/s|p50|non-2xx|MiB/s" || true
        kill "$server"
        wait "$server" 2>/dev/null || true
        rm -rf "$dir" "$dir.log"
        if [ "$store" = postgres ]; then
            psql -q -h 127.0.0.1 -U postgres -d test -c "drop schema if exists $schema cascade" >/dev/null
        fi
    done
done
