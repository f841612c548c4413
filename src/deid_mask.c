/*-------------------------------------------------------------------------
 *
 * deid_mask.c
 *	  Masks: ehr.mask, ehr.mask_name, ehr.mask_phone, ehr.mask_id.
 *
 * All of them count characters, never bytes, so a 4-byte UTF-8 character
 * (a CJK Extension B surname such as 𠮷) is one character and one fill.
 * They are keyless and IMMUTABLE: anyone may call them.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/* Length in bytes of the character at p, never past end. */
static inline int
char_len(const char *p, const char *end)
{
	int			l = pg_mblen(p);

	if (l < 1 || l > end - p)
		l = end - p;
	return l;
}

/* Refuse outputs a varlena cannot hold. */
static void
check_out_size(int64 bytes)
{
	if (bytes > (int64) (MaxAllocSize - VARHDRSZ))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("masked value would be %lld bytes long", (long long) bytes),
				 errdetail("A text value holds at most %d bytes.", (int) (MaxAllocSize - VARHDRSZ))));
}

/*
 * Mask src (len bytes): keep the first keep_left and the last keep_right
 * characters, write fill once for each character between; a value shorter
 * than keep_left + keep_right is masked entirely.
 */
static text *
mask_chars(const char *src, int len, int64 keep_left, int64 keep_right,
		   const char *fill, int fill_len)
{
	const char *end = src + len;
	int64		nchars = pg_mbstrlen_with_len(src, len);
	int64		masked;
	const char *p;
	int64		i;
	StringInfoData out;

	if (nchars < keep_left + keep_right)
	{
		keep_left = 0;
		keep_right = 0;
	}
	masked = nchars - keep_left - keep_right;
	check_out_size((int64) len + masked * fill_len);

	initStringInfo(&out);
	p = src;
	for (i = 0; i < nchars && p < end; i++)
	{
		int			l = char_len(p, end);

		if (i < keep_left || i >= nchars - keep_right)
			appendBinaryStringInfo(&out, p, l);
		else
			appendBinaryStringInfo(&out, fill, fill_len);
		p += l;
	}
	return cstring_to_text_with_len(out.data, out.len);
}

PG_FUNCTION_INFO_V1(ehr_mask);

/* ehr.mask(value text, keep_left int, keep_right int, fill text DEFAULT '*') */
Datum
ehr_mask(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int32		keep_left = PG_GETARG_INT32(1);
	int32		keep_right = PG_GETARG_INT32(2);
	text	   *fill = PG_GETARG_TEXT_PP(3);

	if (keep_left < 0 || keep_right < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep_left and keep_right must not be negative: %d, %d",
						keep_left, keep_right),
				 errdetail("They count the characters left unmasked at each end of the value.")));
	if (VARSIZE_ANY_EXHDR(fill) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fill must not be empty"),
				 errdetail("Each masked character is replaced by the fill text; an empty fill would drop characters instead of masking them.")));

	PG_RETURN_TEXT_P(mask_chars(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value),
								keep_left, keep_right,
								VARDATA_ANY(fill), VARSIZE_ANY_EXHDR(fill)));
}

/*
 * Compound (two-character) surnames, simplified and traditional. A name
 * starting with one of these keeps two characters as its surname.
 */
static const char *const compound_surnames[] = {
	"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
	"长孙", "令狐", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫",
	"西门", "申屠", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔",
	"仲孙", "钟离", "呼延", "万俟", "闻人", "赫连", "完颜", "拓跋",
	"司空", "东郭", "百里", "左丘", "第五", "梁丘", "乐正", "公羊", "谷梁",
	"羊舌", "微生", "呼衍", "段干", "亓官", "司寇", "巫马", "公西", "漆雕",
	"壤驷", "公良", "夹谷", "宰父", "拓拔", "纳兰", "爱新",
	/* traditional forms */
	"歐陽", "司馬", "諸葛", "東方", "公孫", "長孫", "軒轅", "端木", "獨孤",
	"西門", "澹臺", "濮陽", "單于", "鍾離", "聞人", "赫連", "萬俟", "東郭",
	"樂正", "穀梁", "夾谷", "壤駟", "巫馬", "漆雕",
};

