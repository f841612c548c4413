/*-------------------------------------------------------------------------
 *
 * ehr.h
 *	  Declarations shared between the C files of the ehr extension.
 *
 * Each section belongs to the file named in its heading; keep a file's
 * exports in its own section.
 *
 *-------------------------------------------------------------------------
 */
#ifndef EHR_H
#define EHR_H

#include "postgres.h"
#include "fmgr.h"

/* ---- ehr.c: module entry, GUCs ---- */
extern void _PG_init(void);
extern bool ehr_preloaded;

/*
 * Objects of schema ehr by name, for C code that reads the extension's own
 * tables and types (no search_path involved). ehr_type_oid returns InvalidOid
 * for a missing type when missing_ok; ehr_relation_oid raises 42P01 with a hint.
 */
extern Oid	ehr_type_oid(const char *name, bool missing_ok);
extern Oid	ehr_relation_oid(const char *name);

/* ---- crypto.c: the only file that includes OpenSSL ---- */
#define EHR_SM3_LEN		32
#define EHR_SM4_KEY_LEN	16
#define EHR_SM4_BLOCK	16

extern void ehr_sm3(const uint8 *data, size_t len, uint8 *out);
extern void ehr_hmac_sm3(const uint8 *key, size_t keylen,
						 const uint8 *data, size_t len, uint8 *out);
extern void ehr_sm4_ecb(bool encrypt, const uint8 *key,
						const uint8 *in, size_t len, uint8 *out);
extern void ehr_random_bytes(uint8 *buf, size_t len);
extern bool ehr_const_time_equal(const void *a, const void *b, size_t len);
extern void ehr_wipe(void *p, size_t len);
/*
 * HMAC-SM3 under one key for many messages: prepare once (per query, in
 * fn_mcxt), then one call per message. Freed with the memory context.
 */
typedef struct EhrHmacSm3 EhrHmacSm3;
extern EhrHmacSm3 *ehr_hmac_sm3_prepare(const uint8 *key, size_t keylen, MemoryContext mcxt);
extern void ehr_hmac_sm3_compute(EhrHmacSm3 *h, const uint8 *data, size_t len, uint8 *out);

/* ---- keyring.c: key material in ehr.keyring, read without SQL privileges ---- */
/* Longest key the keyring holds (HMAC keys); SM4 keys are 16 bytes. */
#define EHR_KEY_MAX_LEN	64

typedef struct EhrKey
{
	int			len;
	uint8		bytes[EHR_KEY_MAX_LEN];
} EhrKey;

/*
 * Fetch key "name" into *key; errors (ERRCODE_UNDEFINED_OBJECT) when the
 * keyring has no such key. The caller wipes *key when done.
 */
extern void ehr_keyring_get(const char *name, EhrKey *key);

/*
 * Per-call-site cache: the key is read once per query into fn_mcxt and reused
 * for every row. Returns the cached copy.
 */
extern const EhrKey *ehr_keyring_cached(FmgrInfo *flinfo, const char *name);

/* ---- resident_id.c ---- */
/*
 * A resident_id is its 17 significant digits as an int64 (below 10^17); the
 * check character is a function of them and is recomputed on output. Integer
 * order is the order of the canonical text. See resident_id.c.
 */
typedef int64 ResidentId;
#define DatumGetResidentId(X)	((ResidentId) DatumGetInt64(X))
#define ResidentIdGetDatum(X)	Int64GetDatum(X)
#define PG_GETARG_RESIDENT_ID(n)	DatumGetResidentId(PG_GETARG_DATUM(n))
#define PG_RETURN_RESIDENT_ID(x)	return ResidentIdGetDatum(x)
#define RESIDENT_ID_LEN		18
/* Writes the canonical 18 characters plus NUL into buf (19 bytes). */
extern void resident_id_to_cstring(ResidentId id, char *buf);
/* Parses s[0..len) by the input rules without raising; false when invalid. */
extern bool resident_id_parse(const char *s, size_t len, ResidentId *out);

/* ---- org_code.c ---- */
/*
 * 17 significant characters from a 31-letter alphabet need 84 bits, more
 * than a Datum: an org_code is a fixed-length 18-byte value passed by
 * reference, the canonical upper-case characters themselves.
 */
