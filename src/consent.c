/*-------------------------------------------------------------------------
 *
 * consent.c
 *	  Who is acting (ehr.act_as, the db_role mapping) and the row check of
 *	  every clinical table, ehr.can_access, with its per-query grant cache.
 *
 * The actor lives in the setting ehr.actor, changed only with
 * GUC_ACTION_LOCAL by act_as/act_as_resident: it ends with the transaction,
 * reaches parallel workers with the other settings, and an ordinary role
 * cannot SET it (PGC_SUSET). Without act_as, the practitioner whose db_role
 * is the session user acts (the session user, not current_user: SET ROLE and
 * SECURITY DEFINER functions do not change who is acting).
 *
 * can_access is called once per row. On its first call in a query it loads,
 * into fn_extra, everything the actor may see: the practitioner's active
 * grants (one index scan of ehr.access_grant) and the sharing switches of
 * the granted residents (one index probe each). Every later row is a compare
 * of the origin with the actor's institution and a lookup in an open-
 * addressing hash table keyed by resident: no palloc, no catalog access.
 * The tables are read with direct index scans, which check no SQL privilege
 * (the querying role needs none on the grant tables) and do not depend on
 * search_path.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

const char *const ehr_category_labels[EHR_N_CATEGORIES] = {"lab", "exam", "emr", "archive"};

/* GUCs */
static char *actor_setting = NULL;
static char *actor_token_setting = NULL;
static char *recognition_seal_setting = NULL;
static int	grant_ttl_s = 12 * 3600;
static int	code_ttl_s = 300;
static int	break_glass_ttl_s = 3600;
static int	max_open_requests = 3;
static int	max_requests_per_hour = 20;

static void consent_xact_callback(XactEvent event, void *arg);
static void consent_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
									 SubTransactionId parentSubid, void *arg);

static bool
check_actor(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;
	size_t		n;

	if (v == NULL || v[0] == '\0')
		return true;
	n = strlen(v);
	if (v[0] == 'p' && v[1] == ':')
	{
		const char *colon = strchr(v + 2, ':');

		if (colon && colon > v + 2 && strlen(colon + 1) == ORG_CODE_LEN &&
			strspn(v + 2, "0123456789") == (size_t) (colon - (v + 2)))
			return true;
	}
	else if (v[0] == 'r' && v[1] == ':' && n > 2 && strspn(v + 2, "0123456789") == n - 2)
		return true;
	GUC_check_errdetail("ehr.actor is set by ehr.act_as and ehr.act_as_resident.");
	return false;
}

