-- Consent and authorization: every error path with its SQLSTATE and message, and
-- the rollback-proof attempt counter. Runs in a database of its own so the fixture
-- cannot collide with other suites.
CREATE DATABASE ehr_consent_regress;
\c ehr_consent_regress
SET client_min_messages = warning;
CREATE EXTENSION ehr;
\set ECHO none
\i test/pgtap/fixtures/consent_world.sql
\set ECHO all
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- ---------------------------------------------------------------- acting
-- Nobody is acting: no clinical row is visible to a gateway pool by itself.
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT ehr.current_practitioner(), ehr.current_institution(), ehr.current_resident();
SELECT count(*) FROM ehr.lab_result;
-- act_as outside a transaction block warns: it lasts only for that statement.
SELECT ehr.act_as(1);
SELECT ehr.current_practitioner();
BEGIN;
SELECT ehr.act_as(99);          -- no such practitioner
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET SESSION AUTHORIZATION;
UPDATE ehr.practitioner SET active = false WHERE id = 3;
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(3);           -- inactive
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET SESSION AUTHORIZATION;
UPDATE ehr.practitioner SET active = true WHERE id = 3;

-- The actor lasts until the end of the transaction, savepoints included.
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SAVEPOINT s;
SELECT ehr.act_as(2);
ROLLBACK TO SAVEPOINT s;
SELECT ehr.current_practitioner(), ehr.current_institution();
SELECT id, institution FROM ehr.lab_result ORDER BY id;
COMMIT;
SELECT ehr.current_practitioner();
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT ehr.current_practitioner(), ehr.current_resident();
SELECT id, category FROM ehr.lab_result ORDER BY id;
SELECT id, category FROM ehr.document ORDER BY id;
COMMIT;

