/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_client_session.c - session reuse on the client side (tcclient
 * --session-reuse): one RSA-wrapped session key for many orders, a fresh IV for
 * every AES-GCM encryption under it across 10,000 orders, requests opened with the
 * fixed worker key and checked against protocol.md §5 and §7, orders run through
 * tcw_process_frame with and without the unwrap cache, the session's limits.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ORDERS 10000
#define RUN_ORDERS 60
#define IVS_PER_ORDER 3 /* sessionKeyIv, the input's iv, the template's iv */

static struct tcw_keys *g_keys;

static int run_hello(void *ctx, const char *name, const struct tcw_host *host,
                     struct tcw_wl_call *call)
{
	char out[64];

	(void)ctx, (void)name;
	snprintf(out, sizeof(out), "Hello %.*s", (int)call->inputs[0].size,
	         (const char *)call->inputs[0].data);
	return host->output_add(call, out, strlen(out)) == 0 ? TCW_OK : TCW_ERR_WORKLOAD;
}

static int setup(void **state)
{
	(void)state;
	g_keys = tu_worker_keys("worker_rsa_private_pem");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tcw_keys_free(&g_keys);
	return 0;
}

/* Order i of session s: input "order <i>". */
static struct tcw_order *build(struct tcw_session *s, size_t i, char *text, size_t size)
{
	struct tcw_order_options oo = {.session = s};
	struct tcw_wl_input in;
	struct tcw_order *o = NULL;

	snprintf(text, size, "order %zu", i);
	in = (struct tcw_wl_input){.data = (const uint8_t *)text, .size = strlen(text)};
	assert_int_equal(
	    tcw_order_build(tcw_keys_encryption_pem(g_keys), "python-hello", &in, 1, &oo, &o),
	    TCW_OK);
	return o;
}

/* The inner params of an order's frame (caller puts *root). */
static json_object *params_of(const struct tcw_order *o, json_object **root)
{
	json_object *outer = json_tokener_parse(tcw_order_request(o, NULL));
	json_object *params;

	assert_non_null(outer);
	*root = json_tokener_parse(tu_str(outer, "params"));
	json_object_put(outer);
	assert_non_null(*root);
	params = tu_member(*root, "params");
	return params;
}

static int cmp_iv(const void *a, const void *b)
{
	return memcmp(a, b, TCW_GCM_IV_SIZE);
}

/* The item and template rules of a session order (protocol.md §5): the
 * input under the session key with its own iv, a template with its own iv
 * and no data; checked with the fixed worker key. */
static void check_layout(json_object *params, const char *text, uint8_t session_key[32])
{
	json_object *in = json_object_array_get_idx(tu_member(params, "inData"), 0);
	json_object *tmpl = json_object_array_get_idx(tu_member(params, "outData"), 0);
	struct tcw_item_text tin, tout;
	uint8_t *esk, key[32], iv[12], item_iv[12], rh[32], sealed[48], plain[64], *ct;
	size_t n = 0, esk_size = 0, ct_size = 0;

	esk = tu_unhex(tu_str(params, "encryptedSessionKey"), &esk_size);
	assert_int_equal(tcw_keys_rsa_decrypt(g_keys, esk, esk_size, key, sizeof(key), &n), TCW_OK);
	assert_int_equal(n, 32);
	free(esk);
	if (session_key)
		memcpy(session_key, key, 32);
	assert_int_equal(json_object_array_length(tu_member(params, "inData")), 1);
	assert_int_equal(json_object_array_length(tu_member(params, "outData")), 1);
	assert_string_equal(tu_str(in, "encryptedDataEncryptionKey"), "");
	assert_string_equal(tu_str(in, "dataHash"), "");
	assert_string_equal(tu_str(tmpl, "encryptedDataEncryptionKey"), "");
	assert_string_equal(tu_str(tmpl, "data"), "");
	tu_unhex_exact(tu_str(params, "sessionKeyIv"), iv, 12);
	tu_unhex_exact(tu_str(in, "iv"), item_iv, 12);
	ct = tu_unb64(tu_str(in, "data"), &ct_size);
	assert_int_equal(ct_size, strlen(text) + 16);
	assert_int_equal(tcw_aes_gcm_decrypt(key, item_iv, ct, ct_size, plain), TCW_OK);
	assert_memory_equal(plain, text, strlen(text));
	free(ct);
	/* §7: encryptedRequestHash = AES-GCM(key, sessionKeyIv, RH) */
	tin = (struct tcw_item_text){.index = 0,
	                             .data_hash = "",
	                             .data = tu_str(in, "data"),
	                             .dek = "",
	                             .iv = tu_str(in, "iv")};
	tout = (struct tcw_item_text){
	    .index = 0, .data_hash = "", .data = "", .dek = "", .iv = tu_str(tmpl, "iv")};
	assert_int_equal(tcw_request_hash(tu_str(params, "requesterNonce"),
	                                  tu_str(params, "workOrderId"), tu_str(params, "workerId"),
	                                  tu_str(params, "workloadId"),
	                                  tu_str(params, "requesterId"), &tin, 1, &tout, 1, rh),
	                 TCW_OK);
	tu_unhex_exact(tu_str(params, "encryptedRequestHash"), sealed, 48);
	assert_int_equal(tcw_aes_gcm_decrypt(key, iv, sealed, 48, plain), TCW_OK);
	assert_memory_equal(plain, rh, 32);
	tcw_wipe(key, sizeof(key));
}

/* 10,000 orders of one session key: one encryptedSessionKey, and not one
 * of the 30,000 IVs used under the key twice. */
