/*-------------------------------------------------------------------------
 *
 * authcode.c
 *	  One-time authorization codes: generation (CSPRNG), keyed hashing, and
 *	  the check, with failed attempts counted in shared memory.
 *
 * A counter kept in a table row would be erased by the caller's ROLLBACK,
 * savepoint rollback or exception block, letting a guesser try forever. The
 * counters live in shared memory instead, which no transaction outcome
 * touches; each failure also goes to the server log at once, and into a
 * small shared queue that the next transaction writing the access log
 * drains, so failures reach ehr.access_log even though the failing
 * transaction itself rolls back. Shared memory needs the library in
 * shared_preload_libraries; loaded later, confirm_access says so.
 *
 * A server restart empties the counters; codes live ehr.code_ttl (5 min by
 * default), so a restart gives a guesser at most another
 * ehr.max_code_attempts tries on a code that is about to expire anyway.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#define CODE_SLOTS		4096	/* live requests tracked at once */
#define PENDING_SLOTS	256		/* failures waiting to reach the access log */

typedef struct CodeSlot
{
	Oid			dboid;			/* request ids are per database */
	int64		request;		/* 0: free */
	int32		failures;
	TimestampTz expires;		/* the slot may be reused after this */
} CodeSlot;

typedef struct PendingFailure
{
	Oid			dboid;			/* drained only by a transaction in this database */
	char		event[16];		/* confirm_failed, locked */
	int64		request;
	int64		practitioner;
	ResidentId	resident;
	TimestampTz at;
	char		detail[96];
} PendingFailure;

typedef struct AuthShared
{
	LWLock	   *lock;
	pg_atomic_uint64 consent_gen;	/* bumped whenever grants or switches change */
	int			npending;
	int64		dropped;		/* pending failures lost to a full queue */
	PendingFailure pending[PENDING_SLOTS];
	CodeSlot	slots[CODE_SLOTS];
} AuthShared;

static AuthShared *auth = NULL;
static int	max_code_attempts = 5;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
authcode_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(AuthShared)));
	RequestNamedLWLockTranche("ehr_authcode", 1);
}

