/*-------------------------------------------------------------------------
 *
 * health_card.c
 *	  Electronic health card (电子健康卡): card IDs by the national SM4
 *	  derivation, the card's main index, and the static and dynamic QR
 *	  payloads.
 *
 * Card ID, as the national specification publishes it (the vector in
 * docs/health-card.md and sql/health_card.sql):
 *
 *	  factor   = G1 XOR G2 XOR G3 XOR G4, the four 8-byte groups of the
 *				 32-byte main index (64 hex characters)
 *	  user key = SM4-ECB(ehc_root, factor || NOT factor)
 *	  card ID  = SM4-ECB(user key, id_type || id_number, zero-padded to a
 *				 multiple of 16 bytes), upper-case hex
 *
 * The card ID is a pseudonym under key custody: whoever holds ehc_root and
 * the main index decrypts it back to the identity number.
 *
 * The main index is this project's choice (the national derivation is not
 * public): HMAC-SM3 keyed by ehc_index over id_type || id_number.
 *
 * QR payloads: static "<card ID>:<static type>", dynamic "<card ID>:<dynamic
 * type>:<validity>", validity = hex of SM4-ECB(ehc_protect, expiry time
 * YYYYMMDDHHMMSS read as hex nibbles, zero-padded to 16 bytes). The type
 * numbers could not be confirmed from the national text: they live in the two
 * macros below and nowhere else (SQL reaches them through these functions).
 *
 * Also here, because they need C: the SMS verification codes of static codes
 * (CSPRNG, keyed hash, constant-time compare, wrong tries counted in shared
 * memory where no rollback reaches), the queue that brings refusals into the
 * access log although their own error rolls their row back, and the thin
 * wrappers over the consent capability's access log and grants. The tables,
 * the checks in their order and the roles are in sql/parts/70-health-card.sql.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

/*
 * QR payload type field. UNCONFIRMED: the national numbering of this field
 * could not be checked against the specification text; change it here only.
 */
#define EHC_TYPE_STATIC		'1'
#define EHC_TYPE_DYNAMIC	'2'

/* The expiry time in the validity block is China Standard Time (UTC+8, no DST). */
#define EHC_TZ_OFFSET_SECS	(8 * SECS_PER_HOUR)

#define EHC_MAIN_INDEX_HEX	64
#define EHC_ID_TYPE_LEN		2
/* id_type || id_number fits in two SM4 blocks: card IDs are 32 or 64 hex. */
#define EHC_IDENT_MAX		(2 * EHR_SM4_BLOCK)
#define EHC_CARD_HEX_MAX	(2 * EHC_IDENT_MAX)
#define EHC_VALIDITY_HEX	(2 * EHR_SM4_BLOCK)
/* YYYYMMDDHHMMSS as nibbles: 14 digits in 7 bytes. */
#define EHC_TIME_BYTES		7

/* ehr.health_code_ttl: lifetime of a dynamic QR payload, in seconds. */
int			ehr_health_code_ttl = 60;

/*
 * Wrong SMS verification codes are counted in shared memory: a counter in a
 * table row would be undone by the caller's ROLLBACK (or savepoint, or the
 * very error that reports the wrong code). A ring of slots keyed by
 * verification id; a verification older than the ring is long superseded,
 * since only a card's newest verification is accepted.
 */
#define EHC_MAX_TRIES		5
#define EHC_TRY_SLOTS		4096

typedef struct EhcTrySlot
{
	Oid			dboid;			/* verification ids are per database */
	int64		verification;
	int			tries;
} EhcTrySlot;

/*
 * Refusals waiting for the access log. A refusal is an ERROR, which rolls back
 * any row written for it; so it is queued here (and written to the server log
 * at once), and the next successful health card call in the same database
 * writes it to ehr.access_log. An entry is claimed by the writing transaction
 * and removed only when that transaction commits; an abort releases it.
 */
#define EHC_PENDING_SLOTS	256

typedef struct EhcPending
{
	Oid			dboid;
	int			claimed_by;		/* pid of the writing backend, 0 = free to take */
	SubTransactionId claimed_in;
	int64		practitioner;
	int64		request;
	bool		has_resident;
	ResidentId	resident;
	TimestampTz at;
	char		detail[200];
} EhcPending;

typedef struct EhcTryShared
{
	LWLock	   *lock;
	uint32		next;
	EhcTrySlot	slots[EHC_TRY_SLOTS];
	int			npending;
	int64		dropped;		/* refusals lost to a full queue (server log has them) */
	EhcPending	pending[EHC_PENDING_SLOTS];
} EhcTryShared;

static EhcTryShared *ehc_tries = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
ehc_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(EhcTryShared)));
	RequestNamedLWLockTranche("ehr_health_card", 1);
}

