#!/usr/bin/env bash
# Consent under row-level security (issue 3 §6), ratios from one run, each figure the
# median of EHR_BENCH_RUNS (default 5) executions, the compared statements interleaved.
# 1,000,000 lab_result rows over 10,000 residents at 20 hospitals; the reading doctor
# works at one of them and holds 50 active grants (one with a closed sharing switch).
#   1. full scan under RLS vs the same scan with RLS off (goal <= 1.2x, must <= 1.5x),
#      both as count(*) (reads no column: RLS alone deforms tuples) and as a scan that
#      reads columns, as real queries do;
#   2. one resident's chart by index under RLS vs RLS off (goal <= 1.2x);
#   3. ehr.can_access vs the same policy written by hand in SQL (EXISTS over grants and
#      switches, as a DBA would) on a copy of the table (goal: ours >= 3x faster).
# "RLS off" is the same statement run by a superuser, whom PostgreSQL exempts from
# policies; "RLS on" runs as a login role mapped to the practitioner (ehr.practitioner.db_role).
# Every figure is taken in a warm backend (third run in one session), as behind a pool.
set -euo pipefail
. "$(dirname "$0")/common.bash"
N=${EHR_BENCH_ROWS:-1000000}
RESIDENTS=${EHR_BENCH_RESIDENTS:-10000}

q >/dev/null <<SQL
SET client_min_messages = warning;
SELECT setseed(0.2);
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_doctor') THEN
        CREATE ROLE bench_doctor LOGIN IN ROLE ehr_clinician;
    END IF;
END \$\$;
INSERT INTO ehr.lab_item (code, name, kind, price) VALUES ('GLU', '空腹血糖', 'lab', 5), ('CT', '头颅CT', 'exam', 280)
    ON CONFLICT DO NOTHING;
INSERT INTO ehr.institution (org, name, level, region)
SELECT b || ehr.org_code_check_char(b), '医院' || i, 2, '620102'
  FROM (SELECT i, '1262010243800' || lpad(i::text, 4, '0') AS b FROM generate_series(1, 20) i) x
    ON CONFLICT DO NOTHING;
INSERT INTO ehr.practitioner (id, institution, name, licence, db_role)
SELECT 1, org, '张伟', 'BENCH-1', 'bench_doctor' FROM ehr.institution ORDER BY org LIMIT 1
    ON CONFLICT DO NOTHING;
-- residents: valid identity numbers, each "belonging" to one hospital
CREATE TEMP TABLE r AS
SELECT n, body || ehr.resident_id_check_char(body) AS id
  FROM (SELECT n, '620102' || to_char(date '1940-01-01' + (n * 7919) % 25000, 'YYYYMMDD')
                  || lpad((n % 1000)::text, 3, '0') AS body
          FROM generate_series(1, $RESIDENTS) n) b;
INSERT INTO ehr.resident (id, name, phone)
SELECT id::ehr.resident_id, '居民' || n, '138' || lpad(n::text, 8, '0') FROM r ON CONFLICT DO NOTHING;
CREATE TEMP TABLE inst AS SELECT row_number() OVER (ORDER BY org) AS k, org FROM ehr.institution;
-- one report per resident and hospital, results spread over all residents
INSERT INTO ehr.lab_report (id, resident, institution, category, collected_at, reported_at, status)
SELECT r.n, r.id::ehr.resident_id, i.org, 'lab', '2026-01-01', '2026-01-01', 'final'
  FROM r JOIN inst i ON i.k = 1 + r.n % 20;
SET session_replication_role = replica;   -- the rows are consistent by construction: skip FK checks
INSERT INTO ehr.lab_result (report, resident, institution, category, item, value_text, collected_at)
SELECT r.n, r.id::ehr.resident_id, i.org, 'lab', 'GLU', (4 + random() * 3)::numeric(4, 2) || ' mmol/L',
       timestamptz '2026-01-01' + g * interval '1 minute'
  FROM generate_series(1, $N) g
  JOIN r ON r.n = 1 + (g * 7) % $RESIDENTS
  JOIN inst i ON i.k = 1 + r.n % 20;
RESET session_replication_role;
-- 50 grants to residents held by other hospitals; one switch closed
INSERT INTO ehr.access_grant (practitioner, institution, resident, categories, via, expires_at)
SELECT 1, (SELECT institution FROM ehr.practitioner WHERE id = 1), r.id::ehr.resident_id, '{lab,exam}', 'bench',
       now() + interval '1 day'
  FROM r WHERE r.n % 20 <> 0 ORDER BY r.n LIMIT 50;
INSERT INTO ehr.sharing (resident, category, open)
SELECT resident, 'lab', false FROM ehr.access_grant ORDER BY id LIMIT 1;
-- the hand-written policy, on a copy of the table
DROP TABLE IF EXISTS public.bench_lr;
CREATE TABLE public.bench_lr AS SELECT * FROM ehr.lab_result;
CREATE INDEX ON public.bench_lr (resident, collected_at);
ALTER TABLE public.bench_lr ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_hand ON public.bench_lr FOR SELECT USING (
    institution OPERATOR(ehr.=) ehr.current_institution()
    OR EXISTS (SELECT 1 FROM ehr.access_grant g
                WHERE g.practitioner = ehr.current_practitioner()
                  AND g.resident OPERATOR(ehr.=) bench_lr.resident
                  AND g.ended_at IS NULL AND g.expires_at > now()
                  AND (g.break_glass
                       OR (bench_lr.category = ANY (g.categories)
                           AND NOT EXISTS (SELECT 1 FROM ehr.sharing s
                                            WHERE s.resident OPERATOR(ehr.=) bench_lr.resident
                                              AND s.category = bench_lr.category AND NOT s.open)))));
