/*-------------------------------------------------------------------------
 *
 * crypto.c
 *	  The only file of ehr that includes OpenSSL: SM3, HMAC-SM3, SM4-ECB,
 *	  the CSPRNG and constant-time comparison.
 *
 * Algorithm objects are fetched from the default provider once per backend
 * and the working contexts are allocated once per backend and reused, so a
 * per-row caller (pseudonyms over a million rows) pays for the compression
 * function only, and an ERROR thrown half-way through a digest leaks nothing:
 * the next call simply re-initialises the same context.
 *
 * No key byte ever reaches an error message: failures report the OpenSSL
 * operation that failed, never its inputs.
 *
 *-------------------------------------------------------------------------
 */
#include "ehr.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SM3_BLOCK	64

static EVP_MD *sm3_md = NULL;
static EVP_MD_CTX *sm3_ctx = NULL;
static EVP_CIPHER *sm4_ecb = NULL;
static EVP_CIPHER_CTX *sm4_ctx = NULL;

/* Report an OpenSSL failure by operation name, with OpenSSL's reason. */
static void
crypto_fail(const char *what)
{
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
			 errmsg("OpenSSL operation %s failed", what),
			 e ? errdetail("%s", ERR_reason_error_string(e)) : 0));
}

static void
sm3_prepare(void)
{
	if (sm3_md == NULL)
	{
		sm3_md = EVP_MD_fetch(NULL, "SM3", NULL);
		if (sm3_md == NULL)
			crypto_fail("EVP_MD_fetch(SM3)");
	}
	if (sm3_ctx == NULL)
	{
		sm3_ctx = EVP_MD_CTX_new();
		if (sm3_ctx == NULL)
			crypto_fail("EVP_MD_CTX_new");
	}
}

/* SM3 over the concatenation of two buffers (either may be empty). */
static void
sm3_two(const uint8 *a, size_t alen, const uint8 *b, size_t blen, uint8 *out)
{
	unsigned int outlen = 0;

	sm3_prepare();
	if (EVP_DigestInit_ex(sm3_ctx, sm3_md, NULL) != 1 ||
		(alen > 0 && EVP_DigestUpdate(sm3_ctx, a, alen) != 1) ||
		(blen > 0 && EVP_DigestUpdate(sm3_ctx, b, blen) != 1) ||
		EVP_DigestFinal_ex(sm3_ctx, out, &outlen) != 1 ||
		outlen != EHR_SM3_LEN)
		crypto_fail("SM3 digest");
}

void
ehr_sm3(const uint8 *data, size_t len, uint8 *out)
{
	sm3_two(data, len, NULL, 0, out);
}

/*
 * HMAC-SM3 (RFC 2104 construction over SM3, as GB/T 15852.2 specifies).
 * Written over the reused digest context instead of EVP_MAC because EVP_MAC
 * allocates and fetches on every call, which dominates a per-row workload.
 */
void
ehr_hmac_sm3(const uint8 *key, size_t keylen, const uint8 *data, size_t len,
			 uint8 *out)
{
	uint8		k0[SM3_BLOCK];
	uint8		pad[SM3_BLOCK];
	uint8		inner[EHR_SM3_LEN];
	int			i;

	memset(k0, 0, sizeof(k0));
	if (keylen > SM3_BLOCK)
		ehr_sm3(key, keylen, k0);
	else if (keylen > 0)
		memcpy(k0, key, keylen);

	for (i = 0; i < SM3_BLOCK; i++)
		pad[i] = k0[i] ^ 0x36;
	sm3_two(pad, SM3_BLOCK, data, len, inner);
	for (i = 0; i < SM3_BLOCK; i++)
		pad[i] = k0[i] ^ 0x5c;
	sm3_two(pad, SM3_BLOCK, inner, EHR_SM3_LEN, out);

	ehr_wipe(k0, sizeof(k0));
	ehr_wipe(pad, sizeof(pad));
	ehr_wipe(inner, sizeof(inner));
}

/* SM4 in ECB mode without padding: len must be a multiple of 16. */
void
ehr_sm4_ecb(bool encrypt, const uint8 *key, const uint8 *in, size_t len,
			uint8 *out)
{
	int			outl = 0;
	int			finl = 0;

	if (len % EHR_SM4_BLOCK != 0 || len > INT_MAX)
		elog(ERROR, "SM4-ECB input length %zu is not a positive multiple of 16", len);
	if (sm4_ecb == NULL)
	{
		sm4_ecb = EVP_CIPHER_fetch(NULL, "SM4-ECB", NULL);
		if (sm4_ecb == NULL)
			crypto_fail("EVP_CIPHER_fetch(SM4-ECB)");
	}
	if (sm4_ctx == NULL)
	{
		sm4_ctx = EVP_CIPHER_CTX_new();
		if (sm4_ctx == NULL)
			crypto_fail("EVP_CIPHER_CTX_new");
	}
	if (EVP_CipherInit_ex(sm4_ctx, sm4_ecb, NULL, key, NULL, encrypt ? 1 : 0) != 1 ||
		EVP_CIPHER_CTX_set_padding(sm4_ctx, 0) != 1 ||
		EVP_CipherUpdate(sm4_ctx, out, &outl, in, (int) len) != 1 ||
		EVP_CipherFinal_ex(sm4_ctx, out + outl, &finl) != 1 ||
		(size_t) (outl + finl) != len)
		crypto_fail("SM4-ECB");
	/* Drop the expanded key schedule from the reused context. */
	EVP_CIPHER_CTX_reset(sm4_ctx);
}

