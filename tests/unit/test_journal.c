/* SPDX-License-Identifier: Apache-2.0 */
/* test_journal.c - the replay journal: records of every type read back in order (files
 * with only the older types too), new files per start and per rotation, dropped files,
 * torn, corrupt and unknown records, threads. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

#define THREADS 4
#define THREAD_RECORDS 200

static char g_dir[64];
static char g_base[128];

/* What the sink received, as text lines "id <key[0]> <time>" /
 * "reply <key[0]> <request[0]> <time> <text>". */
static char g_got[65536];

static void sink_id(void *ctx, const uint8_t key[32], uint64_t time)
{
	size_t n = strlen(g_got);

	(void)ctx;
	snprintf(g_got + n, sizeof(g_got) - n, "id %u %llu\n", key[0], (unsigned long long)time);
}

static void sink_reply(void *ctx, const uint8_t key[32], const uint8_t request[32], uint64_t time,
                       const char *reply, size_t size)
{
	size_t n = strlen(g_got);

	(void)ctx;
	snprintf(g_got + n, sizeof(g_got) - n, "reply %u %u %llu %.*s\n", key[0], request[0],
	         (unsigned long long)time, (int)size, reply);
}

static void sink_accepted(void *ctx, const uint8_t key[32], uint64_t time,
                          const uint8_t request[32])
{
	size_t n = strlen(g_got);

	(void)ctx;
	snprintf(g_got + n, sizeof(g_got) - n, "accepted %u %llu %u\n", key[0],
	         (unsigned long long)time, request[0]);
}

static void sink_answered(void *ctx, const uint8_t key[32], const uint8_t request[32])
{
	size_t n = strlen(g_got);

	(void)ctx;
	snprintf(g_got + n, sizeof(g_got) - n, "answered %u %u\n", key[0], request[0]);
}

static const struct journal_sink g_sink = {
    .id = sink_id, .reply = sink_reply, .accepted = sink_accepted, .answered = sink_answered};

