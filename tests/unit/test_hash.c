/* SPDX-License-Identifier: Apache-2.0 */
/* test_hash.c - request/response hashes (protocol.md §7) against the fixed vectors, sorting and
 * absent fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static json_object *g_keys, *g_orders;

static int setup(void **state)
{
	(void)state;
	g_keys = tu_load_json("keys.json");
	g_orders = tu_load_json("workorders.json");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_object_put(g_keys);
	json_object_put(g_orders);
	return 0;
}

/* String member key of obj or NULL when absent (borrowed). */
static const char *opt_str(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

/* The items of array member key of params (caller frees; *count 0 and NULL
 * when absent). Strings are borrowed from params. */
static struct tcw_item_text *items_of(json_object *params, const char *key, size_t *count)
{
	json_object *arr = NULL;
	struct tcw_item_text *items;

	*count = 0;
	if (!json_object_object_get_ex(params, key, &arr))
		return NULL;
	*count = json_object_array_length(arr);
	items = calloc(*count + 1, sizeof(*items));
	assert_non_null(items);
	for (size_t i = 0; i < *count; i++) {
		json_object *it = json_object_array_get_idx(arr, i), *idx = NULL;

		assert_true(json_object_object_get_ex(it, "index", &idx));
		items[i].index = json_object_get_int64(idx);
		items[i].data_hash = opt_str(it, "dataHash");
		items[i].data = opt_str(it, "data");
		items[i].dek = opt_str(it, "encryptedDataEncryptionKey");
		items[i].iv = opt_str(it, "iv");
	}
	return items;
}

static void expect_digest(const uint8_t got[32], const char *want_hex)
{
	char *hex = tcw_hex_encode(got, 32);

	assert_string_equal(hex, want_hex);
	free(hex);
}

/* encryptedRequestHash decrypts to exactly rh with the vector's session key. */
static void check_encrypted_request_hash(json_object *v, json_object *params, const uint8_t rh[32])
{
	const char *siv_hex = opt_str(params, "sessionKeyIv");
	const char *erh = tu_str(params, "encryptedRequestHash");
	uint8_t key[32], iv[12], plain[64];
	size_t size = 0, n = 0;
	uint8_t *ct = tu_unhex(erh, &size), *body = ct;
	uint8_t *sk = tu_unhex(tu_str(v, "session_key_hex"), &n);

	assert_int_equal(n, 32);
	memcpy(key, sk, 32);
	free(sk);
	if (siv_hex) {
		assert_int_equal(tcw_hex_decode_exact(siv_hex, strlen(siv_hex), iv, 12), TCW_OK);
	} else { /* IV || ciphertext || tag */
		assert_int_equal(size, 12 + 32 + 16);
		memcpy(iv, ct, 12);
		body = ct + 12;
		size -= 12;
	}
	assert_int_equal(size, 48);
	assert_int_equal(tcw_aes_gcm_decrypt(key, iv, body, size, plain), TCW_OK);
	assert_memory_equal(plain, rh, 32);
	free(ct);
}

static void test_request_vectors(void **state)
{
	(void)state;
	json_object *reqs = NULL;
	int with_out = 0;

	assert_true(json_object_object_get_ex(g_orders, "requests", &reqs));
	assert_int_equal(json_object_array_length(reqs), 8);
	for (size_t r = 0; r < json_object_array_length(reqs); r++) {
		json_object *v = json_object_array_get_idx(reqs, r), *params = NULL;
		size_t in_n = 0, out_n = 0;
		uint8_t rh[32];

		assert_true(json_object_object_get_ex(v, "request_params", &params));
		struct tcw_item_text *in = items_of(params, "inData", &in_n);
		struct tcw_item_text *out = items_of(params, "outData", &out_n);
		with_out += out_n > 0;
		assert_int_equal(
		    tcw_request_hash(tu_str(params, "requesterNonce"),
		                     tu_str(params, "workOrderId"), tu_str(params, "workerId"),
		                     tu_str(params, "workloadId"), tu_str(params, "requesterId"),
		                     in, in_n, out, out_n, rh),
		    TCW_OK);
		expect_digest(rh, tu_str(v, "expected_request_hash_hex"));
		check_encrypted_request_hash(v, params, rh);
		free(in);
		free(out);
	}
	assert_int_equal(with_out, 1); /* fib_with_outdata */
}

/* The unsorted vector hashes its items in index order, and dropping its
 * outData (or reversing its inData) changes the hash. */
static void test_request_structure(void **state)
{
	(void)state;
	json_object *v = tu_request_vector(g_orders, "three_items_unsorted_mixed"), *params = NULL;
	size_t n = 0;
	uint8_t rh[32], h1[32], d[32], parts[64], manual[32];
	char text[1024];

	assert_true(json_object_object_get_ex(v, "request_params", &params));
	struct tcw_item_text *in = items_of(params, "inData", &n);
	assert_int_equal(n, 3);
	snprintf(text, sizeof(text), "%s%s%s%s%s", tu_str(params, "requesterNonce"),
	         tu_str(params, "workOrderId"), tu_str(params, "workerId"),
	         tu_str(params, "workloadId"), tu_str(params, "requesterId"));
	assert_int_equal(tcw_sha256(text, strlen(text), h1), TCW_OK);
	/* items sorted by index: [1] (index 0), [2] (index 1), [0] (index 2) */
	snprintf(text, sizeof(text), "%s%s%s%s%s%s%s%s%s%s%s%s", in[1].data_hash, in[1].data,
	         in[1].dek, in[1].iv, in[2].data_hash, in[2].data, in[2].dek, in[2].iv,
	         in[0].data_hash, in[0].data, in[0].dek, in[0].iv);
	assert_int_equal(tcw_sha256(text, strlen(text), d), TCW_OK);
	memcpy(parts, h1, 32);
	memcpy(parts + 32, d, 32);
	assert_int_equal(tcw_sha256(parts, 64, manual), TCW_OK);
	expect_digest(manual, tu_str(v, "expected_request_hash_hex"));
	assert_int_equal(tcw_items_digest(in, n, rh), TCW_OK);
	assert_memory_equal(rh, d, 32);
	/* caller's array is left as it was */
	assert_int_equal(in[0].index, 2);
	assert_int_equal(in[1].index, 0);
	assert_int_equal(in[2].index, 1);
	free(in);

	/* fib_with_outdata: without its outData item the hash is H(h1 || D(in)) */
	v = tu_request_vector(g_orders, "fib_with_outdata");
	assert_true(json_object_object_get_ex(v, "request_params", &params));
	in = items_of(params, "inData", &n);
	size_t out_n = 0;
	struct tcw_item_text *out = items_of(params, "outData", &out_n);
	const char *ids[5] = {tu_str(params, "requesterNonce"), tu_str(params, "workOrderId"),
	                      tu_str(params, "workerId"), tu_str(params, "workloadId"),
	                      tu_str(params, "requesterId")};
	assert_int_equal(
	    tcw_request_hash(ids[0], ids[1], ids[2], ids[3], ids[4], in, n, out, 0, rh), TCW_OK);
	snprintf(text, sizeof(text), "%s%s%s%s%s", ids[0], ids[1], ids[2], ids[3], ids[4]);
	assert_int_equal(tcw_sha256(text, strlen(text), parts), TCW_OK);
	assert_int_equal(tcw_items_digest(in, n, parts + 32), TCW_OK);
	assert_int_equal(tcw_sha256(parts, 64, manual), TCW_OK);
	assert_memory_equal(rh, manual, 32);
	/* the out item is "null" only: D(out) = H("null") */
	assert_int_equal(tcw_items_digest(out, out_n, d), TCW_OK);
	assert_int_equal(tcw_sha256("null", 4, manual), TCW_OK);
	assert_memory_equal(d, manual, 32);
	free(in);
	free(out);
}

static void test_response_vectors(void **state)
{
	(void)state;
	json_object *resps = NULL;

	assert_true(json_object_object_get_ex(g_orders, "responses", &resps));
	assert_int_equal(json_object_array_length(resps), 2);
	for (size_t r = 0; r < json_object_array_length(resps); r++) {
		json_object *v = json_object_array_get_idx(resps, r), *res = NULL;
		size_t out_n = 0, n = 0;
		uint8_t wh[32], *der = NULL;

		assert_true(json_object_object_get_ex(v, "result", &res));
		struct tcw_item_text *out = items_of(res, "outData", &out_n);
		assert_int_equal(
		    tcw_response_hash(tu_str(res, "workerNonce"), tu_str(res, "workOrderId"),
		                      tu_str(res, "workerId"), tu_str(res, "workloadId"),
		                      tu_str(res, "requesterId"), out, out_n, wh),
		    TCW_OK);
		expect_digest(wh, tu_str(v, "expected_response_hash_hex"));
		const char *sig = tu_str(res, "workerSignature");
		assert_int_equal(tcw_b64_decode(sig, strlen(sig), &der, &n), TCW_OK);
		assert_int_equal(
		    tcw_ecdsa_verify_pem(tu_str(g_keys, "worker_verifying_key_pem"), wh, der, n),
		    TCW_OK);
		wh[0] ^= 0x40;
		assert_int_equal(
		    tcw_ecdsa_verify_pem(tu_str(g_keys, "worker_verifying_key_pem"), wh, der, n),
		    TCW_ERR_VERIFY);
		free(der);
		free(out);
	}
}

static void test_response_without_out(void **state)
{
	(void)state;
	uint8_t wh[32], want[32];

	/* WH = H(r1) when there are no outData items */
	assert_int_equal(tcw_response_hash("n", "o", "w", "l", "r", NULL, 0, wh), TCW_OK);
	assert_int_equal(tcw_sha256("nowlr", 5, want), TCW_OK);
	assert_int_equal(tcw_sha256(want, 32, want), TCW_OK);
	assert_memory_equal(wh, want, 32);
}

static void test_stable_sort(void **state)
{
	(void)state;
	const struct tcw_item_text items[] = {
	    {1, NULL, "A", NULL, NULL},         {0, NULL, "B", NULL, NULL},
	    {1, NULL, "C", NULL, NULL},         {0, NULL, "D", NULL, NULL},
	    {-7, NULL, "E", NULL, NULL},        {1, NULL, "F", NULL, NULL},
	    {INT64_MAX, NULL, "G", NULL, NULL}, {INT64_MIN, NULL, "H", NULL, NULL},
	};
	uint8_t d[32], want[32];

	assert_int_equal(tcw_items_digest(items, 8, d), TCW_OK);
	assert_int_equal(tcw_sha256("HEBDACFG", 8, want), TCW_OK);
	assert_memory_equal(d, want, 32);
	/* no items: H("") */
	assert_int_equal(tcw_items_digest(NULL, 0, d), TCW_OK);
	assert_int_equal(tcw_sha256("", 0, want), TCW_OK);
	assert_memory_equal(d, want, 32);
}

/* Many items with few distinct indices: compare with a reference
 * insertion sort done here. */
static void test_stable_sort_large(void **state)
{
	(void)state;
	enum { N = 1000 };
	struct tcw_item_text *items = calloc(N, sizeof(*items));
	char(*names)[8] = calloc(N, 8);
	size_t order[N];
	uint8_t d[32], want[32];
	char *text = calloc(N, 8);

	assert_non_null(items);
	assert_non_null(names);
	assert_non_null(text);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], 8, "%zu,", i);
		items[i].index = (int64_t)((i * 7919u) % 13u) - 6;
		items[i].data = names[i];
		order[i] = i;
	}
	for (size_t i = 1; i < N; i++)
		for (size_t j = i; j > 0 && items[order[j - 1]].index > items[order[j]].index;
		     j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	size_t len = 0;
	for (size_t i = 0; i < N; i++) {
		size_t l = strlen(names[order[i]]);
		memcpy(text + len, names[order[i]], l);
		len += l;
	}
	assert_int_equal(tcw_items_digest(items, N, d), TCW_OK);
	assert_int_equal(tcw_sha256(text, len, want), TCW_OK);
	assert_memory_equal(d, want, 32);
	free(items);
	free(names);
	free(text);
}

