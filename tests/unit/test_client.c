/* SPDX-License-Identifier: Apache-2.0 */
/* test_client.c - requester side: build orders, process them, verify and decrypt replies. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRAPHENE_HELLO_ID "6beafc7f045eef7a93d80ffe02b4cb98aeb7cc18609e369acdd4a3fd670dbad4"

enum run_mode { RUN_HELLO, RUN_MULTI, RUN_FAIL };

static struct tcw_keys *g_keys;
static enum run_mode g_mode;
static char g_seen[8][64];
static size_t g_seen_count;

static int test_run(void *ctx, const char *name, const struct tcw_host *host,
                    struct tcw_wl_call *call)
{
	char out[128];

	(void)ctx;
	assert_string_equal(name, "python-hello");
	g_seen_count = call->input_count;
	for (size_t i = 0; i < call->input_count && i < 8; i++) {
		assert_int_equal(call->inputs[i].index, (int64_t)i);
		snprintf(g_seen[i], sizeof(g_seen[i]), "%.*s", (int)call->inputs[i].size,
		         (const char *)call->inputs[i].data);
	}
	if (g_mode == RUN_FAIL)
		return TCW_ERR_WORKLOAD;
	snprintf(out, sizeof(out), "Hello %s", g_seen[0]);
	if (host->output_add(call, out, strlen(out)) != 0)
		return TCW_ERR_WORKLOAD;
	if (g_mode == RUN_MULTI && host->output_add(call, "second", 6) != 0)
		return TCW_ERR_WORKLOAD;
	return TCW_OK;
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

static struct tcw_order *build(const char *const *texts, size_t n,
                               const struct tcw_order_options *opt)
{
	struct tcw_wl_input in[8];
	struct tcw_order *o = NULL;

	for (size_t i = 0; i < n; i++)
		in[i] = (struct tcw_wl_input){.index = 99, /* ignored: index = position */
		                              .data = (const uint8_t *)texts[i],
		                              .size = strlen(texts[i])};
	assert_int_equal(
	    tcw_order_build(tcw_keys_encryption_pem(g_keys), "python-hello", in, n, opt, &o),
	    TCW_OK);
	assert_non_null(o);
	return o;
}

/* Sends the order's request through the library worker; caller frees. */
static char *process(const struct tcw_order *o, enum run_mode mode)
{
	struct tcw_processor p = {.keys = g_keys, .runner = {.run = test_run}};
	size_t size = 0, reply_size = 0;
	const char *req = tcw_order_request(o, &size);
	char *reply = NULL;

	g_mode = mode;
	g_seen_count = 0;
	assert_int_equal(strlen(req), size);
	assert_int_equal(tcw_process_frame(&p, req, size, &reply, &reply_size), TCW_OK);
	return reply;
}

static int check(const struct tcw_order *o, const char *reply, struct tcw_order_result *res,
                 struct tcw_error *e)
{
	return tcw_order_check_reply(o, tcw_keys_verifying_pem(g_keys), reply, strlen(reply), res,
	                             e);
}

static int is_lower_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static void expect_keys(json_object *obj, const char *const *keys, size_t n)
{
	size_t i = 0;

	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		assert_true(i < n);
		assert_string_equal(key, keys[i++]);
	}
	assert_int_equal(i, n);
}

