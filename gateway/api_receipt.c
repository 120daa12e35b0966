/* SPDX-License-Identifier: Apache-2.0 */
/* api_receipt.c - work order receipts: create, update, retrieve, lookup, and the gateway's own
 * signed completion update. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "rpc.h"
#include "store_sql.h"

#define ID_MAX 256
#define KEY_MAX 4096
#define SIG_MAX 256
#define DATA_MAX 65536
#define RULES "SHA-256/SECP256K1"
#define LOOKUP_LIMIT 1000
/* Receipt statuses (EEA 7.1): 0-4 defined, 5-254 reserved, 255 any, >255 application. */
#define STATUS_FAILED 3
#define STATUS_ANY 255

/* 1 when v is a receipt status a request may set. */
static int status_ok(int64_t v)
{
	return (v >= 0 && v <= 4) || v > 255;
}

/* Checks signatureRules when present. */
static int rules_ok(struct rpc_call *c)
{
	const char *r = rpc_str(c, "signatureRules", 64, 0);

	if (c->reply)
		return 0;
	if (r && strcmp(r, RULES) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER, "Unsupported signatureRules (expected " RULES ")",
		          NULL);
		return 0;
	}
	return 1;
}

/* 1 when given names the stored request hash (base64, as computed at
 * submission): as base64 (Avalon's SDK) or as hex (the encoding the EEA
 * spec uses for its other hashes). */
static int request_hash_matches(const char *stored, const char *given)
{
	uint8_t want[TCW_SHA256_SIZE], *got = NULL, *st = NULL;
	size_t n = 0, m = 0;
	int ok = 0;

	if (tcw_b64_decode(stored, strlen(stored), &st, &m) != 0 || m != sizeof(want)) {
		free(st);
		return 0;
	}
	memcpy(want, st, sizeof(want));
	free(st);
	if (strlen(given) == 2 * sizeof(want)) {
		uint8_t hex[TCW_SHA256_SIZE];

		return tcw_hex_decode_exact(given, strlen(given), hex, sizeof(hex)) == 0 &&
		       memcmp(hex, want, sizeof(want)) == 0;
	}
	if (tcw_b64_decode(given, strlen(given), &got, &n) == 0 && n == sizeof(want))
		ok = memcmp(got, want, sizeof(want)) == 0;
	free(got);
	return ok;
}

void api_receipt_create(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workOrderId", ID_MAX, 1), *key, *sig, *rh, *req, *wid, *svc;
	struct store_order o;
	uint8_t digest[TCW_SHA256_SIZE];
	struct tcw_error e = {0};
	int64_t status = 0;
	int rc;

	if (!id || !(svc = rpc_str(c, "workerServiceId", ID_MAX, 1)) ||
	    !(wid = rpc_str(c, "workerId", ID_MAX, 1)) ||
	    !(req = rpc_str(c, "requesterId", ID_MAX, 1)) ||
	    rpc_int(c, "receiptCreateStatus", &status, 1) < 0 ||
	    !(rh = rpc_str(c, "workOrderRequestHash", ID_MAX, 1)) ||
	    !rpc_str(c, "requesterGeneratedNonce", ID_MAX, 1) ||
	    !(sig = rpc_str(c, "requesterSignature", SIG_MAX, 1)) ||
	    !(key = rpc_str(c, "receiptVerificationKey", KEY_MAX, 1)) || !rules_ok(c))
		return;
	if (!status_ok(status)) {
		rpc_bad_param(c, "receiptCreateStatus");
		return;
	}
	if (store_get_order(c->g->store, id, &o) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER, "Work order id does not exist, hence invalid request",
		          id);
		return;
	}
	if (strcmp(o.requester_id, req) != 0)
		rpc_error(c, RPC_INVALID_PARAMETER, "requesterId does not match the work order", id);
	else if (strcmp(o.worker_id, wid) != 0)
		rpc_error(c, RPC_INVALID_PARAMETER, "workerId does not match the work order", id);
	else if (!request_hash_matches(o.request_hash, rh))
		rpc_error(c, RPC_INVALID_PARAMETER, "Work order request hash does not match", id);
	else if (tcw_eea_receipt_create_digest(c->params, digest, &e) != 0)
		rpc_bad_param(c, e.field);
	else if (tcw_eea_verify_b64(key, digest, sig) != 0)
		rpc_error(c, RPC_INVALID_SIGNATURE,
		          "Receipt create requester signature does not verify", id);
	store_order_fini(&o);
	if (c->reply)
		return;
	rc = store_receipt_create(c->g->store, id,
	                          json_object_to_json_string_ext(c->params, JSON_C_TO_STRING_PLAIN |
	                                                             JSON_C_TO_STRING_NOSLASHESCAPE),
	                          key, status, svc, wid, req);
	if (rc == TCW_ERR_DUPLICATE)
		rpc_error(c, RPC_INVALID_PARAMETER,
		          "Work order receipt already exists. Hence invalid parameter", id);
	else if (rc != 0)
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", id);
	else
		rpc_error(c, RPC_SUCCESS, "Receipt created successfully", NULL);
}

