-- Mutual recognition across roles: the seed case (a diabetic patient's recent
-- biochemistry from 礼县人民医院 reused at 兰州大学第二医院, only HbA1c re-tested,
-- saving over ¥200), who may call what, and that the functions read as the caller.
BEGIN;
SELECT plan(27);
SET LOCAL timezone = 'Asia/Shanghai';
SET LOCAL search_path = public, ehr;

-- ---------------------------------------------------------------- the API exists
SELECT has_function('ehr', 'is_valid_loinc', ARRAY['text'], 'ehr.is_valid_loinc(text)');
SELECT has_function('ehr', 'order_check', ARRAY['ehr.resident_id', 'text[]', 'ehr.org_code', 'timestamp with time zone'],
                    'ehr.order_check(resident, items, at_institution, at)');
SELECT has_function('ehr', 'recognizable_results', ARRAY['ehr.resident_id', 'text', 'ehr.org_code', 'timestamp with time zone'],
                    'ehr.recognizable_results(resident, item, at_institution, at)');
SELECT has_function('ehr', 'recognize', ARRAY['bigint', 'bigint', 'boolean', 'text', 'text'],
                    'ehr.recognize(result, encounter, accepted, reason, note)');
SELECT has_function('ehr', 'recognition_stats', ARRAY['ehr.org_code', 'tstzrange'],
                    'ehr.recognition_stats(institution, period)');
SELECT has_column('ehr', 'lab_item', 'scope', 'lab_item has scope');
SELECT is((SELECT provolatile FROM pg_proc
            WHERE oid = 'ehr.order_check(ehr.resident_id, text[], ehr.org_code, timestamptz)'::regprocedure),
          's'::"char", 'order_check is STABLE');
SELECT is(ehr.is_valid_loinc('2345-7') AND NOT ehr.is_valid_loinc('2345-6'), true, 'LOINC 2345-7 valid, 2345-6 not');

-- ---------------------------------------------------------------- the seed case
CREATE TEMP TABLE seed AS
SELECT (SELECT b || ehr.org_code_check_char(b) FROM (SELECT '12620102MB0000001'::text AS b) x)::ehr.org_code AS lzu2,
       (SELECT b || ehr.org_code_check_char(b) FROM (SELECT '12621226MB0000002'::text AS b) x)::ehr.org_code AS lixian,
       (SELECT b || ehr.resident_id_check_char(b) FROM (SELECT '62122619680312031'::text AS b) x)::ehr.resident_id AS xin,
       date_trunc('second', now()) AS t;
INSERT INTO institution (org, name, level, region)
SELECT lzu2, '兰州大学第二医院', 3, '620102' FROM seed UNION ALL SELECT lixian, '礼县人民医院', 2, '621226' FROM seed;
INSERT INTO resident (id, name, phone, address_region) SELECT xin, '辛先生', '13909390031', '621226' FROM seed;
-- 生化全项 with typical Gansu fees (CNY), and HbA1c
INSERT INTO lab_item (code, name, loinc, unit, molar_mass, price) VALUES
    ('GLU', '葡萄糖', '14749-6', 'mmol/L', 180.156, 8), ('TC', '总胆固醇', '14647-2', 'mmol/L', 386.65, 6),
    ('TG', '甘油三酯', '14927-8', 'mmol/L', 885.7, 8), ('HDLC', '高密度脂蛋白胆固醇', '14646-4', 'mmol/L', 386.65, 10),
    ('LDLC', '低密度脂蛋白胆固醇', '22748-8', 'mmol/L', 386.65, 10), ('APOA1', '载脂蛋白A1', '1869-7', 'g/L', NULL, 15),
    ('APOB', '载脂蛋白B', '1884-6', 'g/L', NULL, 15), ('LPA', '脂蛋白(a)', '10835-7', 'mg/L', NULL, 25),
    ('ALT', '丙氨酸氨基转移酶', '1742-6', 'U/L', NULL, 5), ('AST', '天门冬氨酸氨基转移酶', '1920-8', 'U/L', NULL, 5),
    ('GGT', 'γ-谷氨酰转移酶', '2324-2', 'U/L', NULL, 5), ('ALP', '碱性磷酸酶', '6768-6', 'U/L', NULL, 5),
    ('TBIL', '总胆红素', '14631-6', 'umol/L', 584.66, 5), ('TP', '总蛋白', '2885-2', 'g/L', NULL, 4),
    ('ALB', '白蛋白', '1751-7', 'g/L', NULL, 4), ('CREA', '肌酐', '14682-9', 'umol/L', 113.12, 6),
    ('UREA', '尿素', '22664-7', 'mmol/L', 60.06, 5), ('UA', '尿酸', '14933-6', 'umol/L', 168.11, 6),
    ('CYSC', '胱抑素C', '33863-2', 'mg/L', NULL, 30), ('HCY', '同型半胱氨酸', '13965-9', 'umol/L', 135.18, 40),
    ('K', '钾', '2823-3', 'mmol/L', 39.098, 5), ('NA', '钠', '2951-2', 'mmol/L', 22.990, 5),
    ('HBA1C', '糖化血红蛋白', '4548-4', '%', NULL, 60);
-- Gansu windows: chemistry 30 days, electrolytes 7, HbA1c 60; 礼县 holds 甘HR for all
INSERT INTO lab_item_window (region_prefix, item, valid_for)
SELECT '62', code, CASE code WHEN 'HBA1C' THEN interval '60 days' WHEN 'K' THEN '7 days' WHEN 'NA' THEN '7 days'
                             ELSE '30 days' END FROM lab_item;
