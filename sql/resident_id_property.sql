-- Property test: 100,000 random valid identity numbers built in SQL (random region in
-- a valid province, birth date 1800-2025, sequence, check character from
-- ehr.resident_id_check_char) round-trip through resident_id, and birth_date, sex
-- and region_code give back what was generated. The same people written in the
-- 15-digit legacy form (born 1900-1999) and with a lower-case x are the same values.
SET search_path = public, ehr;
SELECT setseed(0.2026);
CREATE TEMP TABLE gen AS
SELECT g, region, birth, seq, body || ehr.resident_id_check_char(body) AS txt
  FROM (SELECT g, region, birth, seq,
               region || to_char(birth, 'YYYYMMDD') || lpad(seq::text, 3, '0') AS body
          FROM (SELECT g,
                       (ARRAY['11','12','13','14','15','21','22','23','31','32','33','34','35','36','37',
                              '41','42','43','44','45','46','50','51','52','53','54','61','62','63','64',
                              '65','71','81','82','83'])[1 + floor(random() * 35)::int]
                         || lpad(floor(random() * 10000)::int::text, 4, '0') AS region,
                       date '1800-01-01' + floor(random() * (date '2025-12-31' - date '1800-01-01' + 1))::int AS birth,
                       floor(random() * 1000)::int AS seq
                  FROM generate_series(1, 100000) g) r) b;
SELECT count(*) AS generated, count(DISTINCT left(region, 2)) AS provinces,
       min(birth) >= '1800-01-01' AS from_1800, count(*) FILTER (WHERE right(txt, 1) = 'X') > 0 AS some_x,
       count(*) FILTER (WHERE to_char(birth, 'MMDD') = '0229') > 0 AS some_feb29
  FROM gen;
CREATE TEMP TABLE parsed AS SELECT g, txt::ehr.resident_id AS id FROM gen;
SELECT count(*) FILTER (WHERE p.id::text <> gen.txt) AS text_round_trip_failures,
       count(*) FILTER (WHERE ehr.resident_id_out(p.id)::text <> gen.txt) AS output_failures,
       count(*) FILTER (WHERE ehr.resident_id_in(gen.txt::cstring) OPERATOR(ehr.<>) p.id) AS input_failures,
       count(*) FILTER (WHERE ehr.birth_date(p.id) <> gen.birth) AS birth_date_failures,
       count(*) FILTER (WHERE ehr.sex(p.id) <> CASE WHEN gen.seq % 2 = 1 THEN 'male' ELSE 'female' END) AS sex_failures,
       count(*) FILTER (WHERE ehr.region_code(p.id) <> gen.region) AS region_failures,
       count(*) FILTER (WHERE NOT ehr.is_valid_resident_id(gen.txt)) AS is_valid_failures
  FROM gen JOIN parsed p USING (g);
-- lower-case x and the legacy 15-digit form give the same value
SELECT count(*) FILTER (WHERE lower(gen.txt)::ehr.resident_id OPERATOR(ehr.<>) p.id) AS lower_x_failures,
       count(*) FILTER (WHERE extract(year FROM gen.birth) BETWEEN 1900 AND 1999) > 10000 AS enough_legacy,
       count(*) FILTER (WHERE extract(year FROM gen.birth) BETWEEN 1900 AND 1999
                          AND (gen.region || to_char(gen.birth, 'YYMMDD') || lpad(gen.seq::text, 3, '0'))::ehr.resident_id
                              OPERATOR(ehr.<>) p.id) AS legacy_failures
  FROM gen JOIN parsed p USING (g);
-- order of values is the order of their canonical text; hashing agrees with equality
SELECT count(*) AS order_failures
  FROM (SELECT id, lag(id) OVER (ORDER BY txt COLLATE "C") AS prev FROM gen JOIN parsed USING (g)) s
 WHERE prev IS NOT NULL AND NOT prev OPERATOR(ehr.<=) id;
SELECT count(DISTINCT id) = count(DISTINCT txt) AS distinct_agree,
       count(DISTINCT ehr.resident_id_hash(id)) > 99000 AS hash_spreads
  FROM gen JOIN parsed USING (g);