void api_receipt_update(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workOrderId", ID_MAX, 1), *updater = NULL, *data, *sig;
	const char *key = NULL;
	struct store_receipt r;
	struct store_update u = {0};
	uint8_t digest[TCW_SHA256_SIZE];
	char key_id[TCW_EEA_WORKER_ID_HEX + 1];
	int64_t type = 0;
	int rc;

	/* updaterId is optional (EEA 7.2.3); without it the update is filed
	 * under the hex SHA-256 of the key that signed it */
	if (!id || (!(updater = rpc_str(c, "updaterId", KEY_MAX, 0)) && c->reply) ||
	    rpc_int(c, "updateType", &type, 1) < 0 || !(data = rpc_str(c, "updateData", DATA_MAX, 1)) ||
	    !(sig = rpc_str(c, "updateSignature", SIG_MAX, 1)) || !rules_ok(c))
		return;
	if (!status_ok(type)) {
		rpc_bad_param(c, "updateType");
		return;
	}
	if (store_receipt_get(c->g->store, id, &r) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER, "Work order receipt is not created yet", id);
		return;
	}
	/* only the receipt's own key or the gateway's may update it */
	if (tcw_eea_receipt_update_digest(id, type, data, digest) == 0) {
		if (tcw_eea_verify_b64(r.verification_key, digest, sig) == 0)
			key = r.verification_key;
		else if (tcw_eea_verify_b64(c->g->receipt_pem, digest, sig) == 0)
			key = c->g->receipt_pem;
	}
	if (!key) {
		rpc_error(c, RPC_INVALID_SIGNATURE,
		          "Receipt update signature does not verify with the receipt's key", id);
		store_receipt_fini(&r);
		return;
	}
	if (!updater || !updater[0]) {
		tcw_eea_worker_id(key, key_id);
		updater = key_id;
	}
	u.updater_id = (char *)updater;
	u.update_type = type;
	u.update_data = (char *)data;
	u.update_signature = (char *)sig;
	u.signature_rules = RULES;
	u.verification_key = (char *)key;
	rc = store_receipt_update(c->g->store, id, &u);
	store_receipt_fini(&r);
	if (rc == TCW_ERR_DUPLICATE)
		rpc_error(c, RPC_INVALID_PARAMETER,
		          "Receipt update status is set to completed, No further update allowed", id);
	else if (rc != 0)
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", id);
	else
		rpc_error(c, RPC_SUCCESS, "Receipt updated successfully", NULL);
}

void api_receipt_retrieve(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workOrderId", ID_MAX, 1);
	struct store_receipt r;
	json_object *p;

	if (!id)
		return;
	if (store_receipt_get(c->g->store, id, &r) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER, "Work order receipt not found", id);
		return;
	}
	p = json_tokener_parse(r.params);
	if (p) {
		json_object_object_add(p, "receiptCurrentStatus",
		                       json_object_new_int64(r.current_status));
		rpc_result_obj(c, p);
	}
	store_receipt_fini(&r);
}

/* Finds the index-th update (1-based; STORE_LAST_UPDATE and above = the
 * last) among those made by updater into *u, with u->index its place among
 * them and u->count their number (EEA: the update count is per updater when
 * one is named). TCW_ERR_INVALID_PARAM when there is none. */
static int update_by(struct store *st, const char *id, const char *updater, int64_t index,
                     struct store_update *u)
{
	struct store_update k;
	int64_t total, i, mine = 0, at = 0;
	int rc = store_receipt_update_get(st, id, STORE_LAST_UPDATE, &k);

