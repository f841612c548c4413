/*-------------------------------------------------------------------------
 *
 * labvalue.c
 *	  ehr.labvalue (a measured result: comparator, decimal as written, UCUM
 *	  unit) and ehr.refrange (a reference interval with a unit): I/O,
 *	  equality, conversion and HL7 interpretation.
 *
 * Numbers are kept as written: 5.60 is stored as 560 x 10^-2 and prints as
 * 5.60; 1.5e3 is 15 x 10^2 and prints as 1.5e3 (plain notation whenever the
 * power of ten is not positive, so the text reads back to the same value).
 * Equality is equality as written ("5.6" <> "5.60", "mmol/L" <> "mmol/l"):
 * comparing quantities needs a unit conversion and belongs to interpret(),
 * <@ and ehr_refrange_equivalent().
 *
 * A converted value keeps the input's significant digits plus one (5.6
 * mmol/L is 101 mg/dL of glucose, not 100.887...): the extra digit keeps
 * round trips from drifting while not inventing precision the measurement
 * never had.
 *
 * A censored value (<0.01, >1000) stands for a set of values: a "<x" with
 * x > 0 for [0, x) (concentrations are not negative), a ">x" for (x, inf).
 * interpret() answers only when the whole set falls in one zone.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include <math.h>

#include "access/hash.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/numeric.h"

#define EHR_DEC_MAX_DIGITS	18
#define EHR_DEC_MAX_EXP		99
/*
 * Conversion factors are doubles: a converted value carries at most 15
 * significant digits, and rounding treats anything within a few units in the
 * last place of a double as the exact half it stands for.
 */
#define EHR_CONVERT_MAX_DIGITS	15
#define EHR_ROUND_NUDGE		4e-16L

/* ---- decimals ---- */

static int
coef_digits(int64 coef)
{
	uint64		v = coef < 0 ? -(uint64) coef : (uint64) coef;
	int			n = 1;

	while (v >= 10)
		v /= 10, n++;
	return n;
}

/*
 * Parse a decimal at s[*pos]: [+-] digits [. digits] [(e|E) [+-] digits].
 * The exponent part is taken only when digits follow the e, so "5eq" is
 * 5 equivalents. On failure returns false with *detail set.
 */
static bool
parse_decimal(const char *s, int *pos, EhrDecimal *d, const char **detail)
{
	int			i = *pos;
	bool		neg = false;
	int64		coef = 0;
	int			ndigits = 0;	/* significant digits taken */
	int			nread = 0;		/* digits seen */
	int			frac = 0;
	int			e = 0;

	memset(d, 0, sizeof(*d));
	if (s[i] == '+' || s[i] == '-')
		neg = (s[i++] == '-');
	for (;;)
	{
		if (isdigit((unsigned char) s[i]))
		{
			nread++;
			if (coef != 0 || s[i] != '0')
			{
				if (++ndigits > EHR_DEC_MAX_DIGITS)
				{
					*detail = "A number may have at most 18 significant digits.";
					return false;
				}
				coef = coef * 10 + (s[i] - '0');
			}
			if (frac > 0)
				frac++;
			i++;
		}
		else if (s[i] == '.' && frac == 0)
		{
			frac = 1;
			i++;
		}
		else
			break;
	}
	if (nread == 0)
	{
		*detail = "A number must have at least one digit.";
		return false;
	}
	if ((s[i] == 'e' || s[i] == 'E') &&
		(isdigit((unsigned char) s[i + 1]) ||
		 ((s[i + 1] == '+' || s[i + 1] == '-') && isdigit((unsigned char) s[i + 2]))))
	{
		bool		eneg = false;

		i++;
		if (s[i] == '+' || s[i] == '-')
			eneg = (s[i++] == '-');
		while (isdigit((unsigned char) s[i]))
		{
			e = e * 10 + (s[i++] - '0');
			if (e > 10 * EHR_DEC_MAX_EXP)
				break;
		}
		while (isdigit((unsigned char) s[i]))
			i++;
		if (eneg)
			e = -e;
	}
	e -= (frac > 0 ? frac - 1 : 0);
	if (e < -EHR_DEC_MAX_EXP || e > EHR_DEC_MAX_EXP)
	{
		*detail = "The power of ten of a number as written must lie between -99 and 99.";
		return false;
	}
	d->coef = neg ? -coef : coef;
	d->exp = e;
	*pos = i;
	return true;
}

static void
append_decimal(StringInfo buf, const EhrDecimal *d)
{
	char		digits[32];
	int			n;
	uint64		v = d->coef < 0 ? -(uint64) d->coef : (uint64) d->coef;

	snprintf(digits, sizeof(digits), UINT64_FORMAT, v);
	n = strlen(digits);
	if (d->coef < 0)
		appendStringInfoChar(buf, '-');
	if (d->exp >= 0 && (d->exp == 0 || v == 0))
	{
		appendStringInfoString(buf, digits);
		if (d->exp > 0)
			appendStringInfo(buf, "e%d", d->exp);
	}
	else if (d->exp > 0)
	{
		/* d.ddd e N: reads back to the same digits and power */
		appendStringInfoChar(buf, digits[0]);
		if (n > 1)
			appendStringInfo(buf, ".%s", digits + 1);
		appendStringInfo(buf, "e%d", d->exp + n - 1);
	}
	else
	{
		int			scale = -d->exp;

		if (n <= scale)
		{
			appendStringInfoString(buf, "0.");
			for (; n < scale; scale--)
				appendStringInfoChar(buf, '0');
			appendStringInfoString(buf, digits);
		}
		else
		{
			appendBinaryStringInfo(buf, digits, n - scale);
			appendStringInfoChar(buf, '.');
			appendStringInfoString(buf, digits + n - scale);
		}
	}
}

static char *
decimal_to_cstring(const EhrDecimal *d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	append_decimal(&buf, d);
	return buf.data;
}

