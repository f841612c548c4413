-- Electronic health card (DESIGN §9): vectors, card I/O, QR payloads, every refusal.
-- Fixed keys are loaded from server files so every card ID below is reproducible;
-- the keys are replaced with fresh random ones at the end.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = notice;
-- ehr.resident_id compares with the = in schema ehr
SET search_path = public, ehr;

-- ---- SM4 itself: GB/T 32907-2016, appendix A.1 (key = plaintext) ----
SELECT upper(encode(ehr._sm4_ecb(true, '\x0123456789abcdeffedcba9876543210',
                                 '\x0123456789abcdeffedcba9876543210'), 'hex')) AS sm4_standard_vector,
       upper(encode(ehr._sm4_ecb(true, '\x0123456789abcdeffedcba9876543210',
                                 '\x0123456789abcdeffedcba9876543210'), 'hex'))
         = '681EDF34D206965E86B3E94F536E4246' AS matches;
SELECT upper(encode(ehr._sm4_ecb(false, '\x0123456789abcdeffedcba9876543210',
                                 '\x681edf34d206965e86b3e94f536e4246'), 'hex')) AS sm4_decrypts_back;
SELECT ehr._sm4_ecb(true, '\x0123', '\x0123456789abcdeffedcba9876543210');
SELECT ehr._sm4_ecb(true, '\x0123456789abcdeffedcba9876543210', '\x0123');
SELECT ehr._sm4_ecb(true, '\x0123456789abcdeffedcba9876543210', '\x');

-- ---- Fixed keys from files (the published root key; project test keys for the rest) ----
CREATE FUNCTION pg_temp.write_key(name text, hex text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT %L) TO %L', hex,
                   current_setting('data_directory') || '/hc_' || name || '.key');
    PERFORM ehr.load_key(name, 'hc_' || name || '.key');
END $$;
SELECT pg_temp.write_key('ehc_root', '0123456789ABCDEFFEDCBA9876543210');
SELECT pg_temp.write_key('ehc_index', '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F');
SELECT pg_temp.write_key('ehc_protect', 'FEDCBA98765432100123456789ABCDEF');

-- ---- The published card ID vector ----
SELECT ehr.health_card_id('01', '11010020171225006X',
                          'ABD17E7ED399EF68AB5660155D6E226D2C92EAC3254A4A66BED83AED0ADA1E9E') AS card_id;
SELECT ehr.health_card_id('01', '11010020171225006X',
                          'ABD17E7ED399EF68AB5660155D6E226D2C92EAC3254A4A66BED83AED0ADA1E9E')
     = '98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928' AS published_vector;
