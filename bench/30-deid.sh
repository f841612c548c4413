#!/usr/bin/env bash
# De-identification on 1,000,000 residents (issue 4 §5), ratios from one run, each
# figure the median of EHR_BENCH_RUNS (default 5) executions:
#   1. building the dataset (pseudonym, age band, sex, region, shifted date): REFRESH of
#      the materialized view vs CREATE TABLE AS of the same raw columns (the floor; goal
#      <= 2x) and vs the same transformation a DBA writes with pgcrypto's hmac() and SQL
#      string functions (goal: ehr >= 3x faster);
#   2. per-row functions vs a plain scan of the same column: ehr.pseudonym, ehr.mask,
#      ehr.mask_name, ehr.mask_phone, and their substr()-based SQL and PL/pgSQL equivalents.
set -euo pipefail
. "$(dirname "$0")/common.bash"
N=${EHR_BENCH_ROWS:-1000000}

# timing_ms SQL: wall time of one statement as psql's \timing reports it (for
# statements EXPLAIN ANALYZE cannot wrap, such as REFRESH MATERIALIZED VIEW).
timing_ms() {
    q -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*$/\1/p' | tail -1
}
median_timing_ms() {
    local i t=()
    for i in $(seq "$RUNS"); do t+=("$(timing_ms "$1")"); done
    printf '%s\n' "${t[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

q >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
DROP MATERIALIZED VIEW IF EXISTS ehr_deid.bench_deid_res;
DELETE FROM ehr.deid_dataset WHERE dataset = 'bench_deid_res';
DROP TABLE IF EXISTS bench_deid_res, bench_deid_floor, bench_deid_sql, bench_deid_query;
SELECT setseed(0.25);
CREATE TABLE bench_deid_res AS
SELECT (body || ehr.resident_id_check_char(body))::ehr.resident_id AS id,
       (ARRAY['张','李','王','刘','陈','欧阳','司马','诸葛'])[1 + floor(random() * 8)::int]
       || (ARRAY['伟','芳','娜','小明','秀英','建国','丽','强'])[1 + floor(random() * 8)::int] AS name,
       '13' || lpad(floor(random() * 1000000000)::bigint::text, 9, '0') AS phone,
       timestamptz '2020-01-01 00:00+08' + random() * interval '1500 days' AS seen_at
  FROM (SELECT (ARRAY['110105','310101','440106','620102','650102'])[1 + floor(random() * 5)::int]
               || to_char(date '1930-01-01' + floor(random() * 34000)::int, 'YYYYMMDD')
               || lpad(floor(random() * 1000)::int::text, 3, '0') AS body
          FROM generate_series(1, $N)) b;
-- random ids may repeat: keep one row per id, as a real resident table would
DELETE FROM bench_deid_res a USING bench_deid_res b WHERE a.id OPERATOR(ehr.=) b.id AND a.ctid > b.ctid;
ALTER TABLE bench_deid_res ADD PRIMARY KEY (id);
VACUUM ANALYZE bench_deid_res;
SECURITY LABEL FOR ehr ON COLUMN bench_deid_res.id IS 'pseudonymize,age_band,sex,region:city';
SECURITY LABEL FOR ehr ON COLUMN bench_deid_res.seen_at IS 'shift_date';
SELECT ehr.deidentify('bench_deid_res');

-- What a DBA writes without ehr: pgcrypto's hmac() (SM3 too) and SQL string functions.
-- Pseudonyms in hex rather than base32 (cheaper in SQL, so the comparison favours it).
CREATE OR REPLACE FUNCTION bench_sql_age_band(birth date) RETURNS text LANGUAGE sql IMMUTABLE AS \$\$
    SELECT CASE WHEN a >= 90 THEN '90+' ELSE (a / 5 * 5) || '-' || (a / 5 * 5 + 4) END
      FROM (SELECT extract(year FROM age(current_date, birth))::int AS a) s
\$\$;

-- The PL/pgSQL function a DBA wraps pgcrypto in: it reads the key on every call.
CREATE OR REPLACE FUNCTION bench_plpgsql_pseudonym(v text, d text) RETURNS text
LANGUAGE plpgsql STABLE STRICT AS \$\$
BEGIN
    RETURN encode(substr(hmac(convert_to(d, 'UTF8') || '\\x00'::bytea || convert_to(v, 'UTF8'),
                              (SELECT key FROM ehr.keyring WHERE name = 'pseudonym'), 'sm3'), 1, 16), 'hex');
END
\$\$;

-- PL/pgSQL equivalents of ehr.mask and of the common rules of ehr.mask_name.
CREATE OR REPLACE FUNCTION bench_plpgsql_mask(v text, kl int, kr int, fill text DEFAULT '*')
RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS \$\$
DECLARE n int := length(v);
BEGIN
    IF n < kl + kr THEN RETURN repeat(fill, n); END IF;
    RETURN left(v, kl) || repeat(fill, n - kl - kr) || right(v, kr);
END
\$\$;
CREATE OR REPLACE FUNCTION bench_plpgsql_mask_name(v text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS \$\$
DECLARE n int := length(v); s int := 1;
BEGIN
    IF n <= 1 THEN RETURN v; END IF;
    IF n = 2 THEN RETURN left(v, 1) || '*'; END IF;
    IF left(v, 2) = ANY (ARRAY['欧阳','司马','上官','诸葛','东方','皇甫','尉迟','公孙','慕容','长孙',
                               '令狐','宇文','司徒','夏侯','轩辕','端木','独孤','南宫','西门','申屠']) THEN
        s := 2;
    END IF;
    IF n - s = 1 THEN RETURN left(v, s) || '*'; END IF;
    RETURN left(v, s) || repeat('*', n - s - 1) || right(v, 1);
END
\$\$;
SQL

echo "rows: $(q -c 'SELECT count(*) FROM bench_deid_res') distinct residents (of $N generated)"
echo
echo "1. building the dataset (pseudonym, age band, sex, region, shifted date)"
FLOOR_SQL="SET client_min_messages = warning; DROP TABLE IF EXISTS bench_deid_floor; CREATE TABLE bench_deid_floor AS SELECT id, seen_at FROM bench_deid_res"
EHR_SQL="REFRESH MATERIALIZED VIEW ehr_deid.bench_deid_res"
# the dataset's own query into a plain table: REFRESH minus swapping files and the unique index
QUERY_SQL="SET client_min_messages = warning; DROP TABLE IF EXISTS bench_deid_query; CREATE TABLE bench_deid_query AS
SELECT * FROM (SELECT ehr.pseudonym(s.id::text, 'resident') COLLATE \"C\" AS id, ehr.age_band(s.id, CURRENT_DATE) AS id_age_band,
       ehr.sex(s.id) AS id_sex, ehr.generalize_region(ehr.region_code(s.id), 'city') AS id_region,
       ehr.shift_date(s.seen_at, s.id) AS seen_at FROM public.bench_deid_res s) d"
PGCRYPTO_SQL="SET client_min_messages = warning; DROP TABLE IF EXISTS bench_deid_sql; CREATE TABLE bench_deid_sql AS
SELECT encode(substr(hmac(convert_to('resident', 'UTF8') || '\\x00'::bytea || convert_to(id::text, 'UTF8'), k.p, 'sm3'), 1, 16), 'hex') AS id,
       bench_sql_age_band(to_date(substr(id::text, 7, 8), 'YYYYMMDD')) AS id_age_band,
       CASE WHEN substr(id::text, 17, 1)::int % 2 = 1 THEN 'male' ELSE 'female' END AS id_sex,
       substr(id::text, 1, 4) || '00' AS id_region,
       seen_at + ((('x' || encode(substr(hmac(convert_to(id::text, 'UTF8'), k.d, 'sm3'), 1, 4), 'hex'))::bit(32)::bigint % 61) - 30)
                 * interval '1 day' AS seen_at
  FROM bench_deid_res,
       (SELECT (SELECT key FROM ehr.keyring WHERE name = 'pseudonym') AS p,
               (SELECT key FROM ehr.keyring WHERE name = 'date_shift') AS d) k"
# interleaved rounds: the noise of a shared machine falls evenly on the three
t_floor=(); t_ehr=(); t_sql=(); t_query=()
for r in $(seq "$RUNS"); do
    t_floor+=("$(timing_ms "$FLOOR_SQL")")
    t_ehr+=("$(timing_ms "$EHR_SQL")")
    t_query+=("$(timing_ms "$QUERY_SQL")")
    t_sql+=("$(timing_ms "$PGCRYPTO_SQL")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
floor=$(median "${t_floor[@]}"); ehr=$(median "${t_ehr[@]}"); sql=$(median "${t_sql[@]}"); query=$(median "${t_query[@]}")
conc=$(RUNS=1 median_timing_ms "REFRESH MATERIALIZED VIEW CONCURRENTLY ehr_deid.bench_deid_res")
printf '   CREATE TABLE AS raw columns (floor) %9.0f ms\n' "$floor"
printf '   REFRESH ehr_deid dataset            %9.0f ms  %sx the floor (goal <= 2x)\n' "$ehr" "$(ratio "$ehr" "$floor")"
printf '   same query, CREATE TABLE AS         %9.0f ms  %sx the floor (no unique index to build)\n' "$query" "$(ratio "$query" "$floor")"
printf '   pgcrypto hmac() + SQL, CREATE TABLE AS %6.0f ms  ehr is %sx faster than it (%sx with the index)\n' "$sql" "$(ratio "$sql" "$query")" "$(ratio "$sql" "$ehr")"
printf '   REFRESH ... CONCURRENTLY (1 run)    %9.0f ms  %sx the plain refresh (diffs old and new rows)\n' "$conc" "$(ratio "$conc" "$ehr")"

echo
echo "2. per-row functions on $N rows vs a plain scan of the same column (count(expr))"
read -r scan_id pseud pseud_sql pseud_pl <<<"$(interleaved_ms \
    "SELECT count(id::text) FROM bench_deid_res" \
    "SELECT count(ehr.pseudonym(id::text, 'resident')) FROM bench_deid_res" \
    "SELECT count(encode(substr(hmac(convert_to('resident', 'UTF8') || '\\x00'::bytea || convert_to(id::text, 'UTF8'), (SELECT key FROM ehr.keyring WHERE name = 'pseudonym'), 'sm3'), 1, 16), 'hex')) FROM bench_deid_res" \
    "SELECT count(bench_plpgsql_pseudonym(id::text, 'resident')) FROM bench_deid_res")"
read -r scan_name mask mask_sql mask_pl name name_pl <<<"$(interleaved_ms \
    "SELECT count(name) FROM bench_deid_res" \
    "SELECT count(ehr.mask(name, 1, 1)) FROM bench_deid_res" \
    "SELECT count(CASE WHEN length(name) < 2 THEN repeat('*', length(name)) ELSE left(name, 1) || repeat('*', length(name) - 2) || right(name, 1) END) FROM bench_deid_res" \
    "SELECT count(bench_plpgsql_mask(name, 1, 1)) FROM bench_deid_res" \
    "SELECT count(ehr.mask_name(name)) FROM bench_deid_res" \
    "SELECT count(bench_plpgsql_mask_name(name)) FROM bench_deid_res")"
read -r scan_phone phone phone_sql <<<"$(interleaved_ms \
    "SELECT count(phone) FROM bench_deid_res" \
    "SELECT count(ehr.mask_phone(phone)) FROM bench_deid_res" \
    "SELECT count(left(phone, 3) || '****' || right(phone, 4)) FROM bench_deid_res")"
row() { printf '   %-44s %8.0f ms  %6sx scan  %s\n' "$1" "$2" "$(ratio "$2" "$3")" "${4:-}"; }
row "scan: count(id::text)" "$scan_id" "$scan_id"
row "ehr.pseudonym(id::text, 'resident')" "$pseud" "$scan_id"
row "pgcrypto hmac(..., 'sm3') hex" "$pseud_sql" "$scan_id" "(ehr $(ratio "$pseud_sql" "$pseud")x faster)"
row "PL/pgSQL around pgcrypto (key per call)" "$pseud_pl" "$scan_id" "(ehr $(ratio "$pseud_pl" "$pseud")x faster)"
row "scan: count(name)" "$scan_name" "$scan_name"
row "ehr.mask(name, 1, 1)" "$mask" "$scan_name"
row "substr-based SQL mask" "$mask_sql" "$scan_name" "(ehr $(ratio "$mask_sql" "$mask")x faster)"
row "PL/pgSQL mask" "$mask_pl" "$scan_name" "(ehr $(ratio "$mask_pl" "$mask")x faster)"
row "ehr.mask_name(name)" "$name" "$scan_name"
row "PL/pgSQL mask_name (compound surnames)" "$name_pl" "$scan_name" "(ehr $(ratio "$name_pl" "$name")x faster)"
row "scan: count(phone)" "$scan_phone" "$scan_phone"
row "ehr.mask_phone(phone)" "$phone" "$scan_phone"
row "substr-based SQL (mobile only)" "$phone_sql" "$scan_phone" "(ehr $(ratio "$phone_sql" "$phone")x faster)"

q >/dev/null <<SQL
SET client_min_messages = warning;
DROP MATERIALIZED VIEW ehr_deid.bench_deid_res;
DELETE FROM ehr.deid_dataset WHERE dataset = 'bench_deid_res';
DROP TABLE bench_deid_res, bench_deid_floor, bench_deid_sql, bench_deid_query;
SQL