static long double
decimal_value(const EhrDecimal *d)
{
	/* dividing by an exact power of ten rounds once, so equal decimals give equal values */
	if (d->exp < 0)
		return (long double) d->coef / powl(10.0L, -d->exp);
	return (long double) d->coef * powl(10.0L, d->exp);
}

/* Exact comparison of two decimals. */
static int
decimal_cmp(const EhrDecimal *a, const EhrDecimal *b)
{
	char		da[32],
				db[32];
	int			adj_a,
				adj_b,
				sign;

	if ((a->coef < 0) != (b->coef < 0))
		return a->coef < 0 ? -1 : 1;
	if (a->coef == 0 || b->coef == 0)
		return (a->coef > b->coef) - (a->coef < b->coef);
	sign = a->coef < 0 ? -1 : 1;
	snprintf(da, sizeof(da), UINT64_FORMAT, a->coef < 0 ? -(uint64) a->coef : (uint64) a->coef);
	snprintf(db, sizeof(db), UINT64_FORMAT, b->coef < 0 ? -(uint64) b->coef : (uint64) b->coef);
	adj_a = (int) strlen(da) + a->exp;
	adj_b = (int) strlen(db) + b->exp;
	if (adj_a != adj_b)
		return adj_a > adj_b ? sign : -sign;
	/* same magnitude: compare digit strings, missing digits being zeros */
	{
		int			i;
		int			la = strlen(da),
					lb = strlen(db);

		for (i = 0; i < Max(la, lb); i++)
		{
			char		ca = i < la ? da[i] : '0';
			char		cb = i < lb ? db[i] : '0';

			if (ca != cb)
				return ca > cb ? sign : -sign;
		}
	}
	return 0;
}

/*
 * The decimal nearest x with n significant digits (x given in full
 * precision). When the last kept digit lies left of the decimal point the
 * value is written out in full (5600, not 5.60e3). False if out of range.
 */
static bool
decimal_round(long double x, int n, EhrDecimal *d)
{
	long double ax = fabsl(x);
	int			q;
	long double m;
	long double r;
	long double limit = powl(10.0L, n);

	memset(d, 0, sizeof(*d));
	if (ax == 0)
		return true;
	if (!isfinite(ax))
		return false;
	q = (int) floorl(log10l(ax)) - n + 1;
	for (;;)
	{
		m = ax / powl(10.0L, q);
		/* half away from zero; the nudge absorbs binary noise in the factor */
		r = floorl(m + 0.5L + m * EHR_ROUND_NUDGE);
		if (r >= limit)
			q++;
		else if (r < limit / 10 && q > -10 * EHR_DEC_MAX_EXP)
			q--;
		else
			break;
	}
	d->coef = (int64) r;
	/* padding zeros in integer arithmetic: exact wherever long double is only a double */
	if (q > 0 && coef_digits(d->coef) + q <= EHR_DEC_MAX_DIGITS)
	{
		for (; q > 0; q--)
			d->coef *= 10;
	}
	if (q < -EHR_DEC_MAX_EXP || q > EHR_DEC_MAX_EXP)
		return false;
	if (x < 0)
		d->coef = -d->coef;
	d->exp = q;
	return true;
}

static bool
decimal_valid(const EhrDecimal *d)
{
	if (d->coef > INT64CONST(999999999999999999) || d->coef < -INT64CONST(999999999999999999))
		return false;
	return d->exp >= -EHR_DEC_MAX_EXP && d->exp <= EHR_DEC_MAX_EXP;
}

/* ---- building values ---- */

static LabValue *
make_labvalue(EhrComparator cmp, const EhrDecimal *d, const char *unit)
{
	int			ulen = strlen(unit);
	LabValue   *v = palloc0(offsetof(LabValue, unit) + ulen + 1);

	SET_VARSIZE(v, offsetof(LabValue, unit) + ulen + 1);
	v->comparator = cmp;
	v->value.coef = d->coef;
	v->value.exp = d->exp;
	memcpy(v->unit, unit, ulen + 1);
	return v;
}

static RefRange *
make_refrange(uint8 flags, const EhrDecimal *low, const EhrDecimal *high, const char *unit)
{
	int			ulen = strlen(unit);
	RefRange   *r = palloc0(offsetof(RefRange, unit) + ulen + 1);

	SET_VARSIZE(r, offsetof(RefRange, unit) + ulen + 1);
	r->flags = flags;
	if (flags & EHR_RR_HAS_LOW)
	{
		r->low.coef = low->coef;
		r->low.exp = low->exp;
	}
	if (flags & EHR_RR_HAS_HIGH)
	{
		r->high.coef = high->coef;
		r->high.exp = high->exp;
	}
	memcpy(r->unit, unit, ulen + 1);
	return r;
}

static const char *const comparator_text[] = {"", "<", "<=", ">", ">="};

/* Comparator at s[*pos]: < <= > >= and the report forms ≤ ≥. */
static EhrComparator
parse_comparator(const char *s, int *pos)
{
	const char *p = s + *pos;

	if (strncmp(p, "<=", 2) == 0)
		return *pos += 2, EHR_CMP_LE;
	if (strncmp(p, ">=", 2) == 0)
		return *pos += 2, EHR_CMP_GE;
	if (strncmp(p, "\xE2\x89\xA4", 3) == 0)	/* U+2264 ≤ */
		return *pos += 3, EHR_CMP_LE;
	if (strncmp(p, "\xE2\x89\xA5", 3) == 0)	/* U+2265 ≥ */
		return *pos += 3, EHR_CMP_GE;
	if (*p == '<')
		return *pos += 1, EHR_CMP_LT;
	if (*p == '>')
		return *pos += 1, EHR_CMP_GT;
	return EHR_CMP_NONE;
}

