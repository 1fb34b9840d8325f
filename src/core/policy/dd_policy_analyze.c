/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The permissive-policy analyses of the audit (spec/POLICY.md): IoT policy overly
 * permissive and potential misconfiguration, Cognito authenticated/unauthenticated role,
 * role alias overly permissive and unused services. They work on compiled policies
 * (never on JSON) and reason about resource patterns symbolically: a pattern is expanded
 * into tokens (character, '*', '?', variable), "can this pattern reach another device's
 * resource" is decided by walking the ARN's fixed prefix, and "L(D) is a subset of L(A)"
 * by glob inclusion (a '*' in D can only be consumed by a '*' in A). Action lists in the
 * results are deduplicated, in a fixed order for the data-plane list and in table order
 * otherwise. Statements with an unsupported condition operator are ignored, as in
 * evaluation; other conditions are assumed satisfiable except the IsAttached one.
 */
#define DD_POLICY_INTERNAL 1
#include "dd/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every iot: action: the IAM names of the Service Authorization Reference (via
 * tests/data/policies/data/iam_actions_subset.json) plus the IoT-policy-only actions. */
static const char *const iot_actions[] = {
	"AcceptCertificateTransfer", "AddThingToBillingGroup", "AddThingToThingGroup",
	"AssociateSbomWithPackageVersion", "AssociateTargetsWithJob", "AssumeRoleWithCertificate",
	"AttachPolicy", "AttachPrincipalPolicy", "AttachSecurityProfile", "AttachThingPrincipal",
	"CancelAuditMitigationActionsTask", "CancelAuditTask", "CancelCertificateTransfer",
	"CancelDetectMitigationActionsTask", "CancelJob", "CancelJobExecution",
	"ClearDefaultAuthorizer", "CloseTunnel", "ConfirmTopicRuleDestination", "Connect",
	"CreateAuditSuppression", "CreateAuthorizer", "CreateBillingGroup",
	"CreateCertificateFromCsr", "CreateCertificateProvider", "CreateCommand",
	"CreateCustomMetric", "CreateDimension", "CreateDomainConfiguration",
	"CreateDynamicThingGroup", "CreateFleetMetric", "CreateJob", "CreateJobTemplate",
	"CreateKeysAndCertificate", "CreateMitigationAction", "CreateOTAUpdate", "CreatePackage",
	"CreatePackageVersion", "CreatePolicy", "CreatePolicyVersion", "CreateProvisioningClaim",
	"CreateProvisioningTemplate", "CreateProvisioningTemplateVersion", "CreateRoleAlias",
	"CreateScheduledAudit", "CreateSecurityProfile", "CreateStream", "CreateThing",
	"CreateThingGroup", "CreateThingType", "CreateTopicRule", "CreateTopicRuleDestination",
	"DeleteAccountAuditConfiguration", "DeleteAuditSuppression", "DeleteAuthorizer",
	"DeleteBillingGroup", "DeleteCACertificate", "DeleteCertificate",
	"DeleteCertificateProvider", "DeleteCommand", "DeleteCommandExecution",
	"DeleteConnection", "DeleteCustomMetric", "DeleteDimension", "DeleteDomainConfiguration",
	"DeleteDynamicThingGroup", "DeleteFleetMetric", "DeleteJob", "DeleteJobExecution",
	"DeleteJobTemplate", "DeleteMitigationAction", "DeleteOTAUpdate", "DeletePackage",
	"DeletePackageVersion", "DeletePolicy", "DeletePolicyVersion",
	"DeleteProvisioningTemplate", "DeleteProvisioningTemplateVersion",
	"DeleteRegistrationCode", "DeleteRoleAlias", "DeleteScheduledAudit",
	"DeleteSecurityProfile", "DeleteStream", "DeleteThing", "DeleteThingGroup",
	"DeleteThingShadow", "DeleteThingType", "DeleteTopicRule", "DeleteTopicRuleDestination",
	"DeleteV2LoggingLevel", "DeprecateThingType", "DescribeAccountAuditConfiguration",
	"DescribeAuditFinding", "DescribeAuditMitigationActionsTask", "DescribeAuditSuppression",
	"DescribeAuditTask", "DescribeAuthorizer", "DescribeBillingGroup",
	"DescribeCACertificate", "DescribeCertificate", "DescribeCertificateProvider",
	"DescribeCustomMetric", "DescribeDefaultAuthorizer",
	"DescribeDetectMitigationActionsTask", "DescribeDimension", "DescribeDomainConfiguration",
	"DescribeEncryptionConfiguration", "DescribeEndpoint", "DescribeEventConfigurations",
	"DescribeFleetMetric", "DescribeIndex", "DescribeJob", "DescribeJobExecution",
	"DescribeJobTemplate", "DescribeManagedJobTemplate", "DescribeMitigationAction",
	"DescribeProvisioningTemplate", "DescribeProvisioningTemplateVersion",
	"DescribeRoleAlias", "DescribeScheduledAudit", "DescribeSecurityProfile",
	"DescribeStream", "DescribeThing", "DescribeThingGroup", "DescribeThingRegistrationTask",
	"DescribeThingType", "DescribeTunnel", "DetachPolicy", "DetachPrincipalPolicy",
	"DetachSecurityProfile", "DetachThingPrincipal", "DisableTopicRule",
	"DisassociateSbomFromPackageVersion", "EnableTopicRule",
	"GetBehaviorModelTrainingSummaries", "GetBucketsAggregation", "GetCardinality",
	"GetCommand", "GetCommandExecution", "GetConnection", "GetEffectivePolicies",
	"GetIndexingConfiguration", "GetJobDocument", "GetLoggingOptions", "GetOTAUpdate",
	"GetPackage", "GetPackageConfiguration", "GetPackageVersion", "GetPendingJobExecutions",
	"GetPercentiles", "GetPolicy", "GetPolicyVersion", "GetRegistrationCode",
	"GetRetainedMessage", "GetStatistics", "GetThingConnectivityData", "GetThingShadow",
	"GetTopicRule", "GetTopicRuleDestination", "GetV2LoggingOptions", "ListActiveViolations",
	"ListAttachedPolicies", "ListAuditFindings", "ListAuditMitigationActionsExecutions",
	"ListAuditMitigationActionsTasks", "ListAuditSuppressions", "ListAuditTasks",
	"ListAuthorizers", "ListBillingGroups", "ListCACertificates", "ListCertificateProviders",
	"ListCertificates", "ListCertificatesByCA", "ListCommandExecutions", "ListCommands",
	"ListCustomMetrics", "ListDetectMitigationActionsExecutions",
	"ListDetectMitigationActionsTasks", "ListDimensions", "ListDomainConfigurations",
	"ListFleetMetrics", "ListIndices", "ListJobExecutionsForJob", "ListJobExecutionsForThing",
	"ListJobTemplates", "ListJobs", "ListManagedJobTemplates", "ListMetricValues",
	"ListMitigationActions", "ListNamedShadowsForThing", "ListOTAUpdates",
	"ListOutgoingCertificates", "ListPackageVersions", "ListPackages", "ListPolicies",
	"ListPolicyPrincipals", "ListPolicyVersions", "ListPrincipalPolicies",
	"ListPrincipalThings", "ListPrincipalThingsV2", "ListProvisioningTemplateVersions",
	"ListProvisioningTemplates", "ListRelatedResourcesForAuditFinding",
	"ListRetainedMessages", "ListRoleAliases", "ListSbomValidationResults",
	"ListScheduledAudits", "ListSecurityProfiles", "ListSecurityProfilesForTarget",
	"ListStreams", "ListSubscriptions", "ListTagsForResource", "ListTargetsForPolicy",
	"ListTargetsForSecurityProfile", "ListThingGroups", "ListThingGroupsForThing",
	"ListThingPrincipals", "ListThingPrincipalsV2", "ListThingRegistrationTaskReports",
	"ListThingRegistrationTasks", "ListThingTypes", "ListThings", "ListThingsInBillingGroup",
	"ListThingsInThingGroup", "ListTopicRuleDestinations", "ListTopicRules", "ListTunnels",
	"ListV2LoggingLevels", "ListViolationEvents", "OpenTunnel", "Publish",
	"PutVerificationStateOnViolation", "Receive", "RegisterCACertificate",
	"RegisterCertificate", "RegisterCertificateWithoutCA", "RegisterThing",
	"RejectCertificateTransfer", "RemoveThingFromBillingGroup", "RemoveThingFromThingGroup",
	"ReplaceTopicRule", "RetainPublish", "RotateTunnelAccessToken", "SearchIndex",
	"SendDirectMessage", "SetDefaultAuthorizer", "SetDefaultPolicyVersion",
	"SetLoggingOptions", "SetV2LoggingLevel", "SetV2LoggingOptions",
	"StartAuditMitigationActionsTask", "StartCommandExecution",
	"StartDetectMitigationActionsTask", "StartNextPendingJobExecution",
	"StartOnDemandAuditTask", "StartThingRegistrationTask", "StopThingRegistrationTask",
	"Subscribe", "TagResource", "TestAuthorization", "TestInvokeAuthorizer",
	"TransferCertificate", "UntagResource", "UpdateAccountAuditConfiguration",
	"UpdateAuditSuppression", "UpdateAuthorizer", "UpdateBillingGroup", "UpdateCACertificate",
	"UpdateCertificate", "UpdateCertificateProvider", "UpdateCommand", "UpdateCustomMetric",
	"UpdateDimension", "UpdateDomainConfiguration", "UpdateDynamicThingGroup",
	"UpdateEncryptionConfiguration", "UpdateEventConfigurations", "UpdateFleetMetric",
	"UpdateIndexingConfiguration", "UpdateJob", "UpdateJobExecution",
	"UpdateMitigationAction", "UpdatePackage", "UpdatePackageConfiguration",
	"UpdatePackageVersion", "UpdateProvisioningTemplate", "UpdateRoleAlias",
	"UpdateScheduledAudit", "UpdateSecurityProfile", "UpdateStream", "UpdateThing",
	"UpdateThingGroup", "UpdateThingGroupsForThing", "UpdateThingShadow", "UpdateThingType",
	"UpdateTopicRuleDestination", "ValidateSecurityProfileBehaviors",
};