static void
ehc_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ehc_tries = ShmemInitStruct("ehr_health_card_tries", sizeof(EhcTryShared), &found);
	if (!found)
	{
		memset(ehc_tries, 0, sizeof(EhcTryShared));
		ehc_tries->lock = &(GetNamedLWLockTranche("ehr_health_card"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
ehr_health_card_init(void)
{
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = ehc_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = ehc_shmem_startup;
	}

	DefineCustomIntVariable("ehr.health_code_ttl",
							"Lifetime of a dynamic health card QR code, in seconds.",
							"ehr.issue_health_code() sets the expiry of each dynamic "
							"payload this many seconds after the statement started.",
							&ehr_health_code_ttl,
							60, 1, 86400,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}

static const char hexdigits[] = "0123456789ABCDEF";

static void
ehc_hex_encode(const uint8 *in, int len, char *out)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0xF];
	}
	out[2 * len] = '\0';
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode len hex characters (len even); false on any non-hex character. */
static bool
ehc_hex_decode(const char *in, int len, uint8 *out)
{
	int			i;

	for (i = 0; i < len / 2; i++)
	{
		int			hi = hex_nibble(in[2 * i]);
		int			lo = hex_nibble(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8) (hi << 4 | lo);
	}
	return true;
}

/* A card ID: 32 or 64 hex characters (one or two SM4 blocks). */
static bool
card_id_wellformed(const char *s, int len)
{
	int			i;

	if (len != 2 * EHR_SM4_BLOCK && len != EHC_CARD_HEX_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (hex_nibble(s[i]) < 0)
			return false;
	return true;
}

/* user key = SM4-ECB(root, factor || NOT factor), factor = XOR of the 8-byte groups. */
static void
derive_user_key(const EhrKey *root, const uint8 *main_index, uint8 *user_key)
{
	uint8		block[EHR_SM4_BLOCK];
	int			i;

	if (root->len != EHR_SM4_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key \"ehc_root\" has %d bytes", root->len),
				 errdetail("The health card root key is an SM4 key of 16 bytes.")));
	for (i = 0; i < 8; i++)
	{
		block[i] = main_index[i] ^ main_index[8 + i] ^
			main_index[16 + i] ^ main_index[24 + i];
		block[8 + i] = (uint8) ~block[i];
	}
	ehr_sm4_ecb(true, root->bytes, block, EHR_SM4_BLOCK, user_key);
	ehr_wipe(block, sizeof(block));
}

static void
parse_main_index(text *t, uint8 *out)
{
	char	   *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len != EHC_MAIN_INDEX_HEX || !ehc_hex_decode(s, len, out))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid health card main index: \"%s\"", text_to_cstring(t)),
				 errdetail("A main index is 64 hexadecimal characters (32 bytes).")));
}

static void
check_id_type(text *t)
{
	char	   *s = VARDATA_ANY(t);

	if (VARSIZE_ANY_EXHDR(t) != EHC_ID_TYPE_LEN ||
		!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid health card id_type: \"%s\"", text_to_cstring(t)),
				 errdetail("An identity document type is two digits, such as 01 for the resident identity card.")));
}

static void
check_id_number(text *t)
{
	char	   *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	int			i;

	if (len < 1 || len > EHC_IDENT_MAX - EHC_ID_TYPE_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid health card id_number: \"%s\"", text_to_cstring(t)),
				 errdetail("An identity number has 1 to %d characters.",
						   EHC_IDENT_MAX - EHC_ID_TYPE_LEN)));
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7E)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid health card id_number: \"%s\"", text_to_cstring(t)),
					 errdetail("An identity number consists of printable ASCII characters without spaces.")));
}

PG_FUNCTION_INFO_V1(ehr_health_card_id);

/* ehr.health_card_id(id_type, id_number, main_index): the national derivation. */
Datum
ehr_health_card_id(PG_FUNCTION_ARGS)
{
	text	   *id_type = PG_GETARG_TEXT_PP(0);
	text	   *id_number = PG_GETARG_TEXT_PP(1);
	text	   *main_index_t = PG_GETARG_TEXT_PP(2);
	const EhrKey *root;
	uint8		main_index[EHC_MAIN_INDEX_HEX / 2];
	uint8		user_key[EHR_SM4_KEY_LEN];
	uint8		plain[EHC_IDENT_MAX];
	uint8		cipher[EHC_IDENT_MAX];
	char		hex[EHC_CARD_HEX_MAX + 1];
	int			nlen;
	int			padded;

	check_id_type(id_type);
	check_id_number(id_number);
	parse_main_index(main_index_t, main_index);
	root = ehr_keyring_cached(fcinfo->flinfo, "ehc_root");

	nlen = VARSIZE_ANY_EXHDR(id_number);
	memset(plain, 0, sizeof(plain));
	memcpy(plain, VARDATA_ANY(id_type), EHC_ID_TYPE_LEN);
	memcpy(plain + EHC_ID_TYPE_LEN, VARDATA_ANY(id_number), nlen);
	padded = (EHC_ID_TYPE_LEN + nlen + EHR_SM4_BLOCK - 1) / EHR_SM4_BLOCK * EHR_SM4_BLOCK;

	derive_user_key(root, main_index, user_key);
	ehr_sm4_ecb(true, user_key, plain, padded, cipher);
	ehr_wipe(user_key, sizeof(user_key));
	ehr_wipe(plain, sizeof(plain));

	ehc_hex_encode(cipher, padded, hex);
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}

