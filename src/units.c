/*-------------------------------------------------------------------------
 *
 * units.c
 *	  UCUM units of measure: parsing, normalisation of the spellings seen on
 *	  Chinese lab reports, and conversion factors between commensurable units.
 *
 * A unit is parsed into a magnitude (scale) and a dimension vector over the
 * base units below; two units are commensurable when their vectors are equal,
 * and a value converts from one to the other by the ratio of their scales.
 * The prefixes and unit atoms are data (static tables below), each row citing
 * the line of the UCUM specification that defines it:
 *
 *	  ucum-essence.xml, UCUM version 2.2, revision date 2024-06-17
 *	  (https://github.com/ucum-org/ucum, commit d060c6d3dfe3b0deb196c190b8024d95385e0b92)
 *
 * "ucum:N" in a comment is line N of that file.
 *
 * Two deliberate departures from UCUM, both for clinical safety:
 *	- mol is a base dimension of its own (UCUM defines it as the number
 *	  6.02214076e23, ucum:208). Mass and substance concentrations (mg/dL vs
 *	  mmol/L) are then convertible only when a molar mass is supplied, never
 *	  silently.
 *	- each arbitrary unit ([iU], [arb'U], [CFU]; isArbitrary="yes" in UCUM)
 *	  is a dimension of its own, so it is commensurable only with itself
 *	  (m[iU]/mL with [iU]/L) and never with U or kat. UCUM §24-§25 make every
 *	  term with an arbitrary unit incomparable, even 1 [iU] with 1 k[iU];
 *	  its note docs/procedure-defined-units.md proposes extra dimensions, one
 *	  per arbitrary unit, which is what is done here: lab reports need
 *	  uIU/mL <-> mIU/L.
 *
 * The grammar is UCUM's (§3-§15, case-sensitive "c/s" codes):
 *
 *	  main      := '/' term | term | (empty)
 *	  term      := component (('.' | '/') component)*
 *	  component := simple [exponent] [annotation] | annotation | factor
 *	             | '(' term ')'
 *	  simple    := [prefix] atom        (a prefix only on metric atoms)
 *	  exponent  := ['+' | '-'] digits
 *	  factor    := digits               (a positive integer)
 *	  annotation:= '{' printable ASCII but braces '}'   (value 1)
 *
 * The canonical spelling printed for a unit is the parse written back:
 * the report spellings (table report_spellings) are rewritten, [IU] becomes
 * [iU], 10^N becomes 10*N, and a '+' exponent sign is dropped; everything
 * else is kept as written (mmol/l stays mmol/l: l and L are both UCUM).
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

/* ---- data: prefixes (ucum-essence.xml, <prefix>) ---- */

typedef struct UcumPrefix
{
	const char *code;
	double		factor;
} UcumPrefix;

/* Two-letter "da" is listed first: prefixes are tried in this order. */
static const UcumPrefix ucum_prefixes[] = {
	{"da", 1e1},				/* deka, ucum:58 */
	{"Y", 1e24},				/* yotta, ucum:4 */
	{"Z", 1e21},				/* zetta, ucum:10 */
	{"E", 1e18},				/* exa, ucum:16 */
	{"P", 1e15},				/* peta, ucum:22 */
	{"T", 1e12},				/* tera, ucum:28 */
	{"G", 1e9},					/* giga, ucum:34 */
	{"M", 1e6},					/* mega, ucum:40 */
	{"k", 1e3},					/* kilo, ucum:46 */
	{"h", 1e2},					/* hecto, ucum:52 */
	{"d", 1e-1},				/* deci, ucum:64 */
	{"c", 1e-2},				/* centi, ucum:70 */
	{"m", 1e-3},				/* milli, ucum:76 */
	{"u", 1e-6},				/* micro, ucum:82 */
	{"n", 1e-9},				/* nano, ucum:88 */
	{"p", 1e-12},				/* pico, ucum:94 */
	{"f", 1e-15},				/* femto, ucum:100 */
	{"a", 1e-18},				/* atto, ucum:106 */
	{"z", 1e-21},				/* zepto, ucum:112 */
	{"y", 1e-24},				/* yocto, ucum:118 */
};

/* ---- data: unit atoms ---- */