enum reach_kind { REACH_CLIENT, REACH_TOPIC, REACH_FILTER, REACH_THING };

/* Data-plane actions, in the order findings list them (the order of AWS's own messages:
 * Subscribe, Connect, GetThingShadow, DeleteThingShadow, UpdateThingShadow, Publish). */
struct dp_action {
	const char *name;  /* reported name */
	const char *match; /* IAM action name matched against statements */
	uint8_t reach;
	bool iam_only;     /* only in IAM policies (iotjobsdata) */
};

static const struct dp_action dp_actions[] = {
	{ "iot:Subscribe", "iot:Subscribe", REACH_FILTER, false },
	{ "iot:Connect", "iot:Connect", REACH_CLIENT, false },
	{ "iot:GetThingShadow", "iot:GetThingShadow", REACH_THING, false },
	{ "iot:DeleteThingShadow", "iot:DeleteThingShadow", REACH_THING, false },
	{ "iot:UpdateThingShadow", "iot:UpdateThingShadow", REACH_THING, false },
	{ "iot:Publish", "iot:Publish", REACH_TOPIC, false },
	{ "iot:Publish", "iot:RetainPublish", REACH_TOPIC, false }, /* treated as Publish */
	{ "iot:DescribeJobExecution", "iot:DescribeJobExecution", REACH_THING, false },
	{ "iot:GetPendingJobExecutions", "iot:GetPendingJobExecutions", REACH_THING, false },
	{ "iot:StartNextPendingJobExecution", "iot:StartNextPendingJobExecution", REACH_THING, false },
	{ "iot:UpdateJobExecution", "iot:UpdateJobExecution", REACH_THING, false },
	{ "iotjobsdata:DescribeJobExecution", "iotjobsdata:DescribeJobExecution", REACH_THING, true },
	{ "iotjobsdata:GetPendingJobExecutions", "iotjobsdata:GetPendingJobExecutions", REACH_THING, true },
	{ "iotjobsdata:StartNextPendingJobExecution", "iotjobsdata:StartNextPendingJobExecution", REACH_THING, true },
	{ "iotjobsdata:UpdateJobExecution", "iotjobsdata:UpdateJobExecution", REACH_THING, true },
};

