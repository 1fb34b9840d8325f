/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request context's account_region key (dd/ctx.h). The key itself is built and split
 * in src/base/dd_account_region.c, which the layers below use too. Error recording is in
 * dd_fail.c, paging tokens in dd_page_token.c, AWS JSON timestamps in dd_json.c.
 */
#include "dd/ctx.h"

int dd_ctx_set_account_region(struct dd_ctx *c)
{
	return dd_account_region_make(c->account_region, c->account, c->region);
}
