/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin verbs of the iotdefender command line that work directly on a data directory
 * (no HTTP, no server needed; safe while a server runs, through SQLite's locking):
 * `blocklist import`, `crl import`, `crl status` and `certs backfill`.
 */
#ifndef DD_CLI_ADMIN_H
#define DD_CLI_ADMIN_H

/* Runs the admin verb named by argv[1] ("blocklist", "crl" or "certs") with the rest of
 * argv. Returns the process exit status (0 success, 1 failure, 2 usage error), or -1 when
 * argv[1] is not one of these verbs, so the caller can try its own. */
int dd_admin_main(int argc, char **argv);

#endif
