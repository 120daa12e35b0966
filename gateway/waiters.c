/* SPDX-License-Identifier: Apache-2.0 */
/* waiters.c - WorkOrderGetResult long polls: threads waiting for one order, woken when it is
 * final, and the final results kept for them in front of the store. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway.h"

/* Wakes the waiters of order id (NULL: all). */
void gw_wake(struct gw *g, const char *id)
{
	pthread_mutex_lock(&g->wait_mu);
	for (struct gw_waiter *w = g->waiters; w; w = w->next) {
		if (!id || strcmp(w->id, id) == 0) {
			w->woken = 1;
			pthread_cond_signal(&w->cv);
		}
	}
	pthread_mutex_unlock(&g->wait_mu);
}

/* Registers w for order id (see gateway.h). */
void gw_waiter_add(struct gw *g, struct gw_waiter *w, const char *id)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_REALTIME);
	pthread_cond_init(&w->cv, &a);
	pthread_condattr_destroy(&a);
	w->id = id;
	w->woken = 0;
	pthread_mutex_lock(&g->wait_mu);
	w->next = g->waiters;
	g->waiters = w;
	pthread_mutex_unlock(&g->wait_mu);
}

/* Waits for a wake-up or the deadline (see gateway.h). */
int gw_waiter_wait(struct gw *g, struct gw_waiter *w, int64_t deadline_ms)
{
	struct timespec ts = {.tv_sec = deadline_ms / 1000,
	                      .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
	int woken;

	pthread_mutex_lock(&g->wait_mu);
	while (!w->woken && !g->draining &&
	       pthread_cond_timedwait(&w->cv, &g->wait_mu, &ts) == 0)
		;
	woken = w->woken;
	w->woken = 0;
	pthread_mutex_unlock(&g->wait_mu);
	return woken;
}

/* Unregisters w (see gateway.h). */
void gw_waiter_remove(struct gw *g, struct gw_waiter *w)
{
	pthread_mutex_lock(&g->wait_mu);
	for (struct gw_waiter **pp = &g->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&g->wait_mu);
	pthread_cond_destroy(&w->cv);
}

/* The cache slot of id: FNV-1a, direct mapped (a collision just evicts). */
static size_t slot_of(const char *id)
{
	uint64_t h = 1469598103934665603ull;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ull;
	return (size_t)(h % GW_RESULTS);
}

/* Remembers a durable final result (see gateway.h). */
void gw_result_put(struct gw *g, const char *id, int state, const char *result)
{
	char *i = strdup(id), *t = strdup(result ? result : "");
	struct gw_result *r;

	if (!i || !t) {
		free(i);
		free(t);
		return;
	}
	pthread_mutex_lock(&g->wait_mu);
	if (!g->results)
		g->results = calloc(GW_RESULTS, sizeof(*g->results));
	if (g->results) {
		r = &g->results[slot_of(id)];
		free(r->id);
		free(r->text);
		*r = (struct gw_result){.id = i, .text = t, .state = state};
		i = t = NULL;
	}
	pthread_mutex_unlock(&g->wait_mu);
	free(i);
	free(t);
}

/* Marks id as submitted here and not final yet, unless the slot already
 * holds its result (see gateway.h). */
void gw_result_pending(struct gw *g, const char *id)
{
	struct gw_result *r;
	char *i = strdup(id);

	if (!i)
		return;
	pthread_mutex_lock(&g->wait_mu);
	if (!g->results)
		g->results = calloc(GW_RESULTS, sizeof(*g->results));
	r = g->results ? &g->results[slot_of(id)] : NULL;
	if (r && !(r->id && strcmp(r->id, id) == 0)) {
		free(r->id);
		free(r->text);
		*r = (struct gw_result){.id = i, .text = NULL, .state = ORDER_QUEUED};
		i = NULL;
	}
	pthread_mutex_unlock(&g->wait_mu);
	free(i);
}

/* Drops the pending marker of id, if any (see gateway.h). */
void gw_result_forget(struct gw *g, const char *id)
{
	struct gw_result *r;

	pthread_mutex_lock(&g->wait_mu);
	r = g->results ? &g->results[slot_of(id)] : NULL;
	if (r && r->id && r->state == ORDER_QUEUED && strcmp(r->id, id) == 0) {
		free(r->id);
		free(r->text);
		r->id = r->text = NULL;
	}
	pthread_mutex_unlock(&g->wait_mu);
}

/* Takes a remembered result (see gateway.h). */
int gw_result_take(struct gw *g, const char *id, int *state, char **result)
{
	struct gw_result *r;
	int found = 0;

	pthread_mutex_lock(&g->wait_mu);
	r = g->results ? &g->results[slot_of(id)] : NULL;
	if (r && r->id && strcmp(r->id, id) == 0) {
		*state = r->state;
		if (r->state == ORDER_QUEUED) {
			/* only a marker: keep it */
			*result = NULL;
			pthread_mutex_unlock(&g->wait_mu);
			return 1;
		}
		*result = r->text;
		free(r->id);
		r->id = NULL;
		r->text = NULL;
		found = 1;
	}
	pthread_mutex_unlock(&g->wait_mu);
	return found;
}

/* Frees the remembered results (see gateway.h). */
void gw_results_free(struct gw *g)
{
	for (size_t k = 0; g->results && k < GW_RESULTS; k++) {
		free(g->results[k].id);
		free(g->results[k].text);
	}
	free(g->results);
	g->results = NULL;
}
