/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recorded connection history of one MQTT client id (connection_events, written by
 * the broker plugin): how many connects and disconnects, and the reason of the last
 * disconnect. Returns 0 or a negative DD_E* (DD_EIO).
 */
#ifndef DD_STORE_CLIENT_EVENTS_H
#define DD_STORE_CLIENT_EVENTS_H

#include <stddef.h>

#include "dd/common.h"

struct dd_db;

/* Counts the events of client_id in account_region; reason (size rlen, may be NULL)
 * receives the last disconnect's reason ("" when none). */
int dd_store_client_events_tally(struct dd_db *db, const char *account_region, const char *client_id, int *connects,
				 int *disconnects, char *reason, size_t rlen) DD_MUST_CHECK;

#endif
