/* SPDX-License-Identifier: Apache-2.0 */
/* pending.h - work orders accepted and not answered yet, with the identity of their request:
 * what a stopped worker left unfinished, and the one claim that may run such an order again. */
#ifndef TCW_WORKER_PENDING_H
#define TCW_WORKER_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include "replay.h"

/* pending_enter: an order of an earlier run, never answered, claimed to run again. */
#define PENDING_RERUN 1

/*
 * An entry is made when an order whose request identity is known (the
 * response store is on) is accepted, and removed once its reply is
 * recorded (kept in the response store, or journaled as answered). Entries
 * of this process are "running"; entries read back from the replay state
 * at start-up are "interrupted": their order was accepted by an earlier
 * run that stopped before it had a reply, so no result of it ever left the
 * worker. An exact resubmission (same id key, same request identity) may
 * claim an interrupted entry once, which makes it running again. Every
 * function is thread-safe.
 */
struct pending;

/* One entry, as the replay file keeps it. */
struct pending_record {
	uint8_t key[REPLAY_KEY_SIZE];     /* id key (replay_id_key) */
	uint64_t time;                    /* when the id was accepted */
	uint8_t request[REPLAY_KEY_SIZE]; /* request identity (lib/keep.c) */
};

/* A table of at most max entries (1..REPLAY_MAX_ENTRIES); *out caller
 * frees with pending_free. TCW_ERR_INVALID_PARAM or TCW_ERR_NOMEM. */
int pending_new(size_t max, struct pending **out);
/* Frees p and sets *p to NULL (NULL-safe). */
void pending_free(struct pending **p);

/* The check-and-record of the replay cache for the id key: TCW_OK with
 * *time when it recorded the id now, TCW_ERR_DUPLICATE when the id was
 * there, another negative tcw_err on failure. */
typedef int (*pending_record_fn)(void *ctx, const uint8_t key[REPLAY_KEY_SIZE], uint64_t *time);

/*
 * The replay check of a request with a known identity, atomic with respect
 * to every other call here: calls record(ctx, ...) and
 *  - when it recorded the id: adds a running entry (skipped when the table
 *    is full: the order then cannot run again after a stop) and returns
 *    TCW_OK with *time;
 *  - when the id was there and an interrupted entry holds this request:
 *    makes it running and returns PENDING_RERUN (*time its acceptance);
 *  - when a running entry holds this request (a copy being computed):
 *    waits until its reply is recorded, at most wait_ms, then returns
 *    TCW_ERR_DUPLICATE (the caller looks for the kept reply);
 *  - else returns what record returned.
 */
int pending_enter(struct pending *p, const uint8_t key[REPLAY_KEY_SIZE],
                  const uint8_t request[REPLAY_KEY_SIZE], pending_record_fn record, void *ctx,
                  unsigned wait_ms, uint64_t *time);
/* The reply of key's order for request is recorded: removes its entry
 * (only when it holds this request) and wakes the copies waiting for it.
 * 1 when an entry went, 0 when there was none. */
int pending_finish(struct pending *p, const uint8_t key[REPLAY_KEY_SIZE],
                   const uint8_t request[REPLAY_KEY_SIZE]);
/* Adds an interrupted entry read back from the replay state, unless key
 * has one or the table is full: 1 when added, 0 when not, TCW_ERR_NOMEM. */
int pending_add(struct pending *p, const struct pending_record *r);
/* Removes every entry for which answered(ctx, key, request) returns
 * non-zero (start-up: the response store holds its reply); returns how
 * many went. answered must not call into p. */
size_t pending_prune(struct pending *p,
                     int (*answered)(void *ctx, const uint8_t key[REPLAY_KEY_SIZE],
                                     const uint8_t request[REPLAY_KEY_SIZE]),
                     void *ctx);
/* Number of entries, and of those interrupted. */
size_t pending_count(struct pending *p, size_t *interrupted);
/* The change count: entries added and removed so far. */
uint64_t pending_changes(struct pending *p);
/* The entries accepted less than ttl seconds before now, oldest first:
 * *out (caller frees; NULL when there are none) holds *count of them, and
 * *changes gets the change count they reflect. TCW_OK or TCW_ERR_NOMEM. */
int pending_records(struct pending *p, uint64_t now, uint64_t ttl, struct pending_record **out,
                    size_t *count, uint64_t *changes);

#endif /* TCW_WORKER_PENDING_H */
