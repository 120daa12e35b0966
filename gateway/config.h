/* SPDX-License-Identifier: Apache-2.0 */
/* config.h - tcgateway settings from defaults, a --config INI file and flags. */
#ifndef TCW_GATEWAY_CONFIG_H
#define TCW_GATEWAY_CONFIG_H

#include <stddef.h>

/* Most --worker entries. */
#define GW_MAX_WORKERS 64

/* One --worker NAME=URL. */
struct gw_worker_conf {
	char *name;
	char *url;
};

/* The settings tcgateway runs with; strings owned (gw_config_fini). */
struct gw_config {
	char *listen;          /* ADDR:PORT */
	char *admin_socket;    /* unix socket path or NULL */
	char *tls_cert, *tls_key;
	int insecure_http;
	struct gw_worker_conf workers[GW_MAX_WORKERS];
	size_t worker_count;
	char *accept_new_keys[GW_MAX_WORKERS];
	size_t accept_count;
	char *expect_mrenclave, *expect_mrsigner;
	char *db;              /* sqlite:PATH or postgresql://... */
	char *node_name;       /* lease owner name */
	char *keys_file;
	int regenerate_keys;
	char *organization_id;
	char *config_file;
	int log_level;
	int log_format;        /* LOG_FORMAT_TEXT or LOG_FORMAT_JSON */
	unsigned long result_wait_ms;
	unsigned long order_timeout_ms;
	unsigned long max_in_flight;
	unsigned long recheck_ms;
	unsigned long lease_ms;
	unsigned long dispatch_timeout_ms;
	unsigned long signup_timeout_ms;
	unsigned long max_body_bytes;
	unsigned long max_header_bytes;
	unsigned long max_connections;
	unsigned long idle_timeout_s;
	unsigned long drain_ms;
};

/* Fills cfg from defaults, the --config file and the flags (flags win).
 * Prints --help/--version and sets *done when the program should exit 0.
 * On a user error prints a message naming the flag, file, line or key and
 * returns TCW_ERR_INVALID_PARAM (exit 2). cfg is released by
 * gw_config_fini in every case. */
int gw_config_load(int argc, char **argv, struct gw_config *cfg, int *done);
/* Frees the strings of cfg and zeroes it. */
void gw_config_fini(struct gw_config *cfg);

#endif /* TCW_GATEWAY_CONFIG_H */
