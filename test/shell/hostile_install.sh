#!/usr/bin/env bash
# Hostile install (issue 2 §5; the attacks of CVE-2020-14350 and CVE-2023-39417).
#
# An unprivileged role that may create objects in schema public (the default before
# PostgreSQL 15, and still common) plants traps there: operators and functions with
# the names ehr's code might call unqualified (=, <>, ~, ||, lower, upper, format,
# concat, count, array_agg, now, ...), some with argument types more specific than
# pg_catalog's so they win overload resolution even when pg_catalog is searched first.
# The superuser's session has temporary views shadowing catalog names (pg_roles,
# pg_class, ...) -- pg_temp is searched before pg_catalog for relations. Every trap
# bumps a sequence (not transactional, so a ROLLBACK cannot hide it) and raises a
# WARNING naming itself.
#
# Then: CREATE EXTENSION ehr; the attacker plants a second set of traps on the
# extension's own names and types (a public twin of every ehr function, operators on
# ehr types); the superuser, with search_path = public, ehr, pg_catalog (the worst
# order), loads fixtures and calls EVERY function in schema ehr (and ehr_deid) with
# sample arguments. The call list is built from pg_proc, so functions added later are
# called too; a function whose argument type has no sample is listed as a SKIP, which
# is the signal to add a sample below. Prints TAP.
#
# A positive control proves the traps do fire for unqualified names, and a last part
# proves the install refuses a schema ehr that another role owns or can create in.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

own_cluster=
if [ -z "${PGPORT:-}" ]; then
    own_cluster=$(make_tmpdir)/hostile
    start_cluster "$own_cluster"
fi
WORK=$(mktemp -d "${EHR_TMP:-/tmp}/hostile-XXXXXX")
DB=ehr_hostile
ATTACKER=ehr_hostile_attacker
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP DATABASE IF EXISTS ${DB}_schema" \
         -c "DROP ROLE IF EXISTS $ATTACKER" >/dev/null 2>&1
    [ -n "$own_cluster" ] && stop_cluster "$own_cluster"
    rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/../../scripts/tap.sh"
# every psql run: no psqlrc, stop at errors unless told otherwise
su_psql() { psql -X -q -v ON_ERROR_STOP=1 -U postgres "$@"; }
# the harness's own queries never resolve a name through a hostile path
safe()    { psql -X -q -At -v ON_ERROR_STOP=1 -U postgres -d "$DB" \
                 -c "SET search_path = pg_catalog, pg_temp" -c "$1"; }
hits()    { safe "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.trap_hits"; }

# ---------------------------------------------------------------- 1. the stage
export PGOPTIONS='-c client_min_messages=warning'
su_psql -d postgres >/dev/null <<SQL || { echo "Bail out! cannot set up"; exit 1; }
DROP DATABASE IF EXISTS $DB;
DROP DATABASE IF EXISTS ${DB}_schema;
DROP ROLE IF EXISTS $ATTACKER;
CREATE ROLE $ATTACKER LOGIN;
CREATE DATABASE $DB TEMPLATE template0;
CREATE DATABASE ${DB}_schema TEMPLATE template0;
SQL

su_psql -d "$DB" >/dev/null <<'SQL' || { echo "Bail out! cannot set up"; exit 1; }
SET search_path = pg_catalog, pg_temp;
-- The pre-15 default: every role may create objects in public.
GRANT CREATE ON SCHEMA public TO PUBLIC;
CREATE SEQUENCE public.trap_hits;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.trap_hits TO PUBLIC;
CREATE TABLE public.trap_log (trap text, by_user name, at timestamptz);
GRANT INSERT ON public.trap_log TO PUBLIC;
-- What every trap calls: a non-transactional count, a row, a warning.
CREATE FUNCTION public.trap_hit(what text) RETURNS boolean
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_catalog.nextval('public.trap_hits');
    INSERT INTO public.trap_log VALUES (what, current_user, pg_catalog.clock_timestamp());
    RAISE WARNING 'EHR-TRAP % (as %)', what, current_user;
    RETURN true;
END $$;
SQL

# ---------------------------------------------------------------- 2. traps before install
psql -X -q -v ON_ERROR_STOP=1 -U "$ATTACKER" -d "$DB" >/dev/null <<'SQL' || { echo "Bail out! attacker could not plant traps"; exit 1; }
SET search_path = pg_catalog, pg_temp;
DO $plant$
DECLARE
    f record;
    i int := 0;
