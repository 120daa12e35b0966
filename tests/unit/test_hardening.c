/* SPDX-License-Identifier: Apache-2.0 */
/* test_hardening.c - the replay hook, the workload budget and uniform integrity failures. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define ID1 "\"1\""
#define INTEGRITY "Work order integrity check failed"

/* What the replay hook saw and answers. */
struct hook {
	int calls;
	char last[TCWI_MAX_ID_HEX + 1];
	size_t last_len;
	int answer; /* TCW_OK, TCW_ERR_DUPLICATE, ... */
};

/* What the runner saw: calls and the budget state it found. */
struct runner {
	int calls;
	int passed_at_start;
	int passed_after_sleep;
	long sleep_ms;
};

static struct hook g_hook;
static struct runner g_run;
static struct tcw_keys *g_keys;
static json_object *g_vectors, *g_keyfile;

static int hook_seen(void *ctx, const char *id, size_t len)
{
	struct hook *h = ctx;

	h->calls++;
	assert_true(len < sizeof(h->last));
	assert_int_equal(strlen(id), len);
	memcpy(h->last, id, len + 1);
	h->last_len = len;
	return h->answer;
}

static int run_hello(void *ctx, const char *name, const struct tcw_host *host,
                     struct tcw_wl_call *call)
{
	struct runner *r = ctx;
	struct timespec ts = {.tv_sec = r->sleep_ms / 1000,
	                      .tv_nsec = r->sleep_ms % 1000 * 1000000};

	(void)name;
	r->calls++;
	r->passed_at_start = host->deadline_passed(call);
	if (r->sleep_ms)
		nanosleep(&ts, NULL);
	r->passed_after_sleep = host->deadline_passed(call);
	return host->output_add(call, "Hello", 5) == 0 ? TCW_OK : TCW_ERR_WORKLOAD;
}

static int setup(void **state)
{
	(void)state;
	g_vectors = tu_load_json("workorders.json");
	g_keyfile = tu_load_json("keys.json");
	g_keys = tu_worker_keys("worker_rsa_private_pem");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tcw_keys_free(&g_keys);
	json_object_put(g_vectors);
	json_object_put(g_keyfile);
	return 0;
}

/* A deep copy of the request params of vector name (caller puts). */
static json_object *params_of(const char *name)
{
	json_object *copy = NULL;

	assert_int_equal(
	    json_object_deep_copy(tu_member(tu_request_vector(g_vectors, name), "request_params"),
	                          &copy, NULL),
	    0);
	return copy;
}

/* Runs params through a processor with the hook and the budget; the reply
 * (caller frees). */
