-- Consent security: nobody forges the actor, hidden rows never leak through
-- user functions, analysts and outsiders see no clinical table, secrets stay put.
\set ON_ERROR_STOP 1
\set QUIET 1
SET search_path = public, ehr;
SET client_min_messages = warning;
\i test/pgtap/fixtures/consent_world.sql
RESET client_min_messages;

-- A leaky user function: records every argument it is shown.
CREATE TABLE public.leaked (v text);
GRANT INSERT, SELECT ON public.leaked TO PUBLIC;
CREATE FUNCTION public.leak(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    RAISE NOTICE 'leak: %', v;
    INSERT INTO public.leaked VALUES (v);
    RETURN true;
END $$;

-- The plan of one resident's chart, as the current role sees it.
CREATE FUNCTION pg_temp.chart_plan() RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; r text := '';
BEGIN
    SET LOCAL enable_seqscan = off;
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT * FROM ehr.lab_result WHERE resident OPERATOR(ehr.=) ''620102199002150024''' LOOP
        r := r || l || E'\n';
    END LOOP;
    RETURN r;
END $$;

SELECT plan(35);

-- ------------------------------------------------------------ forging the actor
SET SESSION AUTHORIZATION ehr_t_plain;
SELECT throws_ok($$SELECT ehr.act_as(1)$$, '42501', NULL, 'a role outside ehr_gateway cannot act_as');
SELECT throws_ok($$SELECT ehr.act_as_resident('621226198001011236')$$, '42501', NULL,
                 '... nor act_as_resident');
SELECT throws_ok($$SET ehr.actor = 'p:1:12620102438000461G'$$, '42501', NULL, 'SET ehr.actor is refused');
SELECT throws_ok($$SET LOCAL ehr.actor = 'p:1:12620102438000461G'$$, '42501', NULL, 'SET LOCAL ehr.actor is refused');
SELECT throws_ok($$SELECT set_config('ehr.actor', 'p:1:12620102438000461G', true)$$, '42501', NULL,
                 'set_config(ehr.actor) is refused');
SELECT throws_ok($$ALTER ROLE ehr_t_plain SET ehr.actor = 'p:1:12620102438000461G'$$, '42501', NULL,
                 'ALTER ROLE ... SET ehr.actor is refused');
SELECT throws_ok($$CREATE FUNCTION public.my_act_as(bigint) RETURNS void AS '$libdir/ehr', 'ehr_act_as' LANGUAGE C$$,
                 '42501', NULL, 'the C entry point cannot be declared by an ordinary role');
SELECT throws_ok($$SET ehr.code_ttl = '1d'$$, '42501', NULL, 'ehr.code_ttl is superuser-only');
SELECT throws_ok($$SET ehr.max_code_attempts = 100$$, '42501', NULL, 'ehr.max_code_attempts is superuser-only');
SELECT throws_ok($$SET ehr.access_log_maintenance = on$$, '42501', NULL, 'ehr.access_log_maintenance is superuser-only');
RESET SESSION AUTHORIZATION;
-- the gateway's actor ends with the transaction, and RESET cannot clear it early
SET SESSION AUTHORIZATION ehr_t_gateway;
BEGIN;
SELECT ehr.act_as(1);
SELECT throws_ok($$RESET ehr.actor$$, '42501', NULL, 'the gateway cannot RESET the actor either (only act_as again)');
ROLLBACK;
SELECT is(ehr.current_practitioner(), NULL, 'after the transaction nobody acts');
RESET SESSION AUTHORIZATION;

-- ------------------------------------------------------------ who may read at all
SET SESSION AUTHORIZATION ehr_t_analyst;
SELECT throws_ok($$SELECT count(*) FROM ehr.lab_result$$, '42501', NULL, 'ehr_analyst cannot read lab_result');
SELECT throws_ok($$SELECT count(*) FROM ehr.lab_report$$, '42501', NULL, '... lab_report');
SELECT throws_ok($$SELECT count(*) FROM ehr.document$$, '42501', NULL, '... document');
SELECT throws_ok($$SELECT count(*) FROM ehr.encounter$$, '42501', NULL, '... encounter');
SELECT throws_ok($$SELECT count(*) FROM ehr.resident$$, '42501', NULL, '... resident');
SELECT throws_ok($$SELECT count(*) FROM ehr.access_grant$$, '42501', NULL, '... the grants');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ehr_t_gateway;
SELECT throws_ok($$SELECT * FROM ehr.notification$$, '42501', NULL, 'only ehr_notifier reads the outbox');
SELECT throws_ok($$SELECT * FROM ehr.keyring$$, '42501', NULL, 'nobody reads the keyring');
SELECT throws_ok($$SELECT ehr._code_hash(1, '123456')$$, '42501', NULL, 'the code MAC is not callable');
SELECT throws_ok($$SELECT ehr._audit('read', 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$, '42501', NULL,
                 'nobody appends to the access log directly');
SELECT throws_ok($$INSERT INTO ehr.access_grant (practitioner, institution, resident, categories, via, expires_at)
                   VALUES (1, '12620102438000461G', '621226198001011236', '{lab}', 'forged', now() + interval '1h')$$,
                 '42501', NULL, 'nobody writes a grant directly');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ehr_t_notifier;
SELECT lives_ok($$SELECT id, phone, message FROM ehr.notification$$, 'ehr_notifier reads the outbox');
RESET SESSION AUTHORIZATION;

-- ------------------------------------------------------------ leaky functions see nothing hidden
SET SESSION AUTHORIZATION ehr_t_gateway;
SET client_min_messages = warning;
BEGIN;
SELECT ehr.act_as(1);
SELECT is((SELECT count(*) FROM ehr.lab_result WHERE public.leak(value_text)), 1::bigint,
          'a doctor at A, filtering with a cheap leaky function, gets A''s one result');
SELECT is((SELECT count(*) FROM ehr.document WHERE public.leak(title)), 0::bigint, '... and no document');
SELECT is((SELECT count(*) FROM ehr.resident WHERE public.leak(name)), 1::bigint, '... and one resident');
COMMIT;
RESET client_min_messages;
RESET SESSION AUTHORIZATION;
SELECT is((SELECT array_agg(v ORDER BY v)::text FROM public.leaked), '{"4.9 mmol/L",李四}',
          'the leaky function was shown only rows the doctor may see');

-- ------------------------------------------------------------ the checks themselves
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = 'ehr.can_access(ehr.resident_id, ehr.category, ehr.org_code)'::regprocedure),
          'r', 'can_access is PARALLEL RESTRICTED (read events are kept by the leader)');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'ehr.can_access(ehr.resident_id, ehr.category, ehr.org_code)'::regprocedure),
          's', 'can_access is STABLE');
SELECT ok(NOT (SELECT proleakproof FROM pg_proc WHERE oid = 'ehr.can_access(ehr.resident_id, ehr.category, ehr.org_code)'::regprocedure),
          'can_access is not LEAKPROOF (it may raise)');
SELECT is((SELECT array_agg(c.relname::text ORDER BY c.relname)::text FROM pg_class c
            WHERE c.relnamespace = 'ehr'::regnamespace AND c.relrowsecurity AND c.relforcerowsecurity),
          '{document,encounter,lab_report,lab_result,resident}', 'RLS is enabled and forced on every clinical table');
SELECT ok(NOT has_function_privilege('public', 'ehr.can_access(ehr.resident_id, ehr.category, ehr.org_code)', 'EXECUTE'),
          'PUBLIC does not execute can_access (the clinical roles do)');

-- the chart of one resident still uses the index under RLS (leakproof comparisons)
SET SESSION AUTHORIZATION ehr_t_zhao;
BEGIN;
SELECT ok(pg_temp.chart_plan() ~ 'Index Cond: \(resident ',
          'one resident''s chart is read through an index under RLS');
COMMIT;
RESET SESSION AUTHORIZATION;

-- ------------------------------------------------------------ DROP EXTENSION leaves the roles
DROP EXTENSION ehr CASCADE;
SELECT is((SELECT count(*) FROM pg_roles WHERE rolname IN ('ehr_admin', 'ehr_gateway', 'ehr_clinician',
          'ehr_analyst', 'ehr_notifier', 'ehr_terminal')), 6::bigint,
          'DROP EXTENSION leaves the group roles (other databases may use them)');

SELECT * FROM finish();
