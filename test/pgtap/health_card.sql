-- Electronic health card across roles: who may issue, resolve, derive and decrypt; the
-- refusals a terminal sees; the SMS path for static codes; expiry through a short
-- ehr.health_code_ttl; suspension; scan to authorize and the access log.
-- Exact messages and SQLSTATEs are in sql/health_card.sql (pg_regress); the race of two
-- sessions scanning one code is test/isolation/specs/health_card_authorize.spec.
-- Roles act through SET SESSION AUTHORIZATION: the extension checks the login role
-- (session_user) for ehr_admin, as a pool connection would present it.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET search_path = public, ehr;
\ir fixtures/consent_world.sql
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hc_tap_terminal') THEN
        CREATE ROLE hc_tap_terminal LOGIN;
    END IF;
END $$;
GRANT ehr_terminal TO hc_tap_terminal;
-- R1 张三 621226198001011236 (phone), R2 李四 620102199002150024; practitioner 4 赵敏
-- logs in as ehr_t_zhao (db_role), practitioner 1 张伟 through the gateway.

SELECT plan(50);

-- ---- issuing: the gateway issues cards; only the resident has a code made ----
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT lives_ok($$SELECT ehr.issue_health_card('621226198001011236')$$, 'the gateway issues a card');
SELECT lives_ok($$SELECT ehr.issue_health_card('620102199002150024')$$, 'and another');
SELECT throws_ok($$SELECT ehr.issue_health_code('621226198001011236')$$, '42501', NULL,
                 'without acting as the resident, the gateway may not have a code made');
BEGIN;
SELECT ehr.act_as(1);
SELECT throws_ok($$SELECT ehr.issue_health_code('621226198001011236')$$, '42501', NULL,
                 'a practitioner acting through the gateway may not mint the patient''s code');
ROLLBACK;
BEGIN;
SELECT ehr.act_as_resident('620102199002150024');
SELECT throws_ok($$SELECT ehr.issue_health_code('621226198001011236')$$, '42501', NULL,
                 'one resident may not have another''s code made');
ROLLBACK;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
CREATE TEMP TABLE code AS SELECT ehr.issue_health_code('621226198001011236') AS payload;
COMMIT;
GRANT SELECT ON code TO PUBLIC;
SELECT matches((SELECT payload FROM code), '^[0-9A-F]{64}:2:[0-9A-F]{32}$',
               'acting as the resident: a dynamic payload "<card ID>:2:<validity>"');
SELECT throws_ok($$SELECT ehr.resolve_health_code((SELECT payload FROM code))$$, '42501', NULL,
                 'the gateway may not resolve codes');
SELECT throws_ok($$SELECT ehr.health_card_id('01', '621226198001011236', repeat('AB', 32))$$, '42501', NULL,
                 'the gateway may not derive card IDs');
RESET SESSION AUTHORIZATION;

-- ---- a clinician is refused everything keyed ----
SET SESSION AUTHORIZATION ehr_t_zhao;
SELECT throws_ok($$SELECT ehr.resolve_health_code((SELECT payload FROM code))$$, '42501', NULL,
                 'a clinician may not resolve a scanned code');
SELECT throws_ok($$SELECT ehr.health_card_owner(split_part((SELECT payload FROM code), ':', 1))$$, '42501', NULL,
                 'a clinician may not decrypt a card ID');
SELECT throws_ok($$SELECT ehr.issue_health_code('621226198001011236')$$, '42501', NULL,
                 'a clinician may not issue codes');
SELECT throws_ok($$SELECT ehr.send_health_card_code(split_part((SELECT payload FROM code), ':', 1) || ':1')$$, '42501', NULL,
                 'a clinician may not send verification codes');
SELECT throws_ok($$SELECT * FROM ehr.health_card$$, '42501', NULL, 'a clinician may not list cards');
SELECT throws_ok($$SELECT * FROM ehr.health_code$$, '42501', NULL, 'a clinician may not list issued codes');
SELECT throws_ok($$SELECT ehr._health_code_parse((SELECT payload FROM code))$$, '42501', NULL,
                 'the internal parser (protection key) is not callable');
RESET SESSION AUTHORIZATION;

-- ---- the terminal resolves, and sees each refusal ----
SET SESSION AUTHORIZATION hc_tap_terminal;
SELECT is(ehr.resolve_health_code((SELECT payload FROM code))::text, '621226198001011236',
          'a terminal resolves a fresh dynamic code');
SELECT is(ehr.resolve_health_code(lower((SELECT payload FROM code)))::text, '621226198001011236',
          'in lower case too');
