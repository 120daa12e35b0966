/* SPDX-License-Identifier: Apache-2.0 */
/* wotest.c - the harness shared by the test_workorder_*.c programs (see wotest.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wotest.h"

struct recorder g_rec;
struct tcw_keys *g_k2048, *g_k3072;
json_object *g_vectors, *g_keyfile;
char g_logs[WO_LOG_SIZE];
const uint8_t zero_iv[TCW_GCM_IV_SIZE];
struct tcw_key_cache *g_key_cache;
int (*g_seen)(void *ctx, const char *work_order_id, size_t len);
int (*g_seen_request)(void *ctx, const char *work_order_id, size_t len,
                      const uint8_t request_sha256[TCW_SHA256_SIZE]);
int (*g_stored_reply)(void *ctx, const char *work_order_id, size_t len,
                      const uint8_t request_sha256[TCW_SHA256_SIZE], char **reply, size_t *size);
void (*g_store_reply)(void *ctx, const char *work_order_id, size_t len,
                      const uint8_t request_sha256[TCW_SHA256_SIZE], const char *reply,
                      size_t size);

static void log_sink(int level, const char *message)
{
	size_t len = strlen(g_logs);

	snprintf(g_logs + len, sizeof(g_logs) - len, "%d:%s\n", level, message);
}

/* Forgets what the runner recorded (the logs stay). */
void rec_clear(enum run_mode mode)
{
	for (size_t i = 0; i < g_rec.count; i++)
		free(g_rec.data[i]);
	memset(&g_rec, 0, sizeof(g_rec));
	g_rec.mode = mode;
}

void rec_reset(enum run_mode mode)
{
	/* a new spell of the rate-limited warnings: each test sees its first */
	tcw_log_flush();
	rec_clear(mode);
	g_logs[0] = '\0';
}

static int test_run(void *ctx, const char *name, const struct tcw_host *host,
                    struct tcw_wl_call *call)
{
	struct recorder *r = ctx;
	char out[512];

	r->calls++;
	snprintf(r->name, sizeof(r->name), "%s", name);
	assert_int_equal(host->size, sizeof(struct tcw_host));
	assert_int_equal(host->version, TCW_WORKLOAD_ABI_VERSION);
	assert_true(TCW_HOST_HAS(host, log));
	r->deadline = host->deadline_passed(call);
	r->count = call->input_count;
	for (size_t i = 0; i < call->input_count; i++) {
		r->index[i] = call->inputs[i].index;
		r->data[i] = calloc(1, call->inputs[i].size + 1);
		assert_non_null(r->data[i]);
		memcpy(r->data[i], call->inputs[i].data, call->inputs[i].size);
	}
	host->log(TCW_WL_LOG_INFO, "ran %zu inputs", call->input_count);
	switch (r->mode) {
	case RUN_HELLO:
		snprintf(out, sizeof(out), "Hello %s", r->data[0]);
		return host->output_add(call, out, strlen(out)) == 0 ? TCW_OK : TCW_ERR_WORKLOAD;
	case RUN_FAIL:
		snprintf(call->error, sizeof(call->error), "refused");
		return TCW_ERR_WORKLOAD;
	case RUN_NONE:
		return TCW_OK;
	case RUN_MULTI:
		for (int i = 0; i < 4; i++) {
			uint8_t *p = host->output_alloc(call, 5);

			assert_non_null(p);
			memcpy(p, "out-", 4);
			p[4] = (uint8_t)('0' + i);
		}
		return TCW_OK;
	case RUN_FLOOD:
		for (unsigned i = 0; i < TCW_WL_MAX_OUTPUTS; i++)
			assert_int_equal(host->output_add(call, "x", 1), 0);
		r->extra_add = host->output_add(call, "x", 1);
		assert_null(host->output_alloc(call, 1));
		return TCW_OK;
	}
	return TCW_ERR_WORKLOAD;
}

int wo_setup(void **state)
{
	(void)state;
	g_vectors = tu_load_json("workorders.json");
	g_keyfile = tu_load_json("keys.json");
	g_k2048 = tu_worker_keys("worker_rsa_private_pem");
	g_k3072 = tu_worker_keys("worker_rsa3072_private_pem");
	tcw_set_log_handler(log_sink);
	return 0;
}

int wo_teardown(void **state)
{
	(void)state;
	rec_reset(RUN_HELLO);
	tcw_set_log_handler(NULL);
	tcw_keys_free(&g_k2048);
	tcw_keys_free(&g_k3072);
	json_object_put(g_vectors);
	json_object_put(g_keyfile);
	return 0;
}

