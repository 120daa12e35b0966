/* SPDX-License-Identifier: Apache-2.0 */
/* replay_service.c - replay protection in the worker: cache from the flags, file, periodic save. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "replay.h"

#define ERR_SIZE 1024

struct replay_service {
	struct replay_cache *cache;
	char *path; /* replay file, NULL when not persisted */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock; /* guards stop, with cond */
	pthread_cond_t cond;
	int stop;
	uint64_t saved_changes;    /* change count of the last saved image */
	uint64_t warned_evictions; /* evictions already reported */
	int save_failing;          /* the last periodic save failed (logged once) */
};

/* The replay file from cfg: --replay-file, else <--keys-file>.replay, else
 * none (*path NULL). */
static int replay_path(const struct worker_config *cfg, char **path)
{
	size_t len;

	*path = NULL;
	if (cfg->replay_file != NULL) {
		*path = strdup(cfg->replay_file);
		return *path != NULL ? 0 : TCW_ERR_NOMEM;
	}
	if (cfg->keys_file == NULL)
		return 0;
	len = strlen(cfg->keys_file);
	*path = malloc(len + sizeof(REPLAY_FILE_SUFFIX));
	if (*path == NULL)
		return TCW_ERR_NOMEM;
	memcpy(*path, cfg->keys_file, len);
	memcpy(*path + len, REPLAY_FILE_SUFFIX, sizeof(REPLAY_FILE_SUFFIX));
	return 0;
}

/* Saves when the cache changed since the last save; logs failures once.
 * Returns 1 when the file was written, 0 when there was nothing to save. */
static int save_if_changed(struct replay_service *s, int final)
{
	char err[ERR_SIZE];
	uint64_t changes = 0;
	int rc;

	if (s->path == NULL)
		return 0;
	rc = replay_cache_save_changed(s->cache, s->path, s->saved_changes, &changes, err,
	                               sizeof(err));
	if (rc == 0) {
		if (s->save_failing)
			log_info("replay file %s saved again", s->path);
		rc = changes != s->saved_changes;
		s->saved_changes = changes;
		s->save_failing = 0;
		return rc;
	}
	if (final)
		log_error("replay cache not saved: %s", err);
	else if (!s->save_failing)
		log_warn("replay cache not saved (will retry): %s", err);
	s->save_failing = 1;
	return rc;
}

/* Warns when full-cache evictions shortened the replay window. */
static void report_evictions(struct replay_service *s)
{
	uint64_t n = replay_cache_evictions(s->cache);

	if (n == s->warned_evictions)
		return;
	log_warn("replay cache full: %llu work order ids dropped before their TTL so far; "
	         "raise --replay-cache",
	         (unsigned long long)n);
	s->warned_evictions = n;
}

/* The periodic save: every REPLAY_SAVE_INTERVAL seconds until stopped. */
static void *save_thread(void *arg)
{
	struct replay_service *s = arg;
	struct timespec until;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += REPLAY_SAVE_INTERVAL;
		while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
			;
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		report_evictions(s);
		save_if_changed(s, 0);
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

	if (pthread_mutex_init(&s->lock, NULL) != 0)
		return TCW_ERR_NOMEM;
	if (pthread_condattr_init(&attr) != 0)
		goto fail_lock;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
	     pthread_cond_init(&s->cond, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if (!rc)
		goto fail_lock;
	if (pthread_create(&s->thread, NULL, save_thread, s) != 0) {
		pthread_cond_destroy(&s->cond);
		goto fail_lock;
	}
	s->thread_started = 1;
	return 0;
fail_lock:
	pthread_mutex_destroy(&s->lock);
	return TCW_ERR_NOMEM;
}

/* Creates the cache, loads the file and starts saving; see replay.h. */
int replay_service_start(const struct worker_config *cfg, struct replay_service **out)
{
	char err[ERR_SIZE];
	struct replay_service *s;
	size_t loaded = 0;
	int rc;

	*out = NULL;
	if (cfg->replay_entries == 0) {
		log_warn("replay protection is off (--replay-cache 0): a work order can be "
		         "submitted again and gets a second result");
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return TCW_ERR_NOMEM;
	rc = replay_cache_new(cfg->replay_entries, cfg->replay_ttl, &s->cache);
	if (rc == 0)
		rc = replay_path(cfg, &s->path);
	if (rc != 0) {
		log_error("cannot create the replay cache: %s", tcw_strerror(rc));
		goto fail;
	}
	if (s->path != NULL) {
		rc = replay_cache_load(s->cache, s->path, &loaded, err, sizeof(err));
		if (rc != 0) {
			log_error("%s", rc == TCW_ERR_NOMEM ? "out of memory" : err);
			log_error("refusing to start without the replay history; move the file "
			          "away to start with an empty cache");
			goto fail;
		}
	}
	rc = start_thread(s);
	if (rc != 0) {
		log_error("cannot start the replay cache thread");
		goto fail;
	}
	log_info("replay cache: %zu entries, ttl %llu s, %s%s (%zu ids loaded)",
	         cfg->replay_entries, (unsigned long long)cfg->replay_ttl,
	         s->path != NULL ? "saved to " : "not persisted", s->path != NULL ? s->path : "",
	         loaded);
	*out = s;
	return 0;
fail:
	replay_cache_free(&s->cache);
	free(s->path);
	free(s);
	return rc;
}

/* The cache of a running service (borrowed). */
struct replay_cache *replay_service_cache(struct replay_service *s)
{
	return s != NULL ? s->cache : NULL;
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
		pthread_mutex_destroy(&s->lock);
	}
	report_evictions(s);
	rc = save_if_changed(s, 1);
	if (rc == 1)
		log_info("replay cache saved to %s (%zu ids)", s->path,
		         replay_cache_count(s->cache));
	replay_cache_free(&s->cache);
	free(s->path);
	free(s);
	*sp = NULL;
	return rc >= 0 ? 0 : TCW_ERR_INTERNAL;
}
