/* SPDX-License-Identifier: Apache-2.0 */
/* test_workorder.c - WorkOrderSubmit: vectors, validation, integrity, key paths, host. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SIGNUP_JSON "{\"sealed_data\":\"\",\"verifying_key\":\"V\",\"encryption_key\":\"E\"}"
#define INTEGRITY "Work order integrity check failed"
#define ID1 "\"1\""

enum run_mode { RUN_HELLO, RUN_FAIL, RUN_NONE, RUN_MULTI, RUN_FLOOD };

/* What the test runner saw and how it answers. */
struct recorder {
	enum run_mode mode;
	int calls;
	char name[256];
	size_t count;
	int64_t index[TCWI_MAX_ITEMS];
	char *data[TCWI_MAX_ITEMS];
	int extra_add;
	int deadline;
};

static struct recorder g_rec;
static struct tcw_keys *g_k2048, *g_k3072;
static json_object *g_vectors, *g_keyfile;
static char g_logs[16384];
static const uint8_t zero_iv[TCW_GCM_IV_SIZE];

static void log_sink(int level, const char *message)
{
	size_t len = strlen(g_logs);

	snprintf(g_logs + len, sizeof(g_logs) - len, "%d:%s\n", level, message);
}

/* Forgets what the runner recorded (the logs stay). */
static void rec_clear(enum run_mode mode)
{
	for (size_t i = 0; i < g_rec.count; i++)
		free(g_rec.data[i]);
	memset(&g_rec, 0, sizeof(g_rec));
	g_rec.mode = mode;
}

static void rec_reset(enum run_mode mode)
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

static int setup(void **state)
{
	(void)state;
	g_vectors = tu_load_json("workorders.json");
	g_keyfile = tu_load_json("keys.json");
	g_k2048 = tu_worker_keys("worker_rsa_private_pem");
	g_k3072 = tu_worker_keys("worker_rsa3072_private_pem");
	tcw_set_log_handler(log_sink);
	return 0;
}

static int teardown(void **state)
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

static json_object *vec(const char *name)
{
	return tu_request_vector(g_vectors, name);
}

static struct tcw_keys *vec_keys(json_object *v)
{
	return strcmp(tu_str(v, "worker_key"), "worker_rsa_private_pem") == 0 ? g_k2048 : g_k3072;
}

/* A deep copy of the vector's request_params (caller puts). */
static json_object *params_of(const char *name)
{
	json_object *copy = NULL;

	assert_int_equal(json_object_deep_copy(tu_member(vec(name), "request_params"), &copy, NULL),
	                 0);
	return copy;
}

static void session_of(const char *name, uint8_t key[32], uint8_t iv[12])
{
	tu_unhex_exact(tu_str(vec(name), "session_key_hex"), key, 32);
	/* "" for the vector without sessionKeyIv */
	if (*tu_str(vec(name), "session_key_iv_hex"))
		tu_unhex_exact(tu_str(vec(name), "session_key_iv_hex"), iv, 12);
	else
		memset(iv, 0, 12);
}

static void set_json(json_object *obj, const char *key, const char *value_json)
{
	json_object *v = value_json ? json_tokener_parse(value_json) : NULL;

	assert_true(!value_json || v || strcmp(value_json, "null") == 0);
	json_object_object_add(obj, key, v);
}

static void set_str(json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, json_object_new_string(value));
}

static json_object *item_at(json_object *params, const char *array, size_t i)
{
	return json_object_array_get_idx(tu_member(params, array), i);
}

/* The ProcessWorkOrder frame around params with inner id id_json (NULL = none). */
static char *wrap(json_object *params, const char *id_json, int as_string)
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

static char *run_frame(const struct tcw_keys *k, const char *frame, int with_runner)
{
	struct tcw_processor p = {.keys = k,
	                          .runner = {.run = with_runner ? test_run : NULL, .ctx = &g_rec},
	                          .signup_json = SIGNUP_JSON};
	char *reply = NULL;
	size_t size = 0;

	assert_int_equal(tcw_process_frame(&p, frame, strlen(frame), &reply, &size), TCW_OK);
	assert_non_null(reply);
	assert_int_equal(size, strlen(reply));
	return reply;
}

static char *run_params(const struct tcw_keys *k, json_object *params, const char *id_json)
{
	char *frame = wrap(params, id_json, 1), *reply = run_frame(k, frame, 1);

	free(frame);
	return reply;
}

