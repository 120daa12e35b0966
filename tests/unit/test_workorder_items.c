/* SPDX-License-Identifier: Apache-2.0 */
/* test_workorder_items.c - WorkOrderSubmit: item key paths, IVs, layouts, hex case, outData
 * templates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wotest.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_then_encrypted),
	    cmocka_unit_test(test_zero_iv_and_empty),
	    cmocka_unit_test(test_dek_layouts),
	    cmocka_unit_test(test_uppercase_hex),
	    cmocka_unit_test(test_templates),
	};
	return cmocka_run_group_tests(tests, wo_setup, wo_teardown);
}
