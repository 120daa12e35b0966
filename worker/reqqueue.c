/* SPDX-License-Identifier: Apache-2.0 */
/* reqqueue.c - a bounded FIFO of requests (mutex + condition variable). */
#include <pthread.h>
#include <stdlib.h>

#include "reqqueue.h"
#include "tcw/tcw.h"

struct reqqueue {
	pthread_mutex_t lock;
	pthread_cond_t ready;  /* signalled when a request arrives or on close */
	struct request **ring; /* capacity slots */
	size_t capacity;
	size_t head;   /* index of the oldest waiting request */
	size_t count;  /* waiting requests */
	size_t active; /* popped, not yet done */
	size_t idle;   /* threads blocked in reqqueue_pop */
	int closed;
};

/* Allocates an empty request (see reqqueue.h). */
struct request *request_new(void)
{
	return calloc(1, sizeof(struct request));
}

/* Closes every frame of *r, frees its reply and r (see reqqueue.h). */
void request_free(struct request **rp)
{
	struct request *r;
	size_t i;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	for (i = 0; i < r->env_count; i++)
		zmq_msg_close(&r->env[i]);
	if (r->has_body)
		zmq_msg_close(&r->body);
	if (r->share != NULL)
		shreply_release(r->share);
	else
		free(r->reply);
	free(r);
	*rp = NULL;
}

/* Creates a queue of capacity waiting requests (see reqqueue.h). */
int reqqueue_new(size_t capacity, struct reqqueue **out)
{
	struct reqqueue *q;

	*out = NULL;
	if (capacity == 0)
		return TCW_ERR_INTERNAL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return TCW_ERR_NOMEM;
	q->ring = calloc(capacity, sizeof(*q->ring));
	if (q->ring == NULL) {
		free(q);
		return TCW_ERR_NOMEM;
	}
	if (pthread_mutex_init(&q->lock, NULL) != 0) {
		free(q->ring);
		free(q);
		return TCW_ERR_INTERNAL;
	}
	if (pthread_cond_init(&q->ready, NULL) != 0) {
		pthread_mutex_destroy(&q->lock);
		free(q->ring);
		free(q);
		return TCW_ERR_INTERNAL;
	}
	q->capacity = capacity;
	*out = q;
	return 0;
}

/* Frees the queue and what it still holds (see reqqueue.h). */
void reqqueue_free(struct reqqueue **qp)
{
	struct reqqueue *q;

	if (qp == NULL || *qp == NULL)
		return;
	q = *qp;
	while (q->count > 0) {
		request_free(&q->ring[q->head]);
		q->head = (q->head + 1) % q->capacity;
		q->count--;
	}
	pthread_cond_destroy(&q->ready);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q);
	*qp = NULL;
}

/* Appends r unless the queue is full or closed (see reqqueue.h). */
int reqqueue_push(struct reqqueue *q, struct request *r)
{
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	if (q->closed) {
		rc = TCW_ERR_INTERNAL;
	} else if (q->count == q->capacity) {
		rc = TCW_ERR_BUSY;
	} else {
		q->ring[(q->head + q->count) % q->capacity] = r;
		q->count++;
		/* wake one sleeper only when there is one: no futex call when
		 * every thread is already busy */
		if (q->idle > 0)
			pthread_cond_signal(&q->ready);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* Blocks for the oldest waiting request; NULL once closed and empty. */
struct request *reqqueue_pop(struct reqqueue *q)
{
	struct request *r = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed) {
		q->idle++;
		pthread_cond_wait(&q->ready, &q->lock);
		q->idle--;
	}
	if (q->count > 0) {
		r = q->ring[q->head];
		q->ring[q->head] = NULL;
		q->head = (q->head + 1) % q->capacity;
		q->count--;
		q->active++;
	}
	pthread_mutex_unlock(&q->lock);
	return r;
}

/* Records that a popped request was answered. */
void reqqueue_done(struct reqqueue *q)
{
	pthread_mutex_lock(&q->lock);
	if (q->active > 0)
		q->active--;
	pthread_mutex_unlock(&q->lock);
}

/* Waiting plus active requests. */
size_t reqqueue_in_hand(struct reqqueue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->count + q->active;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* Closes the queue and wakes every waiting thread. */
void reqqueue_close(struct reqqueue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
}
