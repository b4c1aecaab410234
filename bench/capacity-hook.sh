#!/usr/bin/env bash
# LOAD_HOOK of bench/capacity.sh (not a test): prints one line of counters, read by capacity.sh:
# `cpu PHASE OP SERVER_TICKS POSTGRES_TICKS WAL_BYTES` (ticks of utime+stime; WAL position in
# bytes, 0 without PostgreSQL).
set -euo pipefail
ticks() { awk '{ s += $14 + $15 } END { print s + 0 }' "$@" 2>/dev/null || echo 0; }
server=$(ticks "/proc/$HERMETIC_PID/stat")
pg_stats=()
for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = postgres ] && pg_stats+=("$d/stat")
done
pg=0
[ ${#pg_stats[@]} -eq 0 ] || pg=$(ticks "${pg_stats[@]}")
wal=$(psql -tA -h 127.0.0.1 -U postgres -d test -c "select pg_current_wal_lsn() - '0/0'" 2>/dev/null || echo 0)
echo "cpu $1 $2 $server $pg ${wal%%.*}"
