-- Electronic health card (电子健康卡): 赵建国 is issued his card; a registration terminal at
-- 兰州大学第二医院 scans the dynamic QR code on his phone; 李文静 (内分泌科) is authorized to
-- see his results from 礼县人民医院 by scanning that code instead of hearing an SMS code.
-- Builds on 10-platform.sql. See docs/health-card.md.
\set ON_ERROR_STOP on
\set SHOW_CONTEXT never
\pset footer off
SET search_path = "$user", public, ehr;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_terminal') THEN
        CREATE ROLE demo_terminal LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_app') THEN
        CREATE ROLE demo_app LOGIN;
    END IF;
END $$;
GRANT ehr_terminal TO demo_terminal;
-- the application server's pool role: acts as the patient or the doctor per transaction
GRANT ehr_gateway TO demo_app;
SELECT id AS zhao FROM resident WHERE name = '赵建国' \gset
SELECT id AS dr_li FROM practitioner WHERE licence = '110620100000101' \gset
SELECT org AS lixian FROM institution WHERE name = '礼县人民医院' \gset

\echo
\echo '== 赵建国 is issued his electronic health card (one per person, valid everywhere)'
SELECT issue_health_card(:'zhao') AS card \gset
SELECT card_id, resident, id_type, kind, status FROM health_card WHERE resident = :'zhao';

\echo
\echo '== The card ID is SM4 over his identity number (national derivation): a pseudonym under key custody'
SELECT health_card_owner(:'card') AS decrypted_back_to;
SELECT health_code_static(:'zhao') AS printed_on_the_card;

\echo
\echo '== His phone (through the app server, role demo_app in ehr_gateway) shows the dynamic QR code:'
\echo '   "<card ID>:2:<validity>", the validity block being the SM4-encrypted expiry; valid 60 s'
SET SESSION AUTHORIZATION demo_app;
BEGIN;
SELECT act_as_resident(:'zhao');
SELECT issue_health_code(:'zhao') AS code \gset
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT :'code' AS qr_payload;
SELECT kind, validity, expires_at - statement_timestamp() < interval '61 seconds' AS expires_within_a_minute
  FROM _health_code_parse(:'code');

\echo
\echo '== A registration terminal (member of ehr_terminal) scans it'
SET SESSION AUTHORIZATION demo_terminal;
SELECT resolve_health_code(:'code') AS scanned_resident;

\echo
\echo '== What the terminal is refused (each with its own error)'
\set ON_ERROR_STOP off
SELECT resolve_health_code('HELLO');
SELECT resolve_health_code(repeat('0', 64) || ':2:' || split_part(:'code', ':', 3));
SELECT resolve_health_code(split_part(:'code', ':', 1) || ':2:' ||
                           translate(split_part(:'code', ':', 3), '0123456789ABCDEF', '123456789ABCDEF0'));
SELECT resolve_health_code(split_part(:'code', ':', 1) || ':1');
\set ON_ERROR_STOP on
RESET SESSION AUTHORIZATION;

\echo
\echo '== Scan to authorize: 李文静 at 兰州大学第二医院 asks to see 赵建国''s lab results'
\echo '   (the app server acts as her; row-level security decides what she sees)'
SET SESSION AUTHORIZATION demo_app;
BEGIN;
SELECT act_as(:dr_li);
SELECT count(*) AS lab_reports_she_sees, count(*) FILTER (WHERE institution = :'lixian') AS from_lixian
  FROM lab_report WHERE resident = :'zhao';
SELECT request_access(:'zhao', '{lab}') AS req \gset
COMMIT;
\echo '   (an SMS code went to his phone as usual; he shows a fresh dynamic code instead)'
SELECT pg_sleep(1);  -- a new second: a new validity block
BEGIN;
SELECT act_as_resident(:'zhao');
SELECT issue_health_code(:'zhao') AS scan \gset
COMMIT;
BEGIN;
SELECT act_as(:dr_li);
SELECT confirm_access_by_health_code(:req, :'scan') AS grant_id;
SELECT count(*) AS lab_reports_she_sees, count(*) FILTER (WHERE institution = :'lixian') AS from_lixian
  FROM lab_report WHERE resident = :'zhao';
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT id, categories, via, request, expires_at - created_at AS lasts FROM access_grant WHERE request = :req;

\echo
\echo '== The same code cannot authorize a second time'
SET SESSION AUTHORIZATION demo_app;
BEGIN;
SELECT act_as(:dr_li);
SELECT request_access(:'zhao', '{exam}') AS req2 \gset
\set ON_ERROR_STOP off
SELECT confirm_access_by_health_code(:req2, :'scan');
\set ON_ERROR_STOP on
COMMIT;
RESET SESSION AUTHORIZATION;

\echo
\echo '== Every scan and authorization is in the hash-chained access log'
SELECT at::time(0) AS at, event, actor_role, practitioner, grant_id, request_id,
       regexp_replace(detail, 'card=([0-9A-F]{8})[0-9A-F]+', 'card=\1…') AS detail
  FROM access_log WHERE event LIKE 'card\_%' ORDER BY id;
SELECT verify_access_log() IS NULL AS log_intact;
