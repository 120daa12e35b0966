/* SPDX-License-Identifier: Apache-2.0 */
/* test_stored_reply.c - the processor's kept replies: exact resubmissions of results and
 * errors, the request hash of both parsers' paths, what is not kept, hook failures, the
 * replay check with the request identity (an interrupted order run again). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SLOTS 8
#define INTEGRITY "Work order integrity check failed"

/* A tiny replay cache and reply store for the hooks. */
struct slot {
	char id[TCWI_MAX_ID_HEX + 1];
	uint8_t request[32];
	char *reply;
	size_t size;
};

static struct {
	char seen[SLOTS][TCWI_MAX_ID_HEX + 1];
	int seen_count, seen_calls;
	struct slot kept[SLOTS];
	int kept_count, store_calls, stored_calls;
	int stored_answer;   /* forced stored_reply answer when not 0 */
	uint8_t asked[32];   /* the request identity of the last lookup */
	int request_calls;   /* seen_request calls */
	uint8_t checked[32]; /* the request identity seen_request got */
	int rerun;           /* seen_request lets a recorded id run again */
} g;
static int g_runs, g_fail, g_with_request;
static struct tcw_keys *g_keys;
static json_object *g_vectors;

/* Records id in g.seen: TCW_OK, or TCW_ERR_DUPLICATE when it is there. */
static int record_id(const char *id, size_t len)
{
	for (int i = 0; i < g.seen_count; i++)
		if (strcmp(g.seen[i], id) == 0)
			return TCW_ERR_DUPLICATE;
	assert_true(g.seen_count < SLOTS && len < sizeof(g.seen[0]));
	memcpy(g.seen[g.seen_count++], id, len + 1);
	return TCW_OK;
}

static int hook_seen(void *ctx, const char *id, size_t len)
{
	(void)ctx;
	g.seen_calls++;
	return record_id(id, len);
}

/* seen_request: as seen; with g.rerun an id recorded before runs again
 * (an interrupted order claimed by its exact resubmission). */
static int hook_seen_request(void *ctx, const char *id, size_t len, const uint8_t request[32])
{
	int rc;

	(void)ctx;
	g.request_calls++;
	memcpy(g.checked, request, 32);
	rc = record_id(id, len);
	return rc == TCW_ERR_DUPLICATE && g.rerun ? TCW_OK : rc;
}

static int hook_stored(void *ctx, const char *id, size_t len, const uint8_t request[32],
                       char **reply, size_t *size)
{
	(void)ctx;
	assert_int_equal(strlen(id), len);
	g.stored_calls++;
	memcpy(g.asked, request, 32);
	if (g.stored_answer)
		return g.stored_answer;
	for (int i = 0; i < g.kept_count; i++)
		if (strcmp(g.kept[i].id, id) == 0 && memcmp(g.kept[i].request, request, 32) == 0) {
			*reply = strdup(g.kept[i].reply);
			*size = g.kept[i].size;
			return TCW_OK;
		}
	return 1;
}

static void hook_store(void *ctx, const char *id, size_t len, const uint8_t request[32],
                       const char *reply, size_t size)
{
	struct slot *s = &g.kept[g.kept_count];

	(void)ctx;
	g.store_calls++;
	assert_true(g.kept_count < SLOTS && len < sizeof(s->id));
	assert_int_equal(strlen(reply), size);
	memcpy(s->id, id, len + 1);
	memcpy(s->request, request, 32);
	s->reply = strdup(reply);
	s->size = size;
	g.kept_count++;
}

static int run_hello(void *ctx, const char *name, const struct tcw_host *host,
                     struct tcw_wl_call *call)
{
	(void)ctx, (void)name;
	g_runs++;
	if (g_fail)
		return TCW_ERR_WORKLOAD;
	return host->output_add(call, "Hello", 5) == 0 ? TCW_OK : TCW_ERR_WORKLOAD;
}

static void reset(void)
{
	for (int i = 0; i < g.kept_count; i++)
		free(g.kept[i].reply);
	memset(&g, 0, sizeof(g));
	g_runs = 0;
	g_fail = 0;
}

static int setup(void **state)
{
	(void)state;
	g_vectors = tu_load_json("workorders.json");
	g_keys = tu_worker_keys("worker_rsa_private_pem");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	reset();
	tcw_keys_free(&g_keys);
	json_object_put(g_vectors);
	return 0;
}

/* The inner request text of vector name, with inner id id_json and, when
 * extra is set, one more (ignored) member extra_key: extra (caller frees). */
