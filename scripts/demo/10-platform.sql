-- The Gansu provincial platform (甘肃省全民健康信息平台): two hospitals, their staff,
-- twenty residents, a lab catalogue, and a diabetic patient's recent biochemistry at
-- 礼县人民医院. All people, codes and numbers are synthetic; identity numbers and
-- institution codes are made valid with the extension's own check-character functions.
-- Later demo files (consent, de-identification, recognition, health cards) build on it.
\set ON_ERROR_STOP on
\pset footer off

-- Applications put schema ehr on their search_path (docs/installation.md); so does
-- this database, for the demo files after this one and for you in psql.
SELECT pg_catalog.current_database() AS demo_db \gset
ALTER DATABASE :"demo_db" SET search_path = "$user", public, ehr;
SET search_path = "$user", public, ehr;

\echo
\echo '== Regions: GB/T 2260 divisions ship with the extension'
SELECT level, count(*) AS divisions FROM region GROUP BY level ORDER BY level;
SELECT c.code, c.name, region_name(c.parent) AS in_city, region_name(p.parent) AS in_province
  FROM region c JOIN region p ON p.code = c.parent
 WHERE c.code IN ('620102', '621226');

\echo
\echo '== Institutions: unified social credit codes, check character computed'
-- 12 = public institution (事业单位), then the county code, a 9-character organisation
-- number (synthetic) and the MOD 31 check character.
INSERT INTO institution (org, name, level, region)
SELECT base || org_code_check_char(base), name, level, region
  FROM (VALUES ('12620102MB0000001', '兰州大学第二医院', 3, '620102'),
               ('12621226MB0000002', '礼县人民医院',     2, '621226')) v(base, name, level, region);
SELECT org, name, (ARRAY['一级', '二级', '三级'])[level] AS level, org_region(org) AS registered_in,
       region_name(region) AS county
  FROM institution ORDER BY level DESC;
SELECT org AS lzu2 FROM institution WHERE name = '兰州大学第二医院' \gset
SELECT org AS lixian FROM institution WHERE name = '礼县人民医院' \gset

\echo
\echo '== Practitioners'
INSERT INTO practitioner (institution, name, licence, department) VALUES
    (:'lzu2',   '李文静', '110620100000101', '内分泌科'),
    (:'lzu2',   '张海',   '110620100000102', '检验科'),
    (:'lzu2',   '陈晓燕', '110620100000103', '心内科'),
    (:'lixian', '王建军', '110621226000201', '内科'),
    (:'lixian', '杨丽',   '110621226000202', '检验科'),
    (:'lixian', '蒲志刚', '110621226000203', '全科');
SELECT p.id, p.name, p.department, i.name AS institution FROM practitioner p
  JOIN institution i ON i.org = p.institution ORDER BY p.id;
SELECT id AS dr_li FROM practitioner WHERE licence = '110620100000101' \gset
SELECT id AS dr_wang FROM practitioner WHERE licence = '110621226000201' \gset
SELECT id AS dr_pu FROM practitioner WHERE licence = '110621226000203' \gset

\echo
\echo '== Residents: identity numbers built from county, birth date and sequence; check character computed'
-- sequence: two digits, then an odd digit for men and an even one for women
CREATE TEMP TABLE people (n int, name text, male boolean, county text, born date, phone text,
                          issued_in text);  -- county code on the ID when it differs

INSERT INTO people (n, name, male, county, born, phone) VALUES
    ( 1, '赵建国', true,  '621226', '1962-08-15', '13909390001'),
    ( 2, '王秀英', false, '621226', '1958-02-03', '13909390002'),
    ( 3, '蒲玉兰', false, '621226', '1971-11-20', '13909390003'),
    ( 4, '张伟',   true,  '621226', '1985-06-01', '13909390004'),
    ( 5, '杨勇',   true,  '621226', '1990-09-09', '13909390005'),
    ( 6, '李明',   true,  '621202', '1979-04-12', '13909390006'),
    ( 7, '刘芳',   false, '621202', '1988-12-30', '13909390007'),
    ( 8, '何强',   true,  '621225', '1966-07-07', '13909390008'),
    ( 9, '罗霞',   false, '621225', '1993-03-18', '13909390009'),
    (10, '苏琴',   false, '621226', '2001-01-25', '13909390010'),
    (11, '马福',   true,  '620102', '1955-10-01', '13909310011'),
    (12, '马丽娟', false, '620102', '1982-05-14', '13909310012'),
    (13, '陈静',   false, '620102', '1975-08-08', '13909310013'),
    (14, '郭磊',   true,  '620103', '1969-02-28', '13909310014'),
    (15, '黄丽',   false, '620103', '1996-11-11', '13909310015'),
    (16, '周军',   true,  '620104', '1948-12-12', '13909310016'),
    (17, '吴敏',   false, '620104', '2010-06-18', '13909310017'),
    (18, '韩涛',   true,  '620105', '1977-01-09', '13909310018'),
    (19, '冯晓东', true,  '620111', '1999-09-30', '13909310019'),
    (20, '姚红梅', false, '620122', '1964-04-04', '13909310020');
