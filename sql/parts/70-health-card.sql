-- Electronic health card (电子健康卡, DESIGN §9; src/health_card.c, docs/health-card.md).
--
-- Key custody: ehc_root (SM4, card IDs), ehc_index (HMAC-SM3, main index) and
-- ehc_protect (SM4, validity blocks of dynamic QR codes) stay in ehr.keyring.
-- The right to use them is the EXECUTE right on the functions below: deriving
-- or decrypting card IDs is for ehr_admin, resolving a scanned code for
-- ehr_terminal, issuing cards and codes for ehr_gateway (the application that
-- serves the resident) and ehr_admin.

-- ---- Pure key functions (C) ----

CREATE FUNCTION ehr.health_card_id(id_type text, id_number text, main_index text) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_health_card_id'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr.health_card_id(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.health_card_id(text, text, text) TO ehr_admin;
COMMENT ON FUNCTION ehr.health_card_id(text, text, text) IS
    'Health card ID by the national SM4 derivation under key ehc_root: 64 hex for an 18-character identity number (ehr_admin)';

CREATE FUNCTION ehr.health_card_identity(card_id text, main_index text,
                                         OUT id_type text, OUT id_number text)
    AS 'MODULE_PATHNAME', 'ehr_health_card_identity'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr.health_card_identity(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.health_card_identity(text, text) TO ehr_admin;
COMMENT ON FUNCTION ehr.health_card_identity(text, text) IS
    'Decrypt a health card ID back to its identity document type and number, given its main index (ehr_admin)';

CREATE FUNCTION ehr._health_card_main_index(id_type text, id_number text) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_health_card_main_index'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr._health_card_main_index(text, text) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_card_main_index(text, text) IS
    'Internal: main index of a health card, HMAC-SM3 under key ehc_index over id_type || id_number (this project''s choice)';

CREATE FUNCTION ehr._health_code_static(card_id text) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_health_code_static'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr._health_code_static(text) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_code_static(text) IS
    'Internal: static QR payload of a card, "<card ID>:<static type>"';

CREATE FUNCTION ehr._health_code_expiry() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'ehr_health_code_expiry'
    LANGUAGE C STABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr._health_code_expiry() FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_code_expiry() IS
    'Internal: expiry of a dynamic code issued by this statement: statement start + ehr.health_code_ttl, to the second';

CREATE FUNCTION ehr._health_code_dynamic(card_id text, expires timestamptz) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_health_code_dynamic'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr._health_code_dynamic(text, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_code_dynamic(text, timestamptz) IS
    'Internal: dynamic QR payload "<card ID>:<dynamic type>:<validity>", the expiry SM4-encrypted under key ehc_protect';

CREATE FUNCTION ehr._health_code_parse(payload text, OUT card_id text, OUT kind text,
                                       OUT validity text, OUT expires_at timestamptz)
    AS 'MODULE_PATHNAME', 'ehr_health_code_parse'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr._health_code_parse(text) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_code_parse(text) IS
    'Internal: split a QR payload; raises only when malformed; expires_at is NULL when the validity block does not decrypt';

-- ---- Tables ----

CREATE TABLE ehr.health_card (
    card_id    text PRIMARY KEY CHECK (card_id OPERATOR(pg_catalog.~) '^([0-9A-F]{32}){1,2}$'),
    resident   ehr.resident_id NOT NULL UNIQUE REFERENCES ehr.resident (id),
    id_type    text NOT NULL CHECK (id_type OPERATOR(pg_catalog.~) '^[0-9]{2}$'),
    main_index text NOT NULL CHECK (main_index OPERATOR(pg_catalog.~) '^[0-9A-F]{64}$'),
    kind       text NOT NULL DEFAULT 'full' CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['temporary', 'full'])),
    status     text NOT NULL DEFAULT 'active' CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'suspended'])),
    issued_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON ehr.health_card FROM PUBLIC;