void
ehr_consent_init(void)
{
	DefineCustomStringVariable("ehr.actor",
							   "Who is acting in this transaction (set by ehr.act_as).",
							   "p:<practitioner>:<institution> or r:<resident as stored>; empty when nobody is.",
							   &actor_setting, "",
							   PGC_SUSET,
							   GUC_NO_RESET_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   check_actor, NULL, NULL);
	DefineCustomStringVariable("ehr.actor_token",
							   "The actor of this transaction, signed, for the workers of a Citus cluster (set by ehr.act_as).",
							   "<actor>/<expiry, Unix seconds>/<HMAC-SM3, hex>; honoured only under Citus, where ehr.actor is empty, for members of ehr_gateway.",
							   &actor_token_setting, "",
							   PGC_USERSET,
							   GUC_NO_RESET_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("ehr.recognition_seal",
							   "The seal of the recognition decision being stored on a Citus shard (set by ehr.recognize).",
							   "HMAC-SM3, hex, of ehr.recognition_canonical of the judged decision.",
							   &recognition_seal_setting, "",
							   PGC_USERSET,
							   GUC_NO_RESET_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);
	RegisterXactCallback(consent_xact_callback, NULL);
	RegisterSubXactCallback(consent_subxact_callback, NULL);
	DefineCustomIntVariable("ehr.code_ttl",
							"How long a one-time authorization code stays valid.",
							NULL, &code_ttl_s, 300, 30, 24 * 3600,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("ehr.grant_ttl",
							"How long an access grant lasts unless ended earlier.",
							NULL, &grant_ttl_s, 12 * 3600, 60, 30 * 24 * 3600,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("ehr.break_glass_ttl",
							"How long break-glass (emergency) access lasts.",
							NULL, &break_glass_ttl_s, 3600, 60, 24 * 3600,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("ehr.max_open_requests",
							"Unconfirmed, unexpired access requests a practitioner may have per resident.",
							NULL, &max_open_requests, 3, 1, 100,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ehr.max_requests_per_hour",
							"Access requests a practitioner may send per hour.",
							NULL, &max_requests_per_hour, 20, 1, 10000,
							PGC_SUSET, 0, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- helpers */

Oid
ehr_owner(void)
{
	Oid			nsp = get_namespace_oid("ehr", false);
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for schema ehr");
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

static AttrNumber
attnum_of(Oid relid, const char *col)
{
	AttrNumber	a = get_attnum(relid, col);

	if (a == InvalidAttrNumber)
		elog(ERROR, "column \"%s\" of an ehr table is missing", col);
	return a;
}

/* An equality scan key on heap column heapatt, which is column idxcol of idx. */
static void
eq_key(ScanKey key, Relation idx, int idxcol, AttrNumber heapatt, Datum value)
{
	Oid			opfamily = idx->rd_opfamily[idxcol - 1];
	Oid			type = idx->rd_opcintype[idxcol - 1];
	Oid			op = get_opfamily_member(opfamily, type, type, BTEqualStrategyNumber);

	if (!OidIsValid(op))
		elog(ERROR, "no equality operator in the opfamily of index %s",
			 RelationGetRelationName(idx));
	ScanKeyInit(key, heapatt, BTEqualStrategyNumber, get_opcode(op), value);
}

/* The snapshot internal reads use: the active one, else the transaction's. */
static Snapshot
read_snapshot(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
}

/* Enum OIDs of ehr.category's labels, in EHR_CAT_* bit order. */
static void
category_oids(Oid *oids)
{
	Oid			typ = ehr_type_oid("category", false);
	int			i;

	for (i = 0; i < EHR_N_CATEGORIES; i++)
	{
		oids[i] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
								  ObjectIdGetDatum(typ),
								  CStringGetDatum(ehr_category_labels[i]));
		if (!OidIsValid(oids[i]))
			elog(ERROR, "label \"%s\" of ehr.category is missing", ehr_category_labels[i]);
	}
}

int
ehr_category_bit(const char *label)
{
	int			i;

	for (i = 0; i < EHR_N_CATEGORIES; i++)
		if (strcmp(label, ehr_category_labels[i]) == 0)
			return 1 << i;
	return 0;
}

/* ------------------------------------------------------- Citus placements */

/*
 * Under Citus (docs/scale-out.md section 2) the relation ehr.<table> on a node
 * is an empty shell: the rows live in shard relations ehr.<table>_<shardid>,
 * and a node holds only its own shards. Consent state is read with direct
 * scans, never with a query (inside a shard query a query of a distributed
 * table would be a nested distributed query, which Citus refuses), so the
 * scans go to the local placement: the one shard of a reference table, or the
 * shard of a hash-distributed table whose hash range holds the resident. That
 * shard is co-located with the row being checked, hence on this node. The
 * shard map is read once per transaction. Without Citus (no
 * pg_catalog.pg_dist_partition) the table itself is read, as on one node.
 */
#define N_PLACED 4

typedef struct Placement
{
	const char *table;
	LocalTransactionId lxid;	/* the map is valid in this transaction only */
	Oid			relid;			/* the table (shell under Citus) */
	int			nshards;		/* 0: not distributed, read relid itself */
	char		method;			/* 'h' hash-distributed, 'n' reference */
	int64	   *shardid;		/* by ascending hash range */
	int32	   *minh;
	int32	   *maxh;
	Oid		   *local;			/* the shard's relation here, or InvalidOid */
	FmgrInfo   *hashfn;			/* hash of ehr.resident_id (Citus's hash) */
} Placement;

static Placement placements[N_PLACED];


static void
placement_load(Placement *pl, const char *table)
{
	Oid			nsp = get_namespace_oid("ehr", false);
	Oid			argt[1] = {OIDOID};
	Datum		argv[1];
	int			i,
				n;

	pl->table = table;
	pl->relid = ehr_relation_oid(table);
	pl->nshards = 0;
	pl->lxid = InvalidLocalTransactionId;	/* valid once loaded completely */
	if (!OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
	{
		pl->lxid = MyProc->lxid;
		return;
	}

	argv[0] = ObjectIdGetDatum(pl->relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT p.partmethod::pg_catalog.text, s.shardid,"
							  "       s.shardminvalue::pg_catalog.int4, s.shardmaxvalue::pg_catalog.int4"
							  "  FROM pg_catalog.pg_dist_partition AS p"
							  "  JOIN pg_catalog.pg_dist_shard AS s"
							  "    ON s.logicalrelid OPERATOR(pg_catalog.=) p.logicalrelid"
							  " WHERE p.logicalrelid::pg_catalog.oid OPERATOR(pg_catalog.=) $1"
							  " ORDER BY 3",
							  1, argt, argv, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the Citus shard map of ehr.%s failed", table);
	n = (int) SPI_processed;
	if (n > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
		TypeCacheEntry *tc;

		pl->shardid = palloc(sizeof(int64) * n);
		pl->minh = palloc(sizeof(int32) * n);
		pl->maxh = palloc(sizeof(int32) * n);
		pl->local = palloc(sizeof(Oid) * n);
		for (i = 0; i < n; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			char	   *m = SPI_getvalue(tup, desc, 1);

			pl->method = m != NULL ? m[0] : '?';
			pl->shardid[i] = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
			pl->minh[i] = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
			if (isnull)
				pl->minh[i] = PG_INT32_MIN;
			pl->maxh[i] = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
			if (isnull)
				pl->maxh[i] = PG_INT32_MAX;
			pl->local[i] = get_relname_relid(psprintf("%s_" INT64_FORMAT, table, pl->shardid[i]), nsp);
		}
		tc = lookup_type_cache(ehr_type_oid("resident_id", false), TYPECACHE_HASH_PROC_FINFO);
		pl->hashfn = &tc->hash_proc_finfo;
		MemoryContextSwitchTo(old);
		if (pl->method != 'h' && pl->method != 'n')
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ehr.%s is distributed by method \"%c\"", table, pl->method),
					 errdetail("Under Citus, ehr's consent state is hash-distributed by resident or a reference table (docs/scale-out.md).")));
		pl->nshards = n;
	}
	SPI_finish();
	pl->lxid = MyProc->lxid;
}

/* The placement map of ehr.<table> (a string constant) for this transaction. */
static Placement *
placement_of(const char *table)
{
	int			i;

	for (i = 0; i < N_PLACED; i++)
		if (placements[i].table == table || placements[i].table == NULL ||
			strcmp(placements[i].table, table) == 0)
			break;
	if (i == N_PLACED)
		elog(ERROR, "too many placed ehr tables");
	if (placements[i].table == NULL || placements[i].lxid != MyProc->lxid)
		placement_load(&placements[i], table);
	return &placements[i];
}

/*
 * The relation holding the resident's rows of the table here (the resident is
 * ignored for a reference table), and its shard id (0: the table itself).
 * InvalidOid when that shard is not on this node.
 */
static Oid
placed_rel(const Placement *pl, ResidentId r, int64 *shardid)
{
	int32		h;
	int			lo,
				hi;

	*shardid = 0;
	if (pl->nshards == 0)
		return pl->relid;
	if (pl->method == 'n')
	{
		*shardid = pl->shardid[0];
		return pl->local[0];
	}
	h = DatumGetInt32(FunctionCall1Coll(pl->hashfn, InvalidOid, ResidentIdGetDatum(r)));
	lo = 0;
	hi = pl->nshards - 1;
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (h < pl->minh[mid])
			hi = mid - 1;
		else if (h > pl->maxh[mid])
			lo = mid + 1;
		else
		{
			*shardid = pl->shardid[mid];
			return pl->local[mid];
		}
	}
	return InvalidOid;
}

/* The index idxname of the table, or of its shard (Citus names it <idx>_<shardid>). */
static Oid
placed_index(const char *idxname, int64 shardid)
{
	Oid			nsp = get_namespace_oid("ehr", false);

	if (shardid == 0)
		return get_relname_relid(idxname, nsp);
	return get_relname_relid(psprintf("%s_" INT64_FORMAT, idxname, shardid), nsp);
}

/* ---------------------------------------------------------------- the actor */

/* The practitioner mapped to the session user, if any (index probe). */
static void
actor_from_db_role(EhrActor *actor)
{
	int64		shard;
	Oid			relid = placed_rel(placement_of("practitioner"), 0, &shard);
	Oid			idxid = placed_index("practitioner_db_role_key", shard);
	char	   *role = GetUserNameFromId(GetSessionUserId(), true);
	NameData	rolename;
	Relation	rel,
				idx;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	AttrNumber	a_role;

	if (role == NULL || !OidIsValid(relid) || !OidIsValid(idxid))
		return;
	a_role = attnum_of(relid, "db_role");
	namestrcpy(&rolename, role);
	rel = table_open(relid, AccessShareLock);
	idx = index_open(idxid, AccessShareLock);
	eq_key(&key, idx, 1, a_role, NameGetDatum(&rolename));
	index_close(idx, AccessShareLock);
	scan = systable_beginscan(rel, idxid, true, read_snapshot(), 1, &key);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		Datum		d;

		d = heap_getattr(tup, attnum_of(relid, "active"), desc, &isnull);
		if (isnull || !DatumGetBool(d))
			continue;
		d = heap_getattr(tup, attnum_of(relid, "id"), desc, &isnull);
		actor->practitioner = DatumGetInt64(d);
		d = heap_getattr(tup, attnum_of(relid, "institution"), desc, &isnull);
		memcpy(actor->institution.data, DatumGetOrgCodeP(d)->data, ORG_CODE_LEN);
		actor->kind = EHR_ACTOR_PRACTITIONER;
		break;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* The db_role actor of the current transaction (see ehr_current_actor). */
static EhrActor role_actor;
static LocalTransactionId role_actor_lxid = InvalidLocalTransactionId;
static Oid	role_actor_user = InvalidOid;
static Oid	role_actor_nsp = InvalidOid;
static uint64 role_actor_gen = 0;
static bool consent_changed_in_xact = false;

/* ------------------------------------------------ the actor on Citus workers */

/*
 * ehr.act_as sets ehr.actor in C, which Citus never forwards, and a pool role
 * could not set that superuser-only setting on a worker anyway. Under Citus
 * act_as therefore also runs SET LOCAL ehr.actor_token = '<actor>/<expiry>/<mac>'
 * (with citus.propagate_set_commands = 'local', so Citus sends it to every
 * worker connection of the transaction). MAC = HMAC-SM3 under a key derived
 * from the access_code key (the same on every node, docs/scale-out.md) over
 * the actor, the expiry and the current user (the role Citus logs in to the
 * workers as, hence the worker's session user). A worker takes the actor from a
 * token only when ehr.actor is empty, Citus is present, the session user is a
 * member of ehr_gateway (who may name any actor anyway), the expiry has not
 * passed and the MAC verifies; anything else is nobody acting.
 */
#define ACTOR_TOKEN_TTL_S	3600

static bool
citus_present(void)
{
	return OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE));
}

static void
actor_token_mac(const char *actor, int64 expiry, const char *role, char *hex)
{
	static const char label[] = "ehr.actor_token key";
	static const char digits[] = "0123456789abcdef";
	EhrKey		key;
	uint8		sub[EHR_SM3_LEN];
	uint8		mac[EHR_SM3_LEN];
	char	   *msg = psprintf("%s/" INT64_FORMAT "/%s", actor, expiry, role);
	int			i;

	ehr_keyring_get("access_code", &key);
	ehr_hmac_sm3(key.bytes, key.len, (const uint8 *) label, sizeof(label) - 1, sub);
	ehr_wipe(&key, sizeof(key));
	ehr_hmac_sm3(sub, sizeof(sub), (const uint8 *) msg, strlen(msg), mac);
	ehr_wipe(sub, sizeof(sub));
	for (i = 0; i < EHR_SM3_LEN; i++)
	{
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 15];
	}
	hex[2 * EHR_SM3_LEN] = '\0';
	pfree(msg);
}

/* Hex HMAC-SM3 of msg under a key derived from access_code for one purpose. */
static void
derived_mac_hex(const char *label, const char *msg, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	EhrKey		key;
	uint8		sub[EHR_SM3_LEN];
	uint8		mac[EHR_SM3_LEN];
	int			i;

	ehr_keyring_get("access_code", &key);
	ehr_hmac_sm3(key.bytes, key.len, (const uint8 *) label, strlen(label), sub);
	ehr_wipe(&key, sizeof(key));
	ehr_hmac_sm3(sub, sizeof(sub), (const uint8 *) msg, strlen(msg), mac);
	ehr_wipe(sub, sizeof(sub));
	for (i = 0; i < EHR_SM3_LEN; i++)
	{
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 15];
	}
	hex[2 * EHR_SM3_LEN] = '\0';
}

/* SET LOCAL name = value through SPI, forwarded to Citus workers when present. */
static void
set_local_forwarded(const char *name, const char *value)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if ((citus_present() &&
		 SPI_execute("SET LOCAL citus.propagate_set_commands = 'local'", false, 0) != SPI_OK_UTILITY) ||
		SPI_execute(psprintf("SET LOCAL %s = %s", name, quote_literal_cstr(value)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "setting %s failed", name);
	SPI_finish();
}

PG_FUNCTION_INFO_V1(ehr_recognition_judge_sealed);

/*
 * ehr.recognition_judge_sealed(result, encounter, accepted, reason, note): run
 * ehr.recognition_judge as the caller and seal what it returns, so that the
 * Citus shard storing the decision can trust it without querying (it cannot).
 * Whoever calls it gets a seal only for the judgement made as himself.
 */
Datum
ehr_recognition_judge_sealed(PG_FUNCTION_ARGS)
{
	Oid			argt[5] = {INT8OID, INT8OID, BOOLOID, TEXTOID, TEXTOID};
	Datum		argv[5];
	char		nulls[5];
	Datum		row;
	bool		isnull;
	char	   *canonical;
	char		hex[2 * EHR_SM3_LEN + 1];
	int			i;

	for (i = 0; i < 5; i++)
	{
		argv[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT j, ehr.recognition_canonical(j)"
							  "  FROM ehr.recognition_judge(ROW(NULL, $1, $2, $3, $4, $5, NULL, NULL, NULL,"
							  "       NULL, NULL, NULL, NULL, NULL, NULL)::ehr.recognition) AS j",
							  5, argt, argv, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "judging the recognition decision failed");
	row = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "judging the recognition decision returned nothing");
	row = SPI_datumTransfer(row, false, -1);
	canonical = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (canonical == NULL)
		elog(ERROR, "judging the recognition decision returned nothing");
	derived_mac_hex("ehr.recognition_seal key", canonical, hex);
	SPI_finish();
	set_local_forwarded("ehr.recognition_seal", hex);
	PG_RETURN_DATUM(row);
}

PG_FUNCTION_INFO_V1(ehr_recognition_seal_check);

/* ehr.recognition_seal_check(canonical): raise unless ehr.recognition_seal seals it. */
Datum
ehr_recognition_seal_check(PG_FUNCTION_ARGS)
{
	char	   *canonical = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char		hex[2 * EHR_SM3_LEN + 1];
	const char *seal = recognition_seal_setting;

	derived_mac_hex("ehr.recognition_seal key", canonical, hex);
	if (seal == NULL || strlen(seal) != 2 * EHR_SM3_LEN ||
		!ehr_const_time_equal(hex, seal, 2 * EHR_SM3_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("recognition decision is not sealed by ehr.recognize"),
				 errdetail("On a Citus shard a decision is stored only as ehr.recognize judged it on the coordinator.")));
	PG_RETURN_VOID();
}

/* Under Citus: send the actor to the workers of this transaction. */
static void
send_actor_token(const char *actor)
{
	int64		expiry;
	char		hex[2 * EHR_SM3_LEN + 1];
	char	   *role;
	char	   *token;

	if (!citus_present())
		return;
	expiry = (int64) timestamptz_to_time_t(GetCurrentTimestamp()) + ACTOR_TOKEN_TTL_S;
	/* Citus connects to the workers as the current user: their session user */
	role = GetUserNameFromId(GetUserId(), false);
	actor_token_mac(actor, expiry, role, hex);
	token = psprintf("%s/" INT64_FORMAT "/%s", actor, expiry, hex);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SET LOCAL citus.propagate_set_commands = 'local'", false, 0) != SPI_OK_UTILITY ||
		SPI_execute(psprintf("SET LOCAL ehr.actor_token = %s", quote_literal_cstr(token)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "setting ehr.actor_token failed");
	SPI_finish();
}

/* The verified actor of the token, cached for the token's text. */
static char token_verified[128];
static EhrActor token_actor;
static int64 token_expiry;

static bool
actor_from_token(const char *tok, EhrActor *actor)
{
	const char *s1,
			   *s2;
	char	   *act;
	int64		expiry;
	char		hex[2 * EHR_SM3_LEN + 1];
	char	   *role;
	bool		ok;

	if (strlen(tok) < sizeof(token_verified) && strcmp(tok, token_verified) == 0)
	{
		if ((int64) timestamptz_to_time_t(GetCurrentTimestamp()) >= token_expiry)
			return false;
		*actor = token_actor;
		return true;
	}
	if (!citus_present() ||
		!is_member_of_role(GetSessionUserId(), get_role_oid("ehr_gateway", false)))
		return false;
	s2 = strrchr(tok, '/');
	if (s2 == NULL || s2 == tok || strlen(s2 + 1) != 2 * EHR_SM3_LEN)
		return false;
	for (s1 = s2 - 1; s1 > tok && *s1 != '/'; s1--)
		;
	if (*s1 != '/' || s1 + 1 == s2)
		return false;
	act = pnstrdup(tok, s1 - tok);
	expiry = strtoi64(s1 + 1, NULL, 10);
	if (expiry <= (int64) timestamptz_to_time_t(GetCurrentTimestamp()))
		return false;
	role = GetUserNameFromId(GetSessionUserId(), false);
	actor_token_mac(act, expiry, role, hex);
	ok = ehr_const_time_equal(hex, s2 + 1, 2 * EHR_SM3_LEN);
	if (!ok)
		return false;
	memset(actor, 0, sizeof(EhrActor));
	if (act[0] == 'p' && act[1] == ':' && strchr(act + 2, ':') != NULL &&
		strlen(strchr(act + 2, ':') + 1) == ORG_CODE_LEN)
	{
		actor->kind = EHR_ACTOR_PRACTITIONER;
		actor->practitioner = strtoi64(act + 2, NULL, 10);
		memcpy(actor->institution.data, strchr(act + 2, ':') + 1, ORG_CODE_LEN);
	}
	else if (act[0] == 'r' && act[1] == ':')
	{
		actor->kind = EHR_ACTOR_RESIDENT;
		actor->resident = (ResidentId) strtoi64(act + 2, NULL, 10);
	}
	else
		return false;
	if (strlen(tok) < sizeof(token_verified))
	{
		strlcpy(token_verified, tok, sizeof(token_verified));
		token_actor = *actor;
		token_expiry = expiry;
	}
	return true;
}

void
ehr_current_actor(EhrActor *actor)
{
	const char *v = actor_setting;
	uint64		gen = 0;
	bool		have_gen;

	memset(actor, 0, sizeof(EhrActor));
	if ((v == NULL || v[0] == '\0') && actor_token_setting != NULL && actor_token_setting[0] != '\0')
	{
		if (actor_from_token(actor_token_setting, actor))
			return;
		memset(actor, 0, sizeof(EhrActor));
	}
	if (v != NULL && v[0] == 'p' && v[1] == ':')
	{
		const char *colon = strchr(v + 2, ':');

		actor->kind = EHR_ACTOR_PRACTITIONER;
		actor->practitioner = strtoi64(v + 2, NULL, 10);
		memcpy(actor->institution.data, colon + 1, ORG_CODE_LEN);
		return;
	}
	if (v != NULL && v[0] == 'r' && v[1] == ':')
	{
		actor->kind = EHR_ACTOR_RESIDENT;
		actor->resident = (ResidentId) strtoi64(v + 2, NULL, 10);
		return;
	}
	/*
	 * The db_role mapping: kept while the consent generation (which changes
	 * to ehr.practitioner bump too) is unchanged, else once per transaction.
	 */
	have_gen = ehr_consent_generation(&gen);
	if (role_actor_user == GetSessionUserId() &&
		role_actor_nsp == get_namespace_oid("ehr", false) &&
		((have_gen && role_actor_gen == gen && !consent_changed_in_xact) ||
		 role_actor_lxid == MyProc->lxid))
	{
		*actor = role_actor;
		return;
	}
	actor_from_db_role(actor);
	role_actor = *actor;
	role_actor_lxid = MyProc->lxid;
	role_actor_user = GetSessionUserId();
	role_actor_nsp = get_namespace_oid("ehr", false);
	role_actor_gen = have_gen && !consent_changed_in_xact ? gen : 0;
}

static void
set_actor(const char *value)
{
	(void) set_config_option("ehr.actor", value, PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

static void
require_gateway(const char *what)
{
	if (!is_member_of_role(GetUserId(), get_role_oid("ehr_gateway", false)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to call %s", what),
				 errdetail("Only members of ehr_gateway (application server pools) may choose who is acting.")));
	if (!IsTransactionBlock())
		ereport(WARNING,
				(errmsg("%s outside a transaction block lasts only for this statement", what),
				 errhint("Call it after BEGIN: the actor lasts until the end of the transaction.")));
}

PG_FUNCTION_INFO_V1(ehr_act_as);

/* ehr.act_as(practitioner): the gateway names the practitioner for this transaction. */
Datum
ehr_act_as(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Oid			relid;
	int64		shard;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		found = false,
				active = false;
	OrgCode		inst;
	char		buf[64 + ORG_CODE_LEN];

	require_gateway("ehr.act_as");
	relid = placed_rel(placement_of("practitioner"), 0, &shard);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ehr.practitioner has no placement on this node"),
				 errdetail("Under Citus, ehr.act_as runs on a node holding the reference tables: add the coordinator with citus_set_coordinator_host (docs/scale-out.md).")));
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, attnum_of(relid, "id"), BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
	scan = systable_beginscan(rel, placed_index("practitioner_pkey", shard),
							  true, read_snapshot(), 1, &key);
	if ((tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		d;

		found = true;
		d = heap_getattr(tup, attnum_of(relid, "active"), RelationGetDescr(rel), &isnull);
		active = !isnull && DatumGetBool(d);
		d = heap_getattr(tup, attnum_of(relid, "institution"), RelationGetDescr(rel), &isnull);
		memcpy(inst.data, DatumGetOrgCodeP(d)->data, ORG_CODE_LEN);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("practitioner " INT64_FORMAT " does not exist", id),
				 errdetail("ehr.act_as takes an id from ehr.practitioner.")));
	if (!active)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("practitioner " INT64_FORMAT " is not active", id),
				 errdetail("An inactive practitioner cannot act.")));
	snprintf(buf, sizeof(buf), "p:" INT64_FORMAT ":%.*s", id, ORG_CODE_LEN, inst.data);
	set_actor(buf);
	send_actor_token(buf);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ehr_act_as_resident);

/* ehr.act_as_resident(resident): the gateway acts for the patient (app login). */
Datum
ehr_act_as_resident(PG_FUNCTION_ARGS)
{
	ResidentId	r = PG_GETARG_RESIDENT_ID(0);
	char		buf[32];

	require_gateway("ehr.act_as_resident");
	snprintf(buf, sizeof(buf), "r:" INT64_FORMAT, (int64) r);
	set_actor(buf);
	send_actor_token(buf);
	PG_RETURN_VOID();
}

/* The actor, cached per call site for the rest of the query. */
typedef struct ActorCache
{
	const char *setting;		/* actor_setting it was read for */
	const char *token;			/* and actor_token_setting */
	EhrActor	actor;
} ActorCache;

static const EhrActor *
cached_actor(FunctionCallInfo fcinfo)
{
	ActorCache *c = (ActorCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL || c->setting != actor_setting || c->token != actor_token_setting)
	{
		if (c == NULL)
			c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ActorCache));
		ehr_current_actor(&c->actor);
		c->setting = actor_setting;
		c->token = actor_token_setting;
		fcinfo->flinfo->fn_extra = c;
	}
	return &c->actor;
}

