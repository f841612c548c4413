-- Consent and authorization (DESIGN sections 4-5): who is acting, the sharing
-- switches a resident controls, access requests with one-time codes, grants,
-- break-glass, and the outbox the SMS gateway reads.
--
-- Nothing here is granted to PUBLIC except the checks row-level security calls
-- (they reveal nothing a caller could not already see). The flow functions are
-- SECURITY DEFINER: they write tables no caller may write directly, and they take
-- the acting practitioner from ehr.current_practitioner(), never from an argument.
-- "An ehr_admin" below means a session whose login role (session_user) is a member
-- of ehr_admin: inside a SECURITY DEFINER function current_user is the owner.

-- ---------------------------------------------------------------- who is acting
CREATE FUNCTION ehr.act_as(practitioner bigint) RETURNS void
    AS 'MODULE_PATHNAME', 'ehr_act_as'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr.act_as(bigint) IS
    'Act as a practitioner until the end of the transaction (members of ehr_gateway only)';
REVOKE ALL ON FUNCTION ehr.act_as(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.act_as(bigint) TO ehr_gateway;

CREATE FUNCTION ehr.act_as_resident(resident ehr.resident_id) RETURNS void
    AS 'MODULE_PATHNAME', 'ehr_act_as_resident'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr.act_as_resident(ehr.resident_id) IS
    'Act as a resident (the patient) until the end of the transaction (members of ehr_gateway only)';
REVOKE ALL ON FUNCTION ehr.act_as_resident(ehr.resident_id) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.act_as_resident(ehr.resident_id) TO ehr_gateway;

CREATE FUNCTION ehr.current_practitioner() RETURNS bigint
    AS 'MODULE_PATHNAME', 'ehr_current_practitioner'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ehr.current_practitioner() IS
    'The acting practitioner (act_as, else the practitioner mapped to the session role), or NULL';
REVOKE ALL ON FUNCTION ehr.current_practitioner() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.current_practitioner() TO ehr_clinician, ehr_gateway, ehr_admin;

CREATE FUNCTION ehr.current_institution() RETURNS ehr.org_code
    AS 'MODULE_PATHNAME', 'ehr_current_institution'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ehr.current_institution() IS
    'Institution of the acting practitioner, or NULL';
REVOKE ALL ON FUNCTION ehr.current_institution() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.current_institution() TO ehr_clinician, ehr_gateway, ehr_admin;

CREATE FUNCTION ehr.current_resident() RETURNS ehr.resident_id
    AS 'MODULE_PATHNAME', 'ehr_current_resident'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ehr.current_resident() IS
    'The resident acting through act_as_resident, or NULL';
REVOKE ALL ON FUNCTION ehr.current_resident() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.current_resident() TO ehr_clinician, ehr_gateway, ehr_admin;

-- ---------------------------------------------------------------- resident's switches
CREATE TABLE ehr.sharing (
    resident   ehr.resident_id NOT NULL,
    category   ehr.category NOT NULL,
    open       boolean NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT sharing_pkey PRIMARY KEY (resident, category)
);
REVOKE ALL ON ehr.sharing FROM PUBLIC;
GRANT SELECT ON ehr.sharing TO ehr_admin;
COMMENT ON TABLE ehr.sharing IS
    'Sharing switches: whether a resident shares a category with other institutions (no row = open)';
COMMENT ON COLUMN ehr.sharing.resident IS 'The resident';
COMMENT ON COLUMN ehr.sharing.category IS 'Record category the switch governs';
COMMENT ON COLUMN ehr.sharing.open IS 'true: shared under a grant; false: hidden from other institutions even under a grant';
COMMENT ON COLUMN ehr.sharing.changed_at IS 'When the resident last changed it';
SELECT pg_catalog.pg_extension_config_dump('ehr.sharing', '');

CREATE TABLE ehr.research_use (
    resident   ehr.resident_id PRIMARY KEY,
    allowed    boolean NOT NULL DEFAULT true,
    changed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON ehr.research_use FROM PUBLIC;
GRANT SELECT ON ehr.research_use TO ehr_admin;
COMMENT ON TABLE ehr.research_use IS
    'Whether a resident''s rows appear in de-identified views (no row = allowed)';
COMMENT ON COLUMN ehr.research_use.resident IS 'The resident';
COMMENT ON COLUMN ehr.research_use.allowed IS 'false: left out of every ehr_deid view';
COMMENT ON COLUMN ehr.research_use.changed_at IS 'When the resident last changed it';
SELECT pg_catalog.pg_extension_config_dump('ehr.research_use', '');

-- ---------------------------------------------------------------- care relations
-- Which institutions hold a record of a resident: the resident table's row check
-- (ehr.can_see_resident) probes this once per distinct resident instead of
-- searching four clinical tables. Kept by statement triggers (55-audit.sql).
CREATE TABLE ehr.resident_institution (
    resident    ehr.resident_id NOT NULL,
    institution ehr.org_code NOT NULL,
    CONSTRAINT resident_institution_pkey PRIMARY KEY (resident, institution)
);
REVOKE ALL ON ehr.resident_institution FROM PUBLIC;
GRANT SELECT ON ehr.resident_institution TO ehr_admin;
COMMENT ON TABLE ehr.resident_institution IS
    'Institutions holding a record or encounter of a resident (kept by triggers; drives resident row visibility)';
COMMENT ON COLUMN ehr.resident_institution.resident IS 'The resident';
COMMENT ON COLUMN ehr.resident_institution.institution IS 'An institution with an encounter or record of the resident';
SELECT pg_catalog.pg_extension_config_dump('ehr.resident_institution', '');

-- ---------------------------------------------------------------- requests and grants
CREATE TABLE ehr.access_request (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    practitioner bigint NOT NULL REFERENCES ehr.practitioner (id),
    institution  ehr.org_code NOT NULL,
    resident     ehr.resident_id NOT NULL,
    categories   ehr.category[] NOT NULL
                 CONSTRAINT access_request_categories_not_empty
                 CHECK (pg_catalog.cardinality(categories) OPERATOR(pg_catalog.>) 0),
    code_hash    bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    grant_id     bigint
);
CREATE INDEX access_request_practitioner_idx ON ehr.access_request (practitioner, created_at);
REVOKE ALL ON ehr.access_request FROM PUBLIC;
GRANT SELECT (id, practitioner, institution, resident, categories, created_at, expires_at, used_at, grant_id)
    ON ehr.access_request TO ehr_admin;
COMMENT ON TABLE ehr.access_request IS
    'Requests to see a resident''s records; the one-time code is kept only as a keyed hash';
COMMENT ON COLUMN ehr.access_request.id IS 'Request id, passed to confirm_access';
COMMENT ON COLUMN ehr.access_request.practitioner IS 'Practitioner who asked (the only one who may confirm)';
COMMENT ON COLUMN ehr.access_request.institution IS 'Their institution at the time';
COMMENT ON COLUMN ehr.access_request.resident IS 'The resident whose records are asked for';
COMMENT ON COLUMN ehr.access_request.categories IS 'Categories asked for';
COMMENT ON COLUMN ehr.access_request.code_hash IS 'HMAC-SM3 of the request id and code under keyring key access_code';
COMMENT ON COLUMN ehr.access_request.created_at IS 'When the code was sent';
COMMENT ON COLUMN ehr.access_request.expires_at IS 'When the code stops working (created_at + ehr.code_ttl)';
COMMENT ON COLUMN ehr.access_request.used_at IS 'When the code was confirmed (single use)';
COMMENT ON COLUMN ehr.access_request.grant_id IS 'The grant it produced';
SELECT pg_catalog.pg_extension_config_dump('ehr.access_request', '');

CREATE FUNCTION ehr._category_bits(categories ehr.category[]) RETURNS smallint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(pg_catalog.sum(DISTINCT (1 OPERATOR(pg_catalog.<<) (pg_catalog.array_position(
               pg_catalog.enum_range(NULL::ehr.category), c) OPERATOR(pg_catalog.-) 1))), 0)::smallint
      FROM pg_catalog.unnest(categories) AS c
$$;
COMMENT ON FUNCTION ehr._category_bits(ehr.category[]) IS
    'Internal: categories as bits in enum order (lab 1, exam 2, emr 4, archive 8)';

CREATE TABLE ehr.access_grant (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    practitioner bigint NOT NULL REFERENCES ehr.practitioner (id),
    institution  ehr.org_code NOT NULL,
    resident     ehr.resident_id NOT NULL,
    categories   ehr.category[] NOT NULL,
    -- the categories as bits (lab 1, exam 2, emr 4, archive 8): can_access reads this
    category_bits smallint NOT NULL GENERATED ALWAYS AS (ehr._category_bits(categories)) STORED,
    via          text NOT NULL
                 CONSTRAINT access_grant_via_not_empty CHECK (via OPERATOR(pg_catalog.<>) ''),
    request      bigint REFERENCES ehr.access_request (id),
    break_glass  boolean NOT NULL DEFAULT false,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    reviewed_at  timestamptz,
    reviewed_by  name,
    review_note  text,
    CONSTRAINT access_grant_break_glass_reason
        CHECK (NOT break_glass OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.<>) '')
);
-- can_access loads the acting practitioner's grants through this index, once per query.
CREATE INDEX access_grant_practitioner_idx ON ehr.access_grant (practitioner);
CREATE INDEX access_grant_request_idx ON ehr.access_grant (request);
CREATE INDEX access_grant_unreviewed_idx ON ehr.access_grant (created_at)
    WHERE break_glass AND reviewed_at IS NULL;
REVOKE ALL ON ehr.access_grant FROM PUBLIC;
GRANT SELECT ON ehr.access_grant TO ehr_admin;
COMMENT ON TABLE ehr.access_grant IS
    'Authorizations: a practitioner may see categories of a resident''s records until expiry or end_access';
COMMENT ON COLUMN ehr.access_grant.id IS 'Grant id (returned by confirm_access and break_glass)';
COMMENT ON COLUMN ehr.access_grant.practitioner IS 'Practitioner the grant is for';
COMMENT ON COLUMN ehr.access_grant.institution IS 'Their institution when granted';
COMMENT ON COLUMN ehr.access_grant.resident IS 'Resident whose records it opens';
COMMENT ON COLUMN ehr.access_grant.categories IS 'Categories it opens (all four for break-glass)';
COMMENT ON COLUMN ehr.access_grant.category_bits IS 'The categories as bits (lab 1, exam 2, emr 4, archive 8), for ehr.can_access';
COMMENT ON COLUMN ehr.access_grant.via IS 'How consent was given: sms_code, break_glass, or a caller''s verification (health_card)';
COMMENT ON COLUMN ehr.access_grant.request IS 'The access request it came from (sms_code)';
COMMENT ON COLUMN ehr.access_grant.break_glass IS 'Emergency access: ignores closed sharing switches; reviewed afterwards';
COMMENT ON COLUMN ehr.access_grant.reason IS 'Why break-glass was needed';
COMMENT ON COLUMN ehr.access_grant.created_at IS 'When granted';
COMMENT ON COLUMN ehr.access_grant.expires_at IS 'When it ends by itself (ehr.grant_ttl or ehr.break_glass_ttl)';
COMMENT ON COLUMN ehr.access_grant.ended_at IS 'When end_access closed it';
COMMENT ON COLUMN ehr.access_grant.reviewed_at IS 'When an ehr_admin reviewed the break-glass access';
COMMENT ON COLUMN ehr.access_grant.reviewed_by IS 'Who reviewed it';
COMMENT ON COLUMN ehr.access_grant.review_note IS 'The reviewer''s note';
SELECT pg_catalog.pg_extension_config_dump('ehr.access_grant', '');

-- Every change to grants or switches tells the backends that cache grants
-- (src/consent.c). ENABLE ALWAYS: they fire under session_replication_role = replica too.
CREATE FUNCTION ehr.consent_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ehr_consent_changed'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr.consent_changed() IS
    'Trigger: grants or sharing switches changed; cached grants are out of date';
REVOKE ALL ON FUNCTION ehr.consent_changed() FROM PUBLIC;
CREATE TRIGGER access_grant_changed AFTER INSERT OR UPDATE OR DELETE ON ehr.access_grant
    FOR EACH STATEMENT EXECUTE FUNCTION ehr.consent_changed();
CREATE TRIGGER access_grant_truncated AFTER TRUNCATE ON ehr.access_grant
    FOR EACH STATEMENT EXECUTE FUNCTION ehr.consent_changed();
CREATE TRIGGER sharing_changed AFTER INSERT OR UPDATE OR DELETE ON ehr.sharing
    FOR EACH STATEMENT EXECUTE FUNCTION ehr.consent_changed();
CREATE TRIGGER sharing_truncated AFTER TRUNCATE ON ehr.sharing
    FOR EACH STATEMENT EXECUTE FUNCTION ehr.consent_changed();
ALTER TABLE ehr.access_grant ENABLE ALWAYS TRIGGER access_grant_changed;
ALTER TABLE ehr.access_grant ENABLE ALWAYS TRIGGER access_grant_truncated;
ALTER TABLE ehr.sharing ENABLE ALWAYS TRIGGER sharing_changed;
ALTER TABLE ehr.sharing ENABLE ALWAYS TRIGGER sharing_truncated;

-- ---------------------------------------------------------------- outbox
CREATE TABLE ehr.notification (
    id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    resident   ehr.resident_id NOT NULL,
    phone      text NOT NULL,
    message    text NOT NULL,
    request    bigint REFERENCES ehr.access_request (id),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    sent_at    timestamptz
);
CREATE INDEX notification_request_idx ON ehr.notification (request);
CREATE INDEX notification_unsent_idx ON ehr.notification (id) WHERE sent_at IS NULL;
REVOKE ALL ON ehr.notification FROM PUBLIC;
GRANT SELECT, UPDATE (sent_at) ON ehr.notification TO ehr_notifier;
COMMENT ON TABLE ehr.notification IS
    'Outbox of messages to residents'' phones (one-time codes); read only by ehr_notifier, announced with NOTIFY ehr_notification';
COMMENT ON COLUMN ehr.notification.id IS 'Notification id (the NOTIFY payload)';
COMMENT ON COLUMN ehr.notification.resident IS 'Recipient';
COMMENT ON COLUMN ehr.notification.phone IS 'Recipient''s phone number';
COMMENT ON COLUMN ehr.notification.message IS 'Text to send (contains the one-time code)';
COMMENT ON COLUMN ehr.notification.request IS 'The access request it announces';
COMMENT ON COLUMN ehr.notification.created_at IS 'When it was queued';
COMMENT ON COLUMN ehr.notification.sent_at IS 'When the gateway sent it (set by ehr_notifier)';
SELECT pg_catalog.pg_extension_config_dump('ehr.notification', '');

SELECT pg_catalog.pg_extension_config_dump('ehr.access_request_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ehr.access_grant_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ehr.notification_id_seq', '');

-- ---------------------------------------------------------------- the checks
-- Row-level security calls these as the querying role: the roles that may read or
-- write clinical tables execute them (PUBLIC does not: the tables grant it nothing). PARALLEL RESTRICTED: a permitted cross-institution read is noted in the
-- leader's memory and written to ehr.access_log at commit; a parallel worker could
-- not hand its notes back (the actor itself would reach workers: it is a setting).
CREATE FUNCTION ehr.can_access(resident ehr.resident_id, category ehr.category, origin ehr.org_code)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'ehr_can_access'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
    -- COST 100: the planner then runs a query's own LEAKPROOF filters (resident = …)
    -- before the policy, so a read is noted only for rows the query can return.
    COST 100;
COMMENT ON FUNCTION ehr.can_access(ehr.resident_id, ehr.category, ehr.org_code) IS
    'Row check of every clinical table: may the actor see this resident''s record of this category from this origin';
REVOKE ALL ON FUNCTION ehr.can_access(ehr.resident_id, ehr.category, ehr.org_code) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.can_access(ehr.resident_id, ehr.category, ehr.org_code) TO ehr_clinician, ehr_gateway, ehr_admin;

CREATE FUNCTION ehr.can_see_resident(resident ehr.resident_id) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ehr_can_see_resident'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
    COST 100;					-- as can_access: cheaper LEAKPROOF filters first
COMMENT ON FUNCTION ehr.can_see_resident(ehr.resident_id) IS
    'Row check of ehr.resident: the resident, institutions holding their records, practitioners with a grant';
REVOKE ALL ON FUNCTION ehr.can_see_resident(ehr.resident_id) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.can_see_resident(ehr.resident_id) TO ehr_clinician, ehr_gateway, ehr_admin;

-- ---------------------------------------------------------------- internal C helpers
-- Called only by the SECURITY DEFINER functions below (as the owner).
CREATE FUNCTION ehr._new_code() RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_new_code'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr._new_code() IS 'Internal: a 6-digit one-time code from the CSPRNG';
REVOKE ALL ON FUNCTION ehr._new_code() FROM PUBLIC;

CREATE FUNCTION ehr._code_hash(request bigint, code text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ehr_code_hash'
    LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr._code_hash(bigint, text) IS 'Internal: HMAC-SM3 of a request''s one-time code';
REVOKE ALL ON FUNCTION ehr._code_hash(bigint, text) FROM PUBLIC;

CREATE FUNCTION ehr._check_code(request bigint, practitioner bigint, resident ehr.resident_id,
                                code text, code_hash bytea, expires_at timestamptz, used boolean)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ehr_check_code'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr._check_code(bigint, bigint, ehr.resident_id, text, bytea, timestamptz, boolean) IS
    'Internal: check a one-time code; failures counted in shared memory and logged; raises on failure';
REVOKE ALL ON FUNCTION ehr._check_code(bigint, bigint, ehr.resident_id, text, bytea, timestamptz, boolean) FROM PUBLIC;

CREATE FUNCTION ehr._code_refused(request bigint, practitioner bigint, resident ehr.resident_id, why text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ehr_code_refused'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr._code_refused(bigint, bigint, ehr.resident_id, text) IS
    'Internal: record a refused confirmation (server log and, later, the access log)';
REVOKE ALL ON FUNCTION ehr._code_refused(bigint, bigint, ehr.resident_id, text) FROM PUBLIC;

CREATE FUNCTION ehr.code_attempts(request bigint) RETURNS integer
    AS 'MODULE_PATHNAME', 'ehr_code_attempts'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr.code_attempts(bigint) IS
    'Wrong codes entered so far for a request (shared memory; ehr_admin)';
REVOKE ALL ON FUNCTION ehr.code_attempts(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.code_attempts(bigint) TO ehr_admin;

CREATE FUNCTION ehr._audit(event text, practitioner bigint, institution ehr.org_code,
                           resident ehr.resident_id, category ehr.category, origin ehr.org_code,
                           grant_id bigint, request_id bigint, detail text)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ehr_audit'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr._audit(text, bigint, ehr.org_code, ehr.resident_id, ehr.category, ehr.org_code, bigint, bigint, text) IS
    'Internal: append an event to ehr.access_log';
REVOKE ALL ON FUNCTION ehr._audit(text, bigint, ehr.org_code, ehr.resident_id, ehr.category, ehr.org_code, bigint, bigint, text) FROM PUBLIC;

-- The acting practitioner, or an error naming what is missing.
CREATE FUNCTION ehr._require_practitioner() RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p bigint := ehr.current_practitioner();
BEGIN
    IF p IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = 'no practitioner is acting in this transaction',
            DETAIL = 'Only a practitioner may do this: an ehr_gateway pool calls ehr.act_as(practitioner) first, or the practitioner connects with the role mapped in ehr.practitioner.db_role.';
    END IF;
    RETURN p;
END
$$;
COMMENT ON FUNCTION ehr._require_practitioner() IS 'Internal: the acting practitioner, or an error';
REVOKE ALL ON FUNCTION ehr._require_practitioner() FROM PUBLIC;

CREATE FUNCTION ehr._category_names(categories ehr.category[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.string_agg(CASE c::text WHEN 'lab' THEN '检验' WHEN 'exam' THEN '检查'
                                              WHEN 'emr' THEN '电子病历' ELSE '健康档案' END, '、' ORDER BY c)
      FROM pg_catalog.unnest(categories) AS c
$$;
COMMENT ON FUNCTION ehr._category_names(ehr.category[]) IS 'Internal: Chinese names of categories for SMS text';

-- ---------------------------------------------------------------- the flow
CREATE FUNCTION ehr.request_access(resident ehr.resident_id,
                                   categories ehr.category[] DEFAULT '{lab,exam,emr,archive}')
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p        bigint := ehr._require_practitioner();
    cats     ehr.category[];
    inst     ehr.org_code;
    inst_name text;
    p_name   text;
    r_phone  text;
    n        bigint;
    req      bigint;
    nid      bigint;
    code     text;
    expires  timestamptz;
BEGIN
    SELECT pg_catalog.array_agg(DISTINCT c ORDER BY c) INTO cats FROM pg_catalog.unnest(categories) AS c
     WHERE c IS NOT NULL;
    IF cats IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = 'no category requested',
            DETAIL = 'An access request names at least one of the categories lab, exam, emr, archive.';
    END IF;
    SELECT pr.institution, i.name, pr.name INTO inst, inst_name, p_name
      FROM ehr.practitioner pr JOIN ehr.institution i ON i.org OPERATOR(ehr.=) pr.institution
     WHERE pr.id OPERATOR(pg_catalog.=) p;
    SELECT r.phone INTO r_phone FROM ehr.resident r WHERE r.id OPERATOR(ehr.=) request_access.resident;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = pg_catalog.format('resident %s is not registered', resident),
            DETAIL = 'Access can be requested only for a resident in ehr.resident, whose phone receives the code.';
    END IF;
    IF r_phone IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '55000',
            MESSAGE = pg_catalog.format('resident %s has no phone number', resident),
            DETAIL = 'The one-time code is sent to the resident''s phone; record it in ehr.resident.phone first, or use break_glass in an emergency.';
    END IF;

    -- Limits, so codes cannot be farmed: open requests per (practitioner, resident)
    -- and requests per practitioner in the last hour.
    SELECT pg_catalog.count(*) INTO n FROM ehr.access_request a
     WHERE a.practitioner OPERATOR(pg_catalog.=) p AND a.resident OPERATOR(ehr.=) request_access.resident
       AND a.used_at IS NULL AND a.expires_at OPERATOR(pg_catalog.>) pg_catalog.now();
    IF n OPERATOR(pg_catalog.>=) pg_catalog.current_setting('ehr.max_open_requests')::int THEN
        RAISE EXCEPTION USING ERRCODE = '53400',
            MESSAGE = pg_catalog.format('too many open access requests for resident %s', resident),
            DETAIL = pg_catalog.format('A practitioner may have at most %s unconfirmed, unexpired requests per resident (ehr.max_open_requests).',
                                       pg_catalog.current_setting('ehr.max_open_requests'));
    END IF;
    SELECT pg_catalog.count(*) INTO n FROM ehr.access_request a
     WHERE a.practitioner OPERATOR(pg_catalog.=) p
       AND a.created_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 hour');
    IF n OPERATOR(pg_catalog.>=) pg_catalog.current_setting('ehr.max_requests_per_hour')::int THEN
        RAISE EXCEPTION USING ERRCODE = '53400',
            MESSAGE = 'too many access requests in the last hour',
            DETAIL = pg_catalog.format('A practitioner may send at most %s requests per hour (ehr.max_requests_per_hour).',
                                       pg_catalog.current_setting('ehr.max_requests_per_hour'));
    END IF;

    req := pg_catalog.nextval('ehr.access_request_id_seq');
    code := ehr._new_code();
    expires := pg_catalog.now() OPERATOR(pg_catalog.+) pg_catalog.current_setting('ehr.code_ttl')::interval;
    INSERT INTO ehr.access_request (id, practitioner, institution, resident, categories, code_hash, expires_at)
    VALUES (req, p, inst, resident, cats, ehr._code_hash(req, code), expires);
    PERFORM ehr._audit('request', p, inst, resident, NULL, NULL, NULL, req,
                       pg_catalog.array_to_string(cats, ','));

    INSERT INTO ehr.notification (resident, phone, message, request)
    VALUES (resident, r_phone,
            pg_catalog.format('【%s】%s医生申请调阅您的%s记录。授权码%s，%s前有效。如同意，请将授权码告知医生；如非本人就诊，请勿告知他人。',
                              inst_name, p_name, ehr._category_names(cats), code,
                              pg_catalog.to_char(expires AT TIME ZONE 'Asia/Shanghai', 'HH24:MI')),
            req)
    RETURNING id INTO nid;
    code := NULL;
    PERFORM pg_catalog.pg_notify('ehr_notification', nid::text);
    PERFORM ehr._audit('code_sent', p, inst, resident, NULL, NULL, NULL, req,
                       pg_catalog.format('notification %s', nid));
    RETURN req;
END
$$;
COMMENT ON FUNCTION ehr.request_access(ehr.resident_id, ehr.category[]) IS
    'The acting practitioner asks to see a resident''s records: a one-time code goes to the resident''s phone; returns the request id';
REVOKE ALL ON FUNCTION ehr.request_access(ehr.resident_id, ehr.category[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.request_access(ehr.resident_id, ehr.category[]) TO ehr_clinician, ehr_gateway;

CREATE FUNCTION ehr.confirm_access(request bigint, code text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p   bigint := ehr._require_practitioner();
    r   ehr.access_request;
    rid ehr.resident_id;
    g   bigint;
BEGIN
    -- The row lock makes the code single use: a second confirmer waits here and
    -- then sees used_at set. The lock names the resident too (a request's resident
    -- never changes), so that on Citus it routes to the resident's shard
    -- (docs/scale-out.md); on one node it is the same row.
    SELECT a.resident INTO rid FROM ehr.access_request a WHERE a.id OPERATOR(pg_catalog.=) request;
    SELECT * INTO r FROM ehr.access_request a
     WHERE a.resident OPERATOR(ehr.=) rid AND a.id OPERATOR(pg_catalog.=) request FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '42704',
            MESSAGE = pg_catalog.format('access request %s does not exist', request),
            DETAIL = 'Pass the id that ehr.request_access returned.';
    END IF;
    IF r.practitioner OPERATOR(pg_catalog.<>) p THEN
        PERFORM ehr._code_refused(request, p, r.resident, 'not the requesting practitioner');
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = pg_catalog.format('access request %s was made by another practitioner', request),
            DETAIL = 'Only the practitioner who requested access may confirm its code.';
    END IF;
    -- Raises (and counts the failure where no rollback reaches) unless the code is right.
    PERFORM ehr._check_code(request, p, r.resident, code, r.code_hash, r.expires_at, r.used_at IS NOT NULL);

    INSERT INTO ehr.access_grant (practitioner, institution, resident, categories, via, request, expires_at)
    VALUES (p, r.institution, r.resident, r.categories, 'sms_code', request,
            pg_catalog.now() OPERATOR(pg_catalog.+) pg_catalog.current_setting('ehr.grant_ttl')::interval)
    RETURNING id INTO g;
    UPDATE ehr.access_request a SET used_at = pg_catalog.now(), grant_id = g
     WHERE a.resident OPERATOR(ehr.=) r.resident AND a.id OPERATOR(pg_catalog.=) request;
    PERFORM ehr._audit('confirm_ok', p, r.institution, r.resident, NULL, NULL, g, request,
                       pg_catalog.array_to_string(r.categories, ','));
    RETURN g;
END
$$;
COMMENT ON FUNCTION ehr.confirm_access(bigint, text) IS
    'The requesting practitioner enters the resident''s one-time code; returns the grant id';
REVOKE ALL ON FUNCTION ehr.confirm_access(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.confirm_access(bigint, text) TO ehr_clinician, ehr_gateway;

CREATE FUNCTION ehr.end_access("grant" bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p bigint := ehr.current_practitioner();
    g ehr.access_grant;
    rid ehr.resident_id;
BEGIN
    -- Lock by (resident, id): on Citus that routes to one shard (docs/scale-out.md).
    SELECT a.resident INTO rid FROM ehr.access_grant a WHERE a.id OPERATOR(pg_catalog.=) "grant";
    SELECT * INTO g FROM ehr.access_grant a
     WHERE a.resident OPERATOR(ehr.=) rid AND a.id OPERATOR(pg_catalog.=) "grant" FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '42704',
            MESSAGE = pg_catalog.format('access grant %s does not exist', "grant"),
            DETAIL = 'Pass the id that ehr.confirm_access or ehr.break_glass returned.';
    END IF;
    IF g.practitioner IS DISTINCT FROM p
       AND NOT pg_catalog.pg_has_role(session_user, 'ehr_admin', 'MEMBER') THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = pg_catalog.format('access grant %s belongs to another practitioner', "grant"),
            DETAIL = 'Only the practitioner holding a grant, or an ehr_admin, may end it.';
    END IF;
    IF g.ended_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '55000',
            MESSAGE = pg_catalog.format('access grant %s has already ended', "grant"),
            DETAIL = 'Seeing the records again needs a new request.';
    END IF;
    UPDATE ehr.access_grant a SET ended_at = pg_catalog.now()
     WHERE a.resident OPERATOR(ehr.=) g.resident AND a.id OPERATOR(pg_catalog.=) "grant";
    PERFORM ehr._audit('grant_end', g.practitioner, g.institution, g.resident, NULL, NULL, "grant", g.request,
                       CASE WHEN g.practitioner IS DISTINCT FROM p THEN 'ended by ' OPERATOR(pg_catalog.||) session_user ELSE NULL END);
END
$$;
COMMENT ON FUNCTION ehr.end_access(bigint) IS
    'Close the record window: the grant ends now; seeing the records again needs a new request';
REVOKE ALL ON FUNCTION ehr.end_access(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.end_access(bigint) TO ehr_clinician, ehr_gateway, ehr_admin;

CREATE FUNCTION ehr.break_glass(resident ehr.resident_id, reason text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p    bigint := ehr._require_practitioner();
    inst ehr.org_code;
    g    bigint;
    exp  timestamptz := pg_catalog.now() OPERATOR(pg_catalog.+) pg_catalog.current_setting('ehr.break_glass_ttl')::interval;
BEGIN
    IF resident IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'resident must not be null',
            DETAIL = 'Break-glass access is for one named resident.';
    END IF;
    IF reason IS NULL OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'break-glass reason must not be blank',
            DETAIL = 'Emergency access is reviewed afterwards; say why it was needed.';
    END IF;
    SELECT pr.institution INTO inst FROM ehr.practitioner pr WHERE pr.id OPERATOR(pg_catalog.=) p;
    INSERT INTO ehr.access_grant (practitioner, institution, resident, categories, via, break_glass, reason, expires_at)
    VALUES (p, inst, resident, '{lab,exam,emr,archive}', 'break_glass', true, pg_catalog.btrim(reason), exp)
    RETURNING id INTO g;
    PERFORM ehr._audit('break_glass', p, inst, resident, NULL, NULL, g, NULL, pg_catalog.btrim(reason));
    RAISE LOG 'ehr audit: event=break_glass practitioner=% institution=% resident=% grant=% reason="%"',
        p, inst, resident, g, pg_catalog.replace(pg_catalog.btrim(reason), '"', '''');
    RAISE NOTICE 'break-glass access to resident % for %; it will be reviewed', resident,
        pg_catalog.current_setting('ehr.break_glass_ttl');
    RETURN g;
END
$$;
COMMENT ON FUNCTION ehr.break_glass(ehr.resident_id, text) IS
    'Emergency access to all of a resident''s records for ehr.break_glass_ttl, reason required, flagged for review';
REVOKE ALL ON FUNCTION ehr.break_glass(ehr.resident_id, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.break_glass(ehr.resident_id, text) TO ehr_clinician, ehr_gateway;

CREATE FUNCTION ehr.break_glass_review()
    RETURNS TABLE ("grant" bigint, practitioner bigint, institution ehr.org_code, resident ehr.resident_id,
                   reason text, created_at timestamptz, expires_at timestamptz, ended_at timestamptz)
    LANGUAGE sql STABLE PARALLEL SAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT g.id, g.practitioner, g.institution, g.resident, g.reason, g.created_at, g.expires_at, g.ended_at
      FROM ehr.access_grant g
     WHERE g.break_glass AND g.reviewed_at IS NULL
     ORDER BY g.created_at, g.id
$$;
COMMENT ON FUNCTION ehr.break_glass_review() IS 'Break-glass accesses not yet reviewed (ehr_admin)';
REVOKE ALL ON FUNCTION ehr.break_glass_review() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.break_glass_review() TO ehr_admin;

CREATE FUNCTION ehr.review_break_glass("grant" bigint, note text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE ehr.access_grant g SET reviewed_at = pg_catalog.now(), reviewed_by = session_user, review_note = note
     WHERE g.id OPERATOR(pg_catalog.=) "grant" AND g.break_glass AND g.reviewed_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '42704',
            MESSAGE = pg_catalog.format('no unreviewed break-glass grant %s', "grant"),
            DETAIL = 'ehr.break_glass_review() lists the break-glass grants waiting for review.';
    END IF;
END
$$;
COMMENT ON FUNCTION ehr.review_break_glass(bigint, text) IS 'Mark a break-glass access reviewed (ehr_admin)';
REVOKE ALL ON FUNCTION ehr.review_break_glass(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.review_break_glass(bigint, text) TO ehr_admin;

-- The resident (acting through act_as_resident) or an ehr_admin on their behalf.
CREATE FUNCTION ehr._require_resident_or_admin(resident ehr.resident_id) RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT coalesce(ehr.current_resident() OPERATOR(ehr.=) resident, false)
       AND NOT pg_catalog.pg_has_role(session_user, 'ehr_admin', 'MEMBER') THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = pg_catalog.format('only resident %s or an ehr_admin may change their consent', resident),
            DETAIL = 'The resident acts through ehr.act_as_resident (an ehr_gateway pool); an ehr_admin may act on their behalf.';
    END IF;
END
$$;
COMMENT ON FUNCTION ehr._require_resident_or_admin(ehr.resident_id) IS 'Internal: the resident or an ehr_admin, or an error';
REVOKE ALL ON FUNCTION ehr._require_resident_or_admin(ehr.resident_id) FROM PUBLIC;

CREATE FUNCTION ehr.set_sharing(resident ehr.resident_id, category ehr.category, open boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM ehr._require_resident_or_admin(resident);
    INSERT INTO ehr.sharing AS s (resident, category, open, changed_at)
    VALUES (resident, category, open, pg_catalog.now())
    ON CONFLICT ON CONSTRAINT sharing_pkey DO UPDATE SET open = EXCLUDED.open, changed_at = EXCLUDED.changed_at;
    PERFORM ehr._audit('sharing_changed', ehr.current_practitioner(), NULL, resident, category, NULL, NULL, NULL,
                       CASE WHEN open THEN 'open' ELSE 'closed' END
                       OPERATOR(pg_catalog.||) CASE WHEN NOT coalesce(ehr.current_resident() OPERATOR(ehr.=) resident, false)
                                                    THEN ' by ' OPERATOR(pg_catalog.||) session_user ELSE '' END);
END
$$;
COMMENT ON FUNCTION ehr.set_sharing(ehr.resident_id, ehr.category, boolean) IS
    'The resident opens or closes sharing of a category with other institutions';
REVOKE ALL ON FUNCTION ehr.set_sharing(ehr.resident_id, ehr.category, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.set_sharing(ehr.resident_id, ehr.category, boolean) TO ehr_gateway, ehr_admin;

CREATE FUNCTION ehr.set_research_use(resident ehr.resident_id, allowed boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM ehr._require_resident_or_admin(resident);
    INSERT INTO ehr.research_use AS u (resident, allowed, changed_at)
    VALUES (resident, allowed, pg_catalog.now())
    ON CONFLICT ON CONSTRAINT research_use_pkey DO UPDATE SET allowed = EXCLUDED.allowed, changed_at = EXCLUDED.changed_at;
    PERFORM ehr._audit('research_use_changed', ehr.current_practitioner(), NULL, resident, NULL, NULL, NULL, NULL,
                       CASE WHEN allowed THEN 'allowed' ELSE 'refused' END
                       OPERATOR(pg_catalog.||) CASE WHEN NOT coalesce(ehr.current_resident() OPERATOR(ehr.=) resident, false)
                                                    THEN ' by ' OPERATOR(pg_catalog.||) session_user ELSE '' END);
END
$$;
COMMENT ON FUNCTION ehr.set_research_use(ehr.resident_id, boolean) IS
    'The resident allows or refuses the use of their records in de-identified views';
REVOKE ALL ON FUNCTION ehr.set_research_use(ehr.resident_id, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.set_research_use(ehr.resident_id, boolean) TO ehr_gateway, ehr_admin;
