/* SPDX-License-Identifier: Apache-2.0 */
/* respstore.c - replies kept for exact resubmissions: a list in arrival order, a hash
 * index, eviction by bytes and age, and the store's file. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "respstore.h"
#include "shreply.h"
#include "tcw/tcw.h"

#define KEY_SIZE REPLAY_KEY_SIZE

/* File layout, little-endian: magic, u32 version, u32 zero, u64 count,
 * count records (32-byte key, 32-byte request hash, u64 time, u32 size,
 * size bytes of reply), SHA-256 of all before. */
static const char g_magic[8] = {'T', 'C', 'W', 'R', 'E', 'S', 'P', 'S'};
#define HEADER_SIZE 24u
#define RECORD_FIXED (2u * KEY_SIZE + 8u + 4u)
/* Largest reply in the file (json-c's string limit bounds every reply). */
#define MAX_REPLY ((size_t)INT32_MAX)

struct entry {
	struct entry *older, *newer; /* arrival order */
	struct entry *chain;         /* next in the same bucket */
	uint8_t key[KEY_SIZE];
	uint8_t request[KEY_SIZE];
	uint64_t time;
	size_t size;
	struct shreply *shared; /* the reply, shared with its sender, or NULL: */
	char reply[];           /* a copy of it (size bytes) */
};

/* The kept reply text of e. */
static const char *entry_text(const struct entry *e)
{
	return e->shared ? e->shared->data : e->reply;
}

struct resp_store {
	pthread_mutex_t lock;
	struct entry *oldest, *newest;
	struct entry **buckets; /* 1 << bits chain heads, NULL while empty */
	unsigned bits;
	uint64_t mult; /* random odd multiplier: bucket choice is not predictable */
	size_t count;
	uint64_t bytes, max_bytes, ttl;
	uint64_t changes, evictions;
	replay_clock_fn clock;
};

/* Creates an empty store; see respstore.h. */
int resp_store_new(uint64_t max_bytes, uint64_t ttl, struct resp_store **out)
{
	struct resp_store *s;

	*out = NULL;
	if (max_bytes < 1 || max_bytes > RESPSTORE_MAX_BYTES || ttl < 1 || ttl > REPLAY_MAX_TTL)
		return TCW_ERR_INVALID_PARAM;
	s = calloc(1, sizeof(*s));
	if (!s)
		return TCW_ERR_NOMEM;
	if (pthread_mutex_init(&s->lock, NULL) != 0 ||
	    tcw_random_bytes(&s->mult, sizeof(s->mult)) != TCW_OK) {
		free(s);
		return TCW_ERR_NOMEM;
	}
	s->mult |= 1;
	s->max_bytes = max_bytes;
	s->ttl = ttl;
	s->clock = replay_real_clock;
	*out = s;
	return TCW_OK;
}

/* Frees every entry, the store, and sets *sp to NULL. */
void resp_store_free(struct resp_store **sp)
{
	struct resp_store *s;

	if (!sp || !*sp)
		return;
	s = *sp;
	for (struct entry *e = s->oldest, *next; e; e = next) {
		next = e->newer;
		shreply_release(e->shared);
		free(e);
	}
	free(s->buckets);
	pthread_mutex_destroy(&s->lock);
	free(s);
	*sp = NULL;
}

/* Replaces the clock (NULL = real time). */
void resp_store_set_clock(struct resp_store *s, replay_clock_fn clock)
{
	pthread_mutex_lock(&s->lock);
	s->clock = clock ? clock : replay_real_clock;
	pthread_mutex_unlock(&s->lock);
}

/* The clock's current second. */
uint64_t resp_store_now(struct resp_store *s)
{
	uint64_t now;

	pthread_mutex_lock(&s->lock);
	now = s->clock();
	pthread_mutex_unlock(&s->lock);
	return now;
}

/* ---- the list and its index (callers hold the lock) ---------------------- */

static struct entry **bucket_of(struct resp_store *s, const uint8_t key[KEY_SIZE])
{
	uint64_t x;

