/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the Cognito identity pool store (store/dd_store_cognito.h) on a fresh
 * store in a temporary directory: insert and duplicate ids, get scoped to account and
 * region, update of name and configuration, roles and role mappings, listing by region
 * and across regions with a start key and a limit, the owner of a pool id, delete, and
 * the not-found answers of every lookup and write of a missing pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dd/store.h"
#include "store/dd_store_cognito.h"

#include "dd_test_store.h"

#define A1 "111111111111"
#define A2 "222222222222"

static void add_pool(struct dd_db *db, const char *account, const char *id, const char *region, const char *name)
{
	struct dd_store_cognito_pool p = {
		.id = (char *)id, .region = (char *)region, .name = (char *)name,
		.config = "{\"AllowUnauthenticatedIdentities\":true}", .created_ms = 5,
	};
	assert_int_equal(dd_store_cognito_insert(db, account, &p), 0);
}

struct ids {
	char v[8][128];
	int n;
};

static int id_cb(const struct dd_store_cognito_pool *p, void *ud)
{
	struct ids *ids = ud;
	snprintf(ids->v[ids->n++], 128, "%s %s %s", p->id, p->name, p->role_mappings ? p->role_mappings : "-");
	return 0;
}

static void test_pools(void **state)
{
	struct dd_test_store *f = *state;
	add_pool(f->db, A1, "us-east-1:b", "us-east-1", "two");
	add_pool(f->db, A1, "us-east-1:a", "us-east-1", "one");
	add_pool(f->db, A1, "eu-west-1:c", "eu-west-1", "three");
	add_pool(f->db, A2, "us-east-1:z", "us-east-1", "other");
	struct dd_store_cognito_pool dup = { .id = "us-east-1:a", .region = "us-east-1", .name = "x", .config = "{}" };
	assert_int_equal(dd_store_cognito_insert(f->db, A1, &dup), DD_EEXIST);

	int64_t n = -1;
	assert_int_equal(dd_store_cognito_count(f->db, A1, "us-east-1", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(dd_store_cognito_count(f->db, A2, "eu-west-1", &n), 0);
	assert_int_equal(n, 0);

	struct dd_store_cognito_pool p;
	assert_int_equal(dd_store_cognito_get(f->db, A1, "us-east-1", "us-east-1:a", &p), 0);
	assert_string_equal(p.name, "one");
	assert_string_equal(p.region, "us-east-1");
	assert_string_equal(p.config, "{\"AllowUnauthenticatedIdentities\":true}");
	assert_string_equal(p.roles, "{}");
	assert_null(p.role_mappings);
	assert_int_equal(p.created_ms, 5);
	dd_store_cognito_clear(&p);
	assert_int_equal(dd_store_cognito_get(f->db, A1, "eu-west-1", "us-east-1:a", &p), DD_ENOTFOUND);
	assert_int_equal(dd_store_cognito_get(f->db, A2, "us-east-1", "us-east-1:a", &p), DD_ENOTFOUND);

	assert_int_equal(dd_store_cognito_update(f->db, A1, "us-east-1", "us-east-1:a", "uno", "{}"), 0);
	assert_int_equal(dd_store_cognito_update(f->db, A2, "us-east-1", "us-east-1:a", "x", "{}"), DD_ENOTFOUND);
	assert_int_equal(dd_store_cognito_set_roles(f->db, A1, "us-east-1", "us-east-1:a",
						    "{\"authenticated\":\"arn:aws:iam::" A1 ":role/r\"}", "{\"m\":1}"), 0);
	assert_int_equal(dd_store_cognito_set_roles(f->db, A1, "eu-west-1", "us-east-1:a", NULL, NULL), DD_ENOTFOUND);
	assert_int_equal(dd_store_cognito_get(f->db, A1, "us-east-1", "us-east-1:a", &p), 0);
	assert_string_equal(p.name, "uno");
	assert_string_equal(p.config, "{}");
	assert_string_equal(p.roles, "{\"authenticated\":\"arn:aws:iam::" A1 ":role/r\"}");
	assert_string_equal(p.role_mappings, "{\"m\":1}");
	dd_store_cognito_clear(&p);
	assert_int_equal(dd_store_cognito_set_roles(f->db, A1, "us-east-1", "us-east-1:a", NULL, NULL), 0);
	assert_int_equal(dd_store_cognito_get(f->db, A1, "us-east-1", "us-east-1:a", &p), 0);
	assert_string_equal(p.roles, "{}");
	assert_null(p.role_mappings);
	dd_store_cognito_clear(&p);

	struct ids ids = { 0 };
	assert_int_equal(dd_store_cognito_list(f->db, A1, "us-east-1", NULL, 0, id_cb, &ids), 0);
	assert_int_equal(ids.n, 2);
	assert_string_equal(ids.v[0], "us-east-1:a uno -");
	assert_string_equal(ids.v[1], "us-east-1:b two -");
	memset(&ids, 0, sizeof ids);
	assert_int_equal(dd_store_cognito_list(f->db, A1, NULL, NULL, 0, id_cb, &ids), 0);
	assert_int_equal(ids.n, 3);
	assert_string_equal(ids.v[0], "eu-west-1:c three -");
	memset(&ids, 0, sizeof ids);
	assert_int_equal(dd_store_cognito_list(f->db, A1, NULL, "eu-west-1:c", 1, id_cb, &ids), 0);
	assert_int_equal(ids.n, 1);
	assert_string_equal(ids.v[0], "us-east-1:a uno -");

	char account[13], region[64];
	assert_int_equal(dd_store_cognito_owner(f->db, "eu-west-1:c", account, region), 0);
	assert_string_equal(account, A1);
	assert_string_equal(region, "eu-west-1");
	assert_int_equal(dd_store_cognito_owner(f->db, "us-east-1:z", account, region), 0);
	assert_string_equal(account, A2);
	assert_int_equal(dd_store_cognito_owner(f->db, "nope", account, region), DD_ENOTFOUND);
	/* the same id in two accounts is never resolved */
	add_pool(f->db, A2, "eu-west-1:c", "eu-west-1", "clash");
	assert_int_equal(dd_store_cognito_owner(f->db, "eu-west-1:c", account, region), DD_ENOTFOUND);

	assert_int_equal(dd_store_cognito_delete(f->db, A1, "eu-west-1", "us-east-1:b"), DD_ENOTFOUND);
	assert_int_equal(dd_store_cognito_delete(f->db, A1, "us-east-1", "us-east-1:b"), 0);
	assert_int_equal(dd_store_cognito_delete(f->db, A1, "us-east-1", "us-east-1:b"), DD_ENOTFOUND);
	assert_int_equal(dd_store_cognito_count(f->db, A1, "us-east-1", &n), 0);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pools, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
