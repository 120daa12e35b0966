/* SPDX-License-Identifier: Apache-2.0 */
/* rpc.c - the JSON-RPC 2.0 front: parsing, method table, reply building, error counting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc.h"
#include "tcw/utf8.h"

#define MAX_DEPTH 64

/* Methods: the admin ones answer only on the admin socket. */
static const struct {
	const char *name;
	void (*fn)(struct rpc_call *c);
	int admin;
} g_methods[] = {
    {"WorkerRetrieve", api_worker_retrieve, 0},
    {"WorkerLookUp", api_worker_lookup, 0},
    {"WorkerLookUpNext", api_worker_lookup_next, 0},
    {"EncryptionKeyGet", api_encryption_key_get, 0},
    {"EncryptionKeySet", api_encryption_key_set, 0},
    {"WorkOrderSubmit", api_order_submit, 0},
    {"WorkOrderGetResult", api_order_result, 0},
    {"WorkOrderReceiptCreate", api_receipt_create, 0},
    {"WorkOrderReceiptUpdate", api_receipt_update, 0},
    {"WorkOrderReceiptRetrieve", api_receipt_retrieve, 0},
    {"WorkOrderReceiptUpdateRetrieve", api_receipt_update_retrieve, 0},
    {"WorkOrderReceiptLookUp", api_receipt_lookup, 0},
    {"WorkOrderReceiptLookUpNext", api_receipt_lookup_next, 0},
    {"WorkerRegister", api_worker_register, 1},
    {"WorkerUpdate", api_worker_update, 1},
    {"WorkerSetStatus", api_worker_set_status, 1},
};

/* Slot of a JSON-RPC error code in gw_metrics.rpc_errors. */
int gw_error_slot(int code)
{
	switch (code) {
	case RPC_PARSE_ERROR:
		return 9;
	case RPC_INVALID_REQUEST:
		return 10;
	case RPC_METHOD_NOT_FOUND:
		return 11;
	case RPC_INVALID_PARAMS:
		return 13;
	default:
		return code >= 0 && code <= 8 ? code : 12;
	}
}

/* Serialises o compactly, releases it and returns the text (caller frees;
 * *len its length) or NULL (see gateway.h). */
char *gw_json_take(json_object *o, size_t *len)
{
	const char *t = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                          JSON_C_TO_STRING_NOSLASHESCAPE)
	                  : NULL;
	char *out = NULL;

	if (t) {
		*len = strlen(t);
		out = malloc(*len + 1);
		if (out)
			memcpy(out, t, *len + 1);
	}
	json_object_put(o);
	return out;
}

/* Joins "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"" kind "\":" body "}". */
static void set_reply(struct rpc_call *c, const char *kind, const char *body)
{
	size_t a = strlen(c->id_json), b = strlen(body), n;
	char *r;

	free(c->reply);
	c->reply = NULL;
	n = 32 + a + strlen(kind) + b;
	r = malloc(n + 1);
	if (!r)
		return;
	c->reply_len = (size_t)snprintf(r, n + 1, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"%s\":%s}",
	                                c->id_json, kind, body);
	c->reply = r;
}

void rpc_result(struct rpc_call *c, const char *result_json)
{
	set_reply(c, "result", result_json);
}

void rpc_result_obj(struct rpc_call *c, json_object *result)
{
	rpc_result(c, result ? json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN |
	                                                                  JSON_C_TO_STRING_NOSLASHESCAPE)
	                     : "null");
	json_object_put(result);
}

void rpc_error_raw(struct rpc_call *c, const char *error_json)
{
	json_object *e = json_tokener_parse(error_json), *code = NULL;

	if (e && json_object_object_get_ex(e, "code", &code))
		atomic_fetch_add(&c->g->m.rpc_errors[gw_error_slot(json_object_get_int(code))], 1);
	json_object_put(e);
	set_reply(c, "error", error_json);
}

void rpc_error(struct rpc_call *c, int code, const char *message, const char *work_order_id)
{
	json_object *e = json_object_new_object(), *d;

	atomic_fetch_add(&c->g->m.rpc_errors[gw_error_slot(code)], 1);
	if (!e)
		return;
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	if (work_order_id && (d = json_object_new_object()) != NULL) {
		json_object_object_add(d, "workOrderId", json_object_new_string(work_order_id));
		json_object_object_add(e, "data", d);
	}
	set_reply(c, "error", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN |
	                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(e);
}

void rpc_bad_param(struct rpc_call *c, const char *field)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "Invalid parameter: %.128s", field);
	rpc_error(c, RPC_INVALID_PARAMETER, msg, NULL);
}

