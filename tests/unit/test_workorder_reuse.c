/* SPDX-License-Identifier: Apache-2.0 */
/* test_workorder_reuse.c - WorkOrderSubmit with the unwrap cache: a repeated session key
 * (fixed vectors: session key 00..1f, fixed IVs) must not reuse an AES-GCM nonce; cached
 * data keys; ciphertexts that do not unwrap; the same orders without the cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wotest.h"

#define INPUT "Krsna-reuse"

static const uint8_t iv_item[12] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                    0x11, 0x11, 0x11, 0x11, 0x11, 0x12};
static const uint8_t iv_out[12] = {0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
                                   0x22, 0x22, 0x22, 0x22, 0x22, 0x23};

enum tmpl { NO_TEMPLATE, OWN_IV, SESSION_IV, NO_IV };

/* hello_session_key (fixed session key and sessionKeyIv, fixed
 * encryptedSessionKey) re-sealed: its input under item_iv (NULL: under
 * sessionKeyIv, item iv "", as the vector has it; data_iv: the IV actually
 * used, when it differs), plus an outData template of kind t. */
static json_object *order(const uint8_t *item_iv, const uint8_t *data_iv, enum tmpl t)
{
	json_object *params = params_of("hello_session_key"), *out;
	uint8_t key[32], iv[12];
	char *iv_hex, *data, *out_hex = NULL;

	session_of("hello_session_key", key, iv);
	if (item_iv) {
		iv_hex = tcw_hex_encode(item_iv, 12);
		data = gcm_b64(key, data_iv ? data_iv : item_iv, INPUT, 0);
		json_object_array_put_idx(tu_member(params, "inData"), 0,
		                          new_item(0, data, "", iv_hex));
		free(iv_hex);
		free(data);
	}
	if (t != NO_TEMPLATE) {
		out = json_object_new_array();
		out_hex = tcw_hex_encode(t == OWN_IV ? iv_out : iv, 12);
		json_object_array_add(out, new_item(0, "", "", t == NO_IV ? "" : out_hex));
		json_object_object_add(params, "outData", out);
		free(out_hex);
	}
	reseal(params, key, iv, 0);
	return params;
}

static struct tcw_key_cache *new_cache(void)
{
	struct tcw_key_cache *c = NULL;

	assert_int_equal(tcw_key_cache_new(64, 300, &c), TCW_OK);
	return c;
}

/* Runs params with the runner set to mode; the reply (caller frees). */
static char *run(json_object *params, enum run_mode mode)
{
	rec_clear(mode);
	return run_params(g_k2048, params, ID1);
}

/* Expects params to be refused with "Invalid parameter: field". */
static void refused(json_object *params, const char *field)
{
	char message[128], *reply = run(params, RUN_HELLO);

	snprintf(message, sizeof(message), "Invalid parameter: %s", field);
	expect_error(reply, ID1, 2, message, tu_str(params, "workOrderId"));
	assert_int_equal(g_rec.calls, 0);
	free(reply);
}

/* The first order with a session key is not restricted; once the key comes
 * from the cache, items and templates need IVs of their own. */
static void test_reused_session_key(void **state)
{
	json_object *p, *root = NULL, *out;
	uint8_t key[32], iv[12];
	char *reply, *plain;
	(void)state;
	g_key_cache = new_cache();
	session_of("hello_session_key", key, iv);
	rec_reset(RUN_HELLO);
	/* a miss: the reference format as the vector has it */
	p = order(NULL, NULL, NO_TEMPLATE);
	reply = run(p, RUN_HELLO);
	assert_non_null(check_result(reply, p, ID1, 1, &root));
	free(reply);
	json_object_put(root);
	assert_int_equal(tcw_key_cache_get_stats(g_key_cache).misses, 1);
	/* the same key again: every way of reusing a nonce is refused */
	refused(p, "inData[0].iv");
	json_object_put(p);
	p = order(iv, NULL, OWN_IV); /* item iv = sessionKeyIv */
	refused(p, "inData[0].iv");
	json_object_put(p);
	p = order(iv_item, NULL, NO_TEMPLATE);
	refused(p, "outData");
	json_object_put(p);
	p = order(iv_item, NULL, SESSION_IV);
	refused(p, "outData[0].iv");
	json_object_put(p);
	p = order(iv_item, NULL, NO_IV);
	refused(p, "outData[0].iv");
	json_object_put(p);
	/* own IVs everywhere: the result comes back under the template's */
	p = order(iv_item, NULL, OWN_IV);
	g_logs[0] = '\0';
	reply = run(p, RUN_HELLO);
	out = check_result(reply, p, ID1, 1, &root);
	expect_item(json_object_array_get_idx(out, 0), 0, "", "222222222222222222222223");
	plain = open_out(json_object_array_get_idx(out, 0), key, iv_out);
	assert_string_equal(plain, "Hello " INPUT);
	assert_null(strstr(g_logs, "nonce reuse"));
	free(plain);
	free(reply);
	json_object_put(root);
	/* more outputs than templates would put one under sessionKeyIv */
	reply = run(p, RUN_MULTI);
	expect_error(reply, ID1, 2, "Invalid parameter: outData", tu_str(p, "workOrderId"));
	free(reply);
	json_object_put(p);
	assert_int_equal(tcw_key_cache_get_stats(g_key_cache).misses, 1);
	assert_int_equal(tcw_key_cache_get_stats(g_key_cache).hits, 7);
	/* an item iv is the only IV tried: data under sessionKeyIv with another
	 * iv named fails, where a first use of the key falls back */
	p = order(iv_item, iv, OWN_IV);
	reply = run(p, RUN_HELLO);
	expect_error(reply, ID1, 2, INTEGRITY, tu_str(p, "workOrderId"));
	free(reply);
	tcw_key_cache_free(&g_key_cache);
	reply = run(p, RUN_HELLO);
	assert_non_null(check_result(reply, p, ID1, 1, &root));
	free(reply);
	json_object_put(root);
	json_object_put(p);
}

