-- Catalog facts that must stay true as every capability adds objects. The checks are
-- generic queries over the catalogs for schema ehr (and ehr_deid when it exists), so
-- a function, table or column added later is held to the same rules; each check
-- lists the offending objects when it fails.
BEGIN;
SELECT * FROM no_plan();

CREATE TEMP VIEW ehr_ns AS
    SELECT oid, nspname FROM pg_namespace WHERE nspname IN ('ehr', 'ehr_deid');

-- Functions PUBLIC may execute although they are not IMMUTABLE, each reviewed: SECURITY
-- INVOKER, no key, and they tell the caller nothing beyond its own rights or what it
-- could already SELECT. Listed by signature text, so a capability not merged yet is
-- simply absent.
CREATE TEMP TABLE public_ok (sig text, why text);
INSERT INTO public_ok VALUES
    ('ehr.age(ehr.resident_id)', 'the clock only'),
    ('ehr.current_practitioner()', 'the caller''s own acting identity'),
    ('ehr.current_institution()', 'the caller''s own acting identity'),
    ('ehr.current_resident()', 'the caller''s own acting identity'),
    ('ehr.can_access(ehr.resident_id,ehr.category,ehr.org_code)', 'the caller''s own rights; row-level security policies call it as the querying role'),
    ('ehr.can_see_resident(ehr.resident_id)', 'the caller''s own rights; row-level security policies call it as the querying role'),
    ('ehr.deid_classes(text,regtype)', 'parses a label text'),
    ('ehr.deid_columns(regclass)', 'security labels, which pg_seclabels shows everyone'),
    ('ehr.deid_subject(regclass)', 'security labels, which pg_seclabels shows everyone'),
    ('ehr.deid_report(regclass)', 'security labels, which pg_seclabels shows everyone'),
    ('ehr.k_anonymity(regclass,text[])', 'reads the relation with the caller''s own privileges');
-- Functions PUBLIC may never execute although they may be IMMUTABLE: keyed (a caller
-- could test whether a known person is in the data) or privileged.
CREATE TEMP TABLE public_denied (name text);
INSERT INTO public_denied VALUES ('pseudonym'), ('shift_date'), ('health_card_id'),
    ('issue_health_code'), ('resolve_health_code'), ('rotate_key'), ('load_key'),
    ('act_as'), ('act_as_resident'), ('break_glass');

------------------------------------------------------------------ comments
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p JOIN ehr_ns n ON n.oid = p.pronamespace
     WHERE obj_description(p.oid, 'pg_proc') IS NULL ORDER BY 1 $$,
    'every function in ehr has a COMMENT');
SELECT is_empty($$
    SELECT t.oid::regtype::text FROM pg_type t JOIN ehr_ns n ON n.oid = t.typnamespace
     WHERE t.typrelid = 0                      -- not a table's row type
       AND NOT (t.typcategory = 'A' AND t.typelem <> 0)  -- not an array type
       AND obj_description(t.oid, 'pg_type') IS NULL ORDER BY 1 $$,
    'every type in ehr has a COMMENT');
SELECT is_empty($$
    SELECT o.oid::regoperator::text FROM pg_operator o JOIN ehr_ns n ON n.oid = o.oprnamespace
     WHERE obj_description(o.oid, 'pg_operator') IS NULL ORDER BY 1 $$,
    'every operator in ehr has a COMMENT');
SELECT is_empty($$
    SELECT c.oid::regclass::text FROM pg_class c JOIN ehr_ns n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND obj_description(c.oid, 'pg_class') IS NULL ORDER BY 1 $$,
    'every table and view in ehr has a COMMENT');
SELECT is_empty($$
    SELECT c.oid::regclass::text || '.' || a.attname FROM pg_class c
      JOIN ehr_ns n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND col_description(c.oid, a.attnum) IS NULL ORDER BY 1 $$,
    'every column of every table and view in ehr has a COMMENT');