static void expect_error(const char *reply, const char *id, int code, const char *message,
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
static void params_error(const struct tcw_keys *k, json_object *params, int code,
                         const char *message, int with_wo)
{
	char *reply;

	rec_reset(RUN_HELLO);
	reply = run_params(k, params, ID1);
	expect_error(reply, ID1, code, message, with_wo ? tu_str(params, "workOrderId") : NULL);
	assert_int_equal(g_rec.calls, 0);
	free(reply);
}

/* ---- crypto helpers for crafting requests ----------------------------------- */

static const char *opt_str(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
	           ? json_object_get_string(v)
	           : NULL;
}

static size_t texts_of(json_object *params, const char *array, struct tcw_item_text *t)
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

static void request_hash(json_object *params, uint8_t rh[32])
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
static uint8_t *gcm(const uint8_t key[32], const uint8_t iv[12], const uint8_t *plain, size_t len,
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

static char *gcm_b64(const uint8_t key[32], const uint8_t iv[12], const char *plain, int prefix)
{
	size_t size = 0;
	uint8_t *ct = gcm(key, iv, (const uint8_t *)plain, strlen(plain), prefix, &size);
	char *b64 = tcw_b64_encode(ct, size, NULL);

	free(ct);
	return b64;
}

/* Recomputes RH over params and stores encryptedRequestHash for key/iv. */
static void reseal(json_object *params, const uint8_t key[32], const uint8_t iv[12], int prefix)
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
static char *wrap_dek(const uint8_t session[32], const uint8_t *dek, size_t dek_size,
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

static json_object *new_item(int64_t index, const char *data, const char *dek, const char *iv)
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

static void expect_keys(json_object *obj, const char *const *keys, size_t n)
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
static json_object *check_result(const char *reply, json_object *params, const char *id_text,
                                 size_t nout, json_object **root)
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
static char *open_out(json_object *item, const uint8_t key[32], const uint8_t *iv)
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

static void expect_item(json_object *item, int64_t index, const char *dek, const char *iv)
{
	assert_int_equal(json_object_get_int64(tu_member(item, "index")), index);
	assert_string_equal(tu_str(item, "encryptedDataEncryptionKey"), dek);
	assert_string_equal(tu_str(item, "iv"), iv);
}

/* Runs params with RUN_HELLO and checks one default output "Hello <first>". */
static void expect_hello(const struct tcw_keys *k, json_object *params, const uint8_t key[32],
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

/* ---- tests ------------------------------------------------------------------ */

/* Every request vector, end to end. */
static void test_vectors(void **state)
{
	json_object *reqs = tu_member(g_vectors, "requests");
	(void)state;
	for (size_t v = 0; v < json_object_array_length(reqs); v++) {
		json_object *vector = json_object_array_get_idx(reqs, v);
		const char *name = tu_str(vector, "name");
		json_object *params = params_of(name), *plains;
		uint8_t key[32], iv[12], rh[32], want_rh[32];
		uint8_t *workload;
		size_t wl_size = 0;

		session_of(name, key, iv);
		request_hash(params, rh);
		tu_unhex_exact(tu_str(vector, "expected_request_hash_hex"), want_rh, 32);
		assert_memory_equal(rh, want_rh, 32);
		plains = tu_member(vector, "expected_plaintexts_by_index");
		expect_hello(vec_keys(vector), params, key,
		             json_object_get_string(json_object_array_get_idx(plains, 0)));
		/* the runner saw every plaintext, sorted by index */
		assert_int_equal(g_rec.count, json_object_array_length(plains));
		for (size_t i = 0; i < g_rec.count; i++) {
			assert_string_equal(
			    g_rec.data[i],
			    json_object_get_string(json_object_array_get_idx(plains, i)));
			assert_true(i == 0 || g_rec.index[i - 1] <= g_rec.index[i]);
		}
		workload = tu_unhex(tu_str(params, "workloadId"), &wl_size);
		assert_memory_equal(g_rec.name, workload, wl_size);
		assert_int_equal(strlen(g_rec.name), wl_size);
		free(workload);
		/* the nonce-reuse warning appears exactly when sessionKeyIv is used */
		assert_int_equal(strstr(g_logs, "1:work order ") != NULL,
		                 opt_str(params, "sessionKeyIv") != NULL);
		assert_non_null(strstr(g_logs, "2:workload: ran "));
		for (size_t i = 0; i < g_rec.count; i++)
			assert_null(strstr(g_logs, g_rec.data[i]));
		assert_null(strstr(g_logs, tu_str(vector, "session_key_hex")));
		json_object_put(params);
	}
}

static void test_inner_ids(void **state)
{
	static const char *const ids[] = {"17", "\"abc\"", "null", "-3", "1.5"};
	json_object *params = params_of("hello_session_key"), *root = NULL;
	char *frame, *reply;
	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		rec_reset(RUN_HELLO);
		reply = run_params(g_k2048, params, ids[i]);
		check_result(reply, params, ids[i], 1, &root);
		json_object_put(root);
		free(reply);
	}
	/* no inner id: 0; params as an object instead of a string (leniency) */
	frame = wrap(params, NULL, 0);
	rec_reset(RUN_HELLO);
	reply = run_frame(g_k2048, frame, 1);
	check_result(reply, params, "0", 1, &root);
	json_object_put(root);
	free(reply);
	free(frame);
	/* an error reply carries the inner id with its type */
	json_object_object_del(params, "requesterId");
	rec_reset(RUN_HELLO);
	reply = run_params(g_k2048, params, "17");
	expect_error(reply, "17", 2, "Invalid parameter: requesterId",
	             tu_str(params, "workOrderId"));
	free(reply);
	json_object_put(params);
}

static void test_optional_fields(void **state)
{
	json_object *params = params_of("hello_session_key");
	uint8_t key[32], iv[12];
	(void)state;
	session_of("hello_session_key", key, iv);
	set_str(params, "payloadFormat", "json-rpc");
	set_str(params, "dataEncryptionAlgorithm", "aes-gcm-256");
	set_str(params, "requesterSignature", "");
	set_json(params, "responseTimeoutMSecs", "6000");
	set_json(params, "outData", "null");
	set_str(params, "workerEncryptionKey", "ignored");
	expect_hello(g_k2048, params, key, "Krsna");
	json_object_put(params);
}

static void test_missing_fields(void **state)
{
	static const char *const required[] = {"workOrderId",          "workerId",
	                                       "workloadId",           "requesterId",
	                                       "requesterNonce",       "encryptedSessionKey",
	                                       "encryptedRequestHash", "inData"};
	char message[128];
	(void)state;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		json_object *params = params_of("three_items_unsorted_mixed");

		json_object_object_del(params, required[i]);
		snprintf(message, sizeof(message), "Invalid parameter: %s", required[i]);
		params_error(g_k2048, params, 2, message, i > 0);
		json_object_put(params);
	}
}

/* A field set to bad JSON value, and the field the error must name. */
struct bad_field {
	const char *key;
	const char *value_json;
	const char *field;
};

static void test_bad_fields(void **state)
{
	char long_hex[TCWI_MAX_RSA_HEX + 5], long_name[2 * TCWI_MAX_WORKLOAD_NAME + 5];
	char long_id[TCWI_MAX_ID_HEX + 5], message[128];
	const struct bad_field cases[] = {
	    {"workerId", "\"zz\"", "workerId"},
	    {"workerId", "5", "workerId"},
	    {"workloadId", "\"ff\"", "workloadId"},
	    {"workloadId", "\"6100\"", "workloadId"},
	    {"workloadId", "\"\"", "workloadId"},
	    {"workloadId", long_name, "workloadId"},
	    {"requesterId", "\"12345\"", "requesterId"},
	    {"requesterNonce", "\"\"", "requesterNonce"},
	    {"requesterNonce", long_id, "requesterNonce"},
	    {"encryptedSessionKey", "\"0g\"", "encryptedSessionKey"},
	    {"encryptedSessionKey", long_hex, "encryptedSessionKey"},
	    {"encryptedRequestHash", "\"nothex\"", "encryptedRequestHash"},
	    {"sessionKeyIv", "\"00112233\"", "sessionKeyIv"},
	    {"sessionKeyIv", "\"6465666768696a6b6c6d6e6f70\"", "sessionKeyIv"},
	    {"sessionKeyIv", "5", "sessionKeyIv"},
	    {"payloadFormat", "\"XML\"", "payloadFormat"},
	    {"payloadFormat", "1", "payloadFormat"},
	    {"dataEncryptionAlgorithm", "\"AES-CBC-256\"", "dataEncryptionAlgorithm"},
	    {"requesterSignature", "7", "requesterSignature"},
	    {"verifyingKey", "[]", "verifyingKey"},
	    {"inData", "{}", "inData"},
	    {"inData", "[]", "inData"},
	    {"outData", "\"x\"", "outData"},
	    {"outData", "[{\"index\":0,\"iv\":\"00\"}]", "outData[0].iv"},
	    {"outData", "[{\"index\":\"0\"}]", "outData[0].index"},
	};
	(void)state;
	/* one hex byte over each limit, as JSON strings */
	memset(long_hex, 'a', sizeof(long_hex));
	long_hex[0] = '"';
	memcpy(long_hex + TCWI_MAX_RSA_HEX + 3, "\"", 2);
	long_name[0] = '"';
	for (size_t i = 0; i <= TCWI_MAX_WORKLOAD_NAME; i++)
		memcpy(long_name + 1 + 2 * i, "61", 2);
	memcpy(long_name + 2 * TCWI_MAX_WORKLOAD_NAME + 3, "\"", 2);
	memset(long_id, 'b', sizeof(long_id));
	long_id[0] = '"';
	memcpy(long_id + TCWI_MAX_ID_HEX + 3, "\"", 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *params = params_of("three_items_unsorted_mixed");

		set_json(params, cases[i].key, cases[i].value_json);
		snprintf(message, sizeof(message), "Invalid parameter: %s", cases[i].field);
		params_error(g_k2048, params, 2, message, 1);
		json_object_put(params);
	}
}

static void test_bad_work_order_id(void **state)
{
	static const char *const bad[] = {"\"xyz\"", "\"\"", "42", "\"0x\"", NULL};
	char long_id[TCWI_MAX_ID_HEX + 5];
	(void)state;
	memset(long_id, 'c', sizeof(long_id));
	long_id[0] = '"';
	memcpy(long_id + TCWI_MAX_ID_HEX + 3, "\"", 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *params = params_of("hello_session_key");

		set_json(params, "workOrderId", bad[i] ? bad[i] : long_id);
		params_error(g_k2048, params, 2, "Invalid parameter: workOrderId", 0);
		json_object_put(params);
	}
}

static void test_bad_items(void **state)
{
	const struct bad_field cases[] = {
	    {"iv", "\"0011\"", "inData[1].iv"},
	    {"iv", "\"zz5e6f6f6f6f6f6f6f6f6f6f\"", "inData[1].iv"},
	    {"index", "\"0\"", "inData[1].index"},
	    {"index", "1.5", "inData[1].index"},
	    {"index", "18446744073709551615", "inData[1].index"},
	    {"index", NULL, "inData[1].index"},
	    {"data", "5", "inData[1].data"},
	    {"data", "\"a\\u0000b\"", "inData[1].data"},
	    {"encryptedDataEncryptionKey", "\"xyz\"", "inData[1].encryptedDataEncryptionKey"},
	    {"encryptedDataEncryptionKey", "{}", "inData[1].encryptedDataEncryptionKey"},
	    {"dataHash", "\"zz\"", "inData[1].dataHash"},
	};
	char message[128];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *params = params_of("three_items_unsorted_mixed");
		json_object *item = item_at(params, "inData", 1);

		if (cases[i].value_json)
			set_json(item, cases[i].key, cases[i].value_json);
		else
			json_object_object_del(item, cases[i].key);
		snprintf(message, sizeof(message), "Invalid parameter: %s", cases[i].field);
		params_error(g_k2048, params, 2, message, 1);
		json_object_put(params);
	}
}

static void test_item_limits(void **state)
{
	json_object *params = params_of("hello_session_key"), *arr, *item;
	uint8_t key[32], iv[12];
	(void)state;
	session_of("hello_session_key", key, iv);
	/* item not an object */
	arr = tu_member(params, "inData");
	json_object_array_add(arr, json_object_new_int(7));
	params_error(g_k2048, params, 2, "Invalid parameter: inData[1]", 1);
	json_object_array_del_idx(arr, 1, 1);
	/* 64 items are fine, 65 are not */
	item = json_object_array_get_idx(arr, 0);
	for (int i = 1; i < TCWI_MAX_ITEMS; i++) {
		json_object *copy = NULL;

		assert_int_equal(json_object_deep_copy(item, &copy, NULL), 0);
		json_object_object_add(copy, "index", json_object_new_int(i));
		json_object_array_add(arr, copy);
	}
	reseal(params, key, iv, 0);
	expect_hello(g_k2048, params, key, "Krsna");
	assert_int_equal(g_rec.count, TCWI_MAX_ITEMS);
	assert_int_equal(g_rec.index[TCWI_MAX_ITEMS - 1], TCWI_MAX_ITEMS - 1);
	json_object_array_add(arr, json_object_get(item));
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, "Invalid parameter: inData", 1);
	json_object_put(params);
}