static void test_absent_and_empty(void **state)
{
	(void)state;
	const struct tcw_item_text absent = {0, NULL, "ab", NULL, NULL};
	const struct tcw_item_text empty = {0, "", "ab", "", ""};
	const struct tcw_item_text full = {0, "h", "d", "e", "i"};
	const struct tcw_item_text none = {0, NULL, NULL, NULL, NULL};
	uint8_t a[32], b[32], want[32];

	assert_int_equal(tcw_items_digest(&absent, 1, a), TCW_OK);
	assert_int_equal(tcw_items_digest(&empty, 1, b), TCW_OK);
	assert_memory_equal(a, b, 32);
	assert_int_equal(tcw_sha256("ab", 2, want), TCW_OK);
	assert_memory_equal(a, want, 32);
	/* field order dataHash, data, encryptedDataEncryptionKey, iv */
	assert_int_equal(tcw_items_digest(&full, 1, a), TCW_OK);
	assert_int_equal(tcw_sha256("hdei", 4, want), TCW_OK);
	assert_memory_equal(a, want, 32);
	/* an item with no fields contributes nothing but is still counted
	 * for the presence of D(outData) in the request hash */
	assert_int_equal(tcw_items_digest(&none, 1, a), TCW_OK);
	assert_int_equal(tcw_sha256("", 0, want), TCW_OK);
	assert_memory_equal(a, want, 32);
	assert_int_equal(tcw_request_hash("n", "o", "w", "l", "r", &full, 1, &none, 1, a), TCW_OK);
	assert_int_equal(tcw_request_hash("n", "o", "w", "l", "r", &full, 1, &none, 0, b), TCW_OK);
	assert_memory_not_equal(a, b, 32);
	/* required ids */
	assert_int_equal(tcw_request_hash(NULL, "o", "w", "l", "r", &full, 1, NULL, 0, a),
	                 TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_response_hash("n", "o", "w", "l", NULL, NULL, 0, a),
	                 TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_items_digest(NULL, 2, a), TCW_ERR_INVALID_PARAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_vectors),  cmocka_unit_test(test_request_structure),
	    cmocka_unit_test(test_response_vectors), cmocka_unit_test(test_response_without_out),
	    cmocka_unit_test(test_stable_sort),      cmocka_unit_test(test_stable_sort_large),
	    cmocka_unit_test(test_absent_and_empty),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
