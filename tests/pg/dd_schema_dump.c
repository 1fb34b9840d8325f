/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prints the schema migrations compiled into the store, for tests/pg/schema_compare.py:
 * `dd_schema_dump sqlite` or `dd_schema_dump pg` writes each migration's SQL followed by a
 * NUL byte, in order, so the comparison applies exactly what the server would;
 * `dd_schema_dump pg-protocol` writes the PostgreSQL driver's lock and version-table
 * statements the same way.
 */
#include <stdio.h>
#include <string.h>

#include "store/dd_store_schema.h"

int main(int argc, char **argv)
{
	const char *const *m;
	int n;
	if (argc == 2 && !strcmp(argv[1], "sqlite")) {
		m = dd_store_migrations;
		n = dd_store_nmigrations;
	} else if (argc == 2 && !strcmp(argv[1], "pg")) {
		m = dd_store_pg_migrations;
		n = dd_store_pg_nmigrations;
	} else if (argc == 2 && !strcmp(argv[1], "pg-protocol")) {
		fputs(dd_store_pg_lock, stdout);
		fputc('\0', stdout);
		fputs(dd_store_pg_version_table, stdout);
		fputc('\0', stdout);
		return fflush(stdout) ? 1 : 0;
	} else {
		fprintf(stderr, "usage: dd_schema_dump sqlite|pg|pg-protocol\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		fputs(m[i], stdout);
		fputc('\0', stdout);
	}
	return fflush(stdout) ? 1 : 0;
}
