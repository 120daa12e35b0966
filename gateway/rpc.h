/* SPDX-License-Identifier: Apache-2.0 */
/* rpc.h - one JSON-RPC call in progress and the method handlers behind gw_rpc. */
#ifndef TCW_GATEWAY_RPC_H
#define TCW_GATEWAY_RPC_H

#include <json-c/json.h>

#include "gateway.h"

/* EEA / Avalon result codes used in replies. */
enum {
	RPC_SUCCESS = 0,
	RPC_UNKNOWN_ERROR = 1,
	RPC_INVALID_PARAMETER = 2,
	RPC_ACCESS_DENIED = 3,
	RPC_INVALID_SIGNATURE = 4,
	RPC_PENDING = 5,
	RPC_BUSY = 8,
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
};

/* Most requests in one JSON-RPC batch (each runs in turn on one connection). */
#define RPC_MAX_BATCH 100
#define RPC_MAX_BATCH_TEXT "100"

/* One call: its parsed params and id, and the reply being built. */
struct rpc_call {
	struct gw *g;
	json_object *params; /* an object (borrowed from the request) */
	const char *id_json; /* the request id as JSON text */
	int admin;
	int notify; /* a notification: no reply is sent */
	int batched; /* one of a batch: no long poll */
	char *reply; /* set by the handler (rpc_result / rpc_error*) */
	size_t reply_len;
};

/* Sets the reply {"jsonrpc","id","result":<result_json text>}. */
void rpc_result(struct rpc_call *c, const char *result_json);
/* Same, with result an object (consumed). */
void rpc_result_obj(struct rpc_call *c, json_object *result);
/* Sets the reply {"jsonrpc","id","error":{code,message[,data.workOrderId]}}. */
void rpc_error(struct rpc_call *c, int code, const char *message, const char *work_order_id);
/* Sets the reply with error = the stored error object text. */
void rpc_error_raw(struct rpc_call *c, const char *error_json);
/* 2 "Invalid parameter: <field>". */
void rpc_bad_param(struct rpc_call *c, const char *field);

/* String member key of the params (max characters), or NULL after
 * replying "Invalid parameter: key" when required. */
const char *rpc_str(struct rpc_call *c, const char *key, size_t max, int required);
/* Integer member key into *v; 0, 1 when absent (not required), -1 after
 * replying "Invalid parameter: key". */
int rpc_int(struct rpc_call *c, const char *key, int64_t *v, int required);

/* Method handlers. */
void api_worker_retrieve(struct rpc_call *c);
void api_worker_lookup(struct rpc_call *c);
void api_worker_lookup_next(struct rpc_call *c);
void api_encryption_key_get(struct rpc_call *c);
void api_encryption_key_set(struct rpc_call *c);
void api_worker_register(struct rpc_call *c);
void api_worker_update(struct rpc_call *c);
void api_worker_set_status(struct rpc_call *c);
void api_order_submit(struct rpc_call *c);
void api_order_result(struct rpc_call *c);
void api_receipt_create(struct rpc_call *c);
void api_receipt_update(struct rpc_call *c);
void api_receipt_retrieve(struct rpc_call *c);
void api_receipt_update_retrieve(struct rpc_call *c);
void api_receipt_lookup(struct rpc_call *c);
void api_receipt_lookup_next(struct rpc_call *c);

/* {"totalCount","lookupTag","ids"} of a lookup answer (lookupTag: the last
 * id when more remain, else ""). */
void rpc_lookup_result(struct rpc_call *c, const struct store_ids *ids);

#endif /* TCW_GATEWAY_RPC_H */
