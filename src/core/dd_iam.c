/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER: the IAM subset is being written; no IAM operation is served yet. */
#include "dd/ctx.h"
const struct dd_handler dd_iam_handlers[] = { { NULL, NULL, NULL } };