/* One decoded character of a UTF-8 string. */
typedef struct Uchar
{
	pg_wchar	cp;
	int			off;
	int			len;
} Uchar;

static int
decode_utf8(const char *s, int len, Uchar *out)
{
	int			n = 0;
	int			off = 0;

	while (off < len)
	{
		int			l = pg_utf_mblen((const unsigned char *) s + off);

		if (l < 1 || l > len - off)
			l = len - off;
		out[n].cp = utf8_to_unicode((const unsigned char *) s + off);
		out[n].off = off;
		out[n].len = l;
		off += l;
		n++;
	}
	return n;
}

static bool
is_name_dot(pg_wchar c)
{
	return c == 0x00B7 || c == 0x2022 || c == 0x30FB;
}

/* Latin script, for the "first letter of each word" rule. */
static bool
is_latin_letter(pg_wchar c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
		(c >= 0x1E00 && c <= 0x1EFF);
}

/* True when every character is a Latin letter or ASCII punctuation/space. */
static bool
is_latin_name(const Uchar *u, int n)
{
	int			i;
	bool		letters = false;

	for (i = 0; i < n; i++)
	{
		if (is_latin_letter(u[i].cp))
			letters = true;
		else if (u[i].cp >= 0x80)
			return false;
	}
	return letters;
}

PG_FUNCTION_INFO_V1(ehr_mask_name);

/*
 * ehr.mask_name(text): 张三 -> 张*, 李小明 -> 李*明, 欧阳娜娜 -> 欧阳*娜,
 * 司马光 -> 司马*, 阿依古丽·买买提 -> 阿***·***, John Smith -> J*** S****.
 */
