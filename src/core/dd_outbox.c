/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER until the SNS outbox lands: starts no workers (nothing is queued yet). */
#include "dd/outbox.h"

int dd_outbox_start(struct dd_service *svc)
{
	svc->outbox = NULL;
	return 0;
}

void dd_outbox_stop(struct dd_service *svc) { svc->outbox = NULL; }