static void test_integrity(void **state)
{
	uint8_t key[32], iv[12], rh[32], *ct, short_key[16] = {1};
	json_object *params, *item;
	size_t size = 0;
	char *hex, *b64;
	(void)state;
	session_of("hello_session_key", key, iv);

	/* tampered encryptedRequestHash */
	params = params_of("hello_session_key");
	hex = strdup(tu_str(params, "encryptedRequestHash"));
	hex[0] = hex[0] == '0' ? '1' : '0';
	set_str(params, "encryptedRequestHash", hex);
	free(hex);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	/* encryptedRequestHash authentic but over other content, or short */
	memset(rh, 0x5a, sizeof(rh));
	ct = gcm(key, iv, rh, sizeof(rh), 0, &size);
	hex = tcw_hex_encode(ct, size);
	set_str(params, "encryptedRequestHash", hex);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	/* a short one is a length error, not an integrity failure */
	hex[64] = '\0';
	set_str(params, "encryptedRequestHash", hex);
	params_error(g_k2048, params, 2, "Invalid parameter: encryptedRequestHash", 1);
	free(hex);
	free(ct);
	json_object_put(params);

	/* tampered inData ciphertext, request hash recomputed over it */
	params = params_of("hello_session_key");
	item = item_at(params, "inData", 0);
	ct = tu_unb64(tu_str(item, "data"), &size);
	ct[0] ^= 1;
	b64 = tcw_b64_encode(ct, size, NULL);
	set_str(item, "data", b64);
	free(b64);
	free(ct);
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	json_object_put(params);

	/* wrong dataHash (valid hex, request hash recomputed) */
	params = params_of("three_items_unsorted_mixed");
	assert_int_equal(json_object_get_int(tu_member(item_at(params, "inData", 1), "index")), 0);
	set_str(item_at(params, "inData", 1), "dataHash",
	        "0000000000000000000000000000000000000000000000000000000000000000");
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	set_str(item_at(params, "inData", 1), "dataHash", "abcd");
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, "Invalid parameter: inData[1].dataHash", 1);
	json_object_put(params);

	/* a session key for a key of another size is a length error; one for
	 * another key of the right size fails like any RSA failure; a session
	 * key of the wrong size too */
	params = params_of("hello_session_key");
	params_error(g_k3072, params, 2, "Invalid parameter: encryptedSessionKey", 1);
	hex = strdup(tu_str(params, "encryptedSessionKey"));
	hex[10] = hex[10] == '0' ? '1' : '0';
	set_str(params, "encryptedSessionKey", hex);
	free(hex);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	json_object_put(params);
	params = params_of("rsa3072_worker_key");
	params_error(g_k2048, params, 2, "Invalid parameter: encryptedSessionKey", 1);
	assert_int_equal(tcw_rsa_encrypt_pem(tu_str(g_keyfile, "worker_rsa_public_pem"), short_key,
	                                     sizeof(short_key), &ct, &size),
	                 TCW_OK);
	hex = tcw_hex_encode(ct, size);
	set_str(params, "encryptedSessionKey", hex);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	free(hex);
	free(ct);
	json_object_put(params);
}