GRANT SELECT ON ehr.health_card TO ehr_admin;
SELECT pg_catalog.pg_extension_config_dump('ehr.health_card', '');
COMMENT ON TABLE ehr.health_card IS 'Electronic health cards (电子健康卡): one per resident';
COMMENT ON COLUMN ehr.health_card.card_id IS 'Card ID: SM4 derivation over the identity, upper-case hex (ehr.health_card_id)';
COMMENT ON COLUMN ehr.health_card.resident IS 'The card holder';
COMMENT ON COLUMN ehr.health_card.id_type IS 'Identity document type the card was derived from (01 = resident identity card)';
COMMENT ON COLUMN ehr.health_card.main_index IS 'Main index (主索引): HMAC-SM3 under ehc_index over id_type || id_number, 64 hex';
COMMENT ON COLUMN ehr.health_card.kind IS 'temporary (identity not yet verified) or full';
COMMENT ON COLUMN ehr.health_card.status IS 'active, or suspended (lost or frozen: no code of the card resolves)';
COMMENT ON COLUMN ehr.health_card.issued_at IS 'When the card was issued';

-- Dynamic codes issued by this platform. The national payload format does not
-- bind the validity block to the card (ECB over the time alone), so a block
-- lifted from one card's code would decrypt fine next to another card's ID:
-- a dynamic code resolves only when this platform issued that exact payload.
-- The row also makes "authorizes at most once" a row lock, not a race.
CREATE TABLE ehr.health_code (
    card_id       text NOT NULL REFERENCES ehr.health_card ON DELETE CASCADE,
    validity      text NOT NULL CHECK (validity OPERATOR(pg_catalog.~) '^[0-9A-F]{32}$'),
    expires_at    timestamptz NOT NULL,
    issued_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    authorized_at timestamptz,
    grant_id      bigint,
    PRIMARY KEY (card_id, validity)
);
REVOKE ALL ON ehr.health_code FROM PUBLIC;
-- dumped like every table of the extension (outstanding codes must keep their single use)
SELECT pg_catalog.pg_extension_config_dump('ehr.health_code', '');
COMMENT ON TABLE ehr.health_code IS 'Dynamic health card QR codes issued by this platform, until they expire';
COMMENT ON COLUMN ehr.health_code.card_id IS 'The card the code was issued for';
COMMENT ON COLUMN ehr.health_code.validity IS 'The payload''s validity block (hex)';
COMMENT ON COLUMN ehr.health_code.expires_at IS 'When the code stops resolving (the time inside the validity block)';
COMMENT ON COLUMN ehr.health_code.issued_at IS 'When the code was issued';
COMMENT ON COLUMN ehr.health_code.authorized_at IS 'When the code authorized an access request (scan to authorize); NULL while unused';
COMMENT ON COLUMN ehr.health_code.grant_id IS 'The grant the code made';

-- ---- Integration points (access log, grants) ----

CREATE FUNCTION ehr._health_card_caller() RETURNS name
    AS 'MODULE_PATHNAME', 'ehr_health_card_caller'
    LANGUAGE C STABLE PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION ehr._health_card_caller() FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_card_caller() IS
    'Internal: the role that called into the extension (current_user outside any SECURITY DEFINER function)';