static void
authcode_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	auth = ShmemInitStruct("ehr_authcode", sizeof(AuthShared), &found);
	if (!found)
	{
		memset(auth, 0, sizeof(AuthShared));
		auth->lock = &(GetNamedLWLockTranche("ehr_authcode"))->lock;
		pg_atomic_init_u64(&auth->consent_gen, 1);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
ehr_authcode_init(void)
{
	DefineCustomIntVariable("ehr.max_code_attempts",
							"Wrong one-time codes after which an access request is locked.",
							NULL, &max_code_attempts, 5, 1, 100,
							PGC_SUSET, 0, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = authcode_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = authcode_shmem_startup;
}

static void
require_shared_memory(void)
{
	if (auth == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ehr must be loaded through shared_preload_libraries to check authorization codes"),
				 errdetail("Failed attempts are counted in shared memory, where no rollback can erase them; that memory exists only when the library is preloaded."),
				 errhint("Add ehr to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/* The slot of a request (creating it when create), under auth->lock. */
static CodeSlot *
find_slot(int64 request, TimestampTz expires, bool create)
{
	TimestampTz now = GetCurrentTimestamp();
	CodeSlot   *free_slot = NULL;
	int			i;

	for (i = 0; i < CODE_SLOTS; i++)
	{
		CodeSlot   *s = &auth->slots[i];

		if (s->request == request && s->dboid == MyDatabaseId)
			return s;
		if (free_slot == NULL && (s->request == 0 || s->expires < now))
			free_slot = s;
	}
	if (!create)
		return NULL;
	if (free_slot == NULL)
		return NULL;
	free_slot->dboid = MyDatabaseId;
	free_slot->request = request;
	free_slot->failures = 0;
	/* kept a while past expiry, so a locked request still says "locked" */
	free_slot->expires = expires + USECS_PER_SEC * 3600;
	return free_slot;
}

static void
queue_failure(const char *event, int64 request, int64 practitioner, ResidentId resident,
			  const char *detail)
{
	PendingFailure *p;

	/* caller holds auth->lock exclusively */
	if (auth->npending >= PENDING_SLOTS)
	{
		auth->dropped++;
		return;
	}
	p = &auth->pending[auth->npending++];
	p->dboid = MyDatabaseId;
	strlcpy(p->event, event, sizeof(p->event));
	p->request = request;
	p->practitioner = practitioner;
	p->resident = resident;
	p->at = GetCurrentTimestamp();
	strlcpy(p->detail, detail, sizeof(p->detail));
}

/* Log a refused confirmation to the server log and queue it for the access log. */
static void
record_failure(const char *event, int64 request, int64 practitioner, ResidentId resident,
			   const char *detail)
{
	EhrAuditEvent ev;

	memset(&ev, 0, sizeof(ev));
	ev.event = event;
	ev.practitioner = practitioner;
	ev.has_resident = true;
	ev.resident = resident;
	ev.request_id = request;
	ev.detail = detail;
	ehr_audit_log_line(&ev, "refused confirmation");
	if (auth != NULL)
	{
		LWLockAcquire(auth->lock, LW_EXCLUSIVE);
		queue_failure(event, request, practitioner, resident, detail);
		LWLockRelease(auth->lock);
	}
}

void
ehr_authcode_drain_pending(void)
{
	PendingFailure local[PENDING_SLOTS];
	int			n,
				i,
				j;
	int64		dropped;

	if (auth == NULL)
		return;
	/* take this database's entries, keep the others in order */
	LWLockAcquire(auth->lock, LW_EXCLUSIVE);
	n = 0;
	for (i = 0, j = 0; i < auth->npending; i++)
	{
		if (auth->pending[i].dboid == MyDatabaseId)
			local[n++] = auth->pending[i];
		else
			auth->pending[j++] = auth->pending[i];
	}
	auth->npending = j;
	dropped = auth->dropped;
	auth->dropped = 0;
	LWLockRelease(auth->lock);

	for (i = 0; i < n; i++)
	{
		EhrAuditEvent ev;

		memset(&ev, 0, sizeof(ev));
		ev.event = local[i].event;
		ev.practitioner = local[i].practitioner;
		ev.has_resident = true;
		ev.resident = local[i].resident;
		ev.request_id = local[i].request;
		ev.detail = local[i].detail;
		ev.at = local[i].at;
		ehr_audit_event(&ev);
	}
	if (dropped > 0)
	{
		EhrAuditEvent ev;

		memset(&ev, 0, sizeof(ev));
		ev.event = "confirm_failed";
		ev.detail = psprintf(INT64_FORMAT " refused confirmations not queued (queue full); see the server log", dropped);
		ehr_audit_event(&ev);
	}
}

PG_FUNCTION_INFO_V1(ehr_new_code);

/* ehr._new_code(): six decimal digits, uniform (rejection sampling). */
Datum
ehr_new_code(PG_FUNCTION_ARGS)
{
	uint32		v;
	char		buf[8];

	do
	{
		ehr_random_bytes((uint8 *) &v, sizeof(v));
	} while (v >= ((uint32) 4294000000U));	/* a multiple of 10^6 */
	snprintf(buf, sizeof(buf), "%06u", v % 1000000);
	ehr_wipe(&v, sizeof(v));
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}

/* HMAC-SM3 under key access_code of "<request>:<code>". */
static void
code_mac(FmgrInfo *flinfo, int64 request, text *code, uint8 *out)
{
	const EhrKey *key;
	EhrKey		local;
	StringInfoData msg;

	initStringInfo(&msg);
	appendStringInfo(&msg, INT64_FORMAT ":", request);
	appendBinaryStringInfo(&msg, VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code));
	if (flinfo != NULL)
		key = ehr_keyring_cached(flinfo, "access_code");
	else
	{
		ehr_keyring_get("access_code", &local);
		key = &local;
	}
	ehr_hmac_sm3(key->bytes, key->len, (const uint8 *) msg.data, msg.len, out);
	if (key == &local)
		ehr_wipe(&local, sizeof(local));
	ehr_wipe(msg.data, msg.len);
	pfree(msg.data);
}

PG_FUNCTION_INFO_V1(ehr_code_hash);

Datum
ehr_code_hash(PG_FUNCTION_ARGS)
{
	bytea	   *res = palloc(VARHDRSZ + EHR_SM3_LEN);

	SET_VARSIZE(res, VARHDRSZ + EHR_SM3_LEN);
	code_mac(NULL, PG_GETARG_INT64(0), PG_GETARG_TEXT_PP(1), (uint8 *) VARDATA(res));
	PG_RETURN_BYTEA_P(res);
}

PG_FUNCTION_INFO_V1(ehr_check_code);

/*
 * ehr._check_code(request, practitioner, resident, code, code_hash,
 * expires_at, used): returns when the code is right, else counts, logs and
 * raises. Order: locked, used, expired, then the comparison, so a locked
 * request fails even with the right code and an expired code is never
 * compared.
 */
Datum
ehr_check_code(PG_FUNCTION_ARGS)
{
	int64		request = PG_GETARG_INT64(0);
	int64		practitioner = PG_GETARG_INT64(1);
	ResidentId	resident = PG_GETARG_RESIDENT_ID(2);
	text	   *code = PG_GETARG_TEXT_PP(3);
	bytea	   *stored = PG_GETARG_BYTEA_PP(4);
	TimestampTz expires = PG_GETARG_TIMESTAMPTZ(5);
	bool		used = PG_GETARG_BOOL(6);
	uint8		mac[EHR_SM3_LEN];
	CodeSlot   *slot;
	int32		failures;
	bool		ok;
	char		detail[96];

	require_shared_memory();

	LWLockAcquire(auth->lock, LW_SHARED);
	slot = find_slot(request, expires, false);
	failures = slot ? slot->failures : 0;
	LWLockRelease(auth->lock);

	if (failures >= max_code_attempts)
	{
		snprintf(detail, sizeof(detail), "request locked after %d wrong codes", failures);
		record_failure("confirm_failed", request, practitioner, resident, detail);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("access request " INT64_FORMAT " is locked", request),
				 errdetail("%d wrong codes were entered; the request can no longer be confirmed, even with the right code.", failures),
				 errhint("Ask for a new code with ehr.request_access.")));
	}
	if (used)
	{
		record_failure("confirm_failed", request, practitioner, resident, "code already used");
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("the code of access request " INT64_FORMAT " has already been used", request),
				 errdetail("A one-time code grants access once; seeing the records again needs a new request.")));
	}
	if (GetCurrentTimestamp() >= expires)
	{
		record_failure("confirm_failed", request, practitioner, resident, "code expired");
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("the code of access request " INT64_FORMAT " has expired", request),
				 errdetail("A code is valid for ehr.code_ttl after it is sent."),
				 errhint("Ask for a new code with ehr.request_access.")));
	}

	code_mac(fcinfo->flinfo, request, code, mac);
	ok = VARSIZE_ANY_EXHDR(stored) == EHR_SM3_LEN &&
		ehr_const_time_equal(mac, VARDATA_ANY(stored), EHR_SM3_LEN);
	ehr_wipe(mac, sizeof(mac));
	if (ok)
		PG_RETURN_VOID();

	/* Count first, where no rollback reaches; then log; then raise. */
	LWLockAcquire(auth->lock, LW_EXCLUSIVE);
	slot = find_slot(request, expires, true);
	if (slot == NULL)
		failures = max_code_attempts;	/* no room to count: fail closed */
	else
		failures = ++slot->failures;
	LWLockRelease(auth->lock);

	snprintf(detail, sizeof(detail), "wrong code (%d of %d)", failures, max_code_attempts);
	record_failure("confirm_failed", request, practitioner, resident, detail);
	if (failures >= max_code_attempts)
	{
		record_failure("locked", request, practitioner, resident, "too many wrong codes");
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("wrong code for access request " INT64_FORMAT "; the request is now locked", request),
				 errdetail("%d wrong codes were entered (ehr.max_code_attempts is %d).", failures, max_code_attempts),
				 errhint("Ask for a new code with ehr.request_access.")));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("wrong code for access request " INT64_FORMAT, request),
			 errdetail("%d of %d attempts used; the request locks when none are left.",
					   failures, max_code_attempts)));
	PG_RETURN_VOID();			/* not reached */
}

