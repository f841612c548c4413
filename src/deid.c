/*-------------------------------------------------------------------------
 *
 * deid.c
 *	  De-identification: the SECURITY LABEL provider "ehr", the grammar of
 *	  its labels, and the GUC ehr.date_shift_days.
 *
 * A label declares what a column becomes in an analyst's dataset:
 *
 *	   label  := class [ ',' class ]*
 *	   class  := withhold | keep | pseudonymize [ ':' DOMAIN ]
 *			   | age_band | sex | region:province | region:city
 *			   | shift_date | year | mask:name | mask:phone | mask:id
 *
 * Each column has exactly one class deciding its own value ("value class");
 * on an ehr.resident_id column age_band, sex and region add derived columns
 * and may come alongside it (without a value class the id itself is
 * withheld). Which classes apply depends on the column's type, so the label
 * is checked against the column when it is written, and again by
 * ehr.deidentify() (the type may have changed since): both go through
 * deid_parse_label() below, the one place that knows the grammar.
 *
 * The per-row functions live in deid_mask.c (masks), deid_generalize.c
 * (age bands, regions) and deid_keyed.c (pseudonyms, date shifts).
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/seclabel.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/* ehr.date_shift_days: the N of shift_date's offset range [-N, N]. */
int			ehr_date_shift_days = 30;

#define DEID_VALID_CLASSES \
	"withhold, keep, pseudonymize, pseudonymize:DOMAIN, age_band, sex, " \
	"region:province, region:city, shift_date, year, mask:name, mask:phone, mask:id"

/* What kind of column a class is applied to. */
typedef enum DeidColKind
{
	COL_OTHER,
	COL_RESIDENT_ID,
	COL_ORG_CODE,
	COL_DATE,					/* date, timestamp, timestamptz */
	COL_TEXT					/* text, varchar, char */
} DeidColKind;

static DeidColKind
column_kind(Oid typid)
{
	Oid			base = getBaseType(typid);

	if (OidIsValid(base) && base == ehr_type_oid("resident_id", true))
		return COL_RESIDENT_ID;
	if (OidIsValid(base) && base == ehr_type_oid("org_code", true))
		return COL_ORG_CODE;
	switch (base)
	{
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return COL_DATE;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			return COL_TEXT;
		default:
			return COL_OTHER;
	}
}

/* Raise "class does not apply to this type", naming the types it applies to. */
static void
class_type_error(const char *cls, Oid typid, const char *applies_to)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("de-identification class \"%s\" does not apply to a column of type %s",
					cls, format_type_be(typid)),
			 errdetail("Class \"%s\" applies to %s columns.", cls, applies_to)));
}

/* A pseudonym domain: 1 to 63 characters from [A-Za-z0-9_.-]. */
static bool
valid_domain(const char *d)
{
	size_t		n = strlen(d);
	size_t		i;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char) d[i]) || d[i] == '_' || d[i] == '.' || d[i] == '-'))
			return false;
	return true;
}

/*
 * Check a label against a column of type typid and return its classes in
 * canonical form: element 0 is the value class (pseudonymize always with its
 * domain), then the derived classes in the order age_band, sex, region:*.
 */
