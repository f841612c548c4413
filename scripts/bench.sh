#!/usr/bin/env bash
# make bench: every bench/*.sh, in name order, against one throwaway cluster
# (ehr preloaded, database "bench" with the extension). Each bench prints its own
# figures, as ratios against a baseline measured in the same run. Not part of
# make test. EHR_BENCH=10-identifiers runs the benches whose name starts so;
# EHR_KEEP=1 keeps the cluster's directory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EHR_ROOT"

ensure_packages
build_and_install

TMP=$(make_tmpdir)
cleanup() {
    stop_cluster "$TMP/bench"
    if [ "${EHR_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
# A little more memory than the test cluster: index builds and sorts of 1M rows.
start_cluster "$TMP/bench" "shared_buffers = 256MB" "work_mem = 64MB" "maintenance_work_mem = 256MB" \
    "max_parallel_workers_per_gather = 0" "max_parallel_maintenance_workers = 0"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE bench" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d bench -c "CREATE EXTENSION ehr" >/dev/null
export EHR_BENCH_DB=bench

echo "ehr benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo)"
echo "server: $(psql -X -At -d bench -c 'SELECT version()')"
for b in bench/*.sh; do
    name=$(basename "$b" .sh)
    [ -n "${EHR_BENCH:-}" ] && [[ "$name" != "$EHR_BENCH"* ]] && continue
    echo
    echo "== $name"
    bash "$b"
done
