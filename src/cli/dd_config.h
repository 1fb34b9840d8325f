/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The settings of `serve`: one table names every option once, with its environment
 * variable (IOTDEFENDER_ + the name in upper case, '-' as '_'), its default, its bounds
 * and its help line. A setting comes from, by precedence, a command-line flag, then the
 * environment, then the config file (--config FILE or IOTDEFENDER_CONFIG), then the
 * default. The config file is `key = value` lines (keys are the long option names without
 * "--"; '#' starts a comment line; at most 4096 bytes a line and 1 MiB in all); an unknown
 * key or a bad value is an error naming the file and line. Settings read by the core from
 * the environment (SNS delivery, fetch pool, retention, ...) are exported to it before the
 * service starts, so a flag or the config file sets them too.
 */
#ifndef DD_CLI_CONFIG_H
#define DD_CLI_CONFIG_H

#include <stdio.h>

#include "dd/common.h"

enum dd_cfg_src { DD_CFG_DEFAULT, DD_CFG_FILE, DD_CFG_ENV, DD_CFG_FLAG };

#define DD_CFG_MAX 48

struct dd_settings {
	char *val[DD_CFG_MAX];          /* owned; NULL: unset (no default) */
	enum dd_cfg_src src[DD_CFG_MAX];
	char config_path[4096];         /* the config file read, or "" */
};

/* Fills s from defaults, the config file, the environment and argv (getopt_long from
 * argv[1]); *help / *version are set when --help / --version were given. Returns 0, or
 * DD_EINVAL with err saying which flag, variable or file line is wrong. */
int dd_settings_load(struct dd_settings *s, int argc, char **argv, bool *help, char *err,
		     size_t errlen) DD_MUST_CHECK;
/* Only the defaults and the given config file (for `config check`). */
int dd_settings_load_file_only(struct dd_settings *s, const char *path, char *err, size_t errlen) DD_MUST_CHECK;
void dd_settings_free(struct dd_settings *s);
/* The value of the named setting (NULL when unset). */
const char *dd_settings_get(const struct dd_settings *s, const char *name);
/* Integer and boolean values (already validated by the load). */
int64_t dd_settings_int(const struct dd_settings *s, const char *name);
bool dd_settings_bool(const struct dd_settings *s, const char *name);
/* Sets the environment variables of the core-read settings that a flag or the file set. */
void dd_settings_export_env(const struct dd_settings *s);
/* Prints `key = value  # source` for every setting (secrets masked). */
void dd_settings_print(const struct dd_settings *s, FILE *f);
/* The option and variable list of `serve --help`. */
void dd_settings_usage(FILE *f);

#endif
