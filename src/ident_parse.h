/*-------------------------------------------------------------------------
 *
 * ident_parse.h
 *	  The pure parsing cores of ehr.resident_id (GB 11643-1999) and
 *	  ehr.org_code (GB 32100-2015).
 *
 * Nothing here includes a PostgreSQL header, allocates or raises: each core
 * takes a buffer and its length and returns an error code, filling a small
 * struct that says which rule failed and where. resident_id.c and org_code.c
 * turn the codes into ereport()s; test/fuzz/ compiles the same functions into
 * a libFuzzer harness without a backend, so the code the fuzzer exercises is
 * exactly the code the server runs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef EHR_IDENT_PARSE_H
#define EHR_IDENT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- shared ---- */

/* Blanks trimmed from both ends of an identifier: ASCII whitespace. */
static inline bool
ident_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline void
ident_trim(const char **s, size_t *len)
{
	while (*len > 0 && ident_is_blank((unsigned char) (*s)[0]))
	{
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ident_is_blank((unsigned char) (*s)[*len - 1]))
		(*len)--;
}

/* ---- resident_id: GB 11643-1999 ---- */

typedef enum RidError
{
	RID_OK = 0,
	RID_BAD_CHAR,				/* not an ASCII digit (or x/X) at byte offset */
	RID_X_NOT_LAST,				/* x/X anywhere but the 18th character */
	RID_LENGTH,					/* neither 18 characters nor 15 digits */
	RID_PROVINCE,				/* first two digits name no province */
	RID_DATE,					/* birth date does not exist */
	RID_DATE_EARLY,				/* birth date before 1800 */
	RID_CHECK					/* wrong check character */
} RidError;

typedef struct RidParse
{
	int64_t		value;			/* the 17 significant digits as a number */
	size_t		offset;			/* RID_BAD_CHAR, RID_X_NOT_LAST: byte offset in
								 * the trimmed input */
	const char *trimmed;		/* the input without its blanks */
	size_t		lead;			/* blanks trimmed before it */
	size_t		len;			/* bytes of the trimmed input (RID_LENGTH) */
	int			province;		/* RID_PROVINCE */
	int			year,			/* RID_DATE, RID_DATE_EARLY */
				month,
				day;
	char		expected;		/* RID_CHECK: the right check character */
	char		found;			/* RID_CHECK: the one given */
} RidParse;

#define RID_MIN_YEAR	1800
/* 10^17: every value is below it (17 decimal digits) */
#define RID_VALUE_LIMIT	INT64_C(100000000000000000)

/* Provinces of GB/T 2260 (first two digits), plus 71 Taiwan, 81-83 HK/Macao/TW residents. */
static inline bool
rid_province_exists(int p)
{
	return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
		(p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) ||
		p == 71 || p == 81 || p == 82 || p == 83;
}

static inline int
rid_days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/*
 * ISO 7064 MOD 11-2 as GB 11643-1999 writes it: sum of digit_i * w_i over the
 * 17 digits, mod 11, mapped through "10X98765432".
 */
static inline char
rid_check_char(const char d[17])
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	int			sum = 0;
	int			i;

	for (i = 0; i < 17; i++)
		sum += (d[i] - '0') * w[i];
	return "10X98765432"[sum % 11];
}

static inline int
rid_num(const char *d, int n)
{
	int			v = 0;

	while (n-- > 0)
		v = v * 10 + (*d++ - '0');
	return v;
}

/*
 * Province and birth date of 17 ASCII digits; on success sets r->value and
 * r->expected (the check character), computed in the same pass.
 */
static inline RidError
rid_validate17(const char d[17], RidParse *r)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	int64_t		v = 0;
	int			sum = 0;
	int			i;

	r->province = (d[0] - '0') * 10 + (d[1] - '0');
	if (!rid_province_exists(r->province))
		return RID_PROVINCE;
	r->year = rid_num(d + 6, 4);
	r->month = (d[10] - '0') * 10 + (d[11] - '0');
	r->day = (d[12] - '0') * 10 + (d[13] - '0');
	if (r->month < 1 || r->month > 12 || r->day < 1 ||
		r->day > rid_days_in_month(r->year, r->month))
		return RID_DATE;
	if (r->year < RID_MIN_YEAR)
		return RID_DATE_EARLY;
	for (i = 0; i < 17; i++)
	{
		int			c = d[i] - '0';

		v = v * 10 + c;
		sum += c * w[i];
	}
	r->value = v;
	r->expected = "10X98765432"[sum % 11];
	return RID_OK;
}

/*
 * Parse s[0..len): trim blanks; 18 characters (last may be x/X) or 15 digits
 * (legacy: "19" inserted before the two-digit year); every character an ASCII
 * digit; province; real birth date >= 1800; check character (18-character
 * form only). Rules are checked in that order and the first failure returned.
 */
