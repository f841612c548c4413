#!/usr/bin/env bash
# Without shared_preload_libraries the library loads on first use: health cards, dynamic
# codes, resolution and scan to authorize work (refusals then reach only the server log),
# ehr.health_code_ttl exists once the library is loaded, and the SMS path for static
# codes, which counts wrong codes in shared memory, refuses with a clear message. TAP.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

. "$(dirname "$0")/../../scripts/tap.sh"
own_cluster hc-nopreload "shared_preload_libraries = ''"

echo "1..7"

check "$(psql -X -At -d postgres -c "SHOW shared_preload_libraries")" "" "the cluster does not preload ehr"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE EXTENSION ehr" >/dev/null 2>&1 \
    && psql -X -q -v ON_ERROR_STOP=1 -d postgres -f "$(dirname "$0")/../pgtap/fixtures/consent_world.sql" >/dev/null 2>&1 \
    || { echo "Bail out! extension or fixture failed"; exit 1; }
if ! psql -X -At -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'hc_np_terminal'" | grep -q 1; then
    psql -X -q -d postgres -c "CREATE ROLE hc_np_terminal LOGIN" >/dev/null
fi
psql -X -q -d postgres -c "GRANT ehr_terminal TO hc_np_terminal" >/dev/null

out=$(psql -X -q -At -d postgres 2>&1 <<'SQL'
SELECT length(ehr.issue_health_card('621226198001011236'));
SHOW ehr.health_code_ttl;
SELECT ehr.issue_health_code('621226198001011236') AS code \gset
SET SESSION AUTHORIZATION hc_np_terminal;
SELECT ehr.resolve_health_code(:'code');
SELECT ehr.send_health_card_code(split_part(:'code', ':', 1) || ':1') > now();
SELECT ehr.resolve_health_code(split_part(:'code', ':', 1) || ':1', '123456');
SQL
)
check "$(echo "$out" | sed -n 1p)" "64" "a card is issued when the library is loaded on first use"
check "$(echo "$out" | sed -n 2p)" "1min" "ehr.health_code_ttl is defined once the library is loaded"
check "$(echo "$out" | sed -n 3p)" "621226198001011236" "a terminal resolves a dynamic code"
check "$(echo "$out" | sed -n 4p)" "t" "an SMS code is sent for a static code (no shared memory needed)"
echo "$out" | grep -q 'ERROR:  SMS verification of health cards needs ehr in shared_preload_libraries' \
    && ok "checking the SMS code refuses with a clear message" || not_ok "checking the SMS code refuses with a clear message: $out"
check "$(psql -X -At -d postgres -c "SELECT count(*) FROM ehr.access_log WHERE event IN ('card_resolved', 'card_code_sent')")" "2" \
    "successes are in the access log"
