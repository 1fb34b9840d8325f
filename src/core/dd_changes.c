/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The change journal (see dd/changes.h): explicit notes, the broker's cheap indexed
 * poll by sequence, pruning, and the broker's CA bundle.
 */
#include "dd/changes.h"

#include <dirent.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dd/ctx.h"
#include "dd/service.h"

int dd_changes_note(struct dd_db *db, const char *account_region, const char *kind, const char *subject,
		    const char *arg, int64_t now_ms)
{
	sqlite3_stmt *st = dd_db_stmt(db, "INSERT INTO changes(account_region, kind, subject, arg, ts) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, kind);
	dd_bind_text(st, 3, subject);
	dd_bind_text(st, 4, arg);
	dd_bind_int64(st, 5, now_ms);
	return dd_step_done(st);
}

int dd_changes_last(struct dd_db *db, int64_t *seq)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT max(seq) FROM changes");
	if (!st)
		return DD_EIO;
	int s = sqlite3_step(st);
	*seq = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return s == SQLITE_ROW ? 0 : DD_EIO;
}

int dd_changes_read(struct dd_db *db, int64_t after, struct dd_change *out, size_t max, size_t *n)
{
	*n = 0;
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT seq, account_region, kind, subject, arg FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, after);
	dd_bind_int64(st, 2, (int64_t)max);
	int s;
	while (*n < max && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct dd_change *c = &out[(*n)++];
		c->seq = sqlite3_column_int64(st, 0);
		snprintf(c->account_region, sizeof c->account_region, "%s", dd_col_text(st, 1));
		snprintf(c->kind, sizeof c->kind, "%s", dd_col_text(st, 2));
		snprintf(c->subject, sizeof c->subject, "%s", dd_col_text(st, 3));
		snprintf(c->arg, sizeof c->arg, "%s", dd_col_text(st, 4));
	}
	sqlite3_reset(st);
	return *n == max || s == SQLITE_DONE ? 0 : DD_EIO;
}

int dd_changes_prune(struct dd_db *db, int64_t before_ms)
{
	sqlite3_stmt *st = dd_db_stmt(db, "DELETE FROM changes WHERE ts < ?1 AND seq < (SELECT max(seq) FROM changes)");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, before_ms);
	return dd_step_done(st);
}

/* Writes one CA into the OpenSSL hash directory as <subject hash>.<n> (c_rehash naming),
 * which OpenSSL reads at verification time: a CA added there is trusted by a running
 * broker without a restart. */
static int write_hashed(const char *dir, const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!x)
		return 0; /* not a certificate we can use: nothing to trust */
	unsigned long h = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL);
	X509_free(x);
	char path[4200];
	for (int n = 0; n < 100; n++) {
		snprintf(path, sizeof path, "%s/%08lx.%d", dir, h, n);
		FILE *f = fopen(path, "wx");
		if (!f)
			continue; /* taken by another CA with the same subject hash */
		int ok = fputs(pem, f) >= 0;
		ok = fclose(f) == 0 && ok;
		return ok ? 0 : DD_EIO;
	}
	return DD_EIO;
}

/* Empties and removes a directory of plain files. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char path[4600];
		size_t dl = strlen(dir);
		while ((e = readdir(d)) != NULL) {
			size_t nl = strlen(e->d_name);
			if (e->d_name[0] == '.' || dl + nl + 2 > sizeof path)
				continue;
			memcpy(path, dir, dl);
			path[dl] = '/';
			memcpy(path + dl + 1, e->d_name, nl + 1);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* Rebuilds dir with the server CA, every ACTIVE CA and every ACTIVE self-signed device
 * certificate registered without a CA: written into a sibling directory, then swapped in
 * by two renames, so a handshake never sees a half-written directory. */
