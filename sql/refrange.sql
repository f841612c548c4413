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
COPY rr_bin TO '/tmp/ehr_refrange_regress.bin' (FORMAT binary);
CREATE TEMP TABLE rr_bin2 (r ehr.refrange);
COPY rr_bin2 FROM '/tmp/ehr_refrange_regress.bin' (FORMAT binary);
SELECT r FROM rr_bin2;
SELECT (SELECT count(*) FROM rr_bin) AS sent,
       (SELECT count(*) FROM rr_bin a JOIN rr_bin2 b ON a.r = b.r) AS received_equal;
