/* SPDX-License-Identifier: Apache-2.0 */
/* respstore.h - replies kept for exact resubmissions: bounded in bytes, oldest out first. */
#ifndef TCW_WORKER_RESPSTORE_H
#define TCW_WORKER_RESPSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "replay.h"
#include "shreply.h"
#include "tcw/tcw.h"

/* Default and largest --response-store-bytes. */
#define RESPSTORE_DEFAULT_BYTES (32u * 1024u * 1024u)
#define RESPSTORE_MAX_BYTES (64ull * 1024u * 1024u * 1024u)
/* Bytes every kept reply costs beyond its text (entry and index). */
#define RESPSTORE_ENTRY_OVERHEAD 128u
/* A reply larger than this fraction of the store is not kept. */
#define RESPSTORE_ENTRY_SHARE 4u
/* Suffix of the store's file beside the replay file. */
#define RESPSTORE_FILE_SUFFIX ".responses"
/* File format version written by resp_store_save_changed. */
#define RESPSTORE_FILE_VERSION 1u

/*
 * The reply of every accepted work order, keyed by its id key
 * (replay_id_key) and kept with the SHA-256 of the request text it
 * answered, so that an exact resubmission gets the same reply. The bytes
 * of all kept replies plus RESPSTORE_ENTRY_OVERHEAD each stay within the
 * store's size: the oldest replies make room (counted as evictions), and
 * replies older than the ttl are dropped. Memory is taken per reply (none
 * while empty). Replies are ciphertext, signatures and error texts, none
 * of them secret. Every function is thread-safe.
 */
struct resp_store;

/* A store of max_bytes (1..RESPSTORE_MAX_BYTES) keeping replies ttl seconds
 * (1..REPLAY_MAX_TTL); *out caller frees with resp_store_free.
 * TCW_ERR_INVALID_PARAM or TCW_ERR_NOMEM. */
int resp_store_new(uint64_t max_bytes, uint64_t ttl, struct resp_store **out);
/* Frees s and sets *s to NULL (NULL-safe). */
void resp_store_free(struct resp_store **s);
/* Replaces the clock (NULL = the real one); for tests. */
void resp_store_set_clock(struct resp_store *s, replay_clock_fn clock);
/* The clock's current second. */
uint64_t resp_store_now(struct resp_store *s);

/* TCW_OK with a copy of the reply kept under key for request (*reply
 * caller frees, *size its length); 1 when none is kept for key, or the one
 * kept answered another request; TCW_ERR_NOMEM. */
int resp_store_get(struct resp_store *s, const uint8_t key[TCW_SHA256_SIZE],
                   const uint8_t request[TCW_SHA256_SIZE], char **reply, size_t *size);
/* Keeps a copy of reply[0..size) under key for request, seen at time
 * (seconds); an entry for key already there stays as it is. TCW_OK when
 * kept, 1 when not (already there, larger than the store's share, or
 * older than the ttl), TCW_ERR_NOMEM. */
int resp_store_put(struct resp_store *s, const uint8_t key[TCW_SHA256_SIZE],
                   const uint8_t request[TCW_SHA256_SIZE], uint64_t time, const char *reply,
                   size_t size);
/* Replies from this size on are kept by reference (resp_store_put_shared);
 * a smaller one costs less memory as a copy in its entry. */
#define RESPSTORE_SHARE_MIN (64u * 1024u)
/* resp_store_put without a copy: on TCW_OK the store holds a reference
 * to r (taken here; the caller keeps its own). Same results. */
int resp_store_put_shared(struct resp_store *s, const uint8_t key[TCW_SHA256_SIZE],
                          const uint8_t request[TCW_SHA256_SIZE], uint64_t time,
                          struct shreply *r);
/* What a store holds (unexpired replies). */
struct resp_store_stats {
	size_t count;       /* kept replies */
	uint64_t bytes;     /* reply texts plus RESPSTORE_ENTRY_OVERHEAD each */
	uint64_t evictions; /* replies dropped before their time to make room */
	uint64_t changes;   /* change count: what resp_store_save_changed compares */
};
/* The store's figures now. */
struct resp_store_stats resp_store_stats(struct resp_store *s);

/* Writes the kept replies to path atomically (atomicfile.h) when the store
 * changed since the change count since; *changes gets the count the file
 * now reflects. On failure: reason in err, TCW_ERR_INTERNAL or NOMEM. */
int resp_store_save_changed(struct resp_store *s, const char *path, uint64_t since,
                            uint64_t *changes, char *err, size_t errsize);
/* Adds the unexpired replies of the file at path, oldest first (*loaded
 * gets their number, may be NULL). A missing file loads nothing. A file
 * that cannot be read, has another format or version, or fails its
 * checksum: reason in err, TCW_ERR_INVALID_PARAM (or TCW_ERR_NOMEM). */
int resp_store_load(struct resp_store *s, const char *path, size_t *loaded, char *err,
                    size_t errsize);

#endif /* TCW_WORKER_RESPSTORE_H */
