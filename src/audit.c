/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  The access log: an append-only table whose rows are chained by SM3
 *	  hashes, the read events of can_access written at commit, and the
 *	  "ehr audit:" server-log lines for what cannot be written.
 *
 * Appending: one writer at a time. The writer takes an exclusive lock (an
 * object lock on the log's pg_class entry, held until its transaction ends), reads the
 * last committed row with a fresh snapshot, and inserts the next row with
 * id = last id + 1 and prev_hash = last hash. Because the lock is held until
 * commit, the next writer sees this row, whatever its isolation level: the
 * chain cannot fork.
 *
 * Reads: can_access notes each permitted cross-institution (or own) read in
 * a per-transaction hash table, once per (actor, resident, category,
 * origin). At PRE_COMMIT of a read-write transaction the notes become
 * access_log rows, in that transaction; in a read-only transaction, on a hot
 * standby, and when the transaction aborts, they become "ehr audit:" lines
 * in the server log instead.
 *
 * Canonical bytes of a row (the input of its hash): for each of id, at,
 * event, actor_role, practitioner, institution, resident, category, origin,
 * grant_id, request_id, detail in that order, a 0 byte for NULL, else a 1
 * byte, a 4-byte big-endian length and the value: int8 and timestamptz as 8
 * big-endian bytes, everything else as its text output (which for these
 * types does not depend on any setting).
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#define LOG_FIELDS 12

static bool access_log_maintenance = false;

/* The prepared INSERT of ehr_audit_event, and the type OIDs it was made for. */
static SPIPlanPtr insert_plan = NULL;
static Oid	insert_plan_org = InvalidOid;
static Oid	insert_plan_res = InvalidOid;

/* A permitted read, noted once per transaction. */
typedef struct ReadKey
{
	int64		practitioner;	/* 0 for a resident actor */
	ResidentId	actor_resident; /* 0 for a practitioner actor */
	ResidentId	resident;
	int32		category_bit;
	char		origin[ORG_CODE_LEN];
	char		pad[2];			/* zeroed: the key is hashed as bytes */
} ReadKey;

typedef struct ReadEntry
{
	ReadKey		key;
	OrgCode		institution;
	int64		grant_id;
	bool		break_glass;
	TimestampTz at;
} ReadEntry;

static HTAB *reads = NULL;
static ReadKey last_read;
static bool last_read_valid = false;
static bool flushing = false;
static bool wrote_this_xact = false;

static void audit_xact_callback(XactEvent event, void *arg);

void
ehr_audit_init(void)
{
	DefineCustomBoolVariable("ehr.access_log_maintenance",
							 "Allows UPDATE, DELETE and TRUNCATE of ehr.access_log (repairs only).",
							 "Every change breaks the hash chain where it is made; ehr.verify_access_log() shows it.",
							 &access_log_maintenance, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	RegisterXactCallback(audit_xact_callback, NULL);
}

/* ---------------------------------------------------------------- canonical bytes */

static void
put_uint32(StringInfo buf, uint32 v)
{
	unsigned char b[4];

	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
	appendBinaryStringInfo(buf, (char *) b, 4);
}

static void
put_field(StringInfo buf, Datum d, bool isnull, Oid typ)
{
	if (isnull)
	{
		appendStringInfoChar(buf, 0);
		return;
	}
	appendStringInfoChar(buf, 1);
	if (typ == INT8OID || typ == TIMESTAMPTZOID)
	{
		uint64		v = (uint64) DatumGetInt64(d);

		put_uint32(buf, 8);
		put_uint32(buf, (uint32) (v >> 32));
		put_uint32(buf, (uint32) v);
	}
	else
	{
		Oid			out;
		bool		varlena;
		char	   *s;

		getTypeOutputInfo(typ, &out, &varlena);
		s = OidOutputFunctionCall(out, d);
		put_uint32(buf, (uint32) strlen(s));
		appendBinaryStringInfo(buf, s, strlen(s));
	}
}

/* hash = SM3(prev || canonical(values)) */
static void
row_hash(const uint8 *prev, const Datum *values, const bool *nulls, const Oid *types, uint8 *out)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, (const char *) prev, EHR_SM3_LEN);
	for (i = 0; i < LOG_FIELDS; i++)
		put_field(&buf, values[i], nulls[i], types[i]);
	ehr_sm3((const uint8 *) buf.data, buf.len, out);
	pfree(buf.data);
}