static char *run(json_object *params, int with_hook, uint32_t budget_ms)
{
	json_object *inner = json_object_new_object(), *outer = json_object_new_object();
	struct tcw_processor p = {.keys = g_keys,
	                          .runner = {.run = run_hello, .ctx = &g_run},
	                          .signup_json = "{}",
	                          .seen = with_hook ? hook_seen : NULL,
	                          .seen_ctx = &g_hook,
	                          .workload_timeout_ms = budget_ms};
	char *frame, *reply = NULL;
	size_t size = 0;

	json_object_object_add(inner, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(inner, "method", json_object_new_string("WorkOrderSubmit"));
	json_object_object_add(inner, "id", json_object_new_string("1"));
	json_object_object_add(inner, "params", json_object_get(params));
	json_object_object_add(outer, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(outer, "id", json_object_new_int(9));
	json_object_object_add(outer, "method", json_object_new_string("ProcessWorkOrder"));
	json_object_object_add(outer, "params",
	                       json_object_new_string(json_object_to_json_string_ext(inner, 0)));
	frame = strdup(json_object_to_json_string_ext(outer, JSON_C_TO_STRING_PLAIN));
	assert_non_null(frame);
	json_object_put(inner);
	json_object_put(outer);
	g_run.calls = 0;
	assert_int_equal(tcw_process_frame(&p, frame, strlen(frame), &reply, &size), TCW_OK);
	free(frame);
	return reply;
}

static void expect_error(const char *reply, int code, const char *message, const char *wo)
{
	char want[512];

	snprintf(want, sizeof(want),
	         "{\"jsonrpc\":\"2.0\",\"id\":" ID1 ",\"error\":{\"code\":%d,\"message\":\"%s\","
	         "\"data\":{\"workOrderId\":\"%s\"}}}",
	         code, message, wo);
	assert_string_equal(reply, want);
}

static int is_result(const char *reply)
{
	return strstr(reply, "\"result\":{") != NULL && strstr(reply, "\"error\"") == NULL;
}

/* Flips hex character pos of member key of params. */
static void flip_hex(json_object *params, const char *key, size_t pos)
{
	char *hex = strdup(tu_str(params, key));

	assert_non_null(hex);
	hex[pos] = hex[pos] == '0' ? '1' : '0';
	json_object_object_add(params, key, json_object_new_string(hex));
	free(hex);
}

static void test_hook_called_after_checks(void **state)
{
	json_object *params = params_of("hello_session_key");
	const char *wo = tu_str(params, "workOrderId");
	char *reply;
	(void)state;
	memset(&g_hook, 0, sizeof(g_hook));
	/* accepted: the hook sees the id exactly as sent, once */
	reply = run(params, 1, 0);
	assert_true(is_result(reply));
	free(reply);
	assert_int_equal(g_hook.calls, 1);
	assert_string_equal(g_hook.last, wo);
	assert_int_equal(g_run.calls, 1);
	/* a replay: Duplicate work order, nothing decrypted or run */
	g_hook.answer = TCW_ERR_DUPLICATE;
	reply = run(params, 1, 0);
	expect_error(reply, 2, "Duplicate work order", wo);
	free(reply);
	assert_int_equal(g_hook.calls, 2);
	assert_int_equal(g_run.calls, 0);
	/* the hook failing in another way fails closed */
	g_hook.answer = TCW_ERR_INTERNAL;
	reply = run(params, 1, 0);
	expect_error(reply, 1, "Internal error", wo);
	free(reply);
	assert_int_equal(g_run.calls, 0);
	g_hook.answer = TCW_OK;
	json_object_put(params);
}

static void test_hook_not_called_before_checks(void **state)
{
	json_object *params;
	char *reply;
	(void)state;
	memset(&g_hook, 0, sizeof(g_hook));
	/* wrong request hash: nobody can block an id without the session key */
	params = params_of("hello_session_key");
	flip_hex(params, "encryptedRequestHash", 3);
	reply = run(params, 1, 0);
	expect_error(reply, 2, INTEGRITY, tu_str(params, "workOrderId"));
	free(reply);
	json_object_put(params);
	/* session key not for this worker */
	params = params_of("hello_session_key");
	flip_hex(params, "encryptedSessionKey", 100);
	reply = run(params, 1, 0);
	expect_error(reply, 2, INTEGRITY, tu_str(params, "workOrderId"));
	free(reply);
	json_object_put(params);
	/* requester signature that does not verify */
	params = params_of("hello_requester_signed");
	json_object_object_add(
	    params, "verifyingKey",
	    json_object_new_string(tu_str(g_keyfile, "worker_verifying_key_pem")));
	reply = run(params, 1, 0);
	expect_error(reply, 4, "Invalid requester signature", tu_str(params, "workOrderId"));
	free(reply);
	json_object_put(params);
	/* a malformed field */
	params = params_of("hello_session_key");
	json_object_object_add(params, "sessionKeyIv", json_object_new_string("00"));
	reply = run(params, 1, 0);
	expect_error(reply, 2, "Invalid parameter: sessionKeyIv", tu_str(params, "workOrderId"));
	free(reply);
	json_object_put(params);
	assert_int_equal(g_hook.calls, 0);
	assert_int_equal(g_run.calls, 0);
	/* the signed vector itself passes and reaches the hook */
	params = params_of("hello_requester_signed");
	reply = run(params, 1, 0);
	assert_true(is_result(reply));
	free(reply);
	assert_int_equal(g_hook.calls, 1);
	json_object_put(params);
}

static void test_no_oracle(void **state)
{
	json_object *a = params_of("hello_session_key"), *b = params_of("hello_session_key");
	char *ra, *rb;
	(void)state;
	/* an RSA failure and a request hash failure answer byte for byte alike */
	flip_hex(a, "encryptedSessionKey", 7);
	flip_hex(b, "encryptedRequestHash", 7);
	ra = run(a, 0, 0);
	rb = run(b, 0, 0);
	assert_string_equal(ra, rb);
	expect_error(ra, 2, INTEGRITY, tu_str(a, "workOrderId"));
	free(ra);
	free(rb);
	json_object_put(a);
	json_object_put(b);
}

static void test_budget(void **state)
{
	json_object *params = params_of("hello_session_key");
	char *reply;
	(void)state;
	/* no budget: never passed */
	g_run = (struct runner){.sleep_ms = 20};
	reply = run(params, 0, 0);
	assert_true(is_result(reply));
	free(reply);
	assert_int_equal(g_run.passed_at_start, 0);
	assert_int_equal(g_run.passed_after_sleep, 0);
	/* a budget of one hour: not passed */
	g_run = (struct runner){.sleep_ms = 20};
	reply = run(params, 0, 3600000u);
	free(reply);
	assert_int_equal(g_run.passed_after_sleep, 0);
	/* 5 ms, and the workload sleeps 50 ms: passed */
	g_run = (struct runner){.sleep_ms = 50};
	reply = run(params, 0, 5);
	free(reply);
	assert_int_equal(g_run.passed_after_sleep, 1);
	json_object_put(params);
}

static void test_length_limits(void **state)
{
	json_object *params = params_of("hello_session_key");
	char *reply, *hex, wo[128];
	(void)state;
	snprintf(wo, sizeof(wo), "%s", tu_str(params, "workOrderId"));
	/* encryptedSessionKey one byte short of the 2048-bit modulus */
	hex = strdup(tu_str(params, "encryptedSessionKey"));
	hex[strlen(hex) - 2] = '\0';
	json_object_object_add(params, "encryptedSessionKey", json_object_new_string(hex));
	free(hex);
	reply = run(params, 0, 0);
	expect_error(reply, 2, "Invalid parameter: encryptedSessionKey", wo);
	free(reply);
	json_object_put(params);
	/* encryptedRequestHash of 47 bytes */
	params = params_of("hello_session_key");
	hex = strdup(tu_str(params, "encryptedRequestHash"));
	hex[94] = '\0';
	json_object_object_add(params, "encryptedRequestHash", json_object_new_string(hex));
	free(hex);
	reply = run(params, 0, 0);
	expect_error(reply, 2, "Invalid parameter: encryptedRequestHash", wo);
	free(reply);
	json_object_put(params);
	/* a dataHash that is not one SHA-256 */
	params = params_of("hello_session_key");
	json_object_object_add(json_object_array_get_idx(tu_member(params, "inData"), 0),
	                       "dataHash", json_object_new_string("00ff"));
	reply = run(params, 0, 0);
	expect_error(reply, 2, "Invalid parameter: inData[0].dataHash", wo);
	free(reply);
	json_object_put(params);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hook_called_after_checks),
	    cmocka_unit_test(test_hook_not_called_before_checks),
	    cmocka_unit_test(test_no_oracle),
	    cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_length_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
