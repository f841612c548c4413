-- De-identification: every rule of ehr.mask*, pseudonym, age_band,
-- generalize_region and shift_date; the label grammar; ehr.deidentify and
-- friends. Keys are fixed here (the test runs as the owner) so that the
-- output is exact; pseudonym and shift_date are also checked against an
-- independent HMAC-SM3 (pgcrypto).
SET client_min_messages = notice;
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'Asia/Shanghai';
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- ==== ehr.mask: characters, not bytes
SELECT ehr.mask('13812345678', 3, 4) AS m1,
       ehr.mask('abcdef', 1, 2) AS m2,
       ehr.mask('abcd', 2, 2) AS exactly_kept,
       ehr.mask('abc', 2, 2) AS shorter_masked_entirely,
       ehr.mask('abc', 0, 0) AS all_masked,
       ehr.mask('', 1, 1) AS empty,
       ehr.mask(NULL, 1, 1) AS null_in,
       ehr.mask('abc', NULL, 1) AS null_keep;
-- one fill per masked character, whatever the fill or the character
SELECT ehr.mask('张三丰', 1, 0) AS cjk,
       ehr.mask('𠮷𠮷𠮷𠮷', 1, 1) AS four_byte,
       ehr.mask('𠮷a𠮷b', 1, 1, '#') AS fill_hash,
       ehr.mask('abcdef', 1, 1, '●') AS fill_multibyte,
       ehr.mask('abcdef', 1, 1, 'xy') AS fill_two_chars,
       octet_length(ehr.mask('𠮷𠮷𠮷𠮷', 1, 1)) AS bytes;
SELECT length(m) AS chars, left(m, 3) AS head, right(m, 3) AS tail,
       length(replace(m, '*', '')) AS unmasked
  FROM (SELECT ehr.mask(repeat('𠮷', 10000), 2, 1) AS m) s;
SELECT ehr.mask('abc', -1, 1);
SELECT ehr.mask('abc', 1, -5);
SELECT ehr.mask('abc', 1, 1, '');

-- ==== ehr.mask_name
SELECT n, ehr.mask_name(n) AS masked
  FROM unnest(ARRAY['张三', '李小明', '欧阳娜娜', '司马光', '阿依古丽·买买提', 'John Smith',
                    '', '张', '欧阳', '诸葛孔明', '歐陽修', '上官婉儿', '王小二三',
                    '𠮷野家', '𠮷野', '买买提•艾力', '山田・太郎', 'Mary-Jane O''Neil',
                    'José Martínez', 'J. R. R. Tolkien', 'Müller']) AS n;
SELECT ehr.mask_name(NULL) AS null_in;
SELECT length(m) AS chars, left(m, 2) AS head, right(m, 2) AS tail
  FROM (SELECT ehr.mask_name('张' || repeat('𠮷', 9999)) AS m) s;

-- ==== ehr.mask_phone
SELECT p, ehr.mask_phone(p) AS masked
  FROM unnest(ARRAY['13812345678', '+86 138-1234-5678', '0931-8765432', '8613812345678',
                    '+8613812345678', '138 1234 5678', '010-12345678', '01012345678',
                    '09318765432', '0931 8765432', '12345', '1234', '', 'n/a',
                    '(0931) 8765432', '+1 415 555 0100', '１３８１２３４５６７８',
                    '23812345678']) AS p;
SELECT ehr.mask_phone(NULL) AS null_in;
SELECT length(m) AS chars, length(replace(m, '*', '')) AS unmasked
  FROM (SELECT ehr.mask_phone(repeat('9', 10000)) AS m) s;

-- ==== ehr.mask_id
SELECT ehr.mask_id('11010519491231002X') AS id_x,
       ehr.mask_id('620502198001020014'::ehr.resident_id) AS id_digit,
       ehr.mask_id(NULL) AS null_in;

