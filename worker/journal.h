/* SPDX-License-Identifier: Apache-2.0 */
/* journal.h - append-only record of accepted work orders and kept replies between two
 * saves of the replay state, so that they survive a kill -9. */
#ifndef TCW_WORKER_JOURNAL_H
#define TCW_WORKER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "replay.h"

/* Journal files are <base>.journal.<N>, N counting up from 1. */
#define JOURNAL_FILE_INFIX ".journal."
/* A journal this large asks for an early save (which starts a new one). */
#define JOURNAL_COMPACT_BYTES (64u * 1024u * 1024u)

/*
 * Every record is written with one write() before the reply it concerns is
 * sent: once write() returns it is in the page cache and survives the
 * process being killed (not a power loss: the periodic save fsyncs the
 * state files, bounding that loss to one save interval). A save starts a
 * new journal file first, writes the state files, then deletes the older
 * journal files; start-up reads what is left. Records (little-endian):
 * "TCWJ", u8 type, 3 zero bytes, u32 payload size, the payload, u32 FNV-1a
 * of the header and the payload's fixed part. Types and payloads:
 *  1 id:       32-byte id key, u64 time (an order accepted without a
 *              request identity: no response store)
 *  2 reply:    id key, 32-byte request identity, u64 time, the reply text
 *              (a kept reply; its order is answered)
 *  3 accepted: id key, u64 time, request identity (an order accepted with
 *              its request identity: pending until answered)
 *  4 answered: id key, request identity (an order answered with a reply
 *              that was not kept)
 * Types 3 and 4 came with the pending orders; files with only 1 and 2
 * (older workers) read as before. A record cut short at the end of a file
 * (the process died while writing it) is ignored; anything else that does
 * not parse is corruption, and an unknown type is named as such.
 */
struct journal;

/* Where journal_open delivers the records it reads back. */
struct journal_sink {
	/* an accepted work order's id key and time */
	void (*id)(void *ctx, const uint8_t key[REPLAY_KEY_SIZE], uint64_t time);
	/* a kept reply */
	void (*reply)(void *ctx, const uint8_t key[REPLAY_KEY_SIZE],
	              const uint8_t request[REPLAY_KEY_SIZE], uint64_t time, const char *reply,
	              size_t size);
	/* an order accepted with its request identity */
	void (*accepted)(void *ctx, const uint8_t key[REPLAY_KEY_SIZE], uint64_t time,
	                 const uint8_t request[REPLAY_KEY_SIZE]);
	/* an order answered with a reply that was not kept */
	void (*answered)(void *ctx, const uint8_t key[REPLAY_KEY_SIZE],
	                 const uint8_t request[REPLAY_KEY_SIZE]);
	void *ctx;
};

/* What journal_open found. */
struct journal_found {
	size_t files;   /* journal files read */
	size_t records; /* records delivered */
	size_t torn;    /* files that ended inside a record */
};

/* Reads every journal file of base in order into sink, then creates the
 * next one for appends (mode 0600); *out caller closes with
 * journal_close. On failure (unreadable or corrupt file, cannot create):
 * reason in err, TCW_ERR_INVALID_PARAM, TCW_ERR_INTERNAL or NOMEM. */
int journal_open(const char *base, const struct journal_sink *sink, struct journal **out,
                 struct journal_found *found, char *err, size_t errsize);
/* Appends an id record. TCW_OK, or TCW_ERR_INTERNAL with errno set (the
 * file is left as it was). Thread-safe. */
int journal_add_id(struct journal *j, const uint8_t key[REPLAY_KEY_SIZE], uint64_t time);
/* Appends a reply record; as journal_add_id. */
int journal_add_reply(struct journal *j, const uint8_t key[REPLAY_KEY_SIZE],
                      const uint8_t request[REPLAY_KEY_SIZE], uint64_t time, const char *reply,
                      size_t size);
/* Appends an accepted record; as journal_add_id. */
int journal_add_accepted(struct journal *j, const uint8_t key[REPLAY_KEY_SIZE], uint64_t time,
                         const uint8_t request[REPLAY_KEY_SIZE]);
/* Appends an answered record; as journal_add_id. */
int journal_add_answered(struct journal *j, const uint8_t key[REPLAY_KEY_SIZE],
                         const uint8_t request[REPLAY_KEY_SIZE]);
/* Bytes in the current file. */
uint64_t journal_size(struct journal *j);
/* Starts a new file: later records go there. *ended gets the number of
 * every file that ends here (they can go once the state that holds their
 * records is saved). On failure appends continue in the old file: reason in
 * err, TCW_ERR_INTERNAL. */
int journal_rotate(struct journal *j, uint64_t *ended, char *err, size_t errsize);
/* Deletes the files numbered up to gen. TCW_OK, or TCW_ERR_INTERNAL with
 * the reason in err. */
int journal_drop(struct journal *j, uint64_t gen, char *err, size_t errsize);
/* Closes j (NULL-safe) and sets *j to NULL; with remove_empty, deletes the
 * current file when nothing was written to it. */
void journal_close(struct journal **j, int remove_empty);

#endif /* TCW_WORKER_JOURNAL_H */
