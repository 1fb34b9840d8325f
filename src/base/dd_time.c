/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wall clock in epoch milliseconds, as every stored time and API timestamp uses it.
 */
#include "dd/common.h"

#include <time.h>

int64_t dd_time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
