-- Schema guard (runs first). CREATE EXTENSION creates schema ehr when it is missing,
-- but uses an existing one as it finds it: a schema some other role owns, or may
-- create objects in, would let that role drop or replace the extension's objects, or
-- shadow them with its own (the trap an unprivileged role sets before a superuser
-- installs). Refuse such a schema before anything else is created.
DO $guard$
DECLARE
    ns          oid;
    owner_name  name;
    owner_super boolean;
    creator     text;
    objects     bigint;
BEGIN
    SELECT n.oid, r.rolname, r.rolsuper INTO ns, owner_name, owner_super
      FROM pg_catalog.pg_namespace n
      JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.nspname OPERATOR(pg_catalog.=) 'ehr';

    IF NOT owner_super THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('schema "ehr" is owned by role "%s", which is not a superuser', owner_name),
            DETAIL = 'The owner of the schema could drop or replace the extension''s objects.',
            HINT = 'Drop schema ehr, or make a superuser its owner, before CREATE EXTENSION ehr.';
    END IF;

    SELECT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
                ELSE pg_catalog.format('role "%s"', r.rolname) END
      INTO creator
      FROM pg_catalog.pg_namespace n
     CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
      LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
     WHERE n.oid OPERATOR(pg_catalog.=) ns
       AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
       AND r.rolsuper IS NOT TRUE
     LIMIT 1;
    IF creator IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('%s may create objects in schema "ehr"', creator),
            DETAIL = 'Objects it creates there could shadow or replace the extension''s.',
            HINT = 'REVOKE CREATE ON SCHEMA ehr from every role that is not a superuser.';
    END IF;

    SELECT (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class WHERE relnamespace OPERATOR(pg_catalog.=) ns)
           OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc WHERE pronamespace OPERATOR(pg_catalog.=) ns)
           OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_type WHERE typnamespace OPERATOR(pg_catalog.=) ns)
           OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_operator WHERE oprnamespace OPERATOR(pg_catalog.=) ns)
           OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_opfamily WHERE opfnamespace OPERATOR(pg_catalog.=) ns)
           OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_collation WHERE collnamespace OPERATOR(pg_catalog.=) ns)
           OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_conversion WHERE connamespace OPERATOR(pg_catalog.=) ns)
      INTO objects;
    IF objects OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('schema "ehr" already contains %s objects', objects),
            DETAIL = 'The extension installs into an empty schema ehr; objects already there could shadow its own.',
            HINT = 'Drop or empty schema ehr before CREATE EXTENSION ehr.';
    END IF;
END
$guard$;
