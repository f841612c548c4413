#!/usr/bin/env bash
# Without shared_preload_libraries the library still loads on first use: consent
# checks, requests and the access log work, and confirm_access, which needs the
# shared-memory attempt counters, refuses with a clear message. Prints TAP.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

. "$(dirname "$0")/../../scripts/tap.sh"
own_cluster nopreload "shared_preload_libraries = ''"

echo "1..6"

check "$(psql -X -At -d postgres -c "SHOW shared_preload_libraries")" "" "the cluster does not preload ehr"
err=$(psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE EXTENSION ehr" 2>&1) \
    && ok "CREATE EXTENSION works without preloading" || not_ok "CREATE EXTENSION works without preloading: $err"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -f "$(dirname "$0")/../pgtap/fixtures/consent_world.sql" >/dev/null 2>&1 \
    || { echo "Bail out! fixture failed"; exit 1; }

out=$(psql -X -q -At -d postgres 2>&1 <<'SQL'
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT count(*) FROM ehr.lab_result;
SELECT ehr.request_access('621226198001011236', '{lab}');
COMMIT;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(1, '123456');
ROLLBACK;
SQL
)
check "$(echo "$out" | sed -n 2p)" "1" "can_access works when loaded on first use (own institution's row)"
check "$(echo "$out" | sed -n 3p)" "1" "request_access works (no shared memory needed)"
echo "$out" | grep -q 'ERROR:  ehr must be loaded through shared_preload_libraries to check authorization codes' \
    && ok "confirm_access refuses with a clear message" || not_ok "confirm_access refuses with a clear message: $out"
check "$(psql -X -At -d postgres -c "SELECT ehr.verify_access_log() IS NULL AND count(*) = 2 FROM ehr.access_log")" "t" \
    "the access log holds request and code_sent, chained"