------------------------------------------------------------------ SECURITY DEFINER
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p JOIN ehr_ns n ON n.oid = p.pronamespace
     WHERE p.prosecdef
       AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false) ORDER BY 1 $$,
    'every SECURITY DEFINER function pins search_path = pg_catalog, pg_temp');

------------------------------------------------------------------ PUBLIC
-- The rule: PUBLIC may EXECUTE a function only when it is not SECURITY DEFINER and reads
-- no table and no key: IMMUTABLE (which promises exactly that), or reviewed and listed
-- in public_ok; never one named in public_denied.
SELECT is_empty($$
    SELECT p.oid::regprocedure::text || CASE WHEN p.prosecdef THEN ' (SECURITY DEFINER)'
                                             ELSE ' (' || p.provolatile::text || ')' END
      FROM pg_proc p JOIN ehr_ns n ON n.oid = p.pronamespace
     WHERE has_function_privilege('public', p.oid, 'EXECUTE')
       AND (p.prosecdef
            OR (p.provolatile <> 'i'
                AND p.oid::regprocedure::text NOT IN (SELECT sig FROM public_ok))
            OR p.proname IN (SELECT name FROM public_denied))
     ORDER BY 1 $$,
    'PUBLIC may execute only pure functions (not SECURITY DEFINER; IMMUTABLE or reviewed in public_ok; never keyed)');
SELECT is_empty($$
    SELECT c.oid::regclass::text || ' ' || a.privilege_type
      FROM pg_class c JOIN ehr_ns n ON n.oid = c.relnamespace,
           aclexplode(c.relacl) a
     WHERE a.grantee = 0 ORDER BY 1 $$,
    'no table, view or sequence in ehr grants anything to PUBLIC');
SELECT is_empty($$
    SELECT c.oid::regclass::text || ' ' || a.privilege_type
      FROM pg_class c JOIN ehr_ns n ON n.oid = c.relnamespace
      JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0,
           aclexplode(att.attacl) a
     WHERE a.grantee = 0 ORDER BY 1 $$,
    'no column in ehr grants anything to PUBLIC');
SELECT ok(NOT has_schema_privilege('public', 'ehr', 'CREATE'), 'PUBLIC may not create objects in schema ehr');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'ehr_deid')
          OR NOT has_schema_privilege('public', 'ehr_deid', 'USAGE'),
          'PUBLIC has no USAGE on schema ehr_deid (analysts only)');
-- the rule bites where it should
SELECT ok(has_function_privilege('public', 'ehr.birth_date(ehr.resident_id)', 'EXECUTE'),
          'PUBLIC may execute a pure type function (ehr.birth_date)');
SELECT ok(NOT has_function_privilege('public', 'ehr.rotate_key(text)', 'EXECUTE'),
          'PUBLIC may not execute ehr.rotate_key');
SELECT ok(NOT has_function_privilege('public', 'ehr.region_name(text)', 'EXECUTE'),
          'PUBLIC may not execute ehr.region_name (reads a table)');

------------------------------------------------------------------ types and opclasses
SELECT has_type('ehr', 'resident_id', 'type ehr.resident_id');
SELECT has_type('ehr', 'org_code', 'type ehr.org_code');
SELECT has_type('ehr', 'labvalue', 'type ehr.labvalue');
SELECT has_type('ehr', 'refrange', 'type ehr.refrange');
SELECT has_enum('ehr', 'category', 'enum ehr.category');
SELECT enum_has_labels('ehr', 'category', ARRAY['lab', 'exam', 'emr', 'archive'], 'ehr.category labels in order');
SELECT is((SELECT typlen::int FROM pg_type WHERE oid = 'ehr.resident_id'::regtype), 8, 'resident_id is 8 bytes');
SELECT ok((SELECT typbyval FROM pg_type WHERE oid = 'ehr.resident_id'::regtype), 'resident_id is passed by value');
SELECT is((SELECT typlen::int FROM pg_type WHERE oid = 'ehr.org_code'::regtype), 18, 'org_code is fixed size (18 bytes)');