/* Data-plane actions that are never flagged and are not admin actions either. */
static const char *const dp_unflagged[] = {
	"Receive", "ListNamedShadowsForThing", "GetRetainedMessage", "ListRetainedMessages",
	"AssumeRoleWithCertificate",
};

static const char *const thing_admin_write[] = {
	"AddThingToThingGroup", "AttachThingPrincipal", "CreateThing", "DeleteThing",
	"DetachThingPrincipal", "ListThings", "ListThingsInThingGroup", "RegisterThing",
	"RemoveThingFromThingGroup", "UpdateThing", "UpdateThingGroupsForThing",
};

static const char *const thing_admin_read[] = {
	"DescribeThing", "ListJobExecutionsForThing", "ListThingGroupsForThing",
	"ListThingPrincipals",
};

static const char *const audit_services[] = {
	"iam", "cloudtrail", "guardduty", "inspector", "inspector2", "trustedadvisor",
	"securityhub", "config", "access-analyzer",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(l[i], s) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- tokens ------- */

enum tok_kind { T_CH = 0, T_STAR, T_QMARK, T_VAR };

struct tok {
	uint8_t kind;
	uint8_t var;
	char ch;
	uint32_t len;
	const char *name;
};

struct toks {
	struct tok *t;
	size_t n;
};

/* Expands a compiled pattern into one token per character / wildcard / variable. */
static int expand(const struct dd__policy_pat *p, struct toks *out)
{
	size_t n = 0;
	for (uint32_t i = 0; i < p->nops; i++)
		n += p->ops[i].kind == DD__OP_LIT ? p->ops[i].len : 1;
	struct tok *t = calloc(n ? n : 1, sizeof *t);
	if (!t)
		return DD_ENOMEM;
	size_t k = 0;
	for (uint32_t i = 0; i < p->nops; i++) {
		const struct dd__policy_op *op = &p->ops[i];
		switch (op->kind) {
		case DD__OP_LIT:
			for (uint32_t j = 0; j < op->len; j++) {
				t[k].kind = T_CH;
				t[k++].ch = op->str[j];
			}
			break;
		case DD__OP_STAR: t[k++].kind = T_STAR; break;
		case DD__OP_QMARK: t[k++].kind = T_QMARK; break;
		default:
			t[k].kind = T_VAR;
			t[k].var = op->var;
			t[k].name = op->str;
			t[k++].len = op->len;
			break;
		}
	}
	out->t = t;
	out->n = k;
	return 0;
}

static bool tok_eq(const struct tok *a, const struct tok *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == T_CH)
		return a->ch == b->ch;
	if (a->kind == T_VAR)
		return a->var == b->var && a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
	return true;
}

/*
 * L(D) subset of L(A) by glob inclusion: every token of D must be consumed by A, a '*'
 * only by a '*', a '?' by '?' or '*', a character or variable by itself, '?' or '*'.
 * Dynamic programming over suffixes with two rows. Returns 1, 0 or DD_ENOMEM.
 */