/* The hooks of test_exact_copies. seen: no replay cache (every id is new,
 * as the worker's hook with --replay-cache 0). seen_request: the first look
 * at an id is lost to a copy that looked before it (TCW_ERR_DUPLICATE),
 * then the copy that looks next wins it. No reply is kept. */
static int g_looks;
static int no_replay_cache(void *ctx, const char *work_order_id, size_t len)
{
	(void)ctx, (void)work_order_id, (void)len;
	return TCW_OK;
}

static int copy_won_first(void *ctx, const char *work_order_id, size_t len,
                          const uint8_t request[TCW_SHA256_SIZE])
{
	(void)ctx, (void)work_order_id, (void)len, (void)request;
	return g_looks++ == 0 ? TCW_ERR_DUPLICATE : TCW_OK;
}

static int nothing_kept(void *ctx, const char *work_order_id, size_t len,
                        const uint8_t request[TCW_SHA256_SIZE], char **reply, size_t *size)
{
	(void)ctx, (void)work_order_id, (void)len, (void)request, (void)reply, (void)size;
	return 1;
}

static void keep_nothing(void *ctx, const char *work_order_id, size_t len,
                         const uint8_t request[TCW_SHA256_SIZE], const char *reply, size_t size)
{
	(void)ctx, (void)work_order_id, (void)len, (void)request, (void)reply, (void)size;
}

/* Two exact copies of a reference-format order at once: the one that
 * unwrapped the key loses the replay check to the one that found the key
 * in the cache. That copy is the same order, not a reuse of its key: it
 * runs and gets the result (no "Invalid parameter: inData[0].iv" kept as
 * the order's reply). Another order with the same key is still refused,
 * and so is the copy when the replay check does not know requests (no
 * seen_request: the worker without its replay cache). */
static void test_exact_copies(void **state)
{
	json_object *p, *other, *root = NULL;
	uint8_t key[32], iv[12];
	char *reply;
	(void)state;
	session_of("hello_session_key", key, iv);
	g_key_cache = new_cache();
	g_seen = no_replay_cache;
	g_seen_request = copy_won_first;
	g_stored_reply = nothing_kept;
	g_store_reply = keep_nothing;
	g_looks = 0;
	rec_reset(RUN_HELLO);
	p = order(NULL, NULL, NO_TEMPLATE);
	reply = run(p, RUN_HELLO);
	expect_error(reply, ID1, 2, "Duplicate work order", tu_str(p, "workOrderId"));
	free(reply);
	assert_int_equal(g_rec.calls, 0);
	assert_int_equal(g_looks, 1);
	reply = run(p, RUN_HELLO);
	assert_non_null(check_result(reply, p, ID1, 1, &root));
	assert_int_equal(g_rec.calls, 1);
	free(reply);
	json_object_put(root);
	assert_int_equal(tcw_key_cache_get_stats(g_key_cache).misses, 1);
	assert_int_equal(tcw_key_cache_get_stats(g_key_cache).hits, 1);
	/* another order (its own workOrderId) under the same key and IV */
	other = order(NULL, NULL, NO_TEMPLATE);
	json_object_object_add(other, "workOrderId", json_object_new_string("0x7e57"));
	reseal(other, key, iv, 0);
	refused(other, "inData[0].iv");
	json_object_put(other);
	/* a replay check that does not know requests: a reuse like any other */
	g_seen_request = NULL;
	refused(p, "inData[0].iv");
	json_object_put(p);
	g_seen = NULL;
	g_stored_reply = NULL;
	g_store_reply = NULL;
	tcw_key_cache_free(&g_key_cache);
}

/* Without the cache (--key-cache 0) every order is a first use: the
 * reference format is answered again and again, and so is the reuse
 * format. */
static void test_without_cache(void **state)
{
	json_object *p = order(NULL, NULL, NO_TEMPLATE), *q = order(iv_item, NULL, OWN_IV);
	json_object *root = NULL;
	char *reply;
	(void)state;
	g_key_cache = NULL;
	rec_reset(RUN_HELLO);
	for (int i = 0; i < 3; i++) {
		reply = run(i % 2 ? q : p, RUN_HELLO);
		assert_non_null(check_result(reply, i % 2 ? q : p, ID1, 1, &root));
		json_object_put(root);
		free(reply);
	}
	json_object_put(p);
	json_object_put(q);
}