-- the same derivation step by step with raw SM4: factor, user key, card ID
WITH mi AS (SELECT decode('ABD17E7ED399EF68AB5660155D6E226D2C92EAC3254A4A66BED83AED0ADA1E9E', 'hex') AS b),
     f AS (SELECT (substr(b, 1, 8)::bytea) AS g1, substr(b, 9, 8) AS g2, substr(b, 17, 8) AS g3, substr(b, 25, 8) AS g4 FROM mi),
     x AS (SELECT (('x' || encode(g1, 'hex'))::bit(64) # ('x' || encode(g2, 'hex'))::bit(64)
                 # ('x' || encode(g3, 'hex'))::bit(64) # ('x' || encode(g4, 'hex'))::bit(64)) AS factor FROM f),
     k AS (SELECT factor, ehr._sm4_ecb(true, '\x0123456789abcdeffedcba9876543210',
                         decode(lpad(to_hex((factor)::bigint), 16, '0') || lpad(to_hex((~factor)::bigint), 16, '0'), 'hex')) AS user_key FROM x)
SELECT upper(lpad(to_hex(factor::bigint), 16, '0')) AS factor,
       upper(encode(user_key, 'hex')) AS user_key,
       upper(encode(ehr._sm4_ecb(true, user_key,
                                 convert_to('0111010020171225006X', 'UTF8') || '\x000000000000000000000000'::bytea), 'hex')) AS card_id
  FROM k;
-- and back: the card ID is a pseudonym under key custody
SELECT * FROM ehr.health_card_identity('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928',
                                       'ABD17E7ED399EF68AB5660155D6E226D2C92EAC3254A4A66BED83AED0ADA1E9E');
-- lower-case hex is read the same way
SELECT * FROM ehr.health_card_identity(lower('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928'),
                                       lower('ABD17E7ED399EF68AB5660155D6E226D2C92EAC3254A4A66BED83AED0ADA1E9E'));
-- a short identity (one block) gives a 32-hex card ID; a 30-character one two blocks
SELECT ehr.health_card_id('03', 'E12345678', repeat('AB', 32)) AS passport_card;
SELECT * FROM ehr.health_card_identity(ehr.health_card_id('03', 'E12345678', repeat('AB', 32)), repeat('AB', 32));
SELECT length(ehr.health_card_id('99', repeat('Z', 30), repeat('AB', 32))) AS longest;
SELECT length(ehr.health_card_id('99', repeat('Z', 14), repeat('AB', 32))) AS exactly_one_block;

-- bad input to the derivation
SELECT ehr.health_card_id('1', '11010020171225006X', repeat('AB', 32));
SELECT ehr.health_card_id('A1', '11010020171225006X', repeat('AB', 32));
SELECT ehr.health_card_id('01', '', repeat('AB', 32));
SELECT ehr.health_card_id('01', repeat('Z', 31), repeat('AB', 32));
SELECT ehr.health_card_id('01', '110100 2017', repeat('AB', 32));
SELECT ehr.health_card_id('01', '居民', repeat('AB', 32));
SELECT ehr.health_card_id('01', '11010020171225006X', repeat('AB', 31));
SELECT ehr.health_card_id('01', '11010020171225006X', repeat('AG', 32));
SELECT ehr.health_card_id('01', '11010020171225006X', NULL) IS NULL AS strict;
-- bad input to the decryption
SELECT * FROM ehr.health_card_identity('98FF', repeat('AB', 32));
SELECT * FROM ehr.health_card_identity(repeat('G', 64), repeat('AB', 32));
SELECT * FROM ehr.health_card_identity(repeat('0', 48), repeat('AB', 32));
-- the wrong main index (or another platform's root key) does not decrypt
SELECT * FROM ehr.health_card_identity('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928',
                                       repeat('AB', 32));

-- ---- Round trip: 10,000 random identity numbers through the card ID and back ----
CREATE TEMP TABLE rt AS
SELECT n, ehr._health_card_main_index('01', id) AS mi, id
  FROM (SELECT n, d || ehr.resident_id_check_char(d) AS id
          FROM (SELECT n, '110101' || to_char(date '1930-01-01' + (random() * 30000)::int, 'YYYYMMDD')
                          || lpad((random() * 999)::int::text, 3, '0') AS d
                  FROM generate_series(1, 10000) AS n) s) t;
SELECT count(*) AS identities,
       count(DISTINCT ehr.health_card_id('01', id, mi)) = count(DISTINCT id) AS distinct_ids_distinct_cards,
       bool_and(length(ehr.health_card_id('01', id, mi)) = 64) AS all_64_hex,
       bool_and((ehr.health_card_identity(ehr.health_card_id('01', id, mi), mi)).id_number = id) AS all_round_trip,
       bool_and(ehr.is_valid_resident_id(id)) AS all_valid_ids
  FROM rt;

-- ---- Main index (this project's choice: HMAC-SM3 under ehc_index) ----
SELECT ehr._health_card_main_index('01', '11010020171225006X') AS main_index;
SELECT ehr._health_card_main_index('01', '11010020171225006X')
     = '5345AD2E1F21A0B774C4E86640350F0F03A7A027F84C08957E0B99DF8929C823' AS matches_openssl_hmac_sm3;

-- ---- Cards ----
INSERT INTO ehr.resident (id, name, phone) VALUES
    ('11010020171225006X', '张三', '13800000000'),
    ('110101199003070011', '李四', NULL),
    ('11010119900307002X', '王五', '13900000000'),
    ('110101199003070038', '赵六', '13700000000');
SELECT ehr.issue_health_card('110101199003070046');
SELECT ehr.issue_health_card('11010020171225006X') AS card;
SELECT ehr.issue_health_card('11010020171225006X') AS same_card_again;
SELECT card_id = ehr.health_card_id(id_type, resident::text, main_index) AS id_derived,
       main_index = ehr._health_card_main_index('01', '11010020171225006X') AS index_derived,
       resident, id_type, kind, status
  FROM ehr.health_card;
SELECT ehr.health_card_owner(card_id) FROM ehr.health_card;
SELECT ehr.health_card_owner(lower(card_id)) AS lower_case_too FROM ehr.health_card;
SELECT ehr.health_card_owner(repeat('0', 64));
SELECT ehr.issue_health_card('11010020171225006X', '02');
SELECT ehr.issue_health_card('110101199003070011', kind => 'provisional');
SELECT ehr.issue_health_card('110101199003070011', kind => 'temporary') AS temporary_card;
SELECT kind FROM ehr.health_card WHERE resident = '110101199003070011';
SELECT ehr.issue_health_card('110101199003070011') = card_id AS same_card
  FROM ehr.health_card WHERE resident = '110101199003070011';
SELECT kind AS upgraded FROM ehr.health_card WHERE resident = '110101199003070011';
SELECT ehr.issue_health_card('11010119900307002X');

-- ---- QR payloads ----
SELECT ehr.health_code_static('11010020171225006X') AS static_payload;
-- the validity block of a fixed expiry matches OpenSSL: sm4-ecb, key ehc_protect, 20261129080000 + zeros
SELECT ehr._health_code_dynamic(card_id, '2026-11-29 08:00:00+08') AS dynamic_payload FROM ehr.health_card
 WHERE resident = '11010020171225006X';
SELECT split_part(ehr._health_code_dynamic(card_id, '2026-11-29 00:00:00.999+00'), ':', 3)
     = '20210A15C98D518A38F6A4473BD46B16' AS validity_matches_openssl
  FROM ehr.health_card WHERE resident = '11010020171225006X';
SELECT p.* FROM ehr.health_card c,
       ehr._health_code_parse(ehr._health_code_dynamic(c.card_id, '2026-11-29 08:00:00+08')) p
 WHERE c.resident = '11010020171225006X';
SELECT ehr._health_code_dynamic(repeat('0', 64), 'infinity');
SELECT ehr._health_code_dynamic('nope', now());
-- a resident without a card
SELECT ehr.health_code_static('110101199003070038');
-- issue: a dynamic code expiring ehr.health_code_ttl seconds after the statement, to the second
SHOW ehr.health_code_ttl;
SELECT c.card_id = p.card_id AS own_card, p.kind,
       p.expires_at = date_trunc('second', statement_timestamp() + interval '60 seconds') AS expires_after_ttl
  FROM ehr.health_card c, ehr._health_code_parse(ehr.issue_health_code(c.resident)) p
 WHERE c.resident = '11010020171225006X';
SET ehr.health_code_ttl = '5min';
SELECT p.expires_at = date_trunc('second', statement_timestamp() + interval '5 minutes') AS expires_after_ttl
  FROM ehr.health_card c, ehr._health_code_parse(ehr.issue_health_code(c.resident)) p
 WHERE c.resident = '11010020171225006X';
RESET ehr.health_code_ttl;
SET ehr.health_code_ttl = 0;
SELECT count(*) AS codes_on_record FROM ehr.health_code;
SELECT ehr.issue_health_code('110101199003070038');

-- ---- Resolving (here as superuser; role checks are in test/pgtap/health_card.sql) ----
SELECT ehr.resolve_health_code(ehr.issue_health_code('11010020171225006X')) AS resolved;
SELECT ehr.resolve_health_code(lower(ehr.issue_health_code('11010020171225006X'))) AS lower_case_resolves;
-- every refusal, in the order they are checked
SELECT ehr.resolve_health_code('');
SELECT ehr.resolve_health_code('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928');
SELECT ehr.resolve_health_code('98FF9F2C:1');
SELECT ehr.resolve_health_code('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928:3');
SELECT ehr.resolve_health_code('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928:2');
SELECT ehr.resolve_health_code('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928:2:ABC');
SELECT ehr.resolve_health_code('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928:2:' || repeat('X', 32));
SELECT ehr.resolve_health_code('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928:1:');
-- unknown card (the published vector's card is not issued here)
SELECT ehr.resolve_health_code('98FF9F2C05145CB9305E9D8A57E072BB51180CA49E5BE5E9D41BCE3A9A571928:2:20210A15C98D518A38F6A4473BD46B16');
-- static code without verification
SELECT ehr.resolve_health_code(ehr.health_code_static('11010020171225006X'));
-- tampered validity block: one bit flipped
SELECT ehr.resolve_health_code(c.card_id || ':2:' ||
         upper(encode(set_bit(decode(split_part(ehr.issue_health_code(c.resident), ':', 3), 'hex'), 0, 1 - get_bit(decode(split_part(ehr.issue_health_code(c.resident), ':', 3), 'hex'), 0)), 'hex')))
  FROM ehr.health_card c WHERE c.resident = '11010020171225006X';
-- a block made under another protection key
SELECT ehr.resolve_health_code(c.card_id || ':2:' ||
         upper(encode(ehr._sm4_ecb(true, '\x00112233445566778899aabbccddeeff', '\x20991231235959000000000000000000'), 'hex')))
  FROM ehr.health_card c WHERE c.resident = '11010020171225006X';
-- expired: a payload built for the past
SELECT ehr.resolve_health_code(ehr._health_code_dynamic(c.card_id, '2026-01-01 00:00:00+08'))
  FROM ehr.health_card c WHERE c.resident = '11010020171225006X';
-- a genuine, unexpired block lifted from another card's code is refused (unless this
-- card was issued a code for the same second: ECB over the time alone gives every card
-- the same block for the same expiry, see docs/health-card.md)
DELETE FROM ehr.health_code h USING ehr.health_card c
 WHERE h.card_id = c.card_id AND c.resident = '11010020171225006X';
SELECT ehr.resolve_health_code(a.card_id || ':2:' || split_part(ehr.issue_health_code(b.resident), ':', 3))
  FROM ehr.health_card a, ehr.health_card b
 WHERE a.resident = '11010020171225006X' AND b.resident = '110101199003070011';
-- expiry at the boundary, within one statement (statement_timestamp is fixed):
-- valid until the next whole second, expired at the current whole second
DO $$
DECLARE
    card text := (SELECT card_id FROM ehr.health_card WHERE resident = '11010020171225006X');
    t timestamptz := date_trunc('second', statement_timestamp());
    p text;
BEGIN
    p := ehr._health_code_dynamic(card, t + interval '1 second');
    INSERT INTO ehr.health_code (card_id, validity, expires_at) VALUES (card, split_part(p, ':', 3), t + interval '1 second');
    RAISE NOTICE 'expiring at the next second: resolves to %', ehr.resolve_health_code(p);
    p := ehr._health_code_dynamic(card, t);
    INSERT INTO ehr.health_code (card_id, validity, expires_at) VALUES (card, split_part(p, ':', 3), t);
    BEGIN
        PERFORM ehr.resolve_health_code(p);
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'expiring at this second: % (%)', SQLERRM, SQLSTATE;
    END;
END $$;
-- suspended card: refused; reactivated: resolves again
SELECT ehr.suspend_health_card(card_id) FROM ehr.health_card WHERE resident = '11010020171225006X';
SELECT status FROM ehr.health_card WHERE resident = '11010020171225006X';
SELECT ehr.resolve_health_code(p) FROM ehr.health_card c,
       LATERAL (SELECT ehr._health_code_dynamic(c.card_id, now() + interval '1 minute') AS p) x
 WHERE c.resident = '11010020171225006X';
SELECT ehr.issue_health_code('11010020171225006X');
SELECT ehr.reactivate_health_card(lower(card_id)) FROM ehr.health_card WHERE resident = '11010020171225006X';
SELECT ehr.resolve_health_code(ehr.issue_health_code('11010020171225006X')) AS resolves_again;
SELECT ehr.suspend_health_card(repeat('0', 64));
SELECT ehr.reactivate_health_card('nope');

-- ---- Privileges: only the documented roles reach keys, cards and codes ----
SELECT p.oid::regprocedure AS function,
       array_to_string(ARRAY(SELECT r FROM unnest(ARRAY['public', 'ehr_admin', 'ehr_gateway', 'ehr_terminal', 'ehr_clinician']) r
                              WHERE has_function_privilege(r, p.oid, 'EXECUTE')), ',') AS executable_by,
       p.prosecdef AS definer, p.provolatile, p.proparallel
  FROM pg_proc p
 WHERE p.pronamespace = 'ehr'::regnamespace
   AND (p.proname LIKE '%health%' OR p.proname = '_sm4_ecb')
 ORDER BY p.oid::regprocedure::text;
SELECT c AS relation,
       has_table_privilege('public', c, 'SELECT') AS public_reads,
       has_table_privilege('ehr_terminal', c, 'SELECT') AS terminal_reads,
       has_table_privilege('ehr_admin', c, 'SELECT') AS admin_reads
  FROM unnest(ARRAY['ehr.health_card', 'ehr.health_code']::regclass[]) c;

-- ---- Clean up: fresh random keys, no cards left behind ----
DELETE FROM ehr.health_card;
DELETE FROM ehr.resident WHERE id IN ('11010020171225006X', '110101199003070011', '11010119900307002X', '110101199003070038');
SELECT ehr.rotate_key(k) FROM unnest(ARRAY['ehc_root', 'ehc_index', 'ehc_protect']) k;

-- ==== Scan to authorize, the SMS path and the access log: a database of its own with
-- the consent fixture (hospitals A 兰州大学第二医院 and B 礼县人民医院; practitioner 1 张伟
-- at A through the gateway, 2 李娜 at B; R1 张三 621226198001011236 with a phone,
-- R2 李四 620102199002150024, R4 赵六 621226195507120014 without a phone) ====
CREATE DATABASE ehr_card_regress;
\c ehr_card_regress
SET client_min_messages = warning;
CREATE EXTENSION ehr;
\set ECHO none
\i test/pgtap/fixtures/consent_world.sql
\set ECHO all
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = public, ehr;
CREATE FUNCTION pg_temp.write_key(name text, hex text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT %L) TO %L', hex,
                   current_setting('data_directory') || '/hc_' || name || '.key');
    PERFORM ehr.load_key(name, 'hc_' || name || '.key');
END $$;
SELECT pg_temp.write_key('ehc_root', '0123456789ABCDEFFEDCBA9876543210');
SELECT pg_temp.write_key('ehc_index', '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F');
SELECT ehr.issue_health_card(r) FROM unnest(ARRAY['621226198001011236', '620102199002150024',
                                                   '621226195507120014']::ehr.resident_id[]) r;
SELECT card_id AS r1_card FROM ehr.health_card WHERE resident = '621226198001011236' \gset
SELECT card_id AS r2_card FROM ehr.health_card WHERE resident = '620102199002150024' \gset
SELECT card_id AS r4_card FROM ehr.health_card WHERE resident = '621226195507120014' \gset

-- ---- who may have a dynamic code made: the resident (or an ehr_admin), nobody else ----
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT ehr.issue_health_code('621226198001011236');
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.issue_health_code('621226198001011236');
ROLLBACK;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
SELECT ehr.issue_health_code('621226198001011236') ~ '^[0-9A-F]{64}:2:[0-9A-F]{32}$' AS own_code;
COMMIT;
RESET SESSION AUTHORIZATION;

-- ---- scan to authorize ----
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.request_access('621226198001011236', '{lab,exam}') AS req \gset
SELECT ehr.request_access('621226198001011236', '{emr}') AS req_later \gset
SELECT ehr.request_access('620102199002150024', '{lab}') AS req_r2 \gset
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT ehr.issue_health_code('621226198001011236') AS r1_code \gset
SELECT ehr.issue_health_code('620102199002150024') AS r2_code \gset
SELECT ehr._health_code_dynamic(:'r1_card', '2026-01-01 00:00+08') AS r1_past_code \gset
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT ehr.confirm_access_by_health_code(:req, :'r1_code');             -- nobody acting
BEGIN;
SELECT ehr.act_as(2);
SELECT ehr.confirm_access_by_health_code(:req, :'r1_code');             -- not the requester
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access_by_health_code(999999, :'r1_code');            -- no such request
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access_by_health_code(:req, :'r1_card' || ':1');      -- static code
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access_by_health_code(:req, :'r2_code');              -- another patient's code
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access_by_health_code(:req, 'garbage');               -- malformed
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access_by_health_code(:req, :'r1_past_code');         -- expired code
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access_by_health_code(:req, :'r1_code') AS grant_id \gset
SELECT ehr.confirm_access_by_health_code(:req, :'r1_code');             -- the request is used
ROLLBACK;
RESET SESSION AUTHORIZATION;
-- the rolled-back attempts left the code unused: it authorizes now, once
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access_by_health_code(:req, :'r1_code') > 0 AS granted;
COMMIT;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access_by_health_code(:req_later, :'r1_code');       -- the code is used
ROLLBACK;
BEGIN;
SELECT ehr.act_as(1);
-- the grant opens the requested categories of 张三's records at B to 张伟 at A
SELECT category, count(*) FROM ehr.lab_report WHERE resident = '621226198001011236' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS documents FROM ehr.document WHERE resident = '621226198001011236';
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT g.practitioner, g.resident, g.categories, g.via, g.request = :req AS for_request,
       r.used_at IS NOT NULL AS request_used, r.grant_id = g.id AS request_points_to_grant,
       h.grant_id = g.id AS code_points_to_grant, h.authorized_at IS NOT NULL AS code_used
  FROM ehr.access_grant g
  JOIN ehr.access_request r ON r.id = g.request
  JOIN ehr.health_code h ON h.grant_id = g.id;
-- an expired request cannot be confirmed by scanning either
UPDATE ehr.access_request SET expires_at = '2026-01-01 00:00+08' WHERE id = :req_r2;
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT ehr.confirm_access_by_health_code(:req_r2, :'r2_code');
ROLLBACK;
RESET SESSION AUTHORIZATION;

-- ---- static code + SMS code (a terminal) ----
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hc_regress_terminal') THEN
        CREATE ROLE hc_regress_terminal LOGIN;
    END IF;
END $$;
GRANT ehr_terminal TO hc_regress_terminal;
SET SESSION AUTHORIZATION hc_regress_terminal;
SELECT ehr.resolve_health_code(:'r1_card' || ':1', '123456');           -- nothing sent yet
SELECT ehr.send_health_card_code(:'r1_code');                           -- a dynamic code needs none
SELECT ehr.send_health_card_code(:'r4_card' || ':1');                   -- no phone
SELECT ehr.send_health_card_code(:'r1_card' || ':1') > now() AS sent;
RESET SESSION AUTHORIZATION;
SELECT resident, phone, message ~ '^【电子健康卡】您的电子健康卡正在被扫码核验，验证码[0-9]{6}，[0-9]{2}:[0-9]{2}前有效。' AS message_ok,
       request IS NULL AS no_access_request
  FROM ehr.notification ORDER BY id DESC LIMIT 1;
SELECT substring(message FROM '验证码([0-9]{6})') AS sms FROM ehr.notification ORDER BY id DESC LIMIT 1 \gset
SELECT terminal, expires_at > now() AS open, used_at IS NULL AS unused, length(code_hash) AS hash_bytes
  FROM ehr.health_card_verification;
SET SESSION AUTHORIZATION hc_regress_terminal;
SELECT ehr.resolve_health_code(:'r1_code', :'sms');                      -- SMS code with a dynamic payload
SELECT ehr.resolve_health_code(:'r1_card' || ':1', CASE WHEN :'sms' = '000000' THEN '000001' ELSE '000000' END);
SELECT ehr.resolve_health_code(:'r1_card' || ':1', :'sms');
SELECT ehr.resolve_health_code(:'r1_card' || ':1', :'sms');             -- used
-- five wrong codes lock a verification; a ROLLBACK does not un-count them
SELECT ehr.send_health_card_code(:'r1_card' || ':1') > now() AS sent;
BEGIN;
SELECT ehr.resolve_health_code(:'r1_card' || ':1', 'wrong1');
ROLLBACK;
BEGIN;
SELECT ehr.resolve_health_code(:'r1_card' || ':1', 'wrong2');
ROLLBACK;
SELECT ehr.resolve_health_code(:'r1_card' || ':1', 'wrong3');
SELECT ehr.resolve_health_code(:'r1_card' || ':1', 'wrong4');
SELECT ehr.resolve_health_code(:'r1_card' || ':1', 'wrong5');
RESET SESSION AUTHORIZATION;
SELECT substring(message FROM '验证码([0-9]{6})') AS sms FROM ehr.notification ORDER BY id DESC LIMIT 1 \gset
SET SESSION AUTHORIZATION hc_regress_terminal;
SELECT ehr.resolve_health_code(:'r1_card' || ':1', :'sms');             -- right, but locked
-- an expired SMS code
SELECT ehr.send_health_card_code(:'r1_card' || ':1') > now() AS sent;
RESET SESSION AUTHORIZATION;
UPDATE ehr.health_card_verification SET expires_at = now() - interval '1 second'
 WHERE id = (SELECT max(id) FROM ehr.health_card_verification);
SELECT substring(message FROM '验证码([0-9]{6})') AS sms FROM ehr.notification ORDER BY id DESC LIMIT 1 \gset
SET SESSION AUTHORIZATION hc_regress_terminal;
SELECT ehr.resolve_health_code(:'r1_card' || ':1', :'sms');
-- at most 5 codes per card and hour
SELECT ehr.send_health_card_code(:'r1_card' || ':1') > now() AS sent;
SELECT ehr.send_health_card_code(:'r1_card' || ':1') > now() AS sent;
SELECT ehr.send_health_card_code(:'r1_card' || ':1');
RESET SESSION AUTHORIZATION;

-- a terminal naming a card's holder from its ID is recorded too
SET SESSION AUTHORIZATION hc_regress_terminal;
SELECT ehr.health_card_owner(:'r2_card') AS owner;
RESET SESSION AUTHORIZATION;

-- a refusal reaches the access log with the next success in this database; a success
-- that is rolled back leaves it queued, so it is written exactly once
SELECT ehr.issue_health_code('621226198001011236') AS r1_code2 \gset
SET SESSION AUTHORIZATION hc_regress_terminal;
BEGIN;
SELECT ehr.resolve_health_code(:'r1_code2') AS resolved_then_rolled_back;
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT ehr.resolve_health_code(:'r1_code2') AS resolved_then_rolled_back_to_savepoint;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT ehr.resolve_health_code(:'r1_code2') AS resolved;
RESET SESSION AUTHORIZATION;

-- ---- the access log: successes as they happen, refusals (queued, since the error
-- rolls back its own row) with the next success; actor_role is who wrote the row,
-- role= in the detail who was refused ----
SELECT event, actor_role, practitioner, resident, grant_id IS NOT NULL AS has_grant,
       request_id IS NOT NULL AS has_request, regexp_replace(detail, 'card=[0-9A-F]+', 'card=…') AS detail
  FROM ehr.access_log WHERE event LIKE 'card\_%' ORDER BY id;
SELECT ehr.verify_access_log() IS NULL AS chain_intact;

\c contrib_regression
DROP DATABASE ehr_card_regress;
