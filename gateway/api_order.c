/* SPDX-License-Identifier: Apache-2.0 */
/* api_order.c - WorkOrderSubmit (checked, stored durably, handed to a dispatcher) and
 * WorkOrderGetResult (with the long poll). */
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

void api_order_submit(struct rpc_call *c)
{
	struct gw *g = c->g;
	struct tcw_eea_submit sub;
	struct tcw_error e = {0};
	struct store_new_order o = {0};
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
	if (!request || !rh)
		goto out;
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
	rc = store_submit(g->store, &o);
	if (rc == TCW_ERR_DUPLICATE) {
		rpc_error(c, RPC_INVALID_PARAMETER, "Duplicate work order", sub.work_order_id);
		goto out;
	}
	if (rc != 0) {
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error: the order could not be stored",
		          sub.work_order_id);
		goto out;
	}
	atomic_fetch_add(&g->m.submitted, 1);
	gw_result_pending(g, o.id);
	if (o.claim_by) {
		if (gw_dispatch_offer(t.local, o.id, request, t.key_fp, o.now_ms) != 0)
			gw_dispatch_poke(g, sub.worker_id);
	} else if (t.local) {
		gw_dispatch_poke(g, sub.worker_id);
	}
	rpc_error(c, RPC_PENDING, PENDING_MESSAGE, sub.work_order_id);
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

void api_order_result(struct rpc_call *c)
{
	struct gw *g = c->g;
	const char *id = rpc_str(c, "workOrderId", ID_MAX, 1);
	struct store_order o = {0};
	int64_t deadline;
	int rc = 0, known;

	if (!id)
		return;
	/* no long poll for a notification (it gets no answer) or in a batch
	 * (whose calls run in turn: 100 waits would hold the connection) */
	deadline = store_now_ms() + (c->notify || c->batched ? 0 : (int64_t)g->cfg->result_wait_ms);
	known = answer_remembered(c, id);
	if (known == 1)
		return;
	/* submitted here and not final: wait first (a result stored here is
	 * then in memory), read the store after (one stored by another gateway
	 * wakes this one through the store's notification) */
	if (known == 2 && !g->draining) {
		struct gw_waiter w;

		gw_waiter_add(g, &w, id);
		known = answer_remembered(c, id);
		if (known == 2)
			gw_waiter_wait(g, &w, deadline);
		gw_waiter_remove(g, &w);
		if (known == 1 || answer_remembered(c, id) == 1)
			return;
	}
	rc = store_get_order(g->store, id, &o);
	if (rc == TCW_ERR_INVALID_PARAM) {
		rpc_error(c, RPC_INVALID_PARAMETER, "Work order not found", id);
		return;
	}
	while (rc == 0 && o.state == ORDER_QUEUED && store_now_ms() < deadline && !g->draining) {
		struct gw_waiter w;

		gw_waiter_add(g, &w, id);
		store_order_fini(&o);
		rc = store_get_order(g->store, id, &o);
		if (rc == 0 && o.state == ORDER_QUEUED)
			gw_waiter_wait(g, &w, deadline);
		gw_waiter_remove(g, &w);
		if (rc == 0 && o.state == ORDER_QUEUED) {
			store_order_fini(&o);
			if (answer_remembered(c, id) == 1)
				return;
			rc = store_get_order(g->store, id, &o);
		}
	}
	if (rc != 0)
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", id);
	else if (o.state == ORDER_QUEUED)
		rpc_error(c, RPC_PENDING, PENDING_MESSAGE, id);
	else
		reply_final(c, o.state, o.result);
	if (rc == 0 && o.state != ORDER_QUEUED)
		gw_result_forget(g, id);
	store_order_fini(&o);
}
