#!/usr/bin/env bash
# Electronic health card (issue 6): per-row cost of the card ID derivation and of the
# main index, and the cost of resolving a scanned code, each as a ratio to a floor
# measured in the same run (median of EHR_BENCH_RUNS executions, interleaved):
#   1. ehr.health_card_id over N identities vs the two raw SM4-ECB calls it is made of
#      (ehr._sm4_ecb with a literal key: the floor) and vs md5 (a cheap hash);
#      the key is read once per query (fn_extra), so the ratio to the floor stays near 1;
#   2. the main index (HMAC-SM3 under ehc_index) vs md5;
#   3. ehr.resolve_health_code, 2,000 scans in one statement, vs the primary-key
#      lookup of the same cards (what a terminal would pay without any checking).
set -euo pipefail
. "$(dirname "$0")/common.bash"
N=${EHR_BENCH_ROWS:-100000}
SCANS=2000

q >/dev/null <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_hc_src, bench_hc_codes;
SELECT setseed(0.25);
CREATE TABLE bench_hc_src AS
SELECT id, ehr._health_card_main_index('01', id) AS mi
  FROM (SELECT body || ehr.resident_id_check_char(body) AS id
          FROM (SELECT '620102' || to_char(date '1930-01-01' + floor(random() * 34000)::int, 'YYYYMMDD')
                       || lpad(floor(random() * 1000)::int::text, 3, '0') AS body
                  FROM generate_series(1, $N)) b) r;
VACUUM ANALYZE bench_hc_src;
SQL
echo "rows: $N; each figure the median of $RUNS runs (server-side execution time)"

# 1. derivation: the two SM4 calls of the construction, with the block built the same way
floor_sql="SELECT count(ehr._sm4_ecb(true, ehr._sm4_ecb(true, '\\x0123456789abcdeffedcba9876543210'::bytea,
               decode(substr(mi, 1, 16) || substr(mi, 17, 16), 'hex')),
               convert_to(rpad('01' || id, 32, ' '), 'UTF8'))) FROM bench_hc_src"
read -r scan md5 floor card < <(interleaved_ms "SELECT count(id) FROM bench_hc_src" \
    "SELECT count(md5(id || mi)) FROM bench_hc_src" "$floor_sql" \
    "SELECT count(ehr.health_card_id('01', id, mi)) FROM bench_hc_src")
echo "card ID: scan ${scan} ms; md5 ${md5} ms; two raw SM4-ECB calls ${floor} ms; health_card_id ${card} ms"
echo "  ratio health_card_id / raw SM4 floor = $(ratio "$card" "$floor"); / md5 = $(ratio "$card" "$md5")"
echo "  per row: $(awk -v c="$card" -v s="$scan" -v n="$N" 'BEGIN{printf "%.2f", (c-s)*1000/n}') us"

# 2. main index
read -r md5 mi < <(interleaved_ms "SELECT count(md5('01' || id)) FROM bench_hc_src" \
    "SELECT count(ehr._health_card_main_index('01', id)) FROM bench_hc_src")
echo "main index: md5 ${md5} ms; HMAC-SM3 ${mi} ms; ratio $(ratio "$mi" "$md5")"

# 3. resolving scanned codes
q >/dev/null <<SQL
SET client_min_messages = warning;
SET search_path = public, ehr;
INSERT INTO ehr.resident (id, name) SELECT id::ehr.resident_id, 'bench' FROM bench_hc_src LIMIT $SCANS
    ON CONFLICT DO NOTHING;
SELECT count(ehr.issue_health_card(id::ehr.resident_id)) FROM (SELECT id FROM bench_hc_src LIMIT $SCANS) s;
SET ehr.health_code_ttl = 3600;
CREATE TABLE bench_hc_codes AS
SELECT c.card_id, ehr.issue_health_code(c.resident) AS payload FROM ehr.health_card c WHERE c.resident IN
    (SELECT id::ehr.resident_id FROM bench_hc_src LIMIT $SCANS);
SQL
read -r look res < <(interleaved_ms \
    "SELECT count(*) FROM bench_hc_codes b, LATERAL (SELECT c.resident FROM ehr.health_card c WHERE c.card_id = b.card_id) l" \
    "SELECT count(ehr.resolve_health_code(payload)) FROM bench_hc_codes")
echo "resolve: $SCANS primary-key lookups ${look} ms; $SCANS resolve_health_code ${res} ms"
echo "  per scan: $(awk -v r="$res" -v n="$SCANS" 'BEGIN{printf "%.1f", r*1000/n}') us (parse, SM4, card, ledger, access log); ratio to the bare lookup $(ratio "$res" "$look")"

q >/dev/null <<SQL
DROP TABLE bench_hc_src, bench_hc_codes;
DELETE FROM ehr.health_card h USING ehr.resident r WHERE r.id OPERATOR(ehr.=) h.resident AND r.name = 'bench';
SQL
