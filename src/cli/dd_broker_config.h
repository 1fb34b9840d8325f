/* SPDX-License-Identifier: Apache-2.0 */
/* `iotdefender broker-config`: a complete mosquitto.conf for the iotdefender plugin. */
#ifndef DD_CLI_BROKER_CONFIG_H
#define DD_CLI_BROKER_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

struct dd_service;

#ifndef DD_PLUGIN_PATH
#define DD_PLUGIN_PATH "/usr/local/lib/iotdefender/iotdefender_plugin.so"
#endif

/* argv[0] is "broker-config". Returns the process exit code. */
int dd_broker_config_main(int argc, char **argv);

/* Writes DIR/broker/ (server certificate, CA bundle and hash directory, server CA),
 * records the broker endpoint 127.0.0.1:port, and prints the mosquitto.conf to out.
 * Returns 0 or -1 (reported on stderr). */
int dd_broker_config_write(struct dd_service *svc, const char *dir, int port, const char *region, const char *plugin,
			   FILE *out);

/* `iotdefender demo --broker` / `iotdefender broker-demo` (dd_broker_demo.c). */
bool dd_broker_demo_requested(int argc, char **argv);
int dd_broker_demo_main(int argc, char **argv);

#endif