	memcpy(&x, key, sizeof(x));
	return &s->buckets[(x * s->mult) >> (64 - s->bits)];
}

static struct entry *find(struct resp_store *s, const uint8_t key[KEY_SIZE])
{
	if (!s->buckets)
		return NULL;
	for (struct entry *e = *bucket_of(s, key); e; e = e->chain)
		if (memcmp(e->key, key, KEY_SIZE) == 0)
			return e;
	return NULL;
}

/* Unlinks and frees the oldest entry. */
static void drop_oldest(struct resp_store *s)
{
	struct entry *e = s->oldest, **link = bucket_of(s, e->key);

	while (*link != e)
		link = &(*link)->chain;
	*link = e->chain;
	s->oldest = e->newer;
	if (s->oldest)
		s->oldest->older = NULL;
	else
		s->newest = NULL;
	s->count--;
	s->bytes -= e->size + RESPSTORE_ENTRY_OVERHEAD;
	s->changes++;
	shreply_release(e->shared);
	free(e);
}

/* Drops the entries older than ttl at now (the list is in time order). */
static void expire(struct resp_store *s, uint64_t now)
{
	while (s->oldest && now >= s->oldest->time && now - s->oldest->time >= s->ttl)
		drop_oldest(s);
}

/* Doubles the index when it holds more entries than buckets (allocated at
 * the first entry: an empty store takes no memory). 0 or TCW_ERR_NOMEM. */
static int grow(struct resp_store *s)
{
	unsigned bits = s->buckets ? s->bits + 1 : 6;
	struct entry **b;

	if (s->buckets && s->count < ((size_t)1 << s->bits))
		return 0;
	b = calloc((size_t)1 << bits, sizeof(*b));
	if (!b)
		return s->buckets ? 0 : TCW_ERR_NOMEM; /* a full index still works */
	free(s->buckets);
	s->buckets = b;
	s->bits = bits;
	for (struct entry *e = s->oldest; e; e = e->newer) {
		struct entry **head = bucket_of(s, e->key);

		e->chain = *head;
		*head = e;
	}
	return 0;
}

/* Appends e (not older than the newest entry) to the list and index. */
static void link_newest(struct resp_store *s, struct entry *e)
{
	struct entry **head = bucket_of(s, e->key);

	e->chain = *head;
	*head = e;
	e->older = s->newest;
	e->newer = NULL;
	if (s->newest)
		s->newest->newer = e;
	else
		s->oldest = e;
	s->newest = e;
	s->count++;
	s->bytes += e->size + RESPSTORE_ENTRY_OVERHEAD;
	s->changes++;
}

/* ---- lookups and insertions ------------------------------------------------ */

