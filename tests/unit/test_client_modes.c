/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_client_modes.c - the request modes of the client side: the reference
 * layout (compat), the nonce-safe layout (per-item data keys, fresh IVs,
 * outData templates) and requester signatures, each built, opened with the
 * worker's private key, run through tcw_process_frame and checked back.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAIR_SIZE (TCW_AES_KEY_SIZE + TCW_GCM_IV_SIZE)
#define MAX_PAIRS 64

static struct tcw_keys *g_keys;
static size_t g_outputs;     /* outputs the test runner produces */
static int g_reuse_warnings; /* worker warnings about session key + IV reuse */
static char g_seen[4][32];

/* Echo runner: output k is "out<k>:" + input 0, g_outputs of them. */
static int test_run(void *ctx, const char *name, const struct tcw_host *host,
                    struct tcw_wl_call *call)
{
	char out[64];

	(void)ctx;
	assert_string_equal(name, "python-hello");
	for (size_t i = 0; i < call->input_count && i < 4; i++)
		snprintf(g_seen[i], sizeof(g_seen[i]), "%.*s", (int)call->inputs[i].size,
		         (const char *)call->inputs[i].data);
	for (size_t k = 0; k < g_outputs; k++) {
		snprintf(out, sizeof(out), "out%zu:%s", k, g_seen[0]);
		if (host->output_add(call, out, strlen(out)) != 0)
			return TCW_ERR_WORKLOAD;
	}
	return TCW_OK;
}

static void count_reuse(int level, const char *message)
{
	if (level == TCW_LOG_WARN && strstr(message, "nonce reuse"))
		g_reuse_warnings++;
}

static int setup(void **state)
{
	(void)state;
	g_keys = tu_worker_keys("worker_rsa_private_pem");
	tcw_set_log_handler(count_reuse);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tcw_set_log_handler(NULL);
	tcw_keys_free(&g_keys);
	return 0;
}

static struct tcw_order *build(const char *const *texts, size_t n,
                               const struct tcw_order_options *opt)
{
	struct tcw_wl_input in[8];
	struct tcw_order *o = NULL;

	for (size_t i = 0; i < n; i++)
		in[i] = (struct tcw_wl_input){.data = (const uint8_t *)texts[i],
		                              .size = strlen(texts[i])};
	assert_int_equal(
	    tcw_order_build(tcw_keys_encryption_pem(g_keys), "python-hello", in, n, opt, &o),
	    TCW_OK);
	return o;
}

/* The inner request of a ProcessWorkOrder frame; caller puts it. */
static json_object *inner_of(const char *frame)
{
	json_object *outer = json_tokener_parse(frame), *inner;

	assert_non_null(outer);
	inner = json_tokener_parse(tu_str(outer, "params"));
	assert_non_null(inner);
	json_object_put(outer);
	return inner;
}