PG_FUNCTION_INFO_V1(ehr_current_practitioner);

Datum
ehr_current_practitioner(PG_FUNCTION_ARGS)
{
	const EhrActor *a = cached_actor(fcinfo);

	if (a->kind != EHR_ACTOR_PRACTITIONER)
		PG_RETURN_NULL();
	PG_RETURN_INT64(a->practitioner);
}

PG_FUNCTION_INFO_V1(ehr_current_institution);

Datum
ehr_current_institution(PG_FUNCTION_ARGS)
{
	const EhrActor *a = cached_actor(fcinfo);
	OrgCode    *res;

	if (a->kind != EHR_ACTOR_PRACTITIONER)
		PG_RETURN_NULL();
	res = palloc(sizeof(OrgCode));
	memcpy(res, &a->institution, sizeof(OrgCode));
	PG_RETURN_ORG_CODE_P(res);
}

PG_FUNCTION_INFO_V1(ehr_current_resident);

Datum
ehr_current_resident(PG_FUNCTION_ARGS)
{
	const EhrActor *a = cached_actor(fcinfo);

	if (a->kind != EHR_ACTOR_RESIDENT)
		PG_RETURN_NULL();
	PG_RETURN_RESIDENT_ID(a->resident);
}

/* ---------------------------------------------------------------- the check */