BEGIN
    -- functions: name, argument types, result, the real call they imitate
    FOR f IN SELECT * FROM (VALUES
        ('lower', 'text', 'text', 'pg_catalog.lower($1)'),
        ('upper', 'text', 'text', 'pg_catalog.upper($1)'),
        ('lower', 'varchar', 'text', 'pg_catalog.lower($1)'),
        ('upper', 'varchar', 'text', 'pg_catalog.upper($1)'),
        ('lower', 'name', 'text', 'pg_catalog.lower($1)'),
        ('btrim', 'text', 'text', 'pg_catalog.btrim($1)'),
        ('length', 'text', 'integer', 'pg_catalog.length($1)'),
        ('length', 'name', 'integer', 'pg_catalog.length($1)'),
        ('substr', 'text, integer', 'text', 'pg_catalog.substr($1, $2)'),
        ('substr', 'text, integer, integer', 'text', 'pg_catalog.substr($1, $2, $3)'),
        ('format', 'text', 'text', 'pg_catalog.format($1)'),
        ('format', 'text, text', 'text', 'pg_catalog.format($1, $2)'),
        ('format', 'text, name', 'text', 'pg_catalog.format($1, $2)'),
        ('format', 'text, text, text', 'text', 'pg_catalog.format($1, $2, $3)'),
        ('concat', 'text, text', 'text', 'pg_catalog.concat($1, $2)'),
        ('concat', 'text, text, text', 'text', 'pg_catalog.concat($1, $2, $3)'),
        ('concat_ws', 'text, text, text', 'text', 'pg_catalog.concat_ws($1, $2, $3)'),
        ('quote_ident', 'text', 'text', 'pg_catalog.quote_ident($1)'),
        ('quote_literal', 'text', 'text', 'pg_catalog.quote_literal($1)'),
        ('md5', 'text', 'text', 'pg_catalog.md5($1)'),
        ('now', '', 'timestamptz', 'pg_catalog.now()'),
        ('clock_timestamp', '', 'timestamptz', 'pg_catalog.clock_timestamp()'),
        ('current_setting', 'text', 'text', 'pg_catalog.current_setting($1)'),
        ('set_config', 'text, text, boolean', 'text', 'pg_catalog.set_config($1, $2, $3)'),
        ('array_to_string', 'text[], text', 'text', 'pg_catalog.array_to_string($1, $2)'),
        ('array_length', 'text[], integer', 'integer', 'pg_catalog.array_length($1, $2)'),
        ('jsonb_typeof', 'jsonb', 'text', 'pg_catalog.jsonb_typeof($1)'),
        ('to_char', 'timestamptz, text', 'text', 'pg_catalog.to_char($1, $2)'),
        ('pg_has_role', 'name, text', 'boolean', 'pg_catalog.pg_has_role($1, $2)'),
        ('has_table_privilege', 'text, text', 'boolean', 'pg_catalog.has_table_privilege($1, $2)'),
        ('regexp_replace', 'text, text, text', 'text', 'pg_catalog.regexp_replace($1, $2, $3)'),
        ('replace', 'text, text, text', 'text', 'pg_catalog.replace($1, $2, $3)'),
        ('encode', 'bytea, text', 'text', 'pg_catalog.encode($1, $2)'),
        ('decode', 'text, text', 'bytea', 'pg_catalog.decode($1, $2)'),
        ('gen_random_bytes', 'integer', 'bytea', 'NULL::bytea'),
        ('digest', 'text, text', 'bytea', 'NULL::bytea')
    ) AS t(name, args, ret, real) LOOP
        i := i + 1;
        EXECUTE pg_catalog.format(
            'CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp '
            'AS $t$BEGIN PERFORM public.trap_hit(%L); RETURN %s; END$t$',
            f.name, f.args, f.ret, 'public.' || f.name || '(' || f.args || ')', f.real);
    END LOOP;

    -- operators: name, left, right, the pg_catalog function behind the real one
    FOR f IN SELECT * FROM (VALUES
        ('=', 'text', 'text', 'pg_catalog.texteq($1, $2)', 'boolean'),
        ('<>', 'text', 'text', 'pg_catalog.textne($1, $2)', 'boolean'),
        ('=', 'varchar', 'varchar', 'pg_catalog.texteq($1, $2)', 'boolean'),
        ('=', 'name', 'name', 'pg_catalog.nameeq($1, $2)', 'boolean'),
        ('=', 'name', 'text', 'pg_catalog.nameeqtext($1, $2)', 'boolean'),
        ('=', 'oid', 'oid', 'pg_catalog.oideq($1, $2)', 'boolean'),
        ('=', 'oid', 'integer', 'pg_catalog.oideq($1, $2::pg_catalog.oid)', 'boolean'),
        ('=', 'integer', 'integer', 'pg_catalog.int4eq($1, $2)', 'boolean'),
        ('=', 'bigint', 'bigint', 'pg_catalog.int8eq($1, $2)', 'boolean'),
        ('=', 'smallint', 'integer', 'pg_catalog.int24eq($1, $2)', 'boolean'),
        ('>=', 'smallint', 'integer', 'pg_catalog.int24ge($1, $2)', 'boolean'),
        ('<=', 'smallint', 'integer', 'pg_catalog.int24le($1, $2)', 'boolean'),
        ('>', 'double precision', 'integer', 'pg_catalog.float8gt($1, $2)', 'boolean'),
        ('>=', 'numeric', 'integer', 'pg_catalog.numeric_ge($1, $2)', 'boolean'),
        ('=', 'boolean', 'boolean', 'pg_catalog.booleq($1, $2)', 'boolean'),
        ('~', 'text', 'text', 'pg_catalog.textregexeq($1, $2)', 'boolean'),
        ('~~', 'text', 'text', 'pg_catalog.textlike($1, $2)', 'boolean'),
        ('||', 'text', 'text', 'pg_catalog.textcat($1, $2)', 'text'),
        ('||', 'text', 'integer', 'pg_catalog.textcat($1, $2::pg_catalog.text)', 'text'),
        ('+', 'bigint', 'bigint', 'pg_catalog.int8pl($1, $2)', 'bigint'),
        ('+', 'integer', 'integer', 'pg_catalog.int4pl($1, $2)', 'integer'),
        ('-', 'timestamptz', 'timestamptz', 'pg_catalog.timestamptz_mi($1, $2)', 'interval'),
        ('+', 'timestamptz', 'interval', 'pg_catalog.timestamptz_pl_interval($1, $2)', 'timestamptz'),
        ('@>', 'text[]', 'text[]', 'pg_catalog.arraycontains($1, $2)', 'boolean')
    ) AS t(op, l, r, real, ret) LOOP
        i := i + 1;
        EXECUTE pg_catalog.format(
            'CREATE FUNCTION public.trap_op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp '
            'AS $t$BEGIN PERFORM public.trap_hit(%L); RETURN %s; END$t$',
            i, f.l, f.r, f.ret, 'public.' || f.op || '(' || f.l || ', ' || f.r || ')', f.real);
        EXECUTE pg_catalog.format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.trap_op_%s)',
                                  f.op, f.l, f.r, i);
    END LOOP;

    -- aggregates more specific than pg_catalog's polymorphic ones
    CREATE FUNCTION public.trap_agg_sfunc(text[], text) RETURNS text[] LANGUAGE plpgsql
        SET search_path = pg_catalog, pg_temp
        AS $t$BEGIN PERFORM public.trap_hit('public.array_agg/count(text)'); RETURN $1 || $2; END$t$;
    CREATE FUNCTION public.trap_agg_count(text[]) RETURNS bigint LANGUAGE sql
        AS $t$SELECT pg_catalog.cardinality($1)::bigint$t$;
    CREATE AGGREGATE public.array_agg(text) (SFUNC = public.trap_agg_sfunc, STYPE = text[], INITCOND = '{}');
    CREATE AGGREGATE public.count(text) (SFUNC = public.trap_agg_sfunc, STYPE = text[], INITCOND = '{}',
                                         FINALFUNC = public.trap_agg_count);