PG_FUNCTION_INFO_V1(ehr_health_card_identity);

/*
 * ehr.health_card_identity(card_id, main_index) → (id_type, id_number): the
 * card ID decrypted back. A card ID that does not decrypt to two digits and
 * printable characters followed by zero padding was not made with these keys
 * and this main index.
 */
Datum
ehr_health_card_identity(PG_FUNCTION_ARGS)
{
	text	   *card_t = PG_GETARG_TEXT_PP(0);
	text	   *main_index_t = PG_GETARG_TEXT_PP(1);
	char	   *card = VARDATA_ANY(card_t);
	int			clen = VARSIZE_ANY_EXHDR(card_t);
	const EhrKey *root;
	uint8		main_index[EHC_MAIN_INDEX_HEX / 2];
	uint8		user_key[EHR_SM4_KEY_LEN];
	uint8		cipher[EHC_IDENT_MAX];
	uint8		plain[EHC_IDENT_MAX + 1];
	int			plen;
	int			end;
	int			i;
	bool		ok;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (!card_id_wellformed(card, clen))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid health card ID: \"%s\"", text_to_cstring(card_t)),
				 errdetail("A card ID is 32 or 64 hexadecimal characters.")));
	parse_main_index(main_index_t, main_index);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	root = ehr_keyring_cached(fcinfo->flinfo, "ehc_root");

	plen = clen / 2;
	ehc_hex_decode(card, clen, cipher);
	derive_user_key(root, main_index, user_key);
	ehr_sm4_ecb(false, user_key, cipher, plen, plain);
	ehr_wipe(user_key, sizeof(user_key));
	plain[plen] = '\0';

	/* identity, then zero padding only, within the last block */
	end = plen;
	while (end > 0 && plain[end - 1] == 0)
		end--;
	ok = end > EHC_ID_TYPE_LEN && plen - end < EHR_SM4_BLOCK &&
		isdigit(plain[0]) && isdigit(plain[1]);
	for (i = EHC_ID_TYPE_LEN; ok && i < end; i++)
		ok = plain[i] >= 0x21 && plain[i] <= 0x7E;
	if (!ok)
	{
		ehr_wipe(plain, sizeof(plain));
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("health card ID \"%s\" does not decrypt under this main index",
						text_to_cstring(card_t)),
				 errdetail("The card ID was not derived from this main index with this platform's root key.")));
	}

	values[0] = PointerGetDatum(cstring_to_text_with_len((char *) plain, EHC_ID_TYPE_LEN));
	values[1] = PointerGetDatum(cstring_to_text_with_len((char *) plain + EHC_ID_TYPE_LEN,
														 end - EHC_ID_TYPE_LEN));
	ehr_wipe(plain, sizeof(plain));
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(ehr_health_card_main_index);

/*
 * ehr._health_card_main_index(id_type, id_number): HMAC-SM3 keyed by
 * ehc_index over id_type || id_number, upper-case hex (this project's choice;
 * id_type has a fixed width, so the concatenation is unambiguous).
 */
Datum
ehr_health_card_main_index(PG_FUNCTION_ARGS)
{
	text	   *id_type = PG_GETARG_TEXT_PP(0);
	text	   *id_number = PG_GETARG_TEXT_PP(1);
	const EhrKey *key;
	uint8		msg[EHC_IDENT_MAX];
	uint8		mac[EHR_SM3_LEN];
	char		hex[2 * EHR_SM3_LEN + 1];
	int			nlen;

	check_id_type(id_type);
	check_id_number(id_number);
	key = ehr_keyring_cached(fcinfo->flinfo, "ehc_index");

	nlen = VARSIZE_ANY_EXHDR(id_number);
	memcpy(msg, VARDATA_ANY(id_type), EHC_ID_TYPE_LEN);
	memcpy(msg + EHC_ID_TYPE_LEN, VARDATA_ANY(id_number), nlen);
	ehr_hmac_sm3(key->bytes, key->len, msg, EHC_ID_TYPE_LEN + nlen, mac);
	ehr_wipe(msg, sizeof(msg));

	ehc_hex_encode(mac, EHR_SM3_LEN, hex);
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}

/* ---- QR payloads ---- */

static char *
checked_card_id(text *t)
{
	char	   *s = text_to_cstring(t);
	int			i;

	if (!card_id_wellformed(s, strlen(s)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid health card ID: \"%s\"", s),
				 errdetail("A card ID is 32 or 64 hexadecimal characters.")));
	for (i = 0; s[i]; i++)
		s[i] = pg_ascii_toupper((unsigned char) s[i]);
	return s;
}

