/* SPDX-License-Identifier: Apache-2.0 */
/* store.h - tcgateway's durable store: one small interface, SQLite and PostgreSQL behind it. */
#ifndef TCW_GATEWAY_STORE_H
#define TCW_GATEWAY_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Order states as stored. */
enum order_state {
	ORDER_QUEUED = 0, /* acknowledged, not final: waits for or is at a worker */
	ORDER_DONE = 1,   /* the worker's result is stored */
	ORDER_FAILED = 2, /* an error reply is stored (worker's or the gateway's) */
};

/* A stored order as read back; strings owned, released by store_order_fini. */
struct store_order {
	char *id;
	char *worker_id;
	char *requester_id;
	char *request_hash; /* base64 of RH */
	char *request;      /* the inner WorkOrderSubmit text sent to the worker */
	char *key_fp;       /* fingerprint of the worker encryption key it was sealed to */
	char *result;       /* final reply member: the result object or the error object */
	int state;
	int64_t submitted_ms;
};

/* A new order (borrowed strings). */
struct store_new_order {
	const char *id, *worker_id, *requester_id, *request_hash, *request, *key_fp;
	size_t request_len;
	const char *claim_by;   /* node that dispatches it, or NULL (unclaimed) */
	int64_t lease_until_ms; /* with claim_by */
	int64_t now_ms;
};

/* A worker record (borrowed strings on input, owned on output). */
struct store_worker {
	char *id;
	char *name;
	char *record;  /* JSON: workerType, organizationId, applicationTypeId, details, status */
	char *key_fp;  /* encryption key fingerprint, "" for admin-registered workers */
	char *owner;   /* "worker" (a --worker of some gateway) or "admin" */
	int status;    /* 1 active, 2 offline, 3 decommissioned, 4 compromised */
};

/* A receipt update (strings owned on output). */
struct store_update {
	char *updater_id;
	int64_t update_type;
	char *update_data;
	char *update_signature;
	char *signature_rules;
	char *verification_key;
	int64_t index; /* 1-based */
	int64_t count; /* updates of the receipt */
};

/* A receipt as stored: the create params JSON and the current status. */
struct store_receipt {
	char *params; /* the WorkOrderReceiptCreate params as accepted */
	char *verification_key;
	int64_t create_status;
	int64_t current_status; /* last update type, or the create status */
};

/* Builds the completion update of a final order for its receipt, inside
 * the transaction that stores the result or the receipt (the gateway signs
 * it with its own key). result is the stored result member, state its
 * ORDER_* state. Fills *u (owned strings) and returns 0, or non-zero to
 * store no update. */
typedef int (*store_completion_fn)(void *ctx, const char *work_order_id, int state,
                                   const char *result, struct store_update *u);

/* Called from a store thread when another process changed something this
 * one may wait for: kind 'o' = an order became claimable (payload: worker
 * id), 'd' = an order became final (payload: order id). */
typedef void (*store_notify_fn)(void *ctx, char kind, const char *payload);

struct store;

/* Filters of a lookup; NULL = any. */
struct store_lookup {
	const char *a, *b, *c; /* worker: workerType (decimal), organizationId, applicationTypeId */
	int64_t status;        /* receipts: -1 = any */
	const char *after;     /* ids after this one (LookUpNext), NULL = from the start */
	size_t limit;
};

/* A lookup answer: ids in order (owned), the total matching count. */
struct store_ids {
	char **ids;
	size_t count;
	size_t total;
};

/* Opens url ("sqlite:PATH" or "postgresql://..."/"postgres://..."), runs
 * the schema migrations, starts the commit thread. node is this gateway's
 * name for leases (borrowed). On failure writes the reason into err and
 * returns TCW_ERR_INVALID_PARAM (or TCW_ERR_NOMEM / TCW_ERR_INTERNAL).
 * *out caller closes with store_close. */
int store_open(const char *url, const char *node, struct store **out, char *err, size_t errsize);
/* Installs the completion and notify callbacks (before any other call). */
void store_set_callbacks(struct store *s, store_completion_fn completion, store_notify_fn notify,
                         void *ctx);
/* Stops the commit thread after the pending writes, closes, frees, NULLs. */
void store_close(struct store **s);
/* "sqlite" or "postgresql" (static). */
const char *store_kind(const struct store *s);
/* The schema version in use. */
int store_schema_version(const struct store *s);

/* Durably inserts an order (one group commit). TCW_OK, TCW_ERR_DUPLICATE
 * when the id exists, TCW_ERR_INTERNAL (logged). */