const char *rpc_str(struct rpc_call *c, const char *key, size_t max, int required)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(c->params, key, &v) || !v) {
		if (required)
			rpc_bad_param(c, key);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) > max ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		rpc_bad_param(c, key);
		return NULL;
	}
	return json_object_get_string(v);
}

int rpc_int(struct rpc_call *c, const char *key, int64_t *v, int required)
{
	json_object *o = NULL;

	if (!json_object_object_get_ex(c->params, key, &o) || !o) {
		if (!required)
			return 1;
	} else if (json_object_is_type(o, json_type_int)) {
		*v = json_object_get_int64(o);
		return 0;
	}
	rpc_bad_param(c, key);
	return -1;
}

void rpc_lookup_result(struct rpc_call *c, const struct store_ids *ids)
{
	json_object *r = json_object_new_object(), *a = json_object_new_array();

	if (!r || !a) {
		json_object_put(r);
		json_object_put(a);
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", NULL);
		return;
	}
	for (size_t i = 0; i < ids->count; i++)
		json_object_array_add(a, json_object_new_string(ids->ids[i]));
	json_object_object_add(r, "totalCount", json_object_new_int64((int64_t)ids->total));
	json_object_object_add(r, "lookupTag",
	                       json_object_new_string(ids->total > ids->count && ids->count
	                                                  ? ids->ids[ids->count - 1]
	                                                  : ""));
	json_object_object_add(r, "ids", a);
	rpc_result_obj(c, r);
}

/* 1 when s[0..len) is well-formed UTF-8. */
static int utf8_ok(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	uint32_t cp;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = tcw_utf8_char(p + i, len - i, &cp);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* Parses body strictly: one JSON text of valid UTF-8, bounded depth. */
static json_object *parse(const char *body, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
	json_object *o = NULL;

	if (!tok || len > 0x7fffffff || memchr(body, '\0', len) || !utf8_ok(body, len))
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		size_t end = json_tokener_get_parse_end(tok);

		if (!o || strspn(body + end, " \t\r\n") != len - end) {
			json_object_put(o);
			o = NULL;
		}
	}
out:
	json_tokener_free(tok);
	return o;
}

/* 1 when id may be echoed: a string, a number or null (JSON-RPC 2.0). */
static int id_ok(json_object *id)
{
	return !id || json_object_is_type(id, json_type_string) ||
	       json_object_is_type(id, json_type_int) || json_object_is_type(id, json_type_double);
}

/* Answers one request object into c; c->reply stays NULL for a valid
 * notification (a request without "id"), whose errors are not answered
 * either (JSON-RPC 2.0, 4.1). */
