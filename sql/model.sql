-- Core data model: regions, tables, constraints, grants (sql/parts/30-*, 40-tables.sql).
-- Leaves nothing behind: other suites share this database.
-- The operators of the ehr types live in schema ehr: queries put it on the path
-- (docs/installation.md), as applications do.
SET search_path = "$user", public, ehr;

-- Regions: the shipped GB/T 2260 data
SELECT level, count(*) FROM ehr.region GROUP BY level ORDER BY level;
SELECT code, name, level, parent FROM ehr.region
 WHERE code IN ('620000', '620100', '621200', '621226', '710000', '810000', '820000')
 ORDER BY code;
SELECT ehr.region_name('621226') AS lixian, ehr.region_name('999999') AS unknown,
       ehr.region_name(ehr.region_code('621226198001010014')) AS from_id;
-- every county's parent is a prefecture of its province, every prefecture's a province
SELECT count(*) AS bad_parents FROM ehr.region c JOIN ehr.region p ON p.code = c.parent
 WHERE p.level <> c.level - 1 OR left(p.code, 2) <> left(c.code, 2);
SELECT count(*) AS shipped_rows, count(*) FILTER (WHERE NOT shipped) AS site_rows FROM ehr.region;
-- the statistical development-zone codes are not divisions
SELECT count(*) AS zone_codes FROM ehr.region WHERE substr(code, 5, 1) = '7';
-- the code spells the hierarchy
INSERT INTO ehr.region (code, name, level, parent) VALUES ('62120', 'x', 3, '621200');
INSERT INTO ehr.region (code, name, level, parent) VALUES ('621299', 'x', 4, '621200');
INSERT INTO ehr.region (code, name, level, parent) VALUES ('621299', 'x', 3, '620100');
INSERT INTO ehr.region (code, name, level, parent) VALUES ('621299', 'x', 3, NULL);
INSERT INTO ehr.region (code, name, level, parent) VALUES ('629900', 'x', 2, '629900');
INSERT INTO ehr.region (code, name, level, parent) VALUES ('840000', 'x', 1, '620000');
INSERT INTO ehr.region (code, name, level, parent) VALUES ('621299', '', 3, '621200');
-- a site may add a division (not shipped: pg_dump keeps it)
INSERT INTO ehr.region (code, name, level, parent) VALUES ('621299', '新区县', 3, '621200')
RETURNING code, name, level, parent, shipped;

-- Fixtures: 礼县人民医院 (a code made valid with the check-character function)
SELECT '12621226MB0000000' || ehr.org_code_check_char('12621226MB0000000') AS org \gset
INSERT INTO ehr.institution (org, name, level, region) VALUES (:'org', '礼县人民医院', 2, '621226');
INSERT INTO ehr.institution (org, name, level, region) VALUES ('91350100M000100Y43', 'x', 4, '621226');
INSERT INTO ehr.institution (org, name, level, region) VALUES ('91350100M000100Y43', 'x', 3, '000000');
INSERT INTO ehr.institution (org, name, level, region) VALUES ('91350100M000100Y44', 'x', 3, '621226');
INSERT INTO ehr.institution (org, name, level, region) VALUES ('91350100M000100Y43', '兰州大学第二医院', 3, '620102');
INSERT INTO ehr.practitioner (institution, name, licence) VALUES (:'org', '王医生', 'MODEL-0001') RETURNING id AS doc \gset
INSERT INTO ehr.practitioner (institution, name, licence) VALUES ('91350100M000100Y43', '李医生', 'MODEL-0002') RETURNING id AS other_doc \gset
INSERT INTO ehr.practitioner (institution, name, licence) VALUES (:'org', '重复', 'MODEL-0001');
INSERT INTO ehr.resident (id, name, phone, address_region) VALUES ('621226198001010014', '张三', '139 0000 0000', '621226');
INSERT INTO ehr.resident (id, name, phone, address_region, created_at) VALUES ('11010519491231002X', '李四', 'call me', '110105', '2024-01-01');
INSERT INTO ehr.resident (id, name, phone, address_region) VALUES ('11010519491231002X', '李四', NULL, '110199');
INSERT INTO ehr.resident (id, name) VALUES ('11010519491231002X', '李四');