SELECT is(ehr.health_card_owner(split_part((SELECT payload FROM code), ':', 1))::text, '621226198001011236',
          'a terminal decrypts a card ID to its owner');
SELECT throws_ok($$SELECT * FROM ehr.health_card$$, '42501', NULL, 'a terminal may not list cards');
SELECT throws_ok($$SELECT ehr.health_card_id('01', '621226198001011236', repeat('AB', 32))$$, '42501', NULL,
                 'a terminal may not derive card IDs');
SELECT throws_ok($$SELECT ehr.issue_health_code('621226198001011236')$$, '42501', NULL,
                 'a terminal may not mint codes');
SELECT throws_ok($$SELECT ehr.resolve_health_code('not a code')$$, '22P02', NULL, 'malformed payload');
SELECT throws_ok($$SELECT ehr.resolve_health_code(repeat('0', 64) || ':2:' || split_part((SELECT payload FROM code), ':', 3))$$,
                 '42704', NULL, 'unknown card');
SELECT throws_like($$SELECT ehr.resolve_health_code(split_part(payload, ':', 1) || ':2:' ||
                          translate(split_part(payload, ':', 3), '0123456789ABCDEF', '123456789ABCDEF0')) FROM code$$,
                   '%tampered validity block%', 'tampered validity block');
SELECT throws_like($$SELECT ehr.resolve_health_code(split_part(payload, ':', 1) || ':1') FROM code$$,
                   '%needs an SMS verification code%', 'a static code alone does not resolve');

-- ---- static code + SMS verification through the outbox ----
SELECT throws_like($$SELECT ehr.resolve_health_code(split_part(payload, ':', 1) || ':1', '123456') FROM code$$,
                   '%no SMS verification code was sent%', 'no code sent yet');
SELECT lives_ok($$SELECT ehr.send_health_card_code(split_part(payload, ':', 1) || ':1') FROM code$$,
                'the terminal has a code sent to the holder''s phone');
RESET SESSION AUTHORIZATION;
CREATE TEMP TABLE sms AS
SELECT substring(message FROM '验证码([0-9]{6})') AS code, phone FROM ehr.notification ORDER BY id DESC LIMIT 1;
GRANT SELECT ON sms TO PUBLIC;
SELECT is((SELECT phone FROM sms), '13800000001', 'the code went to the card holder''s phone (ehr.notification)');
SET SESSION AUTHORIZATION hc_tap_terminal;
SELECT throws_ok($$SELECT ehr.resolve_health_code(split_part(payload, ':', 1) || ':1',
                          CASE WHEN (SELECT code FROM sms) = '000000' THEN '000001' ELSE '000000' END) FROM code$$,
                 '28P01', NULL, 'a wrong SMS code is refused');
SELECT is(ehr.resolve_health_code(split_part(payload, ':', 1) || ':1', (SELECT code FROM sms))::text,
          '621226198001011236', 'static code + the right SMS code resolves')
  FROM code;
SELECT throws_like($$SELECT ehr.resolve_health_code(split_part(payload, ':', 1) || ':1', (SELECT code FROM sms)) FROM code$$,
                   '%has already been used%', 'an SMS code resolves once');
RESET SESSION AUTHORIZATION;

-- ---- suspended card: refused at the terminal; reactivated: resolves again ----
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT lives_ok($$SELECT ehr.suspend_health_card(split_part((SELECT payload FROM code), ':', 1))$$,
                'the gateway suspends a lost card');
SET SESSION AUTHORIZATION hc_tap_terminal;
SELECT throws_ok($$SELECT ehr.resolve_health_code((SELECT payload FROM code))$$, '55000', NULL,
                 'a suspended card''s code is refused');
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT lives_ok($$SELECT ehr.reactivate_health_card(split_part((SELECT payload FROM code), ':', 1))$$,
                'the gateway reactivates it');
SET SESSION AUTHORIZATION hc_tap_terminal;
SELECT is(ehr.resolve_health_code((SELECT payload FROM code))::text, '621226198001011236',
          'reactivated: the code resolves again');
RESET SESSION AUTHORIZATION;

-- ---- expiry: a 1-second TTL, then wait past it ----
SET ehr.health_code_ttl = 1;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
CREATE TEMP TABLE short_code AS SELECT ehr.issue_health_code('621226198001011236') AS payload;
COMMIT;
GRANT SELECT ON short_code TO PUBLIC;
SELECT ok((SELECT (ehr._health_code_parse(payload)).expires_at <= statement_timestamp() + interval '1 second' FROM short_code),
          'a 1-second TTL gives an expiry at most a second away');
