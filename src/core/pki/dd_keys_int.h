/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Debian weak-key sample lists shipped in data/blocklists, compiled into the core
 * library by CMakeLists.txt (a generated dd_blocklists_builtin.c), so that every data
 * directory has them without an import step. Each entry is a list file's text in its
 * public format; the table ends with an all-NULL entry.
 */
#ifndef DD_KEYS_INT_H
#define DD_KEYS_INT_H

struct dd__builtin_blocklist {
	const char *format; /* "dwk" or "openssl" */
	const char *key;    /* "rsa-<bits>" or "ec-<curve>" */
	const char *name;   /* the file name in data/blocklists */
	const char *text;   /* the file's content */
};

extern const struct dd__builtin_blocklist dd__builtin_blocklists[];

#endif
