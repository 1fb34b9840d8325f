/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The iot-data operations the broker applies (DeleteConnection): the wire side. The
 * request is checked and noted in the change journal, which the broker plugin polls; the
 * broker then disconnects the client within its poll interval.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dd/changes.h"
#include "dd/ctx.h"
#include "store/dd_store_connections.h"

/* iot-data DeleteConnection: the broker disconnects the client (with its will message
 * unless preventWillMessage) on its next poll. A client id with no open connection in the
 * recorded connection events is ResourceNotFoundException, as AWS answers for a client
 * that is not connected. */
static int delete_connection(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *client = json_string_value(json_object_get(in, "clientId"));
	*out = NULL;
	if (!client || !*client || strlen(client) > 128)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "clientId must be 1 to 128 characters.");
	if (client[0] == '$')
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "clientId can't start with a dollar sign ($).");
	if (dd_db_begin_write(c->db))
		return dd_fail(c, DD_EIO, "InternalFailureException", "An internal store error occurred.");
	char event[32] = "";
	int s = dd_store_connections_last_event(c->db, c->account_region, client, event, sizeof event);
	if (s && s != DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EIO, "InternalFailureException", "An internal store error occurred.");
	}
	if (s || strcmp(event, "connect") != 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "No connection found for client %s.", client);
	}
	json_t *arg = json_pack("{s:b, s:b}", "cleanSession", json_is_true(json_object_get(in, "cleanSession")),
				"preventWillMessage", json_is_true(json_object_get(in, "preventWillMessage")));
	char *text = arg ? json_dumps(arg, JSON_COMPACT) : NULL;
	json_decref(arg);
	int rc = text ? dd_changes_note(c->db, c->account_region, "connection", client, text, c->now_ms) : DD_ENOMEM;
	free(text);
	if (rc || dd_db_commit(c->db)) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EIO, "InternalFailureException", "An internal store error occurred.");
	}
	return 0;
}

const struct dd_handler dd_iot_broker_handlers[] = {
	{ "iotdata", "DeleteConnection", delete_connection },
	{ NULL, NULL, NULL },
};
