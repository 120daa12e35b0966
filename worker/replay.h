/* SPDX-License-Identifier: Apache-2.0 */
/* replay.h - the replay cache: recently seen workOrderIds, bounded, expiring, persistable. */
#ifndef TCW_WORKER_REPLAY_H
#define TCW_WORKER_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct worker_config;
struct pending;

/* Defaults and limits of --replay-cache (entries) and --replay-ttl (seconds). */
#define REPLAY_DEFAULT_ENTRIES 100000u
#define REPLAY_MAX_ENTRIES 10000000u
#define REPLAY_DEFAULT_TTL 86400u
#define REPLAY_MAX_TTL (10u * 366u * 86400u)
/* Seconds between two saves of a changed cache while the worker runs. */
#define REPLAY_SAVE_INTERVAL 10u
/* Suffix of the replay file kept beside a --keys-file. */
#define REPLAY_FILE_SUFFIX ".replay"
/* File format versions written by replay_cache_save: 2 when orders are
 * pending (their entries follow the ids), else 1 (ids only, as before). */
#define REPLAY_FILE_VERSION 2u
#define REPLAY_FILE_VERSION_IDS 1u
/* A copy of a request that is running waits for its reply at most the
 * workload budget (--workload-timeout-ms, or this without one) plus this. */
#define REPLAY_WAIT_NO_BUDGET_MS 3600000u
#define REPLAY_WAIT_EXTRA_MS 10000u
/* Size of an id key (a SHA-256). */
#define REPLAY_KEY_SIZE 32u

/*
 * A set of recently seen work order ids. Ids are normalised (hex letters
 * lowercased, "0x" prefix dropped) and stored as their SHA-256, with the
 * wall-clock second they were first seen. An entry lives ttl seconds; when
 * the cache is full the oldest entry makes room (counted as an eviction).
 * Every function is thread-safe.
 */
struct replay_cache;

/* Wall-clock seconds (the Unix epoch); replaceable for tests. */
typedef uint64_t (*replay_clock_fn)(void);
/* The real clock of the caches: CLOCK_REALTIME seconds (0 when unreadable). */
uint64_t replay_real_clock(void);

/* A cache for capacity entries (1..REPLAY_MAX_ENTRIES) living ttl seconds
 * (1..REPLAY_MAX_TTL); *out caller frees with replay_cache_free.
 * TCW_ERR_INVALID_PARAM or TCW_ERR_NOMEM. */
int replay_cache_new(size_t capacity, uint64_t ttl, struct replay_cache **out);
/* Frees c and sets *c to NULL (NULL-safe). */
void replay_cache_free(struct replay_cache **c);
/* Replaces the clock (NULL = the real one); for tests. */
void replay_cache_set_clock(struct replay_cache *c, replay_clock_fn clock);
/* tcw_processor.seen with ctx = the cache: records id[0..len) and returns
 * TCW_OK, or TCW_ERR_DUPLICATE when it is already recorded and unexpired. */
int replay_cache_seen(void *ctx, const char *id, size_t len);
/* replay_cache_seen that also hands out the id's key and, when it records
 * it (TCW_OK), the time it was recorded with. */
int replay_cache_record(struct replay_cache *c, const char *id, size_t len,
                        uint8_t key[REPLAY_KEY_SIZE], uint64_t *time);
/* replay_cache_record for an id key already computed. */
int replay_cache_record_key(struct replay_cache *c, const uint8_t key[REPLAY_KEY_SIZE],
                            uint64_t *time);
/* Adds key, first seen at time t, unless it is there or expired (a record
 * read back from a journal); 1 when added, 0 when not. */
int replay_cache_add(struct replay_cache *c, const uint8_t key[REPLAY_KEY_SIZE], uint64_t t);
/* The cache clock's current second. */
uint64_t replay_cache_now(struct replay_cache *c);
/* The change count: what replay_cache_save_changed compares. */
uint64_t replay_cache_changes(struct replay_cache *c);
/* The key under which an id is kept: SHA-256 of the id with hex letters
 * lowercased and an "0x" prefix dropped. TCW_OK or a negative tcw_err. */