/* ---- building and running requests -------------------------------------- */

json_object *vec(const char *name)
{
	return tu_request_vector(g_vectors, name);
}

struct tcw_keys *vec_keys(json_object *v)
{
	return strcmp(tu_str(v, "worker_key"), "worker_rsa_private_pem") == 0 ? g_k2048 : g_k3072;
}

/* A deep copy of the vector's request_params (caller puts). */
json_object *params_of(const char *name)
{
	json_object *copy = NULL;

	assert_int_equal(json_object_deep_copy(tu_member(vec(name), "request_params"), &copy, NULL),
	                 0);
	return copy;
}

void session_of(const char *name, uint8_t key[32], uint8_t iv[12])
{
	tu_unhex_exact(tu_str(vec(name), "session_key_hex"), key, 32);
	/* "" for the vector without sessionKeyIv */
	if (*tu_str(vec(name), "session_key_iv_hex"))
		tu_unhex_exact(tu_str(vec(name), "session_key_iv_hex"), iv, 12);
	else
		memset(iv, 0, 12);
}

void set_json(json_object *obj, const char *key, const char *value_json)
{
	json_object *v = value_json ? json_tokener_parse(value_json) : NULL;

	assert_true(!value_json || v || strcmp(value_json, "null") == 0);
	json_object_object_add(obj, key, v);
}

void set_str(json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, json_object_new_string(value));
}

json_object *item_at(json_object *params, const char *array, size_t i)
{
	return json_object_array_get_idx(tu_member(params, array), i);
}

/* The ProcessWorkOrder frame around params with inner id id_json (NULL = none). */
char *wrap(json_object *params, const char *id_json, int as_string)
{
	json_object *inner = json_object_new_object(), *outer = json_object_new_object();
	char *out;

	set_str(inner, "jsonrpc", "2.0");
	set_str(inner, "method", "WorkOrderSubmit");
	if (id_json)
		set_json(inner, "id", id_json);
	json_object_object_add(inner, "params", json_object_get(params));
	set_str(outer, "jsonrpc", "2.0");
	json_object_object_add(outer, "id", json_object_new_int(4242));
	set_str(outer, "method", "ProcessWorkOrder");
	if (as_string)
		set_str(outer, "params", json_object_to_json_string_ext(inner, 0));
	else
		json_object_object_add(outer, "params", json_object_get(inner));
	out = strdup(json_object_to_json_string_ext(outer, JSON_C_TO_STRING_PLAIN));
	assert_non_null(out);
	json_object_put(inner);
	json_object_put(outer);
	return out;
}

char *run_frame(const struct tcw_keys *k, const char *frame, int with_runner)
{
	struct tcw_processor p = {.keys = k,
	                          .runner = {.run = with_runner ? test_run : NULL, .ctx = &g_rec},
	                          .signup_json = SIGNUP_JSON,
	                          .key_cache = g_key_cache,
	                          .seen = g_seen,
	                          .seen_request = g_seen_request,
	                          .stored_reply = g_stored_reply,
	                          .store_reply = g_store_reply};
	char *reply = NULL;
	size_t size = 0;

	assert_int_equal(tcw_process_frame(&p, frame, strlen(frame), &reply, &size), TCW_OK);
	assert_non_null(reply);
	assert_int_equal(size, strlen(reply));
	return reply;
}

char *run_params(const struct tcw_keys *k, json_object *params, const char *id_json)
{
	char *frame = wrap(params, id_json, 1), *reply = run_frame(k, frame, 1);

	free(frame);
	return reply;
}

void expect_error(const char *reply, const char *id, int code, const char *message,
                  const char *wo_id)
{
	char want[1024];

	if (wo_id)
		snprintf(want, sizeof(want),
		         "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":%d,\"message\":\"%s\","
		         "\"data\":{\"workOrderId\":\"%s\"}}}",
		         id, code, message, wo_id);
	else
		snprintf(
		    want, sizeof(want),
		    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":%d,\"message\":\"%s\"}}",
		    id, code, message);
	assert_string_equal(reply, want);
}

/* Runs params and expects an error (with data.workOrderId when with_wo). */
void params_error(const struct tcw_keys *k, json_object *params, int code, const char *message,
                  int with_wo)
{
	char *reply;

	rec_reset(RUN_HELLO);
	reply = run_params(k, params, ID1);
	expect_error(reply, ID1, code, message, with_wo ? tu_str(params, "workOrderId") : NULL);
	assert_int_equal(g_rec.calls, 0);
	free(reply);
}

