-- ehr.resident_id: GB 11643-1999 citizen identity number (src/resident_id.c).
-- 8 bytes, passed by value: the 17 significant digits as an integer; the check
-- character is recomputed on output. Comparison and hash functions never raise
-- (LEAKPROOF, so row-level security can still use indexes). The hash values are
-- an on-disk contract (Citus sharding, hash partitions): hashint8 of the
-- 17-digit integer, never to change.

CREATE TYPE ehr.resident_id;

CREATE FUNCTION ehr.resident_id_in(cstring) RETURNS ehr.resident_id
    AS 'MODULE_PATHNAME', 'resident_id_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.resident_id_in(cstring) IS 'Text input of resident_id: 18 characters or the 15-digit legacy form';

CREATE FUNCTION ehr.resident_id_out(ehr.resident_id) RETURNS cstring
    AS 'MODULE_PATHNAME', 'resident_id_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.resident_id_out(ehr.resident_id) IS 'Text output of resident_id: canonical 18 characters, upper-case X';

CREATE FUNCTION ehr.resident_id_recv(internal) RETURNS ehr.resident_id
    AS 'MODULE_PATHNAME', 'resident_id_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.resident_id_recv(internal) IS 'Binary input of resident_id: the 17 significant digits as a big-endian int8, validated';

CREATE FUNCTION ehr.resident_id_send(ehr.resident_id) RETURNS bytea
    AS 'MODULE_PATHNAME', 'resident_id_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.resident_id_send(ehr.resident_id) IS 'Binary output of resident_id: the 17 significant digits as a big-endian int8';

