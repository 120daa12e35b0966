/* SPDX-License-Identifier: Apache-2.0 */
/* test_json_span.c - the gateway's member span finder (gateway/json_span.c): the exact bytes of
 * a top-level member's value, the last of duplicate keys as json-c keeps, strings holding
 * braces, quotes and escapes, whitespace, and the cases it leaves to json-c (escaped keys,
 * no such member). */
#include "testutil.h"

#include <string.h>

#include <json-c/json.h>

#include "gateway.h"

/* The span of key in text must be exactly want (NULL: refused), and what
 * it holds must equal the value json-c parsed for key. */
static void span_is(const char *text, const char *key, const char *want)
{
	size_t off = 0, len = 0, n = strlen(text);
	int rc = gw_json_member_span(text, n, key, &off, &len);
	json_object *root, *v = NULL, *part;

	if (!want) {
		assert_int_equal(rc, -1);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text + off, want, len);
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, key, &v));
	part = json_tokener_parse(want);
	assert_true(json_object_equal(part, v));
	json_object_put(part);
	json_object_put(root);
}

static void test_worker_reply(void **state)
{
	(void)state;
	span_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"workOrderId\":\"ab\",\"outData\":"
	        "[{\"index\":0,\"data\":\"SGVsbG8=\"}]}}",
	        "result", "{\"workOrderId\":\"ab\",\"outData\":[{\"index\":0,\"data\":\"SGVsbG8=\"}]}");
	span_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":2,\"message\":\"Error processing "
	        "work load\",\"data\":{\"workOrderId\":\"ab\"}}}",
	        "error", "{\"code\":2,\"message\":\"Error processing work load\",\"data\":"
	                 "{\"workOrderId\":\"ab\"}}");
}

static void test_strings_and_nesting(void **state)
{
	(void)state;
	/* braces, brackets, quotes and backslashes inside strings do not count */
	span_is("{\"result\":{\"a\":\"x}\\\"]\\\\\",\"b\":[1,{\"c\":null},\"]\"]},\"z\":0}", "result",
	        "{\"a\":\"x}\\\"]\\\\\",\"b\":[1,{\"c\":null},\"]\"]}");
	/* a value that only looks like the key */
	span_is("{\"a\":\"result\",\"result\":true}", "result", "true");
	span_is("{\"a\":{\"result\":1},\"result\":-2.5e3}", "result", "-2.5e3");
	span_is(" \t{ \"result\" :\n [ 1 , 2 ] ,\"id\":1 }\r\n", "result", "[ 1 , 2 ]");
	span_is("{\"result\":\"\"}", "result", "\"\"");
}

static void test_duplicates_last(void **state)
{
	(void)state;
	span_is("{\"result\":12,\"result\":{\"k\":[]}}", "result", "{\"k\":[]}");
}

static void test_refused(void **state)
{
	(void)state;
	span_is("{\"res\\u0075lt\":1}", "result", NULL);
	span_is("{\"a\":1}", "result", NULL);
	span_is("{}", "result", NULL);
	span_is("[1]", "result", NULL);
	span_is("", "result", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_worker_reply),
	    cmocka_unit_test(test_strings_and_nesting),
	    cmocka_unit_test(test_duplicates_last),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
