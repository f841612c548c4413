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

# cpu_ms SQL [REPS] [SETUP_SQL]: CPU time (user + system) the server backend spends
# on one execution of SQL, averaged over REPS executions in one session; SETUP_SQL
# (untimed) runs before each. The backend reads its own /proc/self/stat (superuser
# pg_read_file), so other processes on a shared machine barely move the figure,
# unlike wall-clock time. Resolution: one clock tick (usually 10 ms) per execution pair.
cpu_ms() {
    local sql=$1 reps=${2:-1} setup=${3:-} i script="" tck
    tck=$(getconf CLK_TCK)
    for i in $(seq "$reps"); do
        [ -n "$setup" ] && script+="$setup;"$'\n'
        script+="SELECT 'stat ' || pg_read_file('/proc/self/stat');"$'\n'"$sql;"$'\n'
        script+="SELECT 'stat ' || pg_read_file('/proc/self/stat');"$'\n'
    done
    q <<<"$script" | sed -n 's/^stat .*) //p' \
        | awk -v tck="$tck" -v reps="$reps" '{t = $12 + $13; if (NR % 2) s = t; else sum += t - s}
                                           END {printf "%.1f", sum * 1000 / tck / reps}'
}

# interleaved_cpu REPS SQL...: $RUNS rounds of cpu_ms over the statements in turn;
# prints the median of each (space-separated).
interleaved_cpu() {
    local reps=$1; shift
    local r i n=$# times=()
    for r in $(seq "$RUNS"); do
        i=0
        for sql in "$@"; do
            times[$i]="${times[$i]:-} $(cpu_ms "$sql" "$reps")"; i=$((i + 1))
        done
    done
    for i in $(seq 0 $((n - 1))); do
        printf '%s\n' ${times[$i]} | sort -g | awk '{a[NR]=$1} END {printf "%s ", a[int((NR+1)/2)]}'
    done
    echo
}
