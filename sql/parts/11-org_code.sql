-- ehr.org_code: GB 32100-2015 unified social credit code (src/org_code.c).
-- 18 bytes, passed by reference: the canonical upper-case characters. Comparison
-- and hash functions never raise (LEAKPROOF). The hash values are an on-disk
-- contract (Citus sharding, hash partitions): hash_any of the 18 canonical
-- bytes (= hashtext of the canonical text), never to change.

CREATE TYPE ehr.org_code;

CREATE FUNCTION ehr.org_code_in(cstring) RETURNS ehr.org_code
    AS 'MODULE_PATHNAME', 'org_code_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.org_code_in(cstring) IS 'Text input of org_code: 18 characters of 0-9A-HJ-NP-RTUWXY, either case';

CREATE FUNCTION ehr.org_code_out(ehr.org_code) RETURNS cstring
    AS 'MODULE_PATHNAME', 'org_code_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.org_code_out(ehr.org_code) IS 'Text output of org_code: canonical 18 upper-case characters';

CREATE FUNCTION ehr.org_code_recv(internal) RETURNS ehr.org_code
    AS 'MODULE_PATHNAME', 'org_code_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.org_code_recv(internal) IS 'Binary input of org_code: the 18 characters, validated';

CREATE FUNCTION ehr.org_code_send(ehr.org_code) RETURNS bytea
    AS 'MODULE_PATHNAME', 'org_code_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.org_code_send(ehr.org_code) IS 'Binary output of org_code: the 18 canonical characters';

CREATE TYPE ehr.org_code (
    INPUT = ehr.org_code_in,
    OUTPUT = ehr.org_code_out,
    RECEIVE = ehr.org_code_recv,
    SEND = ehr.org_code_send,
    INTERNALLENGTH = 18,
    ALIGNMENT = char,
    STORAGE = plain
);
COMMENT ON TYPE ehr.org_code IS 'Unified social credit code of an institution (GB 32100-2015), 18 bytes: validated alphabet and MOD 31 check character';

-- Casts to and from text (assignment: text columns load into org_code columns).
CREATE FUNCTION ehr.org_code(text) RETURNS ehr.org_code
    AS 'MODULE_PATHNAME', 'org_code_from_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.org_code(text) IS 'Cast text to org_code (same rules as input)';

CREATE FUNCTION ehr.text(ehr.org_code) RETURNS text
    AS 'MODULE_PATHNAME', 'org_code_to_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.text(ehr.org_code) IS 'Cast org_code to its canonical 18-character text';

CREATE CAST (text AS ehr.org_code) WITH FUNCTION ehr.org_code(text) AS ASSIGNMENT;
COMMENT ON CAST (text AS ehr.org_code) IS 'Parse and validate a unified social credit code';
CREATE CAST (ehr.org_code AS text) WITH FUNCTION ehr.text(ehr.org_code) AS ASSIGNMENT;
COMMENT ON CAST (ehr.org_code AS text) IS 'Canonical 18-character text of a unified social credit code';

-- Comparison: order of the canonical text.
CREATE FUNCTION ehr.org_code_eq(ehr.org_code, ehr.org_code) RETURNS boolean
    AS 'MODULE_PATHNAME', 'org_code_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.org_code_eq(ehr.org_code, ehr.org_code) IS 'org_code equality (never raises)';
CREATE FUNCTION ehr.org_code_ne(ehr.org_code, ehr.org_code) RETURNS boolean
    AS 'MODULE_PATHNAME', 'org_code_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.org_code_ne(ehr.org_code, ehr.org_code) IS 'org_code inequality (never raises)';
CREATE FUNCTION ehr.org_code_lt(ehr.org_code, ehr.org_code) RETURNS boolean
    AS 'MODULE_PATHNAME', 'org_code_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.org_code_lt(ehr.org_code, ehr.org_code) IS 'org_code less-than (never raises)';
CREATE FUNCTION ehr.org_code_le(ehr.org_code, ehr.org_code) RETURNS boolean
    AS 'MODULE_PATHNAME', 'org_code_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.org_code_le(ehr.org_code, ehr.org_code) IS 'org_code less-or-equal (never raises)';
CREATE FUNCTION ehr.org_code_gt(ehr.org_code, ehr.org_code) RETURNS boolean
    AS 'MODULE_PATHNAME', 'org_code_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.org_code_gt(ehr.org_code, ehr.org_code) IS 'org_code greater-than (never raises)';
CREATE FUNCTION ehr.org_code_ge(ehr.org_code, ehr.org_code) RETURNS boolean
    AS 'MODULE_PATHNAME', 'org_code_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.org_code_ge(ehr.org_code, ehr.org_code) IS 'org_code greater-or-equal (never raises)';
CREATE FUNCTION ehr.org_code_cmp(ehr.org_code, ehr.org_code) RETURNS integer
    AS 'MODULE_PATHNAME', 'org_code_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.org_code_cmp(ehr.org_code, ehr.org_code) IS 'org_code btree comparison (never raises)';
CREATE FUNCTION ehr.org_code_sortsupport(internal) RETURNS void
    AS 'MODULE_PATHNAME', 'org_code_sortsupport' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.org_code_sortsupport(internal) IS 'org_code btree sort support';
