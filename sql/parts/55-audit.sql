-- The access log (hash-chained, append-only) and row-level security on every
-- clinical table.

-- ---------------------------------------------------------------- access log
-- Rows are appended only by the C code (src/audit.c), as the owner, one writer at a
-- time until commit, so the chain never forks. hash = SM3(prev_hash || canonical
-- bytes of id .. detail); the first row's prev_hash is 32 zero bytes.
CREATE TABLE ehr.access_log (
    id           bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    event        text NOT NULL,
    actor_role   name NOT NULL,
    practitioner bigint,
    institution  ehr.org_code,
    resident     ehr.resident_id,
    category     ehr.category,
    origin       ehr.org_code,
    grant_id     bigint,
    request_id   bigint,
    detail       text,
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL
);
CREATE INDEX access_log_resident_idx ON ehr.access_log (resident, at);
REVOKE ALL ON ehr.access_log FROM PUBLIC;
GRANT SELECT ON ehr.access_log TO ehr_admin;
COMMENT ON TABLE ehr.access_log IS
    'Append-only, SM3 hash-chained log of authorization events and cross-institution reads';
COMMENT ON COLUMN ehr.access_log.id IS 'Position in the chain (gap-free among committed rows)';
COMMENT ON COLUMN ehr.access_log.at IS 'When it happened';
COMMENT ON COLUMN ehr.access_log.event IS 'request, code_sent, confirm_ok, confirm_failed, locked, grant_end, break_glass, sharing_changed, research_use_changed, read';
COMMENT ON COLUMN ehr.access_log.actor_role IS 'Login role of the session (session_user)';
COMMENT ON COLUMN ehr.access_log.practitioner IS 'Acting practitioner';
COMMENT ON COLUMN ehr.access_log.institution IS 'Acting practitioner''s institution';
COMMENT ON COLUMN ehr.access_log.resident IS 'Resident concerned';
COMMENT ON COLUMN ehr.access_log.category IS 'Category read or switched';
COMMENT ON COLUMN ehr.access_log.origin IS 'Institution holding the record read';
COMMENT ON COLUMN ehr.access_log.grant_id IS 'Grant involved (NULL for a resident''s own reads)';
COMMENT ON COLUMN ehr.access_log.request_id IS 'Access request involved';
COMMENT ON COLUMN ehr.access_log.detail IS 'Event details (never a code or key)';
COMMENT ON COLUMN ehr.access_log.prev_hash IS 'hash of the previous row (32 zero bytes for the first)';
COMMENT ON COLUMN ehr.access_log.hash IS 'SM3(prev_hash || canonical bytes of this row)';
SELECT pg_catalog.pg_extension_config_dump('ehr.access_log', '');

-- Refuses UPDATE, DELETE and TRUNCATE even by the owner, unless a superuser has set
-- ehr.access_log_maintenance (and verify_access_log() will then show what changed).
CREATE FUNCTION ehr.access_log_guard() RETURNS trigger
    LANGUAGE plpgsql PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.current_setting('ehr.access_log_maintenance', true) OPERATOR(pg_catalog.=) 'on' THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD WHEN 'UPDATE' THEN NEW ELSE NULL END;
    END IF;
    RAISE EXCEPTION USING ERRCODE = '42501',
        MESSAGE = pg_catalog.format('ehr.access_log is append-only: %s refused', TG_OP),
        DETAIL = 'Rows of the access log are never changed or removed; only a superuser in maintenance mode (ehr.access_log_maintenance) may, and ehr.verify_access_log() shows any change.';
END
$$;
COMMENT ON FUNCTION ehr.access_log_guard() IS 'Trigger: keeps ehr.access_log append-only';
REVOKE ALL ON FUNCTION ehr.access_log_guard() FROM PUBLIC;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON ehr.access_log
    FOR EACH ROW EXECUTE FUNCTION ehr.access_log_guard();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON ehr.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION ehr.access_log_guard();

CREATE FUNCTION ehr.verify_access_log() RETURNS bigint
    AS 'MODULE_PATHNAME', 'ehr_verify_access_log'
    LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr.verify_access_log() IS
    'Walk the access log''s hash chain: the id of the first broken row, or NULL when intact (ehr_admin)';
REVOKE ALL ON FUNCTION ehr.verify_access_log() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.verify_access_log() TO ehr_admin;

-- ---------------------------------------------------------------- care relations
-- Every encounter or record tells ehr.resident_institution that its institution
-- holds something of the resident (statement triggers: one insert per statement).
CREATE FUNCTION ehr.note_care_relation() RETURNS trigger
    LANGUAGE plpgsql PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO ehr.resident_institution (resident, institution)
    SELECT DISTINCT n.resident, n.institution FROM new_rows n
     WHERE n.resident IS NOT NULL AND n.institution IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION ehr.note_care_relation() IS
    'Trigger: record (resident, institution) pairs of new clinical rows in ehr.resident_institution';
REVOKE ALL ON FUNCTION ehr.note_care_relation() FROM PUBLIC;