Datum
ehr_mask_name(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	int			srclen = VARSIZE_ANY_EXHDR(t);
	char	   *src = VARDATA_ANY(t);
	char	   *s;
	int			len;
	Uchar	   *u;
	int			n;
	int			i;
	bool	   *keep;
	bool		dotted = false;
	StringInfoData out;
	char	   *result;

	if (srclen == 0)
		PG_RETURN_TEXT_P(cstring_to_text(""));

	/* Work in UTF-8 whatever the database encoding. */
	s = pg_server_to_any(src, srclen, PG_UTF8);
	len = (s == src) ? srclen : strlen(s);

	u = palloc(sizeof(Uchar) * (len + 1));
	n = decode_utf8(s, len, u);
	keep = palloc0(sizeof(bool) * n);

	for (i = 0; i < n; i++)
		if (is_name_dot(u[i].cp))
			dotted = true;

	if (dotted)
	{
		/* 阿依古丽·买买提: the first character and the dots */
		keep[0] = true;
		for (i = 1; i < n; i++)
			keep[i] = is_name_dot(u[i].cp);
	}
	else if (is_latin_name(u, n))
	{
		/* John Smith: the first letter of each word; separators as they are */
		bool		word_start = true;

		for (i = 0; i < n; i++)
		{
			if (!is_latin_letter(u[i].cp) && !(u[i].cp >= '0' && u[i].cp <= '9'))
			{
				keep[i] = true;
				word_start = true;
			}
			else
			{
				keep[i] = word_start;
				word_start = false;
			}
		}
	}
	else if (n <= 1)
		keep[0] = true;			/* a surname alone */
	else if (n == 2)
		keep[0] = true;			/* 张三 -> 张* */
	else
	{
		int			surname = 1;
		int			j;

		for (j = 0; j < lengthof(compound_surnames); j++)
		{
			const char *c = compound_surnames[j];
			int			clen = strlen(c);

			if (u[2].off == clen && memcmp(s, c, clen) == 0)
			{
				surname = 2;
				break;
			}
		}
		for (i = 0; i < surname; i++)
			keep[i] = true;
		/* the last character is kept unless it is the whole given name */
		if (n - surname >= 2)
			keep[n - 1] = true;
	}

	initStringInfo(&out);
	for (i = 0; i < n; i++)
	{
		if (keep[i])
			appendBinaryStringInfo(&out, s + u[i].off, u[i].len);
		else
			appendStringInfoChar(&out, '*');
	}
	result = pg_any_to_server(out.data, out.len, PG_UTF8);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/* A digit, ASCII or full-width (０-９, U+FF10..U+FF19 = EF BC 90..99). */
static inline bool
is_digit_at(const char *p, int l, bool utf8)
{
	if (l == 1)
		return *p >= '0' && *p <= '9';
	return utf8 && l == 3 && (unsigned char) p[0] == 0xEF && (unsigned char) p[1] == 0xBC &&
		(unsigned char) p[2] >= 0x90 && (unsigned char) p[2] <= 0x99;
}

static inline char
digit_value(const char *p, int l)
{
	return l == 1 ? *p : (char) ('0' + ((unsigned char) p[2] - 0x90));
}

PG_FUNCTION_INFO_V1(ehr_mask_phone);

/*
 * ehr.mask_phone(text): a mobile number keeps its first 3 and last 4 digits,
 * a landline its area code and last 4 digits, anything else its last 4
 * digits. Separators and the +86 prefix are kept as written.
 */
Datum
ehr_mask_phone(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(t);
	const char *s = VARDATA_ANY(t);
	const char *end = s + len;
	const char *p;
	char	   *digits = palloc(len + 1);
	int			nd = 0;
	bool		clean = true;	/* only digits, spaces, dashes, a leading '+' */
	bool		plus = false;
	int			first_group = -1;	/* digits before the first separator */
	int			mask_from;
	int			mask_to;		/* digit indexes masked: [mask_from, mask_to) */
	int			di;
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;
	StringInfoData out;

	for (p = s; p < end;)
	{
		int			l = char_len(p, end);

		if (is_digit_at(p, l, utf8))
			digits[nd++] = digit_value(p, l);
		else if (*p == '+' && p == s)
			plus = true;
		else if (*p == ' ' || *p == '-')
		{
			if (first_group < 0 && nd > 0)
				first_group = nd;
		}
		else
			clean = false;
		p += l;
	}
	digits[nd] = '\0';

	/* default: every digit but the last 4 */
	mask_from = 0;
	mask_to = nd > 4 ? nd - 4 : 0;

	if (clean)
	{
		int			prefix = 0;

		if (plus)
			prefix = (nd >= 2 && digits[0] == '8' && digits[1] == '6') ? 2 : -1;
		else if (nd == 13 && digits[0] == '8' && digits[1] == '6')
			prefix = 2;

		if (prefix >= 0 && nd - prefix == 11 && digits[prefix] == '1')
		{
			/* mobile: 138****5678 */
			mask_from = prefix + 3;
			mask_to = prefix + 7;
		}
		else if (prefix == 0 && !plus && digits[0] == '0' && nd >= 10 && nd <= 12)
		{
			/* landline: area code (010, 02x: 3 digits; others 4) then local */
			int			area;

			if (first_group == 3 || first_group == 4)
				area = first_group;
			else
				area = (digits[1] == '1' || digits[1] == '2') ? 3 : 4;
			mask_from = area;
			mask_to = nd - 4;
		}
	}

	initStringInfo(&out);
	di = 0;
	for (p = s; p < end;)
	{
		int			l = char_len(p, end);

		if (is_digit_at(p, l, utf8))
		{
			if (di >= mask_from && di < mask_to)
				appendStringInfoChar(&out, '*');
			else
				appendBinaryStringInfo(&out, p, l);
			di++;
		}
		else
			appendBinaryStringInfo(&out, p, l);
		p += l;
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

PG_FUNCTION_INFO_V1(ehr_mask_id);

/* ehr.mask_id(ehr.resident_id): 110***********002X (first 3 and last 4 kept). */
Datum
ehr_mask_id(PG_FUNCTION_ARGS)
{
	char		buf[RESIDENT_ID_LEN + 1];

	resident_id_to_cstring(PG_GETARG_RESIDENT_ID(0), buf);
	memset(buf + 3, '*', RESIDENT_ID_LEN - 7);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf, RESIDENT_ID_LEN));
}
