/*-------------------------------------------------------------------------
 *
 * org_code.c
 *	  ehr.org_code: the unified social credit code of GB 32100-2015, which
 *	  identifies institutions; a fixed-length 18-byte type passed by reference.
 *
 * Representation: the 18 canonical (upper-case) characters, no header and no
 * terminator. Ordering is byte order of the canonical text.
 *
 * Hash stability (an on-disk contract: Citus shards and hash partitions depend
 * on it): org_code_hash(c) is hash_any() over the 18 canonical bytes, which is
 * also hashtext() of the canonical text under a deterministic collation;
 * org_code_hash_extended(c, seed) is hash_any_extended() of the same bytes.
 * They must never change; sql/org_code.sql pins example values.
 *
 * Parsing lives in ident_parse.h (no backend dependencies, fuzzed by
 * test/fuzz/); this file turns its error codes into ereport()s.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"
#include "ident_parse.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/sortsupport.h"

static void
oc_report(int sqlstate, const char *input, OcError e, const OcParse *r)
	pg_attribute_noreturn();

static void
oc_report(int sqlstate, const char *input, OcError e, const OcParse *r)
{
	const char *msg = (sqlstate == ERRCODE_INVALID_TEXT_REPRESENTATION)
		? "invalid input syntax for type %s: \"%s\""
		: "invalid external value for type %s: \"%s\"";

	switch (e)
	{
		case OC_BAD_CHAR:
			{
				const char *p = r->trimmed + r->offset;
				int			clen = pg_mblen(p);
				int			pos = pg_mbstrlen_with_len(r->trimmed - r->lead,
													   (int) (r->lead + r->offset)) + 1;

				if ((size_t) clen > r->len - r->offset)
					clen = (int) (r->len - r->offset);
				ereport(ERROR,
						(errcode(sqlstate),
						 errmsg(msg, "org_code", input),
						 errdetail("Character \"%s\" at position %d is not in the code alphabet (digits and the letters A-Y without I, O, S, V and Z).",
								   pnstrdup(p, clen), pos)));
			}
			break;
		case OC_LENGTH:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg(msg, "org_code", input),
					 errdetail("A unified social credit code has 18 characters, not %d.",
							   (int) r->len)));
			break;
		case OC_CHECK:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg(msg, "org_code", input),
					 errdetail("The check character should be \"%c\", not \"%c\".",
							   r->expected, r->found)));
			break;
		case OC_OK:
			break;
	}
	elog(ERROR, "unexpected org_code parse result %d", (int) e);
}

static OrgCode *
oc_from_buffer(int sqlstate, const char *s, size_t len, const char *input_for_message)
{
	OcParse		r;
	OcError		e = oc_parse(s, len, &r);
	OrgCode    *result;

	if (e != OC_OK)
		oc_report(sqlstate, input_for_message ? input_for_message : pnstrdup(s, len), e, &r);
	result = palloc(sizeof(OrgCode));
	memcpy(result->data, r.code, ORG_CODE_LEN);
	return result;
}

void
org_code_to_cstring(const OrgCode *code, char *buf)
{
	memcpy(buf, code->data, ORG_CODE_LEN);
	buf[ORG_CODE_LEN] = '\0';
}

bool
org_code_parse(const char *s, size_t len, OrgCode *out)
{
	OcParse		r;

	if (oc_parse(s, len, &r) != OC_OK)
		return false;
	memcpy(out->data, r.code, ORG_CODE_LEN);
	return true;
}

/* ---- I/O ---- */

PG_FUNCTION_INFO_V1(org_code_in);
Datum
org_code_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	PG_RETURN_ORG_CODE_P(oc_from_buffer(ERRCODE_INVALID_TEXT_REPRESENTATION, s, strlen(s), s));
}

PG_FUNCTION_INFO_V1(org_code_out);
Datum
org_code_out(PG_FUNCTION_ARGS)
{
	OrgCode    *c = PG_GETARG_ORG_CODE_P(0);
	char	   *buf = palloc(ORG_CODE_LEN + 1);

	org_code_to_cstring(c, buf);
	PG_RETURN_CSTRING(buf);
}

/* Binary form: the 18 canonical characters; validated like text input. */
PG_FUNCTION_INFO_V1(org_code_recv);
Datum
org_code_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			n = buf->len - buf->cursor;
	const char *p = pq_getmsgbytes(buf, n);

	PG_RETURN_ORG_CODE_P(oc_from_buffer(ERRCODE_INVALID_BINARY_REPRESENTATION, p, n, NULL));
}

