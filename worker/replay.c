/* SPDX-License-Identifier: Apache-2.0 */
/* replay.c - the replay cache (protocol.md §12.3): id hashes in a ring, a hash index, the file. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomicfile.h"
#include "pending.h"
#include "replay.h"
#include "tcw/tcw.h"

#define KEY_SIZE TCW_SHA256_SIZE
/* Longest id normalised before hashing; longer ones are hashed as sent
 * (libtcw never passes one: workOrderId is at most 256 characters). */
#define NORMALISE_MAX 1024u

/* File layout, little-endian: magic, u32 version, u32 record size, u64
 * count, count records (32-byte key, u64 time); version 2 only: u64
 * pending count, that many pending records (32-byte key, u64 time, 32-byte
 * request identity); SHA-256 of all before. Version 1 is written when no
 * order is pending (older workers read it), version 2 otherwise. */
static const char g_magic[8] = {'T', 'C', 'W', 'R', 'E', 'P', 'L', 'Y'};
#define HEADER_SIZE 24u
#define RECORD_SIZE (KEY_SIZE + 8u)
#define PENDING_SIZE (2u * KEY_SIZE + 8u)

struct entry {
	uint8_t key[KEY_SIZE];
	uint64_t time; /* wall-clock second first seen */
	uint32_t next; /* next slot + 1 in the same bucket, 0 at the end */
};

struct replay_cache {
	pthread_mutex_t lock;
	struct entry *ring; /* oldest at head, count entries in time order */
	size_t cap, head, count;
	uint32_t *buckets; /* 1 << bits chain heads (slot + 1; 0: empty, so the
	                    * zero pages of a fresh allocation are a valid index
	                    * and an idle cache takes no memory) */
	unsigned bits;
	uint64_t mult; /* random odd multiplier: bucket choice is not predictable */
	uint64_t ttl;
	uint64_t newest;    /* time of the newest entry: keeps the ring ordered */
	uint64_t changes;   /* insertions so far (the save thread's dirty mark) */
	uint64_t evictions; /* unexpired entries dropped because the ring was full */
	replay_clock_fn clock;
	struct pending *pending; /* saved and loaded with the ids, or NULL */
};

/* CLOCK_REALTIME seconds; see replay.h. */
uint64_t replay_real_clock(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec;
}

/* Creates an empty cache; see replay.h. */
int replay_cache_new(size_t capacity, uint64_t ttl, struct replay_cache **out)
{
	struct replay_cache *c;
	unsigned bits = 1;

	*out = NULL;
	if (capacity < 1 || capacity > REPLAY_MAX_ENTRIES || ttl < 1 || ttl > REPLAY_MAX_TTL)
		return TCW_ERR_INVALID_PARAM;
	while (((size_t)1 << bits) < capacity)
		bits++;
	c = calloc(1, sizeof(*c));
	if (!c)
		return TCW_ERR_NOMEM;
	c->ring = calloc(capacity, sizeof(*c->ring));
	c->buckets = calloc((size_t)1 << bits, sizeof(*c->buckets));
	if (!c->ring || !c->buckets || pthread_mutex_init(&c->lock, NULL) != 0 ||
	    tcw_random_bytes(&c->mult, sizeof(c->mult)) != TCW_OK) {
		free(c->ring);
		free(c->buckets);
		free(c);
		return TCW_ERR_NOMEM;
	}
	c->cap = capacity;
	c->bits = bits;
	c->mult |= 1;
	c->ttl = ttl;
	c->clock = replay_real_clock;
	*out = c;
	return TCW_OK;
}

/* Frees the cache and sets *cp to NULL. */
void replay_cache_free(struct replay_cache **cp)
{
	if (!cp || !*cp)
		return;
	pthread_mutex_destroy(&(*cp)->lock);
	free((*cp)->ring);
	free((*cp)->buckets);
	free(*cp);
	*cp = NULL;
}

/* Replaces the clock (NULL = real time). */
void replay_cache_set_clock(struct replay_cache *c, replay_clock_fn clock)
{
	pthread_mutex_lock(&c->lock);
	c->clock = clock ? clock : replay_real_clock;
	pthread_mutex_unlock(&c->lock);
}

/* ---- the ring and its index (callers hold the lock) ------------------------ */

static uint32_t *bucket_of(struct replay_cache *c, const uint8_t key[KEY_SIZE])
{
	uint64_t x;

	memcpy(&x, key, sizeof(x));
	return &c->buckets[(x * c->mult) >> (64 - c->bits)];
}

static int find(struct replay_cache *c, const uint8_t key[KEY_SIZE])
{
	for (uint32_t s = *bucket_of(c, key); s != 0; s = c->ring[s - 1].next)
		if (memcmp(c->ring[s - 1].key, key, KEY_SIZE) == 0)
			return 1;
	return 0;
}

