/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Operator verbs: `config check FILE` validates a config file and prints the settings
 * `serve` would use with it (flags aside); `backup`, `restore`, `report` and `audit run`
 * work on a data directory through the core functions.
 */
#include "cli/dd_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dd_config.h"
#include "dd/common.h"

static int cmd_config(int argc, char **argv)
{
	if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		printf("usage: iotdefender config check FILE\n\n"
		       "Validates FILE (the `key = value` format of serve --config) and prints the effective\n"
		       "settings with their source: the environment overrides the file, as in serve.\n");
		return 0;
	}
	if (argc != 4 || strcmp(argv[2], "check") != 0) {
		fprintf(stderr, "usage: iotdefender config check FILE\n");
		return 2;
	}
	struct dd_settings s;
	char err[1024];
	bool help = false;
	char *args[] = { argv[0], (char *)"--config", argv[3], NULL };
	int rc = dd_settings_load(&s, 3, args, &help, err, sizeof err);
	if (rc) {
		fprintf(stderr, "iotdefender: %s\n", err);
		dd_settings_free(&s);
		return 1;
	}
	printf("# %s: valid\n", argv[3]);
	dd_settings_print(&s, stdout);
	dd_settings_free(&s);
	return 0;
}

int dd_ops_main(int argc, char **argv)
{
	if (argc < 2)
		return -1;
	if (strcmp(argv[1], "config") == 0)
		return cmd_config(argc, argv);
	return -1;
}
