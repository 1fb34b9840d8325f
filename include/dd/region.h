/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The account_region key of regional rows (implemented in src/base/dd_account_region.c),
 * shared by every layer: the store keys rows by it, the engines and the broker plugin
 * build it, the API layer takes it from the request.
 */
#ifndef DD_REGION_H
#define DD_REGION_H

#include <stddef.h>

#include "dd/common.h"

/* IoT resources, the audit configuration, audits, findings, suppressions, scheduled
 * audits and mitigation actions are regional, as in AWS: their rows are keyed by the
 * account and region together, "<account>/<region>" (e.g. "111111111111/us-east-1"), in
 * an `account_region` column that leads every primary key and index. The account is always
 * 12 digits, so the key splits unambiguously. IAM is global, as in AWS: its rows are keyed
 * by the account alone. SNS topics and Cognito pools carry their region in their own
 * column (and in their ARN or id). */
#define DD_ACCOUNT_REGION_SIZE 80
/* The region data stored before regions existed was moved to, and the admin commands'
 * default. */
#define DD_DEFAULT_REGION "us-east-1"

/* Formats the account_region key of account (12 digits) and region (a region name: a
 * lowercase letter, then lowercase letters, digits and hyphens, at most 63 characters)
 * into out. Returns 0, or DD_EINVAL (out untouched) when either is not valid. */
int dd_account_region_make(char out[DD_ACCOUNT_REGION_SIZE], const char *account, const char *region) DD_MUST_CHECK;
/* Splits an account_region key into account (13 bytes with the NUL) and region (size
 * regionlen). Returns 0 or DD_EINVAL for a malformed key (outputs untouched). */
int dd_account_region_split(const char *key, char account[13], char *region, size_t regionlen) DD_MUST_CHECK;

#endif
