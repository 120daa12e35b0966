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

/* A file descriptor the event loop watches: ready is set when it is
 * readable, and cleared by whoever handles it (loop thread only). */
struct gw_source {
	int ready;
};

struct gw_loop;
struct gw_waiters;
struct gw_http;
struct rpc_deferred;

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
	struct gw_loop *loop;
	struct gw_http *http;
	/* loop thread only: long polls and the results kept for them */
	struct gw_waiters *waiters;
	struct gw_result *results; /* ring of GW_RESULTS entries */
	volatile sig_atomic_t *stop;
	atomic_int draining;
	pthread_t recheck_thread;
	int recheck_started;
	pthread_mutex_t recheck_mu;
	pthread_cond_t recheck_cv;
};

/* ---- loop.c: the event loop (HTTP, dispatch, long polls, commits) ---- */
/* Creates the loop; the calling thread owns its state until
 * gw_loop_start. 0 or an error (logged). */
int gw_loop_init(struct gw *g);
/* Watches fd for input (loop thread, or before the start); src->ready
 * is set when it is readable. 0 or -1. */
int gw_loop_add(struct gw *g, int fd, struct gw_source *src);
/* Stops watching fd. */
void gw_loop_del(struct gw *g, int fd);
/* Runs fn(g, arg) on the loop's thread: at once when called there, else
 * queued with a copy of arg (NULL = "") and the loop woken. */
void gw_loop_post(struct gw *g, void (*fn)(struct gw *g, const char *arg), const char *arg);
/* Starts the loop's thread. 0 or an error (logged). */
int gw_loop_start(struct gw *g);
/* SIGTERM: stops HTTP, lets the orders at the workers finish (up to
 * --drain-ms), commits, and waits for the loop's thread to end. */
void gw_loop_drain(struct gw *g);
/* Frees the loop (draining it first when it still runs). */
void gw_loop_free(struct gw *g);
/* Monotonic milliseconds. */
int64_t gw_mono_ms(void);

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

/* ---- dispatch.c (loop thread, unless said otherwise) ---- */
/* Sets up w's dispatcher (its ZMQ DEALER to the worker, watched by the
 * loop); the thread that set up the loop calls it before gw_loop_start. */
int gw_dispatch_start(struct gw *g, struct gw_worker *w);
/* Hands a freshly stored order claimed by this node to w's dispatcher
 * (request copied); returns 0, or -1 when out of memory (the order then
 * waits in the store for a claim). */
int gw_dispatch_offer(struct gw_worker *w, const char *id, const char *request,
                      const char *key_fp, int64_t submitted_ms);
/* Wakes the dispatcher of worker_id (NULL: all) to claim from the store;
 * any thread. */
void gw_dispatch_poke(struct gw *g, const char *worker_id);
/* Non-zero while w's dispatcher may take another local order. */
int gw_dispatch_has_room(struct gw_worker *w);
/* Fails every order of w waiting in this gateway that was sealed to keys
 * other than its accepted ones (after a key change); any thread. */
void gw_dispatch_keys_changed(struct gw_worker *w);
/* One turn of every dispatcher: replies in, timers, orders out. */
void gw_dispatch_run(struct gw *g);
/* Sends what the dispatchers may send now (after a commit). */
void gw_dispatch_send(struct gw *g);
/* Milliseconds until a dispatcher's next timer (at most a second). */
int64_t gw_dispatch_timeout(struct gw *g, int64_t now_ms);
/* SIGTERM: sends nothing more and claims nothing more. */
void gw_dispatch_drain(struct gw *g);
/* Non-zero when no dispatcher has an order at its worker. */
int gw_dispatch_idle(struct gw *g);
/* The drain ended: orders still at a worker go back to the queue (their
 * claims are given back by gw_dispatch_stop). */
void gw_dispatch_requeue(struct gw *g);
/* Frees w's dispatcher after the loop ended; gives back unsent claims. */
void gw_dispatch_stop(struct gw_worker *w);

/* ---- waiters.c: WorkOrderGetResult long polls (loop thread) ---- */
/* Called for a waiter when the order is final here (state ORDER_DONE or
 * ORDER_FAILED, result its stored reply member), when another gateway
 * reported it final (state GW_WAKE_ELSEWHERE, result NULL), or when its
 * deadline passed or the gateway drains (GW_WAKE_TIMEOUT, NULL). */
