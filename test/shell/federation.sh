#!/usr/bin/env bash
# Federation (issue 7 §1, docs/scale-out.md): two clusters on loopback, ehr on both.
#   cluster A  database ehr_gs    the Gansu provincial node: holds records
#   cluster N  database national  the national node: reads through postgres_fdw
#              database prov_sc   the Sichuan provincial node (province B), same cluster
#                                 for economy, reached through postgres_fdw like A
# Proves: ehr operators and IMMUTABLE functions are pushed to the Remote SQL with
# OPTIONS (extensions 'ehr') and are not without it; aggregates and joins push down;
# a Sichuan doctor reads Gansu records only through a grant that Gansu's database holds
# (request, code, grant, reads, end all in Gansu's access log); de-identified datasets
# read across provinces and pseudonyms match once the pseudonym key is shared. TAP.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

WORK=$(mktemp -d "${EHR_TMP:-/tmp}/federation-XXXXXX")
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"
cleanup() {
    stop_cluster "$WORK/a"
    stop_cluster "$WORK/n"
    rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/../../scripts/tap.sh"
hasnt()  { if grep -qF -- "$2" <<<"$1"; then not_ok "$3"; sed 's/^/#   /' <<<"$1" | head -20; echo "#   unwanted: $2"; else ok "$3"; fi; }
bail()   { echo "Bail out! $*"; exit 1; }

# Two clusters. Local sessions of this script use the Unix sockets (trust); the
# federated roles must log in over TCP with a password (scram), as in production.
start_cluster "$WORK/a" || bail "cannot start cluster A"
PA=$PGPORT
start_cluster "$WORK/n" || bail "cannot start cluster N"
PN=$PGPORT
for c in a n; do
    as_server sed -i '1i host all fed_sc_li,fed_analyst 127.0.0.1/32 scram-sha-256' "$WORK/$c/data/pg_hba.conf"
    as_server "$PGBIN/pg_ctl" -D "$WORK/$c/data" reload >/dev/null
done
export PGOPTIONS='-c client_min_messages=warning'

# qa SQL / qs SQL / qn SQL [ROLE]: one statement list on A (ehr_gs), B (prov_sc), N (national)
qa() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/a" -p "$PA" -U "${2:-postgres}" -d ehr_gs -c "$1" 2>&1; }
qs() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/n" -p "$PN" -U "${2:-postgres}" -d prov_sc -c "$1" 2>&1; }
qn() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/n" -p "$PN" -U "${2:-postgres}" -d national -c "$1" 2>&1; }
explain() { qn "EXPLAIN (VERBOSE, COSTS OFF) $1" fed_sc_li; }

randhex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
PW_LI=$(randhex 16)
PW_AN=$(randhex 16)

# ------------------------------------------------------------------ provinces
# Residents: R1 张三 (Li county, Gansu; also treated in Chengdu), R2 李四 (Lanzhou),
# R3 (Chengdu only, computed below). Institutions: LX 礼县人民医院, LZ 兰州大学第二医院
# (Gansu), SC 四川省人民医院 (Sichuan).
R1=621226198001011236 R2=620102199002150024
LX=12621226438400012C LZ=12620102438000461G
psql -X -q -h "$WORK/a" -p "$PA" -U postgres -d postgres -c "CREATE DATABASE ehr_gs" >/dev/null || bail "createdb A"
psql -X -q -h "$WORK/n" -p "$PN" -U postgres -d postgres -c "CREATE DATABASE prov_sc" -c "CREATE DATABASE national" >/dev/null \
    || bail "createdb N"
SC=$(qa "CREATE EXTENSION ehr; SELECT s || ehr.org_code_check_char(s) FROM (SELECT '12510000450717628'::text s) x") || bail "ehr on A: $SC"
R3=$(qa "SELECT s || ehr.resident_id_check_char(s) FROM (SELECT '51010419850101002'::text s) x")

out=$(psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/a" -p "$PA" -U postgres -d ehr_gs 2>&1 <<SQL
CREATE ROLE fed_sc_li LOGIN PASSWORD '$PW_LI' IN ROLE ehr_clinician;
CREATE ROLE fed_analyst LOGIN PASSWORD '$PW_AN' IN ROLE ehr_analyst;
INSERT INTO ehr.lab_item (code, name, kind, price) VALUES
    ('GLU', '空腹血糖', 'lab', 5), ('WBC', '白细胞计数', 'lab', 8), ('CT-HEAD', '头颅CT', 'exam', 280);
INSERT INTO ehr.institution (org, name, level, region) VALUES
    ('$LX', '礼县人民医院', 2, '621226'), ('$LZ', '兰州大学第二医院', 3, '620102'),
    -- the Sichuan hospital and its doctor are registered in Gansu to be authorized there
    ('$SC', '四川省人民医院', 3, '510104');
INSERT INTO ehr.practitioner (id, institution, name, licence, db_role) VALUES
    (1, '$LX', '王医生', '110621220000001', NULL), (2, '$LZ', '张医生', '110620100000002', NULL),
    (3, '$SC', '李医生', '110510100000003', 'fed_sc_li');
INSERT INTO ehr.resident (id, name, phone, address_region) VALUES
    ('$R1', '张三', '13800000001', '621226'), ('$R2', '李四', '13800000002', '620102');
INSERT INTO ehr.encounter (id, resident, institution, practitioner, kind, started_at) VALUES
    (1, '$R1', '$LX', 1, 'outpatient', '2026-11-20 09:00+08'), (2, '$R2', '$LZ', 2, 'outpatient', '2026-11-21 09:00+08');
INSERT INTO ehr.lab_report (id, resident, institution, encounter, category, collected_at, reported_at, status) VALUES
    (1, '$R1', '$LX', 1, 'lab', '2026-11-20 09:30+08', '2026-11-20 11:00+08', 'final'),
    (2, '$R1', '$LX', 1, 'exam', '2026-11-20 10:00+08', '2026-11-20 12:00+08', 'final'),
    (3, '$R2', '$LZ', 2, 'lab', '2026-11-21 09:30+08', '2026-11-21 11:00+08', 'final');
INSERT INTO ehr.lab_result (id, report, resident, institution, category, item, value, refrange, value_text, collected_at) VALUES
    (1, 1, '$R1', '$LX', 'lab', 'GLU', '7.8 mmol/L', '[3.9,6.1] mmol/L', NULL, '2026-11-20 09:30+08'),
    (2, 1, '$R1', '$LX', 'lab', 'WBC', '6.1 10*9/L', NULL, NULL, '2026-11-20 09:30+08'),
    (3, 2, '$R1', '$LX', 'exam', 'CT-HEAD', NULL, NULL, '未见异常', '2026-11-20 10:00+08'),
    (4, 3, '$R2', '$LZ', 'lab', 'GLU', '4.9 mmol/L', '[3.9,6.1] mmol/L', NULL, '2026-11-21 09:30+08');
INSERT INTO ehr.document (id, resident, institution, category, encounter, title) VALUES
    (1, '$R1', '$LX', 'emr', 1, '门诊病历'), (2, '$R1', '$LX', 'archive', NULL, '健康档案');
-- a federation view: text-valued ehr functions as columns, so filters on them ship
-- (security_invoker: row-level security is checked as the reading role)
CREATE SCHEMA fed;
CREATE VIEW fed.lab_result WITH (security_invoker = true) AS
    SELECT r.*, ehr.region_code(r.resident) AS resident_region, ehr.sex(r.resident) AS resident_sex
      FROM ehr.lab_result r;
GRANT USAGE ON SCHEMA fed TO fed_sc_li;
GRANT SELECT ON fed.lab_result TO fed_sc_li;
ANALYZE;
SQL
) || bail "fixtures on A: $out"

out=$(psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/n" -p "$PN" -U postgres -d prov_sc 2>&1 <<SQL
CREATE EXTENSION ehr;
CREATE ROLE fed_sc_li LOGIN;
CREATE ROLE fed_analyst LOGIN PASSWORD '$PW_AN' IN ROLE ehr_analyst;
INSERT INTO ehr.lab_item (code, name, kind, price) VALUES ('GLU', '空腹血糖', 'lab', 5);
INSERT INTO ehr.institution (org, name, level, region) VALUES ('$SC', '四川省人民医院', 3, '510104');
INSERT INTO ehr.practitioner (id, institution, name, licence) VALUES (1, '$SC', '李医生', '110510100000003');
INSERT INTO ehr.resident (id, name, phone, address_region) VALUES
    ('$R1', '张三', '13800000001', '621226'), ('$R3', '赵四', '13800000003', '510104');
INSERT INTO ehr.encounter (id, resident, institution, practitioner, kind, started_at) VALUES
    (1, '$R1', '$SC', 1, 'outpatient', '2026-11-25 09:00+08');
SQL
) || bail "fixtures on prov_sc: $out"

# ------------------------------------------------------------------ national node
out=$(psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/n" -p "$PN" -U postgres -d national 2>&1 <<SQL
CREATE EXTENSION ehr;
CREATE EXTENSION postgres_fdw;
CREATE EXTENSION dblink;
CREATE SERVER prov_gs FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port '$PA', dbname 'ehr_gs', extensions 'ehr');
CREATE SERVER prov_gs_plain FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port '$PA', dbname 'ehr_gs');
CREATE SERVER prov_sc FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port '$PN', dbname 'prov_sc', extensions 'ehr');
-- the administrator imports definitions with its own mapping (catalog reads only)
CREATE USER MAPPING FOR postgres SERVER prov_gs OPTIONS (user 'postgres');
CREATE USER MAPPING FOR postgres SERVER prov_gs_plain OPTIONS (user 'postgres');
CREATE USER MAPPING FOR postgres SERVER prov_sc OPTIONS (user 'postgres');
-- the Sichuan doctor logs in to Gansu as the role Gansu maps to practitioner 3
CREATE USER MAPPING FOR fed_sc_li SERVER prov_gs OPTIONS (user 'fed_sc_li', password '$PW_LI');
CREATE USER MAPPING FOR fed_sc_li SERVER prov_gs_plain OPTIONS (user 'fed_sc_li', password '$PW_LI');
CREATE USER MAPPING FOR fed_analyst SERVER prov_gs OPTIONS (user 'fed_analyst', password '$PW_AN');
CREATE USER MAPPING FOR fed_analyst SERVER prov_sc OPTIONS (user 'fed_analyst', password '$PW_AN');
GRANT USAGE ON FOREIGN SERVER prov_gs TO fed_sc_li;
CREATE SCHEMA gs;
CREATE SCHEMA gs_plain;
IMPORT FOREIGN SCHEMA ehr LIMIT TO (resident, encounter, lab_report, lab_result, document)
    FROM SERVER prov_gs INTO gs;