PG_FUNCTION_INFO_V1(ehr_code_refused);

/* ehr._code_refused(request, practitioner, resident, why): log a refusal. */
Datum
ehr_code_refused(PG_FUNCTION_ARGS)
{
	char	   *why = text_to_cstring(PG_GETARG_TEXT_PP(3));

	record_failure("confirm_failed", PG_GETARG_INT64(0), PG_GETARG_INT64(1),
				   PG_GETARG_RESIDENT_ID(2), why);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ehr_code_attempts);

/* ehr.code_attempts(request): wrong codes counted so far. */
Datum
ehr_code_attempts(PG_FUNCTION_ARGS)
{
	int64		request = PG_GETARG_INT64(0);
	CodeSlot   *slot;
	int32		failures;

	require_shared_memory();
	LWLockAcquire(auth->lock, LW_SHARED);
	slot = find_slot(request, 0, false);
	failures = slot ? slot->failures : 0;
	LWLockRelease(auth->lock);
	PG_RETURN_INT32(failures);
}

/*
 * The consent generation: a counter in shared memory that every change to
 * ehr.access_grant or ehr.sharing bumps (src/consent.c), so a backend can
 * tell whether grants it loaded earlier are still current. False when the
 * library is not preloaded (no shared memory: nothing may be cached).
 */
bool
ehr_consent_generation(uint64 *gen)
{
	if (auth == NULL)
		return false;
	*gen = pg_atomic_read_u64(&auth->consent_gen);
	return true;
}

void
ehr_consent_bump(void)
{
	if (auth != NULL)
		pg_atomic_fetch_add_u64(&auth->consent_gen, 1);
}
