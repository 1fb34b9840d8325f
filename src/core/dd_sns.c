/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER: the SNS subset is being written; no SNS operation is served yet. */
#include "dd/ctx.h"
const struct dd_handler dd_sns_handlers[] = { { NULL, NULL, NULL } };
const struct dd_public_route dd_sns_public_routes[] = { { NULL, NULL } };
