/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Values in the form AWS's JSON protocols give them: a timestamp is epoch seconds with a
 * fraction.
 */
#include "dd/ctx.h"

json_t *dd_json_time(int64_t ms) { return json_real((double)ms / 1000.0); }