/*
 * Magnitudes are in ehr's base units: m, g, s, rad, K, C, cd, mol and one
 * unit per arbitrary unit. Pa = N/m2 = kg.m-1.s-2 = 1000 g.m-1.s-2.
 */
typedef struct UcumAtom
{
	const char *code;			/* case-sensitive UCUM code */
	bool		metric;			/* may take a prefix */
	double		factor;			/* magnitude in base units */
	int8		dim[EHR_UNIT_NDIM];
} UcumAtom;

#define L_	EHR_DIM_LENGTH
#define M_	EHR_DIM_MASS
#define T_	EHR_DIM_TIME
#define N_	EHR_DIM_AMOUNT

static const UcumAtom ucum_atoms[] = {
	/* base units */
	{"m", true, 1, {[L_] = 1}},	/* meter, ucum:124 */
	{"s", true, 1, {[T_] = 1}},	/* second, ucum:129 */
	{"g", true, 1, {[M_] = 1}},	/* gram, ucum:134 */
	{"rad", true, 1, {[EHR_DIM_ANGLE] = 1}},	/* radian, ucum:139 */
	{"K", true, 1, {[EHR_DIM_TEMPERATURE] = 1}},	/* Kelvin, ucum:144 */
	{"C", true, 1, {[EHR_DIM_CHARGE] = 1}},	/* Coulomb, ucum:149 */
	{"cd", true, 1, {[EHR_DIM_LUMINOUS] = 1}},	/* candela, ucum:154 */
	/* dimensionless */
	{"10*", false, 10, {0}},	/* ten for arbitrary powers, ucum:159 */
	{"[pi]", false, 3.14159265358979323846, {0}},	/* ucum:171 */
	{"%", false, 1e-2, {0}},	/* percent = 10*-2, ucum:178 */
	{"[ppth]", false, 1e-3, {0}},	/* ucum:184 */
	{"[ppm]", false, 1e-6, {0}},	/* ucum:190 */
	{"[ppb]", false, 1e-9, {0}},	/* ucum:196 */
	{"[pptr]", false, 1e-12, {0}},	/* ucum:202 */
	{"[HPF]", false, 1, {0}},	/* high power field, ucum:1626 */
	{"[LPF]", false, 100, {0}}, /* low power field = 100, ucum:1632 */
	/* amount of substance: its own dimension here (see the file header) */
	{"mol", true, 1, {[N_] = 1}},	/* mole, ucum:208 */
	{"eq", true, 1, {[N_] = 1}},	/* equivalents = 1 mol, ucum:1594 */
	{"osm", true, 1, {[N_] = 1}},	/* osmole = 1 mol, ucum:1600 */
	{"kat", true, 1, {[N_] = 1, [T_] = -1}},	/* katal = mol/s, ucum:1638 */
	{"U", true, 1e-6 / 60, {[N_] = 1, [T_] = -1}},	/* Unit = umol/min, ucum:1644 */
	/* SI derived */
	{"Hz", true, 1, {[T_] = -1}},	/* Hertz = s-1, ucum:220 */
	{"Pa", true, 1e3, {[M_] = 1, [L_] = -1, [T_] = -2}},	/* Pascal = N/m2, ucum:232 */
	{"bar", true, 1e8, {[M_] = 1, [L_] = -1, [T_] = -2}},	/* bar = 1e5 Pa, ucum:466 */
	{"atm", false, 101325e3, {[M_] = 1, [L_] = -1, [T_] = -2}},	/* 101325 Pa, ucum:599 */
	/* volume */
	{"l", true, 1e-3, {[L_] = 3}},	/* liter = dm3, ucum:363 */
	{"L", true, 1e-3, {[L_] = 3}},	/* liter = l, ucum:369 */
	/* time */
	{"min", false, 60, {[T_] = 1}}, /* minute = 60 s, ucum:381 */
	{"h", false, 3600, {[T_] = 1}}, /* hour = 60 min, ucum:387 */
	{"d", false, 86400, {[T_] = 1}},	/* day = 24 h, ucum:393 */
	{"wk", false, 7 * 86400.0, {[T_] = 1}},	/* week = 7 d, ucum:426 */
	{"a", false, 365.25 * 86400, {[T_] = 1}},	/* year = a_j = 365.25 d, ucum:420, 406 */
	{"mo", false, 365.25 * 86400 / 12, {[T_] = 1}},	/* month = mo_j = a_j/12, ucum:453, 439 */
	/* mass */
	{"t", true, 1e6, {[M_] = 1}},	/* tonne = 1e3 kg, ucum:459 */
	{"g%", true, 1e4, {[M_] = 1, [L_] = -3}},	/* gram percent = g/dl, ucum:1614 */
	/* clinical pressure */
	{"m[Hg]", true, 133.3220e6, {[M_] = 1, [L_] = -1, [T_] = -2}},	/* 133.3220 kPa, ucum:1430 */
	{"m[H2O]", true, 9.80665e6, {[M_] = 1, [L_] = -1, [T_] = -2}},	/* 9.80665 kPa, ucum:1422 */
	/* arbitrary units: commensurable only with themselves */
	{"[iU]", true, 1, {[EHR_DIM_IU] = 1}},	/* international unit, ucum:1650 */
	{"[arb'U]", false, 1, {[EHR_DIM_ARB] = 1}},	/* arbitrary unit, ucum:1662 */
	{"[CFU]", false, 1, {[EHR_DIM_CFU] = 1}},	/* colony forming units, ucum:1781 */
};