#define ORG_CODE_LEN		18
typedef struct OrgCode
{
	char		data[ORG_CODE_LEN];
} OrgCode;
#define DatumGetOrgCodeP(X)		((OrgCode *) DatumGetPointer(X))
#define OrgCodePGetDatum(X)		PointerGetDatum(X)
#define PG_GETARG_ORG_CODE_P(n)	DatumGetOrgCodeP(PG_GETARG_DATUM(n))
#define PG_RETURN_ORG_CODE_P(x)	return OrgCodePGetDatum(x)
/* Writes the canonical 18 characters plus NUL into buf (19 bytes). */
extern void org_code_to_cstring(const OrgCode *code, char *buf);
/* Parses s[0..len) by the input rules without raising; false when invalid. */
extern bool org_code_parse(const char *s, size_t len, OrgCode *out);

/* ---- units.c / labvalue.c ---- */
/*
 * A parsed UCUM unit: magnitude in base units and a dimension vector (see
 * units.c). mol and each arbitrary unit are dimensions of their own, so
 * mass <-> substance needs a molar mass and [iU] converts only to [iU].
 */
enum
{
	EHR_DIM_LENGTH,				/* m */
	EHR_DIM_MASS,				/* g */
	EHR_DIM_TIME,				/* s */
	EHR_DIM_ANGLE,				/* rad */
	EHR_DIM_TEMPERATURE,		/* K */
	EHR_DIM_CHARGE,				/* C */
	EHR_DIM_LUMINOUS,			/* cd */
	EHR_DIM_AMOUNT,				/* mol */
	EHR_DIM_IU,					/* [iU] (arbitrary) */
	EHR_DIM_ARB,				/* [arb'U] (arbitrary) */
	EHR_DIM_CFU,				/* [CFU] (arbitrary) */
	EHR_UNIT_NDIM
};

typedef struct EhrUnit
{
	double		scale;			/* magnitude in base units */
	int16		dim[EHR_UNIT_NDIM];
	char	   *canonical;		/* canonical spelling, palloc'd ("" = unity) */
} EhrUnit;

typedef enum EhrUnitConversion
{
	EHR_UNIT_OK,
	EHR_UNIT_INCOMMENSURABLE,
	EHR_UNIT_NEEDS_MOLAR_MASS	/* mass <-> substance without a molar mass */
} EhrUnitConversion;

/* A unit for messages: unity (the empty unit) shows as UCUM's "1". */
#define EHR_UNIT_SHOW(canonical)	((canonical)[0] ? (canonical) : "1")
/* Parse len bytes of unit text; false with *detail (a sentence) if invalid. Never raises. */
extern bool ehr_unit_parse(const char *text, int len, EhrUnit *unit, char **detail);
/* Per-call-site cache of parsed units (in flinfo->fn_mcxt, via fn_extra); NULL flinfo gives NULL. */
typedef struct EhrUnitCache EhrUnitCache;
extern EhrUnitCache *ehr_unit_cache(FmgrInfo *flinfo);
/*
 * ehr_unit_parse of a C string through the cache (cache may be NULL). The
 * returned unit's canonical text lives in the cache: a later lookup may evict
 * it, so copy it if it must outlive the next lookup.
 */
extern bool ehr_unit_parse_cached(EhrUnitCache *cache, const char *text,
								  EhrUnit *unit, char **detail);
/* Same for a C string; raises 22P02 "unknown unit" naming it. */
extern void ehr_unit_parse_or_error(const char *text, EhrUnit *unit);
extern bool ehr_unit_commensurable(const EhrUnit *a, const EhrUnit *b);
/* *factor converts a value in "from" to "to"; molar_mass in g/mol, 0 for none. */
extern EhrUnitConversion ehr_unit_factor(const EhrUnit *from, const EhrUnit *to,
										 double molar_mass, double *factor);
extern char *ehr_unit_mismatch_detail(const EhrUnit *from, const EhrUnit *to,
									  EhrUnitConversion why);

/* A decimal as written: coef x 10^exp; 5.60 is {560, -2}. At most 18 digits. */
typedef struct EhrDecimal
{
	int64		coef;
	int32		exp;
	int32		reserved;		/* zero */
} EhrDecimal;

typedef enum EhrComparator
{
	EHR_CMP_NONE = 0, EHR_CMP_LT, EHR_CMP_LE, EHR_CMP_GT, EHR_CMP_GE
} EhrComparator;