-- Every resolution, code sent and scan-to-authorize goes to ehr.access_log
-- (consent capability): events card_resolved, card_code_sent, card_authorized,
-- card_refused; detail "role=<calling role> action=… outcome=… card=…".
-- A refusal is raised as an error right after, which rolls its row back: it is
-- also written to the server log at once ("ehr audit: event=card_refused …").
CREATE FUNCTION ehr._health_card_log(card_id text, resident ehr.resident_id, action text, outcome text,
                                     practitioner bigint DEFAULT NULL, grant_id bigint DEFAULT NULL,
                                     request_id bigint DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'ehr_health_card_log'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION ehr._health_card_log(text, ehr.resident_id, text, text, bigint, bigint, bigint) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_card_log(text, ehr.resident_id, text, text, bigint, bigint, bigint) IS
    'Internal: record a health code resolution, code sent or scan-to-authorize (calling role, card, outcome) in the access log';

CREATE FUNCTION ehr._health_card_grant(practitioner bigint, resident ehr.resident_id, categories text[])
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'ehr_health_card_grant'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION ehr._health_card_grant(bigint, ehr.resident_id, text[]) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_card_grant(bigint, ehr.resident_id, text[]) IS
    'Internal: the grant confirm_access would make, made via the health card (consent''s ehr_grant_create)';

-- ---- Checking a scanned payload ----

-- The checks in order, each with its own error: malformed, unknown card,
-- suspended card, tampered validity block, expired, not issued here. Returns
-- the card and the parse on success; records every failure before raising.
CREATE FUNCTION ehr._health_code_check(payload text, action text,
                                       OUT card ehr.health_card, OUT kind text, OUT validity text,
                                       OUT expires_at timestamptz)
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p record;
BEGIN
    BEGIN
        p := ehr._health_code_parse(payload);
    EXCEPTION WHEN invalid_text_representation THEN
        PERFORM ehr._health_card_log(NULL, NULL, action, 'malformed');
        RAISE;
    END;
    kind := p.kind;
    validity := p.validity;
    expires_at := p.expires_at;

    SELECT * INTO card FROM ehr.health_card c WHERE c.card_id OPERATOR(pg_catalog.=) p.card_id;
    IF NOT FOUND THEN
        PERFORM ehr._health_card_log(p.card_id, NULL, action, 'unknown_card');
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = pg_catalog.format('health card "%s" does not exist', p.card_id),
            DETAIL = 'No card with this ID was issued by this platform.';
    END IF;
    IF card.status OPERATOR(pg_catalog.=) 'suspended' THEN
        PERFORM ehr._health_card_log(card.card_id, card.resident, action, 'suspended');
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('health card "%s" is suspended', card.card_id),
            DETAIL = 'A suspended card''s codes do not resolve until the card is reactivated.';
    END IF;
    IF p.kind OPERATOR(pg_catalog.=) 'static' THEN
        RETURN;
    END IF;
    IF p.expires_at IS NULL THEN
        PERFORM ehr._health_card_log(card.card_id, card.resident, action, 'tampered');
        RAISE EXCEPTION USING ERRCODE = 'invalid_authorization_specification',
            MESSAGE = pg_catalog.format('health code of card "%s" has a tampered validity block', card.card_id),
            DETAIL = 'The validity block does not decrypt to a time under this platform''s protection key.';
    END IF;
    IF pg_catalog.statement_timestamp() OPERATOR(pg_catalog.>=) p.expires_at THEN
        PERFORM ehr._health_card_log(card.card_id, card.resident, action, 'expired');
        RAISE EXCEPTION USING ERRCODE = 'invalid_authorization_specification',
            MESSAGE = pg_catalog.format('health code of card "%s" has expired', card.card_id),
            DETAIL = pg_catalog.format('The code was valid until %s.', p.expires_at);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ehr.health_code h
                    WHERE h.card_id OPERATOR(pg_catalog.=) card.card_id
                      AND h.validity OPERATOR(pg_catalog.=) p.validity) THEN
        PERFORM ehr._health_card_log(card.card_id, card.resident, action, 'not_issued');
        RAISE EXCEPTION USING ERRCODE = 'invalid_authorization_specification',
            MESSAGE = pg_catalog.format('health code of card "%s" was not issued for this card', card.card_id),
            DETAIL = 'This platform issued no dynamic code with this validity block for this card.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION ehr._health_code_check(text, text) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_code_check(text, text) IS
    'Internal: check a scanned payload (malformed, unknown card, suspended, tampered, expired, not issued), recording failures';

-- ---- Cards ----

CREATE FUNCTION ehr.issue_health_card(resident ehr.resident_id, id_type text DEFAULT '01',
                                      kind text DEFAULT 'full') RETURNS text
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    c ehr.health_card;
    number text := resident::text;
    mi text;
BEGIN
    IF kind IS DISTINCT FROM 'temporary' AND kind IS DISTINCT FROM 'full' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('invalid health card kind: "%s"', kind),
            DETAIL = 'A health card is "temporary" or "full".';
    END IF;
    -- one card per resident; a second call returns it (a temporary card is made full)
    SELECT * INTO c FROM ehr.health_card h WHERE h.resident OPERATOR(ehr.=) issue_health_card.resident
       FOR UPDATE;
    IF FOUND THEN
        IF c.id_type OPERATOR(pg_catalog.<>) id_type THEN
            RAISE EXCEPTION USING ERRCODE = 'unique_violation',
                MESSAGE = pg_catalog.format('resident %s already holds health card "%s"', resident, c.card_id),
                DETAIL = pg_catalog.format('That card was issued under id_type %s; a resident holds one card.', c.id_type);
        END IF;
        IF kind OPERATOR(pg_catalog.=) 'full' AND c.kind OPERATOR(pg_catalog.=) 'temporary' THEN
            UPDATE ehr.health_card h SET kind = 'full' WHERE h.card_id OPERATOR(pg_catalog.=) c.card_id;
        END IF;
        RETURN c.card_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ehr.resident r WHERE r.id OPERATOR(ehr.=) issue_health_card.resident) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('resident %s is not registered', resident),
            DETAIL = 'A health card is issued only to a resident in ehr.resident.';
    END IF;
    mi := ehr._health_card_main_index(id_type, number);
    c.card_id := ehr.health_card_id(id_type, number, mi);
    -- two sessions issuing at once: the second waits for the first, then takes the
    -- path above with the card the first made
    INSERT INTO ehr.health_card (card_id, resident, id_type, main_index, kind)
    VALUES (c.card_id, resident, id_type, mi, kind)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN ehr.issue_health_card(resident, id_type, kind);
    END IF;
    RETURN c.card_id;
