/*-------------------------------------------------------------------------
 *
 * ehr.c
 *	  Module entry point: _PG_init registers each concern's GUCs, hooks and
 *	  shared memory, then reserves the "ehr." GUC prefix.
 *
 * The library is meant to be preloaded (shared_preload_libraries = 'ehr') so
 * that its GUCs, its shared memory and its SECURITY LABEL provider exist in
 * every backend. Loaded on first use instead, the parts that need shared
 * memory say so with a clear error; everything else works.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_MODULE_MAGIC;

/* True when the library was loaded through shared_preload_libraries. */
bool		ehr_preloaded = false;

void
_PG_init(void)
{
	ehr_preloaded = process_shared_preload_libraries_in_progress;

	/* Each concern's initialisation; one line per concern, in this order. */

	ehr_consent_init();		/* consent.c: actor GUCs, code/grant TTLs */

	ehr_authcode_init();		/* authcode.c: shared-memory failed-try counters */

	ehr_audit_init();		/* audit.c: maintenance GUC, commit-time read events */

	ehr_deid_init();			/* deid.c: SECURITY LABEL provider, ehr.date_shift_days */

	/* recognition.c */

	ehr_health_card_init();		/* card.c: ehr.health_code_ttl; shared memory for SMS tries, refusal queue */

	MarkGUCPrefixReserved("ehr");
}

PG_FUNCTION_INFO_V1(ehr_version);

/* ehr.version(): the version of the loaded library, for support and upgrade checks. */
Datum
ehr_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(EHR_VERSION));
}

Oid
ehr_type_oid(const char *name, bool missing_ok)
{
	Oid			nsp = get_namespace_oid("ehr", missing_ok);
	Oid			typ = InvalidOid;

	if (OidIsValid(nsp))
		typ = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
							  CStringGetDatum(name), ObjectIdGetDatum(nsp));
	if (!OidIsValid(typ) && !missing_ok)
		elog(ERROR, "type ehr.%s does not exist", name);
	return typ;
}

Oid
ehr_relation_oid(const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid("ehr", false));

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"ehr.%s\" does not exist", name),
				 errhint("Is the ehr extension installed in this database?")));
	return relid;
}
