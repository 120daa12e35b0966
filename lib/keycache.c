/* SPDX-License-Identifier: Apache-2.0 */
/* keycache.c - the unwrap cache: RSA-OAEP results (session keys, data keys) by ciphertext,
 * bounded, expiring, kept in memory that core dumps leave out and wiped when dropped;
 * and the constant-time unwrap that fills it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <openssl/err.h>

#include "internal.h"
#include "tcw/tcw.h"

#define TAG_SIZE TCW_SHA256_SIZE

/* One unwrap result. slot + 1 in the chains: 0 ends a chain, so the
 * zeroed memory of a fresh mapping is a valid empty index. */
struct kc_entry {
	uint8_t tag[TAG_SIZE];         /* SHA-256(key fingerprint || ciphertext) */
	uint8_t key[TCW_AES_KEY_SIZE]; /* unwrapped key, or its random substitute */
	uint8_t owner[TCW_SHA256_SIZE]; /* request hash of the order that unwrapped it */
	uint64_t time_ns;              /* CLOCK_MONOTONIC of the unwrap */
	uint32_t next;                 /* next slot + 1 in the same bucket */
	uint8_t rejected;              /* the ciphertext did not unwrap */
	uint8_t has_owner;             /* owner is set */
};

struct tcw_key_cache {
	pthread_mutex_t lock;
	size_t cap, head, count;
	uint64_t ttl_ns;
	unsigned bits;
	uint64_t mult; /* random odd multiplier: bucket choice is not predictable */
	void *map;     /* ring + buckets, mapped at the first insertion */
	size_t map_size;
	struct kc_entry *ring; /* oldest at head, in unwrap order */
	uint32_t *buckets;     /* 1 << bits chain heads (slot + 1) */
	uint64_t (*clock)(void);
	struct tcw_key_cache_stats stats;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Creates an empty cache; see tcw.h. */
int tcw_key_cache_new(size_t entries, uint32_t ttl_seconds, struct tcw_key_cache **out)
{
	struct tcw_key_cache *c;
	unsigned bits = 1;

	if (!out)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	if (entries < 1 || entries > TCW_KEY_CACHE_MAX || ttl_seconds < 1 ||
	    ttl_seconds > TCW_KEY_CACHE_MAX_TTL)
		return TCW_ERR_INVALID_PARAM;
	while (((size_t)1 << bits) < entries)
		bits++;
	c = calloc(1, sizeof(*c));
	if (!c)
		return TCW_ERR_NOMEM;
	if (pthread_mutex_init(&c->lock, NULL) != 0 ||
	    tcw_random_bytes(&c->mult, sizeof(c->mult)) != TCW_OK) {
		free(c);
		return TCW_ERR_NOMEM;
	}
	c->mult |= 1;
	c->cap = entries;
	c->bits = bits;
	c->ttl_ns = (uint64_t)ttl_seconds * 1000000000u;
	c->clock = mono_ns;
	*out = c;
	return TCW_OK;
}

/* Wipes every key, unmaps the memory and frees the cache. */
void tcw_key_cache_free(struct tcw_key_cache **cp)
{
	struct tcw_key_cache *c;

	if (!cp || !*cp)
		return;
	c = *cp;
	if (c->map) {
		tcw_wipe(c->map, c->map_size);
		munmap(c->map, c->map_size);
	}
	pthread_mutex_destroy(&c->lock);
	tcw_free_secret(c, sizeof(*c));
	*cp = NULL;
}

/* What the cache did so far. */
struct tcw_key_cache_stats tcw_key_cache_get_stats(struct tcw_key_cache *c)
{
	struct tcw_key_cache_stats st;

