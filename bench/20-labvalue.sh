#!/usr/bin/env bash
# Lab values on 1,000,000 rows, ratios from one run (each figure the median of
# EHR_BENCH_RUNS executions, interleaved):
#   1. parsing text into ehr.labvalue vs into numeric (the number alone);
#   2. ehr.interpret(v, range) vs the numeric comparison a DBA writes today
#      (value BETWEEN low AND high, same unit, no censored values);
#   3. the same interpret with a unit conversion (range in umol/L);
#   4. ehr.convert(v, 'mg/dL', molar mass) vs numeric multiplication and round().
# Uses bench/common.bash (q, interleaved_ms, ratio).
set -euo pipefail
. "$(dirname "$0")/common.bash"
N=${EHR_BENCH_ROWS:-1000000}

q >/dev/null <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_lab;
SELECT setseed(0.25);
CREATE TABLE bench_lab AS
SELECT t, t::numeric AS n, (t || ' mmol/L')::ehr.labvalue AS v
  FROM (SELECT round((2 + random() * 10)::numeric, 1)::text AS t FROM generate_series(1, $N)) s;
VACUUM ANALYZE bench_lab;
SQL

read -r parse_lab parse_num <<<"$(interleaved_ms \
    "SELECT count((t || ' mmol/L')::ehr.labvalue) FROM bench_lab" \
    "SELECT count(t::numeric) FROM bench_lab")"
read -r interp between interp_conv <<<"$(interleaved_ms \
    "SELECT count(*) FROM bench_lab WHERE ehr.interpret(v, '[3.9,6.1] mmol/L') = 'N'" \
    "SELECT count(*) FROM bench_lab WHERE n BETWEEN 3.9 AND 6.1" \
    "SELECT count(*) FROM bench_lab WHERE ehr.interpret(v, '[3900,6100] umol/L') = 'N'")"
read -r conv mult <<<"$(interleaved_ms \
    "SELECT count(ehr.convert(v, 'mg/dL', 180.156)) FROM bench_lab" \
    "SELECT count(round(n * 18.0156, 1)) FROM bench_lab")"

echo "rows: $N"
echo "parse text -> labvalue vs -> numeric:            $parse_lab ms vs $parse_num ms = $(ratio "$parse_lab" "$parse_num")x"
echo "interpret(v, [3.9,6.1] mmol/L) vs BETWEEN:       $interp ms vs $between ms = $(ratio "$interp" "$between")x"
echo "interpret with unit conversion vs BETWEEN:       $interp_conv ms vs $between ms = $(ratio "$interp_conv" "$between")x"
echo "convert(v, mg/dL, 180.156) vs numeric multiply:  $conv ms vs $mult ms = $(ratio "$conv" "$mult")x"
q -c "DROP TABLE bench_lab" >/dev/null
