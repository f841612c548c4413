-- ehr.org_code: GB 32100-2015 unified social credit code.
CREATE FUNCTION pg_temp.err(v text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; m text; d text;
BEGIN
    PERFORM v::ehr.org_code;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
    RETURN st || ' ' || m || ' | ' || d;
END $$;
SET search_path = public, ehr;

-- Valid input; output upper-case; blanks trimmed.
SELECT '91350100M000100Y43'::ehr.org_code;
SELECT '91350100m000100y43'::ehr.org_code;
SELECT E' 91350100M000100Y43\t'::ehr.org_code;

-- Error paths.
SELECT v, pg_temp.err(v) FROM (VALUES
    ('91310115MA1H8R7C6D'),              -- the issue's invalid example: wrong check character
    ('91350100M000100Y44'), ('91350100M000100Y4'), ('91350100M000100Y433'), (''), ('  '),
    ('91350100M000100YI3'), ('91350100M000100YO3'), ('9135010SM000100Y43'), ('9135010VM000100Y43'),
    ('9135010ZM000100Y43'), ('91350100i000100Y43'),
    ('９1350100M000100Y43'),              -- full-width digit
    ('91350100M-00100Y43'), ('91350100M 000100Y43')) AS t(v);
SELECT '91310115MA1H8R7C6D'::ehr.org_code;

-- Functions.
SELECT ehr.org_region('91350100M000100Y43');
SELECT v, ehr.is_valid_org_code(v) FROM (VALUES ('91350100M000100Y43'), ('91350100m000100y43'),
    ('91310115MA1H8R7C6D'), ('91350100M000100Y4'), ('I1350100M000100Y43'), (''), (NULL)) AS t(v);
SELECT ehr.org_code_check_char('91350100M000100Y4'), ehr.org_code_check_char('91350100m000100y4');
-- Making valid codes for test and demo data: the check character completes 17 characters.
SELECT c || ehr.org_code_check_char(c) AS code, (c || ehr.org_code_check_char(c))::ehr.org_code AS parsed
  FROM (VALUES ('12620000438000001'), ('12621226438600001'), ('91310115MA1H8R7C6')) AS t(c);
SELECT ehr.org_code_check_char('91350100M000100');
SELECT ehr.org_code_check_char('91350100M000100YI');

-- Casts.
SELECT '91350100m000100y43'::text::ehr.org_code, ('91350100M000100Y43'::ehr.org_code)::text;
SELECT 'nope'::text::ehr.org_code;
CREATE TEMP TABLE oc_t (org ehr.org_code PRIMARY KEY, name text);
INSERT INTO oc_t SELECT '91350100m000100y43'::text, 'assignment cast from text';
INSERT INTO oc_t VALUES ('91350100M000100Y43', 'duplicate');
INSERT INTO oc_t VALUES ('91310115MA1H8R7C6D', 'bad');
SELECT * FROM oc_t;

-- Operators: byte order of the canonical text.
SELECT a.v, b.v, a.v::ehr.org_code = b.v::ehr.org_code AS eq, a.v::ehr.org_code <> b.v::ehr.org_code AS ne,
       a.v::ehr.org_code < b.v::ehr.org_code AS lt, a.v::ehr.org_code <= b.v::ehr.org_code AS le,
       a.v::ehr.org_code > b.v::ehr.org_code AS gt, a.v::ehr.org_code >= b.v::ehr.org_code AS ge,
       ehr.org_code_cmp(a.v::ehr.org_code, b.v::ehr.org_code) AS cmp
  FROM (VALUES ('91350100M000100Y43'), ('12620000438000001H')) a(v),
       (VALUES ('91350100m000100y43'), ('12620000438000001H')) b(v);
SELECT '12620000438000001H'::ehr.org_code OPERATOR(ehr.<) '91350100M000100Y43'::ehr.org_code AS lt;

-- Hash values are an on-disk contract (Citus sharding): these must never change.
SELECT ehr.org_code_hash('91350100M000100Y43') AS h,
       hashtext('91350100M000100Y43') AS same_as_hashtext,
       ehr.org_code_hash_extended('91350100M000100Y43', 0) AS h0,
       ehr.org_code_hash_extended('91350100M000100Y43', 42) AS h42;

-- Index use.
CREATE TEMP TABLE oc_many AS
SELECT (c || ehr.org_code_check_char(c))::ehr.org_code AS org, i
  FROM (SELECT '12620' || lpad(i::text, 12, '0') AS c, i FROM generate_series(1, 5000) i) s;
CREATE INDEX oc_many_btree ON oc_many (org);
ANALYZE oc_many;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT i FROM oc_many WHERE org = '12620000000000042K';
SELECT i FROM oc_many WHERE org = '12620000000000042K';
EXPLAIN (COSTS OFF) SELECT org FROM oc_many ORDER BY org LIMIT 3;
SELECT org FROM oc_many ORDER BY org LIMIT 3;
DROP INDEX oc_many_btree;
CREATE INDEX oc_many_hash ON oc_many USING hash (org);
EXPLAIN (COSTS OFF) SELECT i FROM oc_many WHERE org = '12620000000000001C';
RESET enable_seqscan;
RESET enable_bitmapscan;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM oc_many a JOIN oc_many b USING (org);
SELECT count(*) FROM oc_many a JOIN oc_many b USING (org);
RESET enable_mergejoin;
RESET enable_nestloop;
SELECT count(DISTINCT org), count(DISTINCT ehr.org_region(org)) FROM oc_many;

-- Catalog facts.
SELECT p.proname, p.proleakproof, p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.pronamespace = 'ehr'::regnamespace
   AND (p.proargtypes[0] = 'ehr.org_code'::regtype OR p.proname LIKE 'org_code%'
        OR p.proname = 'is_valid_org_code')
   AND p.prosrc LIKE 'org\_code\_%'   -- this file's C functions, not other concerns' users of the type
 ORDER BY p.oid::regprocedure::text;
SELECT typlen, typbyval, typalign, typstorage FROM pg_type WHERE oid = 'ehr.org_code'::regtype;
SELECT am.amname, opc.opcdefault
  FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
 WHERE opc.opcintype = 'ehr.org_code'::regtype ORDER BY am.amname;
