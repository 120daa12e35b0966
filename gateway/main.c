/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - tcgateway: configuration, store, receipt key, workers, HTTP; SIGTERM drains. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "gateway.h"
#include "keystore.h"
#include "log.h"
#include "notify.h"

#define EXIT_USAGE 2
/* RSA size of the (unused) encryption half of the gateway's keys file. */
#define GW_RSA_BITS 2048u

static volatile sig_atomic_t g_stop;

/* SIGTERM and SIGINT are blocked in every thread and taken by the main
 * thread with sigtimedwait; SIGPIPE is ignored. */
static int install_signals(sigset_t *set)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, set, NULL) != 0)
		return -1;
	return sigaction(SIGPIPE, &sa, NULL);
}

/* Non-zero once SIGTERM or SIGINT arrived (waits up to ms for one). */
static int stop_requested(const sigset_t *set, long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	if (!g_stop && sigtimedwait(set, NULL, &ts) > 0)
		g_stop = 1;
	return g_stop;
}

/* The receipt signing key: loaded or created like tcworker's keys. */
static int open_keys(struct gw *g)
{
	const struct gw_config *c = g->cfg;
	int rc;

	if (!c->keys_file)
		log_warn("no --keys-file: the receipt signing key is new at every start, so receipts "
		         "signed before a restart name a key nobody can look up afterwards");
	rc = keystore_open_path(c->keys_file, c->regenerate_keys, GW_RSA_BITS, "gateway", &g->keys);
	if (rc != 0)
		return rc;
	g->receipt_pem = strdup(tcw_keys_verifying_pem(g->keys));
	if (!g->receipt_pem)
		return TCW_ERR_NOMEM;
	tcw_eea_worker_id(g->receipt_pem, g->updater_id);
	log_info("receipt signing key %s", g->updater_id);
	return 0;
}

/* Routes store notifications: claimable orders wake dispatchers, final
 * ones wake GetResult waiters. */
static void on_notify(void *ctx, char kind, const char *payload)
{
	struct gw *g = ctx;

	if (kind == 'o')
		gw_dispatch_poke(g, payload);
	else if (kind == 'd')
		gw_order_final_elsewhere(g, payload);
}

static void set_node(struct gw *g)
{
	if (g->cfg->node_name) {
		snprintf(g->node, sizeof(g->node), "%s", g->cfg->node_name);
		return;
	}
	if (gethostname(g->node, sizeof(g->node) - 1) != 0 || !g->node[0])
		snprintf(g->node, sizeof(g->node), "tcgateway");
	g->node[sizeof(g->node) - 1] = '\0';
}

static int run(const struct gw_config *cfg, const sigset_t *sigs)
{
	struct gw g;
	char err[1024];
	int status = EXIT_FAILURE, rc;

	memset(&g, 0, sizeof(g));
	g.cfg = cfg;
	g.stop = &g_stop;
	set_node(&g);
	log_info("tcgateway %s starting (node %s)", TCW_VERSION, g.node);
	rc = open_keys(&g);
	if (rc != 0) {
		status = rc == TCW_ERR_INVALID_PARAM ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	err[0] = '\0';
	rc = store_open(cfg->db, g.node, &g.store, err, sizeof(err));
	if (rc != 0) {
		log_error("%s", err[0] ? err : "cannot open the store");
		status = rc == TCW_ERR_INVALID_PARAM ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	log_info("store: %s, schema version %d", store_kind(g.store), store_schema_version(g.store));
	store_set_callbacks(g.store, gw_completion, on_notify, &g);
	g.zctx = zmq_ctx_new();
	if (!g.zctx || gw_loop_init(&g) != 0 || gw_workers_start(&g) != 0 ||
	    gw_workers_start_recheck(&g) != 0)
		goto out;
	if (stop_requested(sigs, 0))
		goto out;
	if (gw_http_start(&g, &g.http) != 0) {
		status = EXIT_USAGE;
		goto out;
	}
	if (gw_loop_start(&g) != 0)
		goto out;
	if (notify_send("READY=1") < 0)
		log_warn("cannot tell the service manager that tcgateway is ready");
	while (!stop_requested(sigs, 1000))
		;
	notify_send("STOPPING=1");
	log_info("stopping: no new connections; draining orders in flight (up to %lu ms)",
	         cfg->drain_ms);
	gw_loop_drain(&g);
	status = EXIT_SUCCESS;
out:
	g_stop = 1;
	g.draining = 1;
	/* the loop first (it uses everything), the store after every thread that writes to it */
	gw_loop_drain(&g);
	gw_workers_stop(&g);
	gw_http_stop(&g.http);
	store_close(&g.store);
	gw_loop_free(&g);
	if (g.zctx)
		zmq_ctx_term(g.zctx);
	tcw_keys_free(&g.keys);
	free(g.receipt_pem);
	gw_results_free(&g);
	log_info("stopped");
	return status;
}

int main(int argc, char **argv)
{
	struct gw_config cfg;
	sigset_t sigs;
	int done = 0, rc, status;

	setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
	rc = gw_config_load(argc, argv, &cfg, &done);
	if (rc != 0 || done) {
		if (rc == TCW_ERR_NOMEM)
			fprintf(stderr, "tcgateway: out of memory\n");
		gw_config_fini(&cfg);
		return rc == 0 ? EXIT_SUCCESS : rc == TCW_ERR_NOMEM ? EXIT_FAILURE : EXIT_USAGE;
	}
	log_set_level(cfg.log_level);
	log_set_format(cfg.log_format);
	tcw_set_log_handler(log_lib_handler);
	if (install_signals(&sigs) != 0) {
		log_error("cannot install signal handlers");
		gw_config_fini(&cfg);
		return EXIT_FAILURE;
	}
	status = run(&cfg, &sigs);
	tcw_log_flush();
	tcw_set_log_handler(NULL);
	gw_config_fini(&cfg);
	return status;
}
