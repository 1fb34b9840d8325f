/* SPDX-License-Identifier: Apache-2.0 */
/* `iotdefender demo`: the seed lab, end to end, on a fresh data directory. */
#ifndef DD_CLI_DEMO_H
#define DD_CLI_DEMO_H

/* argv[0] is "demo". Returns the process exit code. */
int dd_demo_main(int argc, char **argv);

#endif