-- ==== ehr.age_band
SELECT ehr.age_band(date '1982-03-01', date '2026-06-30') AS forty_four,
       ehr.age_band(date '1982-07-01', date '2026-06-30') AS birthday_not_yet,
       ehr.age_band(date '1936-06-30', date '2026-06-30') AS ninety,
       ehr.age_band(date '1936-07-01', date '2026-06-30') AS eighty_nine,
       ehr.age_band(date '1900-01-01', date '2026-06-30') AS old,
       ehr.age_band(date '2026-06-30', date '2026-06-30') AS newborn,
       ehr.age_band(date '1982-03-01', date '2026-06-30', 10) AS width_10,
       ehr.age_band(date '1982-03-01', date '2026-06-30', 1) AS width_1,
       ehr.age_band(date '1940-01-01', date '2026-06-30', 7) AS band_cut_at_89,
       ehr.age_band(date '1982-03-01', date '2026-06-30', 50) AS width_50,
       ehr.age_band(date '2000-02-29', date '2001-02-28', 1) AS leap_not_yet,
       ehr.age_band(date '2000-02-29', date '2001-03-01', 1) AS leap_done;
-- a literal needs a type: age_band(date, ...) and age_band(ehr.resident_id, ...) both exist
SELECT ehr.age_band('1982-03-01', '2026-06-30');
SELECT ehr.age_band('11010519491231002X'::ehr.resident_id, '2026-06-30') AS from_id,
       ehr.age_band('11010519491231002X'::ehr.resident_id, '2039-12-31', 10) AS top_coded,
       ehr.age_band(NULL::date, '2026-06-30') AS null_in;
SELECT ehr.age_band(date '1982-03-01', date '2026-06-30', 0);
SELECT ehr.age_band(date '1982-03-01', date '2026-06-30', 51);
SELECT ehr.age_band('11010519491231002X'::ehr.resident_id, '2026-06-30', -3);
SELECT ehr.age_band(date '2027-01-01', date '2026-06-30');
SELECT ehr.age_band(date 'infinity', date '2026-06-30');

-- ==== ehr.generalize_region
SELECT ehr.generalize_region('620502', 'province') AS province,
       ehr.generalize_region('620502', 'city') AS city,
       ehr.generalize_region('62', 'city') AS two_digits,
       ehr.generalize_region('6205', 'province') AS four_digits,
       ehr.generalize_region(NULL, 'city') AS null_in;
SELECT ehr.generalize_region('620502', 'county');
SELECT ehr.generalize_region('620502', 'CITY');
SELECT ehr.generalize_region('62050x', 'city');
SELECT ehr.generalize_region('62050', 'city');
SELECT ehr.generalize_region('', 'city');

-- ==== properties of the masks on 20,000 random strings (ASCII, CJK, 4-byte, dots, digits)
SELECT setseed(0.42);
CREATE TEMP TABLE deid_rand AS
SELECT g, string_agg(chr(CASE (random() * 6)::int
                           WHEN 0 THEN 48 + (random() * 9)::int          -- digit
                           WHEN 1 THEN 97 + (random() * 25)::int         -- a-z
                           WHEN 2 THEN 19968 + (random() * 20000)::int   -- CJK
                           WHEN 3 THEN 131072 + (random() * 40000)::int  -- 4-byte (Extension B)
                           WHEN 4 THEN (ARRAY[183, 8226, 12539, 32, 45, 43])[1 + (random() * 5)::int]
                           ELSE 65296 + (random() * 9)::int END), '') AS v     -- full-width digit
  FROM generate_series(1, 20000) g, LATERAL generate_series(0, (random() * 20)::int + g % 2 - 1) AS i
 GROUP BY g;
SELECT count(*) AS strings,
       count(*) FILTER (WHERE length(ehr.mask(v, 2, 3)) = length(v)) AS mask_keeps_length,
       count(*) FILTER (WHERE length(v) < 5 OR (left(ehr.mask(v, 2, 3), 2) = left(v, 2)
                                                AND right(ehr.mask(v, 2, 3), 3) = right(v, 3))) AS mask_keeps_ends,
       count(*) FILTER (WHERE length(v) >= 5 OR ehr.mask(v, 2, 3) = repeat('*', length(v))) AS short_masked_entirely,
       count(*) FILTER (WHERE length(ehr.mask_name(v)) = length(v)) AS mask_name_keeps_length,
       count(*) FILTER (WHERE left(ehr.mask_name(v), 1) = left(v, 1)) AS mask_name_keeps_first,
       count(*) FILTER (WHERE length(ehr.mask_phone(v)) = length(v)) AS mask_phone_keeps_length,
       count(*) FILTER (WHERE regexp_replace(ehr.mask_phone(v), '[0-9０-９*]', '', 'g')
                              = regexp_replace(v, '[0-9０-９]', '', 'g')) AS mask_phone_keeps_the_rest,
       count(*) FILTER (WHERE length(regexp_replace(ehr.mask_phone(v), '[^0-9０-９]', '', 'g'))
                              <= greatest(7, least(4, length(regexp_replace(v, '[^0-9０-９]', '', 'g'))))) AS mask_phone_shows_at_most_7
  FROM deid_rand;
