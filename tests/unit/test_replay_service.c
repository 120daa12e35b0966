/* SPDX-License-Identifier: Apache-2.0 */
/* test_replay_service.c - the worker's replay state across kill -9 (a child process that
 * kills itself) and restarts: interrupted orders run again once, answered ones never; how
 * the journal and the state files combine; the response store off. */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "pending.h"
#include "replay.h"
#include "respstore.h"

#define STORE_BYTES 4096u

static char g_dir[64];
static char g_path[128];

static int setup(void **state)
{
	(void)state;
	tu_tmpdir("replaysvc", g_dir, sizeof(g_dir));
	snprintf(g_path, sizeof(g_path), "%s/w.replay", g_dir);
	log_set_level(TCW_LOG_WARN);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(g_dir);
	return 0;
}

/* Removes every file of the test folder. */
static void clean(void)
{
	tu_empty_dir(g_dir);
}

static struct replay_service *start(uint64_t store_bytes)
{
	struct worker_config cfg;
	struct replay_service *s = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.replay_entries = 64;
	cfg.replay_ttl = 3600;
	cfg.replay_file = g_path;
	cfg.response_store_bytes = store_bytes;
	cfg.workload_timeout_ms = 100;
	if (replay_service_start(&cfg, &s) != 0 || s == NULL)
		return NULL;
	return s;
}

static void stop(struct replay_service **s)
{
	assert_int_equal(replay_service_stop(s), 0);
	assert_null(*s);
}

static const uint8_t *req(uint8_t r)
{
	static uint8_t b[8][32];
	static int next;
	uint8_t *p = b[next++ % 8];

	memset(p, r, 32);
	return p;
}

static int acc(struct replay_service *s, const char *id, uint8_t r)
{
	return replay_service_seen_request(s, id, strlen(id), req(r));
}

static void store(struct replay_service *s, const char *id, uint8_t r, const char *text)
{
	replay_service_store(s, id, strlen(id), req(r), text, strlen(text));
}

/* The reply kept for id and request r (caller frees), NULL when none. */
static char *stored(struct replay_service *s, const char *id, uint8_t r)
{
	char *reply = NULL;
	size_t size = 0;

	if (replay_service_stored(s, id, strlen(id), req(r), &reply, &size) != TCW_OK)
		return NULL;
	return reply;
}