END
$plant$;
SQL
# COALESCE, NULLIF, GREATEST, LEAST are syntax, not functions: a public.coalesce()
# is never called for them, so they are not planted.

planted=$(safe "SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc WHERE pronamespace OPERATOR(pg_catalog.=) 'public'::pg_catalog.regnamespace AND proowner OPERATOR(pg_catalog.=) '$ATTACKER'::pg_catalog.regrole")
ops=$(safe "SELECT pg_catalog.count(*) FROM pg_catalog.pg_operator WHERE oprnamespace OPERATOR(pg_catalog.=) 'public'::pg_catalog.regnamespace")
if [ "$planted" -ge 60 ] && [ "$ops" -ge 20 ]; then
    ok "attacker planted $planted functions and $ops operators in public"
else
    not_ok "attacker planted only $planted functions and $ops operators"
fi

# temporary views the superuser's session carries; each row it returns trips a trap
TEMP_VIEWS=$(for v in pg_roles pg_authid pg_class pg_namespace pg_proc pg_type pg_extension \
                      pg_depend pg_constraint pg_index pg_settings pg_tables \
                      pg_operator pg_opclass pg_am; do
    echo "CREATE TEMP VIEW $v AS SELECT * FROM pg_catalog.$v WHERE public.trap_hit('pg_temp.$v');"
done
# (pg_attribute has a pseudo-type column: its view lists the columns)
echo "CREATE TEMP VIEW pg_attribute AS SELECT attrelid, attname, atttypid, attnum, attnotnull, attisdropped FROM pg_catalog.pg_attribute WHERE public.trap_hit('pg_temp.pg_attribute');")

