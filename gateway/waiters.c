/* SPDX-License-Identifier: Apache-2.0 */
/* waiters.c - WorkOrderGetResult long polls on the event loop: deferred calls waiting for one
 * order, answered when it is final or at their deadline, and the final results kept for the next
 * call in front of the store. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "log.h"

/* Hash buckets of the waiters by order id. */
#define BUCKETS 1024

/* One deferred WorkOrderGetResult. */
struct waiter {
	char *id;
	int64_t deadline_ms;
	gw_wait_fn fn;
	struct rpc_deferred *d;
	struct waiter *next_id;         /* same bucket */
	struct waiter *prev_t, *next_t; /* by deadline */
};

struct gw_waiters {
	struct waiter *bucket[BUCKETS];
	struct waiter *head, *tail; /* earliest deadline first */
};

/* FNV-1a of id. */
static uint64_t hash_of(const char *id)
{
	uint64_t h = 1469598103934665603ull;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ull;
	return h;
}

/* Waits for order id (see gateway.h). */
int gw_waiter_add(struct gw *g, const char *id, int64_t deadline_ms, gw_wait_fn fn,
                  struct rpc_deferred *d)
{
	struct gw_waiters *ws = g->waiters;
	struct waiter *w, *at;
	size_t b;

	if (!ws && !(ws = g->waiters = calloc(1, sizeof(*ws))))
		return -1;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->id = strdup(id))) {
		free(w);
		return -1;
	}
	w->deadline_ms = deadline_ms;
	w->fn = fn;
	w->d = d;
	b = hash_of(id) % BUCKETS;
	w->next_id = ws->bucket[b];
	ws->bucket[b] = w;
	/* every wait is --result-wait-ms long: the new one nearly always goes last */
	for (at = ws->tail; at && at->deadline_ms > deadline_ms; at = at->prev_t)
		;
	w->prev_t = at;
	w->next_t = at ? at->next_t : ws->head;
	if (w->next_t)
		w->next_t->prev_t = w;
	else
		ws->tail = w;
	if (at)
		at->next_t = w;
	else
		ws->head = w;
	return 0;
}

/* Takes w out of both lists. */
static void unlink_waiter(struct gw_waiters *ws, struct waiter *w)
{
	struct waiter **pp = &ws->bucket[hash_of(w->id) % BUCKETS];

	while (*pp && *pp != w)
		pp = &(*pp)->next_id;
	if (*pp)
		*pp = w->next_id;
	if (w->prev_t)
		w->prev_t->next_t = w->next_t;
	else
		ws->head = w->next_t;
	if (w->next_t)
		w->next_t->prev_t = w->prev_t;
	else
		ws->tail = w->prev_t;
	w->next_id = w->prev_t = w->next_t = NULL;
}

/* Takes the waiters of id out of the lists; returns them chained by next_id. */
static struct waiter *take_waiters(struct gw *g, const char *id)
{
	struct gw_waiters *ws = g->waiters;
	struct waiter *found = NULL, *w, *next;

	if (!ws)
		return NULL;
	for (w = ws->bucket[hash_of(id) % BUCKETS]; w; w = next) {
		next = w->next_id;
		if (strcmp(w->id, id) != 0)
			continue;
		unlink_waiter(ws, w);
		w->next_id = found;
		found = w;
	}
	return found;
}

/* Calls and frees a chain of waiters taken out of the lists. */
static void call_waiters(struct gw *g, struct waiter *w, int state, const char *result)
{
	while (w) {
		struct waiter *next = w->next_id;

		w->fn(g, w->d, w->id, state, result, w->deadline_ms);
		free(w->id);
		free(w);
		w = next;
	}
}

/* The cache slot of id: direct mapped (a collision just evicts). */
static size_t slot_of(const char *id)
{
	return (size_t)(hash_of(id) % GW_RESULTS);
}

/* Remembers a durable final result for the next WorkOrderGetResult of id. */
static void result_put(struct gw *g, const char *id, int state, const char *result)
{
	char *i = strdup(id), *t = strdup(result ? result : "");
	struct gw_result *r;

	if (!g->results)
		g->results = calloc(GW_RESULTS, sizeof(*g->results));
	if (!i || !t || !g->results) {
		free(i);
		free(t);
		return;
	}
	r = &g->results[slot_of(id)];
	free(r->id);
	free(r->text);
	*r = (struct gw_result){.id = i, .text = t, .state = state};
}

