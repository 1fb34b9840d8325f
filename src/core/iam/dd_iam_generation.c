/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IAM generation counter: bumped after every IAM write (users, groups, keys, roles,
 * policies), so a cache of users' compiled policies (src/server/dd_authz.c) is valid
 * while the counter it was built at is current.
 */
#include <stdatomic.h>

#include "dd/iam.h"

static _Atomic uint64_t generation = 1;

uint64_t dd_iam_generation(void) { return atomic_load(&generation); }
void dd_iam_generation_bump(void) { atomic_fetch_add(&generation, 1); }
