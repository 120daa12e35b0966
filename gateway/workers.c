/* SPDX-License-Identifier: Apache-2.0 */
/* workers.c - the --worker entries: signup over ZeroMQ, key policy, records, periodic re-check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "gateway.h"
#include "log.h"

#define SIGNUP_REQUEST "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ProcessWorkerSignup\",\"params\":null}"
#define SIGNUP_MAX (1u << 20)

/* Hex SHA-256 over the two key PEMs (see gateway.h). */
void gw_key_fp(const char *verifying_pem, const char *encryption_pem, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	size_t a = strlen(verifying_pem), b = strlen(encryption_pem);
	uint8_t d[TCW_SHA256_SIZE];
	char *buf = malloc(a + b + 1);

	out[0] = '\0';
	if (!buf)
		return;
	memcpy(buf, verifying_pem, a);
	memcpy(buf + a, encryption_pem, b);
	if (tcw_sha256(buf, a + b, d) == 0) {
		for (size_t i = 0; i < sizeof(d); i++) {
			out[2 * i] = hex[d[i] >> 4];
			out[2 * i + 1] = hex[d[i] & 15];
		}
		out[64] = '\0';
	}
	free(buf);
}

/* The attached worker with workerId id, or NULL. */
struct gw_worker *gw_worker_find(struct gw *g, const char *id)
{
	for (size_t i = 0; i < g->worker_count; i++)
		if (strcmp(g->workers[i].id, id) == 0)
			return &g->workers[i];
	return NULL;
}

/* Asks w for its signup over a fresh REQ socket; the reply is parsed and
 * its encryption_key_signature verified. 0, or -1 with the reason in why. */