# ---------------------------------------------------------------- 3. install
su_psql -d "$DB" >"$WORK/install.out" 2>&1 <<SQL
SET search_path = public, pg_catalog;
$TEMP_VIEWS
CREATE EXTENSION ehr;
SQL
rc=$?
if [ $rc -eq 0 ]; then ok "CREATE EXTENSION ehr succeeds in the hostile session"
else not_ok "CREATE EXTENSION ehr failed: $(grep -m1 ERROR "$WORK/install.out")"; fi
check "$(hits)" 0 "no trap ran during CREATE EXTENSION"
grep -h 'EHR-TRAP' "$WORK/install.out" | sed 's/^/# /' | sort -u

# positive control: the traps and the shadowing views do fire for unqualified names
su_psql -d "$DB" >"$WORK/control.out" 2>&1 <<SQL
$TEMP_VIEWS
SET search_path = public, pg_catalog;
SELECT lower('X'), upper('y'::varchar), 'a' = 'b'::text, format('%s', 'x'::text);
SELECT count(*) FROM pg_roles;
SELECT array_agg(relname::text) FROM (SELECT relname FROM pg_catalog.pg_class LIMIT 1) s;
SQL
control=$(hits)
if [ "$control" -ge 5 ]; then ok "positive control: unqualified names hit $control traps"
else not_ok "positive control: traps did not fire ($control hits); the test cannot fail"; fi

# ---------------------------------------------------------------- 4. traps on ehr's own names
psql -X -q -v ON_ERROR_STOP=1 -U "$ATTACKER" -d "$DB" >"$WORK/plant2.out" 2>&1 <<'SQL'
SET search_path = pg_catalog, pg_temp;
DO $plant$
DECLARE
    f record;
    i int := 0;
    planted int := 0;
BEGIN
    -- a public twin of every function of the extension, same name and argument types
    FOR f IN SELECT p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
                    pg_catalog.pg_get_function_result(p.oid) AS res, p.proretset
               FROM pg_catalog.pg_proc p
              WHERE p.pronamespace OPERATOR(pg_catalog.=) ANY (ARRAY['ehr'::pg_catalog.regnamespace]::pg_catalog.oid[])
                AND p.prokind OPERATOR(pg_catalog.=) 'f' LOOP
        BEGIN
            EXECUTE pg_catalog.format(
                'CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql '
                'AS $t$BEGIN PERFORM public.trap_hit(%L); RETURN%s; END$t$',
                f.proname, f.args, f.res, 'public.' || f.proname || '(' || f.args || ')',
                CASE WHEN f.proretset OR f.res OPERATOR(pg_catalog.=) 'void' THEN '' ELSE ' NULL' END);
            planted := planted + 1;
        EXCEPTION WHEN OTHERS THEN
            NULL;  -- internal/cstring arguments, duplicates: not plantable in PL/pgSQL
        END;
    END LOOP;
    -- public twins of every ehr operator, and = between each ehr base type and text
    FOR f IN SELECT o.oprname, pg_catalog.format_type(o.oprleft, NULL) AS l,
                    pg_catalog.format_type(o.oprright, NULL) AS r,
                    pg_catalog.format_type(o.oprresult, NULL) AS res
               FROM pg_catalog.pg_operator o
              WHERE o.oprnamespace OPERATOR(pg_catalog.=) 'ehr'::pg_catalog.regnamespace
                AND o.oprleft OPERATOR(pg_catalog.<>) 0
             UNION
             SELECT op, pg_catalog.format_type(t.oid, NULL), 'text', 'boolean'
               FROM pg_catalog.pg_type t, (VALUES ('='), ('<>')) v(op)
              WHERE t.typnamespace OPERATOR(pg_catalog.=) 'ehr'::pg_catalog.regnamespace
                AND t.typtype OPERATOR(pg_catalog.=) ANY (ARRAY['b', 'e']::"char"[]) LOOP
        i := i + 1;
        BEGIN
            EXECUTE pg_catalog.format(
                'CREATE FUNCTION public.trap_ehr_op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql '
                'AS $t$BEGIN PERFORM public.trap_hit(%L); RETURN NULL; END$t$',
                i, f.l, f.r, f.res, 'public.' || f.oprname || '(' || f.l || ', ' || f.r || ')');
            EXECUTE pg_catalog.format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.trap_ehr_op_%s)',
                                      f.oprname, f.l, f.r, i);
            planted := planted + 1;
        EXCEPTION WHEN OTHERS THEN
            NULL;
        END;
    END LOOP;
    RAISE WARNING 'PLANTED %', planted;
