#!/usr/bin/env bash
# make test: from a fresh Debian 12 machine to one summary line "N passed, N failed".
#   1. installs missing Debian packages, builds with -Werror, installs;
#   2. starts a throwaway cluster on a free loopback port with ehr preloaded;
#   3. runs every suite: pg_regress (sql/ -> expected/), pgTAP (test/pgtap/*.sql via
#      pg_prove, one fresh database per file), isolation specs (test/isolation/specs via
#      pg_isolation_regress) and shell suites (test/shell/*.sh, which print TAP and may
#      start clusters of their own);
#   4. stops every cluster and prints the count. A pg_regress file, an isolation spec and a
#      TAP assertion each count as one test.
# EHR_SUITES (e.g. "regress pgtap") limits the suites while developing; EHR_KEEP=1 keeps
# the temporary directory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EHR_ROOT"

ensure_packages
build_and_install

TMP=$(make_tmpdir)
cleanup() {
    stop_cluster "$TMP/main"
    for d in "$TMP"/extra-*; do [ -d "$d" ] && stop_cluster "$d"; done
    if [ "${EHR_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
start_cluster "$TMP/main"

passed=0; failed=0; failures=()
suites=${EHR_SUITES:-"regress pgtap isolation shell"}
want() { [[ " $suites " == *" $1 "* ]]; }

# pg_regress and pg_isolation_regress print one line per test: "... ok" or "... FAILED".
count_regress_output() {
    local out=$1 label=$2 rc=$3 n f
    n=$(grep -cE '\.\.\. ok' "$out" || true)
    f=$(grep -cE '\.\.\. (FAILED|failed)' "$out" || true)
    # a runner that bailed out (install failed, missing expected file) is a failure too
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; failures+=("$label: runner exited $rc"); fi
    passed=$((passed + n)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failures+=("$label: $(grep -E '\.\.\. (FAILED|failed)' "$out" | awk '{print $1=="test"?$2:$1}' | tr '\n' ' ')")
    fi
}

if want regress; then
    echo "== pg_regress"
    mkdir -p "$TMP/regress"
    set +e
    "$PGBIN/../lib/pgxs/src/test/regress/pg_regress" --inputdir=. --outputdir="$TMP/regress" \
        --bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" --user=postgres \
        --dbname=contrib_regression $(make -s --no-print-directory print-regress-opts) \
        $(make -s --no-print-directory print-regress) >"$TMP/regress.out" 2>&1
    rc=$?
    set -e
    grep -E '^(test | +[a-z_0-9]+ +\.\.\.|ERROR|command failed|diff)' "$TMP/regress.out" || true
    count_regress_output "$TMP/regress.out" regress "$rc"
    [ -f "$TMP/regress/regression.diffs" ] && cp "$TMP/regress/regression.diffs" "$EHR_ROOT/regression.diffs"
fi

if want isolation && ls test/isolation/specs/*.spec >/dev/null 2>&1; then
    echo "== isolation"
    mkdir -p "$TMP/isolation"
    specs=$(cd test/isolation/specs && ls *.spec | sed 's/\.spec$//')
    set +e
    "$PGBIN/../lib/pgxs/src/test/isolation/pg_isolation_regress" --inputdir=test/isolation \
        --outputdir="$TMP/isolation" --bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" \
        --user=postgres --dbname=isolation_regression --load-extension=ehr $specs >"$TMP/isolation.out" 2>&1
    rc=$?
    set -e
    grep -E '^(test | +[a-z_0-9-]+ +\.\.\.|ERROR|command failed|diff)' "$TMP/isolation.out" || true
    count_regress_output "$TMP/isolation.out" isolation "$rc"
    [ -f "$TMP/isolation/regression.diffs" ] && cp "$TMP/isolation/regression.diffs" "$EHR_ROOT/isolation.diffs"
fi

# TAP streams (pg_prove -v, shell suites): count "ok"/"not ok" lines; a stream that
# dies or breaks its plan without a "not ok" still counts as one failure.
count_tap() {
    local out=$1 rc=$2 label=$3 n f
    n=$(grep -cE '^\s*ok [0-9]+' "$out" || true)
    f=$(grep -cE '^\s*not ok [0-9]+' "$out" || true)
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + n)); failed=$((failed + f))
    [ "$f" -gt 0 ] && failures+=("$label")
    return 0
}

if want pgtap && ls test/pgtap/*.sql >/dev/null 2>&1; then
    echo "== pgTAP"
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE ehr_tap_template" \
         -c "\\c ehr_tap_template" -c "CREATE EXTENSION ehr" -c "CREATE EXTENSION pgtap" >/dev/null
    for f in test/pgtap/*.sql; do
        db="tap_$(basename "$f" .sql)"
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\" TEMPLATE ehr_tap_template" >/dev/null
        set +e
        pg_prove -v -h "$PGHOST" -p "$PGPORT" -U postgres -d "$db" "$f" >"$TMP/tap.out" 2>&1
        rc=$?
        set -e
        grep -vE '^\s*ok [0-9]+' "$TMP/tap.out" | grep -vE '^(All tests successful|Files=|Result: PASS)' | sed 's/^/  /' || true
        printf '%-40s %s assertions ok, %s failed\n' "$f" "$(grep -cE '^\s*ok [0-9]+' "$TMP/tap.out")" "$(grep -cE '^\s*not ok [0-9]+' "$TMP/tap.out")"
        count_tap "$TMP/tap.out" "$rc" "$f"
    done
fi

if want shell && ls test/shell/*.sh >/dev/null 2>&1; then
    echo "== shell suites"
    for f in test/shell/*.sh; do
        set +e
        EHR_TMP="$TMP" bash "$f" >"$TMP/shell.out" 2>&1
        rc=$?
        set -e
        grep -vE '^\s*ok [0-9]+' "$TMP/shell.out" | sed 's/^/  /' || true
        printf '%-40s %s ok, %s failed\n' "$f" "$(grep -cE '^\s*ok [0-9]+' "$TMP/shell.out")" "$(grep -cE '^\s*not ok [0-9]+' "$TMP/shell.out")"
        count_tap "$TMP/shell.out" "$rc" "$f"
    done
fi

if [ ${#failures[@]} -gt 0 ]; then
    echo "failures:"; printf '  %s\n' "${failures[@]}"
    echo "(server log: $TMP/main/server.log; diffs copied to regression.diffs / isolation.diffs; EHR_KEEP=1 keeps them)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