DROP TABLE deid_rand;

-- ==== keyed functions, with fixed keys
UPDATE ehr.keyring SET key = decode(repeat('0123456789abcdef', 4), 'hex') WHERE name = 'pseudonym';
UPDATE ehr.keyring SET key = decode(repeat('fedcba9876543210', 4), 'hex') WHERE name = 'date_shift';
-- An independent implementation: pgcrypto's HMAC-SM3 and base32 written in SQL.
CREATE FUNCTION pg_temp.ref_pseudonym(v text, d text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(substr('abcdefghijklmnopqrstuvwxyz234567',
                             substring(b FROM i * 5 + 1 FOR 5)::int + 1, 1), '' ORDER BY i)
      FROM (SELECT ('x' || encode(substr(hmac(convert_to(d, 'UTF8') || '\x00'::bytea || convert_to(v, 'UTF8'),
                                              (SELECT key FROM ehr.keyring WHERE name = 'pseudonym'), 'sm3'),
                                         1, 16), 'hex'))::bit(128) || B'00' AS b) s,
           generate_series(0, 25) AS i
$$;
CREATE FUNCTION pg_temp.ref_shift(id text) RETURNS integer LANGUAGE sql AS $$
    SELECT (('x' || encode(substr(hmac(convert_to(id, 'UTF8'),
                                       (SELECT key FROM ehr.keyring WHERE name = 'date_shift'), 'sm3'),
                                  1, 4), 'hex'))::bit(32)::bigint
            % (2 * current_setting('ehr.date_shift_days')::int + 1))::int
           - current_setting('ehr.date_shift_days')::int
$$;
SELECT ehr.pseudonym('11010519491231002X', 'resident') AS resident,
       ehr.pseudonym('11010519491231002X') AS default_domain,
       ehr.pseudonym('') AS empty,
       ehr.pseudonym('𠮷') AS four_byte,
       ehr.pseudonym(NULL) AS null_in;
SELECT count(*) AS values_checked,
       count(*) FILTER (WHERE ehr.pseudonym(v, d) = pg_temp.ref_pseudonym(v, d)) AS equal_to_reference,
       count(*) FILTER (WHERE ehr.pseudonym(v, d) ~ '^[a-z2-7]{26}$') AS base32_26,
       count(DISTINCT ehr.pseudonym(v, d)) AS distinct_pseudonyms
  FROM (SELECT g::text AS v, d FROM generate_series(1, 500) g, unnest(ARRAY['default', 'resident', 'institution']) d
        UNION ALL SELECT repeat('长', 10000), 'default') s;
-- the domain is separated from the value: ('a', 'bc') and ('ab', 'c') differ
SELECT ehr.pseudonym('bc', 'a') <> ehr.pseudonym('c', 'ab') AS separated;

SELECT ehr.shift_date('2020-01-01'::date, '11010519491231002X') AS d,
       ehr.shift_date('2020-01-01 10:30+08'::timestamptz, '11010519491231002X') AS tstz,
       ehr.shift_date('2020-01-01 10:30'::timestamp, '11010519491231002X') AS ts,
       ehr.shift_date('2020-01-01'::date, '620502198001020014') AS other_resident;
SELECT count(*) AS residents,
       count(*) FILTER (WHERE ehr.shift_date('2020-01-01'::date, r) - '2020-01-01'::date = pg_temp.ref_shift(r::text)) AS equal_to_reference,
       count(*) FILTER (WHERE ehr.shift_date('2020-03-01 08:00+00'::timestamptz, r) - ehr.shift_date('2020-01-01 08:00+00'::timestamptz, r)
                              = interval '60 days') AS intervals_survive,
       min(ehr.shift_date('2020-01-01'::date, r) - '2020-01-01'::date) >= -30 AS within_minus_30,
       max(ehr.shift_date('2020-01-01'::date, r) - '2020-01-01'::date) <= 30 AS within_plus_30,
       count(DISTINCT ehr.shift_date('2020-01-01'::date, r)) > 30 AS spread
  FROM (SELECT (p || ehr.resident_id_check_char(p))::ehr.resident_id AS r
          FROM (SELECT '620502' || to_char(date '1950-01-01' + g * 37, 'YYYYMMDD') || lpad((g % 1000)::text, 3, '0') AS p
                  FROM generate_series(1, 400) g) q) s;
SET ehr.date_shift_days = 0;
SELECT ehr.shift_date('2020-01-01'::date, '11010519491231002X') AS no_shift;
SET ehr.date_shift_days = 365;
SELECT ehr.shift_date('2020-01-01'::date, '11010519491231002X') - '2020-01-01'::date = pg_temp.ref_shift('11010519491231002X') AS wider_range_matches;
RESET ehr.date_shift_days;
SET ehr.date_shift_days = 4000;
SET ehr.date_shift_days = -1;
SELECT ehr.shift_date('infinity'::date, '11010519491231002X') AS inf_date,
       ehr.shift_date('-infinity'::timestamptz, '11010519491231002X') AS inf_ts,
       ehr.shift_date(NULL::date, '11010519491231002X') AS null_date,
       ehr.shift_date('2020-01-01'::date, NULL) AS null_id;
-- this resident moves forward: the last representable day cannot
SELECT ehr.shift_date('5874897-12-31'::date, '11010519491231002X');
SELECT ehr.shift_date('294276-12-31 00:00:00+00'::timestamptz, '11010519491231002X');
-- the key is read once per query, not once per row (one keyring scan for 1000 rows)
BEGIN;
SELECT pg_stat_get_xact_numscans('ehr.keyring'::regclass) AS scans_before \gset
SELECT count(DISTINCT ehr.pseudonym(g::text)) FROM generate_series(1, 1000) g;
SELECT pg_stat_get_xact_numscans('ehr.keyring'::regclass) - :scans_before AS keyring_scans;
COMMIT;

-- ==== labels
CREATE TABLE deid_t (
    id       bigint PRIMARY KEY,
    resident ehr.resident_id,
    name     text,
    phone    varchar(20),
    region   text,
    born     date,
    seen_at  timestamptz,
    visit    date,
    code     text,
    amount   numeric
);
SECURITY LABEL FOR ehr ON COLUMN deid_t.resident IS 'pseudonymize, age_band, sex, region:city';
SECURITY LABEL FOR ehr ON COLUMN deid_t.name IS 'mask:name';
SECURITY LABEL FOR ehr ON COLUMN deid_t.phone IS 'mask:phone';
SECURITY LABEL FOR ehr ON COLUMN deid_t.region IS 'region:province';
SECURITY LABEL FOR ehr ON COLUMN deid_t.born IS 'age_band';
SECURITY LABEL FOR ehr ON COLUMN deid_t.seen_at IS 'shift_date';
SECURITY LABEL FOR ehr ON COLUMN deid_t.visit IS 'year';
SECURITY LABEL FOR ehr ON COLUMN deid_t.code IS 'pseudonymize:code';
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS 'keep';
SELECT objsubid, label FROM pg_seclabel WHERE objoid = 'deid_t'::regclass AND provider = 'ehr' ORDER BY objsubid;
-- every way a label can be wrong
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS 'public';
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS 'Keep';
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS '';
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS 'keep,';
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS 'keep, keep';
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS 'keep,withhold';
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS 'mask:name';
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS 'shift_date';
SECURITY LABEL FOR ehr ON COLUMN deid_t.amount IS 'sex';
SECURITY LABEL FOR ehr ON COLUMN deid_t.name IS 'age_band';
SECURITY LABEL FOR ehr ON COLUMN deid_t.name IS 'mask:name,mask:phone';
SECURITY LABEL FOR ehr ON COLUMN deid_t.born IS 'region:city';
SECURITY LABEL FOR ehr ON COLUMN deid_t.resident IS 'region:city,region:province';
SECURITY LABEL FOR ehr ON COLUMN deid_t.resident IS 'pseudonymize,mask:id';
SECURITY LABEL FOR ehr ON COLUMN deid_t.code IS 'pseudonymize:';
SECURITY LABEL FOR ehr ON COLUMN deid_t.code IS 'pseudonymize:a b';
SECURITY LABEL FOR ehr ON COLUMN deid_t.code IS 'mask';
SECURITY LABEL FOR ehr ON TABLE deid_t IS 'keep';
SECURITY LABEL FOR ehr ON SCHEMA public IS 'keep';
-- the failed attempts changed nothing
SELECT objsubid, label FROM pg_seclabel WHERE objoid = 'deid_t'::regclass AND provider = 'ehr' ORDER BY objsubid;
-- canonical classes: value class first, default pseudonym domains filled in
SELECT ehr.deid_classes('age_band ,pseudonymize,sex', 'ehr.resident_id') AS rid,
       ehr.deid_classes('sex', 'ehr.resident_id') AS rid_withheld,
       ehr.deid_classes('pseudonymize', 'ehr.org_code') AS org,
       ehr.deid_classes('pseudonymize', 'text') AS txt,
       ehr.deid_classes('mask:id', 'ehr.resident_id') AS rid_mask,
       ehr.deid_classes('year', 'timestamp') AS ts_year;

-- ==== datasets
-- Birth dates relative to today, so that age bands do not change with the day the test runs.
CREATE TEMP TABLE deid_ids AS
SELECT n, (p || ehr.resident_id_check_char(p))::ehr.resident_id AS id
  FROM (SELECT n, region || to_char(current_date - make_interval(years => age), 'YYYYMMDD') || seq AS p
          FROM (VALUES (1, '110105', 77, '002'), (2, '620502', 47, '001'),
                       (3, '620102', 47, '002'), (4, '620502', 47, '003')) AS v(n, region, age, seq)) q;
INSERT INTO deid_t
SELECT v.id, i.id, v.name, v.phone, v.region, current_date - make_interval(years => v.age), v.seen_at, v.visit, v.code, v.amount
  FROM (VALUES
  (1, '张三', '13812345678', '620502', 46, timestamptz '2024-05-01 09:00+08', date '2024-05-01', 'A1', 12.5),
  (2, '李小明', '+86 138-1234-5678', '620102', 45, '2024-05-02 10:00+08', '2024-05-02', 'A2', 7),
  (3, '欧阳娜娜', '0931-8765432', '620502', 46, '2024-06-01 11:00+08', '2023-01-01', 'A1', NULL),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1)) AS v(id, name, phone, region, age, seen_at, visit, code, amount)
  JOIN deid_ids i ON i.n = v.id;