static void
skip_blanks(const char *s, int *pos)
{
	while (s[*pos] == ' ' || s[*pos] == '\t' || s[*pos] == '\n' || s[*pos] == '\r')
		(*pos)++;
}

/* Parse the unit that ends the text; false with *detail when invalid. */
static bool
parse_trailing_unit(EhrUnitCache *cache, const char *s, int pos, EhrUnit *unit, char **detail)
{
	char	   *d = NULL;

	if (!ehr_unit_parse_cached(cache, s + pos, unit, &d))
	{
		char	   *u;
		int			len;

		while (isspace((unsigned char) s[pos]))
			pos++;
		u = pstrdup(s + pos);
		len = strlen(u);

		while (len > 0 && isspace((unsigned char) u[len - 1]))
			u[--len] = '\0';
		*detail = psprintf("Unit \"%s\" is not valid: %s", u, d);
		return false;
	}
	return true;
}

static void
bad_input(const char *type, const char *str, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", type, str),
			 errdetail("%s", detail)));
}

/* ---- ehr.labvalue I/O ---- */

static LabValue *
labvalue_parse(EhrUnitCache *cache, const char *str)
{
	int			pos = 0;
	EhrComparator cmp;
	EhrDecimal	d;
	const char *detail = NULL;
	char	   *udetail = NULL;
	EhrUnit		unit;

	skip_blanks(str, &pos);
	cmp = parse_comparator(str, &pos);
	skip_blanks(str, &pos);
	if (str[pos] == '\0')
		bad_input("labvalue", str, "A lab value needs a number, optionally preceded by <, <=, > or >= and followed by a unit.");
	if (!parse_decimal(str, &pos, &d, &detail))
		bad_input("labvalue", str, detail);
	if (!parse_trailing_unit(cache, str, pos, &unit, &udetail))
		bad_input("labvalue", str, udetail);
	return make_labvalue(cmp, &d, unit.canonical);
}

char *
ehr_labvalue_to_cstring(const LabValue *v)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, comparator_text[v->comparator]);
	append_decimal(&buf, &v->value);
	if (v->unit[0] != '\0')
		appendStringInfo(&buf, " %s", v->unit);
	return buf.data;
}

PG_FUNCTION_INFO_V1(labvalue_in);
Datum
labvalue_in(PG_FUNCTION_ARGS)
{
	/* COPY and bulk inserts repeat a few units: parsed units are cached per call site */
	PG_RETURN_LABVALUE_P(labvalue_parse(ehr_unit_cache(fcinfo->flinfo), PG_GETARG_CSTRING(0)));
}

PG_FUNCTION_INFO_V1(labvalue_out);
Datum
labvalue_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(ehr_labvalue_to_cstring(PG_GETARG_LABVALUE_P(0)));
}

/* Binary format, version 1: int8 version, int8 comparator, int64 coef, int32 exp, unit text. */
#define EHR_LAB_BINARY_VERSION	1

static char *
recv_unit(StringInfo buf, const char *type)
{
	int			nbytes;
	char	   *text = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	EhrUnit		unit;
	char	   *detail = NULL;

	if (!ehr_unit_parse(text, nbytes, &unit, &detail))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external %s value", type),
				 errdetail("Unit \"%s\" is not valid: %s", text, detail)));
	return unit.canonical;
}

static void
recv_decimal(StringInfo buf, EhrDecimal *d, const char *type)
{
	memset(d, 0, sizeof(*d));
	d->coef = pq_getmsgint64(buf);
	d->exp = (int32) pq_getmsgint(buf, 4);
	if (!decimal_valid(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external %s value", type),
				 errdetail("A number has at most 18 digits and a power of ten between -99 and 99.")));
}

PG_FUNCTION_INFO_V1(labvalue_recv);
Datum
labvalue_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	int			cmp;
	EhrDecimal	d;

	if (version != EHR_LAB_BINARY_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external labvalue value"),
				 errdetail("Binary format version %d is not supported.", version)));
	cmp = pq_getmsgbyte(buf);
	if (cmp < EHR_CMP_NONE || cmp > EHR_CMP_GE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external labvalue value"),
				 errdetail("Comparator code %d is not one of 0 to 4.", cmp)));
	recv_decimal(buf, &d, "labvalue");
	PG_RETURN_LABVALUE_P(make_labvalue(cmp, &d, recv_unit(buf, "labvalue")));
}

PG_FUNCTION_INFO_V1(labvalue_send);
Datum
labvalue_send(PG_FUNCTION_ARGS)
{
	LabValue   *v = PG_GETARG_LABVALUE_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, EHR_LAB_BINARY_VERSION);
	pq_sendbyte(&buf, v->comparator);
	pq_sendint64(&buf, v->value.coef);
	pq_sendint32(&buf, v->value.exp);
	pq_sendtext(&buf, v->unit, strlen(v->unit));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---- ehr.refrange I/O ---- */

/* Rules every range obeys, from text or binary; NULL when fine. */
static const char *
refrange_check(uint8 flags, const EhrDecimal *low, const EhrDecimal *high)
{
	if (!(flags & (EHR_RR_HAS_LOW | EHR_RR_HAS_HIGH)))
		return "A reference range needs at least one bound.";
	if ((flags & EHR_RR_HAS_LOW) && (flags & EHR_RR_HAS_HIGH))
	{
		int			c = decimal_cmp(low, high);

		if (c > 0)
			return psprintf("Lower bound %s is greater than upper bound %s.",
							decimal_to_cstring(low), decimal_to_cstring(high));
		if (c == 0 && (flags & (EHR_RR_LOW_INC | EHR_RR_HIGH_INC)) != (EHR_RR_LOW_INC | EHR_RR_HIGH_INC))
			return "A range whose bounds are equal must include both of them, or it is empty.";
	}
	return NULL;
}