static void expect_stored(struct replay_service *s, const char *id, uint8_t r, const char *want)
{
	char *got = stored(s, id, r);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* The version field of the replay file. */
static unsigned file_version(void)
{
	FILE *fp = fopen(g_path, "rb");
	uint8_t head[12];

	assert_non_null(fp);
	assert_int_equal(fread(head, 1, sizeof(head), fp), sizeof(head));
	fclose(fp);
	return head[8];
}

/* Runs fn in a child that then kills itself with SIGKILL (no save, no
 * clean stop: what the journal wrote is what survives). fn returns 0, or
 * a step number that failed. */
static void in_killed_child(int (*fn)(void))
{
	int status = 0, step;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		step = fn();
		if (step != 0)
			_exit(step);
		raise(SIGKILL);
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status))
		fail_msg("child failed at step %d", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* A run: A accepted (not answered), B answered (reply kept), D answered
 * (reply too large to keep), C accepted without a request identity. */
static int first_run(void)
{
	struct replay_service *s = start(STORE_BYTES);
	char big[2001];

	if (s == NULL)
		return 1;
	if (acc(s, "aa", 1) != TCW_OK || acc(s, "bb", 2) != TCW_OK || acc(s, "dd", 4) != TCW_OK)
		return 2;
	if (replay_service_seen(s, "cc", 2) != TCW_OK)
		return 3;
	store(s, "bb", 2, "reply-B");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	store(s, "dd", 4, big);
	return 0;
}

/* A run that claims the interrupted A and is killed while it "runs". */
static int rerun_killed(void)
{
	struct replay_service *s = start(STORE_BYTES);

	if (s == NULL)
		return 1;
	return acc(s, "aa", 1) == TCW_OK ? 0 : 2;
}

/* kill -9 with an order running: after the restart only its exact request
 * runs it again, once, also after a second kill during that run; answered
 * orders never run again, whether or not their reply was kept. */
static void test_kill_restart(void **state)
{
	struct replay_service *s;
	struct tcw_processor proc;
	(void)state;
	clean();
	in_killed_child(first_run);
	s = start(STORE_BYTES);
	assert_non_null(s);
	assert_int_equal(acc(s, "aa", 9), TCW_ERR_DUPLICATE);
	assert_int_equal(acc(s, "bb", 2), TCW_ERR_DUPLICATE);
	expect_stored(s, "bb", 2, "reply-B");
	assert_int_equal(acc(s, "dd", 4), TCW_ERR_DUPLICATE); /* answered, reply not kept */
	expect_stored(s, "dd", 4, NULL);
	assert_int_equal(acc(s, "cc", 3), TCW_ERR_DUPLICATE); /* no identity recorded */
	assert_int_equal(replay_service_seen(s, "cc", 2), TCW_ERR_DUPLICATE);
	memset(&proc, 0, sizeof(proc));
	replay_service_hooks(s, &proc);
	assert_ptr_equal(proc.seen_request, replay_service_seen_request);
	assert_ptr_equal(proc.seen_ctx, s);
	stop(&s); /* a clean stop: "aa" is still pending, in the file */
	assert_int_equal(file_version(), 2);

	in_killed_child(rerun_killed);
	s = start(STORE_BYTES);
	assert_non_null(s);
	assert_int_equal(acc(s, "aa", 1), TCW_OK); /* still interrupted */
	store(s, "aa", 1, "reply-A");
	expect_stored(s, "aa", 1, "reply-A");
	stop(&s);
	assert_int_equal(file_version(), 1);
	s = start(STORE_BYTES);
	assert_non_null(s);
	assert_int_equal(acc(s, "aa", 1), TCW_ERR_DUPLICATE);
	expect_stored(s, "aa", 1, "reply-A");
	stop(&s);
}

/* Writes the replay file of a cache holding ids (and, with request bytes
 * reqs, those ids pending with them). */
static void write_state(const char *const *ids, size_t n, const uint8_t *reqs)
{
	struct replay_cache *c = NULL;
	struct pending *p = NULL;
	char err[256];

	assert_int_equal(replay_cache_new(64, 3600, &c), TCW_OK);
	assert_int_equal(pending_new(64, &p), TCW_OK);
	replay_cache_attach(c, p);
	for (size_t i = 0; i < n; i++) {
		uint8_t key[32];
		uint64_t t;

		assert_int_equal(replay_id_key(ids[i], strlen(ids[i]), key), TCW_OK);
		assert_int_equal(replay_cache_record_key(c, key, &t), TCW_OK);
		if (reqs) {
			struct pending_record r = {.time = t};

			memcpy(r.key, key, 32);
			memset(r.request, reqs[i], 32);
			assert_int_equal(pending_add(p, &r), 1);
		}
	}
	assert_int_equal(replay_cache_save(c, g_path, err, sizeof(err)), TCW_OK);
	replay_cache_free(&c);
	pending_free(&p);
}

/* Appends an accepted record for id with request r to a new journal file. */
static void journal_accepted(const char *id, uint8_t r)
{
	const struct journal_sink none = {0};
	struct journal_found found;
	struct journal *j = NULL;
	uint8_t key[32];
	char err[256];

	assert_int_equal(journal_open(g_path, &none, &j, &found, err, sizeof(err)), TCW_OK);
	assert_int_equal(found.records, 0);
	assert_int_equal(replay_id_key(id, strlen(id), key), TCW_OK);
	assert_int_equal(journal_add_accepted(j, key, (uint64_t)time(NULL), req(r)), TCW_OK);
	journal_close(&j, 0);
}

/* How the journal and the state files combine at start-up. */
static void test_journal_and_files(void **state)
{
	static const char *const x[] = {"xx"};
	static const uint8_t r1[] = {1};
	struct replay_service *s;
	struct resp_store *rs = NULL;
	char err[256], rpath[160];
	uint64_t changes;
	(void)state;
	/* the files were saved after the order's acceptance and do not hold
	 * it as pending: it was answered before that save (its answer record
	 * may be missing, as when that append failed) - never again */
	clean();
	write_state(x, 1, NULL);
	journal_accepted("xx", 1);
	s = start(STORE_BYTES);
	assert_non_null(s);
	assert_int_equal(acc(s, "xx", 1), TCW_ERR_DUPLICATE);
	stop(&s);
	/* the files do not know the id: the journal's acceptance is pending */
	clean();
	journal_accepted("xx", 1);
	s = start(STORE_BYTES);
	assert_non_null(s);
	assert_int_equal(acc(s, "xx", 2), TCW_ERR_DUPLICATE);
	assert_int_equal(acc(s, "xx", 1), TCW_OK);
	stop(&s);
	/* pending in the replay file, its reply in the response file (kept
	 * between the two images of a save): answered */
	clean();
	write_state(x, 1, r1);
	{
		uint8_t key[32];

		assert_int_equal(replay_id_key("xx", 2, key), TCW_OK);
		assert_int_equal(resp_store_new(STORE_BYTES, 3600, &rs), TCW_OK);
		assert_int_equal(resp_store_put(rs, key, req(1), (uint64_t)time(NULL), "kept", 4),
		                 TCW_OK);
	}
	snprintf(rpath, sizeof(rpath), "%s%s", g_path, RESPSTORE_FILE_SUFFIX);
	assert_int_equal(resp_store_save_changed(rs, rpath, UINT64_MAX, &changes, err, sizeof(err)),
	                 TCW_OK);
	resp_store_free(&rs);
	s = start(STORE_BYTES);
	assert_non_null(s);
	assert_int_equal(acc(s, "xx", 1), TCW_ERR_DUPLICATE);
	expect_stored(s, "xx", 1, "kept");
	stop(&s);
}

/* A run without a response store: ids only. */
static int run_without_store(void)
{
	struct replay_service *s = start(0);
	struct tcw_processor proc;

	if (s == NULL)
		return 1;
	memset(&proc, 0, sizeof(proc));
	replay_service_hooks(s, &proc);
	if (proc.seen_request != NULL || proc.stored_reply != NULL)
		return 2;
	return acc(s, "ee", 5) == TCW_OK ? 0 : 3;
}

/* Without a response store nothing runs again, also when the store is on
 * at the next start. */
static void test_store_off(void **state)
{
	struct replay_service *s;
	(void)state;
	clean();
	in_killed_child(run_without_store);
	s = start(0);
	assert_non_null(s);
	assert_int_equal(acc(s, "ee", 5), TCW_ERR_DUPLICATE);
	stop(&s);
	s = start(STORE_BYTES);
	assert_non_null(s);
	assert_int_equal(acc(s, "ee", 5), TCW_ERR_DUPLICATE);
	stop(&s);
	assert_int_equal(file_version(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_restart),
	    cmocka_unit_test(test_journal_and_files),
	    cmocka_unit_test(test_store_off),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
