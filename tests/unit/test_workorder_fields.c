/* SPDX-License-Identifier: Apache-2.0 */
/* test_workorder_fields.c - WorkOrderSubmit: the shared vectors end to end, inner ids, required,
 * optional and malformed fields, item limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wotest.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),         cmocka_unit_test(test_inner_ids),
	    cmocka_unit_test(test_optional_fields), cmocka_unit_test(test_missing_fields),
	    cmocka_unit_test(test_bad_fields),      cmocka_unit_test(test_bad_work_order_id),
	    cmocka_unit_test(test_bad_items),       cmocka_unit_test(test_item_limits),
	};
	return cmocka_run_group_tests(tests, wo_setup, wo_teardown);
}