static bool
is_range_dash(const char *s, int *pos)
{
	static const char *const dashes[] = {
		"-", "~",
		"\xEF\xBD\x9E",			/* U+FF5E fullwidth tilde ～ */
		"\xE2\x80\x93",			/* U+2013 en dash – */
		"\xE2\x80\x94",			/* U+2014 em dash — */
		"\xE3\x80\x9C",			/* U+301C wave dash 〜 */
	};
	int			i;

	for (i = 0; i < lengthof(dashes); i++)
	{
		int			l = strlen(dashes[i]);

		if (strncmp(s + *pos, dashes[i], l) == 0)
		{
			*pos += l;
			return true;
		}
	}
	return false;
}

#define REFRANGE_SYNTAX "A reference range is written [low,high] or (low,high) (a parenthesis excludes its bound), low-high, or one bound after <, <=, > or >=, then the unit."

static RefRange *
refrange_parse(EhrUnitCache *cache, const char *str)
{
	int			pos = 0;
	uint8		flags = 0;
	EhrDecimal	low,
				high;
	const char *detail = NULL;
	char	   *udetail = NULL;
	EhrUnit		unit;
	EhrComparator cmp;

	memset(&low, 0, sizeof(low));
	memset(&high, 0, sizeof(high));
	skip_blanks(str, &pos);
	cmp = parse_comparator(str, &pos);
	if (cmp != EHR_CMP_NONE)
	{
		EhrDecimal *b = (cmp == EHR_CMP_LT || cmp == EHR_CMP_LE) ? &high : &low;

		skip_blanks(str, &pos);
		if (!parse_decimal(str, &pos, b, &detail))
			bad_input("refrange", str, detail);
		switch (cmp)
		{
			case EHR_CMP_LT:
				flags = EHR_RR_HAS_HIGH;
				break;
			case EHR_CMP_LE:
				flags = EHR_RR_HAS_HIGH | EHR_RR_HIGH_INC;
				break;
			case EHR_CMP_GT:
				flags = EHR_RR_HAS_LOW;
				break;
			default:
				flags = EHR_RR_HAS_LOW | EHR_RR_LOW_INC;
				break;
		}
	}
	else if (str[pos] == '[' || str[pos] == '(')
	{
		flags = EHR_RR_HAS_LOW | EHR_RR_HAS_HIGH | (str[pos] == '[' ? EHR_RR_LOW_INC : 0);
		pos++;
		skip_blanks(str, &pos);
		if (!parse_decimal(str, &pos, &low, &detail))
			bad_input("refrange", str, detail);
		skip_blanks(str, &pos);
		if (str[pos] != ',')
			bad_input("refrange", str, REFRANGE_SYNTAX);
		pos++;
		skip_blanks(str, &pos);
		if (!parse_decimal(str, &pos, &high, &detail))
			bad_input("refrange", str, detail);
		skip_blanks(str, &pos);
		if (str[pos] == ']')
			flags |= EHR_RR_HIGH_INC;
		else if (str[pos] != ')')
			bad_input("refrange", str, REFRANGE_SYNTAX);
		pos++;
	}
	else
	{
		/* low-high, as most reports print it: both bounds included */
		if (str[pos] == '\0')
			bad_input("refrange", str, REFRANGE_SYNTAX);
		if (!parse_decimal(str, &pos, &low, &detail))
			bad_input("refrange", str, detail);
		skip_blanks(str, &pos);
		if (!is_range_dash(str, &pos))
			bad_input("refrange", str, REFRANGE_SYNTAX);
		skip_blanks(str, &pos);
		if (!parse_decimal(str, &pos, &high, &detail))
			bad_input("refrange", str, detail);
		flags = EHR_RR_HAS_LOW | EHR_RR_HAS_HIGH | EHR_RR_LOW_INC | EHR_RR_HIGH_INC;
	}
	if (!parse_trailing_unit(cache, str, pos, &unit, &udetail))
		bad_input("refrange", str, udetail);
	if ((detail = refrange_check(flags, &low, &high)) != NULL)
		bad_input("refrange", str, detail);
	return make_refrange(flags, &low, &high, unit.canonical);
}

char *
ehr_refrange_to_cstring(const RefRange *r)
{
	StringInfoData buf;
	bool		lo = (r->flags & EHR_RR_HAS_LOW) != 0;
	bool		hi = (r->flags & EHR_RR_HAS_HIGH) != 0;

	initStringInfo(&buf);
	if (lo && hi)
	{
		appendStringInfoChar(&buf, (r->flags & EHR_RR_LOW_INC) ? '[' : '(');
		append_decimal(&buf, &r->low);
		appendStringInfoChar(&buf, ',');
		append_decimal(&buf, &r->high);
		appendStringInfoChar(&buf, (r->flags & EHR_RR_HIGH_INC) ? ']' : ')');
	}
	else if (hi)
	{
		appendStringInfoString(&buf, (r->flags & EHR_RR_HIGH_INC) ? "<=" : "<");
		append_decimal(&buf, &r->high);
	}
	else
	{
		appendStringInfoString(&buf, (r->flags & EHR_RR_LOW_INC) ? ">=" : ">");
		append_decimal(&buf, &r->low);
	}
	if (r->unit[0] != '\0')
		appendStringInfo(&buf, " %s", r->unit);
	return buf.data;
}

PG_FUNCTION_INFO_V1(refrange_in);
Datum
refrange_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_REFRANGE_P(refrange_parse(ehr_unit_cache(fcinfo->flinfo), PG_GETARG_CSTRING(0)));
}

PG_FUNCTION_INFO_V1(refrange_out);
Datum
refrange_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(ehr_refrange_to_cstring(PG_GETARG_REFRANGE_P(0)));
}

