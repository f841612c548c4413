-- ehr.labvalue: text I/O (digits as written, comparators, report spellings of units),
-- every input error with SQLSTATE, message and detail, accessors, casts, equality as
-- written with its hash opclass, binary round trip through COPY (FORMAT binary).

-- try(expr): the value of expr as text, or its error as "SQLSTATE: message / detail".
CREATE FUNCTION pg_temp.try(expr text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; st text; msg text; det text;
BEGIN
    EXECUTE 'SELECT (' || expr || ')::text' INTO r;
    RETURN coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;

-- Operators live in schema ehr: found through search_path (or OPERATOR(ehr.=)).
SET search_path = public, ehr;

-- input -> canonical output
SELECT v AS input, v::ehr.labvalue AS labvalue
  FROM (VALUES ('5.60 mmol/L'), ('5.6mmol/L'), ('  5.6   mmol/L  '), ('<0.01 ng/mL'),
               ('<= 0.5 ng/mL'), ('>1000 U/L'), ('>=90 mL/min/{1.73_m2}'), ('7.40'),
               ('1.5e3 /uL'), ('1.5E-3 g/L'), ('3e3 /uL'), ('+4.0 mmol/L'), ('-2.3 mmol/L'),
               ('-0 %'), ('0.00 mg/dL'), ('.5 mg'), ('5. mg'), ('007 s'), ('12 %'),
               ('6.5 10^9/L'), ('6.5 ×10^9/L'), ('6.5×10^9/L'), ('6.5 ×10⁹/L'), ('4.50 10^12/L'),
               ('65 μmol/L'), ('65 µmol/L'), ('35 IU/L'), ('12 mIU/mL'), ('3 [IU]/L'),
               ('120 mmHg'), ('3 cmH2O'), ('≤5 ng/mL'), ('≥90 mL/min/1.73m²'),
               ('1.2e+2 mg/dL'), ('999999999999999999'), ('0.000000000000000001 g'),
               ('5 eq/L'), ('5eq/L'), ('5e3eq/L'), ('140 mmol/l'), ('1.0 10*3/uL'),
               ('2 10*-3'), ('8 {cells}/[HPF]'), ('90 mL/min/1.73m2')) AS t(v);

-- output reads back to the same value
SELECT count(*) AS values, count(*) FILTER (WHERE v::ehr.labvalue::text::ehr.labvalue OPERATOR(ehr.=) v::ehr.labvalue) AS round_trips
  FROM (VALUES ('5.60 mmol/L'), ('1.5e3 /uL'), ('0.00 mg/dL'), ('<0.01 ng/mL'), ('3e3 /uL'),
               ('0.000000000000000001 g'), ('-2.3 mmol/L'), ('6.5 ×10⁹/L')) AS t(v);

-- every input error: 22P02, the value, and the rule
SELECT v AS input, pg_temp.try(format('%L::ehr.labvalue', v)) AS error
  FROM (VALUES (''), ('   '), ('<'), ('>= '), ('mmol/L'), ('5.6 mmol/X'), ('5.6 mmol / L'),
               ('5.6 mmol/'), ('5.6 /'), ('1.2.3 g'), ('1234567890123456789 g'), ('1e100 g'),
               ('1e-100 g'), ('0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001 g'),
               ('5 kmin'), ('5 kh'), ('5 {abc'), ('5 {a b}'), ('5 {毫}'), ('5 mg[abc'),
               ('5 (mg/L'), ('5 mg/L)'), ('5 毫克'), ('5 m-'), ('5 m100'), ('5 0/L'),
               ('5 3mg'), ('5 mg*L'), ('5 mg^2'), ('5 xyz'), ('5 Mmol/l/'), ('<<5 mg'),
               ('5 < mg'), ('- 5 mg'), ('5 .mg'), ('5 m.'), ('5 g.(L'), ('5 10*'), ('5 10*x'),
               ('5 ' || repeat('{a}', 50))) AS t(v);

-- the same errors as psql shows them
SELECT '5.6 mmol/X'::ehr.labvalue;
\echo :LAST_ERROR_SQLSTATE
SELECT '1234567890123456789 g'::ehr.labvalue;
\echo :LAST_ERROR_SQLSTATE

-- accessors
SELECT v, ehr.value(v), ehr.unit(v), ehr.comparator(v)
  FROM (VALUES ('5.60 mmol/L'::ehr.labvalue), ('<0.01 ng/mL'), ('>=90 mL/min/{1.73_m2}'),
               ('7.40'), ('1.5e3 /uL'), ('-2.3 mmol/L'), ('0.00 mg/dL')) AS t(v);
SELECT pg_typeof(ehr.value('5.60 mmol/L')), scale(ehr.value('5.60 mmol/L')),
       ehr.unit('7.40'::ehr.labvalue) = '' AS empty_unit;

-- casts
SELECT '5.60 mmol/L'::text::ehr.labvalue AS from_text, ('6.5 10^9/L'::ehr.labvalue)::text AS to_text;
CREATE TEMP TABLE lv_cast (t text);
INSERT INTO lv_cast VALUES ('<0.5 IU/L'::ehr.labvalue);   -- assignment cast to text
SELECT * FROM lv_cast;

-- equality is equality as written
SELECT '5.6 mmol/L'::ehr.labvalue = '5.6mmol/L' AS same_text,
       '5.6 mmol/L'::ehr.labvalue = '5.60 mmol/L' AS more_digits,
       '5.6 mmol/L'::ehr.labvalue = '<5.6 mmol/L' AS comparator,
       '5.6 mmol/L'::ehr.labvalue = '5.6 mmol/l' AS unit_spelling,
       '6.5 10^9/L'::ehr.labvalue = '6.5 10*9/L' AS normalised,
       '5.6 mmol/L'::ehr.labvalue <> '5.60 mmol/L' AS ne;

-- hash opclass: hash joins, hash indexes, DISTINCT, GROUP BY
CREATE TEMP TABLE lv (id int, v ehr.labvalue);
INSERT INTO lv SELECT i, (i % 7 || '.' || i % 3 || ' mmol/L')::ehr.labvalue FROM generate_series(1, 210) i;
CREATE INDEX lv_hash ON lv USING hash (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM lv WHERE v = '3.1 mmol/L';
SELECT count(*) FROM lv WHERE v = '3.1 mmol/L';
RESET enable_seqscan;
SELECT count(*) AS distinct_values FROM (SELECT v FROM lv GROUP BY v) g;
SET enable_mergejoin = off; SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM lv a JOIN lv b ON a.v = b.v;
SELECT count(*) FROM lv a JOIN lv b ON a.v = b.v;
RESET enable_mergejoin; RESET enable_nestloop;
SELECT ehr.labvalue_hash('5.6 mmol/L') = ehr.labvalue_hash('5.6mmol/L') AS same_hash,
       ehr.labvalue_hash_extended('5.6 mmol/L', 0) = ehr.labvalue_hash_extended('5.6mmol/L', 0) AS same_hash64;

-- binary round trip: COPY (FORMAT binary) out to a file and back
CREATE TEMP TABLE lv_bin (v ehr.labvalue);
INSERT INTO lv_bin VALUES ('5.60 mmol/L'), ('<0.01 ng/mL'), ('>=90 mL/min/{1.73_m2}'), ('7.40'),
    ('1.5e3 /uL'), ('-2.3 mmol/L'), ('6.5 10*9/L'), ('12 m[iU]/mL'), ('0.000000000000000001 g');
-- a /tmp file named for this cluster's port: concurrent test runs do not collide
SELECT '/tmp/ehr_labvalue_' || current_setting('port') || '.bin' AS binfile \gset
COPY lv_bin TO :'binfile' (FORMAT binary);
CREATE TEMP TABLE lv_bin2 (v ehr.labvalue);
COPY lv_bin2 FROM :'binfile' (FORMAT binary);
SELECT v FROM lv_bin2;
SELECT (SELECT count(*) FROM lv_bin) AS sent,
       (SELECT count(*) FROM lv_bin a JOIN lv_bin2 b ON a.v = b.v) AS received_equal;
SELECT ehr.labvalue_send('5.60 mmol/L') AS wire;

-- binary input is checked like text input: crafted COPY (FORMAT binary) files
-- (a bytea column's bytes are read back as a labvalue field)
CREATE TEMP TABLE lv_recv (v ehr.labvalue);
CREATE FUNCTION pg_temp.recv_labvalue(wire bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; st text; msg text; det text;
BEGIN
    EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', wire, '/tmp/ehr_labvalue_crafted_' || current_setting('port') || '.bin');
    TRUNCATE lv_recv;
    EXECUTE format('COPY lv_recv FROM %L (FORMAT binary)', '/tmp/ehr_labvalue_crafted_' || current_setting('port') || '.bin');
    SELECT v::text INTO r FROM lv_recv;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;
SELECT what, pg_temp.recv_labvalue(wire::bytea) AS result
  FROM (VALUES ('valid 5.60 mmol/L',    '\x01000000000000000230fffffffe6d6d6f6c2f4c'),
               ('valid <0.01, no unit', '\x01010000000000000001fffffffe'),
               ('unit re-normalised',   '\x010000000000000000050000000049552f4c'),
               ('format version 2',     '\x02000000000000000230fffffffe6d6d6f6c2f4c'),
               ('comparator 9',         '\x01090000000000000230fffffffe6d6d6f6c2f4c'),
               ('19 digits',            '\x01000de0b6b3a764000000000000'),
               ('power of ten 100',     '\x0100000000000000000100000064'),
               ('unknown unit',         '\x01000000000000000230fffffffe6d6d6f6c2f58'),
               ('truncated',            '\x0100000000')) AS t(what, wire);

-- an untyped literal in a call overloaded on labvalue and refrange is a labvalue
-- (type category 'L', labvalue preferred)
SELECT ehr.unit('65 μmol/L') AS unit, ehr.convert('5.6 mmol/L', 'mg/dL', 180.156) AS glucose,
       pg_typeof(ehr.convert('5.6 mmol/L', 'mmol/l')) AS type;