void
ehr_random_bytes(uint8 *buf, size_t len)
{
	if (len > INT_MAX || RAND_bytes(buf, (int) len) != 1)
	{
		ERR_clear_error();
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes"),
				 errdetail("OpenSSL's CSPRNG (RAND_bytes) reported a failure.")));
	}
}

bool
ehr_const_time_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

/* Wipe secrets so the compiler cannot drop the stores. */
void
ehr_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

/*
 * HMAC-SM3 under one key for many messages (per-row pseudonyms and date
 * shifts): the key's inner and outer padded blocks are absorbed once, so each
 * message costs two SM3 compressions fewer than ehr_hmac_sm3. The prepared
 * states are as secret as the key; they are freed (and cleansed by OpenSSL)
 * when the memory context they were prepared in is reset or deleted.
 */
struct EhrHmacSm3
{
	EVP_MD_CTX *inner;			/* SM3 state after key ^ ipad */
	EVP_MD_CTX *outer;			/* SM3 state after key ^ opad */
	EVP_MD_CTX *work;
};

static void
hmac_sm3_free(void *arg)
{
	EhrHmacSm3 *h = (EhrHmacSm3 *) arg;

	EVP_MD_CTX_free(h->inner);
	EVP_MD_CTX_free(h->outer);
	EVP_MD_CTX_free(h->work);
	h->inner = h->outer = h->work = NULL;
}

EhrHmacSm3 *
ehr_hmac_sm3_prepare(const uint8 *key, size_t keylen, MemoryContext mcxt)
{
	EhrHmacSm3 *h = MemoryContextAllocZero(mcxt, sizeof(EhrHmacSm3));
	MemoryContextCallback *cb = MemoryContextAlloc(mcxt, sizeof(MemoryContextCallback));
	uint8		k0[SM3_BLOCK];
	uint8		pad[SM3_BLOCK];
	int			i;
	bool		ok;

	cb->func = hmac_sm3_free;
	cb->arg = h;
	MemoryContextRegisterResetCallback(mcxt, cb);

	sm3_prepare();
	memset(k0, 0, sizeof(k0));
	if (keylen > SM3_BLOCK)
		ehr_sm3(key, keylen, k0);
	else if (keylen > 0)
		memcpy(k0, key, keylen);

	h->inner = EVP_MD_CTX_new();
	h->outer = EVP_MD_CTX_new();
	h->work = EVP_MD_CTX_new();
	ok = h->inner && h->outer && h->work;
	for (i = 0; i < SM3_BLOCK; i++)
		pad[i] = k0[i] ^ 0x36;
	ok = ok && EVP_DigestInit_ex(h->inner, sm3_md, NULL) == 1 &&
		EVP_DigestUpdate(h->inner, pad, SM3_BLOCK) == 1;
	for (i = 0; i < SM3_BLOCK; i++)
		pad[i] = k0[i] ^ 0x5c;
	ok = ok && EVP_DigestInit_ex(h->outer, sm3_md, NULL) == 1 &&
		EVP_DigestUpdate(h->outer, pad, SM3_BLOCK) == 1;
	ehr_wipe(k0, sizeof(k0));
	ehr_wipe(pad, sizeof(pad));
	if (!ok)
		crypto_fail("HMAC-SM3 key setup");
	return h;
}

void
ehr_hmac_sm3_compute(EhrHmacSm3 *h, const uint8 *data, size_t len, uint8 *out)
{
	uint8		inner[EHR_SM3_LEN];
	unsigned int outlen = 0;

	if (EVP_MD_CTX_copy_ex(h->work, h->inner) != 1 ||
		(len > 0 && EVP_DigestUpdate(h->work, data, len) != 1) ||
		EVP_DigestFinal_ex(h->work, inner, &outlen) != 1 || outlen != EHR_SM3_LEN ||
		EVP_MD_CTX_copy_ex(h->work, h->outer) != 1 ||
		EVP_DigestUpdate(h->work, inner, EHR_SM3_LEN) != 1 ||
		EVP_DigestFinal_ex(h->work, out, &outlen) != 1 || outlen != EHR_SM3_LEN)
		crypto_fail("HMAC-SM3");
	ehr_wipe(inner, sizeof(inner));
}
