/* SPDX-License-Identifier: Apache-2.0 */
/* config.h - tcworker settings from defaults, a --config INI file and flags. */
#ifndef TCW_WORKER_CONFIG_H
#define TCW_WORKER_CONFIG_H

#include <stddef.h>

/* Default endpoint, as in the reference worker. */
#define CONFIG_DEFAULT_BIND "tcp://*:7777"
/* Default workloads file, looked up in the working directory. */
#define CONFIG_DEFAULT_WORKLOAD "workloads.json"
/* Default RSA modulus size (what Avalon registers: RSA-OAEP-3072). */
#define CONFIG_DEFAULT_RSA_BITS 3072u
/* Largest accepted --max-message-bytes. */
#define CONFIG_MAX_MESSAGE_LIMIT (1024ul * 1024ul * 1024ul)

/* The settings tcworker runs with; strings are owned (config_fini). */
struct worker_config {
	char *bind;         /* ZMQ endpoint to bind */
	char *workload;     /* path of workloads.json */
	unsigned rsa_bits;  /* 2048, 3072 or 4096 */
	int log_level;      /* TCW_LOG_* */
	size_t max_message; /* largest request frame, bytes */
	char *config_file;  /* --config FILE or NULL */
};

/* Fills cfg from defaults, then the --config file, then the flags (flags
 * win). Prints --help/--version output and sets *done when the program
 * should just exit 0. On a user error prints a message naming the flag,
 * file, line or key to stderr and returns TCW_ERR_INVALID_PARAM (exit 2);
 * TCW_ERR_NOMEM on allocation failure. cfg is released by config_fini in
 * every case. */
int config_load(int argc, char **argv, struct worker_config *cfg, int *done);
/* Frees the strings of cfg and zeroes it. */
void config_fini(struct worker_config *cfg);

#endif /* TCW_WORKER_CONFIG_H */