PG_FUNCTION_INFO_V1(ehr_health_code_static);

/* ehr._health_code_static(card_id): the static QR payload of a card. */
Datum
ehr_health_code_static(PG_FUNCTION_ARGS)
{
	char	   *card = checked_card_id(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s:%c", card, EHC_TYPE_STATIC)));
}

PG_FUNCTION_INFO_V1(ehr_health_code_expiry);

/*
 * ehr._health_code_expiry(): the expiry of a dynamic code issued now,
 * statement start + ehr.health_code_ttl, truncated to the second the
 * validity block can carry (so a code never lives longer than the TTL).
 */
Datum
ehr_health_code_expiry(PG_FUNCTION_ARGS)
{
	TimestampTz ts = GetCurrentStatementStartTimestamp() +
		(int64) ehr_health_code_ttl * USECS_PER_SEC;

	ts -= ts % USECS_PER_SEC;
	if (ts < 0)
		ts -= USECS_PER_SEC;	/* floor before 2000 (cannot happen now) */
	PG_RETURN_TIMESTAMPTZ(ts);
}

PG_FUNCTION_INFO_V1(ehr_health_code_dynamic);

/*
 * ehr._health_code_dynamic(card_id, expires): the dynamic QR payload. The
 * expiry, in China Standard Time to the second, is written as the digits
 * YYYYMMDDHHMMSS read as hex nibbles (7 bytes), zero-padded to one SM4 block
 * and encrypted under ehc_protect.
 */
Datum
ehr_health_code_dynamic(PG_FUNCTION_ARGS)
{
	char	   *card = checked_card_id(PG_GETARG_TEXT_PP(0));
	TimestampTz expires = PG_GETARG_TIMESTAMPTZ(1);
	const EhrKey *key;
	struct pg_tm tm;
	fsec_t		fsec;
	char		digits[32];
	uint8		block[EHR_SM4_BLOCK];
	uint8		cipher[EHR_SM4_BLOCK];
	char		hex[EHC_VALIDITY_HEX + 1];
	int			i;

	if (TIMESTAMP_NOT_FINITE(expires) ||
		timestamp2tm(expires + (int64) EHC_TZ_OFFSET_SECS * USECS_PER_SEC,
					 NULL, &tm, &fsec, NULL, NULL) != 0 ||
		tm.tm_year < 1 || tm.tm_year > 9999)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("health code expiry out of range"),
				 errdetail("The validity block carries a year from 1 to 9999.")));
	key = ehr_keyring_cached(fcinfo->flinfo, "ehc_protect");
	if (key->len != EHR_SM4_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key \"ehc_protect\" has %d bytes", key->len),
				 errdetail("The health code protection key is an SM4 key of 16 bytes.")));

	snprintf(digits, sizeof(digits), "%04d%02d%02d%02d%02d%02d",
			 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memset(block, 0, sizeof(block));
	for (i = 0; i < EHC_TIME_BYTES; i++)
		block[i] = (uint8) ((digits[2 * i] - '0') << 4 | (digits[2 * i + 1] - '0'));
	ehr_sm4_ecb(true, key->bytes, block, EHR_SM4_BLOCK, cipher);
	ehc_hex_encode(cipher, EHR_SM4_BLOCK, hex);

	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s:%c:%s", card, EHC_TYPE_DYNAMIC, hex)));
}

/*
 * Decrypt a validity block; false when it is not a real time followed by
 * zero padding (tampered, or made under another key).
 */
static bool
validity_decrypt(const EhrKey *key, const uint8 *cipher, TimestampTz *expires)
{
	uint8		block[EHR_SM4_BLOCK];
	int			d[2 * EHC_TIME_BYTES];
	struct pg_tm tm;
	TimestampTz ts;
	int			i;

	ehr_sm4_ecb(false, key->bytes, cipher, EHR_SM4_BLOCK, block);
	for (i = EHC_TIME_BYTES; i < EHR_SM4_BLOCK; i++)
		if (block[i] != 0)
			return false;
	for (i = 0; i < EHC_TIME_BYTES; i++)
	{
		d[2 * i] = block[i] >> 4;
		d[2 * i + 1] = block[i] & 0xF;
		if (d[2 * i] > 9 || d[2 * i + 1] > 9)
			return false;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3];
	tm.tm_mon = d[4] * 10 + d[5];
	tm.tm_mday = d[6] * 10 + d[7];
	tm.tm_hour = d[8] * 10 + d[9];
	tm.tm_min = d[10] * 10 + d[11];
	tm.tm_sec = d[12] * 10 + d[13];
	if (tm.tm_year < 1 || tm.tm_mon < 1 || tm.tm_mon > MONTHS_PER_YEAR ||
		tm.tm_mday < 1 ||
		tm.tm_mday > day_tab[isleap(tm.tm_year)][tm.tm_mon - 1] ||
		tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return false;
	if (tm2timestamp(&tm, 0, NULL, &ts) != 0)
		return false;
	*expires = ts - (int64) EHC_TZ_OFFSET_SECS * USECS_PER_SEC;
	return true;
}

static void
payload_malformed(const char *payload, const char *rule)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("malformed health code payload: \"%s\"", payload),
			 errdetail("%s", rule)));
}

