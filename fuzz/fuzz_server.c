/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the server's request parsers: the SigV4 Authorization header,
 * percent-decoding, restJson1 routing and input binding (path, query, JSON body) and
 * awsQuery form binding against the embedded models. The input is split on NUL bytes
 * into: method, path, query pairs "k=v&…", body, authorization header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dd/buf.h"
#include "server/dd_model.h"
#include "server/dd_sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *no_header(void *ud, const char *name)
{
	(void)ud;
	(void)name;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int loaded;
	if (!loaded) {
		if (dd_models_load())
			abort();
		loaded = 1;
	}
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	const char *part[5] = { "GET", "/", "", "", "" };
	size_t off = 0;
	for (int i = 0; i < 5 && off <= size; i++) {
		part[i] = copy + off;
		off += strlen(copy + off) + 1;
	}
	/* SigV4 header */
	struct dd_sigv4_auth auth;
	char err[512];
	(void)dd_sigv4_parse(part[4], &auth, err, sizeof err);
	/* query pairs */
	struct dd_kv q[16];
	size_t nq = 0;
	char *qs = strdup(part[2]);
	for (char *p = qs; p && *p && nq < 16;) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		char *k = dd_uri_decode(p, strlen(p), false);
		char *v = eq ? dd_uri_decode(eq + 1, strlen(eq + 1), true) : strdup("");
		if (k && v) {
			q[nq].key = k;
			q[nq].value = v;
			nq++;
		} else {
			free(k);
			free(v);
		}
		p = amp ? amp + 1 : NULL;
	}
	/* restJson1 */
	const struct dd_model *iot = dd_model_get("iot");
	json_t *labels = json_object();
	bool mismatch;
	const struct dd_model_op *op = dd_model_route(iot, part[0], part[1], labels, &mismatch);
	if (op) {
		json_t *body = *part[3] ? json_loads(part[3], 0, NULL) : NULL;
		json_t *in = NULL;
		if (dd_model_bind_rest(op, labels, q, nq, no_header, NULL, body, &in, err, sizeof err) == 0)
			json_decref(in);
		json_decref(body);
	}
	json_decref(labels);
	/* awsQuery: the query pairs as a form, for one IAM and one SNS operation */
	const char *ops[][2] = { { "iam", "CreateRole" }, { "iam", "PutRolePolicy" }, { "sns", "Subscribe" },
				 { "sns", "SetTopicAttributes" } };
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		const struct dd_model_op *qop = dd_model_op_find(dd_model_get(ops[i][0]), ops[i][1]);
		json_t *in = NULL;
		if (qop && dd_model_bind_query(qop, q, nq, &in, err, sizeof err) == 0) {
			struct dd_buf b;
			dd_buf_init(&b, 1 << 20);
			dd_model_xml_response(dd_model_get(ops[i][0]), qop, in, "fuzz", &b);
			dd_buf_free(&b);
			json_decref(in);
		}
	}
	for (size_t i = 0; i < nq; i++) {
		free(q[i].key);
		free(q[i].value);
	}
	free(qs);
	free(copy);
	return 0;
}
