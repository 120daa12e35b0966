/* SPDX-License-Identifier: Apache-2.0 */
/* gateway.h - the running tcgateway: its parts and what they share. */
#ifndef TCW_GATEWAY_GATEWAY_H
#define TCW_GATEWAY_GATEWAY_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "store.h"
#include "tcw/eea.h"
#include "tcw/tcw.h"

/* Worker statuses (EEA 5.1: WorkerStatus). */
enum { WS_ACTIVE = 1, WS_OFFLINE = 2, WS_DECOMMISSIONED = 3, WS_COMPROMISED = 4 };
/* Worker types (EEA 5.1: WorkerType). */
enum { WT_TEE_SGX = 1, WT_MPC = 2, WT_ZK = 3 };

/* Latency histogram buckets (seconds) of /metrics. */
#define GW_HIST_BUCKETS 12
extern const double gw_hist_bounds[GW_HIST_BUCKETS];

struct dispatcher;

/* One --worker attached to this gateway. Fields after mu are guarded by it. */
struct gw_worker {
	char name[256];
	char id[TCW_EEA_WORKER_ID_HEX + 1];
	char url[512];
	int accept_next; /* --accept-new-keys NAME: take the next key change */
	struct dispatcher *d;
	pthread_mutex_t mu;
	int status;       /* WS_* as published */
	int reachable;    /* answered its last signup */
	int admin_status; /* WS_* set over the admin socket, 0 = none */
	int pending_keys; /* answered with keys nobody accepted yet */
	char key_fp[65];  /* fingerprint of the accepted keys ("" = none yet) */
	unsigned rsa_bits; /* of the accepted encryption key */
	struct tcw_signup accepted; /* the keys orders are sealed to */
	struct tcw_eea_quote_info quote; /* what the accepted signup's quote proved */
	struct tcw_signup pending; /* the unaccepted signup while pending_keys */
	/* metrics */
	atomic_uint_fast64_t in_flight;
	atomic_uint_fast64_t lat_hist[GW_HIST_BUCKETS];
	atomic_uint_fast64_t lat_us_total;
	atomic_uint_fast64_t lat_count;
};

/* Counters of /metrics that are not in the store. */
struct gw_metrics {
	atomic_uint_fast64_t rpc_errors[16]; /* by JSON-RPC error code slot, gw_error_slot() */
	atomic_uint_fast64_t http_requests;
	atomic_uint_fast64_t http_rejected; /* 4xx/5xx before JSON-RPC */
	atomic_uint_fast64_t submitted;
	atomic_uint_fast64_t busy_replies;
	atomic_uint_fast64_t resent;
};

/* Results remembered for the next WorkOrderGetResult (ring size). */
#define GW_RESULTS 4096

/* One remembered final result. */
struct gw_result {
	char *id;
	char *text;
	int state;
};

/* A thread waiting in WorkOrderGetResult for one order. */
struct gw_waiter {
	const char *id;
	int woken;
	pthread_cond_t cv;
	struct gw_waiter *next;
};

struct gw {
	const struct gw_config *cfg;
	char node[256];
	struct store *store;
	struct tcw_keys *keys;  /* receipt signing key */
	char *receipt_pem;      /* its verifying key PEM */
	char updater_id[TCW_EEA_WORKER_ID_HEX + 1];
	void *zctx;
	struct gw_worker *workers;
	size_t worker_count;
	struct gw_metrics m;
	pthread_mutex_t wait_mu;
	struct gw_waiter *waiters;
	struct gw_result *results; /* ring of GW_RESULTS entries, under wait_mu */
	size_t results_next;
	volatile sig_atomic_t *stop;
	atomic_int draining;
	pthread_t recheck_thread;
	int recheck_started;
	pthread_mutex_t recheck_mu;
	pthread_cond_t recheck_cv;
};

/* ---- workers.c ---- */
/* Connects the configured workers: asks each for its signup once, applies
 * the key policy and stores their records. 0 or an error (logged). */
int gw_workers_start(struct gw *g);
/* Starts the periodic re-check thread. */
int gw_workers_start_recheck(struct gw *g);
/* Stops the re-check thread and frees the workers. */
void gw_workers_stop(struct gw *g);
/* The attached worker with workerId id, or NULL. */
struct gw_worker *gw_worker_find(struct gw *g, const char *id);
/* Over the admin socket: sets the status of an attached worker; status 1
 * also accepts keys it presented that nobody accepted yet. Writes the
 * outcome into msg. 0 or TCW_ERR_INVALID_PARAM. */