/* ---- crypto helpers for crafting requests ----------------------------------- */

const char *opt_str(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
	           ? json_object_get_string(v)
	           : NULL;
}

size_t texts_of(json_object *params, const char *array, struct tcw_item_text *t)
{
	json_object *arr = NULL;
	size_t n;

	if (!json_object_object_get_ex(params, array, &arr))
		return 0;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(arr, i);

		t[i] = (struct tcw_item_text){
		    .index = json_object_get_int64(tu_member(it, "index")),
		    .data_hash = opt_str(it, "dataHash"),
		    .data = opt_str(it, "data"),
		    .dek = opt_str(it, "encryptedDataEncryptionKey"),
		    .iv = opt_str(it, "iv"),
		};
	}
	return n;
}

void request_hash(json_object *params, uint8_t rh[32])
{
	/* room for over-limit requests too */
	struct tcw_item_text in[2 * TCWI_MAX_ITEMS], out[2 * TCWI_MAX_ITEMS];
	size_t nin = texts_of(params, "inData", in), nout = texts_of(params, "outData", out);

	assert_int_equal(tcw_request_hash(tu_str(params, "requesterNonce"),
	                                  tu_str(params, "workOrderId"), tu_str(params, "workerId"),
	                                  tu_str(params, "workloadId"),
	                                  tu_str(params, "requesterId"), in, nin, out, nout, rh),
	                 TCW_OK);
}

/* [iv ||] AES-GCM(key, iv, plain) in a new buffer; *size set. */
uint8_t *gcm(const uint8_t key[32], const uint8_t iv[12], const uint8_t *plain, size_t len,
             int prefix, size_t *size)
{
	size_t off = prefix ? 12 : 0;
	uint8_t *out = malloc(off + len + 16);

	assert_non_null(out);
	memcpy(out, iv, off);
	assert_int_equal(tcw_aes_gcm_encrypt(key, iv, plain, len, out + off), TCW_OK);
	*size = off + len + 16;
	return out;
}

char *gcm_b64(const uint8_t key[32], const uint8_t iv[12], const char *plain, int prefix)
{
	size_t size = 0;
	uint8_t *ct = gcm(key, iv, (const uint8_t *)plain, strlen(plain), prefix, &size);
	char *b64 = tcw_b64_encode(ct, size, NULL);

	free(ct);
	return b64;
}

/* Recomputes RH over params and stores encryptedRequestHash for key/iv. */
void reseal(json_object *params, const uint8_t key[32], const uint8_t iv[12], int prefix)
{
	uint8_t rh[32], *ct;
	size_t size = 0;
	char *hex;

	request_hash(params, rh);
	ct = gcm(key, iv, rh, sizeof(rh), prefix, &size);
	hex = tcw_hex_encode(ct, size);
	set_str(params, "encryptedRequestHash", hex);
	free(hex);
	free(ct);
}

/* hex([wrap_iv ||] AES-GCM(session, wrap_iv, RSA-OAEP(worker, dek))). */
char *wrap_dek(const uint8_t session[32], const uint8_t *dek, size_t dek_size,
               const uint8_t wrap_iv[12], int prefix)
{
	uint8_t *rsa = NULL, *w;
	size_t rsa_size = 0, size = 0;
	char *hex;

	assert_int_equal(tcw_rsa_encrypt_pem(tu_str(g_keyfile, "worker_rsa_public_pem"), dek,
	                                     dek_size, &rsa, &rsa_size),
	                 TCW_OK);
	w = gcm(session, wrap_iv, rsa, rsa_size, prefix, &size);
	hex = tcw_hex_encode(w, size);
	free(w);
	free(rsa);
	return hex;
}

json_object *new_item(int64_t index, const char *data, const char *dek, const char *iv)
{
	json_object *it = json_object_new_object();

	json_object_object_add(it, "index", json_object_new_int64(index));
	set_str(it, "dataHash", "");
	set_str(it, "data", data);
	set_str(it, "encryptedDataEncryptionKey", dek);
	set_str(it, "iv", iv);
	return it;
}

/* ---- checking results ------------------------------------------------------------ */

void expect_keys(json_object *obj, const char *const *keys, size_t n)
{
	size_t i = 0;

	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		assert_true(i < n);
		assert_string_equal(key, keys[i]);
		i++;
	}
	assert_int_equal(i, n);
}

/* Checks shape, echoes and workerSignature of a result reply; returns its
 * outData (borrowed from *root, which the caller puts). */