END
$plant$;
SQL
planted2=$(grep -o 'PLANTED [0-9]*' "$WORK/plant2.out" | awk '{print $2}')
if [ "${planted2:-0}" -ge 20 ]; then ok "attacker planted $planted2 public twins of ehr functions and operators"
else not_ok "attacker planted ${planted2:-0} twins of ehr functions: $(head -3 "$WORK/plant2.out")"; fi

# positive control: the twins fire for unqualified ehr names
before=$(hits)
su_psql -d "$DB" -c "SET search_path = public, ehr, pg_catalog" \
        -c "SELECT sex('11010519491231002X'::ehr.resident_id)" >/dev/null 2>&1
control=$(( $(hits) - before ))
if [ "$control" -ge 1 ]; then ok "positive control: an unqualified call of an ehr function hits its public twin"
else not_ok "positive control: the public twins did not fire"; fi

# ---------------------------------------------------------------- 5. fixtures and every call
# Valid identifiers, computed with the extension itself (through the safe path).
RID=$(safe "SELECT '62122619800101001' OPERATOR(pg_catalog.||) ehr.resident_id_check_char('62122619800101001')")
ORG=$(safe "SELECT '12620000MB1999999' OPERATOR(pg_catalog.||) ehr.org_code_check_char('12620000MB1999999')")

# Sample argument per type, and per argument name (or function name, for unnamed
# arguments) where the type alone is too vague.
# A type missing here turns the function into a SKIP line: add a sample.
SAMPLES="
  ('ehr.resident_id', '', '$RID'), ('ehr.org_code', '', '$ORG'),
  ('ehr.labvalue', '', '5.6 mmol/L'), ('ehr.refrange', '', '[3.9,6.1] mmol/L'),
  ('ehr.category', '', 'lab'),
  ('text', '', 'x'), ('text', 'code', '621226'), ('text', 'unit', 'mg/dL'),
  ('text', 'level', 'province'), ('text', 'domain', 'hostile'), ('text', 'reason', 'emergency'),
  ('text', 'name', 'pseudonym'), ('text', 'path', '/nonexistent/key'), ('text', 'fill', '*'),
  ('text', 'item', 'GLU'), ('text', 'id_number', '$RID'), ('text', 'id_type', '01'),
  ('text', 'value', '张三'), ('text', 'note', 'hostile test'),
  ('text', 'resident_id', '$RID'), ('text', 'is_valid_resident_id', '$RID'),
  ('text', 'org_code', '$ORG'), ('text', 'is_valid_org_code', '$ORG'),
  ('text', 'resident_id_check_char', '62122619800101001'),
  ('text', 'org_code_check_char', '12620000MB1999999'),
  ('text', 'labvalue', '5.6 mmol/L'), ('text', 'refrange', '[3.9,6.1] mmol/L'),
  ('text[]', '', '{lab,exam}'), ('text[]', 'items', '{GLU}'), ('text[]', 'cols', '{resident}'),
  ('integer', '', '1'), ('integer', 'k', '2'), ('integer', 'width', '5'),
  ('bigint', '', '1'), ('smallint', '', '1'), ('numeric', '', '1'),
  ('double precision', '', '180.156'), ('real', '', '1'),
  ('boolean', '', 'true'), ('date', '', '2024-06-01'),
  ('timestamp with time zone', '', '2024-06-01 08:00:00+08'),
  ('timestamp without time zone', '', '2024-06-01 08:00:00'),
  ('interval', '', '1 day'), ('daterange', '', '[2024-01-01,2025-01-01)'),
  ('tstzrange', '', '[2024-01-01,2025-01-01)'),
  ('regclass', '', 'ehr.lab_result'), ('name', '', 'ehr_clinician'),
  ('ehr.category[]', '', '{lab,exam}'), ('regtype', '', 'ehr.resident_id'),
  ('jsonb', '', '{}'), ('json', '', '{}'), ('bytea', '', '\\x00'), ('uuid', '', '00000000-0000-0000-0000-000000000000')"