SELECT ehr.deidentify('deid_t');
SELECT * FROM ehr.deid_columns('deid_t');
SELECT relkind, relispopulated FROM pg_class WHERE oid = 'ehr_deid.deid_t'::regclass;
SELECT obj_description('ehr_deid.deid_t'::regclass, 'pg_class') AS dataset_comment;
SELECT attname, col_description(attrelid, attnum) FROM pg_attribute
 WHERE attrelid = 'ehr_deid.deid_t'::regclass AND attnum > 0 ORDER BY attnum;
SELECT resident_age_band, resident_sex, resident_region, name, phone, region, born, visit, code, amount
  FROM ehr_deid.deid_t ORDER BY amount NULLS LAST;
-- pseudonyms equal the function's, shifted dates the reference shift
SELECT bool_and(d.resident = ehr.pseudonym(t.resident::text, 'resident')) AS resident_pseudonyms,
       bool_and(d.seen_at - t.seen_at = pg_temp.ref_shift(t.resident::text) * interval '1 day') AS shifts
  FROM deid_t t JOIN ehr_deid.deid_t d ON d.amount = t.amount WHERE t.seen_at IS NOT NULL;
SELECT count(*) AS rows, count(DISTINCT resident) AS residents,
       bool_and(resident ~ '^[a-z2-7]{26}$') AS all_pseudonyms FROM ehr_deid.deid_t;