#undef L_
#undef M_
#undef T_
#undef N_

/*
 * Atom spellings that are not UCUM codes but mean one: [IU] is UCUM's own
 * synonym of [iU] (ucum:1656); the others are how Chinese lab reports write
 * units. They take prefixes like their target (mIU -> m[iU], mmHg -> mm[Hg]).
 */
typedef struct AtomAlias
{
	const char *spelling;
	const char *code;
} AtomAlias;

static const AtomAlias atom_aliases[] = {
	{"[IU]", "[iU]"},			/* ucum:1656, [IU] = [iU] */
	{"IU", "[iU]"},				/* IU/L, mIU/mL on reports */
	{"mHg", "m[Hg]"},			/* mmHg */
};

/*
 * Whole-text rewrites applied before parsing, in order: non-ASCII and
 * caret spellings of the report forms. "10" followed by superscript digits
 * (×10⁹/L) is handled in code.
 */
typedef struct ReportSpelling
{
	const char *from;
	const char *to;
} ReportSpelling;

static const ReportSpelling report_spellings[] = {
	{"\xC3\x97", ""},			/* U+00D7 multiplication sign: ×10^9/L */
	{"\xCE\xBC", "u"},			/* U+03BC Greek mu: μmol/L */
	{"\xC2\xB5", "u"},			/* U+00B5 micro sign: µmol/L */
	{"10^", "10*"},				/* 10^9/L; UCUM's own 10^ (ucum:165) too */
	{"H2O", "[H2O]"},			/* cmH2O -> cm[H2O] */
	{"1.73m2", "{1.73_m2}"},	/* mL/min/1.73m2 (eGFR) */
	{"1.73m\xC2\xB2", "{1.73_m2}"}, /* mL/min/1.73m² */
	{"\xC2\xB2", "2"},			/* U+00B2 superscript two: m² */
	{"\xC2\xB3", "3"},			/* U+00B3 superscript three: m³ */
};

/* superscript digits 0-9 in UTF-8 (U+2070, U+00B9, U+00B2, U+00B3, U+2074..U+2079) */
static const char *const superscript_digits[10] = {
	"\xE2\x81\xB0", "\xC2\xB9", "\xC2\xB2", "\xC2\xB3", "\xE2\x81\xB4",
	"\xE2\x81\xB5", "\xE2\x81\xB6", "\xE2\x81\xB7", "\xE2\x81\xB8", "\xE2\x81\xB9"
};

/* Longest canonical unit text accepted. */
#define EHR_UNIT_MAX_LEN	128
/* Deepest nesting of parentheses. */
#define EHR_UNIT_MAX_DEPTH	8
/* Largest exponent magnitude (10*N and symbol exponents). */
#define EHR_UNIT_MAX_EXP	99

/* ---- parser ---- */

typedef struct UnitParser
{
	const char *s;				/* normalised text */
	int			pos;
	int			depth;			/* parentheses open */
	StringInfoData canon;		/* canonical spelling being written */
	char	   *detail;			/* first error, a full sentence */
} UnitParser;

static bool parse_term(UnitParser *p, EhrUnit *u);

