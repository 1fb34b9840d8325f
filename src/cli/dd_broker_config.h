/* SPDX-License-Identifier: Apache-2.0 */
/* `iotdefender broker-config`: a complete mosquitto.conf for the iotdefender plugin. */
#ifndef DD_CLI_BROKER_CONFIG_H
#define DD_CLI_BROKER_CONFIG_H

/* argv[0] is "broker-config". Returns the process exit code. */
int dd_broker_config_main(int argc, char **argv);

#endif