CREATE TEMP VIEW default_opclass AS
    SELECT format_type(c.opcintype, NULL) AS type, am.amname
      FROM pg_opclass c JOIN pg_am am ON am.oid = c.opcmethod
     WHERE c.opcdefault AND c.opcnamespace = 'ehr'::regnamespace;
SELECT set_has($$ SELECT type, amname::text FROM default_opclass $$,
    $$ VALUES ('ehr.resident_id', 'btree'), ('ehr.resident_id', 'hash'),
              ('ehr.org_code', 'btree'), ('ehr.org_code', 'hash'),
              ('ehr.labvalue', 'hash') $$,
    'default btree and hash opclasses for resident_id and org_code, hash for labvalue');

-- Every function behind an operator of an ehr btree/hash family, and every btree
-- comparison support function, never raises: LEAKPROOF, so row-level security
-- policies can still use indexes. (Hash support functions need not be: the planner
-- never calls them on rows a policy hides; PostgreSQL's own hash functions are not.)
SELECT is_empty($$
    SELECT DISTINCT f.oid::regprocedure::text
      FROM pg_opfamily fam
      JOIN pg_amop ao ON ao.amopfamily = fam.oid
      JOIN pg_operator o ON o.oid = ao.amopopr
      JOIN pg_proc f ON f.oid = o.oprcode
     WHERE fam.opfnamespace = 'ehr'::regnamespace AND NOT f.proleakproof
    UNION
    SELECT DISTINCT f.oid::regprocedure::text
      FROM pg_opfamily fam
      JOIN pg_am am ON am.oid = fam.opfmethod AND am.amname = 'btree'
      JOIN pg_amproc ap ON ap.amprocfamily = fam.oid AND ap.amprocnum = 1
      JOIN pg_proc f ON f.oid = ap.amproc
     WHERE fam.opfnamespace = 'ehr'::regnamespace AND NOT f.proleakproof
     ORDER BY 1 $$,
    'operator and btree comparison functions of every ehr operator family are LEAKPROOF');

-- The type functions: IMMUTABLE, STRICT, PARALLEL SAFE (ehr.age at current_date is
-- STABLE). Listed by name, plus every I/O, cast and opclass function of the four types.
CREATE TEMP TABLE type_fn (name text);
INSERT INTO type_fn VALUES ('birth_date'), ('sex'), ('region_code'), ('age'),
    ('is_valid_resident_id'), ('resident_id_check_char'), ('org_region'), ('is_valid_org_code'),
    ('org_code_check_char'), ('value'), ('unit'), ('convert'), ('interpret'), ('low'), ('high');
CREATE TEMP VIEW type_functions AS
    SELECT p.oid FROM pg_proc p
     WHERE p.pronamespace = 'ehr'::regnamespace AND p.proname IN (SELECT name FROM type_fn)
    UNION
    SELECT unnest(ARRAY[t.typinput, t.typoutput, t.typreceive, t.typsend])::oid
      FROM pg_type t
     WHERE t.oid IN ('ehr.resident_id'::regtype, 'ehr.org_code'::regtype,
                     to_regtype('ehr.labvalue'), to_regtype('ehr.refrange'))
    UNION
    SELECT c.castfunc FROM pg_cast c
     WHERE c.castfunc <> 0
       AND (c.castsource IN (SELECT oid FROM pg_type WHERE typnamespace = 'ehr'::regnamespace)
            OR c.casttarget IN (SELECT oid FROM pg_type WHERE typnamespace = 'ehr'::regnamespace))
    UNION
    SELECT o.oprcode::oid FROM pg_operator o
     WHERE o.oprnamespace = 'ehr'::regnamespace;
SELECT cmp_ok((SELECT count(*) FROM type_functions), '>=', 40::bigint,
              'the type-function list is not empty (it covers I/O, casts, operators, named functions)');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text || ': ' || p.provolatile::text || CASE WHEN p.proisstrict THEN ' strict' ELSE ' not strict' END
           || ' parallel ' || p.proparallel::text
      FROM pg_proc p JOIN type_functions f ON f.oid = p.oid
     WHERE NOT p.proisstrict OR p.proparallel <> 's'
        OR p.provolatile <> CASE WHEN p.oid = 'ehr.age(ehr.resident_id)'::regprocedure THEN 's' ELSE 'i' END
     ORDER BY 1 $$,
    'type functions are IMMUTABLE STRICT PARALLEL SAFE (ehr.age(resident_id) STABLE)');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p JOIN type_functions f ON f.oid = p.oid
     WHERE p.prosecdef ORDER BY 1 $$,
    'no type function is SECURITY DEFINER');