/* What the actor may see of one resident. */
typedef struct ResEntry
{
	ResidentId	resident;
	bool		used;
	int8		care;			/* resident row: -1 unknown, 0 no, 1 yes */
	bool		switches_loaded;	/* closed is known */
	uint8		noted;			/* category bits already noted as read from noted_origin */
	OrgCode		noted_origin;
	uint8		granted;		/* EHR_CAT_* bits with an active grant */
	uint8		closed;			/* EHR_CAT_* bits whose sharing switch is closed */
	int64		break_glass;	/* an active break-glass grant, or 0 */
	int64		grant_for[EHR_N_CATEGORIES];
} ResEntry;

/* Everything can_access needs for one query, in fn_extra. */
typedef struct AccessState
{
	const char *setting;		/* actor_setting it was loaded for */
	const char *token;			/* and actor_token_setting */
	EhrActor	actor;
	Oid			cat_oids[EHR_N_CATEGORIES];
	Oid			last_cat;		/* one-entry cache of the category lookup */
	int			last_idx;
	uint32		mask;			/* capacity - 1 (capacity a power of two) */
	uint32		count;
	ResEntry   *entries;
	uint64		filter[4];		/* bit (resident & 255) set for every entry: most
								 * rows of other residents stop at one bit test */
	MemoryContext mcxt;
} AccessState;

