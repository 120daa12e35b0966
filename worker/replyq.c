/* SPDX-License-Identifier: Apache-2.0 */
/* replyq.c - the reply queue from the processing threads to the I/O thread (see replyq.h). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "replyq.h"
#include "tcw/tcw.h"

struct replyq {
	pthread_mutex_t lock;
	struct request *head, *tail;
	int efd;
	int waiting;  /* the I/O thread is (about to be) blocked on efd */
	int signaled; /* a push of this wait has written (or will write) efd */
};

/* Creates the queue and its eventfd; see replyq.h. */
int replyq_new(struct replyq **out)
{
	struct replyq *q;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return TCW_ERR_NOMEM;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0 || pthread_mutex_init(&q->lock, NULL) != 0) {
		if (q->efd >= 0)
			close(q->efd);
		free(q);
		return TCW_ERR_INTERNAL;
	}
	*out = q;
	return 0;
}

/* Frees the queue and what it holds; see replyq.h. */
void replyq_free(struct replyq **qp)
{
	struct replyq *q;
	struct request *r, *next;

	if (qp == NULL || *qp == NULL)
		return;
	q = *qp;
	for (r = q->head; r != NULL; r = next) {
		next = r->next;
		request_free(&r);
	}
	pthread_mutex_destroy(&q->lock);
	close(q->efd);
	free(q);
	*qp = NULL;
}

/* The eventfd; see replyq.h. */
int replyq_fd(const struct replyq *q)
{
	return q->efd;
}

/* Appends r and wakes a waiting I/O thread; see replyq.h. */
void replyq_push(struct replyq *q, struct request *r)
{
	static const uint64_t one = 1;
	int wake = 0;

	r->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail != NULL)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
	if (q->waiting && !q->signaled) {
		q->signaled = 1;
		wake = 1;
	}
	pthread_mutex_unlock(&q->lock);
	/* at most one write per wait; the counter cannot overflow */
	while (wake && write(q->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* Announces a wait unless replies are waiting; see replyq.h. */
int replyq_prepare_wait(struct replyq *q)
{
	int ready;

	pthread_mutex_lock(&q->lock);
	ready = q->head != NULL;
	if (!ready)
		q->waiting = 1;
	pthread_mutex_unlock(&q->lock);
	return ready;
}

/* Takes every waiting reply and ends the wait; see replyq.h. */
struct request *replyq_take(struct replyq *q)
{
	struct request *list;

	pthread_mutex_lock(&q->lock);
	list = q->head;
	q->head = q->tail = NULL;
	q->waiting = 0;
	q->signaled = 0;
	pthread_mutex_unlock(&q->lock);
	return list;
}

/* Resets the eventfd after poll() found it readable; see replyq.h. */
void replyq_drain(struct replyq *q)
{
	uint64_t count;

	while (read(q->efd, &count, sizeof(count)) < 0 && errno == EINTR)
		;
}