------------------------------------------------------------------ core tables (DESIGN §3)
CREATE TEMP TABLE key_column (tab text, col text, typ text, pk boolean);
INSERT INTO key_column VALUES
    ('region', 'code', 'text', true), ('region', 'name', 'text', false),
    ('region', 'level', 'smallint', false), ('region', 'parent', 'text', false),
    ('institution', 'org', 'ehr.org_code', true), ('institution', 'name', 'text', false),
    ('institution', 'level', 'smallint', false), ('institution', 'region', 'text', false),
    ('practitioner', 'id', 'bigint', true), ('practitioner', 'institution', 'ehr.org_code', false),
    ('practitioner', 'name', 'text', false), ('practitioner', 'licence', 'text', false),
    ('practitioner', 'db_role', 'name', false), ('practitioner', 'active', 'boolean', false),
    ('resident', 'id', 'ehr.resident_id', true), ('resident', 'name', 'text', false),
    ('resident', 'phone', 'text', false), ('resident', 'address_region', 'text', false),
    ('encounter', 'id', 'bigint', true), ('encounter', 'resident', 'ehr.resident_id', false),
    ('encounter', 'institution', 'ehr.org_code', false), ('encounter', 'practitioner', 'bigint', false),
    ('encounter', 'kind', 'text', false), ('encounter', 'started_at', 'timestamp with time zone', false),
    ('encounter', 'ended_at', 'timestamp with time zone', false),
    ('lab_item', 'code', 'text', true), ('lab_item', 'name', 'text', false),
    ('lab_item', 'kind', 'ehr.category', false), ('lab_item', 'loinc', 'text', false),
    ('lab_item', 'unit', 'text', false), ('lab_item', 'molar_mass', 'double precision', false),
    ('lab_item', 'price', 'numeric(12,2)', false),
    ('lab_report', 'id', 'bigint', true), ('lab_report', 'resident', 'ehr.resident_id', false),
    ('lab_report', 'institution', 'ehr.org_code', false), ('lab_report', 'encounter', 'bigint', false),
    ('lab_report', 'collected_at', 'timestamp with time zone', false),
    ('lab_report', 'reported_at', 'timestamp with time zone', false), ('lab_report', 'status', 'text', false),
    ('lab_result', 'id', 'bigint', true), ('lab_result', 'report', 'bigint', false),
    ('lab_result', 'resident', 'ehr.resident_id', false), ('lab_result', 'institution', 'ehr.org_code', false),
    ('lab_result', 'item', 'text', false), ('lab_result', 'value', 'ehr.labvalue', false),
    ('lab_result', 'value_text', 'text', false), ('lab_result', 'refrange', 'ehr.refrange', false),
    ('lab_result', 'collected_at', 'timestamp with time zone', false),
    ('document', 'id', 'bigint', true), ('document', 'resident', 'ehr.resident_id', false),
    ('document', 'institution', 'ehr.org_code', false), ('document', 'category', 'ehr.category', false),
    ('document', 'created_at', 'timestamp with time zone', false), ('document', 'title', 'text', false),
    ('document', 'body', 'jsonb', false);

SELECT has_table('ehr', t, 'table ehr.' || t)
  FROM (SELECT DISTINCT tab AS t FROM key_column ORDER BY 1) s;
SELECT col_type_is('ehr', tab, col, typ, format('ehr.%s.%s is %s', tab, col, typ))
  FROM key_column ORDER BY tab, col;
