/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A temporary SQLite store for a unit test case: a fresh directory under /tmp, the store
 * opened (and migrated) in it, and the calling thread's connection. dd_test_store_setup
 * and dd_test_store_teardown are cmocka setup/teardown functions; the case reads the
 * fixture from *state. Teardown closes the store and removes the directory, and fails the
 * case when the directory cannot be removed.
 */
#ifndef DD_TEST_STORE_H
#define DD_TEST_STORE_H

#include "dd/store.h"

struct dd_test_store {
	char dir[64];            /* the temporary data directory */
	struct dd_store *store;  /* opened in dir */
	struct dd_db *db;        /* the calling thread's connection to store */
};

/* *state = a new struct dd_test_store; asserts on every failure. Returns 0. */
int dd_test_store_setup(void **state);
/* Closes and removes *state's store and frees it: 0, or -1 when dir could not be removed. */
int dd_test_store_teardown(void **state);

#endif