#define FILTER_HAS(s, r)	(((s)->filter[((uint64) (r) >> 6) & 3] >> ((uint64) (r) & 63)) & 1)
#define FILTER_SET(s, r)	((s)->filter[((uint64) (r) >> 6) & 3] |= UINT64CONST(1) << ((uint64) (r) & 63))

static inline uint32
res_hash(ResidentId r)
{
	uint64		h = (uint64) r;

	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

static inline ResEntry *
res_lookup(const AccessState *s, ResidentId r)
{
	uint32		i = res_hash(r) & s->mask;

	for (;;)
	{
		ResEntry   *e = &s->entries[i];

		if (!e->used)
			return NULL;
		if (e->resident == r)
			return e;
		i = (i + 1) & s->mask;
	}
}

static ResEntry *
res_insert(AccessState *s, ResidentId r)
{
	ResEntry   *e;
	uint32		i;

	/* keep the load factor at most 1/2 */
	if ((s->count + 1) * 2 > s->mask + 1)
	{
		ResEntry   *old = s->entries;
		uint32		oldcap = s->mask + 1;
		uint32		j;

		s->mask = oldcap * 2 - 1;
		s->entries = MemoryContextAllocZero(s->mcxt, sizeof(ResEntry) * (s->mask + 1));
		for (j = 0; j < oldcap; j++)
			if (old[j].used)
			{
				i = res_hash(old[j].resident) & s->mask;
				while (s->entries[i].used)
					i = (i + 1) & s->mask;
				s->entries[i] = old[j];
			}
		pfree(old);
	}
	i = res_hash(r) & s->mask;
	while (s->entries[i].used)
	{
		if (s->entries[i].resident == r)
			return &s->entries[i];
		i = (i + 1) & s->mask;
	}
	e = &s->entries[i];
	e->used = true;
	e->resident = r;
	e->care = -1;
	FILTER_SET(s, r);
	s->count++;
	return e;
}

/*
 * The active grants of the last practitioner served, kept across queries
 * (and transactions) while nothing can have changed them:
 *   - the consent generation in shared memory is unchanged: every change to
 *     ehr.access_grant or ehr.sharing bumps it, when the change is made and
 *     again after its transaction commits (trigger ehr.consent_changed);
 *   - no grant has expired since (valid_until is the earliest expiry), and
 *     the copy is at most GRANT_CACHE_MAX_AGE old (bounds what a two-phase
 *     commit, whose COMMIT PREPARED bumps nothing, can leave stale);
 *   - this backend has not rolled back a change it made after loading.
 * Grants, and the sharing switches of their residents, are read with the
 * latest snapshot, taken after the generation is read, so a copy is never
 * older than its generation. Without shared memory (not preloaded), in
 * parallel mode, and in a transaction that changed grants itself, nothing is
 * kept: grants are read with the query's snapshot and switches probed per
 * query (load_switches).
 */
#define GRANT_CACHE_MAX_AGE		(1 * USECS_PER_SEC)

static int	closed_bits(ResidentId resident, Snapshot snap, const Oid *cat_oids);

typedef struct GrantRow
{
	ResidentId	resident;
	int64		gid;
	int16		bits;
	int16		closed;			/* the resident's closed switches (cached rows) */
	bool		closed_known;
	bool		break_glass;
} GrantRow;

typedef struct GrantCache
{
	bool		valid;
	int64		practitioner;
	OrgCode		institution;
	uint64		generation;
	TimestampTz valid_until;
	Oid			relid;			/* ehr.access_grant when loaded */
	int			n;
	GrantRow   *rows;			/* in grant_cache_cxt */
} GrantCache;

static GrantCache gcache;
static MemoryContext grant_cache_cxt = NULL;

static void
fill_from_rows(AccessState *s, const GrantRow *rows, int n)
{
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		ResEntry   *e = res_insert(s, rows[i].resident);

		if (rows[i].break_glass)
		{
			e->break_glass = rows[i].gid;
			continue;
		}
		for (j = 0; j < EHR_N_CATEGORIES; j++)
			if ((rows[i].bits & (1 << j)) && e->grant_for[j] == 0)
				e->grant_for[j] = rows[i].gid;
		e->granted |= rows[i].bits;
		if (rows[i].closed_known)
		{
			e->closed = rows[i].closed;
			e->switches_loaded = true;
		}
	}
}

