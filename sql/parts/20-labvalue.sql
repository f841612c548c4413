-- Lab values and reference ranges (labvalue.c, units.c): ehr.labvalue, ehr.refrange,
-- UCUM unit conversion and HL7 interpretation. Every function here is pure:
-- IMMUTABLE STRICT PARALLEL SAFE; the byte-wise equality functions cannot raise and
-- are LEAKPROOF.

-- ==== ehr.labvalue
CREATE TYPE ehr.labvalue;

CREATE FUNCTION ehr.labvalue_in(cstring) RETURNS ehr.labvalue
    AS 'MODULE_PATHNAME', 'labvalue_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ehr.labvalue_out(ehr.labvalue) RETURNS cstring
    AS 'MODULE_PATHNAME', 'labvalue_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ehr.labvalue_recv(internal) RETURNS ehr.labvalue
    AS 'MODULE_PATHNAME', 'labvalue_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ehr.labvalue_send(ehr.labvalue) RETURNS bytea
    AS 'MODULE_PATHNAME', 'labvalue_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ehr.labvalue (
    INPUT = ehr.labvalue_in,
    OUTPUT = ehr.labvalue_out,
    RECEIVE = ehr.labvalue_recv,
    SEND = ehr.labvalue_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = plain,
    -- its own category, preferred over refrange: an untyped literal in a call overloaded
    -- on both (ehr.unit('5.6 mmol/L'), ehr.convert('5.6 mmol/L', 'mg/dL', 180.156)) is a labvalue
    CATEGORY = 'L',
    PREFERRED = true
);
COMMENT ON TYPE ehr.labvalue IS 'A measured lab result: optional comparator (<, <=, >, >=), a decimal kept as written, a UCUM unit';
COMMENT ON FUNCTION ehr.labvalue_in(cstring) IS 'Input function of ehr.labvalue';
COMMENT ON FUNCTION ehr.labvalue_out(ehr.labvalue) IS 'Output function of ehr.labvalue (canonical unit spelling)';
COMMENT ON FUNCTION ehr.labvalue_recv(internal) IS 'Binary input function of ehr.labvalue';
COMMENT ON FUNCTION ehr.labvalue_send(ehr.labvalue) IS 'Binary output function of ehr.labvalue';

-- ==== ehr.refrange
CREATE TYPE ehr.refrange;

CREATE FUNCTION ehr.refrange_in(cstring) RETURNS ehr.refrange
    AS 'MODULE_PATHNAME', 'refrange_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ehr.refrange_out(ehr.refrange) RETURNS cstring
    AS 'MODULE_PATHNAME', 'refrange_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ehr.refrange_recv(internal) RETURNS ehr.refrange
    AS 'MODULE_PATHNAME', 'refrange_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ehr.refrange_send(ehr.refrange) RETURNS bytea
    AS 'MODULE_PATHNAME', 'refrange_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ehr.refrange (
    INPUT = ehr.refrange_in,
    OUTPUT = ehr.refrange_out,
    RECEIVE = ehr.refrange_recv,
    SEND = ehr.refrange_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = plain,
    CATEGORY = 'L'
);
COMMENT ON TYPE ehr.refrange IS 'A reference interval with a UCUM unit: [3.9,6.1] mmol/L, (0,5.2) mmol/L, <5.2 mmol/L, >=90 mL/min/{1.73_m2}';
COMMENT ON FUNCTION ehr.refrange_in(cstring) IS 'Input function of ehr.refrange';
COMMENT ON FUNCTION ehr.refrange_out(ehr.refrange) IS 'Output function of ehr.refrange (canonical form)';
COMMENT ON FUNCTION ehr.refrange_recv(internal) IS 'Binary input function of ehr.refrange';
COMMENT ON FUNCTION ehr.refrange_send(ehr.refrange) IS 'Binary output function of ehr.refrange';