safe "
WITH s(typ, arg, val) AS (VALUES $SAMPLES),
fn AS (
    SELECT p.oid, p.oid::pg_catalog.regprocedure::pg_catalog.text AS sig, p.prokind, p.prorettype,
           pg_catalog.format_type(p.prorettype, NULL) AS rettype,
           n.nspname, p.proname::pg_catalog.text AS proname, p.proargtypes::pg_catalog.oid[] AS argtypes,
           COALESCE(p.proargnames, '{}') AS argnames,
           p.proargmodes
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
     WHERE n.nspname OPERATOR(pg_catalog.=) ANY (ARRAY['ehr', 'ehr_deid'])
),
args AS (
    SELECT fn.oid, a.ord,
           pg_catalog.format_type(a.t, NULL) AS typ,
           CASE WHEN fn.proargmodes IS NULL THEN NULLIF(fn.argnames[a.ord], '') END AS argname,
           fn.proname
      FROM fn, pg_catalog.unnest(fn.argtypes) WITH ORDINALITY a(t, ord)
),
picked AS (
    SELECT args.oid, args.ord, args.typ,
           (SELECT s.val FROM s
             WHERE s.typ OPERATOR(pg_catalog.=) args.typ
               AND (s.arg OPERATOR(pg_catalog.=) ''
                    OR s.arg OPERATOR(pg_catalog.=) COALESCE(args.argname, args.proname))
             ORDER BY s.arg OPERATOR(pg_catalog.=) '' LIMIT 1) AS val
      FROM args
),
-- cstring input functions get a sample of the type they produce
filled AS (
    SELECT picked.oid, picked.ord, picked.typ,
           COALESCE(picked.val,
               CASE WHEN picked.typ OPERATOR(pg_catalog.=) 'cstring' THEN
                   (SELECT s.val FROM s WHERE s.typ OPERATOR(pg_catalog.=) fn.rettype AND s.arg OPERATOR(pg_catalog.=) '' LIMIT 1)
               END) AS val
      FROM picked JOIN fn ON fn.oid OPERATOR(pg_catalog.=) picked.oid
)
SELECT fn.sig,
       CASE
         WHEN fn.prorettype OPERATOR(pg_catalog.=) ANY (ARRAY['trigger'::pg_catalog.regtype, 'event_trigger'::pg_catalog.regtype]::pg_catalog.oid[])
           THEN 'SKIP trigger function: fired by the fixture inserts'
         WHEN fn.prokind OPERATOR(pg_catalog.=) 'w' THEN 'SKIP window function'
         WHEN EXISTS (SELECT 1 FROM filled WHERE filled.oid OPERATOR(pg_catalog.=) fn.oid AND filled.typ OPERATOR(pg_catalog.=) 'internal')
           THEN 'SKIP internal argument: support function called by the system'
         WHEN EXISTS (SELECT 1 FROM filled WHERE filled.oid OPERATOR(pg_catalog.=) fn.oid AND filled.val IS NULL)
           THEN 'SKIP no sample for ' OPERATOR(pg_catalog.||) (SELECT pg_catalog.string_agg(DISTINCT filled.typ, ', ') FROM filled WHERE filled.oid OPERATOR(pg_catalog.=) fn.oid AND filled.val IS NULL)
         ELSE CASE WHEN fn.prokind OPERATOR(pg_catalog.=) 'p' THEN 'CALL ' ELSE 'SELECT ' END
              OPERATOR(pg_catalog.||) pg_catalog.quote_ident(fn.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(fn.proname)
              OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||)
              COALESCE((SELECT pg_catalog.string_agg(pg_catalog.quote_literal(filled.val) OPERATOR(pg_catalog.||) '::' OPERATOR(pg_catalog.||) filled.typ, ', ' ORDER BY filled.ord)
                                     FROM filled WHERE filled.oid OPERATOR(pg_catalog.=) fn.oid), '')
              OPERATOR(pg_catalog.||) ')'
       END
  FROM fn ORDER BY fn.sig" > "$WORK/calls.txt" || { echo "Bail out! cannot build the call list"; exit 1; }