PG_FUNCTION_INFO_V1(ehr_health_code_parse);

/*
 * ehr._health_code_parse(payload) → (card_id, kind, validity, expires_at).
 * Raises only for a malformed payload; kind is 'static' or 'dynamic'; for a
 * dynamic payload whose validity block does not decrypt to a time, expires_at
 * is NULL, so the caller can report the unknown or suspended card first and
 * the tampering after.
 */
Datum
ehr_health_code_parse(PG_FUNCTION_ARGS)
{
	char	   *payload = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *sep = strchr(payload, ':');
	char	   *card;
	char	   *type;
	char	   *validity = NULL;
	int			clen;
	int			i;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, true, true};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (sep == NULL)
		payload_malformed(payload, "A payload is \"<card ID>:<type>\" or \"<card ID>:<type>:<validity>\".");
	clen = sep - payload;
	card = pnstrdup(payload, clen);
	if (!card_id_wellformed(card, clen))
		payload_malformed(payload, "A card ID is 32 or 64 hexadecimal characters.");
	for (i = 0; i < clen; i++)
		card[i] = pg_ascii_toupper((unsigned char) card[i]);
	type = sep + 1;
	values[0] = CStringGetTextDatum(card);

	if (type[0] == EHC_TYPE_STATIC && type[1] == '\0')
		values[1] = CStringGetTextDatum("static");
	else if (type[0] == EHC_TYPE_DYNAMIC && type[1] == ':')
	{
		uint8		cipher[EHR_SM4_BLOCK];
		TimestampTz expires;
		const EhrKey *key;

		validity = pstrdup(type + 2);
		if (strlen(validity) != EHC_VALIDITY_HEX ||
			!ehc_hex_decode(validity, EHC_VALIDITY_HEX, cipher))
			payload_malformed(payload, "The validity block of a dynamic payload is 32 hexadecimal characters.");
		for (i = 0; validity[i]; i++)
			validity[i] = pg_ascii_toupper((unsigned char) validity[i]);
		values[1] = CStringGetTextDatum("dynamic");
		values[2] = CStringGetTextDatum(validity);
		nulls[2] = false;
		key = ehr_keyring_cached(fcinfo->flinfo, "ehc_protect");
		if (key->len == EHR_SM4_KEY_LEN && validity_decrypt(key, cipher, &expires))
		{
			values[3] = TimestampTzGetDatum(expires);
			nulls[3] = false;
		}
	}
	else
		payload_malformed(payload,
						  psprintf("The type field is %c (static, \"<card ID>:%c\") or %c (dynamic, \"<card ID>:%c:<validity>\").",
								   EHC_TYPE_STATIC, EHC_TYPE_STATIC,
								   EHC_TYPE_DYNAMIC, EHC_TYPE_DYNAMIC));

	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(ehr_sm4_ecb_sql);

/*
 * ehr._sm4_ecb(encrypt, key, data): raw SM4-ECB for the standard's test
 * vector and for checking each step of the card ID derivation. Superuser
 * only: it never touches the keyring, but keys passed as SQL text end up in
 * logs, so nothing in the extension calls it.
 */
Datum
ehr_sm4_ecb_sql(PG_FUNCTION_ARGS)
{
	bool		encrypt = PG_GETARG_BOOL(0);
	bytea	   *key = PG_GETARG_BYTEA_PP(1);
	bytea	   *data = PG_GETARG_BYTEA_PP(2);
	int			len = VARSIZE_ANY_EXHDR(data);
	bytea	   *out;

	if (VARSIZE_ANY_EXHDR(key) != EHR_SM4_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("SM4 key has %d bytes", (int) VARSIZE_ANY_EXHDR(key)),
				 errdetail("An SM4 key is 16 bytes.")));
	if (len == 0 || len % EHR_SM4_BLOCK != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("SM4-ECB input has %d bytes", len),
				 errdetail("SM4-ECB without padding takes a positive multiple of 16 bytes.")));
	out = palloc(VARHDRSZ + len);
	SET_VARSIZE(out, VARHDRSZ + len);
	ehr_sm4_ecb(encrypt, (const uint8 *) VARDATA_ANY(key),
				(const uint8 *) VARDATA_ANY(data), len, (uint8 *) VARDATA(out));
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(ehr_health_card_caller);

/*
 * ehr._health_card_caller(): the role that called into the extension, as SET
 * ROLE left it: inside a SECURITY DEFINER function current_user is the owner,
 * but the outer user is still the terminal (or clinician) that scanned.
 */
