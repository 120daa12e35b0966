/* SPDX-License-Identifier: Apache-2.0 */
/* test_replyq.c - the worker's reply queue: order, ownership, and the eventfd wake-up protocol. */
#include "testutil.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "replyq.h"

#define THREADS 4
#define PER_THREAD 2000

/* A request carrying reply text (owned). */
static struct request *answered(const char *text)
{
	struct request *r = request_new();

	assert_non_null(r);
	r->reply = strdup(text);
	assert_non_null(r->reply);
	r->reply_size = strlen(text);
	return r;
}

/* 1 when the queue's eventfd is readable now. */
static int readable(struct replyq *q)
{
	struct pollfd p = {.fd = replyq_fd(q), .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Pushes are kept in order; nobody is woken while nobody waits. */
static void test_order_and_no_needless_wakeup(void **state)
{
	struct replyq *q;
	struct request *list, *r;

	(void)state;
	assert_int_equal(replyq_new(&q), 0);
	assert_null(replyq_take(q));
	replyq_push(q, answered("one"));
	replyq_push(q, answered("two"));
	replyq_push(q, answered("three"));
	assert_false(readable(q)); /* the I/O thread was not waiting */
	assert_int_equal(replyq_prepare_wait(q), 1); /* replies wait: do not sleep */
	list = replyq_take(q);
	assert_string_equal(list->reply, "one");
	assert_string_equal(list->next->reply, "two");
	assert_string_equal(list->next->next->reply, "three");
	assert_null(list->next->next->next);
	while (list != NULL) {
		r = list;
		list = list->next;
		request_free(&r);
	}
	/* left in the queue at the end: freed with it (ASan checks) */
	replyq_push(q, answered("left"));
	replyq_free(&q);
	assert_null(q);
}

/* A wait is ended by exactly one write, however many replies arrive. */
static void test_wakeup_once_per_wait(void **state)
{
	struct replyq *q;
	struct request *list, *r;

	(void)state;
	assert_int_equal(replyq_new(&q), 0);
	assert_int_equal(replyq_prepare_wait(q), 0);
	assert_false(readable(q));
	replyq_push(q, answered("a"));
	assert_true(readable(q));
	replyq_push(q, answered("b"));
	replyq_drain(q);
	assert_false(readable(q)); /* one write only */
	list = replyq_take(q);
	assert_non_null(list->next);
	while (list != NULL) {
		r = list;
		list = list->next;
		request_free(&r);
	}
	/* after the take no push writes until the next wait */
	replyq_push(q, answered("c"));
	assert_false(readable(q));
	replyq_free(&q);
}

struct producer {
	struct replyq *q;
	int id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	char text[32];

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(text, sizeof(text), "%d %d", p->id, i);
		replyq_push(p->q, answered(text));
	}
	return NULL;
}

/* Threads push while the consumer takes and waits as the I/O thread does:
 * every reply arrives once, each thread's in order, and the consumer never
 * sleeps through a push. */
static void test_threads(void **state)
{
	struct producer prod[THREADS];
	pthread_t th[THREADS];
	int next[THREADS] = {0}, got = 0;
	struct replyq *q;

	(void)state;
	assert_int_equal(replyq_new(&q), 0);
	for (int t = 0; t < THREADS; t++) {
		prod[t] = (struct producer){q, t};
		assert_int_equal(pthread_create(&th[t], NULL, produce, &prod[t]), 0);
	}
	while (got < THREADS * PER_THREAD) {
		struct request *list = replyq_take(q), *r;

		while (list != NULL) {
			int id, i;

			r = list;
			list = list->next;
			assert_int_equal(sscanf(r->reply, "%d %d", &id, &i), 2);
			assert_int_equal(i, next[id]);
			next[id]++;
			got++;
			request_free(&r);
		}
		if (got < THREADS * PER_THREAD && !replyq_prepare_wait(q)) {
			struct pollfd p = {.fd = replyq_fd(q), .events = POLLIN};

			/* 10 s: a lost wake-up fails the test instead of hanging it */
			assert_int_equal(poll(&p, 1, 10000), 1);
			replyq_drain(q);
		}
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	replyq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_no_needless_wakeup),
	    cmocka_unit_test(test_wakeup_once_per_wait),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