int replay_id_key(const char *id, size_t len, uint8_t key[REPLAY_KEY_SIZE]);
/* Number of unexpired entries. */
size_t replay_cache_count(struct replay_cache *c);
/* Number of entries dropped before their time because the cache was full. */
uint64_t replay_cache_evictions(struct replay_cache *c);
/* Saves p's entries (pending.h) with the ids from now on, and loads them
 * into it: the file's pending section. Set before any load or save. */
void replay_cache_attach(struct replay_cache *c, struct pending *p);
/* Writes the unexpired entries (and those of the attached pending table)
 * to path atomically: a temporary file (mode 0600) in the same directory,
 * fsync, rename, directory fsync. On failure
 * writes the reason into err and returns TCW_ERR_INTERNAL (or NOMEM). */
int replay_cache_save(struct replay_cache *c, const char *path, char *err, size_t errsize);
/* replay_cache_save, but only when the cache changed since the change
 * count since (else nothing is written); *changes gets the change count the
 * file now reflects. */
int replay_cache_save_changed(struct replay_cache *c, const char *path, uint64_t since,
                              uint64_t *changes, char *err, size_t errsize);
/* Adds the unexpired entries of the file at path (newest ones when there
 * are more than fit), the ids of its pending entries too, and those
 * entries to the attached pending table as interrupted orders (without a
 * table only their ids); *loaded gets the number of ids added (may be
 * NULL). Reads versions 1 and 2. A missing
 * file loads nothing and succeeds. A file that cannot be read, has another
 * format or version, or fails its checksum: reason in err,
 * TCW_ERR_INVALID_PARAM (or TCW_ERR_NOMEM). */
int replay_cache_load(struct replay_cache *c, const char *path, size_t *loaded, char *err,
                      size_t errsize);

/* The worker's replay protection: the cache, the response store
 * (respstore.h), their files, the journal (journal.h) and the thread that
 * saves them. */
struct replay_service;
struct tcw_processor;

/* Sets up replay protection from cfg (replay_entries 0 = off: *out is NULL
 * and 0 is returned): creates the cache and the response store, loads
 * their files and journal when a replay file is configured (folding the
 * journal into the files) and starts the periodic save. Logs what it does;
 * returns 0, or a negative tcw_err after logging why (the worker must not
 * start). */
int replay_service_start(const struct worker_config *cfg, struct replay_service **out);
/* Sets p's seen, seen_request, stored_reply and store_reply hooks to s
 * (NULL: none). */
void replay_service_hooks(struct replay_service *s, struct tcw_processor *p);
/* tcw_processor.seen for ctx = a service: records the id in the cache and
 * then in the journal. */
int replay_service_seen(void *ctx, const char *id, size_t len);
/* tcw_processor.seen_request for ctx = a service (set only with a response
 * store): records the id and the request identity (an order pending until
 * its reply is stored), then journals them; lets an exact resubmission of
 * an order a stopped run left unanswered run again, once; makes a copy of
 * a running request wait for its reply. */
int replay_service_seen_request(void *ctx, const char *id, size_t len, const uint8_t request[32]);
/* tcw_processor.stored_reply for ctx = a service. */
int replay_service_stored(void *ctx, const char *id, size_t len, const uint8_t request[32],
                          char **reply, size_t *size);
/* tcw_processor.store_reply for ctx = a service: store, then journal. */
void replay_service_store(void *ctx, const char *id, size_t len, const uint8_t request[32],
                          const char *reply, size_t size);
/* Stops the periodic save, saves a last time, frees s and sets *s to NULL
 * (NULL-safe). Returns 0, or TCW_ERR_INTERNAL when the last save failed
 * (logged). */
int replay_service_stop(struct replay_service **s);

#endif /* TCW_WORKER_REPLAY_H */