/* Binary format, version 1: int8 version, int8 flags, low and high (int64 coef, int32 exp), unit text. */
PG_FUNCTION_INFO_V1(refrange_recv);
Datum
refrange_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	int			flags;
	EhrDecimal	low,
				high;
	const char *detail;
	char	   *unit;

	if (version != EHR_LAB_BINARY_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external refrange value"),
				 errdetail("Binary format version %d is not supported.", version)));
	flags = pq_getmsgbyte(buf);
	if (flags & ~(EHR_RR_HAS_LOW | EHR_RR_HAS_HIGH | EHR_RR_LOW_INC | EHR_RR_HIGH_INC))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external refrange value"),
				 errdetail("Flags 0x%02x hold unknown bits.", flags)));
	recv_decimal(buf, &low, "refrange");
	recv_decimal(buf, &high, "refrange");
	unit = recv_unit(buf, "refrange");
	/* an absent bound is neither included nor stored */
	if (!(flags & EHR_RR_HAS_LOW))
		flags &= ~EHR_RR_LOW_INC;
	if (!(flags & EHR_RR_HAS_HIGH))
		flags &= ~EHR_RR_HIGH_INC;
	if ((detail = refrange_check(flags, &low, &high)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external refrange value"),
				 errdetail("%s", detail)));
	PG_RETURN_REFRANGE_P(make_refrange(flags, &low, &high, unit));
}

PG_FUNCTION_INFO_V1(refrange_send);
Datum
refrange_send(PG_FUNCTION_ARGS)
{
	RefRange   *r = PG_GETARG_REFRANGE_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, EHR_LAB_BINARY_VERSION);
	pq_sendbyte(&buf, r->flags);
	pq_sendint64(&buf, r->low.coef);
	pq_sendint32(&buf, r->low.exp);
	pq_sendint64(&buf, r->high.coef);
	pq_sendint32(&buf, r->high.exp);
	pq_sendtext(&buf, r->unit, strlen(r->unit));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---- equality and hashing: as written, byte for byte (all padding is zero) ---- */

static bool
varlena_bytes_equal(const struct varlena *a, const struct varlena *b)
{
	return VARSIZE(a) == VARSIZE(b) &&
		memcmp(VARDATA(a), VARDATA(b), VARSIZE(a) - VARHDRSZ) == 0;
}

PG_FUNCTION_INFO_V1(labvalue_eq);
Datum
labvalue_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(varlena_bytes_equal((struct varlena *) PG_GETARG_LABVALUE_P(0),
									   (struct varlena *) PG_GETARG_LABVALUE_P(1)));
}

PG_FUNCTION_INFO_V1(labvalue_ne);
Datum
labvalue_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!varlena_bytes_equal((struct varlena *) PG_GETARG_LABVALUE_P(0),
										(struct varlena *) PG_GETARG_LABVALUE_P(1)));
}

PG_FUNCTION_INFO_V1(refrange_eq);
Datum
refrange_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(varlena_bytes_equal((struct varlena *) PG_GETARG_REFRANGE_P(0),
									   (struct varlena *) PG_GETARG_REFRANGE_P(1)));
}

PG_FUNCTION_INFO_V1(refrange_ne);
Datum
refrange_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!varlena_bytes_equal((struct varlena *) PG_GETARG_REFRANGE_P(0),
										(struct varlena *) PG_GETARG_REFRANGE_P(1)));
}

PG_FUNCTION_INFO_V1(labvalue_hash);
Datum
labvalue_hash(PG_FUNCTION_ARGS)
{
	struct varlena *v = (struct varlena *) PG_GETARG_LABVALUE_P(0);

	return hash_any((unsigned char *) VARDATA(v), VARSIZE(v) - VARHDRSZ);
}

PG_FUNCTION_INFO_V1(labvalue_hash_extended);
Datum
labvalue_hash_extended(PG_FUNCTION_ARGS)
{
	struct varlena *v = (struct varlena *) PG_GETARG_LABVALUE_P(0);

	return hash_any_extended((unsigned char *) VARDATA(v), VARSIZE(v) - VARHDRSZ,
							 PG_GETARG_INT64(1));
}

PG_FUNCTION_INFO_V1(refrange_hash);
Datum
refrange_hash(PG_FUNCTION_ARGS)
{
	struct varlena *v = (struct varlena *) PG_GETARG_REFRANGE_P(0);

	return hash_any((unsigned char *) VARDATA(v), VARSIZE(v) - VARHDRSZ);
}

PG_FUNCTION_INFO_V1(refrange_hash_extended);
Datum
refrange_hash_extended(PG_FUNCTION_ARGS)
{
	struct varlena *v = (struct varlena *) PG_GETARG_REFRANGE_P(0);

	return hash_any_extended((unsigned char *) VARDATA(v), VARSIZE(v) - VARHDRSZ,
							 PG_GETARG_INT64(1));
}

/* ---- accessors ---- */

static Datum
decimal_numeric(const EhrDecimal *d)
{
	char		buf[64];

	/* coef E exp keeps the scale as written: 560e-2 is 5.60 */
	snprintf(buf, sizeof(buf), INT64_FORMAT "e%d", d->coef, d->exp);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

PG_FUNCTION_INFO_V1(labvalue_value);
Datum
labvalue_value(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(decimal_numeric(&PG_GETARG_LABVALUE_P(0)->value));
}

PG_FUNCTION_INFO_V1(labvalue_unit);
Datum
labvalue_unit(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(PG_GETARG_LABVALUE_P(0)->unit));
}

PG_FUNCTION_INFO_V1(labvalue_comparator);
Datum
labvalue_comparator(PG_FUNCTION_ARGS)
{
	LabValue   *v = PG_GETARG_LABVALUE_P(0);

	if (v->comparator == EHR_CMP_NONE)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(comparator_text[v->comparator]));
}

PG_FUNCTION_INFO_V1(refrange_low);
Datum
refrange_low(PG_FUNCTION_ARGS)
{
	RefRange   *r = PG_GETARG_REFRANGE_P(0);

	if (!(r->flags & EHR_RR_HAS_LOW))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(decimal_numeric(&r->low));
}

