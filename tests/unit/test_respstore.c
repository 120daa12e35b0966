/* SPDX-License-Identifier: Apache-2.0 */
/* test_respstore.c - the worker's response store: lookups by id and request, eviction by
 * bytes, the share limit, expiry, threads, its file. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "respstore.h"
#include "shreply.h"

#define THREADS 4
#define THREAD_REPLIES 500

static uint64_t g_now = 1700000000u;
static char g_dir[64];

static uint64_t fake_clock(void)
{
	return g_now;
}

static int setup(void **state)
{
	(void)state;
	tu_tmpdir("respstore", g_dir, sizeof(g_dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(g_dir);
	return 0;
}

static char *path_of(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	return path;
}

static struct resp_store *store(uint64_t bytes, uint64_t ttl)
{
	struct resp_store *s = NULL;

	assert_int_equal(resp_store_new(bytes, ttl, &s), TCW_OK);
	resp_store_set_clock(s, fake_clock);
	return s;
}

/* Key and request hash of test entry n (request variant v). */
static void ids(unsigned n, unsigned v, uint8_t key[32], uint8_t req[32])
{
	char text[32];

	snprintf(text, sizeof(text), "%08x", n);
	assert_int_equal(replay_id_key(text, strlen(text), key), TCW_OK);
	snprintf(text, sizeof(text), "request %u/%u", n, v);
	assert_int_equal(tcw_sha256(text, strlen(text), req), TCW_OK);
}

/* Puts reply text for entry n at the fake clock's time. */
static int put(struct resp_store *s, unsigned n, const char *text)
{
	uint8_t key[32], req[32];

	ids(n, 0, key, req);
	return resp_store_put(s, key, req, g_now, text, strlen(text));
}

/* 1 when entry n (request variant v) is kept with reply want. */
static int has(struct resp_store *s, unsigned n, unsigned v, const char *want)
{
	uint8_t key[32], req[32];
	char *reply = NULL;
	size_t size = 0;
	int rc, ok;

	ids(n, v, key, req);
	rc = resp_store_get(s, key, req, &reply, &size);
	if (rc != TCW_OK) {
		assert_int_equal(rc, 1);
		assert_null(reply);
		return 0;
	}
	ok = size == strlen(want) && memcmp(reply, want, size) == 0 && reply[size] == '\0';
	free(reply);
	assert_true(ok);
	return 1;
}

static void test_limits(void **state)
{
	struct resp_store *s = NULL;
	(void)state;
	assert_int_equal(resp_store_new(0, 10, &s), TCW_ERR_INVALID_PARAM);
	assert_int_equal(resp_store_new(RESPSTORE_MAX_BYTES + 1, 10, &s), TCW_ERR_INVALID_PARAM);
	assert_int_equal(resp_store_new(100, 0, &s), TCW_ERR_INVALID_PARAM);
	assert_int_equal(resp_store_new(100, REPLAY_MAX_TTL + 1ull, &s), TCW_ERR_INVALID_PARAM);
	assert_null(s);
	assert_int_equal(resp_store_new(RESPSTORE_MAX_BYTES, REPLAY_MAX_TTL, &s), TCW_OK);
	/* an empty store holds no index yet */
	assert_int_equal(resp_store_stats(s).count, 0);
	assert_int_equal(resp_store_stats(s).bytes, 0);
	resp_store_free(&s);
	assert_null(s);
	resp_store_free(&s);
}

/* A reply comes back only for the same id and the same request; the
 * first reply for an id stays. */
static void test_lookup(void **state)
{
	struct resp_store *s = store(1 << 20, 100);
	(void)state;
	assert_int_equal(put(s, 1, "{\"result\":1}"), TCW_OK);
	assert_int_equal(put(s, 2, ""), TCW_OK);
	assert_true(has(s, 1, 0, "{\"result\":1}"));
	assert_true(has(s, 2, 0, ""));
	assert_false(has(s, 1, 1, "")); /* same id, another request */
	assert_false(has(s, 3, 0, ""));
	assert_int_equal(put(s, 1, "{\"other\":1}"), 1);
	assert_true(has(s, 1, 0, "{\"result\":1}"));
	assert_int_equal(resp_store_stats(s).count, 2);
	assert_int_equal(resp_store_stats(s).bytes, 12 + 2 * RESPSTORE_ENTRY_OVERHEAD);
	resp_store_free(&s);
}

