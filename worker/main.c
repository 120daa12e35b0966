/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - tcworker: configuration, keys, workloads, then the request loop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
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

/* Generates the worker keys and the signup reply, which is built once. */
static int make_identity(unsigned rsa_bits, struct tcw_keys **keys, char **signup)
{
	int rc;

	log_info("generating a %u-bit RSA encryption key and a secp256k1 signing key", rsa_bits);
	rc = tcw_keys_generate(rsa_bits, keys);
	if (rc != 0) {
		log_error("key generation failed: %s", tcw_strerror(rc));
		return rc;
	}
	*signup = tcw_signup_build(*keys, "", "");
	if (*signup == NULL) {
		log_error("cannot build the signup reply");
		return TCW_ERR_NOMEM;
	}
	log_info("keys ready (RSA-%u, secp256k1)", tcw_keys_rsa_bits(*keys));
	return 0;
}

/* Loads workloads and keys, then serves; returns the process exit status. */
static int run(const struct worker_config *cfg)
{
	char err[REGISTRY_ERROR_SIZE];
	struct registry *reg = NULL;
	struct tcw_keys *keys = NULL;
	struct tcw_processor proc;
	struct server_options so;
	char *signup = NULL;
	int status = EXIT_FAILURE;
	int rc;

	log_info("tcworker %s starting", TCW_VERSION);
	rc = registry_load(cfg->workload, &reg, err, sizeof(err));
	if (rc != 0) {
		log_error("%s", err);
		status = rc == TCW_ERR_INVALID_PARAM ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	if (make_identity(cfg->rsa_bits, &keys, &signup) != 0)
		goto out;
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
	so.bind = cfg->bind;
	so.max_message = cfg->max_message;
	so.proc = &proc;
	so.stop = &g_stop;
	rc = server_run(&so);
	if (rc != 0)
		status = rc == TCW_ERR_INVALID_PARAM ? EXIT_USAGE : EXIT_FAILURE;
out:
	free(signup);
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
	tcw_set_log_handler(log_lib_handler);
	if (install_signals() != 0) {
		log_error("cannot install signal handlers");
		config_fini(&cfg);
		return EXIT_FAILURE;
	}
	status = run(&cfg);
	tcw_set_log_handler(NULL);
	config_fini(&cfg);
	return status;
}