/* A copy of the reply kept for key and request; see respstore.h. */
int resp_store_get(struct resp_store *s, const uint8_t key[KEY_SIZE],
                   const uint8_t request[KEY_SIZE], char **reply, size_t *size)
{
	struct entry *e;
	int ret = 1;

	*reply = NULL;
	*size = 0;
	pthread_mutex_lock(&s->lock);
	expire(s, s->clock());
	e = find(s, key);
	if (e && tcw_ct_equal(e->request, request, KEY_SIZE)) {
		*reply = malloc(e->size + 1);
		if (*reply) {
			memcpy(*reply, entry_text(e), e->size);
			(*reply)[e->size] = '\0';
			*size = e->size;
			ret = TCW_OK;
		} else {
			ret = TCW_ERR_NOMEM;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Links e (key, request, size and text set) at time, evicting what makes
 * room; TCW_OK when linked (e then belongs to the store), 1 when not kept
 * (already there or too old), TCW_ERR_NOMEM. */
static int put_entry(struct resp_store *s, struct entry *e, uint64_t time)
{
	uint64_t cost = (uint64_t)e->size + RESPSTORE_ENTRY_OVERHEAD, now;
	int ret = 1;

	pthread_mutex_lock(&s->lock);
	now = s->clock();
	expire(s, now);
	if (find(s, e->key) || (now >= time && now - time >= s->ttl))
		goto out;
	/* the list stays in time order: a clock that stepped back, or an
	 * older record read back, counts as now */
	e->time = s->newest && s->newest->time > time ? s->newest->time : time;
	if (grow(s) != 0) {
		ret = TCW_ERR_NOMEM;
		goto out;
	}
	while (s->count && s->bytes + cost > s->max_bytes) {
		drop_oldest(s);
		s->evictions++;
	}
	if (e->shared)
		shreply_ref(e->shared);
	link_newest(s, e);
	ret = TCW_OK;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* A new entry for key and request of size bytes (text not yet set). */
static struct entry *new_entry(const uint8_t key[KEY_SIZE], const uint8_t request[KEY_SIZE],
                               size_t size, size_t inline_size)
{
	struct entry *e = malloc(sizeof(*e) + inline_size);

	if (e) {
		memcpy(e->key, key, KEY_SIZE);
		memcpy(e->request, request, KEY_SIZE);
		e->size = size;
		e->shared = NULL;
	}
	return e;
}

/* 1 when a reply of size bytes is larger than the store keeps. */
static int too_large(const struct resp_store *s, size_t size)
{
	return (uint64_t)size + RESPSTORE_ENTRY_OVERHEAD > s->max_bytes / RESPSTORE_ENTRY_SHARE ||
	       size > MAX_REPLY;
}

/* Keeps the shared reply r; see respstore.h. */
int resp_store_put_shared(struct resp_store *s, const uint8_t key[KEY_SIZE],
                          const uint8_t request[KEY_SIZE], uint64_t time, struct shreply *r)
{
	struct entry *e;
	int ret;

	if (too_large(s, r->size))
		return 1;
	e = new_entry(key, request, r->size, 0);
	if (!e)
		return TCW_ERR_NOMEM;
	e->shared = r;
	ret = put_entry(s, e, time);
	if (ret != TCW_OK)
		free(e);
	return ret;
}

/* Keeps a copy of a reply; see respstore.h. */
int resp_store_put(struct resp_store *s, const uint8_t key[KEY_SIZE],
                   const uint8_t request[KEY_SIZE], uint64_t time, const char *reply, size_t size)
{
	struct entry *e;
	int ret;

	if (too_large(s, size))
		return 1;
	e = new_entry(key, request, size, size);
	if (!e)
		return TCW_ERR_NOMEM;
	memcpy(e->reply, reply, size);
	ret = put_entry(s, e, time);
	if (ret != TCW_OK)
		free(e);
	return ret;
}

/* The store's figures, unexpired entries only; see respstore.h. */
struct resp_store_stats resp_store_stats(struct resp_store *s)
{
	struct resp_store_stats st;

	pthread_mutex_lock(&s->lock);
	expire(s, s->clock());
	st = (struct resp_store_stats){.count = s->count,
	                               .bytes = s->bytes,
	                               .evictions = s->evictions,
	                               .changes = s->changes};
	pthread_mutex_unlock(&s->lock);
	return st;
}

/* ---- the store's file --------------------------------------------------- */

/* The file image of the kept replies (caller frees), its size in *size,
 * the change count it reflects in *changes. */
static uint8_t *snapshot(void *obj, size_t *size, uint64_t *changes)
{
	struct resp_store *s = obj;
	uint8_t *buf, *p;

	pthread_mutex_lock(&s->lock);
	expire(s, s->clock());
	*size = HEADER_SIZE + KEY_SIZE;
	for (struct entry *e = s->oldest; e; e = e->newer)
		*size += RECORD_FIXED + e->size;
	buf = malloc(*size);
	if (buf) {
		memcpy(buf, g_magic, sizeof(g_magic));
		afile_put32(buf + 8, RESPSTORE_FILE_VERSION);
		afile_put32(buf + 12, 0);
		afile_put64(buf + 16, s->count);
		p = buf + HEADER_SIZE;
		for (struct entry *e = s->oldest; e; e = e->newer) {
			memcpy(p, e->key, KEY_SIZE);
			memcpy(p + KEY_SIZE, e->request, KEY_SIZE);
			afile_put64(p + 2 * KEY_SIZE, e->time);
			afile_put32(p + 2 * KEY_SIZE + 8, (uint32_t)e->size);
			memcpy(p + RECORD_FIXED, entry_text(e), e->size);
			p += RECORD_FIXED + e->size;
		}
		*changes = s->changes;
	}
	pthread_mutex_unlock(&s->lock);
	if (buf && tcw_sha256(buf, *size - KEY_SIZE, buf + *size - KEY_SIZE) != TCW_OK) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* Saves to path when the store changed; see respstore.h. */
int resp_store_save_changed(struct resp_store *s, const char *path, uint64_t since,
                            uint64_t *changes, char *err, size_t errsize)
{
	return afile_save_changed(path, snapshot, s, resp_store_stats(s).changes, since, changes, err,
	                          errsize);
}

/* Checks magic, version, record sizes and checksum of a file image. */
static int check_image(const uint8_t *buf, size_t size, uint64_t *count, const char *path,
                       char *err, size_t errsize)
{
	uint8_t sum[KEY_SIZE];
	size_t at = HEADER_SIZE;
	uint64_t i;

	if (size < HEADER_SIZE + KEY_SIZE || memcmp(buf, g_magic, sizeof(g_magic)) != 0) {
		snprintf(err, errsize, "%s: not a tcworker response store file", path);
		return TCW_ERR_INVALID_PARAM;
	}
	if (afile_get32(buf + 8) != RESPSTORE_FILE_VERSION || afile_get32(buf + 12) != 0) {
		snprintf(err, errsize, "%s: unsupported response store file version %u", path,
		         (unsigned)afile_get32(buf + 8));
		return TCW_ERR_INVALID_PARAM;
	}
	if (tcw_sha256(buf, size - KEY_SIZE, sum) != TCW_OK ||
	    !tcw_ct_equal(sum, buf + size - KEY_SIZE, KEY_SIZE)) {
		snprintf(err, errsize, "%s: checksum mismatch (corrupt response store file)", path);
		return TCW_ERR_INVALID_PARAM;
	}
	*count = afile_get64(buf + 16);
	for (i = 0; i < *count && size - KEY_SIZE - at >= RECORD_FIXED; i++) {
		size_t n = afile_get32(buf + at + 2 * KEY_SIZE + 8);

		if (n > size - KEY_SIZE - at - RECORD_FIXED)
			break;
		at += RECORD_FIXED + n;
	}
	if (i != *count || at != size - KEY_SIZE) {
		snprintf(err, errsize, "%s: truncated or oversized response store file", path);
		return TCW_ERR_INVALID_PARAM;
	}
	return TCW_OK;
}

/* Adds the unexpired replies of the file at path; see respstore.h. */
int resp_store_load(struct resp_store *s, const char *path, size_t *loaded, char *err,
                    size_t errsize)
{
	size_t size = 0, added = 0;
	uint8_t *buf = NULL;
	const uint8_t *p;
	uint64_t count = 0;
	int rc;

	if (loaded)
		*loaded = 0;
	/* the file holds at most the store's bytes, and an entry can have
	 * been larger than its share when it was written with another size */
	rc = afile_read_all(path, SIZE_MAX / 2, "response store file", &buf, &size, err, errsize);
	if (rc != 0)
		return rc == 1 ? TCW_OK : rc;
	rc = check_image(buf, size, &count, path, err, errsize);
	p = buf + HEADER_SIZE;
	for (uint64_t i = 0; rc == TCW_OK && i < count; i++) {
		size_t n = afile_get32(p + 2 * KEY_SIZE + 8);
		int r = resp_store_put(s, p, p + KEY_SIZE, afile_get64(p + 2 * KEY_SIZE),
		                       (const char *)p + RECORD_FIXED, n);

		if (r == TCW_OK)
			added++;
		else if (r < 0)
			rc = r;
		p += RECORD_FIXED + n;
	}
	free(buf);
	if (loaded)
		*loaded = added;
	return rc;
}