static bool
unit_fail(UnitParser *p, const char *fmt,...) pg_attribute_printf(2, 3);

static bool
unit_fail(UnitParser *p, const char *fmt,...)
{
	va_list		ap;
	StringInfoData buf;

	if (p->detail)
		return false;
	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(ap, fmt);
		needed = appendStringInfoVA(&buf, fmt, ap);
		va_end(ap);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	p->detail = buf.data;
	return false;
}

static void
unit_set_one(EhrUnit *u)
{
	memset(u, 0, sizeof(*u));
	u->scale = 1.0;
}

static void
unit_multiply(EhrUnit *a, const EhrUnit *b, bool divide)
{
	int			i;

	if (divide)
		a->scale /= b->scale;
	else
		a->scale *= b->scale;
	for (i = 0; i < EHR_UNIT_NDIM; i++)
		a->dim[i] += divide ? -b->dim[i] : b->dim[i];
}

static bool
dims_in_range(UnitParser *p, const EhrUnit *u)
{
	int			i;

	for (i = 0; i < EHR_UNIT_NDIM; i++)
		if (u->dim[i] > EHR_UNIT_MAX_EXP || u->dim[i] < -EHR_UNIT_MAX_EXP)
			return unit_fail(p, "The exponents of a unit must stay between -%d and %d.",
							 EHR_UNIT_MAX_EXP, EHR_UNIT_MAX_EXP);
	return true;
}

/* Looks an atom code up; NULL when unknown. */
static const UcumAtom *
find_atom(const char *code, int len)
{
	int			i;

	for (i = 0; i < lengthof(ucum_atoms); i++)
		if ((int) strlen(ucum_atoms[i].code) == len &&
			strncmp(ucum_atoms[i].code, code, len) == 0)
			return &ucum_atoms[i];
	for (i = 0; i < lengthof(atom_aliases); i++)
		if ((int) strlen(atom_aliases[i].spelling) == len &&
			strncmp(atom_aliases[i].spelling, code, len) == 0)
			return find_atom(atom_aliases[i].code, strlen(atom_aliases[i].code));
	return NULL;
}

/*
 * A unit symbol: an atom, or a prefix and a metric atom. An exact atom wins
 * over a prefixed reading (cd is candela, not centi-day; min is minute).
 */
static bool
resolve_symbol(UnitParser *p, const char *sym, int len, EhrUnit *u)
{
	const UcumAtom *atom = find_atom(sym, len);
	const UcumPrefix *prefix = NULL;
	int			i;

	if (atom == NULL)
	{
		for (i = 0; i < lengthof(ucum_prefixes); i++)
		{
			int			plen = strlen(ucum_prefixes[i].code);
			const UcumAtom *a;

			if (plen >= len || strncmp(sym, ucum_prefixes[i].code, plen) != 0)
				continue;
			a = find_atom(sym + plen, len - plen);
			if (a == NULL)
				continue;
			if (!a->metric)
				return unit_fail(p, "Unit \"%s\" takes no prefix, so \"%.*s\" is not a unit.",
								 a->code, len, sym);
			atom = a;
			prefix = &ucum_prefixes[i];
			break;
		}
	}
	if (atom == NULL)
		return unit_fail(p, "\"%.*s\" is not a UCUM unit symbol.", len, sym);

	unit_set_one(u);
	u->scale = atom->factor * (prefix ? prefix->factor : 1.0);
	for (i = 0; i < EHR_UNIT_NDIM; i++)
		u->dim[i] = atom->dim[i];
	if (prefix)
		appendStringInfoString(&p->canon, prefix->code);
	appendStringInfoString(&p->canon, atom->code);
	return true;
}

/* Optional exponent: ['+'|'-'] digits. */
static bool
parse_exponent(UnitParser *p, int *exp, bool *present)
{
	const char *s = p->s;
	int			sign = 1;
	int			v = 0;

	*present = false;
	*exp = 1;
	if (s[p->pos] == '+' || s[p->pos] == '-')
	{
		sign = (s[p->pos] == '-') ? -1 : 1;
		p->pos++;
		if (!isdigit((unsigned char) s[p->pos]))
			return unit_fail(p, "A sign in a unit must be followed by the digits of an exponent.");
	}
	if (!isdigit((unsigned char) s[p->pos]))
		return true;
	while (isdigit((unsigned char) s[p->pos]))
	{
		v = v * 10 + (s[p->pos] - '0');
		if (v > EHR_UNIT_MAX_EXP)
			return unit_fail(p, "The exponents of a unit must stay between -%d and %d.",
							 EHR_UNIT_MAX_EXP, EHR_UNIT_MAX_EXP);
		p->pos++;
	}
	*exp = sign * v;
	*present = true;
	return true;
}

