/* SPDX-License-Identifier: Apache-2.0 */
/* test_replay.c - the worker's replay cache: duplicates, expiry, eviction, threads, its file
 * (version 1, and version 2 with the pending orders; files built by hand). */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pending.h"
#include "replay.h"

#define THREADS 4
#define THREAD_IDS 1000

static uint64_t g_now = 1700000000u;
static char g_dir[64];

static uint64_t fake_clock(void)
{
	return g_now;
}

static int setup(void **state)
{
	(void)state;
	tu_tmpdir("replay", g_dir, sizeof(g_dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(g_dir);
	return 0;
}

static struct replay_cache *cache(size_t cap, uint64_t ttl)
{
	struct replay_cache *c = NULL;

	assert_int_equal(replay_cache_new(cap, ttl, &c), TCW_OK);
	replay_cache_set_clock(c, fake_clock);
	return c;
}

static int seen(struct replay_cache *c, const char *id)
{
	return replay_cache_seen(c, id, strlen(id));
}

static char *path_of(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	return path;
}

static void test_limits(void **state)
{
	struct replay_cache *c = NULL;
	(void)state;
	assert_int_equal(replay_cache_new(0, 10, &c), TCW_ERR_INVALID_PARAM);
	assert_int_equal(replay_cache_new(10, 0, &c), TCW_ERR_INVALID_PARAM);
	assert_int_equal(replay_cache_new(REPLAY_MAX_ENTRIES + 1u, 10, &c), TCW_ERR_INVALID_PARAM);
	assert_int_equal(replay_cache_new(10, REPLAY_MAX_TTL + 1ull, &c), TCW_ERR_INVALID_PARAM);
	assert_null(c);
	assert_int_equal(replay_cache_new(1, REPLAY_MAX_TTL, &c), TCW_OK);
	replay_cache_free(&c);
	assert_null(c);
	replay_cache_free(&c);
	assert_int_equal(replay_cache_seen(NULL, "ab", 2), TCW_ERR_INTERNAL);
}

static void test_duplicates(void **state)
{
	struct replay_cache *c = cache(16, 100);
	(void)state;
	assert_int_equal(seen(c, "abcd"), TCW_OK);
	assert_int_equal(seen(c, "abcd"), TCW_ERR_DUPLICATE);
	/* the same id in another spelling */
	assert_int_equal(seen(c, "ABCD"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(c, "0xAbCd"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(c, "abcd00"), TCW_OK);
	assert_int_equal(seen(c, "00abcd"), TCW_OK);
	assert_int_equal(seen(c, ""), TCW_OK);
	assert_int_equal(seen(c, ""), TCW_ERR_DUPLICATE);
	assert_int_equal(replay_cache_count(c), 4);
	assert_int_equal(replay_cache_evictions(c), 0);
	replay_cache_free(&c);
}

static void test_expiry(void **state)
{
	struct replay_cache *c = cache(16, 100);
	uint64_t t0 = g_now;
	(void)state;
	assert_int_equal(seen(c, "01"), TCW_OK);
	g_now = t0 + 50;
	assert_int_equal(seen(c, "02"), TCW_OK);
	g_now = t0 + 99;
	assert_int_equal(seen(c, "01"), TCW_ERR_DUPLICATE);
	assert_int_equal(replay_cache_count(c), 2);
	g_now = t0 + 100; /* "01" is 100 s old: forgotten, recorded again */
	assert_int_equal(replay_cache_count(c), 1);
	assert_int_equal(seen(c, "02"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(c, "01"), TCW_OK);
	assert_int_equal(seen(c, "01"), TCW_ERR_DUPLICATE);
	/* a clock that steps back keeps the entries (and their order) */
	g_now = t0;
	assert_int_equal(seen(c, "03"), TCW_OK);
	assert_int_equal(replay_cache_count(c), 3);
	g_now = t0 + 150;
	assert_int_equal(replay_cache_count(c), 2); /* "02" expired */
	g_now = t0 + 200;
	assert_int_equal(replay_cache_count(c), 0); /* "01", "03" recorded at t0 + 100 */
	assert_int_equal(replay_cache_evictions(c), 0);
	g_now = t0;
	replay_cache_free(&c);
}

static void test_eviction(void **state)
{
	struct replay_cache *c = cache(3, 1000);
	char id[16];
	(void)state;
	assert_int_equal(seen(c, "aa"), TCW_OK);
	assert_int_equal(seen(c, "bb"), TCW_OK);
	assert_int_equal(seen(c, "cc"), TCW_OK);
	assert_int_equal(seen(c, "dd"), TCW_OK); /* evicts "aa" */
	assert_int_equal(replay_cache_evictions(c), 1);
	assert_int_equal(replay_cache_count(c), 3);
	assert_int_equal(seen(c, "dd"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(c, "cc"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(c, "aa"), TCW_OK); /* forgotten; evicts "bb" */
	assert_int_equal(seen(c, "cc"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(c, "bb"), TCW_OK);
	assert_int_equal(replay_cache_evictions(c), 3);
	replay_cache_free(&c);

	/* a full cache of many entries keeps every one of them */
	c = cache(5000, 1000);
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "%08x", (unsigned)i * 2654435761u);
		assert_int_equal(seen(c, id), TCW_OK);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "%08x", (unsigned)i * 2654435761u);
		assert_int_equal(seen(c, id), TCW_ERR_DUPLICATE);
	}
	assert_int_equal(replay_cache_evictions(c), 0);
	replay_cache_free(&c);
}

struct race {
	struct replay_cache *c;
	int firsts;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	char id[16];

	for (int i = 0; i < THREAD_IDS; i++) {
		snprintf(id, sizeof(id), "%04x", (unsigned)i);
		if (replay_cache_seen(r->c, id, strlen(id)) == TCW_OK)
			r->firsts++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct race r[THREADS];
	pthread_t t[THREADS];
	struct replay_cache *c = cache(2 * THREAD_IDS, 1000);
	int total = 0;
	(void)state;
	for (int i = 0; i < THREADS; i++) {
		r[i] = (struct race){.c = c};
		assert_int_equal(pthread_create(&t[i], NULL, racer, &r[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		total += r[i].firsts;
	}
	/* each id was accepted exactly once, whichever thread got it */
	assert_int_equal(total, THREAD_IDS);
	assert_int_equal(replay_cache_count(c), THREAD_IDS);
	replay_cache_free(&c);
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);

	assert_non_null(fp);
	assert_non_null(buf);
	*size = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	return buf;
}

static void write_file(const char *path, const uint8_t *buf, size_t size)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, size, fp), size);
	fclose(fp);
}

static void test_save_load(void **state)
{
	struct replay_cache *c = cache(8, 100), *d;
	char err[256], *path = path_of("cache.replay");
	struct stat st;
	uint64_t t0 = g_now, changes = 0;
	size_t loaded = 99, size = 0;
	uint8_t *buf;
	(void)state;
	assert_int_equal(seen(c, "aa"), TCW_OK);
	g_now = t0 + 10;
	assert_int_equal(seen(c, "bb"), TCW_OK);
	assert_int_equal(seen(c, "cc"), TCW_OK);
	assert_int_equal(replay_cache_save(c, path, err, sizeof(err)), TCW_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	buf = read_file(path, &size);
	assert_int_equal(size, 24 + 3 * 40 + 32);
	assert_memory_equal(buf, "TCWREPLY\1\0\0\0", 12);
	/* unchanged since the save: nothing written */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(replay_cache_save_changed(c, path, 3, &changes, err, sizeof(err)), TCW_OK);
	assert_int_equal(changes, 3);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(replay_cache_save_changed(c, path, 0, &changes, err, sizeof(err)), TCW_OK);
	assert_int_equal(access(path, F_OK), 0);

	/* a restart: the ids are still known */
	d = cache(8, 100);
	assert_int_equal(replay_cache_load(d, path, &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 3);
	assert_int_equal(seen(d, "bb"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(d, "AA"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(d, "dd"), TCW_OK);
	replay_cache_free(&d);
	/* loaded later: "aa" (t0) has expired, the others are kept */
	g_now = t0 + 105;
	d = cache(8, 100);
	assert_int_equal(replay_cache_load(d, path, &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 2);
	assert_int_equal(seen(d, "aa"), TCW_OK);
	assert_int_equal(seen(d, "cc"), TCW_ERR_DUPLICATE);
	replay_cache_free(&d);
	/* into a smaller cache: the newest entries are kept */
	g_now = t0 + 20;
	d = cache(2, 100);
	assert_int_equal(replay_cache_load(d, path, &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 2);
	assert_int_equal(seen(d, "bb"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(d, "cc"), TCW_ERR_DUPLICATE);
	replay_cache_free(&d);
	/* a missing file is an empty history */
	d = cache(2, 100);
	assert_int_equal(replay_cache_load(d, path_of("none"), &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 0);
	replay_cache_free(&d);
	free(buf);
	replay_cache_free(&c);
	g_now = t0;
}

/* Loading the image buf (size bytes) fails with a message containing want. */
static void expect_bad_file(const uint8_t *buf, size_t size, const char *want)
{
	struct replay_cache *c = cache(8, 100);
	char err[256] = "", *path = path_of("bad.replay");
	size_t loaded = 7;

	write_file(path, buf, size);
	assert_int_equal(replay_cache_load(c, path, &loaded, err, sizeof(err)),
	                 TCW_ERR_INVALID_PARAM);
	assert_int_equal(loaded, 0);
	if (!strstr(err, want))
		fail_msg("'%s' does not contain '%s'", err, want);
	assert_int_equal(replay_cache_count(c), 0);
	replay_cache_free(&c);
}

static void test_bad_files(void **state)
{
	struct replay_cache *c = cache(8, 100);
	char err[256], *path = path_of("good.replay");
	size_t size = 0;
	uint8_t *buf;
	(void)state;
	assert_int_equal(seen(c, "aa"), TCW_OK);
	assert_int_equal(seen(c, "bb"), TCW_OK);
	assert_int_equal(replay_cache_save(c, path, err, sizeof(err)), TCW_OK);
	buf = read_file(path, &size);
	buf[30] ^= 1;
	expect_bad_file(buf, size, "checksum mismatch");
	buf[30] ^= 1;
	expect_bad_file(buf, size - 1, "truncated");
	expect_bad_file(buf, 10, "not a tcworker replay file");
	expect_bad_file((const uint8_t *)"hello world, this is not a replay file at all....", 48,
	                "not a tcworker replay file");
	buf[8] = 3;
	expect_bad_file(buf, size, "unsupported replay file version 3");
	buf[8] = 0;
	expect_bad_file(buf, size, "unsupported replay file version 0");
	buf[8] = 1;
	buf[16] = 0xff; /* count */
	expect_bad_file(buf, size, "truncated or oversized");
	/* a directory is not a replay file */
	assert_int_equal(replay_cache_load(c, g_dir, NULL, err, sizeof(err)),
	                 TCW_ERR_INVALID_PARAM);
	/* saving into a missing directory fails and says why */
	assert_int_equal(replay_cache_save(c, "/nonexistent-dir/x.replay", err, sizeof(err)),
	                 TCW_ERR_INTERNAL);
	assert_non_null(strstr(err, "/nonexistent-dir/x.replay: cannot create a temporary file"));
	free(buf);
	replay_cache_free(&c);
}

/* ---- version 2: the pending orders ------------------------------------------ */

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	p = put32(p, (uint32_t)v);
	return put32(p, (uint32_t)(v >> 32));
}

static void key_of(const char *id, uint8_t key[32])
{
	assert_int_equal(replay_id_key(id, strlen(id), key), TCW_OK);
}

/* A replay file image written here, byte by byte, as the format says:
 * "TCWREPLY", u32 version, u32 40, u64 count, (key, u64 time) each, and
 * for version 2 u64 count, (key, u64 time, request) each; SHA-256. ids[i]
 * first seen at times[i]; pending ids pids[i] at ptimes[i] with request
 * bytes preq[i]. *size gets the length (buf holds 4096 bytes). */
static void build_file(uint8_t *buf, size_t *size, uint32_t version, const char *const *ids,
                       const uint64_t *times, size_t n, const char *const *pids,
                       const uint64_t *ptimes, const uint8_t *preq, size_t pn)
{
	uint8_t *p = buf;

	memcpy(p, "TCWREPLY", 8);
	p = put32(p + 8, version);
	p = put32(p, 40);
	p = put64(p, n);
	for (size_t i = 0; i < n; i++) {
		key_of(ids[i], p);
		p = put64(p + 32, times[i]);
	}
	if (version == 2) {
		p = put64(p, pn);
		for (size_t i = 0; i < pn; i++) {
			key_of(pids[i], p);
			p = put64(p + 32, ptimes[i]);
			memset(p, preq[i], 32);
			p += 32;
		}
	}
	assert_int_equal(tcw_sha256(buf, (size_t)(p - buf), p), TCW_OK);
	*size = (size_t)(p + 32 - buf);
}

static int record_key(void *ctx, const uint8_t key[32], uint64_t *time)
{
	return replay_cache_record_key(ctx, key, time);
}

/* The replay check of a request with identity byte r, as the worker makes
 * it (no wait for running copies). */
static int enter(struct pending *p, struct replay_cache *c, const char *id, uint8_t r)
{
	uint8_t key[32], request[32];
	uint64_t t;

	key_of(id, key);
	memset(request, r, 32);
	return pending_enter(p, key, request, record_key, c, 0, &t);
}

static int finish(struct pending *p, const char *id, uint8_t r)
{
	uint8_t key[32], request[32];

	key_of(id, key);
	memset(request, r, 32);
	return pending_finish(p, key, request);
}

/* A file as a worker without pending orders (or an older one) wrote it
 * loads; the writer still writes exactly that when nothing is pending. */
static void test_version1(void **state)
{
	static const char *const ids[] = {"aa", "bb"};
	const uint64_t times[] = {g_now - 20, g_now - 10};
	struct replay_cache *c = cache(8, 100);
	struct pending *p = NULL;
	uint8_t want[4096], *got;
	size_t size, got_size = 0, loaded = 0, interrupted = 9;
	char err[256], *path = path_of("v1.replay");
	(void)state;
	build_file(want, &size, 1, ids, times, 2, NULL, NULL, NULL, 0);
	assert_int_equal(size, 24 + 2 * 40 + 32);
	write_file(path, want, size);
	assert_int_equal(pending_new(8, &p), TCW_OK);
	replay_cache_attach(c, p);
	assert_int_equal(replay_cache_load(c, path, &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 2);
	assert_int_equal(pending_count(p, &interrupted), 0);
	assert_int_equal(interrupted, 0);
	assert_int_equal(seen(c, "AA"), TCW_ERR_DUPLICATE);
	assert_int_equal(seen(c, "bb"), TCW_ERR_DUPLICATE);
	/* an order accepted and answered: nothing pending, version 1 again */
	assert_int_equal(enter(p, c, "cc", 7), TCW_OK);
	assert_int_equal(finish(p, "cc", 7), 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(replay_cache_save(c, path, err, sizeof(err)), TCW_OK);
	got = read_file(path, &got_size);
	{
		static const char *const ids3[] = {"aa", "bb", "cc"};
		const uint64_t times3[] = {g_now - 20, g_now - 10, g_now};

		build_file(want, &size, 1, ids3, times3, 3, NULL, NULL, NULL, 0);
	}
	assert_int_equal(got_size, size);
	assert_memory_equal(got, want, size);
	free(got);
	replay_cache_free(&c);
	pending_free(&p);
}

/* Pending orders are saved with the ids (version 2) and come back as
 * interrupted orders: the exact request claims one once, another request
 * or an answered order is a duplicate. */
static void test_version2(void **state)
{
	struct replay_cache *c = cache(8, 100), *d;
	struct pending *p = NULL, *q = NULL;
	char err[256], *path = path_of("v2.replay");
	size_t size = 0, loaded = 0, interrupted = 0;
	uint8_t *buf, want[4096];
	(void)state;
	assert_int_equal(pending_new(8, &p), TCW_OK);
	replay_cache_attach(c, p);
	assert_int_equal(enter(p, c, "aa", 1), TCW_OK);
	g_now += 5;
	assert_int_equal(enter(p, c, "bb", 2), TCW_OK);
	assert_int_equal(enter(p, c, "cc", 3), TCW_OK);
	assert_int_equal(seen(c, "dd"), TCW_OK); /* no identity: never pending */
	assert_int_equal(finish(p, "bb", 2), 1);
	assert_int_equal(replay_cache_save(c, path, err, sizeof(err)), TCW_OK);
	buf = read_file(path, &size);
	{
		static const char *const ids[] = {"aa", "bb", "cc", "dd"};
		static const char *const pids[] = {"aa", "cc"};
		const uint64_t times[] = {g_now - 5, g_now, g_now, g_now};
		const uint64_t ptimes[] = {g_now - 5, g_now};
		const uint8_t preq[] = {1, 3};

		build_file(want, &size, 2, ids, times, 4, pids, ptimes, preq, 2);
	}
	assert_int_equal(size, 24 + 4 * 40 + 8 + 2 * 72 + 32);
	assert_memory_equal(buf, want, size);
	free(buf);
	/* unchanged: nothing to write; a change in the pending table alone is
	 * a change of the file */
	{
		uint64_t since = replay_cache_changes(c), changes = 0;

		assert_int_equal(finish(p, "cc", 3), 1);
		assert_int_not_equal(replay_cache_changes(c), since);
		assert_int_equal(
		    replay_cache_save_changed(c, path, since, &changes, err, sizeof(err)), TCW_OK);
		assert_int_equal(changes, replay_cache_changes(c));
		buf = read_file(path, &size);
		assert_int_equal(size, 24 + 4 * 40 + 8 + 1 * 72 + 32);
		free(buf);
	}
	/* a restart: "aa" was interrupted */
	d = cache(8, 100);
	assert_int_equal(pending_new(8, &q), TCW_OK);
	replay_cache_attach(d, q);
	assert_int_equal(replay_cache_load(d, path, &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 4);
	assert_int_equal(pending_count(q, &interrupted), 1);
	assert_int_equal(interrupted, 1);
	assert_int_equal(enter(q, d, "aa", 9), TCW_ERR_DUPLICATE);
	assert_int_equal(enter(q, d, "bb", 2), TCW_ERR_DUPLICATE);
	assert_int_equal(enter(q, d, "cc", 3), TCW_ERR_DUPLICATE);
	assert_int_equal(enter(q, d, "aa", 1), PENDING_RERUN);
	assert_int_equal(enter(q, d, "aa", 1), TCW_ERR_DUPLICATE);
	replay_cache_free(&d);
	pending_free(&q);
	/* without a pending table (no response store): the ids only */
	d = cache(8, 100);
	assert_int_equal(replay_cache_load(d, path, &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 4);
	assert_int_equal(seen(d, "aa"), TCW_ERR_DUPLICATE);
	replay_cache_free(&d);
	replay_cache_free(&c);
	pending_free(&p);
	g_now -= 5;
}

/* A pending entry whose id is not among the ids (the ids were taken just
 * before it came) brings its id; an expired one is dropped, id and all. */
static void test_version2_by_hand(void **state)
{
	static const char *const ids[] = {"aa"};
	static const char *const pids[] = {"ee", "ff"};
	const uint64_t times[] = {g_now - 10};
	const uint64_t ptimes[] = {g_now - 200, g_now - 1};
	const uint8_t preq[] = {5, 6};
	struct replay_cache *c = cache(8, 100);
	struct pending *p = NULL;
	char err[256], *path = path_of("hand.replay");
	size_t size = 0, loaded = 0, interrupted = 0;
	uint8_t buf[4096];
	(void)state;
	build_file(buf, &size, 2, ids, times, 1, pids, ptimes, preq, 2);
	write_file(path, buf, size);
	assert_int_equal(pending_new(8, &p), TCW_OK);
	replay_cache_attach(c, p);
	assert_int_equal(replay_cache_load(c, path, &loaded, err, sizeof(err)), TCW_OK);
	assert_int_equal(loaded, 2);
	assert_int_equal(pending_count(p, &interrupted), 1);
	assert_int_equal(interrupted, 1);
	assert_int_equal(enter(p, c, "ff", 6), PENDING_RERUN);
	assert_int_equal(seen(c, "ee"), TCW_OK);
	replay_cache_free(&c);
	pending_free(&p);
	/* damaged version 2 files */
	build_file(buf, &size, 2, ids, times, 1, pids, ptimes, preq, 2);
	buf[24 + 40] = 9; /* pending count 9, 2 records */
	expect_bad_file(buf, size, "truncated or oversized");
	build_file(buf, &size, 2, ids, times, 1, pids, ptimes, preq, 2);
	buf[24 + 40 + 7] = 0x80; /* an absurd pending count */
	expect_bad_file(buf, size, "truncated or oversized");
	build_file(buf, &size, 2, ids, times, 1, pids, ptimes, preq, 2);
	expect_bad_file(buf, 24 + 40 + 4, "truncated or oversized");
	build_file(buf, &size, 2, ids, times, 1, pids, ptimes, preq, 2);
	buf[size - 40] ^= 1; /* a request byte */
	expect_bad_file(buf, size, "checksum mismatch");
	/* a version 1 file cut where version 2 has its pending count */
	build_file(buf, &size, 1, ids, times, 1, NULL, NULL, NULL, 0);
	buf[8] = 2;
	expect_bad_file(buf, size, "truncated or oversized");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits),    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_expiry),    cmocka_unit_test(test_eviction),
	    cmocka_unit_test(test_threads),   cmocka_unit_test(test_save_load),
	    cmocka_unit_test(test_bad_files), cmocka_unit_test(test_version1),
	    cmocka_unit_test(test_version2),  cmocka_unit_test(test_version2_by_hand),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