-- k = 2 over (resident_age_band, resident_sex, resident_region, region, born, visit)
SELECT ehr.deidentify('deid_t', 2);
SELECT count(*) FROM ehr_deid.deid_t;
UPDATE deid_t SET region = '620000', born = current_date - interval '46 years', visit = '2024-01-01';
SELECT ehr.refresh_deidentified('deid_t');
SELECT resident_age_band, resident_sex, resident_region, region, born, visit, count(*)
  FROM ehr_deid.deid_t GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3;
SELECT * FROM ehr.deid_report('ehr_deid.deid_t');
SELECT dataset, k, live, quasi_identifiers, refreshed_at IS NOT NULL AS refreshed FROM ehr.deid_dataset;
SELECT ehr.k_anonymity('ehr_deid.deid_t', '{resident_sex}') AS by_sex,
       ehr.k_anonymity('ehr_deid.deid_t', '{}') AS whole,
       ehr.k_anonymity('ehr_deid.deid_t', '{resident_sex,resident_age_band}') AS two;
SELECT ehr.k_anonymity('ehr_deid.deid_t', '{nope}');
SELECT ehr.k_anonymity('ehr_deid.deid_t', '{NULL}');
-- the primary key (id) is withheld: no unique index, so a plain (not concurrent) refresh
SELECT count(*) AS unique_indexes FROM pg_index WHERE indrelid = 'ehr_deid.deid_t'::regclass;
SELECT ehr.refresh_deidentified() AS refreshed_all;

