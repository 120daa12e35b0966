/* SPDX-License-Identifier: Apache-2.0 */
/* test_keycache.c - the unwrap cache: hits and misses, ciphertexts that do not unwrap,
 * expiry, eviction and wiping, worker keys kept apart, threads, limits. */
#include "testutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define THREADS 4
#define THREAD_ROUNDS 3
#define SHARED 24

static struct tcw_keys *g_k2048, *g_k3072;
static json_object *g_keyfile;
static uint64_t g_now_ns = 1000000000000u;

static uint64_t fake_clock(void)
{
	return g_now_ns;
}

static int setup(void **state)
{
	(void)state;
	g_keyfile = tu_load_json("keys.json");
	g_k2048 = tu_worker_keys("worker_rsa_private_pem");
	g_k3072 = tu_worker_keys("worker_rsa3072_private_pem");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tcw_keys_free(&g_k2048);
	tcw_keys_free(&g_k3072);
	json_object_put(g_keyfile);
	return 0;
}

/* An RSA-OAEP ciphertext of key (32 bytes) for the 2048-bit worker key. */
static uint8_t *wrap(const uint8_t key[32], size_t *size)
{
	uint8_t *ct = NULL;

	assert_int_equal(
	    tcw_rsa_encrypt_pem(tu_str(g_keyfile, "worker_rsa_public_pem"), key, 32, &ct, size),
	    TCW_OK);
	return ct;
}

/* The key of test ciphertext n: 32 bytes of n. */
static void key_of(uint8_t n, uint8_t key[32])
{
	memset(key, n, 32);
}

static struct tcw_key_cache *cache(size_t entries, uint32_t ttl)
{
	struct tcw_key_cache *c = NULL;

	assert_int_equal(tcw_key_cache_new(entries, ttl, &c), TCW_OK);
	tcwi_key_cache_set_clock(c, fake_clock);
	return c;
}

/* Unwraps ct through c with the 2048-bit key; checks the flags. */
static void unwrap(struct tcw_key_cache *c, const uint8_t *ct, size_t n, uint8_t key[32],
                   int want_rejected, int want_cached)
{
	int rejected = -1, cached = -1;

	assert_int_equal(tcwi_unwrap(g_k2048, c, ct, n, NULL, key, &rejected, &cached), TCW_OK);
	assert_int_equal(rejected, want_rejected);
	assert_int_equal(cached, want_cached);
}

static void test_limits(void **state)
{
	struct tcw_key_cache *c = NULL;
	(void)state;
	assert_int_equal(tcw_key_cache_new(0, 10, &c), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_key_cache_new(TCW_KEY_CACHE_MAX + 1, 10, &c), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_key_cache_new(10, 0, &c), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_key_cache_new(10, TCW_KEY_CACHE_MAX_TTL + 1, &c),
	                 TCW_ERR_INVALID_PARAM);
	assert_null(c);
	assert_int_equal(tcw_key_cache_new(TCW_KEY_CACHE_MAX, TCW_KEY_CACHE_MAX_TTL, &c), TCW_OK);
	assert_int_equal(tcw_key_cache_get_stats(c).entries, 0);
	tcw_key_cache_free(&c);
	assert_null(c);
	tcw_key_cache_free(&c);
}

/* A repeated ciphertext is a hash lookup: the same key, no RSA. */
static void test_hit_and_miss(void **state)
{
	struct tcw_key_cache *c = cache(16, 300);
	uint8_t want[32], got[32], *ct;
	size_t n = 0;
	struct tcw_key_cache_stats st;
	(void)state;
	key_of(7, want);
	ct = wrap(want, &n);
	unwrap(c, ct, n, got, 0, 0);
	assert_memory_equal(got, want, 32);
	memset(got, 0, sizeof(got));
	unwrap(c, ct, n, got, 0, 1);
	assert_memory_equal(got, want, 32);
	st = tcw_key_cache_get_stats(c);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.entries, 1);
	/* without a cache: always the RSA path */
	unwrap(NULL, ct, n, got, 0, 0);
	assert_memory_equal(got, want, 32);
	free(ct);
	tcw_key_cache_free(&c);
}

/* A hit is "sent before" (cached) unless it is for the request hash that
 * unwrapped the key: the same order again. No owner: always sent before. */
