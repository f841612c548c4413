-- De-identification across roles: who may read and run what, research
-- opt-out, k suppression, key rotation, and that no raw identifier reaches
-- an analyst by any path.
BEGIN;
\ir fixtures/deid.sql
SELECT plan(52);

-- ==== building, as an ehr_admin
SET ROLE deid_tap_admin;
SELECT lives_ok($$SELECT ehr.deidentify('clinic.person')$$, 'ehr_admin builds ehr_deid.person');
SELECT lives_ok($$SELECT ehr.deidentify('clinic.visit')$$, 'ehr_admin builds ehr_deid.visit');
SELECT throws_ok($$SELECT ehr.deidentify('clinic.visit', live => true)$$, '22023',
                 'a live dataset of clinic.visit cannot use keyed functions',
                 'a live view with keyed columns is refused');
RESET ROLE;
SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'ehr_deid.person'::regclass), 'm',
          'the default dataset is a materialized view');
SELECT is((SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'ehr_deid.person'::regclass),
          (SELECT pg_get_userbyid(extowner) FROM pg_extension WHERE extname = 'ehr'),
          'datasets belong to the extension owner, not to the admin who asked');
SELECT is((SELECT count(*) FROM ehr_deid.person), 300::bigint, 'every resident is in the dataset');
SELECT is((SELECT count(*) FROM ehr_deid.visit), 600::bigint, 'every visit is in the dataset');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'ehr_deid.person'::regclass AND attname = 'note'),
          'the unlabelled column is withheld');

-- ==== what an analyst may do
SET ROLE deid_tap_analyst;
SELECT lives_ok($$SELECT count(*) FROM ehr_deid.person$$, 'an analyst reads ehr_deid.person');
SELECT lives_ok($$SELECT count(*) FROM ehr_deid.visit$$, 'an analyst reads ehr_deid.visit');
SELECT is((SELECT count(*) FROM ehr_deid.visit v JOIN ehr_deid.person p ON p.id = v.resident), 600::bigint,
          'pseudonyms join across datasets (domain resident on both sides)');
SELECT throws_ok($$SELECT ehr.pseudonym('11010519491231002X', 'resident')$$, '42501', NULL,
                 'an analyst cannot compute a pseudonym');
SELECT throws_ok($$SELECT ehr.shift_date(current_date, '11010519491231002X')$$, '42501', NULL,
                 'an analyst cannot shift a date (date)');
SELECT throws_ok($$SELECT ehr.shift_date(now(), '11010519491231002X')$$, '42501', NULL,
                 'an analyst cannot shift a date (timestamptz)');
SELECT throws_ok($$SELECT * FROM clinic.person$$, '42501', NULL, 'an analyst cannot read the clinical table');
SELECT throws_ok($$SELECT * FROM ehr.keyring$$, '42501', NULL, 'an analyst cannot read the keyring');
SELECT throws_ok($$SELECT ehr.deidentify('clinic.person')$$, '42501', NULL, 'an analyst cannot build datasets');
SELECT throws_ok($$SELECT ehr.refresh_deidentified()$$, '42501', NULL, 'an analyst cannot refresh datasets');
SELECT is(ehr.k_anonymity('ehr_deid.person', '{id_sex}'), 150::bigint, 'an analyst measures k on a dataset');
SELECT is((SELECT count(*) FROM ehr.deid_report('ehr_deid.person') WHERE k IS NOT NULL), 8::bigint,
          'an analyst reads the report of a dataset, with the k it reaches');
RESET ROLE;
-- reference data (ehr.region) may be readable; nothing about a person, and no key
SELECT is((SELECT count(*) FROM pg_class c
            WHERE c.relnamespace = 'ehr'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND has_table_privilege('ehr_analyst', c.oid, 'SELECT, INSERT, UPDATE, DELETE')
              AND (c.relname IN ('keyring', 'deid_dataset', 'research_use')
                   OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                                 AND a.atttypid = 'ehr.resident_id'::regtype))),
          0::bigint, 'ehr_analyst has no rights on any table of schema ehr about persons, nor on keys');
SELECT is((SELECT count(*) FROM pg_proc p
            WHERE p.pronamespace = 'ehr'::regnamespace
              AND p.proname IN ('pseudonym', 'shift_date')
              AND (has_function_privilege('ehr_analyst', p.oid, 'EXECUTE')
                   OR has_function_privilege('public', p.oid, 'EXECUTE'))),
          0::bigint, 'no keyed function is executable by ehr_analyst or PUBLIC');