-- a live view is refused while a column needs a key ...
SELECT ehr.deidentify('deid_t', 0, true);
-- ... and allowed without them
CREATE TABLE deid_live (id int PRIMARY KEY, resident ehr.resident_id, phone text, note text);
SECURITY LABEL FOR ehr ON COLUMN deid_live.id IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN deid_live.resident IS 'mask:id,age_band';
SECURITY LABEL FOR ehr ON COLUMN deid_live.phone IS 'mask:phone';
INSERT INTO deid_live VALUES (1, '11010519491231002X', '13812345678', 'secret');
SELECT ehr.deidentify('deid_live', live => true);
SELECT relkind, reloptions FROM pg_class WHERE oid = 'ehr_deid.deid_live'::regclass;
SELECT id, resident, phone FROM ehr_deid.deid_live;
SELECT ehr.refresh_deidentified('ehr_deid.deid_live') AS nothing_to_refresh;
-- an analyst copies a dataset out (COPY (SELECT ...) TO) and nothing else
CREATE ROLE deid_copy_analyst IN ROLE ehr_analyst;
SET ROLE deid_copy_analyst;
COPY (SELECT id, resident, phone FROM ehr_deid.deid_live) TO STDOUT;
COPY (SELECT resident_sex, count(*) FROM ehr_deid.deid_t GROUP BY 1) TO STDOUT;
COPY (SELECT * FROM deid_live) TO STDOUT;
COPY (SELECT ehr.pseudonym('x')) TO STDOUT;
RESET ROLE;
DROP ROLE deid_copy_analyst;
-- relabel, rebuild as a materialized view: the primary key is kept, so concurrently refreshable
SELECT ehr.deidentify('deid_live');
SELECT count(*) AS unique_indexes FROM pg_index WHERE indrelid = 'ehr_deid.deid_live'::regclass AND indisunique;
SELECT ehr.refresh_deidentified('deid_live');

-- error paths
SELECT ehr.deidentify('deid_t', -1);
CREATE TABLE deid_nolabel (a int);
SELECT ehr.deidentify('deid_nolabel');
SECURITY LABEL FOR ehr ON COLUMN deid_nolabel.a IS 'withhold';
SELECT ehr.deidentify('deid_nolabel');
SELECT ehr.deidentify('ehr_deid.deid_t');
CREATE SEQUENCE deid_seq;
SELECT ehr.deidentify('deid_seq');
-- a view runs its owner's functions: only a superuser's view may be a source
CREATE ROLE deid_view_owner;
CREATE VIEW deid_v AS SELECT amount FROM deid_t;
SECURITY LABEL FOR ehr ON COLUMN deid_v.amount IS 'keep';
ALTER VIEW deid_v OWNER TO deid_view_owner;
SELECT ehr.deidentify('deid_v');
ALTER VIEW deid_v OWNER TO CURRENT_USER;
SELECT ehr.deidentify('deid_v');
SELECT count(*) FROM ehr_deid.deid_v;
DROP VIEW deid_v CASCADE;
DELETE FROM ehr.deid_dataset WHERE dataset = 'deid_v';
DROP ROLE deid_view_owner;
CREATE SCHEMA deid_other;
CREATE TABLE deid_other.deid_t (a int);
SECURITY LABEL FOR ehr ON COLUMN deid_other.deid_t.a IS 'keep';
SELECT ehr.deidentify('deid_other.deid_t');
CREATE TABLE deid_noid (d date);
SECURITY LABEL FOR ehr ON COLUMN deid_noid.d IS 'shift_date';
SELECT ehr.deidentify('deid_noid');
CREATE TABLE deid_dup (resident ehr.resident_id, resident_sex text);
SECURITY LABEL FOR ehr ON COLUMN deid_dup.resident IS 'sex';
SECURITY LABEL FOR ehr ON COLUMN deid_dup.resident_sex IS 'keep';
SELECT ehr.deidentify('deid_dup');
SELECT ehr.refresh_deidentified('deid_nolabel');