/* The oldest replies make room; a reply over the store's share is not
 * kept at all; the index grows past its first size. */
static void test_eviction(void **state)
{
	const uint64_t cost = 100 + RESPSTORE_ENTRY_OVERHEAD;
	struct resp_store *s = store(10 * cost, 1000);
	char text[101], big[1024];
	(void)state;
	memset(text, 'r', 100);
	text[100] = '\0';
	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(put(s, i, text), TCW_OK);
	assert_int_equal(resp_store_stats(s).count, 10);
	assert_int_equal(resp_store_stats(s).evictions, 2);
	assert_false(has(s, 0, 0, text));
	assert_false(has(s, 1, 0, text));
	for (unsigned i = 2; i < 12; i++)
		assert_true(has(s, i, 0, text));
	/* share: 10 * cost / 4 bytes with the overhead */
	memset(big, 'b', sizeof(big));
	assert_int_equal(put(s, 50, "x"), TCW_OK);
	big[10 * cost / 4 - RESPSTORE_ENTRY_OVERHEAD + 1] = '\0';
	assert_int_equal(put(s, 51, big), 1);
	big[10 * cost / 4 - RESPSTORE_ENTRY_OVERHEAD] = '\0';
	assert_int_equal(put(s, 52, big), TCW_OK);
	assert_true(has(s, 52, 0, big));
	assert_true(resp_store_stats(s).bytes <= 10 * cost);
	resp_store_free(&s);
	/* many small entries: the index doubles and finds them all */
	s = store(1 << 20, 1000);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(put(s, i, "ok"), TCW_OK);
	for (unsigned i = 0; i < 1000; i++)
		assert_true(has(s, i, 0, "ok"));
	resp_store_free(&s);
}

/* Replies live ttl seconds; a clock stepped back keeps the order. */
static void test_expiry(void **state)
{
	struct resp_store *s = store(1 << 20, 10);
	uint8_t key[32], req[32];
	(void)state;
	g_now = 1700000000u;
	assert_int_equal(put(s, 1, "one"), TCW_OK);
	g_now += 5;
	assert_int_equal(put(s, 2, "two"), TCW_OK);
	g_now += 5; /* one is 10 s old */
	assert_false(has(s, 1, 0, "one"));
	assert_true(has(s, 2, 0, "two"));
	g_now -= 100; /* stepped back: still appended after two */
	assert_int_equal(put(s, 3, "three"), TCW_OK);
	g_now += 100;
	assert_int_equal(resp_store_stats(s).count, 2);
	g_now += 5;
	assert_int_equal(resp_store_stats(s).count, 0);
	/* a record older than the ttl (read back from a file) is not kept */
	ids(4, 0, key, req);
	assert_int_equal(resp_store_put(s, key, req, g_now - 10, "old", 3), 1);
	assert_int_equal(resp_store_put(s, key, req, g_now - 9, "old", 3), TCW_OK);
	resp_store_free(&s);
}

struct racer {
	struct resp_store *s;
	unsigned base;
	int kept;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	for (unsigned i = 0; i < THREAD_REPLIES; i++) {
		char text[32];

		snprintf(text, sizeof(text), "reply %u", (r->base + i) % THREAD_REPLIES);
		if (put(r->s, (r->base + i) % THREAD_REPLIES, text) == TCW_OK)
			r->kept++;
	}
	return NULL;
}

