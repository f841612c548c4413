-- Consent scenarios: who sees which clinical rows, through the whole flow
-- (request, code, confirm, read, end), sharing switches, break-glass, the
-- resident's own view, and the access log that records it.
\set ON_ERROR_STOP 1
\set QUIET 1
SET search_path = public, ehr;
SET client_min_messages = warning;
\i test/pgtap/fixtures/consent_world.sql
RESET client_min_messages;

-- ids of the rows of a clinical table the current role and actor may see
CREATE FUNCTION pg_temp.seen(tbl text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id)::text, ''{}'') FROM ehr.%I', tbl) INTO r;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.code_of(req bigint) RETURNS text LANGUAGE sql AS $$
    SELECT substring(message FROM '授权码([0-9]{6})') FROM ehr.notification WHERE request = req $$;

SELECT plan(41);

-- ------------------------------------------------------------ own institution only
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT is(pg_temp.seen('lab_result'), '{4}', 'doctor at A sees the lab results of A only');
SELECT is(pg_temp.seen('lab_report'), '{3}', '... the lab reports of A only');
SELECT is(pg_temp.seen('encounter'), '{2}', '... the encounters of A only');
SELECT is(pg_temp.seen('document'), '{}', '... no document (A wrote none)');
SELECT is((SELECT array_agg(id::text ORDER BY id)::text FROM ehr.resident), '{620102199002150024}',
          '... and only the residents A holds records of');
COMMIT;

-- ------------------------------------------------------------ request, confirm, read
BEGIN;
SELECT ehr.act_as(1);
SELECT is((SELECT count(*) FROM ehr.lab_result WHERE resident = '621226198001011236'), 0::bigint,
          'doctor at A sees nothing of R1 (records held by B) before consent');
SELECT ehr.request_access('621226198001011236', '{lab,emr}') AS req \gset
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*) FROM ehr.notification WHERE request = :req AND phone = '13800000001'), 1::bigint,
          'the code is queued for R1''s phone');
SELECT ok((SELECT message FROM ehr.notification WHERE request = :req) ~ '兰州大学第二医院.*张伟.*检验、电子病历',
          'the message names the institution, the doctor and the categories');
SELECT pg_temp.code_of(:req) AS code \gset
SELECT ok(:'code' ~ '^[0-9]{6}$', 'the code has six digits');
SELECT isnt((SELECT code_hash FROM ehr.access_request WHERE id = :req), ehr._code_hash(:req, '000000'),
            'only a keyed hash of the code is stored');

SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access(:req, :'code') AS g \gset
SELECT is(pg_temp.seen('lab_result'), '{1,2,4}', 'after consent: R1''s lab results (not the exam result 3)');
SELECT is(pg_temp.seen('lab_report'), '{1,3}', '... R1''s lab report (not the exam report 2)');
SELECT is(pg_temp.seen('document'), '{1}', '... R1''s EMR document (not the archive document 2)');
SELECT is(pg_temp.seen('encounter'), '{1,2}', '... R1''s encounter (category emr)');
SELECT is((SELECT count(*) FROM ehr.resident WHERE id = '621226198001011236'), 1::bigint,
          '... and R1''s demographics');
COMMIT;

-- ------------------------------------------------------------ a closed switch
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT ehr.set_sharing('621226198001011236', 'emr', false);
COMMIT;
BEGIN;
SELECT ehr.act_as(1);
SELECT is(pg_temp.seen('document'), '{}', 'R1 closes EMR sharing: the granted EMR document disappears');
SELECT is(pg_temp.seen('encounter'), '{2}', '... and so does the encounter');
SELECT is(pg_temp.seen('lab_result'), '{1,2,4}', '... while the lab results stay');
COMMIT;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT ehr.set_sharing('621226198001011236', 'emr', true);
COMMIT;
BEGIN;
SELECT ehr.act_as(1);
SELECT is(pg_temp.seen('document'), '{1}', 'reopened: the EMR document is visible again');
COMMIT;

-- ------------------------------------------------------------ the doctor closes the record
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.end_access(:g);
SELECT is(pg_temp.seen('lab_result'), '{4}', 'end_access: R1''s results are hidden at once');
SELECT is(pg_temp.seen('document'), '{}', '... and the document');
COMMIT;
BEGIN;
SELECT ehr.act_as(1);
SELECT is(pg_temp.seen('lab_result'), '{4}', 'and stay hidden in later transactions');
COMMIT;