static int subset(const struct toks *d, const struct toks *a)
{
	size_t nd = d->n, na = a->n;
	bool *next = calloc(na + 1, sizeof *next), *cur = calloc(na + 1, sizeof *cur);
	if (!next || !cur) {
		free(next);
		free(cur);
		return DD_ENOMEM;
	}
	/* row i = nd: D exhausted; A's suffix must be all stars */
	next[na] = true;
	for (size_t j = na; j-- > 0;)
		next[j] = a->t[j].kind == T_STAR && next[j + 1];
	for (size_t i = nd; i-- > 0;) {
		cur[na] = false;
		for (size_t j = na; j-- > 0;) {
			const struct tok *at = &a->t[j], *dt = &d->t[i];
			bool v;
			if (at->kind == T_STAR)
				v = cur[j + 1] || next[j];
			else if (dt->kind == T_STAR)
				v = false;
			else if (at->kind == T_QMARK)
				v = next[j + 1];
			else if (dt->kind == T_QMARK)
				v = false;
			else
				v = tok_eq(dt, at) && next[j + 1];
			cur[j] = v;
		}
		bool *tmp = next;
		next = cur;
		cur = tmp;
	}
	int r = next[0] ? 1 : 0;
	free(next);
	free(cur);
	return r;
}

/* Glob match of tokens [b, e) against a fixed string (variables never match). */
static bool toks_match_str(const struct tok *t, size_t b, size_t e, const char *s)
{
	if (b == e)
		return *s == '\0';
	if (t[b].kind == T_STAR) {
		for (const char *p = s;; p++) {
			if (toks_match_str(t, b + 1, e, p))
				return true;
			if (!*p)
				return false;
		}
	}
	if (!*s || t[b].kind == T_VAR)
		return false;
	if (t[b].kind == T_QMARK || t[b].ch == *s)
		return toks_match_str(t, b + 1, e, s + 1);
	return false;
}

enum reach { R_NONE = 0, R_LITERAL, R_BOUND, R_FREE, R_WILD };

/*
 * Can a resource pattern reach the resource of another device? Walks the ARN header
 * (arn:PARTITION:iot:REGION:ACCOUNT:) and the fixed part of the resource ("client/",
 * "topic/$aws/things/", "topicfilter/$aws/things/", "thing/") and classifies what the
 * pattern puts at the start of the device segment.
 */
static enum reach reach_of(const struct toks *tk, uint8_t kind)
{
	const struct tok *t = tk->t;
	size_t n = tk->n, i = 0;
	if (n == 0)
		return R_NONE;
	for (int f = 0; f < 5; f++) {
		size_t b = i;
		bool star = false;
		while (i < n && !(t[i].kind == T_CH && t[i].ch == ':')) {
			if (t[i].kind == T_STAR)
				star = true;
			i++;
		}
		if (i == n) /* the pattern ends inside the header: a '*' there spans the rest */
			return star ? R_WILD : R_NONE;
		if (f == 0 && !toks_match_str(t, b, i, "arn"))
			return R_NONE;
		if (f == 2 && !toks_match_str(t, b, i, "iot"))
			return R_NONE;
		i++;
	}
	const char *type = kind == REACH_CLIENT ? "client/" : kind == REACH_TOPIC ? "topic/"
			   : kind == REACH_FILTER ? "topicfilter/" : "thing/";
	char tmpl[64];
	snprintf(tmpl, sizeof tmpl, "%s%s", type,
		 kind == REACH_TOPIC || kind == REACH_FILTER ? "$aws/things/" : "");
	const size_t tl = strlen(tmpl), typel = strlen(type);
	const bool mqtt = kind == REACH_FILTER;
	size_t k = 0;
	while (k < tl) {
		if (i == n)
			return R_NONE;
		const struct tok *x = &t[i];
		if (x->kind == T_STAR)
			return R_WILD;
		if (x->kind == T_VAR)
			return R_NONE;
		if (x->kind == T_QMARK) {
			k++;
			i++;
			continue;
		}
		/* In a subscribed filter, '#' or '+' standing for a whole level routes as an MQTT
		 * wildcard (but not for the first level: "$aws" is not matched by wildcards). */
		if (mqtt && k > typel && tmpl[k - 1] == '/') {
			bool level_end = i + 1 == n || (t[i + 1].kind == T_CH && t[i + 1].ch == '/');
			if (x->ch == '#' && level_end)
				return R_WILD;
			if (x->ch == '+' && level_end) {
				while (k < tl && tmpl[k] != '/')
					k++;
				i++;
				continue;
			}
		}
		if (x->ch != tmpl[k])
			return R_NONE;
		k++;
		i++;
	}
	if (i == n)
		return R_NONE;
	const struct tok *x = &t[i];
	if (x->kind == T_STAR || x->kind == T_QMARK)
		return R_WILD;
	if (x->kind == T_VAR)
		return x->var == DD__VAR_CLIENT_ID ? R_FREE : R_BOUND;
	if (mqtt && (x->ch == '+' || x->ch == '#'))
		return R_WILD;
	return R_LITERAL;
}

/* ---------------------------------------------------------------- statements --- */

struct polset {
	const struct dd_policy *const *p;
	size_t n;
};