static List *
deid_parse_label(const char *label, Oid typid)
{
	DeidColKind kind = column_kind(typid);
	char	   *copy = pstrdup(label);
	char	   *p = copy;
	char	   *value_class = NULL;
	char	   *value_written = NULL;
	char	   *derived_region = NULL;
	bool		derived_age = false;
	bool		derived_sex = false;
	List	   *seen = NIL;
	List	   *result = NIL;
	const char *q;

	for (q = label; *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'; q++)
		;
	if (*q == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("empty de-identification label"),
				 errdetail("A label is a comma-separated list of classes, such as 'keep' or 'pseudonymize,age_band'.")));

	for (;;)
	{
		char	   *comma = strchr(p, ',');
		char	   *cls;
		char	   *written;
		char	   *end;
		bool		is_value = true;
		ListCell   *lc;

		if (comma)
			*comma = '\0';
		/* trim blanks around the class */
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
			*--end = '\0';
		cls = p;
		written = cls;

		if (*cls == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("empty class in de-identification label \"%s\"", label),
					 errdetail("A label is a comma-separated list of classes, such as 'keep' or 'pseudonymize,age_band'.")));

		foreach(lc, seen)
			if (strcmp((char *) lfirst(lc), cls) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("de-identification class \"%s\" is listed twice in label \"%s\"", cls, label),
						 errdetail("Each class may appear once in a label.")));
		seen = lappend(seen, cls);

		if (strcmp(cls, "withhold") == 0 || strcmp(cls, "keep") == 0)
		{
			/* apply to a column of any type */
		}
		else if (strcmp(cls, "pseudonymize") == 0 || strncmp(cls, "pseudonymize:", 13) == 0)
		{
			const char *domain = cls[12] == ':' ? cls + 13 : NULL;

			if (domain && !valid_domain(domain))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid pseudonym domain \"%s\"", domain),
						 errdetail("A domain is 1 to 63 letters, digits, underscores, dots or dashes.")));
			if (domain == NULL)
				domain = kind == COL_RESIDENT_ID ? "resident" :
					kind == COL_ORG_CODE ? "institution" : "default";
			cls = psprintf("pseudonymize:%s", domain);
		}
		else if (strcmp(cls, "age_band") == 0)
		{
			if (kind == COL_RESIDENT_ID)
			{
				derived_age = true;
				is_value = false;
			}
			else if (kind != COL_DATE)
				class_type_error(cls, typid, "ehr.resident_id, date, timestamp and timestamptz");
		}
		else if (strcmp(cls, "sex") == 0)
		{
			if (kind != COL_RESIDENT_ID)
				class_type_error(cls, typid, "ehr.resident_id");
			derived_sex = true;
			is_value = false;
		}
		else if (strcmp(cls, "region:province") == 0 || strcmp(cls, "region:city") == 0)
		{
			if (kind == COL_RESIDENT_ID)
			{
				if (derived_region)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("de-identification classes \"%s\" and \"%s\" conflict",
									derived_region, cls),
							 errdetail("A column has at most one region class.")));
				derived_region = cls;
				is_value = false;
			}
			else if (kind != COL_TEXT)
				class_type_error(cls, typid, "ehr.resident_id and text");
		}
		else if (strcmp(cls, "shift_date") == 0 || strcmp(cls, "year") == 0)
		{
			if (kind != COL_DATE)
				class_type_error(cls, typid, "date, timestamp and timestamptz");
		}
		else if (strcmp(cls, "mask:name") == 0 || strcmp(cls, "mask:phone") == 0)
		{
			if (kind != COL_TEXT)
				class_type_error(cls, typid, "text");
		}
		else if (strcmp(cls, "mask:id") == 0)
		{
			if (kind != COL_TEXT && kind != COL_RESIDENT_ID)
				class_type_error(cls, typid, "ehr.resident_id and text");
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown de-identification class \"%s\"", cls),
					 errdetail("Valid classes are: " DEID_VALID_CLASSES ".")));

		if (is_value)
		{
			if (value_class)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("de-identification classes \"%s\" and \"%s\" conflict",
								value_written, written),
						 errdetail("A column has one class that decides its own value; only age_band, sex and region on an ehr.resident_id column add columns beside it.")));
			value_class = cls;
			value_written = written;
		}

		if (!comma)
			break;
		p = comma + 1;
	}

	result = lappend(result, value_class ? value_class : "withhold");
	if (derived_age)
		result = lappend(result, "age_band");
	if (derived_sex)
		result = lappend(result, "sex");
	if (derived_region)
		result = lappend(result, derived_region);
	return result;
}

/*
 * The provider's hook: PostgreSQL has already checked that the caller owns
 * the table; we check that the label is one a dataset can be built from.
 * A NULL label removes the column's label and is always accepted.
 */
static void
deid_object_relabel(const ObjectAddress *object, const char *seclabel)
{
	char		relkind;
	Oid			typid;

	if (seclabel == NULL)
		return;
	if (object->classId != RelationRelationId || object->objectSubId <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("security labels of provider \"ehr\" apply to columns only"),
				 errdetail("Label each column with SECURITY LABEL FOR ehr ON COLUMN table.column IS '...'.")));
	relkind = get_rel_relkind(object->objectId);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW &&
		relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("security labels of provider \"ehr\" apply to columns of tables, views and foreign tables only")));
	typid = get_atttype(object->objectId, object->objectSubId);
	(void) deid_parse_label(seclabel, typid);
}

void
ehr_deid_init(void)
{
	DefineCustomIntVariable("ehr.date_shift_days",
							"Largest date shift of ehr.shift_date, in days.",
							"Every resident's dates move by the same keyed offset in [-N, N] days. "
							"Changing it changes every shifted date.",
							&ehr_date_shift_days,
							30, 0, 3650,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	/*
	 * Labels are only checked (and can only be written) in backends where the
	 * library is loaded: preload it so that SECURITY LABEL FOR ehr always works.
	 */
	register_label_provider("ehr", deid_object_relabel);
}

PG_FUNCTION_INFO_V1(ehr_deid_classes);

/*
 * ehr.deid_classes(label text, coltype regtype) -> text[]: the label checked
 * against a column type, in canonical form (see deid_parse_label).
 */
Datum
ehr_deid_classes(PG_FUNCTION_ARGS)
{
	char	   *label = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			typid = PG_GETARG_OID(1);
	List	   *classes = deid_parse_label(label, typid);
	Datum	   *elems = palloc(sizeof(Datum) * list_length(classes));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, classes)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}
