/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The iotdefender command line: dispatches to subcommands (serve, and admin verbs).
 */
#include <stdio.h>
#include <string.h>

#include "dd/common.h"

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		printf("usage: iotdefender <command> [options]\n");
		return argc < 2 ? 2 : 0;
	}
	fprintf(stderr, "iotdefender: unknown command '%s'\n", argv[1]);
	return 2;
}
