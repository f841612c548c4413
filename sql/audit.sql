-- The access log: append-only, hash-chained, reads written at commit or logged
-- as "ehr audit:" lines where no row can be written; tamper detection.
CREATE DATABASE ehr_audit_regress;
\c ehr_audit_regress
SET client_min_messages = warning;
CREATE EXTENSION ehr;
\set ECHO none
\i test/pgtap/fixtures/consent_world.sql
\set ECHO all
RESET client_min_messages;
\set SHOW_CONTEXT never

-- An empty log verifies.
SELECT ehr.verify_access_log() AS first_broken;

-- A resident reads their own records: one row per (category, origin), at commit,
-- however many rows and queries.
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT count(*) FROM ehr.lab_result;
SELECT count(*) FROM ehr.lab_result;
SELECT count(*) FROM ehr.lab_report;
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT id, event, resident, category, origin, grant_id, detail FROM ehr.access_log ORDER BY id;

-- Where no row can be written the read goes to the server log (shown here by
-- raising client_min_messages): a read-only transaction...
SET SESSION AUTHORIZATION ehr_t_gateway;
SET client_min_messages = log;
BEGIN READ ONLY;
SELECT ehr.act_as_resident('621226198001011236');
SELECT count(*) FROM ehr.document;
COMMIT;
-- ...and a rolled-back one.
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT count(*) FROM ehr.lab_result WHERE category = 'exam';
ROLLBACK;
RESET client_min_messages;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS rows_after_readonly_and_rollback FROM ehr.access_log;

-- A practitioner's reads of their own institution are not cross-institution: no row.
SET SESSION AUTHORIZATION ehr_t_zhao;
SELECT count(*) FROM ehr.lab_result;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS rows_after_own_institution FROM ehr.access_log;

-- The documents, this time committed: two more rows.
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT title FROM ehr.document ORDER BY id;
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT id, event, category, detail FROM ehr.access_log ORDER BY id;

-- Append-only: no privilege, and a trigger that refuses even the owner.
SET SESSION AUTHORIZATION ehr_t_admin;
SELECT count(*) > 0 AS admin_reads_log FROM ehr.access_log;
DELETE FROM ehr.access_log;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO ehr.access_log (id, at, event, actor_role, prev_hash, hash) VALUES (99, now(), 'x', 'x', '', '');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.verify_access_log() AS first_broken;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT * FROM ehr.access_log;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr._audit('read', 1, NULL, NULL, NULL, NULL, NULL, NULL, 'forged');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.verify_access_log();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
UPDATE ehr.access_log SET detail = 'edited' WHERE id = 2;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM ehr.access_log WHERE id = 2;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
TRUNCATE ehr.access_log;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- Maintenance mode is a superuser setting.
SET SESSION AUTHORIZATION ehr_t_admin;
SET ehr.access_log_maintenance = on;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;

-- Tamper: a superuser edits row 2 in maintenance mode; verification names it.
SELECT ehr.verify_access_log() AS first_broken;
SET ehr.access_log_maintenance = on;
UPDATE ehr.access_log SET origin = '126201024380009923' WHERE id = 2;
RESET ehr.access_log_maintenance;
SELECT ehr.verify_access_log() AS first_broken;
-- Putting the original value back mends the chain: the hash covers the content.
SET ehr.access_log_maintenance = on;
UPDATE ehr.access_log SET origin = '12621226438400012C' WHERE id = 2;
RESET ehr.access_log_maintenance;
SELECT ehr.verify_access_log() AS first_broken;
-- Deleting a row breaks the link of the row after it.
SET ehr.access_log_maintenance = on;
DELETE FROM ehr.access_log WHERE id = 2;
RESET ehr.access_log_maintenance;
SELECT ehr.verify_access_log() AS first_broken;

-- Each chained row's hash has SM3's length and links to the previous row.
SELECT id, length(hash) AS hash_bytes,
       prev_hash = coalesce(lag(hash) OVER (ORDER BY id), '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) AS linked
  FROM ehr.access_log ORDER BY id;

\c contrib_regression
DROP DATABASE ehr_audit_regress;