END
$$;
REVOKE ALL ON FUNCTION ehr.issue_health_card(ehr.resident_id, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.issue_health_card(ehr.resident_id, text, text) TO ehr_admin, ehr_gateway;
COMMENT ON FUNCTION ehr.issue_health_card(ehr.resident_id, text, text) IS
    'Issue the resident''s electronic health card (or return the one they hold); returns the card ID (ehr_admin, ehr_gateway)';

CREATE FUNCTION ehr._health_card_set_status(card_id text, status text) RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    UPDATE ehr.health_card h SET status = _health_card_set_status.status
     WHERE h.card_id OPERATOR(pg_catalog.=) pg_catalog.upper(_health_card_set_status.card_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = pg_catalog.format('health card "%s" does not exist', card_id),
            DETAIL = 'No card with this ID was issued by this platform.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION ehr._health_card_set_status(text, text) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_card_set_status(text, text) IS 'Internal: set a card''s status';

CREATE FUNCTION ehr.suspend_health_card(card_id text) RETURNS void
    LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT ehr._health_card_set_status(card_id, 'suspended') $$;
REVOKE ALL ON FUNCTION ehr.suspend_health_card(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.suspend_health_card(text) TO ehr_admin, ehr_gateway;
COMMENT ON FUNCTION ehr.suspend_health_card(text) IS
    'Suspend a health card (lost, frozen): none of its codes resolve until reactivated (ehr_admin, ehr_gateway)';

CREATE FUNCTION ehr.reactivate_health_card(card_id text) RETURNS void
    LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT ehr._health_card_set_status(card_id, 'active') $$;
REVOKE ALL ON FUNCTION ehr.reactivate_health_card(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.reactivate_health_card(text) TO ehr_admin, ehr_gateway;
COMMENT ON FUNCTION ehr.reactivate_health_card(text) IS
    'Reactivate a suspended health card (ehr_admin, ehr_gateway)';

CREATE FUNCTION ehr.health_card_owner(card_id text) RETURNS ehr.resident_id
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    c ehr.health_card;
    ident record;
BEGIN
    SELECT * INTO c FROM ehr.health_card h
     WHERE h.card_id OPERATOR(pg_catalog.=) pg_catalog.upper(health_card_owner.card_id);
    IF NOT FOUND THEN
        PERFORM ehr._health_card_log(pg_catalog.upper(card_id), NULL, 'owner', 'unknown_card');
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = pg_catalog.format('health card "%s" does not exist', card_id),
            DETAIL = 'No card with this ID was issued by this platform.';
    END IF;
    -- The identity comes from decrypting the card ID, not from the row.
    ident := ehr.health_card_identity(c.card_id, c.main_index);
    -- a card ID alone names its holder to whoever may call this: every use is recorded
    PERFORM ehr._health_card_log(c.card_id, c.resident, 'owner', 'resolved');
    RETURN ident.id_number::ehr.resident_id;
END
$$;
REVOKE ALL ON FUNCTION ehr.health_card_owner(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.health_card_owner(text) TO ehr_terminal, ehr_admin;
COMMENT ON FUNCTION ehr.health_card_owner(text) IS
    'The resident a health card ID belongs to, by decrypting it under the platform''s keys; recorded in the access log (ehr_terminal, ehr_admin)';

-- ---- Codes ----

CREATE FUNCTION ehr.issue_health_code(resident ehr.resident_id) RETURNS text
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    c ehr.health_card;
    expires timestamptz := ehr._health_code_expiry();
    payload text;
    p record;
BEGIN
    -- The code stands for the patient's consent (scan to authorize): only the
    -- resident (through act_as_resident) or an ehr_admin may have one made, never
    -- a practitioner acting through the same gateway.
    IF NOT COALESCE(ehr.current_resident() OPERATOR(ehr.=) resident, false)
       AND NOT pg_catalog.pg_has_role(session_user, 'ehr_admin', 'MEMBER') THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('only resident %s or an ehr_admin may have their health code issued', resident),
            DETAIL = 'The resident acts through ehr.act_as_resident (an ehr_gateway pool); a dynamic code is their consent and no practitioner may mint it.';
    END IF;
    SELECT * INTO c FROM ehr.health_card h WHERE h.resident OPERATOR(ehr.=) issue_health_code.resident;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = pg_catalog.format('resident %s has no health card', resident),
            HINT = 'Issue one with ehr.issue_health_card().';
    END IF;
    IF c.status OPERATOR(pg_catalog.=) 'suspended' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('health card "%s" is suspended', c.card_id),
            DETAIL = 'No code is issued for a suspended card until it is reactivated.';
    END IF;
    payload := ehr._health_code_dynamic(c.card_id, expires);
    p := ehr._health_code_parse(payload);
    -- expired codes of this card are of no further use
    DELETE FROM ehr.health_code h
     WHERE h.card_id OPERATOR(pg_catalog.=) c.card_id
       AND h.expires_at OPERATOR(pg_catalog.<) pg_catalog.statement_timestamp();
    -- the same card in the same second gives the same payload (ECB over the time)
    INSERT INTO ehr.health_code (card_id, validity, expires_at)
    VALUES (c.card_id, p.validity, expires)
    ON CONFLICT DO NOTHING;
    RETURN payload;
END
$$;
REVOKE ALL ON FUNCTION ehr.issue_health_code(ehr.resident_id) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.issue_health_code(ehr.resident_id) TO ehr_admin, ehr_gateway;
COMMENT ON FUNCTION ehr.issue_health_code(ehr.resident_id) IS
    'A dynamic QR payload for the resident''s card, valid for ehr.health_code_ttl seconds (ehr_admin, ehr_gateway)';

CREATE FUNCTION ehr.health_code_static(resident ehr.resident_id) RETURNS text
    LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    id text;
BEGIN
    SELECT h.card_id INTO id FROM ehr.health_card h WHERE h.resident OPERATOR(ehr.=) health_code_static.resident;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = pg_catalog.format('resident %s has no health card', resident),
            HINT = 'Issue one with ehr.issue_health_card().';
    END IF;
    RETURN ehr._health_code_static(id);
END
$$;
REVOKE ALL ON FUNCTION ehr.health_code_static(ehr.resident_id) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.health_code_static(ehr.resident_id) TO ehr_admin, ehr_gateway;
COMMENT ON FUNCTION ehr.health_code_static(ehr.resident_id) IS
    'The static QR payload printed on the resident''s card (ehr_admin, ehr_gateway)';

CREATE FUNCTION ehr.resolve_health_code(payload text) RETURNS ehr.resident_id
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    r record;
BEGIN
    r := ehr._health_code_check(payload, 'resolve');
    IF r.kind OPERATOR(pg_catalog.=) 'static' THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'resolve', 'needs_verification');
        RAISE EXCEPTION USING ERRCODE = 'invalid_authorization_specification',
            MESSAGE = pg_catalog.format('static health code of card "%s" needs an SMS verification code', (r.card).card_id),
            DETAIL = 'A static code is printed on the card and proves nothing by itself.',
            HINT = 'Have a code sent with ehr.send_health_card_code(payload), then call ehr.resolve_health_code(payload, sms_code).';
    END IF;
    PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'resolve', 'resolved');
    RETURN (r.card).resident;
END
$$;
REVOKE ALL ON FUNCTION ehr.resolve_health_code(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.resolve_health_code(text) TO ehr_terminal;
COMMENT ON FUNCTION ehr.resolve_health_code(text) IS
    'The resident a scanned dynamic health code belongs to; every resolution is recorded in the access log (ehr_terminal)';

-- ---- Scan to authorize ----

-- The patient shows the dynamic code instead of reading out the SMS code of an
-- access request: if the code is valid and its card belongs to the request's
-- resident, the grant is made as confirm_access would make it. Each dynamic
-- payload authorizes once: its ehr.health_code row is locked and marked, so a
-- second session waits and then finds it used.
CREATE FUNCTION ehr.confirm_access_by_health_code(request bigint, payload text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p  bigint := ehr._require_practitioner();
    rq ehr.access_request;
    rid ehr.resident_id;
    r  record;
    g  bigint;
BEGIN
    -- locked by (resident, id): one shard under Citus (docs/scale-out.md), the same row on one node
    SELECT a.resident INTO rid FROM ehr.access_request a WHERE a.id OPERATOR(pg_catalog.=) request;
    SELECT * INTO rq FROM ehr.access_request a
     WHERE a.resident OPERATOR(ehr.=) rid AND a.id OPERATOR(pg_catalog.=) request FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ehr._health_card_log(NULL, NULL, 'authorize', 'no_request', p, NULL, request);
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = pg_catalog.format('access request %s does not exist', request),
            DETAIL = 'Pass the id that ehr.request_access returned.';
    END IF;
    IF rq.practitioner OPERATOR(pg_catalog.<>) p THEN
        PERFORM ehr._health_card_log(NULL, rq.resident, 'authorize', 'not_requester', p, NULL, request);
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('access request %s was made by another practitioner', request),
            DETAIL = 'Only the practitioner who requested access may confirm it.';
    END IF;
    IF rq.used_at IS NOT NULL THEN
        PERFORM ehr._health_card_log(NULL, rq.resident, 'authorize', 'request_used', p, NULL, request);
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('access request %s has already been confirmed', request),
            DETAIL = pg_catalog.format('It made grant %s; another visit needs a new request.', rq.grant_id);
    END IF;
    IF rq.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
        PERFORM ehr._health_card_log(NULL, rq.resident, 'authorize', 'request_expired', p, NULL, request);
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('access request %s has expired', request),
            DETAIL = pg_catalog.format('It was open until %s (ehr.code_ttl); make a new request.', rq.expires_at);
    END IF;

    r := ehr._health_code_check(payload, 'authorize');
    IF r.kind OPERATOR(pg_catalog.<>) 'dynamic' THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'authorize', 'static_code', p, NULL, request);
        RAISE EXCEPTION USING ERRCODE = 'invalid_authorization_specification',
            MESSAGE = pg_catalog.format('static health code of card "%s" cannot authorize access', (r.card).card_id),
            DETAIL = 'The static code is printed on the card; only the dynamic code on the patient''s phone stands for consent.';
    END IF;
    IF (r.card).resident OPERATOR(ehr.<>) rq.resident THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'authorize', 'other_resident', p, NULL, request);
        RAISE EXCEPTION USING ERRCODE = 'invalid_authorization_specification',
            MESSAGE = pg_catalog.format('health card "%s" does not belong to the resident of access request %s',
                                        (r.card).card_id, request),
            DETAIL = 'The patient who shows the code must be the one whose records were requested.';
    END IF;
    -- single use, even when two sessions scan the same payload at once
    UPDATE ehr.health_code h SET authorized_at = pg_catalog.now()
     WHERE h.card_id OPERATOR(pg_catalog.=) (r.card).card_id
       AND h.validity OPERATOR(pg_catalog.=) r.validity
       AND h.authorized_at IS NULL;
    IF NOT FOUND THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'authorize', 'already_used', p, NULL, request);
        RAISE EXCEPTION USING ERRCODE = 'invalid_authorization_specification',
            MESSAGE = pg_catalog.format('health code of card "%s" has already authorized an access', (r.card).card_id),
            DETAIL = 'Each dynamic code authorizes once; the patient refreshes the code for another.';
    END IF;

    g := ehr._health_card_grant(p, rq.resident, rq.categories::text[]);
    UPDATE ehr.access_grant ag SET request = rq.id
     WHERE ag.resident OPERATOR(ehr.=) rq.resident AND ag.id OPERATOR(pg_catalog.=) g;
    UPDATE ehr.access_request a SET used_at = pg_catalog.now(), grant_id = g
     WHERE a.resident OPERATOR(ehr.=) rq.resident AND a.id OPERATOR(pg_catalog.=) rq.id;
    UPDATE ehr.health_code h SET grant_id = g
     WHERE h.card_id OPERATOR(pg_catalog.=) (r.card).card_id AND h.validity OPERATOR(pg_catalog.=) r.validity;
    PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'authorize', 'authorized', p, g, request);
    RETURN g;
END
$$;
REVOKE ALL ON FUNCTION ehr.confirm_access_by_health_code(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.confirm_access_by_health_code(bigint, text) TO ehr_clinician, ehr_gateway;
COMMENT ON FUNCTION ehr.confirm_access_by_health_code(bigint, text) IS
    'The requesting practitioner scans the patient''s dynamic health code instead of entering the SMS code; returns the grant id';

-- ---- Static codes: SMS verification through the outbox ----

CREATE FUNCTION ehr._health_card_new_code() RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_health_card_new_code'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION ehr._health_card_new_code() FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_card_new_code() IS 'Internal: a 6-digit SMS verification code from the CSPRNG';

CREATE FUNCTION ehr._health_card_code_hash(verification bigint, code text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ehr_health_card_code_hash'
    LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION ehr._health_card_code_hash(bigint, text) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_card_code_hash(bigint, text) IS
    'Internal: HMAC-SM3 under key access_code of an SMS verification code';

CREATE FUNCTION ehr._health_card_code_check(verification bigint, card_id text, code text,
                                            code_hash bytea, expires_at timestamptz, used boolean)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ehr_health_card_code_check'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION ehr._health_card_code_check(bigint, text, text, bytea, timestamptz, boolean) FROM PUBLIC;
COMMENT ON FUNCTION ehr._health_card_code_check(bigint, text, text, bytea, timestamptz, boolean) IS
    'Internal: check an SMS verification code (constant time; wrong codes counted in shared memory, 5 lock); raises on failure';

CREATE TABLE ehr.health_card_verification (
    id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    card_id    text NOT NULL REFERENCES ehr.health_card ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    terminal   name NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX health_card_verification_card_idx ON ehr.health_card_verification (card_id, id);
REVOKE ALL ON ehr.health_card_verification FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ehr.health_card_verification', '');
SELECT pg_catalog.pg_extension_config_dump('ehr.health_card_verification_id_seq', '');
COMMENT ON TABLE ehr.health_card_verification IS
    'SMS codes sent to card holders so a terminal may resolve a static code; only a card''s newest counts';
COMMENT ON COLUMN ehr.health_card_verification.id IS 'Verification id';
COMMENT ON COLUMN ehr.health_card_verification.card_id IS 'The card scanned';
COMMENT ON COLUMN ehr.health_card_verification.code_hash IS 'HMAC-SM3 of the id and code under key access_code (the code itself is only in the outbox)';
COMMENT ON COLUMN ehr.health_card_verification.terminal IS 'The terminal role that asked for the code';
COMMENT ON COLUMN ehr.health_card_verification.created_at IS 'When the code was sent';
COMMENT ON COLUMN ehr.health_card_verification.expires_at IS 'When the code stops working (ehr.code_ttl, else 5 minutes)';
COMMENT ON COLUMN ehr.health_card_verification.used_at IS 'When the code resolved the card (single use)';

CREATE FUNCTION ehr.send_health_card_code(payload text) RETURNS timestamptz
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    r        record;
    phone    text;
    code     text;
    vid      bigint;
    nid      bigint;
    expires  timestamptz;
    n        bigint;
BEGIN
    r := ehr._health_code_check(payload, 'send_code');
    IF r.kind OPERATOR(pg_catalog.<>) 'static' THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'send_code', 'dynamic_code');
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('health code of card "%s" is dynamic', (r.card).card_id),
            DETAIL = 'Only a static code needs an SMS verification; resolve a dynamic code with ehr.resolve_health_code(payload).';
    END IF;
    -- at most 5 codes per card and hour: with 5 tries each, guessing stays hopeless
    SELECT pg_catalog.count(*) INTO n FROM ehr.health_card_verification v
     WHERE v.card_id OPERATOR(pg_catalog.=) (r.card).card_id
       AND v.created_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 hour');
    IF n OPERATOR(pg_catalog.>=) 5 THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'send_code', 'rate_limited');
        RAISE EXCEPTION USING ERRCODE = 'configuration_limit_exceeded',
            MESSAGE = pg_catalog.format('too many SMS verification codes for card "%s"', (r.card).card_id),
            DETAIL = 'At most 5 codes are sent per card and hour.';
    END IF;
    SELECT rs.phone INTO phone FROM ehr.resident rs WHERE rs.id OPERATOR(ehr.=) (r.card).resident;
    IF phone IS NULL THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'send_code', 'no_phone');
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('the holder of card "%s" has no phone number', (r.card).card_id),
            DETAIL = 'The verification code goes to ehr.resident.phone; record it first, or show the dynamic code.';
    END IF;
    expires := pg_catalog.statement_timestamp() OPERATOR(pg_catalog.+)
               COALESCE(pg_catalog.current_setting('ehr.code_ttl', true)::interval, interval '5 minutes');
    vid := pg_catalog.nextval('ehr.health_card_verification_id_seq');
    code := ehr._health_card_new_code();
    INSERT INTO ehr.health_card_verification (id, card_id, code_hash, terminal, expires_at)
    VALUES (vid, (r.card).card_id, ehr._health_card_code_hash(vid, code), ehr._health_card_caller(), expires);
    INSERT INTO ehr.notification (resident, phone, message)
    VALUES ((r.card).resident, phone,
            pg_catalog.format('【电子健康卡】您的电子健康卡正在被扫码核验，验证码%s，%s前有效。如非本人就诊，请勿告知他人。',
                              code, pg_catalog.to_char(expires AT TIME ZONE 'Asia/Shanghai', 'HH24:MI')))
    RETURNING id INTO nid;
    code := NULL;
    PERFORM pg_catalog.pg_notify('ehr_notification', nid::text);
    PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'send_code', 'sent');
    RETURN expires;
