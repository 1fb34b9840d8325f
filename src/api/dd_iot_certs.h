/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certificate operations of the AWS IoT API (src/api/dd_iot_certs.c): the handler
 * table and our CRL extension routes, registered in src/server/dd_api.c, and the CRL
 * status report that POST /crl-status and `iotdefender admin crl-status` print.
 */
#ifndef DD_API_IOT_CERTS_H
#define DD_API_IOT_CERTS_H

#include <jansson.h>

#include "dd/ctx.h"

extern const struct dd_handler dd_iot_certs_handlers[];
extern const struct dd_raw_route dd_iot_certs_raw_routes[];

/* The stored CRLs, the fetch state of every URL, and the revoked device and CA
 * certificates of account_region (only CA ca_id when not NULL) as a new JSON object:
 * {"crls": [...], "fetches": [...], "revokedCertificates": [...],
 *  "revokedCACertificates": [...], "intermediateCARevoked": [...]}. Returns 0 or DD_E*. */
int dd_iot_certs_crl_status(struct dd_db *db, const char *account_region, const char *ca_id, int64_t now_ms,
			    json_t **out) DD_MUST_CHECK;

#endif
