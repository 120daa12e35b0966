/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - tcworker: configuration, keys, workloads, then the request loop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation.h"
#include "config.h"
#include "keystore.h"
#include "gramine.h"
#include "log.h"
#include "pyhost.h"
#include "replay.h"
#include "registry.h"
#include "server.h"

/* Exit status for user errors (bad flag, file or workloads.json). */
#define EXIT_USAGE 2

static volatile sig_atomic_t g_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* SIGTERM/SIGINT set g_stop (no SA_RESTART, so blocking calls return
 * EINTR); SIGPIPE is ignored. */
static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return TCW_ERR_INTERNAL;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return TCW_ERR_INTERNAL;
	return 0;
}

/* tcw_processor.seen: names the work order in this thread's log records
 * (pool.c forgets it after the reply), then asks the replay cache, if any. */
static int seen_hook(void *ctx, const char *work_order_id, size_t len)
{
	log_set_work_order(work_order_id, len);
	return ctx != NULL ? replay_service_seen(ctx, work_order_id, len) : TCW_OK;
}

/* tcw_processor.seen_request: seen_hook for a request with its identity. */
static int seen_request_hook(void *ctx, const char *work_order_id, size_t len,
                             const uint8_t request[TCW_SHA256_SIZE])
{
	log_set_work_order(work_order_id, len);
	return replay_service_seen_request(ctx, work_order_id, len, request);
}

/* Generates or loads the worker keys (keystore.c), collects the SGX
 * evidence (attestation.c) and builds the signup reply, once. */
static int make_identity(const struct worker_config *cfg, struct tcw_keys **keys, char **signup)
{
	struct attestation att;
	int rc;

	rc = keystore_open(cfg, keys);
	if (rc != 0)
		return rc;
	rc = attestation_collect(cfg->attestation_dir,
	                         cfg->attestation_bind_enc ? TCW_REPORT_BOTH_KEYS
	                                                   : TCW_REPORT_VERIFYING_KEY,
	                         *keys, &att);
	if (rc != 0) {
		log_error("attestation failed: %s", tcw_strerror(rc));
		return rc;
	}
	*signup = tcw_signup_build(*keys, att.mrenclave, att.quote);
	attestation_fini(&att);
	if (*signup == NULL) {
		log_error("cannot build the signup reply");
		return TCW_ERR_NOMEM;
	}
	log_info("keys ready (RSA-%u, secp256k1)", tcw_keys_rsa_bits(*keys));
	return 0;
}

/* Refuses the test sealing key of a SEAL_KEY=insecure-test manifest in SGX
 * (gramine.c) and warns about it elsewhere. */
static int test_key_check(const struct worker_config *cfg)
{
	char why[1024 + LOG_ESCAPED_SIZE];
	int rc = gramine_check_test_key(cfg->attestation_dir, why, sizeof(why));

	if (rc < 0)
		log_error("%s", why);
	else if (rc > 0)
		log_warn("%s: the keys file is sealed with a test key written in the manifest "
		         "(SEAL_KEY=insecure-test); for gramine-direct tests only",
		         GRAMINE_TEST_KEY_ENV);
	return rc < 0 ? rc : 0;
}

/* Loads workloads and keys, then serves; returns the process exit status. */
static int run(const struct worker_config *cfg)
{
	char err[REGISTRY_ERROR_SIZE];
	struct registry *reg = NULL;
	struct tcw_keys *keys = NULL;
	struct replay_service *replay = NULL;
	struct tcw_key_cache *key_cache = NULL;
	struct tcw_processor proc;
	struct server_options so;
	char *signup = NULL;
	int status = EXIT_FAILURE;
	int rc;

	log_info("tcworker %s starting", TCW_VERSION);
	log_info("python: %s", pyhost_describe());
	pyhost_set_paths(cfg->python_paths, cfg->python_path_count);
	if (gramine_startup_check(cfg->bind) != 0 || test_key_check(cfg) != 0) {
		status = EXIT_USAGE;
		goto out;
	}
	rc = registry_load(cfg->workload, &reg, err, sizeof(err));
	if (rc != 0) {
		log_error("%s", err);
		status = rc == TCW_ERR_INVALID_PARAM ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	rc = make_identity(cfg, &keys, &signup);
	if (rc != 0) {
		status = rc == TCW_ERR_INVALID_PARAM ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	if (replay_service_start(cfg, &replay) != 0)
		goto out;
	if (cfg->key_cache > 0) {
		rc = tcw_key_cache_new(cfg->key_cache, cfg->key_cache_ttl, &key_cache);
		if (rc != 0) {
			log_error("cannot create the key cache: %s", tcw_strerror(rc));
			goto out;
		}
		log_info("key cache: %zu unwraps, ttl %u s", cfg->key_cache, cfg->key_cache_ttl);
	} else {
		log_info("key cache off (--key-cache 0): every session key is RSA-decrypted");
	}
	status = EXIT_SUCCESS;
	if (g_stop) {
		log_info("stopping");
		goto out;
	}
	memset(&proc, 0, sizeof(proc));
	proc.keys = keys;
	proc.runner.run = registry_run;
	proc.runner.ctx = reg;
	proc.signup_json = signup;
	proc.max_message_size = cfg->max_message;
	replay_service_hooks(replay, &proc);
	proc.seen = seen_hook; /* names the order in log lines, then records it */
	if (proc.seen_request != NULL)
		proc.seen_request = seen_request_hook;
	proc.key_cache = key_cache;
	proc.workload_timeout_ms = cfg->workload_timeout_ms;
	so.bind = cfg->bind;
	so.max_message = cfg->max_message;
	so.threads = cfg->threads;
	so.queue = cfg->queue;
	so.proc = &proc;
	so.stop = &g_stop;
	rc = server_run(&so);
	if (rc != 0)
		status = rc == TCW_ERR_INVALID_PARAM ? EXIT_USAGE : EXIT_FAILURE;
	/* the last save of the replay cache; a failure fails the exit status */
	if (replay_service_stop(&replay) != 0 && status == EXIT_SUCCESS)
		status = EXIT_FAILURE;
out:
	free(signup);
	replay_service_stop(&replay);
	tcw_key_cache_free(&key_cache); /* wipes the keys it holds */
	tcw_keys_free(&keys);
	registry_free(&reg);
	return status;
}

int main(int argc, char **argv)
{
	struct worker_config cfg;
	int done = 0, rc, status;

	setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
	rc = config_load(argc, argv, &cfg, &done);
	if (rc != 0 || done) {
		if (rc == TCW_ERR_NOMEM)
			fprintf(stderr, "tcworker: out of memory\n");
		config_fini(&cfg);
		return rc == 0 ? EXIT_SUCCESS : rc == TCW_ERR_NOMEM ? EXIT_FAILURE : EXIT_USAGE;
	}
	log_set_level(cfg.log_level);
	log_set_format(cfg.log_format);
	tcw_set_log_handler(log_lib_handler);
	if (install_signals() != 0) {
		log_error("cannot install signal handlers");
		config_fini(&cfg);
		return EXIT_FAILURE;
	}
	status = run(&cfg);
	tcw_log_flush(); /* counts of the rate-limited warnings */
	tcw_set_log_handler(NULL);
	config_fini(&cfg);
	return status;
}
