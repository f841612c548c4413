-- Catalog facts of ehr.labvalue and ehr.refrange: types, operator classes, the
-- volatility/strictness/parallel safety/leakproofness of every function, comments, privileges.
BEGIN;
SELECT plan(22);

SELECT has_type('ehr', 'labvalue', 'type ehr.labvalue exists');
SELECT has_type('ehr', 'refrange', 'type ehr.refrange exists');
SELECT is((SELECT typlen::int || ' ' || typalign::text || ' ' || typstorage::text FROM pg_type WHERE oid = 'ehr.labvalue'::regtype),
          '-1 d p', 'labvalue: varlena, double-aligned, plain storage');
SELECT is((SELECT typlen::int || ' ' || typalign::text || ' ' || typstorage::text FROM pg_type WHERE oid = 'ehr.refrange'::regtype),
          '-1 d p', 'refrange: varlena, double-aligned, plain storage');
SELECT ok((SELECT typreceive <> 0 AND typsend <> 0 FROM pg_type WHERE oid = 'ehr.labvalue'::regtype), 'labvalue has binary I/O');
SELECT ok((SELECT typreceive <> 0 AND typsend <> 0 FROM pg_type WHERE oid = 'ehr.refrange'::regtype), 'refrange has binary I/O');

-- default hash operator classes with both support functions; = can hash
SELECT is((SELECT array_agg(c.opcname::text ORDER BY 1) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
            WHERE c.opcintype IN ('ehr.labvalue'::regtype, 'ehr.refrange'::regtype) AND c.opcdefault AND a.amname = 'hash'),
          ARRAY['labvalue_hash_ops', 'refrange_hash_ops'], 'default hash opclasses');
SELECT is((SELECT count(*)::int FROM pg_amproc p JOIN pg_opfamily f ON f.oid = p.amprocfamily
            WHERE f.opfname IN ('labvalue_hash_ops', 'refrange_hash_ops')), 4, 'hash support functions 1 and 2 for both');
SELECT ok((SELECT bool_and(oprcanhash) FROM pg_operator
            WHERE oprname = '=' AND oprleft IN ('ehr.labvalue'::regtype, 'ehr.refrange'::regtype)), '= supports hash joins');
SELECT has_operator('ehr.labvalue', 'ehr', '<@', 'ehr.refrange', 'boolean', 'operator labvalue <@ refrange');

-- every function on the types: IMMUTABLE, PARALLEL SAFE, STRICT
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
           WHERE p.pronamespace = 'ehr'::regnamespace
             AND (p.proargtypes::oid[] && ARRAY['ehr.labvalue'::regtype::oid, 'ehr.refrange'::regtype::oid]
                  OR p.prorettype IN ('ehr.labvalue'::regtype, 'ehr.refrange'::regtype)
                  OR p.proname IN ('unit_normalize', 'unit_commensurable'))
             AND NOT (p.provolatile = 'i' AND p.proparallel = 's' AND p.proisstrict)),
          NULL, 'all labvalue/refrange functions are immutable, parallel safe and strict');
SELECT cmp_ok((SELECT count(*)::int FROM pg_proc p
           WHERE p.pronamespace = 'ehr'::regnamespace
             AND (p.proargtypes::oid[] && ARRAY['ehr.labvalue'::regtype::oid, 'ehr.refrange'::regtype::oid]
                  OR p.prorettype IN ('ehr.labvalue'::regtype, 'ehr.refrange'::regtype))), '>=', 25,
          'at least 25 functions on the types');
-- exactly the byte-wise equality functions are LEAKPROOF; nothing that parses or converts is
SELECT is((SELECT array_agg(p.proname::text ORDER BY 1) FROM pg_proc p
           WHERE p.pronamespace = 'ehr'::regnamespace AND p.proleakproof
             AND (p.proargtypes::oid[] && ARRAY['ehr.labvalue'::regtype::oid, 'ehr.refrange'::regtype::oid])),
          ARRAY['labvalue_eq', 'labvalue_ne', 'refrange_eq', 'refrange_ne'], 'only the equality functions are leakproof');
SELECT volatility_is('ehr', 'convert', ARRAY['ehr.labvalue', 'text', 'double precision'], 'immutable', 'convert with molar mass immutable');
SELECT volatility_is('ehr', 'interpret', ARRAY['ehr.labvalue', 'ehr.refrange', 'ehr.refrange'], 'immutable', 'interpret with critical range immutable');
SELECT function_returns('ehr', 'value', ARRAY['ehr.labvalue'], 'numeric', 'value returns numeric');
SELECT function_returns('ehr', 'low', ARRAY['ehr.refrange'], 'numeric', 'low returns numeric');

-- casts both ways with text
SELECT is((SELECT count(*)::int FROM pg_cast
            WHERE (castsource, casttarget) IN (('ehr.labvalue'::regtype, 'text'::regtype), ('text'::regtype, 'ehr.labvalue'::regtype),
                                               ('ehr.refrange'::regtype, 'text'::regtype), ('text'::regtype, 'ehr.refrange'::regtype))),
          4, 'casts to and from text');

-- a comment on every object
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
           WHERE p.pronamespace = 'ehr'::regnamespace
             AND (p.proargtypes::oid[] && ARRAY['ehr.labvalue'::regtype::oid, 'ehr.refrange'::regtype::oid]
                  OR p.prorettype IN ('ehr.labvalue'::regtype, 'ehr.refrange'::regtype)
                  OR p.proname IN ('unit_normalize', 'unit_commensurable'))
             AND obj_description(p.oid, 'pg_proc') IS NULL),
          NULL, 'every function has a comment');
SELECT is((SELECT array_agg(o.oid::regoperator::text ORDER BY 1) FROM pg_operator o
           WHERE o.oprleft IN ('ehr.labvalue'::regtype, 'ehr.refrange'::regtype)
             AND obj_description(o.oid, 'pg_operator') IS NULL),
          NULL, 'every operator has a comment');
SELECT ok(obj_description('ehr.labvalue'::regtype, 'pg_type') IS NOT NULL
          AND obj_description('ehr.refrange'::regtype, 'pg_type') IS NOT NULL, 'both types have a comment');

-- pure functions: PUBLIC may execute them (types are for everyone)
SELECT ok(has_function_privilege('public', 'ehr.interpret(ehr.labvalue, ehr.refrange)', 'EXECUTE')
          AND has_function_privilege('public', 'ehr.convert(ehr.labvalue, text, double precision)', 'EXECUTE'),
          'PUBLIC may execute the pure functions');

SELECT * FROM finish();
ROLLBACK;