-- ==== research opt-out, at the next refresh
-- 100 residents answer, every tenth says no (ehr.set_research_use)
SELECT is((SELECT count(*) FROM (SELECT ehr.set_research_use(id, g % 10 <> 0)
                                   FROM (SELECT id, row_number() OVER (ORDER BY id) AS g FROM clinic.person) s
                                  WHERE g <= 100) x), 100::bigint, 'a hundred residents set their research switch');
SELECT is((SELECT count(*) FROM ehr_deid.person), 300::bigint, 'a materialized dataset keeps opted-out rows until refreshed');
SET ROLE deid_tap_admin;
SELECT is(ehr.refresh_deidentified(), 2, 'refresh_deidentified() refreshes both datasets');
RESET ROLE;
SELECT is((SELECT count(*) FROM ehr_deid.person), 290::bigint, 'the ten residents who refused research use are gone');
SELECT is((SELECT count(*) FROM ehr_deid.visit), 580::bigint, 'and so are their visits');
SELECT is((SELECT count(*) FROM ehr_deid.person d JOIN ehr.research_use r
             ON d.id = ehr.pseudonym(r.resident::text, 'resident') WHERE NOT r.allowed), 0::bigint,
          'no pseudonym of an opted-out resident is in the dataset');

-- ==== a live view cannot leak withheld or opted-out rows through a leaky function
CREATE TABLE clinic.contact (resident ehr.resident_id, phone text, secret text);
INSERT INTO clinic.contact SELECT id, phone, 'secret ' || name FROM clinic.person;
SECURITY LABEL FOR ehr ON COLUMN clinic.contact.resident IS 'mask:id,age_band';
SECURITY LABEL FOR ehr ON COLUMN clinic.contact.phone IS 'mask:phone';
SET ROLE deid_tap_admin;
SELECT lives_ok($$SELECT ehr.deidentify('clinic.contact', live => true)$$, 'a keyless dataset can be live');
RESET ROLE;
SET ROLE deid_tap_analyst;
CREATE TEMP TABLE seen (v text);
CREATE FUNCTION pg_temp.leak(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
$$BEGIN INSERT INTO seen VALUES (v); RETURN true; END$$;
SELECT is((SELECT count(*) FROM ehr_deid.contact WHERE pg_temp.leak(phone)), 290::bigint,
          'the live view shows the 290 residents who allow research use');
SELECT is((SELECT count(*) FROM seen), 290::bigint, 'the leaky function saw only rows the view lets through');
SELECT is((SELECT count(*) FROM seen WHERE v !~ '\*{3}'), 0::bigint, 'and only masked phones');
RESET ROLE;

-- ==== an unprivileged role sees nothing
SET ROLE deid_tap_nobody;
SELECT throws_ok($$SELECT * FROM ehr_deid.person$$, '42501', NULL, 'a role without ehr_analyst cannot read a dataset');
SELECT throws_ok($$SELECT * FROM ehr_deid.contact$$, '42501', NULL, 'nor a live one');
SELECT throws_ok($$SELECT ehr.deid_source('ehr_deid.person')$$, '42501', NULL, 'nor ask where a dataset comes from');
RESET ROLE;

-- ==== k suppression on a crafted dataset
CREATE TABLE clinic.crafted (resident ehr.resident_id, region text);
INSERT INTO clinic.crafted
SELECT id, CASE WHEN row_number() OVER (ORDER BY id) <= 3 THEN '650102' ELSE '620102' END
  FROM (SELECT id FROM clinic.person ORDER BY id LIMIT 20) s;
SECURITY LABEL FOR ehr ON COLUMN clinic.crafted.resident IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN clinic.crafted.region IS 'region:province';
SET ROLE deid_tap_admin;
SELECT lives_ok($$SELECT ehr.deidentify('clinic.crafted', 5)$$, 'a dataset with k = 5');
RESET ROLE;
SELECT is((SELECT array_agg(DISTINCT region) FROM ehr_deid.crafted), ARRAY['620000'],
          'the class of three rows (650000) is suppressed at k = 5');
SELECT cmp_ok(ehr.k_anonymity('ehr_deid.crafted', '{region}'), '>=', 5::bigint, 'the dataset reaches k >= 5');

-- ==== key rotation changes every pseudonym
CREATE TEMP TABLE before_rotation AS SELECT id FROM ehr_deid.person;
SET ROLE deid_tap_admin;
SELECT lives_ok($$SELECT ehr.rotate_key('pseudonym')$$, 'ehr_admin rotates the pseudonym key');
SELECT is(ehr.refresh_deidentified('ehr_deid.person'), 1, 'and refreshes the dataset');
RESET ROLE;
SELECT is((SELECT count(*) FROM ehr_deid.person p JOIN before_rotation b USING (id)), 0::bigint,
          'after rotate_key(''pseudonym'') and a refresh no pseudonym is the same');

SET ROLE deid_tap_admin;
SELECT ok((SELECT count(*) FROM ehr.deidentify_all()) >= 10, 'deidentify_all() builds every labelled relation, the extension''s own included');
RESET ROLE;
SELECT is((SELECT count(*) FROM ehr_deid.resident), 290::bigint, 'ehr_deid.resident holds the residents who allow research use');
SELECT is((SELECT count(*) FROM ehr_deid.resident r JOIN ehr_deid.person p USING (id)), 290::bigint,
          'the same resident has the same pseudonym in every dataset');
-- ==== no raw identifier in any text column of any dataset, in any spelling
CREATE TEMP TABLE raw_ident AS
SELECT v FROM (
    SELECT id::text AS v FROM clinic.person
    UNION ALL SELECT lower(id::text) FROM clinic.person
    UNION ALL SELECT substr(id::text, 1, 6) || substr(id::text, 9, 9) FROM clinic.person   -- 15-digit legacy form
    UNION ALL SELECT name FROM clinic.person
    UNION ALL SELECT phone FROM clinic.person
    UNION ALL SELECT regexp_replace(phone, '[^0-9]', '', 'g') FROM clinic.person            -- digits only
    UNION ALL SELECT right(regexp_replace(phone, '[^0-9]', '', 'g'), 11) FROM clinic.person -- without 86
    UNION ALL SELECT note FROM clinic.person
    UNION ALL SELECT address FROM ehr.resident) s;
ALTER TABLE raw_ident ADD norm text;
UPDATE raw_ident SET norm = regexp_replace(v, '[^0-9A-Za-z]', '', 'g');
UPDATE raw_ident SET norm = NULL WHERE length(norm) < 7;
CREATE TEMP TABLE raw_hits (dataset regclass, col name, hits bigint);
DO $$
DECLARE
    c record;
    n bigint;
BEGIN
    FOR c IN SELECT a.attrelid::regclass AS rel, a.attname
               FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
              WHERE r.relnamespace = 'ehr_deid'::regnamespace AND r.relkind IN ('m', 'v')
                AND a.attnum > 0 AND NOT a.attisdropped
    LOOP
        EXECUTE format('SELECT count(*) FROM (SELECT d.%I::text AS t,
                                regexp_replace(d.%I::text, ''[^0-9A-Za-z]'', '''', ''g'') AS tn FROM %s d) d
                          JOIN raw_ident r ON strpos(d.t, r.v) > 0 OR strpos(d.tn, r.norm) > 0',
                       c.attname, c.attname, c.rel) INTO n;
        INSERT INTO raw_hits VALUES (c.rel, c.attname, n);
    END LOOP;
END
$$;
SELECT ok((SELECT count(DISTINCT dataset) FROM raw_hits) >= 10, 'every column of every dataset was scanned');
SELECT is((SELECT coalesce(sum(hits), 0) FROM raw_hits), 0::numeric,
          'no identity number, name, phone or note of a resident appears in any dataset');

-- ==== label errors, as the table owner
SELECT throws_ok($$SECURITY LABEL FOR ehr ON COLUMN clinic.person.note IS 'public'$$, '22023',
                 'unknown de-identification class "public"', 'an unknown class is rejected');
SELECT throws_ok($$SECURITY LABEL FOR ehr ON COLUMN clinic.person.note IS 'shift_date'$$, '22023',
                 'de-identification class "shift_date" does not apply to a column of type text',
                 'a class that does not fit the column type is rejected');
SELECT throws_ok($$SECURITY LABEL FOR ehr ON TABLE clinic.person IS 'keep'$$, '0A000',
                 'security labels of provider "ehr" apply to columns only', 'labels go on columns');
SELECT throws_ok($$SECURITY LABEL FOR ehr ON COLUMN clinic.person.name IS 'mask:name,keep'$$, '22023',
                 'de-identification classes "mask:name" and "keep" conflict', 'two value classes conflict');
SET ROLE deid_tap_admin;
SELECT throws_ok($$SECURITY LABEL FOR ehr ON COLUMN clinic.person.note IS 'keep'$$, '42501', NULL,
                 'only the table owner labels its columns');
RESET ROLE;
SELECT is((SELECT label FROM pg_seclabel WHERE objoid = 'clinic.person'::regclass AND objsubid = 2 AND provider = 'ehr'),
          'mask:name', 'rejected labels leave the column''s label as it was');

SELECT * FROM finish();
ROLLBACK;
