-- Security surface: what PUBLIC and the ehr group roles may and may not do.
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'ehr\_%' ORDER BY 1;
-- the keyring is readable by no role but the owner
SELECT has_table_privilege('public', 'ehr.keyring', 'SELECT') AS public_reads_keys;
SELECT count(*) AS keys FROM ehr.keyring;
CREATE ROLE ehr_sec_probe LOGIN;
GRANT ehr_admin TO ehr_sec_probe;
SET ROLE ehr_sec_probe;
SELECT * FROM ehr.keyring;
SELECT ehr.rotate_key('pseudonym');   -- ehr_admin may rotate
SELECT ehr.rotate_key('nonsense');
SELECT ehr.load_key('pseudonym', '/etc/hostname');  -- not a superuser
RESET ROLE;
REVOKE ehr_admin FROM ehr_sec_probe;
SET ROLE ehr_sec_probe;
SELECT ehr.rotate_key('pseudonym');   -- no longer
RESET ROLE;
DROP ROLE ehr_sec_probe;
-- every SECURITY DEFINER function pins search_path
SELECT p.oid::regprocedure
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'ehr'
 WHERE p.prosecdef
   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);
