-- Citus support is single-node neutral (docs/scale-out.md section 2): on one node
-- ehr.act_as sets no ehr.actor_token, and a token set by hand, even well formed,
-- names nobody (tokens are honoured only on the workers of a Citus cluster); the
-- recognition seal refuses what ehr.recognize did not seal.
CREATE DATABASE ehr_scale_citus_regress;
\c ehr_scale_citus_regress
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
SELECT ehr.current_practitioner() AS acting, current_setting('ehr.actor_token') = '' AS no_token;
COMMIT;
-- a forged token: nobody acts, nothing is visible
BEGIN;
SET LOCAL ehr.actor_token = 'p:1:12621226438400012C/9999999999/0000000000000000000000000000000000000000000000000000000000000000';
SELECT ehr.current_practitioner() IS NULL AS nobody, count(*) AS results_seen FROM ehr.lab_result;
COMMIT;
-- the token does not appear in SHOW ALL
SELECT count(*) AS listed FROM pg_settings WHERE name = 'ehr.actor_token';
-- the recognition seal (checked only by the trigger on a Citus shard): nothing is
-- sealed on one node, and a hand-set seal does not match
\set VERBOSITY default
SELECT ehr.recognition_seal_check('1|1|t|NULL|NULL|621226198001011236|12621226438400012C|12621226438400012C|''GLU''|recognized|''{}''|6.00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL ehr.recognition_seal = '0000000000000000000000000000000000000000000000000000000000000000';
SELECT ehr.recognition_seal_check('1|1|t|NULL|NULL|621226198001011236|12621226438400012C|12621226438400012C|''GLU''|recognized|''{}''|6.00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
\set VERBOSITY terse
RESET SESSION AUTHORIZATION;
\c contrib_regression
DROP DATABASE ehr_scale_citus_regress;
