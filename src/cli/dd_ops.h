/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Operator verbs of the command line: `config check`, `backup`, `restore`, `report` and
 * `audit run`. They work on a data directory through the core, not over HTTP.
 */
#ifndef DD_CLI_OPS_H
#define DD_CLI_OPS_H

/* Runs the verb named by argv[1]; returns the exit status (0, 1 failure, 2 usage), or -1
 * when argv[1] is not one of these verbs. */
int dd_ops_main(int argc, char **argv);

#endif
