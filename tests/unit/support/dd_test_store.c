/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The temporary store of the store layer's unit tests (dd_test_store.h): one mkdtemp
 * directory per case, so that cases never see each other's rows and `ctest -j` may run
 * them side by side.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "dd_test_store.h"

int dd_test_store_setup(void **state)
{
	struct dd_test_store *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ddunit-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(dd_store_open(f->dir, &f->store), 0);
	f->db = dd_store_db(f->store);
	assert_non_null(f->db);
	*state = f;
	return 0;
}

int dd_test_store_teardown(void **state)
{
	struct dd_test_store *f = *state;
	dd_store_close(f->store);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return rc == 0 ? 0 : -1;
}