/* The practitioner's active grants: from the cache, or one index scan. */
static void
load_grants(AccessState *s)
{
	Oid			relid = ehr_relation_oid("access_grant");
	Oid			idxid;
	TimestampTz now = GetCurrentStatementStartTimestamp();
	TimestampTz valid_until = now + GRANT_CACHE_MAX_AGE;
	uint64		gen = 0;
	bool		have_gen = ehr_consent_generation(&gen);
	int			a_id,
				a_res,
				a_bits,
				a_bg,
				a_exp,
				a_end;
	Relation	rel;
	TupleDesc	desc;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Datum	   *values;
	bool	   *nulls;
	GrantRow   *rows;
	int			n = 0,
				cap = 64;
	Placement  *pl;
	int			place;

	if (have_gen && gcache.valid && gcache.generation == gen && gcache.relid == relid &&
		gcache.practitioner == s->actor.practitioner &&
		memcmp(gcache.institution.data, s->actor.institution.data, ORG_CODE_LEN) == 0 &&
		now < gcache.valid_until && !consent_changed_in_xact)
	{
		fill_from_rows(s, gcache.rows, gcache.n);
		return;
	}

	/*
	 * The table, or under Citus every shard of it on this node: the rows this
	 * node checks are of residents whose shards are here (co-location).
	 */
	pl = placement_of("access_grant");
	rows = palloc(sizeof(GrantRow) * cap);
	/*
	 * The latest committed grants (and this transaction's own), read after gen.
	 * In parallel mode no new snapshot may be taken: the query's, uncached.
	 */
	if (IsInParallelMode())
		have_gen = false;
	for (place = 0; place < Max(pl->nshards, 1); place++)
	{
		Oid			srel = pl->nshards == 0 ? relid : pl->local[place];

		if (!OidIsValid(srel))
			continue;
		idxid = placed_index("access_grant_practitioner_idx", pl->nshards == 0 ? 0 : pl->shardid[place]);
		a_id = attnum_of(srel, "id") - 1;
		a_res = attnum_of(srel, "resident") - 1;
		a_bits = attnum_of(srel, "category_bits") - 1;
		a_bg = attnum_of(srel, "break_glass") - 1;
		a_exp = attnum_of(srel, "expires_at") - 1;
		a_end = attnum_of(srel, "ended_at") - 1;
		rel = table_open(srel, AccessShareLock);
		desc = RelationGetDescr(rel);
		values = palloc(sizeof(Datum) * desc->natts);
		nulls = palloc(sizeof(bool) * desc->natts);
		ScanKeyInit(&key, attnum_of(srel, "practitioner"), BTEqualStrategyNumber, F_INT8EQ,
					Int64GetDatum(s->actor.practitioner));
		scan = systable_beginscan(rel, idxid, true,
								  have_gen ? GetLatestSnapshot() : read_snapshot(), 1, &key);
		while ((tup = systable_getnext(scan)) != NULL)
		{
			TimestampTz exp;

			heap_deform_tuple(tup, desc, values, nulls);
			if (!nulls[a_end])
				continue;			/* ended */
			if (nulls[a_exp] || (exp = DatumGetTimestampTz(values[a_exp])) <= now)
				continue;			/* expired */
			if (exp < valid_until)
				valid_until = exp;
			if (n == cap)
			{
				cap *= 2;
				rows = repalloc(rows, sizeof(GrantRow) * cap);
			}
			rows[n].gid = DatumGetInt64(values[a_id]);
			rows[n].resident = DatumGetResidentId(values[a_res]);
			rows[n].break_glass = DatumGetBool(values[a_bg]);
			rows[n].bits = nulls[a_bits] ? 0 : (DatumGetInt16(values[a_bits]) & EHR_CAT_ALL);
			rows[n].closed = 0;
			rows[n].closed_known = false;
			n++;
		}
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		pfree(values);
		pfree(nulls);
	}

	/*
	 * A copy to keep also holds the switches of its residents, read with the
	 * same latest snapshot (switch changes bump the generation too).
	 */
	if (have_gen && !consent_changed_in_xact)
	{
		int			i;
		Snapshot	snap = GetLatestSnapshot();

		for (i = 0; i < n; i++)
			if (!rows[i].break_glass)
			{
				rows[i].closed = closed_bits(rows[i].resident, snap, s->cat_oids);
				rows[i].closed_known = true;
			}
	}
	fill_from_rows(s, rows, n);

	if (have_gen && !consent_changed_in_xact)
	{
		if (grant_cache_cxt == NULL)
			grant_cache_cxt = AllocSetContextCreate(TopMemoryContext, "ehr grant cache",
													ALLOCSET_SMALL_SIZES);
		gcache.valid = false;
		MemoryContextReset(grant_cache_cxt);
		gcache.rows = MemoryContextAlloc(grant_cache_cxt, sizeof(GrantRow) * Max(n, 1));
		memcpy(gcache.rows, rows, sizeof(GrantRow) * n);
		gcache.n = n;
		gcache.practitioner = s->actor.practitioner;
		gcache.institution = s->actor.institution;
		gcache.generation = gen;
		gcache.valid_until = valid_until;
		gcache.relid = relid;
		gcache.valid = true;
	}
	pfree(rows);
}