/* The request has the reference client's shape. */
static void test_request_shape(void **state)
{
	static const char *const outer_keys[] = {"jsonrpc", "id", "method", "params"};
	static const char *const inner_keys[] = {"jsonrpc", "method", "id", "params"};
	static const char *const item_keys[] = {"index", "dataHash", "data",
	                                        "encryptedDataEncryptionKey", "iv"};
	const char *texts[] = {"Krsna"};
	struct tcw_order *o = build(texts, 1, NULL), *o2 = build(texts, 1, NULL);
	json_object *outer = json_tokener_parse(tcw_order_request(o, NULL)), *inner, *params, *item;
	int64_t id;
	(void)state;
	assert_non_null(outer);
	expect_keys(outer, outer_keys, 4);
	assert_string_equal(tu_str(outer, "jsonrpc"), "2.0");
	assert_string_equal(tu_str(outer, "method"), "ProcessWorkOrder");
	assert_true(json_object_is_type(tu_member(outer, "id"), json_type_int));
	id = json_object_get_int64(tu_member(outer, "id"));
	assert_true(id >= 0 && id <= 100000);
	inner = json_tokener_parse(tu_str(outer, "params"));
	assert_non_null(inner);
	expect_keys(inner, inner_keys, 4);
	assert_string_equal(tu_str(inner, "method"), "WorkOrderSubmit");
	assert_string_equal(tu_str(inner, "id"), "1");
	params = tu_member(inner, "params");
	assert_string_equal(tu_str(params, "workloadId"), "707974686f6e2d68656c6c6f");
	assert_string_equal(tu_str(params, "workerId"), GRAPHENE_HELLO_ID);
	assert_string_equal(tu_str(params, "workOrderId"), tcw_order_id(o));
	assert_string_not_equal(tcw_order_id(o), tcw_order_id(o2));
	assert_true(is_lower_hex(tu_str(params, "workOrderId"), 64));
	assert_true(is_lower_hex(tu_str(params, "requesterId"), 64));
	assert_true(is_lower_hex(tu_str(params, "requesterNonce"), 64));
	assert_true(is_lower_hex(tu_str(params, "sessionKeyIv"), 24));
	assert_true(is_lower_hex(tu_str(params, "encryptedSessionKey"), 512));
	assert_true(is_lower_hex(tu_str(params, "encryptedRequestHash"), 96));
	assert_int_equal(json_object_array_length(tu_member(params, "inData")), 1);
	item = json_object_array_get_idx(tu_member(params, "inData"), 0);
	expect_keys(item, item_keys, 5);
	assert_int_equal(json_object_get_int(tu_member(item, "index")), 0);
	assert_string_equal(tu_str(item, "dataHash"), "");
	assert_int_equal(strlen(tu_str(item, "data")), 4 * ((5 + 16 + 2) / 3));
	assert_string_equal(tu_str(item, "encryptedDataEncryptionKey"), "null");
	assert_string_equal(tu_str(item, "iv"), "");
	assert_false(json_object_object_get_ex(params, "outData", NULL));
	assert_false(json_object_object_get_ex(params, "payloadFormat", NULL));
	json_object_put(inner);
	json_object_put(outer);
	tcw_order_free(&o);
	tcw_order_free(&o2);
	assert_null(o);
	tcw_order_free(&o);
}

static void test_round_trip(void **state)
{
	const char *texts[] = {"Krsna", "b", ""};
	struct tcw_order *o = build(texts, 3, NULL);
	struct tcw_order_result res;
	struct tcw_error e;
	char *reply = process(o, RUN_HELLO);
	(void)state;
	assert_int_equal(check(o, reply, &res, &e), TCW_OK);
	assert_int_equal(res.output_count, 1);
	assert_int_equal(res.outputs[0].size, 11);
	assert_memory_equal(res.outputs[0].data, "Hello Krsna", 11);
	assert_int_equal(g_seen_count, 3);
	assert_string_equal(g_seen[1], "b");
	assert_string_equal(g_seen[2], "");
	tcw_order_result_fini(&res);
	assert_null(res.outputs);
	assert_int_equal(res.output_count, 0);
	free(reply);

	reply = process(o, RUN_MULTI);
	assert_int_equal(check(o, reply, &res, &e), TCW_OK);
	assert_int_equal(res.output_count, 2);
	assert_memory_equal(res.outputs[1].data, "second", 6);
	tcw_order_result_fini(&res);
	free(reply);
	tcw_order_free(&o);
}

