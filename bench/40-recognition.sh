#!/usr/bin/env bash
# Mutual recognition (issue 5 §6), ratios from one run, each figure the median of
# EHR_BENCH_RUNS (default 21) executions in one session, server-side (EXPLAIN ANALYZE, timing off):
#   1. ehr.order_check of 10 items for one resident with 500 results among
#      1,000,000, against
#        a. the bare indexed read of that resident's results for the 10 items
#           (lab_result ⋈ lab_report), the floor (goal <= 2x, aim 1.3x), and
#        b. every lookup the judgement needs written as plain SQL in one
#           statement (results, items with their windows, QC, reference ranges);
#      then the plans of the function's own queries (auto_explain, nested), to
#      show they use indexes and never scan lab_result;
#   2. ehr.recognition_stats over a month of 100,000 decisions, against the
#      plain GROUP BY it wraps.
# Runs against PGHOST/PGPORT and EHR_BENCH_DB when make bench provides them;
# standalone it starts its own throwaway cluster.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${EHR_BENCH_RUNS:-21}
N=${EHR_BENCH_ROWS:-1000000}

if [ -z "${EHR_BENCH_DB:-}" ]; then
    . "$HERE/../scripts/lib.sh"
    ensure_packages
    build_and_install
    BENCH_TMP=$(make_tmpdir)
    trap 'stop_cluster "$BENCH_TMP/main"; rm -rf "$BENCH_TMP"' EXIT
    start_cluster "$BENCH_TMP/main" "shared_buffers = 256MB"
    EHR_BENCH_DB=bench
    psql -X -q -d postgres -c "CREATE DATABASE bench" >/dev/null
    psql -X -q -d bench -c "CREATE EXTENSION ehr" >/dev/null
fi
DB=$EHR_BENCH_DB