END
$$;
REVOKE ALL ON FUNCTION ehr.send_health_card_code(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.send_health_card_code(text) TO ehr_terminal;
COMMENT ON FUNCTION ehr.send_health_card_code(text) IS
    'A terminal scanned a static code: send a one-time code to the holder''s phone through the outbox; returns its expiry (ehr_terminal)';

CREATE FUNCTION ehr.resolve_health_code(payload text, sms_code text) RETURNS ehr.resident_id
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    r record;
    v ehr.health_card_verification;
BEGIN
    r := ehr._health_code_check(payload, 'resolve_sms');
    IF r.kind OPERATOR(pg_catalog.<>) 'static' THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'resolve_sms', 'dynamic_code');
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('health code of card "%s" is dynamic', (r.card).card_id),
            DETAIL = 'An SMS code verifies a static code only; resolve a dynamic code with ehr.resolve_health_code(payload).';
    END IF;
    -- the newest code sent for this card; the row lock makes it single use
    SELECT * INTO v FROM ehr.health_card_verification hv
     WHERE hv.card_id OPERATOR(pg_catalog.=) (r.card).card_id
     ORDER BY hv.id DESC LIMIT 1 FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'resolve_sms', 'no_code_sent');
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('no SMS verification code was sent for card "%s"', (r.card).card_id),
            HINT = 'Send one with ehr.send_health_card_code(payload).';
    END IF;
    BEGIN
        PERFORM ehr._health_card_code_check(v.id, v.card_id, sms_code, v.code_hash, v.expires_at,
                                            v.used_at IS NOT NULL);
    EXCEPTION WHEN OTHERS THEN
        PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'resolve_sms',
                                     CASE WHEN SQLSTATE OPERATOR(pg_catalog.=) '28P01' THEN 'wrong_code'
                                          WHEN SQLERRM OPERATOR(pg_catalog.~~) '%is locked' THEN 'locked'
                                          WHEN SQLERRM OPERATOR(pg_catalog.~~) '%already been used' THEN 'code_used'
                                          WHEN SQLERRM OPERATOR(pg_catalog.~~) '%has expired' THEN 'code_expired'
                                          ELSE 'code_refused' END);
        RAISE;
    END;
    UPDATE ehr.health_card_verification hv SET used_at = pg_catalog.now() WHERE hv.id OPERATOR(pg_catalog.=) v.id;
    PERFORM ehr._health_card_log((r.card).card_id, (r.card).resident, 'resolve_sms', 'resolved');
    RETURN (r.card).resident;
END
$$;
REVOKE ALL ON FUNCTION ehr.resolve_health_code(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.resolve_health_code(text, text) TO ehr_terminal;
COMMENT ON FUNCTION ehr.resolve_health_code(text, text) IS
    'The resident a scanned static health code belongs to, verified by the SMS code sent to them; recorded in the access log (ehr_terminal)';

-- ---- Test support ----

CREATE FUNCTION ehr._sm4_ecb(encrypt boolean, key bytea, data bytea) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ehr_sm4_ecb_sql'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr._sm4_ecb(boolean, bytea, bytea) FROM PUBLIC;
COMMENT ON FUNCTION ehr._sm4_ecb(boolean, bytea, bytea) IS
    'Internal (superuser): raw SM4-ECB without padding, for the standard''s test vector and checking the card ID derivation step by step';
