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
/* A resident_id is its 18 characters packed into an int64 (see resident_id.c). */
typedef int64 ResidentId;
#define DatumGetResidentId(X)	((ResidentId) DatumGetInt64(X))
#define ResidentIdGetDatum(X)	Int64GetDatum(X)
#define PG_GETARG_RESIDENT_ID(n)	DatumGetResidentId(PG_GETARG_DATUM(n))
#define PG_RETURN_RESIDENT_ID(x)	return ResidentIdGetDatum(x)
#define RESIDENT_ID_LEN		18
/* Writes the canonical 18 characters plus NUL into buf (19 bytes). */
extern void resident_id_to_cstring(ResidentId id, char *buf);

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

/* ---- units.c / labvalue.c ---- */


/* ---- consent.c / authcode.c ---- */


/* ---- audit.c ---- */


/* ---- deid.c ---- */


/* ---- recognition.c ---- */


/* ---- card.c ---- */
/* health_card.c: electronic health card; registers ehr.health_code_ttl. */
extern int	ehr_health_code_ttl;
extern void ehr_health_card_init(void);

#endif							/* EHR_H */
