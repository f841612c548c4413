/*-------------------------------------------------------------------------
 *
 * resident_id.c
 *	  ehr.resident_id: the citizen identity number of GB 11643-1999, an
 *	  8-byte type passed by value.
 *
 * Representation: the 17 significant digits as an int64 (below 10^17). The
 * check character is a function of them (ISO 7064 MOD 11-2), so it is not
 * stored but recomputed on output. Ordering by the integer is ordering by the
 * canonical text. The 15-digit legacy form is upgraded on input ("19" inserted
 * before the year), so both spellings of a person's number are one value.
 *
 * Hash stability (an on-disk contract: Citus shards and hash partitions depend
 * on it): resident_id_hash(v) is hashint8(v) and resident_id_hash_extended(v,
 * seed) is hashint8extended(v, seed), v the 17-digit integer. They must never
 * change; sql/resident_id.sql pins example values.
 *
 * Parsing lives in ident_parse.h (no backend dependencies, fuzzed by
 * test/fuzz/); this file turns its error codes into ereport()s.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"
#include "ident_parse.h"

#include "datatype/timestamp.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/sortsupport.h"

/*
 * The rule a parse failed, as an errdetail sentence. "input" is the
 * (untrimmed) value for the message; positions are counted in characters from the start of the input as given.
 */
static void
rid_report(int sqlstate, const char *input, RidError e, const RidParse *r)
	pg_attribute_noreturn();

static void
rid_report(int sqlstate, const char *input, RidError e, const RidParse *r)
{
	const char *msg = (sqlstate == ERRCODE_INVALID_TEXT_REPRESENTATION)
		? "invalid input syntax for type %s: \"%s\""
		: "invalid external value for type %s: \"%s\"";

	switch (e)
	{
		case RID_BAD_CHAR:
		case RID_X_NOT_LAST:
			{
				const char *p = r->trimmed + r->offset;
				int			clen = pg_mblen(p);
				int			pos = pg_mbstrlen_with_len(r->trimmed - r->lead,
													   (int) (r->lead + r->offset)) + 1;

				if ((size_t) clen > r->len - r->offset)
					clen = (int) (r->len - r->offset);
				if (e == RID_BAD_CHAR)
					ereport(ERROR,
							(errcode(sqlstate),
							 errmsg(msg, "resident_id", input),
							 errdetail("Character \"%s\" at position %d is not an ASCII digit.",
									   pnstrdup(p, clen), pos)));
				else
					ereport(ERROR,
							(errcode(sqlstate),
							 errmsg(msg, "resident_id", input),
							 errdetail("Character \"%s\" at position %d is not a digit; only the 18th character, the check character, may be \"X\".",
									   pnstrdup(p, clen), pos)));
			}
			break;
		case RID_LENGTH:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg(msg, "resident_id", input),
					 errdetail("A resident ID has 18 characters, or 15 digits in the legacy form, not %d.",
							   (int) r->len)));
			break;
		case RID_PROVINCE:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg(msg, "resident_id", input),
					 errdetail("The province code \"%02d\" does not exist.", r->province)));
			break;
		case RID_DATE:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg(msg, "resident_id", input),
					 errdetail("The birth date %04d-%02d-%02d does not exist.",
							   r->year, r->month, r->day)));
			break;
		case RID_DATE_EARLY:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg(msg, "resident_id", input),
					 errdetail("The birth date %04d-%02d-%02d is before %d.",
							   r->year, r->month, r->day, RID_MIN_YEAR)));
			break;
		case RID_CHECK:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg(msg, "resident_id", input),
					 errdetail("The check character should be \"%c\", not \"%c\".",
							   r->expected, r->found)));
			break;
		case RID_OK:
			break;
	}
	elog(ERROR, "unexpected resident_id parse result %d", (int) e);
}

static ResidentId
rid_from_buffer(const char *s, size_t len, const char *input_for_message)
{
	RidParse	r;
	RidError	e = rid_parse(s, len, &r);

	if (e != RID_OK)
		rid_report(ERRCODE_INVALID_TEXT_REPRESENTATION,
				   input_for_message ? input_for_message : pnstrdup(s, len), e, &r);
	return (ResidentId) r.value;
}

