/* SPDX-License-Identifier: Apache-2.0 */
/* store_pg.h - private to the PostgreSQL store: connections, statements, the read functions. */
#ifndef TCW_GATEWAY_STORE_PG_H
#define TCW_GATEWAY_STORE_PG_H

#include <pthread.h>

#include <libpq-fe.h>

#include "store_backend.h"

/* Reader connections kept open (more are opened while all are busy). */
#define PG_READERS_MAX 16

/* Statements, prepared on first use per connection. */
enum pg_stmt {
	P_SUBMIT, P_NOTIFY, P_FINISH, P_HAS_RECEIPT, P_UPDATE_COUNT, P_ADD_UPDATE, P_SET_STATUS,
	P_CLAIM, P_RENEW, P_RELEASE, P_RELEASE_ALL, P_PUT_WORKER, P_ORDER_STATE, P_ADD_RECEIPT, P_RECEIPT_STATUS,
	P_GET_ORDER, P_COUNT, P_GET_WORKER, P_LOOKUP_WORKERS, P_GET_RECEIPT, P_GET_UPDATE,
	P_LOOKUP_RECEIPTS, P_COUNT_STMTS
};

/* One connection and which statements it has prepared. */
struct pconn {
	PGconn *c;
	unsigned char prepared[P_COUNT_STMTS];
};

/* The back end: the writer (one transaction at a time), pooled readers, the listener. */
struct pg {
	char *url;
	const char *node;
	struct store *s;
	struct pconn writer;
	pthread_mutex_t mu;
	struct pconn *idle[PG_READERS_MAX];
	size_t idle_count;
	pthread_t listener;
	int listening;
	volatile int stop;
};

/* Runs statement id on c with n text parameters (NULL = SQL NULL); the
 * result (caller PQclear()s) or NULL after logging the error. */
PGresult *pg_run(struct pconn *c, enum pg_stmt id, int n, const char *const *params);
/* Copy of a result value (NULL for SQL NULL); caller frees. */
char *pg_dup(const PGresult *r, int row, int col);
/* Opens a connection; 0, or -1 with the reason in err. */
int pg_connect(const char *url, struct pconn *c, char *err, size_t errsize);
/* Closes a connection. */
void pg_close(struct pconn *c);

int pg_get_order(void *b, const char *id, struct store_order *out);
int pg_count_orders(void *b, int64_t counts[3]);
int pg_get_worker(void *b, const char *id, struct store_worker *out);
int pg_lookup_workers(void *b, const struct store_lookup *f, struct store_ids *out);
int pg_receipt_get(void *b, const char *wo_id, struct store_receipt *out);
int pg_update_get(void *b, const char *wo_id, int64_t index, struct store_update *out);
int pg_lookup_receipts(void *b, const struct store_lookup *f, struct store_ids *out);

#endif /* TCW_GATEWAY_STORE_PG_H */
