#!/usr/bin/env bash
# The SECURITY LABEL provider "ehr" exists only in backends that have loaded the
# library (docs/deidentification.md): preloaded, in every backend; loaded on first use,
# only after the session has called an ehr C function. Prints TAP.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

. "$(dirname "$0")/../../scripts/tap.sh"
own_cluster deid-nopreload "shared_preload_libraries = ''"

echo "1..5"

err=$(psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE EXTENSION ehr" \
        -c "CREATE TABLE deid_np (id ehr.resident_id, note text)" 2>&1) \
    && ok "CREATE EXTENSION labels the extension's own tables without preloading" \
    || not_ok "CREATE EXTENSION without preloading: $err"

out=$(psql -X -q -d postgres -c "SECURITY LABEL FOR ehr ON COLUMN deid_np.note IS 'keep'" 2>&1)
echo "$out" | grep -q 'security label provider "ehr" is not loaded' \
    && ok "a fresh session without the library has no provider ehr" || not_ok "fresh session: $out"

out=$(psql -X -q -d postgres -c "SELECT ehr.version()" -c "SECURITY LABEL FOR ehr ON COLUMN deid_np.note IS 'keep'" 2>&1)
[ -z "$(echo "$out" | grep ERROR)" ] \
    && ok "after calling an ehr function the session has the provider" || not_ok "after ehr.version(): $out"

out=$(psql -X -q -d postgres -c "SELECT ehr.version()" -c "SECURITY LABEL FOR ehr ON COLUMN deid_np.note IS 'nonsense'" 2>&1)
echo "$out" | grep -q 'unknown de-identification class "nonsense"' \
    && ok "and checks labels there as when preloaded" || not_ok "label check: $out"

out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d postgres -c "SELECT ehr.version() IS NOT NULL" \
        -c "SECURITY LABEL FOR ehr ON COLUMN deid_np.id IS 'pseudonymize'" \
        -c "INSERT INTO deid_np VALUES ('11010519491231002X', 'x')" \
        -c "SELECT ehr.deidentify('deid_np')" -c "SELECT count(*) FROM ehr_deid.deid_np WHERE id ~ '^[a-z2-7]{26}\$'" 2>&1)
echo "$out" | tail -1 | grep -qx '1' \
    && ok "deidentify works when loaded on first use" || not_ok "deidentify: $out"