UPDATE people SET issued_in = '622626' WHERE name = '王秀英';  -- a county code of the former 陇南地区
INSERT INTO resident (id, name, phone, address_region, institution)
SELECT id17 || resident_id_check_char(id17), name, phone, county,
       CASE WHEN county LIKE '6212%' THEN :'lixian' ELSE :'lzu2' END::org_code
  FROM (SELECT p.*, coalesce(issued_in, county) || to_char(born, 'YYYYMMDD') || lpad(n::text, 2, '0')
                    || CASE WHEN male THEN '1' ELSE '2' END AS id17
          FROM people p) s;
SELECT r.id, r.name, sex(r.id), birth_date(r.id), age(r.id) AS age, region_name(region_code(r.id)) AS born_in
  FROM resident r WHERE r.address_region LIKE '6212%' ORDER BY birth_date(r.id);
\echo '王秀英''s number carries a county code of the former 陇南地区 (6226xx), retired when Longnan'
\echo 'became a prefecture-level city in 2004: still a valid identity number (the type checks the province only)'
SELECT id, name, region_code(id), region_name(region_code(id)) AS issued_in_today,
       region_name(address_region) AS lives_in
  FROM resident WHERE name = '王秀英';
SELECT count(*) AS residents, count(*) FILTER (WHERE sex(id) = 'female') AS women,
       count(*) FILTER (WHERE is_valid_resident_id(id::text)) AS valid_ids
  FROM resident;
SELECT id AS zhao FROM resident WHERE name = '赵建国' \gset

\echo
\echo '== Lab catalogue (检验/检查项目): LOINC codes of the property reported, prices in CNY'
-- LOINC: the moles/volume codes where results are reported in mmol/L or umol/L.
INSERT INTO lab_item (code, name, kind, loinc, unit, molar_mass, price) VALUES
    ('GLU',   '葡萄糖',           'lab',  '14749-6', 'mmol/L', 180.156,  8.00),
    ('HBA1C', '糖化血红蛋白',     'lab',  '4548-4',  '%',      NULL,    60.00),
    ('K',     '钾',               'lab',  '2823-3',  'mmol/L', 39.098,   5.00),
    ('NA',    '钠',               'lab',  '2951-2',  'mmol/L', 22.990,   5.00),
    ('TC',    '总胆固醇',         'lab',  '14647-2', 'mmol/L', 386.65,   6.00),
    ('TG',    '甘油三酯',         'lab',  '14927-8', 'mmol/L', 885.7,    8.00),
    ('HDLC',  '高密度脂蛋白胆固醇', 'lab', '14646-4', 'mmol/L', 386.65,  10.00),
    ('LDLC',  '低密度脂蛋白胆固醇', 'lab', '22748-8', 'mmol/L', 386.65,  10.00),
    ('ALT',   '丙氨酸氨基转移酶', 'lab',  '1742-6',  'U/L',    NULL,     5.00),
    ('AST',   '天门冬氨酸氨基转移酶', 'lab', '1920-8', 'U/L',  NULL,     5.00),
    ('CREA',  '肌酐',             'lab',  '14682-9', 'umol/L', 113.12,   6.00),
    ('UREA',  '尿素',             'lab',  '22664-7', 'mmol/L', 60.06,    5.00),
    ('UA',    '尿酸',             'lab',  '14933-6', 'umol/L', 168.11,   6.00),
    ('HBSAG', '乙肝表面抗原',     'lab',  '5196-1',  NULL,     NULL,    25.00),
    ('CT-HEAD', '头颅CT平扫',     'exam', NULL,      NULL,     NULL,   260.00),
    ('US-ABD',  '腹部彩超',       'exam', NULL,      NULL,     NULL,   120.00);