int store_submit(struct store *s, const struct store_new_order *o);
/* Reads an order; TCW_OK, TCW_ERR_INVALID_PARAM when unknown. */
int store_get_order(struct store *s, const char *id, struct store_order *out);
/* Frees the strings of o and zeroes it. */
void store_order_fini(struct store_order *o);
/* Durably stores the final state of an order that is still queued (the
 * first result wins; *changed tells) and, when it has a receipt, its
 * completion update in the same transaction. */
int store_finish(struct store *s, const char *id, int state, const char *result, int *changed);
/* Called on the commit thread once an asynchronous finish is durable (rc
 * TCW_OK) or failed; changed as in store_finish; state and result as
 * passed to store_finish_async (borrowed for the call). */
typedef void (*store_done_fn)(void *ctx, const char *id, int rc, int changed, int state,
                              const char *result);
/* store_finish without waiting: takes ownership of id and result (malloc'ed)
 * and calls done after the commit. TCW_OK or TCW_ERR_NOMEM. */
int store_finish_async(struct store *s, char *id, int state, char *result, store_done_fn done,
                       void *ctx);
/* Claims up to max queued orders of worker_id that nobody holds or whose
 * lease expired for this node until lease_until_ms, committed. *out (ids
 * and requests, owned; free with store_orders_free) and *count. */
int store_claim(struct store *s, const char *worker_id, size_t max, int64_t now_ms,
                int64_t lease_until_ms, struct store_order **out, size_t *count);
/* Gives back every claim this node holds on worker_id's queued orders (a
 * dispatcher starting afresh: what an earlier run of this node held is
 * claimable again at once), committed. */
int store_release_all(struct store *s, const char *worker_id);
/* Frees an array of count orders. */
void store_orders_free(struct store_order *v, size_t count);
/* Extends the leases of every queued order of worker_id this node holds. */
int store_renew(struct store *s, const char *worker_id, int64_t lease_until_ms);
/* Gives back this node's claim of an order (drain), committed. */
int store_release(struct store *s, const char *id);
/* Counts orders by state into counts[3] (ORDER_*). */
int store_count_orders(struct store *s, int64_t counts[3]);

/* Inserts or replaces a worker record, committed. */
int store_put_worker(struct store *s, const struct store_worker *w);
/* Reads a worker; TCW_ERR_INVALID_PARAM when unknown. */
int store_get_worker(struct store *s, const char *id, struct store_worker *out);
/* Frees the strings of w and zeroes it. */
void store_worker_fini(struct store_worker *w);
/* Worker ids matching f, in id order. */
int store_lookup_workers(struct store *s, const struct store_lookup *f, struct store_ids *out);
/* Frees the ids of a lookup answer. */
void store_ids_fini(struct store_ids *ids);

/* Creates the receipt of an order (params JSON text, the key that signs
 * its updates, its create status); when the order is already final, its
 * completion update goes in the same transaction. TCW_ERR_DUPLICATE when
 * a receipt exists, TCW_ERR_INVALID_PARAM when the order is unknown. */
int store_receipt_create(struct store *s, const char *wo_id, const char *params,
                         const char *verification_key, int64_t create_status,
                         const char *worker_service_id, const char *worker_id,
                         const char *requester_id);
/* Reads a receipt; TCW_ERR_INVALID_PARAM when none. */
int store_receipt_get(struct store *s, const char *wo_id, struct store_receipt *out);
/* Frees the strings of r and zeroes it. */
void store_receipt_fini(struct store_receipt *r);
/* Appends an update; TCW_ERR_INVALID_PARAM when there is no receipt,
 * TCW_ERR_DUPLICATE when the receipt is already completed and u would set
 * its status (type 0-255; application updates above 255 are kept). */
int store_receipt_update(struct store *s, const char *wo_id, const struct store_update *u);
/* Reads update index (1-based; INT64_MAX or beyond the count = the last);
 * updater_id non-NULL must match. TCW_ERR_INVALID_PARAM when none. */
int store_receipt_update_get(struct store *s, const char *wo_id, int64_t index,
                             struct store_update *out);
/* Frees the strings of u and zeroes it. */
void store_update_fini(struct store_update *u);
/* Receipt (order) ids matching f: a = workerServiceId, b = workerId,
 * c = requesterId, status = current status. */
int store_lookup_receipts(struct store *s, const struct store_lookup *f, struct store_ids *out);

/* Commit statistics for /metrics. */
struct store_stats {
	uint64_t commits;
	uint64_t ops;
	uint64_t commit_us_total;
	uint64_t commit_hist[12]; /* commit latency buckets, store_hist_bounds_us */
};
/* Upper bounds (microseconds) of the commit latency buckets; the last is +Inf. */
extern const uint64_t store_hist_bounds_us[12];
/* Copies the commit statistics. */
void store_get_stats(struct store *s, struct store_stats *out);

#endif /* TCW_GATEWAY_STORE_H */
