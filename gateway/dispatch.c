/* SPDX-License-Identifier: Apache-2.0 */
/* dispatch.c - one thread per worker: claimed orders out as ProcessWorkOrder over a ZMQ DEALER,
 * replies in and stored; bounded in flight, back-off on "Worker busy", re-send after loss. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "gateway.h"
#include "log.h"
#include "store_sql.h"

/* Orders one dispatcher holds (queued + in flight) per allowed in flight. */
#define HOLD_FACTOR 4
#define BACKOFF_MIN_US 2000
#define BACKOFF_MAX_US 1000000
#define CLAIM_EVERY_MS 1000

/* One order held by a dispatcher. */
struct item {
	char *id;
	char *envelope; /* the ProcessWorkOrder frame */
	size_t len;
	char key_fp[65];
	int64_t submitted_ms;
	uint64_t tag;
	uint64_t sent_us;
	struct item *next;
};

struct dispatcher {
	struct gw *g;
	struct gw_worker *w;
	pthread_t thread;
	int efd;
	pthread_mutex_t mu; /* guards in_*, poked, stopping, held */
	struct item *in_head, *in_tail;
	int poked, stopping;
	size_t held, room;
	/* owned by the thread */
	struct item *q_head, *q_tail;
	struct item **flight;
	size_t n_flight;
	uint64_t next_tag;
	void *dealer, *mon;
	uint64_t backoff_us, backoff_until_us;
	int64_t next_claim_ms, next_renew_ms;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Builds the ProcessWorkOrder envelope around an inner request text. */
static char *envelope(const char *inner, size_t *len)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "id", json_object_new_int(1));
	json_object_object_add(o, "method", json_object_new_string("ProcessWorkOrder"));
	json_object_object_add(o, "params", json_object_new_string(inner));
	return gw_json_take(o, len);
}

static struct item *item_new(const char *id, const char *request, const char *key_fp,
                             int64_t submitted_ms)
{
	struct item *it = calloc(1, sizeof(*it));

	if (!it)
		return NULL;
	it->id = strdup(id);
	it->envelope = envelope(request, &it->len);
	snprintf(it->key_fp, sizeof(it->key_fp), "%s", key_fp ? key_fp : "");
	it->submitted_ms = submitted_ms;
	if (!it->id || !it->envelope) {
		free(it->id);
		free(it->envelope);
		free(it);
		return NULL;
	}
	return it;
}

static void item_free(struct item *it)
{
	free(it->id);
	free(it->envelope);
	free(it);
}

