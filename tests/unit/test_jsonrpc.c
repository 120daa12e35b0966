/* SPDX-License-Identifier: Apache-2.0 */
/* test_jsonrpc.c - error reply shapes, strict JSON parsing, the envelope of tcw_process_frame. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SIGNUP "{\"sealed_data\":\"\",\"verifying_key\":\"K\",\"quote\":\"\"}"
#define INVALID_REQUEST                                                                            \
	"{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":2,\"message\":\"Invalid request\"}}"
#define UNSUPPORTED(id)                                                                            \
	"{\"jsonrpc\":\"2.0\",\"id\":" id                                                          \
	",\"error\":{\"code\":2,\"message\":\"Unsupported method\"}}"

static int g_runs;

/* A runner that must never be reached by the envelope tests. */
static int never_run(void *ctx, const char *name, const struct tcw_host *host,
                     struct tcw_wl_call *call)
{
	(void)ctx, (void)name, (void)host, (void)call;
	g_runs++;
	return TCW_ERR_WORKLOAD;
}

static void check_reply(const char *id_json, int err, const char *field, const char *wo,
                        const char *want)
{
	struct tcw_error e;
	char *got;

	tcw_error_set(&e, err, field ? "%s" : NULL, field);
	got = tcw_error_reply(id_json, &e, wo);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_error_reply_shapes(void **state)
{
	(void)state;
	check_reply("0", TCW_ERR_INVALID_REQUEST, NULL, NULL, INVALID_REQUEST);
	check_reply(NULL, TCW_ERR_INVALID_REQUEST, NULL, NULL, INVALID_REQUEST);
	check_reply("\"1\"", TCW_ERR_INVALID_PARAM, "inData[1].iv", "ab12",
	            "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"error\":{\"code\":2,\"message\":"
	            "\"Invalid parameter: inData[1].iv\",\"data\":{\"workOrderId\":\"ab12\"}}}");
	check_reply("17", TCW_ERR_INTEGRITY, NULL, "ff",
	            "{\"jsonrpc\":\"2.0\",\"id\":17,\"error\":{\"code\":2,\"message\":"
	            "\"Work order integrity check failed\",\"data\":{\"workOrderId\":\"ff\"}}}");
	/* only Invalid parameter names a field: no oracle through other errors */
	check_reply("17", TCW_ERR_INTEGRITY, "inData[0].data", NULL,
	            "{\"jsonrpc\":\"2.0\",\"id\":17,\"error\":{\"code\":2,\"message\":"
	            "\"Work order integrity check failed\"}}");
	check_reply("\"x\"", TCW_ERR_SIGNATURE, NULL, NULL,
	            "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":4,\"message\":"
	            "\"Invalid requester signature\"}}");
	check_reply(
	    "3", TCW_ERR_BUSY, NULL, NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":8,\"message\":\"Worker busy\"}}");
	check_reply(
	    "0", TCW_ERR_NOMEM, NULL, NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":1,\"message\":\"Internal error\"}}");
	check_reply("0", TCW_ERR_WORKLOAD, NULL, "00",
	            "{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":2,\"message\":"
	            "\"Error processing work load\",\"data\":{\"workOrderId\":\"00\"}}}");
	check_reply("0", TCW_ERR_INVALID_PARAM, NULL, NULL,
	            "{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":2,\"message\":"
	            "\"Invalid parameter\"}}");
}

static void test_error_reply_ids(void **state)
{
	(void)state;
	check_reply("null", TCW_ERR_DUPLICATE, NULL, NULL,
	            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":2,\"message\":"
	            "\"Duplicate work order\"}}");
	check_reply("1.50", TCW_ERR_DUPLICATE, NULL, NULL,
	            "{\"jsonrpc\":\"2.0\",\"id\":1.50,\"error\":{\"code\":2,\"message\":"
	            "\"Duplicate work order\"}}");
	check_reply("-9", TCW_ERR_DUPLICATE, NULL, NULL,
	            "{\"jsonrpc\":\"2.0\",\"id\":-9,\"error\":{\"code\":2,\"message\":"
	            "\"Duplicate work order\"}}");
	/* not one JSON value: falls back to 0 */
	check_reply("{", TCW_ERR_INVALID_REQUEST, NULL, NULL, INVALID_REQUEST);
	check_reply("1 2", TCW_ERR_INVALID_REQUEST, NULL, NULL, INVALID_REQUEST);
	/* strings are escaped, '/' is not */
	check_reply("\"a/\\\"b\"", TCW_ERR_INVALID_PARAM, "x", "c/d",
	            "{\"jsonrpc\":\"2.0\",\"id\":\"a/\\\"b\",\"error\":{\"code\":2,\"message\":"
	            "\"Invalid parameter: x\",\"data\":{\"workOrderId\":\"c/d\"}}}");

	char *got = tcw_error_reply("5", NULL, NULL);
	assert_string_equal(got, "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":1,"
	                         "\"message\":\"Internal error\"}}");
	free(got);
}

static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
	    {"plain ascii text, long enough for the word loop", 1},
	    {"caf\xc3\xa9", 1},
	    {"\xe2\x82\xac", 1},
	    {"\xf0\x9f\x98\x80", 1},
	    {"\xf4\x8f\xbf\xbf", 1},
	    {"\xff", 0},
	    {"\x80", 0},
	    {"\xc3", 0},
	    {"\xc0\xaf", 0},         /* overlong '/' */
	    {"\xe0\x80\xaf", 0},     /* overlong */
	    {"\xed\xa0\x80", 0},     /* UTF-16 surrogate */
	    {"\xf4\x90\x80\x80", 0}, /* above U+10FFFF */
	    {"\xe2\x82", 0},         /* truncated */
	    {"abcdefgh\xe2\x28\xa1", 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(tcwi_utf8_valid((const uint8_t *)cases[i].s, strlen(cases[i].s)),
		                 cases[i].ok);
	assert_int_equal(tcwi_utf8_valid((const uint8_t *)"a\0b", 3), 1);
}

static void parse_ok(const char *text, const char *canonical)
{
	json_object *o = NULL;

	assert_int_equal(tcwi_json_parse(text, strlen(text), &o), TCW_OK);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), canonical);
	json_object_put(o);
}