/* Four threads putting the same ids: each is kept exactly once. */
static void test_threads(void **state)
{
	struct resp_store *s = store(1 << 24, 1000);
	struct racer r[THREADS];
	pthread_t t[THREADS];
	int kept = 0;
	(void)state;
	for (unsigned i = 0; i < THREADS; i++) {
		r[i] = (struct racer){.s = s, .base = i * 97};
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		kept += r[i].kept;
	}
	assert_int_equal(kept, THREAD_REPLIES);
	assert_int_equal(resp_store_stats(s).count, THREAD_REPLIES);
	for (unsigned i = 0; i < THREAD_REPLIES; i++) {
		char text[32];

		snprintf(text, sizeof(text), "reply %u", i);
		assert_true(has(s, i, 0, text));
	}
	resp_store_free(&s);
}

/* Save only when changed, load into another store (with its own limits),
 * mode 0600, a missing file loads nothing. */
static void test_save_load(void **state)
{
	struct resp_store *s = store(1 << 20, 1000), *t;
	char err[512];
	uint64_t changes = 0, again = 0;
	size_t loaded = 99;
	struct stat st;
	(void)state;
	g_now = 1700000000u;
	assert_int_equal(resp_store_load(s, path_of("none"), &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 0);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(put(s, i, i % 2 ? "odd" : "{\"even\":true}"), TCW_OK);
	assert_int_equal(
	    resp_store_save_changed(s, path_of("r"), UINT64_MAX, &changes, err, sizeof(err)),
	    TCW_OK);
	assert_int_equal(changes, resp_store_stats(s).changes);
	assert_int_equal(stat(path_of("r"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(unlink(path_of("r")), 0);
	assert_int_equal(
	    resp_store_save_changed(s, path_of("r"), changes, &again, err, sizeof(err)), TCW_OK);
	assert_int_equal(again, changes);
	assert_int_equal(stat(path_of("r"), &st), -1); /* unchanged: not written */
	assert_int_equal(
	    resp_store_save_changed(s, path_of("r"), UINT64_MAX, &changes, err, sizeof(err)),
	    TCW_OK);
	/* a smaller store keeps the newest that fit */
	t = store(5 * (16 + RESPSTORE_ENTRY_OVERHEAD), 1000);
	assert_int_equal(resp_store_load(t, path_of("r"), &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 20);
	assert_int_equal(resp_store_stats(t).count, 5);
	assert_true(has(t, 19, 0, "odd"));
	assert_true(has(t, 18, 0, "{\"even\":true}"));
	assert_false(has(t, 0, 0, "{\"even\":true}"));
	resp_store_free(&t);
	/* expired ones are not loaded */
	g_now += 1000;
	t = store(1 << 20, 1000);
	assert_int_equal(resp_store_load(t, path_of("r"), &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 0);
	resp_store_free(&t);
	resp_store_free(&s);
}

/* Writes bytes as file name; returns its path. */
static char *write_file(const char *name, const void *bytes, size_t n)
{
	char *path = path_of(name);
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(bytes, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* Every damaged file is refused with a reason naming the file. */
static void test_bad_files(void **state)
{
	struct resp_store *s = store(1 << 20, 1000);
	uint8_t *img;
	char err[512], want[256];
	size_t n;
	long size;
	FILE *fp;
	(void)state;
	g_now = 1700000000u;
	assert_int_equal(put(s, 1, "reply one"), TCW_OK);
	assert_int_equal(put(s, 2, "reply two"), TCW_OK);
	assert_int_equal(resp_store_save_changed(s, path_of("good"), UINT64_MAX, &(uint64_t){0},
	                                         err, sizeof(err)),
	                 TCW_OK);
	fp = fopen(path_of("good"), "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size = ftell(fp);
	rewind(fp);
	img = malloc((size_t)size);
	assert_non_null(img);
	n = fread(img, 1, (size_t)size, fp);
	assert_int_equal(n, (size_t)size);
	fclose(fp);
	resp_store_free(&s);

	struct {
		const char *name;
		size_t at; /* byte to flip, or size to cut to when cut */
		int cut;
		const char *reason;
	} cases[] = {
	    {"magic", 0, 0, "not a tcworker response store file"},
	    {"version", 8, 0, "unsupported response store file version"},
	    {"data", 100, 0, "checksum mismatch (corrupt response store file)"},
	    {"short", 20, 1, "not a tcworker response store file"},
	    {"cut", (size_t)size - 1, 1, "checksum mismatch (corrupt response store file)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *copy = malloc((size_t)size);
		char *path;

		assert_non_null(copy);
		memcpy(copy, img, (size_t)size);
		if (!cases[i].cut)
			copy[cases[i].at] ^= 0x40;
		path = write_file(cases[i].name, copy, cases[i].cut ? cases[i].at : (size_t)size);
		s = store(1 << 20, 1000);
		assert_int_equal(resp_store_load(s, path, NULL, err, sizeof(err)),
		                 TCW_ERR_INVALID_PARAM);
		snprintf(want, sizeof(want), "%s: %s", path, cases[i].reason);
		assert_non_null(strstr(err, want));
		resp_store_free(&s);
		free(copy);
	}
	/* a record count that does not match the records (checksum fixed up) */
	img[16] = 3;
	assert_int_equal(tcw_sha256(img, (size_t)size - 32, img + size - 32), TCW_OK);
	s = store(1 << 20, 1000);
	assert_int_equal(
	    resp_store_load(s, write_file("count", img, (size_t)size), NULL, err, sizeof(err)),
	    TCW_ERR_INVALID_PARAM);
	assert_non_null(strstr(err, "truncated or oversized response store file"));
	resp_store_free(&s);
	/* not a regular file */
	s = store(1 << 20, 1000);
	assert_int_equal(resp_store_load(s, g_dir, NULL, err, sizeof(err)), TCW_ERR_INVALID_PARAM);
	assert_non_null(strstr(err, "not a response store file (size or type)"));
	resp_store_free(&s);
	free(img);
}

/* A shared reply is kept without a copy: the store holds a reference
 * that outlives the sender's and is dropped at eviction; a reply that is
 * not kept gets no reference; the thread's pending handover returns only
 * the very buffer it was given. */
static void test_shared(void **state)
{
	const uint64_t cost = 100 + RESPSTORE_ENTRY_OVERHEAD;
	struct resp_store *s = store(4 * cost, 1000);
	uint8_t key[32], req[32];
	char *text = malloc(101), *other = strdup("x");
	struct shreply *r, *big;

	(void)state;
	memset(text, 'a', 100);
	text[100] = '\0';
	r = shreply_wrap(text, 100);
	assert_non_null(r);
	ids(1, 0, key, req);
	assert_int_equal(resp_store_put_shared(s, key, req, g_now, r), TCW_OK);
	assert_ptr_equal(r->data, text);
	assert_int_equal(atomic_load(&r->refs), 2);
	/* the sender's reference goes first; the store's keeps the text */
	shreply_set_pending(r);
	assert_null(shreply_take_pending(other));
	shreply_ref(r);
	shreply_set_pending(r);
	assert_ptr_equal(shreply_take_pending(text), r);
	assert_null(shreply_take_pending(text));
	shreply_release(r);
	assert_int_equal(atomic_load(&r->refs), 1);
	assert_true(has(s, 1, 0, text));
	/* over the store's share: not kept, no reference taken */
	big = shreply_copy(text, 100);
	assert_non_null(big);
	big->size = 4 * cost;
	ids(2, 0, key, req);
	assert_int_equal(resp_store_put_shared(s, key, req, g_now, big), 1);
	assert_int_equal(atomic_load(&big->refs), 1);
	shreply_release(big);
	/* eviction drops the store's reference and frees the text (ASan) */
	for (unsigned n = 3; n < 10; n++)
		assert_int_equal(put(s, n, "b"), TCW_OK);
	assert_false(has(s, 1, 0, ""));
	free(other);
	resp_store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits),    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_eviction),  cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_threads),   cmocka_unit_test(test_save_load),
	    cmocka_unit_test(test_bad_files), cmocka_unit_test(test_shared),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
