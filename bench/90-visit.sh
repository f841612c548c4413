#!/usr/bin/env bash
# Whole clinic visit (issue 7 §3) under pgbench, and the analyst's refresh.
#   1. data: EHR_VISIT_RESIDENTS (10,000) residents x EHR_VISIT_PER (100) lab results
#      = 1,000,000, generated with one INSERT ... SELECT per table (bench/90-visit-data.sql);
#   2. bench/90-visit.pgbench — act_as, request_access, the SMS gateway's read of the
#      code, confirm_access, open an encounter, order_check of 5 items, read the chart,
#      recognize, end_access — as a pool role (ehr_gateway), at 1 and 2 clients for
#      EHR_VISIT_SECONDS (30) each, -M prepared, --report-per-command; the median
#      visit comes from pgbench's per-transaction log; against the floor of the same
#      number of round trips (SELECT 1 per command, same client, same run); and the
#      server's CPU time per visit (every process of the cluster, exited backends
#      included through the postmaster's cutime/cstime), robust on a shared machine;
#   3. ehr.refresh_deidentified of ehr_deid.lab_result (1,000,000 rows), median of
#      EHR_BENCH_RUNS (3), against CREATE TABLE AS of the same rows.
# Runs against PGHOST/PGPORT and EHR_BENCH_DB when make bench provides them;
# standalone it starts its own throwaway cluster.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RESIDENTS=${EHR_VISIT_RESIDENTS:-10000}
PER=${EHR_VISIT_PER:-100}
DOCTORS=${EHR_VISIT_DOCTORS:-20}
SECONDS_PER_RUN=${EHR_VISIT_SECONDS:-30}
RUNS=${EHR_BENCH_RUNS:-3}

. "$HERE/../scripts/lib.sh"
if [ -z "${EHR_BENCH_DB:-}" ]; then
    ensure_packages
    build_and_install
    BENCH_TMP=$(make_tmpdir)
    trap 'stop_cluster "$BENCH_TMP/main"; rm -rf "$BENCH_TMP"' EXIT
    start_cluster "$BENCH_TMP/main" "shared_buffers = 256MB" "work_mem = 64MB" "maintenance_work_mem = 256MB" \
        "max_parallel_workers_per_gather = 0" "max_parallel_maintenance_workers = 0"
    EHR_BENCH_DB=bench
    psql -X -q -d postgres -c "CREATE DATABASE bench" >/dev/null
    psql -X -q -d bench -c "CREATE EXTENSION ehr" >/dev/null
    echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo)"
    echo "server: $(psql -X -At -d bench -c 'SELECT version()')"
fi
DB=$EHR_BENCH_DB
W=$(mktemp -d /tmp/ehr-visit-XXXXXX)
chmod 777 "$W"
trap 'rm -rf "$W"; [ -n "${BENCH_TMP:-}" ] && { stop_cluster "$BENCH_TMP/main"; rm -rf "$BENCH_TMP"; }; true' EXIT

sq() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
PM_PID=$(head -1 "$(sq -c 'SHOW data_directory')/postmaster.pid")
TCK=$(getconf CLK_TCK)
# server_cpu_ms: CPU time (user + system) of the postmaster, its live children and
# its reaped children (cutime/cstime), in ms
server_cpu_ms() {
    local t=0 f
    for f in /proc/[0-9]*/stat; do
        awk -v pm="$PM_PID" '{ sub(/^.*\) /, ""); if ($2 == pm) print $12 + $13 }' "$f" 2>/dev/null
    done >"$W/cpu.children"
    t=$(awk '{s += $1} END {print s + 0}' "$W/cpu.children")
    awk -v c="$t" -v tck="$TCK" '{ sub(/^.*\) /, ""); printf "%.0f", (c + $12 + $13 + $14 + $15) * 1000 / tck }' "/proc/$PM_PID/stat"
}
now_ms() { date +%s%3N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now_ms)
sq -v residents="$RESIDENTS" -v per="$PER" -v doctors="$DOCTORS" -f "$HERE/90-visit-data.sql" >/dev/null
t1=$(now_ms)
echo "loaded $RESIDENTS residents, $((RESIDENTS * PER)) lab results in $((RESIDENTS * PER / 10)) reports: $(( (t1 - t0) / 1000 )) s"

