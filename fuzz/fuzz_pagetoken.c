/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for paging tokens, which every List* operation takes back from the
 * client: the input is a nextToken/marker as sent. It runs the token decoder
 * (dd_page_token_parse), the handlers' common page-parameter reader (dd__page) and the
 * composite key splitter (dd__page_key_split, both separators), and checks that a token
 * made from a decoded key decodes to the same key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/dd_api_common.h"
#include "dd/ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *tok = malloc(size + 1);
	if (!tok)
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';

	char key[2048];
	if (dd_page_token_parse(tok, key, sizeof key) == 0) {
		char *again = dd_page_token_make(key);
		char key2[2048];
		if (!again || dd_page_token_parse(again, key2, sizeof key2) != 0 || strcmp(key, key2) != 0)
			abort();
		free(again);
	}
	char small[8];
	(void)dd_page_token_parse(tok, small, sizeof small);

	struct dd_ctx c = { .account = "123456789012", .region = "us-east-1", .request_id = "fuzz" };
	json_t *in = json_pack("{s:s, s:i}", "nextToken", tok, "maxResults", (int)(size % 300));
	char after[2048];
	int n = 0;
	if (in && dd__page(&c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &n) == 0 && after[0]) {
		int64_t num;
		char rest[256];
		(void)dd__page_key_split(&c, after, '|', "nextToken", &num, rest, sizeof rest);
		(void)dd__page_key_split(&c, after, ':', "marker", &num, rest, sizeof rest);
	}
	json_decref(in);
	/* the splitter on the raw text too, as a key that did not come through base64 */
	int64_t num;
	char rest[64];
	if (dd__page_key_split(&c, tok, '|', "nextToken", &num, rest, sizeof rest) == 0 && num < 0)
		abort();
	free(tok);
	return 0;
}
