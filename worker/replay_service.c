/* SPDX-License-Identifier: Apache-2.0 */
/* replay_service.c - replay protection in the worker: the replay cache, the response store
 * and the pending orders from the flags, their files and journal, the periodic save, the
 * processor hooks. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "pending.h"
#include "replay.h"
#include "respstore.h"

#define ERR_SIZE 1024

struct replay_service {
	struct replay_cache *cache;
	struct resp_store *store; /* NULL with --response-store-bytes 0 */
	struct pending *pending;  /* orders not answered yet; with store only */
	unsigned wait_ms;         /* longest wait of a copy for the running order */
	struct journal *journal;  /* NULL when not persisted */
	char *path;               /* replay file, NULL when not persisted */
	char *store_path;         /* <path>.responses */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock; /* guards stop and early, with cond */
	pthread_cond_t cond;
	int stop;
	int early;                 /* the journal asks for a save now */
	uint64_t saved_changes;    /* change count of the last saved cache image */
	uint64_t saved_store;      /* change count of the last saved store image */
	uint64_t warned_evictions; /* evictions already reported */
	uint64_t warned_store_evictions;
	int save_failing;           /* the last periodic save failed (logged once) */
	atomic_int journal_failing; /* appends fail (logged once per spell) */
};

/* Appends suffix to path into a new string (caller frees), NULL on OOM. */
static char *with_suffix(const char *path, const char *suffix)
{
	size_t a = strlen(path), b = strlen(suffix);
	char *p = malloc(a + b + 1);

	if (p) {
		memcpy(p, path, a);
		memcpy(p + a, suffix, b + 1);
	}
	return p;
}

/* The replay file from cfg: --replay-file, else <--keys-file>.replay, else
 * none (*path NULL). */
static int replay_path(const struct worker_config *cfg, char **path)
{
	*path = NULL;
	if (cfg->replay_file != NULL)
		*path = strdup(cfg->replay_file);
	else if (cfg->keys_file != NULL)
		*path = with_suffix(cfg->keys_file, REPLAY_FILE_SUFFIX);
	else
		return 0;
	return *path != NULL ? 0 : TCW_ERR_NOMEM;
}

/* ---- the processor hooks ---------------------------------------------------- */

