/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one table that maps AWS error codes to their HTTP status, as the botocore models
 * declare them, and internal DD_E* codes to the default AWS code of each protocol.
 */
#include <string.h>

#include "server/dd_awserr.h"

static const struct {
	const char *code;
	int http;
} aws_errors[] = {
	/* iot (restJson1) */
	{ "CertificateConflictException", 409 },
	{ "CertificateStateException", 406 },
	{ "CertificateValidationException", 400 },
	{ "ConflictException", 409 },
	{ "ConflictingResourceUpdateException", 409 },
	{ "DeleteConflictException", 409 },
	{ "InternalException", 500 },
	{ "InternalFailureException", 500 },
	{ "InvalidQueryException", 400 },
	{ "InvalidRequestException", 400 },
	{ "InvalidStateTransitionException", 409 },
	{ "LimitExceededException", 410 },
	{ "MalformedPolicyException", 400 },
	{ "NotConfiguredException", 404 },
	{ "RegistrationCodeValidationException", 400 },
	{ "ResourceAlreadyExistsException", 409 },
	{ "ResourceNotFoundException", 404 },
	{ "ResourceRegistrationFailureException", 400 },
	{ "ServiceUnavailableException", 503 },
	{ "SqlParseException", 400 },
	{ "TaskAlreadyExistsException", 400 },
	{ "ThrottlingException", 400 },
	{ "UnauthorizedException", 401 },
	{ "VersionConflictException", 409 },
	{ "VersionsLimitExceededException", 409 },
	{ "RequestEntityTooLargeException", 413 },
	/* authentication (all services) */
	{ "MissingAuthenticationTokenException", 403 },
	{ "UnrecognizedClientException", 403 },
	{ "InvalidSignatureException", 403 },
	{ "IncompleteSignatureException", 403 },
	{ "UnknownOperationException", 404 },
	/* a caller's policies refused the call (iot, cognito-identity's JSON protocol: 400) */
	{ "AccessDeniedException", 403 },
	/* iam, sns (awsQuery) */
	{ "AccessDenied", 403 },
	{ "ValidationError", 400 },
	{ "NoSuchEntity", 404 },
	{ "EntityAlreadyExists", 409 },
	{ "DeleteConflict", 409 },
	{ "MalformedPolicyDocument", 400 },
	{ "LimitExceeded", 409 },
	{ "InvalidInput", 400 },
	{ "ServiceFailure", 500 },
	{ "InvalidParameter", 400 },
	{ "NotFound", 404 },
	{ "AuthorizationError", 403 },
	{ "InternalError", 500 },
	{ "InvalidAction", 400 },
	{ "MissingAction", 400 },
	/* cognito-identity (awsJson1_1) */
	{ "InvalidParameterException", 400 },
	{ "ResourceConflictException", 400 },
	{ "NotAuthorizedException", 400 },
	{ "TooManyRequestsException", 400 },
	{ "InternalErrorException", 500 },
};

int dd_awserr_http_status(const char *code)
{
	for (size_t i = 0; i < sizeof aws_errors / sizeof aws_errors[0]; i++)
		if (strcmp(aws_errors[i].code, code) == 0)
			return aws_errors[i].http;
	return 400;
}

int dd_awserr_http_status_for(const char *code, enum dd_protocol proto)
{
	if (proto == DD_PROTO_JSON) {
		int http = dd_awserr_http_status(code);
		return http >= 500 ? http : 400;
	}
	return dd_awserr_http_status(code);
}

const char *dd_awserr_default_code(int err, enum dd_protocol proto)
{
	switch (proto) {
	case DD_PROTO_QUERY:
		switch (err) {
		case DD_ENOTFOUND: return "NoSuchEntity";
		case DD_EEXIST: return "EntityAlreadyExists";
		case DD_ELIMIT: return "LimitExceeded";
		case DD_ECONFLICT: return "DeleteConflict";
		case DD_EINVAL: return "ValidationError";
		default: return "ServiceFailure";
		}
	case DD_PROTO_JSON:
		switch (err) {
		case DD_ENOTFOUND: return "ResourceNotFoundException";
		case DD_EEXIST: return "ResourceConflictException";
		case DD_ELIMIT: return "LimitExceededException";
		case DD_EINVAL: return "InvalidParameterException";
		default: return "InternalErrorException";
		}
	case DD_PROTO_REST_JSON:
	default:
		switch (err) {
		case DD_ENOTFOUND: return "ResourceNotFoundException";
		case DD_EEXIST: return "ResourceAlreadyExistsException";
		case DD_ELIMIT: return "LimitExceededException";
		case DD_ECONFLICT: return "InvalidRequestException";
		case DD_EINVAL: return "InvalidRequestException";
		case DD_EDENIED: return "UnauthorizedException";
		default: return "InternalFailureException";
		}
	}
}
