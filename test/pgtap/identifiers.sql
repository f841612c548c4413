-- Catalog facts of ehr.resident_id and ehr.org_code: types, operator classes,
-- volatility/strictness/leakproofness of every function, comments, privileges.
BEGIN;
SELECT plan(41);

SELECT has_type('ehr', 'resident_id', 'type ehr.resident_id exists');
SELECT has_type('ehr', 'org_code', 'type ehr.org_code exists');
SELECT is((SELECT typlen::int || ' ' || typbyval::text FROM pg_type WHERE oid = 'ehr.resident_id'::regtype),
          '8 true', 'resident_id is 8 bytes, by value');
SELECT is((SELECT typlen::int || ' ' || typbyval::text FROM pg_type WHERE oid = 'ehr.org_code'::regtype),
          '18 false', 'org_code is 18 bytes, by reference');
SELECT isnt((SELECT typreceive FROM pg_type WHERE oid = 'ehr.resident_id'::regtype), 0::regproc, 'resident_id has binary input');
SELECT isnt((SELECT typsend FROM pg_type WHERE oid = 'ehr.org_code'::regtype), 0::regproc, 'org_code has binary output');

-- default btree and hash operator classes
SELECT is((SELECT count(*)::int FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
            WHERE c.opcintype = 'ehr.resident_id'::regtype AND c.opcdefault AND a.amname IN ('btree', 'hash')),
          2, 'resident_id: default btree and hash opclasses');
SELECT is((SELECT count(*)::int FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
            WHERE c.opcintype = 'ehr.org_code'::regtype AND c.opcdefault AND a.amname IN ('btree', 'hash')),
          2, 'org_code: default btree and hash opclasses');
SELECT ok((SELECT oprcanhash AND oprcanmerge FROM pg_operator
            WHERE oprname = '=' AND oprleft = 'ehr.resident_id'::regtype AND oprright = 'ehr.resident_id'::regtype),
          'resident_id = supports hash and merge joins');
SELECT ok((SELECT oprcanhash AND oprcanmerge FROM pg_operator
            WHERE oprname = '=' AND oprleft = 'ehr.org_code'::regtype AND oprright = 'ehr.org_code'::regtype),
          'org_code = supports hash and merge joins');

-- comparison and hash support functions are LEAKPROOF, IMMUTABLE, STRICT, PARALLEL SAFE
SELECT is((SELECT array_agg(p.proname ORDER BY p.proname) FROM pg_proc p
            WHERE p.pronamespace = 'ehr'::regnamespace
              AND p.proname ~ '^(resident_id|org_code)_(eq|ne|lt|le|gt|ge|cmp|hash|hash_extended)$'
              AND NOT (p.proleakproof AND p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's')),
          NULL, 'comparison and hash functions: leakproof immutable strict parallel safe');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'ehr'::regnamespace
            AND p.proname ~ '^(resident_id|org_code)_(eq|ne|lt|le|gt|ge|cmp|hash|hash_extended)$'), 18,
          '18 comparison and hash functions');
-- nothing that can raise is LEAKPROOF
SELECT is((SELECT array_agg(p.proname ORDER BY p.proname) FROM pg_proc p
            WHERE p.pronamespace = 'ehr'::regnamespace AND p.proleakproof
              AND p.proname ~ '(resident_id|org_code|birth_date|^sex$|region|^age$|is_valid|^text$)'
              AND p.proname !~ '_(eq|ne|lt|le|gt|ge|cmp|hash|hash_extended)$'),
          NULL, 'input, cast and accessor functions are not marked leakproof');