	pthread_mutex_lock(&c->lock);
	st = c->stats;
	st.entries = c->count;
	pthread_mutex_unlock(&c->lock);
	return st;
}

/* Replaces the clock (NULL = CLOCK_MONOTONIC); for tests. */
void tcwi_key_cache_set_clock(struct tcw_key_cache *c, uint64_t (*clock)(void))
{
	pthread_mutex_lock(&c->lock);
	c->clock = clock ? clock : mono_ns;
	pthread_mutex_unlock(&c->lock);
}

/* ---- the ring and its index (callers hold the lock) ----------------------- */

/* Maps the ring and the index at the first insertion, out of core dumps. */
static int map_memory(struct tcw_key_cache *c)
{
	size_t ring = c->cap * sizeof(struct kc_entry);
	size_t index = ((size_t)1 << c->bits) * sizeof(uint32_t);
	void *p;

	if (c->map)
		return TCW_OK;
	p = mmap(NULL, ring + index, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return TCW_ERR_NOMEM;
	/* best effort: a kernel without MADV_DONTDUMP still gets wiped keys */
	(void)madvise(p, ring + index, MADV_DONTDUMP);
	c->map = p;
	c->map_size = ring + index;
	c->ring = p;
	c->buckets = (uint32_t *)((uint8_t *)p + ring);
	return TCW_OK;
}

static uint32_t *bucket_of(struct tcw_key_cache *c, const uint8_t tag[TAG_SIZE])
{
	uint64_t x;

	memcpy(&x, tag, sizeof(x));
	return &c->buckets[(x * c->mult) >> (64 - c->bits)];
}

static struct kc_entry *find(struct tcw_key_cache *c, const uint8_t tag[TAG_SIZE])
{
	if (!c->map)
		return NULL;
	for (uint32_t s = *bucket_of(c, tag); s != 0; s = c->ring[s - 1].next)
		if (memcmp(c->ring[s - 1].tag, tag, TAG_SIZE) == 0)
			return &c->ring[s - 1];
	return NULL;
}

/* Unlinks the oldest entry and wipes it. */
static void drop_oldest(struct tcw_key_cache *c)
{
	struct kc_entry *e = &c->ring[c->head];
	uint32_t slot = (uint32_t)c->head + 1, *link = bucket_of(c, e->tag);

	while (*link != slot)
		link = &c->ring[*link - 1].next;
	*link = e->next;
	tcw_wipe(e, sizeof(*e));
	c->head = (c->head + 1) % c->cap;
	c->count--;
}

/* Drops the entries older than the ttl (the ring is in time order). */
static void expire(struct tcw_key_cache *c, uint64_t now)
{
	while (c->count && now >= c->ring[c->head].time_ns &&
	       now - c->ring[c->head].time_ns >= c->ttl_ns) {
		drop_oldest(c);
		c->stats.expired++;
	}
}

/* The cached unwrap of tag: 1 with key and *rejected set, 0 when none;
 * *same_owner says whether owner (NULL: none) unwrapped it. */
static int cache_get(struct tcw_key_cache *c, const uint8_t tag[TAG_SIZE],
                     const uint8_t *owner, uint8_t key[TCW_AES_KEY_SIZE], int *rejected,
                     int *same_owner)
{
	struct kc_entry *e;
	int hit = 0;

	pthread_mutex_lock(&c->lock);
	if (c->map)
		expire(c, c->clock());
	e = find(c, tag);
	if (e) {
		memcpy(key, e->key, TCW_AES_KEY_SIZE);
		*rejected = e->rejected;
		*same_owner = owner && e->has_owner && memcmp(e->owner, owner, TCW_SHA256_SIZE) == 0;
		c->stats.hits++;
		hit = 1;
	} else {
		c->stats.misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

/* Remembers an unwrap (the oldest entry makes room when full). */
static void cache_put(struct tcw_key_cache *c, const uint8_t tag[TAG_SIZE], const uint8_t *owner,
                      const uint8_t key[TCW_AES_KEY_SIZE], int rejected)
{
	struct kc_entry *e;
	uint32_t slot, *head;
	uint64_t now;

	pthread_mutex_lock(&c->lock);
	if (map_memory(c) != TCW_OK)
		goto out;
	now = c->clock();
	expire(c, now);
	if (find(c, tag)) /* another thread was first */
		goto out;
	if (c->count == c->cap) {
		drop_oldest(c);
		c->stats.evictions++;
	}
	slot = (uint32_t)((c->head + c->count) % c->cap);
	e = &c->ring[slot];
	head = bucket_of(c, tag);
	memcpy(e->tag, tag, TAG_SIZE);
	memcpy(e->key, key, TCW_AES_KEY_SIZE);
	e->rejected = (uint8_t)rejected;
	e->has_owner = owner != NULL;
	if (owner)
		memcpy(e->owner, owner, TCW_SHA256_SIZE);
	/* a clock cannot go back, but keep the ring ordered regardless */
	e->time_ns = c->count && c->ring[(slot + c->cap - 1) % c->cap].time_ns > now
	                 ? c->ring[(slot + c->cap - 1) % c->cap].time_ns
	                 : now;
	e->next = *head;
	*head = slot + 1;
	c->count++;
out:
	pthread_mutex_unlock(&c->lock);
}

/* 1 when no key material is left in the slots not in use (tests). */
int tcwi_key_cache_clean(struct tcw_key_cache *c)
{
	int clean = 1;

	pthread_mutex_lock(&c->lock);
	for (size_t i = c->count; c->map && i < c->cap && clean; i++) {
		const uint8_t *p = (const uint8_t *)&c->ring[(c->head + i) % c->cap];

		for (size_t j = 0; j < sizeof(struct kc_entry); j++)
			clean &= p[j] == 0;
	}
	pthread_mutex_unlock(&c->lock);
	return clean;
}

/* ---- the unwrap ------------------------------------------------------------ */

/*
 * RSA-OAEP-unwraps a 32-byte key from ct; see internal.h. The miss path
 * does the same work whatever the padding: the substitute key is drawn
 * first, the result chosen by a mask rather than a branch, OpenSSL's
 * error queue cleared either way, and both outcomes are cached alike.
 */
int tcwi_unwrap(const struct tcw_keys *k, struct tcw_key_cache *c, const uint8_t *ct, size_t n,
                const uint8_t *owner, uint8_t key[TCW_AES_KEY_SIZE], int *rejected, int *cached)
{
	uint8_t tag[TAG_SIZE], sub[TCW_AES_KEY_SIZE], dec[TCW_AES_KEY_SIZE], mask;
	size_t got = 0;
	int ret, ok, same_owner = 0;

	*cached = 0;
	if (c) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		     EVP_DigestUpdate(md, tcwi_keys_fingerprint(k), TCW_SHA256_SIZE) == 1 &&
		     EVP_DigestUpdate(md, ct, n) == 1 && EVP_DigestFinal_ex(md, tag, NULL) == 1;
		EVP_MD_CTX_free(md);
		if (!ok)
			return TCW_ERR_NOMEM;
		if (cache_get(c, tag, owner, key, rejected, &same_owner)) {
			/* an exact copy of the order that unwrapped it sent it once */
			*cached = !same_owner;
			return TCW_OK;
		}
	}
	ret = tcw_random_bytes(sub, sizeof(sub));
	if (ret != TCW_OK)
		return ret;
	memset(dec, 0, sizeof(dec));
	ok = (tcw_keys_rsa_decrypt(k, ct, n, dec, sizeof(dec), &got) == TCW_OK) &
	     (got == sizeof(dec));
	ERR_clear_error();
	mask = (uint8_t)(0u - (unsigned)ok);
	for (size_t i = 0; i < sizeof(dec); i++)
		key[i] = (uint8_t)((dec[i] & mask) | (sub[i] & (uint8_t)~mask));
	*rejected = !ok;
	tcw_wipe(dec, sizeof(dec));
	tcw_wipe(sub, sizeof(sub));
	if (c)
		cache_put(c, tag, owner, key, *rejected);
	return TCW_OK;
}