-- Encounters: kind, times, the practitioner works at the institution
INSERT INTO ehr.encounter (resident, institution, practitioner, kind, started_at)
VALUES ('621226198001010014', :'org', :doc, 'outpatient', '2024-06-01 08:00+08') RETURNING id AS enc \gset
INSERT INTO ehr.encounter (resident, institution, practitioner, kind, started_at)
VALUES ('621226198001010014', :'org', :doc, 'visit', '2024-06-01 08:00+08');
INSERT INTO ehr.encounter (resident, institution, practitioner, kind, started_at, ended_at)
VALUES ('621226198001010014', :'org', :doc, 'inpatient', '2024-06-01 08:00+08', '2024-05-31 08:00+08');
INSERT INTO ehr.encounter (resident, institution, practitioner, kind, started_at)
VALUES ('621226198001010014', :'org', :other_doc, 'outpatient', '2024-06-01 08:00+08');
INSERT INTO ehr.encounter (resident, institution, kind, started_at)
VALUES ('621226198001010014', :'org', 'outpatient', NULL);

-- The lab catalogue
INSERT INTO ehr.lab_item (code, name, kind, loinc, unit, molar_mass, price) VALUES
    ('MODEL-GLU', '葡萄糖', 'lab', '2345-7', 'mmol/L', 180.156, 8.00),
    ('MODEL-HBsAg', '乙肝表面抗原', 'lab', '5196-1', NULL, NULL, 25.00),
    ('MODEL-CT', '头颅CT', 'exam', NULL, NULL, NULL, 260.00);
INSERT INTO ehr.lab_item (code, name, kind) VALUES ('MODEL-X', 'x', 'emr');
INSERT INTO ehr.lab_item (code, name, loinc) VALUES ('MODEL-X', 'x', '2345');
INSERT INTO ehr.lab_item (code, name, price) VALUES ('MODEL-X', 'x', -1);
INSERT INTO ehr.lab_item (code, name, molar_mass) VALUES ('MODEL-X', 'x', 0);

-- Reports: status values, times, the encounter is the patient's at the issuer
INSERT INTO ehr.lab_report (resident, institution, encounter, collected_at, reported_at, status)
VALUES ('621226198001010014', :'org', :enc, '2024-06-01 08:10+08', '2024-06-01 10:00+08', 'final')
RETURNING id AS rep, category \gset
INSERT INTO ehr.lab_report (resident, institution, collected_at, reported_at, status)
VALUES ('621226198001010014', :'org', '2024-06-01 08:10+08', '2024-06-01 10:00+08', 'done');
INSERT INTO ehr.lab_report (resident, institution, collected_at, status)
VALUES ('621226198001010014', :'org', '2024-06-01 08:10+08', 'final');
INSERT INTO ehr.lab_report (resident, institution, collected_at, reported_at)
VALUES ('621226198001010014', :'org', '2024-06-01 08:10+08', '2024-06-01 08:00+08');
INSERT INTO ehr.lab_report (resident, institution, encounter, collected_at)
VALUES ('621226198001010014', '91350100M000100Y43', :enc, '2024-06-01 08:10+08');

-- Results: a value or a qualitative text; the report's patient, issuer and category
INSERT INTO ehr.lab_result (report, resident, institution, item, value, refrange, collected_at)
VALUES (:rep, '621226198001010014', :'org', 'MODEL-GLU', '7.8 mmol/L', '[3.9,6.1] mmol/L', '2024-06-01 08:10+08');
INSERT INTO ehr.lab_result (report, resident, institution, item, value_text, collected_at)
VALUES (:rep, '621226198001010014', :'org', 'MODEL-HBsAg', '阴性', '2024-06-01 08:10+08');
SELECT item, value, value_text, refrange, ehr.interpret(value, refrange) AS flag
  FROM ehr.lab_result WHERE report = :rep ORDER BY item;
INSERT INTO ehr.lab_result (report, resident, institution, item, collected_at)
VALUES (:rep, '621226198001010014', :'org', 'MODEL-GLU', '2024-06-01 08:10+08');
INSERT INTO ehr.lab_result (report, resident, institution, item, value_text, collected_at)
VALUES (:rep, '621226198001010014', :'org', 'MODEL-GLU', '', '2024-06-01 08:10+08');
INSERT INTO ehr.lab_result (report, resident, institution, item, value, collected_at)
VALUES (:rep, '11010519491231002X', :'org', 'MODEL-GLU', '5.1 mmol/L', '2024-06-01 08:10+08');
INSERT INTO ehr.lab_result (report, resident, institution, item, value_text, collected_at)
VALUES (:rep, '621226198001010014', :'org', 'MODEL-CT', '未见异常', '2024-06-01 08:10+08');
INSERT INTO ehr.lab_result (report, resident, institution, item, value, collected_at)
VALUES (:rep, '621226198001010014', :'org', 'MODEL-GLU', '5.1 mmol/L', NULL);