PG_FUNCTION_INFO_V1(ehr_consent_changed);

/*
 * Trigger ehr.consent_changed (statement level, on ehr.access_grant and
 * ehr.sharing): cached grants everywhere are out of date.
 */
Datum
ehr_consent_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ehr.consent_changed() must be called as a trigger")));
	consent_changed_in_xact = true;
	gcache.valid = false;
	ehr_consent_bump();
	PG_RETURN_POINTER(NULL);
}

static void
consent_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			/* now visible to others: whatever they loaded meanwhile is stale */
			if (consent_changed_in_xact)
				ehr_consent_bump();
			consent_changed_in_xact = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (consent_changed_in_xact)
				gcache.valid = false;
			consent_changed_in_xact = false;
			break;
		default:
			break;
	}
}

static void
consent_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	/* a rolled-back change may be in what was loaded after it */
	if (event == SUBXACT_EVENT_ABORT_SUB && consent_changed_in_xact)
		gcache.valid = false;
}

/* Closed sharing switches of one resident, as EHR_CAT_* bits: one index probe. */
static int
closed_bits(ResidentId resident, Snapshot snap, const Oid *cat_oids)
{
	int64		shard;
	Oid			relid = placed_rel(placement_of("sharing"), resident, &shard);
	Oid			idxid;
	AttrNumber	a_cat,
				a_open;
	Relation	rel,
				idx;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int			closed = 0;

	if (!OidIsValid(relid))
		return EHR_CAT_ALL;		/* the resident's shard is elsewhere: closed */
	idxid = placed_index("sharing_pkey", shard);
	a_cat = attnum_of(relid, "category");
	a_open = attnum_of(relid, "open");
	rel = table_open(relid, AccessShareLock);
	idx = index_open(idxid, AccessShareLock);
	eq_key(&key, idx, 1, attnum_of(relid, "resident"), ResidentIdGetDatum(resident));
	scan = systable_beginscan_ordered(rel, idx, snap, 1, &key);
	while ((tup = systable_getnext_ordered(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, a_open, RelationGetDescr(rel), &isnull);
		Oid			cat;
		int			j;

		if (isnull || DatumGetBool(d))
			continue;
		cat = DatumGetObjectId(heap_getattr(tup, a_cat, RelationGetDescr(rel), &isnull));
		for (j = 0; j < EHR_N_CATEGORIES; j++)
			if (cat == cat_oids[j])
				closed |= 1 << j;
	}
	systable_endscan_ordered(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return closed;
}

/*
 * Closed switches of a granted resident not known from the cache: probed the
 * first time the query meets a row of that resident, with the query's snapshot.
 */
static void
load_switches(AccessState *s, ResEntry *e)
{
	e->closed = closed_bits(e->resident, read_snapshot(), s->cat_oids);
	e->switches_loaded = true;
}

static AccessState *
access_state_load(FunctionCallInfo fcinfo)
{
	AccessState *s = (AccessState *) fcinfo->flinfo->fn_extra;

	if (s == NULL)
	{
		s = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(AccessState));
		s->mcxt = fcinfo->flinfo->fn_mcxt;
	}
	else
		pfree(s->entries);
	s->setting = actor_setting;
	s->token = actor_token_setting;
	s->count = 0;
	memset(s->filter, 0, sizeof(s->filter));
	s->mask = 127;
	s->entries = MemoryContextAllocZero(s->mcxt, sizeof(ResEntry) * (s->mask + 1));
	s->last_cat = InvalidOid;
	ehr_current_actor(&s->actor);
	category_oids(s->cat_oids);
	if (s->actor.kind == EHR_ACTOR_PRACTITIONER)
	{
		load_grants(s);
	}
	fcinfo->flinfo->fn_extra = s;
	return s;
}

/* The query's state: loaded on the first row (or when the actor changed). */
static inline AccessState *
access_state(FunctionCallInfo fcinfo)
{
	AccessState *s = (AccessState *) fcinfo->flinfo->fn_extra;

	if (likely(s != NULL && s->setting == actor_setting && s->token == actor_token_setting))
		return s;
	return access_state_load(fcinfo);
}

static inline int
category_index(AccessState *s, Oid cat)
{
	int			i;

	if (cat == s->last_cat)
		return s->last_idx;
	for (i = 0; i < EHR_N_CATEGORIES; i++)
		if (s->cat_oids[i] == cat)
		{
			s->last_cat = cat;
			s->last_idx = i;
			return i;
		}
	return -1;
}

/*
 * Note a permitted read for the access log; rows of one resident from one
 * origin usually come together, so the per-entry bits skip the call.
 */
static inline void
note_read(AccessState *s, ResEntry *e, int ci, const OrgCode *origin, int64 grant, bool bg)
{
	if ((e->noted & (1 << ci)) &&
		memcmp(e->noted_origin.data, origin->data, ORG_CODE_LEN) == 0)
		return;
	if (memcmp(e->noted_origin.data, origin->data, ORG_CODE_LEN) != 0)
	{
		e->noted = 0;
		memcpy(e->noted_origin.data, origin->data, ORG_CODE_LEN);
	}
	e->noted |= 1 << ci;
	ehr_audit_note_read(&s->actor, e->resident, 1 << ci, origin, grant, bg);
}

PG_FUNCTION_INFO_V1(ehr_can_access);

/*
 * ehr.can_access(resident, category, origin): DESIGN section 5, per row.
 */
Datum
ehr_can_access(PG_FUNCTION_ARGS)
{
	AccessState *s = access_state(fcinfo);
	ResidentId	r = PG_GETARG_RESIDENT_ID(0);
	const OrgCode *origin = PG_GETARG_ORG_CODE_P(2);
	ResEntry   *e;
	int			ci;

	switch (s->actor.kind)
	{
		case EHR_ACTOR_PRACTITIONER:
			/* the record's own institution */
			if (memcmp(origin->data, s->actor.institution.data, ORG_CODE_LEN) == 0)
				PG_RETURN_BOOL(true);
			if (!FILTER_HAS(s, r) || (e = res_lookup(s, r)) == NULL)
				PG_RETURN_BOOL(false);
			ci = category_index(s, PG_GETARG_OID(1));
			if (ci < 0)
				PG_RETURN_BOOL(false);
			if (e->break_glass != 0)
			{
				note_read(s, e, ci, origin, e->break_glass, true);
				PG_RETURN_BOOL(true);
			}
			if (!(e->granted & (1 << ci)))
				PG_RETURN_BOOL(false);
			if (!e->switches_loaded)
				load_switches(s, e);
			if (!(e->closed & (1 << ci)))
			{
				note_read(s, e, ci, origin, e->grant_for[ci], false);
				PG_RETURN_BOOL(true);
			}
			PG_RETURN_BOOL(false);

		case EHR_ACTOR_RESIDENT:
			if (r != s->actor.resident)
				PG_RETURN_BOOL(false);
			ci = category_index(s, PG_GETARG_OID(1));
			if (ci >= 0)
				ehr_audit_note_read(&s->actor, r, 1 << ci, origin, 0, false);
			PG_RETURN_BOOL(true);

		default:
			PG_RETURN_BOOL(false);
	}
}

/* Does an institution hold a record of the resident? One index probe. */
static bool
care_relation(ResidentId r, const OrgCode *inst)
{
	int64		shard;
	Oid			relid = placed_rel(placement_of("resident_institution"), r, &shard);
	Oid			idxid;
	Relation	rel,
				idx;
	SysScanDesc scan;
	ScanKeyData keys[2];
	bool		found;

	if (!OidIsValid(relid))
		return false;			/* the resident's shard is elsewhere */
	idxid = placed_index("resident_institution_pkey", shard);
	rel = table_open(relid, AccessShareLock);
	idx = index_open(idxid, AccessShareLock);
	eq_key(&keys[0], idx, 1, attnum_of(relid, "resident"), ResidentIdGetDatum(r));
	eq_key(&keys[1], idx, 2, attnum_of(relid, "institution"), OrgCodePGetDatum(inst));
	index_close(idx, AccessShareLock);
	scan = systable_beginscan(rel, idxid, true, read_snapshot(), 2, keys);
	found = systable_getnext(scan) != NULL;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

PG_FUNCTION_INFO_V1(ehr_can_see_resident);

/*
 * ehr.can_see_resident(resident): the row check of ehr.resident. At most one
 * index probe per distinct resident per query; the answer is kept in the
 * same table as the grants.
 */
Datum
ehr_can_see_resident(PG_FUNCTION_ARGS)
{
	AccessState *s = access_state(fcinfo);
	ResidentId	r = PG_GETARG_RESIDENT_ID(0);
	ResEntry   *e;

	switch (s->actor.kind)
	{
		case EHR_ACTOR_PRACTITIONER:
			e = FILTER_HAS(s, r) ? res_lookup(s, r) : NULL;
			if (e != NULL && (e->break_glass != 0 || e->granted != 0))
				PG_RETURN_BOOL(true);
			if (e == NULL)
				e = res_insert(s, r);
			if (e->care < 0)
				e->care = care_relation(r, &s->actor.institution) ? 1 : 0;
			PG_RETURN_BOOL(e->care == 1);

		case EHR_ACTOR_RESIDENT:
			PG_RETURN_BOOL(r == s->actor.resident);

		default:
			PG_RETURN_BOOL(false);
	}
}

/* ---------------------------------------------------------------- C API */

int64
ehr_grant_create(int64 practitioner, ResidentId resident, int category_mask, const char *via)
{
	Oid			argtypes[5] = {INT8OID, ehr_type_oid("resident_id", false), TEXTOID, TEXTOID, INT4OID};
	Datum		values[5];
	StringInfoData cats;
	Oid			save_uid;
	int			save_ctx;
	int			rc,
				i;
	int64		gid;
	OrgCode		inst;
	EhrAuditEvent ev;
	bool		isnull;

	if ((category_mask & EHR_CAT_ALL) == 0 || (category_mask & ~EHR_CAT_ALL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid category set %d for a grant", category_mask),
				 errdetail("A grant opens at least one of the categories lab, exam, emr, archive.")));
	if (via == NULL || via[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a grant needs the name of the verification that allowed it")));
	initStringInfo(&cats);
	appendStringInfoChar(&cats, '{');
	for (i = 0; i < EHR_N_CATEGORIES; i++)
		if (category_mask & (1 << i))
			appendStringInfo(&cats, "%s%s", cats.len > 1 ? "," : "", ehr_category_labels[i]);
	appendStringInfoChar(&cats, '}');

	values[0] = Int64GetDatum(practitioner);
	values[1] = ResidentIdGetDatum(resident);
	values[2] = CStringGetTextDatum(cats.data);
	values[3] = CStringGetTextDatum(via);
	values[4] = Int32GetDatum(grant_ttl_s);

	GetUserIdAndSecContext(&save_uid, &save_ctx);
	SetUserIdAndSecContext(ehr_owner(), save_ctx | SECURITY_LOCAL_USERID_CHANGE);
	SPI_connect();
	rc = SPI_execute_with_args(
		"INSERT INTO ehr.access_grant (practitioner, institution, resident, categories, via, expires_at) "
		"SELECT p.id, p.institution, $2, $3::pg_catalog.text::ehr.category[], $4, "
		"       pg_catalog.now() OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs => $5) "
		"  FROM ehr.practitioner p "
		" WHERE p.id OPERATOR(pg_catalog.=) $1 AND p.active "
		"RETURNING id, institution",
		5, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "creating a grant failed: SPI code %d", rc);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("practitioner " INT64_FORMAT " does not exist or is not active", practitioner),
				 errdetail("Grants are made only for active practitioners in ehr.practitioner.")));
	gid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	memcpy(inst.data,
		   DatumGetOrgCodeP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull))->data,
		   ORG_CODE_LEN);
	SPI_finish();
	SetUserIdAndSecContext(save_uid, save_ctx);

	memset(&ev, 0, sizeof(ev));
	ev.event = "confirm_ok";
	ev.practitioner = practitioner;
	ev.institution = &inst;
	ev.has_resident = true;
	ev.resident = resident;
	ev.grant_id = gid;
	ev.detail = psprintf("%s via %s", cats.data, via);
	ehr_audit_event(&ev);
	return gid;
}
