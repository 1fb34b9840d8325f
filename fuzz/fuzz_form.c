/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the awsQuery body (IAM, SNS): the input is an
 * x-www-form-urlencoded body. It runs the dispatcher's splitter (dd__api_parse_form), then
 * binds the pairs with the model of the operation its Action names (in IAM and SNS) and
 * of a few fixed operations with nested members (lists, maps, structures), and renders
 * each bound input as the operation's XML response, as the dispatcher would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dd/buf.h"
#include "server/dd_api_int.h"
#include "server/dd_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bind(const char *service, const char *opname, const struct dd_kv *form, size_t n)
{
	const struct dd_model *m = dd_model_get(service);
	const struct dd_model_op *op = m ? dd_model_op_find(m, opname) : NULL;
	if (!op)
		return;
	json_t *in = NULL;
	char err[1024];
	if (dd_model_bind_query(op, form, n, &in, err, sizeof err) == 0) {
		struct dd_buf b;
		dd_buf_init(&b, 4 << 20);
		(void)dd_model_xml_response(m, op, in, "fuzz", &b);
		dd_buf_free(&b);
		json_decref(in);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int loaded;
	if (!loaded) {
		if (dd_models_load())
			abort();
		loaded = 1;
	}
	if (size > 65536)
		return 0;
	struct dd_kv *form = NULL;
	size_t n = 0;
	if (dd__api_parse_form(data, size, &form, &n) == 0) {
		if (n > 10000)
			abort();
		const char *action = NULL;
		for (size_t i = 0; i < n; i++) {
			if (!form[i].key || !form[i].value)
				abort();
			if (strcmp(form[i].key, "Action") == 0)
				action = form[i].value;
		}
		if (action && strlen(action) < 128) {
			char a[128];
			strcpy(a, action);
			bind("iam", a, form, n);
			bind("sns", a, form, n);
		}
		bind("sns", "Publish", form, n);
		bind("sns", "SetSubscriptionAttributes", form, n);
		bind("sns", "TagResource", form, n);
		bind("iam", "CreateRole", form, n);
		bind("iam", "PutRolePolicy", form, n);
	}
	dd__api_free_kv(form, n);
	return 0;
}