CREATE FUNCTION ehr.org_code_hash(ehr.org_code) RETURNS integer
    AS 'MODULE_PATHNAME', 'org_code_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.org_code_hash(ehr.org_code) IS 'org_code hash: hash_any of the 18 canonical bytes; stable forever (sharding depends on it)';
CREATE FUNCTION ehr.org_code_hash_extended(ehr.org_code, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'org_code_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.org_code_hash_extended(ehr.org_code, bigint) IS 'org_code seeded hash: hash_any_extended of the 18 canonical bytes; stable forever';

CREATE OPERATOR ehr.= (
    LEFTARG = ehr.org_code, RIGHTARG = ehr.org_code, FUNCTION = ehr.org_code_eq,
    COMMUTATOR = OPERATOR(ehr.=), NEGATOR = OPERATOR(ehr.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
COMMENT ON OPERATOR ehr.= (ehr.org_code, ehr.org_code) IS 'equal';
CREATE OPERATOR ehr.<> (
    LEFTARG = ehr.org_code, RIGHTARG = ehr.org_code, FUNCTION = ehr.org_code_ne,
    COMMUTATOR = OPERATOR(ehr.<>), NEGATOR = OPERATOR(ehr.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
COMMENT ON OPERATOR ehr.<> (ehr.org_code, ehr.org_code) IS 'not equal';
CREATE OPERATOR ehr.< (
    LEFTARG = ehr.org_code, RIGHTARG = ehr.org_code, FUNCTION = ehr.org_code_lt,
    COMMUTATOR = OPERATOR(ehr.>), NEGATOR = OPERATOR(ehr.>=),
    RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
COMMENT ON OPERATOR ehr.< (ehr.org_code, ehr.org_code) IS 'less than';
CREATE OPERATOR ehr.<= (
    LEFTARG = ehr.org_code, RIGHTARG = ehr.org_code, FUNCTION = ehr.org_code_le,
    COMMUTATOR = OPERATOR(ehr.>=), NEGATOR = OPERATOR(ehr.>),
    RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
COMMENT ON OPERATOR ehr.<= (ehr.org_code, ehr.org_code) IS 'less than or equal';
CREATE OPERATOR ehr.> (
    LEFTARG = ehr.org_code, RIGHTARG = ehr.org_code, FUNCTION = ehr.org_code_gt,
    COMMUTATOR = OPERATOR(ehr.<), NEGATOR = OPERATOR(ehr.<=),
    RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
COMMENT ON OPERATOR ehr.> (ehr.org_code, ehr.org_code) IS 'greater than';
CREATE OPERATOR ehr.>= (
    LEFTARG = ehr.org_code, RIGHTARG = ehr.org_code, FUNCTION = ehr.org_code_ge,
    COMMUTATOR = OPERATOR(ehr.<=), NEGATOR = OPERATOR(ehr.<),
    RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
COMMENT ON OPERATOR ehr.>= (ehr.org_code, ehr.org_code) IS 'greater than or equal';

CREATE OPERATOR CLASS ehr.org_code_ops
    DEFAULT FOR TYPE ehr.org_code USING btree AS
        OPERATOR 1 ehr.<,
        OPERATOR 2 ehr.<=,
        OPERATOR 3 ehr.=,
        OPERATOR 4 ehr.>=,
        OPERATOR 5 ehr.>,
        FUNCTION 1 ehr.org_code_cmp(ehr.org_code, ehr.org_code),
        FUNCTION 2 ehr.org_code_sortsupport(internal);
COMMENT ON OPERATOR CLASS ehr.org_code_ops USING btree IS 'Default btree operator class of org_code';
COMMENT ON OPERATOR FAMILY ehr.org_code_ops USING btree IS 'btree operator family of org_code';

CREATE OPERATOR CLASS ehr.org_code_ops
    DEFAULT FOR TYPE ehr.org_code USING hash AS
        OPERATOR 1 ehr.=,
        FUNCTION 1 ehr.org_code_hash(ehr.org_code),
        FUNCTION 2 ehr.org_code_hash_extended(ehr.org_code, bigint);
COMMENT ON OPERATOR CLASS ehr.org_code_ops USING hash IS 'Default hash operator class of org_code (hash values are stable forever)';
COMMENT ON OPERATOR FAMILY ehr.org_code_ops USING hash IS 'hash operator family of org_code';

-- What the code says.
CREATE FUNCTION ehr.org_region(ehr.org_code) RETURNS text
    AS 'MODULE_PATHNAME', 'org_code_region' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.org_region(ehr.org_code) IS 'Administrative division code of the registering authority (characters 3-8)';
CREATE FUNCTION ehr.is_valid_org_code(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'org_code_is_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.is_valid_org_code(text) IS 'Whether text is a valid unified social credit code (never raises)';
CREATE FUNCTION ehr.org_code_check_char(text) RETURNS text
    AS 'MODULE_PATHNAME', 'org_code_check_char' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.org_code_check_char(text) IS 'Check character of the first 17 characters of a unified social credit code';
