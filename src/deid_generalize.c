/*-------------------------------------------------------------------------
 *
 * deid_generalize.c
 *	  Generalisation of quasi-identifiers: ehr.age_band, ehr.generalize_region.
 *
 * Keyless and IMMUTABLE. Ages of 90 and over are top-coded as '90+', as
 * HIPAA Safe Harbor (45 CFR 164.514(b)(2)(i)(C)) requires; the band just
 * below 90 ends at 89 whatever the width.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

#define AGE_TOP_CODE	90

/* Full years from birth to at (a birthday on 29 February counts on 1 March). */
static int
age_in_years(DateADT birth, DateADT at)
{
	int			by, bm, bd, ay, am, ad;
	int			age;

	if (DATE_NOT_FINITE(birth) || DATE_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("age band of an infinite date"),
				 errdetail("Both the birth date and the reference date must be finite.")));
	if (at < birth)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("birth date %s is after the reference date %s",
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(birth))),
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(at)))),
				 errdetail("An age band needs a reference date on or after the birth date.")));
	j2date(birth + POSTGRES_EPOCH_JDATE, &by, &bm, &bd);
	j2date(at + POSTGRES_EPOCH_JDATE, &ay, &am, &ad);
	age = ay - by;
	if (am < bm || (am == bm && ad < bd))
		age--;
	return age;
}

/* '40-44' for width 5; '40' for width 1; '90+' from 90 on. */
text *
ehr_age_band_text(DateADT birth, DateADT at, int32 width)
{
	int			age;
	int			lo;
	int			hi;

	if (width < 1 || width > 50)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("age band width %d is out of range", width),
				 errdetail("The width must be between 1 and 50 years.")));
	age = age_in_years(birth, at);
	if (age >= AGE_TOP_CODE)
		return cstring_to_text("90+");
	lo = age - age % width;
	hi = Min(lo + width - 1, AGE_TOP_CODE - 1);
	if (hi == lo)
		return cstring_to_text(psprintf("%d", lo));
	return cstring_to_text(psprintf("%d-%d", lo, hi));
}

PG_FUNCTION_INFO_V1(ehr_age_band);

/* ehr.age_band(birth date, at date, width int DEFAULT 5) */
Datum
ehr_age_band(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(ehr_age_band_text(PG_GETARG_DATEADT(0), PG_GETARG_DATEADT(1),
									   PG_GETARG_INT32(2)));
}

PG_FUNCTION_INFO_V1(ehr_generalize_region);

/*
 * ehr.generalize_region(code text, level text): a GB/T 2260 code cut to its
 * province ('620000') or city ('620500'). The code has 2, 4 or 6 digits.
 */
Datum
ehr_generalize_region(PG_FUNCTION_ARGS)
{
	text	   *code = PG_GETARG_TEXT_PP(0);
	char	   *level = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			len = VARSIZE_ANY_EXHDR(code);
	const char *c = VARDATA_ANY(code);
	int			keep;
	char		out[7];
	int			i;

	if (strcmp(level, "province") == 0)
		keep = 2;
	else if (strcmp(level, "city") == 0)
		keep = 4;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown region level \"%s\"", level),
				 errdetail("The level must be \"province\" or \"city\".")));

	for (i = 0; i < len; i++)
		if (c[i] < '0' || c[i] > '9')
			break;
	if (i < len || (len != 2 && len != 4 && len != 6))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid region code \"%s\"", text_to_cstring(code)),
				 errdetail("A region code is 6 digits (GB/T 2260), or its first 2 or 4.")));

	memset(out, '0', 6);
	out[6] = '\0';
	memcpy(out, c, Min(keep, len));
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

PG_FUNCTION_INFO_V1(ehr_age_band_resident);

/* ehr.age_band(ehr.resident_id, at date, width int DEFAULT 5): from the encoded birth date. */
Datum
ehr_age_band_resident(PG_FUNCTION_ARGS)
{
	char		buf[RESIDENT_ID_LEN + 1];
	int			y, m, d;
	DateADT		birth;

	resident_id_to_cstring(PG_GETARG_RESIDENT_ID(0), buf);
	/* digits 7-14 are YYYYMMDD; the type has already checked they are a real date */
	y = (buf[6] - '0') * 1000 + (buf[7] - '0') * 100 + (buf[8] - '0') * 10 + (buf[9] - '0');
	m = (buf[10] - '0') * 10 + (buf[11] - '0');
	d = (buf[12] - '0') * 10 + (buf[13] - '0');
	birth = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
	PG_RETURN_TEXT_P(ehr_age_band_text(birth, PG_GETARG_DATEADT(1), PG_GETARG_INT32(2)));
}