/* ---------------------------------------------------------------- appending */

int64
ehr_audit_event(const EhrAuditEvent *ev)
{
	Oid			nsp = get_namespace_oid("ehr", false);
	Oid			relid = get_relname_relid("access_log", nsp);
	Oid			idxid = get_relname_relid("access_log_pkey", nsp);
	Oid			org_t = ehr_type_oid("org_code", false),
				res_t = ehr_type_oid("resident_id", false);
	Oid			types[LOG_FIELDS + 2] = {INT8OID, TIMESTAMPTZOID, TEXTOID, NAMEOID, INT8OID, org_t,
	res_t, TEXTOID, org_t, INT8OID, INT8OID, TEXTOID, BYTEAOID, BYTEAOID};
	Datum		values[LOG_FIELDS + 2];
	bool		nulls[LOG_FIELDS + 2];
	char		spi_nulls[LOG_FIELDS + 2];
	uint8		prev[EHR_SM3_LEN];
	uint8		hash[EHR_SM3_LEN];
	int64		id = 0;
	NameData	role;
	char	   *rolename;
	Relation	rel,
				idx;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			save_uid;
	int			save_ctx;
	bytea	   *prevb,
			   *hashb;
	int			i,
				rc;
	bool		pushed = false;

	if (!OidIsValid(relid) || !OidIsValid(idxid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"ehr.access_log\" does not exist"),
				 errhint("Is the ehr extension installed in this database?")));
	if (ev->event == NULL || ev->event[0] == '\0' || strlen(ev->event) > 32)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid access log event name \"%s\"", ev->event ? ev->event : ""),
				 errdetail("Event names are 1 to 32 characters.")));

	GetUserIdAndSecContext(&save_uid, &save_ctx);
	SetUserIdAndSecContext(ehr_owner(), save_ctx | SECURITY_LOCAL_USERID_CHANGE);

	/*
	 * One writer at a time, until this transaction ends: an object lock on
	 * the log's pg_class entry (a tag apart from the relation's own lock, so
	 * readers, autovacuum and DDL are not involved).
	 */
	LockDatabaseObject(RelationRelationId, relid, 0, ExclusiveLock);
	wrote_this_xact = true;

	/* The last committed row (or our own last one), seen with a fresh snapshot. */
	CommandCounterIncrement();
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	memset(prev, 0, sizeof(prev));
	rel = table_open(relid, RowExclusiveLock);
	idx = index_open(idxid, AccessShareLock);
	scan = systable_beginscan_ordered(rel, idx, GetLatestSnapshot(), 0, NULL);
	tup = systable_getnext_ordered(scan, BackwardScanDirection);
	if (tup != NULL)
	{
		bool		isnull;
		bytea	   *h;

		id = DatumGetInt64(heap_getattr(tup, 1, RelationGetDescr(rel), &isnull));
		h = DatumGetByteaPP(heap_getattr(tup, LOG_FIELDS + 2, RelationGetDescr(rel), &isnull));
		if (!isnull && VARSIZE_ANY_EXHDR(h) == EHR_SM3_LEN)
			memcpy(prev, VARDATA_ANY(h), EHR_SM3_LEN);
	}
	systable_endscan_ordered(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, NoLock);

	rolename = GetUserNameFromId(GetSessionUserId(), true);
	namestrcpy(&role, rolename ? rolename : "?");

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(id + 1);
	values[1] = TimestampTzGetDatum(ev->at != 0 ? ev->at : GetCurrentTimestamp());
	values[2] = CStringGetTextDatum(ev->event);
	values[3] = NameGetDatum(&role);
	values[4] = Int64GetDatum(ev->practitioner);
	nulls[4] = ev->practitioner == 0;
	values[5] = ev->institution ? OrgCodePGetDatum(ev->institution) : (Datum) 0;
	nulls[5] = ev->institution == NULL;
	values[6] = ResidentIdGetDatum(ev->resident);
	nulls[6] = !ev->has_resident;
	values[7] = ev->category ? CStringGetTextDatum(ev->category) : (Datum) 0;
	nulls[7] = ev->category == NULL;
	values[8] = ev->origin ? OrgCodePGetDatum(ev->origin) : (Datum) 0;
	nulls[8] = ev->origin == NULL;
	values[9] = Int64GetDatum(ev->grant_id);
	nulls[9] = ev->grant_id == 0;
	values[10] = Int64GetDatum(ev->request_id);
	nulls[10] = ev->request_id == 0;
	values[11] = ev->detail ? CStringGetTextDatum(ev->detail) : (Datum) 0;
	nulls[11] = ev->detail == NULL;

	row_hash(prev, values, nulls, types, hash);
	prevb = palloc(VARHDRSZ + EHR_SM3_LEN);
	SET_VARSIZE(prevb, VARHDRSZ + EHR_SM3_LEN);
	memcpy(VARDATA(prevb), prev, EHR_SM3_LEN);
	hashb = palloc(VARHDRSZ + EHR_SM3_LEN);
	SET_VARSIZE(hashb, VARHDRSZ + EHR_SM3_LEN);
	memcpy(VARDATA(hashb), hash, EHR_SM3_LEN);
	values[12] = PointerGetDatum(prevb);
	values[13] = PointerGetDatum(hashb);
	for (i = 0; i < LOG_FIELDS + 2; i++)
		spi_nulls[i] = nulls[i] ? 'n' : ' ';

	SPI_connect();
	/* planned once per backend (again if the extension was re-created) */
	if (insert_plan == NULL || insert_plan_org != org_t || insert_plan_res != res_t)
	{
		SPIPlanPtr	plan;

		if (insert_plan != NULL)
			SPI_freeplan(insert_plan);
		insert_plan = NULL;
		plan = SPI_prepare(
			"INSERT INTO ehr.access_log (id, at, event, actor_role, practitioner, institution, resident, "
			"  category, origin, grant_id, request_id, detail, prev_hash, hash) "
			"VALUES ($1, $2, $3, $4, $5, $6, $7, $8::pg_catalog.text::ehr.category, $9, $10, $11, $12, $13, $14)",
			LOG_FIELDS + 2, types);
		if (plan == NULL)
			elog(ERROR, "planning the access log insert failed: SPI code %d", SPI_result);
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "keeping the access log insert plan failed");
		insert_plan = plan;
		insert_plan_org = org_t;
		insert_plan_res = res_t;
	}
	rc = SPI_execute_plan(insert_plan, values, spi_nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "appending to ehr.access_log failed: SPI code %d", rc);
	SPI_finish();
	if (pushed)
		PopActiveSnapshot();
	SetUserIdAndSecContext(save_uid, save_ctx);
	return id + 1;
}