/* Drops the oldest entry from the ring and from its chain. */
static void drop_oldest(struct replay_cache *c)
{
	uint32_t slot = (uint32_t)c->head;
	uint32_t *link = bucket_of(c, c->ring[slot].key);

	while (*link != slot + 1)
		link = &c->ring[*link - 1].next;
	*link = c->ring[slot].next;
	c->head = (c->head + 1) % c->cap;
	c->count--;
}

/* Drops the entries older than ttl at now (the ring is in time order). */
static void expire(struct replay_cache *c, uint64_t now)
{
	while (c->count && now >= c->ring[c->head].time && now - c->ring[c->head].time >= c->ttl)
		drop_oldest(c);
}

/* Appends key seen at time t (not older than the newest entry). */
static void append(struct replay_cache *c, const uint8_t key[KEY_SIZE], uint64_t t)
{
	uint32_t slot, *head;

	if (c->count == c->cap) {
		drop_oldest(c);
		c->evictions++;
	}
	slot = (uint32_t)((c->head + c->count) % c->cap);
	head = bucket_of(c, key);
	memcpy(c->ring[slot].key, key, KEY_SIZE);
	c->ring[slot].time = t;
	c->ring[slot].next = *head;
	*head = slot + 1;
	c->count++;
	c->newest = t;
	c->changes++;
}

/* The cache key of an id: SHA-256 of its normalised text; see replay.h. */
int replay_id_key(const char *id, size_t len, uint8_t key[KEY_SIZE])
{
	char norm[NORMALISE_MAX];

	if (!id && len)
		return TCW_ERR_INTERNAL;
	if (!id)
		id = "";
	if (len > sizeof(norm))
		return tcw_sha256(id, len, key);
	if (len >= 2 && id[0] == '0' && (id[1] == 'x' || id[1] == 'X')) {
		id += 2;
		len -= 2;
	}
	for (size_t i = 0; i < len; i++)
		norm[i] = (id[i] >= 'A' && id[i] <= 'Z') ? (char)(id[i] - 'A' + 'a') : id[i];
	return tcw_sha256(norm, len, key);
}

/* Records id unless it is there; see replay.h. */
int replay_cache_record(struct replay_cache *c, const char *id, size_t len, uint8_t key[KEY_SIZE],
                        uint64_t *time)
{
	int ret;

	if (!c)
		return TCW_ERR_INTERNAL;
	ret = replay_id_key(id, len, key);
	return ret == TCW_OK ? replay_cache_record_key(c, key, time) : ret;
}