rq() { PGOPTIONS="-c search_path=public,ehr" psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# rmedian_ms SQL: median server-side execution time of RUNS executions in one
# session, after one untimed warm-up run in that session. One session, as an
# application's pooled connection: the function's prepared queries are planned
# once per backend, not per call.
rmedian_ms() {
    local args=(-c "SET timezone = 'Asia/Shanghai'") i
    for i in $(seq $((RUNS + 1))); do args+=(-c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $1"); done
    rq "${args[@]}" | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' | tail -n +2 |
        sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
rratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

RESIDENTS=$((N / 500))
REPORTS=$((N / 10))
echo "loading: $N results in $REPORTS reports for $RESIDENTS residents (500 each), 20 institutions, 30 items"
rq >/dev/null <<SQL
SET client_min_messages = warning;
SET timezone = 'Asia/Shanghai';
BEGIN;
SELECT setseed(0.4);
-- other benches may have inserted rows with explicit ids: continue after them
SELECT setval(pg_get_serial_sequence('ehr.' || t, 'id'), coalesce(m, 0) + 1, false)
  FROM (VALUES ('lab_report', (SELECT max(id) FROM ehr.lab_report)),
               ('lab_result', (SELECT max(id) FROM ehr.lab_result)),
               ('encounter', (SELECT max(id) FROM ehr.encounter)),
               ('practitioner', (SELECT max(id) FROM ehr.practitioner))) AS s(t, m);
-- 20 institutions across Gansu, each QC-qualified (甘HR) for every item (the
-- database may hold other benches' rows: everything here has its own codes)
CREATE TEMP TABLE inst AS
SELECT i, b || ehr.org_code_check_char(b) AS org,
       (ARRAY['620102', '620103', '620104', '620502', '621226'])[1 + i % 5] AS region
  FROM (SELECT i, '1262' || lpad(i::text, 4, '0') || lpad((438000000 + i)::text, 9, '0') AS b
          FROM generate_series(1, 20) AS i) s;
INSERT INTO ehr.institution (org, name, level, region)
SELECT org::ehr.org_code, 'recognition bench hospital ' || i, 3, region FROM inst;
INSERT INTO ehr.lab_item (code, name, unit, price)
SELECT 'B' || lpad(k::text, 2, '0'), 'bench item ' || k, 'mmol/L', 5 + k FROM generate_series(1, 30) AS k;
INSERT INTO ehr.lab_item_window (region_prefix, item, valid_for)
SELECT '62', 'B' || lpad(k::text, 2, '0'), interval '30 days' FROM generate_series(1, 30) AS k;
INSERT INTO ehr.lab_qc (institution, item, valid, scope_region, mark)
SELECT org::ehr.org_code, 'B' || lpad(k::text, 2, '0'), daterange('2020-01-01', NULL), '62', '甘HR'
  FROM inst, generate_series(1, 30) AS k;
INSERT INTO ehr.lab_refrange (institution, item, refrange)
SELECT org::ehr.org_code, 'B' || lpad(k::text, 2, '0'), '[3.9,6.1] mmol/L' FROM inst, generate_series(1, 30) AS k;
-- residents
CREATE TEMP TABLE res AS
SELECT r, b || ehr.resident_id_check_char(b) AS id
  FROM (SELECT r, '622901' || to_char(date '1950-01-01' + r, 'YYYYMMDD') || lpad((r % 1000)::text, 3, '0') AS b
          FROM generate_series(1, $RESIDENTS) AS r) s;
INSERT INTO ehr.resident (id, name) SELECT id::ehr.resident_id, 'bench ' || r FROM res ON CONFLICT DO NOTHING;
-- reports: 50 per resident, final, collected over the past year
ALTER TABLE ehr.lab_report SET (autovacuum_enabled = off);
ALTER TABLE ehr.lab_result SET (autovacuum_enabled = off);
INSERT INTO ehr.lab_report (resident, institution, collected_at, reported_at, status)
SELECT res.id::ehr.resident_id, inst.org::ehr.org_code, t, t + interval '2 hours', 'final'
  FROM (SELECT g, 1 + g % $RESIDENTS AS r, 1 + (g * 7) % 20 AS i,
               now() - (random() * 365) * interval '1 day' AS t
          FROM generate_series(1, $REPORTS) AS g) s
  JOIN res ON res.r = s.r JOIN inst ON inst.i = s.i;
-- ten results per report, ten different items
INSERT INTO ehr.lab_result (report, resident, institution, item, value, refrange, collected_at)
SELECT p.id, p.resident, p.institution, 'B' || lpad((1 + (p.id * 3 + k * 3) % 30)::text, 2, '0'),
       (round((4 + random() * 3)::numeric, 1) || ' mmol/L')::ehr.labvalue, '[3.9,6.1] mmol/L', p.collected_at
  FROM ehr.lab_report p, generate_series(0, 9) AS k
 WHERE p.institution IN (SELECT org::ehr.org_code FROM inst);
COMMIT;
VACUUM ANALYZE;
SQL
rq -c "SELECT count(*) FROM ehr.lab_result" | sed 's/^/results in the database: /'

RES=$(rq -c "SELECT id FROM (SELECT b || ehr.resident_id_check_char(b) AS id FROM (SELECT '622901' || to_char(date '1950-01-01' + 7, 'YYYYMMDD') || lpad('7', 3, '0') AS b) s) t")
Q=$(rq -c "SELECT org FROM ehr.institution WHERE name = 'recognition bench hospital 1'")
ITEMS="ARRAY['B01','B04','B07','B10','B13','B16','B19','B22','B25','B28']"
rq -c "SELECT 'resident $RES: ' || count(*) || ' results, ' || count(*) FILTER (WHERE item = ANY($ITEMS)) || ' for the 10 ordered items'
         FROM ehr.lab_result WHERE resident = '$RES'"

echo
echo "== 1. order_check, 10 items (median of $RUNS runs)"
OC="SELECT * FROM ehr.order_check('$RES', $ITEMS, '$Q')"
BARE="SELECT r.id, r.item, r.institution, r.collected_at, p.status, r.value, r.refrange
        FROM ehr.lab_result r JOIN ehr.lab_report p ON p.id = r.report
       WHERE r.resident = '$RES' AND r.item = ANY ($ITEMS)"
ALL="WITH q AS (SELECT region FROM ehr.institution WHERE org = '$Q'),
          i AS (SELECT c.code, c.unit, c.price,
                       (SELECT w.valid_for FROM ehr.lab_item_window w, q
                         WHERE w.item = c.code AND starts_with(q.region, w.region_prefix)
                         ORDER BY length(w.region_prefix) DESC LIMIT 1) AS valid_for
                  FROM ehr.lab_item c WHERE c.code = ANY ($ITEMS)),
          r AS ($BARE),
          s AS (SELECT DISTINCT institution FROM r)
     SELECT (SELECT count(*) FROM i), (SELECT count(*) FROM r),
            (SELECT count(*) FROM ehr.lab_qc c WHERE c.item = ANY ($ITEMS) AND c.institution IN (SELECT institution FROM s)),
            (SELECT count(*) FROM ehr.lab_refrange f WHERE f.item = ANY ($ITEMS)
                AND (f.institution IN (SELECT institution FROM s) OR f.institution = '$Q'))"
t_oc=$(rmedian_ms "$OC")
t_bare=$(rmedian_ms "$BARE")
t_all=$(rmedian_ms "$ALL")
echo "order_check ${t_oc} ms; bare indexed read of the results ${t_bare} ms; all lookups as plain SQL ${t_all} ms"
echo "  ratio order_check / bare read = $(rratio "$t_oc" "$t_bare") (goal <= 2, aim 1.3)"
echo "  ratio order_check / all lookups = $(rratio "$t_oc" "$t_all")"


echo
echo "== 1b. the same as a clinician of the recognizing institution, under row-level security"
# The resident authorizes the doctor (one-time code from the outbox); each timed
# statement runs in a transaction acting as that doctor through a gateway role.
rq >/dev/null <<SQL
SET client_min_messages = warning;
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_his') THEN
        CREATE ROLE bench_his LOGIN IN ROLE ehr_gateway;
    END IF;
END \$\$;
UPDATE ehr.resident SET phone = '13900000000' WHERE id = '$RES';
INSERT INTO ehr.practitioner (institution, name, licence) VALUES ('$Q', 'bench doctor', 'BENCH-0001');
SQL
DOC=$(rq -c "SELECT id FROM ehr.practitioner WHERE licence = 'BENCH-0001'")
REQ=$(rq -c "SET SESSION AUTHORIZATION bench_his" -c "BEGIN" -c "SELECT ehr.act_as($DOC)" \
         -c "SELECT ehr.request_access('$RES', '{lab}')" -c "COMMIT" | tail -1)
CODE=$(rq -c "SELECT substring(message FROM '([0-9]{6})，') FROM ehr.notification WHERE request = $REQ")
rq -c "SET SESSION AUTHORIZATION bench_his" -c "BEGIN" -c "SELECT ehr.act_as($DOC)" \
   -c "SELECT ehr.confirm_access($REQ, '$CODE')" -c "COMMIT" >/dev/null
# rlsmedian_ms SQL: as rmedian_ms, each run in its own transaction acting as the doctor
rlsmedian_ms() {
    local args=(-c "SET timezone = 'Asia/Shanghai'" -c "SET SESSION AUTHORIZATION bench_his") i
    for i in $(seq $((RUNS + 1))); do
        args+=(-c "BEGIN" -c "SELECT ehr.act_as($DOC)" -c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $1" -c "COMMIT")
    done
    rq "${args[@]}" | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' | tail -n +2 |
        sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
n_seen=$(rq -c "SET SESSION AUTHORIZATION bench_his" -c "BEGIN" -c "SELECT ehr.act_as($DOC)" \
            -c "SELECT count(*) FROM ehr.lab_result WHERE resident = '$RES'" -c "COMMIT" | tail -1)
echo "the doctor sees $n_seen of the resident's results"
t_oc_rls=$(rlsmedian_ms "$OC")
t_bare_rls=$(rlsmedian_ms "$BARE")
echo "order_check ${t_oc_rls} ms; bare indexed read ${t_bare_rls} ms (both under row-level security)"
echo "  ratio order_check / bare read = $(rratio "$t_oc_rls" "$t_bare_rls")"
echo
echo "== plans of the queries order_check runs (auto_explain, nested statements)"
rq -c "LOAD 'auto_explain'" \
   -c "SET auto_explain.log_min_duration = 0" -c "SET auto_explain.log_nested_statements = on" \
   -c "SET auto_explain.log_level = notice" -c "SET client_min_messages = notice" \
   -c "SELECT count(*) FROM ehr.order_check('$RES', $ITEMS, '$Q')" 2>&1 |
   grep -E "Query Text|Scan|Join|Loop" | sed -e 's/^NOTICE:  duration: [0-9.]* ms  plan:/--/' -e 's/^/  /' | cut -c1-160
if rq -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
      -c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_level = notice" \
      -c "SET client_min_messages = notice" \
      -c "SELECT count(*) FROM ehr.order_check('$RES', $ITEMS, '$Q')" 2>&1 | grep -q "Seq Scan on lab_result"; then
    echo "  WARNING: a sequential scan of lab_result"
else
    echo "  no sequential scan of lab_result or lab_report"
fi

echo
echo "== 2. recognition_stats over a month of 100,000 decisions"
rq >/dev/null <<SQL
SET client_min_messages = warning;
SET session_replication_role = replica;
CREATE TEMP TABLE encs AS
WITH e AS (
    INSERT INTO ehr.encounter (resident, institution, kind, started_at)
    SELECT (SELECT id FROM ehr.resident ORDER BY id OFFSET (g % $RESIDENTS) LIMIT 1),
           (SELECT org FROM ehr.institution WHERE name LIKE 'recognition bench hospital %'
             ORDER BY org OFFSET (g % 20) LIMIT 1), 'outpatient', '2026-05-01'
      FROM generate_series(1, 2000) AS g
    RETURNING id, institution)
SELECT id, institution, row_number() OVER (ORDER BY id) AS n FROM e;
INSERT INTO ehr.recognition (result, encounter, accepted, reason, resident, institution, source, item,
                             verdict, fee_saved, decided_at)
SELECT r.id, e.id, g % 10 < 7,
       CASE WHEN g % 10 >= 7 THEN (ARRAY['condition_changed', 'emergency', 'too_old'])[1 + g % 3] END,
       r.resident, e.institution, r.institution, r.item,
       'recognized', CASE WHEN g % 10 < 7 THEN 10 ELSE 0 END,
       timestamptz '2026-05-01 00:00+08' + (g % 2678400) * interval '1 second'
  FROM generate_series(1, 100000) AS g
  JOIN encs e ON e.n = 1 + g % 2000
  JOIN ehr.lab_result r ON r.id = (SELECT min(id) FROM ehr.lab_result) + g * 7;
RESET session_replication_role;
ANALYZE ehr.recognition;
SQL
MONTH="'[2026-05-01 00:00+08,2026-06-01 00:00+08)'"
STATS="SELECT * FROM ehr.recognition_stats(NULL, $MONTH)"
STATS1="SELECT * FROM ehr.recognition_stats('$Q', $MONTH)"
PLAIN="SELECT institution, item, count(*), count(*) FILTER (WHERE accepted), sum(fee_saved)
         FROM ehr.recognition WHERE decided_at <@ $MONTH::tstzrange GROUP BY 1, 2"
t_stats=$(rmedian_ms "$STATS")
t_stats1=$(rmedian_ms "$STATS1")
t_plain=$(rmedian_ms "$PLAIN")
echo "recognition_stats all institutions ${t_stats} ms; one institution ${t_stats1} ms; plain GROUP BY ${t_plain} ms"
echo "  ratio stats / plain GROUP BY = $(rratio "$t_stats" "$t_plain")"