static void
unit_power(EhrUnit *u, int exp)
{
	int			i;

	u->scale = pow(u->scale, exp);
	for (i = 0; i < EHR_UNIT_NDIM; i++)
		u->dim[i] *= exp;
}

/* Optional annotation {…}: printable ASCII, no braces; worth 1. */
static bool
parse_annotation(UnitParser *p)
{
	const char *s = p->s;
	int			start = p->pos;

	if (s[p->pos] != '{')
		return true;
	p->pos++;
	while (s[p->pos] != '}')
	{
		unsigned char c = s[p->pos];

		if (c == '\0')
			return unit_fail(p, "An annotation opened with \"{\" must be closed with \"}\".");
		if (c < 33 || c > 126 || c == '{')
			return unit_fail(p, "An annotation may hold printable ASCII characters only, without blanks or braces.");
		p->pos++;
	}
	p->pos++;
	appendBinaryStringInfo(&p->canon, s + start, p->pos - start);
	return true;
}

static bool
is_symbol_char(char c)
{
	return isalpha((unsigned char) c) || c == '_' || c == '%' || c == '\'';
}

static bool
parse_component(UnitParser *p, EhrUnit *u)
{
	const char *s = p->s;
	char		c = s[p->pos];

	unit_set_one(u);
	if (c == '(')
	{
		if (++p->depth > EHR_UNIT_MAX_DEPTH)
			return unit_fail(p, "Parentheses in a unit may be nested at most %d deep.",
							 EHR_UNIT_MAX_DEPTH);
		p->pos++;
		appendStringInfoChar(&p->canon, '(');
		if (!parse_term(p, u))
			return false;
		if (s[p->pos] != ')')
			return unit_fail(p, "A \"(\" in a unit must be closed with \")\".");
		p->pos++;
		p->depth--;
		appendStringInfoChar(&p->canon, ')');
		return true;
	}
	if (c == '{')
		return parse_annotation(p);
	if (isdigit((unsigned char) c))
	{
		int			exp;
		bool		present;

		if (strncmp(s + p->pos, "10*", 3) == 0)
		{
			/* 10*N: ten to the N (ucum:159) */
			p->pos += 3;
			appendStringInfoString(&p->canon, "10*");
			if (!parse_exponent(p, &exp, &present))
				return false;
			u->scale = pow(10.0, exp);
			if (present)
				appendStringInfo(&p->canon, "%d", exp);
			return parse_annotation(p);
		}
		/* a factor: a positive integer */
		{
			int64		v = 0;
			int			start = p->pos;

			while (isdigit((unsigned char) s[p->pos]))
			{
				v = v * 10 + (s[p->pos] - '0');
				if (v > INT64CONST(1000000000))
					return unit_fail(p, "A numeric factor in a unit may not exceed 1000000000.");
				p->pos++;
			}
			if (v == 0)
				return unit_fail(p, "A numeric factor in a unit must be a positive integer.");
			if (is_symbol_char(s[p->pos]) || s[p->pos] == '[')
				return unit_fail(p, "A unit symbol may not start with a digit (\"%s\").", s + start);
			u->scale = (double) v;
			appendStringInfo(&p->canon, INT64_FORMAT, v);
			return true;
		}
	}
	if (is_symbol_char(c) || c == '[')
	{
		int			start = p->pos;
		int			exp;
		bool		present;

		while (is_symbol_char(s[p->pos]) || s[p->pos] == '[')
		{
			if (s[p->pos] == '[')
			{
				while (s[p->pos] != ']')
				{
					if (s[p->pos] == '\0')
						return unit_fail(p, "A \"[\" in a unit must be closed with \"]\".");
					p->pos++;
				}
			}
			p->pos++;
		}
		if (!resolve_symbol(p, s + start, p->pos - start, u))
			return false;
		if (!parse_exponent(p, &exp, &present))
			return false;
		if (present)
		{
			unit_power(u, exp);
			appendStringInfo(&p->canon, "%d", exp);
		}
		return parse_annotation(p);
	}
	if (c == '\0')
		return unit_fail(p, "A unit may not end with an operator.");
	if ((unsigned char) c >= 0x80)
		return unit_fail(p, "Character \"%.*s\" is not allowed in a unit.",
						 pg_mblen(s + p->pos), s + p->pos);
	return unit_fail(p, "Character \"%c\" is not allowed here in a unit.", c);
}

