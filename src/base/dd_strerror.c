/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sentence of each DD_E* error code (dd_strerror), for logs and messages.
 */
#include "dd/common.h"

const char *dd_strerror(int err)
{
	switch (err) {
	case DD_OK: return "success";
	case DD_EINVAL: return "invalid input";
	case DD_ENOMEM: return "out of memory";
	case DD_ENOTFOUND: return "not found";
	case DD_EEXIST: return "already exists";
	case DD_ELIMIT: return "limit exceeded";
	case DD_ECONFLICT: return "conflicting state";
	case DD_EIO: return "input/output error";
	case DD_EDENIED: return "access denied";
	case DD_ECRYPTO: return "cryptographic failure";
	case DD_EUNSUPPORTED: return "unsupported";
	default: return "unknown error";
	}
}