static void call_one(struct rpc_call *c, json_object *req)
{
	json_object *m = NULL, *id = NULL, *params = NULL, *v = NULL, *empty = NULL;
	const char *method;
	int has_id;
	size_t i;

	if (!json_object_is_type(req, json_type_object)) {
		rpc_error(c, RPC_INVALID_REQUEST, "Invalid Request: not a JSON-RPC object", NULL);
		return;
	}
	has_id = json_object_object_get_ex(req, "id", &id);
	if (!id_ok(id)) {
		rpc_error(c, RPC_INVALID_REQUEST,
		          "Invalid Request: id must be a string, a number or null", NULL);
		return;
	}
	if (id)
		c->id_json = json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN);
	if (!json_object_object_get_ex(req, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "2.0")) {
		rpc_error(c, RPC_INVALID_REQUEST, "Invalid Request: jsonrpc must be \"2.0\"", NULL);
		return;
	}
	if (!json_object_object_get_ex(req, "method", &m) ||
	    !json_object_is_type(m, json_type_string)) {
		rpc_error(c, RPC_INVALID_REQUEST, "Invalid Request: method", NULL);
		return;
	}
	if (!json_object_object_get_ex(req, "params", &params) || !params) {
		params = empty = json_object_new_object();
		if (!params)
			return;
	} else if (json_object_is_type(params, json_type_array)) {
		rpc_error(c, RPC_INVALID_PARAMS, "Invalid params: params must be an object (by name)",
		          NULL);
		return;
	} else if (!json_object_is_type(params, json_type_object)) {
		rpc_error(c, RPC_INVALID_REQUEST, "Invalid Request: params must be an object", NULL);
		return;
	}
	c->params = params;
	c->notify = !has_id;
	method = json_object_get_string(m);
	for (i = 0; i < sizeof(g_methods) / sizeof(g_methods[0]); i++)
		if (strcmp(method, g_methods[i].name) == 0)
			break;
	if (i == sizeof(g_methods) / sizeof(g_methods[0])) {
		rpc_error(c, RPC_METHOD_NOT_FOUND, "Method not found", NULL);
	} else if (g_methods[i].admin && !c->admin) {
		rpc_error(c, RPC_ACCESS_DENIED,
		          "Access denied: administrative methods are served only on the admin socket",
		          NULL);
	} else {
		g_methods[i].fn(c);
		if (!c->reply)
			rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", NULL);
	}
	json_object_put(empty);
	if (c->notify) {
		free(c->reply);
		c->reply = NULL;
		c->reply_len = 0;
	}
}

/* The reply to a request that could not be answered otherwise. */
static char *oom_reply(size_t *len_out)
{
	static const char oom[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":1,"
	                          "\"message\":\"Internal error\"}}";
	char *r = strdup(oom);

	*len_out = r ? sizeof(oom) - 1 : 0;
	return r;
}

/* Answers a batch (a JSON array of requests): the array of the replies of
 * its members that are not notifications, "" when there are none. */
static char *batch(struct gw *g, json_object *arr, int admin, size_t *len_out)
{
	size_t n = json_object_array_length(arr), len = 1, cap = 4096, i;
	char *out, *grown;

	if (n == 0 || n > RPC_MAX_BATCH) {
		struct rpc_call c = {.g = g, .admin = admin, .id_json = "null"};

		rpc_error(&c, RPC_INVALID_REQUEST,
		          n ? "Invalid Request: a batch holds at most " RPC_MAX_BATCH_TEXT " requests"
		            : "Invalid Request: empty batch",
		          NULL);
		*len_out = c.reply_len;
		return c.reply;
	}
	out = malloc(cap);
	if (!out)
		return NULL;
	out[0] = '[';
	for (i = 0; i < n; i++) {
		struct rpc_call c = {.g = g, .admin = admin, .id_json = "null", .batched = 1};

		call_one(&c, json_object_array_get_idx(arr, i));
		if (!c.reply)
			continue;
		if (len + c.reply_len + 2 > cap) {
			cap = (len + c.reply_len + 2) * 2;
			grown = realloc(out, cap);
			if (!grown) {
				free(c.reply);
				free(out);
				return NULL;
			}
			out = grown;
		}
		if (len > 1)
			out[len++] = ',';
		memcpy(out + len, c.reply, c.reply_len);
		len += c.reply_len;
		free(c.reply);
	}
	if (len == 1) {
		out[0] = '\0';
		*len_out = 0;
		return out;
	}
	out[len++] = ']';
	out[len] = '\0';
	*len_out = len;
	return out;
}

/* Answers one JSON-RPC request body (see gateway.h). */
char *gw_rpc(struct gw *g, const char *body, size_t len, int admin, size_t *len_out)
{
	struct rpc_call c = {.g = g, .admin = admin, .id_json = "null"};
	json_object *req = parse(body, len);
	char *out;

	*len_out = 0;
	if (!req) {
		rpc_error(&c, RPC_PARSE_ERROR, "Parse error", NULL);
	} else if (json_object_is_type(req, json_type_array)) {
		out = batch(g, req, admin, len_out);
		json_object_put(req);
		return out ? out : oom_reply(len_out);
	} else {
		call_one(&c, req);
		if (!c.reply && c.notify) {
			json_object_put(req);
			out = strdup("");
			return out ? out : oom_reply(len_out);
		}
	}
	json_object_put(req);
	if (!c.reply)
		return oom_reply(len_out);
	*len_out = c.reply_len;
	return c.reply;
}