	memset(u, 0, sizeof(*u));
	total = rc == 0 ? k.count : 0;
	store_update_fini(&k);
	if (rc != 0)
		return rc;
	for (i = 1; i <= total; i++) {
		if (store_receipt_update_get(st, id, i, &k) != 0) {
			store_update_fini(&k);
			store_update_fini(u);
			return TCW_ERR_INTERNAL;
		}
		if (strcmp(k.updater_id, updater) != 0) {
			store_update_fini(&k);
			continue;
		}
		mine++;
		if (mine == index || index >= STORE_LAST_UPDATE) {
			store_update_fini(u);
			*u = k;
			at = mine;
		} else {
			store_update_fini(&k);
		}
	}
	if (!at || index <= 0)
		return TCW_ERR_INVALID_PARAM;
	u->index = at;
	u->count = mine;
	return 0;
}

/* The workerSignature of the stored result of order id (caller frees), or
 * NULL: it comes with the gateway's completion update, whose updateData is
 * the response hash that signature covers. */
static char *worker_signature(struct gw *g, const char *id)
{
	struct store_order o;
	json_object *r = NULL, *v = NULL;
	char *sig = NULL;

	if (store_get_order(g->store, id, &o) != 0)
		return NULL;
	if (o.state == ORDER_DONE && o.result && (r = json_tokener_parse(o.result)) != NULL &&
	    json_object_object_get_ex(r, "workerSignature", &v) &&
	    json_object_is_type(v, json_type_string))
		sig = strdup(json_object_get_string(v));
	json_object_put(r);
	store_order_fini(&o);
	return sig;
}

void api_receipt_update_retrieve(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workOrderId", ID_MAX, 1), *updater;
	struct store_update u;
	json_object *r;
	int64_t index = 0;
	char *wsig = NULL;
	int rc;

	if (!id)
		return;
	updater = rpc_str(c, "updaterId", KEY_MAX, 0);
	if (c->reply || rpc_int(c, "updateIndex", &index, 1) < 0)
		return;
	if (updater && updater[0])
		rc = update_by(c->g->store, id, updater, index, &u);
	else
		rc = store_receipt_update_get(c->g->store, id, index, &u);
	if (rc != 0) {
		store_update_fini(&u);
		if (rc == TCW_ERR_INVALID_PARAM)
			rpc_error(c, RPC_INVALID_PARAMETER,
			          updater && updater[0] ? "No such update by this updater to this receipt"
			                                : "No such update to this receipt",
			          id);
		else
			rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", id);
		return;
	}
	if (u.update_type == STORE_RECEIPT_COMPLETED && strcmp(u.updater_id, c->g->updater_id) == 0)
		wsig = worker_signature(c->g, id);
	r = json_object_new_object();
	if (r) {
		json_object_object_add(r, "workOrderId", json_object_new_string(id));
		json_object_object_add(r, "updaterId", json_object_new_string(u.updater_id));
		json_object_object_add(r, "updateType", json_object_new_int64(u.update_type));
		json_object_object_add(r, "updateData", json_object_new_string(u.update_data));
		json_object_object_add(r, "updateSignature", json_object_new_string(u.update_signature));
		json_object_object_add(r, "signatureRules", json_object_new_string(u.signature_rules));
		json_object_object_add(r, "receiptVerificationKey",
		                       json_object_new_string(u.verification_key));
		json_object_object_add(r, "updateIndex", json_object_new_int64(u.index));
		json_object_object_add(r, "updateCount", json_object_new_int64(u.count));
		if (wsig)
			json_object_object_add(r, "workerSignature", json_object_new_string(wsig));
		rpc_result_obj(c, r);
	}
	free(wsig);
	store_update_fini(&u);
}

/* A receipt status filter named key: a number, or a string holding one
 * (decimal or 0x-hex: Avalon's schema types receiptStatus as a hex string).
 * 0 with *v set, 1 when absent, -1 after replying. */
static int status_param(struct rpc_call *c, const char *key, int64_t *v)
{
	json_object *o = NULL;
	const char *s;
	char *end = NULL;
	long long n;

	if (json_object_object_get_ex(c->params, key, &o) && o &&
	    json_object_is_type(o, json_type_string)) {
		s = json_object_get_string(o);
		errno = 0;
		n = strtoll(s, &end, strncasecmp(s, "0x", 2) == 0 ? 16 : 10);
		if (!isdigit((unsigned char)s[0]) || *end || errno || n < 0) {
			rpc_bad_param(c, key);
			return -1;
		}
		*v = n;
		return 0;
	}
	return rpc_int(c, key, v, 0);
}

