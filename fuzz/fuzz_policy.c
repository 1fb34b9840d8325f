/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the policy engine: the input is a policy document, optionally
 * followed by a NUL byte and newline-separated request fields (action, resource, client
 * id, thing name, certificate common name, source IP, one ConnectAttributes value). It
 * runs validate + compile (IoT and IAM dialects), evaluation with explain, the role
 * permission check, and every permissive-policy analysis, so the sanitizers see the whole
 * module on hostile input.
 */
#include "dd/policy.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void field(const char **cur, const char *end, char *out, size_t outsz,
		  const char *dflt)
{
	const char *p = *cur;
	if (p >= end) {
		size_t n = strlen(dflt);
		memcpy(out, dflt, n + 1);
		return;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)((nl ? nl : end) - p);
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	*cur = nl ? nl + 1 : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t doclen = nul ? (size_t)(nul - text) : size;
	char err[DD_POLICY_ERRMSG_SIZE];
	(void)dd_policy_count_nonws(text, doclen);

	struct dd_policy *pols[2] = { NULL, NULL };
	for (int d = 0; d < 2; d++) {
		enum dd_policy_dialect dialect = d ? DD_POLICY_IAM : DD_POLICY_IOT;
		int v = dd_policy_validate(text, doclen, dialect, err, sizeof err);
		(void)v;
		if (dd_policy_compile(text, doclen, dialect, &pols[d], err, sizeof err) != 0)
			pols[d] = NULL;
	}
	if (!pols[0] && !pols[1])
		return 0;

	char action[256], resource[512], client[128], thing[128], cn[128], ip[64], attr[64];
	const char *cur = nul ? nul + 1 : text + size, *end = text + size;
	field(&cur, end, action, sizeof action, "iot:Publish");
	field(&cur, end, resource, sizeof resource,
	      "arn:aws:iot:us-east-1:123456789012:topic/$aws/things/t1/shadow/update");
	field(&cur, end, client, sizeof client, "t1");
	field(&cur, end, thing, sizeof thing, "t1");
	field(&cur, end, cn, sizeof cn, "device.example.com");
	field(&cur, end, ip, sizeof ip, "10.0.0.1");
	field(&cur, end, attr, sizeof attr, "PersistentConnect");

	const char *cn_vals[] = { cn };
	const char *attr_vals[] = { attr, "LastWill" };
	const char *loc_vals[] = { "lab" };
	struct dd_policy_attr cert[] = { { "Subject.CommonName", cn_vals, 1 } };
	struct dd_policy_attr things[] = { { "location", loc_vals, 1 } };
	struct dd_policy_attr keys[] = { { "iot:ConnectAttributes", attr_vals, 2 } };
	struct dd_policy_request req = {
		.action = action, .resource = resource, .client_id = client,
		.thing_name = thing[0] ? thing : NULL, .thing_type_name = "sensor",
		.is_attached = thing[0] != '\0', .thing_attributes = things,
		.n_thing_attributes = 1, .cert = cert, .n_cert = 1, .source_ip = ip,
		.keys = keys, .n_keys = 1,
	};
	const struct dd_policy *set[2];
	size_t n = 0;
	for (int d = 0; d < 2; d++)
		if (pols[d])
			set[n++] = pols[d];
	enum dd_policy_decision dec;
	struct dd_policy_explain ex;
	if (dd_policy_evaluate(set, n, &req, &dec, &ex) == 0) {
		char line[256];
		(void)dd_policy_explain_format(&ex, line, sizeof line);
	}
	bool allowed;
	(void)dd_policy_role_allows(set, n, action, resource, &allowed);

	struct dd_policy_analysis a;
	const char *used[] = { "iot", "s3" };
	if (pols[0]) {
		if (dd_policy_analyze_iot_permissive(pols[0], &a) == 0)
			dd_policy_analyze_clear(&a);
		if (dd_policy_analyze_iot_misconfig(pols[0], &a) == 0)
			dd_policy_analyze_clear(&a);
	}
	if (pols[1]) {
		const struct dd_policy *iam[1] = { pols[1] };
		if (dd_policy_analyze_cognito_auth(iam, 1, &a) == 0)
			dd_policy_analyze_clear(&a);
		if (dd_policy_analyze_cognito_unauth(iam, 1, &a) == 0)
			dd_policy_analyze_clear(&a);
		if (dd_policy_analyze_role_alias_permissive(iam, 1, used, 2, &a) == 0)
			dd_policy_analyze_clear(&a);
		if (dd_policy_analyze_role_alias_unused(iam, 1, used, 2, &a) == 0)
			dd_policy_analyze_clear(&a);
	}
	dd_policy_free(pols[0]);
	dd_policy_free(pols[1]);
	return 0;
}