INSERT INTO lab_qc (institution, item, valid, scope_region, mark)
SELECT lixian, code, daterange((t - interval '1 year')::date, (t + interval '1 year')::date), '62', '甘HR' FROM seed, lab_item;
-- 辛先生's biochemistry at 礼县 five days ago; his HbA1c there 75 days ago
WITH rep AS (INSERT INTO lab_report (resident, institution, collected_at, reported_at, status)
             SELECT xin, lixian, t - interval '5 days', t - interval '5 days' + interval '3 hours', 'final' FROM seed
             RETURNING id, resident, institution, collected_at)
INSERT INTO lab_result (report, resident, institution, item, value, collected_at)
SELECT rep.id, rep.resident, rep.institution, i.code, ('1.0 ' || i.unit)::labvalue, rep.collected_at
  FROM rep, lab_item i WHERE i.code <> 'HBA1C';
WITH rep AS (INSERT INTO lab_report (resident, institution, collected_at, reported_at, status)
             SELECT xin, lixian, t - interval '75 days', t - interval '75 days' + interval '3 hours', 'final' FROM seed
             RETURNING id, resident, institution, collected_at)
INSERT INTO lab_result (report, resident, institution, item, value, collected_at)
SELECT rep.id, rep.resident, rep.institution, 'HBA1C', '8.2 %', rep.collected_at FROM rep;

CREATE TEMP TABLE popup AS
SELECT o.* FROM seed, order_check(xin, ARRAY(SELECT code FROM lab_item ORDER BY code), lzu2, t) o;
SELECT is((SELECT count(*) FROM popup), 23::bigint, 'one pop-up row per ordered item');
SELECT is(ARRAY(SELECT item FROM popup WHERE NOT recognizable), ARRAY['HBA1C'], 'only HbA1c is re-tested');
SELECT is((SELECT reason FROM popup WHERE item = 'HBA1C'), 'expired', 'HbA1c: 75 days old, the window is 60');
SELECT ok((SELECT sum(fee_saved) FROM popup) > 200, 'the recognized biochemistry saves over ¥200');
SELECT is((SELECT sum(fee_saved) FROM popup), 227.00, 'fees saved: ¥227');
SELECT is((SELECT DISTINCT institution_name || ' ' || mark FROM popup WHERE recognizable), '礼县人民医院 甘HR',
          'every recognized result is 礼县''s, with its mark');

-- ---------------------------------------------------------------- roles
CREATE ROLE recog_tap_nobody;
CREATE ROLE recog_tap_doctor LOGIN IN ROLE ehr_clinician;
INSERT INTO practitioner (institution, name, licence, db_role)
SELECT lzu2, '李文静', '110620100000101', 'recog_tap_doctor' FROM seed;
GRANT SELECT ON seed, popup TO recog_tap_nobody, recog_tap_doctor;

SET LOCAL ROLE recog_tap_nobody;
SELECT throws_ok($$SELECT * FROM order_check((SELECT xin FROM seed), ARRAY['GLU'], (SELECT lzu2 FROM seed))$$,
                 '42501', NULL, 'a role outside ehr_clinician may not run order_check');
SELECT throws_ok($$SELECT recognize(1, 1, true)$$, '42501', NULL, '... nor record a decision');
SELECT throws_ok($$SELECT * FROM recognition_stats()$$, '42501', NULL, '... nor read the statistics');
RESET ROLE;

-- The functions read as the caller: a doctor of 兰大二院 without the patient's
-- authorization sees none of 礼县's results (row-level security).
SET LOCAL SESSION AUTHORIZATION recog_tap_doctor;
SELECT is((SELECT count(*) FROM seed, recognition_candidates(xin, ARRAY(SELECT code FROM lab_item), NULL, t)),
          0::bigint, 'without authorization no other hospital''s result is a candidate');
SELECT is((SELECT string_agg(DISTINCT reason, ',') FROM seed, order_check(xin, ARRAY['GLU', 'TC', 'HBA1C'], NULL, t)),
          'no_result', '... and the pop-up offers nothing');
SELECT ok((SELECT request_access(xin, '{lab}') FROM seed) > 0, 'the doctor asks the patient for access to his lab results');
RESET SESSION AUTHORIZATION;
SELECT ok(set_config('recog_tap.request', request::text, true) IS NOT NULL
          AND set_config('recog_tap.code', substring(message FROM '([0-9]{6})，'), true) IS NOT NULL,
          'the SMS gateway sends the one-time code from the outbox')
  FROM notification ORDER BY id DESC LIMIT 1;
SET LOCAL SESSION AUTHORIZATION recog_tap_doctor;
SELECT ok(confirm_access(current_setting('recog_tap.request')::bigint, current_setting('recog_tap.code')) > 0,
          'the patient reads out the SMS code');
SELECT is((SELECT count(*) FILTER (WHERE recognizable) FROM seed, order_check(xin, ARRAY['GLU', 'TC', 'HBA1C'], NULL, t)),
          2::bigint, 'now the pop-up, for the doctor''s own institution, recognizes glucose and cholesterol');
SELECT lives_ok($$INSERT INTO encounter (resident, institution, kind, started_at)
                  SELECT xin, lzu2, 'outpatient', t FROM seed$$, 'the doctor opens an encounter');
SELECT ok(recognize(r.id, e.id, true) > 0, 'the doctor accepts 礼县''s glucose')
  FROM seed, lab_result r, encounter e WHERE r.item = 'GLU' AND e.resident = seed.xin;
SELECT throws_ok($$UPDATE recognition SET fee_saved = 1000$$, '42501', NULL, 'decisions are append-only for the doctor');
SELECT is((SELECT offered || '/' || accepted || ' ¥' || fees_saved FROM recognition_stats((SELECT lzu2 FROM seed))),
          '1/1 ¥8.00', 'the statistics count the decision');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
