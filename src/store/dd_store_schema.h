/* SPDX-License-Identifier: Apache-2.0 */
/* The numbered schema migrations (dd_store_schema.c). Never edit a released one: append. */
#ifndef DD_STORE_SCHEMA_H
#define DD_STORE_SCHEMA_H

extern const char *const dd_store_migrations[];
extern const int dd_store_nmigrations;

#endif