IMPORT FOREIGN SCHEMA ehr LIMIT TO (lab_result) FROM SERVER prov_gs_plain INTO gs_plain;
CREATE SCHEMA gs_fed;
IMPORT FOREIGN SCHEMA fed FROM SERVER prov_gs INTO gs_fed;
GRANT USAGE ON SCHEMA gs, gs_plain, gs_fed TO fed_sc_li, fed_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA gs, gs_plain, gs_fed TO fed_sc_li;
GRANT SELECT ON gs.resident TO fed_analyst;
ALTER DATABASE national SET search_path = "\$user", public, ehr;
SQL
) || bail "national node: $out"

# ------------------------------------------------------------------ pushdown
plan=$(explain "SELECT id, item FROM gs.lab_result WHERE resident = '$R1'")
has "$plan" "Remote SQL: SELECT id, item FROM ehr.lab_result WHERE ((resident OPERATOR(ehr.=) '$R1'))" \
    "resident_id = constant is in the Remote SQL (OPERATOR(ehr.=))"
hasnt "$plan" "Filter:" "... and is not a local Filter"

plan=$(explain "SELECT count(*) FROM gs.lab_result WHERE institution = '$LX' AND category = 'lab'")
has "$plan" "WHERE ((institution OPERATOR(ehr.=) '$LX')) AND ((category = 'lab'))" \
    "org_code = constant and the ehr.category enum are in the Remote SQL"