calls=$(grep -vc '|SKIP' "$WORK/calls.txt")
total=$(wc -l < "$WORK/calls.txt")
if [ "$calls" -ge 30 ]; then ok "call list: $calls of $total ehr functions called, the rest listed as SKIP"
else not_ok "call list has only $calls calls of $total functions"; fi

{
    echo "$TEMP_VIEWS"
    echo "SET search_path = public, ehr, pg_catalog;"
    echo "\\set VERBOSITY terse"
    # fixtures: every table of the data model, through the hostile path (triggers fire)
    echo '\warn CALL fixtures'
    [ "$(safe "SELECT pg_catalog.to_regclass('ehr.lab_result') IS NOT NULL")" = t ] && cat <<SQL
INSERT INTO ehr.institution (org, name, level, region) VALUES ('$ORG', '礼县人民医院', 2, '621226');
INSERT INTO ehr.practitioner (id, institution, name, licence) VALUES (1, '$ORG', '王医生', 'HOSTILE-1');
INSERT INTO ehr.resident (id, name, phone, address_region) VALUES ('$RID', '张三', '13900000000', '621226');
INSERT INTO ehr.encounter (id, resident, institution, practitioner, kind, started_at)
     VALUES (1, '$RID', '$ORG', 1, 'outpatient', '2024-06-01 08:00+08');
INSERT INTO ehr.lab_item (code, name, kind, loinc, unit, molar_mass, price)
     VALUES ('GLU', '葡萄糖', 'lab', '2345-7', 'mmol/L', 180.156, 8.00);
INSERT INTO ehr.lab_report (id, resident, institution, encounter, collected_at, reported_at, status)
     VALUES (1, '$RID', '$ORG', 1, '2024-06-01 08:10+08', '2024-06-01 10:00+08', 'final');
INSERT INTO ehr.lab_result (id, report, resident, institution, item, value, refrange, collected_at)
     VALUES (1, 1, '$RID', '$ORG', 'GLU', '7.8 mmol/L', '[3.9,6.1] mmol/L', '2024-06-01 08:10+08');
INSERT INTO ehr.document (resident, institution, category, encounter, author, title, body)
     VALUES ('$RID', '$ORG', 'emr', 1, 1, '门诊病历', '{"主诉": "口渴多饮"}');
SQL
    while IFS='|' read -r sig what; do
        case "$what" in SKIP*) continue ;; esac
        printf '\\warn CALL %s\n%s;\n' "$sig" "$what"
    done < "$WORK/calls.txt"
    echo "\\warn CALL end"
} > "$WORK/calls.sql"

before=$(hits)
psql -X -q -U postgres -d "$DB" -f "$WORK/calls.sql" >"$WORK/calls.stdout" 2>"$WORK/calls.out"
after=$(hits)

# one TAP line per function: ok when no trap fired between its CALL marker and the next
tap_calls() {
    awk -v n="$n" -v suffix="$2" '
        function flush() {
            if (cur == "") return
            n++
            if (traps != "") printf "not ok %d - %s%s ran traps:%s\n", n, cur, suffix, traps
            else if (cur == "fixtures" && err != "") printf "not ok %d - fixtures failed: %s\n", n, err
            else printf "ok %d - %s%s: no trap%s\n", n, cur, suffix, (err != "" ? " (raised: " err ")" : "")
        }
        /^CALL / { flush(); cur = substr($0, 6); traps = ""; err = ""; if (cur == "end") cur = ""; next }
        /EHR-TRAP/ { sub(/.*EHR-TRAP /, ""); if (index(traps, " " $0 ";") == 0) traps = traps " " $0 ";"; next }
        /ERROR:/ && err == "" { e = $0; sub(/.*ERROR: +/, "", e); err = substr(e, 1, 90) }
        END { flush(); print "#N " n }
    ' "$1"
}
tap_calls "$WORK/calls.out" "" > "$WORK/calls.tap"
grep -v '^#N ' "$WORK/calls.tap"
n=$(grep '^#N ' "$WORK/calls.tap" | awk '{print $2}')

