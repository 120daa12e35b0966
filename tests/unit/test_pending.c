/* SPDX-License-Identifier: Apache-2.0 */
/* test_pending.c - the pending orders: acceptance, the one claim of an interrupted order,
 * copies waiting for the running one, a full table, expiry, pruning, threads. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pending.h"

#define CLAIMERS 8

/* A stand-in for the replay cache: the ids recorded so far. */
static struct {
	pthread_mutex_t lock;
	uint8_t keys[64][32];
	int count;
	uint64_t now;
} g_ids = {.lock = PTHREAD_MUTEX_INITIALIZER, .now = 1000};

static int record(void *ctx, const uint8_t key[32], uint64_t *time)
{
	int rc = TCW_OK;

	(void)ctx;
	pthread_mutex_lock(&g_ids.lock);
	for (int i = 0; i < g_ids.count; i++)
		if (memcmp(g_ids.keys[i], key, 32) == 0)
			rc = TCW_ERR_DUPLICATE;
	if (rc == TCW_OK) {
		assert_true(g_ids.count < 64);
		memcpy(g_ids.keys[g_ids.count++], key, 32);
		*time = g_ids.now;
	}
	pthread_mutex_unlock(&g_ids.lock);
	return rc;
}

/* A record hook that fails, as the cache does on a bad id. */
static int record_fails(void *ctx, const uint8_t key[32], uint64_t *time)
{
	(void)ctx;
	(void)key;
	(void)time;
	return TCW_ERR_INTERNAL;
}

static void forget_ids(void)
{
	g_ids.count = 0;
}

static void fill(uint8_t v, uint8_t out[32])
{
	memset(out, v, 32);
}

static struct pending_record rec(uint8_t k, uint8_t r, uint64_t time)
{
	struct pending_record x = {.time = time};

	fill(k, x.key);
	fill(r, x.request);
	return x;
}

static int enter(struct pending *p, uint8_t k, uint8_t r, unsigned wait_ms, uint64_t *time)
{
	uint8_t key[32], request[32];
	uint64_t t = 0;

	fill(k, key);
	fill(r, request);
	return pending_enter(p, key, request, record, NULL, wait_ms, time ? time : &t);
}