PG_FUNCTION_INFO_V1(ehr_audit);

/* ehr._audit(event, practitioner, institution, resident, category, origin, grant, request, detail) */
Datum
ehr_audit(PG_FUNCTION_ARGS)
{
	EhrAuditEvent ev;
	char	   *cat = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("access log event must not be null")));
	memset(&ev, 0, sizeof(ev));
	ev.event = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ev.practitioner = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	ev.institution = PG_ARGISNULL(2) ? NULL : PG_GETARG_ORG_CODE_P(2);
	ev.has_resident = !PG_ARGISNULL(3);
	ev.resident = ev.has_resident ? PG_GETARG_RESIDENT_ID(3) : 0;
	if (!PG_ARGISNULL(4))
	{
		Oid			out;
		bool		varlena;

		getTypeOutputInfo(get_fn_expr_argtype(fcinfo->flinfo, 4), &out, &varlena);
		cat = OidOutputFunctionCall(out, PG_GETARG_DATUM(4));
	}
	ev.category = cat;
	ev.origin = PG_ARGISNULL(5) ? NULL : PG_GETARG_ORG_CODE_P(5);
	ev.grant_id = PG_ARGISNULL(6) ? 0 : PG_GETARG_INT64(6);
	ev.request_id = PG_ARGISNULL(7) ? 0 : PG_GETARG_INT64(7);
	ev.detail = PG_ARGISNULL(8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(8));
	PG_RETURN_INT64(ehr_audit_event(&ev));
}

/* ---------------------------------------------------------------- server-log lines */

