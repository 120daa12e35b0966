/* SPDX-License-Identifier: Apache-2.0 */
/* pending.c - work orders accepted and not answered yet: a hash table by id key, the claim
 * of an interrupted order, copies waiting for the running one. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pending.h"
#include "tcw/tcw.h"

#define KEY_SIZE REPLAY_KEY_SIZE
/* Bits of the first index. */
#define FIRST_BITS 6u

enum { RUNNING = 1, INTERRUPTED = 2 };

struct entry {
	struct entry *chain; /* next in the same bucket */
	struct pending_record r;
	int state;
};

struct pending {
	pthread_mutex_t lock;
	pthread_cond_t gone;    /* an entry was removed */
	struct entry **buckets; /* 1 << bits chain heads, NULL while empty */
	unsigned bits;
	uint64_t mult; /* random odd multiplier: bucket choice is not predictable */
	size_t count, max, interrupted;
	unsigned waiters; /* copies waiting in pending_enter */
	uint64_t changes;
};

/* Creates an empty table; see pending.h. */
int pending_new(size_t max, struct pending **out)
{
	pthread_condattr_t attr;
	struct pending *p;
	int ok;

	*out = NULL;
	if (max < 1 || max > REPLAY_MAX_ENTRIES)
		return TCW_ERR_INVALID_PARAM;
	p = calloc(1, sizeof(*p));
	if (!p)
		return TCW_ERR_NOMEM;
	if (pthread_condattr_init(&attr) != 0) {
		free(p);
		return TCW_ERR_NOMEM;
	}
	ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
	     pthread_cond_init(&p->gone, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if (!ok) {
		free(p);
		return TCW_ERR_NOMEM;
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0 ||
	    tcw_random_bytes(&p->mult, sizeof(p->mult)) != TCW_OK) {
		pthread_cond_destroy(&p->gone);
		free(p);
		return TCW_ERR_NOMEM;
	}
	p->mult |= 1;
	p->max = max;
	*out = p;
	return TCW_OK;
}

/* Frees every entry and the table; sets *pp to NULL. */
void pending_free(struct pending **pp)
{
	struct pending *p;

	if (!pp || !*pp)
		return;
	p = *pp;
	for (size_t b = 0; p->buckets && b < ((size_t)1 << p->bits); b++)
		for (struct entry *e = p->buckets[b], *next; e; e = next) {
			next = e->chain;
			free(e);
		}
	free(p->buckets);
	pthread_cond_destroy(&p->gone);
	pthread_mutex_destroy(&p->lock);
	free(p);
	*pp = NULL;
}

/* ---- the index (callers hold the lock) ------------------------------------- */

static struct entry **bucket_of(struct pending *p, const uint8_t key[KEY_SIZE])
{
	uint64_t x;

	memcpy(&x, key, sizeof(x));
	return &p->buckets[(x * p->mult) >> (64 - p->bits)];
}

static struct entry *find(struct pending *p, const uint8_t key[KEY_SIZE])
{
	if (!p->buckets)
		return NULL;
	for (struct entry *e = *bucket_of(p, key); e; e = e->chain)
		if (memcmp(e->r.key, key, KEY_SIZE) == 0)
			return e;
	return NULL;
}

/* Doubles the index when it holds as many entries as buckets (made at the
 * first entry). 0, or TCW_ERR_NOMEM when there is no index at all. */
static int grow(struct pending *p)
{
	unsigned bits = p->buckets ? p->bits + 1 : FIRST_BITS;
	struct entry **old = p->buckets, **b;
	size_t n = p->buckets ? (size_t)1 << p->bits : 0;

	if (p->buckets && p->count < n)
		return 0;
	b = calloc((size_t)1 << bits, sizeof(*b));
	if (!b)
		return p->buckets ? 0 : TCW_ERR_NOMEM; /* a full index still works */
	p->buckets = b;
	p->bits = bits;
	for (size_t i = 0; i < n; i++)
		for (struct entry *e = old[i], *next; e; e = next) {
			struct entry **head = bucket_of(p, e->r.key);

			next = e->chain;
			e->chain = *head;
			*head = e;
		}
	free(old);
	return 0;
}

/* Adds a new entry; 1 when added, 0 when the table is full, NOMEM. */
static int insert(struct pending *p, const struct pending_record *r, int state)
{
	struct entry *e, **head;

	if (p->count >= p->max)
		return 0;
	if (grow(p) != 0 || (e = malloc(sizeof(*e))) == NULL)
		return TCW_ERR_NOMEM;
	e->r = *r;
	e->state = state;
	head = bucket_of(p, r->key);
	e->chain = *head;
	*head = e;
	p->count++;
	p->interrupted += state == INTERRUPTED;
	p->changes++;
	return 1;
}

/* Unlinks and frees e; wakes the copies waiting for an entry to go. */
static void remove_entry(struct pending *p, struct entry *e)
{
	struct entry **link = bucket_of(p, e->r.key);

	while (*link != e)
		link = &(*link)->chain;
	*link = e->chain;
	p->count--;
	p->interrupted -= e->state == INTERRUPTED;
	p->changes++;
	free(e);
	if (p->waiters)
		pthread_cond_broadcast(&p->gone);
}

/* ---- the replay check and the reply ------------------------------------------ */

/* The deadline wait_ms from now on the monotonic clock. */
static void deadline(struct timespec *until, unsigned wait_ms)
{
	clock_gettime(CLOCK_MONOTONIC, until);
	until->tv_sec += wait_ms / 1000u;
	until->tv_nsec += (long)(wait_ms % 1000u) * 1000000L;
	if (until->tv_nsec >= 1000000000L) {
		until->tv_sec++;
		until->tv_nsec -= 1000000000L;
	}
}

/* Records, claims or waits for a running copy; see pending.h. */
int pending_enter(struct pending *p, const uint8_t key[KEY_SIZE], const uint8_t request[KEY_SIZE],
                  pending_record_fn record, void *ctx, unsigned wait_ms, uint64_t *time)
{
	struct timespec until;
	struct entry *e;
	int rc, timed = 0;

	pthread_mutex_lock(&p->lock);
	rc = record(ctx, key, time);
	if (rc == TCW_OK) {
		struct pending_record r = {.time = *time};

		memcpy(r.key, key, KEY_SIZE);
		memcpy(r.request, request, KEY_SIZE);
		/* an entry left by an id that has since left the replay cache
		 * (expired, or evicted from a full cache) no longer counts */
		if ((e = find(p, key)) != NULL)
			remove_entry(p, e);
		insert(p, &r, RUNNING); /* full or out of memory: never runs again */
		pthread_mutex_unlock(&p->lock);
		return TCW_OK;
	}
	while (rc == TCW_ERR_DUPLICATE && (e = find(p, key)) != NULL &&
	       tcw_ct_equal(e->r.request, request, KEY_SIZE)) {
		if (e->state == INTERRUPTED) {
			e->state = RUNNING;
			p->interrupted--;
			*time = e->r.time;
			rc = PENDING_RERUN;
			break;
		}
		/* this very request is being computed: wait for its reply */
		if (wait_ms == 0)
			break;
		if (!timed) {
			deadline(&until, wait_ms);
			timed = 1;
		}
		p->waiters++;
		rc = pthread_cond_timedwait(&p->gone, &p->lock, &until);
		p->waiters--;
		if (rc == ETIMEDOUT)
			wait_ms = 0;
		rc = TCW_ERR_DUPLICATE;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* Removes the entry of an answered order; see pending.h. */
int pending_finish(struct pending *p, const uint8_t key[KEY_SIZE], const uint8_t request[KEY_SIZE])
{
	struct entry *e;
	int gone = 0;

	pthread_mutex_lock(&p->lock);
	e = find(p, key);
	if (e && tcw_ct_equal(e->r.request, request, KEY_SIZE)) {
		remove_entry(p, e);
		gone = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return gone;
}

/* ---- the replay state ---------------------------------------------------------- */

/* Adds an interrupted entry read back; see pending.h. */
int pending_add(struct pending *p, const struct pending_record *r)
{
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (!find(p, r->key))
		rc = insert(p, r, INTERRUPTED);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* Removes the entries whose reply is known; see pending.h. */
size_t pending_prune(struct pending *p,
                     int (*answered)(void *ctx, const uint8_t key[KEY_SIZE],
                                     const uint8_t request[KEY_SIZE]),
                     void *ctx)
{
	size_t gone = 0;

	pthread_mutex_lock(&p->lock);
	for (size_t b = 0; p->buckets && b < ((size_t)1 << p->bits); b++)
		for (struct entry *e = p->buckets[b], *next; e; e = next) {
			next = e->chain;
			if (answered(ctx, e->r.key, e->r.request)) {
				remove_entry(p, e);
				gone++;
			}
		}
	pthread_mutex_unlock(&p->lock);
	return gone;
}

/* Number of entries and of interrupted ones. */
size_t pending_count(struct pending *p, size_t *interrupted)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->count;
	if (interrupted)
		*interrupted = p->interrupted;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* The change count. */
uint64_t pending_changes(struct pending *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->lock);
	n = p->changes;
	pthread_mutex_unlock(&p->lock);
	return n;
}

static int by_time(const void *a, const void *b)
{
	const struct pending_record *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return memcmp(x->key, y->key, KEY_SIZE);
}

/* 1 when an entry accepted at t has expired at now. */
static int expired(uint64_t t, uint64_t now, uint64_t ttl)
{
	return now >= t && now - t >= ttl;
}

/* The unexpired entries; see pending.h. An interrupted entry that expired
 * goes (its id left the replay cache: a resubmission is a new order). */
int pending_records(struct pending *p, uint64_t now, uint64_t ttl, struct pending_record **out,
                    size_t *count, uint64_t *changes)
{
	struct pending_record *v = NULL;
	size_t n = 0;
	int rc = TCW_OK;

	*out = NULL;
	*count = 0;
	pthread_mutex_lock(&p->lock);
	for (size_t b = 0; p->buckets && b < ((size_t)1 << p->bits); b++)
		for (struct entry *e = p->buckets[b], *next; e; e = next) {
			next = e->chain;
			if (e->state == INTERRUPTED && expired(e->r.time, now, ttl))
				remove_entry(p, e);
		}
	if (p->count > 0 && (v = malloc(p->count * sizeof(*v))) == NULL)
		rc = TCW_ERR_NOMEM;
	for (size_t b = 0; v && b < ((size_t)1 << p->bits); b++)
		for (struct entry *e = p->buckets[b]; e; e = e->chain)
			if (!expired(e->r.time, now, ttl))
				v[n++] = e->r;
	*changes = p->changes;
	pthread_mutex_unlock(&p->lock);
	if (n > 1)
		qsort(v, n, sizeof(*v), by_time);
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	*count = n;
	return rc;
}