-- A resident registered at an institution (ehr.resident.institution) is its patient too.
CREATE FUNCTION ehr.note_registration() RETURNS trigger
    LANGUAGE plpgsql PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO ehr.resident_institution (resident, institution)
    SELECT DISTINCT n.id, n.institution FROM new_rows n
     WHERE n.institution IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION ehr.note_registration() IS
    'Trigger: record the registering institution of new residents in ehr.resident_institution';
REVOKE ALL ON FUNCTION ehr.note_registration() FROM PUBLIC;
CREATE TRIGGER resident_care_relation_ins AFTER INSERT ON ehr.resident
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehr.note_registration();
CREATE TRIGGER resident_care_relation_upd AFTER UPDATE ON ehr.resident
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehr.note_registration();
CREATE TRIGGER encounter_care_relation_ins AFTER INSERT ON ehr.encounter
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehr.note_care_relation();
CREATE TRIGGER encounter_care_relation_upd AFTER UPDATE ON ehr.encounter
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehr.note_care_relation();
CREATE TRIGGER lab_report_care_relation_ins AFTER INSERT ON ehr.lab_report
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehr.note_care_relation();
CREATE TRIGGER lab_report_care_relation_upd AFTER UPDATE ON ehr.lab_report
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehr.note_care_relation();
CREATE TRIGGER document_care_relation_ins AFTER INSERT ON ehr.document
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehr.note_care_relation();
CREATE TRIGGER document_care_relation_upd AFTER UPDATE ON ehr.document
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehr.note_care_relation();
-- (lab_result repeats its report's resident and institution: the report's trigger covers it.)

-- A change to practitioners (db_role, active, institution) also invalidates the
-- cached actor and grants of every backend (src/consent.c).
CREATE TRIGGER practitioner_consent_changed AFTER INSERT OR UPDATE OR DELETE ON ehr.practitioner
    FOR EACH STATEMENT EXECUTE FUNCTION ehr.consent_changed();
CREATE TRIGGER practitioner_consent_truncated AFTER TRUNCATE ON ehr.practitioner
    FOR EACH STATEMENT EXECUTE FUNCTION ehr.consent_changed();
ALTER TABLE ehr.practitioner ENABLE ALWAYS TRIGGER practitioner_consent_changed;
ALTER TABLE ehr.practitioner ENABLE ALWAYS TRIGGER practitioner_consent_truncated;

-- ---------------------------------------------------------------- row-level security
-- FORCE: the tables' owner is checked too (superusers and BYPASSRLS roles are not:
-- PostgreSQL exempts them from every policy). Reading: ehr.can_access per row.
-- Writing: a practitioner writes records of their own institution only; ehr_admin
-- corrects or removes rows only where it may read them (that is, as an actor).
ALTER TABLE ehr.resident ENABLE ROW LEVEL SECURITY;
ALTER TABLE ehr.resident FORCE ROW LEVEL SECURITY;
CREATE POLICY resident_read ON ehr.resident FOR SELECT
    USING (ehr.can_see_resident(id));
CREATE POLICY resident_register ON ehr.resident FOR INSERT
    WITH CHECK (ehr.current_institution() IS NOT NULL OR ehr.current_resident() OPERATOR(ehr.=) id);
CREATE POLICY resident_update ON ehr.resident FOR UPDATE
    USING (ehr.can_see_resident(id));
COMMENT ON POLICY resident_read ON ehr.resident IS
    'The resident, practitioners of institutions holding their records, practitioners with a grant';
COMMENT ON POLICY resident_register ON ehr.resident IS 'A practitioner registers residents; a resident their own row';
COMMENT ON POLICY resident_update ON ehr.resident IS 'Whoever may see a resident may correct their demographics';

DO $rls$
DECLARE
    t   text;
    cat text;
BEGIN
    FOR t, cat IN VALUES ('encounter', '''emr''::ehr.category'), ('lab_report', 'category'),
                         ('lab_result', 'category'), ('document', 'category')
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE ehr.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('ALTER TABLE ehr.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON ehr.%I FOR SELECT USING (ehr.can_access(resident, %s, institution))',
                                  t || '_read', t, cat);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON ehr.%I FOR INSERT WITH CHECK (institution OPERATOR(ehr.=) ehr.current_institution())',
                                  t || '_write', t);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON ehr.%I FOR UPDATE USING (institution OPERATOR(ehr.=) ehr.current_institution())',
                                  t || '_correct', t);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON ehr.%I FOR DELETE USING (institution OPERATOR(ehr.=) ehr.current_institution())',
                                  t || '_remove', t);
        EXECUTE pg_catalog.format('COMMENT ON POLICY %I ON ehr.%I IS %L', t || '_read', t,
                                  'Rows the actor may see: ehr.can_access(resident, category, origin)');
        EXECUTE pg_catalog.format('COMMENT ON POLICY %I ON ehr.%I IS %L', t || '_write', t,
                                  'A practitioner writes records of their own institution');
        EXECUTE pg_catalog.format('COMMENT ON POLICY %I ON ehr.%I IS %L', t || '_correct', t,
                                  'A practitioner corrects records of their own institution');
        EXECUTE pg_catalog.format('COMMENT ON POLICY %I ON ehr.%I IS %L', t || '_remove', t,
                                  'A practitioner removes records of their own institution');
    END LOOP;
END
$rls$;