CREATE TYPE ehr.resident_id (
    INPUT = ehr.resident_id_in,
    OUTPUT = ehr.resident_id_out,
    RECEIVE = ehr.resident_id_recv,
    SEND = ehr.resident_id_send,
    INTERNALLENGTH = 8,
    PASSEDBYVALUE,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE ehr.resident_id IS 'Citizen identity number (GB 11643-1999), 8 bytes: validated check character, birth date and province';

-- Casts to and from text (assignment: text columns load into resident_id columns).
CREATE FUNCTION ehr.resident_id(text) RETURNS ehr.resident_id
    AS 'MODULE_PATHNAME', 'resident_id_from_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.resident_id(text) IS 'Cast text to resident_id (same rules as input)';

CREATE FUNCTION ehr.text(ehr.resident_id) RETURNS text
    AS 'MODULE_PATHNAME', 'resident_id_to_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.text(ehr.resident_id) IS 'Cast resident_id to its canonical 18-character text';

CREATE CAST (text AS ehr.resident_id) WITH FUNCTION ehr.resident_id(text) AS ASSIGNMENT;
COMMENT ON CAST (text AS ehr.resident_id) IS 'Parse and validate a resident ID';
CREATE CAST (ehr.resident_id AS text) WITH FUNCTION ehr.text(ehr.resident_id) AS ASSIGNMENT;
COMMENT ON CAST (ehr.resident_id AS text) IS 'Canonical 18-character text of a resident ID';

-- Comparison: order of the canonical text.
CREATE FUNCTION ehr.resident_id_eq(ehr.resident_id, ehr.resident_id) RETURNS boolean
    AS 'MODULE_PATHNAME', 'resident_id_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.resident_id_eq(ehr.resident_id, ehr.resident_id) IS 'resident_id equality (never raises)';
CREATE FUNCTION ehr.resident_id_ne(ehr.resident_id, ehr.resident_id) RETURNS boolean
    AS 'MODULE_PATHNAME', 'resident_id_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.resident_id_ne(ehr.resident_id, ehr.resident_id) IS 'resident_id inequality (never raises)';
CREATE FUNCTION ehr.resident_id_lt(ehr.resident_id, ehr.resident_id) RETURNS boolean
    AS 'MODULE_PATHNAME', 'resident_id_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.resident_id_lt(ehr.resident_id, ehr.resident_id) IS 'resident_id less-than (never raises)';
CREATE FUNCTION ehr.resident_id_le(ehr.resident_id, ehr.resident_id) RETURNS boolean
    AS 'MODULE_PATHNAME', 'resident_id_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.resident_id_le(ehr.resident_id, ehr.resident_id) IS 'resident_id less-or-equal (never raises)';
CREATE FUNCTION ehr.resident_id_gt(ehr.resident_id, ehr.resident_id) RETURNS boolean
    AS 'MODULE_PATHNAME', 'resident_id_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.resident_id_gt(ehr.resident_id, ehr.resident_id) IS 'resident_id greater-than (never raises)';
CREATE FUNCTION ehr.resident_id_ge(ehr.resident_id, ehr.resident_id) RETURNS boolean
    AS 'MODULE_PATHNAME', 'resident_id_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.resident_id_ge(ehr.resident_id, ehr.resident_id) IS 'resident_id greater-or-equal (never raises)';
CREATE FUNCTION ehr.resident_id_cmp(ehr.resident_id, ehr.resident_id) RETURNS integer
    AS 'MODULE_PATHNAME', 'resident_id_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.resident_id_cmp(ehr.resident_id, ehr.resident_id) IS 'resident_id btree comparison (never raises)';
CREATE FUNCTION ehr.resident_id_sortsupport(internal) RETURNS void
    AS 'MODULE_PATHNAME', 'resident_id_sortsupport' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.resident_id_sortsupport(internal) IS 'resident_id btree sort support';
CREATE FUNCTION ehr.resident_id_hash(ehr.resident_id) RETURNS integer
    AS 'MODULE_PATHNAME', 'resident_id_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.resident_id_hash(ehr.resident_id) IS 'resident_id hash: hashint8 of the 17 significant digits; stable forever (sharding depends on it)';
CREATE FUNCTION ehr.resident_id_hash_extended(ehr.resident_id, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'resident_id_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION ehr.resident_id_hash_extended(ehr.resident_id, bigint) IS 'resident_id seeded hash: hashint8extended of the 17 significant digits; stable forever';

CREATE OPERATOR ehr.= (
    LEFTARG = ehr.resident_id, RIGHTARG = ehr.resident_id, FUNCTION = ehr.resident_id_eq,
    COMMUTATOR = OPERATOR(ehr.=), NEGATOR = OPERATOR(ehr.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
COMMENT ON OPERATOR ehr.= (ehr.resident_id, ehr.resident_id) IS 'equal';
CREATE OPERATOR ehr.<> (
    LEFTARG = ehr.resident_id, RIGHTARG = ehr.resident_id, FUNCTION = ehr.resident_id_ne,
    COMMUTATOR = OPERATOR(ehr.<>), NEGATOR = OPERATOR(ehr.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
COMMENT ON OPERATOR ehr.<> (ehr.resident_id, ehr.resident_id) IS 'not equal';
CREATE OPERATOR ehr.< (
    LEFTARG = ehr.resident_id, RIGHTARG = ehr.resident_id, FUNCTION = ehr.resident_id_lt,
    COMMUTATOR = OPERATOR(ehr.>), NEGATOR = OPERATOR(ehr.>=),
    RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
COMMENT ON OPERATOR ehr.< (ehr.resident_id, ehr.resident_id) IS 'less than';
CREATE OPERATOR ehr.<= (
    LEFTARG = ehr.resident_id, RIGHTARG = ehr.resident_id, FUNCTION = ehr.resident_id_le,
    COMMUTATOR = OPERATOR(ehr.>=), NEGATOR = OPERATOR(ehr.>),
    RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
COMMENT ON OPERATOR ehr.<= (ehr.resident_id, ehr.resident_id) IS 'less than or equal';
CREATE OPERATOR ehr.> (
    LEFTARG = ehr.resident_id, RIGHTARG = ehr.resident_id, FUNCTION = ehr.resident_id_gt,
    COMMUTATOR = OPERATOR(ehr.<), NEGATOR = OPERATOR(ehr.<=),
    RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
COMMENT ON OPERATOR ehr.> (ehr.resident_id, ehr.resident_id) IS 'greater than';
CREATE OPERATOR ehr.>= (
    LEFTARG = ehr.resident_id, RIGHTARG = ehr.resident_id, FUNCTION = ehr.resident_id_ge,
    COMMUTATOR = OPERATOR(ehr.<=), NEGATOR = OPERATOR(ehr.<),
    RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
COMMENT ON OPERATOR ehr.>= (ehr.resident_id, ehr.resident_id) IS 'greater than or equal';

CREATE OPERATOR CLASS ehr.resident_id_ops
    DEFAULT FOR TYPE ehr.resident_id USING btree AS
        OPERATOR 1 ehr.<,
        OPERATOR 2 ehr.<=,
        OPERATOR 3 ehr.=,
        OPERATOR 4 ehr.>=,
        OPERATOR 5 ehr.>,
        FUNCTION 1 ehr.resident_id_cmp(ehr.resident_id, ehr.resident_id),
        FUNCTION 2 ehr.resident_id_sortsupport(internal);
COMMENT ON OPERATOR CLASS ehr.resident_id_ops USING btree IS 'Default btree operator class of resident_id';
COMMENT ON OPERATOR FAMILY ehr.resident_id_ops USING btree IS 'btree operator family of resident_id';

CREATE OPERATOR CLASS ehr.resident_id_ops
    DEFAULT FOR TYPE ehr.resident_id USING hash AS
        OPERATOR 1 ehr.=,
        FUNCTION 1 ehr.resident_id_hash(ehr.resident_id),
        FUNCTION 2 ehr.resident_id_hash_extended(ehr.resident_id, bigint);
COMMENT ON OPERATOR CLASS ehr.resident_id_ops USING hash IS 'Default hash operator class of resident_id (hash values are stable forever)';
COMMENT ON OPERATOR FAMILY ehr.resident_id_ops USING hash IS 'hash operator family of resident_id';

-- What the number says.
CREATE FUNCTION ehr.birth_date(ehr.resident_id) RETURNS date
    AS 'MODULE_PATHNAME', 'resident_id_birth_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.birth_date(ehr.resident_id) IS 'Birth date encoded in a resident ID (digits 7-14)';
CREATE FUNCTION ehr.sex(ehr.resident_id) RETURNS text
    AS 'MODULE_PATHNAME', 'resident_id_sex' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.sex(ehr.resident_id) IS 'male or female, from the parity of the 17th digit';
CREATE FUNCTION ehr.region_code(ehr.resident_id) RETURNS text
    AS 'MODULE_PATHNAME', 'resident_id_region_code' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.region_code(ehr.resident_id) IS 'Administrative division code of the place of issue (first 6 digits, GB/T 2260)';
CREATE FUNCTION ehr.age(ehr.resident_id, date) RETURNS integer
    AS 'MODULE_PATHNAME', 'resident_id_age_at' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.age(ehr.resident_id, date) IS 'Completed years of age at a date (Feb 29 birthdays count on Mar 1 in common years)';
CREATE FUNCTION ehr.age(ehr.resident_id) RETURNS integer
    AS 'MODULE_PATHNAME', 'resident_id_age' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.age(ehr.resident_id) IS 'Completed years of age at current_date';
CREATE FUNCTION ehr.is_valid_resident_id(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'resident_id_is_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.is_valid_resident_id(text) IS 'Whether text is a valid resident ID (never raises)';
CREATE FUNCTION ehr.resident_id_check_char(text) RETURNS text
    AS 'MODULE_PATHNAME', 'resident_id_check_char' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.resident_id_check_char(text) IS 'Check character (0-9 or X) of the first 17 digits of a resident ID';
