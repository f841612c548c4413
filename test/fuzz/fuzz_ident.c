/*
 * libFuzzer harness around the identifier parsers of ident_parse.h: the same
 * functions resident_id.c and org_code.c call, compiled without a backend.
 *
 * Built twice by run.sh: -DFUZZ_RESIDENT_ID or -DFUZZ_ORG_CODE. Besides
 * memory errors (ASan) and undefined behaviour (UBSan), it aborts when a
 * parser breaks one of its promises:
 *   - an accepted resident ID is below 10^17, prints as 18 characters whose
 *     last is 0-9/X, and the printed form parses back to the same value;
 *   - an accepted org code is 18 upper-case alphabet characters that parse
 *     back to themselves;
 *   - a rejected input reports an offset inside the (trimmed) input;
 *   - blanks added around any input change neither the verdict nor the value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident_parse.h"

#define REQUIRE(cond) \
	do { if (!(cond)) { fprintf(stderr, "invariant failed: %s\n", #cond); abort(); } } while (0)

#ifdef FUZZ_RESIDENT_ID
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	RidParse	r;
	RidError	e;
	char	   *copy = malloc(size ? size : 1);

	/* a private heap copy: ASan sees any read past the end of the input */
	memcpy(copy, data, size);
	e = rid_parse(copy, size, &r);
	/* blanks around the input change nothing */
	{
		char	   *padded = malloc(size + 2);
		RidParse	rp;

		padded[0] = ' ';
		memcpy(padded + 1, data, size);
		padded[size + 1] = '\t';
		REQUIRE(rid_parse(padded, size + 2, &rp) == e);
		REQUIRE(e != RID_OK || rp.value == r.value);
		free(padded);
	}
	if (e == RID_OK)
	{
		char		buf[19];
		RidParse	r2;

		REQUIRE(r.value >= 0 && r.value < RID_VALUE_LIMIT);
		rid_format(r.value, buf);
		REQUIRE(strlen(buf) == 18);
		REQUIRE((buf[17] >= '0' && buf[17] <= '9') || buf[17] == 'X');
		REQUIRE(rid_parse(buf, 18, &r2) == RID_OK && r2.value == r.value);
		REQUIRE(rid_validate_value(r.value, &r2) == RID_OK);
	}
	else if (e == RID_BAD_CHAR || e == RID_X_NOT_LAST)
		REQUIRE(r.offset < r.len && r.trimmed >= copy && r.trimmed + r.len <= copy + size);
	else
		REQUIRE(e > RID_OK && e <= RID_CHECK);
	free(copy);
	return 0;
}
#endif

#ifdef FUZZ_ORG_CODE
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	OcParse		r;
	OcError		e;
	char	   *copy = malloc(size ? size : 1);

	memcpy(copy, data, size);
	e = oc_parse(copy, size, &r);
	/* blanks around the input change nothing */
	{
		char	   *padded = malloc(size + 2);
		OcParse		rp;

		padded[0] = '\n';
		memcpy(padded + 1, data, size);
		padded[size + 1] = ' ';
		REQUIRE(oc_parse(padded, size + 2, &rp) == e);
		REQUIRE(e != OC_OK || memcmp(rp.code, r.code, 18) == 0);
		free(padded);
	}
	if (e == OC_OK)
	{
		OcParse		r2;
		int			i;

		for (i = 0; i < 18; i++)
			REQUIRE(strchr(OC_ALPHABET, r.code[i]) != NULL && r.code[i] != '\0');
		REQUIRE(oc_parse(r.code, 18, &r2) == OC_OK && memcmp(r.code, r2.code, 18) == 0);
		REQUIRE(oc_check_char(r.code) == r.code[17]);
	}
	else if (e == OC_BAD_CHAR)
		REQUIRE(r.offset < r.len && r.trimmed >= copy && r.trimmed + r.len <= copy + size);
	else
		REQUIRE(e == OC_LENGTH || e == OC_CHECK);
	free(copy);
	return 0;
}
#endif