# Second pass, deeper: the calls that raised (mostly "no practitioner is acting") again,
# in one transaction acting as practitioner 1, each under a savepoint.
if [ "$(safe "SELECT pg_catalog.to_regprocedure('ehr.act_as(bigint)') IS NOT NULL")" = t ]; then
    grep -F '(raised: ' "$WORK/calls.tap" | sed -E 's/^ok [0-9]+ - (.*): no trap \(raised: .*$/\1/' \
        | grep -vx -e fixtures -e 'ehr.act_as(bigint)' > "$WORK/raised.txt"
    {
        echo "$TEMP_VIEWS"
        echo "SET search_path = public, ehr, pg_catalog;"
        echo "\\set VERBOSITY terse"
        echo "BEGIN;"
        echo "\\warn CALL ehr.act_as(1) first,"
        echo "SELECT ehr.act_as(1::pg_catalog.int8);"
        awk -F'|' 'NR == FNR { want[$0] = 1; next }
                   ($1 in want) { printf "\\warn CALL %s\nSAVEPOINT c;\n%s;\nROLLBACK TO SAVEPOINT c;\n", $1, $2 }' \
            "$WORK/raised.txt" "$WORK/calls.txt"
        echo "\\warn CALL end"
        echo "COMMIT;"
    } > "$WORK/calls2.sql"
    psql -X -q -U postgres -d "$DB" -f "$WORK/calls2.sql" >"$WORK/calls2.stdout" 2>"$WORK/calls2.out"
    after=$(hits)
    tap_calls "$WORK/calls2.out" " acting as practitioner 1" > "$WORK/calls2.tap"
    grep -v '^#N ' "$WORK/calls2.tap"
    n=$(grep '^#N ' "$WORK/calls2.tap" | awk '{print $2}')
fi
while IFS='|' read -r sig what; do
    case "$what" in SKIP*) n=$((n + 1)); echo "ok $n - $sig # SKIP ${what#SKIP }" ;; esac
done < "$WORK/calls.txt"
check "$((after - before))" 0 "no trap ran during fixtures and calls (sequence count, immune to ROLLBACK)"
check "$(grep -c '^CALL ' "$WORK/calls.out")" "$((calls + 2))" "every call ran (the session did not stop early)"

# ---------------------------------------------------------------- 6. a schema ehr that is not safe
# The attacker may create schemas in this database and makes "ehr" its own.
su_psql -d "${DB}_schema" -c "GRANT CREATE ON DATABASE ${DB}_schema TO $ATTACKER" >/dev/null
psql -X -q -U "$ATTACKER" -d "${DB}_schema" -c "CREATE SCHEMA ehr" >/dev/null
out=$(su_psql -d "${DB}_schema" -c "CREATE EXTENSION ehr" 2>&1)
case "$out" in
    *'schema "ehr" is owned by role "'$ATTACKER'", which is not a superuser'*) ok "install refuses a schema ehr owned by an unprivileged role" ;;
    *) not_ok "install into an attacker-owned schema ehr: $out" ;;
esac
su_psql -d "${DB}_schema" -c "ALTER SCHEMA ehr OWNER TO postgres" -c "GRANT CREATE ON SCHEMA ehr TO $ATTACKER" >/dev/null
out=$(su_psql -d "${DB}_schema" -c "CREATE EXTENSION ehr" 2>&1)
case "$out" in
    *'role "'$ATTACKER'" may create objects in schema "ehr"'*) ok "install refuses a schema ehr where an unprivileged role may create objects" ;;
    *) not_ok "install into a schema ehr others may create in: $out" ;;
esac
psql -X -q -U "$ATTACKER" -d "${DB}_schema" -c "CREATE FUNCTION ehr.lower(text) RETURNS text LANGUAGE sql AS 'SELECT \$1'" >/dev/null
su_psql -d "${DB}_schema" -c "REVOKE CREATE ON SCHEMA ehr FROM $ATTACKER" >/dev/null
out=$(su_psql -d "${DB}_schema" -c "CREATE EXTENSION ehr" 2>&1)
case "$out" in
    *'schema "ehr" already contains 1 objects'*) ok "install refuses a schema ehr that already holds objects" ;;
    *) not_ok "install into a non-empty schema ehr: $out" ;;
esac
su_psql -d "${DB}_schema" -c "DROP FUNCTION ehr.lower(text)" -c "CREATE EXTENSION ehr" >/dev/null 2>&1 \
    && ok "install accepts an empty schema ehr owned by a superuser" \
    || not_ok "install into an empty superuser-owned schema ehr failed"

echo "1..$n"
