/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER: the Cognito identity subset is being written; no operation is served yet. */
#include "dd/ctx.h"
const struct dd_handler dd_cognito_handlers[] = { { NULL, NULL, NULL } };
