/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Our connection-event ingestion extension, POST /connection-events: a batch of NDJSON
 * lines, one connect or disconnect event each, every line validated before anything is
 * kept; a bad line rejects the whole batch with its line number (one transaction). The
 * broker plugin's writer calls the same function for its batches. The rows live in
 * store/dd_store_events.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_iot_ingest.h"
#include "api/dd_api_common.h"
#include "dd/iam.h"
#include "store/dd_store_events.h"

#define MAX_EVENT_LINE 8192
#define MAX_EVENTS_PER_BATCH 100000

static int event_fail(struct dd_ctx *c, int line, const char *what)
{
	return dd_fail(c, DD_EINVAL, "InvalidRequestException", "connection-events line %d: %s; nothing was stored", line, what);
}

int dd_iot_ingest_connection_events(struct dd_ctx *c, const char *body, size_t len, json_t **out)
{
	size_t pos = 0;
	int line = 0, stored = 0;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	while (pos < len) {
		const char *start = body + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - start) : len - pos;
		pos += ll + (nl ? 1 : 0);
		line++;
		while (ll && (start[ll - 1] == '\r' || start[ll - 1] == ' '))
			ll--;
		if (ll == 0)
			continue;
		if (ll > MAX_EVENT_LINE) {
			dd_db_rollback(c->db);
			return event_fail(c, line, "line is longer than 8192 bytes");
		}
		if (stored >= MAX_EVENTS_PER_BATCH) {
			dd_db_rollback(c->db);
			return event_fail(c, line, "a batch holds at most 100000 events");
		}
		json_error_t je;
		json_t *e = json_loadb(start, ll, JSON_REJECT_DUPLICATES, &je);
		char msg[300];
		if (!e || !json_is_object(e)) {
			snprintf(msg, sizeof msg, "not a JSON object (%s)", e ? "wrong type" : je.text);
			json_decref(e);
			dd_db_rollback(c->db);
			return event_fail(c, line, msg);
		}
		const char *ev = dd__str(e, "event");
		const char *client = dd__str(e, "clientId");
		const char *cert = dd__str(e, "certificateId");
		const char *principal = dd__str(e, "principal");
		json_t *ts = json_object_get(e, "timestamp");
		const char *ip = dd__str(e, "sourceIp");
		const char *reason = dd__str(e, "reason");
		const char *problem = NULL;
		if (!ev || (strcmp(ev, "connect") != 0 && strcmp(ev, "disconnect") != 0))
			problem = "\"event\" must be \"connect\" or \"disconnect\"";
		else if (!client || !*client || strlen(client) > 128)
			problem = "\"clientId\" must be a string of 1 to 128 characters";
		else if (!cert && !principal)
			problem = "one of \"certificateId\" or \"principal\" is required";
		else if (cert && (strlen(cert) != 64 || strspn(cert, "0123456789abcdef") != 64))
			problem = "\"certificateId\" must be 64 lowercase hex characters";
		else if (!json_is_integer(ts) || json_integer_value(ts) < 0 || json_integer_value(ts) > 32503680000000LL)
			problem = "\"timestamp\" must be epoch milliseconds";
		else if (ip && strlen(ip) > 64)
			problem = "\"sourceIp\" is too long";
		else if (reason && strlen(reason) > 64)
			problem = "\"reason\" is too long";
		else if (principal && strlen(principal) > 2048)
			problem = "\"principal\" is too long";
		if (!problem && principal && strncmp(principal, "arn:", 4) == 0) {
			/* a certificate ARN names the certificate only in c's own account and region */
			struct dd_arn pa;
			if (dd_iam_arn_parse(principal, &pa))
				problem = "\"principal\" is not a valid ARN";
			else if (strcmp(pa.account, c->account) || (strcmp(pa.service, "iot") == 0 && strcmp(pa.region, c->region)))
				problem = "\"principal\" names a resource of another account or region";
		}
		if (problem) {
			json_decref(e);
			dd_db_rollback(c->db);
			return event_fail(c, line, problem);
		}
		/* a certificate ARN as principal also names the certificate */
		const char *certp = cert;
		if (!certp && principal) {
			const char *p = strstr(principal, ":cert/");
			if (p && strlen(p + 6) == 64)
				certp = p + 6;
		}
		struct dd_store_events_event se = {
			.event = ev,
			.client_id = client,
			.certificate_id = certp,
			.principal = principal,
			.ts_ms = json_integer_value(ts),
			.source_ip = ip,
			.reason = reason,
		};
		int rc = dd_store_events_insert(c->db, c->account_region, &se);
		json_decref(e);
		if (rc)
			return dd__db_fail(c);
		stored++;
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:i}", "accepted", stored);
	return 0;
}

const struct dd_raw_route dd_iot_ingest_raw_routes[] = {
	{ "POST", "/connection-events", dd_iot_ingest_connection_events },
	{ NULL, NULL, NULL },
};
