-- ehr.refrange: text I/O, every input error, accessors, casts, equality, binary round trip.
CREATE FUNCTION pg_temp.try(expr text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; st text; msg text; det text;
BEGIN
    EXECUTE 'SELECT (' || expr || ')::text' INTO r;
    RETURN coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;

SET search_path = public, ehr;

SELECT r AS input, r::ehr.refrange AS refrange
  FROM (VALUES ('[3.9,6.1] mmol/L'), ('(0,5.2) mmol/L'), ('[0,5.2) mmol/L'), ('(0,5.2] mmol/L'),
               ('<5.2 mmol/L'), ('<=5.2 mmol/L'), ('>=90 mL/min/{1.73_m2}'), ('>90 mL/min/1.73m2'),
               ('3.9-6.1 mmol/L'), ('3.9~6.1mmol/L'), ('3.9～6.1 mmol/L'), ('3.5–5.5 10^12/L'),
               ('[ 7.35 , 7.45 ]'), ('-3-3 mmol/L'), ('-3--1 mmol/L'), ('[-3,-1] mmol/L'),
               ('[5,5] mmol/L'), ('[3.90,6.10] mmol/L'), ('≤0.5 ng/mL'), ('≥ 60 mL/min'),
               ('[4,10] ×10^9/L'), ('[1.5e2,4.5e2] 10*9/L'), ('0-40 IU/L')) AS t(r);

SELECT r AS input, pg_temp.try(format('%L::ehr.refrange', r)) AS error
  FROM (VALUES (''), ('[6.1,3.9] mmol/L'), ('(5,5] mmol/L'), ('[5,5) mmol/L'), ('[3.9;6.1] mmol/L'),
               ('[3.9,6.1 mmol/L'), ('[3.9,6.1'), ('[,6.1] mmol/L'), ('[3.9,] mmol/L'),
               ('3.9 mmol/L'), ('3.9-'), ('<x mmol/L'), ('<'), ('[3.9,6.1] mmol/X'),
               ('6.1-3.9 mmol/L'), ('[3.9,6.1]mmol /L'), ('[1e100,2] g'),
               ('[1,1234567890123456789] g')) AS t(r);

SELECT '[6.1,3.9] mmol/L'::ehr.refrange;
\echo :LAST_ERROR_SQLSTATE

SELECT r, ehr.low(r), ehr.high(r), ehr.unit(r)
  FROM (VALUES ('[3.9,6.1] mmol/L'::ehr.refrange), ('(0,5.2) mmol/L'), ('<5.2 mmol/L'),
               ('>=90 mL/min/{1.73_m2}'), ('[7.35,7.45]'), ('[3.90,6.10] mmol/L')) AS t(r);

SELECT '[3.9,6.1] mmol/L'::text::ehr.refrange AS from_text, ('3.9-6.1 mmol/L'::ehr.refrange)::text AS to_text;

SELECT '[3.9,6.1] mmol/L'::ehr.refrange = '3.9-6.1 mmol/L' AS same_interval_text,
       '[3.9,6.1] mmol/L'::ehr.refrange = '[3.90,6.10] mmol/L' AS more_digits,
       '[3.9,6.1] mmol/L'::ehr.refrange = '(3.9,6.1] mmol/L' AS exclusive,
       '<5.2 mmol/L'::ehr.refrange <> '<=5.2 mmol/L' AS ne;

CREATE TEMP TABLE rr (id int, r ehr.refrange);
INSERT INTO rr SELECT i, ('[' || i % 5 || ',' || 10 + i % 3 || '] mmol/L')::ehr.refrange FROM generate_series(1, 150) i;
SELECT count(*) AS distinct_ranges FROM (SELECT r FROM rr GROUP BY r) g;
CREATE INDEX rr_hash ON rr USING hash (r);
SET enable_seqscan = off;
SELECT count(*) FROM rr WHERE r = '[2,11] mmol/L';
RESET enable_seqscan;

CREATE TEMP TABLE rr_bin (r ehr.refrange);
INSERT INTO rr_bin VALUES ('[3.9,6.1] mmol/L'), ('(0,5.2) mmol/L'), ('[0,5.2) mmol/L'), ('<5.2 mmol/L'),
    ('<=5.2 mmol/L'), ('>=90 mL/min/{1.73_m2}'), ('>90 mL/min'), ('[7.35,7.45]'), ('[-3,3] mmol/L');
-- a /tmp file named for this cluster's port: concurrent test runs do not collide
SELECT '/tmp/ehr_refrange_' || current_setting('port') || '.bin' AS binfile \gset
COPY rr_bin TO :'binfile' (FORMAT binary);
CREATE TEMP TABLE rr_bin2 (r ehr.refrange);
COPY rr_bin2 FROM :'binfile' (FORMAT binary);
SELECT r FROM rr_bin2;
SELECT (SELECT count(*) FROM rr_bin) AS sent,
       (SELECT count(*) FROM rr_bin a JOIN rr_bin2 b ON a.r = b.r) AS received_equal;

-- interpret: HL7 codes N/L/H (and LL/HH against a critical range), after converting the
-- value to the range's unit; NULL when incommensurable or when a censored value spans zones
SELECT v, r, ehr.interpret(v::ehr.labvalue, r::ehr.refrange) AS got, expected,
       ehr.interpret(v::ehr.labvalue, r::ehr.refrange) IS NOT DISTINCT FROM expected AS ok
  FROM (VALUES ('5.6 mmol/L', '[3.9,6.1] mmol/L', 'N'),
               ('3.9 mmol/L', '[3.9,6.1] mmol/L', 'N'),          -- inclusive bounds
               ('6.1 mmol/L', '[3.9,6.1] mmol/L', 'N'),
               ('6.10 mmol/L', '[3.9,6.1] mmol/L', 'N'),
               ('6.11 mmol/L', '[3.9,6.1] mmol/L', 'H'),
               ('3.8 mmol/L', '[3.9,6.1] mmol/L', 'L'),
               ('0 mmol/L', '(0,5.2) mmol/L', 'L'),              -- exclusive bounds
               ('5.2 mmol/L', '(0,5.2) mmol/L', 'H'),
               ('5.19 mmol/L', '(0,5.2) mmol/L', 'N'),
               ('5.2 mmol/L', '<5.2 mmol/L', 'H'),               -- one-sided
               ('5.2 mmol/L', '<=5.2 mmol/L', 'N'),
               ('0.1 mmol/L', '<5.2 mmol/L', 'N'),
               ('89 mL/min/{1.73_m2}', '>=90 mL/min/{1.73_m2}', 'L'),
               ('90 mL/min/1.73m2', '>=90 mL/min/{1.73_m2}', 'N'),
               ('101 mg/dL', '[3.9,6.1] mmol/L', NULL),          -- needs a molar mass: not comparable
               ('5600 umol/L', '[3.9,6.1] mmol/L', 'N'),          -- converted first
               ('6200 umol/L', '[3.9,6.1] mmol/L', 'H'),
               ('6100 umol/L', '[3.9,6.1] mmol/L', 'N'),          -- equal after conversion
               ('0.39 mg/dL', '[3.9,6.1] mg/L', 'N'),
               ('35 U/L', '[0,40] U/L', 'N'),
               ('35 U/L', '[0,40] [iU]/L', NULL),                 -- arbitrary unit: not comparable
               ('45 IU/L', '[0,40] [iU]/L', 'H'),
               ('7.40', '[7.35,7.45]', 'N'),
               ('7.40', '[7.35,7.45] mmol/L', NULL),
               ('<0.01 ng/mL', '[0,0.5] ng/mL', 'N'),             -- censored: wholly inside
               ('<0.6 ng/mL', '[0,0.5] ng/mL', NULL),             -- spans N and H
               ('<0.5 ng/mL', '[0,0.5] ng/mL', 'N'),
               ('<=0.5 ng/mL', '[0,0.5] ng/mL', 'N'),
               ('<0.5 ng/mL', '[0,0.5) ng/mL', 'N'),
               ('<=0.5 ng/mL', '[0,0.5) ng/mL', NULL),
               ('>1000 U/L', '[0,200] U/L', 'H'),                 -- censored above the range
               ('>200 U/L', '[0,200] U/L', 'H'),
               ('>=200 U/L', '[0,200] U/L', NULL),
               ('>100 U/L', '[0,200] U/L', NULL),
               ('>100 U/L', '>=90 U/L', 'N'),
               ('<0.01 ng/mL', '(0,0.5] ng/mL', NULL),            -- 0 itself would be L
               ('<0.5 ng/mL', '<1 ng/mL', 'N'),
               ('<2 ng/mL', '[3,5] ng/mL', 'L'),
               ('<10 pg/mL', '[0,0.5] ng/mL', 'N'),               -- censored and converted
               ('-2.3 mmol/L', '[-3,3] mmol/L', 'N'),
               ('<-5 mmol/L', '[-3,3] mmol/L', 'L')) AS t(v, r, expected);

-- with a critical range: LL / HH outside it
SELECT v, ehr.interpret(v::ehr.labvalue, '[3.9,6.1] mmol/L', '[2.8,22.2] mmol/L') AS code
  FROM (VALUES ('2.7 mmol/L'), ('2.8 mmol/L'), ('3.0 mmol/L'), ('5.0 mmol/L'), ('10 mmol/L'),
               ('22.2 mmol/L'), ('25 mmol/L'), ('>25 mmol/L'), ('<2 mmol/L'), ('<3 mmol/L'),
               ('>15 mmol/L'), ('500 mg/dL'), ('25000 umol/L')) AS t(v);
SELECT ehr.interpret('25 mmol/L', '[3.9,6.1] mmol/L', '[50,400] mg/dL') AS critical_needs_molar_mass,
       ehr.interpret('450 mg/dL', '[70,110] mg/dL', '[2.8,22.2] mmol/L') AS not_comparable,
       ehr.interpret('450 mg/dL', '[70,110] mg/dL', '[0.5,4] g/L') AS critical_converted;

-- labvalue <@ refrange: wholly inside (NULL when not comparable or partly inside)
SELECT v, r, v::ehr.labvalue <@ r::ehr.refrange AS inside
  FROM (VALUES ('5.6 mmol/L', '[3.9,6.1] mmol/L'), ('6.2 mmol/L', '[3.9,6.1] mmol/L'),
               ('5600 umol/L', '[3.9,6.1] mmol/L'), ('<0.01 ng/mL', '[0,0.5] ng/mL'),
               ('<0.6 ng/mL', '[0,0.5] ng/mL'), ('101 mg/dL', '[3.9,6.1] mmol/L'),
               ('>1000 U/L', '[0,200] U/L')) AS t(v, r);
SELECT count(*) FILTER (WHERE v <@ '[3.9,6.1] mmol/L'::ehr.refrange) AS normal,
       count(*) FILTER (WHERE NOT (v <@ '[3.9,6.1] mmol/L'::ehr.refrange)) AS abnormal
  FROM (SELECT (round((i * 0.1)::numeric, 1) || ' mmol/L')::ehr.labvalue AS v FROM generate_series(1, 100) i) s;

-- equivalent: the same interval after conversion, at the digits each side wrote
SELECT a, b, ehr.equivalent(a::ehr.refrange, b::ehr.refrange) AS equivalent
  FROM (VALUES ('[3.9,6.1] mmol/L', '[3.90,6.10] mmol/L'), ('[3.9,6.1] mmol/L', '[3900,6100] umol/L'),
               ('[3.9,6.1] mmol/L', '[3.9,6.2] mmol/L'), ('[3.9,6.1] mmol/L', '(3.9,6.1] mmol/L'),
               ('<5.2 mmol/L', '<5200 umol/L'), ('<5.2 mmol/L', '<=5.2 mmol/L'),
               ('[0,40] U/L', '[0,0.67] ukat/L'), ('[0,40] U/L', '[0,40] [iU]/L'),
               ('[3.9,6.1] mmol/L', '[70,110] mg/dL')) AS t(a, b);
SELECT ehr.equivalent('[3.9,6.1] mmol/L', '[70,110] mg/dL', 180.156) AS glucose_ranges,
       ehr.equivalent('[3.9,6.1] mmol/L', '[70,100] mg/dL', 180.156) AS different_high;
SELECT ehr.equivalent('[3.9,6.1] mmol/L', '[70,110] mg/dL', 0);
\echo :LAST_ERROR_SQLSTATE

-- binary input is checked like text input (crafted COPY (FORMAT binary) files)
CREATE TEMP TABLE rr_recv (r ehr.refrange);
CREATE FUNCTION pg_temp.recv_refrange(wire bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE res text; st text; msg text; det text;
BEGIN
    EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', wire, '/tmp/ehr_refrange_crafted_' || current_setting('port') || '.bin');
    TRUNCATE rr_recv;
    EXECUTE format('COPY rr_recv FROM %L (FORMAT binary)', '/tmp/ehr_refrange_crafted_' || current_setting('port') || '.bin');
    SELECT rr_recv.r::text INTO res FROM rr_recv;
    RETURN res;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;
SELECT ehr.refrange_send('[3.9,6.1] mmol/L') AS wire;
SELECT what, pg_temp.recv_refrange(wire::bytea) AS result
  FROM (VALUES ('valid [3.9,6.1] mmol/L', '\x010f0000000000000027ffffffff000000000000003dffffffff6d6d6f6c2f4c'),
               ('valid <5.2 (low ignored)', '\x01020000000000000027ffffffff0000000000000034ffffffff'),
               ('format version 0',       '\x000f0000000000000027ffffffff000000000000003dffffffff6d6d6f6c2f4c'),
               ('unknown flag bits',      '\x011f0000000000000027ffffffff000000000000003dffffffff6d6d6f6c2f4c'),
               ('no bound',               '\x01000000000000000027ffffffff000000000000003dffffffff'),
               ('bounds out of order',    '\x010f000000000000003dffffffff0000000000000027ffffffff'),
               ('empty (5,5)',            '\x01030000000000000005000000000000000000000005000000006d6d6f6c2f4c'),
               ('unknown unit',           '\x010f0000000000000027ffffffff000000000000003dffffffff6d6d6f6c2f58'),
               ('truncated',              '\x010f00000000')) AS t(what, wire);

-- convert a range: each bound keeps its significant digits plus one
SELECT r, unit, CASE WHEN mm IS NULL THEN ehr.convert(r::ehr.refrange, unit) ELSE ehr.convert(r::ehr.refrange, unit, mm) END AS converted
  FROM (VALUES ('[3.9,6.1] mmol/L', 'mg/dL', 180.156), ('[3.9,6.1] mmol/L', 'umol/L', NULL),
               ('(0,5.2) mmol/L', 'mg/dL', 386.65), ('<5.2 mmol/L', 'mmol/l', NULL),
               ('>=90 mL/min/{1.73_m2}', 'L/h', NULL), ('[0,40] U/L', 'ukat/L', NULL),
               ('[7.35,7.45]', '%', NULL)) AS t(r, unit, mm);
SELECT r, unit, pg_temp.try(format('ehr.convert(%L::ehr.refrange, %L)', r, unit)) AS error
  FROM (VALUES ('[3.9,6.1] mmol/L', 'mmol/X'), ('[3.9,6.1] mmol/L', 'mg/dL'), ('[0,40] U/L', '[iU]/L')) AS t(r, unit);