void
resident_id_to_cstring(ResidentId id, char *buf)
{
	rid_format((int64_t) id, buf);
}

bool
resident_id_parse(const char *s, size_t len, ResidentId *out)
{
	RidParse	r;

	if (rid_parse(s, len, &r) != RID_OK)
		return false;
	*out = (ResidentId) r.value;
	return true;
}

/* Birth date of a stored value as a PostgreSQL date. */
static DateADT
rid_birth_date(ResidentId id, int *y, int *m, int *d)
{
	char		digits[17];

	rid_digits((int64_t) id, digits);
	*y = rid_num(digits + 6, 4);
	*m = rid_num(digits + 10, 2);
	*d = rid_num(digits + 12, 2);
	return date2j(*y, *m, *d) - POSTGRES_EPOCH_JDATE;
}

/* ---- I/O ---- */

PG_FUNCTION_INFO_V1(resident_id_in);
Datum
resident_id_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	PG_RETURN_RESIDENT_ID(rid_from_buffer(s, strlen(s), s));
}

PG_FUNCTION_INFO_V1(resident_id_out);
Datum
resident_id_out(PG_FUNCTION_ARGS)
{
	ResidentId	id = PG_GETARG_RESIDENT_ID(0);
	char	   *buf = palloc(RESIDENT_ID_LEN + 1);

	resident_id_to_cstring(id, buf);
	PG_RETURN_CSTRING(buf);
}

/* Binary form: the 17-digit integer as a big-endian int8. */
PG_FUNCTION_INFO_V1(resident_id_recv);
Datum
resident_id_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int64		v = pq_getmsgint64(buf);
	RidParse	r;
	RidError	e = rid_validate_value(v, &r);

	if (e == RID_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external value for type %s: \"" INT64_FORMAT "\"",
						"resident_id", v),
				 errdetail("A binary resident ID is an integer from 0 to 10^17 - 1.")));
	if (e != RID_OK)
	{
		char		digits[18];

		rid_digits(v, digits);
		digits[17] = '\0';
		rid_report(ERRCODE_INVALID_BINARY_REPRESENTATION, digits, e, &r);
	}
	PG_RETURN_RESIDENT_ID(v);
}

PG_FUNCTION_INFO_V1(resident_id_send);
Datum
resident_id_send(PG_FUNCTION_ARGS)
{
	ResidentId	id = PG_GETARG_RESIDENT_ID(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, id);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Casts: parse the text in place, without a NUL-terminated copy. */
PG_FUNCTION_INFO_V1(resident_id_from_text);
Datum
resident_id_from_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	RidParse	r;
	RidError	e = rid_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &r);

	if (e != RID_OK)
		rid_report(ERRCODE_INVALID_TEXT_REPRESENTATION, text_to_cstring(t), e, &r);
	PG_RETURN_RESIDENT_ID((ResidentId) r.value);
}

PG_FUNCTION_INFO_V1(resident_id_to_text);
Datum
resident_id_to_text(PG_FUNCTION_ARGS)
{
	ResidentId	id = PG_GETARG_RESIDENT_ID(0);
	char		buf[RESIDENT_ID_LEN + 1];

	resident_id_to_cstring(id, buf);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf, RESIDENT_ID_LEN));
}

/* ---- comparison: never raise (LEAKPROOF) ---- */

#define RID_CMP_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	ResidentId	a = PG_GETARG_RESIDENT_ID(0); \
	ResidentId	b = PG_GETARG_RESIDENT_ID(1); \
	PG_RETURN_BOOL(expr); \
}

RID_CMP_FN(resident_id_eq, a == b)
RID_CMP_FN(resident_id_ne, a != b)
RID_CMP_FN(resident_id_lt, a < b)
RID_CMP_FN(resident_id_le, a <= b)
RID_CMP_FN(resident_id_gt, a > b)
RID_CMP_FN(resident_id_ge, a >= b)

PG_FUNCTION_INFO_V1(resident_id_cmp);
Datum
resident_id_cmp(PG_FUNCTION_ARGS)
{
	ResidentId	a = PG_GETARG_RESIDENT_ID(0);
	ResidentId	b = PG_GETARG_RESIDENT_ID(1);

	PG_RETURN_INT32(a < b ? -1 : (a > b ? 1 : 0));
}

