/* SPDX-License-Identifier: Apache-2.0 */
/* `iotdefender demo`: the seed lab, end to end, on a fresh data directory; and what it
 * shares with the broker demo (dd_broker_demo.c): the demo's service with generated
 * credentials and running engines, API calls that mark the demo failed, roles, and the
 * replaceable data directory. */
#ifndef DD_CLI_DEMO_H
#define DD_CLI_DEMO_H

#include <stdbool.h>

#include <jansson.h>

#include "dd/region.h"
#include "dd/service.h"

/* The lab lives in one region, the one the aws CLI and boto3 default to. */
#define DD_DEMO_REGION DD_DEFAULT_REGION

struct dd_demo {
	struct dd_service svc;
	char account[13];
	char account_region[DD_ACCOUNT_REGION_SIZE];  /* of DD_DEMO_REGION: for the store calls */
	char dir[4096];                               /* the data directory, absolute */
	bool failed;
};

/* argv[0] is "demo". Returns the process exit code. */
int dd_demo_main(int argc, char **argv);

/* Replaces dir with a fresh empty directory holding the file marker (with text), unless
 * dir exists without it (made by someone else: refused). what names the demo in the
 * messages. 0 or -1 (printed). */
int dd_demo_prepare_dir(const char *dir, const char *marker, const char *text, const char *what);
/* Opens the service on dir (made absolute into d->dir) with one generated account's
 * credentials and starts the outbox, audit and mitigation engines. 0 or -1 (printed). */
int dd_demo_open(struct dd_demo *d, const char *dir);
/* Stops the engines and closes what dd_demo_open opened (and the models). */
void dd_demo_close(struct dd_demo *d);
/* Calls an operation as the demo's account in DD_DEMO_REGION; on failure prints it, marks
 * the demo failed and returns NULL. Steals in; the output is the caller's. */
json_t *dd_demo_call(struct dd_demo *d, const char *service, const char *op, json_t *in);
/* Creates role name trusting iot.amazonaws.com, with the managed policy ARN and the inline
 * document when given; its ARN (owned) or NULL. */
char *dd_demo_role(struct dd_demo *d, const char *name, const char *managed, const char *inline_doc);

#endif
