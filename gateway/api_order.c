/* SPDX-License-Identifier: Apache-2.0 */
/* api_order.c - WorkOrderSubmit (checked, stored durably, handed to a dispatcher) and
 * WorkOrderGetResult (with the long poll); both answer later, on the event loop, when the
 * store committed or the result arrived. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc.h"
#include "store_sql.h"

#define PENDING_MESSAGE \
	"Work order is computing. Please query for WorkOrderGetResult to view the result"
#define ID_MAX 256

/* What the submit path needs of the order's worker. */
struct target {
	struct gw_worker *local; /* attached here, or NULL */
	unsigned rsa_bits;       /* 0 = unknown (admin-registered) */
	int status;
	char key_fp[65];
};

/* Bits of "RSA-OAEP-<bits>" in a stored worker record, 0 if absent. */
static unsigned record_rsa_bits(json_object *rec)
{
	json_object *d = NULL, *k = NULL;
	const char *s;

	if (!json_object_object_get_ex(rec, "details", &d) ||
	    !json_object_object_get_ex(d, "keyEncryptionAlgorithm", &k) ||
	    !(s = json_object_get_string(k)) || strncmp(s, "RSA-OAEP-", 9) != 0)
		return 0;
	return (unsigned)strtoul(s + 9, NULL, 10);
}

/* Finds the worker of workerId: attached (memory) or stored. */
static int find_target(struct gw *g, const char *worker_id, struct target *t)
{
	struct store_worker sw;
	json_object *rec;

	memset(t, 0, sizeof(*t));
	t->local = gw_worker_find(g, worker_id);
	if (t->local) {
		struct gw_worker *w = t->local;

		pthread_mutex_lock(&w->mu);
		t->rsa_bits = w->rsa_bits;
		t->status = w->admin_status ? w->admin_status : w->status;
		memcpy(t->key_fp, w->key_fp, sizeof(t->key_fp));
		pthread_mutex_unlock(&w->mu);
		return t->key_fp[0] ? 0 : -1;
	}
	if (store_get_worker(g->store, worker_id, &sw) != 0)
		return -1;
	t->status = sw.status;
	snprintf(t->key_fp, sizeof(t->key_fp), "%s", sw.key_fp ? sw.key_fp : "");
	rec = json_tokener_parse(sw.record);
	t->rsa_bits = rec ? record_rsa_bits(rec) : 0;
	json_object_put(rec);
	store_worker_fini(&sw);
	return 0;
}

/* The inner WorkOrderSubmit request the worker gets: the client's id and
 * params, re-serialised (every hashed value is a string kept verbatim). */
static char *inner_request(struct rpc_call *c, size_t *len)
{
	json_object *o = json_object_new_object(), *id = json_tokener_parse(c->id_json);

	if (!o) {
		json_object_put(id);
		return NULL;
	}
	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "method", json_object_new_string("WorkOrderSubmit"));
	json_object_object_add(o, "id", id);
	json_object_object_add(o, "params", json_object_get(c->params));
	return gw_json_take(o, len);
}

/* A submission waiting for its commit. */
struct submit_wait {
	struct rpc_deferred *d;
	struct gw_worker *local;
	char key_fp[65];
};

/* The commit of a submission ended: the order goes to its dispatcher and
 * the reply on c is "pending" (or why it was not stored). */
static void submit_outcome(struct rpc_call *c, const struct submit_wait *sw, int rc,
                           const struct store_new_order *o)
{
	struct gw *g = c->g;

	if (rc == TCW_ERR_DUPLICATE) {
		rpc_error(c, RPC_INVALID_PARAMETER, "Duplicate work order", o->id);
	} else if (rc != 0) {
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error: the order could not be stored", o->id);
	} else {
		atomic_fetch_add(&g->m.submitted, 1);
		gw_result_pending(g, o->id);
		if (o->claim_by) {
			if (gw_dispatch_offer(sw->local, o->id, o->request, sw->key_fp, o->now_ms) != 0)
				gw_dispatch_poke(g, o->worker_id);
		} else if (sw->local) {
			gw_dispatch_poke(g, o->worker_id);
		}
		rpc_error(c, RPC_PENDING, PENDING_MESSAGE, o->id);
	}
}

/* store_submit_fn: a deferred submission's commit ended. */
static void submitted(void *ctx, int rc, const struct store_new_order *o)
{
	struct submit_wait *sw = ctx;

	submit_outcome(rpc_deferred_call(sw->d), sw, rc, o);
	rpc_deferred_done(sw->d);
	free(sw);
}