#define FOR_EACH_STMT(ps, st)                                                               \
	for (size_t pi_ = 0; pi_ < (ps)->n; pi_++)                                          \
		if ((ps)->p[pi_])                                                           \
			for (const struct dd__policy_stmt *st = (ps)->p[pi_]->stmts;        \
			     st < (ps)->p[pi_]->stmts + (ps)->p[pi_]->nstmts; st++)         \
				if (!st->unsupported)

static bool stmt_has_action(const struct dd__policy_stmt *st, const char *action)
{
	size_t n = strlen(action);
	bool hit = false;
	for (uint32_t i = 0; i < st->nactions && !hit; i++)
		hit = dd__policy_act_match(&st->actions[i], action, n);
	return hit != st->not_action;
}

/* Is every resource of pattern r denied for action by an unconditional Deny? */
static int denied_everywhere(const struct polset *ps, const char *action,
			     const struct dd__policy_pat *r)
{
	struct toks rt = { 0 };
	int result = 0;
	FOR_EACH_STMT(ps, st) {
		if (!st->deny || st->nconds || st->not_resource || !stmt_has_action(st, action))
			continue;
		for (uint32_t k = 0; k < st->nresources && !result; k++) {
			if (st->resources[k].match_all) {
				result = 1;
				break;
			}
			if (!r)
				continue; /* NotResource allow: only a '*' Deny removes it */
			if (!rt.t && expand(r, &rt)) {
				result = DD_ENOMEM;
				goto out;
			}
			struct toks dt;
			if (expand(&st->resources[k], &dt)) {
				result = DD_ENOMEM;
				goto out;
			}
			result = subset(&rt, &dt);
			free(dt.t);
			if (result < 0)
				goto out;
		}
		if (result)
			goto out;
	}
out:
	free(rt.t);
	return result;
}

/* Does any Allow grant action on some resource not removed by an unconditional Deny? */
static int allowed_somewhere(const struct polset *ps, const char *action)
{
	FOR_EACH_STMT(ps, st) {
		if (st->deny || !stmt_has_action(st, action))
			continue;
		if (st->not_resource) {
			int d = denied_everywhere(ps, action, NULL);
			if (d <= 0)
				return d < 0 ? d : 1;
			continue;
		}
		for (uint32_t k = 0; k < st->nresources; k++) {
			int d = denied_everywhere(ps, action, &st->resources[k]);
			if (d <= 0)
				return d < 0 ? d : 1;
		}
	}
	return 0;
}

