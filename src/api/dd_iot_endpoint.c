/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DescribeEndpoint: the MQTT/TLS address of the broker serving the request's region (once
 * broker-config recorded it) for the data endpoint types, and this HTTP endpoint for the
 * others (and for a region without a broker).
 */
#include <string.h>

#include "api/dd_api_common.h"
#include "dd/changes.h"
#include "dd/service.h"

static int describe_endpoint(struct dd_ctx *c, json_t *in, json_t **out)
{
	/* the endpoint types AWS knows (case-sensitive); omitted means iot:Data */
	static const char *const types[] = { "iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs" };
	const char *type = dd__str(in, "endpointType");
	bool known = !type;
	for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
		known = known || strcmp(type, types[i]) == 0;
	if (!known)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "endpointType must be iot:Data, iot:Data-ATS, iot:CredentialProvider or iot:Jobs, not %.128s.", type);
	/* iot:Data (the default) and iot:Data-ATS: the MQTT/TLS address of the broker serving
	 * the request's region once broker-config recorded it; every other type (and no broker
	 * for the region): this HTTP endpoint. */
	char broker[256];
	if ((!type || strcmp(type, "iot:Data") == 0 || strcmp(type, "iot:Data-ATS") == 0) &&
	    dd_broker_endpoint_get(c->db, c->region, broker, sizeof broker) == 0) {
		*out = json_pack("{s:s}", "endpointAddress", broker);
		return 0;
	}
	*out = json_pack("{s:s}", "endpointAddress", c->svc->endpoint_host[0] ? c->svc->endpoint_host : "127.0.0.1");
	return 0;
}

const struct dd_handler dd_iot_endpoint_handlers[] = {
	{ "iot", "DescribeEndpoint", describe_endpoint },
	{ NULL, NULL, NULL },
};