static int
resident_id_fastcmp(Datum x, Datum y, SortSupport ssup)
{
	ResidentId	a = DatumGetResidentId(x);
	ResidentId	b = DatumGetResidentId(y);

	return a < b ? -1 : (a > b ? 1 : 0);
}

PG_FUNCTION_INFO_V1(resident_id_sortsupport);
Datum
resident_id_sortsupport(PG_FUNCTION_ARGS)
{
	SortSupport ssup = (SortSupport) PG_GETARG_POINTER(0);

	ssup->comparator = resident_id_fastcmp;
	PG_RETURN_VOID();
}

/* The on-disk hash contract: hashint8 of the 17-digit integer, forever. */
PG_FUNCTION_INFO_V1(resident_id_hash);
Datum
resident_id_hash(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(hashint8, Int64GetDatum(PG_GETARG_RESIDENT_ID(0)));
}

PG_FUNCTION_INFO_V1(resident_id_hash_extended);
Datum
resident_id_hash_extended(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall2(hashint8extended,
							   Int64GetDatum(PG_GETARG_RESIDENT_ID(0)),
							   PG_GETARG_DATUM(1));
}

/* ---- functions ---- */

PG_FUNCTION_INFO_V1(resident_id_birth_date);
Datum
resident_id_birth_date(PG_FUNCTION_ARGS)
{
	int			y,
				m,
				d;

	PG_RETURN_DATEADT(rid_birth_date(PG_GETARG_RESIDENT_ID(0), &y, &m, &d));
}

/* GB 11643-1999: the 17th digit (sequence code) is odd for men, even for women. */
PG_FUNCTION_INFO_V1(resident_id_sex);
Datum
resident_id_sex(PG_FUNCTION_ARGS)
{
	ResidentId	id = PG_GETARG_RESIDENT_ID(0);

	PG_RETURN_TEXT_P(cstring_to_text((id % 2) ? "male" : "female"));
}

PG_FUNCTION_INFO_V1(resident_id_region_code);
Datum
resident_id_region_code(PG_FUNCTION_ARGS)
{
	char		digits[17];

	rid_digits((int64_t) PG_GETARG_RESIDENT_ID(0), digits);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(digits, 6));
}

/*
 * Completed years at "at": a birthday on Feb 29 is reached on Mar 1 in common
 * years. Negative when "at" is before the birth date.
 */
static int32
rid_age_at(ResidentId id, DateADT at)
{
	int			by,
				bm,
				bd,
				ay,
				am,
				ad;
	int32		years;

	if (DATE_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot compute an age at an infinite date")));
	(void) rid_birth_date(id, &by, &bm, &bd);
	j2date(at + POSTGRES_EPOCH_JDATE, &ay, &am, &ad);
	years = ay - by;
	if (am < bm || (am == bm && ad < bd))
		years--;
	return years;
}

PG_FUNCTION_INFO_V1(resident_id_age_at);
Datum
resident_id_age_at(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(rid_age_at(PG_GETARG_RESIDENT_ID(0), PG_GETARG_DATEADT(1)));
}

PG_FUNCTION_INFO_V1(resident_id_age);
Datum
resident_id_age(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(rid_age_at(PG_GETARG_RESIDENT_ID(0), GetSQLCurrentDate()));
}

PG_FUNCTION_INFO_V1(resident_id_is_valid);
Datum
resident_id_is_valid(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	RidParse	r;

	PG_RETURN_BOOL(rid_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &r) == RID_OK);
}

/* 17 ASCII digits -> the check character, as text. */
PG_FUNCTION_INFO_V1(resident_id_check_char);
Datum
resident_id_check_char(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(t);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	size_t		i;
	char		c;

	ident_trim(&s, &len);
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			break;
	if (len != 17 || i != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid argument for resident_id_check_char: \"%s\"", text_to_cstring(t)),
				 errdetail("The argument must be the first 17 digits of a resident ID.")));
	c = rid_check_char(s);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(&c, 1));
}