-- ==== equality as written, hash opclasses
CREATE FUNCTION ehr.labvalue_eq(ehr.labvalue, ehr.labvalue) RETURNS boolean
    AS 'MODULE_PATHNAME', 'labvalue_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION ehr.labvalue_ne(ehr.labvalue, ehr.labvalue) RETURNS boolean
    AS 'MODULE_PATHNAME', 'labvalue_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION ehr.labvalue_hash(ehr.labvalue) RETURNS integer
    AS 'MODULE_PATHNAME', 'labvalue_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ehr.labvalue_hash_extended(ehr.labvalue, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'labvalue_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.labvalue_eq(ehr.labvalue, ehr.labvalue) IS 'Equal as written: same comparator, digits and unit spelling';
COMMENT ON FUNCTION ehr.labvalue_ne(ehr.labvalue, ehr.labvalue) IS 'Not equal as written';
COMMENT ON FUNCTION ehr.labvalue_hash(ehr.labvalue) IS 'Hash of a labvalue as written (hash opclass support)';
COMMENT ON FUNCTION ehr.labvalue_hash_extended(ehr.labvalue, bigint) IS 'Seeded 64-bit hash of a labvalue as written (hash opclass support)';

CREATE OPERATOR ehr.= (
    LEFTARG = ehr.labvalue, RIGHTARG = ehr.labvalue, FUNCTION = ehr.labvalue_eq,
    COMMUTATOR = OPERATOR(ehr.=), NEGATOR = OPERATOR(ehr.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES
);
CREATE OPERATOR ehr.<> (
    LEFTARG = ehr.labvalue, RIGHTARG = ehr.labvalue, FUNCTION = ehr.labvalue_ne,
    COMMUTATOR = OPERATOR(ehr.<>), NEGATOR = OPERATOR(ehr.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
COMMENT ON OPERATOR ehr.= (ehr.labvalue, ehr.labvalue) IS 'Equal as written (5.6 <> 5.60)';
COMMENT ON OPERATOR ehr.<> (ehr.labvalue, ehr.labvalue) IS 'Not equal as written';

CREATE OPERATOR CLASS ehr.labvalue_hash_ops DEFAULT FOR TYPE ehr.labvalue USING hash AS
    OPERATOR 1 ehr.= (ehr.labvalue, ehr.labvalue),
    FUNCTION 1 ehr.labvalue_hash(ehr.labvalue),
    FUNCTION 2 ehr.labvalue_hash_extended(ehr.labvalue, bigint);
COMMENT ON OPERATOR CLASS ehr.labvalue_hash_ops USING hash IS 'Hash operator class of ehr.labvalue (equality as written)';
COMMENT ON OPERATOR FAMILY ehr.labvalue_hash_ops USING hash IS 'Hash operator family of ehr.labvalue';

CREATE FUNCTION ehr.refrange_eq(ehr.refrange, ehr.refrange) RETURNS boolean
    AS 'MODULE_PATHNAME', 'refrange_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION ehr.refrange_ne(ehr.refrange, ehr.refrange) RETURNS boolean
    AS 'MODULE_PATHNAME', 'refrange_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION ehr.refrange_hash(ehr.refrange) RETURNS integer
    AS 'MODULE_PATHNAME', 'refrange_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ehr.refrange_hash_extended(ehr.refrange, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'refrange_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.refrange_eq(ehr.refrange, ehr.refrange) IS 'Equal as written: same bounds, digits and unit spelling';
COMMENT ON FUNCTION ehr.refrange_ne(ehr.refrange, ehr.refrange) IS 'Not equal as written';
COMMENT ON FUNCTION ehr.refrange_hash(ehr.refrange) IS 'Hash of a refrange as written (hash opclass support)';
COMMENT ON FUNCTION ehr.refrange_hash_extended(ehr.refrange, bigint) IS 'Seeded 64-bit hash of a refrange as written (hash opclass support)';

CREATE OPERATOR ehr.= (
    LEFTARG = ehr.refrange, RIGHTARG = ehr.refrange, FUNCTION = ehr.refrange_eq,
    COMMUTATOR = OPERATOR(ehr.=), NEGATOR = OPERATOR(ehr.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES
);
CREATE OPERATOR ehr.<> (
    LEFTARG = ehr.refrange, RIGHTARG = ehr.refrange, FUNCTION = ehr.refrange_ne,
    COMMUTATOR = OPERATOR(ehr.<>), NEGATOR = OPERATOR(ehr.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
COMMENT ON OPERATOR ehr.= (ehr.refrange, ehr.refrange) IS 'Equal as written';
COMMENT ON OPERATOR ehr.<> (ehr.refrange, ehr.refrange) IS 'Not equal as written';

CREATE OPERATOR CLASS ehr.refrange_hash_ops DEFAULT FOR TYPE ehr.refrange USING hash AS
    OPERATOR 1 ehr.= (ehr.refrange, ehr.refrange),
    FUNCTION 1 ehr.refrange_hash(ehr.refrange),
    FUNCTION 2 ehr.refrange_hash_extended(ehr.refrange, bigint);
COMMENT ON OPERATOR CLASS ehr.refrange_hash_ops USING hash IS 'Hash operator class of ehr.refrange (equality as written)';
COMMENT ON OPERATOR FAMILY ehr.refrange_hash_ops USING hash IS 'Hash operator family of ehr.refrange';

-- ==== casts to and from text
CREATE CAST (ehr.labvalue AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS ehr.labvalue) WITH INOUT;
CREATE CAST (ehr.refrange AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS ehr.refrange) WITH INOUT;
COMMENT ON CAST (ehr.labvalue AS text) IS 'Canonical text of a lab value';
COMMENT ON CAST (text AS ehr.labvalue) IS 'Parse a lab value (22P02 on bad input)';
COMMENT ON CAST (ehr.refrange AS text) IS 'Canonical text of a reference range';
COMMENT ON CAST (text AS ehr.refrange) IS 'Parse a reference range (22P02 on bad input)';

-- ==== accessors
CREATE FUNCTION ehr.value(ehr.labvalue) RETURNS numeric
    AS 'MODULE_PATHNAME', 'labvalue_value'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.value(ehr.labvalue) IS 'The number of a lab value, with its written scale (5.60 stays 5.60); the comparator is dropped';
CREATE FUNCTION ehr.unit(ehr.labvalue) RETURNS text
    AS 'MODULE_PATHNAME', 'labvalue_unit'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.unit(ehr.labvalue) IS 'Canonical UCUM unit of a lab value ('''' when dimensionless)';
CREATE FUNCTION ehr.comparator(ehr.labvalue) RETURNS text
    AS 'MODULE_PATHNAME', 'labvalue_comparator'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.comparator(ehr.labvalue) IS 'Comparator of a censored lab value (<, <=, >, >=), NULL when the value is exact';
CREATE FUNCTION ehr.low(ehr.refrange) RETURNS numeric
    AS 'MODULE_PATHNAME', 'refrange_low'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.low(ehr.refrange) IS 'Lower bound of a reference range as written, NULL when unbounded below';
CREATE FUNCTION ehr.high(ehr.refrange) RETURNS numeric
    AS 'MODULE_PATHNAME', 'refrange_high'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.high(ehr.refrange) IS 'Upper bound of a reference range as written, NULL when unbounded above';
CREATE FUNCTION ehr.unit(ehr.refrange) RETURNS text
    AS 'MODULE_PATHNAME', 'refrange_unit'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.unit(ehr.refrange) IS 'Canonical UCUM unit of a reference range';

-- ==== units
CREATE FUNCTION ehr.unit_normalize(unit text) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_unit_normalize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.unit_normalize(text) IS 'Canonical UCUM spelling of a unit (10^9/L -> 10*9/L, μmol/L -> umol/L); 22P02 for an unknown unit';
CREATE FUNCTION ehr.unit_commensurable(a text, b text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ehr_unit_commensurable_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.unit_commensurable(text, text) IS 'Whether two units measure the same quantity (mmol/L and mg/dL do not: that needs a molar mass)';

-- ==== conversion
CREATE FUNCTION ehr.convert(ehr.labvalue, unit text) RETURNS ehr.labvalue
    AS 'MODULE_PATHNAME', 'labvalue_convert'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.convert(ehr.labvalue, text) IS 'Convert to a commensurable unit, keeping the significant digits plus one and the comparator; 22P02 unknown unit, 22023 incommensurable';
CREATE FUNCTION ehr.convert(ehr.labvalue, unit text, molar_mass float8) RETURNS ehr.labvalue
    AS 'MODULE_PATHNAME', 'labvalue_convert_molar'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.convert(ehr.labvalue, text, float8) IS 'Convert, also between mass and substance concentration through the molar mass in g/mol';
CREATE FUNCTION ehr.convert(ehr.refrange, unit text) RETURNS ehr.refrange
    AS 'MODULE_PATHNAME', 'refrange_convert'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.convert(ehr.refrange, text) IS 'Convert a reference range''s bounds to a commensurable unit (significant digits plus one); 22P02 unknown unit, 22023 incommensurable';
CREATE FUNCTION ehr.convert(ehr.refrange, unit text, molar_mass float8) RETURNS ehr.refrange
    AS 'MODULE_PATHNAME', 'refrange_convert_molar'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.convert(ehr.refrange, text, float8) IS 'Convert a reference range, also between mass and substance concentration through the molar mass in g/mol';
CREATE FUNCTION ehr.equivalent(ehr.refrange, ehr.refrange) RETURNS boolean
    AS 'MODULE_PATHNAME', 'refrange_equivalent'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.equivalent(ehr.refrange, ehr.refrange) IS 'Same interval after unit conversion, at the written digits of each; NULL when the units do not convert';
CREATE FUNCTION ehr.equivalent(ehr.refrange, ehr.refrange, molar_mass float8) RETURNS boolean
    AS 'MODULE_PATHNAME', 'refrange_equivalent_molar'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.equivalent(ehr.refrange, ehr.refrange, float8) IS 'Same interval after unit conversion through a molar mass (g/mol); NULL when the units do not convert';

-- ==== interpretation
CREATE FUNCTION ehr.interpret(ehr.labvalue, ehr.refrange) RETURNS text
    AS 'MODULE_PATHNAME', 'labvalue_interpret'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.interpret(ehr.labvalue, ehr.refrange) IS 'HL7 interpretation N, L or H against a reference range (after unit conversion); NULL when not comparable';
CREATE FUNCTION ehr.interpret(ehr.labvalue, ehr.refrange, critical ehr.refrange) RETURNS text
    AS 'MODULE_PATHNAME', 'labvalue_interpret_critical'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.interpret(ehr.labvalue, ehr.refrange, ehr.refrange) IS 'HL7 interpretation N, L, H, LL or HH against a reference and a critical range; NULL when not comparable';

CREATE FUNCTION ehr.labvalue_within(ehr.labvalue, ehr.refrange) RETURNS boolean
    AS 'MODULE_PATHNAME', 'labvalue_within'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.labvalue_within(ehr.labvalue, ehr.refrange) IS 'Whether the whole lab value lies in the range (support of <@); NULL when not comparable or partly inside';
CREATE OPERATOR ehr.<@ (
    LEFTARG = ehr.labvalue, RIGHTARG = ehr.refrange, FUNCTION = ehr.labvalue_within
);
COMMENT ON OPERATOR ehr.<@ (ehr.labvalue, ehr.refrange) IS 'Lab value lies within the reference range (after unit conversion); NULL when not comparable';
