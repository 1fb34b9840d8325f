/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server side of the broker: the MQTT endpoint each region's broker was configured
 * with (answered by DescribeEndpoint), and serve's keeper thread, which rewrites the
 * broker's CA bundle when a trust anchor changes and prunes the change journal, and the
 * broker's connection metrics for GET /metrics (the counters the plugin records in the
 * store, since it runs in Mosquitto's process). The keeper is one thread for the
 * process; it only acts once DIR/broker/ exists.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "dd/buf.h"
#include "dd/changes.h"
#include "dd/service.h"
#include "store/dd_store_changes.h"
#include "store/dd_store_connections.h"

int dd_broker_endpoint_set(struct dd_db *db, const char *region, const char *host_port)
{
	return dd_store_changes_endpoint_set(db, region, host_port);
}

int dd_broker_endpoint_get(struct dd_db *db, const char *region, char *out, size_t outlen)
{
	return dd_store_changes_endpoint_get(db, region, out, outlen);
}

/* ---- metrics ------------------------------------------------------------------------ */

#define BROKER_MAX_REGIONS 64

struct metric_rows {
	size_t n;
	struct dd_store_connections_stats rows[BROKER_MAX_REGIONS];
};

static int collect_stats(const struct dd_store_connections_stats *s, void *ud)
{
	struct metric_rows *m = ud;
	if (m->n < BROKER_MAX_REGIONS)
		m->rows[m->n++] = *s;
	return 0;
}

/* A region name is [a-z0-9-]: nothing to escape in a label value. */
static bool label_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

int dd_broker_metrics(struct dd_db *db, int64_t now_ms, struct dd_buf *b)
{
	struct metric_rows *m = calloc(1, sizeof *m);
	if (!m)
		return DD_ENOMEM;
	int rc = dd_store_connections_stats_list(db, collect_stats, m);
	if (rc || !m->n) {
		free(m);
		return rc;
	}
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "iotdefender_broker_connected_clients", "gauge", "MQTT clients connected to the region's broker (as its plugin last recorded)." },
		{ "iotdefender_broker_connects_total", "counter", "Connections the broker plugin admitted." },
		{ "iotdefender_broker_disconnects_total", "counter", "Admitted connections that ended." },
		{ "iotdefender_broker_refusals_total", "counter", "Connection attempts the broker plugin refused (certificate, CA, CRL, iot:Connect, store unavailable)." },
		{ "iotdefender_broker_stats_age_seconds", "gauge", "Seconds since the broker plugin last recorded its counters (it does at least every 10 s while running)." },
	};
	for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
		dd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name, fam[f].type);
		for (size_t i = 0; i < m->n; i++) {
			const struct dd_store_connections_stats *r = &m->rows[i];
			if (!label_safe(r->region))
				continue;
			double v = f == 0 ? (double)r->connected : f == 1 ? (double)r->connects : f == 2 ? (double)r->disconnects
				 : f == 3 ? (double)r->refusals : (double)(now_ms - r->updated_ms) / 1000.0;
			dd_buf_printf(b, "%s{region=\"%s\"} %.17g\n", fam[f].name, r->region, v);
		}
	}
	free(m);
	return 0;
}

/* ---- serve's keeper ----------------------------------------------------------------- */

static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, stop;
	struct dd_service *svc;
} keeper = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void keeper_pass(struct dd_service *svc, int64_t *seen, int64_t *pruned_ms)
{
	char dir[2200], bundle[2300];
	snprintf(dir, sizeof dir, "%s/broker", svc->data_dir);
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return;
	struct dd_db *db = dd_store_db(svc->store);
	if (!db)
		return;
	/* a CA change, or a change of a self-signed certificate registered without a CA */
	int64_t last = 0;
	if (dd_store_changes_trust_last(db, *seen, &last))
		return;
	snprintf(bundle, sizeof bundle, "%s/ca-bundle.pem", dir);
	if (last > *seen || *seen < 0) {
		if (dd_changes_write_ca_bundle(db, svc->ca_cert_pem, bundle) == 0) {
			if (last > *seen)
				*seen = last;
			if (*seen < 0)
				*seen = 0;
			dd_log_info("broker: CA bundle %s rewritten", bundle);
		} else {
			dd_log_warn("broker: cannot rewrite %s", bundle);
		}
	}
	int64_t now = dd_time_now_ms();
	if (now - *pruned_ms > 60000) {
		*pruned_ms = now;
		if (dd_db_begin_write(db) == 0) {
			if (dd_changes_prune(db, now - 3600000) || dd_db_commit(db))
				dd_db_rollback(db);
		}
	}
}

static void *keeper_main(void *arg)
{
	struct dd_service *svc = arg;
	int64_t seen = -1, pruned = 0;
	pthread_mutex_lock(&keeper.mu);
	while (!keeper.stop) {
		pthread_mutex_unlock(&keeper.mu);
		keeper_pass(svc, &seen, &pruned);
		pthread_mutex_lock(&keeper.mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!keeper.stop)
			pthread_cond_timedwait(&keeper.cv, &keeper.mu, &ts);
	}
	pthread_mutex_unlock(&keeper.mu);
	return NULL;
}

int dd_broker_keeper_start(struct dd_service *svc)
{
	pthread_mutex_lock(&keeper.mu);
	if (keeper.running) {
		pthread_mutex_unlock(&keeper.mu);
		return 0;
	}
	keeper.stop = false;
	keeper.svc = svc;
	int rc = pthread_create(&keeper.thread, NULL, keeper_main, svc) == 0 ? 0 : DD_ENOMEM;
	keeper.running = rc == 0;
	pthread_mutex_unlock(&keeper.mu);
	return rc;
}

void dd_broker_keeper_stop(void)
{
	pthread_mutex_lock(&keeper.mu);
	if (!keeper.running) {
		pthread_mutex_unlock(&keeper.mu);
		return;
	}
	keeper.stop = true;
	pthread_cond_signal(&keeper.cv);
	pthread_mutex_unlock(&keeper.mu);
	pthread_join(keeper.thread, NULL);
	keeper.running = false;
}