/* The frame around inner, as the client would send it; caller frees. */
static char *frame_of(json_object *inner)
{
	json_object *outer = json_object_new_object();
	char *text;

	json_object_object_add(outer, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(outer, "id", json_object_new_int(5));
	json_object_object_add(outer, "method", json_object_new_string("ProcessWorkOrder"));
	json_object_object_add(
	    outer, "params",
	    json_object_new_string(json_object_to_json_string_ext(
	        inner, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
	text = strdup(json_object_to_json_string_ext(outer, JSON_C_TO_STRING_PLAIN));
	json_object_put(outer);
	return text;
}

/* Runs a frame through the library worker with n outputs; caller frees. */
static char *process_text(const char *frame, size_t n)
{
	struct tcw_processor p = {.keys = g_keys, .runner = {.run = test_run}};
	char *reply = NULL;
	size_t size = 0;

	g_outputs = n;
	assert_int_equal(tcw_process_frame(&p, frame, strlen(frame), &reply, &size), TCW_OK);
	return reply;
}

static char *process(const struct tcw_order *o, size_t n)
{
	return process_text(tcw_order_request(o, NULL), n);
}

/* AES-GCM-opens hex or base64 text under key/iv (iv NULL: first 12 bytes of
 * the blob); caller frees; size in *n. */
static uint8_t *open_blob(const uint8_t *key, const uint8_t *iv, uint8_t *blob, size_t size,
                          size_t *n)
{
	const uint8_t *use = iv ? iv : blob;
	size_t skip = iv ? 0 : TCW_GCM_IV_SIZE;
	uint8_t *out = malloc(size + 1);

	assert_true(size >= skip + TCW_GCM_TAG_SIZE);
	assert_int_equal(tcw_aes_gcm_decrypt(key, use, blob + skip, size - skip, out), TCW_OK);
	*n = size - skip - TCW_GCM_TAG_SIZE;
	return out;
}

/* Records key || iv as one used pair. */
static void add_pair(uint8_t pairs[][PAIR_SIZE], size_t *n, const uint8_t *key, const uint8_t *iv)
{
	assert_true(*n < MAX_PAIRS);
	memcpy(pairs[*n], key, TCW_AES_KEY_SIZE);
	memcpy(pairs[*n] + TCW_AES_KEY_SIZE, iv, TCW_GCM_IV_SIZE);
	(*n)++;
}

/* Unwraps e = hex(wiv || GCM(K, wiv, RSA(DEK))) into dek; records (K, wiv). */
static void unwrap(const uint8_t *k, const char *e, uint8_t dek[TCW_AES_KEY_SIZE],
                   uint8_t pairs[][PAIR_SIZE], size_t *np)
{
	size_t size = 0, n = 0, got = 0;
	uint8_t *blob = tu_unhex(e, &size), *wrapped = open_blob(k, NULL, blob, size, &n);

	assert_int_equal(n, 256); /* RSA-2048 */
	add_pair(pairs, np, k, blob);
	assert_int_equal(tcw_keys_rsa_decrypt(g_keys, wrapped, n, dek, TCW_AES_KEY_SIZE, &got),
	                 TCW_OK);
	assert_int_equal(got, TCW_AES_KEY_SIZE);
	free(wrapped);
	free(blob);
}

/* The texts of an item object for hashing (dataHash may be absent). */
static struct tcw_item_text item_text(json_object *it)
{
	return (struct tcw_item_text){
	    .index = json_object_get_int64(tu_member(it, "index")),
	    .data_hash =
	        json_object_object_get_ex(it, "dataHash", NULL) ? tu_str(it, "dataHash") : NULL,
	    .data = tu_str(it, "data"),
	    .dek = tu_str(it, "encryptedDataEncryptionKey"),
	    .iv = tu_str(it, "iv"),
	};
}

/* The request hash of params recomputed from its texts. */
static void request_hash(json_object *params, uint8_t rh[TCW_SHA256_SIZE])
{
	struct tcw_item_text in[8], out[TCW_WL_MAX_OUTPUTS];
	json_object *a = tu_member(params, "inData"), *b = NULL;
	size_t nin = json_object_array_length(a), nout = 0;

	for (size_t i = 0; i < nin; i++)
		in[i] = item_text(json_object_array_get_idx(a, i));
	if (json_object_object_get_ex(params, "outData", &b))
		for (; nout < json_object_array_length(b); nout++)
			out[nout] = item_text(json_object_array_get_idx(b, nout));
	assert_int_equal(tcw_request_hash(tu_str(params, "requesterNonce"),
	                                  tu_str(params, "workOrderId"), tu_str(params, "workerId"),
	                                  tu_str(params, "workloadId"),
	                                  tu_str(params, "requesterId"), in, nin, out, nout, rh),
	                 TCW_OK);
}

/* The session key of params, opened with the worker key. */
static void session_key(json_object *params, uint8_t k[TCW_AES_KEY_SIZE])
{
	size_t size = 0, got = 0;
	uint8_t *esk = tu_unhex(tu_str(params, "encryptedSessionKey"), &size);

	assert_int_equal(tcw_keys_rsa_decrypt(g_keys, esk, size, k, TCW_AES_KEY_SIZE, &got),
	                 TCW_OK);
	assert_int_equal(got, TCW_AES_KEY_SIZE);
	free(esk);
}

static void expect_result(const struct tcw_order *o, const char *reply, size_t n,
                          const char *input0)
{
	struct tcw_order_result res;
	struct tcw_error e;
	char want[64];

	assert_int_equal(tcw_order_check_reply(o, tcw_keys_verifying_pem(g_keys), reply,
	                                       strlen(reply), &res, &e),
	                 TCW_OK);
	assert_int_equal(res.output_count, n);
	for (size_t k = 0; k < n; k++) {
		snprintf(want, sizeof(want), "out%zu:%s", k, input0);
		assert_int_equal(res.outputs[k].size, strlen(want));
		assert_memory_equal(res.outputs[k].data, want, strlen(want));
	}
	tcw_order_result_fini(&res);
}

/* Zero options and nonce_safe 0 give the reference client's layout. */
static void test_compat(void **state)
{
	const char *texts[] = {"Krsna", "b"};
	struct tcw_order_options opt = {.nonce_safe = 0};
	struct tcw_order *o = build(texts, 2, &opt);
	json_object *inner = inner_of(tcw_order_request(o, NULL));
	json_object *params = tu_member(inner, "params"), *arr = tu_member(params, "inData");
	uint8_t k[TCW_AES_KEY_SIZE], iv[TCW_GCM_IV_SIZE];
	char *reply;
	(void)state;
	assert_false(json_object_object_get_ex(params, "outData", NULL));
	assert_false(json_object_object_get_ex(params, "requesterSignature", NULL));
	assert_false(json_object_object_get_ex(params, "verifyingKey", NULL));
	assert_int_equal(json_object_object_length(params), 9);
	/* one key and one IV for the request hash and every item (§12.1) */
	session_key(params, k);
	tu_unhex_exact(tu_str(params, "sessionKeyIv"), iv, sizeof(iv));
	for (size_t i = 0; i < 2; i++) {
		json_object *it = json_object_array_get_idx(arr, i);
		size_t size = 0, n = 0;
		uint8_t *ct = tu_unb64(tu_str(it, "data"), &size),
		        *pt = open_blob(k, iv, ct, size, &n);

		assert_string_equal(tu_str(it, "encryptedDataEncryptionKey"), "null");
		assert_string_equal(tu_str(it, "iv"), "");
		assert_int_equal(n, strlen(texts[i]));
		assert_memory_equal(pt, texts[i], n);
		free(pt);
		free(ct);
	}
	tcw_log_flush(); /* a new spell: the next nonce reuse is logged */
	g_reuse_warnings = 0;
	reply = process(o, 1);
	expect_result(o, reply, 1, "Krsna");
	assert_int_equal(g_reuse_warnings, 1); /* the worker answers the same way */
	free(reply);
	json_object_put(inner);
	tcw_order_free(&o);
}

/* Nonce-safe: every item under its own data key and IV, templates for the
 * result; no AES-GCM key/IV pair appears twice in the request or reply. */
static void test_nonce_safe(void **state)
{
	const char *texts[] = {"alpha", "beta", "gamma"};
	struct tcw_order_options opt = {.nonce_safe = 1, .out_items = 2};
	struct tcw_order *o = build(texts, 3, &opt);
	json_object *inner = inner_of(tcw_order_request(o, NULL)), *params, *arr, *tmpl, *root;
	uint8_t pairs[MAX_PAIRS][PAIR_SIZE], k[TCW_AES_KEY_SIZE], iv[TCW_GCM_IV_SIZE];
	uint8_t rh[TCW_SHA256_SIZE], keys[8][TCW_AES_KEY_SIZE], *erh, *plain;
	size_t np = 0, size = 0, n = 0;
	char *reply;
	(void)state;
	params = tu_member(inner, "params");
	arr = tu_member(params, "inData");
	tmpl = tu_member(params, "outData");
	session_key(params, k);
	memcpy(keys[0], k, sizeof(k));
	/* sessionKeyIv protects the request hash only */
	tu_unhex_exact(tu_str(params, "sessionKeyIv"), iv, sizeof(iv));
	add_pair(pairs, &np, k, iv);
	request_hash(params, rh);
	erh = tu_unhex(tu_str(params, "encryptedRequestHash"), &size);
	plain = open_blob(k, iv, erh, size, &n);
	assert_int_equal(n, 32);
	assert_memory_equal(plain, rh, 32);
	free(plain);
	free(erh);
	assert_int_equal(json_object_array_length(arr), 3);
	for (size_t i = 0; i < 3; i++) {
		json_object *it = json_object_array_get_idx(arr, i);
		uint8_t *ct = tu_unb64(tu_str(it, "data"), &size);

		assert_int_equal(json_object_get_int(tu_member(it, "index")), (int)i);
		assert_string_equal(tu_str(it, "dataHash"), "");
		unwrap(k, tu_str(it, "encryptedDataEncryptionKey"), keys[1 + i], pairs, &np);
		tu_unhex_exact(tu_str(it, "iv"), iv, sizeof(iv));
		add_pair(pairs, &np, keys[1 + i], iv);
		plain = open_blob(keys[1 + i], iv, ct, size, &n);
		assert_int_equal(n, strlen(texts[i]));
		assert_memory_equal(plain, texts[i], n);
		free(plain);
		free(ct);
	}
	assert_int_equal(json_object_array_length(tmpl), 2);
	for (size_t j = 0; j < 2; j++) {
		json_object *it = json_object_array_get_idx(tmpl, j);

		assert_int_equal(json_object_get_int(tu_member(it, "index")), (int)j);
		assert_string_equal(tu_str(it, "data"), "");
		unwrap(k, tu_str(it, "encryptedDataEncryptionKey"), keys[4 + j], pairs, &np);
		tu_unhex_exact(tu_str(it, "iv"), iv, sizeof(iv));
		add_pair(pairs, &np, keys[4 + j], iv);
	}
	/* the result comes back under the two templates */
	tcw_log_flush(); /* a new spell: the next nonce reuse is logged */
	g_reuse_warnings = 0;
	reply = process(o, 2);
	assert_int_equal(g_reuse_warnings, 0);
	root = json_tokener_parse(reply);
	arr = tu_member(tu_member(root, "result"), "outData");
	for (size_t j = 0; j < 2; j++) {
		json_object *got = json_object_array_get_idx(arr, j);
		json_object *want = json_object_array_get_idx(tmpl, j);

		assert_string_equal(tu_str(got, "encryptedDataEncryptionKey"),
		                    tu_str(want, "encryptedDataEncryptionKey"));
		assert_string_equal(tu_str(got, "iv"), tu_str(want, "iv"));
	}
	/* 1 request hash + 5 key wraps under the session key, 3 inputs and 2
	 * results under their data keys: 11 pairs, all different, 6 keys */
	assert_int_equal(np, 11);
	for (size_t a = 0; a < np; a++)
		for (size_t b = a + 1; b < np; b++)
			assert_memory_not_equal(pairs[a], pairs[b], PAIR_SIZE);
	for (size_t a = 0; a < 6; a++)
		for (size_t b = a + 1; b < 6; b++)
			assert_memory_not_equal(keys[a], keys[b], TCW_AES_KEY_SIZE);
	expect_result(o, reply, 2, "alpha");
	assert_string_equal(g_seen[2], "gamma");
	json_object_put(root);
	free(reply);
	json_object_put(inner);
	tcw_order_free(&o);
}

/* Default templates (out_items 0 = 1); a workload with more outputs than
 * templates gets the rest under the session key, which still decrypts. */
static void test_nonce_safe_more_outputs(void **state)
{
	const char *texts[] = {"Rama"};
	struct tcw_order_options opt = {.nonce_safe = 1};
	struct tcw_order *o = build(texts, 1, &opt);
	json_object *inner = inner_of(tcw_order_request(o, NULL)), *root, *out;
	char *reply;
	(void)state;
	assert_int_equal(json_object_array_length(tu_member(tu_member(inner, "params"), "outData")),
	                 1);
	tcw_log_flush(); /* a new spell: the next nonce reuse is logged */
	g_reuse_warnings = 0;
	reply = process(o, 3);
	root = json_tokener_parse(reply);
	out = tu_member(tu_member(root, "result"), "outData");
	assert_int_equal(json_object_array_length(out), 3);
	assert_string_not_equal(
	    tu_str(json_object_array_get_idx(out, 0), "encryptedDataEncryptionKey"), "null");
	assert_string_equal(tu_str(json_object_array_get_idx(out, 2), "encryptedDataEncryptionKey"),
	                    "null");
	assert_int_equal(g_reuse_warnings, 1);
	expect_result(o, reply, 3, "Rama");
	json_object_put(root);
	free(reply);
	json_object_put(inner);
	tcw_order_free(&o);
}

/* Signs with sk and checks the signature fields, in both layouts. */
static void signed_case(int nonce_safe, const uint8_t *sk, const char *vk_pem)
{
	const char *texts[] = {"Shiva"};
	struct tcw_order_options opt = {.nonce_safe = nonce_safe, .signing_key = sk};
	struct tcw_order *o = build(texts, 1, &opt);
	json_object *inner = inner_of(tcw_order_request(o, NULL)), *params, *root;
	uint8_t rh[TCW_SHA256_SIZE], *der, raw[80];
	size_t size = 0;
	char *reply, *frame, *b64;

	params = tu_member(inner, "params");
	assert_int_equal(json_object_object_length(params), nonce_safe ? 12 : 11);
	assert_string_equal(tu_str(params, "verifyingKey"), vk_pem);
	request_hash(params, rh);
	der = tu_unb64(tu_str(params, "requesterSignature"), &size);
	assert_int_equal(tcw_ecdsa_verify_pem(vk_pem, rh, der, size), TCW_OK);
	reply = process(o, 1);
	expect_result(o, reply, 1, "Shiva");
	free(reply);
	/* one flipped bit: code 4 from the worker */
	assert_true(size <= sizeof(raw));
	memcpy(raw, der, size);
	raw[size - 1] ^= 1;
	b64 = tcw_b64_encode(raw, size, NULL);
	json_object_object_add(params, "requesterSignature", json_object_new_string(b64));
	frame = frame_of(inner);
	reply = process_text(frame, 1);
	root = json_tokener_parse(reply);
	assert_int_equal(json_object_get_int(tu_member(tu_member(root, "error"), "code")), 4);
	assert_string_equal(tu_str(tu_member(root, "error"), "message"),
	                    "Invalid requester signature");
	json_object_put(root);
	free(reply);
	free(frame);
	free(b64);
	free(der);
	json_object_put(inner);
	tcw_order_free(&o);
}

static void test_signed(void **state)
{
	json_object *keys = tu_load_json("keys.json");
	uint8_t sk[TCW_ECDSA_SECKEY_SIZE], zero[TCW_ECDSA_SECKEY_SIZE] = {0};
	struct tcw_order_options opt = {.nonce_safe = 1, .signing_key = zero};
	struct tcw_wl_input in = {.data = (const uint8_t *)"x", .size = 1};
	struct tcw_order *bad = NULL;
	(void)state;
	tu_unhex_exact(tu_str(keys, "requester_ecdsa_private_hex"), sk, sizeof(sk));
	signed_case(1, sk, tu_str(keys, "requester_verifying_key_pem"));
	signed_case(0, sk, tu_str(keys, "requester_verifying_key_pem"));
	/* an invalid signing key and too many templates are argument errors */
	assert_int_equal(
	    tcw_order_build(tcw_keys_encryption_pem(g_keys), "python-hello", &in, 1, &opt, &bad),
	    TCW_ERR_INVALID_PARAM);
	opt = (struct tcw_order_options){.nonce_safe = 1, .out_items = TCW_WL_MAX_OUTPUTS + 1};
	assert_int_equal(
	    tcw_order_build(tcw_keys_encryption_pem(g_keys), "python-hello", &in, 1, &opt, &bad),
	    TCW_ERR_INVALID_PARAM);
	opt.out_items = TCW_WL_MAX_OUTPUTS;
	assert_int_equal(
	    tcw_order_build(tcw_keys_encryption_pem(g_keys), "python-hello", &in, 1, &opt, &bad),
	    TCW_OK);
	tcw_order_free(&bad);
	assert_null(bad);
	json_object_put(keys);
}

/* Re-signs a result after editing item 0's member key to value. */
static char *edit_signed(const char *reply, const char *key, const char *value)
{
	json_object *root = json_tokener_parse(reply), *res = tu_member(root, "result");
	json_object *arr = tu_member(res, "outData");
	struct tcw_item_text t;
	uint8_t wh[TCW_SHA256_SIZE], der[TCW_ECDSA_DER_MAX];
	size_t der_size = 0;
	char *b64, *out;

	json_object_object_add(json_object_array_get_idx(arr, 0), key,
	                       json_object_new_string(value));
	t = item_text(json_object_array_get_idx(arr, 0));
	assert_int_equal(tcw_response_hash(tu_str(res, "workerNonce"), tu_str(res, "workOrderId"),
	                                   tu_str(res, "workerId"), tu_str(res, "workloadId"),
	                                   tu_str(res, "requesterId"), &t, 1, wh),
	                 TCW_OK);
	assert_int_equal(tcw_keys_sign(g_keys, wh, der, &der_size), TCW_OK);
	b64 = tcw_b64_encode(der, der_size, NULL);
	json_object_object_add(res, "workerSignature", json_object_new_string(b64));
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	free(b64);
	json_object_put(root);
	return out;
}

/* A signed reply whose template key is not ours, or whose data was changed
 * under our key, does not open: TCW_ERR_INTEGRITY. */
static void test_reply_template_errors(void **state)
{
	const char *texts[] = {"Ganesha"};
	struct tcw_order_options opt = {.nonce_safe = 1};
	struct tcw_order *o = build(texts, 1, &opt);
	struct tcw_order_result res;
	struct tcw_error e;
	char *reply = process(o, 1), *bad;
	json_object *root = json_tokener_parse(reply);
	json_object *it =
	    json_object_array_get_idx(tu_member(tu_member(root, "result"), "outData"), 0);
	uint8_t *raw;
	size_t size = 0;
	(void)state;
	/* the unedited reply opens, also with the key text in uppercase */
	expect_result(o, reply, 1, "Ganesha");
	{
		char *upper = strdup(tu_str(it, "encryptedDataEncryptionKey"));

		for (char *c = upper; *c; c++)
			if (*c >= 'a' && *c <= 'f')
				*c = (char)(*c - 'a' + 'A');
		bad = edit_signed(reply, "encryptedDataEncryptionKey", upper);
		expect_result(o, bad, 1, "Ganesha");
		free(bad);
		free(upper);
	}
	bad = edit_signed(reply, "encryptedDataEncryptionKey", "abcdef0123");
	assert_int_equal(
	    tcw_order_check_reply(o, tcw_keys_verifying_pem(g_keys), bad, strlen(bad), &res, &e),
	    TCW_ERR_INTEGRITY);
	tcw_order_result_fini(&res);
	free(bad);
	raw = tu_unb64(tu_str(it, "data"), &size);
	raw[0] ^= 1;
	{
		char *b64 = tcw_b64_encode(raw, size, NULL);

		bad = edit_signed(reply, "data", b64);
		free(b64);
	}
	assert_int_equal(
	    tcw_order_check_reply(o, tcw_keys_verifying_pem(g_keys), bad, strlen(bad), &res, &e),
	    TCW_ERR_INTEGRITY);
	assert_int_equal(res.output_count, 0);
	tcw_order_result_fini(&res);
	free(bad);
	free(raw);
	json_object_put(root);
	free(reply);
	tcw_order_free(&o);
}

/* The libFuzzer RSA bypass (lib/keys.c, TCW_FUZZING) is not in this build:
 * a session key sent as "tcw-fuzz" || key instead of RSA does not open. */
static void test_no_fuzz_bypass(void **state)
{
	const char *texts[] = {"Lakshmi"};
	struct tcw_order *o = build(texts, 1, NULL);
	json_object *inner = inner_of(tcw_order_request(o, NULL)), *params, *root;
	uint8_t k[TCW_AES_KEY_SIZE], blob[256] = "tcw-fuzz";
	char *hex, *frame, *reply;
	(void)state;
	params = tu_member(inner, "params");
	session_key(params, k);
	memcpy(blob + 8, k, sizeof(k));
	hex = tcw_hex_encode(blob, sizeof(blob));
	json_object_object_add(params, "encryptedSessionKey", json_object_new_string(hex));
	frame = frame_of(inner);
	reply = process_text(frame, 1);
	root = json_tokener_parse(reply);
	assert_string_equal(tu_str(tu_member(root, "error"), "message"),
	                    "Work order integrity check failed");
	json_object_put(root);
	free(reply);
	free(frame);
	free(hex);
	json_object_put(inner);
	tcw_order_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compat),
	    cmocka_unit_test(test_nonce_safe),
	    cmocka_unit_test(test_nonce_safe_more_outputs),
	    cmocka_unit_test(test_signed),
	    cmocka_unit_test(test_reply_template_errors),
	    cmocka_unit_test(test_no_fuzz_bypass),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
