/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/1.1 listener (libmicrohttpd, keep-alive, a small thread pool) and the limits
 * that keep a client from holding the server's memory or connections.
 */
#ifndef DD_SERVER_HTTP_H
#define DD_SERVER_HTTP_H

#include "server/dd_api.h"

struct dd_http;

/* Every limit of the listener; docs/SECURITY.md lists the defaults. */
struct dd_http_limits {
	unsigned idle_timeout_s;  /* a connection that sends nothing for this long is closed */
	unsigned header_timeout_s;/* a request's headers must be complete this long after the
				   * connection opened or the previous response */
	unsigned body_timeout_s;  /* a request body must be complete this long after its headers */
	unsigned max_connections; /* open connections, all clients together */
	unsigned max_per_ip;      /* open connections from one address */
	size_t conn_memory;       /* per-connection memory for the request line and headers */
	size_t body_budget;       /* request bodies in flight, all connections together */
};

/* Fills l with the defaults. */
void dd_http_limits_default(struct dd_http_limits *l);

/* Starts listening on bind_addr:port (IPv4 or IPv6 literal) with threads workers and the
 * given limits (NULL: the defaults). The port is bound without SO_REUSEPORT, so a port
 * another process listens on is refused: DD_EEXIST, with err naming the port. Other
 * failures return DD_EIO or DD_EINVAL with err saying why. */
int dd_http_start(struct dd_api *api, const char *bind_addr, uint16_t port, unsigned threads,
		  const struct dd_http_limits *limits, struct dd_http **out, char *err,
		  size_t errlen) DD_MUST_CHECK;
/* The port actually bound (useful when port 0 was asked). */
uint16_t dd_http_port(const struct dd_http *h);
/* Stops accepting, lets in-flight requests finish, and frees the listener. */
void dd_http_stop(struct dd_http *h);

#endif