SELECT pg_sleep(1.1);
SET SESSION AUTHORIZATION hc_tap_terminal;
SELECT throws_like($$SELECT ehr.resolve_health_code((SELECT payload FROM short_code))$$, '%has expired%',
                   'after the TTL the code is refused as expired');
RESET SESSION AUTHORIZATION;
RESET ehr.health_code_ttl;
SET SESSION AUTHORIZATION ehr_t_zhao;
SELECT throws_ok($$SET ehr.health_code_ttl = 3600$$, '42501', NULL, 'only a superuser changes ehr.health_code_ttl');
RESET SESSION AUTHORIZATION;

-- ---- scan to authorize: 赵敏 (practitioner 4, logs in as ehr_t_zhao) asks for 张三's lab ----
SET SESSION AUTHORIZATION ehr_t_zhao;
SELECT is((SELECT count(*) FROM ehr.lab_result WHERE resident = '621226198001011236'), 0::bigint,
          'before: the doctor sees none of 张三''s lab results from another hospital');
CREATE TEMP TABLE req AS SELECT ehr.request_access('621226198001011236', '{lab}') AS id;
RESET SESSION AUTHORIZATION;
GRANT SELECT ON req TO PUBLIC;
BEGIN;
SELECT ehr.act_as_resident('621226198001011236');
CREATE TEMP TABLE scan AS SELECT ehr.issue_health_code('621226198001011236') AS payload;
COMMIT;
GRANT SELECT ON scan TO PUBLIC;
BEGIN;
SELECT ehr.act_as_resident('620102199002150024');
CREATE TEMP TABLE other AS SELECT ehr.issue_health_code('620102199002150024') AS payload;
COMMIT;
GRANT SELECT ON other TO PUBLIC;
SET SESSION AUTHORIZATION hc_tap_terminal;
SELECT throws_ok($$SELECT ehr.confirm_access_by_health_code((SELECT id FROM req), (SELECT payload FROM scan))$$,
                 '42501', NULL, 'a terminal may not confirm access');
SET SESSION AUTHORIZATION ehr_t_zhao;
SELECT throws_like($$SELECT ehr.confirm_access_by_health_code((SELECT id FROM req), (SELECT payload FROM other))$$,
                   '%does not belong to the resident of access request%', 'another patient''s code does not authorize');
SELECT throws_like($$SELECT ehr.confirm_access_by_health_code((SELECT id FROM req), split_part((SELECT payload FROM scan), ':', 1) || ':1')$$,
                   '%static health code%cannot authorize%', 'the static code does not authorize');
SELECT ok(ehr.confirm_access_by_health_code((SELECT id FROM req), (SELECT payload FROM scan)) > 0,
          'the patient''s dynamic code authorizes the doctor');
SELECT is((SELECT count(*) FROM ehr.lab_result WHERE resident = '621226198001011236'), 2::bigint,
          'after: the doctor sees 张三''s two lab results');
SELECT is((SELECT count(*) FROM ehr.lab_report WHERE resident = '621226198001011236' AND category = 'exam'), 0::bigint,
          'but not the exam report: only lab was requested');
CREATE TEMP TABLE req2 AS SELECT ehr.request_access('621226198001011236', '{exam}') AS id;
SELECT throws_like($$SELECT ehr.confirm_access_by_health_code((SELECT id FROM req2), (SELECT payload FROM scan))$$,
                   '%has already authorized an access%', 'the same dynamic code authorizes only once');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT via || ':' || request::text || ':' || array_to_string(categories, ',') FROM ehr.access_grant
            WHERE id = (SELECT grant_id FROM ehr.access_request WHERE id = (SELECT id FROM req))),
          'health_card:' || (SELECT id FROM req)::text || ':lab', 'the grant is recorded as made via the health card, for the request');

-- ---- the access log: every resolution, code sent and authorization ----
SELECT ok((SELECT count(*) FROM ehr.access_log WHERE event = 'card_resolved' AND detail LIKE 'role=hc_tap_terminal %outcome=resolved%') >= 4,
          'resolutions are in the access log with the terminal role');
SELECT ok(EXISTS (SELECT 1 FROM ehr.access_log WHERE event = 'card_code_sent' AND resident = '621226198001011236'),
          'the SMS code sent is in the access log');
SELECT ok(EXISTS (SELECT 1 FROM ehr.access_log WHERE event = 'card_authorized' AND practitioner = 4
                     AND request_id = (SELECT id FROM req) AND grant_id IS NOT NULL),
          'the scan-to-authorize is in the access log with practitioner, request and grant');

SELECT * FROM finish();
