-- Keyring: key material for the keyed functions (one-time codes, pseudonyms,
-- date shifts, health cards). No role but the extension's owner can read it;
-- the C code reads it without SQL privileges, so the right to use a key is the
-- EXECUTE right on the function that uses it.
CREATE TABLE ehr.keyring (
    name       text PRIMARY KEY,
    key        bytea NOT NULL CHECK (pg_catalog.length(key) OPERATOR(pg_catalog.>) 0),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON ehr.keyring FROM PUBLIC;
COMMENT ON TABLE ehr.keyring IS 'Key material of the keyed functions; readable by the extension owner only';
COMMENT ON COLUMN ehr.keyring.name IS 'Key name: access_code, access_log, pseudonym, date_shift, ehc_root, ehc_index, ehc_protect';
COMMENT ON COLUMN ehr.keyring.key IS 'Key bytes (never returned by any function)';
COMMENT ON COLUMN ehr.keyring.created_at IS 'When the key was generated or loaded';
-- pg_dump keeps keys: without them every pseudonym and card ID would change on restore.
SELECT pg_catalog.pg_extension_config_dump('ehr.keyring', '');

CREATE FUNCTION ehr.rotate_key(name text) RETURNS void
    AS 'MODULE_PATHNAME', 'ehr_rotate_key'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION ehr.rotate_key(text) IS 'Replace a key with fresh bytes from the CSPRNG (ehr_admin)';
REVOKE ALL ON FUNCTION ehr.rotate_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.rotate_key(text) TO ehr_admin;

CREATE FUNCTION ehr.load_key(name text, path text) RETURNS void
    AS 'MODULE_PATHNAME', 'ehr_load_key'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ehr.load_key(text, text) IS 'Load a key from a server-side file (superuser): raw bytes or hex';
REVOKE ALL ON FUNCTION ehr.load_key(text, text) FROM PUBLIC;

-- Every key starts from the CSPRNG at CREATE EXTENSION.
SELECT ehr.rotate_key(k)
  FROM pg_catalog.unnest(ARRAY['access_code', 'access_log', 'pseudonym', 'date_shift',
                               'ehc_root', 'ehc_index', 'ehc_protect']) AS k;
