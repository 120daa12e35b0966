/* SPDX-License-Identifier: Apache-2.0 */
/* store_backend.h - what a store back end (SQLite, PostgreSQL) implements for store.c. */
#ifndef TCW_GATEWAY_STORE_BACKEND_H
#define TCW_GATEWAY_STORE_BACKEND_H

#include <pthread.h>

#include "store.h"

/* Write operations; store.c batches them into one transaction each commit. */
enum store_op_kind {
	OP_SUBMIT,
	OP_FINISH,
	OP_CLAIM,
	OP_RENEW,
	OP_RELEASE,
	OP_RELEASE_ALL,
	OP_PUT_WORKER,
	OP_RECEIPT_CREATE,
	OP_RECEIPT_UPDATE,
};

/* One queued write with its arguments (borrowed) and results. */
struct store_op {
	enum store_op_kind kind;
	const struct store_new_order *order;   /* OP_SUBMIT */
	const char *id;                         /* order id of the other ops */
	const char *worker_id;                  /* OP_CLAIM, OP_RENEW */
	int state;                              /* OP_FINISH */
	const char *text;                       /* OP_FINISH result, OP_RECEIPT_CREATE params */
	const char *key;                        /* OP_RECEIPT_CREATE verification key */
	const char *a, *b, *c;                  /* OP_RECEIPT_CREATE service, worker, requester */
	int64_t num;                            /* OP_RECEIPT_CREATE status */
	int64_t now_ms, until_ms;               /* OP_CLAIM, OP_RENEW */
	size_t max;                             /* OP_CLAIM */
	const struct store_worker *worker;      /* OP_PUT_WORKER */
	const struct store_update *update;      /* OP_RECEIPT_UPDATE */
	/* results */
	int rc;
	int changed;
	struct store_order *claimed;
	size_t claimed_count;
	/* queue */
	struct store_op *next;
	int done; /* synchronous ops: set under the store's mutex once durable */
	/* asynchronous ops: owned strings, called after the commit, then freed */
	char *own_id, *own_text;
	store_submit_fn submit_fn; /* OP_SUBMIT */
	store_done_fn done_fn;     /* OP_FINISH */
	void *done_ctx;
};

/* The functions of one back end; b is its private state. Writes run only
 * in the thread leading the current transaction (one at a time), reads on
 * any thread. */
struct store_backend {
	const char *kind;
	int (*begin)(void *b);
	int (*commit)(void *b);
	void (*rollback)(void *b);
	/* Applies op inside the open transaction; sets op->rc (TCW_OK or an op
	 * error such as TCW_ERR_DUPLICATE) and returns 0, or returns non-zero
	 * when the transaction itself failed. */
	int (*apply)(void *b, struct store *s, struct store_op *op);
	int (*get_order)(void *b, const char *id, struct store_order *out);
	int (*count_orders)(void *b, int64_t counts[3]);
	int (*get_worker)(void *b, const char *id, struct store_worker *out);
	int (*lookup_workers)(void *b, const struct store_lookup *f, struct store_ids *out);
	int (*receipt_get)(void *b, const char *wo_id, struct store_receipt *out);
	int (*update_get)(void *b, const char *wo_id, int64_t index, struct store_update *out);
	int (*lookup_receipts)(void *b, const struct store_lookup *f, struct store_ids *out);
	void (*close)(void *b);
};

/* Opens the SQLite back end at path (node borrowed). */
int store_sqlite_open(const char *path, const char *node, const struct store_backend **be,
                      void **b, int *version, char *err, size_t errsize);
/* Opens the PostgreSQL back end (conninfo URL; node borrowed); notify is
 * called from its listener thread. */
int store_pg_open(const char *url, const char *node, struct store *s,
                  const struct store_backend **be, void **b, int *version, char *err,
                  size_t errsize);

/* For back ends inside apply(): builds the completion update of a final
 * order through the installed callback; 0 when *u was filled. */
int store_make_completion(struct store *s, const char *wo_id, int state, const char *result,
                          struct store_update *u);
/* For back ends: forwards a notification to the installed callback. */
void store_notify(struct store *s, char kind, const char *payload);
/* strdup that maps NULL to NULL; for back ends copying columns. */
char *store_dup(const char *s);

#endif /* TCW_GATEWAY_STORE_BACKEND_H */