void
ehr_audit_log_line(const EhrAuditEvent *ev, const char *why)
{
	char		res[RESIDENT_ID_LEN + 1] = "";
	char		inst[ORG_CODE_LEN + 1] = "";
	char		origin[ORG_CODE_LEN + 1] = "";
	char	   *role = GetUserNameFromId(GetSessionUserId(), true);

	if (ev->has_resident)
		resident_id_to_cstring(ev->resident, res);
	if (ev->institution)
		org_code_to_cstring(ev->institution, inst);
	if (ev->origin)
		org_code_to_cstring(ev->origin, origin);
	ereport(LOG,
			(errmsg("ehr audit: event=%s actor_role=%s practitioner=" INT64_FORMAT " institution=%s resident=%s category=%s origin=%s grant=" INT64_FORMAT " request=" INT64_FORMAT " why=\"%s\" detail=\"%s\"",
					ev->event, role ? role : "?", ev->practitioner, inst, res,
					ev->category ? ev->category : "", origin, ev->grant_id, ev->request_id,
					why, ev->detail ? ev->detail : ""),
			 errhidestmt(true), errhidecontext(true)));
}

/* ---------------------------------------------------------------- read events */

void
ehr_audit_note_read(const EhrActor *actor, ResidentId resident, int category_bit,
					const OrgCode *origin, int64 grant_id, bool break_glass)
{
	ReadKey		key;
	ReadEntry  *e;
	bool		found;

	if (flushing)
		return;
	memset(&key, 0, sizeof(key));
	key.practitioner = actor->kind == EHR_ACTOR_PRACTITIONER ? actor->practitioner : 0;
	key.actor_resident = actor->kind == EHR_ACTOR_RESIDENT ? actor->resident : 0;
	key.resident = resident;
	key.category_bit = category_bit;
	memcpy(key.origin, origin->data, ORG_CODE_LEN);
	/* rows of one resident usually come together: skip the hash then */
	if (last_read_valid && memcmp(&key, &last_read, sizeof(key)) == 0)
		return;

	if (reads == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(ReadKey);
		ctl.entrysize = sizeof(ReadEntry);
		ctl.hcxt = TopTransactionContext;
		reads = hash_create("ehr read events", 8, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(reads, &key, HASH_ENTER, &found);
	if (!found)
	{
		e->institution = actor->institution;
		e->grant_id = grant_id;
		e->break_glass = break_glass;
		e->at = GetCurrentTimestamp();
	}
	last_read = key;
	last_read_valid = true;
}

static void
read_event(const ReadEntry *r, EhrAuditEvent *ev)
{
	int			i;

	memset(ev, 0, sizeof(*ev));
	ev->event = "read";
	ev->practitioner = r->key.practitioner;
	ev->institution = r->key.practitioner != 0 ? &r->institution : NULL;
	ev->has_resident = true;
	ev->resident = r->key.resident;
	for (i = 0; i < EHR_N_CATEGORIES; i++)
		if (r->key.category_bit == (1 << i))
			ev->category = ehr_category_labels[i];
	ev->origin = (const OrgCode *) r->key.origin;
	ev->grant_id = r->grant_id;
	ev->at = r->at;
	ev->detail = r->key.practitioner == 0 ? "own record" :
		r->break_glass ? "break-glass" : "through a grant";
}

static void
reset_reads(void)
{
	reads = NULL;				/* freed with TopTransactionContext */
	last_read_valid = false;
	flushing = false;
	wrote_this_xact = false;
}

static int
read_cmp(const void *a, const void *b)
{
	const ReadEntry *x = *(ReadEntry *const *) a;
	const ReadEntry *y = *(ReadEntry *const *) b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(ReadKey));
}

/* The noted reads in the order they were first made (stable output). */
static ReadEntry **
sorted_reads(long *n)
{
	HASH_SEQ_STATUS st;
	ReadEntry  *r;
	ReadEntry **arr;
	long		i = 0;

	*n = hash_get_num_entries(reads);
	arr = palloc(sizeof(ReadEntry *) * Max(*n, 1));
	hash_seq_init(&st, reads);
	while ((r = hash_seq_search(&st)) != NULL)
		arr[i++] = r;
	qsort(arr, *n, sizeof(ReadEntry *), read_cmp);
	return arr;
}

static void
log_reads(const char *why)
{
	ReadEntry **arr;
	long		n,
				i;

	if (reads == NULL)
		return;
	arr = sorted_reads(&n);
	for (i = 0; i < n; i++)
	{
		EhrAuditEvent ev;

		read_event(arr[i], &ev);
		ehr_audit_log_line(&ev, why);
	}
}

static void
flush_reads(void)
{
	if (reads == NULL && !wrote_this_xact)
		return;
	if (XactReadOnly || RecoveryInProgress() ||
		!OidIsValid(get_namespace_oid("ehr", true)) ||
		!OidIsValid(get_relname_relid("access_log", get_namespace_oid("ehr", true))))
	{
		log_reads(RecoveryInProgress() ? "hot standby" :
				  XactReadOnly ? "read-only transaction" : "no access log in this database");
		reads = NULL;
		return;
	}
	flushing = true;
	PushActiveSnapshot(GetTransactionSnapshot());
	if (reads != NULL)
	{
		long		n,
					i;
		ReadEntry **arr = sorted_reads(&n);

		for (i = 0; i < n; i++)
		{
			EhrAuditEvent ev;

			read_event(arr[i], &ev);
			ehr_audit_event(&ev);
		}
	}
	/* this transaction holds the log: bring in refused confirmations too */
	ehr_authcode_drain_pending();
	PopActiveSnapshot();
	reads = NULL;
	flushing = false;
}

static void
audit_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			flush_reads();
			break;
		case XACT_EVENT_ABORT:
			log_reads("transaction rolled back");
			reset_reads();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			reset_reads();
			break;
		default:
			break;
	}
}

