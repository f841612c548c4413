/*-------------------------------------------------------------------------
 *
 * deid_keyed.c
 *	  Keyed de-identification: ehr.pseudonym and ehr.shift_date.
 *
 * Both are HMAC-SM3 under a key of ehr.keyring. The key is read once per
 * call site and query, its padded blocks absorbed once (ehr_hmac_sm3_prepare)
 * and the prepared HMAC kept in fn_extra: per row, no lookup and two SM3
 * compressions fewer.
 * EXECUTE on these functions is granted to the extension's owner and
 * ehr_admin only: whoever can call them can compute the pseudonym of a
 * known person and look for it in a dataset.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"

#define PSEUDONYM_BYTES	16
/* 128 bits in base32, 5 bits a character, no padding */
#define PSEUDONYM_CHARS	26

/* RFC 4648 base32 alphabet, lower-case; writes ceil(8n/5) chars and a NUL. */
static void
base32_lower(const uint8 *in, int n, char *out)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint32		buf = 0;
	int			bits = 0;
	int			i;
	int			o = 0;

	for (i = 0; i < n; i++)
	{
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5)
		{
			out[o++] = alphabet[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(buf << (5 - bits)) & 31];
	out[o] = '\0';
}

/* The prepared HMAC of key "name" for this call site, made on first use. */
static EhrHmacSm3 *
keyed_hmac(FunctionCallInfo fcinfo, const char *name)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;

	if (flinfo->fn_extra == NULL)
	{
		EhrKey		key;

		ehr_keyring_get(name, &key);
		flinfo->fn_extra = ehr_hmac_sm3_prepare(key.bytes, key.len, flinfo->fn_mcxt);
		ehr_wipe(&key, sizeof(key));
	}
	return (EhrHmacSm3 *) flinfo->fn_extra;
}

PG_FUNCTION_INFO_V1(ehr_pseudonym);

/*
 * ehr.pseudonym(value text, domain text DEFAULT 'default'): the first 16
 * bytes of HMAC-SM3(key "pseudonym", domain || 0x00 || value) in base32.
 * Text holds no NUL byte, so the separator keeps (domain, value) pairs apart.
 */
Datum
ehr_pseudonym(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	text	   *domain = PG_GETARG_TEXT_PP(1);
	EhrHmacSm3 *hmac = keyed_hmac(fcinfo, "pseudonym");
	int			vlen = VARSIZE_ANY_EXHDR(value);
	int			dlen = VARSIZE_ANY_EXHDR(domain);
	uint8	   *msg = palloc(dlen + 1 + vlen);
	uint8		mac[EHR_SM3_LEN];
	char		out[PSEUDONYM_CHARS + 1];

	memcpy(msg, VARDATA_ANY(domain), dlen);
	msg[dlen] = 0;
	memcpy(msg + dlen + 1, VARDATA_ANY(value), vlen);
	ehr_hmac_sm3_compute(hmac, msg, dlen + 1 + vlen, mac);
	base32_lower(mac, PSEUDONYM_BYTES, out);
	ehr_wipe(mac, sizeof(mac));
	pfree(msg);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out, PSEUDONYM_CHARS));
}

/*
 * The resident's offset in days: the first 4 bytes of HMAC-SM3(key
 * "date_shift", canonical 18-character id) as a big-endian unsigned integer,
 * mod (2N + 1), minus N.
 */
static int32
resident_shift_days(FunctionCallInfo fcinfo, ResidentId id)
{
	EhrHmacSm3 *hmac = keyed_hmac(fcinfo, "date_shift");
	int32		n = ehr_date_shift_days;
	char		buf[RESIDENT_ID_LEN + 1];
	uint8		mac[EHR_SM3_LEN];
	uint32		v;

	resident_id_to_cstring(id, buf);
	ehr_hmac_sm3_compute(hmac, (const uint8 *) buf, RESIDENT_ID_LEN, mac);
	v = ((uint32) mac[0] << 24) | ((uint32) mac[1] << 16) | ((uint32) mac[2] << 8) | mac[3];
	ehr_wipe(mac, sizeof(mac));
	return (int32) (v % (uint32) (2 * n + 1)) - n;
}

PG_FUNCTION_INFO_V1(ehr_shift_date);

/* ehr.shift_date(date, ehr.resident_id); infinite dates stay infinite. */
Datum
ehr_shift_date(PG_FUNCTION_ARGS)
{
	DateADT		d = PG_GETARG_DATEADT(0);
	int32		shift = resident_shift_days(fcinfo, PG_GETARG_RESIDENT_ID(1));
	int64		r;

	if (DATE_NOT_FINITE(d))
		PG_RETURN_DATEADT(d);
	r = (int64) d + shift;
	if (!IS_VALID_DATE(r))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range after shifting"),
				 errdetail("Shifted dates must stay within the range of type date.")));
	PG_RETURN_DATEADT((DateADT) r);
}

PG_FUNCTION_INFO_V1(ehr_shift_timestamp);

/*
 * ehr.shift_date(timestamptz | timestamp, ehr.resident_id): moved by the
 * same number of days as the resident's dates, counted as 24-hour days so
 * the result does not depend on the session's time zone.
 */
Datum
ehr_shift_timestamp(PG_FUNCTION_ARGS)
{
	Timestamp	t = PG_GETARG_TIMESTAMP(0);
	int32		shift = resident_shift_days(fcinfo, PG_GETARG_RESIDENT_ID(1));
	Timestamp	r;

	if (TIMESTAMP_NOT_FINITE(t))
		PG_RETURN_TIMESTAMP(t);
	r = t + (int64) shift * USECS_PER_DAY;
	if (!IS_VALID_TIMESTAMP(r))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range after shifting"),
				 errdetail("Shifted timestamps must stay within the range of type timestamp.")));
	PG_RETURN_TIMESTAMP(r);
}
