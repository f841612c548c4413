#!/usr/bin/env bash
# De-identified datasets survive pg_dump: restored with the documented recipe
# (pre-data, empty the fresh keyring, data + post-data), the materialized
# datasets are rebuilt at restore with the restored keys, so every pseudonym and
# shifted date is the same, research opt-outs stay out, the registry, the grants
# and the column comments come back. Prints TAP.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

own_cluster=
if [ -z "${PGPORT:-}" ]; then
    own_cluster=$(make_tmpdir)/deid-dump
    start_cluster "$own_cluster"
fi
WORK=$(mktemp -d "${EHR_TMP:-/tmp}/deid-dump-XXXXXX")
chmod 755 "$WORK"
SRC=ehr_deid_dump_src DST=ehr_deid_dump_dst
export PGOPTIONS='-c client_min_messages=warning'
cleanup() {
    psql -X -q -U postgres -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" >/dev/null 2>&1
    [ -n "$own_cluster" ] && stop_cluster "$own_cluster"
    rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/../../scripts/tap.sh"
q()      { psql -X -q -At -v ON_ERROR_STOP=1 -U postgres -d "$1" -c "$2"; }
echo "1..8"

psql -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres \
     -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" \
     -c "CREATE DATABASE $SRC" -c "CREATE DATABASE $DST" >/dev/null || { echo "Bail out! cannot create databases"; exit 1; }

psql -X -q -v ON_ERROR_STOP=1 -U postgres -d "$SRC" >/dev/null <<'SQL' || { echo "Bail out! cannot load fixtures"; exit 1; }
CREATE EXTENSION ehr;
INSERT INTO ehr.resident (id, name, phone, address_region, created_at) VALUES
    ('11010519491231002X', '张三', '13812345678', '110105', '2024-01-01 08:00+08'),
    ('620502198001020014', '李四', '13900001111', '620502', '2024-02-01 08:00+08'),
    ('620102198103040022', '王五', '0931-8765432', '620102', '2024-03-01 08:00+08');
SELECT ehr.set_research_use('620502198001020014', false);
SELECT ehr.deidentify('ehr.resident');
SQL

"$PGBIN/pg_dump" -U postgres -Fc -f "$WORK/src.dump" "$SRC" 2>"$WORK/dump.err"
check "$?" 0 "pg_dump of a database with a de-identified dataset succeeds"
"$PGBIN/pg_restore" -U postgres --section=pre-data -d "$DST" "$WORK/src.dump" 2>"$WORK/restore1.err"
q "$DST" "DELETE FROM ehr.keyring" >/dev/null
"$PGBIN/pg_restore" -U postgres --section=data --section=post-data --disable-triggers -d "$DST" "$WORK/src.dump" 2>"$WORK/restore2.err"
check "$?" 0 "pg_restore by the documented recipe succeeds"
[ -s "$WORK/restore2.err" ] && sed 's/^/# /' "$WORK/restore2.err" | head -5

rows="SELECT string_agg(format('%s %s %s %s', id, id_age_band, id_sex, created_at), '; ' ORDER BY id) FROM ehr_deid.resident"
src_rows=$(q "$SRC" "$rows"); dst_rows=$(q "$DST" "$rows")
check "$dst_rows" "$src_rows" "the restored dataset holds the same pseudonyms and shifted dates"
check "$(q "$DST" "SELECT count(*) FROM ehr_deid.resident")" "2" "the resident who refused research use is still left out"
check "$(q "$DST" "SELECT dataset || ' ' || k || ' ' || live FROM ehr.deid_dataset")" "resident 0 false" "the registry is restored"
check "$(q "$DST" "SELECT has_table_privilege('ehr_analyst', 'ehr_deid.resident', 'SELECT') AND NOT has_table_privilege('public', 'ehr_deid.resident', 'SELECT')")" \
      "t" "ehr_analyst, not PUBLIC, may read the restored dataset"
check "$(q "$DST" "SELECT col_description('ehr_deid.resident'::regclass, 1)")" "pseudonymize:resident of ehr.resident.id" \
      "column comments are restored"
out=$(q "$DST" "SELECT ehr.refresh_deidentified()" 2>&1)
check "$out" "1" "the restored dataset refreshes (concurrently: its unique index came back)"