SELECT code, name, kind, loinc, unit, price AS "price (CNY)" FROM lab_item ORDER BY kind, code;

\echo
\echo '== Encounters'
-- everyone once, at the hospital of their county; 赵建国 three times
INSERT INTO encounter (resident, institution, practitioner, kind, started_at, ended_at)
SELECT r.id, r.institution, CASE WHEN r.institution = :'lixian' THEN :dr_pu ELSE :dr_li END,
       'checkup', date_trunc('day', now()) - (n * 9 || ' days')::interval + interval '8 hours',
       date_trunc('day', now()) - (n * 9 || ' days')::interval + interval '10 hours'
  FROM resident r JOIN people p ON p.name = r.name
 WHERE r.id <> :'zhao';
INSERT INTO encounter (resident, institution, practitioner, kind, started_at, ended_at) VALUES
    (:'zhao', :'lzu2',   :dr_li,   'outpatient', date_trunc('day', now()) - interval '100 days' + interval '9 hours',
                                                 date_trunc('day', now()) - interval '100 days' + interval '11 hours'),
    (:'zhao', :'lixian', :dr_wang, 'outpatient', date_trunc('day', now()) - interval '12 days' + interval '8 hours',
                                                 date_trunc('day', now()) - interval '12 days' + interval '9 hours'),
    (:'zhao', :'lixian', :dr_pu,   'followup',   date_trunc('day', now()) - interval '2 days' + interval '15 hours', NULL);
SELECT kind, i.name AS institution, count(*) FROM encounter e JOIN institution i ON i.org = e.institution
 GROUP BY kind, i.name ORDER BY 1, 2;
SELECT id AS enc_lzu2 FROM encounter WHERE resident = :'zhao' AND institution = :'lzu2' \gset
SELECT id AS enc_lixian FROM encounter WHERE resident = :'zhao' AND kind = 'outpatient' AND institution = :'lixian' \gset

\echo
\echo '== 赵建国 (type 2 diabetes): biochemistry at 兰州大学第二医院 100 days ago and at 礼县人民医院 12 days ago'
INSERT INTO lab_report (resident, institution, encounter, collected_at, reported_at, status) VALUES
    (:'zhao', :'lzu2', :enc_lzu2, date_trunc('day', now()) - interval '100 days' + interval '9 hours 20 minutes',
                                  date_trunc('day', now()) - interval '100 days' + interval '14 hours', 'final'),
    (:'zhao', :'lixian', :enc_lixian, date_trunc('day', now()) - interval '12 days' + interval '8 hours 15 minutes',
                                      date_trunc('day', now()) - interval '12 days' + interval '11 hours 30 minutes', 'final');
SELECT id AS rep_lzu2 FROM lab_report WHERE institution = :'lzu2' AND resident = :'zhao' \gset
SELECT id AS rep_lixian FROM lab_report WHERE institution = :'lixian' AND resident = :'zhao' \gset
INSERT INTO lab_result (report, resident, institution, item, value, value_text, refrange, collected_at)
SELECT rep.id, rep.resident, rep.institution, v.item, v.value::labvalue, v.value_text, v.refrange::refrange, rep.collected_at
  FROM lab_report rep
  JOIN (VALUES
    (:rep_lzu2,   'GLU',   '11.2 mmol/L', NULL, '[3.9,6.1] mmol/L'),
    (:rep_lzu2,   'HBA1C', '8.9 %',       NULL, '[4.0,6.0] %'),
    (:rep_lzu2,   'CREA',  '79 umol/L',   NULL, '[57,111] umol/L'),
    (:rep_lixian, 'GLU',   '9.8 mmol/L',  NULL, '[3.9,6.1] mmol/L'),
    (:rep_lixian, 'HBA1C', '8.2 %',       NULL, '[4.0,6.0] %'),
    (:rep_lixian, 'K',     '4.1 mmol/L',  NULL, '[3.5,5.3] mmol/L'),
    (:rep_lixian, 'NA',    '140 mmol/L',  NULL, '[137,147] mmol/L'),
    (:rep_lixian, 'TC',    '5.90 mmol/L', NULL, '<5.2 mmol/L'),
    (:rep_lixian, 'TG',    '2.31 mmol/L', NULL, '<1.7 mmol/L'),
    (:rep_lixian, 'HDLC',  '0.92 mmol/L', NULL, '>=1.04 mmol/L'),
    (:rep_lixian, 'LDLC',  '3.88 mmol/L', NULL, '<3.4 mmol/L'),
    (:rep_lixian, 'ALT',   '28 U/L',      NULL, '[9,50] U/L'),
    (:rep_lixian, 'CREA',  '88 μmol/L',   NULL, '[57,111] umol/L'),
    (:rep_lixian, 'UREA',  '6.2 mmol/L',  NULL, '[3.1,8.0] mmol/L'),
    (:rep_lixian, 'UA',    '402 umol/L',  NULL, '[208,428] umol/L'),
    (:rep_lixian, 'HBSAG', NULL,          '阴性', NULL)
  ) v(report, item, value, value_text, refrange) ON v.report = rep.id;
