/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER until the mitigation engine lands: starts no workers (no task can be queued). */
#include "dd/mitigation.h"

int dd_mitigation_start(struct dd_service *svc)
{
	(void)svc;
	return 0;
}

void dd_mitigation_stop(struct dd_service *svc) { (void)svc; }
void dd_mitigation_wake(struct dd_service *svc) { (void)svc; }