static int setup(void **state)
{
	(void)state;
	tu_tmpdir("journal", g_dir, sizeof(g_dir));
	snprintf(g_base, sizeof(g_base), "%s/w.replay", g_dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(g_dir);
	return 0;
}

/* Removes every file of the test folder (each test starts empty). */
static void clean(void)
{
	tu_empty_dir(g_dir);
	g_got[0] = '\0';
}

static char *file_of(unsigned gen)
{
	static char path[160];

	snprintf(path, sizeof(path), "%s.journal.%u", g_base, gen);
	return path;
}

static int exists(unsigned gen)
{
	return access(file_of(gen), F_OK) == 0;
}

static void key_of(uint8_t v, uint8_t key[32])
{
	memset(key, v, 32);
}

/* Opens the journal of g_base, expecting found files/records/torn. */
static struct journal *open_ok(size_t files, size_t records, size_t torn)
{
	struct journal_found found;
	struct journal *j = NULL;
	char err[512];

	assert_int_equal(journal_open(g_base, &g_sink, &j, &found, err, sizeof(err)), TCW_OK);
	assert_non_null(j);
	assert_int_equal(found.files, files);
	assert_int_equal(found.records, records);
	assert_int_equal(found.torn, torn);
	return j;
}

/* Records come back in order, across files; every start and rotation
 * makes a new file; a clean close of an empty file removes it. */
static void test_round_trip(void **state)
{
	struct journal *j;
	uint8_t k[32], r[32];
	uint64_t ended = 0;
	char err[512];
	struct stat st;
	(void)state;
	clean();
	j = open_ok(0, 0, 0);
	assert_true(exists(1));
	assert_int_equal(stat(file_of(1), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	key_of(1, k);
	assert_int_equal(journal_add_id(j, k, 1000), TCW_OK);
	key_of(9, r);
	assert_int_equal(journal_add_reply(j, k, r, 1001, "{\"result\":1}", 12), TCW_OK);
	assert_int_equal(journal_size(j), 12 + 40 + 4 + 12 + 72 + 12 + 4);
	assert_int_equal(journal_rotate(j, &ended, err, sizeof(err)), TCW_OK);
	assert_int_equal(ended, 1);
	assert_int_equal(journal_size(j), 0);
	key_of(2, k);
	assert_int_equal(journal_add_id(j, k, 1002), TCW_OK);
	assert_int_equal(journal_add_reply(j, k, r, 1003, "", 0), TCW_OK);
	journal_close(&j, 1);
	assert_null(j);
	assert_true(exists(1) && exists(2));
	/* a kill: everything read back in order, a new file 3 */
	j = open_ok(2, 4, 0);
	assert_string_equal(g_got, "id 1 1000\nreply 1 9 1001 {\"result\":1}\nid 2 1002\n"
	                           "reply 2 9 1003 \n");
	assert_true(exists(3));
	/* the saved state holds 1 and 2: they go; 3 (current) stays */
	assert_int_equal(journal_drop(j, 10, err, sizeof(err)), TCW_OK);
	assert_false(exists(1) || exists(2));
	assert_true(exists(3));
	journal_close(&j, 1);
	assert_false(exists(3)); /* empty at a clean close */
	g_got[0] = '\0';
	j = open_ok(0, 0, 0);
	assert_true(exists(1)); /* numbering starts again */
	journal_close(&j, 0);
	assert_true(exists(1)); /* kept without remove_empty */
}

/* Appends raw bytes to journal file gen. */
static void append_raw(unsigned gen, const void *bytes, size_t n)
{
	FILE *fp = fopen(file_of(gen), "ab");

	assert_non_null(fp);
	assert_int_equal(fwrite(bytes, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* Flips one byte of journal file gen at offset at. */
static void flip(unsigned gen, long at)
{
	FILE *fp = fopen(file_of(gen), "r+b");
	int c;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	c = fgetc(fp);
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	fputc(c ^ 0x10, fp);
	assert_int_equal(fclose(fp), 0);
}

/* One journal file 1 with an id record (key 7) and a reply record. */
static void two_records(void)
{
	struct journal *j;
	uint8_t k[32];

	clean();
	j = open_ok(0, 0, 0);
	key_of(7, k);
	assert_int_equal(journal_add_id(j, k, 5), TCW_OK);
	assert_int_equal(journal_add_reply(j, k, k, 6, "abc", 3), TCW_OK);
	journal_close(&j, 0);
	g_got[0] = '\0';
}

/* A record cut short at the end of a file, or a zero tail, is torn (the
 * records before it count); a bad record followed by data is corruption. */
static void test_torn_and_corrupt(void **state)
{
	static const uint8_t partial[] = {'T', 'C', 'W', 'J', 2, 0, 0, 0, 0xff, 0x7f, 0, 0, 'x'};
	static const uint8_t zeros[64];
	struct journal_found found;
	struct journal *j = NULL;
	char err[512], want[256];
	(void)state;
	/* a cut header, a cut payload */
	two_records();
	append_raw(1, partial, 6);
	j = open_ok(1, 2, 1);
	assert_string_equal(g_got, "id 7 5\nreply 7 7 6 abc\n");
	journal_close(&j, 1);
	two_records();
	append_raw(1, partial, sizeof(partial));
	j = open_ok(1, 2, 1);
	journal_close(&j, 1);
	/* zeros after the records (a power loss can leave them) */
	two_records();
	append_raw(1, zeros, sizeof(zeros));
	j = open_ok(1, 2, 1);
	journal_close(&j, 1);
	/* a flipped byte in the first record: corrupt, nothing opens */
	struct {
		long at;
		const char *why;
	} bad[] = {{0, "magic"}, {5, "padding"}, {9, "length"}, {20, "key"}, {54, "check"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		two_records();
		flip(1, bad[i].at);
		assert_int_equal(journal_open(g_base, &g_sink, &j, &found, err, sizeof(err)),
		                 TCW_ERR_INVALID_PARAM);
		assert_null(j);
		snprintf(want, sizeof(want), "%s: corrupt journal record at byte 0", file_of(1));
		if (strcmp(err, want) != 0)
			fail_msg("%s: got \"%s\"", bad[i].why, err);
		assert_false(exists(2)); /* no new file either */
	}
	/* an unknown record type */
	two_records();
	flip(1, 4);
	assert_int_equal(journal_open(g_base, &g_sink, &j, &found, err, sizeof(err)),
	                 TCW_ERR_INVALID_PARAM);
	/* the second record damaged: corrupt at its offset (56) */
	two_records();
	flip(1, 56 + 30);
	assert_int_equal(journal_open(g_base, &g_sink, &j, &found, err, sizeof(err)),
	                 TCW_ERR_INVALID_PARAM);
	snprintf(want, sizeof(want), "%s: corrupt journal record at byte 56", file_of(1));
	assert_string_equal(err, want);
	/* ... but its reply text is not covered by the check */
	two_records();
	flip(1, 56 + 12 + 72 + 1);
	j = open_ok(1, 2, 0);
	assert_string_equal(g_got, "id 7 5\nreply 7 7 6 arc\n");
	journal_close(&j, 1);
}

/* The records of pending orders (accepted with a request identity,
 * answered without a kept reply) between the older ones, their sizes,
 * damage and an unknown type. */
static void test_pending_records(void **state)
{
	struct journal_found found;
	struct journal *j;
	uint8_t k[32], r[32];
	char err[512], want[256];
	(void)state;
	clean();
	j = open_ok(0, 0, 0);
	key_of(1, k);
	key_of(11, r);
	assert_int_equal(journal_add_accepted(j, k, 1000, r), TCW_OK);
	assert_int_equal(journal_size(j), 12 + 72 + 4);
	key_of(2, k);
	assert_int_equal(journal_add_id(j, k, 1001), TCW_OK);
	key_of(3, k);
	key_of(13, r);
	assert_int_equal(journal_add_accepted(j, k, 1002, r), TCW_OK);
	assert_int_equal(journal_add_answered(j, k, r), TCW_OK);
	assert_int_equal(journal_size(j), 88 + 56 + 88 + 12 + 64 + 4);
	key_of(1, k);
	key_of(11, r);
	assert_int_equal(journal_add_reply(j, k, r, 1003, "ok", 2), TCW_OK);
	journal_close(&j, 0);
	j = open_ok(1, 5, 0);
	assert_string_equal(g_got, "accepted 1 1000 11\nid 2 1001\naccepted 3 1002 13\n"
	                           "answered 3 13\nreply 1 11 1003 ok\n");
	journal_close(&j, 1);

	/* every byte of an accepted or answered record is checked: the
	 * request identity (last byte of each) too */
	for (int which = 0; which < 2; which++) {
		clean();
		j = open_ok(0, 0, 0);
		key_of(4, k);
		assert_int_equal(journal_add_accepted(j, k, 5, k), TCW_OK);
		assert_int_equal(journal_add_answered(j, k, k), TCW_OK);
		journal_close(&j, 0);
		flip(1, which ? 88 + 12 + 63 : 12 + 71);
		assert_int_equal(journal_open(g_base, &g_sink, &j, &found, err, sizeof(err)),
		                 TCW_ERR_INVALID_PARAM);
		snprintf(want, sizeof(want), "%s: corrupt journal record at byte %d", file_of(1),
		         which ? 88 : 0);
		assert_string_equal(err, want);
	}
	/* an accepted record with another payload size */
	clean();
	j = open_ok(0, 0, 0);
	assert_int_equal(journal_add_accepted(j, k, 5, k), TCW_OK);
	assert_int_equal(journal_add_id(j, k, 5), TCW_OK);
	journal_close(&j, 0);
	flip(1, 8);
	assert_int_equal(journal_open(g_base, &g_sink, &j, &found, err, sizeof(err)),
	                 TCW_ERR_INVALID_PARAM);
	/* a type this worker does not know: said so */
	two_records();
	flip(1, 56 + 4); /* 2 -> 0x12 */
	assert_int_equal(journal_open(g_base, &g_sink, &j, &found, err, sizeof(err)),
	                 TCW_ERR_INVALID_PARAM);
	snprintf(want, sizeof(want),
	         "%s: journal record of unknown type 18 at byte 56 (written by a newer tcworker?)",
	         file_of(1));
	assert_string_equal(err, want);
	/* an accepted record cut short by the kill: torn, the rest counts */
	two_records();
	j = open_ok(1, 2, 0);
	key_of(5, k);
	assert_int_equal(journal_add_accepted(j, k, 7, k), TCW_OK);
	journal_close(&j, 0);
	assert_int_equal(truncate(file_of(2), 50), 0);
	g_got[0] = '\0';
	j = open_ok(2, 2, 1);
	assert_string_equal(g_got, "id 7 5\nreply 7 7 6 abc\n");
	journal_close(&j, 1);
}

/* Files that are not journals are left alone; a missing folder fails. */
static void test_names(void **state)
{
	struct journal_found found;
	struct journal *j = NULL;
	char err[512], other[192], bad_base[192];
	(void)state;
	two_records();
	snprintf(other, sizeof(other), "%s.journal.x1", g_base);
	FILE *fp = fopen(other, "w");
	assert_non_null(fp);
	fputs("garbage", fp);
	fclose(fp);
	j = open_ok(1, 2, 0);
	journal_close(&j, 1);
	assert_int_equal(access(other, F_OK), 0);
	snprintf(bad_base, sizeof(bad_base), "%s/no/such/dir/w.replay", g_dir);
	assert_int_equal(journal_open(bad_base, &g_sink, &j, &found, err, sizeof(err)),
	                 TCW_ERR_INVALID_PARAM);
	assert_non_null(strstr(err, "cannot list the folder"));
	unlink(other);
}

struct writer {
	struct journal *j;
	uint8_t tag;
};

static void *write_many(void *arg)
{
	struct writer *w = arg;
	uint8_t k[32];
	char text[16];

	key_of(w->tag, k);
	for (unsigned i = 0; i < THREAD_RECORDS; i++) {
		snprintf(text, sizeof(text), "%u-%03u", w->tag, i);
		if (i % 2)
			assert_int_equal(journal_add_id(w->j, k, i), TCW_OK);
		else
			assert_int_equal(journal_add_reply(w->j, k, k, i, text, strlen(text)),
			                 TCW_OK);
	}
	return NULL;
}

/* Four threads appending while another rotates: every record is read back
 * whole, none lost or mixed. */
static void test_threads(void **state)
{
	struct writer w[THREADS];
	pthread_t t[THREADS];
	struct journal *j;
	uint64_t ended;
	char err[512];
	size_t lines = 0;
	(void)state;
	clean();
	j = open_ok(0, 0, 0);
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct writer){.j = j, .tag = (uint8_t)(i + 1)};
		assert_int_equal(pthread_create(&t[i], NULL, write_many, &w[i]), 0);
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(journal_rotate(j, &ended, err, sizeof(err)), TCW_OK);
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	journal_close(&j, 0); /* keep a last empty file: six files either way */
	j = open_ok(6, THREADS * THREAD_RECORDS, 0);
	for (const char *p = g_got; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, THREADS * THREAD_RECORDS);
	/* each thread's replies in its own order */
	for (unsigned i = 1; i <= THREADS; i++) {
		const char *at = g_got;
		char want[32];

		for (unsigned n = 0; n < THREAD_RECORDS; n += 2) {
			snprintf(want, sizeof(want), " %u-%03u\n", i, n);
			at = strstr(at, want);
			assert_non_null(at);
		}
	}
	journal_close(&j, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_torn_and_corrupt),
	    cmocka_unit_test(test_pending_records), cmocka_unit_test(test_names),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
