-- ehr.resident_id: GB 11643-1999 citizen identity number.
-- err(): the SQLSTATE, message and detail an input raises ('ok' when it parses).
CREATE FUNCTION pg_temp.err(v text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; m text; d text;
BEGIN
    PERFORM v::ehr.resident_id;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
    RETURN st || ' ' || m || ' | ' || d;
END $$;

-- Operators live in schema ehr: found through search_path, or named with OPERATOR(ehr.=)
-- (what SECURITY DEFINER code with search_path = pg_catalog, pg_temp must write).
SELECT '440524198001010013'::ehr.resident_id = '440524800101001'::ehr.resident_id;
SELECT '440524198001010013'::ehr.resident_id OPERATOR(ehr.=) '440524800101001' AS same_person;
SET search_path = public, ehr;

-- Valid input; output is the canonical 18 characters with an upper-case X.
SELECT '11010519491231002X'::ehr.resident_id;
SELECT '11010519491231002x'::ehr.resident_id;               -- lower-case x
SELECT E' \t11010519491231002X \n'::ehr.resident_id;         -- blanks trimmed
SELECT '440524800101001'::ehr.resident_id;                  -- 15-digit legacy: 19 inserted, check computed
SELECT '440524198001010013'::ehr.resident_id = '440524800101001'::ehr.resident_id AS same_person;
SELECT '110105200002290013'::ehr.resident_id;               -- Feb 29 of a leap year
SELECT v, pg_temp.err(v) FROM (VALUES
    ('11010518000101' || '001' || ehr.resident_id_check_char('11010518000101001')),  -- 1800-01-01
    ('11010520000229' || '001' || ehr.resident_id_check_char('11010520000229001')),
    ('11010519000228' || '001' || ehr.resident_id_check_char('11010519000228001'))) AS t(v);

-- Every province code accepted, every neighbour rejected.
SELECT p, pg_temp.err(p || '010519491231' || '002' || ehr.resident_id_check_char(p || '0105194912310' || '02')) AS result
  FROM unnest(ARRAY['00','10','11','15','16','20','21','23','24','30','31','37','38','40','41','46','47',
                    '49','50','54','55','60','61','65','66','70','71','72','80','81','82','83','84','99']) AS p
 ORDER BY p;

-- Error paths: SQLSTATE, message and the rule named in the detail.
SELECT v, pg_temp.err(v) FROM (VALUES
    (''), ('   '), ('1101051949123100'), ('11010519491231002'), ('11010519491231002X1'),
    ('1101051949123100212'), ('44052480010100'),
    ('１１0105194912310021'),          -- full-width digits
    ('11010519491231002Ｘ'),            -- full-width X
    ('1101051949123a002X'), ('11010519491231 002X'), ('-11010519491231002'),
    ('110105X94912310021'), ('11010519491231002XX'), ('44052480010100X'), ('44052480010100x'),
    ('110105194902300021'), ('110105194913010021'), ('110105194900010021'), ('110105194901000021'),
    ('110105194901320021'), ('110105190002290021'), ('110105200102290021'), ('110105179912310021'),
    ('440524800230001'),               -- legacy form, Feb 30
    ('11010519491231002 X'),
    ('110105194912310021'), ('11010519491231002x'), ('110105194912310020')) AS t(v);

-- How an input error looks to a client.
SELECT '11010519491231003X'::ehr.resident_id;
SELECT '110105194902300021'::ehr.resident_id;
SELECT 'abc'::ehr.resident_id;

-- Functions.
SELECT ehr.birth_date('11010519491231002X'), ehr.sex('11010519491231002X'),
       ehr.region_code('11010519491231002X');
SELECT ehr.sex('440524800101001'), ehr.birth_date('440524800101001');
SELECT d, ehr.age('110105200002290013', d::date) FROM (VALUES
    ('2000-02-28'), ('2000-02-29'), ('2001-02-28'), ('2001-03-01'), ('2004-02-28'), ('2004-02-29'),
    ('2026-02-28'), ('1999-12-31'), ('1990-01-01')) AS t(d);
SELECT ehr.age('110105200002290013', 'infinity');
SELECT ehr.age('110105200002290013') = ehr.age('110105200002290013', current_date) AS age_today;
SELECT ehr.is_valid_resident_id(v) FROM (VALUES ('11010519491231002X'), ('11010519491231002x'),
    ('440524800101001'), ('11010519491231002'), ('１１0105194912310021'), (''), (NULL)) AS t(v);
SELECT ehr.resident_id_check_char('11010519491231002'), ehr.resident_id_check_char('44052419800101001');
SELECT ehr.resident_id_check_char('1101051949123100');
SELECT ehr.resident_id_check_char('1101051949123100a');

-- Casts.
SELECT '11010519491231002x'::text::ehr.resident_id, ('11010519491231002X'::ehr.resident_id)::text;
SELECT pg_typeof('11010519491231002X'::ehr.resident_id::text);
SELECT ' 440524800101001 '::text::ehr.resident_id;
SELECT 'nope'::text::ehr.resident_id;
CREATE TEMP TABLE rid_t (id ehr.resident_id PRIMARY KEY, note text);
INSERT INTO rid_t SELECT '11010519491231002x'::text, 'assignment cast from text';
INSERT INTO rid_t VALUES ('11010519491231002X', 'duplicate');   -- same value, unique violation
INSERT INTO rid_t VALUES ('11010519491231003X', 'bad');         -- nothing half-inserted
SELECT * FROM rid_t;

-- Operators and order (order of the canonical text).
SELECT a.v, b.v, a.v::ehr.resident_id = b.v::ehr.resident_id AS eq,
       a.v::ehr.resident_id <> b.v::ehr.resident_id AS ne,
       a.v::ehr.resident_id < b.v::ehr.resident_id AS lt, a.v::ehr.resident_id <= b.v::ehr.resident_id AS le,
       a.v::ehr.resident_id > b.v::ehr.resident_id AS gt, a.v::ehr.resident_id >= b.v::ehr.resident_id AS ge,
       ehr.resident_id_cmp(a.v::ehr.resident_id, b.v::ehr.resident_id) AS cmp
  FROM (VALUES ('11010519491231002X'), ('440524800101001')) a(v),
       (VALUES ('11010519491231002X'), ('440524198001010013')) b(v);

-- Hash values are an on-disk contract (Citus sharding): these must never change.
SELECT ehr.resident_id_hash('11010519491231002X') AS h,
       hashint8(11010519491231002) AS same_as_hashint8,
       ehr.resident_id_hash_extended('11010519491231002X', 0) AS h0,
       ehr.resident_id_hash_extended('11010519491231002X', 42) AS h42,
       ehr.resident_id_hash('440524800101001') AS h_legacy;

-- Index use: btree (also for ORDER BY), hash index, hash join and hash aggregate.
CREATE TEMP TABLE rid_many AS
SELECT (p || '0101' || to_char(date '1950-01-01' + i, 'YYYYMMDD') || lpad((i % 1000)::text, 3, '0')
        || ehr.resident_id_check_char(p || '0101' || to_char(date '1950-01-01' + i, 'YYYYMMDD') || lpad((i % 1000)::text, 3, '0'))
       )::ehr.resident_id AS id, i
  FROM generate_series(1, 5000) i, (VALUES ('11'), ('62')) AS pr(p);
CREATE INDEX rid_many_btree ON rid_many (id);
ANALYZE rid_many;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM rid_many WHERE id = '620101195001020012';
SELECT i FROM rid_many WHERE id = '620101195001020012';
EXPLAIN (COSTS OFF) SELECT id FROM rid_many WHERE id BETWEEN '110101195001020012' AND '110101195001060057' ORDER BY id;
SELECT id FROM rid_many WHERE id BETWEEN '110101195001020012' AND '110101195001060057' ORDER BY id;
DROP INDEX rid_many_btree;
CREATE INDEX rid_many_hash ON rid_many USING hash (id);
EXPLAIN (COSTS OFF) SELECT * FROM rid_many WHERE id = '620101195001020012';
SELECT i FROM rid_many WHERE id = '620101195001020012';
RESET enable_seqscan;
RESET enable_bitmapscan;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM rid_many a JOIN rid_many b USING (id);
SELECT count(*) FROM rid_many a JOIN rid_many b USING (id);
RESET enable_mergejoin;
RESET enable_nestloop;
SELECT count(*) FROM (SELECT id FROM rid_many GROUP BY id) g;
SELECT ehr.region_code(id), count(*), min(ehr.birth_date(id)), max(ehr.birth_date(id)),
       count(*) FILTER (WHERE ehr.sex(id) = 'male') AS male
  FROM rid_many GROUP BY 1 ORDER BY 1;

-- Catalog facts: comparison and hash support never raise, so they are LEAKPROOF.
SELECT p.proname, p.proleakproof, p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p
 WHERE p.pronamespace = 'ehr'::regnamespace
   AND (p.proargtypes[0] = 'ehr.resident_id'::regtype OR p.proname LIKE 'resident_id%'
        OR p.proname = 'is_valid_resident_id')
   AND p.prosrc LIKE 'resident\_id\_%'   -- this file's C functions, not other concerns' users of the type
 ORDER BY p.oid::regprocedure::text;
SELECT typlen, typbyval, typalign, typstorage FROM pg_type WHERE oid = 'ehr.resident_id'::regtype;
SELECT am.amname, opc.opcdefault
  FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
 WHERE opc.opcintype = 'ehr.resident_id'::regtype ORDER BY am.amname;