-- ------------------------------------------------------------ another doctor, same grant? no
BEGIN;
SELECT ehr.act_as(4);
SELECT is(pg_temp.seen('lab_result'), '{4}', 'a colleague at A never saw R1''s results (grants are personal)');
COMMIT;

-- ------------------------------------------------------------ break-glass
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT ehr.set_sharing('621226198001011236', 'archive', false);
COMMIT;
BEGIN;
SELECT ehr.act_as(3);
SELECT is(pg_temp.seen('document'), '{3}', 'doctor at C sees only C''s document');
SELECT ehr.break_glass('621226198001011236', '车祸昏迷，急诊抢救') AS bg \gset
SELECT is(pg_temp.seen('document'), '{1,2,3}', 'break-glass shows every category, the closed archive included');
SELECT is(pg_temp.seen('lab_result'), '{1,2,3}', '... all of R1''s results, exam too');
COMMIT;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ehr_t_admin;
SELECT is((SELECT array_agg("grant")::text FROM ehr.break_glass_review()), format('{%s}', :bg),
          'break-glass is listed for review');
SELECT ehr.review_break_glass(:bg, '核实：急诊抢救');
SELECT is((SELECT count(*) FROM ehr.break_glass_review()), 0::bigint, 'reviewed: the list is empty');
RESET SESSION AUTHORIZATION;

-- ------------------------------------------------------------ the resident's own view
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT is(pg_temp.seen('lab_result'), '{1,2,3}', 'R1 sees all their own results');
SELECT is(pg_temp.seen('document'), '{1,2}', '... all their own documents, whatever the switches');
SELECT is((SELECT array_agg(id::text)::text FROM ehr.resident), '{621226198001011236}', '... and only their own demographics');
COMMIT;
BEGIN;
SELECT ehr.act_as_resident('620102199002150024');
SELECT is(pg_temp.seen('lab_result'), '{4}', 'R2 sees only R2''s result');
COMMIT;
RESET SESSION AUTHORIZATION;

-- ------------------------------------------------------------ the mapped role
SET SESSION AUTHORIZATION ehr_t_zhao;
SELECT is(pg_temp.seen('lab_result'), '{4}', 'a practitioner''s own login role acts without act_as');
RESET SESSION AUTHORIZATION;

-- ------------------------------------------------------------ what the log shows
SELECT is(ehr.verify_access_log(), NULL, 'the access log verifies');
SELECT is((SELECT array_agg(event ORDER BY id)::text FROM ehr.access_log
            WHERE request_id = :req OR grant_id = :g),
          '{request,code_sent,confirm_ok,read,read,read,read,grant_end}',
          'request, code_sent, confirm_ok, the reads and grant_end are logged for the grant');
SELECT is((SELECT array_agg(DISTINCT category::text ORDER BY category::text)::text FROM ehr.access_log
            WHERE event = 'read' AND grant_id = :g),
          '{emr,lab}', 'reads through the grant: lab and emr, once per transaction and origin');
SELECT is((SELECT count(*) FROM ehr.access_log WHERE event = 'read' AND grant_id = :g AND category = 'lab'), 2::bigint,
          'two transactions read lab rows through the grant: two lab read rows');
SELECT is((SELECT count(*) FROM ehr.access_log WHERE event = 'read' AND grant_id = :bg), 4::bigint,
          'break-glass reads: four categories');
SELECT is((SELECT array_agg(event ORDER BY id)::text FROM ehr.access_log WHERE event LIKE 'sharing%'),
          '{sharing_changed,sharing_changed,sharing_changed}', 'every switch change is logged');
SELECT is((SELECT count(*) FROM ehr.access_log WHERE event = 'read' AND practitioner IS NULL
            AND resident = '621226198001011236'), 4::bigint, 'the resident''s own reads are logged too');
SELECT is((SELECT count(*) FROM ehr.access_log WHERE event = 'read' AND practitioner = 4), 0::bigint,
          'own-institution reads are not logged');

SELECT * FROM finish();