static int write_ca_dir(struct dd_db *db, const char *server_ca_pem, const char *dir)
{
	char tmp[4200], old[4200];
	if (snprintf(tmp, sizeof tmp, "%s.new%ld", dir, (long)getpid()) >= (int)sizeof tmp ||
	    snprintf(old, sizeof old, "%s.old%ld", dir, (long)getpid()) >= (int)sizeof old)
		return DD_EINVAL;
	remove_dir(tmp);
	if (mkdir(tmp, 0755) != 0)
		return DD_EIO;
	int rc = server_ca_pem ? write_hashed(tmp, server_ca_pem) : 0;
	/* each self-signed device certificate is its own trust anchor; being CA:FALSE it
	 * cannot anchor any other certificate */
	static const char *const sql[2] = {
		"SELECT pem FROM ca_certificates WHERE status = 'ACTIVE' ORDER BY account_region, id",
		"SELECT pem FROM certificates WHERE status = 'ACTIVE' AND self_signed = 1 AND (ca_id IS NULL OR ca_id = '')"
		" ORDER BY account_region, id",
	};
	for (int q = 0; q < 2 && !rc; q++) {
		sqlite3_stmt *st = dd_db_stmt(db, sql[q]);
		if (!st) {
			rc = DD_EIO;
			break;
		}
		while (!rc && sqlite3_step(st) == SQLITE_ROW)
			rc = write_hashed(tmp, dd_col_text(st, 0));
		sqlite3_reset(st);
	}
	if (rc) {
		remove_dir(tmp);
		return rc;
	}
	remove_dir(old);
	struct stat sb;
	if (stat(dir, &sb) == 0 && rename(dir, old) != 0) {
		remove_dir(tmp);
		return DD_EIO;
	}
	if (rename(tmp, dir) != 0) {
		rename(old, dir);
		remove_dir(tmp);
		return DD_EIO;
	}
	remove_dir(old);
	return 0;
}

int dd_changes_write_ca_bundle(struct dd_db *db, const char *server_ca_pem, const char *path)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return DD_EINVAL;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return DD_EIO;
	int rc = 0;
	if (server_ca_pem && fputs(server_ca_pem, f) < 0)
		rc = DD_EIO;
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT pem FROM ca_certificates WHERE status = 'ACTIVE' ORDER BY account_region, id");
	if (!st)
		rc = DD_EIO;
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *pem = dd_col_text(st, 0);
		size_t len = strlen(pem);
		if (fputs(pem, f) < 0 || (len && pem[len - 1] != '\n' && fputc('\n', f) < 0))
			rc = DD_EIO;
	}
	if (st)
		sqlite3_reset(st);
	if (!rc && s != SQLITE_DONE)
		rc = DD_EIO;
	if (fclose(f) != 0)
		rc = DD_EIO;
	if (!rc && (chmod(tmp, 0644) != 0 || rename(tmp, path) != 0))
		rc = DD_EIO;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* the hash directory next to the bundle: <dir of path>/cas */
	char dir[4200];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	snprintf(slash, sizeof dir - (size_t)(slash - dir), "/cas");
	return write_ca_dir(db, server_ca_pem, dir);
}

int dd_broker_endpoint_set(struct dd_db *db, const char *region, const char *host_port)
{
	sqlite3_stmt *st = dd_db_stmt(db, "INSERT OR REPLACE INTO server_meta(key, value) VALUES ('broker_endpoint/' || ?2, ?1)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, host_port);
	dd_bind_text(st, 2, region);
	return dd_step_done(st);
}

int dd_broker_endpoint_get(struct dd_db *db, const char *region, char *out, size_t outlen)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT value FROM server_meta WHERE key = 'broker_endpoint/' || ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, region);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		snprintf(out, outlen, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	return s == SQLITE_ROW ? 0 : s == SQLITE_DONE ? DD_ENOTFOUND : DD_EIO;
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
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT max(c.seq) FROM changes c WHERE c.seq > ?1 AND (c.kind = 'ca' OR"
					  " (c.kind = 'cert' AND EXISTS (SELECT 1 FROM certificates k WHERE k.account_region = c.account_region"
					  " AND k.id = c.subject AND k.self_signed = 1 AND (k.ca_id IS NULL OR k.ca_id = ''))))");
	if (!st)
		return;
	dd_bind_int64(st, 1, *seen);
	int64_t last = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		last = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
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
	int64_t now = dd_now_ms();
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
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT event FROM connection_events WHERE account_region = ?1 AND client_id = ?2"
					     " ORDER BY ts DESC, seq DESC LIMIT 1");
	int s = SQLITE_ERROR;
	bool connected = false;
	if (st) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, client);
		s = sqlite3_step(st);
		connected = s == SQLITE_ROW && strcmp(dd_col_text(st, 0), "connect") == 0;
		sqlite3_reset(st);
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EIO, "InternalFailureException", "An internal store error occurred.");
	}
	if (!connected) {
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

const struct dd_handler dd_broker_handlers[] = {
	{ "iotdata", "DeleteConnection", delete_connection },
	{ NULL, NULL, NULL },
};
