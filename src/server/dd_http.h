/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP/1.1 listener (libmicrohttpd, keep-alive, a small thread pool). */
#ifndef DD_SERVER_HTTP_H
#define DD_SERVER_HTTP_H

#include "server/dd_api.h"

struct dd_http;

/* Starts listening on bind_addr:port (IPv4 or IPv6 literal) with threads workers. */
int dd_http_start(struct dd_api *api, const char *bind_addr, uint16_t port, unsigned threads,
		  struct dd_http **out) DD_MUST_CHECK;
/* The port actually bound (useful when port 0 was asked). */
uint16_t dd_http_port(const struct dd_http *h);
/* Stops accepting, lets in-flight requests finish, and frees the listener. */
void dd_http_stop(struct dd_http *h);

#endif
