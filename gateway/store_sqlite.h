/* SPDX-License-Identifier: Apache-2.0 */
/* store_sqlite.h - private to the SQLite store: connections, statements, the read functions. */
#ifndef TCW_GATEWAY_STORE_SQLITE_H
#define TCW_GATEWAY_STORE_SQLITE_H

#include <pthread.h>

#include <sqlite3.h>

#include "store_backend.h"

/* Reader connections kept open (more are opened while all are busy). */
#define READERS_MAX 16

/* Statements prepared once per connection. */
enum stmt_id {
	S_SUBMIT, S_FINISH, S_FINISH_STATE, S_HAS_RECEIPT, S_UPDATE_COUNT, S_ADD_UPDATE, S_SET_STATUS, S_CLAIM,
	S_RENEW, S_RELEASE, S_RELEASE_ALL, S_PUT_WORKER, S_ORDER_STATE, S_ADD_RECEIPT, S_RECEIPT_STATUS,
	S_GET_ORDER, S_COUNT, S_GET_WORKER, S_LOOKUP_WORKERS, S_GET_RECEIPT, S_GET_UPDATE,
	S_LOOKUP_RECEIPTS, S_BEGIN, S_COMMIT, S_ROLLBACK, S_COUNT_STMTS
};

/* One connection and its prepared statements. */
struct conn {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT_STMTS];
};

struct sq {
	char *path;
	const char *node;
	int lock_fd;
	struct conn writer;
	pthread_mutex_t mu;
	struct conn *idle[READERS_MAX];
	size_t idle_count;
};

/* The prepared statement id of c, reset and unbound; NULL on error (logged). */
sqlite3_stmt *sq_stmt(struct conn *c, enum stmt_id id);
/* Binds text s (NULL: SQL NULL) to parameter i, borrowed until the step. */
void sq_bind_s(sqlite3_stmt *st, int i, const char *s);
/* Copy of text column i (NULL for SQL NULL); caller frees. */
char *sq_col_dup(sqlite3_stmt *st, int i);
/* Opens a connection with WAL and synchronous=FULL; -1 on failure. */
int sq_conn_open(const char *path, struct conn *c, int create);
/* Finalises the statements and closes the connection. */
void sq_conn_close(struct conn *c);

/* The read functions of the back end (store_sqlite_read.c). */
int sq_get_order(void *b, const char *id, struct store_order *out);
int sq_count_orders(void *b, int64_t counts[3]);
int sq_get_worker(void *b, const char *id, struct store_worker *out);
int sq_lookup_workers(void *b, const struct store_lookup *f, struct store_ids *out);
int sq_receipt_get(void *b, const char *wo_id, struct store_receipt *out);
int sq_update_get(void *b, const char *wo_id, int64_t index, struct store_update *out);
int sq_lookup_receipts(void *b, const struct store_lookup *f, struct store_ids *out);

#endif /* TCW_GATEWAY_STORE_SQLITE_H */