static void test_owner(void **state)
{
	struct tcw_key_cache *c = cache(16, 300);
	uint8_t want[32], got[32], rh1[32], rh2[32], *ct;
	size_t n = 0;
	int rejected = -1, cached = -1;
	(void)state;
	key_of(9, want);
	memset(rh1, 0xa1, sizeof(rh1));
	memset(rh2, 0xa1, sizeof(rh2));
	rh2[31] = 0xa2;
	ct = wrap(want, &n);
	assert_int_equal(tcwi_unwrap(g_k2048, c, ct, n, rh1, got, &rejected, &cached), TCW_OK);
	assert_int_equal(cached, 0);
	assert_int_equal(tcwi_unwrap(g_k2048, c, ct, n, rh1, got, &rejected, &cached), TCW_OK);
	assert_int_equal(cached, 0);
	assert_memory_equal(got, want, 32);
	assert_int_equal(tcwi_unwrap(g_k2048, c, ct, n, rh2, got, &rejected, &cached), TCW_OK);
	assert_int_equal(cached, 1);
	assert_int_equal(tcwi_unwrap(g_k2048, c, ct, n, NULL, got, &rejected, &cached), TCW_OK);
	assert_int_equal(cached, 1);
	assert_memory_equal(got, want, 32);
	assert_int_equal(tcw_key_cache_get_stats(c).hits, 3);
	assert_int_equal(tcw_key_cache_get_stats(c).misses, 1);
	free(ct);
	/* a key unwrapped without an owner is sent before for everyone */
	key_of(10, want);
	ct = wrap(want, &n);
	unwrap(c, ct, n, got, 0, 0);
	assert_int_equal(tcwi_unwrap(g_k2048, c, ct, n, rh1, got, &rejected, &cached), TCW_OK);
	assert_int_equal(cached, 1);
	free(ct);
	tcw_key_cache_free(&c);
}

/* A ciphertext that does not unwrap gets a random stand-in, is cached like
 * any other, and comes back with the same stand-in and flag; the padding
 * is never told apart by the path taken. */
static void test_rejected(void **state)
{
	struct tcw_key_cache *c = cache(16, 300);
	uint8_t key[32], first[32], again[32], other[32], *ct, *ct2;
	size_t n = 0, n2 = 0;
	(void)state;
	key_of(9, key);
	ct = wrap(key, &n);
	ct[n / 2] ^= 0x01;
	unwrap(c, ct, n, first, 1, 0);
	assert_memory_not_equal(first, key, 32);
	unwrap(c, ct, n, again, 1, 1);
	assert_memory_equal(again, first, 32);
	ct2 = wrap(key, &n2);
	ct2[1] ^= 0x80;
	unwrap(c, ct2, n2, other, 1, 0);
	assert_memory_not_equal(other, first, 32);
	/* a wrapped key of another length is rejected too */
	free(ct2);
	assert_int_equal(
	    tcw_rsa_encrypt_pem(tu_str(g_keyfile, "worker_rsa_public_pem"), key, 16, &ct2, &n2),
	    TCW_OK);
	unwrap(c, ct2, n2, other, 1, 0);
	unwrap(c, ct2, n2, again, 1, 1);
	assert_memory_equal(again, other, 32);
	/* no cache: a fresh stand-in each time */
	unwrap(NULL, ct, n, again, 1, 0);
	assert_memory_not_equal(again, first, 32);
	assert_int_equal(tcw_key_cache_get_stats(c).entries, 3);
	free(ct);
	free(ct2);
	tcw_key_cache_free(&c);
}

/* An unwrap lives ttl seconds from when it was made. */
static void test_expiry(void **state)
{
	struct tcw_key_cache *c = cache(16, 10);
	uint8_t key[32], got[32], *a, *b;
	size_t na = 0, nb = 0;
	(void)state;
	key_of(1, key);
	a = wrap(key, &na);
	key_of(2, key);
	b = wrap(key, &nb);
	unwrap(c, a, na, got, 0, 0);
	g_now_ns += 5000000000u;
	unwrap(c, b, nb, got, 0, 0);
	g_now_ns += 4999999999u; /* a is 9.999999999 s old */
	unwrap(c, a, na, got, 0, 1);
	g_now_ns += 1;
	unwrap(c, a, na, got, 0, 0); /* expired, unwrapped and cached afresh */
	unwrap(c, b, nb, got, 0, 1);
	assert_int_equal(tcw_key_cache_get_stats(c).expired, 1);
	g_now_ns += 10000000000u;
	assert_int_equal(tcw_key_cache_get_stats(c).entries, 2); /* counted lazily */
	unwrap(c, b, nb, got, 0, 0);
	assert_int_equal(tcw_key_cache_get_stats(c).expired, 3);
	assert_true(tcwi_key_cache_clean(c));
	free(a);
	free(b);
	tcw_key_cache_free(&c);
}