/* ehr.labvalue (varlena, double-aligned, all padding zero so bytes compare/hash). */
typedef struct LabValue
{
	int32		vl_len_;
	uint8		comparator;		/* EhrComparator */
	uint8		reserved[3];
	EhrDecimal	value;
	char		unit[FLEXIBLE_ARRAY_MEMBER];	/* canonical, NUL-terminated */
} LabValue;

/* ehr.refrange flags */
#define EHR_RR_HAS_LOW		0x01
#define EHR_RR_HAS_HIGH		0x02
#define EHR_RR_LOW_INC		0x04
#define EHR_RR_HIGH_INC		0x08

typedef struct RefRange
{
	int32		vl_len_;
	uint8		flags;
	uint8		reserved[3];
	EhrDecimal	low;
	EhrDecimal	high;
	char		unit[FLEXIBLE_ARRAY_MEMBER];	/* canonical, NUL-terminated */
} RefRange;

#define DatumGetLabValueP(X)	((LabValue *) PG_DETOAST_DATUM(X))
#define PG_GETARG_LABVALUE_P(n)	DatumGetLabValueP(PG_GETARG_DATUM(n))
#define PG_RETURN_LABVALUE_P(x)	PG_RETURN_POINTER(x)
#define DatumGetRefRangeP(X)	((RefRange *) PG_DETOAST_DATUM(X))
#define PG_GETARG_REFRANGE_P(n)	DatumGetRefRangeP(PG_GETARG_DATUM(n))
#define PG_RETURN_REFRANGE_P(x)	PG_RETURN_POINTER(x)

/*
 * Convert v to unit "to" (molar_mass 0 for none), keeping the comparator and
 * the input's significant digits plus one. Returns NULL when the units do not
 * convert (never raises for that); raises 22003 if the result is out of range.
 */
extern LabValue *ehr_labvalue_convert_to(const LabValue *v, const EhrUnit *to,
										 double molar_mass);
/* Same with unit text: 22P02 for an unknown unit, 22023 when incommensurable. */
extern LabValue *ehr_labvalue_convert(const LabValue *v, const char *unit,
									  double molar_mass);
/* Convert a range's bounds to "to" (same digit rule); NULL when not convertible. */
extern RefRange *ehr_refrange_convert_to(const RefRange *r, const EhrUnit *to,
										 double molar_mass);
/*
 * HL7 interpretation code "N", "L", "H", "LL", "HH" of v against the normal
 * range (and the critical range, may be NULL); NULL when not comparable.
 */
extern const char *ehr_labvalue_interpret(const LabValue *v, const RefRange *normal,
										  const RefRange *critical);
/*
 * True when a and b state the same interval: same bound kinds, and each side's
 * bounds converted to the other's unit round to the other's written digits.
 * *comparable is false (and the result false) when the units do not convert.
 */
extern bool ehr_refrange_equivalent(const RefRange *a, const RefRange *b,
									double molar_mass, bool *comparable);
/* Canonical text of a value or range (palloc'd). */
extern char *ehr_labvalue_to_cstring(const LabValue *v);
extern char *ehr_refrange_to_cstring(const RefRange *r);


/* ---- consent.c / authcode.c ---- */
/*
 * Record categories (enum ehr.category) as bits, in the enum's order. The C
 * code maps enum OIDs to these bits once per query.
 */
#define EHR_CAT_LAB			0x01
#define EHR_CAT_EXAM		0x02
#define EHR_CAT_EMR			0x04
#define EHR_CAT_ARCHIVE		0x08
#define EHR_CAT_ALL			0x0F
#define EHR_N_CATEGORIES	4

/* Labels of the categories, indexed by bit number (lab, exam, emr, archive). */
extern const char *const ehr_category_labels[EHR_N_CATEGORIES];

/* Who is acting in this transaction (DESIGN section 4). */
typedef enum EhrActorKind
{
	EHR_ACTOR_NONE = 0,
	EHR_ACTOR_PRACTITIONER,
	EHR_ACTOR_RESIDENT
} EhrActorKind;

typedef struct EhrActor
{
	EhrActorKind kind;
	int64		practitioner;	/* EHR_ACTOR_PRACTITIONER */
	OrgCode		institution;	/* EHR_ACTOR_PRACTITIONER */
	ResidentId	resident;		/* EHR_ACTOR_RESIDENT */
} EhrActor;