static void test_options(void **state)
{
	const char *texts[] = {"Rama"};
	struct tcw_order_options opt = {.worker_id = "abcd", .inner_id = "17"};
	struct tcw_order *o = build(texts, 1, &opt), *bad = NULL;
	struct tcw_wl_input in = {.data = (const uint8_t *)"x", .size = 1};
	struct tcw_order_result res;
	struct tcw_error e;
	char *reply = process(o, RUN_HELLO);
	json_object *root = json_tokener_parse(reply);
	(void)state;
	assert_string_equal(json_object_to_json_string(tu_member(root, "id")), "17");
	assert_string_equal(tu_str(tu_member(root, "result"), "workerId"), "abcd");
	assert_int_equal(check(o, reply, &res, &e), TCW_OK);
	assert_memory_equal(res.outputs[0].data, "Hello Rama", 10);
	tcw_order_result_fini(&res);
	json_object_put(root);
	free(reply);
	tcw_order_free(&o);

	opt.inner_id = "{";
	assert_int_equal(
	    tcw_order_build(tcw_keys_encryption_pem(g_keys), "python-hello", &in, 1, &opt, &bad),
	    TCW_ERR_INVALID_PARAM);
	assert_int_equal(
	    tcw_order_build(tcw_keys_encryption_pem(g_keys), "python-hello", &in, 0, NULL, &bad),
	    TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_order_build("not a key", "python-hello", &in, 1, NULL, &bad),
	                 TCW_ERR_CRYPTO);
	assert_null(bad);
}

/* Replaces string member key of result with value and re-serialises. */
static char *edit_result(const char *reply, const char *key, const char *value)
{
	json_object *root = json_tokener_parse(reply);
	char *out;

	json_object_object_add(tu_member(root, "result"), key, json_object_new_string(value));
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}

static void expect_fail(const struct tcw_order *o, const char *reply, int err, const char *field)
{
	struct tcw_order_result res;
	struct tcw_error e;

	assert_int_equal(check(o, reply, &res, &e), err);
	assert_int_equal(e.err, err);
	if (field)
		assert_string_equal(e.field, field);
	assert_int_equal(res.output_count, 0);
	tcw_order_result_fini(&res);
}

static void test_tampered(void **state)
{
	const char *texts[] = {"Shiva"};
	struct tcw_order *o = build(texts, 1, NULL), *other = build(texts, 1, NULL);
	char *reply = process(o, RUN_HELLO), *bad, *b64;
	json_object *root = json_tokener_parse(reply), *res = tu_member(root, "result"), *item;
	uint8_t *raw;
	size_t size = 0;
	(void)state;
	/* signature */
	raw = tu_unb64(tu_str(res, "workerSignature"), &size);
	raw[size - 1] ^= 1;
	b64 = tcw_b64_encode(raw, size, NULL);
	bad = edit_result(reply, "workerSignature", b64);
	expect_fail(o, bad, TCW_ERR_VERIFY, "result.workerSignature");
	free(bad);
	free(b64);
	free(raw);
	/* data: the signature no longer covers it */
	item = json_object_array_get_idx(tu_member(res, "outData"), 0);
	raw = tu_unb64(tu_str(item, "data"), &size);
	raw[0] ^= 1;
	b64 = tcw_b64_encode(raw, size, NULL);
	json_object_object_add(item, "data", json_object_new_string(b64));
	bad = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	expect_fail(o, bad, TCW_ERR_VERIFY, "result.workerSignature");
	free(bad);
	free(b64);
	free(raw);
	/* ids */
	expect_fail(other, reply, TCW_ERR_VERIFY, "result.workOrderId");
	bad = edit_result(reply, "requesterId", tcw_order_id(other));
	expect_fail(o, bad, TCW_ERR_VERIFY, "result.requesterId");
	free(bad);
	bad = edit_result(reply, "workerNonce", "AAAA");
	expect_fail(o, bad, TCW_ERR_VERIFY, "result.workerSignature");
	free(bad);
	/* another worker's verifying key */
	{
		json_object *keys = tu_load_json("keys.json");
		struct tcw_order_result r;
		struct tcw_error e;

		assert_int_equal(tcw_order_check_reply(o,
		                                       tu_str(keys, "requester_verifying_key_pem"),
		                                       reply, strlen(reply), &r, &e),
		                 TCW_ERR_VERIFY);
		tcw_order_result_fini(&r);
		json_object_put(keys);
	}
	json_object_put(root);
	free(reply);
	tcw_order_free(&o);
	tcw_order_free(&other);
}

