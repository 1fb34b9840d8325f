/* SPDX-License-Identifier: Apache-2.0 */
/* AWS error codes: HTTP status per code, default code per internal error and protocol. */
#ifndef DD_SERVER_AWSERR_H
#define DD_SERVER_AWSERR_H

#include "dd/common.h"

enum dd_protocol { DD_PROTO_REST_JSON, DD_PROTO_QUERY, DD_PROTO_JSON };

/* HTTP status AWS sends for the error code (400 for an unknown code). */
int dd_awserr_http_status(const char *code);
/* The status for code as answered by a service of protocol proto: awsJson services
 * (Cognito) declare no status for their errors, so every client error is 400 and a
 * server fault (InternalErrorException) 500; the others use the table. */
int dd_awserr_http_status_for(const char *code, enum dd_protocol proto);
/* The AWS error code a protocol uses for an internal DD_E* error. */
const char *dd_awserr_default_code(int err, enum dd_protocol proto);

#endif
