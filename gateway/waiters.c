/* SPDX-License-Identifier: Apache-2.0 */
/* waiters.c - WorkOrderGetResult long polls: threads waiting for one order, woken when it is final. */
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