static int ask_signup(struct gw *g, struct gw_worker *w, struct tcw_signup *su, char *why,
                      size_t whysize)
{
	void *s = zmq_socket(g->zctx, ZMQ_REQ);
	int t = (int)g->cfg->signup_timeout_ms, zero = 0, n;
	struct tcw_error e = {0};
	char *buf = NULL;

	memset(su, 0, sizeof(*su));
	if (!s) {
		snprintf(why, whysize, "cannot make a socket: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &t, sizeof(t));
	zmq_setsockopt(s, ZMQ_SNDTIMEO, &t, sizeof(t));
	if (zmq_connect(s, w->url) != 0) {
		snprintf(why, whysize, "cannot connect to %s: %s", w->url, zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (zmq_send(s, SIGNUP_REQUEST, sizeof(SIGNUP_REQUEST) - 1, 0) < 0) {
		snprintf(why, whysize, "no answer from %s", w->url);
		goto fail;
	}
	buf = malloc(SIGNUP_MAX + 1);
	if (!buf) {
		snprintf(why, whysize, "out of memory");
		goto fail;
	}
	n = zmq_recv(s, buf, SIGNUP_MAX, 0);
	if (n < 0) {
		snprintf(why, whysize, "no signup reply from %s within %lu ms", w->url,
		         g->cfg->signup_timeout_ms);
		goto fail;
	}
	if (n > (int)SIGNUP_MAX || tcw_signup_parse(buf, (size_t)n, su, &e) != 0) {
		snprintf(why, whysize, "bad signup reply from %s: %s", w->url,
		         e.err == TCW_ERR_VERIFY ? "encryption_key_signature does not verify"
		         : e.field[0]            ? e.field
		                                 : "too large");
		tcw_signup_fini(su);
		goto fail;
	}
	free(buf);
	zmq_close(s);
	return 0;
fail:
	free(buf);
	zmq_close(s);
	return -1;
}

/* strdup that maps NULL to NULL. */
static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Copies the strings of a signup. */
static int signup_copy(struct tcw_signup *dst, const struct tcw_signup *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->verifying_key = dup_or_null(src->verifying_key);
	dst->encryption_key = dup_or_null(src->encryption_key);
	dst->encryption_key_signature = dup_or_null(src->encryption_key_signature);
	dst->mrenclave = dup_or_null(src->mrenclave ? src->mrenclave : "");
	dst->quote = dup_or_null(src->quote ? src->quote : "");
	dst->sealed_data = dup_or_null("");
	if (!dst->verifying_key || !dst->encryption_key || !dst->encryption_key_signature ||
	    !dst->mrenclave || !dst->quote || !dst->sealed_data) {
		tcw_signup_fini(dst);
		return TCW_ERR_NOMEM;
	}
	return 0;
}

/* Writes w's record (accepted keys, current status) to the store; w->mu held. */
static void publish(struct gw *g, struct gw_worker *w)
{
	struct store_worker sw = {0};
	json_object *rec = NULL;
	int status = w->admin_status ? w->admin_status : w->status;

	if (!w->key_fp[0])
		return;
	if (tcw_eea_worker_record(&w->accepted, &w->quote, g->cfg->organization_id, status, &rec) !=
	    0) {
		log_error("worker %s: out of memory building its record", w->name);
		return;
	}
	sw.id = w->id;
	sw.name = w->name;
	sw.record = (char *)json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
	                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
	sw.key_fp = w->key_fp;
	sw.owner = "worker";
	sw.status = status;
	if (store_put_worker(g->store, &sw) != 0)
		log_error("worker %s: cannot store its record", w->name);
	json_object_put(rec);
}

/* Makes su the keys orders for w are sealed to; w->mu held. */
static int accept_keys(struct gw_worker *w, const struct tcw_signup *su,
                       const struct tcw_eea_quote_info *q)
{
	struct tcw_signup copy;

	if (signup_copy(&copy, su) != 0)
		return TCW_ERR_NOMEM;
	tcw_signup_fini(&w->accepted);
	w->accepted = copy;
	w->quote = *q;
	w->rsa_bits = tcw_rsa_pem_bits(su->encryption_key);
	gw_key_fp(su->verifying_key, su->encryption_key, w->key_fp);
	w->pending_keys = 0;
	tcw_signup_fini(&w->pending);
	return 0;
}

/* Applies one signup answer (su NULL: unreachable, why says why) to w. */
static void apply_signup(struct gw *g, struct gw_worker *w, const struct tcw_signup *su,
                         const char *why)
{
	const struct gw_config *c = g->cfg;
	struct tcw_eea_quote_info q;
	struct tcw_error e = {0};
	char fp[65];
	int q_ok, measured = c->expect_mrenclave || c->expect_mrsigner, changed = 0;
	int old_status;

	pthread_mutex_lock(&w->mu);
	old_status = w->status;
	if (!su) {
		if (w->reachable || old_status != WS_OFFLINE)
			log_warn("worker %s (%s) unreachable: %s; marked inactive, its orders wait", w->name,
			         w->url, why);
		w->reachable = 0;
		w->status = WS_OFFLINE;
		goto out;
	}
	q_ok = tcw_eea_signup_quote(su, c->expect_mrenclave, c->expect_mrsigner, &q, &e) == 0;
	gw_key_fp(su->verifying_key, su->encryption_key, fp);
	if (!w->reachable)
		log_info("worker %s (%s) answered its signup (RSA-%u%s)", w->name, w->url,
		         tcw_rsa_pem_bits(su->encryption_key), q.present ? ", SGX quote" : "");
	w->reachable = 1;
	if (w->key_fp[0] && strcmp(fp, w->key_fp) == 0) {
		if (w->pending_keys)
			log_warn("worker %s presents its accepted keys again", w->name);
		w->pending_keys = 0;
		w->status = q_ok || !measured ? WS_ACTIVE : WS_OFFLINE;
		goto out;
	}
	if (!q_ok) {
		log_error("worker %s: signup refused: %s; marked inactive", w->name, e.field);
		w->status = WS_OFFLINE;
		goto out;
	}
	if (!w->key_fp[0] || w->accept_next || measured) {
		if (w->key_fp[0])
			log_warn("worker %s presents NEW keys; accepted (%s); orders sealed to its old "
			         "keys fail",
			         w->name, w->accept_next ? "--accept-new-keys" : "its quote passed");
		if (accept_keys(w, su, &q) != 0) {
			w->status = WS_OFFLINE;
			goto out;
		}
		w->accept_next = 0;
		w->status = WS_ACTIVE;
		changed = 1;
		goto out;
	}
	/* changed keys nobody vouches for: inactive until an operator accepts */
	log_error("worker %s presents NEW keys that are not accepted: marked inactive. Accept "
	          "them with --accept-new-keys %s or WorkerSetStatus status 1 on the admin socket",
	          w->name, w->name);
	tcw_signup_fini(&w->pending);
	if (signup_copy(&w->pending, su) == 0)
		w->pending_keys = 1;
	w->status = WS_OFFLINE;
out:
	if (changed || w->status != old_status)
		publish(g, w);
	pthread_mutex_unlock(&w->mu);
	if (changed)
		gw_dispatch_keys_changed(w);
	if (w->status == WS_ACTIVE && old_status != WS_ACTIVE)
		gw_dispatch_poke(g, w->id);
}

/* Asks w for its signup and applies the answer. */
static void check_worker(struct gw *g, struct gw_worker *w)
{
	struct tcw_signup su;
	char why[1024];

	if (ask_signup(g, w, &su, why, sizeof(why)) != 0) {
		apply_signup(g, w, NULL, why);
		return;
	}
	apply_signup(g, w, &su, NULL);
	tcw_signup_fini(&su);
}

/* Loads the accepted keys of w from its stored record (a restart). */
static void load_stored(struct gw *g, struct gw_worker *w)
{
	struct store_worker sw;
	json_object *rec = NULL, *d, *td, *v;
	struct tcw_signup su = {0};

	if (store_get_worker(g->store, w->id, &sw) != 0)
		return;
	rec = json_tokener_parse(sw.record);
	if (strcmp(sw.owner, "worker") == 0 && rec && json_object_object_get_ex(rec, "details", &d) &&
	    json_object_object_get_ex(d, "workerTypeData", &td)) {
		su.verifying_key = json_object_object_get_ex(td, "verificationKey", &v)
		                       ? (char *)json_object_get_string(v)
		                       : NULL;
		su.encryption_key = json_object_object_get_ex(td, "encryptionKey", &v)
		                        ? (char *)json_object_get_string(v)
		                        : NULL;
		su.encryption_key_signature = json_object_object_get_ex(td, "encryptionKeySignature", &v)
		                                  ? (char *)json_object_get_string(v)
		                                  : NULL;
		su.quote = json_object_object_get_ex(td, "sgxQuote", &v)
		               ? (char *)json_object_get_string(v)
		               : NULL;
		if (su.verifying_key && su.encryption_key && su.encryption_key_signature) {
			struct tcw_eea_quote_info q;
			struct tcw_error e = {0};

			tcw_eea_signup_quote(&su, NULL, NULL, &q, &e);
			pthread_mutex_lock(&w->mu);
			if (accept_keys(w, &su, &q) == 0)
				w->status = sw.status;
			pthread_mutex_unlock(&w->mu);
		}
	}
	json_object_put(rec);
	store_worker_fini(&sw);
}

/* Connects the configured workers (see gateway.h). */
int gw_workers_start(struct gw *g)
{
	const struct gw_config *c = g->cfg;

	g->workers = calloc(c->worker_count ? c->worker_count : 1, sizeof(*g->workers));
	if (!g->workers)
		return TCW_ERR_NOMEM;
	for (size_t i = 0; i < c->worker_count; i++) {
		struct gw_worker *w = &g->workers[i];

		snprintf(w->name, sizeof(w->name), "%s", c->workers[i].name);
		snprintf(w->url, sizeof(w->url), "%s", c->workers[i].url);
		tcw_eea_worker_id(w->name, w->id);
		pthread_mutex_init(&w->mu, NULL);
		w->status = WS_OFFLINE;
		for (size_t k = 0; k < c->accept_count; k++)
			if (strcmp(c->accept_new_keys[k], w->name) == 0)
				w->accept_next = 1;
		g->worker_count++;
		load_stored(g, w);
	}
	for (size_t k = 0; k < c->accept_count; k++) {
		int found = 0;

		for (size_t i = 0; i < g->worker_count; i++)
			found |= strcmp(g->workers[i].name, c->accept_new_keys[k]) == 0;
		if (!found)
			log_warn("--accept-new-keys %s: no --worker of that name", c->accept_new_keys[k]);
	}
	for (size_t i = 0; i < g->worker_count; i++) {
		struct gw_worker *w = &g->workers[i];

		log_info("worker %s = %s, workerId %s", w->name, w->url, w->id);
		check_worker(g, w);
		if (gw_dispatch_start(g, w) != 0)
			return TCW_ERR_INTERNAL;
	}
	return 0;
}

static void *recheck_main(void *arg)
{
	struct gw *g = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_mutex_lock(&g->recheck_mu);
	while (!*g->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(g->cfg->recheck_ms / 1000);
		ts.tv_nsec += (long)(g->cfg->recheck_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->recheck_cv, &g->recheck_mu, &ts);
		if (*g->stop)
			break;
		pthread_mutex_unlock(&g->recheck_mu);
		for (size_t i = 0; i < g->worker_count && !*g->stop; i++)
			check_worker(g, &g->workers[i]);
		pthread_mutex_lock(&g->recheck_mu);
	}
	pthread_mutex_unlock(&g->recheck_mu);
	return NULL;
}

/* Starts the periodic re-check thread (see gateway.h). */
int gw_workers_start_recheck(struct gw *g)
{
	pthread_mutex_init(&g->recheck_mu, NULL);
	pthread_cond_init(&g->recheck_cv, NULL);
	if (pthread_create(&g->recheck_thread, NULL, recheck_main, g) != 0)
		return TCW_ERR_INTERNAL;
	g->recheck_started = 1;
	return 0;
}

/* Stops the re-check thread and the dispatchers, frees the workers. */
void gw_workers_stop(struct gw *g)
{
	if (g->recheck_started) {
		pthread_mutex_lock(&g->recheck_mu);
		pthread_cond_broadcast(&g->recheck_cv);
		pthread_mutex_unlock(&g->recheck_mu);
		pthread_join(g->recheck_thread, NULL);
		g->recheck_started = 0;
	}
	for (size_t i = 0; i < g->worker_count; i++) {
		struct gw_worker *w = &g->workers[i];

		gw_dispatch_stop(w);
		tcw_signup_fini(&w->accepted);
		tcw_signup_fini(&w->pending);
		pthread_mutex_destroy(&w->mu);
	}
	free(g->workers);
	g->workers = NULL;
	g->worker_count = 0;
}

/* Sets an attached worker's status over the admin socket (see gateway.h). */
int gw_worker_admin_status(struct gw *g, struct gw_worker *w, int status, char *msg,
                           size_t msgsize)
{
	int accepted = 0;

	pthread_mutex_lock(&w->mu);
	if (status == WS_ACTIVE && w->pending_keys) {
		struct tcw_signup su = w->pending;
		struct tcw_eea_quote_info q;
		struct tcw_error e = {0};

		memset(&w->pending, 0, sizeof(w->pending));
		tcw_eea_signup_quote(&su, NULL, NULL, &q, &e);
		if (accept_keys(w, &su, &q) == 0) {
			accepted = 1;
			w->status = WS_ACTIVE;
			log_warn("worker %s: the operator accepted its new keys; orders sealed to its "
			         "old keys fail",
			         w->name);
		}
		tcw_signup_fini(&su);
	}
	w->admin_status = status == WS_ACTIVE ? 0 : status;
	publish(g, w);
	snprintf(msg, msgsize, "%s", accepted ? "Worker keys accepted, status set"
	                                      : "Successfully Set Status");
	pthread_mutex_unlock(&w->mu);
	if (accepted)
		gw_dispatch_keys_changed(w);
	gw_dispatch_poke(g, w->id);
	return 0;
}