/* ---------------------------------------------------------------- verification */

PG_FUNCTION_INFO_V1(ehr_verify_access_log);

/* ehr.verify_access_log(): id of the first row whose link is broken, or NULL. */
Datum
ehr_verify_access_log(PG_FUNCTION_ARGS)
{
	uint8		prev[EHR_SM3_LEN];
	uint8		hash[EHR_SM3_LEN];
	Oid			save_uid;
	int			save_ctx;
	Portal		portal;
	int64		broken = 0;
	bool		done = false;

	memset(prev, 0, sizeof(prev));
	GetUserIdAndSecContext(&save_uid, &save_ctx);
	SetUserIdAndSecContext(ehr_owner(), save_ctx | SECURITY_LOCAL_USERID_CHANGE);
	SPI_connect();
	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT id, at, event, actor_role, practitioner, institution, resident, "
									   "       category, origin, grant_id, request_id, detail, prev_hash, hash "
									   "  FROM ehr.access_log ORDER BY id",
									   0, NULL, NULL, NULL, true, 0);
	while (!done)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed && !done; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			Datum		values[LOG_FIELDS];
			bool		nulls[LOG_FIELDS];
			Oid			types[LOG_FIELDS];
			bool		isnull;
			bytea	   *ph,
					   *h;
			int			f;

			for (f = 0; f < LOG_FIELDS; f++)
			{
				values[f] = SPI_getbinval(tup, desc, f + 1, &nulls[f]);
				types[f] = SPI_gettypeid(desc, f + 1);
			}
			ph = DatumGetByteaPP(SPI_getbinval(tup, desc, LOG_FIELDS + 1, &isnull));
			h = DatumGetByteaPP(SPI_getbinval(tup, desc, LOG_FIELDS + 2, &isnull));
			row_hash(prev, values, nulls, types, hash);
			if (VARSIZE_ANY_EXHDR(ph) != EHR_SM3_LEN ||
				memcmp(VARDATA_ANY(ph), prev, EHR_SM3_LEN) != 0 ||
				VARSIZE_ANY_EXHDR(h) != EHR_SM3_LEN ||
				memcmp(VARDATA_ANY(h), hash, EHR_SM3_LEN) != 0)
			{
				broken = DatumGetInt64(values[0]);
				done = true;
				break;
			}
			memcpy(prev, VARDATA_ANY(h), EHR_SM3_LEN);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	SetUserIdAndSecContext(save_uid, save_ctx);
	if (broken == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(broken);
}
