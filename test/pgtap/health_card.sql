-- Electronic health card across roles: who may resolve, derive and decrypt; the
-- refusals a terminal sees; expiry through a short ehr.health_code_ttl.
-- Exact messages and SQLSTATEs are in sql/health_card.sql (pg_regress).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET search_path = public, ehr;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hc_tap_terminal') THEN
        CREATE ROLE hc_tap_terminal LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hc_tap_clerk') THEN
        CREATE ROLE hc_tap_clerk LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hc_tap_app') THEN
        CREATE ROLE hc_tap_app LOGIN;
    END IF;
END $$;
GRANT ehr_terminal TO hc_tap_terminal;
GRANT ehr_clinician TO hc_tap_clerk;
GRANT ehr_gateway TO hc_tap_app;
GRANT USAGE ON SCHEMA public TO hc_tap_terminal, hc_tap_clerk, hc_tap_app;

INSERT INTO ehr.resident (id, name, phone) VALUES ('11010020171225006X', '张三', '13800000000');

SELECT plan(24);

-- a card and a fresh code, issued by the application (ehr_gateway)
SET ROLE hc_tap_app;
SELECT lives_ok($$SELECT ehr.issue_health_card('11010020171225006X')$$, 'the gateway issues a card');
CREATE TEMP TABLE code AS SELECT ehr.issue_health_code('11010020171225006X') AS payload;
GRANT SELECT ON code TO PUBLIC;
SELECT matches((SELECT payload FROM code), '^[0-9A-F]{64}:2:[0-9A-F]{32}$', 'a dynamic payload is "<card ID>:2:<validity>"');
SELECT throws_ok($$SELECT ehr.resolve_health_code((SELECT payload FROM code))$$, '42501', NULL,
                 'the gateway may not resolve codes');
SELECT throws_ok($$SELECT ehr.health_card_id('01', '11010020171225006X', repeat('AB', 32))$$, '42501', NULL,
                 'the gateway may not derive card IDs');
RESET ROLE;

-- PUBLIC and a clinician are refused everything keyed
SET ROLE hc_tap_clerk;
SELECT throws_ok($$SELECT ehr.resolve_health_code((SELECT payload FROM code))$$, '42501', NULL,
                 'a clinician may not resolve a scanned code');
SELECT throws_ok($$SELECT ehr.health_card_owner(split_part((SELECT payload FROM code), ':', 1))$$, '42501', NULL,
                 'a clinician may not decrypt a card ID');
SELECT throws_ok($$SELECT ehr.issue_health_code('11010020171225006X')$$, '42501', NULL,
                 'a clinician may not issue codes');
SELECT throws_ok($$SELECT * FROM ehr.health_card$$, '42501', NULL, 'a clinician may not list cards');
SELECT throws_ok($$SELECT ehr._health_code_parse((SELECT payload FROM code))$$, '42501', NULL,
                 'the internal parser (protection key) is not callable');
RESET ROLE;

-- the terminal resolves, and sees each refusal
SET ROLE hc_tap_terminal;
SELECT is(ehr.resolve_health_code((SELECT payload FROM code))::text, '11010020171225006X',
          'a terminal resolves a fresh dynamic code');
SELECT is(ehr.health_card_owner(split_part((SELECT payload FROM code), ':', 1))::text, '11010020171225006X',
          'a terminal decrypts a card ID to its owner');
SELECT throws_ok($$SELECT * FROM ehr.health_card$$, '42501', NULL, 'a terminal may not list cards');
SELECT throws_ok($$SELECT ehr.health_card_id('01', '11010020171225006X', repeat('AB', 32))$$, '42501', NULL,
                 'a terminal may not derive card IDs');
SELECT throws_ok($$SELECT ehr.resolve_health_code('not a code')$$, '22P02', NULL, 'malformed payload');
SELECT throws_ok($$SELECT ehr.resolve_health_code(repeat('0', 64) || ':2:' || split_part((SELECT payload FROM code), ':', 3))$$,
                 '42704', NULL, 'unknown card');
SELECT throws_like($$SELECT ehr.resolve_health_code(split_part(payload, ':', 1) || ':2:' ||
                          translate(split_part(payload, ':', 3), '0123456789ABCDEF', '123456789ABCDEF0')) FROM code$$,
                   '%tampered validity block%', 'tampered validity block');
SELECT throws_like($$SELECT ehr.resolve_health_code(split_part(payload, ':', 1) || ':1') FROM code$$,
                   '%needs an SMS verification code%', 'a static code alone does not resolve');
RESET ROLE;

-- suspended card: refused at the terminal; reactivated: resolves again
SET ROLE hc_tap_app;
SELECT lives_ok($$SELECT ehr.suspend_health_card(split_part((SELECT payload FROM code), ':', 1))$$,
                'the gateway suspends a lost card');
SET ROLE hc_tap_terminal;
SELECT throws_ok($$SELECT ehr.resolve_health_code((SELECT payload FROM code))$$, '55000', NULL,
                 'a suspended card''s code is refused');
SET ROLE hc_tap_app;
SELECT lives_ok($$SELECT ehr.reactivate_health_card(split_part((SELECT payload FROM code), ':', 1))$$,
                'the gateway reactivates it');
SET ROLE hc_tap_terminal;
SELECT is(ehr.resolve_health_code((SELECT payload FROM code))::text, '11010020171225006X',
          'reactivated: the code resolves again');
RESET ROLE;

-- expiry: a 1-second TTL, then wait past it
SET ehr.health_code_ttl = 1;
SET ROLE hc_tap_app;
CREATE TEMP TABLE short_code AS SELECT ehr.issue_health_code('11010020171225006X') AS payload;
GRANT SELECT ON short_code TO PUBLIC;
RESET ROLE;
SELECT ok((SELECT (ehr._health_code_parse(payload)).expires_at <= statement_timestamp() + interval '1 second' FROM short_code),
          'a 1-second TTL gives an expiry at most a second away');
SELECT pg_sleep(1.1);
SET ROLE hc_tap_terminal;
SELECT throws_like($$SELECT ehr.resolve_health_code((SELECT payload FROM short_code))$$, '%has expired%',
                   'after the TTL the code is refused as expired');
RESET ROLE;
RESET ehr.health_code_ttl;
SET ROLE hc_tap_clerk;
SELECT throws_ok($$SET ehr.health_code_ttl = 3600$$, '42501', NULL, 'only a superuser changes ehr.health_code_ttl');
RESET ROLE;

SELECT * FROM finish();
