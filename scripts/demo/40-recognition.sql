-- Mutual recognition of lab results (检查检验结果互认), on the platform of 10-platform.sql.
-- 辛先生, a diabetic patient from 礼县, had his biochemistry done at 礼县人民医院 five days
-- ago and his HbA1c there 75 days ago. Today he sees 李文静 (内分泌科) at 兰州大学第二医院.
-- She orders the usual diabetic panel; the pop-up shows which results she can reuse,
-- she accepts them, and only HbA1c is drawn again.
\set ON_ERROR_STOP on
\pset footer off
SET search_path = "$user", public, ehr;
SET timezone = 'Asia/Shanghai';

\echo
\echo '== The catalogue: LOINC check digits are verified, each item has a recognition scope'
SELECT ehr.is_valid_loinc('2345-7') AS "2345-7", ehr.is_valid_loinc('2345-6') AS "2345-6";
-- the rest of a biochemistry panel (生化全项), typical Gansu fees in CNY
INSERT INTO lab_item (code, name, kind, loinc, unit, molar_mass, price) VALUES
    ('GGT',   'γ-谷氨酰转移酶', 'lab', '2324-2',  'U/L',    NULL,   5.00),
    ('ALP',   '碱性磷酸酶',     'lab', '6768-6',  'U/L',    NULL,   5.00),
    ('CYSC',  '胱抑素C',        'lab', '33863-2', 'mg/L',   NULL,  30.00),
    ('APOA1', '载脂蛋白A1',     'lab', '1869-7',  'g/L',    NULL,  15.00),
    ('APOB',  '载脂蛋白B',      'lab', '1884-6',  'g/L',    NULL,  15.00),
    ('LPA',   '脂蛋白(a)',      'lab', '10835-7', 'mg/L',   NULL,  25.00),
    ('HCY',   '同型半胱氨酸',   'lab', '13965-9', 'umol/L', 135.18, 40.00);

\echo
\echo '== Validity windows are regional. The published Hubei example ships with ehr (prefix 42):'
SELECT ehr.load_hubei_windows() AS hubei_windows_loaded;
SELECT valid_for, string_agg(item, ' ' ORDER BY item) AS items
  FROM lab_item_window WHERE region_prefix = '42' GROUP BY valid_for ORDER BY valid_for;
\echo 'Gansu (62) sets its own: chemistry 30 days, electrolytes 7, HbA1c 60.'
INSERT INTO lab_item_window (region_prefix, item, valid_for)
SELECT '62', code, CASE WHEN code IN ('K', 'NA', 'CL', 'CA', 'MG') THEN interval '7 days'
                        WHEN code = 'HBA1C' THEN interval '60 days' ELSE interval '30 days' END
  FROM lab_item WHERE kind = 'lab' AND code <> 'HBSAG';

\echo
\echo '== External quality assessment (室间质评): both hospitals hold the provincial mark 甘HR'
INSERT INTO lab_qc (institution, item, valid, scope_region, mark)
SELECT i.org, w.item, daterange(date_trunc('year', now())::date, (date_trunc('year', now()) + interval '2 years')::date),
       '62', '甘HR'
  FROM institution i, lab_item_window w WHERE w.region_prefix = '62';
SELECT n.name AS institution, q.mark, q.scope_region, q.valid, count(*) AS items
  FROM lab_qc q JOIN institution n ON n.org = q.institution GROUP BY 1, 2, 3, 4 ORDER BY 1;
-- 兰大二院's local range for triglycerides differs from what 礼县 prints
INSERT INTO lab_refrange (institution, item, refrange)
SELECT org, 'TG', '[0.56,1.70] mmol/L' FROM institution WHERE name = '兰州大学第二医院';

