/*-------------------------------------------------------------------------
 *
 * keyring.c
 *	  Key material for the keyed functions: read from ehr.keyring, rotated
 *	  from the CSPRNG, loaded from a server-side file.
 *
 * ehr.keyring grants nothing to anyone: the C code reads it with a direct
 * heap scan, which checks no SQL privilege, so the right to *use* a key is
 * exactly the EXECUTE right on the function that uses it, and no role can
 * *read* a key except the extension's owner. Keys never travel through SQL
 * text: rotate_key draws them from the CSPRNG inside the server and
 * load_key reads them from a file only a superuser can name.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include <sys/stat.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* The keys the extension knows, with their length in bytes and their use. */
typedef struct KnownKey
{
	const char *name;
	int			len;
} KnownKey;

static const KnownKey known_keys[] = {
	{"access_code", 32},		/* HMAC-SM3 of one-time authorization codes */
	{"access_log", 32},			/* reserved: keyed audit digests */
	{"pseudonym", 32},			/* HMAC-SM3 pseudonyms */
	{"date_shift", 32},			/* HMAC-SM3 per-resident date offsets */
	{"ehc_root", 16},			/* SM4 root key of health card IDs */
	{"ehc_index", 32},			/* HMAC-SM3 key of the card main index */
	{"ehc_protect", 16},		/* SM4 protection key of dynamic QR codes */
};

static const KnownKey *
known_key(const char *name)
{
	int			i;
	StringInfoData names;

	for (i = 0; i < lengthof(known_keys); i++)
		if (strcmp(known_keys[i].name, name) == 0)
			return &known_keys[i];

	initStringInfo(&names);
	for (i = 0; i < lengthof(known_keys); i++)
		appendStringInfo(&names, "%s%s", i ? ", " : "", known_keys[i].name);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown key name \"%s\"", name),
			 errdetail("Known keys are: %s.", names.data)));
	return NULL;				/* keep compiler quiet */
}

static Oid
keyring_relid(void)
{
	Oid			nsp = get_namespace_oid("ehr", false);
	Oid			relid = get_relname_relid("keyring", nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"ehr.keyring\" does not exist"),
				 errhint("Is the ehr extension installed in this database?")));
	return relid;
}

void
ehr_keyring_get(const char *name, EhrKey *key)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;
	bool		found = false;
	bool		pushed = false;

	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	snap = GetActiveSnapshot();

	/* A handful of rows: a filtered heap scan needs no index or collation. */
	rel = table_open(keyring_relid(), AccessShareLock);
	scan = table_beginscan(rel, snap, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull);
		text	   *t;

		if (isnull)
			continue;
		t = DatumGetTextPP(d);
		if (VARSIZE_ANY_EXHDR(t) == strlen(name) &&
			memcmp(VARDATA_ANY(t), name, strlen(name)) == 0)
		{
			bytea	   *b;

			d = heap_getattr(tup, 2, RelationGetDescr(rel), &isnull);
			if (isnull)
				break;
			b = DatumGetByteaPP(d);
			if (VARSIZE_ANY_EXHDR(b) == 0 || VARSIZE_ANY_EXHDR(b) > EHR_KEY_MAX_LEN)
				break;
			key->len = VARSIZE_ANY_EXHDR(b);
			memcpy(key->bytes, VARDATA_ANY(b), key->len);
			found = true;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	if (pushed)
		PopActiveSnapshot();

	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("key \"%s\" is missing from ehr.keyring", name),
				 errhint("An ehr_admin can create it with ehr.rotate_key('%s').", name)));
}

static void
wipe_cached_key(void *arg)
{
	ehr_wipe(arg, sizeof(EhrKey));
}