/* A correctly signed reply whose data does not decrypt: TCW_ERR_INTEGRITY. */
static void test_undecryptable(void **state)
{
	const char *texts[] = {"Ganesha"};
	struct tcw_order *o = build(texts, 1, NULL);
	char *reply = process(o, RUN_HELLO), *b64, *bad;
	json_object *root = json_tokener_parse(reply), *res = tu_member(root, "result"), *item;
	struct tcw_item_text t;
	uint8_t wh[32], der[TCW_ECDSA_DER_MAX], junk[40] = {1, 2, 3};
	size_t der_size = 0;
	(void)state;
	item = json_object_array_get_idx(tu_member(res, "outData"), 0);
	b64 = tcw_b64_encode(junk, sizeof(junk), NULL);
	json_object_object_add(item, "data", json_object_new_string(b64));
	t = (struct tcw_item_text){.index = 0, .data = b64, .dek = "null", .iv = ""};
	assert_int_equal(tcw_response_hash(tu_str(res, "workerNonce"), tu_str(res, "workOrderId"),
	                                   tu_str(res, "workerId"), tu_str(res, "workloadId"),
	                                   tu_str(res, "requesterId"), &t, 1, wh),
	                 TCW_OK);
	assert_int_equal(tcw_keys_sign(g_keys, wh, der, &der_size), TCW_OK);
	free(b64);
	b64 = tcw_b64_encode(der, der_size, NULL);
	json_object_object_add(res, "workerSignature", json_object_new_string(b64));
	bad = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	expect_fail(o, bad, TCW_ERR_INTEGRITY, NULL);
	free(bad);
	free(b64);
	json_object_put(root);
	free(reply);
	tcw_order_free(&o);
}

static void test_remote_error(void **state)
{
	const char *texts[] = {"Lakshmi"};
	struct tcw_order *o = build(texts, 1, NULL);
	char *reply = process(o, RUN_FAIL);
	struct tcw_order_result res;
	struct tcw_error e;
	const char *sig_err = "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"error\":{\"code\":4,"
	                      "\"message\":\"Invalid requester signature\"}}";
	(void)state;
	assert_int_equal(check(o, reply, &res, &e), TCW_ERR_REMOTE);
	assert_int_equal(res.error_code, 2);
	assert_string_equal(res.error_message, "Error processing work load");
	tcw_order_result_fini(&res);
	assert_null(res.error_message);
	/* e may be NULL */
	assert_int_equal(tcw_order_check_reply(o, tcw_keys_verifying_pem(g_keys), sig_err,
	                                       strlen(sig_err), &res, NULL),
	                 TCW_ERR_REMOTE);
	assert_int_equal(res.error_code, 4);
	assert_string_equal(res.error_message, "Invalid requester signature");
	tcw_order_result_fini(&res);
	free(reply);
	tcw_order_free(&o);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *reply;
		const char *field;
	} cases[] = {
	    {"not json", "reply"},
	    {"[]", "reply"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":1}", "reply"},
	    {"{\"error\":{\"message\":\"x\"}}", "error.code"},
	    {"{\"error\":{\"code\":2}}", "error.message"},
	    {"{\"result\":5}", "result"},
	    {"{\"result\":{}}", "result.workOrderId"},
	};
	const char *texts[] = {"Parvathy"};
	struct tcw_order *o = build(texts, 1, NULL);
	char *reply = process(o, RUN_HELLO), *bad;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_fail(o, cases[i].reply, TCW_ERR_INVALID_PARAM, cases[i].field);
	bad = edit_result(reply, "workerNonce", "");
	json_object *root = json_tokener_parse(bad);
	json_object_object_del(tu_member(root, "result"), "workerNonce");
	free(bad);
	bad = strdup(json_object_to_json_string(root));
	expect_fail(o, bad, TCW_ERR_INVALID_PARAM, "result.workerNonce");
	json_object_object_add(tu_member(root, "result"), "outData", json_object_new_int(1));
	free(bad);
	bad = strdup(json_object_to_json_string(root));
	expect_fail(o, bad, TCW_ERR_INVALID_PARAM, "result.outData");
	free(bad);
	json_object_put(root);
	free(reply);
	tcw_order_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_shape), cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_options),       cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_undecryptable), cmocka_unit_test(test_remote_error),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
