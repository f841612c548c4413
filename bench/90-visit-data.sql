-- Data of bench/90-visit.sh: :residents residents with :per results each (default
-- 10,000 x 100 = 1,000,000 lab results) in reports of 10 results, issued by 20 Gansu
-- hospitals qualified (甘HR) for 30 items with 30-day windows; a visit hospital with
-- :doctors doctors that holds no record of anyone (every chart read goes through a
-- grant); the pool role bench_visit_app. One INSERT ... SELECT per table. Codes and
-- identity numbers are this bench's own (other benches share the database).
SET client_min_messages = warning;
SET timezone = 'Asia/Shanghai';
SET synchronous_commit = off;
BEGIN;
SELECT setseed(0.9);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_visit_app') THEN
        CREATE ROLE bench_visit_app LOGIN;
    END IF;
END $$;
-- a hospital application's pool role; ehr_notifier stands in for the SMS gateway
GRANT ehr_gateway, ehr_notifier TO bench_visit_app;
ALTER DATABASE :"DBNAME" SET ehr.max_requests_per_hour = 10000;

-- other benches may have inserted rows with explicit ids: continue after them
SELECT setval(pg_get_serial_sequence('ehr.' || t, 'id'), coalesce(m, 0) + 1, false)
  FROM (VALUES ('lab_report', (SELECT max(id) FROM ehr.lab_report)),
               ('lab_result', (SELECT max(id) FROM ehr.lab_result)),
               ('encounter', (SELECT max(id) FROM ehr.encounter))) AS s(t, m);

CREATE TABLE bench_visit_inst AS
SELECT i, (b || ehr.org_code_check_char(b))::ehr.org_code AS org
  FROM (SELECT i, '12620102' || lpad((439100000 + i)::text, 9, '0') AS b FROM generate_series(0, 20) AS i) s;
-- i = 0 is the visit hospital
INSERT INTO ehr.institution (org, name, level, region)
SELECT org, CASE i WHEN 0 THEN 'visit bench clinic' ELSE 'visit bench hospital ' || i END, 3, '620102'
  FROM bench_visit_inst;
INSERT INTO ehr.practitioner (id, institution, name, licence)
SELECT 900000 + d, (SELECT org FROM bench_visit_inst WHERE i = 0), 'visit bench doctor ' || d, 'VB-' || d
  FROM generate_series(1, :doctors) AS d;

INSERT INTO ehr.lab_item (code, name, unit, price)
SELECT 'V' || lpad(k::text, 2, '0'), 'visit bench item ' || k, 'mmol/L', 5 + k FROM generate_series(1, 30) AS k;
INSERT INTO ehr.lab_item_window (region_prefix, item, valid_for)
SELECT '62', 'V' || lpad(k::text, 2, '0'), interval '30 days' FROM generate_series(1, 30) AS k;
INSERT INTO ehr.lab_qc (institution, item, valid, scope_region, mark)
SELECT org, 'V' || lpad(k::text, 2, '0'), daterange('2020-01-01', NULL), '62', '甘HR'
  FROM bench_visit_inst, generate_series(1, 30) AS k WHERE i > 0;

CREATE TABLE bench_visit_res (n int PRIMARY KEY, id ehr.resident_id NOT NULL);
INSERT INTO bench_visit_res
SELECT n, (b || ehr.resident_id_check_char(b))::ehr.resident_id
  FROM (SELECT n, '620123' || to_char(date '1930-01-01' + n, 'YYYYMMDD') || '987' AS b
          FROM generate_series(1, :residents) AS n) s;
GRANT SELECT ON bench_visit_res TO bench_visit_app;
INSERT INTO ehr.resident (id, name, phone, address_region)
SELECT id, 'visit bench resident ' || n, '139' || lpad(n::text, 8, '0'), '620123' FROM bench_visit_res;

-- report j (0-based) of resident n: issued by hospital 1 + (n + j) % 20, collected
-- 1 + 6j days ago, items 10 (j % 3) + 1 .. + 10; so V01-V10 are always at hand
-- from yesterday (recognizable: 30-day window, 甘HR, another institution).
INSERT INTO ehr.lab_report (id, resident, institution, category, collected_at, reported_at, status)
SELECT nextval(pg_get_serial_sequence('ehr.lab_report', 'id')), r.id, h.org, 'lab',
       now() - make_interval(days => 1 + 6 * j), now() - make_interval(days => 1 + 6 * j) + interval '2 hours', 'final'
  FROM bench_visit_res r
 CROSS JOIN generate_series(0, :per / 10 - 1) AS j
  JOIN bench_visit_inst h ON h.i = 1 + (r.n + j) % 20
 ORDER BY r.n, j;

INSERT INTO ehr.lab_result (report, resident, institution, category, item, value, refrange, collected_at)
SELECT p.id, p.resident, p.institution, 'lab',
       'V' || lpad((10 * ((extract(day FROM now() - p.collected_at)::int - 1) / 6 % 3) + k)::text, 2, '0'),
       (round((3.5 + random() * 4)::numeric, 1) || ' mmol/L')::ehr.labvalue, '[3.9,6.1] mmol/L', p.collected_at
  FROM ehr.lab_report p
  JOIN bench_visit_res r ON r.id OPERATOR(ehr.=) p.resident
 CROSS JOIN generate_series(1, 10) AS k
 ORDER BY p.id, k;

COMMIT;
ANALYZE;
