/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web console under /console/: the built front end's static files, sign-in with an
 * access key pair into an in-memory session (cookie + CSRF token, idle timeout), and a
 * JSON bridge /console/api/<service>/<Operation> that calls the API's own handlers
 * in-process (dd_api_call) as the session's account.
 */
#ifndef DD_SERVER_CONSOLE_H
#define DD_SERVER_CONSOLE_H

#include "server/dd_api.h"

/* True when raw_path is /console or below it. */
bool dd_console_route(const char *raw_path);
/* Answers a request under /console (fills resp; never fails). */
void dd_console_handle(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *resp);

#endif