PG_FUNCTION_INFO_V1(org_code_send);
Datum
org_code_send(PG_FUNCTION_ARGS)
{
	OrgCode    *c = PG_GETARG_ORG_CODE_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, c->data, ORG_CODE_LEN);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(org_code_from_text);
Datum
org_code_from_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	OcParse		r;
	OcError		e = oc_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &r);
	OrgCode    *result;

	if (e != OC_OK)
		oc_report(ERRCODE_INVALID_TEXT_REPRESENTATION, text_to_cstring(t), e, &r);
	result = palloc(sizeof(OrgCode));
	memcpy(result->data, r.code, ORG_CODE_LEN);
	PG_RETURN_ORG_CODE_P(result);
}

PG_FUNCTION_INFO_V1(org_code_to_text);
Datum
org_code_to_text(PG_FUNCTION_ARGS)
{
	OrgCode    *c = PG_GETARG_ORG_CODE_P(0);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(c->data, ORG_CODE_LEN));
}

/* ---- comparison: never raise (LEAKPROOF) ---- */

static inline int
oc_cmp(const OrgCode *a, const OrgCode *b)
{
	return memcmp(a->data, b->data, ORG_CODE_LEN);
}

#define OC_CMP_FN(name, op) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(oc_cmp(PG_GETARG_ORG_CODE_P(0), PG_GETARG_ORG_CODE_P(1)) op 0); \
}

OC_CMP_FN(org_code_eq, ==)
OC_CMP_FN(org_code_ne, !=)
OC_CMP_FN(org_code_lt, <)
OC_CMP_FN(org_code_le, <=)
OC_CMP_FN(org_code_gt, >)
OC_CMP_FN(org_code_ge, >=)

PG_FUNCTION_INFO_V1(org_code_cmp);
Datum
org_code_cmp(PG_FUNCTION_ARGS)
{
	int			c = oc_cmp(PG_GETARG_ORG_CODE_P(0), PG_GETARG_ORG_CODE_P(1));

	PG_RETURN_INT32(c < 0 ? -1 : (c > 0 ? 1 : 0));
}

static int
org_code_fastcmp(Datum x, Datum y, SortSupport ssup)
{
	return oc_cmp(DatumGetOrgCodeP(x), DatumGetOrgCodeP(y));
}

PG_FUNCTION_INFO_V1(org_code_sortsupport);
Datum
org_code_sortsupport(PG_FUNCTION_ARGS)
{
	SortSupport ssup = (SortSupport) PG_GETARG_POINTER(0);

	ssup->comparator = org_code_fastcmp;
	PG_RETURN_VOID();
}

/* The on-disk hash contract: hash_any over the 18 canonical bytes, forever. */
PG_FUNCTION_INFO_V1(org_code_hash);
Datum
org_code_hash(PG_FUNCTION_ARGS)
{
	OrgCode    *c = PG_GETARG_ORG_CODE_P(0);

	return hash_any((const unsigned char *) c->data, ORG_CODE_LEN);
}

PG_FUNCTION_INFO_V1(org_code_hash_extended);
Datum
org_code_hash_extended(PG_FUNCTION_ARGS)
{
	OrgCode    *c = PG_GETARG_ORG_CODE_P(0);

	return hash_any_extended((const unsigned char *) c->data, ORG_CODE_LEN,
							 PG_GETARG_INT64(1));
}

/* ---- functions ---- */

/* Characters 3-8: the administrative division code of the registering authority. */
PG_FUNCTION_INFO_V1(org_code_region);
Datum
org_code_region(PG_FUNCTION_ARGS)
{
	OrgCode    *c = PG_GETARG_ORG_CODE_P(0);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(c->data + 2, 6));
}

PG_FUNCTION_INFO_V1(org_code_is_valid);
Datum
org_code_is_valid(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	OcParse		r;

	PG_RETURN_BOOL(oc_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &r) == OC_OK);
}

/* 17 characters of the alphabet (either case) -> the check character, as text. */
PG_FUNCTION_INFO_V1(org_code_check_char);
Datum
org_code_check_char(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(t);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	size_t		i;
	char		c;

	ident_trim(&s, &len);
	for (i = 0; i < len; i++)
		if (oc_value((unsigned char) s[i]) < 0)
			break;
	if (len != 17 || i != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid argument for org_code_check_char: \"%s\"", text_to_cstring(t)),
				 errdetail("The argument must be the first 17 characters of a unified social credit code.")));
	c = oc_check_char(s);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(&c, 1));
}
