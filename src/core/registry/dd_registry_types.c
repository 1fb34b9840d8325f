/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thing type lifecycle and billing group membership rules (dd_registry_types.h) over the
 * store's typed functions.
 */
#include "core/registry/dd_registry_types.h"

#include <stdio.h>
#include <string.h>

#include "store/dd_store_things.h"
#include "store/dd_store_types.h"

int dd_registry_types_usable(struct dd_db *db, const char *account_region, const char *type, char *msg, size_t msglen)
{
	struct dd_store_types_row t;
	int rc = dd_store_types_get(db, account_region, type, &t);
	if (rc == DD_ENOTFOUND) {
		snprintf(msg, msglen, "Thing type %s does not exist.", type);
		return rc;
	}
	if (rc)
		return DD_EIO;
	bool dep = t.deprecated;
	dd_store_types_row_clear(&t);
	if (dep) {
		snprintf(msg, msglen, "Thing type %s is deprecated: no new things can be associated with it.", type);
		return DD_EINVAL;
	}
	return 0;
}

int dd_registry_types_delete(struct dd_db *db, const char *account_region, const char *name, const char *arn,
			     int64_t now_ms, char *msg, size_t msglen)
{
	struct dd_store_types_row t;
	int rc = dd_store_types_get(db, account_region, name, &t);
	if (rc == DD_ENOTFOUND) {
		snprintf(msg, msglen, "Thing type %s does not exist.", name);
		return rc;
	}
	if (rc)
		return DD_EIO;
	bool dep = t.deprecated;
	int64_t since = t.deprecated_ms;
	dd_store_types_row_clear(&t);
	if (!dep) {
		snprintf(msg, msglen, "Thing type %s must be deprecated, and 5 minutes must pass, before it can be deleted.", name);
		return DD_EINVAL;
	}
	if (now_ms - since < DD_REGISTRY_TYPES_DELETE_DELAY_MS) {
		snprintf(msg, msglen,
			 "Thing type %s was deprecated %lld seconds ago; it can be deleted 5 minutes after its deprecation.", name,
			 (long long)((now_ms - since) / 1000));
		return DD_EINVAL;
	}
	int64_t things;
	if (dd_store_types_thing_count(db, account_region, name, &things))
		return DD_EIO;
	if (things > 0) {
		snprintf(msg, msglen, "Thing type %s cannot be deleted: %lld thing(s) are still associated with it.", name,
			 (long long)things);
		return DD_EINVAL;
	}
	return dd_store_types_delete(db, account_region, name, arn) ? DD_EIO : 0;
}

/* The billing group must exist, then the thing; cur gets the thing's billing group. */
static int billing_pair(struct dd_db *db, const char *account_region, const char *group, const char *thing,
			struct dd_store_things_row *t, char *msg, size_t msglen)
{
	struct dd_store_types_billing_row b;
	int rc = dd_store_types_billing_get(db, account_region, group, &b);
	dd_store_types_billing_row_clear(&b);
	if (rc == DD_ENOTFOUND) {
		snprintf(msg, msglen, "Billing group %s does not exist.", group);
		return rc;
	}
	if (rc)
		return DD_EIO;
	rc = dd_store_things_get(db, account_region, thing, t);
	if (rc == DD_ENOTFOUND) {
		snprintf(msg, msglen, "Thing %s does not exist.", thing);
		return rc;
	}
	return rc ? DD_EIO : 0;
}

int dd_registry_types_billing_add(struct dd_db *db, const char *account_region, const char *group, const char *thing,
				  bool *changed, char *msg, size_t msglen)
{
	struct dd_store_things_row t;
	*changed = false;
	int rc = billing_pair(db, account_region, group, thing, &t, msg, msglen);
	if (rc)
		return rc;
	if (strcmp(t.billing_group, group) == 0)
		rc = 0;
	else if (t.billing_group[0]) {
		snprintf(msg, msglen,
			 "Thing %s is already in billing group %s: a thing can be in only one billing group. Remove it first.",
			 thing, t.billing_group);
		rc = DD_EINVAL;
	} else {
		rc = dd_store_types_billing_set(db, account_region, thing, group) ? DD_EIO : 0;
		*changed = rc == 0;
	}
	dd_store_things_row_clear(&t);
	return rc;
}

int dd_registry_types_billing_remove(struct dd_db *db, const char *account_region, const char *group,
				     const char *thing, bool *changed, char *msg, size_t msglen)
{
	struct dd_store_things_row t;
	*changed = false;
	int rc = billing_pair(db, account_region, group, thing, &t, msg, msglen);
	if (rc)
		return rc;
	/* not a member: nothing to do, as AWS */
	if (strcmp(t.billing_group, group) == 0) {
		rc = dd_store_types_billing_set(db, account_region, thing, NULL) ? DD_EIO : 0;
		*changed = rc == 0;
	}
	dd_store_things_row_clear(&t);
	return rc;
}