# The floor: as many round trips as the visit has commands, each a SELECT 1.
ncmd=$(grep -cvE '^(--|\\set|$)' "$HERE/90-visit.pgbench")
for i in $(seq "$ncmd"); do echo "SELECT 1;"; done >"$W/floor.pgbench"

# run_pgbench CLIENTS SCRIPT TAG: pgbench as the pool role; prints the median
# transaction latency (ms) from its log, and keeps its report in $W/TAG.out
run_pgbench() {
    local c=$1 script=$2 tag=$3
    "$PGBIN/pgbench" -n -M prepared -U bench_visit_app -c "$c" -j "$c" -T "$SECONDS_PER_RUN" \
        -D residents="$RESIDENTS" -D doctors="$DOCTORS" --report-per-command -l --log-prefix="$W/$tag" \
        -f "$script" "$DB" >"$W/$tag.out" 2>&1 || { cat "$W/$tag.out"; return 1; }
    cat "$W/$tag".[0-9]* | awk '{print $3 / 1000}' | median
}

for c in 1 2; do
    echo
    floor=$(run_pgbench "$c" "$W/floor.pgbench" "floor$c")
    cpu0=$(server_cpu_ms)
    visit=$(run_pgbench "$c" "$HERE/90-visit.pgbench" "visit$c")
    cpu1=$(server_cpu_ms)
    nvisits=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$W/visit$c.out")
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$W/visit$c.out")
    fails=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$W/visit$c.out")
    echo "$c client(s), $SECONDS_PER_RUN s: $tps visits/s, median visit $visit ms (floor of $ncmd round trips: $floor ms; visit minus floor: $(awk -v a="$visit" -v b="$floor" 'BEGIN {printf "%.2f", a - b}') ms), failed: ${fails:-0}"
    echo "server CPU time per visit: $(awk -v a="$cpu0" -v b="$cpu1" -v n="$nvisits" 'BEGIN {printf "%.2f", (b - a) / n}') ms ($nvisits visits)"
    echo "per-command latency (ms, average):"
    sed -n '/latency average = /p; /statement latencies in milliseconds/,$p' "$W/visit$c.out" | grep -vE '^(statement latencies|latency average)' \
        | sed 's/^ *\([0-9.]*\) *\([0-9]*\) *\(.*\)$/  \1  \3/' | cut -c1-150
done

echo
echo "after the runs:"
sq -c "SELECT '  access log: ' || string_agg(event || ' ' || n, ', ' ORDER BY event) FROM (SELECT event, count(*) n FROM ehr.access_log GROUP BY event) s"
sq -c "SELECT '  recognition decisions: ' || count(*) || ', open grants of the bench doctors: ' ||
              (SELECT count(*) FROM ehr.access_grant WHERE practitioner > 900000 AND ended_at IS NULL) FROM ehr.recognition"
t0=$(now_ms); v=$(sq -c "SELECT coalesce(ehr.verify_access_log()::text, 'chain verifies')"); t1=$(now_ms)
echo "  ehr.verify_access_log(): $v ($((t1 - t0)) ms)"

echo
sq -c "SET client_min_messages = warning" -c "SELECT ehr.deidentify('ehr.lab_result')" >/dev/null
rows=$(sq -c "SELECT count(*) FROM ehr_deid.lab_result")
refresh=() copy=()
for i in $(seq "$RUNS"); do
    t0=$(now_ms); sq -c "SELECT ehr.refresh_deidentified('ehr.lab_result')" >/dev/null; t1=$(now_ms)
    refresh+=($((t1 - t0)))
    t0=$(now_ms); sq -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS bench_visit_copy" -c "CREATE TABLE bench_visit_copy AS SELECT * FROM ehr.lab_result" >/dev/null; t1=$(now_ms)
    copy+=($((t1 - t0)))
done
sq -c "DROP TABLE IF EXISTS bench_visit_copy"
r=$(printf '%s\n' "${refresh[@]}" | median); b=$(printf '%s\n' "${copy[@]}" | median)
echo "refresh of ehr_deid.lab_result ($rows rows): median $r ms; CREATE TABLE AS of ehr.lab_result: $b ms; ratio $(awk -v a="$r" -v b="$b" 'BEGIN {printf "%.2f", a / b}')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