-- Nobody else can choose the actor.
SET SESSION AUTHORIZATION ehr_t_plain;
SELECT ehr.act_as(1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.act_as_resident('621226198001011236');
SET ehr.actor = 'p:1:12620102438000461G';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT set_config('ehr.actor', 'p:1:12620102438000461G', true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ehr.actor;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- SET ROLE does not change who is acting: the db_role mapping follows the session user.
RESET SESSION AUTHORIZATION;
GRANT ehr_t_zhao TO ehr_t_plain;
SET SESSION AUTHORIZATION ehr_t_plain;
SET ROLE ehr_t_zhao;
SELECT current_user, ehr.current_practitioner();
RESET ROLE;
RESET SESSION AUTHORIZATION;
REVOKE ehr_t_zhao FROM ehr_t_plain;
-- The mapped role itself acts without act_as.
SET SESSION AUTHORIZATION ehr_t_zhao;
SELECT ehr.current_practitioner(), ehr.current_institution();
SELECT id, institution FROM ehr.lab_result ORDER BY id;
RESET SESSION AUTHORIZATION;
-- Even a superuser's bad value is refused.
SET ehr.actor = 'practitioner 1';
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------- requesting
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT ehr.request_access('621226198001011236');            -- nobody acting
\echo SQLSTATE :LAST_ERROR_SQLSTATE
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('621226198001011236', '{}');      -- no category
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('11010519491231002X');            -- not registered
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('621226195507120014');            -- no phone
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('621226198001011236', '{lab,lab,exam}') AS req1;
COMMIT;
RESET SESSION AUTHORIZATION;
-- Only ehr_notifier reads the outbox; the message names who asks, what and the code.
SELECT id, resident, phone, request,
       regexp_replace(message, '[0-9]{6}，[0-9]{2}:[0-9]{2}', '<code>，<time>') AS message
  FROM ehr.notification ORDER BY id;
SELECT categories, length(code_hash) AS mac_bytes, expires_at - created_at AS ttl FROM ehr.access_request;
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT * FROM ehr.notification;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT code_hash FROM ehr.access_request;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SELECT substring(message FROM '([0-9]{6})，') AS code1 FROM ehr.notification WHERE request = 1 \gset

-- ---------------------------------------------------------------- confirming: error paths
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(42, '123456');                     -- no such request
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(2);
SELECT ehr.confirm_access(1, :'code1');                      -- another practitioner
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
-- Wrong codes count even though each attempt is rolled back...
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(1, '000000');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
-- ...or undone by a savepoint...
BEGIN;
SELECT ehr.act_as(1);
SAVEPOINT a;
SELECT ehr.confirm_access(1, '000001');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT a;
SAVEPOINT b;
SELECT ehr.confirm_access(1, '000002');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT b;
COMMIT;
-- ...or swallowed by an exception block.
BEGIN;
SELECT ehr.act_as(1);
DO $$
BEGIN
    PERFORM ehr.confirm_access(1, '000003');
EXCEPTION WHEN invalid_authorization_specification THEN
    RAISE NOTICE 'swallowed: %', SQLERRM;
END
$$;
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT ehr.code_attempts(1);
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(1, '000004');                      -- the fifth: locks
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(1, :'code1') IS NOT NULL AS granted;  -- right code, too late
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS grants FROM ehr.access_grant;

-- Limits: open requests per resident, then requests per hour.
SET ehr.max_open_requests = 2;
SET ehr.max_requests_per_hour = 3;
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('621226198001011236', '{lab}') AS req2;
COMMIT;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('621226198001011236', '{lab}');     -- third open one
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('621226201005050042', '{emr}') AS req3;
COMMIT;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('620102199002150024', '{emr}');     -- fourth this hour
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET SESSION AUTHORIZATION;
RESET ehr.max_open_requests;
RESET ehr.max_requests_per_hour;
SELECT substring(message FROM '([0-9]{6})，') AS code2 FROM ehr.notification WHERE request = 2 \gset
SELECT substring(message FROM '([0-9]{6})，') AS code3 FROM ehr.notification WHERE request = 3 \gset

-- Expired: the clock is moved by editing the request (as superuser).
UPDATE ehr.access_request SET expires_at = now() - interval '1 second' WHERE id = 3;
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(3, :'code3');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
-- The right code: a grant, once.
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(2, :'code2');
SELECT ehr.confirm_access(2, :'code2');                      -- already used
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(2, :'code2') AS grant2 \gset
SELECT :grant2 AS grant2;
COMMIT;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(2, :'code2');                      -- already used
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT id, practitioner, institution, resident, categories, via, request, break_glass,
       expires_at - created_at AS ttl, ended_at IS NULL AS active
  FROM ehr.access_grant ORDER BY id;

-- ---------------------------------------------------------------- ending
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(2);
SELECT ehr.end_access(:grant2);                              -- not theirs
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.end_access(7);                                    -- no such grant
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT count(*) AS lab_rows_seen FROM ehr.lab_result;
SELECT ehr.end_access(:grant2);
SELECT count(*) AS lab_rows_seen FROM ehr.lab_result;
COMMIT;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.end_access(:grant2);                              -- already ended
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;

-- ---------------------------------------------------------------- break-glass
BEGIN;
SELECT ehr.act_as(3);
SELECT ehr.break_glass('621226198001011236', '   ');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(3);
SELECT ehr.break_glass(NULL, 'unconscious');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as(3);
SELECT ehr.break_glass('621226198001011236', '车祸昏迷，急诊抢救') AS bg \gset
SELECT :bg AS break_glass_grant;
SELECT id, category FROM ehr.document ORDER BY id;
COMMIT;
SELECT ehr.break_glass_review();                            -- ehr_admin only
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ehr_t_admin;
SELECT "grant", practitioner, resident, reason, expires_at - created_at AS ttl FROM ehr.break_glass_review();
SELECT ehr.review_break_glass(:bg, '已核实：急诊');
SELECT ehr.review_break_glass(:bg, 'again');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS waiting FROM ehr.break_glass_review();
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------- switches
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.set_sharing('621226198001011236', 'lab', false);  -- a doctor cannot
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as_resident('620102199002150024');
SELECT ehr.set_research_use('621226198001011236', false);    -- nor another resident
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT ehr.set_sharing('621226198001011236', 'emr', false);
SELECT ehr.set_research_use('621226198001011236', false);
COMMIT;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ehr_t_admin;
SELECT ehr.set_research_use('621226198001011236', true);     -- on the resident's behalf
RESET SESSION AUTHORIZATION;
SELECT resident, category, open FROM ehr.sharing;
SELECT resident, allowed FROM ehr.research_use;

-- ---------------------------------------------------------------- what was logged
SELECT id, event, actor_role, practitioner, institution, resident, category, origin, grant_id, request_id, detail
  FROM ehr.access_log ORDER BY id;
SELECT ehr.verify_access_log() AS first_broken;

\c contrib_regression
DROP DATABASE ehr_consent_regress;