SELECT col_is_pk('ehr', tab, col, format('ehr.%s.%s is the primary key', tab, col))
  FROM key_column WHERE pk ORDER BY tab;
SELECT is_empty($$
    SELECT tab FROM (VALUES ('practitioner'), ('encounter'), ('lab_report'), ('lab_result'), ('document')) v(tab)
     WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = ('ehr.' || tab)::regclass AND a.attname = 'id' AND a.attidentity <> '') $$,
    'surrogate ids are identity columns');
SELECT col_is_unique('ehr', 'practitioner', 'licence', 'practitioner.licence is unique');
SELECT col_is_unique('ehr', 'practitioner', 'db_role', 'practitioner.db_role is unique');

-- Every clinical table carries resident and institution, NOT NULL, with an index
-- that starts with resident.
SELECT is_empty($$
    SELECT t || ' lacks ' || c FROM
        (VALUES ('encounter'), ('lab_report'), ('lab_result'), ('document')) v(t),
        (VALUES ('resident'), ('institution')) w(c)
     WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = ('ehr.' || t)::regclass
                          AND a.attname = c AND a.attnotnull) $$,
    'every clinical table carries resident and institution, NOT NULL');
SELECT is_empty($$
    SELECT t FROM (VALUES ('encounter'), ('lab_report'), ('lab_result'), ('document')) v(t)
     WHERE NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a
                          ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                        WHERE i.indrelid = ('ehr.' || t)::regclass AND a.attname = 'resident'
                          AND i.indnkeyatts >= 2) $$,
    'every clinical table has an index on (resident, time)');
-- Every foreign key's referencing columns lead some index (deletes and joins).
SELECT is_empty($$
    SELECT c.conrelid::regclass::text || ' ' || c.conname
      FROM pg_constraint c
     WHERE c.contype = 'f' AND c.connamespace = 'ehr'::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_index i
                        WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
     ORDER BY 1 $$,
    'the leading column of every foreign key in ehr is indexed');

------------------------------------------------------------------ pg_dump
-- Every table of the extension is either configuration (pg_extension_config_dump) or
-- listed here as extension data that CREATE EXTENSION restores.
SELECT is_empty($$
    SELECT c.oid::regclass::text FROM pg_class c
      JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'ehr'
     WHERE c.relkind IN ('r', 'p')
       AND NOT c.oid = ANY (e.extconfig)
     ORDER BY 1 $$,
    'every table of the extension is registered with pg_extension_config_dump');
SELECT is((SELECT extcondition[array_position(extconfig, 'ehr.region'::regclass)]
             FROM pg_extension WHERE extname = 'ehr'),
          'WHERE NOT shipped', 'ehr.region dumps only the rows a site added');

------------------------------------------------------------------ grants (docs/data-model.md)
SELECT table_privs_are('ehr', 'resident', 'ehr_clinician', ARRAY['SELECT', 'INSERT'], 'clinician: SELECT, INSERT on resident');
SELECT table_privs_are('ehr', 'lab_result', 'ehr_gateway', ARRAY['SELECT', 'INSERT'], 'gateway: SELECT, INSERT on lab_result');
SELECT table_privs_are('ehr', 'lab_item', 'ehr_clinician', ARRAY['SELECT'], 'clinician: SELECT on lab_item');
SELECT table_privs_are('ehr', 'lab_result', 'ehr_admin', ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'], 'admin: SELECT, INSERT, UPDATE, DELETE on lab_result');
SELECT table_privs_are('ehr', 'lab_result', 'ehr_analyst', ARRAY[]::text[], 'analyst: nothing on lab_result');
SELECT table_privs_are('ehr', 'region', 'ehr_analyst', ARRAY[]::text[], 'analyst: nothing on region');
-- Issue 4: analysts have no rights on schema ehr tables, whichever capability adds them.
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'ehr'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND (has_table_privilege('ehr_analyst', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
            OR has_any_column_privilege('ehr_analyst', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))$$,
    'ehr_analyst holds no privilege on any table, view or column of schema ehr');

SELECT * FROM finish();
ROLLBACK;