int gw_worker_admin_status(struct gw *g, struct gw_worker *w, int status, char *msg,
                           size_t msgsize);
/* Hex SHA-256 over the two key PEMs: which keys an order was sealed to. */
void gw_key_fp(const char *verifying_pem, const char *encryption_pem, char out[65]);

/* ---- dispatch.c ---- */
/* Starts the dispatcher thread of w (its ZMQ DEALER to the worker). */
int gw_dispatch_start(struct gw *g, struct gw_worker *w);
/* Hands a freshly stored order claimed by this node to w's dispatcher
 * (request copied); returns 0, or -1 when its queue is full (the order
 * then waits in the store for a claim). */
int gw_dispatch_offer(struct gw_worker *w, const char *id, const char *request,
                      const char *key_fp, int64_t submitted_ms);
/* Wakes the dispatcher of worker_id (NULL: all) to claim from the store. */
void gw_dispatch_poke(struct gw *g, const char *worker_id);
/* Non-zero while w's dispatcher may take another local order. */
int gw_dispatch_has_room(struct gw_worker *w);
/* Fails every order of w waiting in this gateway that was sealed to keys
 * other than key_fp (after a key change). */
void gw_dispatch_keys_changed(struct gw_worker *w);
/* Stops w's dispatcher: after drain_ms for replies, gives back unsent claims. */
void gw_dispatch_stop(struct gw_worker *w, unsigned long drain_ms);

/* ---- waiters.c: WorkOrderGetResult long polls ---- */
/* Wakes the WorkOrderGetResult calls waiting for order id (NULL: all). */
void gw_wake(struct gw *g, const char *id);
/* Registers w as waiting for order id (borrowed), before the caller reads
 * the order's state, so no wake-up is missed. */
void gw_waiter_add(struct gw *g, struct gw_waiter *w, const char *id);
/* Waits until w is woken or deadline_ms (wall clock) passes; 1 if woken. */
int gw_waiter_wait(struct gw *g, struct gw_waiter *w, int64_t deadline_ms);
/* Unregisters w. */
void gw_waiter_remove(struct gw *g, struct gw_waiter *w);
/* Remembers a durable final result for the next WorkOrderGetResult of id
 * (a bounded cache in front of the store). */
void gw_result_put(struct gw *g, const char *id, int state, const char *result);
/* Remembers that id was stored here and is not final (so a long poll
 * need not read the store first); never replaces its result. */
void gw_result_pending(struct gw *g, const char *id);
/* Drops the pending marker of id (the order became final elsewhere). */
void gw_result_forget(struct gw *g, const char *id);
/* Takes the remembered result of id: 1 with *state and *result (caller
 * frees) set, 0 when not remembered. A pending marker gives 1 with
 * ORDER_QUEUED and *result NULL and stays. */
int gw_result_take(struct gw *g, const char *id, int *state, char **result);
/* Frees the remembered results. */
void gw_results_free(struct gw *g);

/* ---- rpc.c: the JSON-RPC front ---- */
/* Answers one JSON-RPC request body (admin: it came over the admin socket);
 * returns the reply text (caller frees) and its length in *len. */
char *gw_rpc(struct gw *g, const char *body, size_t len, int admin, size_t *len_out);

/* Serialises o compactly (no escaped '/'), releases o and returns the text
 * (caller frees) with its length in *len; NULL when out of memory. */
char *gw_json_take(json_object *o, size_t *len);

/* ---- http.c ---- */
struct gw_http;
/* Starts the HTTP(S) listener and, with --admin-socket, the admin one;
 * logs "listening on http(s)://ADDR:PORT". 0 or TCW_ERR_INVALID_PARAM. */
int gw_http_start(struct gw *g, struct gw_http **out);
/* Stops accepting connections (drain begins). */
void gw_http_quiesce(struct gw_http *h);
/* Stops the listeners after their requests ended; frees *h. */
void gw_http_stop(struct gw_http **h);

/* ---- receipts.c ---- */
/* store_completion_fn: the gateway's signed completion update. */
int gw_completion(void *ctx, const char *work_order_id, int state, const char *result,
                  struct store_update *u);

/* ---- metrics ---- */
/* Slot of a JSON-RPC error code in gw_metrics.rpc_errors. */
int gw_error_slot(int code);
/* Records a worker round trip of us microseconds. */
void gw_worker_latency(struct gw_worker *w, uint64_t us);
/* The /metrics text (Prometheus exposition format); caller frees. */
char *gw_metrics_text(struct gw *g, size_t *len);

#endif /* TCW_GATEWAY_GATEWAY_H */