GRANT SELECT ON public.bench_lr, ehr.access_grant, ehr.sharing TO bench_doctor;
VACUUM ANALYZE ehr.lab_result, public.bench_lr, ehr.access_grant, ehr.sharing, ehr.resident;
SQL

GRANTED=$(q -c "SELECT resident FROM ehr.access_grant ORDER BY id OFFSET 1 LIMIT 1")
AS_DOCTOR="SET SESSION AUTHORIZATION bench_doctor;"
SCAN_COUNT="SELECT count(*) FROM ehr.lab_result"
# what any policy on (resident, institution, category) costs: the same columns deformed
# and tested, without can_access (run with RLS off)
SCAN_FLOOR="SELECT count(*) FROM ehr.lab_result WHERE resident IS NOT NULL AND institution IS NOT NULL AND category IS NOT NULL"
SCAN_COLS="SELECT count(item), max(collected_at), max(value_text) FROM ehr.lab_result"
CHART="SELECT * FROM ehr.lab_result WHERE resident OPERATOR(ehr.=) '$GRANTED' ORDER BY collected_at"
HAND_COUNT="SELECT count(*) FROM public.bench_lr"

# Execution time in a warm backend (as with a connection pool): the statement runs
# twice to fill the catalog caches, the third run is timed. RLS off: as the superuser;
# RLS on: as bench_doctor.
warm_ms() {
    local as=$1 sql=$2
    q <<EOF | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' | tail -1
SET SESSION AUTHORIZATION $as;
$sql;
$sql;
EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $sql;
EOF
}
exec_ms() { warm_ms postgres "$1"; }
doctor_ms() { warm_ms bench_doctor "$1"; }

seen=$(q -c "$AS_DOCTOR $SCAN_COUNT")
hand_seen=$(q -c "$AS_DOCTOR $HAND_COUNT")
echo "rows: $(q -c "$SCAN_COUNT") in lab_result, $(q -c "SELECT count(DISTINCT resident) FROM ehr.lab_result") residents;" \
     "the doctor sees $seen (own hospital + 49 open grants), the hand-written policy $hand_seen"
[ "$seen" = "$hand_seen" ] || { echo "policies disagree: $seen vs $hand_seen" >&2; exit 1; }

# warm up caches, then interleave; the hand-written policy is slow: fewer rounds
for s in "$SCAN_COUNT" "$SCAN_FLOOR" "$SCAN_COLS" "$CHART"; do q -c "$s" >/dev/null; doctor_ms "$s" >/dev/null; done
declare -a off floor on cols_off cols_on chart_off chart_on hand
for i in $(seq "$RUNS"); do
    off+=("$(exec_ms "$SCAN_COUNT")");  on+=("$(doctor_ms "$SCAN_COUNT")"); floor+=("$(exec_ms "$SCAN_FLOOR")")
    cols_off+=("$(exec_ms "$SCAN_COLS")"); cols_on+=("$(doctor_ms "$SCAN_COLS")")
    chart_off+=("$(exec_ms "$CHART")"); chart_on+=("$(doctor_ms "$CHART")")
done
for i in 1 2 3; do hand+=("$(doctor_ms "$HAND_COUNT")"); done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
low() { printf '%s\n' "$@" | sort -g | head -1; }

# median and minimum of each: on a shared machine the minimum is the least disturbed run
row() {  # label, baseline times..., --, measured times...
    local label=$1; shift; local a=() b=(); while [ "$1" != -- ]; do a+=("$1"); shift; done; shift; b=("$@")
    local ma mb la lb; ma=$(med "${a[@]}"); mb=$(med "${b[@]}"); la=$(low "${a[@]}"); lb=$(low "${b[@]}")
    printf '%-58s %9s %9s %7s   %9s %9s %7s\n' "$label" "$ma" "$mb" "$(ratio "$mb" "$ma")x" "$la" "$lb" "$(ratio "$lb" "$la")x"
}
printf '%-58s %9s %9s %7s   %9s %9s %7s\n' "" "median ms" "" "" "min ms" "" ""
printf '%-58s %9s %9s %7s   %9s %9s %7s\n' "statement (baseline -> measured)" "base" "meas" "ratio" "base" "meas" "ratio"
row "full scan count(*): RLS off -> RLS on" "${off[@]}" -- "${on[@]}"
row "full scan count(*): any 3-column policy -> RLS on" "${floor[@]}" -- "${on[@]}"
row "scan reading columns: RLS off -> RLS on" "${cols_off[@]}" -- "${cols_on[@]}"
row "one resident's chart by index (100 rows): off -> on" "${chart_off[@]}" -- "${chart_on[@]}"
row "count(*): ehr.can_access -> hand-written SQL policy" "${on[@]}" -- "${hand[@]}"