/* Does any Allow grant action on a pattern reaching another device's resource? */
static int allowed_broadly(const struct polset *ps, const char *action, uint8_t kind)
{
	FOR_EACH_STMT(ps, st) {
		if (st->deny || !stmt_has_action(st, action))
			continue;
		if (st->not_resource) {
			int d = denied_everywhere(ps, action, NULL);
			if (d <= 0)
				return d < 0 ? d : 1;
			continue;
		}
		for (uint32_t k = 0; k < st->nresources; k++) {
			struct toks t;
			if (expand(&st->resources[k], &t))
				return DD_ENOMEM;
			enum reach r = reach_of(&t, kind);
			free(t.t);
			if (r == R_WILD || (r == R_FREE && !st->is_attached_true)) {
				int d = denied_everywhere(ps, action, &st->resources[k]);
				if (d <= 0)
					return d < 0 ? d : 1;
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- results ------ */

struct strlist {
	char **v;
	size_t n, cap;
};

static int list_add(struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return DD_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	size_t n = strlen(s);
	char *c = malloc(n + 1);
	if (!c)
		return DD_ENOMEM;
	memcpy(c, s, n + 1);
	l->v[l->n++] = c;
	return 0;
}

static void list_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

void dd_policy_analyze_clear(struct dd_policy_analysis *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nreasons && i < DD_POLICY_MAX_REASONS; i++) {
		struct dd_policy_reason *r = &a->reasons[i];
		for (size_t j = 0; j < r->nactions; j++)
			free(r->actions[j]);
		free(r->actions);
		free(r->message);
	}
	memset(a, 0, sizeof *a);
}

const struct dd_policy_reason *dd_policy_analyze_find(const struct dd_policy_analysis *a,
						       const char *code)
{
	if (!a || !code)
		return NULL;
	for (size_t i = 0; i < a->nreasons; i++)
		if (strcmp(a->reasons[i].code, code) == 0)
			return &a->reasons[i];
	return NULL;
}

/* Moves a non-empty list into a new reason "<what>: [a, b]." of out. */
static int add_reason(struct dd_policy_analysis *out, const char *code, const char *what,
		      struct strlist *l)
{
	if (l->n == 0)
		return 0;
	if (out->nreasons >= DD_POLICY_MAX_REASONS)
		return DD_EINVAL;
	size_t len = strlen(what) + 6;
	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->v[i]) + 2;
	char *msg = malloc(len);
	if (!msg)
		return DD_ENOMEM;
	size_t off = (size_t)snprintf(msg, len, "%s: [", what);
	for (size_t i = 0; i < l->n; i++)
		off += (size_t)snprintf(msg + off, len - off, "%s%s", i ? ", " : "", l->v[i]);
	snprintf(msg + off, len - off, "].");
	struct dd_policy_reason *r = &out->reasons[out->nreasons++];
	r->code = code;
	r->actions = l->v;
	r->nactions = l->n;
	r->message = msg;
	memset(l, 0, sizeof *l);
	out->verdict = DD_POLICY_NONCOMPLIANT;
	return 0;
}

/* ---------------------------------------------------------------- analyses ----- */

static const char CODE_DP[] = "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS";
static const char CODE_ADMIN[] = "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS";
static const char CODE_READ[] = "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS";
static const char CODE_NONTHING[] = "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS";
static const char CODE_WRITE[] = "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS";
static const char CODE_USED[] = "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES";
static const char CODE_AUDITSVC[] = "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES";
static const char CODE_UNUSED[] = "ALLOWS_ACCESS_TO_UNUSED_SERVICES";
static const char CODE_MQTTWILD[] = "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT";
static const char CODE_TOPICFILTER[] = "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS";

static int data_plane(const struct polset *ps, bool iam, struct strlist *l)
{
	for (size_t i = 0; i < NELEM(dp_actions); i++) {
		if (dp_actions[i].iam_only && !iam)
			continue;
		int r = allowed_broadly(ps, dp_actions[i].match, dp_actions[i].reach);
		if (r < 0)
			return r;
		if (r && list_add(l, dp_actions[i].name))
			return DD_ENOMEM;
	}
	return 0;
}

static bool is_data_plane(const char *name)
{
	char full[96];
	snprintf(full, sizeof full, "iot:%s", name);
	for (size_t i = 0; i < NELEM(dp_actions); i++)
		if (strcasecmp(dp_actions[i].match, full) == 0)
			return true;
	return in_list(dp_unflagged, NELEM(dp_unflagged), name);
}

enum admin_cat { CAT_WRITE, CAT_READ, CAT_NONTHING };

static enum admin_cat admin_category(const char *name)
{
	if (in_list(thing_admin_write, NELEM(thing_admin_write), name))
		return CAT_WRITE;
	if (in_list(thing_admin_read, NELEM(thing_admin_read), name))
		return CAT_READ;
	return CAT_NONTHING;
}

/* Fills the admin lists: any-resource grants per category, and broad thing reads. */
static int admin_lists(const struct polset *ps, struct strlist *write, struct strlist *read_any,
		       struct strlist *read_broad, struct strlist *nonthing)
{
	char full[96];
	for (size_t i = 0; i < NELEM(iot_actions); i++) {
		const char *name = iot_actions[i];
		if (is_data_plane(name))
			continue;
		snprintf(full, sizeof full, "iot:%s", name);
		enum admin_cat cat = admin_category(name);
		int r = allowed_somewhere(ps, full);
		if (r < 0)
			return r;
		if (!r)
			continue;
		struct strlist *l = cat == CAT_WRITE ? write : cat == CAT_READ ? read_any : nonthing;
		if (l && list_add(l, full))
			return DD_ENOMEM;
		if (cat == CAT_READ && read_broad) {
			r = allowed_broadly(ps, full, REACH_THING);
			if (r < 0)
				return r;
			if (r && list_add(read_broad, full))
				return DD_ENOMEM;
		}
	}
	return 0;
}

static int finish(int rc, struct dd_policy_analysis *out)
{
	if (rc)
		dd_policy_analyze_clear(out);
	return rc;
}

int dd_policy_analyze_iot_permissive(const struct dd_policy *policy,
				     struct dd_policy_analysis *out)
{
	if (!policy || !out)
		return DD_EINVAL;
	memset(out, 0, sizeof *out);
	struct polset ps = { &policy, 1 };
	struct strlist l = { 0 };
	int rc = data_plane(&ps, false, &l);
	if (!rc)
		rc = add_reason(out, CODE_DP, "Policy allows broad access to IoT data plane actions", &l);
	list_free(&l);
	return finish(rc, out);
}

/* Authenticated Cognito codes, shared by the role-alias check. */
static int cognito_auth_codes(const struct polset *ps, struct dd_policy_analysis *out)
{
	struct strlist w = { 0 }, rb = { 0 }, nt = { 0 };
	int rc = admin_lists(ps, &w, NULL, &rb, &nt);
	if (!rc)
		rc = add_reason(out, CODE_READ, "Role allows broad access to IoT thing admin read actions", &rb);
	if (!rc)
		rc = add_reason(out, CODE_NONTHING, "Role allows access to IoT non-thing admin actions", &nt);
	if (!rc)
		rc = add_reason(out, CODE_WRITE, "Role allows access to IoT thing admin write actions", &w);
	list_free(&w);
	list_free(&rb);
	list_free(&nt);
	return rc;
}

int dd_policy_analyze_cognito_auth(const struct dd_policy *const *policies, size_t n,
				   struct dd_policy_analysis *out)
{
	if (!out || (n && !policies))
		return DD_EINVAL;
	memset(out, 0, sizeof *out);
	struct polset ps = { policies, n };
	return finish(cognito_auth_codes(&ps, out), out);
}

int dd_policy_analyze_cognito_unauth(const struct dd_policy *const *policies, size_t n,
				     struct dd_policy_analysis *out)
{
	if (!out || (n && !policies))
		return DD_EINVAL;
	memset(out, 0, sizeof *out);
	struct polset ps = { policies, n };
	struct strlist admin = { 0 }, dp = { 0 };
	/* One list for all admin categories, in table (alphabetical) order. */
	int rc = admin_lists(&ps, &admin, &admin, NULL, &admin);
	if (!rc)
		rc = add_reason(out, CODE_ADMIN, "Role allows access to IoT admin actions", &admin);
	if (!rc)
		rc = data_plane(&ps, true, &dp);
	if (!rc)
		rc = add_reason(out, CODE_DP, "Role allows broad access to IoT data plane actions", &dp);
	list_free(&admin);
	list_free(&dp);
	return finish(rc, out);
}

/* The service prefix of an action pattern, lowercased into buf; "" for "*". */
static void service_of(const char *action, char *buf, size_t size)
{
	const char *colon = strchr(action, ':');
	size_t n = colon ? (size_t)(colon - action) : 0;
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++) {
		char c = action[i];
		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[n] = '\0';
}

/* Calls fn on every action pattern an Allow grants ("*" for a NotAction statement). */
static int for_each_allowed_pattern(const struct polset *ps,
				    int (*fn)(const char *raw, const char *svc, void *arg),
				    void *arg)
{
	char svc[64];
	FOR_EACH_STMT(ps, st) {
		if (st->deny)
			continue;
		if (st->not_action) {
			int rc = fn("*", "", arg);
			if (rc)
				return rc;
			continue;
		}
		for (uint32_t i = 0; i < st->nactions; i++) {
			service_of(st->actions[i].raw, svc, sizeof svc);
			int rc = fn(st->actions[i].raw, svc, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

struct svc_arg {
	const char *const *used;
	size_t nused;
	struct strlist *used_broad, *auditing, *unused;
};

static bool used_has(const struct svc_arg *a, const char *svc)
{
	for (size_t i = 0; i < a->nused; i++)
		if (a->used[i] && strcasecmp(a->used[i], svc) == 0)
			return true;
	return false;
}

static int svc_visit(const char *raw, const char *svc, void *arg)
{
	struct svc_arg *a = arg;
	bool all = svc[0] == '\0';
	if (a->used_broad) {
		const char *colon = strchr(raw, ':');
		bool svc_star = colon && strcmp(colon + 1, "*") == 0;
		if (((all && a->nused) || (svc_star && used_has(a, svc))) && list_add(a->used_broad, raw))
			return DD_ENOMEM;
	}
	if (a->auditing && (all || in_list(audit_services, NELEM(audit_services), svc)) &&
	    list_add(a->auditing, raw))
		return DD_ENOMEM;
	if (a->unused && (all || !used_has(a, svc)) && list_add(a->unused, raw))
		return DD_ENOMEM;
	return 0;
}

int dd_policy_analyze_role_alias_permissive(const struct dd_policy *const *policies,
					    size_t n, const char *const *used_services,
					    size_t nused, struct dd_policy_analysis *out)
{
	if (!out || (n && !policies) || (nused && !used_services))
		return DD_EINVAL;
	memset(out, 0, sizeof *out);
	struct polset ps = { policies, n };
	struct strlist ub = { 0 }, au = { 0 }, dp = { 0 };
	struct svc_arg a = { used_services, nused, &ub, &au, NULL };
	int rc = for_each_allowed_pattern(&ps, svc_visit, &a);
	if (!rc)
		rc = add_reason(out, CODE_USED, "Role allows broad access to used services", &ub);
	if (!rc)
		rc = add_reason(out, CODE_AUDITSVC, "Role allows access to security auditing services", &au);
	if (!rc)
		rc = cognito_auth_codes(&ps, out);
	if (!rc)
		rc = data_plane(&ps, true, &dp);
	if (!rc)
		rc = add_reason(out, CODE_DP, "Role allows broad access to IoT data plane actions", &dp);
	list_free(&ub);
	list_free(&au);
	list_free(&dp);
	return finish(rc, out);
}

int dd_policy_analyze_role_alias_unused(const struct dd_policy *const *policies, size_t n,
					const char *const *used_services, size_t nused,
					struct dd_policy_analysis *out)
{
	if (!out || (n && !policies))
		return DD_EINVAL;
	memset(out, 0, sizeof *out);
	if (!used_services) {
		out->verdict = DD_POLICY_WAITING_FOR_DATA_COLLECTION;
		return 0;
	}
	struct polset ps = { policies, n };
	struct strlist un = { 0 };
	struct svc_arg a = { used_services, nused, NULL, NULL, &un };
	int rc = for_each_allowed_pattern(&ps, svc_visit, &a);
	if (!rc)
		rc = add_reason(out, CODE_UNUSED, "Role allows access to services not used in the past 365 days", &un);
	list_free(&un);
	return finish(rc, out);
}

/* ---------------------------------------------------------------- misconfig ---- */

/* Index of the first token after "arn:...:...:...:...:" + type, or SIZE_MAX. */
static size_t after_type(const struct toks *tk, const char *type)
{
	size_t i = 0, colons = 0;
	while (i < tk->n && colons < 5) {
		if (tk->t[i].kind == T_CH && tk->t[i].ch == ':')
			colons++;
		else if (tk->t[i].kind != T_CH)
			return SIZE_MAX;
		i++;
	}
	if (colons < 5)
		return SIZE_MAX;
	for (size_t k = 0; type[k]; k++, i++)
		if (i >= tk->n || tk->t[i].kind != T_CH || tk->t[i].ch != type[k])
			return SIZE_MAX;
	return i;
}

static bool has_mqtt_wildcard(const struct toks *tk, size_t from)
{
	for (size_t i = from; i < tk->n; i++)
		if (tk->t[i].kind == T_CH && (tk->t[i].ch == '+' || tk->t[i].ch == '#'))
			return true;
	return false;
}

static bool has_star(const struct toks *tk, size_t from)
{
	for (size_t i = from; i < tk->n; i++)
		if (tk->t[i].kind == T_STAR)
			return true;
	return false;
}

/* Is the topic (tokens) still receivable: allowed for iot:Receive by some Allow and not
 * covered by a Deny? Returns 1, 0 or DD_ENOMEM. */
static int receivable(const struct polset *ps, const struct toks *topic)
{
	int allowed = 0;
	FOR_EACH_STMT(ps, st) {
		if (!stmt_has_action(st, "iot:Receive"))
			continue;
		bool covered = false;
		for (uint32_t k = 0; k < st->nresources && !covered; k++) {
			struct toks rt;
			if (expand(&st->resources[k], &rt))
				return DD_ENOMEM;
			int s = subset(topic, &rt);
			free(rt.t);
			if (s < 0)
				return s;
			covered = s == 1;
		}
		bool hits = covered != st->not_resource;
		if (st->deny && hits && !st->not_resource)
			return 0;
		if (!st->deny && hits)
			allowed = 1;
	}
	return allowed;
}

/* Checks one Deny Subscribe filter d against the wildcard Allow filters. */
static int deny_filter_bypassed(const struct polset *ps, const struct toks *d, size_t dtype)
{
	int found = 0;
	FOR_EACH_STMT(ps, st) {
		if (st->deny || st->not_resource || !stmt_has_action(st, "iot:Subscribe"))
			continue;
		for (uint32_t k = 0; k < st->nresources && !found; k++) {
			struct toks at;
			if (expand(&st->resources[k], &at))
				return DD_ENOMEM;
			size_t atype = after_type(&at, "topicfilter/");
			int s = 0;
			if (atype != SIZE_MAX && has_star(&at, atype))
				s = subset(d, &at);
			free(at.t);
			if (s < 0)
				return s;
			found = s;
		}
		if (found)
			break;
	}
	if (!found)
		return 0;
	/* topic/D: the same tokens with "topicfilter/" replaced by "topic/". */
	size_t prefix = dtype - strlen("topicfilter/");
	struct toks topic;
	topic.n = prefix + strlen("topic/") + (d->n - dtype);
	topic.t = calloc(topic.n, sizeof *topic.t);
	if (!topic.t)
		return DD_ENOMEM;
	memcpy(topic.t, d->t, prefix * sizeof *topic.t);
	for (size_t k = 0; k < 6; k++) {
		topic.t[prefix + k].kind = T_CH;
		topic.t[prefix + k].ch = "topic/"[k];
	}
	memcpy(topic.t + prefix + 6, d->t + dtype, (d->n - dtype) * sizeof *topic.t);
	int r = receivable(ps, &topic);
	free(topic.t);
	return r;
}

int dd_policy_analyze_iot_misconfig(const struct dd_policy *policy,
				    struct dd_policy_analysis *out)
{
	if (!policy || !out)
		return DD_EINVAL;
	memset(out, 0, sizeof *out);
	struct polset ps = { &policy, 1 };
	struct strlist wild = { 0 }, bypass = { 0 };
	int rc = 0;
	FOR_EACH_STMT(&ps, st) {
		if (!st->deny)
			continue;
		for (uint32_t k = 0; k < st->nresources && !rc; k++) {
			struct toks t;
			if (expand(&st->resources[k], &t)) {
				rc = DD_ENOMEM;
				break;
			}
			size_t ft = after_type(&t, "topicfilter/");
			size_t tt = after_type(&t, "topic/");
			size_t from = ft != SIZE_MAX ? ft : tt;
			if (from != SIZE_MAX && has_mqtt_wildcard(&t, from)) {
				for (uint32_t a = 0; a < st->nactions && !rc; a++)
					rc = list_add(&wild, st->not_action ? "*" : st->actions[a].raw);
			} else if (ft != SIZE_MAX && !st->not_resource &&
				   stmt_has_action(st, "iot:Subscribe")) {
				/* A Deny already reported for MQTT wildcards is not counted twice. */
				int b = deny_filter_bypassed(&ps, &t, ft);
				if (b < 0)
					rc = b;
				else if (b) {
					rc = list_add(&bypass, "iot:Subscribe");
					if (!rc)
						rc = list_add(&bypass, "iot:Receive");
				}
			}
			free(t.t);
		}
		if (rc)
			break;
	}
	if (!rc)
		rc = add_reason(out, CODE_MQTTWILD, "Policy contains MQTT wildcards (+ or #) in Deny statements, where they only match themselves", &wild);
	if (!rc)
		rc = add_reason(out, CODE_TOPICFILTER, "Policy denies topic filters that a wildcard Allow still lets the device receive", &bypass);
	list_free(&wild);
	list_free(&bypass);
	return finish(rc, out);
}