static bool
parse_term(UnitParser *p, EhrUnit *u)
{
	if (!parse_component(p, u))
		return false;
	while (p->s[p->pos] == '.' || p->s[p->pos] == '/')
	{
		bool		divide = (p->s[p->pos] == '/');
		EhrUnit		next;

		appendStringInfoChar(&p->canon, p->s[p->pos]);
		p->pos++;
		if (!parse_component(p, &next))
			return false;
		unit_multiply(u, &next, divide);
		if (!dims_in_range(p, u))
			return false;
	}
	return dims_in_range(p, u);
}

/*
 * Rewrites the report spellings into UCUM text (see report_spellings); the
 * result is palloc'd.
 */
static char *
normalise_spelling(const char *text, int len)
{
	StringInfoData buf;
	int			i = 0;

	initStringInfo(&buf);
	while (i < len)
	{
		int			k;
		bool		done = false;

		/* [atom] and {annotation} are copied as written */
		if (text[i] == '[' || text[i] == '{')
		{
			char		close = (text[i] == '[') ? ']' : '}';

			do
				appendStringInfoChar(&buf, text[i]);
			while (text[i++] != close && i < len);
			continue;
		}
		/* 10 followed by superscript digits: ×10⁹/L */
		if (i + 2 < len && text[i] == '1' && text[i + 1] == '0')
		{
			for (k = 0; k < 10; k++)
			{
				int			sl = strlen(superscript_digits[k]);

				if (i + 2 + sl <= len && strncmp(text + i + 2, superscript_digits[k], sl) == 0)
				{
					int			j = i + 2;

					appendStringInfoString(&buf, "10*");
					/* the run of superscript digits, and a superscript minus */
					for (;;)
					{
						int			d;
						bool		more = false;

						if (j + 3 <= len && strncmp(text + j, "\xE2\x81\xBB", 3) == 0)
						{
							appendStringInfoChar(&buf, '-');
							j += 3;
							continue;
						}
						for (d = 0; d < 10; d++)
						{
							int			dl = strlen(superscript_digits[d]);

							if (j + dl <= len && strncmp(text + j, superscript_digits[d], dl) == 0)
							{
								appendStringInfoChar(&buf, '0' + d);
								j += dl;
								more = true;
								break;
							}
						}
						if (!more)
							break;
					}
					i = j;
					done = true;
					break;
				}
			}
			if (done)
				continue;
		}
		for (k = 0; k < lengthof(report_spellings); k++)
		{
			int			fl = strlen(report_spellings[k].from);

			if (i + fl <= len && strncmp(text + i, report_spellings[k].from, fl) == 0)
			{
				appendStringInfoString(&buf, report_spellings[k].to);
				i += fl;
				done = true;
				break;
			}
		}
		if (!done)
			appendStringInfoChar(&buf, text[i++]);
	}
	return buf.data;
}

/*
 * ehr_unit_parse: parse unit text (len bytes, not necessarily NUL-terminated;
 * surrounding blanks are ignored) into *unit. Returns false and sets *detail
 * (a full sentence naming the rule) when the text is not a unit. Never raises
 * on bad input.
 */
