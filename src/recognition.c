/*-------------------------------------------------------------------------
 *
 * recognition.c
 *	  Mutual recognition of lab and exam results (检查检验结果互认): the LOINC
 *	  check digit and the judgement of every candidate result.
 *
 * ehr.recognition_candidates(resident, items, at_institution, at) reads the
 * resident's results for the items as the caller (row-level security decides
 * what is a candidate), loads the catalogue once per call (items, the regional
 * windows, the QC qualifications of the issuing institutions, reference
 * ranges, alliance partners) and judges each candidate in C with the rules of
 * the 2022 national measures (国卫医发〔2022〕6号):
 *
 *	1. the report is final or amended				else not_final
 *	2. the item has a window in Q's region			else no_window
 *	   T - collected <= window (boundary valid)		else expired
 *	   issued by Q itself							-> same_institution
 *	3. a QC qualification held on the collection day	else not_qc_qualified
 *	4. its scope covers Q's region, or Q and S share
 *	   an alliance and the item is alliance-scoped	else out_of_scope
 *	   the value converts to the item's unit			else incommensurable_unit
 *
 * Recognized results carry notes: unit_converted, reference_range_differs.
 *
 * The queries are prepared once per backend (SPI_keepplan); the plan cache
 * replans them when the role changes (row-level security) or a table changes.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parse_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* ----------------------------------------------------------------
 * LOINC check digit
 * ---------------------------------------------------------------- */

/*
 * A LOINC code is 1 to 7 digits, a hyphen and a mod-10 check digit computed
 * over the digits as in the Luhn algorithm: from the right, every other digit
 * starting with the last one is doubled (digits of the product summed), and
 * the check digit brings the sum to a multiple of ten (2345-7).
 */