SELECT volatility_is('ehr', 'birth_date', ARRAY['ehr.resident_id'], 'immutable', 'birth_date immutable');
SELECT volatility_is('ehr', 'sex', ARRAY['ehr.resident_id'], 'immutable', 'sex immutable');
SELECT volatility_is('ehr', 'region_code', ARRAY['ehr.resident_id'], 'immutable', 'region_code immutable');
SELECT volatility_is('ehr', 'age', ARRAY['ehr.resident_id', 'date'], 'immutable', 'age(id, date) immutable');
SELECT volatility_is('ehr', 'age', ARRAY['ehr.resident_id'], 'stable', 'age(id) stable (current_date)');
SELECT volatility_is('ehr', 'is_valid_resident_id', ARRAY['text'], 'immutable', 'is_valid_resident_id immutable');
SELECT volatility_is('ehr', 'resident_id_check_char', ARRAY['text'], 'immutable', 'resident_id_check_char immutable');
SELECT volatility_is('ehr', 'org_region', ARRAY['ehr.org_code'], 'immutable', 'org_region immutable');
SELECT volatility_is('ehr', 'is_valid_org_code', ARRAY['text'], 'immutable', 'is_valid_org_code immutable');
SELECT volatility_is('ehr', 'org_code_check_char', ARRAY['text'], 'immutable', 'org_code_check_char immutable');
SELECT is_strict('ehr', 'is_valid_resident_id', ARRAY['text'], 'is_valid_resident_id strict');
SELECT is_strict('ehr', 'is_valid_org_code', ARRAY['text'], 'is_valid_org_code strict');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ehr')
           WHERE (p.proargtypes::oid[] && ARRAY['ehr.resident_id'::regtype::oid, 'ehr.org_code'::regtype::oid]
                  OR p.proname ~ '(resident_id|org_code)')
             AND p.prosrc ~ '^(resident_id|org_code)_'   -- the identifier C functions, not other concerns' users of the types
             AND p.proparallel <> 's'),
          NULL, 'every identifier function is parallel safe');

-- casts to and from text
SELECT has_cast('text', 'ehr.resident_id', 'cast text -> resident_id');
SELECT has_cast('ehr.resident_id', 'text', 'cast resident_id -> text');
SELECT has_cast('text', 'ehr.org_code', 'cast text -> org_code');
SELECT has_cast('ehr.org_code', 'text', 'cast org_code -> text');
SELECT is((SELECT string_agg(castcontext::text, '' ORDER BY castsource, casttarget) FROM pg_cast
            WHERE castsource IN ('ehr.resident_id'::regtype, 'ehr.org_code'::regtype)
               OR casttarget IN ('ehr.resident_id'::regtype, 'ehr.org_code'::regtype)),
          'aaaa', 'the four casts are assignment casts, none implicit');

-- every object has a comment
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            WHERE p.pronamespace = 'ehr'::regnamespace
              AND (p.proargtypes::oid[] && ARRAY['ehr.resident_id'::regtype::oid, 'ehr.org_code'::regtype::oid]
                   OR p.proname ~ '(resident_id|org_code)')
              AND obj_description(p.oid, 'pg_proc') IS NULL),
          NULL, 'every identifier function has a comment');
SELECT ok(obj_description('ehr.resident_id'::regtype, 'pg_type') IS NOT NULL, 'resident_id has a comment');
SELECT ok(obj_description('ehr.org_code'::regtype, 'pg_type') IS NOT NULL, 'org_code has a comment');
SELECT is((SELECT count(*)::int FROM pg_operator o WHERE o.oprleft IN ('ehr.resident_id'::regtype, 'ehr.org_code'::regtype)
            AND obj_description(o.oid, 'pg_operator') IS NULL), 0, 'every operator has a comment');
SELECT is((SELECT count(*)::int FROM pg_opclass c WHERE c.opcintype IN ('ehr.resident_id'::regtype, 'ehr.org_code'::regtype)
            AND obj_description(c.oid, 'pg_opclass') IS NULL), 0, 'every operator class has a comment');
SELECT is((SELECT count(*)::int FROM pg_cast c WHERE (c.castsource IN ('ehr.resident_id'::regtype, 'ehr.org_code'::regtype)
            OR c.casttarget IN ('ehr.resident_id'::regtype, 'ehr.org_code'::regtype))
            AND obj_description(c.oid, 'pg_cast') IS NULL), 0, 'every cast has a comment');

-- privileges: pure functions are for everyone; none is SECURITY DEFINER
SELECT ok(has_function_privilege('public', 'ehr.is_valid_resident_id(text)', 'EXECUTE'), 'PUBLIC may validate resident IDs');
SELECT ok(has_function_privilege('public', 'ehr.birth_date(ehr.resident_id)', 'EXECUTE'), 'PUBLIC may call birth_date');
SELECT ok(has_type_privilege('public', 'ehr.resident_id', 'USAGE'), 'PUBLIC may use the type');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'ehr'::regnamespace AND p.prosecdef
            AND (p.proargtypes::oid[] && ARRAY['ehr.resident_id'::regtype::oid, 'ehr.org_code'::regtype::oid]
                 OR p.proname ~ '(resident_id|org_code)')
            AND p.prosrc ~ '^(resident_id|org_code)_'), 0, 'no identifier function is SECURITY DEFINER');

SELECT * FROM finish();
ROLLBACK;
