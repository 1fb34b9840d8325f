/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER: certificate and CA handlers are being written; none is served yet. */
#include "dd/ctx.h"
const struct dd_handler dd_cert_handlers[] = { { NULL, NULL, NULL } };
const struct dd_raw_route dd_cert_raw_routes[] = { { NULL, NULL, NULL } };