static bool
loinc_is_valid(const char *s, int len)
{
	int			ndigits = len - 2;
	int			sum = 0;
	bool		dbl = true;
	int			i;

	if (ndigits < 1 || ndigits > 7 || s[ndigits] != '-' ||
		s[len - 1] < '0' || s[len - 1] > '9')
		return false;
	for (i = ndigits - 1; i >= 0; i--)
	{
		int			d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = s[i] - '0';
		if (dbl)
		{
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		dbl = !dbl;
	}
	return (10 - sum % 10) % 10 == s[len - 1] - '0';
}

PG_FUNCTION_INFO_V1(ehr_is_valid_loinc);

/* ehr.is_valid_loinc(text) → boolean; never raises. */
Datum
ehr_is_valid_loinc(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(loinc_is_valid(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}

/* ----------------------------------------------------------------
 * The judgement
 * ---------------------------------------------------------------- */

#define RC_KEYLEN	(ORG_CODE_LEN + 1 + NAMEDATALEN + 1)
#define RC_NCOLS	18			/* output columns of recognition_candidates */

typedef enum RcScope
{
	RC_SCOPE_NATIONAL,
	RC_SCOPE_PROVINCE,
	RC_SCOPE_CITY,
	RC_SCOPE_ALLIANCE
} RcScope;

/* One catalogue item with the window that applies in Q's region. */
typedef struct RcItem
{
	char	   *code;
	char	   *name;
	int64		best_row;		/* best_only: the chosen candidate, -1 none */
	bool		has_unit;
	EhrUnit		unit_parsed;	/* the item's unit, parsed once per call */
	double		molar_mass;
	bool		has_molar_mass;
	Datum		price;
	bool		price_null;
	RcScope		scope;
	bool		has_window;
	int			window_prefix_len;	/* length of the region prefix it came from */
	Datum		window;			/* Interval * */
} RcItem;

/* A qualification or reference range row, chained per (institution, item). */
typedef struct RcQc
{
	DateADT		lo;
	DateADT		hi;				/* exclusive */
	bool		lo_inf;
	bool		hi_inf;
	char	   *scope_region;
	char	   *mark;
	struct RcQc *next;
} RcQc;

typedef struct RcRange
{
	Datum		refrange;
	char		sex;			/* 'm', 'f' or 0 for both */
	bool		any_age;
	int32		lo;
	int32		hi;				/* exclusive */
	bool		lo_inf;
	bool		hi_inf;
	struct RcRange *next;
} RcRange;

typedef struct RcEntry
{
	char		key[RC_KEYLEN];	/* "ORG|item" */
	RcQc	   *qc;
	RcRange    *ranges;
	char	   *name;			/* "ORG|" entries: the institution's name */
} RcEntry;

/* Backend-lifetime prepared statements; rebuilt when the function is recreated. */
static Oid	rc_prepared_for = InvalidOid;

static char *
rc_output(Oid type, Datum d)
{
	Oid			fn;
	bool		varlena;

	getTypeOutputInfo(type, &fn, &varlena);
	return OidOutputFunctionCall(fn, d);
}
static SPIPlanPtr rc_plan_actor;
static SPIPlanPtr rc_plan_site;
static SPIPlanPtr rc_plan_results;
static SPIPlanPtr rc_plan_qc;
static SPIPlanPtr rc_plan_alliance;

static char *rc_getcstring(int row, int col);
static Datum rc_getdatum(int row, int col, bool *isnull);

static SPIPlanPtr
rc_prepare(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for recognition query: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed for recognition query");
	return plan;
}

static void
rc_prepare_all(Oid fn_oid, Oid resident_type, Oid org_type)
{
	Oid			org_array = get_array_type(org_type);
	Oid			args[4];
	bool		isnull;

	if (rc_prepared_for == fn_oid)
		return;
	if (!OidIsValid(org_array))
		elog(ERROR, "type %u has no array type", org_type);

	/* Free the plans of a previous incarnation of the extension. */
	if (OidIsValid(rc_prepared_for))
	{
		SPI_freeplan(rc_plan_actor);
		SPI_freeplan(rc_plan_site);
		SPI_freeplan(rc_plan_results);
		SPI_freeplan(rc_plan_qc);
		SPI_freeplan(rc_plan_alliance);
		rc_prepared_for = InvalidOid;
	}

	/*
	 * The acting practitioner's institution: ehr.current_institution() (act_as
	 * or a mapped role) where the consent part is installed, else the
	 * practitioner mapped to the current role.
	 */
	if (SPI_execute("SELECT pg_catalog.to_regprocedure('ehr.current_institution()') IS NOT NULL",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up ehr.current_institution()");
	if (DatumGetBool(rc_getdatum(0, 1, &isnull)))
		rc_plan_actor = rc_prepare("SELECT ehr.current_institution()", 0, NULL);
	else
		rc_plan_actor = rc_prepare(
			"SELECT p.institution FROM ehr.practitioner AS p"
			" WHERE p.db_role OPERATOR(pg_catalog.=) CURRENT_USER AND p.active", 0, NULL);

	/*
	 * Q's region, the patient's sex and age, and the ordered items: one query
	 * (no row when Q is not registered; a row with NULL items when none match).
	 */
	args[0] = org_type;
	args[1] = resident_type;
	args[2] = DATEOID;
	args[3] = TEXTARRAYOID;
	rc_plan_site = rc_prepare(
		"SELECT s.region::pg_catalog.text, ehr.sex($2), ehr.age($2, $3),"
		"       i.code, i.unit, i.molar_mass::pg_catalog.float8, i.price::pg_catalog.numeric,"
		"       i.scope, i.name"
		"  FROM ehr.institution AS s"
		"  LEFT JOIN ehr.lab_item AS i ON i.code OPERATOR(pg_catalog.=) ANY ($4)"
		" WHERE s.org OPERATOR(ehr.=) $1", 4, args);

	/* The candidates, as the caller: row-level security filters both tables. */
	args[0] = resident_type;
	args[1] = TEXTARRAYOID;
	rc_plan_results = rc_prepare(
		"SELECT r.id, r.item, r.institution, r.collected_at, p.status, r.value, r.refrange"
		"  FROM ehr.lab_result AS r"
		"  JOIN ehr.lab_report AS p ON p.id OPERATOR(pg_catalog.=) r.report"
		"   AND p.resident OPERATOR(ehr.=) r.resident"	/* one shard on Citus */
		" WHERE r.resident OPERATOR(ehr.=) $1 AND r.item OPERATOR(pg_catalog.=) ANY ($2)",
		2, args);

	/*
	 * QC qualifications ('q'), reference ranges ('r') and names ('n') of Q and
	 * the issuers, and the windows ('w') whose prefix matches Q's region.
	 */
	args[0] = TEXTARRAYOID;
	args[1] = org_array;
	args[2] = TEXTOID;
	rc_plan_qc = rc_prepare(
		"SELECT 'q', q.institution::pg_catalog.text, q.item,"
		"       pg_catalog.lower(q.valid), pg_catalog.upper(q.valid), q.scope_region, q.mark,"
		"       NULL::ehr.refrange, NULL::pg_catalog.text, NULL::pg_catalog.int4,"
		"       NULL::pg_catalog.int4, NULL::pg_catalog.bool, NULL::pg_catalog.interval"
		"  FROM ehr.lab_qc AS q"
		" WHERE q.item OPERATOR(pg_catalog.=) ANY ($1) AND q.institution OPERATOR(ehr.=) ANY ($2)"
		" UNION ALL "
		"SELECT 'r', f.institution::pg_catalog.text, f.item, NULL, NULL, NULL, NULL,"
		"       f.refrange, f.sex, pg_catalog.lower(f.ages), pg_catalog.upper(f.ages), f.ages IS NULL,"
		"       NULL"
		"  FROM ehr.lab_refrange AS f"
		" WHERE f.item OPERATOR(pg_catalog.=) ANY ($1) AND f.institution OPERATOR(ehr.=) ANY ($2)"
		" UNION ALL "
		"SELECT 'n', n.org::pg_catalog.text, '', NULL, NULL, NULL, n.name,"
		"       NULL, NULL, NULL, NULL, NULL, NULL"
		"  FROM ehr.institution AS n WHERE n.org OPERATOR(ehr.=) ANY ($2)"
		" UNION ALL "
		"SELECT 'w', '', w.item, NULL, NULL, w.region_prefix, NULL,"
		"       NULL, NULL, NULL, NULL, NULL, w.valid_for"
		"  FROM ehr.lab_item_window AS w"
		" WHERE w.item OPERATOR(pg_catalog.=) ANY ($1) AND pg_catalog.starts_with($3, w.region_prefix)",
		3, args);

	args[0] = org_type;
	rc_plan_alliance = rc_prepare(
		"SELECT DISTINCT b.institution::pg_catalog.text"
		"  FROM ehr.alliance_member AS a"
		"  JOIN ehr.alliance_member AS b ON b.alliance OPERATOR(pg_catalog.=) a.alliance"
		" WHERE a.institution OPERATOR(ehr.=) $1", 1, args);

	rc_prepared_for = fn_oid;
}

static void
rc_execute(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_plan(plan, values, nulls, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "recognition query failed: %s", SPI_result_code_string(rc));
}

static char *
rc_getcstring(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

static Datum
rc_getdatum(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

static RcEntry *
rc_entry(HTAB *h, const char *org, const char *item, bool create)
{
	char		key[RC_KEYLEN];
	bool		found;

	memset(key, 0, sizeof(key));
	snprintf(key, sizeof(key), "%s|%s", org, item);
	if (!create)
		return (RcEntry *) hash_search(h, key, HASH_FIND, NULL);
	{
		RcEntry    *e = (RcEntry *) hash_search(h, key, HASH_ENTER, &found);

		if (!found)
		{
			e->qc = NULL;
			e->ranges = NULL;
			e->name = NULL;
		}
		return e;
	}
}

static RcItem *
rc_find_item(RcItem *items, int nitems, const char *code)
{
	int			i;

	for (i = 0; i < nitems; i++)
		if (strcmp(items[i].code, code) == 0)
			return &items[i];
	return NULL;
}

/* The most specific reference range of (org, item) for the resident's sex and age. */
static RcRange *
rc_pick_range(HTAB *h, const char *org, const char *item, char sex, bool age_known, int32 age)
{
	RcEntry    *e = rc_entry(h, org, item, false);
	RcRange    *best = NULL;
	int			best_score = -1;
	RcRange    *r;

	if (e == NULL)
		return NULL;
	for (r = e->ranges; r != NULL; r = r->next)
	{
		int			score = 0;

		if (r->sex != 0)
		{
			if (r->sex != sex)
				continue;
			score++;
		}
		if (!r->any_age)
		{
			if (!age_known || (!r->lo_inf && age < r->lo) || (!r->hi_inf && age >= r->hi))
				continue;
			score++;
		}
		if (score > best_score)
		{
			best = r;
			best_score = score;
		}
	}
	return best;
}

static bool
rc_prefix_of(const char *prefix, const char *s)
{
	return strncmp(prefix, s, strlen(prefix)) == 0;
}

static bool
rc_in_list(char **list, int n, const char *s)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/*
 * The value in the item's unit, through the lab C API (units.c, labvalue.c).
 * Returns false when the units are not commensurable (or mass and substance
 * without a molar mass); *changed tells whether a conversion took place.
 * Items without a unit (qualitative, ratios) keep the value as reported.
 */
static bool
rc_convert(Datum value, const RcItem *it, Datum *out, bool *changed)
{
	LabValue   *v = DatumGetLabValueP(value);
	LabValue   *c;

	*changed = false;
	if (!it->has_unit || strcmp(v->unit, it->unit_parsed.canonical) == 0)
	{
		*out = PointerGetDatum(v);
		return true;
	}
	c = ehr_labvalue_convert_to(v, &it->unit_parsed,
								it->has_molar_mass ? it->molar_mass : 0);
	if (c == NULL)
		return false;
	*changed = true;
	*out = PointerGetDatum(c);
	return true;
}

/*
 * Whether the issuer's reference range states the same interval as Q's. Ranges
 * in units that do not convert differ: the doctor must look at both.
 */
static bool
rc_same_refrange(Datum a, Datum b, const RcItem *it)
{
	bool		comparable;

	/* the same bytes are the same range; only different spellings need the units */
	if (datum_image_eq(a, b, false, -1))
		return true;
	return ehr_refrange_equivalent(DatumGetRefRangeP(a), DatumGetRefRangeP(b),
								   it->has_molar_mass ? it->molar_mass : 0, &comparable) &&
		comparable;
}

/* What one call knows: the site, the catalogue, and small caches. */
typedef struct RcCall
{
	TimestampTz at;
	char	   *site_text;
	char	   *site_region;
	char		sex;
	bool		age_known;
	int32		age;
	RcItem	   *items;
	int			nitems;
	HTAB	   *catalog;
	char	  **partners;
	int			npartners;
	TupleDesc	desc;
	MemoryContext call_cxt;		/* outlives the per-row context */
	RcItem	   *last_item;
	RcRange    *last_local;
	RcItem	   *rr_item;
	RcRange    *rr_local;
	Datum		rr_src;
	bool		rr_same;
} RcCall;

typedef enum RcVerdict
{
	RC_RECOGNIZED,
	RC_SAME_INSTITUTION,
	RC_NOT_RECOGNIZED
} RcVerdict;

/*
 * Judge one candidate row of the results query; fills the 16 output columns
 * (allocating in the current, per-row, memory context).
 */
static RcVerdict
rc_judge(RcCall *c, HeapTuple tup, Datum *values, bool *isnull)
{
	Datum		cols[7];
	bool		cnull[7];
	char	   *item_code;
	char	   *org;
	TimestampTz collected;
	DateADT		collected_day;
	char	   *status;
	Datum		value;
	bool		value_null;
	Datum		range;
	bool		range_null;
	RcItem	   *it;
	const char *reason = NULL;
	const char *mark = NULL;
	Datum		notes[2];
	int			nnotes = 0;
	Datum		converted = (Datum) 0;
	bool		converted_null = true;
	bool		unit_changed = false;
	bool		convertible = true;
	RcRange    *local;
	Datum		src_range;
	bool		src_range_null;
	TimestampTz valid_until = 0;
	RcEntry    *e;


	/* One deform per row: attribute access after a varlena is not cached. */
	heap_deform_tuple(tup, c->desc, cols, cnull);
	item_code = TextDatumGetCString(cols[1]);
	/* an org_code is its 18 canonical characters */
	org = pnstrdup(DatumGetOrgCodeP(cols[2])->data, ORG_CODE_LEN);
	collected = DatumGetTimestampTz(cols[3]);
	status = cnull[4] ? NULL : TextDatumGetCString(cols[4]);
	value = cols[5];
	value_null = cnull[5];
	range = cols[6];
	range_null = cnull[6];
	src_range = range;
	src_range_null = range_null;

	/* Candidates come sorted by item: look the item up once per run. */
	if (c->last_item == NULL || strcmp(c->last_item->code, item_code) != 0)
	{
		c->last_item = rc_find_item(c->items, c->nitems, item_code);
		c->last_local = rc_pick_range(c->catalog, c->site_text, item_code, c->sex, c->age_known, c->age);
	}
	it = c->last_item;
	Assert(it != NULL);
	memset(isnull, 0, sizeof(bool) * RC_NCOLS);
	values[0] = cols[0];
	values[1] = cols[1];
	values[2] = cols[2];
	values[3] = TimestampTzGetDatum(collected);
	values[4] = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(c->at),
									TimestampTzGetDatum(collected));
	values[5] = CStringGetTextDatum(status ? status : "");
	values[6] = value;
	isnull[6] = value_null;

	/* The value in the item's unit (shown for every candidate). */
	if (!value_null)
		convertible = rc_convert(value, it, &converted, &unit_changed);
	converted_null = value_null || !convertible;
	values[7] = converted;
	isnull[7] = converted_null;

	/* Reference ranges: the one the result was issued with (or the issuer's), and Q's. */
	local = c->last_local;
	if (src_range_null)
	{
		RcRange    *s = rc_pick_range(c->catalog, org, item_code, c->sex, c->age_known, c->age);

		if (s != NULL)
		{
			src_range = s->refrange;
			src_range_null = false;
		}
	}
	values[8] = src_range;
	isnull[8] = src_range_null;
	values[9] = local ? local->refrange : (Datum) 0;
	isnull[9] = local == NULL;

	if (it->has_window)
		valid_until = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
															  TimestampTzGetDatum(collected),
															  it->window));

	/* Rules 1-5, in order; the first that fails is the reason. */
	if (status == NULL || (strcmp(status, "final") != 0 && strcmp(status, "amended") != 0))
		reason = "not_final";
	else if (!it->has_window)
		reason = "no_window";
	else if (c->at > valid_until)
		reason = "expired";
	else if (strcmp(org, c->site_text) == 0)
		reason = "same_institution";
	else
	{
		RcQc	   *q;
		bool		qualified = false;
		bool		shared_alliance = it->scope == RC_SCOPE_ALLIANCE &&
			rc_in_list(c->partners, c->npartners, org);

		/* the collection day, in the session's time zone */
		collected_day = DatumGetDateADT(DirectFunctionCall1(timestamptz_date,
															TimestampTzGetDatum(collected)));
		e = rc_entry(c->catalog, org, item_code, false);
		for (q = e ? e->qc : NULL; q != NULL; q = q->next)
		{
			if ((!q->lo_inf && collected_day < q->lo) ||
				(!q->hi_inf && collected_day >= q->hi))
				continue;
			qualified = true;
			if (rc_prefix_of(q->scope_region, c->site_region) || shared_alliance)
			{
				mark = q->mark;
				break;
			}
		}
		if (!qualified)
			reason = "not_qc_qualified";
		else if (mark == NULL)
			reason = "out_of_scope";
		else if (!convertible)
			reason = "incommensurable_unit";
	}

	if (reason == NULL)
	{
		if (unit_changed)
			notes[nnotes++] = CStringGetTextDatum("unit_converted");
		if (local != NULL && !src_range_null)
		{
			bool		same;

			/* Most results of an item carry the same printed range: compare once. */
			if (c->rr_item == it && c->rr_local == local &&
				datum_image_eq(src_range, c->rr_src, false, -1))
				same = c->rr_same;
			else
			{
				same = rc_same_refrange(src_range, local->refrange, it);
				{
					MemoryContext old = MemoryContextSwitchTo(c->call_cxt);

					c->rr_src = datumCopy(src_range, false, -1);
					MemoryContextSwitchTo(old);
				}
				c->rr_item = it;
				c->rr_local = local;
				c->rr_same = same;
			}
			if (!same)
				notes[nnotes++] = CStringGetTextDatum("reference_range_differs");
		}
		values[10] = CStringGetTextDatum(nnotes ? "recognized_with_note" : "recognized");
		isnull[11] = true;
	}
	else
	{
		mark = NULL;		/* a mark is shown only where it applies */
		values[10] = CStringGetTextDatum("not_recognized");
		values[11] = CStringGetTextDatum(reason);
	}
	values[12] = PointerGetDatum(construct_array(notes, nnotes, TEXTOID, -1, false, TYPALIGN_INT));
	values[13] = mark ? CStringGetTextDatum(mark) : (Datum) 0;
	isnull[13] = mark == NULL;
	values[14] = TimestampTzGetDatum(valid_until);
	isnull[14] = !it->has_window;
	values[15] = it->price;
	isnull[15] = it->price_null;
	values[16] = CStringGetTextDatum(it->name);
	e = rc_entry(c->catalog, org, "", false);
	isnull[17] = e == NULL || e->name == NULL;
	values[17] = isnull[17] ? (Datum) 0 : CStringGetTextDatum(e->name);

	if (reason == NULL)
		return RC_RECOGNIZED;
	return strcmp(reason, "same_institution") == 0 ? RC_SAME_INSTITUTION : RC_NOT_RECOGNIZED;
}

/*
 * A candidate row with the keys it is grouped and ordered by: item, then most
 * recent first (collection time, then id). Sorting here costs less than an
 * ORDER BY in the query, which would sort whole tuples.
 */
typedef struct RcRow
{
	HeapTuple	tup;
	const char *item;
	int			itemlen;
	TimestampTz collected;
	int64		id;
} RcRow;

static int
rc_row_cmp(const void *a, const void *b)
{
	const RcRow *x = (const RcRow *) a;
	const RcRow *y = (const RcRow *) b;
	int			c = memcmp(x->item, y->item, Min(x->itemlen, y->itemlen));

	if (c != 0)
		return c;
	if (x->itemlen != y->itemlen)
		return x->itemlen < y->itemlen ? -1 : 1;
	if (x->collected != y->collected)
		return x->collected > y->collected ? -1 : 1;
	if (x->id != y->id)
		return x->id > y->id ? -1 : 1;
	return 0;
}

static bool
rc_same_item(const RcRow *a, const RcRow *b)
{
	return a->itemlen == b->itemlen && memcmp(a->item, b->item, a->itemlen) == 0;
}

PG_FUNCTION_INFO_V1(ehr_recognition_candidates);

/*
 * ehr.recognition_candidates(resident, items text[], at_institution, at)
 *		→ SETOF (result, item, institution, collected_at, age, status, value,
 *				 converted, refrange, local_refrange, verdict, reason, notes,
 *				 mark, valid_until, fee)
 */
Datum
ehr_recognition_candidates(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			resident_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Oid			org_type = get_fn_expr_argtype(fcinfo->flinfo, 2);
	Datum		resident;
	Datum		items_arr;
	Datum		site;
	bool		site_null;
	TimestampTz at;
	char	   *site_text;
	char	   *site_region;
	char		sex = 0;
	bool		age_known = false;
	int32		age = 0;
	RcItem	   *items;
	int			nitems;
	bool		any_alliance = false;
	char	  **partners = NULL;
	int			npartners = 0;
	HTAB	   *catalog;
	HASHCTL		ctl;
	SPITupleTable *results;
	uint64		nresults;
	Datum	   *orgs;
	int			norgs;
	uint64		i;
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	MemoryContext row_cxt;
	MemoryContext oldcxt;
	RcCall		call;
	bool		best_only;
	RcRow	   *rows;
	char	  **ordered = NULL;
	int			nordered = 0;

	if (!OidIsValid(resident_type) || !OidIsValid(org_type))
		elog(ERROR, "ehr.recognition_candidates must be called from SQL");

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return (Datum) 0;

	resident = PG_GETARG_DATUM(0);
	items_arr = PG_GETARG_DATUM(1);
	site_null = PG_ARGISNULL(2);
	site = site_null ? (Datum) 0 : PG_GETARG_DATUM(2);
	at = PG_ARGISNULL(3) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(3);
	best_only = PG_NARGS() > 4 && !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc_prepare_all(fcinfo->flinfo->fn_oid, resident_type, org_type);

	/* Step 1: the recognizing institution Q, its region, the patient's sex and age. */
	if (site_null)
	{
		bool		isnull;

		rc_execute(rc_plan_actor, NULL, NULL);
		site = SPI_processed == 1 ? rc_getdatum(0, 1, &isnull) : (Datum) 0;
		if (SPI_processed != 1 || isnull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("no recognizing institution given and no practitioner is acting"),
					 errdetail("Pass at_institution, or act as a practitioner (ehr.act_as or a mapped database role) whose institution is recognizing.")));
		{
			int16		typlen;
			bool		typbyval;

			get_typlenbyval(org_type, &typlen, &typbyval);
			site = datumCopy(site, typbyval, typlen);
		}
	}
	site_text = rc_output(org_type, site);
	/* Steps 1-2: Q's region, the patient's sex and age, the items and their windows. */
	args[0] = site;
	args[1] = resident;
	args[2] = DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(at));
	args[3] = items_arr;
	rc_execute(rc_plan_site, args, nulls);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("institution \"%s\" does not exist", site_text),
				 errdetail("The recognizing institution must be registered in ehr.institution with its region.")));
	site_region = rc_getcstring(0, 1);
	if (site_region == NULL)
		site_region = "";
	{
		char	   *s = rc_getcstring(0, 2);
		bool		isnull;
		Datum		a = rc_getdatum(0, 3, &isnull);

		if (s != NULL)
			sex = s[0] == 'f' ? 'f' : 'm';
		if (!isnull)
		{
			age_known = true;
			age = DatumGetInt32(a);
		}
	}
	items = palloc0(sizeof(RcItem) * SPI_processed);
	nitems = 0;
	for (i = 0; i < SPI_processed; i++)
	{
		RcItem	   *it = &items[nitems];
		bool		isnull;
		char	   *scope;
		Datum		d;

		it->code = rc_getcstring(i, 4);
		if (it->code == NULL)
			continue;			/* no ordered item is in the catalogue */
		it->name = rc_getcstring(i, 9);
		it->best_row = -1;
		nitems++;
		{
			char	   *unit = rc_getcstring(i, 5);

			it->has_unit = unit != NULL;
			if (unit != NULL)
				ehr_unit_parse_or_error(unit, &it->unit_parsed);
		}
		d = rc_getdatum(i, 6, &isnull);
		it->has_molar_mass = !isnull;
		it->molar_mass = isnull ? 0 : DatumGetFloat8(d);
		d = rc_getdatum(i, 7, &it->price_null);
		it->price = it->price_null ? (Datum) 0 : datumCopy(d, false, -1);
		scope = rc_getcstring(i, 8);
		it->scope = strcmp(scope, "alliance") == 0 ? RC_SCOPE_ALLIANCE :
			strcmp(scope, "city") == 0 ? RC_SCOPE_CITY :
			strcmp(scope, "province") == 0 ? RC_SCOPE_PROVINCE : RC_SCOPE_NATIONAL;
		if (it->scope == RC_SCOPE_ALLIANCE)
			any_alliance = true;
		it->has_window = false;		/* filled from the windows query */
	}
	/* Every ordered item must be in the catalogue. */
	{
		ArrayType  *arr = DatumGetArrayTypeP(items_arr);
		Datum	   *elems;
		bool	   *enulls;
		int			nelems;
		int			k;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &nelems);
		ordered = palloc(sizeof(char *) * Max(nelems, 1));
		nordered = nelems;
		for (k = 0; k < nelems; k++)
		{
			char	   *code;

			if (enulls[k])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("ordered items must not contain NULL"),
						 errdetail("Each ordered item is a code of ehr.lab_item.")));
			code = TextDatumGetCString(elems[k]);
			if (rc_find_item(items, nitems, code) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown lab item \"%s\"", code),
						 errdetail("Each ordered item must be a code of ehr.lab_item.")));
			ordered[k] = code;
		}
	}

	/* Step 3: the candidates, under the caller's row-level security. */
	args[0] = resident;
	args[1] = items_arr;
	rc_execute(rc_plan_results, args, nulls);
	results = SPI_tuptable;
	nresults = SPI_processed;
	SPI_tuptable = NULL;		/* keep it: later queries must not free it */

	/*
	 * One pass over the candidates: their sort keys, and the issuing
	 * institutions (with Q, for its local ranges).
	 */
	rows = palloc(sizeof(RcRow) * Max(nresults, 1));
	orgs = palloc(sizeof(Datum) * (nresults + 1));
	norgs = 0;
	orgs[norgs++] = site;
	for (i = 0; i < nresults; i++)
	{
		Datum		cols[7];
		bool		cnull[7];
		int			k;

		heap_deform_tuple(results->vals[i], results->tupdesc, cols, cnull);
		rows[i].tup = results->vals[i];
		rows[i].item = VARDATA_ANY(DatumGetPointer(cols[1]));
		rows[i].itemlen = VARSIZE_ANY_EXHDR(DatumGetPointer(cols[1]));
		rows[i].collected = DatumGetTimestampTz(cols[3]);
		rows[i].id = DatumGetInt64(cols[0]);
		for (k = 0; k < norgs; k++)
			if (memcmp(DatumGetOrgCodeP(orgs[k])->data, DatumGetOrgCodeP(cols[2])->data,
					   ORG_CODE_LEN) == 0)
				break;
		if (k == norgs)
			orgs[norgs++] = cols[2];
	}
	if (nresults > 1)
		qsort(rows, nresults, sizeof(RcRow), rc_row_cmp);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = RC_KEYLEN;
	ctl.entrysize = sizeof(RcEntry);
	ctl.hcxt = CurrentMemoryContext;
	catalog = hash_create("ehr recognition catalogue", 64, &ctl,
						  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	if (nresults > 0)
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Datum		orgarr;

		get_typlenbyvalalign(org_type, &typlen, &typbyval, &typalign);
		orgarr = PointerGetDatum(construct_array(orgs, norgs, org_type, typlen, typbyval, typalign));

		/* Steps 4-5: QC qualifications, reference ranges (Q's and the issuers'), names, windows. */
		args[0] = items_arr;
		args[1] = orgarr;
		args[2] = CStringGetTextDatum(site_region);
		rc_execute(rc_plan_qc, args, nulls);
		for (i = 0; i < SPI_processed; i++)
		{
			char	   *kind = rc_getcstring(i, 1);
			RcEntry    *e = kind[0] == 'w' ? NULL :
				rc_entry(catalog, rc_getcstring(i, 2), rc_getcstring(i, 3), true);
			bool		isnull;
			Datum		d;

			if (kind[0] == 'w')
			{
				/* the longest matching region prefix wins */
				RcItem	   *it = rc_find_item(items, nitems, rc_getcstring(i, 3));
				char	   *prefix = rc_getcstring(i, 6);
				int			len = (int) strlen(prefix);

				if (it != NULL && (!it->has_window || len > it->window_prefix_len))
				{
					it->has_window = true;
					it->window_prefix_len = len;
					it->window = datumCopy(rc_getdatum(i, 13, &isnull), false, sizeof(Interval));
				}
			}
			else if (kind[0] == 'n')
				e->name = rc_getcstring(i, 7);
			else if (kind[0] == 'q')
			{
				RcQc	   *q = palloc0(sizeof(RcQc));

				d = rc_getdatum(i, 4, &isnull);
				q->lo_inf = isnull;
				q->lo = isnull ? 0 : DatumGetDateADT(d);
				d = rc_getdatum(i, 5, &isnull);
				q->hi_inf = isnull;
				q->hi = isnull ? 0 : DatumGetDateADT(d);
				q->scope_region = rc_getcstring(i, 6);
				q->mark = rc_getcstring(i, 7);
				q->next = e->qc;
				e->qc = q;
			}
			else
			{
				RcRange    *r = palloc0(sizeof(RcRange));
				char	   *s;

				r->refrange = datumCopy(rc_getdatum(i, 8, &isnull), false, -1);
				s = rc_getcstring(i, 9);
				r->sex = s == NULL ? 0 : (s[0] == 'f' ? 'f' : 'm');
				d = rc_getdatum(i, 10, &isnull);
				r->lo_inf = isnull;
				r->lo = isnull ? 0 : DatumGetInt32(d);
				d = rc_getdatum(i, 11, &isnull);
				r->hi_inf = isnull;
				r->hi = isnull ? 0 : DatumGetInt32(d);
				r->any_age = DatumGetBool(rc_getdatum(i, 12, &isnull));
				r->next = e->ranges;
				e->ranges = r;
			}
		}

		/* Step 6: Q's alliance partners, when an item is alliance-scoped. */
		if (any_alliance)
		{
			args[0] = site;
			rc_execute(rc_plan_alliance, args, nulls);
			npartners = (int) SPI_processed;
			partners = palloc(sizeof(char *) * Max(npartners, 1));
			for (i = 0; i < (uint64) npartners; i++)
				partners[i] = rc_getcstring(i, 1);
		}
	}

	/*
	 * Step 7: judge the candidates, in a memory context reset per row. For
	 * the pop-up (best_only) only the best of each item is returned: the
	 * most recent recognized result, else the most recent of the
	 * institution's own, else the most recent; candidates come sorted by
	 * item and recency, so judging stops at the first recognized one.
	 */
	memset(&call, 0, sizeof(call));
	call.at = at;
	call.site_text = site_text;
	call.site_region = site_region;
	call.sex = sex;
	call.age_known = age_known;
	call.age = age;
	call.items = items;
	call.nitems = nitems;
	call.catalog = catalog;
	call.partners = partners;
	call.npartners = npartners;
	call.desc = results->tupdesc;
	call.call_cxt = CurrentMemoryContext;
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "ehr recognition row",
									ALLOCSET_SMALL_SIZES);
	i = 0;
	while (i < nresults)
	{
		Datum		values[RC_NCOLS];
		bool		isnull[RC_NCOLS];
		uint64		group_end = i + 1;
		uint64		best = i;
		int64		same = -1;
		uint64		last_judged = i;
		RcVerdict	v = RC_NOT_RECOGNIZED;
		uint64		k;

		if (!best_only)
		{
			CHECK_FOR_INTERRUPTS();
			MemoryContextReset(row_cxt);
			oldcxt = MemoryContextSwitchTo(row_cxt);
			rc_judge(&call, rows[i].tup, values, isnull);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
			MemoryContextSwitchTo(oldcxt);
			i++;
			continue;
		}

		while (group_end < nresults &&
			   rc_same_item(&rows[i], &rows[group_end]))
			group_end++;
		for (k = i; k < group_end; k++)
		{
			CHECK_FOR_INTERRUPTS();
			MemoryContextReset(row_cxt);
			oldcxt = MemoryContextSwitchTo(row_cxt);
			v = rc_judge(&call, rows[k].tup, values, isnull);
			MemoryContextSwitchTo(oldcxt);
			last_judged = k;
			if (v == RC_RECOGNIZED)
				break;
			if (v == RC_SAME_INSTITUTION && same < 0)
				same = (int64) k;
		}
		if (v == RC_RECOGNIZED)
			best = last_judged;
		else if (same >= 0)
			best = (uint64) same;
		call.last_item->best_row = (int64) best;	/* the group's item */
		i = group_end;
	}

	/*
	 * The pop-up: one row per ordered item, in the order given (an item
	 * ordered twice once); the best candidate, or a row saying no_result.
	 */
	if (best_only)
	{
		int			k;

		for (k = 0; k < nordered; k++)
		{
			RcItem	   *it = rc_find_item(items, nitems, ordered[k]);
			Datum		values[RC_NCOLS];
			bool		isnull[RC_NCOLS];

			if (it->best_row == -2)
				continue;		/* already emitted */
			MemoryContextReset(row_cxt);
			oldcxt = MemoryContextSwitchTo(row_cxt);
			if (it->best_row >= 0)
				rc_judge(&call, rows[it->best_row].tup, values, isnull);
			else
			{
				memset(isnull, true, sizeof(isnull));
				values[1] = CStringGetTextDatum(it->code);
				isnull[1] = false;
				values[11] = CStringGetTextDatum("no_result");
				isnull[11] = false;
				values[12] = PointerGetDatum(construct_empty_array(TEXTOID));
				isnull[12] = false;
				values[15] = it->price;
				isnull[15] = it->price_null;
				values[16] = CStringGetTextDatum(it->name);
				isnull[16] = false;
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
			MemoryContextSwitchTo(oldcxt);
			it->best_row = -2;
		}
	}

	SPI_freetuptable(results);
	SPI_finish();
	return (Datum) 0;
}