static void test_integrity_dek(void **state)
{
	uint8_t key[32], iv[12], dek16[16] = {7};
	json_object *params, *item;
	char *hex;
	(void)state;
	session_of("per_item_data_key", key, iv);
	/* a flipped bit in the wrapped key */
	params = params_of("per_item_data_key");
	item = item_at(params, "inData", 0);
	hex = strdup(tu_str(item, "encryptedDataEncryptionKey"));
	hex[40] = hex[40] == '0' ? '1' : '0';
	set_str(item, "encryptedDataEncryptionKey", hex);
	free(hex);
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	/* a data key that is not 32 bytes */
	hex = wrap_dek(key, dek16, sizeof(dek16), zero_iv, 1);
	set_str(item, "encryptedDataEncryptionKey", hex);
	free(hex);
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	json_object_put(params);
}

static void test_requester_signature(void **state)
{
	json_object *params;
	uint8_t key[32], iv[12], *der;
	size_t der_size = 0;
	char *b64, *pem;
	(void)state;
	session_of("hello_requester_signed", key, iv);
	/* s changed: does not verify */
	params = params_of("hello_requester_signed");
	der = tu_unb64(tu_str(params, "requesterSignature"), &der_size);
	der[der_size - 1] ^= 1;
	b64 = tcw_b64_encode(der, der_size, NULL);
	set_str(params, "requesterSignature", b64);
	free(b64);
	free(der);
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	/* integrity comes first */
	set_str(params, "encryptedRequestHash", "00");
	params_error(g_k2048, params, 2, "Invalid parameter: encryptedRequestHash", 1);
	set_str(params, "encryptedRequestHash",
	        tu_str(tu_member(vec("hello_session_key"), "request_params"),
	               "encryptedRequestHash"));
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	json_object_put(params);
	/* missing, wrong or unparsable verifyingKey; signature not base64 */
	params = params_of("hello_requester_signed");
	json_object_object_del(params, "verifyingKey");
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	set_str(params, "verifyingKey", "");
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	set_str(params, "verifyingKey", tu_str(g_keyfile, "worker_verifying_key_pem"));
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	set_str(params, "verifyingKey",
	        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	set_str(params, "verifyingKey", tu_str(g_keyfile, "requester_verifying_key_pem"));
	set_str(params, "requesterSignature", "!!!!");
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	json_object_put(params);
	/* a compressed-point verifyingKey is accepted */
	params = params_of("hello_requester_signed");
	pem = tu_compressed_pem(tu_str(params, "verifyingKey"));
	set_str(params, "verifyingKey", pem);
	free(pem);
	expect_hello(g_k2048, params, key, "Rama");
	json_object_put(params);
}

static void test_runner_failure(void **state)
{
	json_object *params = params_of("hello_session_key");
	char *frame = wrap(params, ID1, 1), *reply;
	(void)state;
	rec_reset(RUN_FAIL);
	reply = run_frame(g_k2048, frame, 1);
	expect_error(reply, ID1, 2, "Error processing work load", tu_str(params, "workOrderId"));
	assert_int_equal(g_rec.calls, 1);
	assert_null(strstr(reply, "refused"));
	free(reply);
	rec_reset(RUN_HELLO);
	reply = run_frame(g_k2048, frame, 0);
	expect_error(reply, ID1, 2, "Error processing work load", tu_str(params, "workOrderId"));
	free(reply);
	free(frame);
	json_object_put(params);
}

/* A "-" item ahead of an encrypted one, and an item iv retried with sessionKeyIv. */
static void test_plain_then_encrypted(void **state)
{
	json_object *params = params_of("hello_session_key"), *arr;
	uint8_t key[32], iv[12];
	(void)state;
	session_of("hello_session_key", key, iv);
	arr = tu_member(params, "inData");
	json_object_array_put_idx(arr, 1, json_object_get(json_object_array_get_idx(arr, 0)));
	json_object_array_put_idx(arr, 0, new_item(1, "cGxhaW4tb25l", "-", ""));
	set_str(item_at(params, "inData", 1), "iv", "000102030405060708090a0b");
	reseal(params, key, iv, 0);
	expect_hello(g_k2048, params, key, "Krsna");
	assert_int_equal(g_rec.count, 2);
	assert_int_equal(g_rec.index[0], 0);
	assert_int_equal(g_rec.index[1], 1);
	assert_string_equal(g_rec.data[1], "plain-one");
	json_object_put(params);
}

/* No sessionKeyIv: the all-zero IV fallback, and empty inputs. */
static void test_zero_iv_and_empty(void **state)
{
	json_object *params = params_of("hello_session_key"), *arr;
	uint8_t key[32], iv[12];
	char *b64;
	(void)state;
	session_of("hello_session_key", key, iv);
	json_object_object_del(params, "sessionKeyIv");
	arr = tu_member(params, "inData");
	b64 = gcm_b64(key, zero_iv, "Zero", 0);
	json_object_array_put_idx(arr, 0, new_item(0, b64, "null", ""));
	free(b64);
	b64 = gcm_b64(key, zero_iv, "", 0);
	json_object_array_add(arr, new_item(1, b64, "", ""));
	free(b64);
	json_object_array_add(arr, new_item(2, "", "null", ""));
	reseal(params, key, zero_iv, 0);
	expect_hello(g_k2048, params, key, "Zero");
	assert_int_equal(g_rec.count, 3);
	assert_string_equal(g_rec.data[1], "");
	assert_string_equal(g_rec.data[2], "");
	assert_null(strstr(g_logs, "nonce reuse"));
	json_object_put(params);
}

/* Per-item keys: the IV-inside-the-blob layout with an empty item iv, and
 * the fallback layout (session layer under the item iv). */
static void test_dek_layouts(void **state)
{
	static const uint8_t dek[32] = {9, 8, 7}, item_iv[12] = {0xa1, 0xa2};
	json_object *params = params_of("hello_session_key"), *arr;
	uint8_t key[32], iv[12];
	char *w, *data, *iv_hex = tcw_hex_encode(item_iv, sizeof(item_iv));
	(void)state;
	session_of("hello_session_key", key, iv);
	arr = tu_member(params, "inData");
	w = wrap_dek(key, dek, sizeof(dek), item_iv, 1);
	data = gcm_b64(dek, zero_iv, "ZeroIvDek", 0);
	json_object_array_put_idx(arr, 0, new_item(0, data, w, ""));
	free(w);
	free(data);
	w = wrap_dek(key, dek, sizeof(dek), item_iv, 0);
	data = gcm_b64(dek, item_iv, "Fallback", 0);
	json_object_array_add(arr, new_item(1, data, w, iv_hex));
	free(w);
	free(data);
	reseal(params, key, iv, 0);
	expect_hello(g_k2048, params, key, "ZeroIvDek");
	assert_string_equal(g_rec.data[1], "Fallback");
	free(iv_hex);
	json_object_put(params);
}

/* Hex case: dataHash and workloadId in uppercase (workloadId echoed as sent). */
static void test_uppercase_hex(void **state)
{
	json_object *params = params_of("three_items_unsorted_mixed"), *item;
	uint8_t key[32], iv[12];
	char *upper;
	(void)state;
	session_of("three_items_unsorted_mixed", key, iv);
	item = item_at(params, "inData", 1);
	upper = strdup(tu_str(item, "dataHash"));
	for (char *c = upper; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	set_str(item, "dataHash", upper);
	free(upper);
	set_str(params, "workloadId", "707974686F6E2D68656C6C6F");
	reseal(params, key, iv, 0);
	expect_hello(g_k2048, params, key, "alpha");
	assert_string_equal(g_rec.name, "python-hello");
	json_object_put(params);
}

/* outData templates: "-", own iv, per-item key, then a default item. */
static void test_templates(void **state)
{
	static const uint8_t dek[32] = {0x42}, iv_a[12] = {0xaa}, iv_b[12] = {0xbb};
	json_object *params = params_of("hello_session_key"), *arr = json_object_new_array();
	json_object *root = NULL, *out;
	uint8_t key[32], iv[12];
	char *w = NULL, *a_hex = tcw_hex_encode(iv_a, 12), *b_hex = tcw_hex_encode(iv_b, 12);
	char *reply, *plain;
	size_t size = 0;
	uint8_t *raw;
	(void)state;
	session_of("hello_session_key", key, iv);
	w = wrap_dek(key, dek, sizeof(dek), iv_b, 1);
	json_object_array_add(arr, new_item(7, "", w, b_hex));
	json_object_array_add(arr, new_item(5, "", "null", a_hex));
	json_object_array_add(arr, new_item(2, "", "-", ""));
	json_object_object_add(params, "outData", arr);
	reseal(params, key, iv, 0);
	rec_reset(RUN_MULTI);
	reply = run_params(g_k2048, params, ID1);
	out = check_result(reply, params, ID1, 4, &root);
	expect_item(json_object_array_get_idx(out, 0), 2, "-", "");
	raw = tu_unb64(tu_str(json_object_array_get_idx(out, 0), "data"), &size);
	assert_int_equal(size, 5);
	assert_memory_equal(raw, "out-0", 5);
	free(raw);
	expect_item(json_object_array_get_idx(out, 1), 5, "null", a_hex);
	plain = open_out(json_object_array_get_idx(out, 1), key, iv_a);
	assert_string_equal(plain, "out-1");
	free(plain);
	expect_item(json_object_array_get_idx(out, 2), 7, w, b_hex);
	plain = open_out(json_object_array_get_idx(out, 2), dek, iv_b);
	assert_string_equal(plain, "out-2");
	free(plain);
	expect_item(json_object_array_get_idx(out, 3), 3, "null", "");
	plain = open_out(json_object_array_get_idx(out, 3), key, iv);
	assert_string_equal(plain, "out-3");
	free(plain);
	assert_non_null(strstr(g_logs, "nonce reuse"));
	free(reply);
	json_object_put(root);
	/* a template whose data key does not unwrap fails before the workload */
	w[30] = w[30] == '0' ? '1' : '0';
	set_str(item_at(params, "outData", 0), "encryptedDataEncryptionKey", w);
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	free(w);
	free(a_hex);
	free(b_hex);
	json_object_put(params);
}

static void test_host_outputs(void **state)
{
	json_object *params = params_of("no_session_key_iv"), *root = NULL, *out;
	uint8_t key[32], iv[12];
	char *reply, *plain;
	(void)state;
	session_of("no_session_key_iv", key, iv);
	/* no output: one empty item, IV-prefixed (no sessionKeyIv) */
	rec_reset(RUN_NONE);
	reply = run_params(g_k2048, params, ID1);
	out = check_result(reply, params, ID1, 1, &root);
	assert_int_equal(strlen(tu_str(json_object_array_get_idx(out, 0), "data")), 40);
	plain = open_out(json_object_array_get_idx(out, 0), key, NULL);
	assert_string_equal(plain, "");
	assert_int_equal(g_rec.deadline, 0);
	free(plain);
	free(reply);
	json_object_put(root);
	/* at most TCW_WL_MAX_OUTPUTS outputs */
	rec_reset(RUN_FLOOD);
	reply = run_params(g_k2048, params, ID1);
	out = check_result(reply, params, ID1, TCW_WL_MAX_OUTPUTS, &root);
	assert_int_equal(g_rec.extra_add, -1);
	for (size_t i = 0; i < TCW_WL_MAX_OUTPUTS; i++) {
		expect_item(json_object_array_get_idx(out, i), (int64_t)i, "null", "");
		plain = open_out(json_object_array_get_idx(out, i), key, NULL);
		assert_string_equal(plain, "x");
		free(plain);
	}
	free(reply);
	json_object_put(root);
	json_object_put(params);
}

/* The nonce-reuse warning is logged once per spell, with a count of the
 * rest at the next spell or tcw_log_flush. */
static void test_reuse_warning_spell(void **state)
{
	json_object *params = params_of("hello_session_key");
	const char *first;
	char *reply;
	(void)state;
	rec_reset(RUN_HELLO);
	for (int i = 0; i < 5; i++) {
		rec_clear(RUN_HELLO);
		reply = run_params(g_k2048, params, ID1);
		assert_non_null(strstr(reply, "\"result\""));
		free(reply);
	}
	first = strstr(g_logs, "1:work order ");
	assert_non_null(first);
	assert_non_null(strstr(first, "(AES-GCM nonce reuse, see docs/protocol.md 12.1); more in "
	                              "the next 60 s are counted, not logged\n"));
	assert_null(strstr(first + 1, "1:work order "));
	assert_null(strstr(g_logs, "more work orders"));
	tcw_log_flush();
	assert_non_null(strstr(g_logs, "\n1:4 more work orders answered with AES-GCM nonce reuse "
	                               "were not logged since the last warning\n"));
	/* a new spell: logged again, and nothing left to count */
	g_logs[0] = '\0';
	rec_clear(RUN_HELLO);
	reply = run_params(g_k2048, params, ID1);
	free(reply);
	assert_non_null(strstr(g_logs, "1:work order "));
	tcw_log_flush();
	assert_null(strstr(g_logs, "more work orders"));
	json_object_put(params);
}

static void test_signup(void **state)
{
	char *reply = run_frame(g_k2048,
	                        "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"ProcessWorkerSignup\","
	                        "\"params\":null}",
	                        1);
	(void)state;
	assert_string_equal(reply, SIGNUP_JSON);
	free(reply);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_inner_ids),
	    cmocka_unit_test(test_optional_fields),
	    cmocka_unit_test(test_missing_fields),
	    cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_bad_work_order_id),
	    cmocka_unit_test(test_bad_items),
	    cmocka_unit_test(test_item_limits),
	    cmocka_unit_test(test_integrity),
	    cmocka_unit_test(test_integrity_dek),
	    cmocka_unit_test(test_requester_signature),
	    cmocka_unit_test(test_runner_failure),
	    cmocka_unit_test(test_plain_then_encrypted),
	    cmocka_unit_test(test_zero_iv_and_empty),
	    cmocka_unit_test(test_dek_layouts),
	    cmocka_unit_test(test_uppercase_hex),
	    cmocka_unit_test(test_templates),
	    cmocka_unit_test(test_host_outputs),
	    cmocka_unit_test(test_reuse_warning_spell),
	    cmocka_unit_test(test_signup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
