/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server's own key-value settings (server_meta): the server CA's certificate and key
 * and other values the server keeps for itself, by key. Values are text. Functions
 * return 0 or a negative DD_E* (DD_ENOTFOUND, DD_ENOMEM, DD_EIO).
 */
#ifndef DD_STORE_META_H
#define DD_STORE_META_H

#include "dd/common.h"

struct dd_db;

/* The value of key (owned: free()). DD_ENOTFOUND when it is not set. */
int dd_store_meta_get(struct dd_db *db, const char *key, char **value) DD_MUST_CHECK;
/* Sets key to value, replacing any value it had. */
int dd_store_meta_put(struct dd_db *db, const char *key, const char *value) DD_MUST_CHECK;

#endif
