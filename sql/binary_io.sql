-- Binary I/O of resident_id and org_code: COPY ... (FORMAT binary) out to a server
-- file and back, and recv's validation of what a client may send.
-- The server writes the file (it runs as its own OS user), so it lives under /tmp.
SET search_path = public, ehr;
SELECT '/tmp/ehr_binary_io_' || pg_backend_pid() || '.bin' AS binfile \gset
SELECT 'rm -f /tmp/ehr_binary_io_' || pg_backend_pid() || '.bin' AS rmcmd \gset

CREATE TEMP TABLE bin_src (n int, id ehr.resident_id, org ehr.org_code);
INSERT INTO bin_src VALUES
    (1, '11010519491231002X', '91350100M000100Y43'),
    (2, '440524800101001', '12620000438000001H'),
    (3, NULL, NULL),
    (4, '620101195001020012', '12620000000000042K');
INSERT INTO bin_src
SELECT 100 + i,
       ('6212' || lpad((i % 100)::text, 2, '0') || to_char(date '1940-01-01' + i * 7, 'YYYYMMDD') || lpad(i::text, 3, '0')
        || ehr.resident_id_check_char('6212' || lpad((i % 100)::text, 2, '0') || to_char(date '1940-01-01' + i * 7, 'YYYYMMDD') || lpad(i::text, 3, '0'))),
       ('12620' || lpad(i::text, 12, '0') || ehr.org_code_check_char('12620' || lpad(i::text, 12, '0')))
  FROM generate_series(1, 500) i;

COPY bin_src TO :'binfile' (FORMAT binary);
CREATE TEMP TABLE bin_dst (LIKE bin_src);
COPY bin_dst FROM :'binfile' (FORMAT binary);
SELECT count(*) AS copied, count(id) AS ids, count(org) AS orgs FROM bin_dst;
-- identical both ways (NULLs compared as values)
SELECT count(*) AS differences FROM
  ((SELECT * FROM bin_src EXCEPT SELECT * FROM bin_dst) UNION ALL
   (SELECT * FROM bin_dst EXCEPT SELECT * FROM bin_src)) d;
SELECT * FROM bin_dst WHERE n < 10 ORDER BY n;

-- The wire format: resident_id is the 17 significant digits as a big-endian int8;
-- org_code is its 18 canonical characters.
SELECT ehr.resident_id_send('11010519491231002X') AS rid_wire,
       ehr.resident_id_send('11010519491231002X') = int8send(11010519491231002) AS same_as_int8;
SELECT ehr.org_code_send('91350100m000100y43') AS org_wire,
       ehr.org_code_send('91350100M000100Y43') = textsend('91350100M000100Y43') AS same_as_text;

-- recv validates: a binary int8 / text is read as a resident_id / org_code.
CREATE TEMP TABLE bin_rid (id ehr.resident_id);
CREATE TEMP TABLE bin_org (org ehr.org_code);
COPY (SELECT 11010519491231002::bigint) TO :'binfile' (FORMAT binary);
COPY bin_rid FROM :'binfile' (FORMAT binary);
SELECT * FROM bin_rid;
COPY (SELECT 99010519491231002::bigint) TO :'binfile' (FORMAT binary);
COPY bin_rid FROM :'binfile' (FORMAT binary);          -- province 99
COPY (SELECT 11010519490230002::bigint) TO :'binfile' (FORMAT binary);
COPY bin_rid FROM :'binfile' (FORMAT binary);          -- Feb 30
COPY (SELECT -1::bigint) TO :'binfile' (FORMAT binary);
COPY bin_rid FROM :'binfile' (FORMAT binary);          -- out of range
COPY (SELECT 100000000000000000::bigint) TO :'binfile' (FORMAT binary);
COPY bin_rid FROM :'binfile' (FORMAT binary);          -- 18 digits
COPY (SELECT 1::int) TO :'binfile' (FORMAT binary);
COPY bin_rid FROM :'binfile' (FORMAT binary);          -- 4 bytes, not 8
SELECT count(*) AS still_one_row FROM bin_rid;

COPY (SELECT '91350100m000100y43'::text) TO :'binfile' (FORMAT binary);
COPY bin_org FROM :'binfile' (FORMAT binary);          -- canonicalised
SELECT * FROM bin_org;
COPY (SELECT '91310115MA1H8R7C6D'::text) TO :'binfile' (FORMAT binary);
COPY bin_org FROM :'binfile' (FORMAT binary);          -- check character
COPY (SELECT '91350100M000100Y4'::text) TO :'binfile' (FORMAT binary);
COPY bin_org FROM :'binfile' (FORMAT binary);          -- 17 bytes
SELECT count(*) AS still_one_row FROM bin_org;

COPY (SELECT) TO PROGRAM :'rmcmd';