/* A session key that does not unwrap is cached like one that does: the
 * second submission is a lookup, and both get the same integrity reply,
 * byte for byte, as a request hash mismatch does. */
static void test_rejected_session_key(void **state)
{
	json_object *p = order(iv_item, NULL, OWN_IV), *q = order(iv_item, NULL, OWN_IV);
	char *esk = strdup(tu_str(p, "encryptedSessionKey")), *first, *again, *hash;
	uint8_t key[32], iv[12];
	(void)state;
	g_key_cache = new_cache();
	rec_reset(RUN_HELLO);
	esk[100] = esk[100] == '0' ? '1' : '0';
	set_str(p, "encryptedSessionKey", esk);
	first = run(p, RUN_HELLO);
	again = run(p, RUN_HELLO);
	expect_error(first, ID1, 2, INTEGRITY, tu_str(p, "workOrderId"));
	assert_string_equal(again, first);
	assert_int_equal(tcw_key_cache_get_stats(g_key_cache).misses, 1);
	assert_int_equal(tcw_key_cache_get_stats(g_key_cache).hits, 1);
	/* a good key with a wrong request hash: the same reply */
	session_of("hello_session_key", key, iv);
	set_str(q, "requesterNonce", "00");
	hash = run(q, RUN_HELLO);
	assert_string_equal(hash, first);
	assert_int_equal(g_rec.calls, 0);
	free(first);
	free(again);
	free(hash);
	free(esk);
	json_object_put(p);
	json_object_put(q);
	tcw_key_cache_free(&g_key_cache);
}

/* hello_session_key with its input under data key dek (RSA-wrapped, the
 * wrap flipped at byte flip when flip >= 0, then sealed under the session
 * key with its own IV) and its own data IV, plus a template. */
static json_object *dek_order(const uint8_t dek[32], long flip)
{
	static const uint8_t wrap_iv[12] = {0x33}, data_iv[12] = {0x44};
	json_object *p = order(iv_item, NULL, OWN_IV);
	uint8_t key[32], iv[12], *rsa = NULL, *blob;
	size_t rsa_size = 0, blob_size = 0;
	char *hex, *data, *iv_hex = tcw_hex_encode(data_iv, 12);

	session_of("hello_session_key", key, iv);
	assert_int_equal(tcw_rsa_encrypt_pem(tu_str(g_keyfile, "worker_rsa_public_pem"), dek, 32,
	                                     &rsa, &rsa_size),
	                 TCW_OK);
	if (flip >= 0)
		rsa[flip] ^= 0x01;
	blob = gcm(key, wrap_iv, rsa, rsa_size, 1, &blob_size);
	hex = tcw_hex_encode(blob, blob_size);
	data = gcm_b64(dek, data_iv, INPUT, 0);
	json_object_array_put_idx(tu_member(p, "inData"), 0, new_item(0, data, hex, iv_hex));
	reseal(p, key, iv, 0);
	free(rsa);
	free(blob);
	free(hex);
	free(data);
	free(iv_hex);
	return p;
}

/* Per-item data keys go through the cache too; one that does not unwrap
 * fails its order, from the cache as the first time, byte for byte. */
static void test_data_keys(void **state)
{
	static const uint8_t dek[32] = {0x55, 0x66};
	json_object *p = dek_order(dek, -1), *bad = dek_order(dek, 40), *root = NULL;
	struct tcw_key_cache_stats st;
	char *reply, *first, *again;
	(void)state;
	g_key_cache = new_cache();
	rec_reset(RUN_HELLO);
	reply = run(p, RUN_HELLO); /* session key: a miss, data key: a miss */
	assert_non_null(check_result(reply, p, ID1, 1, &root));
	assert_string_equal(g_rec.data[0], INPUT);
	json_object_put(root);
	free(reply);
	st = tcw_key_cache_get_stats(g_key_cache);
	assert_int_equal(st.misses, 2);
	reply = run(p, RUN_HELLO); /* both from the cache */
	assert_non_null(check_result(reply, p, ID1, 1, &root));
	json_object_put(root);
	free(reply);
	assert_int_equal(tcw_key_cache_get_stats(g_key_cache).hits, st.hits + 2);
	first = run(bad, RUN_HELLO);
	expect_error(first, ID1, 2, INTEGRITY, tu_str(bad, "workOrderId"));
	again = run(bad, RUN_HELLO);
	assert_string_equal(again, first);
	assert_int_equal(g_rec.calls, 0);
	st = tcw_key_cache_get_stats(g_key_cache);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.entries, 3);
	free(first);
	free(again);
	json_object_put(p);
	json_object_put(bad);
	tcw_key_cache_free(&g_key_cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reused_session_key),
	    cmocka_unit_test(test_exact_copies),
	    cmocka_unit_test(test_without_cache),
	    cmocka_unit_test(test_rejected_session_key),
	    cmocka_unit_test(test_data_keys),
	};
	return cmocka_run_group_tests(tests, wo_setup, wo_teardown);
}
