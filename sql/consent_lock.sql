-- Failed attempts count where no rollback reaches: six wrong guesses, each rolled
-- back by ROLLBACK, by ROLLBACK TO SAVEPOINT, or swallowed by a PL/pgSQL exception
-- block, lock the request; the right code then fails.
CREATE DATABASE ehr_consent_lock_regress;
\c ehr_consent_lock_regress
SET client_min_messages = warning;
CREATE EXTENSION ehr;
\set ECHO none
\i test/pgtap/fixtures/consent_world.sql
\set ECHO all
RESET client_min_messages;
\set VERBOSITY terse
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('621226198001011236', '{lab}') AS r_rollback,
       ehr.request_access('621226198001011236', '{lab}') AS r_savepoint,
       ehr.request_access('621226198001011236', '{lab}') AS r_exception \gset
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT substring(message FROM '授权码([0-9]{6})') AS code_rollback FROM ehr.notification WHERE request = :r_rollback \gset
SELECT substring(message FROM '授权码([0-9]{6})') AS code_savepoint FROM ehr.notification WHERE request = :r_savepoint \gset
SELECT substring(message FROM '授权码([0-9]{6})') AS code_exception FROM ehr.notification WHERE request = :r_exception \gset
-- never a real code: the wrong guesses differ from it in the first digit
SELECT (substr(:'code_rollback', 1, 1)::int + 1) % 10 AS d1 \gset
SELECT (substr(:'code_savepoint', 1, 1)::int + 1) % 10 AS d2 \gset
SELECT (substr(:'code_exception', 1, 1)::int + 1) % 10 AS d3 \gset

SET SESSION AUTHORIZATION ehr_t_gateway;
-- 1. six times BEGIN ... ROLLBACK
BEGIN;
SELECT ehr.act_as(1) \gset
SELECT ehr.confirm_access(:r_rollback, :'d1' || '00001');
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1) \gset
SELECT ehr.confirm_access(:r_rollback, :'d1' || '00002');
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1) \gset
SELECT ehr.confirm_access(:r_rollback, :'d1' || '00003');
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1) \gset
SELECT ehr.confirm_access(:r_rollback, :'d1' || '00004');
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1) \gset
SELECT ehr.confirm_access(:r_rollback, :'d1' || '00005');
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1) \gset
SELECT ehr.confirm_access(:r_rollback, :'d1' || '00006');
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1) \gset
SELECT ehr.confirm_access(:r_rollback, :'code_rollback');
ROLLBACK;

-- 2. six savepoints rolled back in one transaction
BEGIN;
SELECT ehr.act_as(1) \gset
SAVEPOINT s; SELECT ehr.confirm_access(:r_savepoint, :'d2' || '00001'); ROLLBACK TO SAVEPOINT s;
SAVEPOINT s; SELECT ehr.confirm_access(:r_savepoint, :'d2' || '00002'); ROLLBACK TO SAVEPOINT s;
SAVEPOINT s; SELECT ehr.confirm_access(:r_savepoint, :'d2' || '00003'); ROLLBACK TO SAVEPOINT s;
SAVEPOINT s; SELECT ehr.confirm_access(:r_savepoint, :'d2' || '00004'); ROLLBACK TO SAVEPOINT s;
SAVEPOINT s; SELECT ehr.confirm_access(:r_savepoint, :'d2' || '00005'); ROLLBACK TO SAVEPOINT s;
SAVEPOINT s; SELECT ehr.confirm_access(:r_savepoint, :'d2' || '00006'); ROLLBACK TO SAVEPOINT s;
SELECT ehr.confirm_access(:r_savepoint, :'code_savepoint');
ROLLBACK;

-- 3. six guesses swallowed by an exception block, then the right code
BEGIN;
SELECT ehr.act_as(1) \gset
SELECT set_config('my.req', :'r_exception', true) IS NOT NULL AS ok, set_config('my.d', :'d3', true) IS NOT NULL AS ok;
DO $$
DECLARE
    i int;
BEGIN
    FOR i IN 1 .. 6 LOOP
        BEGIN
            PERFORM ehr.confirm_access(current_setting('my.req')::bigint, current_setting('my.d') || '0000' || i);
        EXCEPTION WHEN invalid_authorization_specification THEN
            RAISE NOTICE 'guess %: %', i, SQLERRM;
        END;
    END LOOP;
END
$$;
SELECT ehr.confirm_access(:r_exception, :'code_exception');
ROLLBACK;
RESET SESSION AUTHORIZATION;

SELECT count(*) AS grants FROM ehr.access_grant;
SELECT ehr.code_attempts(:r_rollback) AS rollback_attempts, ehr.code_attempts(:r_savepoint) AS savepoint_attempts,
       ehr.code_attempts(:r_exception) AS exception_attempts;

-- Every failure reaches the access log once some transaction of this database writes it.
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236') \gset
SELECT count(*) AS own_results FROM ehr.lab_result;
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT request_id, event, count(*) FROM ehr.access_log
 WHERE event IN ('confirm_failed', 'locked') GROUP BY 1, 2 ORDER BY 1, 2;
SELECT ehr.verify_access_log() AS first_broken;

\c contrib_regression
DROP DATABASE ehr_consent_lock_regress;