static void test_ivs_never_repeat(void **state)
{
	uint8_t(*ivs)[TCW_GCM_IV_SIZE] = calloc(ORDERS * IVS_PER_ORDER, TCW_GCM_IV_SIZE);
	struct tcw_session *s = NULL;
	char *esk = NULL, text[32];
	uint8_t first_key[32], key[32];
	size_t n = 0;
	(void)state;
	assert_non_null(ivs);
	assert_int_equal(tcw_session_new(tcw_keys_encryption_pem(g_keys), ORDERS, &s), TCW_OK);
	for (size_t i = 0; i < ORDERS; i++) {
		struct tcw_order *o = build(s, i, text, sizeof(text));
		json_object *root, *params = params_of(o, &root);

		if (!esk)
			esk = strdup(tu_str(params, "encryptedSessionKey"));
		assert_string_equal(tu_str(params, "encryptedSessionKey"), esk);
		tu_unhex_exact(tu_str(params, "sessionKeyIv"), ivs[n++], 12);
		tu_unhex_exact(
		    tu_str(json_object_array_get_idx(tu_member(params, "inData"), 0), "iv"),
		    ivs[n++], 12);
		tu_unhex_exact(
		    tu_str(json_object_array_get_idx(tu_member(params, "outData"), 0), "iv"),
		    ivs[n++], 12);
		/* the full layout check on a sample (one RSA decryption each) */
		if (i % 1000 == 0) {
			check_layout(params, text, i == 0 ? first_key : key);
			if (i > 0)
				assert_memory_equal(key, first_key, 32);
		}
		json_object_put(root);
		tcw_order_free(&o);
	}
	assert_int_equal(tcw_session_orders(s), ORDERS);
	qsort(ivs, n, TCW_GCM_IV_SIZE, cmp_iv);
	for (size_t i = 1; i < n; i++)
		assert_memory_not_equal(ivs[i - 1], ivs[i], TCW_GCM_IV_SIZE);
	free(ivs);
	free(esk);
	tcw_session_free(&s);
}

/* Runs RUN_ORDERS orders of one session through a processor (cache c or
 * none) and checks every reply. */
static void run_session(struct tcw_key_cache *c)
{
	struct tcw_processor p = {
	    .keys = g_keys, .runner = {.run = run_hello}, .signup_json = "{}", .key_cache = c};
	struct tcw_session *s = NULL;
	char text[32], want[64];

	assert_int_equal(tcw_session_new(tcw_keys_encryption_pem(g_keys), RUN_ORDERS, &s), TCW_OK);
	for (size_t i = 0; i < RUN_ORDERS; i++) {
		struct tcw_order *o = build(s, i, text, sizeof(text));
		struct tcw_order_result res = {0};
		struct tcw_error e = {0};
		char *reply = NULL;
		size_t len = 0, size = 0;
		const char *req = tcw_order_request(o, &len);

		assert_int_equal(tcw_process_frame(&p, req, len, &reply, &size), TCW_OK);
		if (tcw_order_check_reply(o, tcw_keys_verifying_pem(g_keys), reply, size, &res,
		                          &e) != TCW_OK)
			fail_msg("order %zu: %s (%s): %s", i, tcw_strerror(e.err), e.field, reply);
		snprintf(want, sizeof(want), "Hello %s", text);
		assert_int_equal(res.output_count, 1);
		assert_int_equal(res.outputs[0].size, strlen(want));
		assert_memory_equal(res.outputs[0].data, want, strlen(want));
		tcw_order_result_fini(&res);
		free(reply);
		tcw_order_free(&o);
	}
	tcw_session_free(&s);
}

/* The worker answers a session's orders with its unwrap cache (one RSA
 * decryption) and without it (--key-cache 0: one each). */
static void test_worker_answers(void **state)
{
	struct tcw_key_cache *c = NULL;
	struct tcw_key_cache_stats st;
	(void)state;
	assert_int_equal(tcw_key_cache_new(16, 300, &c), TCW_OK);
	run_session(c);
	st = tcw_key_cache_get_stats(c);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, RUN_ORDERS - 1);
	tcw_key_cache_free(&c);
	run_session(NULL);
}

/* A session serves max_orders orders, then refuses; its limits. */
static void test_limits(void **state)
{
	struct tcw_session *s = NULL;
	struct tcw_order *o;
	struct tcw_order_options oo = {0};
	struct tcw_wl_input in = {.data = (const uint8_t *)"x", .size = 1};
	char text[32];
	(void)state;
	assert_int_equal(tcw_session_new(tcw_keys_encryption_pem(g_keys), 0, &s),
	                 TCW_ERR_INVALID_PARAM);
	assert_int_equal(
	    tcw_session_new(tcw_keys_encryption_pem(g_keys), TCW_SESSION_MAX_ORDERS + 1, &s),
	    TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_session_new("not a key", 5, &s), TCW_ERR_CRYPTO);
	assert_null(s);
	assert_int_equal(tcw_session_new(tcw_keys_encryption_pem(g_keys), 2, &s), TCW_OK);
	o = build(s, 0, text, sizeof(text));
	tcw_order_free(&o);
	o = build(s, 1, text, sizeof(text));
	tcw_order_free(&o);
	oo.session = s;
	assert_int_equal(
	    tcw_order_build(tcw_keys_encryption_pem(g_keys), "python-hello", &in, 1, &oo, &o),
	    TCW_ERR_INVALID_PARAM);
	assert_null(o);
	assert_int_equal(tcw_session_orders(s), 2);
	tcw_session_free(&s);
	assert_null(s);
	tcw_session_free(&s);
	assert_int_equal(tcw_session_orders(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ivs_never_repeat),
	    cmocka_unit_test(test_worker_answers),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
