#!/usr/bin/env bash
# Identifiers on 1,000,000 rows (issue 2 §6), ratios from one run, each figure
# the median of EHR_BENCH_RUNS (default 5) interleaved runs. Times are the server
# backend's CPU time (it reads its own /proc/self/stat), which other load on a shared
# machine barely moves; wall-clock medians of the parse queries are printed too.
#   1. parsing text into resident_id vs into int8 (the physical floor; goal <= 1.5x),
#      also with the scan both share subtracted;
#   2. loading a resident_id column vs a text column validated by a PL/pgSQL CHECK
#      function computing the same rules (what DBAs write today; goal >= 10x faster);
#   3. btree index size on resident_id vs on the 18-character text (goal <= 0.6x).
set -euo pipefail
. "$(dirname "$0")/common.bash"
N=${EHR_BENCH_ROWS:-1000000}

q >/dev/null <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_id_src, bench_rid, bench_txt, bench_idx_rid, bench_idx_txt;
SELECT setseed(0.5);
-- rid: valid identity numbers; num: the same 18 characters as digits only (X -> 0), for int8
CREATE TABLE bench_id_src AS
SELECT rid, translate(rid, 'X', '0') AS num
  FROM (SELECT body || ehr.resident_id_check_char(body) AS rid
          FROM (SELECT (ARRAY['11','31','44','62','65'])[1 + floor(random() * 5)::int]
                       || lpad(floor(random() * 10000)::int::text, 4, '0')
                       || to_char(date '1930-01-01' + floor(random() * 34000)::int, 'YYYYMMDD')
                       || lpad(floor(random() * 1000)::int::text, 3, '0') AS body
                  FROM generate_series(1, $N)) b) r;
VACUUM ANALYZE bench_id_src;

-- The CHECK function a DBA writes today: the same rules in PL/pgSQL.
CREATE OR REPLACE FUNCTION bench_rid_check(v text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS \$\$
DECLARE
    s text := btrim(v, E' \t\n\r');
    d text;
    w int[] := '{7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2}';
    total int := 0;
    p int; y int; m int; dd int;
BEGIN
    IF length(s) = 18 THEN
        IF s !~ '^[0-9]{17}[0-9Xx]\$' THEN RETURN false; END IF;
        d := substr(s, 1, 17);
    ELSIF length(s) = 15 THEN
        IF s !~ '^[0-9]{15}\$' THEN RETURN false; END IF;
        d := substr(s, 1, 6) || '19' || substr(s, 7, 9);
    ELSE
        RETURN false;
    END IF;
    p := substr(d, 1, 2)::int;
    IF NOT (p BETWEEN 11 AND 15 OR p BETWEEN 21 AND 23 OR p BETWEEN 31 AND 37 OR p BETWEEN 41 AND 46
            OR p BETWEEN 50 AND 54 OR p BETWEEN 61 AND 65 OR p IN (71, 81, 82, 83)) THEN
        RETURN false;
    END IF;
    y := substr(d, 7, 4)::int; m := substr(d, 11, 2)::int; dd := substr(d, 13, 2)::int;
    IF y < 1800 OR m NOT BETWEEN 1 AND 12 OR dd < 1
       OR dd > extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day') THEN
        RETURN false;
    END IF;
    IF length(s) = 18 THEN
        FOR i IN 1 .. 17 LOOP
            total := total + substr(d, i, 1)::int * w[i];
        END LOOP;
        IF upper(substr(s, 18, 1)) <> substr('10X98765432', total % 11 + 1, 1) THEN RETURN false; END IF;
    END IF;
    RETURN true;
END \$\$;
CREATE TABLE bench_rid (id ehr.resident_id NOT NULL);
CREATE TABLE bench_txt (id text NOT NULL CHECK (bench_rid_check(id)));
SQL
# the PL/pgSQL rules agree with the type on the data (and reject a bad check character)
q -c "SELECT count(*) FILTER (WHERE NOT bench_rid_check(rid)), bool_or(bench_rid_check('11010519491231003X'))
        FROM bench_id_src" | grep -qx '0|f' || { echo "bench_rid_check disagrees with resident_id"; exit 1; }

echo "rows: $N; each figure the median of $RUNS runs; CPU = the backend's own CPU time"
echo "(robust on a shared machine), wall = server-side execution time (context only)"

# 1. parsing: the three statements interleaved, 10 executions per CPU figure
P_SCAN="SELECT count(rid) FROM bench_id_src"
P_INT8="SELECT count(num::int8) FROM bench_id_src"
P_RID="SELECT count(rid::ehr.resident_id) FROM bench_id_src"
read -r scan int8 rid < <(interleaved_cpu 10 "$P_SCAN" "$P_INT8" "$P_RID")
read -r wscan wint8 wrid < <(interleaved_ms "$P_SCAN" "$P_INT8" "$P_RID")
echo "parse, CPU ms: scan alone ${scan}; text->int8 ${int8}; text->resident_id ${rid}"
echo "parse, wall ms: scan alone ${wscan}; text->int8 ${wint8}; text->resident_id ${wrid}"
echo "  ratio resident_id/int8 = $(ratio "$rid" "$int8") CPU, $(ratio "$wrid" "$wint8") wall (goal <= 1.5);" \
     "parse work only (scan subtracted, CPU) = $(ratio "$(awk -v a="$rid" -v s="$scan" 'BEGIN{print a-s}')" "$(awk -v a="$int8" -v s="$scan" 'BEGIN{print a-s}')")"

# 2. loading with validation (interleaved; the TRUNCATE before each is not counted)
lr=(); lt=()
for r in $(seq "$RUNS"); do
    lr+=("$(cpu_ms "INSERT INTO bench_rid SELECT rid FROM bench_id_src" 1 "TRUNCATE bench_rid")")
    lt+=("$(cpu_ms "INSERT INTO bench_txt SELECT rid FROM bench_id_src" 1 "TRUNCATE bench_txt")")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
load_rid=$(med "${lr[@]}"); load_txt=$(med "${lt[@]}")
echo "load, CPU ms: resident_id column ${load_rid}; text column + PL/pgSQL CHECK ${load_txt}"
echo "  ratio PL/pgSQL CHECK / resident_id = $(ratio "$load_txt" "$load_rid")x (goal >= 10)"

# 3. index size
q <<SQL
CREATE TABLE bench_idx_rid AS SELECT rid::ehr.resident_id AS id FROM bench_id_src;
CREATE TABLE bench_idx_txt AS SELECT rid AS id FROM bench_id_src;
CREATE INDEX bench_idx_rid_id ON bench_idx_rid (id);
CREATE INDEX bench_idx_txt_id ON bench_idx_txt (id);
SQL
sz_rid=$(q -c "SELECT pg_relation_size('bench_idx_rid_id')")
sz_txt=$(q -c "SELECT pg_relation_size('bench_idx_txt_id')")
tb_rid=$(q -c "SELECT pg_relation_size('bench_idx_rid')")
tb_txt=$(q -c "SELECT pg_relation_size('bench_idx_txt')")
echo "btree index: resident_id $((sz_rid / 1024)) kB; text(18) $((sz_txt / 1024)) kB"
echo "  ratio resident_id/text = $(ratio "$sz_rid" "$sz_txt") (goal <= 0.6); table heap ratio = $(ratio "$tb_rid" "$tb_txt")"

q -c "DROP TABLE bench_id_src, bench_rid, bench_txt, bench_idx_rid, bench_idx_txt; DROP FUNCTION bench_rid_check(text)"
