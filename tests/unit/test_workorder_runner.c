/* SPDX-License-Identifier: Apache-2.0 */
/* test_workorder_runner.c - WorkOrderSubmit: the workload runner and its host services, the
 * nonce-reuse warning, signup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wotest.h"

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
	    cmocka_unit_test(test_runner_failure),
	    cmocka_unit_test(test_host_outputs),
	    cmocka_unit_test(test_reuse_warning_spell),
	    cmocka_unit_test(test_signup),
	};
	return cmocka_run_group_tests(tests, wo_setup, wo_teardown);
}