-- names cannot inject SQL: quotes, semicolons and non-ASCII in table and column names
CREATE TABLE "deid ""x""; DROP TABLE deid_t; --名" ("a'b; DROP TABLE deid_t;--" text, "患者""ID" ehr.resident_id, "日期" date);
SECURITY LABEL FOR ehr ON COLUMN "deid ""x""; DROP TABLE deid_t; --名"."a'b; DROP TABLE deid_t;--" IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN "deid ""x""; DROP TABLE deid_t; --名"."患者""ID" IS 'pseudonymize:x,sex,region:province';
SECURITY LABEL FOR ehr ON COLUMN "deid ""x""; DROP TABLE deid_t; --名"."日期" IS 'shift_date';
INSERT INTO "deid ""x""; DROP TABLE deid_t; --名" VALUES ('v''); DROP TABLE deid_t; --', '11010519491231002X', '2024-01-01');
SELECT ehr.deidentify('"deid ""x""; DROP TABLE deid_t; --名"', 1);
SELECT * FROM ehr_deid."deid ""x""; DROP TABLE deid_t; --名";
SELECT to_regclass('deid_t') IS NOT NULL AS deid_t_still_there;

-- ==== the extension labels its own tables at install
SELECT c.relname, a.attname, l.label
  FROM pg_seclabel l JOIN pg_class c ON c.oid = l.objoid
  JOIN pg_attribute a ON a.attrelid = l.objoid AND a.attnum = l.objsubid
 WHERE l.provider = 'ehr' AND c.relnamespace = 'ehr'::regnamespace
 ORDER BY c.relname, a.attnum;
SELECT source_column, class, dataset_column, quasi_identifier FROM ehr.deid_report('ehr.resident');

-- ==== deidentify_all: every labelled relation (those that cannot be built are dropped first)
DROP TABLE deid_other.deid_t, deid_noid, deid_dup;
SELECT ehr.deidentify_all(0) ORDER BY 1;
SELECT dataset, k, live FROM ehr.deid_dataset ORDER BY 1;
-- DDL on a source draws a reminder; a dropped dataset (or source) is forgotten
ALTER TABLE deid_live ADD COLUMN extra int;
SECURITY LABEL FOR ehr ON COLUMN deid_live.extra IS 'keep';
ALTER TABLE deid_nolabel ADD COLUMN b int;
DROP MATERIALIZED VIEW ehr_deid.deid_live;
SELECT dataset FROM ehr.deid_dataset WHERE dataset LIKE 'deid%' ORDER BY 1;

-- clean up
DROP TABLE deid_ids;
DROP TABLE "deid ""x""; DROP TABLE deid_t; --名", deid_t, deid_live, deid_nolabel CASCADE;
DROP SCHEMA deid_other;
DROP SEQUENCE deid_seq;
DROP MATERIALIZED VIEW ehr_deid.institution, ehr_deid.resident, ehr_deid.encounter,
     ehr_deid.lab_report, ehr_deid.lab_result, ehr_deid.document;
DELETE FROM ehr.deid_dataset;
SELECT count(*) AS datasets_left FROM pg_class WHERE relnamespace = 'ehr_deid'::regnamespace;
SELECT ehr.rotate_key('pseudonym'), ehr.rotate_key('date_shift');
DROP EXTENSION pgcrypto;
