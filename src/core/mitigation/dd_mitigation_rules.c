/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mitigation rules of dd_mitigation_rules.h: tables and predicates, no state.
 */
#include <string.h>

#include "core/mitigation/dd_mitigation_rules.h"

const struct dd_mitigation_rules_kind dd_mitigation_rules_kinds[] = {
	{ "updateDeviceCertificateParams", "UPDATE_DEVICE_CERTIFICATE" },
	{ "updateCACertificateParams", "UPDATE_CA_CERTIFICATE" },
	{ "addThingsToThingGroupParams", "ADD_THINGS_TO_THING_GROUP" },
	{ "replaceDefaultPolicyVersionParams", "REPLACE_DEFAULT_POLICY_VERSION" },
	{ "enableIoTLoggingParams", "ENABLE_IOT_LOGGING" },
	{ "publishFindingToSnsParams", "PUBLISH_FINDING_TO_SNS" },
};
const size_t dd_mitigation_rules_nkinds = sizeof dd_mitigation_rules_kinds / sizeof dd_mitigation_rules_kinds[0];

const char *dd_mitigation_rules_type_of(const char *member)
{
	for (size_t i = 0; member && i < dd_mitigation_rules_nkinds; i++)
		if (!strcmp(dd_mitigation_rules_kinds[i].member, member))
			return dd_mitigation_rules_kinds[i].type;
	return NULL;
}

bool dd_mitigation_rules_type_allowed(const char *const *allowed, const char *type)
{
	if (!type)
		return false;
	if (!strcmp(type, "PUBLISH_FINDING_TO_SNS"))
		return true;
	for (const char *const *m = allowed; m && *m; m++)
		if (!strcmp(*m, type))
			return true;
	return false;
}

bool dd_mitigation_rules_task_active(const char *status)
{
	return status && !strcmp(status, "IN_PROGRESS");
}
