/* SPDX-License-Identifier: Apache-2.0 */
/* The numbered schema migrations, for SQLite (dd_store_schema.c) and their PostgreSQL
 * translation (dd_store_schema_pg.c, whose top comment gives the driver's version-table
 * protocol). Never edit a released one: append, to both. */
#ifndef DD_STORE_SCHEMA_H
#define DD_STORE_SCHEMA_H

extern const char *const dd_store_migrations[];
extern const int dd_store_nmigrations;

/* PostgreSQL: migration i of dd_store_pg_migrations is migration i of dd_store_migrations. */
extern const char *const dd_store_pg_migrations[];
extern const int dd_store_pg_nmigrations;
/* The transaction-scoped advisory lock taken around every migration step. */
extern const char dd_store_pg_lock[];
/* Creates dd_schema_version (one row, id 1) with version 0 unless it exists. */
extern const char dd_store_pg_version_table[];

#endif