-- Documents
INSERT INTO ehr.document (resident, institution, category, encounter, author, title, body)
VALUES ('621226198001010014', :'org', 'emr', :enc, :doc, '门诊病历', '{"主诉": "口渴、多饮3月"}');
INSERT INTO ehr.document (resident, institution, category, title, body)
VALUES ('621226198001010014', :'org', 'note', 'x', '{}');
INSERT INTO ehr.document (resident, institution, category, title, body, created_at)
VALUES ('621226198001010014', :'org', 'emr', 'x', '[1, 2]', '2024-06-01 09:00+08');
INSERT INTO ehr.document (resident, institution, category, author, title)
VALUES ('621226198001010014', :'org', 'emr', :other_doc, 'x');

-- Deletes never cascade into clinical records
DELETE FROM ehr.resident WHERE id = '621226198001010014';
DELETE FROM ehr.lab_item WHERE code = 'MODEL-GLU';

-- Grants (docs/data-model.md): privileges, not rows -- row-level security, added by
-- the consent capability, decides which rows a clinician sees.
WITH p AS (
    SELECT t, tn, r,
           (SELECT string_agg(left(p, 3), ',' ORDER BY o)
              FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES'])
                   WITH ORDINALITY x(p, o)
             WHERE has_table_privilege(r, 'ehr.' || t, p)) AS privs
      FROM unnest(ARRAY['region', 'institution', 'practitioner', 'resident', 'encounter',
                        'lab_item', 'lab_report', 'lab_result', 'document']) WITH ORDINALITY tt(t, tn),
           unnest(ARRAY['ehr_admin', 'ehr_clinician', 'ehr_gateway', 'ehr_analyst', 'ehr_notifier',
                        'ehr_terminal', 'public']) r)
SELECT t AS "table", max(privs) FILTER (WHERE r = 'ehr_admin') AS admin,
       max(privs) FILTER (WHERE r = 'ehr_clinician') AS clinician,
       max(privs) FILTER (WHERE r = 'ehr_gateway') AS gateway,
       max(privs) FILTER (WHERE r = 'ehr_analyst') AS analyst,
       max(privs) FILTER (WHERE r = 'ehr_notifier') AS notifier,
       max(privs) FILTER (WHERE r = 'ehr_terminal') AS terminal,
       max(privs) FILTER (WHERE r = 'public') AS public
  FROM p GROUP BY t, tn ORDER BY tn;
CREATE ROLE model_clinician IN ROLE ehr_clinician;
CREATE ROLE model_analyst IN ROLE ehr_analyst;
CREATE ROLE model_nobody;
-- Row-level security (consent) shows a clinician the rows of the acting practitioner's
-- institution; a superuser may name the actor directly (a gateway uses ehr.act_as).
SELECT set_config('ehr.actor', format('p:%s:%s', :doc, :'org'), false) IS NOT NULL AS acting;
SET ROLE model_clinician;
UPDATE ehr.lab_result SET value_text = 'changed' WHERE report = :rep;
DELETE FROM ehr.document;
INSERT INTO ehr.lab_item (code, name) VALUES ('MODEL-Y', 'y');
RESET ROLE;
RESET ehr.actor;
SET ROLE model_analyst;
SELECT count(*) FROM ehr.region;                -- analysts read ehr_deid, not schema ehr
SELECT count(*) FROM ehr.resident;
RESET ROLE;
SET ROLE model_nobody;
SELECT count(*) FROM ehr.region;
SELECT ehr.region_name('621226');
SELECT ehr.birth_date('621226198001010014');
RESET ROLE;
DROP ROLE model_clinician, model_analyst, model_nobody;

-- Clean up (children first)
DELETE FROM ehr.document WHERE institution = :'org';
DELETE FROM ehr.lab_result WHERE institution = :'org';
DELETE FROM ehr.lab_report WHERE institution = :'org';
DELETE FROM ehr.encounter WHERE institution = :'org';
DELETE FROM ehr.resident WHERE id IN ('621226198001010014', '11010519491231002X');
DELETE FROM ehr.practitioner WHERE licence LIKE 'MODEL-%';
DELETE FROM ehr.institution WHERE org IN (:'org', '91350100M000100Y43');
DELETE FROM ehr.lab_item WHERE code LIKE 'MODEL-%';
DELETE FROM ehr.region WHERE NOT shipped;