PG_FUNCTION_INFO_V1(refrange_high);
Datum
refrange_high(PG_FUNCTION_ARGS)
{
	RefRange   *r = PG_GETARG_REFRANGE_P(0);

	if (!(r->flags & EHR_RR_HAS_HIGH))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(decimal_numeric(&r->high));
}

PG_FUNCTION_INFO_V1(refrange_unit);
Datum
refrange_unit(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(PG_GETARG_REFRANGE_P(0)->unit));
}

/* ---- conversion ---- */

/* The parsed unit of a stored value or range (always valid: it was checked on input). */
static void
stored_unit(EhrUnitCache *cache, const char *text, EhrUnit *unit)
{
	char	   *detail = NULL;

	if (!ehr_unit_parse_cached(cache, text, unit, &detail))
		elog(ERROR, "stored unit \"%s\" does not parse: %s", text, detail);
}

static LabValue *convert_to(EhrUnitCache *cache, const LabValue *v, const EhrUnit *to,
							double molar_mass);

LabValue *
ehr_labvalue_convert_to(const LabValue *v, const EhrUnit *to, double molar_mass)
{
	return convert_to(NULL, v, to, molar_mass);
}

static LabValue *
convert_to(EhrUnitCache *cache, const LabValue *v, const EhrUnit *to, double molar_mass)
{
	EhrUnit		from;
	double		factor;
	EhrDecimal	d;
	int			n;

	stored_unit(cache, v->unit, &from);
	if (ehr_unit_factor(&from, to, molar_mass, &factor) != EHR_UNIT_OK)
		return NULL;
	/* the same unit, or an exact factor of one: nothing to round */
	if (fabs(factor - 1.0) < 1e-12)
		return make_labvalue(v->comparator, &v->value, to->canonical);
	n = Min(coef_digits(v->value.coef) + 1, EHR_CONVERT_MAX_DIGITS);
	if (!decimal_round(decimal_value(&v->value) * (long double) factor, n, &d))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %s converted to \"%s\" is out of range",
						ehr_labvalue_to_cstring(v), to->canonical),
				 errdetail("A lab value's power of ten must lie between -99 and 99.")));
	return make_labvalue(v->comparator, &d, to->canonical);
}

static void
check_molar_mass(double molar_mass)
{
	if (!(molar_mass > 0) || isinf(molar_mass))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid molar mass %g", molar_mass),
				 errdetail("A molar mass is a positive, finite number of grams per mole.")));
}

static LabValue *
convert_text(EhrUnitCache *cache, const LabValue *v, const char *unit, double molar_mass)
{
	EhrUnit		to;
	EhrUnit		from;
	char	   *detail = NULL;
	double		factor;
	EhrUnitConversion why;
	LabValue   *result;

	if (!ehr_unit_parse_cached(cache, unit, &to, &detail))
		ehr_unit_parse_or_error(unit, &to); /* raises, naming the unit */
	/* the next lookup may evict the cache slot that holds this spelling */
	to.canonical = pstrdup(to.canonical);
	result = convert_to(cache, v, &to, molar_mass);
	if (result)
		return result;
	stored_unit(cache, v->unit, &from);
	why = ehr_unit_factor(&from, &to, molar_mass, &factor);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot convert unit \"%s\" to \"%s\"",
					EHR_UNIT_SHOW(from.canonical), EHR_UNIT_SHOW(to.canonical)),
			 errdetail("%s", ehr_unit_mismatch_detail(&from, &to, why))));
	return NULL;				/* keep compiler quiet */
}

LabValue *
ehr_labvalue_convert(const LabValue *v, const char *unit, double molar_mass)
{
	return convert_text(NULL, v, unit, molar_mass);
}

PG_FUNCTION_INFO_V1(labvalue_convert);
Datum
labvalue_convert(PG_FUNCTION_ARGS)
{
	LabValue   *v = PG_GETARG_LABVALUE_P(0);
	char	   *unit = text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_RETURN_LABVALUE_P(convert_text(ehr_unit_cache(fcinfo->flinfo), v, unit, 0));
}

PG_FUNCTION_INFO_V1(labvalue_convert_molar);
Datum
labvalue_convert_molar(PG_FUNCTION_ARGS)
{
	LabValue   *v = PG_GETARG_LABVALUE_P(0);
	char	   *unit = text_to_cstring(PG_GETARG_TEXT_PP(1));
	float8		molar_mass = PG_GETARG_FLOAT8(2);

	check_molar_mass(molar_mass);
	PG_RETURN_LABVALUE_P(convert_text(ehr_unit_cache(fcinfo->flinfo), v, unit, molar_mass));
}

/* ---- interpretation ---- */

/* Zones along the number line, lowest first. */
typedef enum Zone
{
	ZONE_LL, ZONE_L, ZONE_N, ZONE_H, ZONE_HH
} Zone;

static const char *const zone_code[] = {"LL", "L", "N", "H", "HH"};

/*
 * A point of the value's set: x, or just below it (side -1), or just above
 * it (side +1); x may be infinite.
 */
typedef struct EdgePoint
{
	long double x;
	int			side;
} EdgePoint;

/* Tolerance for equality after a unit conversion (binary noise in factors). */
static int
cmp_tol(long double a, long double b, bool converted)
{
	if (converted && isfinite(a) && isfinite(b) &&
		fabsl(a - b) <= 1e-12L * Max(fabsl(a), fabsl(b)))
		return 0;
	return (a > b) - (a < b);
}