static void wake(struct dispatcher *d)
{
	uint64_t one = 1;

	if (write(d->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("dispatcher wake-up: %s", strerror(errno));
}

/* Non-zero while w's dispatcher may take another local order. */
int gw_dispatch_has_room(struct gw_worker *w)
{
	struct dispatcher *d = w->d;
	int room;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->mu);
	room = !d->stopping && d->held < d->room;
	pthread_mutex_unlock(&d->mu);
	return room;
}

/* Hands a stored order to w's dispatcher (see gateway.h). */
int gw_dispatch_offer(struct gw_worker *w, const char *id, const char *request,
                      const char *key_fp, int64_t submitted_ms)
{
	struct dispatcher *d = w->d;
	struct item *it = item_new(id, request, key_fp, submitted_ms);

	if (!it)
		return -1;
	pthread_mutex_lock(&d->mu);
	if (d->in_tail)
		d->in_tail->next = it;
	else
		d->in_head = it;
	d->in_tail = it;
	d->held++;
	pthread_mutex_unlock(&d->mu);
	wake(d);
	return 0;
}

/* Wakes the dispatcher of worker_id (NULL: all) to claim from the store. */
void gw_dispatch_poke(struct gw *g, const char *worker_id)
{
	for (size_t i = 0; i < g->worker_count; i++) {
		struct dispatcher *d = g->workers[i].d;

		if (!d || (worker_id && strcmp(worker_id, g->workers[i].id) != 0))
			continue;
		pthread_mutex_lock(&d->mu);
		d->poked = 1;
		pthread_mutex_unlock(&d->mu);
		wake(d);
	}
}

/* After a key change: wakes the dispatcher, which fails orders sealed to
 * other keys as it meets them. */
void gw_dispatch_keys_changed(struct gw_worker *w)
{
	if (w->d)
		gw_dispatch_poke(w->d->g, w->id);
}

/* Stored once durable: wakes the GetResult calls waiting for the order. */
static void finished(void *ctx, const char *id, int rc, int changed, int state,
                     const char *result)
{
	struct gw *g = ctx;

	if (rc != 0) {
		log_error("order %s: cannot store its final state; it stays queued", id);
	} else if (changed) {
		gw_result_put(g, id, state, result);
		gw_wake(g, id);
	}
}

/* Stores an order's final state (reply member text) and drops the item. */
static void finish(struct dispatcher *d, struct item *it, int state, char *text)
{
	if (!text || store_finish_async(d->g->store, strdup(it->id), state, text, finished, d->g) !=
	                 0)
		log_error("order %s: out of memory storing its result", it->id);
	pthread_mutex_lock(&d->mu);
	d->held--;
	pthread_mutex_unlock(&d->mu);
	item_free(it);
}

/* Fails an order with the gateway's own error. */
static void fail(struct dispatcher *d, struct item *it, int code, const char *message)
{
	json_object *e = json_object_new_object(), *data = json_object_new_object();
	char *text = NULL;

	if (e && data) {
		json_object_object_add(e, "code", json_object_new_int(code));
		json_object_object_add(e, "message", json_object_new_string(message));
		json_object_object_add(data, "workOrderId", json_object_new_string(it->id));
		json_object_object_add(e, "data", data);
		data = NULL;
		text = strdup(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(data);
	json_object_put(e);
	log_warn("order %s: %s", it->id, message);
	finish(d, it, ORDER_FAILED, text);
}

static void push_back(struct dispatcher *d, struct item *it)
{
	it->next = NULL;
	if (d->q_tail)
		d->q_tail->next = it;
	else
		d->q_head = it;
	d->q_tail = it;
}

static void push_front(struct dispatcher *d, struct item *it)
{
	it->next = d->q_head;
	d->q_head = it;
	if (!d->q_tail)
		d->q_tail = it;
}

/* Takes the in-flight entry with tag away; NULL when unknown. */
static struct item *flight_take(struct dispatcher *d, uint64_t tag)
{
	for (size_t i = 0; i < d->n_flight; i++) {
		struct item *it = d->flight[i];

		if (it->tag != tag)
			continue;
		d->flight[i] = d->flight[--d->n_flight];
		atomic_fetch_sub(&d->w->in_flight, 1);
		return it;
	}
	return NULL;
}

/* Puts every order in flight back at the front of the queue. */
static void requeue_flight(struct dispatcher *d, const char *why)
{
	if (d->n_flight)
		log_warn("worker %s: %s; %zu order(s) in flight will be sent again", d->w->name, why,
		         d->n_flight);
	while (d->n_flight) {
		struct item *it = d->flight[--d->n_flight];

		atomic_fetch_sub(&d->w->in_flight, 1);
		atomic_fetch_add(&d->g->m.resent, 1);
		push_front(d, it);
	}
}

/* Handles one reply of the worker. */
static void on_reply(struct dispatcher *d, uint64_t tag, const char *text, size_t len)
{
	struct item *it = flight_take(d, tag);
	json_object *r = NULL, *v = NULL, *code = NULL;
	struct json_tokener *tok;
	char *member = NULL;
	int state;

	if (!it) {
		log_debug("worker %s: reply for an order no longer in flight", d->w->name);
		return;
	}
	gw_worker_latency(d->w, mono_us() - it->sent_us);
	tok = json_tokener_new_ex(64);
	if (tok)
		r = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (r && json_object_object_get_ex(r, "error", &v) &&
	    json_object_object_get_ex(v, "code", &code) && json_object_get_int(code) == 8) {
		/* Worker busy: try again later, slower each time */
		atomic_fetch_add(&d->g->m.busy_replies, 1);
		d->backoff_us = d->backoff_us ? d->backoff_us * 2 : BACKOFF_MIN_US;
		if (d->backoff_us > BACKOFF_MAX_US)
			d->backoff_us = BACKOFF_MAX_US;
		d->backoff_until_us = mono_us() + d->backoff_us;
		push_front(d, it);
		json_object_put(r);
		return;
	}
	d->backoff_us = 0;
	if (r && json_object_object_get_ex(r, "result", &v) &&
	    json_object_is_type(v, json_type_object)) {
		state = ORDER_DONE;
	} else if (r && json_object_object_get_ex(r, "error", &v) &&
	           json_object_is_type(v, json_type_object)) {
		state = ORDER_FAILED;
	} else {
		json_object_put(r);
		fail(d, it, 1, "Worker sent an invalid reply");
		return;
	}
	member = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(r);
	finish(d, it, state, member);
}

/* Reads every waiting reply: [tag][empty][body]. */
static void read_replies(struct dispatcher *d)
{
	for (;;) {
		zmq_msg_t parts[3];
		int n = 0, more = 1;

		while (more) {
			zmq_msg_t m;

			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, d->dealer, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
				zmq_msg_close(&m);
				if (n == 0)
					return;
				break;
			}
			more = zmq_msg_more(&m);
			if (n < 3)
				parts[n++] = m;
			else
				zmq_msg_close(&m);
		}
		if (n == 3 && zmq_msg_size(&parts[0]) == sizeof(uint64_t) &&
		    zmq_msg_size(&parts[1]) == 0) {
			uint64_t tag;

			memcpy(&tag, zmq_msg_data(&parts[0]), sizeof(tag));
			on_reply(d, tag, zmq_msg_data(&parts[2]), zmq_msg_size(&parts[2]));
		}
		for (int i = 0; i < n; i++)
			zmq_msg_close(&parts[i]);
	}
}

/* Sends one order; 0, or -1 when the socket cannot take it now. */
static int send_one(struct dispatcher *d, struct item *it)
{
	uint64_t tag = ++d->next_tag;

	if (zmq_send(d->dealer, &tag, sizeof(tag), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return -1;
	zmq_send(d->dealer, "", 0, ZMQ_SNDMORE);
	zmq_send(d->dealer, it->envelope, it->len, 0);
	it->tag = tag;
	it->sent_us = mono_us();
	d->flight[d->n_flight++] = it;
	atomic_fetch_add(&d->w->in_flight, 1);
	return 0;
}

/* The worker's state for dispatching: 1 send, 0 hold. Copies its key fp. */
static int worker_ready(struct dispatcher *d, char fp[65])
{
	struct gw_worker *w = d->w;
	int ready;

	pthread_mutex_lock(&w->mu);
	ready = w->status == WS_ACTIVE && !w->admin_status && !w->pending_keys && w->key_fp[0];
	memcpy(fp, w->key_fp, 65);
	pthread_mutex_unlock(&w->mu);
	return ready;
}

/* Claims orders from the store while there is room. */
static void claim(struct dispatcher *d, int64_t now_ms)
{
	const struct gw_config *c = d->g->cfg;
	struct store_order *v = NULL;
	size_t n = 0, want;

	pthread_mutex_lock(&d->mu);
	want = d->held < d->room ? d->room - d->held : 0;
	pthread_mutex_unlock(&d->mu);
	if (!want)
		return;
	if (store_claim(d->g->store, d->w->id, want, now_ms, now_ms + (int64_t)c->lease_ms,
	                &v, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct item *it = item_new(v[i].id, v[i].request, v[i].key_fp, v[i].submitted_ms);

		if (!it)
			continue;
		pthread_mutex_lock(&d->mu);
		d->held++;
		pthread_mutex_unlock(&d->mu);
		push_back(d, it);
	}
	if (n)
		log_debug("worker %s: claimed %zu order(s) from the store", d->w->name, n);
	store_orders_free(v, n);
}

/* Fails queued orders that are too old or sealed to keys the worker no
 * longer has; re-sends orders whose reply is overdue. */
static void check_times(struct dispatcher *d, int64_t now_ms, const char *fp)
{
	const struct gw_config *c = d->g->cfg;
	struct item **pp = &d->q_head, *last = NULL;
	uint64_t now = mono_us();

	while (*pp) {
		struct item *it = *pp;
		int old = now_ms - it->submitted_ms > (int64_t)c->order_timeout_ms;
		int stale = fp[0] && it->key_fp[0] && strcmp(fp, it->key_fp) != 0;

		if (!old && !stale) {
			last = it;
			pp = &it->next;
			continue;
		}
		*pp = it->next;
		if (stale)
			fail(d, it, 2, "Worker keys changed: the order was sealed to the worker's "
			               "previous keys; submit it again with the new keys");
		else
			fail(d, it, 1, "Work order timed out: the worker did not answer in time");
	}
	d->q_tail = last;
	for (size_t i = 0; i < d->n_flight;) {
		struct item *it = d->flight[i];

		if (now - it->sent_us < (uint64_t)c->dispatch_timeout_ms * 1000u) {
			i++;
			continue;
		}
		d->flight[i] = d->flight[--d->n_flight];
		atomic_fetch_sub(&d->w->in_flight, 1);
		atomic_fetch_add(&d->g->m.resent, 1);
		log_warn("worker %s: no reply for order %s within %lu ms: sending it again",
		         d->w->name, it->id, c->dispatch_timeout_ms);
		push_front(d, it);
	}
}

/* Reads socket monitor events: a lost connection loses what is in flight. */
static void read_monitor(struct dispatcher *d)
{
	for (;;) {
		zmq_msg_t m;
		uint16_t ev = 0;
		int more;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, d->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return;
		}
		if (zmq_msg_size(&m) >= 2)
			memcpy(&ev, zmq_msg_data(&m), 2);
		more = zmq_msg_more(&m);
		zmq_msg_close(&m);
		while (more) {
			zmq_msg_init(&m);
			zmq_msg_recv(&m, d->mon, 0);
			more = zmq_msg_more(&m);
			zmq_msg_close(&m);
		}
		if (ev == ZMQ_EVENT_DISCONNECTED)
			requeue_flight(d, "connection lost");
	}
}

/* Moves locally offered orders into the send queue. */
static int take_incoming(struct dispatcher *d, int *poked)
{
	struct item *it;
	int stopping;

	pthread_mutex_lock(&d->mu);
	it = d->in_head;
	d->in_head = d->in_tail = NULL;
	*poked = d->poked;
	d->poked = 0;
	stopping = d->stopping;
	pthread_mutex_unlock(&d->mu);
	while (it) {
		struct item *next = it->next;

		push_back(d, it);
		it = next;
	}
	return stopping;
}

static void *dispatch_main(void *arg)
{
	struct dispatcher *d = arg;
	const struct gw_config *c = d->g->cfg;
	sigset_t set;
	char fp[65];

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		int64_t now_ms = store_now_ms();
		int poked = 0, ready, timeout = 100;
		zmq_pollitem_t items[3] = {{d->dealer, 0, ZMQ_POLLIN, 0},
		                           {d->mon, 0, ZMQ_POLLIN, 0},
		                           {NULL, d->efd, ZMQ_POLLIN, 0}};

		if (take_incoming(d, &poked) && !d->n_flight)
			break;
		ready = worker_ready(d, fp);
		if (!d->stopping && (poked || now_ms >= d->next_claim_ms)) {
			claim(d, now_ms);
			d->next_claim_ms = now_ms + CLAIM_EVERY_MS;
		}
		if (now_ms >= d->next_renew_ms) {
			store_renew(d->g->store, d->w->id, now_ms + (int64_t)c->lease_ms);
			d->next_renew_ms = now_ms + (int64_t)c->lease_ms / 3;
		}
		check_times(d, now_ms, ready ? fp : "");
		while (ready && !d->stopping && d->q_head && d->n_flight < c->max_in_flight &&
		       mono_us() >= d->backoff_until_us) {
			struct item *it = d->q_head;

			if (send_one(d, it) != 0)
				break;
			d->q_head = it->next;
			if (!d->q_head)
				d->q_tail = NULL;
		}
		if (d->backoff_until_us > mono_us())
			timeout = (int)((d->backoff_until_us - mono_us()) / 1000) + 1;
		if (zmq_poll(items, 3, timeout) < 0 && zmq_errno() != EINTR)
			log_error("worker %s: poll: %s", d->w->name, zmq_strerror(zmq_errno()));
		if (items[2].revents & ZMQ_POLLIN) {
			uint64_t v;

			if (read(d->efd, &v, sizeof(v)) < 0)
				log_debug("eventfd: %s", strerror(errno));
		}
		read_monitor(d);
		read_replies(d);
		if (d->stopping && now_ms >= d->next_claim_ms + (int64_t)c->drain_ms) {
			requeue_flight(d, "drain time over");
			break;
		}
	}
	return NULL;
}

/* Starts the dispatcher thread of w (see gateway.h). */
int gw_dispatch_start(struct gw *g, struct gw_worker *w)
{
	struct dispatcher *d = calloc(1, sizeof(*d));
	char mon_ep[128];
	int zero = 0, one = 1, hwm = 100000;

	if (!d)
		return TCW_ERR_NOMEM;
	d->g = g;
	d->w = w;
	d->room = g->cfg->max_in_flight * HOLD_FACTOR;
	d->flight = calloc(g->cfg->max_in_flight, sizeof(*d->flight));
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&d->mu, NULL);
	d->dealer = zmq_socket(g->zctx, ZMQ_DEALER);
	d->mon = zmq_socket(g->zctx, ZMQ_PAIR);
	snprintf(mon_ep, sizeof(mon_ep), "inproc://tcgw-monitor-%s", w->id);
	if (!d->flight || d->efd < 0 || !d->dealer || !d->mon) {
		log_error("worker %s: cannot set up its dispatcher", w->name);
		return TCW_ERR_INTERNAL;
	}
	zmq_setsockopt(d->dealer, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(d->dealer, ZMQ_IMMEDIATE, &one, sizeof(one));
	zmq_setsockopt(d->dealer, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(d->dealer, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(d->mon, ZMQ_LINGER, &zero, sizeof(zero));
	if (zmq_socket_monitor(d->dealer, mon_ep, ZMQ_EVENT_DISCONNECTED) != 0 ||
	    zmq_connect(d->mon, mon_ep) != 0 || zmq_connect(d->dealer, w->url) != 0) {
		log_error("worker %s: cannot connect to %s: %s", w->name, w->url,
		          zmq_strerror(zmq_errno()));
		return TCW_ERR_INTERNAL;
	}
	/* what an earlier run of this node held is claimable again at once */
	if (store_release_all(g->store, w->id) != 0)
		log_warn("worker %s: cannot give back this node's earlier claims; they are taken "
		         "over when their leases expire",
		         w->name);
	w->d = d;
	if (pthread_create(&d->thread, NULL, dispatch_main, d) != 0) {
		w->d = NULL;
		log_error("worker %s: cannot start its dispatcher", w->name);
		return TCW_ERR_INTERNAL;
	}
	return 0;
}

/* Stops w's dispatcher (see gateway.h). */
void gw_dispatch_stop(struct gw_worker *w, unsigned long drain_ms)
{
	struct dispatcher *d = w->d;
	struct item *it;

	(void)drain_ms;
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = 1;
	pthread_mutex_unlock(&d->mu);
	d->next_claim_ms = store_now_ms();
	wake(d);
	pthread_join(d->thread, NULL);
	/* unsent orders stay queued in the store; let another gateway take them */
	while ((it = d->q_head) != NULL) {
		d->q_head = it->next;
		store_release(d->g->store, it->id);
		item_free(it);
	}
	while ((it = d->in_head) != NULL) {
		d->in_head = it->next;
		store_release(d->g->store, it->id);
		item_free(it);
	}
	zmq_socket_monitor(d->dealer, NULL, 0);
	zmq_close(d->dealer);
	zmq_close(d->mon);
	close(d->efd);
	pthread_mutex_destroy(&d->mu);
	free(d->flight);
	free(d);
	w->d = NULL;
}
