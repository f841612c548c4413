-- 患者知情、授权调阅: 李文静 at 兰州大学第二医院 sees 赵建国 in clinic and wants the
-- results 礼县人民医院 holds. Row-level security hides them until 赵建国 reads the
-- one-time code from his phone to her; she confirms it, reads, and closes the record
-- (一次就医、一次授权). Every step lands in the hash-chained access log.
-- The hospital's application connects as a pool role in ehr_gateway and names the
-- acting doctor with ehr.act_as in each transaction. (Built on 10-platform.sql.)
\set ON_ERROR_STOP on
\pset footer off
SET search_path = "$user", public, ehr;

SELECT id AS dr_li FROM practitioner WHERE licence = '110620100000101' \gset
SELECT id AS zhao FROM resident WHERE name = '赵建国' \gset
SELECT org AS lixian FROM institution WHERE name = '礼县人民医院' \gset
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lzu2_app') THEN
        CREATE ROLE lzu2_app LOGIN IN ROLE ehr_gateway;   -- the hospital system's pool
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sms_gateway') THEN
        CREATE ROLE sms_gateway LOGIN IN ROLE ehr_notifier;
    END IF;
END $$;

\echo
\echo '== 1. 李文静 opens 赵建国''s chart: only her own hospital''s results are visible'
SET SESSION AUTHORIZATION lzu2_app;
BEGIN;
SELECT act_as(:dr_li);
SELECT current_practitioner() AS acting, (SELECT name FROM institution WHERE org = current_institution()) AS at;
SELECT to_char(r.collected_at, 'YYYY-MM-DD') AS collected, inst.name AS held_by, r.item,
       coalesce(r.value::text, r.value_text) AS result
  FROM lab_result r JOIN institution inst ON inst.org = r.institution
 WHERE r.resident = :'zhao' ORDER BY r.collected_at, r.item;

\echo
\echo '== 2. She asks for his lab and exam results: a one-time code goes to his phone'
SELECT request_access(:'zhao', '{lab,exam}') AS req \gset
COMMIT;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION sms_gateway;
-- the SMS gateway (LISTEN ehr_notification) reads the outbox and sends the text
SELECT id, phone, message FROM notification WHERE request = :req;
SELECT substring(message FROM '授权码([0-9]{6})') AS code FROM notification WHERE request = :req \gset
UPDATE notification SET sent_at = now() WHERE request = :req;
RESET SESSION AUTHORIZATION;

\echo
\echo '== 3. 赵建国 reads the code to her; a mistyped code first, then the right one'
SET SESSION AUTHORIZATION lzu2_app;
BEGIN;
SELECT act_as(:dr_li);
SAVEPOINT typo;
\set ON_ERROR_STOP off
SELECT confirm_access(:req, '000000');
\set ON_ERROR_STOP on
ROLLBACK TO SAVEPOINT typo;
SELECT confirm_access(:req, :'code') AS grant_id \gset
\echo 'grant' :grant_id

\echo
\echo '== 4. Now the chart shows 礼县人民医院''s results as well (and the read is logged at commit)'
SELECT to_char(r.collected_at, 'YYYY-MM-DD') AS collected, inst.name AS held_by, r.item,
       coalesce(r.value::text, r.value_text) AS result, interpret(r.value, r.refrange) AS flag
  FROM lab_result r JOIN institution inst ON inst.org = r.institution
 WHERE r.resident = :'zhao' ORDER BY r.collected_at, r.item;
-- documents were not in the request: 礼县's EMR notes stay hidden
SELECT d.title, inst.name AS held_by FROM document d JOIN institution inst ON inst.org = d.institution
 WHERE d.resident = :'zhao' ORDER BY d.created_at;
COMMIT;

\echo
\echo '== 5. The visit is over: she closes the record; 礼县''s results disappear again'
BEGIN;
SELECT act_as(:dr_li);
SELECT end_access(:grant_id);
SELECT count(*) FILTER (WHERE institution = :'lixian') AS lixian_results_visible, count(*) AS all_visible
  FROM lab_result WHERE resident = :'zhao';
COMMIT;
RESET SESSION AUTHORIZATION;

\echo
\echo '== 6. The access log: every step, hash-chained (SM3); verify_access_log() finds no broken link'
SELECT l.id, to_char(l.at, 'HH24:MI:SS') AS at, l.event, p.name AS practitioner, l.category,
       i.name AS origin, l.grant_id, l.request_id, l.detail
  FROM access_log l LEFT JOIN practitioner p ON p.id = l.practitioner
  LEFT JOIN institution i ON i.org = l.origin
 WHERE l.resident = :'zhao' ORDER BY l.id;
SELECT verify_access_log() AS first_broken_link,
       (SELECT encode(hash, 'hex') FROM access_log ORDER BY id DESC LIMIT 1) AS chain_head;