json_object *check_result(const char *reply, json_object *params, const char *id_text, size_t nout,
                          json_object **root)
{
	static const char *const top[] = {"jsonrpc", "id", "result"};
	static const char *const res_keys[] = {"workloadId",     "workOrderId", "workerId",
	                                       "requesterId",    "workerNonce", "outData",
	                                       "workerSignature"};
	static const char *const item_keys[] = {"index", "data", "encryptedDataEncryptionKey",
	                                        "iv"};
	struct tcw_item_text texts[TCW_WL_MAX_OUTPUTS];
	uint8_t wh[32], *der, *nonce;
	json_object *res, *out;
	size_t der_size = 0, nonce_size = 0;

	*root = json_tokener_parse(reply);
	assert_non_null(*root);
	expect_keys(*root, top, 3);
	assert_string_equal(tu_str(*root, "jsonrpc"), "2.0");
	assert_string_equal(json_object_to_json_string_ext(tu_member(*root, "id"), 0), id_text);
	res = tu_member(*root, "result");
	expect_keys(res, res_keys, 7);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(tu_str(res, res_keys[i]), tu_str(params, res_keys[i]));
	assert_int_equal(strlen(tu_str(res, "workerNonce")), 44);
	nonce = tu_unb64(tu_str(res, "workerNonce"), &nonce_size);
	assert_int_equal(nonce_size, 32);
	free(nonce);
	out = tu_member(res, "outData");
	assert_int_equal(json_object_array_length(out), nout);
	for (size_t i = 0; i < nout; i++)
		expect_keys(json_object_array_get_idx(out, i), item_keys, 4);
	assert_int_equal(texts_of(res, "outData", texts), nout);
	assert_int_equal(tcw_response_hash(tu_str(res, "workerNonce"), tu_str(res, "workOrderId"),
	                                   tu_str(res, "workerId"), tu_str(res, "workloadId"),
	                                   tu_str(res, "requesterId"), texts, nout, wh),
	                 TCW_OK);
	der = tu_unb64(tu_str(res, "workerSignature"), &der_size);
	assert_int_equal(
	    tcw_ecdsa_verify_pem(tu_str(g_keyfile, "worker_verifying_key_pem"), wh, der, der_size),
	    TCW_OK);
	assert_int_equal(tcw_ecdsa_verify_pem(tu_str(g_keyfile, "requester_verifying_key_pem"), wh,
	                                      der, der_size),
	                 TCW_ERR_VERIFY);
	free(der);
	return out;
}

/* Decrypts outData item data with key and iv (NULL: IV-prefixed); caller frees. */
char *open_out(json_object *item, const uint8_t key[32], const uint8_t *iv)
{
	size_t size = 0;
	uint8_t *ct = tu_unb64(tu_str(item, "data"), &size);
	size_t off = iv ? 0 : 12;
	char *plain;

	assert_true(size >= off + 16);
	plain = calloc(1, size - off - 16 + 1);
	assert_non_null(plain);
	assert_int_equal(
	    tcw_aes_gcm_decrypt(key, iv ? iv : ct, ct + off, size - off, (uint8_t *)plain), TCW_OK);
	free(ct);
	return plain;
}

void expect_item(json_object *item, int64_t index, const char *dek, const char *iv)
{
	assert_int_equal(json_object_get_int64(tu_member(item, "index")), index);
	assert_string_equal(tu_str(item, "encryptedDataEncryptionKey"), dek);
	assert_string_equal(tu_str(item, "iv"), iv);
}

/* Runs params with RUN_HELLO and checks one default output "Hello <first>". */
void expect_hello(const struct tcw_keys *k, json_object *params, const uint8_t key[32],
                  const char *first)
{
	uint8_t iv[12];
	const char *iv_hex = opt_str(params, "sessionKeyIv");
	json_object *root = NULL, *out;
	char *reply, *plain, want[256];

	rec_reset(RUN_HELLO);
	reply = run_params(k, params, ID1);
	out = check_result(reply, params, ID1, 1, &root);
	expect_item(json_object_array_get_idx(out, 0), 0, "null", "");
	if (iv_hex)
		tu_unhex_exact(iv_hex, iv, sizeof(iv));
	plain = open_out(json_object_array_get_idx(out, 0), key, iv_hex ? iv : NULL);
	snprintf(want, sizeof(want), "Hello %s", first);
	assert_string_equal(plain, want);
	assert_int_equal(g_rec.calls, 1);
	assert_string_equal(g_rec.data[0], first);
	free(plain);
	free(reply);
	json_object_put(root);
}