bool
ehr_unit_parse(const char *text, int len, EhrUnit *unit, char **detail)
{
	UnitParser	p;

	while (len > 0 && isspace((unsigned char) text[0]))
		text++, len--;
	while (len > 0 && isspace((unsigned char) text[len - 1]))
		len--;

	memset(&p, 0, sizeof(p));
	/* the canonical text is at most EHR_UNIT_MAX_LEN; report spellings are longer by little */
	if (len > 4 * EHR_UNIT_MAX_LEN)
	{
		*detail = psprintf("A unit may be at most %d characters long.", EHR_UNIT_MAX_LEN);
		return false;
	}
	p.s = normalise_spelling(text, len);
	initStringInfo(&p.canon);
	unit_set_one(unit);

	if (p.s[0] != '\0')
	{
		bool		ok;

		if (p.s[0] == '/')
		{
			EhrUnit		t;

			appendStringInfoChar(&p.canon, '/');
			p.pos++;
			ok = parse_term(&p, &t);
			if (ok)
				unit_multiply(unit, &t, true);
		}
		else
			ok = parse_term(&p, unit);
		if (ok && p.s[p.pos] != '\0')
		{
			unsigned char c = p.s[p.pos];

			if (c == ')')
				ok = unit_fail(&p, "A \")\" in a unit has no matching \"(\".");
			else if (isspace(c))
				ok = unit_fail(&p, "A unit may not contain blanks.");
			else if (c >= 0x80)
				ok = unit_fail(&p, "Character \"%.*s\" is not allowed in a unit.",
							   pg_mblen(p.s + p.pos), p.s + p.pos);
			else
				ok = unit_fail(&p, "Character \"%c\" is not allowed here in a unit.", c);
		}
		if (ok && p.canon.len > EHR_UNIT_MAX_LEN)
			ok = unit_fail(&p, "A unit may be at most %d characters long.", EHR_UNIT_MAX_LEN);
		if (ok && !(isfinite(unit->scale) && unit->scale > 0))
			ok = unit_fail(&p, "The magnitude of the unit is out of range.");
		if (!ok)
		{
			*detail = p.detail;
			return false;
		}
	}
	unit->canonical = p.canon.data;
	return true;
}

/* ehr_unit_parse for a NUL-terminated string, raising 22P02 naming the unit. */
void
ehr_unit_parse_or_error(const char *text, EhrUnit *unit)
{
	char	   *detail = NULL;

	if (!ehr_unit_parse(text, strlen(text), unit, &detail))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("unknown unit \"%s\"", text),
				 errdetail("%s", detail)));
}

bool
ehr_unit_commensurable(const EhrUnit *a, const EhrUnit *b)
{
	return memcmp(a->dim, b->dim, sizeof(a->dim)) == 0;
}

/*
 * ehr_unit_factor: the number that multiplies a value in "from" to give it in
 * "to". A molar mass (g/mol; pass 0 for none) bridges mass and amount of
 * substance when the dimensions differ by exactly mass^k.amount^-k.
 */
EhrUnitConversion
ehr_unit_factor(const EhrUnit *from, const EhrUnit *to, double molar_mass,
				double *factor)
{
	int			i;
	int			k;

	*factor = from->scale / to->scale;
	if (ehr_unit_commensurable(from, to))
		return EHR_UNIT_OK;

	k = to->dim[EHR_DIM_MASS] - from->dim[EHR_DIM_MASS];
	for (i = 0; i < EHR_UNIT_NDIM; i++)
	{
		int			diff = to->dim[i] - from->dim[i];

		if (i == EHR_DIM_MASS)
			continue;
		if (i == EHR_DIM_AMOUNT ? diff != -k : diff != 0)
			return EHR_UNIT_INCOMMENSURABLE;
	}
	if (!(molar_mass > 0) || !isfinite(molar_mass))
		return EHR_UNIT_NEEDS_MOLAR_MASS;
	*factor *= pow(molar_mass, k);
	return EHR_UNIT_OK;
}

/* Dimension vector in base symbols, as "mol.m-3"; "1" when dimensionless. */
static char *
dimension_text(const EhrUnit *u)
{
	static const char *const base[EHR_UNIT_NDIM] = {
		[EHR_DIM_LENGTH] = "m", [EHR_DIM_MASS] = "g", [EHR_DIM_TIME] = "s",
		[EHR_DIM_ANGLE] = "rad", [EHR_DIM_TEMPERATURE] = "K", [EHR_DIM_CHARGE] = "C",
		[EHR_DIM_LUMINOUS] = "cd", [EHR_DIM_AMOUNT] = "mol", [EHR_DIM_IU] = "[iU]",
		[EHR_DIM_ARB] = "[arb'U]", [EHR_DIM_CFU] = "[CFU]"
	};
	/* amount and mass first: how a chemist reads a concentration */
	static const int order[EHR_UNIT_NDIM] = {
		EHR_DIM_AMOUNT, EHR_DIM_MASS, EHR_DIM_IU, EHR_DIM_ARB, EHR_DIM_CFU, EHR_DIM_LENGTH,
		EHR_DIM_TIME, EHR_DIM_ANGLE, EHR_DIM_TEMPERATURE, EHR_DIM_CHARGE, EHR_DIM_LUMINOUS
	};
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < EHR_UNIT_NDIM; i++)
	{
		int			d = order[i];

		if (u->dim[d] == 0)
			continue;
		if (buf.len > 0)
			appendStringInfoChar(&buf, '.');
		appendStringInfoString(&buf, base[d]);
		if (u->dim[d] != 1)
			appendStringInfo(&buf, "%d", u->dim[d]);
	}
	if (buf.len == 0)
		appendStringInfoChar(&buf, '1');
	return buf.data;
}