/* Order id became final here (see gateway.h). */
void gw_order_final(struct gw *g, const char *id, int state, const char *result)
{
	struct waiter *w = take_waiters(g, id);

	if (!w) {
		result_put(g, id, state, result);
		return;
	}
	gw_result_forget(g, id);
	call_waiters(g, w, state, result);
}

/* On the loop: another gateway made order id final. */
static void final_elsewhere(struct gw *g, const char *id)
{
	gw_result_forget(g, id);
	call_waiters(g, take_waiters(g, id), GW_WAKE_ELSEWHERE, NULL);
}

/* Another gateway made order id final (see gateway.h). */
void gw_order_final_elsewhere(struct gw *g, const char *id)
{
	gw_loop_post(g, final_elsewhere, id);
}

/* Answers the waiters whose deadline passed (see gateway.h). */
void gw_waiters_expire(struct gw *g, int64_t now_ms)
{
	struct gw_waiters *ws = g->waiters;
	struct waiter *due = NULL, **last = &due;

	while (ws && ws->head && ws->head->deadline_ms <= now_ms) {
		struct waiter *w = ws->head;

		unlink_waiter(ws, w);
		*last = w;
		last = &w->next_id;
	}
	call_waiters(g, due, GW_WAKE_TIMEOUT, NULL);
}

/* Milliseconds until the next deadline (see gateway.h). */
int64_t gw_waiters_timeout(struct gw *g, int64_t now_ms)
{
	struct gw_waiters *ws = g->waiters;

	if (!ws || !ws->head)
		return 1000;
	return ws->head->deadline_ms > now_ms ? ws->head->deadline_ms - now_ms : 0;
}

/* Draining: every waiter is answered now (see gateway.h). */
void gw_waiters_answer_all(struct gw *g)
{
	struct gw_waiters *ws = g->waiters;
	struct waiter *all = NULL, **last = &all;

	while (ws && ws->head) {
		struct waiter *w = ws->head;

		unlink_waiter(ws, w);
		*last = w;
		last = &w->next_id;
	}
	call_waiters(g, all, GW_WAKE_TIMEOUT, NULL);
}

/* Marks id as submitted here and not final yet, unless the slot already
 * holds its result (see gateway.h). */
void gw_result_pending(struct gw *g, const char *id)
{
	struct gw_result *r;
	char *i;

	if (!g->results)
		g->results = calloc(GW_RESULTS, sizeof(*g->results));
	r = g->results ? &g->results[slot_of(id)] : NULL;
	if (!r || (r->id && strcmp(r->id, id) == 0) || !(i = strdup(id)))
		return;
	free(r->id);
	free(r->text);
	*r = (struct gw_result){.id = i, .text = NULL, .state = ORDER_QUEUED};
}

/* Drops the pending marker of id, if any (see gateway.h). */
void gw_result_forget(struct gw *g, const char *id)
{
	struct gw_result *r = g->results ? &g->results[slot_of(id)] : NULL;

	if (r && r->id && r->state == ORDER_QUEUED && strcmp(r->id, id) == 0) {
		free(r->id);
		free(r->text);
		r->id = r->text = NULL;
	}
}

/* Takes a remembered result (see gateway.h). */
int gw_result_take(struct gw *g, const char *id, int *state, char **result)
{
	struct gw_result *r = g->results ? &g->results[slot_of(id)] : NULL;

	if (!r || !r->id || strcmp(r->id, id) != 0)
		return 0;
	*state = r->state;
	if (r->state == ORDER_QUEUED) {
		/* only a marker: keep it */
		*result = NULL;
		return 1;
	}
	*result = r->text;
	free(r->id);
	r->id = NULL;
	r->text = NULL;
	return 1;
}

/* Frees the remembered results and the waiters' table (see gateway.h). */
void gw_results_free(struct gw *g)
{
	struct gw_waiters *ws = g->waiters;

	for (size_t k = 0; g->results && k < GW_RESULTS; k++) {
		free(g->results[k].id);
		free(g->results[k].text);
	}
	free(g->results);
	g->results = NULL;
	while (ws && ws->head) {
		struct waiter *w = ws->head;

		unlink_waiter(ws, w);
		log_warn("order %s: a long poll was still waiting at exit", w->id);
		free(w->id);
		free(w);
	}
	free(ws);
	g->waiters = NULL;
}