static void parse_bad(const char *text, size_t len)
{
	json_object *o = (json_object *)&o;

	assert_int_equal(tcwi_json_parse(text, len, &o), TCW_ERR_INVALID_REQUEST);
	assert_null(o);
}

/* n '[' followed by n ']' */
static char *nested(size_t n)
{
	char *s = malloc(2 * n + 1);

	assert_non_null(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	return s;
}

static void test_json_parse(void **state)
{
	char *s;
	(void)state;
	parse_ok("{\"a\":[1,\"x\"]}  \r\n\t", "{\"a\":[1,\"x\"]}");
	parse_ok("7", "7");
	parse_ok("\"s\"", "\"s\"");
	parse_bad("", 0);
	parse_bad("   ", 3);
	parse_bad("{} x", 4);
	parse_bad("[1] [2]", 7);
	parse_bad("{\"a\":1}}", 8);
	parse_bad("[1,]", 4);
	parse_bad("{\"a\":\"\xff\"}", 9);
	parse_bad("{\"a\":1}\0", 8);
	parse_bad("{\"a\":\0}", 7);
	s = nested(TCWI_MAX_JSON_DEPTH);
	parse_ok(s, s);
	free(s);
	s = nested(TCWI_MAX_JSON_DEPTH + 1);
	parse_bad(s, strlen(s));
	free(s);
}

/* Runs frame[0..len) through a processor and compares the reply to want. */
static void frame_case(const char *frame, size_t len, size_t max, const char *want)
{
	struct tcw_processor p = {.keys = NULL,
	                          .runner = {.run = never_run},
	                          .signup_json = SIGNUP,
	                          .max_message_size = max};
	char *reply = NULL;
	size_t reply_size = 0;

	assert_int_equal(tcw_process_frame(&p, frame, len, &reply, &reply_size), TCW_OK);
	assert_non_null(reply);
	assert_string_equal(reply, want);
	assert_int_equal(reply_size, strlen(reply));
	free(reply);
}

static void frame_str(const char *frame, const char *want)
{
	frame_case(frame, strlen(frame), 0, want);
}

static void test_frame_rejects(void **state)
{
	static const char *bad[] = {
	    "not json",
	    "[1,2]",
	    "\"ProcessWorkOrder\"",
	    "null",
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"params\":\"x\"}",
	    "{\"id\":1,\"method\":5,\"params\":\"x\"}",
	    "{\"id\":1,\"method\":\"ProcessWorkOrder\"}",
	    "{\"id\":1,\"method\":\"ProcessWorkerSignup\"}",
	    "{\"id\":1,\"method\":\"ProcessWorkOrder\",\"params\":5}",
	    "{\"id\":1,\"method\":\"ProcessWorkOrder\",\"params\":[]}",
	    "{\"id\":1,\"method\":\"ProcessWorkOrder\",\"params\":null}",
	    "{\"id\":1,\"method\":\"ProcessWorkOrder\",\"params\":\"not json\"}",
	    "{\"id\":1,\"method\":\"ProcessWorkOrder\",\"params\":\"{} x\"}",
	    "{\"id\":1,\"method\":\"ProcessWorkOrder\",\"params\":\"[1]\"}",
	    "{\"id\":1,\"method\":\"ProcessWorkOrder\",\"params\":\"\"}",
	    "{\"id\":1,\"method\":\"ProcessWorkOrder\",\"params\":\"{\\\"a\\\":\\\"\\u0000\\\"}\"}",
	    "{\"method\":\"ProcessWorkerSignup\",\"params\":null} x",
	    "{\"method\":\"ProcessWorkerSignup\",\"params\":null}{}",
	    "{\"method\":\"ProcessWorkerSignup\",\"params\":\"\xff\"}",
	    "{\"method\":\"ProcessWorkerSignup\",\"params\":\"\xc0\xaf\"}",
	    "{\"method\":\"ProcessWorkerSignup\",\"params\":\"\xed\xa0\x80\"}",
	};
	(void)state;
	g_runs = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		frame_str(bad[i], INVALID_REQUEST);
	frame_case("", 0, 0, INVALID_REQUEST);
	frame_case(NULL, 0, 0, INVALID_REQUEST);
	frame_case("{\"method\":\"ProcessWorkerSignup\",\"params\":null}\0",
	           strlen("{\"method\":\"ProcessWorkerSignup\",\"params\":null}") + 1, 0,
	           INVALID_REQUEST);
	assert_int_equal(g_runs, 0);
}

static void test_frame_depth(void **state)
{
	const size_t deep = 100000;
	char *frame = malloc(deep + 1), *inner, *ok;
	size_t n;
	(void)state;
	assert_non_null(frame);
	memset(frame, '[', deep);
	frame[deep] = '\0';
	frame_str(frame, INVALID_REQUEST);
	free(frame);

	/* params nested to the limit is accepted (depth 1 is the envelope) */
	inner = nested(TCWI_MAX_JSON_DEPTH - 1);
	n = strlen(inner) + 64;
	ok = malloc(n);
	assert_non_null(ok);
	snprintf(ok, n, "{\"method\":\"ProcessWorkerSignup\",\"params\":%s}", inner);
	frame_str(ok, SIGNUP);
	free(inner);
	inner = nested(TCWI_MAX_JSON_DEPTH);
	snprintf(ok, n, "{\"method\":\"ProcessWorkerSignup\",\"params\":%s}", inner);
	frame_str(ok, INVALID_REQUEST);
	free(inner);
	free(ok);
}

static void test_frame_methods(void **state)
{
	const char *signup = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ProcessWorkerSignup\","
	                     "\"params\":null}";
	(void)state;
	frame_str(signup, SIGNUP);
	frame_str(" {\"method\":\"ProcessWorkerSignup\",\"params\":{}}\n", SIGNUP);
	frame_str("{\"id\":4,\"method\":\"Foo\",\"params\":null}", UNSUPPORTED("0"));
	frame_str("{\"method\":\"processworkersignup\",\"params\":null}", UNSUPPORTED("0"));
	frame_str("{\"method\":\"ProcessWorkerSignup\\u0000\",\"params\":null}", UNSUPPORTED("0"));
	/* inner method other than WorkOrderSubmit, with the inner id echoed */
	frame_str(
	    "{\"id\":4,\"method\":\"ProcessWorkOrder\",\"params\":"
	    "\"{\\\"id\\\":\\\"7\\\",\\\"method\\\":\\\"WorkerLookUp\\\",\\\"params\\\":{}}\"}",
	    UNSUPPORTED("\"7\""));
	frame_str("{\"id\":4,\"method\":\"ProcessWorkOrder\",\"params\":"
	          "{\"id\":12,\"method\":3,\"params\":{}}}",
	          UNSUPPORTED("12"));
	/* inner params missing or not an object: Invalid request, inner id */
	frame_str("{\"method\":\"ProcessWorkOrder\",\"params\":"
	          "\"{\\\"id\\\":5,\\\"method\\\":\\\"WorkOrderSubmit\\\"}\"}",
	          "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":2,\"message\":"
	          "\"Invalid request\"}}");
	frame_str("{\"method\":\"ProcessWorkOrder\",\"params\":{\"id\":null,\"params\":[]}}",
	          "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":2,\"message\":"
	          "\"Invalid request\"}}");
}

static void test_frame_size_limit(void **state)
{
	const char *signup = "{\"method\":\"ProcessWorkerSignup\",\"params\":null}";
	size_t len = strlen(signup);
	(void)state;
	frame_case(signup, len, len, SIGNUP);
	frame_case(signup, len, len - 1, INVALID_REQUEST);
}

static void test_frame_no_signup(void **state)
{
	struct tcw_processor p = {.runner = {.run = never_run}};
	const char *frame = "{\"method\":\"ProcessWorkerSignup\",\"params\":null}";
	char *reply = NULL;
	(void)state;
	assert_int_equal(tcw_process_frame(&p, frame, strlen(frame), &reply, NULL), TCW_OK);
	assert_string_equal(reply, "{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":1,"
	                           "\"message\":\"Internal error\"}}");
	free(reply);
	assert_int_equal(tcw_process_frame(NULL, frame, strlen(frame), &reply, NULL),
	                 TCW_ERR_INVALID_PARAM);
	assert_null(reply);
	assert_int_equal(tcw_process_frame(&p, frame, strlen(frame), NULL, NULL),
	                 TCW_ERR_INVALID_PARAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_reply_shapes),
	    cmocka_unit_test(test_error_reply_ids),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_json_parse),
	    cmocka_unit_test(test_frame_rejects),
	    cmocka_unit_test(test_frame_depth),
	    cmocka_unit_test(test_frame_methods),
	    cmocka_unit_test(test_frame_size_limit),
	    cmocka_unit_test(test_frame_no_signup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