const EhrKey *
ehr_keyring_cached(FmgrInfo *flinfo, const char *name)
{
	EhrKey	   *key = (EhrKey *) flinfo->fn_extra;

	if (key == NULL)
	{
		MemoryContextCallback *cb;

		key = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(EhrKey));
		ehr_keyring_get(name, key);
		/* Scrub the cached copy when the query's memory goes away. */
		cb = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(MemoryContextCallback));
		cb->func = wipe_cached_key;
		cb->arg = key;
		MemoryContextRegisterResetCallback(flinfo->fn_mcxt, cb);
		flinfo->fn_extra = key;
	}
	return key;
}

/* Insert or replace one key through SPI; the caller runs as the owner. */
static void
keyring_store(const char *name, const uint8 *bytes, int len)
{
	Oid			argtypes[2] = {TEXTOID, BYTEAOID};
	Datum		values[2];
	bytea	   *b = palloc(VARHDRSZ + len);
	int			rc;

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), bytes, len);
	values[0] = CStringGetTextDatum(name);
	values[1] = PointerGetDatum(b);

	SPI_connect();
	rc = SPI_execute_with_args("INSERT INTO ehr.keyring AS k (name, key, created_at) "
							   "VALUES ($1, $2, pg_catalog.now()) "
							   "ON CONFLICT (name) DO UPDATE "
							   "SET key = EXCLUDED.key, created_at = EXCLUDED.created_at",
							   2, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "storing key \"%s\" failed: SPI code %d", name, rc);
	SPI_finish();
	ehr_wipe(VARDATA(b), len);
	pfree(b);
}

PG_FUNCTION_INFO_V1(ehr_rotate_key);

/*
 * ehr.rotate_key(name): a fresh key from the CSPRNG. Declared SECURITY
 * DEFINER (the owner writes the keyring) and granted to ehr_admin only.
 */
Datum
ehr_rotate_key(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const KnownKey *k = known_key(name);
	uint8		bytes[EHR_KEY_MAX_LEN];

	ehr_random_bytes(bytes, k->len);
	keyring_store(k->name, bytes, k->len);
	ehr_wipe(bytes, sizeof(bytes));
	PG_RETURN_VOID();
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the file's content into out: either exactly len raw bytes, or 2*len
 * hex digits with surrounding whitespace. Returns false otherwise.
 */
static bool
decode_key_file(const uint8 *buf, size_t n, uint8 *out, int len)
{
	size_t		start = 0;
	size_t		end = n;
	int			i;

	if (n == (size_t) len)
	{
		memcpy(out, buf, len);
		return true;
	}
	while (start < end && isspace(buf[start]))
		start++;
	while (end > start && isspace(buf[end - 1]))
		end--;
	if (end - start != (size_t) len * 2)
		return false;
	for (i = 0; i < len; i++)
	{
		int			hi = hexval(buf[start + 2 * i]);
		int			lo = hexval(buf[start + 2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8) (hi << 4 | lo);
	}
	return true;
}

PG_FUNCTION_INFO_V1(ehr_load_key);

/*
 * ehr.load_key(name, path): a key a superuser provides in a server-side file,
 * so the key bytes never appear in SQL text, pg_stat_activity or the log.
 */
Datum
ehr_load_key(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	const KnownKey *k;
	uint8		buf[4 * EHR_KEY_MAX_LEN + 2];
	uint8		key[EHR_KEY_MAX_LEN];
	FILE	   *f;
	size_t		n;
	bool		ok;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to load key \"%s\"", name),
				 errdetail("Only superusers may load keys from server files.")));
	k = known_key(name);

	f = AllocateFile(path, PG_BINARY_R);
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open key file \"%s\": %m", path)));
	n = fread(buf, 1, sizeof(buf), f);
	FreeFile(f);

	ok = decode_key_file(buf, n, key, k->len);
	ehr_wipe(buf, sizeof(buf));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key file \"%s\" does not hold a key for \"%s\"", path, name),
				 errdetail("The file must hold exactly %d raw bytes or %d hexadecimal digits.",
						   k->len, 2 * k->len)));
	keyring_store(k->name, key, k->len);
	ehr_wipe(key, sizeof(key));
	PG_RETURN_VOID();
}
