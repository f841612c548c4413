-- Identity numbers and credit codes as a registration desk meets them: typed with a
-- lower-case x, with blanks, in the 15-digit form of the first-generation cards, or
-- with a digit wrong. ehr.resident_id and ehr.org_code accept the first three and say
-- exactly what is wrong with the rest.
\set ON_ERROR_STOP on
\pset footer off

-- why(): the rule an input breaks, or 'valid' (the input functions raise 22P02).
CREATE FUNCTION pg_temp.why(kind text, v text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    IF kind = 'resident_id' THEN PERFORM v::ehr.resident_id; ELSE PERFORM v::ehr.org_code; END IF;
    RETURN 'valid';
EXCEPTION WHEN invalid_text_representation THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END $$;

\echo
\echo '== Identity numbers as typed at the desk of 礼县人民医院'
SELECT typed, ehr.is_valid_resident_id(typed) AS valid,
       CASE WHEN ehr.is_valid_resident_id(typed) THEN typed::ehr.resident_id::text END AS stored,
       pg_temp.why('resident_id', typed) AS rule
  FROM (VALUES ('62262619500101003x'), (' 622626195001010021 '), ('622626500101003'),
               ('622626195001010027'), ('622626195002300021'), ('62262619500101002'),
               ('６22626195001010021'), ('992626195001010021')) AS t(typed);

\echo
\echo '== The 15-digit number of a first-generation card is the same person as the 18-digit one'
SELECT '622626500101003'::ehr.resident_id AS upgraded,
       '622626500101003'::ehr.resident_id OPERATOR(ehr.=) '62262619500101003X'::ehr.resident_id AS same_person,
       ehr.birth_date('622626500101003'), ehr.sex('622626500101003'),
       ehr.age('622626500101003', date '2026-11-29') AS age_on_2026_11_29;

\echo
\echo '== Unified social credit codes (GB 32100-2015): MOD 31 check character, case-insensitive'
SELECT typed, pg_temp.why('org_code', typed) AS rule,
       CASE WHEN ehr.is_valid_org_code(typed) THEN ehr.org_region(typed::ehr.org_code) END AS region
  FROM (VALUES ('91350100M000100Y43'), ('91350100m000100y43'), ('91310115MA1H8R7C6D'),
               ('91350100M000I00Y43')) AS t(typed);

\echo
\echo '== Sharding by resident: the hash of a resident_id never changes between versions, so'
\echo '   every node agrees where a resident''s rows live (Citus assigns shards by ranges of'
\echo '   this hash; shown here as four buckets, abs(hash) % 4)'
SELECT abs(ehr.resident_id_hash(id)) % 4 AS bucket, count(*) AS residents
  FROM ehr.resident GROUP BY 1 ORDER BY 1;
