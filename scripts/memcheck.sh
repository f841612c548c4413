#!/usr/bin/env bash
# make memcheck: the pg_regress suites with every backend under valgrind memcheck.
# Not part of make test (it is ~30x slower). Reports the valgrind errors whose
# stack passes through ehr.so; errors wholly inside PostgreSQL itself (Debian's
# server is not built with USE_VALGRIND, so it has known false positives) are
# counted separately and not blamed on ehr.
#   EHR_MEMCHECK_TESTS="resident_id org_code"   run a subset of the regress files
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$EHR_ROOT"

ensure_packages valgrind
build_and_install

TMP=$(make_tmpdir)
trap 'stop_cluster "$TMP/main"; [ "${EHR_KEEP:-0}" = 1 ] && echo "kept $TMP" || rm -rf "$TMP"' EXIT

# pg_ctl -p: start the postmaster through a wrapper that runs it under valgrind;
# backends are forked, not exec'd, so valgrind follows them without --trace-children.
mkdir -p "$TMP/vg"; chmod 777 "$TMP/vg"
cat >"$TMP/postgres-vg" <<WRAP
#!/bin/sh
exec valgrind --quiet --error-limit=no --num-callers=30 --read-var-info=no \\
    --leak-check=no --track-origins=yes --log-file=$TMP/vg/vg.%p "$PGBIN/postgres" "\$@"
WRAP
chmod 755 "$TMP/postgres-vg"
PG_CTL_TIMEOUT=300 PG_CTL_POSTGRES="$TMP/postgres-vg" start_cluster "$TMP/main"

tests=${EHR_MEMCHECK_TESTS:-$(make -s --no-print-directory print-regress)}
set +e
"$PGBIN/../lib/pgxs/src/test/regress/pg_regress" --inputdir=. --outputdir="$TMP/regress" \
    --bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" --user=postgres \
    --dbname=contrib_regression $(make -s --no-print-directory print-regress-opts) $tests
rc=$?
set -e

# One valgrind error block = the lines from "==pid== <message>" to the blank "==pid==" line.
ours=0; theirs=0
for f in "$TMP"/vg/vg.*; do
    [ -s "$f" ] || continue
    while IFS= read -r -d '' block; do
        [ -n "${block//[[:space:]=0-9]/}" ] || continue
        if grep -q 'ehr\.so' <<<"$block"; then
            ours=$((ours + 1)); printf '%s\n\n' "$block"
        else
            theirs=$((theirs + 1))
        fi
    done < <(awk 'BEGIN{RS="==[0-9]+== \n"; ORS="\0"} {print}' "$f")
done
echo "memcheck: regress exit $rc; $ours valgrind error(s) in ehr.so, $theirs inside PostgreSQL only"
[ "$rc" -eq 0 ] && [ "$ours" -eq 0 ]