static char *inner_text(const char *name, const char *id_json, const char *extra)
{
	json_object *params = NULL, *inner = json_object_new_object();
	char *text;

	assert_int_equal(
	    json_object_deep_copy(tu_member(tu_request_vector(g_vectors, name), "request_params"),
	                          &params, NULL),
	    0);
	if (extra)
		json_object_object_add(params, "resultUri", json_object_new_string(extra));
	json_object_object_add(inner, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(inner, "method", json_object_new_string("WorkOrderSubmit"));
	json_object_object_add(inner, "id", json_tokener_parse(id_json));
	json_object_object_add(inner, "params", params);
	text = strdup(json_object_to_json_string_ext(inner, JSON_C_TO_STRING_PLAIN));
	assert_non_null(text);
	json_object_put(inner);
	return text;
}

/* Flips one hex digit of member key in the inner text (caller frees). */
static char *tamper(const char *text, const char *key)
{
	char *copy = strdup(text), pattern[64];
	char *at;

	assert_non_null(copy);
	snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
	at = strstr(copy, pattern);
	assert_non_null(at);
	at += strlen(pattern) + 5;
	*at = *at == '0' ? '1' : '0';
	return copy;
}

/* Runs the envelope with outer id outer_id around inner text (as a JSON
 * string, or as an object when as_object); hooks on or off. */
static char *run(const char *inner, int outer_id, int as_object, int hooks)
{
	struct tcw_processor p = {.keys = g_keys,
	                          .runner = {.run = run_hello},
	                          .signup_json = "{}",
	                          .seen = hook_seen,
	                          .stored_reply = hooks ? hook_stored : NULL,
	                          .store_reply = hooks ? hook_store : NULL,
	                          .seen_request = g_with_request ? hook_seen_request : NULL};
	json_object *outer = json_object_new_object();
	char *frame, *reply = NULL;
	size_t size = 0;

	json_object_object_add(outer, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(outer, "id", json_object_new_int(outer_id));
	json_object_object_add(outer, "method", json_object_new_string("ProcessWorkOrder"));
	json_object_object_add(
	    outer, "params", as_object ? json_tokener_parse(inner) : json_object_new_string(inner));
	frame = strdup(json_object_to_json_string_ext(outer, JSON_C_TO_STRING_PLAIN));
	assert_non_null(frame);
	json_object_put(outer);
	assert_int_equal(tcw_process_frame(&p, frame, strlen(frame), &reply, &size), TCW_OK);
	assert_int_equal(strlen(reply), size);
	free(frame);
	return reply;
}

static int is_result(const char *reply)
{
	return strstr(reply, "\"result\":{") != NULL && strstr(reply, "\"error\"") == NULL;
}

/* An accepted order's reply is kept under SHA-256 of its text; an exact
 * resubmission (any outer envelope) gets it back without anything being
 * checked or run again; any other text with the id is a duplicate. */
static void exact_resubmission(const char *extra)
{
	char *text = inner_text("hello_session_key", "\"1\"", extra);
	char *other = inner_text("hello_session_key", "\"2\"", extra);
	char *first, *again;

	reset();
	first = run(text, 1, 0, 1);
	assert_true(is_result(first));
	assert_int_equal(g_runs, 1);
	assert_int_equal(g.seen_calls, 1);
	assert_int_equal(g.stored_calls, 1); /* looked up before anything else: a miss */
	assert_int_equal(g.store_calls, 1);
	assert_string_equal(g.kept[0].reply, first);
	assert_string_equal(
	    g.kept[0].id,
	    tu_str(tu_member(tu_request_vector(g_vectors, "hello_session_key"), "request_params"),
	           "workOrderId"));
	/* byte-identical inner request, another outer id: the same identity
	 * and the same reply */
	again = run(text, 77, 0, 1);
	assert_memory_equal(g.asked, g.kept[0].request, 32);
	assert_string_equal(again, first);
	free(again);
	assert_int_equal(g_runs, 1);
	assert_int_equal(g.seen_calls, 1);
	assert_int_equal(g.store_calls, 1);
	/* the same order with another inner id is another request */
	again = run(other, 1, 0, 1);
	assert_memory_not_equal(g.asked, g.kept[0].request, 32);
	assert_non_null(strstr(again, "\"message\":\"Duplicate work order\""));
	assert_int_equal(g.stored_calls, 4); /* before, and again after the duplicate */
	assert_int_equal(g.store_calls, 1);
	assert_int_equal(g_runs, 1);
	free(again);
	free(first);
	free(text);
	free(other);
}

/* Both parsers: simdjson for texts without \u escapes, json-c otherwise
 * (a control character in a string is written as \u0001). */
static void test_exact_resubmission(void **state)
{
	(void)state;
	exact_resubmission(NULL);
	exact_resubmission("https://example.org/\x01");
}

/* An accepted order that fails keeps its error reply; orders that fail
 * before acceptance keep nothing. */
static void test_errors(void **state)
{
	char *text = inner_text("hello_session_key", "\"1\"", NULL);
	char *bad = tamper(text, "encryptedRequestHash");
	char *first, *again;
	(void)state;
	reset();
	g_fail = 1;
	first = run(text, 1, 0, 1);
	assert_non_null(strstr(first, "\"message\":\"Error processing work load\""));
	assert_int_equal(g.store_calls, 1);
	assert_string_equal(g.kept[0].reply, first);
	g_fail = 0;
	again = run(text, 1, 0, 1);
	assert_string_equal(again, first);
	assert_int_equal(g_runs, 1);
	free(again);
	free(first);
	/* not accepted: nothing kept, the hook never saw the id */
	reset();
	first = run(bad, 1, 0, 1);
	assert_non_null(strstr(first, INTEGRITY));
	assert_int_equal(g.seen_calls, 0);
	assert_int_equal(g.store_calls, 0);
	free(first);
	/* the id of a failed integrity check stays free for the real order */
	first = run(text, 1, 0, 1);
	assert_true(is_result(first));
	free(first);
	free(text);
	free(bad);
}

/* Without a text (params sent as an object), or without the hooks, nothing
 * is kept or looked up; a failing lookup is a miss. */
static void test_not_kept(void **state)
{
	char *text = inner_text("hello_session_key", "\"1\"", NULL), *reply;
	(void)state;
	reset();
	reply = run(text, 1, 1, 1);
	assert_true(is_result(reply));
	assert_int_equal(g.stored_calls + g.store_calls, 0);
	free(reply);
	reply = run(text, 1, 1, 1);
	assert_non_null(strstr(reply, "Duplicate work order"));
	free(reply);
	reset();
	reply = run(text, 1, 0, 0);
	assert_true(is_result(reply));
	reply[0] = '\0';
	free(reply);
	assert_int_equal(g.stored_calls + g.store_calls, 0);
	reset();
	g.stored_answer = TCW_ERR_NOMEM;
	reply = run(text, 1, 0, 1);
	assert_true(is_result(reply));
	free(reply);
	reply = run(text, 1, 0, 1);
	assert_non_null(strstr(reply, "Duplicate work order"));
	free(reply);
	free(text);
}

/* With seen_request, the replay check of a request sent as a string gets
 * its identity instead of seen; a recorded id it lets through runs again
 * and its new reply is kept; without an identity seen is asked. */
static void test_seen_request(void **state)
{
	char *text = inner_text("hello_session_key", "\"1\"", NULL), *reply, *first;
	const char *wo_id =
	    tu_str(tu_member(tu_request_vector(g_vectors, "hello_session_key"), "request_params"),
	           "workOrderId");
	(void)state;
	reset();
	g_with_request = 1;
	first = run(text, 1, 0, 1);
	assert_true(is_result(first));
	assert_int_equal(g.request_calls, 1);
	assert_int_equal(g.seen_calls, 0);
	assert_memory_equal(g.checked, g.kept[0].request, 32);
	assert_memory_equal(g.checked, g.asked, 32);
	free(first);
	/* an interrupted order: the id recorded, no reply kept */
	reset();
	g_with_request = 1;
	assert_int_equal(record_id(wo_id, strlen(wo_id)), TCW_OK);
	reply = run(text, 1, 0, 1);
	assert_non_null(strstr(reply, "\"message\":\"Duplicate work order\""));
	assert_int_equal(g_runs, 0);
	assert_int_equal(g.store_calls, 0);
	free(reply);
	g.rerun = 1;
	first = run(text, 1, 0, 1);
	assert_true(is_result(first));
	assert_int_equal(g_runs, 1);
	assert_int_equal(g.store_calls, 1);
	assert_string_equal(g.kept[0].reply, first);
	/* then its kept reply answers, nothing runs */
	reply = run(text, 2, 0, 1);
	assert_string_equal(reply, first);
	assert_int_equal(g_runs, 1);
	free(reply);
	free(first);
	/* params as an object: no identity, seen is asked */
	reset();
	g_with_request = 1;
	reply = run(text, 1, 1, 1);
	assert_true(is_result(reply));
	assert_int_equal(g.seen_calls, 1);
	assert_int_equal(g.request_calls, 0);
	free(reply);
	g_with_request = 0;
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_resubmission),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_not_kept),
	    cmocka_unit_test(test_seen_request),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
