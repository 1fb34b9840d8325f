/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the Mosquitto plugin shared by its files: the writer thread that takes
 * connection events, IoT log lines and the broker's connection counters off the broker's
 * event loop (dd_plugin_writer.c).
 */
#ifndef DD_PLUGIN_INT_H
#define DD_PLUGIN_INT_H

#include <stddef.h>

#include "dd/store.h"

/* Maximum records waiting for the writer; beyond it records are counted as lost. */
#define DD_PLUGIN_QUEUE_MAX 200000

/* EVENT: a connection event (NDJSON line); LOG: an IoT log line; STATS: the counters'
 * change since the last STATS record, "<connected> <connects> <disconnects> <refusals>"
 * (connected is the current count, the others are increments). */
enum dd_plugin_rec { DD_PLUGIN_REC_EVENT = 0, DD_PLUGIN_REC_LOG = 1, DD_PLUGIN_REC_STATS = 2 };

/* Starts the writer: connection events go to the store (the same ingestion as POST
 * /connection-events, as a request of their account in region), log lines are appended to
 * log_path, counters are added to region's broker counters in the store. */
int dd_plugin_writer_start(struct dd_store *store, const char *log_path, const char *region);
/* Queues one record (text is copied). Never blocks on I/O. Returns 0 or -1 (queue full
 * or out of memory: the record is counted as lost and reported in the broker log). */
int dd_plugin_writer_put(enum dd_plugin_rec kind, const char *account, const char *text);
/* Flushes what is queued (waiting for the store as long as needed up to timeout_ms), stops
 * the thread. */
void dd_plugin_writer_stop(int timeout_ms);

#endif
