#!/usr/bin/env bash
# pg_dump keeps what pg_extension_config_dump registered (docs/installation.md):
# every row of the data model, the region rows a site added (not the shipped ones),
# the keys, and the identity sequences. Restored with the documented recipe
# (pre-data, empty the fresh keyring, data + post-data), every table reads back the
# same. Prints TAP.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

own_cluster=
if [ -z "${PGPORT:-}" ]; then
    own_cluster=$(make_tmpdir)/dump
    start_cluster "$own_cluster"
fi
WORK=$(mktemp -d "${EHR_TMP:-/tmp}/dump-XXXXXX")
chmod 755 "$WORK"
SRC=ehr_dump_src DST=ehr_dump_dst
export PGOPTIONS='-c client_min_messages=warning'
cleanup() {
    psql -X -q -U postgres -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" >/dev/null 2>&1
    [ -n "$own_cluster" ] && stop_cluster "$own_cluster"
    rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/../../scripts/tap.sh"
q()      { psql -X -q -At -v ON_ERROR_STOP=1 -U postgres -d "$1" -c "SET search_path = public, ehr" -c "$2"; }

psql -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres \
     -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $DST" \
     -c "CREATE DATABASE $SRC" -c "CREATE DATABASE $DST" >/dev/null || { echo "Bail out! cannot create databases"; exit 1; }

psql -X -q -v ON_ERROR_STOP=1 -U postgres -d "$SRC" >/dev/null <<'SQL' || { echo "Bail out! cannot load fixtures"; exit 1; }
CREATE EXTENSION ehr;
SET search_path = public, ehr;
INSERT INTO region (code, name, level, parent) VALUES ('621299', '新区县', 3, '621200');
INSERT INTO institution VALUES ('91350100M000100Y43', '礼县人民医院', 2, '621299');
INSERT INTO practitioner (institution, name, licence) VALUES ('91350100M000100Y43', '王医生', 'L-1');
INSERT INTO resident (id, name, phone, address_region, created_at)
     VALUES ('621226198001010014', '张三', '13900000000', '621226', '2024-01-01');
INSERT INTO encounter (resident, institution, practitioner, kind, started_at)
     VALUES ('621226198001010014', '91350100M000100Y43', 1, 'outpatient', '2024-06-01 08:00+08');
INSERT INTO lab_item VALUES ('GLU', '葡萄糖', 'lab', '14749-6', 'mmol/L', 180.156, 8.00);
INSERT INTO lab_report (resident, institution, encounter, collected_at, reported_at, status)
     VALUES ('621226198001010014', '91350100M000100Y43', 1, '2024-06-01 08:10+08', '2024-06-01 10:00+08', 'final');
INSERT INTO lab_result (report, resident, institution, item, value, refrange, collected_at)
     VALUES (1, '621226198001010014', '91350100M000100Y43', 'GLU', '5.60 mmol/L', '[3.9,6.1] mmol/L', '2024-06-01 08:10+08');
INSERT INTO document (resident, institution, category, encounter, title, body, created_at)
     VALUES ('621226198001010014', '91350100M000100Y43', 'emr', 1, '门诊病历', '{"诊断": "2型糖尿病"}', '2024-06-01 09:00+08');
SQL

"$PGBIN/pg_dump" -U postgres -Fc -f "$WORK/src.dump" "$SRC" 2>"$WORK/dump.err"
check "$?" 0 "pg_dump of a database with ehr succeeds"

"$PGBIN/pg_restore" -U postgres --section=pre-data -d "$DST" "$WORK/src.dump" 2>"$WORK/restore1.err"
check "$?" 0 "pg_restore --section=pre-data (CREATE EXTENSION)"
q "$DST" "DELETE FROM ehr.keyring" >/dev/null
"$PGBIN/pg_restore" -U postgres --section=data --section=post-data --disable-triggers -d "$DST" "$WORK/src.dump" 2>"$WORK/restore2.err"
check "$?" 0 "pg_restore --section=data --section=post-data --disable-triggers after emptying the fresh keyring"
[ -s "$WORK/restore2.err" ] && sed 's/^/# /' "$WORK/restore2.err" | head -5

for t in region institution practitioner resident encounter lab_item lab_report lab_result document keyring; do
    sum="SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ehr.$t x"
    check "$(q "$DST" "$sum")" "$(q "$SRC" "$sum")" "ehr.$t reads back the same after restore"
done
check "$(q "$DST" "SELECT count(*) FILTER (WHERE NOT shipped) || '/' || count(*) FROM region")" "1/3228" \
      "region: the shipped rows come from CREATE EXTENSION, the site's row from the dump"
check "$(q "$DST" "INSERT INTO encounter (resident, institution, kind, started_at)
                    VALUES ('621226198001010014', '91350100M000100Y43', 'followup', now()) RETURNING id")" 2 \
      "identity sequences continue after restore"

echo "1..$n"
