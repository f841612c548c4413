# Helpers for bench/*.sh (sourced; not itself a bench: bench.sh runs *.sh only). The caller's environment names the cluster
# (PGHOST, PGPORT, PGUSER) and the database (EHR_BENCH_DB).
DB=${EHR_BENCH_DB:-bench}
RUNS=${EHR_BENCH_RUNS:-5}

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# exec_ms SQL: server-side execution time of one statement, in ms
# (EXPLAIN ANALYZE with per-node timing off, so instrumentation costs little).
exec_ms() {
    q -c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $1" | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p'
}

# median_ms SQL [SETUP_SQL]: median of $RUNS runs; SETUP_SQL runs before each (untimed).
median_ms() {
    local sql=$1 setup=${2:-} i t=()
    for i in $(seq "$RUNS"); do
        [ -n "$setup" ] && q -c "$setup" >/dev/null
        t+=("$(exec_ms "$sql")")
    done
    printf '%s\n' "${t[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# interleaved_ms SQL...: runs the statements in turn, $RUNS rounds, and prints the
# median time of each (space-separated). Interleaving spreads the noise of a shared
# machine evenly over the statements being compared.
interleaved_ms() {
    local r i n=$# times=()
    for r in $(seq "$RUNS"); do
        i=0
        for sql in "$@"; do
            times[$i]="${times[$i]:-} $(exec_ms "$sql")"; i=$((i + 1))
        done
    done
    for i in $(seq 0 $((n - 1))); do
        printf '%s\n' ${times[$i]} | sort -g | awk '{a[NR]=$1} END {printf "%s ", a[int((NR+1)/2)]}'
    done
    echo
}
