/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recording a failure on the request context: the DD_E* code, the AWS error code and the
 * message naming the field (dd_fail), or the ResourceAlreadyExistsException with the
 * existing resource's id and ARN (dd_fail_exists). dd_api.c turns them into the response.
 */
#include "dd/ctx.h"

#include <stdarg.h>
#include <stdio.h>

int dd_fail(struct dd_ctx *c, int err, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err_msg, sizeof c->err_msg, fmt, ap);
	va_end(ap);
	c->err = err;
	c->err_code = code;
	return err;
}

int dd_fail_exists(struct dd_ctx *c, const char *resource_id, const char *resource_arn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err_msg, sizeof c->err_msg, fmt, ap);
	va_end(ap);
	snprintf(c->err_resource_id, sizeof c->err_resource_id, "%s", resource_id ? resource_id : "");
	snprintf(c->err_resource_arn, sizeof c->err_resource_arn, "%s", resource_arn ? resource_arn : "");
	c->err = DD_EEXIST;
	c->err_code = "ResourceAlreadyExistsException";
	return DD_EEXIST;
}
