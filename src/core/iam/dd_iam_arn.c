/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ARN parsing: "arn:<partition>:<service>:<region>:<account>:<resource>" split into its
 * fields, each bounded by its buffer; the resource stays borrowed from the input. A pure
 * function used wherever an ARN names a role, topic, certificate or policy.
 */
#include <string.h>

#include "dd/iam.h"

int dd_iam_arn_parse(const char *arn, struct dd_arn *out)
{
	if (!arn || strncmp(arn, "arn:", 4) != 0)
		return DD_EINVAL;
	struct dd_arn a;
	char *fields[4] = { a.partition, a.service, a.region, a.account };
	size_t sizes[4] = { sizeof a.partition, sizeof a.service, sizeof a.region, sizeof a.account };
	const char *p = arn + 4;
	for (int i = 0; i < 4; i++) {
		const char *colon = strchr(p, ':');
		if (!colon || (size_t)(colon - p) >= sizes[i])
			return DD_EINVAL;
		memcpy(fields[i], p, (size_t)(colon - p));
		fields[i][colon - p] = '\0';
		p = colon + 1;
	}
	if (!a.partition[0] || !a.service[0] || !*p)
		return DD_EINVAL;
	a.resource = p;
	*out = a;
	return 0;
}