/* -1 below the range, 0 in it, +1 above it. */
static int
point_vs_range(const EdgePoint *p, const RefRange *r, double factor)
{
	bool		converted = (fabs(factor - 1.0) >= 1e-12);
	long double x = converted ? p->x * factor : p->x;

	if (r->flags & EHR_RR_HAS_LOW)
	{
		long double lo = decimal_value(&r->low);
		int			c = cmp_tol(x, lo, converted);

		if (c < 0 || (c == 0 && (p->side < 0 || (p->side == 0 && !(r->flags & EHR_RR_LOW_INC)))))
			return -1;
	}
	if (r->flags & EHR_RR_HAS_HIGH)
	{
		long double hi = decimal_value(&r->high);
		int			c = cmp_tol(x, hi, converted);

		if (c > 0 || (c == 0 && (p->side > 0 || (p->side == 0 && !(r->flags & EHR_RR_HIGH_INC)))))
			return 1;
	}
	return 0;
}

/* Factor from the value's unit to the range's, or false when they do not convert. */
static bool
range_factor(EhrUnitCache *cache, const EhrUnit *from, const RefRange *r, double *factor)
{
	EhrUnit		to;

	stored_unit(cache, r->unit, &to);
	return ehr_unit_factor(from, &to, 0, factor) == EHR_UNIT_OK;
}

static Zone
point_zone(const EdgePoint *p, const RefRange *normal, double nf,
		   const RefRange *critical, double cf)
{
	int			c;

	if (critical)
	{
		c = point_vs_range(p, critical, cf);
		if (c < 0)
			return ZONE_LL;
		if (c > 0)
			return ZONE_HH;
	}
	c = point_vs_range(p, normal, nf);
	return c < 0 ? ZONE_L : c > 0 ? ZONE_H : ZONE_N;
}

static const char *
interpret(EhrUnitCache *cache, const LabValue *v, const RefRange *normal,
		  const RefRange *critical)
{
	EhrUnit		unit;
	double		nf,
				cf = 1.0;
	long double x = decimal_value(&v->value);
	EdgePoint	lo,
				hi;
	Zone		zlo,
				zhi;

	stored_unit(cache, v->unit, &unit);
	if (!range_factor(cache, &unit, normal, &nf))
		return NULL;
	if (critical && !range_factor(cache, &unit, critical, &cf))
		return NULL;

	/* the set of values v stands for, as its lowest and highest points */
	lo.x = hi.x = x;
	lo.side = hi.side = 0;
	switch ((EhrComparator) v->comparator)
	{
		case EHR_CMP_NONE:
			break;
		case EHR_CMP_LT:
		case EHR_CMP_LE:
			hi.side = (v->comparator == EHR_CMP_LT) ? -1 : 0;
			/* below a positive limit of detection: [0, x) */
			lo.x = (x > 0) ? 0 : -INFINITY;
			lo.side = 0;
			break;
		case EHR_CMP_GT:
		case EHR_CMP_GE:
			lo.side = (v->comparator == EHR_CMP_GT) ? 1 : 0;
			hi.x = INFINITY;
			hi.side = 0;
			break;
	}
	zlo = point_zone(&lo, normal, nf, critical, cf);
	zhi = point_zone(&hi, normal, nf, critical, cf);
	return zlo == zhi ? zone_code[zlo] : NULL;
}

const char *
ehr_labvalue_interpret(const LabValue *v, const RefRange *normal, const RefRange *critical)
{
	return interpret(NULL, v, normal, critical);
}

PG_FUNCTION_INFO_V1(labvalue_interpret);
Datum
labvalue_interpret(PG_FUNCTION_ARGS)
{
	const char *z = interpret(ehr_unit_cache(fcinfo->flinfo), PG_GETARG_LABVALUE_P(0),
							  PG_GETARG_REFRANGE_P(1), NULL);

	if (z == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(z));
}

PG_FUNCTION_INFO_V1(labvalue_interpret_critical);
Datum
labvalue_interpret_critical(PG_FUNCTION_ARGS)
{
	const char *z = interpret(ehr_unit_cache(fcinfo->flinfo), PG_GETARG_LABVALUE_P(0),
							  PG_GETARG_REFRANGE_P(1), PG_GETARG_REFRANGE_P(2));

	if (z == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(z));
}

/* labvalue <@ refrange: the whole value lies in the range (NULL when unknown). */
PG_FUNCTION_INFO_V1(labvalue_within);
Datum
labvalue_within(PG_FUNCTION_ARGS)
{
	const char *z = interpret(ehr_unit_cache(fcinfo->flinfo), PG_GETARG_LABVALUE_P(0),
							  PG_GETARG_REFRANGE_P(1), NULL);

	if (z == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(strcmp(z, "N") == 0);
}

/* ---- refrange conversion and equivalence ---- */

/* One number converted by factor, keeping its significant digits plus one. */
static void
convert_decimal(const EhrDecimal *in, double factor, EhrDecimal *out, const char *what)
{
	int			n;

	if (fabs(factor - 1.0) < 1e-12)
	{
		*out = *in;
		return;
	}
	n = Min(coef_digits(in->coef) + 1, EHR_CONVERT_MAX_DIGITS);
	if (!decimal_round(decimal_value(in) * (long double) factor, n, out))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s is out of range after conversion", what, decimal_to_cstring(in)),
				 errdetail("A lab value's power of ten must lie between -99 and 99.")));
}

/*
 * Convert a range's bounds to unit "to" (same digit rule as values); NULL
 * when the units do not convert.
 */
RefRange *
ehr_refrange_convert_to(const RefRange *r, const EhrUnit *to, double molar_mass)
{
	EhrUnit		from;
	double		factor;
	EhrDecimal	low,
				high;
	const char *detail;

	stored_unit(NULL, r->unit, &from);
	if (ehr_unit_factor(&from, to, molar_mass, &factor) != EHR_UNIT_OK)
		return NULL;
	memset(&low, 0, sizeof(low));
	memset(&high, 0, sizeof(high));
	if (r->flags & EHR_RR_HAS_LOW)
		convert_decimal(&r->low, factor, &low, "lower bound");
	if (r->flags & EHR_RR_HAS_HIGH)
		convert_decimal(&r->high, factor, &high, "upper bound");
	if ((detail = refrange_check(r->flags, &low, &high)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("range %s converted to \"%s\" is empty", ehr_refrange_to_cstring(r),
						EHR_UNIT_SHOW(to->canonical)),
				 errdetail("%s", detail)));
	return make_refrange(r->flags, &low, &high, to->canonical);
}

