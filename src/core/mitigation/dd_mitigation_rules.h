/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules of mitigation that both the API and the engine apply, kept once: the six
 * action types with the actionParams member that selects each (exactly one member fixes
 * a definition's type for good), which types may be applied to a check's findings, the
 * limits AWS documents, and the one state a task can be canceled or run in. No JSON, no
 * store.
 */
#ifndef DD_MITIGATION_RULES_H
#define DD_MITIGATION_RULES_H

#include "dd/common.h"

#define DD_MITIGATION_MAX_ACTIONS_PER_ACCOUNT 100
#define DD_MITIGATION_MAX_TASKS_IN_PROGRESS 10
#define DD_MITIGATION_MAX_ACTIONS_PER_CHECK 5
#define DD_MITIGATION_MAX_FINDING_IDS 25
/* REPLACE_DEFAULT_POLICY_VERSION adds a version, which CreatePolicyVersion allows up to this. */
#define DD_MITIGATION_MAX_POLICY_VERSIONS 5

struct dd_mitigation_rules_kind {
	const char *member;   /* e.g. "updateDeviceCertificateParams" */
	const char *type;     /* e.g. "UPDATE_DEVICE_CERTIFICATE" */
};
/* In the model's order. */
extern const struct dd_mitigation_rules_kind dd_mitigation_rules_kinds[];
extern const size_t dd_mitigation_rules_nkinds;

/* The action type an actionParams member selects; NULL for any other name. */
const char *dd_mitigation_rules_type_of(const char *member);
/* May an action of type be applied to findings of a check whose own mitigation types are
 * allowed (NULL-terminated, may be NULL)? PUBLISH_FINDING_TO_SNS fits every check. */
bool dd_mitigation_rules_type_allowed(const char *const *allowed, const char *type);
/* Can a task in status be canceled, or its executions run? Only IN_PROGRESS. */
bool dd_mitigation_rules_task_active(const char *status);

#endif
