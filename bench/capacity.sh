#!/usr/bin/env bash
# Per-request costs (not a test), for docs/SCALING.md: for IAM GetUser, IAM TagUser and STS
# GetCallerIdentity as a tenant (bench/iam-load.sh), on SQLite and on the local PostgreSQL, the
# requests/s of one node on this machine and, per request, the server's CPU, PostgreSQL's CPU
# (every `postgres` process) and the WAL written. The load generator shares the machine: the
# CPU figures are the server's and PostgreSQL's own (from /proc), not the machine's.
# Usage: bench/capacity.sh HERMETIC_BIN [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:?usage: bench/capacity.sh HERMETIC_BIN [SECONDS] [CONNECTIONS]}")"
secs="${2:-15}"
conns="${3:-32}"
hz=$(getconf CLK_TCK)
pg="postgres://postgres@127.0.0.1:5432/test"
printf '%-9s %-10s %9s %14s %14s %12s\n' store operation "req/s" "server µs/req" "postgres µs/req" "WAL B/req"
for store in sqlite postgres; do
    dir=$(mktemp -d /tmp/hermetic-capacity-XXXX)
    schema="cap_$$"
    args=(serve --listen 127.0.0.1:4780 --data-dir "$dir" --log-level warn)
    [ "$store" = sqlite ] || args+=(--database-url "$pg" --database-schema "$schema")
    "$bin" "${args[@]}" >"$dir.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do grep -q listening "$dir.log" 2>/dev/null && break; sleep 0.1; done
    out=$(HERMETIC_PID=$server LOAD_HOOK="$PWD/bench/capacity-hook.sh" HERMETIC_BIN="$bin" \
        bench/iam-load.sh http://127.0.0.1:4780 "$dir" "$secs" "$conns")
    kill "$server"; wait "$server" 2>/dev/null || true
    rm -rf "$dir" "$dir.log"
    [ "$store" = sqlite ] || psql -q -h 127.0.0.1 -U postgres -d test -c "drop schema if exists $schema cascade" >/dev/null 2>&1
    printf '%s\n' "$out" | awk -v store="$store" -v hz="$hz" -v secs="$secs" '
        /^== / { op = $2 }
        /^requests\/s:/ { rate[op] = $2 }
        /^cpu before/ { s0[$3] = $4; p0[$3] = $5; w0[$3] = $6 }
        /^cpu after/ {
            n = rate[$3] * secs
            if (n > 0) printf "%-9s %-10s %9d %14.1f %14.1f %12.0f\n", store, $3, rate[$3],
                ($4 - s0[$3]) / hz * 1e6 / n, (store == "sqlite" ? 0 : ($5 - p0[$3]) / hz * 1e6 / n),
                (store == "sqlite" ? 0 : ($6 - w0[$3]) / n)
        }'
done