/* A one-line explanation of why two parsed units do not convert. */
char *
ehr_unit_mismatch_detail(const EhrUnit *from, const EhrUnit *to, EhrUnitConversion why)
{
	static const char *const arbitrary[][2] = {
		{"[iU]", NULL}, {"[arb'U]", NULL}, {"[CFU]", NULL}
	};
	static const int arbitrary_dim[] = {EHR_DIM_IU, EHR_DIM_ARB, EHR_DIM_CFU};
	int			i;

	if (why == EHR_UNIT_NEEDS_MOLAR_MASS)
		return psprintf("Converting between mass and amount of substance needs a positive molar mass (g/mol).");
	for (i = 0; i < lengthof(arbitrary_dim); i++)
		if (from->dim[arbitrary_dim[i]] != to->dim[arbitrary_dim[i]])
			return psprintf("%s is an arbitrary unit: it converts only to units made of %s itself.",
							arbitrary[i][0], arbitrary[i][0]);
	return psprintf("\"%s\" measures %s, \"%s\" measures %s.",
					EHR_UNIT_SHOW(from->canonical), dimension_text(from),
					EHR_UNIT_SHOW(to->canonical), dimension_text(to));
}

/* ---- per-call-site cache ---- */

/*
 * Per-row functions see the same few units over and over (a column of
 * mmol/L values against one range): parsed units are kept per call site in
 * fn_mcxt, a small round-robin table keyed by the unit text.
 */
#define EHR_UNIT_CACHE_SIZE	8

struct EhrUnitCache
{
	MemoryContext mcxt;
	int			next;
	struct
	{
		char	   *text;			/* NULL when the slot is empty */
		EhrUnit		unit;
	}			slot[EHR_UNIT_CACHE_SIZE];
};

EhrUnitCache *
ehr_unit_cache(FmgrInfo *flinfo)
{
	/* DirectFunctionCall has no FmgrInfo: no cache, parse every time */
	if (flinfo == NULL)
		return NULL;
	if (flinfo->fn_extra == NULL)
	{
		EhrUnitCache *c = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(EhrUnitCache));

		c->mcxt = flinfo->fn_mcxt;
		flinfo->fn_extra = c;
	}
	return (EhrUnitCache *) flinfo->fn_extra;
}

bool
ehr_unit_parse_cached(EhrUnitCache *cache, const char *text, EhrUnit *unit, char **detail)
{
	int			i;
	MemoryContext old;
	bool		ok;

	if (cache == NULL)
		return ehr_unit_parse(text, strlen(text), unit, detail);
	for (i = 0; i < EHR_UNIT_CACHE_SIZE; i++)
		if (cache->slot[i].text && strcmp(cache->slot[i].text, text) == 0)
		{
			*unit = cache->slot[i].unit;
			return true;
		}
	ok = ehr_unit_parse(text, strlen(text), unit, detail);
	if (!ok)
		return false;
	i = cache->next;
	cache->next = (cache->next + 1) % EHR_UNIT_CACHE_SIZE;
	if (cache->slot[i].text)
	{
		pfree(cache->slot[i].text);
		pfree(cache->slot[i].unit.canonical);
	}
	old = MemoryContextSwitchTo(cache->mcxt);
	cache->slot[i].text = pstrdup(text);
	cache->slot[i].unit = *unit;
	cache->slot[i].unit.canonical = pstrdup(unit->canonical);
	MemoryContextSwitchTo(old);
	return true;
}
