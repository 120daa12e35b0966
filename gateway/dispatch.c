/* SPDX-License-Identifier: Apache-2.0 */
/* dispatch.c - one dispatcher per worker, run by the event loop: claimed orders out as
 * ProcessWorkOrder over a ZMQ DEALER, replies in and stored; bounded in flight, back-off on
 * "Worker busy", re-send after loss. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
/* How often queued orders are checked for their deadlines. */
#define CHECK_EVERY_MS 50
#define KEYS_CHANGED "Worker keys changed: the order was sealed to the worker's previous keys; " \
                     "submit it again with the new keys"

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

/* Only the loop's thread touches a dispatcher (others post to it). */
struct dispatcher {
	struct gw *g;
	struct gw_worker *w;
	struct item *q_head, *q_tail; /* waiting to be sent */
	struct item **flight;         /* sent, reply pending */
	size_t n_flight;
	size_t held, room; /* queued + in flight, and the most it takes */
	int poked, stopping;
	uint64_t next_tag;
	void *dealer, *mon;
	int dealer_fd, mon_fd;
	struct json_tokener *tok; /* parses the replies (strict), reused */
	struct gw_source dealer_src, mon_src;
	uint64_t backoff_us, backoff_until_us;
	int64_t next_claim_ms, next_renew_ms, next_check_ms;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#define ENV_HEAD "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ProcessWorkOrder\",\"params\":\""
#define ENV_TAIL "\"}"

/* Builds the ProcessWorkOrder envelope around an inner request text: the
 * inner text as one JSON string. Written here rather than through a json-c
 * tree because it is the same few bytes around an escaped copy every time
 * (the escapes json-c writes: quote, backslash, controls). */
static char *envelope(const char *inner, size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = sizeof(ENV_HEAD) - 1 + sizeof(ENV_TAIL) - 1, k;
	const unsigned char *p;
	char *out, *o;

	for (p = (const unsigned char *)inner; *p; p++)
		n += *p == '"' || *p == '\\' ? 2 : *p < 0x20 ? 6 : 1;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	memcpy(out, ENV_HEAD, sizeof(ENV_HEAD) - 1);
	o = out + sizeof(ENV_HEAD) - 1;
	for (p = (const unsigned char *)inner; *p; p++) {
		/* copy the run that needs no escape at once */
		for (k = 0; p[k] >= 0x20 && p[k] != '"' && p[k] != '\\'; k++)
			;
		memcpy(o, p, k);
		o += k;
		p += k;
		if (!*p)
			break;
		*o++ = '\\';
		if (*p == '"' || *p == '\\') {
			*o++ = (char)*p;
		} else {
			memcpy(o, "u00", 3);
			o[3] = hex[*p >> 4];
			o[4] = hex[*p & 15];
			o += 5;
		}
	}
	memcpy(o, ENV_TAIL, sizeof(ENV_TAIL));
	*len = n;
	return out;
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

/* Non-zero while w's dispatcher may take another local order. */
int gw_dispatch_has_room(struct gw_worker *w)
{
	struct dispatcher *d = w->d;

	return d && !d->stopping && d->held < d->room;
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

/* Hands a stored order to w's dispatcher (see gateway.h). */
int gw_dispatch_offer(struct gw_worker *w, const char *id, const char *request,
                      const char *key_fp, int64_t submitted_ms)
{
	struct dispatcher *d = w->d;
	struct item *it = item_new(id, request, key_fp, submitted_ms);

	if (!it)
		return -1;
	push_back(d, it);
	d->held++;
	return 0;
}

/* On the loop: marks the dispatcher of worker_id ("" = all) poked. */
static void poke(struct gw *g, const char *worker_id)
{
	for (size_t i = 0; i < g->worker_count; i++) {
		struct dispatcher *d = g->workers[i].d;

		if (d && (!worker_id[0] || strcmp(worker_id, g->workers[i].id) == 0))
			d->poked = 1;
	}
}

/* Wakes the dispatcher of worker_id (NULL: all) to claim from the store. */
void gw_dispatch_poke(struct gw *g, const char *worker_id)
{
	gw_loop_post(g, poke, worker_id);
}

/* After a key change: pokes the dispatcher, which fails orders sealed to
 * other keys as it meets them. */
void gw_dispatch_keys_changed(struct gw_worker *w)
{
	if (w->d)
		gw_dispatch_poke(w->d->g, w->id);
}

/* Stored once durable: the GetResult calls waiting for the order get it. */
static void finished(void *ctx, const char *id, int rc, int changed, int state,
                     const char *result)
{
	struct gw *g = ctx;

	if (rc != 0)
		log_error("order %s: cannot store its final state; it stays queued", id);
	else if (changed)
		gw_order_final(g, id, state, result);
}

/* Stores an order's final state (reply member text) and drops the item. */
static void finish(struct dispatcher *d, struct item *it, int state, char *text)
{
	if (!text || store_finish_async(d->g->store, strdup(it->id), state, text, finished, d->g) !=
	                 0)
		log_error("order %s: out of memory storing its result", it->id);
	d->held--;
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
	char *member = NULL;
	size_t off, n;
	int state;

	if (!it) {
		log_debug("worker %s: reply for an order no longer in flight", d->w->name);
		return;
	}
	gw_worker_latency(d->w, mono_us() - it->sent_us);
	json_tokener_reset(d->tok);
	r = json_tokener_parse_ex(d->tok, text, (int)len);
	if (r && (json_tokener_get_error(d->tok) != json_tokener_success ||
	          gw_json_skip_ws(text, len, json_tokener_get_parse_end(d->tok)) != len)) {
		json_object_put(r);
		r = NULL;
	}
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
	/* the member's text as the worker wrote it, else written again */
	if (gw_json_member_span(text, len, state == ORDER_DONE ? "result" : "error", &off, &n) == 0 &&
	    (member = malloc(n + 1)) != NULL) {
		memcpy(member, text + off, n);
		member[n] = '\0';
	} else {
		member = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
		                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
	}
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

	want = d->held < d->room ? d->room - d->held : 0;
	if (!want)
		return;
	if (store_claim(d->g->store, d->w->id, want, now_ms, now_ms + (int64_t)c->lease_ms,
	                &v, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct item *it = item_new(v[i].id, v[i].request, v[i].key_fp, v[i].submitted_ms);

		if (!it)
			continue;
		d->held++;
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
			fail(d, it, 2, KEYS_CHANGED);
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

/* Sends what may be sent now: the worker is ready, room in flight, no back-off. */
static void send_queued(struct dispatcher *d)
{
	const struct gw_config *c = d->g->cfg;
	char fp[65];

	if (d->stopping || !d->q_head || d->n_flight >= c->max_in_flight ||
	    mono_us() < d->backoff_until_us || !worker_ready(d, fp))
		return;
	while (d->q_head && d->n_flight < c->max_in_flight) {
		struct item *it = d->q_head;
		int stale = it->key_fp[0] && strcmp(fp, it->key_fp) != 0;

		if (!stale && send_one(d, it) != 0)
			break;
		d->q_head = it->next;
		if (!d->q_head)
			d->q_tail = NULL;
		if (stale)
			fail(d, it, 2, KEYS_CHANGED);
	}
	/* a send may have taken the socket's wake-up for replies already in */
	read_replies(d);
}

/* One turn of a dispatcher: replies in, timers, orders out. */
static void run_one(struct dispatcher *d, int64_t now_ms)
{
	const struct gw_config *c = d->g->cfg;
	char fp[65];
	int ready;

	if (d->mon_src.ready) {
		d->mon_src.ready = 0;
		read_monitor(d);
	}
	if (d->dealer_src.ready) {
		d->dealer_src.ready = 0;
		read_replies(d);
	}
	if (!d->stopping && (d->poked || now_ms >= d->next_claim_ms)) {
		d->poked = 0;
		claim(d, now_ms);
		d->next_claim_ms = now_ms + CLAIM_EVERY_MS;
	}
	if (now_ms >= d->next_renew_ms) {
		store_renew(d->g->store, d->w->id, now_ms + (int64_t)c->lease_ms);
		d->next_renew_ms = now_ms + (int64_t)c->lease_ms / 3;
	}
	if (now_ms >= d->next_check_ms) {
		ready = worker_ready(d, fp);
		check_times(d, now_ms, ready ? fp : "");
		d->next_check_ms = now_ms + CHECK_EVERY_MS;
	}
	send_queued(d);
}

/* One turn of every dispatcher (see gateway.h). */
void gw_dispatch_run(struct gw *g)
{
	int64_t now_ms = store_now_ms();

	for (size_t i = 0; i < g->worker_count; i++)
		if (g->workers[i].d)
			run_one(g->workers[i].d, now_ms);
}

/* Sends what the dispatchers may send now (see gateway.h). */
void gw_dispatch_send(struct gw *g)
{
	for (size_t i = 0; i < g->worker_count; i++)
		if (g->workers[i].d)
			send_queued(g->workers[i].d);
}

/* Milliseconds until a dispatcher's next timer (see gateway.h). */
int64_t gw_dispatch_timeout(struct gw *g, int64_t now_ms)
{
	int64_t t = 1000, wall = store_now_ms();
	uint64_t mono = mono_us();

	(void)now_ms;
	for (size_t i = 0; i < g->worker_count; i++) {
		struct dispatcher *d = g->workers[i].d;
		int64_t x;

		if (!d)
			continue;
		if (d->poked)
			return 0;
		x = d->next_claim_ms - wall;
		if (!d->stopping && x < t)
			t = x;
		x = d->next_renew_ms - wall;
		if (x < t)
			t = x;
		if ((d->q_head || d->n_flight) && (x = d->next_check_ms - wall) < t)
			t = x;
		if (d->q_head && d->backoff_until_us > mono &&
		    (x = (int64_t)((d->backoff_until_us - mono) / 1000) + 1) < t)
			t = x;
	}
	return t < 0 ? 0 : t;
}

/* SIGTERM: nothing more is sent or claimed (see gateway.h). */
void gw_dispatch_drain(struct gw *g)
{
	for (size_t i = 0; i < g->worker_count; i++)
		if (g->workers[i].d)
			g->workers[i].d->stopping = 1;
}

/* Non-zero when no order is at a worker (see gateway.h). */
int gw_dispatch_idle(struct gw *g)
{
	for (size_t i = 0; i < g->worker_count; i++)
		if (g->workers[i].d && g->workers[i].d->n_flight)
			return 0;
	return 1;
}

/* The drain ended (see gateway.h). */
void gw_dispatch_requeue(struct gw *g)
{
	for (size_t i = 0; i < g->worker_count; i++)
		if (g->workers[i].d)
			requeue_flight(g->workers[i].d, "drain time over");
}

/* Sets up the dispatcher of w (see gateway.h). */
int gw_dispatch_start(struct gw *g, struct gw_worker *w)
{
	struct dispatcher *d = calloc(1, sizeof(*d));
	char mon_ep[128];
	int zero = 0, one = 1, hwm = 100000;
	size_t fdlen = sizeof(int);

	if (!d)
		return TCW_ERR_NOMEM;
	d->g = g;
	d->w = w;
	d->room = g->cfg->max_in_flight * HOLD_FACTOR;
	d->flight = calloc(g->cfg->max_in_flight, sizeof(*d->flight));
	d->dealer = zmq_socket(g->zctx, ZMQ_DEALER);
	d->mon = zmq_socket(g->zctx, ZMQ_PAIR);
	d->tok = json_tokener_new_ex(64);
	d->dealer_fd = d->mon_fd = -1;
	w->d = d; /* freed by gw_dispatch_stop, also after a failure here */
	snprintf(mon_ep, sizeof(mon_ep), "inproc://tcgw-monitor-%s", w->id);
	if (!d->flight || !d->dealer || !d->mon || !d->tok) {
		log_error("worker %s: cannot set up its dispatcher", w->name);
		return TCW_ERR_INTERNAL;
	}
	json_tokener_set_flags(d->tok, JSON_TOKENER_STRICT);
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
	if (zmq_getsockopt(d->dealer, ZMQ_FD, &d->dealer_fd, &fdlen) != 0 ||
	    zmq_getsockopt(d->mon, ZMQ_FD, &d->mon_fd, &fdlen) != 0 ||
	    gw_loop_add(g, d->dealer_fd, &d->dealer_src) != 0 ||
	    gw_loop_add(g, d->mon_fd, &d->mon_src) != 0) {
		log_error("worker %s: cannot watch its socket: %s", w->name, strerror(errno));
		d->dealer_fd = d->mon_fd = -1;
		return TCW_ERR_INTERNAL;
	}
	/* the first turn claims, renews and reads what is there already */
	d->dealer_src.ready = d->mon_src.ready = 1;
	/* what an earlier run of this node held is claimable again at once */
	if (store_release_all(g->store, w->id) != 0)
		log_warn("worker %s: cannot give back this node's earlier claims; they are taken "
		         "over when their leases expire",
		         w->name);
	return 0;
}

/* Frees w's dispatcher after the loop ended (see gateway.h). */
void gw_dispatch_stop(struct gw_worker *w)
{
	struct dispatcher *d = w->d;
	struct item *it;

	if (!d)
		return;
	/* unsent orders stay queued in the store; let another gateway take them */
	while ((it = d->q_head) != NULL) {
		d->q_head = it->next;
		store_release(d->g->store, it->id);
		item_free(it);
	}
	for (size_t i = 0; i < d->n_flight; i++) {
		store_release(d->g->store, d->flight[i]->id);
		item_free(d->flight[i]);
	}
	if (d->dealer_fd >= 0)
		gw_loop_del(d->g, d->dealer_fd);
	if (d->mon_fd >= 0)
		gw_loop_del(d->g, d->mon_fd);
	if (d->dealer)
		zmq_socket_monitor(d->dealer, NULL, 0);
	if (d->dealer)
		zmq_close(d->dealer);
	if (d->mon)
		zmq_close(d->mon);
	if (d->tok)
		json_tokener_free(d->tok);
	free(d->flight);
	free(d);
	w->d = NULL;
}