Datum
ehr_health_card_caller(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein,
										CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false))));
}

/* ---- SMS verification of a static code ---- */

PG_FUNCTION_INFO_V1(ehr_health_card_new_code);

/* ehr._health_card_new_code(): six decimal digits from the CSPRNG, unbiased. */
Datum
ehr_health_card_new_code(PG_FUNCTION_ARGS)
{
	uint32		r;
	char		buf[8];

	/* 4294 * 10^6 is the largest multiple of 10^6 below 2^32: reject above it */
	do
		ehr_random_bytes((uint8 *) &r, sizeof(r));
	while (r >= UINT64CONST(4294000000));
	snprintf(buf, sizeof(buf), "%06u", r % 1000000);
	r = 0;
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}

/* HMAC-SM3 under key access_code over "ehc:" || verification id || code. */
static void
verification_hash(FmgrInfo *flinfo, int64 verification, text *code, uint8 *out)
{
	const EhrKey *key = ehr_keyring_cached(flinfo, "access_code");
	int			clen = VARSIZE_ANY_EXHDR(code);
	uint8	   *msg = palloc(4 + 8 + clen);
	int			i;

	memcpy(msg, "ehc:", 4);
	for (i = 0; i < 8; i++)
		msg[4 + i] = (uint8) (verification >> (56 - 8 * i));
	memcpy(msg + 12, VARDATA_ANY(code), clen);
	ehr_hmac_sm3(key->bytes, key->len, msg, 12 + clen, out);
	ehr_wipe(msg, 12 + clen);
	pfree(msg);
}

PG_FUNCTION_INFO_V1(ehr_health_card_code_hash);

/* ehr._health_card_code_hash(verification, code): what the table stores. */
Datum
ehr_health_card_code_hash(PG_FUNCTION_ARGS)
{
	bytea	   *out = palloc(VARHDRSZ + EHR_SM3_LEN);

	SET_VARSIZE(out, VARHDRSZ + EHR_SM3_LEN);
	verification_hash(fcinfo->flinfo, PG_GETARG_INT64(0), PG_GETARG_TEXT_PP(1),
					  (uint8 *) VARDATA(out));
	PG_RETURN_BYTEA_P(out);
}

/* The slot of a verification (claimed when absent); caller holds the lock. */
static EhcTrySlot *
try_slot(int64 verification)
{
	EhcTrySlot *slot;
	int			i;

	for (i = 0; i < EHC_TRY_SLOTS; i++)
		if (ehc_tries->slots[i].verification == verification &&
			ehc_tries->slots[i].dboid == MyDatabaseId)
			return &ehc_tries->slots[i];
	slot = &ehc_tries->slots[ehc_tries->next++ % EHC_TRY_SLOTS];
	slot->dboid = MyDatabaseId;
	slot->verification = verification;
	slot->tries = 0;
	return slot;
}

PG_FUNCTION_INFO_V1(ehr_health_card_code_check);

/*
 * ehr._health_card_code_check(verification, card_id, code, code_hash,
 * expires_at, used): raises unless code is right, unused, unexpired and the
 * verification not locked. A wrong code is counted in shared memory before
 * the error, so no rollback un-counts it; the fifth locks the verification.
 */
Datum
ehr_health_card_code_check(PG_FUNCTION_ARGS)
{
	int64		verification = PG_GETARG_INT64(0);
	char	   *card = text_to_cstring(PG_GETARG_TEXT_PP(1));
	text	   *code = PG_GETARG_TEXT_PP(2);
	bytea	   *stored = PG_GETARG_BYTEA_PP(3);
	TimestampTz expires = PG_GETARG_TIMESTAMPTZ(4);
	bool		used = PG_GETARG_BOOL(5);
	uint8		mac[EHR_SM3_LEN];
	bool		right;
	int			tries;

	if (ehc_tries == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("SMS verification of health cards needs ehr in shared_preload_libraries"),
				 errdetail("Wrong codes are counted in shared memory, where no rollback can erase them; that memory exists only when the library is preloaded."),
				 errhint("Add ehr to shared_preload_libraries in postgresql.conf and restart the server, or show the dynamic code.")));

	/* a locked verification is refused before the code is even compared */
	LWLockAcquire(ehc_tries->lock, LW_SHARED);
	tries = 0;
	for (int i = 0; i < EHC_TRY_SLOTS; i++)
		if (ehc_tries->slots[i].verification == verification &&
			ehc_tries->slots[i].dboid == MyDatabaseId)
			tries = ehc_tries->slots[i].tries;
	LWLockRelease(ehc_tries->lock);
	if (tries >= EHC_MAX_TRIES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("SMS verification of card \"%s\" is locked", card),
				 errdetail("%d wrong codes were entered.", EHC_MAX_TRIES),
				 errhint("Send a new code with ehr.send_health_card_code(payload).")));
	if (used)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("SMS verification code of card \"%s\" has already been used", card),
				 errhint("Send a new code with ehr.send_health_card_code(payload).")));
	if (GetCurrentStatementStartTimestamp() >= expires)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("SMS verification code of card \"%s\" has expired", card),
				 errhint("Send a new code with ehr.send_health_card_code(payload).")));

	verification_hash(fcinfo->flinfo, verification, code, mac);
	right = VARSIZE_ANY_EXHDR(stored) == EHR_SM3_LEN &&
		ehr_const_time_equal(mac, VARDATA_ANY(stored), EHR_SM3_LEN);
	ehr_wipe(mac, sizeof(mac));
	if (right)
		PG_RETURN_VOID();

	LWLockAcquire(ehc_tries->lock, LW_EXCLUSIVE);
	tries = ++try_slot(verification)->tries;
	LWLockRelease(ehc_tries->lock);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PASSWORD),
			 errmsg("wrong SMS verification code for card \"%s\"", card),
			 tries >= EHC_MAX_TRIES ?
			 errdetail("That was the %dth wrong code: the verification is now locked.", EHC_MAX_TRIES) :
			 errdetail("%d of %d tries left.", EHC_MAX_TRIES - tries, EHC_MAX_TRIES)));
	PG_RETURN_VOID();
}

