/* SPDX-License-Identifier: Apache-2.0 */
/* config.h - tcworker settings from defaults, a --config INI file and flags. */
#ifndef TCW_WORKER_CONFIG_H
#define TCW_WORKER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Default endpoint, as in the reference worker. */
#define CONFIG_DEFAULT_BIND "tcp://*:7777"
/* Default workloads file, looked up in the working directory. */
#define CONFIG_DEFAULT_WORKLOAD "workloads.json"
/* Default RSA modulus size (what Avalon registers: RSA-OAEP-3072). */
#define CONFIG_DEFAULT_RSA_BITS 3072u
/* Default root of Gramine's attestation pseudo-files. */
#define CONFIG_DEFAULT_ATTESTATION_DIR "/dev/attestation"
/* Default per-work-order workload budget, milliseconds. */
#define CONFIG_DEFAULT_WORKLOAD_TIMEOUT_MS 10000u
/* Largest accepted --workload-timeout-ms (one hour). */
#define CONFIG_MAX_WORKLOAD_TIMEOUT_MS 3600000u
/* Largest accepted --max-message-bytes. */
#define CONFIG_MAX_MESSAGE_LIMIT (1024ul * 1024ul * 1024ul)
/* Largest accepted --threads (the default is the number of online CPUs). */
#define CONFIG_MAX_THREADS 256u
/* Default and largest --queue: requests waiting for a processing thread. */
#define CONFIG_DEFAULT_QUEUE 64u
#define CONFIG_MAX_QUEUE 65536u

/* The settings tcworker runs with; strings are owned (config_fini). */
struct worker_config {
	char *bind;         /* ZMQ endpoint to bind */
	char *workload;     /* path of workloads.json */
	unsigned rsa_bits;  /* 2048, 3072 or 4096 */
	int log_level;      /* TCW_LOG_* */
	int log_format;     /* --log-format: LOG_FORMAT_TEXT or LOG_FORMAT_JSON */
	size_t max_message; /* largest request frame, bytes */
	char *config_file;  /* --config FILE or NULL */
	size_t replay_entries;        /* --replay-cache: ids remembered, 0 = off */
	unsigned long replay_ttl;     /* --replay-ttl: seconds an id is remembered */
	char *replay_file;            /* --replay-file PATH or NULL */
	uint64_t response_store_bytes; /* --response-store-bytes, 0 = no store */
	size_t key_cache;              /* --key-cache: unwraps remembered, 0 = off */
	unsigned key_cache_ttl;        /* --key-cache-ttl: seconds one is remembered */
	unsigned workload_timeout_ms; /* --workload-timeout-ms, 0 = no budget */
	char *attestation_dir;       /* Gramine /dev/attestation root */
	int attestation_bind_enc;    /* also bind the encryption key (layout 2) */
	char *keys_file;             /* --keys-file PATH or NULL (keys per start) */
	int regenerate_keys;         /* --regenerate-keys: replace keys_file */
	char **python_paths;         /* --python-path DIRs in order (repeatable) */
	size_t python_path_count;
	unsigned threads; /* --threads: processing threads (default: online CPUs) */
	unsigned queue;   /* --queue: waiting requests before "Worker busy" */
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