/*
 * The current actor: the transaction-local ehr.actor setting made by
 * ehr.act_as / ehr.act_as_resident, else the practitioner whose db_role is
 * the session user. Reads ehr.practitioner for the latter (no SQL privilege
 * needed).
 */
extern void ehr_current_actor(EhrActor *actor);

/*
 * Create an access grant for (practitioner, resident, categories) after the
 * caller has verified the patient's consent some other way (e.g. the health
 * card's dynamic QR code). category_mask is a set of EHR_CAT_* bits (not 0);
 * via names the verification ("health_card"), stored in the grant and the
 * access log. The grant lasts ehr.grant_ttl and ends with ehr.end_access like
 * any other. Writes the grant and a confirm_ok event in the current
 * transaction; errors if the practitioner is unknown or inactive. Returns the
 * grant id. No privilege check: callers must check their own EXECUTE rights.
 */
extern int64 ehr_grant_create(int64 practitioner, ResidentId resident,
							  int category_mask, const char *via);

/* Category bit of a category label ("lab" ...), or 0 when unknown. */
extern int	ehr_category_bit(const char *label);

/* The owner of schema ehr (the extension's owner): internal reads run as it. */
extern Oid	ehr_owner(void);

/* consent.c: GUCs (from _PG_init). */
extern void ehr_consent_init(void);

/* authcode.c: shared memory for failed-code counters (from _PG_init). */
extern void ehr_authcode_init(void);

/*
 * authcode.c: move refused confirmations queued in shared memory into the
 * access log (audit.c calls it at commit of a transaction that writes it).
 */
extern void ehr_authcode_drain_pending(void);

/*
 * authcode.c: the consent generation in shared memory, bumped on every change
 * to grants or sharing switches; false when not preloaded.
 */
extern bool ehr_consent_generation(uint64 *gen);
extern void ehr_consent_bump(void);

/* ---- audit.c ---- */
#include "datatype/timestamp.h"

/*
 * One access-log event. Unused fields: 0 / NULL / has_resident false.
 * event is one of: request, code_sent, confirm_ok, confirm_failed, locked,
 * grant_end, break_glass, sharing_changed, research_use_changed, read, or a
 * name of the caller's own (e.g. "card_resolved"): lower-case, at most 32
 * characters.
 */
typedef struct EhrAuditEvent
{
	const char *event;
	int64		practitioner;
	const OrgCode *institution;
	bool		has_resident;
	ResidentId	resident;
	const char *category;		/* a category label, or NULL */
	const OrgCode *origin;
	int64		grant_id;
	int64		request_id;
	const char *detail;			/* free text, no secrets */
	TimestampTz at;				/* when it happened; 0 = now */
} EhrAuditEvent;

/*
 * Append ev to ehr.access_log, hash-chained, in the current transaction
 * (rolled back with it). Needs no SQL privilege on the log; serialises with
 * other writers until commit so the chain never forks. Returns the row id.
 */
extern int64 ehr_audit_event(const EhrAuditEvent *ev);

/*
 * Note that the actor read (resident, category, origin) through grant_id
 * (0 for a resident reading their own record; break_glass when that grant
 * is a break-glass one). Kept once per transaction
 * and triple; written to ehr.access_log at commit, or as an "ehr audit:"
 * server-log line where no row can be written.
 */
extern void ehr_audit_note_read(const EhrActor *actor, ResidentId resident,
								int category_bit, const OrgCode *origin,
								int64 grant_id, bool break_glass);

/* Write an "ehr audit:" line to the server log (survives any rollback). */
extern void ehr_audit_log_line(const EhrAuditEvent *ev, const char *why);

/* audit.c: GUC and transaction callback (from _PG_init). */
extern void ehr_audit_init(void);


/* ---- deid.c ---- */
/* Registers ehr.date_shift_days and the SECURITY LABEL provider "ehr". */
extern void ehr_deid_init(void);
extern int	ehr_date_shift_days;
/* deid_generalize.c: '40-44' / '90+' (raises 22023 on a bad width or dates) */
extern text *ehr_age_band_text(int32 birth, int32 at, int32 width);

/* ---- recognition.c ---- */


/* ---- card.c ---- */
/* health_card.c: electronic health card; ehr.health_code_ttl and, preloaded, shared memory. */
extern int	ehr_health_code_ttl;
extern void ehr_health_card_init(void);

#endif							/* EHR_H */