static RefRange *
refrange_convert_text(const RefRange *r, const char *unit, double molar_mass)
{
	EhrUnit		to;
	EhrUnit		from;
	double		factor;
	EhrUnitConversion why;
	RefRange   *result;

	ehr_unit_parse_or_error(unit, &to);
	result = ehr_refrange_convert_to(r, &to, molar_mass);
	if (result)
		return result;
	stored_unit(NULL, r->unit, &from);
	why = ehr_unit_factor(&from, &to, molar_mass, &factor);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot convert unit \"%s\" to \"%s\"",
					EHR_UNIT_SHOW(from.canonical), EHR_UNIT_SHOW(to.canonical)),
			 errdetail("%s", ehr_unit_mismatch_detail(&from, &to, why))));
	return NULL;				/* keep compiler quiet */
}

PG_FUNCTION_INFO_V1(refrange_convert);
Datum
refrange_convert(PG_FUNCTION_ARGS)
{
	PG_RETURN_REFRANGE_P(refrange_convert_text(PG_GETARG_REFRANGE_P(0),
											   text_to_cstring(PG_GETARG_TEXT_PP(1)), 0));
}

PG_FUNCTION_INFO_V1(refrange_convert_molar);
Datum
refrange_convert_molar(PG_FUNCTION_ARGS)
{
	float8		molar_mass = PG_GETARG_FLOAT8(2);

	check_molar_mass(molar_mass);
	PG_RETURN_REFRANGE_P(refrange_convert_text(PG_GETARG_REFRANGE_P(0),
											   text_to_cstring(PG_GETARG_TEXT_PP(1)), molar_mass));
}

static bool
convert_bound(const EhrDecimal *b, double factor, const EhrDecimal *like, EhrDecimal *out)
{
	/* rounded to the same power of ten as "like" (the other side's digits) */
	long double x = decimal_value(b) * (long double) factor;
	long double m = x / powl(10.0L, like->exp);
	long double r = floorl(fabsl(m) + 0.5L + fabsl(m) * EHR_ROUND_NUDGE);

	memset(out, 0, sizeof(*out));
	if (!isfinite(r) || r > 999999999999999999.0L)
		return false;
	out->coef = (int64) r * (x < 0 ? -1 : 1);
	out->exp = like->exp;
	return true;
}

/* Every bound of a, in b's unit at b's digits, equals b's bound. */
static bool
range_matches(const RefRange *a, const RefRange *b, double factor)
{
	EhrDecimal	d;

	if ((a->flags & EHR_RR_HAS_LOW) &&
		!(convert_bound(&a->low, factor, &b->low, &d) && decimal_cmp(&d, &b->low) == 0))
		return false;
	if ((a->flags & EHR_RR_HAS_HIGH) &&
		!(convert_bound(&a->high, factor, &b->high, &d) && decimal_cmp(&d, &b->high) == 0))
		return false;
	return true;
}

bool
ehr_refrange_equivalent(const RefRange *a, const RefRange *b, double molar_mass,
						bool *comparable)
{
	EhrUnit		ua,
				ub;
	double		fab,
				fba;

	stored_unit(NULL, a->unit, &ua);
	stored_unit(NULL, b->unit, &ub);
	*comparable = (ehr_unit_factor(&ua, &ub, molar_mass, &fab) == EHR_UNIT_OK &&
				   ehr_unit_factor(&ub, &ua, molar_mass, &fba) == EHR_UNIT_OK);
	if (!*comparable)
		return false;
	if (a->flags != b->flags)
		return false;
	return range_matches(a, b, fab) && range_matches(b, a, fba);
}

PG_FUNCTION_INFO_V1(refrange_equivalent);
Datum
refrange_equivalent(PG_FUNCTION_ARGS)
{
	bool		comparable;
	bool		eq = ehr_refrange_equivalent(PG_GETARG_REFRANGE_P(0),
											 PG_GETARG_REFRANGE_P(1), 0, &comparable);

	if (!comparable)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(eq);
}

PG_FUNCTION_INFO_V1(refrange_equivalent_molar);
Datum
refrange_equivalent_molar(PG_FUNCTION_ARGS)
{
	bool		comparable;
	bool		eq;
	float8		molar_mass = PG_GETARG_FLOAT8(2);

	check_molar_mass(molar_mass);
	eq = ehr_refrange_equivalent(PG_GETARG_REFRANGE_P(0), PG_GETARG_REFRANGE_P(1),
								 molar_mass, &comparable);
	if (!comparable)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(eq);
}

/* ---- units as text ---- */

PG_FUNCTION_INFO_V1(ehr_unit_normalize);
Datum
ehr_unit_normalize(PG_FUNCTION_ARGS)
{
	EhrUnit		u;

	ehr_unit_parse_or_error(text_to_cstring(PG_GETARG_TEXT_PP(0)), &u);
	PG_RETURN_TEXT_P(cstring_to_text(u.canonical));
}

PG_FUNCTION_INFO_V1(ehr_unit_commensurable_text);
Datum
ehr_unit_commensurable_text(PG_FUNCTION_ARGS)
{
	EhrUnit		a,
				b;

	ehr_unit_parse_or_error(text_to_cstring(PG_GETARG_TEXT_PP(0)), &a);
	ehr_unit_parse_or_error(text_to_cstring(PG_GETARG_TEXT_PP(1)), &b);
	PG_RETURN_BOOL(ehr_unit_commensurable(&a, &b));
}