/* ---- Access log and grants (the consent capability's API) ---- */

/* Queue a refusal for the access log; caller has filled ev. */
static void
queue_refusal(const EhrAuditEvent *ev)
{
	EhcPending *p;

	if (ehc_tries == NULL)
		return;					/* not preloaded: the server log line is all */
	LWLockAcquire(ehc_tries->lock, LW_EXCLUSIVE);
	if (ehc_tries->npending >= EHC_PENDING_SLOTS)
	{
		/*
		 * Full (say, refusals of a database where nothing succeeds any more):
		 * the oldest unclaimed entry makes room; the count says so.
		 */
		int			i;

		for (i = 0; i < ehc_tries->npending; i++)
			if (ehc_tries->pending[i].claimed_by == 0)
				break;
		if (i < ehc_tries->npending)
		{
			memmove(&ehc_tries->pending[i], &ehc_tries->pending[i + 1],
					(ehc_tries->npending - i - 1) * sizeof(EhcPending));
			ehc_tries->npending--;
		}
		ehc_tries->dropped++;
	}
	if (ehc_tries->npending < EHC_PENDING_SLOTS)
	{
		p = &ehc_tries->pending[ehc_tries->npending++];
		memset(p, 0, sizeof(*p));
		p->dboid = MyDatabaseId;
		p->practitioner = ev->practitioner;
		p->request = ev->request_id;
		p->has_resident = ev->has_resident;
		p->resident = ev->resident;
		p->at = GetCurrentTimestamp();
		strlcpy(p->detail, ev->detail, sizeof(p->detail));
	}
	LWLockRelease(ehc_tries->lock);
}

static bool pending_callbacks_registered = false;

/* Remove (commit) or release (abort) what this backend claimed. */
static void
settle_claims(bool committed, SubTransactionId only_sub)
{
	int			i,
				j;

	if (ehc_tries == NULL)
		return;
	LWLockAcquire(ehc_tries->lock, LW_EXCLUSIVE);
	for (i = 0, j = 0; i < ehc_tries->npending; i++)
	{
		EhcPending *p = &ehc_tries->pending[i];
		bool		mine = p->claimed_by == MyProcPid &&
			(only_sub == InvalidSubTransactionId || p->claimed_in == only_sub);

		if (mine && committed)
			continue;			/* written and committed: drop it */
		if (mine)
			p->claimed_by = 0;
		if (i != j)
			ehc_tries->pending[j] = *p;
		j++;
	}
	ehc_tries->npending = j;
	LWLockRelease(ehc_tries->lock);
}

static void
pending_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT)
		settle_claims(true, InvalidSubTransactionId);
	else if (event == XACT_EVENT_ABORT)
		settle_claims(false, InvalidSubTransactionId);
}

static void
pending_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			i;

	if (ehc_tries == NULL)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		settle_claims(false, mySubid);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		/* the parent now owns the rows written in the subtransaction */
		LWLockAcquire(ehc_tries->lock, LW_EXCLUSIVE);
		for (i = 0; i < ehc_tries->npending; i++)
			if (ehc_tries->pending[i].claimed_by == MyProcPid &&
				ehc_tries->pending[i].claimed_in == mySubid)
				ehc_tries->pending[i].claimed_in = parentSubid;
		LWLockRelease(ehc_tries->lock);
	}
}

static void
pending_backend_exit(int code, Datum arg)
{
	settle_claims(false, InvalidSubTransactionId);
}