typedef void (*gw_wait_fn)(struct gw *g, struct rpc_deferred *d, const char *id, int state,
                           const char *result, int64_t deadline_ms);
enum { GW_WAKE_ELSEWHERE = -1, GW_WAKE_TIMEOUT = -2 };
/* Waits for order id until deadline_ms (gw_mono_ms clock): fn(d, ...)
 * is called exactly once, or again after it waits anew. 0 or -1 (out of
 * memory, nothing registered). */
int gw_waiter_add(struct gw *g, const char *id, int64_t deadline_ms, gw_wait_fn fn,
                  struct rpc_deferred *d);
/* Order id became final here: its waiters get the result; without
 * waiters it is remembered for the next WorkOrderGetResult. */
void gw_order_final(struct gw *g, const char *id, int state, const char *result);
/* Another gateway made order id final (a store notification); any thread. */
void gw_order_final_elsewhere(struct gw *g, const char *id);
/* Answers the waiters whose deadline passed. */
void gw_waiters_expire(struct gw *g, int64_t now_ms);
/* Milliseconds until the next waiter's deadline (a second when none). */
int64_t gw_waiters_timeout(struct gw *g, int64_t now_ms);
/* Draining: every waiter is called with GW_WAKE_TIMEOUT now. */
void gw_waiters_answer_all(struct gw *g);
/* Remembers that id was stored here and is not final (so a long poll
 * need not read the store first); never replaces its result. */
void gw_result_pending(struct gw *g, const char *id);
/* Drops the pending marker of id (the order became final elsewhere). */
void gw_result_forget(struct gw *g, const char *id);
/* Takes the remembered result of id: 1 with *state and *result (caller
 * frees) set, 0 when not remembered. A pending marker gives 1 with
 * ORDER_QUEUED and *result NULL and stays. */
int gw_result_take(struct gw *g, const char *id, int *state, char **result);
/* Frees the remembered results and the waiters' table. */
void gw_results_free(struct gw *g);

/* ---- rpc.c: the JSON-RPC front ---- */
/* Answers one JSON-RPC request body (admin: it came over the admin socket;
 * token: the HTTP request, for an answer given later). Returns the reply
 * text (caller frees) with its length in *len_out, or NULL with *deferred
 * set when the method answers later through gw_http_answer(token, ...). */
char *gw_rpc(struct gw *g, const char *body, size_t len, int admin, void *token,
             size_t *len_out, int *deferred);

/* Serialises o compactly (no escaped '/'), releases o and returns the text
 * (caller frees) with its length in *len; NULL when out of memory. */
char *gw_json_take(json_object *o, size_t *len);

/* ---- json_span.c ---- */
/* Index of the first byte from t[i] on that is not JSON whitespace (n if none). */
size_t gw_json_skip_ws(const char *t, size_t n, size_t i);
/* Where the value of the top-level member key is in t[0..n), a JSON object
 * text that json-c has just parsed strictly: the last such member, as
 * json-c keeps the last of duplicate keys. 0 with *off and *len set; -1
 * when there is none or some key is written with escapes (the caller then
 * serialises the parsed value instead). */
int gw_json_member_span(const char *t, size_t n, const char *key, size_t *off, size_t *len);

/* ---- http.c (loop thread) ---- */
/* Starts the HTTP(S) listener and, with --admin-socket, the admin one,
 * watched by the loop; logs "listening on http(s)://ADDR:PORT". 0 or
 * TCW_ERR_INVALID_PARAM. */
int gw_http_start(struct gw *g, struct gw_http **out);
/* Runs the servers that have something to do (resumed_only: only those
 * with answers given since their last run). NULL-safe. */
void gw_http_run(struct gw_http *h, int resumed_only);
/* Milliseconds until a server's next timeout (a second when none). */
int64_t gw_http_timeout(struct gw_http *h, int64_t now_ms);
/* Gives the answer (taken over, length len) of a deferred request (token
 * from gw_rpc) and resumes its connection. */
void gw_http_answer(void *token, char *reply, size_t len);
/* Stops accepting connections (drain begins). */
void gw_http_quiesce(struct gw_http *h);
/* Closes every connection and the servers (no request may be waiting for
 * an answer); the listeners are gone afterwards. */
void gw_http_close(struct gw_http *h);
/* Frees *h (after gw_http_close or when the loop never ran). */
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