static int finish(struct pending *p, uint8_t k, uint8_t r)
{
	uint8_t key[32], request[32];

	fill(k, key);
	fill(r, request);
	return pending_finish(p, key, request);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_limits(void **state)
{
	struct pending *p = NULL;
	uint8_t key[32] = {0};
	uint64_t t;
	(void)state;
	assert_int_equal(pending_new(0, &p), TCW_ERR_INVALID_PARAM);
	assert_null(p);
	assert_int_equal(pending_new(REPLAY_MAX_ENTRIES + 1, &p), TCW_ERR_INVALID_PARAM);
	assert_int_equal(pending_new(4, &p), TCW_OK);
	/* the record hook's failure is passed on, nothing is added */
	assert_int_equal(pending_enter(p, key, key, record_fails, NULL, 0, &t), TCW_ERR_INTERNAL);
	assert_int_equal(pending_count(p, NULL), 0);
	pending_free(&p);
	assert_null(p);
	pending_free(&p);
}

/* A new order is running until its reply; an interrupted one is claimed
 * once, by its own request only. */
static void test_enter_claim_finish(void **state)
{
	struct pending *p = NULL;
	struct pending_record r = rec(2, 20, 900);
	size_t interrupted = 9;
	uint64_t t = 0;
	(void)state;
	forget_ids();
	assert_int_equal(pending_new(16, &p), TCW_OK);
	assert_int_equal(pending_changes(p), 0);
	assert_int_equal(enter(p, 1, 10, 0, &t), TCW_OK);
	assert_int_equal(t, 1000);
	assert_int_equal(pending_count(p, &interrupted), 1);
	assert_int_equal(interrupted, 0);
	assert_int_equal(pending_changes(p), 1);
	/* a copy while it runs (no wait), another request: duplicates */
	assert_int_equal(enter(p, 1, 10, 0, NULL), TCW_ERR_DUPLICATE);
	assert_int_equal(enter(p, 1, 11, 0, NULL), TCW_ERR_DUPLICATE);
	/* the reply of another request does not end it */
	assert_int_equal(finish(p, 1, 11), 0);
	assert_int_equal(finish(p, 1, 10), 1);
	assert_int_equal(finish(p, 1, 10), 0);
	assert_int_equal(pending_count(p, NULL), 0);
	assert_int_equal(pending_changes(p), 2);
	/* answered: never claimed again */
	assert_int_equal(enter(p, 1, 10, 0, NULL), TCW_ERR_DUPLICATE);

	/* an order of an earlier run, its id known to the cache */
	assert_int_equal(record(NULL, r.key, &t), TCW_OK);
	assert_int_equal(pending_add(p, &r), 1);
	assert_int_equal(pending_add(p, &r), 0); /* once */
	assert_int_equal(pending_count(p, &interrupted), 1);
	assert_int_equal(interrupted, 1);
	assert_int_equal(enter(p, 2, 21, 0, NULL), TCW_ERR_DUPLICATE);
	assert_int_equal(pending_count(p, &interrupted), 1);
	assert_int_equal(interrupted, 1);
	t = 0;
	assert_int_equal(enter(p, 2, 20, 0, &t), PENDING_RERUN);
	assert_int_equal(t, 900);
	assert_int_equal(pending_count(p, &interrupted), 1);
	assert_int_equal(interrupted, 0);
	/* claimed: a second exact copy does not run it again */
	assert_int_equal(enter(p, 2, 20, 0, NULL), TCW_ERR_DUPLICATE);
	assert_int_equal(finish(p, 2, 20), 1);
	assert_int_equal(enter(p, 2, 20, 0, NULL), TCW_ERR_DUPLICATE);

	/* an entry whose id left the cache (expired, evicted) does not count:
	 * the id is accepted anew, and the new request is the pending one */
	r = rec(3, 30, 800);
	assert_int_equal(pending_add(p, &r), 1);
	assert_int_equal(enter(p, 3, 31, 0, &t), TCW_OK);
	assert_int_equal(t, 1000);
	assert_int_equal(pending_count(p, &interrupted), 1);
	assert_int_equal(interrupted, 0);
	assert_int_equal(finish(p, 3, 30), 0);
	assert_int_equal(finish(p, 3, 31), 1);
	pending_free(&p);
}

/* A full table still accepts orders (they cannot run again after a stop)
 * and refuses interrupted entries beyond its size. */
static void test_full(void **state)
{
	struct pending *p = NULL;
	struct pending_record r = rec(9, 90, 1);
	(void)state;
	forget_ids();
	assert_int_equal(pending_new(2, &p), TCW_OK);
	assert_int_equal(enter(p, 1, 1, 0, NULL), TCW_OK);
	assert_int_equal(enter(p, 2, 2, 0, NULL), TCW_OK);
	assert_int_equal(enter(p, 3, 3, 0, NULL), TCW_OK);
	assert_int_equal(pending_count(p, NULL), 2);
	assert_int_equal(finish(p, 3, 3), 0);
	assert_int_equal(pending_add(p, &r), 0);
	assert_int_equal(finish(p, 1, 1), 1);
	assert_int_equal(pending_add(p, &r), 1);
	pending_free(&p);
}

/* Many entries: the index grows and finds every one. */
static void test_many(void **state)
{
	struct pending *p = NULL;
	struct pending_record r;
	size_t interrupted = 0;
	(void)state;
	assert_int_equal(pending_new(5000, &p), TCW_OK);
	for (unsigned i = 0; i < 3000; i++) {
		r = (struct pending_record){.time = i};
		memcpy(r.key, &i, sizeof(i));
		memcpy(r.request, &i, sizeof(i));
		assert_int_equal(pending_add(p, &r), 1);
	}
	assert_int_equal(pending_count(p, &interrupted), 3000);
	assert_int_equal(interrupted, 3000);
	for (unsigned i = 0; i < 3000; i += 2) {
		r = (struct pending_record){.time = i};
		memcpy(r.key, &i, sizeof(i));
		memcpy(r.request, &i, sizeof(i));
		assert_int_equal(pending_finish(p, r.key, r.request), 1);
	}
	assert_int_equal(pending_count(p, NULL), 1500);
	pending_free(&p);
}

struct waiter {
	struct pending *p;
	uint8_t k, r;
	unsigned wait_ms;
	int rc;
	double done_at;
};

static void *wait_copy(void *arg)
{
	struct waiter *w = arg;

	w->rc = enter(w->p, w->k, w->r, w->wait_ms, NULL);
	w->done_at = now_s();
	return NULL;
}

/* A copy of a running request waits for its reply (then duplicate: the
 * caller takes the kept reply), at most its wait; another request does not
 * wait. */
static void test_wait(void **state)
{
	struct pending *p = NULL;
	struct waiter w;
	pthread_t t;
	double t0, finished;
	(void)state;
	forget_ids();
	assert_int_equal(pending_new(16, &p), TCW_OK);
	assert_int_equal(enter(p, 1, 10, 0, NULL), TCW_OK);
	w = (struct waiter){.p = p, .k = 1, .r = 10, .wait_ms = 20000};
	assert_int_equal(pthread_create(&t, NULL, wait_copy, &w), 0);
	usleep(200000);
	finished = now_s();
	assert_int_equal(finish(p, 1, 10), 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rc, TCW_ERR_DUPLICATE);
	assert_true(w.done_at >= finished);
	assert_true(w.done_at - finished < 5.0);
	/* nobody answers: the wait ends at its bound */
	assert_int_equal(enter(p, 2, 20, 0, NULL), TCW_OK);
	t0 = now_s();
	assert_int_equal(enter(p, 2, 20, 300, NULL), TCW_ERR_DUPLICATE);
	assert_true(now_s() - t0 >= 0.29);
	/* another request with the id never waits */
	t0 = now_s();
	assert_int_equal(enter(p, 2, 21, 20000, NULL), TCW_ERR_DUPLICATE);
	assert_true(now_s() - t0 < 5.0);
	pending_free(&p);
}

static void *claim(void *arg)
{
	struct waiter *w = arg;

	w->rc = enter(w->p, w->k, w->r, w->wait_ms, NULL);
	if (w->rc == PENDING_RERUN) {
		usleep(100000); /* "runs", then its reply is recorded */
		assert_int_equal(finish(w->p, w->k, w->r), 1);
	}
	return NULL;
}

/* Copies of an interrupted order arriving at once: exactly one runs it,
 * the others wait for it and then are duplicates. */
static void test_race(void **state)
{
	struct pending_record r = rec(5, 50, 1);
	struct waiter w[CLAIMERS];
	pthread_t t[CLAIMERS];
	struct pending *p = NULL;
	uint64_t tm;
	int runs = 0;
	(void)state;
	forget_ids();
	assert_int_equal(pending_new(16, &p), TCW_OK);
	assert_int_equal(record(NULL, r.key, &tm), TCW_OK);
	assert_int_equal(pending_add(p, &r), 1);
	for (int i = 0; i < CLAIMERS; i++) {
		w[i] = (struct waiter){.p = p, .k = 5, .r = 50, .wait_ms = 20000};
		assert_int_equal(pthread_create(&t[i], NULL, claim, &w[i]), 0);
	}
	for (int i = 0; i < CLAIMERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (w[i].rc == PENDING_RERUN)
			runs++;
		else
			assert_int_equal(w[i].rc, TCW_ERR_DUPLICATE);
	}
	assert_int_equal(runs, 1);
	assert_int_equal(pending_count(p, NULL), 0);
	pending_free(&p);
}

static int answered_odd(void *ctx, const uint8_t key[32], const uint8_t request[32])
{
	(void)request;
	(*(int *)ctx)++;
	return key[0] % 2;
}

/* The records for the replay file: unexpired, oldest first; an expired
 * interrupted entry goes, a running one stays in memory. Pruning. */
static void test_records_prune(void **state)
{
	struct pending_record r, *v = NULL;
	struct pending *p = NULL;
	size_t n = 9, interrupted = 0;
	uint64_t changes = 0;
	int calls = 0;
	(void)state;
	forget_ids();
	assert_int_equal(pending_new(16, &p), TCW_OK);
	assert_int_equal(pending_records(p, 1000, 100, &v, &n, &changes), TCW_OK);
	assert_null(v);
	assert_int_equal(n, 0);
	r = rec(1, 11, 950);
	assert_int_equal(pending_add(p, &r), 1);
	r = rec(2, 12, 700); /* expired at 1000 with ttl 100 */
	assert_int_equal(pending_add(p, &r), 1);
	r = rec(3, 13, 920);
	assert_int_equal(pending_add(p, &r), 1);
	g_ids.now = 600; /* a running entry accepted long ago */
	assert_int_equal(enter(p, 4, 14, 0, NULL), TCW_OK);
	g_ids.now = 1000;
	assert_int_equal(pending_records(p, 1000, 100, &v, &n, &changes), TCW_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].key[0], 3);
	assert_int_equal(v[0].time, 920);
	assert_int_equal(v[0].request[31], 13);
	assert_int_equal(v[1].key[0], 1);
	assert_int_equal(changes, 5); /* 4 added, 1 expired */
	assert_int_equal(pending_count(p, &interrupted), 3);
	assert_int_equal(interrupted, 2);
	free(v);
	assert_int_equal(pending_prune(p, answered_odd, &calls), 2);
	assert_int_equal(calls, 3);
	assert_int_equal(pending_count(p, NULL), 1);
	assert_int_equal(finish(p, 4, 14), 1);
	pending_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits),        cmocka_unit_test(test_enter_claim_finish),
	    cmocka_unit_test(test_full),          cmocka_unit_test(test_many),
	    cmocka_unit_test(test_wait),          cmocka_unit_test(test_race),
	    cmocka_unit_test(test_records_prune),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