\echo
\echo '== 辛先生 and his results at 礼县人民医院'
SELECT org AS lzu2 FROM institution WHERE name = '兰州大学第二医院' \gset
SELECT org AS lixian FROM institution WHERE name = '礼县人民医院' \gset
SELECT id AS dr_li FROM practitioner WHERE name = '李文静' \gset
SELECT b || resident_id_check_char(b) AS xin FROM (SELECT '62122619680312031'::text AS b) s \gset
INSERT INTO resident (id, name, phone, address_region, institution)
VALUES (:'xin', '辛先生', '13909390031', '621226', :'lixian');
INSERT INTO encounter (resident, institution, practitioner, kind, started_at, ended_at)
SELECT :'xin', :'lixian', p.id, 'outpatient', t, t + interval '1 hour'
  FROM practitioner p, (VALUES (date_trunc('day', now()) - interval '75 days' + interval '8 hours'),
                               (date_trunc('day', now()) - interval '5 days' + interval '8 hours')) AS v(t)
 WHERE p.name = '王建军';
INSERT INTO lab_report (resident, institution, encounter, collected_at, reported_at, status)
SELECT resident, institution, id, started_at + interval '10 minutes', started_at + interval '3 hours', 'final'
  FROM encounter WHERE resident = :'xin';
INSERT INTO lab_result (report, resident, institution, item, value, refrange, collected_at)
SELECT r.id, r.resident, r.institution, v.item, v.value::labvalue, v.refrange::refrange, r.collected_at
  FROM lab_report r
  JOIN (VALUES (75, 'HBA1C', '8.6 %',        '[4.0,6.0] %'),
               (5,  'GLU',   '8.9 mmol/L',   '[3.9,6.1] mmol/L'),
               (5,  'TC',    '5.62 mmol/L',  '<5.2 mmol/L'),
               (5,  'TG',    '2.05 mmol/L',  '<1.7 mmol/L'),
               (5,  'HDLC',  '0.98 mmol/L',  '>=1.04 mmol/L'),
               (5,  'LDLC',  '3.71 mmol/L',  '<3.4 mmol/L'),
               (5,  'APOA1', '1.08 g/L',     '[1.00,1.60] g/L'),
               (5,  'APOB',  '1.12 g/L',     '[0.60,1.10] g/L'),
               (5,  'LPA',   '186 mg/L',     '<300 mg/L'),
               (5,  'ALT',   '31 U/L',       '[9,50] U/L'),
               (5,  'AST',   '24 U/L',       '[15,40] U/L'),
               (5,  'GGT',   '38 U/L',       '[10,60] U/L'),
               (5,  'ALP',   '77 U/L',       '[45,125] U/L'),
               (5,  'TBIL',  '12.4 umol/L',  '[3.4,20.5] umol/L'),
               (5,  'TP',    '71.2 g/L',     '[65,85] g/L'),
               (5,  'ALB',   '43.5 g/L',     '[40,55] g/L'),
               (5,  'CREA',  '84 umol/L',    '[57,111] umol/L'),
               (5,  'UREA',  '6.1 mmol/L',   '[3.1,8.0] mmol/L'),
               (5,  'UA',    '6.9 mg/dL',    '[3.5,7.2] mg/dL'),
               (5,  'CYSC',  '0.92 mg/L',    '[0.51,1.09] mg/L'),
               (5,  'HCY',   '13.2 umol/L',  '[5,15] umol/L'),
               (5,  'K',     '4.3 mmol/L',   '[3.5,5.3] mmol/L'),
               (5,  'NA',    '139 mmol/L',   '[137,147] mmol/L')) AS v(days, item, value, refrange)
    ON r.collected_at::date = (now() - (v.days || ' days')::interval)::date
 WHERE r.resident = :'xin';
SELECT to_char(r.collected_at, 'YYYY-MM-DD') AS collected, count(*) AS results,
       string_agg(r.item, ' ' ORDER BY r.item) AS items
  FROM lab_result r WHERE r.resident = :'xin' GROUP BY 1 ORDER BY 1;

\echo
\echo '== Today at 兰州大学第二医院: 李文静 opens his record through the hospital system'
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lzu2_his') THEN
        CREATE ROLE lzu2_his LOGIN IN ROLE ehr_gateway;
    END IF;