/* WorkOrderReceiptLookUp(Next). */
static void lookup(struct rpc_call *c, const char *after)
{
	struct store_lookup f = {.limit = LOOKUP_LIMIT, .status = -1, .after = after};
	struct store_ids ids;
	int64_t st = -1;
	int r;

	f.a = rpc_str(c, "workerServiceId", ID_MAX, 0);
	if (!c->reply)
		f.b = rpc_str(c, "workerId", ID_MAX, 0);
	if (!c->reply)
		f.c = rpc_str(c, "requesterId", ID_MAX, 0);
	if (c->reply)
		return;
	/* EEA names it receiptStatus; Avalon's SDK sends requestCreateStatus */
	r = status_param(c, "receiptStatus", &st);
	if (r == 1)
		r = status_param(c, "requestCreateStatus", &st);
	if (r < 0)
		return;
	if (r == 0 && st < 0) {
		rpc_bad_param(c, "receiptStatus");
		return;
	}
	f.status = st == STATUS_ANY ? -1 : st;
	if (after && !after[0]) {
		/* the tag of an answer that had everything: nothing follows */
		memset(&ids, 0, sizeof(ids));
		rpc_lookup_result(c, &ids);
		return;
	}
	if (store_lookup_receipts(c->g->store, &f, &ids) != 0) {
		store_ids_fini(&ids);
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", NULL);
		return;
	}
	rpc_lookup_result(c, &ids);
	store_ids_fini(&ids);
}

void api_receipt_lookup(struct rpc_call *c)
{
	lookup(c, NULL);
}

void api_receipt_lookup_next(struct rpc_call *c)
{
	const char *tag = rpc_str(c, "lastLookUpTag", ID_MAX, 1);

	if (tag)
		lookup(c, tag);
}

/* The update data of a final order: for a result, the EEA response hash,
 * which workerSignature covers, in uppercase hex as Avalon's SDK writes it
 * (EEA 7.2.3: an update that sets COMPLETED carries a hash of the work
 * order response); for an error, {"workOrderId","error"} (application
 * data). Caller frees. */
static char *completion_data(const char *wo_id, int state, const char *result)
{
	json_object *r = json_tokener_parse(result), *d;
	uint8_t wh[TCW_SHA256_SIZE];
	const char *sig = NULL;
	struct tcw_error e = {0};
	char *out = NULL;

	if (state == ORDER_DONE && r && tcw_eea_result_hash(r, wh, &sig, &e) == 0) {
		out = tcw_hex_encode(wh, sizeof(wh));
		for (char *p = out; p && *p; p++)
			*p = (char)toupper((unsigned char)*p);
	} else if ((d = json_object_new_object()) != NULL) {
		json_object_object_add(d, "workOrderId", json_object_new_string(wo_id));
		json_object_object_add(d, "error", r ? json_object_get(r) : NULL);
		out = strdup(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN |
		                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(d);
	}
	json_object_put(r);
	return out;
}

/* The gateway's completion update, signed with its key (see gateway.h). */
int gw_completion(void *ctx, const char *work_order_id, int state, const char *result,
                  struct store_update *u)
{
	struct gw *g = ctx;
	uint8_t digest[TCW_SHA256_SIZE], der[TCW_ECDSA_DER_MAX];
	size_t der_len = 0;

	memset(u, 0, sizeof(*u));
	u->update_type = state == ORDER_DONE ? STORE_RECEIPT_COMPLETED : STATUS_FAILED;
	u->update_data = completion_data(work_order_id, state, result ? result : "null");
	if (!u->update_data ||
	    tcw_eea_receipt_update_digest(work_order_id, u->update_type, u->update_data, digest) ||
	    tcw_keys_sign(g->keys, digest, der, &der_len)) {
		store_update_fini(u);
		log_error("order %s: cannot sign its receipt completion", work_order_id);
		return -1;
	}
	u->update_signature = tcw_b64_encode(der, der_len, NULL);
	u->updater_id = strdup(g->updater_id);
	u->signature_rules = strdup(RULES);
	u->verification_key = strdup(g->receipt_pem);
	if (!u->update_signature || !u->updater_id || !u->signature_rules || !u->verification_key) {
		store_update_fini(u);
		return -1;
	}
	return 0;
}
