/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER: the mitigation actions API is being written; no operation is served yet. */
#include "dd/ctx.h"
const struct dd_handler dd_mitigation_handlers[] = { { NULL, NULL, NULL } };
