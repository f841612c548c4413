-- Base: group roles, schema privileges, the library version.
--
-- Group roles are cluster-wide and outlive the extension: they are created only
-- when missing, and DROP EXTENSION leaves them (other databases may use them).
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['ehr_admin', 'ehr_gateway', 'ehr_clinician', 'ehr_analyst',
                             'ehr_notifier', 'ehr_terminal']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$roles$;

-- Types and pure functions are for everyone; tables grant nothing to PUBLIC.
GRANT USAGE ON SCHEMA ehr TO PUBLIC;

CREATE FUNCTION ehr.version() RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_version'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.version() IS 'Version of the loaded ehr library';