void api_order_submit(struct rpc_call *c)
{
	struct gw *g = c->g;
	struct tcw_eea_submit sub;
	struct tcw_error e = {0};
	struct store_new_order o = {0};
	struct submit_wait *sw = NULL;
	struct target t;
	char *request = NULL, *rh = NULL;
	int rc;

	if (g->draining) {
		rpc_error(c, RPC_BUSY, "Gateway busy: shutting down", NULL);
		return;
	}
	rc = tcw_eea_submit_check(c->params, &sub, &e);
	if (rc == TCW_ERR_NOMEM)
		return;
	if (rc != 0) {
		rpc_bad_param(c, e.field);
		return;
	}
	if (find_target(g, sub.worker_id, &t) != 0) {
		rpc_bad_param(c, "workerId");
		return;
	}
	if (t.status == WS_DECOMMISSIONED || t.status == WS_COMPROMISED) {
		rpc_error(c, RPC_INVALID_PARAMETER, "Worker is not active", sub.work_order_id);
		return;
	}
	if (t.rsa_bits && sub.session_key_bytes != (t.rsa_bits + 7) / 8) {
		rpc_bad_param(c, "encryptedSessionKey");
		return;
	}
	request = inner_request(c, &o.request_len);
	rh = tcw_b64_encode(sub.request_hash, sizeof(sub.request_hash), NULL);
	sw = calloc(1, sizeof(*sw));
	if (!request || !rh || !sw) {
		free(sw);
		goto out;
	}
	sw->local = t.local;
	memcpy(sw->key_fp, t.key_fp, sizeof(sw->key_fp));
	o.id = sub.work_order_id;
	o.worker_id = sub.worker_id;
	o.requester_id = sub.requester_id;
	o.request_hash = rh;
	o.request = request;
	o.key_fp = t.key_fp;
	o.now_ms = store_now_ms();
	if (t.local && gw_dispatch_has_room(t.local)) {
		o.claim_by = g->node;
		o.lease_until_ms = o.now_ms + (int64_t)g->cfg->lease_ms;
	}
	sw->d = rpc_defer(c);
	if (sw->d) {
		/* answered once durable: the next group commit of the event loop */
		rc = store_submit_async(g->store, &o, submitted, sw);
		if (rc != 0)
			submitted(sw, rc, &o);
	} else {
		/* a call of a batch or a notification: its own commit, now */
		submit_outcome(c, sw, store_submit(g->store, &o), &o);
		free(sw);
	}
out:
	free(request);
	free(rh);
}

/* Answers a final order from its state and stored reply member. */
static void reply_final(struct rpc_call *c, int state, const char *text)
{
	if (state == ORDER_DONE)
		rpc_result(c, text ? text : "null");
	else
		rpc_error_raw(c, text ? text : "{\"code\":1,\"message\":\"Internal error\"}");
}

/* The final reply of id if it is remembered: 1 when answered, 0 when not
 * remembered, 2 when remembered as pending here. */
static int answer_remembered(struct rpc_call *c, const char *id)
{
	char *text = NULL;
	int state;

	if (!gw_result_take(c->g, id, &state, &text))
		return 0;
	if (state == ORDER_QUEUED)
		return 2;
	reply_final(c, state, text);
	free(text);
	return 1;
}

/* Answers from the store: final, pending, or not found. */
static void answer_stored(struct rpc_call *c, const char *id, const struct store_order *o,
                          int rc)
{
	if (rc == TCW_ERR_INVALID_PARAM)
		rpc_error(c, RPC_INVALID_PARAMETER, "Work order not found", id);
	else if (rc != 0)
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", id);
	else if (o->state == ORDER_QUEUED)
		rpc_error(c, RPC_PENDING, PENDING_MESSAGE, id);
	else
		reply_final(c, o->state, o->result);
	if (rc == 0 && o->state != ORDER_QUEUED)
		gw_result_forget(c->g, id);
}

/* A long poll ends: with the result when it became final here, else as
 * the store says (or it waits on when another gateway's notification
 * came before its deadline and the order is still queued). */
static void woken(struct gw *g, struct rpc_deferred *d, const char *id, int state,
                  const char *result, int64_t deadline_ms)
{
	struct rpc_call *c = rpc_deferred_call(d);
	struct store_order o = {0};
	int rc;

	if (state == ORDER_DONE || state == ORDER_FAILED) {
		reply_final(c, state, result);
		rpc_deferred_done(d);
		return;
	}
	rc = store_get_order(g->store, id, &o);
	if (rc == 0 && o.state == ORDER_QUEUED && state == GW_WAKE_ELSEWHERE && !g->draining &&
	    gw_mono_ms() < deadline_ms && gw_waiter_add(g, id, deadline_ms, woken, d) == 0) {
		store_order_fini(&o);
		return;
	}
	answer_stored(c, id, &o, rc);
	store_order_fini(&o);
	rpc_deferred_done(d);
}

/* Defers c until order id is final or deadline_ms passes. */
static void wait_for(struct rpc_call *c, const char *id, int64_t deadline_ms)
{
	struct rpc_deferred *d = rpc_defer(c);

	if (!d) {
		rpc_error(c, RPC_PENDING, PENDING_MESSAGE, id);
		return;
	}
	if (gw_waiter_add(c->g, id, deadline_ms, woken, d) != 0) {
		rpc_error(rpc_deferred_call(d), RPC_PENDING, PENDING_MESSAGE, id);
		rpc_deferred_done(d);
	}
}

void api_order_result(struct rpc_call *c)
{
	struct gw *g = c->g;
	const char *id = rpc_str(c, "workOrderId", ID_MAX, 1);
	struct store_order o = {0};
	int64_t deadline, wait;
	int rc, known;

	if (!id)
		return;
	/* no long poll for a notification (it gets no answer) or in a batch
	 * (whose calls run in turn: 100 waits would hold the connection) */
	wait = c->notify || c->batched || g->draining ? 0 : (int64_t)g->cfg->result_wait_ms;
	deadline = gw_mono_ms() + wait;
	known = answer_remembered(c, id);
	if (known == 1)
		return;
	/* submitted here and not final: wait without reading the store (a
	 * result stored here comes with its wake-up; one stored by another
	 * gateway wakes this one through the store's notification) */
	if (known == 2 && wait) {
		wait_for(c, id, deadline);
		return;
	}
	rc = store_get_order(g->store, id, &o);
	if (rc == 0 && o.state == ORDER_QUEUED && wait)
		wait_for(c, id, deadline);
	else
		answer_stored(c, id, &o, rc);
	store_order_fini(&o);
}
