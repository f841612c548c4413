-- Mutual recognition (检查检验结果互认): catalogue, every rule, reason and note,
-- order_check, decisions and their error paths, statistics.
-- A database of its own, so identifiers printed in messages do not depend on
-- what other suites inserted.
CREATE DATABASE recog_regress;
\c recog_regress
CREATE EXTENSION ehr;
SET timezone = 'Asia/Shanghai';
SET client_min_messages = warning;
SET search_path = public, ehr;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- ---------------------------------------------------------------- LOINC check digit
SELECT c AS code, ehr.is_valid_loinc(c) AS valid
  FROM unnest(ARRAY['2345-7', '2345-6', '4548-4', '13457-7', '1-7', '0-0', '', '-7', '2345-',
                    '2345', '12345678-9', '2345--7', 'a345-7', '2345-x', ' 2345-7']) AS c;
SELECT ehr.is_valid_loinc(NULL) IS NULL AS strict;
-- the catalogue refuses a wrong check digit and an unknown scope
INSERT INTO ehr.lab_item (code, name, loinc, unit, price) VALUES ('BADLOINC', '错误', '2345-6', 'mmol/L', 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO ehr.lab_item (code, name, unit, price, scope) VALUES ('BADSCOPE', '错误', 'mmol/L', 1, 'county');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------- the Hubei example
SELECT ehr.load_hubei_windows() AS windows_added;
SELECT ehr.load_hubei_windows() AS windows_added_again;
SELECT w.item, i.name, w.valid_for
  FROM ehr.lab_item_window w JOIN ehr.lab_item i ON i.code = w.item
 WHERE w.region_prefix = '42' ORDER BY w.valid_for, w.item;
-- window prefixes are digits only, windows are positive
INSERT INTO ehr.lab_item_window VALUES ('42x', 'GLU', '1 day');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO ehr.lab_item_window VALUES ('62', 'GLU', '-1 day');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------- fixtures
SELECT date_trunc('second', now()) AS t \gset
SELECT s || ehr.org_code_check_char(s) AS lz2 FROM (SELECT '12620000438001204'::text AS s) x \gset
SELECT s || ehr.org_code_check_char(s) AS lx  FROM (SELECT '12621226438900113'::text AS s) x \gset
SELECT s || ehr.org_code_check_char(s) AS ts  FROM (SELECT '12620500438101058'::text AS s) x \gset
SELECT s || ehr.org_code_check_char(s) AS cd  FROM (SELECT '12510000450717628'::text AS s) x \gset
SELECT s || ehr.org_code_check_char(s) AS wh  FROM (SELECT '12420000441316008'::text AS s) x \gset
SELECT s || ehr.org_code_check_char(s) AS hb  FROM (SELECT '12420000441300152'::text AS s) x \gset
SELECT s || ehr.org_code_check_char(s) AS nowhere FROM (SELECT '12110000400000000'::text AS s) x \gset
SELECT s || ehr.resident_id_check_char(s) AS xin FROM (SELECT '62122619680312031'::text AS s) x \gset
SELECT s || ehr.resident_id_check_char(s) AS wang FROM (SELECT '62010219750601002'::text AS s) x \gset

INSERT INTO ehr.institution (org, name, level, region) VALUES
    (:'lz2', '兰州大学第二医院', 3, '620102'),
    (:'lx',  '礼县人民医院', 2, '621226'),
    (:'ts',  '天水市第一人民医院', 3, '620502'),
    (:'cd',  '四川省人民医院', 3, '510104'),
    (:'wh',  '武汉市中心医院', 3, '420102'),
    (:'hb',  '湖北省人民医院', 3, '420106');
INSERT INTO ehr.resident (id, name, address_region) VALUES
    (:'xin', '辛先生', '621226'), (:'wang', '王女士', '620102');
UPDATE ehr.resident SET phone = '13909390031' WHERE id = :'xin';
INSERT INTO ehr.lab_item (code, name, loinc, unit, molar_mass, price, scope) VALUES
    ('CRP', 'C反应蛋白', '1988-5', 'mg/L', NULL, 30, 'national'),
    ('HCY', '同型半胱氨酸', '13965-9', 'umol/L', 135.18, 40, 'alliance'),
    ('HBsAg', '乙肝表面抗原', '5196-1', NULL, NULL, 25, 'province');

-- Gansu (62): chemistry 30 days, HBA1C 60; Lanzhou (6201) keeps TG for 15 days only;
-- nationally ('') potassium 3 days (Hubei's own 7 days wins there); HCY 30 days in Gansu.
INSERT INTO ehr.lab_item_window (region_prefix, item, valid_for)
SELECT '62', c, interval '30 days' FROM unnest(ARRAY['GLU', 'TC', 'TG', 'HDLC', 'LDLC', 'TP', 'ALB', 'TBIL', 'HCY', 'HBsAg']) AS c
UNION ALL SELECT '62', 'HBA1C', interval '60 days'
UNION ALL SELECT '6201', 'TG', interval '15 days'
UNION ALL SELECT '', 'K', interval '3 days';

-- 礼县人民医院 holds 甘HR for the chemistry; for ALB it starts the day after the
-- collection, for TP it ended the day before.
INSERT INTO ehr.lab_qc (institution, item, valid, scope_region, mark)
SELECT :'lx', c, daterange((:'t'::timestamptz - interval '1 year')::date, NULL), '62', '甘HR'
  FROM unnest(ARRAY['GLU', 'TC', 'TG', 'HDLC', 'LDLC', 'TBIL', 'HBA1C', 'CRP', 'HBsAg']) AS c;
INSERT INTO ehr.lab_qc VALUES
    (:'lx', 'ALB', daterange((:'t'::timestamptz - interval '20 days')::date + 1, NULL), '62', '甘HR'),
    (:'lx', 'TP', daterange((:'t'::timestamptz - interval '1 year')::date,
                            (:'t'::timestamptz - interval '20 days')::date - 1, '[]'), '62', '甘HR'),
    (:'cd', 'GLU', daterange('2020-01-01', NULL), '51', '川HR'),
    (:'cd', 'HCY', daterange('2020-01-01', NULL), '51', '川HR'),
    (:'ts', 'HCY', daterange('2020-01-01', NULL), '6205', '天水HR'),
    (:'hb', 'K', daterange('2020-01-01', NULL), '42', '鄂HR');
INSERT INTO ehr.lab_qc VALUES (:'lx', 'GLU', 'empty', '62', '甘HR');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO ehr.lab_qc VALUES (:'lx', 'K', '[2020-01-01,)', 'Gansu', '甘HR');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- 兰大二院 and 天水一院 are one alliance (医联体); HCY is alliance-scoped.
INSERT INTO ehr.alliance (name) VALUES ('兰大二院医联体');
INSERT INTO ehr.alliance_member SELECT a.id, o FROM ehr.alliance a, unnest(ARRAY[:'lz2', :'ts']::ehr.org_code[]) AS o;

-- 兰大二院's local ranges: GLU as 礼县's, TC narrower, HDLC by sex and age.
INSERT INTO ehr.lab_refrange (institution, item, refrange, sex, ages) VALUES
    (:'lz2', 'GLU', '[3.9,6.1] mmol/L', NULL, NULL),
    (:'lz2', 'TC', '<5.2 mmol/L', NULL, NULL),
    (:'lz2', 'HDLC', '[1.16,1.42] mmol/L', 'male', '[18,)'),
    (:'lz2', 'HDLC', '[1.29,1.55] mmol/L', 'female', '[18,)');

-- One report with one result per call.
CREATE FUNCTION pg_temp.result(org ehr.org_code, who ehr.resident_id, item text, v text, rr text,
                               collected timestamptz, status text DEFAULT 'final')
RETURNS bigint LANGUAGE sql AS $$
    WITH r AS (
        INSERT INTO ehr.lab_report (resident, institution, collected_at, reported_at, status)
        VALUES (who, org, collected, collected + interval '2 hours', status) RETURNING id)
    INSERT INTO ehr.lab_result (report, resident, institution, item, value, refrange, collected_at)
    SELECT r.id, who, org, item, v::ehr.labvalue, rr::ehr.refrange, collected FROM r
    RETURNING id
$$;

SELECT pg_temp.result(:'lx', :'xin', 'GLU', '7.8 mmol/L', '[3.9,6.1] mmol/L', :'t'::timestamptz - interval '20 days') AS r_glu \gset
SELECT pg_temp.result(:'lx', :'xin', 'TC', '5.6 mmol/L', '[2.8,5.17] mmol/L', :'t'::timestamptz - interval '20 days') AS r_tc \gset
SELECT pg_temp.result(:'lx', :'xin', 'TG', '2.1 mmol/L', '<1.7 mmol/L', :'t'::timestamptz - interval '20 days') AS r_tg \gset
SELECT pg_temp.result(:'lx', :'xin', 'HDLC', '50 mg/dL', NULL, :'t'::timestamptz - interval '20 days') AS r_hdl \gset
SELECT pg_temp.result(:'lx', :'xin', 'LDLC', '3.4 mmol/L', '<3.4 mmol/L', :'t'::timestamptz - interval '20 days', 'preliminary') AS r_ldl \gset
SELECT pg_temp.result(:'lx', :'xin', 'CRP', '3 mg/L', '<10 mg/L', :'t'::timestamptz - interval '20 days') AS r_crp \gset
SELECT pg_temp.result(:'lx', :'xin', 'ALB', '42 g/L', '[40,55] g/L', :'t'::timestamptz - interval '20 days') AS r_alb \gset
SELECT pg_temp.result(:'lx', :'xin', 'TP', '70 g/L', '[65,85] g/L', :'t'::timestamptz - interval '20 days') AS r_tp \gset
SELECT pg_temp.result(:'lx', :'xin', 'HBA1C', '7.9 %', '[4,6] %', :'t'::timestamptz - interval '75 days') AS r_hba1c \gset
SELECT pg_temp.result(:'lx', :'xin', 'TBIL', '5.6 U/L', NULL, :'t'::timestamptz - interval '10 days') AS r_tbil \gset
SELECT pg_temp.result(:'cd', :'xin', 'GLU', '6.0 mmol/L', '[3.9,6.1] mmol/L', :'t'::timestamptz - interval '5 days') AS r_glu_cd \gset
SELECT pg_temp.result(:'lz2', :'xin', 'GLU', '7.1 mmol/L', '[3.9,6.1] mmol/L', :'t'::timestamptz - interval '3 days') AS r_glu_own \gset
SELECT pg_temp.result(:'ts', :'xin', 'HCY', '12 umol/L', '[5,15] umol/L', :'t'::timestamptz - interval '10 days') AS r_hcy_ts \gset
SELECT pg_temp.result(:'cd', :'xin', 'HCY', '13 umol/L', '[5,15] umol/L', :'t'::timestamptz - interval '10 days') AS r_hcy_cd \gset
-- a qualitative result: no value, no unit to convert
INSERT INTO ehr.lab_report (resident, institution, collected_at, reported_at, status)
VALUES (:'xin', :'lx', :'t'::timestamptz - interval '20 days', :'t'::timestamptz - interval '20 days', 'amended') RETURNING id AS rep \gset
INSERT INTO ehr.lab_result (report, resident, institution, item, value_text, collected_at)
VALUES (:rep, :'xin', :'lx', 'HBsAg', '阴性', :'t'::timestamptz - interval '20 days');
SELECT pg_temp.result(:'hb', :'xin', 'K', '4.1 mmol/L', '[3.5,5.3] mmol/L', :'t'::timestamptz - interval '5 days') AS r_k \gset

-- ---------------------------------------------------------------- every verdict
-- At 兰州大学第二医院 (620102), now.
SELECT c.item, i.name AS institution, c.age, c.status, c.value, c.converted, c.verdict,
       c.reason, c.notes, c.mark, c.valid_until - c.collected_at AS recognizable_for, c.fee
  FROM ehr.recognition_candidates(:'xin', ARRAY['GLU', 'TC', 'TG', 'HDLC', 'LDLC', 'CRP', 'ALB',
                                                'TP', 'HBA1C', 'TBIL', 'HCY', 'K', 'HBsAg'], :'lz2', :'t') c
  JOIN ehr.institution i ON i.org = c.institution
 ORDER BY c.item, c.collected_at DESC;

-- the window boundary: exactly 30 days after collection still valid, one second later expired
SELECT verdict, reason FROM ehr.recognizable_results(:'xin', 'GLU', :'lz2', :'t'::timestamptz + interval '10 days')
 WHERE result = :r_glu;
SELECT verdict, reason FROM ehr.recognizable_results(:'xin', 'GLU', :'lz2', :'t'::timestamptz + interval '10 days 1 second')
 WHERE result = :r_glu;

-- the most specific prefix wins: TG is 15 days in Lanzhou (6201) but 30 in the rest of Gansu (62)
SELECT i.name AS at, r.verdict, r.reason, r.valid_until - r.collected_at AS recognizable_for
  FROM (VALUES (:'lz2'::ehr.org_code), (:'ts')) AS q(org)
  JOIN ehr.institution i ON i.org = q.org,
       ehr.recognizable_results(:'xin', 'TG', q.org, :'t') r;

-- a regional window overrides the national one: potassium is 7 days in Hubei, 3 elsewhere
SELECT i.name AS at, r.verdict, r.reason, r.mark, r.valid_until - r.collected_at AS recognizable_for
  FROM (VALUES (:'wh'::ehr.org_code), (:'lz2')) AS q(org)
  JOIN ehr.institution i ON i.org = q.org,
       ehr.recognizable_results(:'xin', 'K', q.org, :'t') r;

-- reference ranges: the issuer's range is shown beside the local one, never converted
SELECT item, refrange, local_refrange, notes
  FROM ehr.recognition_candidates(:'xin', ARRAY['GLU', 'TC', 'HDLC'], :'lz2', :'t')
 WHERE institution = :'lx';

-- a resident with no results, an empty order
SELECT count(*) FROM ehr.recognizable_results(:'wang', 'GLU', :'lz2', :'t');
SELECT count(*) FROM ehr.order_check(:'xin', '{}', :'lz2', :'t');

-- ---------------------------------------------------------------- order_check: the pop-up
SELECT item, item_name, recognizable, institution_name, mark, age, value, converted, notes, reason, fee_saved
  FROM ehr.order_check(:'xin', ARRAY['GLU', 'TC', 'HDLC', 'HBA1C', 'TG', 'HCY', 'CRP', 'ALB', 'GLU'], :'lz2', :'t');
SELECT sum(fee_saved) AS saved, count(*) FILTER (WHERE NOT recognizable) AS to_test
  FROM ehr.order_check(:'xin', ARRAY['GLU', 'TC', 'HDLC', 'HBA1C'], :'lz2', :'t');

-- errors
SELECT * FROM ehr.order_check(:'xin', ARRAY['GLU', 'NOPE'], :'lz2', :'t');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ehr.order_check(:'xin', ARRAY['GLU', NULL], :'lz2', :'t');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ehr.order_check(:'xin', ARRAY['GLU'], :'nowhere', :'t');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ehr.order_check(:'xin', ARRAY['GLU'], NULL, :'t');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- NULL institution means the acting practitioner's, and the functions read as the
-- caller: without the patient's authorization a doctor of 兰大二院 sees only his
-- own hospital's results (row-level security), so 礼县's are never candidates.
INSERT INTO ehr.practitioner (institution, name, licence, db_role) VALUES (:'lz2', '李医生', '110620102000001', 'recog_doctor');
CREATE ROLE recog_doctor LOGIN IN ROLE ehr_clinician;
SET SESSION AUTHORIZATION recog_doctor;
SELECT item, recognizable, institution_name, reason FROM ehr.order_check(:'xin', ARRAY['GLU', 'TC'], NULL, :'t');
SELECT i.name AS institution, count(*) AS candidates
  FROM ehr.recognition_candidates(:'xin', ARRAY['GLU', 'TC', 'HCY', 'K'], NULL, :'t') c
  JOIN ehr.institution i ON i.org = c.institution GROUP BY i.name;
SELECT ehr.recognize(:r_glu, 1, true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- the patient authorizes (one-time code by SMS); now every hospital's lab results are candidates
SELECT ehr.request_access(:'xin', '{lab}') AS req \gset
RESET SESSION AUTHORIZATION;
SELECT substring(message FROM '([0-9]{6})，') AS code FROM ehr.notification WHERE request = :req \gset
SET SESSION AUTHORIZATION recog_doctor;
SELECT ehr.confirm_access(:req, :'code') > 0 AS authorized;
SELECT item, recognizable, institution_name, mark, fee_saved FROM ehr.order_check(:'xin', ARRAY['GLU', 'TC'], NULL, :'t');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------- decisions
INSERT INTO ehr.encounter (resident, institution, kind, started_at) VALUES (:'xin', :'lz2', 'outpatient', :'t') RETURNING id AS enc \gset
INSERT INTO ehr.encounter (resident, institution, kind, started_at) VALUES (:'wang', :'lz2', 'outpatient', :'t') RETURNING id AS enc_wang \gset

SELECT ehr.recognize(:r_glu, :enc, true) > 0 AS accepted_glu;
SELECT ehr.recognize(:r_tc, :enc, false, 'condition_changed') > 0 AS refused_tc;
-- refusals need a known reason, "other" a note
SELECT ehr.recognize(:r_hdl, :enc, false);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.recognize(:r_hdl, :enc, false, 'bored');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.recognize(:r_hdl, :enc, false, 'other');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.recognize(:r_hdl, :enc, false, 'other', '  ');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.recognize(:r_hdl, :enc, true, 'emergency');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.recognize(:r_hdl, :enc, NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- only recognizable results are decided
SELECT ehr.recognize(:r_hba1c, :enc, true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.recognize(:r_ldl, :enc, false, 'emergency');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.recognize(:r_glu_own, :enc, true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- the encounter is the patient's, both rows exist
SELECT ehr.recognize(:r_hdl, :enc_wang, true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.recognize(:r_hdl, 999999, true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ehr.recognize(999999, :enc, true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- one decision per result and encounter
SELECT ehr.recognize(:r_glu, :enc, true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a direct INSERT cannot forge the fee or the verdict
INSERT INTO ehr.recognition (result, encounter, accepted, fee_saved, verdict)
VALUES (:r_hdl, :enc, true, 1000, 'recognized') RETURNING item, verdict, notes, fee_saved;
SELECT r.item, r.accepted, r.reason, r.verdict, r.notes, r.fee_saved, s.name AS source, q.name AS at
  FROM ehr.recognition r JOIN ehr.institution s ON s.org = r.source JOIN ehr.institution q ON q.org = r.institution
 ORDER BY r.id;
-- every refusal reason is accepted (one encounter each)
CREATE TEMP TABLE encs AS
WITH e AS (INSERT INTO ehr.encounter (resident, institution, kind, started_at)
           SELECT :'xin', :'lz2', 'outpatient', :'t' FROM generate_series(1, 30) RETURNING id)
SELECT id, row_number() OVER (ORDER BY id) AS n FROM e;
SELECT r.reason, ehr.recognize(:r_glu, e.id, false, r.reason,
                               CASE WHEN r.reason = 'other' THEN '患者要求复查' END) > 0 AS recorded
  FROM unnest(ARRAY['condition_changed', 'rapid_change', 'major_procedure', 'emergency', 'appraisal',
                    'other', 'patient_request', 'qc_failed', 'too_old']) WITH ORDINALITY AS r(reason, n)
  JOIN encs e ON e.n = r.n
 ORDER BY r.n;
-- the clinician may record but not rewrite
SET SESSION AUTHORIZATION recog_doctor;
SELECT ehr.recognize(:r_hcy_ts, :enc, true) > 0 AS accepted_hcy;
UPDATE ehr.recognition SET fee_saved = 0;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM ehr.recognition;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------- statistics on a crafted month
-- history loaded as a replica (triggers off), dated May 2026
SET session_replication_role = replica;
INSERT INTO ehr.recognition (result, encounter, accepted, reason, resident, institution, source,
                             item, verdict, fee_saved, decided_at)
SELECT :r_glu, e.id, g <= 7, CASE WHEN g = 8 THEN 'emergency' WHEN g > 8 THEN 'condition_changed' END,
       :'xin', :'lz2', :'lx', 'GLU', 'recognized', CASE WHEN g <= 7 THEN 8 ELSE 0 END,
       timestamptz '2026-05-01 00:00+08' + (g || ' days')::interval
  FROM generate_series(1, 10) AS g JOIN encs e ON e.n = g + 10;
INSERT INTO ehr.recognition (result, encounter, accepted, reason, resident, institution, source,
                             item, verdict, fee_saved, decided_at)
SELECT :r_tc, e.id, g = 1, CASE WHEN g > 1 THEN 'too_old' END, :'xin', :'lz2', :'lx', 'TC',
       'recognized_with_note', CASE WHEN g = 1 THEN 10 ELSE 0 END, timestamptz '2026-05-31 23:59:59+08'
  FROM generate_series(1, 4) AS g JOIN encs e ON e.n = g + 20;
-- the first instant of June is outside May
INSERT INTO ehr.recognition (result, encounter, accepted, resident, institution, source, item, verdict, fee_saved, decided_at)
SELECT :r_glu, e.id, true, :'xin', :'lz2', :'lx', 'GLU', 'recognized', 8, timestamptz '2026-06-01 00:00:00+08'
  FROM encs e WHERE e.n = 25;
RESET session_replication_role;
-- GLU: 10 offered, 7 accepted, 1 emergency, 2 condition_changed, 70%, ¥56; TC: 4, 1, 3 too_old, 25%, ¥10
SELECT institution_name, item, item_name, offered, accepted, refused, refused_by_reason, acceptance_rate, fees_saved
  FROM ehr.recognition_stats(:'lz2', '[2026-05-01 00:00+08,2026-06-01 00:00+08)');
SELECT sum(offered) AS offered, sum(accepted) AS accepted, sum(fees_saved) AS saved
  FROM ehr.recognition_stats(NULL, '[2026-05-01 00:00+08,2026-06-01 00:00+08)');
SELECT count(*) AS other_institution FROM ehr.recognition_stats(:'lx');
-- PUBLIC may not run the statistics
CREATE ROLE recog_nobody LOGIN;
SET ROLE recog_nobody;
SELECT * FROM ehr.recognition_stats();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;

-- ---------------------------------------------------------------- catalogue objects are commented
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'ehr' AND c.relname IN ('lab_item_window', 'lab_qc', 'lab_refrange', 'alliance',
                                           'alliance_member', 'recognition')
   AND obj_description(c.oid, 'pg_class') IS NULL;

\c contrib_regression
DROP DATABASE recog_regress;
DROP ROLE recog_nobody;
DROP ROLE recog_doctor;
