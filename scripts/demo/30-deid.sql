-- De-identification (去标识化): the platform's analysts get datasets, never records.
-- The extension labelled its own tables at install; here an ehr_admin builds the
-- datasets, one resident opts out of research use, and an analyst looks.
\set ON_ERROR_STOP on
\pset footer off
SET search_path = "$user", public, ehr;

\echo
\echo '== What each column of ehr.resident becomes (labels set by CREATE EXTENSION)'
SELECT source_column, label, class, dataset_column FROM deid_report('ehr.resident');

\echo
\echo '== The functions behind the classes'
SELECT name, mask_name(name) AS mask_name, phone, mask_phone(phone) AS mask_phone,
       id, mask_id(id) AS mask_id, age_band(id, current_date) AS age_band,
       generalize_region(address_region, 'city') AS city
  FROM resident WHERE name IN ('赵建国', '马丽娟', '冯晓东') ORDER BY name;

\echo
\echo '== 赵建国 keeps his intervals: every date of his moves by the same keyed offset'
SELECT e.kind, e.started_at, shift_date(e.started_at, e.resident) AS shifted,
       shift_date(e.started_at, e.resident) - e.started_at AS moved_by
  FROM encounter e JOIN resident r ON r.id = e.resident WHERE r.name = '赵建国' ORDER BY e.started_at;

\echo
\echo '== 姚红梅 refuses research use (ehr.set_research_use, when the consent capability is installed)'
SELECT to_regprocedure('ehr.set_research_use(ehr.resident_id, boolean)') IS NOT NULL AS has_research_switch \gset
\if :has_research_switch
SELECT set_research_use(id, false) FROM resident WHERE name = '姚红梅';
\else
\echo '(ehr.set_research_use is not installed in this build: nobody opts out)'
\endif

\echo
\echo '== An ehr_admin builds every dataset (materialized views in schema ehr_deid)'
CREATE ROLE demo_deid_admin IN ROLE ehr_admin;
CREATE ROLE demo_analyst IN ROLE ehr_analyst;
SET ROLE demo_deid_admin;
SELECT deidentify_all() AS dataset;
RESET ROLE;
SELECT count(*) AS residents, k_anonymity('ehr_deid.resident', '{id_age_band,id_sex,id_region,address_region}') AS k
  FROM ehr_deid.resident;
\echo '-- (checked as the owner, who may compute pseudonyms) nobody who refused research use is published:'
SELECT count(*) AS opted_out_but_published
  FROM ehr_deid.resident d JOIN research_use u ON d.id = pseudonym(u.resident::text, 'resident')
 WHERE NOT u.allowed;
\echo '-- k = 1: someone is alone in their (age band, sex, birth city, home city) class. Ask for k = 2:'
SET ROLE demo_deid_admin;
SELECT deidentify('ehr.resident', k => 2) AS dataset;
RESET ROLE;
SELECT count(*) AS residents, k_anonymity('ehr_deid.resident', '{id_age_band,id_sex,id_region,address_region}') AS k
  FROM ehr_deid.resident;
\echo '-- a score of people spread over four quasi-identifiers: only one class of two survives.'
\echo '-- k-anonymity needs many more rows than classes; the real platform has millions.'
SELECT dataset, k, live, quasi_identifiers FROM deid_dataset ORDER BY dataset;

\echo
\echo '== What an analyst sees'
SET ROLE demo_analyst;
SELECT * FROM ehr_deid.resident ORDER BY id_age_band, id_sex LIMIT 8;
SELECT count(*) AS residents_published FROM ehr_deid.resident;
SELECT k FROM deid_report('ehr_deid.resident') LIMIT 1;
\echo '-- lab results join to people by pseudonym; dates are shifted, intervals are not'
SELECT r.id_age_band, r.id_sex, l.item, l.value, l.collected_at
  FROM ehr_deid.lab_result l JOIN ehr_deid.resident r ON r.id = l.resident
 WHERE l.item IN ('GLU', 'HBA1C') ORDER BY l.collected_at, l.item;
SELECT resident, item, max(collected_at) - min(collected_at) AS between_visits
  FROM ehr_deid.lab_result WHERE item = 'GLU' GROUP BY resident, item;

\echo
\echo '== What an analyst cannot do'
DO $$
DECLARE
    probe text;
BEGIN
    FOREACH probe IN ARRAY ARRAY[
        'SELECT count(*) FROM ehr.resident',
        'SELECT ehr.pseudonym(''11010519491231002X'', ''resident'')',
        'SELECT ehr.shift_date(current_date, ''11010519491231002X'')',
        'SELECT ehr.refresh_deidentified()']
    LOOP
        BEGIN
            EXECUTE probe;
            RAISE NOTICE 'ALLOWED (unexpected): %', probe;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'refused: % (%)', probe, SQLERRM;
        WHEN OTHERS THEN
            RAISE NOTICE 'failed otherwise (unexpected): % (%)', probe, SQLERRM;
        END;
    END LOOP;
END
$$;
RESET ROLE;