/* Write this database's queued refusals to the access log in this transaction. */
static void
drain_refusals(void)
{
	EhcPending	local[EHC_PENDING_SLOTS];
	int			n = 0;
	int64		dropped;
	int			i;

	if (ehc_tries == NULL)
		return;
	if (!pending_callbacks_registered)
	{
		RegisterXactCallback(pending_xact_callback, NULL);
		RegisterSubXactCallback(pending_subxact_callback, NULL);
		before_shmem_exit(pending_backend_exit, (Datum) 0);
		pending_callbacks_registered = true;
	}
	LWLockAcquire(ehc_tries->lock, LW_EXCLUSIVE);
	for (i = 0; i < ehc_tries->npending; i++)
	{
		EhcPending *p = &ehc_tries->pending[i];

		if (p->dboid == MyDatabaseId && p->claimed_by == 0)
		{
			p->claimed_by = MyProcPid;
			p->claimed_in = GetCurrentSubTransactionId();
			local[n++] = *p;
		}
	}
	dropped = ehc_tries->dropped;
	ehc_tries->dropped = 0;
	LWLockRelease(ehc_tries->lock);

	for (i = 0; i < n; i++)
	{
		EhrAuditEvent ev;

		memset(&ev, 0, sizeof(ev));
		ev.event = "card_refused";
		ev.practitioner = local[i].practitioner;
		ev.request_id = local[i].request;
		ev.has_resident = local[i].has_resident;
		ev.resident = local[i].resident;
		ev.detail = local[i].detail;
		ev.at = local[i].at;
		ehr_audit_event(&ev);
	}
	if (dropped > 0)
	{
		EhrAuditEvent ev;

		memset(&ev, 0, sizeof(ev));
		ev.event = "card_refused";
		ev.detail = psprintf(INT64_FORMAT " health code refusals not queued (queue full); see the server log",
							 dropped);
		ehr_audit_event(&ev);
	}
}

PG_FUNCTION_INFO_V1(ehr_health_card_log);

/*
 * ehr._health_card_log(card_id, resident, action, outcome, practitioner,
 * grant_id, request_id): one access-log event per resolution, code sent or
 * scan-to-authorize: "card_resolved", "card_code_sent", "card_authorized",
 * or "card_refused" with the reason. Successes are written in the current
 * transaction, after any queued refusals. A refusal is raised as an error
 * right after this call, which would roll its row back: it goes to the
 * server log at once and to the access log through the queue.
 */
Datum
ehr_health_card_log(PG_FUNCTION_ARGS)
{
	char	   *action = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *outcome = text_to_cstring(PG_GETARG_TEXT_PP(3));
	bool		refused = strcmp(outcome, "resolved") != 0 &&
		strcmp(outcome, "sent") != 0 && strcmp(outcome, "authorized") != 0;
	char	   *caller = GetUserNameFromId(GetOuterUserId(), false);
	EhrAuditEvent ev;

	memset(&ev, 0, sizeof(ev));
	if (refused)
		ev.event = "card_refused";
	else if (strcmp(action, "send_code") == 0)
		ev.event = "card_code_sent";
	else if (strcmp(action, "authorize") == 0)
		ev.event = "card_authorized";
	else
		ev.event = "card_resolved";
	if (!PG_ARGISNULL(1))
	{
		ev.has_resident = true;
		ev.resident = PG_GETARG_RESIDENT_ID(1);
	}
	ev.practitioner = PG_ARGISNULL(4) ? 0 : PG_GETARG_INT64(4);
	ev.grant_id = PG_ARGISNULL(5) ? 0 : PG_GETARG_INT64(5);
	ev.request_id = PG_ARGISNULL(6) ? 0 : PG_GETARG_INT64(6);
	ev.detail = psprintf("role=%s action=%s outcome=%s card=%s",
						 caller, action, outcome,
						 PG_ARGISNULL(0) ? "-" : text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (refused)
	{
		ehr_audit_log_line(&ev, "refused health code");
		queue_refusal(&ev);
	}
	else
	{
		drain_refusals();
		ehr_audit_event(&ev);
	}
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ehr_health_card_grant);

/*
 * ehr._health_card_grant(practitioner, resident, categories text[]): the
 * grant confirm_access would make, through the consent capability's
 * ehr_grant_create, recorded as made "via health_card".
 */
Datum
ehr_health_card_grant(PG_FUNCTION_ARGS)
{
	int64		practitioner = PG_GETARG_INT64(0);
	ResidentId	resident = PG_GETARG_RESIDENT_ID(1);
	ArrayType  *cats = PG_GETARG_ARRAYTYPE_P(2);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			mask = 0;
	int			i;

	deconstruct_array(cats, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *label;
		int			bit;

		if (nulls[i])
			continue;
		label = TextDatumGetCString(elems[i]);
		bit = ehr_category_bit(label);
		if (bit == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown record category \"%s\"", label),
					 errdetail("Categories are lab, exam, emr and archive.")));
		mask |= bit;
	}
	PG_RETURN_INT64(ehr_grant_create(practitioner, resident, mask, "health_card"));
}