static inline RidError
rid_parse(const char *s, size_t len, RidParse *r)
{
	char		d[17];
	const char *digits;
	size_t		i;
	size_t		xpos = (size_t) -1;
	RidError	e;

	r->trimmed = s;
	ident_trim(&s, &len);
	r->lead = (size_t) (s - r->trimmed);
	r->trimmed = s;
	r->len = len;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if ((unsigned) (c - '0') > 9)
		{
			if (c != 'x' && c != 'X')
			{
				r->offset = i;
				return RID_BAD_CHAR;
			}
			if (xpos == (size_t) -1)
				xpos = i;
		}
	}
	if (len != 18 && len != 15)
		return RID_LENGTH;
	if (xpos != (size_t) -1 && !(len == 18 && xpos == 17))
	{
		r->offset = xpos;
		return RID_X_NOT_LAST;
	}
	digits = s;
	if (len == 15)
	{
		/* legacy form: "19" inserted before the two-digit year */
		for (i = 0; i < 6; i++)
			d[i] = s[i];
		d[6] = '1';
		d[7] = '9';
		for (i = 6; i < 15; i++)
			d[i + 2] = s[i];
		digits = d;
	}
	e = rid_validate17(digits, r);
	if (e != RID_OK)
		return e;
	if (len == 18 && ((s[17] == 'x') ? 'X' : s[17]) != r->expected)
	{
		r->found = s[17];
		return RID_CHECK;
	}
	return RID_OK;
}

/* The 17 digits of a stored value (0 <= v < 10^17). */
static inline void
rid_digits(int64_t v, char d[17])
{
	int			i;

	for (i = 16; i >= 0; i--)
	{
		d[i] = (char) ('0' + v % 10);
		v /= 10;
	}
}

/* Validate a stored value (binary input): in range, province, date. */
static inline RidError
rid_validate_value(int64_t v, RidParse *r)
{
	char		d[17];

	if (v < 0 || v >= RID_VALUE_LIMIT)
		return RID_LENGTH;
	rid_digits(v, d);
	return rid_validate17(d, r);
}

/* Canonical text: 17 digits and the check character, NUL-terminated (19 bytes). */
static inline void
rid_format(int64_t v, char *buf)
{
	rid_digits(v, buf);
	buf[17] = rid_check_char(buf);
	buf[18] = '\0';
}

/* ---- org_code: GB 32100-2015 ---- */

typedef enum OcError
{
	OC_OK = 0,
	OC_BAD_CHAR,				/* a character outside the code alphabet */
	OC_LENGTH,					/* not 18 characters */
	OC_CHECK					/* wrong check character */
} OcError;

typedef struct OcParse
{
	char		code[18];		/* canonical (upper-case) characters */
	size_t		offset;			/* OC_BAD_CHAR: byte offset in the trimmed input */
	const char *trimmed;		/* the input without its blanks */
	size_t		lead;			/* blanks trimmed before it */
	size_t		len;			/* OC_LENGTH */
	char		expected;		/* OC_CHECK */
	char		found;
} OcParse;

#define OC_ALPHABET "0123456789ABCDEFGHJKLMNPQRTUWXY"

/* Value 0-30 of a character (either case), or -1 outside the alphabet (I, O, S, V, Z). */
static inline int
oc_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		c = (unsigned char) (c - 'a' + 'A');
	switch (c)
	{
		case 'A': return 10;
		case 'B': return 11;
		case 'C': return 12;
		case 'D': return 13;
		case 'E': return 14;
		case 'F': return 15;
		case 'G': return 16;
		case 'H': return 17;
		case 'J': return 18;
		case 'K': return 19;
		case 'L': return 20;
		case 'M': return 21;
		case 'N': return 22;
		case 'P': return 23;
		case 'Q': return 24;
		case 'R': return 25;
		case 'T': return 26;
		case 'U': return 27;
		case 'W': return 28;
		case 'X': return 29;
		case 'Y': return 30;
		default: return -1;
	}
}

/* GB 32100-2015 check character: (31 - sum(value_i * w_i) mod 31) mod 31. */
static inline char
oc_check_char(const char c[17])
{
	static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
	int			sum = 0;
	int			i;

	for (i = 0; i < 17; i++)
		sum += oc_value((unsigned char) c[i]) * w[i];
	return OC_ALPHABET[(31 - sum % 31) % 31];
}

/*
 * Parse s[0..len): trim blanks; every character in the alphabet (either
 * case); 18 characters; check character. Fills r->code (upper case).
 */
static inline OcError
oc_parse(const char *s, size_t len, OcParse *r)
{
	size_t		i;
	char		c;

	r->trimmed = s;
	ident_trim(&s, &len);
	r->lead = (size_t) (s - r->trimmed);
	r->trimmed = s;
	r->len = len;
	for (i = 0; i < len; i++)
		if (oc_value((unsigned char) s[i]) < 0)
		{
			r->offset = i;
			return OC_BAD_CHAR;
		}
	if (len != 18)
		return OC_LENGTH;
	for (i = 0; i < 18; i++)
		r->code[i] = OC_ALPHABET[oc_value((unsigned char) s[i])];
	c = oc_check_char(r->code);
	if (r->code[17] != c)
	{
		r->expected = c;
		r->found = s[17];
		return OC_CHECK;
	}
	return OC_OK;
}

#endif							/* EHR_IDENT_PARSE_H */