/* Asks for an early save; the save thread starts a new journal file. */
static void ask_save(struct replay_service *s)
{
	pthread_mutex_lock(&s->lock);
	s->early = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Reports a journal append's outcome: a failure once per spell, the end of
 * a spell, and a journal that has grown enough for a save. */
static void journal_done(struct replay_service *s, int rc)
{
	int failing = atomic_load(&s->journal_failing);

	if (rc != TCW_OK && !failing && atomic_exchange(&s->journal_failing, 1) == 0) {
		log_error("replay journal: cannot append (%s): work orders accepted until it works "
		          "again are kept only by the periodic save",
		          strerror(errno));
		ask_save(s); /* what the record missed, in the files now */
	} else if (rc == TCW_OK && failing && atomic_exchange(&s->journal_failing, 0) == 1) {
		log_info("replay journal: appending again");
	}
	if (journal_size(s->journal) >= JOURNAL_COMPACT_BYTES)
		ask_save(s);
}

/* tcw_processor.seen: records the id in the cache, then in the journal. */
int replay_service_seen(void *ctx, const char *id, size_t len)
{
	struct replay_service *s = ctx;
	uint8_t key[REPLAY_KEY_SIZE];
	uint64_t time = 0;
	int rc;

	if (s == NULL)
		return TCW_ERR_INTERNAL;
	rc = replay_cache_record(s->cache, id, len, key, &time);
	/* memory first, journal second: a save that starts a new journal
	 * file in between finds the id in the cache image */
	if (rc == TCW_OK && s->journal != NULL)
		journal_done(s, journal_add_id(s->journal, key, time));
	return rc;
}

/* pending_record_fn: the replay cache's check-and-record. */
static int record_id(void *ctx, const uint8_t key[REPLAY_KEY_SIZE], uint64_t *time)
{
	return replay_cache_record_key(ctx, key, time);
}

/* tcw_processor.seen_request: records the id and the order as pending (or
 * claims an interrupted one, or waits for a running copy), then journals
 * a new acceptance. */
int replay_service_seen_request(void *ctx, const char *id, size_t len,
                                const uint8_t request[REPLAY_KEY_SIZE])
{
	struct replay_service *s = ctx;
	uint8_t key[REPLAY_KEY_SIZE];
	uint64_t time = 0;
	int rc;

	if (s == NULL)
		return TCW_ERR_INTERNAL;
	if (s->pending == NULL)
		return replay_service_seen(ctx, id, len);
	rc = replay_id_key(id, len, key);
	if (rc == TCW_OK)
		rc =
		    pending_enter(s->pending, key, request, record_id, s->cache, s->wait_ms, &time);
	if (rc == PENDING_RERUN) {
		/* its pending entry is on file already: nothing to journal */
		log_info("exact resubmission of an order accepted before the worker last stopped "
		         "and never answered: it runs again");
		return TCW_OK;
	}
	/* memory first, journal second (as replay_service_seen) */
	if (rc == TCW_OK && s->journal != NULL)
		journal_done(s, journal_add_accepted(s->journal, key, time, request));
	return rc;
}

/* tcw_processor.stored_reply: the reply kept for this very request. */
int replay_service_stored(void *ctx, const char *id, size_t len,
                          const uint8_t request[TCW_SHA256_SIZE], char **reply, size_t *size)
{
	struct replay_service *s = ctx;
	uint8_t key[REPLAY_KEY_SIZE];

	if (s == NULL || s->store == NULL || replay_id_key(id, len, key) != TCW_OK)
		return 1;
	return resp_store_get(s->store, key, request, reply, size);
}

/* tcw_processor.store_reply: keeps the reply in the store and ends the
 * order's pending entry, then journals the reply (or, when it was not
 * kept, that the order was answered), before it is sent. */
void replay_service_store(void *ctx, const char *id, size_t len,
                          const uint8_t request[TCW_SHA256_SIZE], const char *reply, size_t size)
{
	struct replay_service *s = ctx;
	uint8_t key[REPLAY_KEY_SIZE];
	uint64_t time;
	int kept;

	if (s == NULL || s->store == NULL || replay_id_key(id, len, key) != TCW_OK)
		return;
	time = resp_store_now(s->store);
	kept = resp_store_put(s->store, key, request, time, reply, size) == TCW_OK;
	if (s->pending != NULL)
		pending_finish(s->pending, key, request);
	if (s->journal == NULL)
		return;
	if (kept)
		journal_done(s, journal_add_reply(s->journal, key, request, time, reply, size));
	else
		journal_done(s, journal_add_answered(s->journal, key, request));
}

/* Sets the processor's replay hooks for s (none for NULL). */
void replay_service_hooks(struct replay_service *s, struct tcw_processor *p)
{
	p->seen = s != NULL ? replay_service_seen : NULL;
	p->seen_request = s != NULL && s->pending != NULL ? replay_service_seen_request : NULL;
	p->seen_ctx = s;
	p->stored_reply = s != NULL && s->store != NULL ? replay_service_stored : NULL;
	p->store_reply = s != NULL && s->store != NULL ? replay_service_store : NULL;
	p->store_ctx = s;
}

/* ---- saving ------------------------------------------------------------- */

/* Logs a failed save: at shutdown as an error, else once until it works. */
static void save_failed(struct replay_service *s, const char *err, int final)
{
	if (final)
		log_error("replay state not saved: %s", err);
	else if (!s->save_failing)
		log_warn("replay state not saved (will retry): %s", err);
	s->save_failing = 1;
}

/* Saves cache and store when either changed (or force): a new journal
 * file first, then the files, then the journal files they now hold.
 * Returns 1 when written, 0 when there was nothing to save, or a negative
 * tcw_err (logged). */
static int save_state(struct replay_service *s, int final, int force)
{
	char err[ERR_SIZE];
	uint64_t changes = 0, store_changes = 0, ended = 0;
	int rc, rotated = 0;

	if (s->path == NULL)
		return 0;
	if (!force && replay_cache_changes(s->cache) == s->saved_changes &&
	    (s->store == NULL || resp_store_stats(s->store).changes == s->saved_store))
		return 0;
	if (s->journal != NULL) {
		rc = journal_rotate(s->journal, &ended, err, sizeof(err));
		if (rc != TCW_OK)
			log_warn("replay journal: %s", err);
		rotated = rc == TCW_OK;
	}
	rc = replay_cache_save_changed(s->cache, s->path, force ? UINT64_MAX : s->saved_changes,
	                               &changes, err, sizeof(err));
	if (rc == TCW_OK && s->store != NULL)
		rc = resp_store_save_changed(s->store, s->store_path,
		                             force ? UINT64_MAX : s->saved_store, &store_changes,
		                             err, sizeof(err));
	if (rc != TCW_OK) {
		save_failed(s, err, final);
		return rc;
	}
	s->saved_changes = changes;
	if (s->store != NULL)
		s->saved_store = store_changes;
	if (rotated && journal_drop(s->journal, ended, err, sizeof(err)) != TCW_OK)
		log_warn("replay journal: %s", err);
	if (s->save_failing)
		log_info("replay file %s saved again", s->path);
	s->save_failing = 0;
	return 1;
}

/* Warns when full-cache or full-store evictions shortened what is kept. */
static void report_evictions(struct replay_service *s)
{
	uint64_t n = replay_cache_evictions(s->cache);

	if (n != s->warned_evictions)
		log_warn("replay cache full: %llu work order ids dropped before their TTL so far; "
		         "raise --replay-cache",
		         (unsigned long long)n);
	s->warned_evictions = n;
	n = s->store != NULL ? resp_store_stats(s->store).evictions : 0;
	if (n != s->warned_store_evictions)
		log_info("response store full: %llu replies dropped to make room so far; an exact "
		         "resubmission of those orders gets 'Duplicate work order' (raise "
		         "--response-store-bytes to keep more)",
		         (unsigned long long)n);
	s->warned_store_evictions = n;
}

/* The periodic save: every REPLAY_SAVE_INTERVAL seconds, or when the
 * journal asks, until stopped. */
static void *save_thread(void *arg)
{
	struct replay_service *s = arg;
	struct timespec until;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += REPLAY_SAVE_INTERVAL;
		while (!s->stop && !s->early &&
		       pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
			;
		if (s->stop)
			break;
		s->early = 0;
		pthread_mutex_unlock(&s->lock);
		report_evictions(s);
		save_state(s, 0, 0);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Starts the save thread with a monotonic condition clock. */
static int start_thread(struct replay_service *s)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return TCW_ERR_NOMEM;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
	     pthread_cond_init(&s->cond, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if (!rc)
		return TCW_ERR_NOMEM;
	if (pthread_create(&s->thread, NULL, save_thread, s) != 0) {
		pthread_cond_destroy(&s->cond);
		return TCW_ERR_NOMEM;
	}
	s->thread_started = 1;
	return 0;
}

/* ---- start and stop --------------------------------------------------------- */

/* journal_sink.id: an accepted id read back. */
static void sink_id(void *ctx, const uint8_t key[REPLAY_KEY_SIZE], uint64_t time)
{
	struct replay_service *s = ctx;

	replay_cache_add(s->cache, key, time);
}

/* journal_sink.reply: a kept reply read back; its order was answered. */
static void sink_reply(void *ctx, const uint8_t key[REPLAY_KEY_SIZE],
                       const uint8_t request[REPLAY_KEY_SIZE], uint64_t time, const char *reply,
                       size_t size)
{
	struct replay_service *s = ctx;

	if (s->store != NULL)
		resp_store_put(s->store, key, request, time, reply, size);
	if (s->pending != NULL)
		pending_finish(s->pending, key, request);
}

/* journal_sink.accepted: an order accepted with its request identity. It
 * is pending unless the state files knew its id already: they were saved
 * after the acceptance, so their pending section says whether it was
 * answered before they were (and a later answer follows in the journal). */
static void sink_accepted(void *ctx, const uint8_t key[REPLAY_KEY_SIZE], uint64_t time,
                          const uint8_t request[REPLAY_KEY_SIZE])
{
	struct replay_service *s = ctx;
	struct pending_record r = {.time = time};

	if (replay_cache_add(s->cache, key, time) != 1 || s->pending == NULL)
		return;
	memcpy(r.key, key, REPLAY_KEY_SIZE);
	memcpy(r.request, request, REPLAY_KEY_SIZE);
	pending_add(s->pending, &r); /* out of memory: it stays a duplicate */
}

/* journal_sink.answered: an order answered with a reply not kept. */
static void sink_answered(void *ctx, const uint8_t key[REPLAY_KEY_SIZE],
                          const uint8_t request[REPLAY_KEY_SIZE])
{
	struct replay_service *s = ctx;

	if (s->pending != NULL)
		pending_finish(s->pending, key, request);
}

/* pending_prune: 1 when the store holds the reply of the order. */
static int answered_in_store(void *ctx, const uint8_t key[REPLAY_KEY_SIZE],
                             const uint8_t request[REPLAY_KEY_SIZE])
{
	char *reply = NULL;
	size_t size = 0;
	int rc = resp_store_get(ctx, key, request, &reply, &size);

	free(reply);
	return rc == TCW_OK;
}

/* Loads the replay file, the store file and the journal; logs why not. */
static int load_state(struct replay_service *s, size_t *ids, size_t *replies)
{
	const struct journal_sink sink = {.id = sink_id,
	                                  .reply = sink_reply,
	                                  .accepted = sink_accepted,
	                                  .answered = sink_answered,
	                                  .ctx = s};
	struct journal_found found;
	char err[ERR_SIZE];
	int rc;

	rc = replay_cache_load(s->cache, s->path, ids, err, sizeof(err));
	if (rc == 0 && s->store != NULL)
		rc = resp_store_load(s->store, s->store_path, replies, err, sizeof(err));
	if (rc == 0)
		rc = journal_open(s->path, &sink, &s->journal, &found, err, sizeof(err));
	/* a reply kept while its pending entry was already on file */
	if (rc == 0 && s->pending != NULL)
		pending_prune(s->pending, answered_in_store, s->store);
	if (rc != 0) {
		log_error("%s", rc == TCW_ERR_NOMEM ? "out of memory" : err);
		log_error("refusing to start without the replay history; move the file "
		          "away to start with an empty cache");
		return rc;
	}
	if (found.files == 0)
		return 0;
	log_info("replay journal: %zu records read from %zu files%s", found.records, found.files,
	         found.torn ? " (the last record of a killed run was incomplete: ignored)" : "");
	*ids = replay_cache_count(s->cache);
	*replies = s->store != NULL ? resp_store_stats(s->store).count : 0;
	/* fold the journal into the files now */
	return save_state(s, 1, 1) < 0 ? TCW_ERR_INTERNAL : 0;
}

/* Logs the orders an earlier run accepted and never answered. */
static void report_interrupted(struct replay_service *s)
{
	size_t n = 0;

	if (s->pending != NULL)
		pending_count(s->pending, &n);
	if (n > 0)
		log_info("replay state: interrupted work orders (accepted, not answered when the "
		         "worker last stopped): %zu; an exact resubmission runs each again, once",
		         n);
}

/* Frees what s holds (not the thread). */
static void service_free(struct replay_service *s)
{
	journal_close(&s->journal, 1);
	pending_free(&s->pending);
	resp_store_free(&s->store);
	replay_cache_free(&s->cache);
	free(s->path);
	free(s->store_path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Creates the cache and store, loads their files and starts saving; see
 * replay.h. */
int replay_service_start(const struct worker_config *cfg, struct replay_service **out)
{
	struct replay_service *s;
	size_t ids = 0, replies = 0;
	char store_text[96];
	int rc;

	*out = NULL;
	if (cfg->replay_entries == 0) {
		log_warn("replay protection is off (--replay-cache 0): a work order can be "
		         "submitted again and gets a second result");
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return TCW_ERR_NOMEM;
	}
	rc = replay_cache_new(cfg->replay_entries, cfg->replay_ttl, &s->cache);
	if (rc == 0 && cfg->response_store_bytes > 0)
		rc = resp_store_new(cfg->response_store_bytes, cfg->replay_ttl, &s->store);
	if (rc == 0 && s->store != NULL &&
	    (rc = pending_new(cfg->replay_entries, &s->pending)) == 0)
		replay_cache_attach(s->cache, s->pending);
	s->wait_ms =
	    (cfg->workload_timeout_ms ? cfg->workload_timeout_ms : REPLAY_WAIT_NO_BUDGET_MS) +
	    REPLAY_WAIT_EXTRA_MS;
	if (rc == 0)
		rc = replay_path(cfg, &s->path);
	if (rc == 0 && s->path != NULL &&
	    (s->store_path = with_suffix(s->path, RESPSTORE_FILE_SUFFIX)) == NULL)
		rc = TCW_ERR_NOMEM;
	if (rc != 0) {
		log_error("cannot create the replay cache: %s", tcw_strerror(rc));
		goto fail;
	}
	if (s->path != NULL && (rc = load_state(s, &ids, &replies)) != 0)
		goto fail;
	rc = start_thread(s);
	if (rc != 0) {
		log_error("cannot start the replay cache thread");
		goto fail;
	}
	if (s->store != NULL)
		snprintf(store_text, sizeof(store_text), "response store %llu bytes",
		         (unsigned long long)cfg->response_store_bytes);
	else
		snprintf(store_text, sizeof(store_text), "no response store");
	log_info("replay cache: %zu entries, ttl %llu s, %s, %s%s (%zu ids, %zu replies loaded)",
	         cfg->replay_entries, (unsigned long long)cfg->replay_ttl, store_text,
	         s->path != NULL ? "saved to " : "not persisted", s->path != NULL ? s->path : "",
	         ids, replies);
	report_interrupted(s);
	*out = s;
	return 0;
fail:
	service_free(s);
	return rc;
}

/* Stops the save thread, saves a last time and frees s. */
int replay_service_stop(struct replay_service **sp)
{
	struct replay_service *s;
	int rc;

	if (sp == NULL || *sp == NULL)
		return 0;
	s = *sp;
	if (s->thread_started) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		pthread_cond_destroy(&s->cond);
	}
	report_evictions(s);
	rc = save_state(s, 1, 0);
	if (rc == 1)
		log_info("replay cache saved to %s (%zu ids, %zu replies)", s->path,
		         replay_cache_count(s->cache),
		         s->store != NULL ? resp_store_stats(s->store).count : (size_t)0);
	service_free(s);
	*sp = NULL;
	return rc >= 0 ? 0 : TCW_ERR_INTERNAL;
}