SELECT to_char(r.collected_at, 'YYYY-MM-DD') AS collected, inst.name AS at, i.name AS item,
       coalesce(r.value::text, r.value_text) AS result, r.refrange, interpret(r.value, r.refrange) AS flag
  FROM lab_result r JOIN lab_item i ON i.code = r.item JOIN institution inst ON inst.org = r.institution
 WHERE r.resident = :'zhao'
 ORDER BY r.collected_at DESC, i.code;

\echo
\echo '== Glucose in the units other hospitals print (glucose 180.156 g/mol)'
SELECT to_char(r.collected_at, 'YYYY-MM-DD') AS collected, r.value,
       convert(r.value, 'mg/dL', i.molar_mass) AS in_mg_dl
  FROM lab_result r JOIN lab_item i ON i.code = r.item
 WHERE r.resident = :'zhao' AND r.item = 'GLU' ORDER BY r.collected_at;

\echo
\echo '== Documents'
INSERT INTO document (resident, institution, category, encounter, author, created_at, title, body) VALUES
    (:'zhao', :'lzu2', 'emr', :enc_lzu2, :dr_li, date_trunc('day', now()) - interval '100 days' + interval '10 hours 30 minutes',
     '门诊病历', '{"主诉": "口干、多饮、多尿3年，血糖控制欠佳1月", "诊断": ["2型糖尿病", "血脂异常"],
                  "处理": "二甲双胍 0.5g tid；阿托伐他汀 20mg qn；糖尿病饮食，3个月后复查糖化血红蛋白"}'),
    (:'zhao', :'lixian', 'emr', :enc_lixian, :dr_wang, date_trunc('day', now()) - interval '12 days' + interval '12 hours',
     '门诊病历', '{"主诉": "糖尿病复诊", "诊断": ["2型糖尿病", "高甘油三酯血症"],
                  "处理": "加用达格列净 10mg qd；继续他汀；1周后家庭医生随访"}'),
    (:'zhao', :'lixian', 'archive', NULL, :dr_pu, date_trunc('day', now()) - interval '2 days' + interval '16 hours',
     '慢性病随访记录（糖尿病）', '{"空腹血糖": "7.6 mmol/L", "血压": "138/86 mmHg", "体重": "76 kg", "服药依从性": "规律"}');
SELECT to_char(d.created_at, 'YYYY-MM-DD') AS created, d.category, i.name AS institution, d.title,
       d.body ->> '诊断' AS diagnosis
  FROM document d JOIN institution i ON i.org = d.institution
 WHERE d.resident = :'zhao' ORDER BY d.created_at;

\echo
\echo '== The platform now holds'
SELECT (SELECT count(*) FROM institution) AS institutions, (SELECT count(*) FROM practitioner) AS practitioners,
       (SELECT count(*) FROM resident) AS residents, (SELECT count(*) FROM encounter) AS encounters,
       (SELECT count(*) FROM lab_report) AS lab_reports, (SELECT count(*) FROM lab_result) AS lab_results,
       (SELECT count(*) FROM document) AS documents;