END $$;
INSERT INTO encounter (resident, institution, practitioner, kind, started_at)
VALUES (:'xin', :'lzu2', :dr_li, 'outpatient', now()) RETURNING id AS visit \gset
SET SESSION AUTHORIZATION lzu2_his;
BEGIN;
SELECT act_as(:dr_li);
\echo 'Before 辛先生 authorizes, row-level security shows her none of 礼县''s results:'
SELECT count(*) AS candidates FROM recognition_candidates(:'xin', ARRAY['GLU', 'HBA1C']);
SELECT request_access(:'xin', '{lab}') AS req \gset
COMMIT;
RESET SESSION AUTHORIZATION;
-- (the SMS gateway, ehr_notifier, delivers the one-time code; he reads it out)
SELECT substring(message FROM '([0-9]{6})，') AS code FROM notification WHERE request = :req \gset
SET SESSION AUTHORIZATION lzu2_his;
BEGIN;
SELECT act_as(:dr_li);
SELECT confirm_access(:req, :'code') IS NOT NULL AS authorized;

\echo
\echo '== The pop-up while ordering (ehr.order_check): what can be reused, what must be tested'
CREATE TEMP TABLE popup AS
SELECT * FROM order_check(:'xin', ARRAY['HBA1C', 'GLU', 'TC', 'TG', 'HDLC', 'LDLC', 'APOA1', 'APOB', 'LPA',
                                        'ALT', 'AST', 'GGT', 'ALP', 'TBIL', 'TP', 'ALB', 'CREA', 'UREA',
                                        'UA', 'CYSC', 'HCY', 'K', 'NA']);
SELECT item_name AS 项目, CASE WHEN recognizable THEN '互认' ELSE '需检查' END AS 结论,
       institution_name AS 出具机构, mark AS 标识, extract(day FROM age)::int AS 天前,
       value AS 结果, CASE WHEN value IS DISTINCT FROM converted THEN converted END AS 换算,
       array_to_string(notes, ',') AS 提示, reason AS 原因, fee_saved AS 节省
  FROM popup;
SELECT count(*) FILTER (WHERE recognizable) AS recognized, count(*) FILTER (WHERE NOT recognizable) AS to_test,
       string_agg(item, ' ') FILTER (WHERE NOT recognizable) AS test_again,
       '¥' || sum(fee_saved) AS saved
  FROM popup;

\echo
\echo '== Every candidate for one item (ehr.recognizable_results): HbA1c is 75 days old, the window is 60'
SELECT institution, extract(day FROM age)::int AS days, value, verdict, reason, valid_until::date
  FROM recognizable_results(:'xin', 'HBA1C');

\echo
\echo '== She accepts every recognized result (ehr.recognize) and orders HbA1c'
SELECT count(recognize(result, :visit, true)) AS accepted FROM popup WHERE recognizable;
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT '¥' || sum(fee_saved) AS "fees saved for 辛先生", count(*) AS "tests not repeated"
  FROM recognition WHERE encounter = :visit;

\echo
\echo '== A refusal needs a national or regional re-test reason'
SET SESSION AUTHORIZATION lzu2_his;
BEGIN;
SELECT act_as(:dr_li);
SAVEPOINT s;
\set ON_ERROR_STOP off
SELECT recognize(r.id, :visit, false) FROM lab_result r WHERE r.resident = :'xin' AND r.item = 'K';
\set ON_ERROR_STOP on
ROLLBACK TO s;
COMMIT;
RESET SESSION AUTHORIZATION;

\echo
\echo '== The statistics (ehr.recognition_stats): offered, accepted, rate, fees saved'
SELECT institution_name, count(*) AS items, sum(offered) AS offered, sum(accepted) AS accepted,
       round(sum(accepted)::numeric / sum(offered), 2) AS rate, sum(fees_saved) AS fees_saved
  FROM recognition_stats(NULL, tstzrange(date_trunc('month', now()), date_trunc('month', now()) + interval '1 month'))
 GROUP BY institution_name;
