/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The statement-based paging helpers that are being retired: they step a store statement
 * (sqlite3_stmt) above the store. New listings use a store listing callback and the
 * dd__page_start / dd__page_take / dd__page_reply pattern of src/api/dd_api_common.c;
 * this file goes when the last caller has moved.
 */
#include "core/dd_registry_int.h"

#include <stdio.h>

int dd__page_collect(struct dd_ctx *c, sqlite3_stmt *st, int size, dd__row_fn fn, json_t *arr, json_t *out,
		     const char *token_member)
{
	char key[2048] = "";
	int n = 0, rc;
	bool more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == size) {
			more = true;
			break;
		}
		json_t *item = fn(c, st, key, sizeof key);
		if (item)
			json_array_append_new(arr, item);
		n++;
	}
	sqlite3_reset(st);
	if (!more && rc != SQLITE_DONE)
		return dd__db_fail(c);
	dd__page_next(out, token_member, more, key);
	return 0;
}

int dd__page_list(struct dd_ctx *c, sqlite3_stmt *st, int size, dd__row_fn fn, const char *member,
		  const char *token_member, json_t **out)
{
	json_t *arr = json_array();
	json_t *o = json_pack("{s:o}", member, arr);
	if (dd__page_collect(c, st, size, fn, arr, o, token_member)) {
		json_decref(o);
		return c->err;
	}
	*out = o;
	return 0;
}

json_t *dd__row_text0(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	(void)c;
	snprintf(key, keylen, "%s", dd_col_text(st, 0));
	return json_string(key);
}
