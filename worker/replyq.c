/* SPDX-License-Identifier: Apache-2.0 */
/* replyq.c - the reply queue from the processing threads to the I/O thread (see replyq.h). */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "replyq.h"
#include "tcw/tcw.h"

/*
 * Lock-free: the processing threads push onto a stack with a
 * compare-and-swap (no lock, so no futex when they contend), the I/O thread
 * takes the whole stack with one exchange and reverses it. The wake-up is
 * the classic Dekker pattern with sequentially consistent atomics: a push
 * stores its reply and then reads waiting; the I/O thread stores waiting and
 * then reads the stack; at least one of them sees the other, so a reply is
 * never left behind a sleeping I/O thread.
 */
struct replyq {
	_Atomic(struct request *) head; /* newest first */
	atomic_int waiting;             /* the I/O thread is (about to be) blocked on efd */
	atomic_int signaled;            /* a push of this wait has written (or will write) efd */
	int efd;
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
	if (q->efd < 0) {
		free(q);
		return TCW_ERR_INTERNAL;
	}
	atomic_init(&q->head, NULL);
	atomic_init(&q->waiting, 0);
	atomic_init(&q->signaled, 0);
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
	for (r = atomic_load(&q->head); r != NULL; r = next) {
		next = r->next;
		request_free(&r);
	}
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
	struct request *old = atomic_load_explicit(&q->head, memory_order_relaxed);

	do {
		r->next = old;
	} while (!atomic_compare_exchange_weak(&q->head, &old, r));
	/* at most one write per wait; the counter cannot overflow */
	if (atomic_load(&q->waiting) && atomic_exchange(&q->signaled, 1) == 0) {
		while (write(q->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
}

/* Announces a wait unless replies are waiting; see replyq.h. */
int replyq_prepare_wait(struct replyq *q)
{
	atomic_store(&q->waiting, 1);
	if (atomic_load(&q->head) == NULL)
		return 0;
	atomic_store(&q->waiting, 0);
	return 1;
}

/* Takes every waiting reply and ends the wait; see replyq.h. */
struct request *replyq_take(struct replyq *q)
{
	struct request *stack = atomic_exchange(&q->head, NULL), *list = NULL, *next;

	atomic_store(&q->waiting, 0);
	atomic_store(&q->signaled, 0);
	for (; stack != NULL; stack = next) { /* newest first -> oldest first */
		next = stack->next;
		stack->next = list;
		list = stack;
	}
	return list;
}

/* Resets the eventfd after poll() found it readable; see replyq.h. */
void replyq_drain(struct replyq *q)
{
	uint64_t count;

	while (read(q->efd, &count, sizeof(count)) < 0 && errno == EINTR)
		;
}