/* Records an id key unless it is there; see replay.h. */
int replay_cache_record_key(struct replay_cache *c, const uint8_t key[KEY_SIZE], uint64_t *time)
{
	uint64_t now;
	int ret = TCW_OK;

	if (!c)
		return TCW_ERR_INTERNAL;
	pthread_mutex_lock(&c->lock);
	now = c->clock();
	expire(c, now);
	if (find(c, key)) {
		ret = TCW_ERR_DUPLICATE;
	} else {
		/* a clock that stepped back must not break the time order */
		*time = now > c->newest ? now : c->newest;
		append(c, key, *time);
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* tcw_processor.seen: records id, TCW_ERR_DUPLICATE when already there. */
int replay_cache_seen(void *ctx, const char *id, size_t len)
{
	uint8_t key[KEY_SIZE];
	uint64_t time;

	return replay_cache_record(ctx, id, len, key, &time);
}

/* Adds a recorded key; see replay.h. */
int replay_cache_add(struct replay_cache *c, const uint8_t key[KEY_SIZE], uint64_t t)
{
	uint64_t now;
	int added = 0;

	pthread_mutex_lock(&c->lock);
	now = c->clock();
	expire(c, now);
	if (!(now >= t && now - t >= c->ttl) && !find(c, key)) {
		append(c, key, t > c->newest ? t : c->newest);
		added = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return added;
}

/* The change count: insertions so far, plus the changes of the pending
 * table saved with the ids (both only grow, so the sum changes when
 * either does). */
uint64_t replay_cache_changes(struct replay_cache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->changes;
	pthread_mutex_unlock(&c->lock);
	return n + (c->pending ? pending_changes(c->pending) : 0);
}

/* Saves and loads p's entries with the ids; see replay.h. */
void replay_cache_attach(struct replay_cache *c, struct pending *p)
{
	c->pending = p;
}

/* The cache clock's current second. */
uint64_t replay_cache_now(struct replay_cache *c)
{
	uint64_t now;

	pthread_mutex_lock(&c->lock);
	now = c->clock();
	pthread_mutex_unlock(&c->lock);
	return now;
}

/* Number of unexpired entries. */
size_t replay_cache_count(struct replay_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	expire(c, c->clock());
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Number of entries evicted before their time. */
uint64_t replay_cache_evictions(struct replay_cache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->evictions;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* ---- the replay file ----------------------------------------------------- */

/* The pending section of a file image: at p, n records. */
static void put_pending(uint8_t *p, const struct pending_record *r, size_t n)
{
	afile_put64(p, n);
	p += 8;
	for (size_t i = 0; i < n; i++, p += PENDING_SIZE) {
		memcpy(p, r[i].key, KEY_SIZE);
		afile_put64(p + KEY_SIZE, r[i].time);
		memcpy(p + KEY_SIZE + 8, r[i].request, KEY_SIZE);
	}
}

/* The file image of the unexpired entries (caller frees), its size in
 * *size, the change count it reflects in *changes. The ids are taken
 * first, the pending entries second: an order accepted in between is in
 * the second image, which carries its id too. */
static uint8_t *snapshot(void *obj, size_t *size, uint64_t *changes)
{
	struct replay_cache *c = obj;
	struct pending_record *pr = NULL;
	uint64_t now, pchanges = 0;
	size_t n, pn = 0, ids_end;
	uint8_t *buf, *p;

	pthread_mutex_lock(&c->lock);
	now = c->clock();
	expire(c, now);
	n = c->count;
	ids_end = HEADER_SIZE + n * RECORD_SIZE;
	buf = malloc(ids_end);
	if (buf) {
		memcpy(buf, g_magic, sizeof(g_magic));
		afile_put32(buf + 12, RECORD_SIZE);
		afile_put64(buf + 16, n);
		p = buf + HEADER_SIZE;
		for (size_t i = 0; i < n; i++, p += RECORD_SIZE) {
			const struct entry *e = &c->ring[(c->head + i) % c->cap];

			memcpy(p, e->key, KEY_SIZE);
			afile_put64(p + KEY_SIZE, e->time);
		}
		*changes = c->changes;
	}
	pthread_mutex_unlock(&c->lock);
	if (buf && c->pending &&
	    pending_records(c->pending, now, c->ttl, &pr, &pn, &pchanges) != TCW_OK) {
		free(buf);
		return NULL;
	}
	*size = ids_end + (pn ? 8 + pn * PENDING_SIZE : 0) + KEY_SIZE;
	p = buf ? realloc(buf, *size) : NULL;
	if (!p) {
		free(buf);
		free(pr);
		return NULL;
	}
	buf = p;
	afile_put32(buf + 8, pn ? REPLAY_FILE_VERSION : REPLAY_FILE_VERSION_IDS);
	if (pn)
		put_pending(buf + ids_end, pr, pn);
	free(pr);
	*changes += pchanges;
	if (tcw_sha256(buf, *size - KEY_SIZE, buf + *size - KEY_SIZE) != TCW_OK) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* Saves to path when the cache changed since the change count since;
 * see replay.h. */
int replay_cache_save_changed(struct replay_cache *c, const char *path, uint64_t since,
                              uint64_t *changes, char *err, size_t errsize)
{
	return afile_save_changed(path, snapshot, c, replay_cache_changes(c), since, changes, err,
	                          errsize);
}

/* Writes the cache to path atomically; see replay.h. */
int replay_cache_save(struct replay_cache *c, const char *path, char *err, size_t errsize)
{
	uint64_t changes;

	/* UINT64_MAX is never a change count: always write */
	return replay_cache_save_changed(c, path, UINT64_MAX, &changes, err, errsize);
}

/* Checks the header, size and checksum of a file image; number of id
 * records in *n, of pending records in *pn (0 in a version 1 file). */
static int check_image(const uint8_t *buf, size_t size, size_t *n, size_t *pn, const char *path,
                       char *err, size_t errsize)
{
	uint8_t sum[KEY_SIZE];
	uint64_t count, pcount = 0;
	uint32_t version;
	size_t ids_end;

	if (size < HEADER_SIZE + KEY_SIZE || memcmp(buf, g_magic, sizeof(g_magic)) != 0) {
		snprintf(err, errsize, "%s: not a tcworker replay file", path);
		return TCW_ERR_INVALID_PARAM;
	}
	version = afile_get32(buf + 8);
	if ((version != REPLAY_FILE_VERSION_IDS && version != REPLAY_FILE_VERSION) ||
	    afile_get32(buf + 12) != RECORD_SIZE) {
		snprintf(err, errsize, "%s: unsupported replay file version %u", path,
		         (unsigned)version);
		return TCW_ERR_INVALID_PARAM;
	}
	count = afile_get64(buf + 16);
	ids_end = HEADER_SIZE + (size_t)(count <= REPLAY_MAX_ENTRIES ? count : 0) * RECORD_SIZE;
	if (version == REPLAY_FILE_VERSION && count <= REPLAY_MAX_ENTRIES &&
	    size >= ids_end + 8 + KEY_SIZE)
		pcount = afile_get64(buf + ids_end);
	if (count > REPLAY_MAX_ENTRIES || pcount > REPLAY_MAX_ENTRIES ||
	    size != ids_end + (version == REPLAY_FILE_VERSION ? 8 + pcount * PENDING_SIZE : 0) +
	                KEY_SIZE) {
		snprintf(err, errsize, "%s: truncated or oversized replay file", path);
		return TCW_ERR_INVALID_PARAM;
	}
	if (tcw_sha256(buf, size - KEY_SIZE, sum) != TCW_OK ||
	    !tcw_ct_equal(sum, buf + size - KEY_SIZE, KEY_SIZE)) {
		snprintf(err, errsize, "%s: checksum mismatch (corrupt replay file)", path);
		return TCW_ERR_INVALID_PARAM;
	}
	*n = (size_t)count;
	*pn = (size_t)pcount;
	return TCW_OK;
}

static int by_time(const void *a, const void *b)
{
	uint64_t x = afile_get64((const uint8_t *)a + KEY_SIZE),
	         y = afile_get64((const uint8_t *)b + KEY_SIZE);

	return x < y ? -1 : x > y;
}

/* Adds the pending records at p (pn of them, unexpired at now) to the
 * attached table as interrupted orders. TCW_OK or TCW_ERR_NOMEM. */
static int load_pending(struct replay_cache *c, const uint8_t *p, size_t pn, uint64_t now)
{
	for (size_t i = 0; c->pending && i < pn; i++, p += PENDING_SIZE) {
		struct pending_record r;

		memcpy(r.key, p, KEY_SIZE);
		r.time = afile_get64(p + KEY_SIZE);
		memcpy(r.request, p + KEY_SIZE + 8, KEY_SIZE);
		if (!(now >= r.time && now - r.time >= c->ttl) && pending_add(c->pending, &r) < 0)
			return TCW_ERR_NOMEM;
	}
	return TCW_OK;
}

/* Adds the unexpired ids of n records at p, stride bytes apart (key, u64
 * time first), that are not there yet; returns how many. Holds the lock. */
static size_t add_ids(struct replay_cache *c, const uint8_t *p, size_t n, size_t stride,
                      uint64_t now)
{
	size_t added = 0;

	for (size_t i = 0; i < n; i++, p += stride) {
		uint64_t t = afile_get64(p + KEY_SIZE);

		if ((now >= t && now - t >= c->ttl) || find(c, p))
			continue;
		append(c, p, t > c->newest ? t : c->newest);
		added++;
	}
	return added;
}

/* Adds the unexpired entries of the replay file at path; see replay.h. */
int replay_cache_load(struct replay_cache *c, const char *path, size_t *loaded, char *err,
                      size_t errsize)
{
	size_t size = 0, n = 0, pn = 0, added = 0;
	uint8_t *buf = NULL, *rec, *prec;
	uint64_t now;
	int rc;

	if (loaded)
		*loaded = 0;
	rc = afile_read_all(
	    path,
	    HEADER_SIZE + (size_t)REPLAY_MAX_ENTRIES * (RECORD_SIZE + PENDING_SIZE) + 8 + KEY_SIZE,
	    "replay file", &buf, &size, err, errsize);
	if (rc != 0)
		return rc == 1 ? TCW_OK : rc;
	rc = check_image(buf, size, &n, &pn, path, err, errsize);
	if (rc != TCW_OK)
		goto out;
	rec = buf + HEADER_SIZE;
	prec = rec + n * RECORD_SIZE + 8;
	qsort(rec, n, RECORD_SIZE, by_time);
	pthread_mutex_lock(&c->lock);
	now = c->clock();
	expire(c, now);
	/* the newest cap records are the ones that can be kept */
	added = add_ids(c, rec + (n > c->cap ? n - c->cap : 0) * RECORD_SIZE,
	                n > c->cap ? c->cap : n, RECORD_SIZE, now);
	/* a pending order's id, when the ids were saved before it came */
	added += add_ids(c, prec, pn, PENDING_SIZE, now);
	pthread_mutex_unlock(&c->lock);
	rc = load_pending(c, prec, pn, now);
	if (loaded)
		*loaded = added;
out:
	free(buf);
	return rc;
}
