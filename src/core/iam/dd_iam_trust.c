/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Role trust policies (AssumeRolePolicyDocument): the syntax check IAM applies when a
 * role is created or its trust policy replaced (Version, Statement with Effect, exactly
 * one of Principal/NotPrincipal and of Action/NotAction, no Resource), and the question
 * the audit and mitigation engines ask of a role: may this service principal assume it.
 * Pure functions over the document text.
 */
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "dd/iam.h"

static bool is_string_or_strings(json_t *v)
{
	if (json_is_string(v))
		return true;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
	return true;
}

static int check_principal(json_t *p, char *err, size_t errlen)
{
	if (json_is_string(p)) {
		if (strcmp(json_string_value(p), "*") != 0) {
			snprintf(err, errlen, "Invalid principal in policy: \"%s\"", json_string_value(p));
			return DD_EINVAL;
		}
		return 0;
	}
	if (!json_is_object(p) || json_object_size(p) == 0) {
		snprintf(err, errlen, "Invalid principal in policy: Principal must be \"*\" or an object");
		return DD_EINVAL;
	}
	const char *k;
	json_t *v;
	json_object_foreach(p, k, v) {
		if (strcmp(k, "AWS") && strcmp(k, "Service") && strcmp(k, "Federated") && strcmp(k, "CanonicalUser")) {
			snprintf(err, errlen, "Invalid principal in policy: unknown principal type \"%s\"", k);
			return DD_EINVAL;
		}
		if (!is_string_or_strings(v)) {
			snprintf(err, errlen, "Invalid principal in policy: %s must be a string or a list of strings", k);
			return DD_EINVAL;
		}
	}
	return 0;
}

static int check_action(json_t *a, const char *member, char *err, size_t errlen)
{
	if (!is_string_or_strings(a)) {
		snprintf(err, errlen, "%s must be a string or a non-empty list of strings", member);
		return DD_EINVAL;
	}
	json_t *one = json_is_string(a) ? a : NULL;
	size_t i = 0, n = json_is_array(a) ? json_array_size(a) : 1;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(one ? one : json_array_get(a, i));
		if (strcmp(s, "*") != 0 && !strchr(s, ':')) {
			snprintf(err, errlen, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (\"%s\")", s);
			return DD_EINVAL;
		}
	}
	return 0;
}

int dd_iam_trust_validate(const char *text, char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = json_loads(text ? text : "", JSON_REJECT_DUPLICATES, &je);
	int rc = DD_EINVAL;
	if (!doc || !json_is_object(doc)) {
		snprintf(err, errlen, "This policy contains invalid Json");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v) {
		if (strcmp(k, "Version") && strcmp(k, "Statement") && strcmp(k, "Id")) {
			snprintf(err, errlen, "Syntax errors in policy: unknown field %s", k);
			goto out;
		}
	}
	json_t *ver = json_object_get(doc, "Version");
	if (ver && (!json_is_string(ver) || (strcmp(json_string_value(ver), "2012-10-17") &&
					     strcmp(json_string_value(ver), "2008-10-17")))) {
		snprintf(err, errlen, "The policy must contain a valid version string");
		goto out;
	}
	json_t *st = json_object_get(doc, "Statement");
	if (!st || (!json_is_object(st) && (!json_is_array(st) || json_array_size(st) == 0))) {
		snprintf(err, errlen, "Syntax errors in policy: Statement is missing or empty");
		goto out;
	}
	size_t n = json_is_array(st) ? json_array_size(st) : 1;
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_is_array(st) ? json_array_get(st, i) : st;
		if (!json_is_object(s)) {
			snprintf(err, errlen, "Syntax errors in policy: statement %zu is not an object", i + 1);
			goto out;
		}
		json_object_foreach(s, k, v) {
			if (!strcmp(k, "Resource") || !strcmp(k, "NotResource")) {
				snprintf(err, errlen, "Has prohibited field %s", k);
				goto out;
			}
			if (strcmp(k, "Sid") && strcmp(k, "Effect") && strcmp(k, "Principal") && strcmp(k, "NotPrincipal") &&
			    strcmp(k, "Action") && strcmp(k, "NotAction") && strcmp(k, "Condition")) {
				snprintf(err, errlen, "Syntax errors in policy: unknown field %s in statement %zu", k, i + 1);
				goto out;
			}
		}
		const char *eff = json_string_value(json_object_get(s, "Effect"));
		if (!eff || (strcmp(eff, "Allow") && strcmp(eff, "Deny"))) {
			snprintf(err, errlen, "Missing or invalid Effect in statement %zu (must be Allow or Deny)", i + 1);
			goto out;
		}
		json_t *p = json_object_get(s, "Principal"), *np = json_object_get(s, "NotPrincipal");
		if (!p == !np) {
			snprintf(err, errlen, "AssumeRolepolicy statement %zu must contain exactly one of Principal or NotPrincipal", i + 1);
			goto out;
		}
		if (check_principal(p ? p : np, err, errlen))
			goto out;
		json_t *a = json_object_get(s, "Action"), *na = json_object_get(s, "NotAction");
		if (!a == !na) {
			snprintf(err, errlen, "Statement %zu must contain exactly one of Action or NotAction", i + 1);
			goto out;
		}
		if (check_action(a ? a : na, a ? "Action" : "NotAction", err, errlen))
			goto out;
		json_t *cond = json_object_get(s, "Condition");
		if (cond && !json_is_object(cond)) {
			snprintf(err, errlen, "Syntax errors in policy: Condition of statement %zu must be an object", i + 1);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

static bool strings_match(json_t *v, const char *want, bool pattern)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_is_array(v) ? json_array_get(v, i) : v);
		if (!s)
			continue;
		if (pattern ? fnmatch(s, want, FNM_CASEFOLD) == 0 : strcmp(s, want) == 0)
			return true;
	}
	return false;
}

bool dd_iam_trust_allows_service(const char *trust_policy, const char *service)
{
	json_t *doc = json_loads(trust_policy ? trust_policy : "", 0, NULL);
	json_t *st = json_object_get(doc, "Statement");
	size_t n = json_is_array(st) ? json_array_size(st) : (json_is_object(st) ? 1 : 0);
	bool allow = false, deny = false;
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_is_array(st) ? json_array_get(st, i) : st;
		json_t *a = json_object_get(s, "Action");
		json_t *p = json_object_get(s, "Principal");
		if (!a || !p || !strings_match(a, "sts:AssumeRole", true))
			continue;
		bool who = (json_is_string(p) && strcmp(json_string_value(p), "*") == 0) ||
			   (json_object_get(p, "Service") && strings_match(json_object_get(p, "Service"), service, false));
		if (!who)
			continue;
		const char *eff = json_string_value(json_object_get(s, "Effect"));
		if (eff && strcmp(eff, "Deny") == 0)
			deny = true;
		else if (eff && strcmp(eff, "Allow") == 0)
			allow = true;
	}
	json_decref(doc);
	return allow && !deny;
}