/* When full, the oldest unwrap goes, and its slot is wiped. */
static void test_eviction(void **state)
{
	struct tcw_key_cache *c = cache(4, 300);
	uint8_t key[32], got[32], *ct[6];
	size_t n[6];
	(void)state;
	for (uint8_t i = 0; i < 6; i++) {
		key_of((uint8_t)(i + 1), key);
		ct[i] = wrap(key, &n[i]);
	}
	for (int i = 0; i < 5; i++)
		unwrap(c, ct[i], n[i], got, 0, 0);
	assert_int_equal(tcw_key_cache_get_stats(c).evictions, 1);
	assert_int_equal(tcw_key_cache_get_stats(c).entries, 4);
	for (int i = 1; i < 5; i++) {
		unwrap(c, ct[i], n[i], got, 0, 1);
		key_of((uint8_t)(i + 1), key);
		assert_memory_equal(got, key, 32);
	}
	unwrap(c, ct[0], n[0], got, 0, 0); /* evicted: RSA again, evicting 1 */
	unwrap(c, ct[1], n[1], got, 0, 0);
	assert_int_equal(tcw_key_cache_get_stats(c).evictions, 3);
	assert_true(tcwi_key_cache_clean(c));
	for (int i = 0; i < 6; i++)
		free(ct[i]);
	tcw_key_cache_free(&c);
}

/* The same bytes for another worker key are another entry. */
static void test_keys_apart(void **state)
{
	struct tcw_key_cache *c = cache(16, 300);
	uint8_t key[32], got[32], *ct;
	size_t n = 0;
	int rejected = 0, cached = 1;
	(void)state;
	key_of(3, key);
	ct = wrap(key, &n);
	unwrap(c, ct, n, got, 0, 0);
	assert_int_equal(tcwi_unwrap(g_k3072, c, ct, n, NULL, got, &rejected, &cached), TCW_OK);
	assert_int_equal(cached, 0);
	assert_int_equal(rejected, 1);
	assert_memory_not_equal(got, key, 32);
	free(ct);
	tcw_key_cache_free(&c);
}

struct racer {
	struct tcw_key_cache *c;
	uint8_t *ct[SHARED];
	size_t n[SHARED];
	int bad;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	uint8_t got[32], want[32];

	for (int round = 0; round < THREAD_ROUNDS; round++)
		for (int i = 0; i < SHARED; i++) {
			int rejected = 1, cached = 0;

			key_of((uint8_t)(i + 1), want);
			if (tcwi_unwrap(g_k2048, r->c, r->ct[i], r->n[i], NULL, got, &rejected,
			                &cached) != TCW_OK ||
			    rejected || memcmp(got, want, 32) != 0)
				r->bad++;
		}
	return NULL;
}

/* Four threads on the same ciphertexts: every key right, every lookup
 * counted, the cache within its size. */
static void test_threads(void **state)
{
	struct racer r[THREADS];
	pthread_t t[THREADS];
	struct tcw_key_cache *c = cache(SHARED / 2, 300);
	struct tcw_key_cache_stats st;
	uint8_t key[32];
	(void)state;
	for (int i = 0; i < SHARED; i++) {
		key_of((uint8_t)(i + 1), key);
		r[0].ct[i] = wrap(key, &r[0].n[i]);
	}
	for (int k = 0; k < THREADS; k++) {
		memcpy(r[k].ct, r[0].ct, sizeof(r[0].ct));
		memcpy(r[k].n, r[0].n, sizeof(r[0].n));
		r[k].c = c;
		r[k].bad = 0;
		assert_int_equal(pthread_create(&t[k], NULL, race, &r[k]), 0);
	}
	for (int k = 0; k < THREADS; k++) {
		assert_int_equal(pthread_join(t[k], NULL), 0);
		assert_int_equal(r[k].bad, 0);
	}
	st = tcw_key_cache_get_stats(c);
	assert_int_equal(st.hits + st.misses, THREADS * THREAD_ROUNDS * SHARED);
	assert_true(st.entries <= SHARED / 2);
	assert_true(tcwi_key_cache_clean(c));
	for (int i = 0; i < SHARED; i++)
		free(r[0].ct[i]);
	tcw_key_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits),   cmocka_unit_test(test_hit_and_miss),
	    cmocka_unit_test(test_rejected), cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_eviction), cmocka_unit_test(test_keys_apart),
	    cmocka_unit_test(test_threads),  cmocka_unit_test(test_owner),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