has "$plan" "Remote SQL: SELECT count(*) FROM ehr.lab_result" "count(*) is computed remotely (aggregate pushed down)"

plan=$(explain "SELECT id FROM gs.lab_result
                 WHERE ehr.birth_date(resident) < date '1990-01-01' AND ehr.age(resident, date '2026-11-29') >= 40
                   AND ehr.value(value) > 7.0 AND NOT (value <@ refrange)")
has "$plan" "WHERE ((NOT (value OPERATOR(ehr.<@) refrange))) AND ((ehr.birth_date(resident) < '1990-01-01'::date)) AND ((ehr.age(resident, '2026-11-29'::date) >= 40)) AND ((ehr.value(value) > 7.0))" \
    "IMMUTABLE ehr functions and operators (birth_date, age at a date, value, <@) are in the Remote SQL"
hasnt "$plan" "Filter:" "... and none of them is a local Filter"

# A measured limit of postgres_fdw (PG 15): a comparison in the default collation is
# shipped only when the collation comes from a foreign column; text results of ehr
# functions of non-text columns (region_code, sex, org_region, interpret) compared
# with a text constant are therefore filtered locally (docs/scale-out.md).
plan=$(explain "SELECT id FROM gs.lab_result WHERE ehr.region_code(resident) = '621226'")
has "$plan" "Filter: (region_code(lab_result.resident) = '621226'::text)" \
    "limit: ehr.region_code(resident) = 'text' stays a local Filter (postgres_fdw collation rule)"

plan=$(explain "SELECT id FROM gs_fed.lab_result WHERE resident_region = '621226' AND resident_sex = 'male'")
has "$plan" "Remote SQL: SELECT id FROM fed.lab_result WHERE ((resident_region = '621226')) AND ((resident_sex = 'male'))" \
    "workaround: the same functions as columns of a security_invoker view on A ship as plain column filters"

plan=$(explain "SELECT id, resident FROM gs.lab_result ORDER BY resident LIMIT 10")
has "$plan" "Remote SQL: SELECT id, resident FROM ehr.lab_result ORDER BY resident ASC NULLS LAST LIMIT 10::bigint" \
    "ORDER BY a resident_id column and LIMIT are pushed down (ehr's btree operator class ships)"

plan=$(explain "SELECT ehr.sex(resident), institution, count(*), max(collected_at)
                  FROM gs.lab_result WHERE category = 'lab' GROUP BY 1, 2")
has "$plan" "Relations: Aggregate on (gs.lab_result)" "GROUP BY ehr.sex(resident), institution: the aggregate is pushed down"
has "$plan" "GROUP BY 1, 2" "... the Remote SQL groups"
hasnt "$plan" "HashAggregate" "... and no local aggregation"

plan=$(explain "SELECT r.item, p.status FROM gs.lab_result r JOIN gs.lab_report p
                    ON p.id = r.report AND p.resident = r.resident WHERE r.institution = '$LX'")
has "$plan" "Relations: (gs.lab_result r) INNER JOIN (gs.lab_report p)" "a join of two foreign tables on one server is pushed down"
has "$plan" "((r1.resident OPERATOR(ehr.=) r2.resident))" "... with the resident_id join condition in the Remote SQL"

plan=$(explain "SELECT id FROM gs.lab_result WHERE ehr.age(resident) > 40")
has "$plan" "Filter: (age(lab_result.resident) > 40)" "a STABLE function (ehr.age, uses today's date) stays a local Filter"

plan=$(qn "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM gs_plain.lab_result WHERE resident = '$R1'" fed_sc_li)
has "$plan" "Filter: (lab_result.resident = '$R1'::resident_id)" \
    "control: without OPTIONS (extensions 'ehr') the same filter is a local Filter"
has "$plan" "Remote SQL: SELECT id, resident FROM ehr.lab_result" "... and the whole table is fetched"

# ------------------------------------------------------------------ consent through the federation
check "$(qa "SELECT count(*) FROM ehr.lab_result")" 4 "A holds 4 lab results (superuser view)"

counts="SELECT (SELECT count(*) FROM gs.lab_result) || '/' || (SELECT count(*) FROM gs.lab_report) || '/'
            || (SELECT count(*) FROM gs.document) || '/' || (SELECT count(*) FROM gs.encounter) || '/'
            || (SELECT count(*) FROM gs.resident)"
check "$(qn "$counts" fed_sc_li)" "0/0/0/0/0" \
    "without a grant the Sichuan doctor sees nothing of Gansu (results/reports/documents/encounters/residents)"
check "$(qa "SELECT ehr.current_practitioner() || ' ' || ehr.current_institution()" fed_sc_li)" "3 $SC" \
    "on A, the mapped login role fed_sc_li acts as practitioner 3 of 四川省人民医院 (practitioner.db_role)"

req=$(qn "SELECT r FROM dblink('prov_gs', \$\$SELECT ehr.request_access('$R1', '{lab}')\$\$) AS t(r bigint)" fed_sc_li)
check "$(qa "SELECT practitioner || ' ' || resident || ' ' || categories::text FROM ehr.access_request WHERE id = ${req:-0}")" \
      "3 $R1 {lab}" "request_access through dblink over the same foreign server: the request is made on A by practitioner 3"

code=$(qa "SELECT substring(message FROM '授权码([0-9]{6})') FROM ehr.notification WHERE request = ${req:-0}")
has "$(qa "SELECT message FROM ehr.notification WHERE request = ${req:-0}")" "四川省人民医院" \
    "the code goes to the resident's phone from A's outbox, naming the Sichuan hospital"

wrong=$(( (10#${code:-0} + 1) % 1000000 ))
out=$(qn "SELECT g FROM dblink('prov_gs', format('SELECT ehr.confirm_access(%s, %L)', ${req:-0}, lpad('$wrong', 6, '0'))) AS t(g bigint)" fed_sc_li)
has "$out" "wrong code for access request ${req:-0}" "a wrong code is refused on A and the error reaches the national node"

grant=$(qn "SELECT g FROM dblink('prov_gs', format('SELECT ehr.confirm_access(%s, %L)', ${req:-0}, '${code:-x}')) AS t(g bigint)" fed_sc_li)
check "$(qa "SELECT practitioner || ' ' || categories::text || ' ' || (ended_at IS NULL) FROM ehr.access_grant WHERE id = ${grant:-0}")" \
      "3 {lab} true" "confirm_access through dblink: A holds an active grant for lab"

check "$(qn "$counts" fed_sc_li)" "2/1/0/0/1" \
    "with the grant: exactly R1's lab results and report, no exam result, no documents, no encounters (emr); R1's demographics"
check "$(qn "SELECT string_agg(item || ':' || category, ',' ORDER BY item) FROM gs.lab_result WHERE resident = '$R1'" fed_sc_li)" \
      "GLU:lab,WBC:lab" "R1's exam result (CT-HEAD) stays hidden: the grant covers lab only"
before=$(qa "SELECT coalesce(max(id), 0) FROM ehr.access_log")
check "$(qn "SELECT count(*) FROM gs.lab_result WHERE resident = '$R2'" fed_sc_li)" 0 "R2 (no grant) stays hidden"
# can_access is declared COST 100 so that the query's own LEAKPROOF filter (resident = R2)
# runs first: no row of R1 reaches the policy, so no read of R1 is noted.
check "$(qa "SELECT count(*) FROM ehr.access_log WHERE id > $before AND event = 'read'")" 0 \
      "... and the query for R2 notes no read of R1 (the resident filter runs before the policy)"
check "$(qn "SELECT string_agg(item || ':' || resident_region || ':' || resident_sex, ',' ORDER BY item) FROM gs_fed.lab_result" fed_sc_li)" \
      "GLU:621226:male,WBC:621226:male" "the security_invoker view applies A's row-level security to the federated role"

check "$(qn "SELECT institution || ' ' || count(*) FROM gs.lab_result WHERE ehr.region_code(resident) = '621226' GROUP BY institution" fed_sc_li)" \
      "$LX 2" "a pushed-down aggregate counts only what A's row-level security lets through"

qn "SELECT dblink_exec('prov_gs', 'SELECT ehr.end_access(${grant:-0})')" fed_sc_li >/dev/null
check "$(qn "$counts" fed_sc_li)" "0/0/0/0/0" "after end_access (through dblink) nothing again"

# A "read" is noted once per remote transaction and (resident, category, origin) for
# which the policy let a row through; repeated reads collapse here to one "read".
check "$(qa "SELECT string_agg(event, ',' ORDER BY id) FROM (SELECT id, event, lag(event) OVER (ORDER BY id) AS prev
                                                            FROM ehr.access_log WHERE practitioner = 3) x
              WHERE event IS DISTINCT FROM prev")" \
      "request,code_sent,confirm_ok,confirm_failed,read,grant_end" \
      "A's access log: request, code sent, the grant (the queued wrong code after it), reads, the end — all by practitioner 3"
check "$(qa "SELECT count(*) = 4 AND bool_and(id > (SELECT id FROM ehr.access_log WHERE event = 'confirm_ok')
                                          AND id < (SELECT id FROM ehr.access_log WHERE event = 'grant_end'))
               FROM ehr.access_log WHERE event = 'read'")" t \
      "... one read per national transaction that saw R1's lab rows (4: the counts, R1's items, the view, the aggregate), all between the grant and its end"
check "$(qa "SELECT count(DISTINCT actor_role) || ' ' || min(actor_role) || ' ' || min(institution::text) FROM ehr.access_log WHERE practitioner = 3")" \
      "1 fed_sc_li $SC" "... by the login role the national node's user mapping uses, for 四川省人民医院"
check "$(qa "SELECT DISTINCT resident || ' ' || category || ' ' || origin || ' ' || grant_id FROM ehr.access_log WHERE event = 'read'")" \
      "$R1 lab $LX ${grant:-0}" "... the read names resident, category, origin and grant"
check "$(qa "SELECT ehr.verify_access_log() IS NULL")" t "A's access log chain verifies"

# ------------------------------------------------------------------ de-identified datasets, shared key
for q in qa qs; do
    out=$($q "SELECT ehr.deidentify('ehr.resident')") || bail "deidentify: $out"
done
out=$(psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/n" -p "$PN" -U postgres -d national 2>&1 <<SQL
CREATE SCHEMA gs_deid;
CREATE SCHEMA sc_deid;
IMPORT FOREIGN SCHEMA ehr_deid LIMIT TO (resident) FROM SERVER prov_gs INTO gs_deid;
IMPORT FOREIGN SCHEMA ehr_deid LIMIT TO (resident) FROM SERVER prov_sc INTO sc_deid;
GRANT USAGE ON SCHEMA gs_deid, sc_deid TO fed_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA gs_deid, sc_deid TO fed_analyst;
SQL
) || bail "deid import: $out"
join="SELECT count(*) FROM gs_deid.resident g JOIN sc_deid.resident s USING (id)"
check "$(qn "SELECT (SELECT count(*) FROM gs_deid.resident) || '/' || (SELECT count(*) FROM sc_deid.resident)" fed_analyst)" "2/2" \
      "a national analyst reads both provinces' de-identified residents through postgres_fdw"
check "$(qn "$join" fed_analyst)" 0 "with each province's own pseudonym key, no pseudonym matches across provinces"
has "$(qn "SELECT count(*) FROM gs.resident" fed_analyst)" "permission denied for table resident" \
    "the analyst's mapping on A reads ehr_deid only: A refuses ehr.resident"

KEYDIR=$WORK/keys
mkdir -p "$KEYDIR"
randhex 32 >"$KEYDIR/pseudonym.key"
chmod 700 "$KEYDIR"; chmod 600 "$KEYDIR/pseudonym.key"
[ "$(id -u)" = 0 ] && chown -R postgres: "$KEYDIR"
for q in qa qs; do
    out=$($q "SELECT ehr.load_key('pseudonym', '$KEYDIR/pseudonym.key'); SELECT ehr.refresh_deidentified()") || bail "load_key: $out"
done
check "$(qa "SELECT ehr.pseudonym('$R1', 'resident')")" "$(qs "SELECT ehr.pseudonym('$R1', 'resident')")" \
      "after ehr.load_key from the same file, both provinces compute the same pseudonym"
check "$(qn "$join" fed_analyst)" 1 "the shared resident's rows join across provinces on the pseudonym; no other resident matches"
check "$(qn "SELECT g.id_age_band || ' ' || g.id_sex || ' ' || g.id_region FROM gs_deid.resident g JOIN sc_deid.resident s USING (id)" fed_analyst)" \
      "45-49 male 621200" "... and it is R1 (generalised attributes agree on both sides)"
out=$(qn "SELECT count(*) FROM gs_deid.resident WHERE id = '$R1'" fed_analyst)
check "$out" 0 "the clear identity number appears in no dataset"

echo "1..$n"
