/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_jsonfast.c - tcwi_json_parse with its simdjson path (lib/jsonfast.cpp,
 * texts from TCWI_JSON_FAST_MIN bytes) gives exactly the trees and verdicts
 * of json-c alone: every text is parsed as is and padded with leading
 * whitespace to 64 KiB, and compared with a plain json-c parse.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Valid texts; the fast path must build the json-c path's tree. */
static const char *const g_valid[] = {
    "{}",
    "[]",
    "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":49534,\"method\":\"ProcessWorkOrder\",\"params\":\"{\\\"a\\\":1}"
    "\"}",
    "[0,-0,1,-1,9223372036854775807,-9223372036854775808,9223372036854775808,"
    "18446744073709551615]",
    "[1.5,1.50,-2.25e3,1E+5,0.0e-0,1e400]", /* doubles: json-c keeps their text */
    "[123456789012345678901234567890]",     /* json-c clamps it */
    "[-123456789012345678901234567890]",
    "{\"a\":1,\"a\":2,\"b\":3}",  /* later duplicates win */
    "{\"k\\u0000ey\":1}",         /* an escaped NUL ends a key */
    "[\"\\u0000in the middle\"]", /* but not a string */
    "[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"]",
    "[\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"]",
    "[\"\\\\u00e9 is no escape\",\"\\\\\\\\u\"]", /* \\ then u: the fast path */
    "[\"a\\\\\\u00e9b\"]",                             /* \\ then \u00e9: json-c */
    "[\"/a/b\",\"+/=\"]",
    "\"a bare string\"",
    "42",
    "true",
    "null",
    "[NaN,Infinity,-Infinity]", /* json-c's leniency, kept */
    "[00,1.]",
    "[\"raw\ttab\"]", /* json-c takes raw tabs in strings */
    "{\"a\" :\t[ 1 ,\n2 ]\r}  ",
};

/* Texts the json-c path rejects; the fast path must reject them too. */
static const char *const g_invalid[] = {
    "",
    "{",
    "[1,]",
    "{\"a\" 1}",
    "{\"a\":1}}",
    "{\"a\":1} x",
    "[1] [2]",
    "[\"unterminated]",
    "[\"bad escape \\x\"]",
    "[\"\xff\"]",         /* not UTF-8 */
    "[\"\xc0\xaf\"]",     /* overlong */
    "[\"\xed\xa0\x80\"]", /* surrogate */
    "[-]",
    "[01x]",
    "[nan]",
    "[+1]",
    "[.5]",
};

/* Bytes of whitespace padded() puts in front of a text. */
#define PAD_SIZE (64u * 1024u)

/* text preceded by 64 KiB of spaces; caller frees. */
static char *padded(const char *text, size_t *len)
{
	size_t n = strlen(text), pad = PAD_SIZE;
	char *buf = malloc(pad + n + 1);

	assert_non_null(buf);
	memset(buf, ' ', pad);
	memcpy(buf + pad, text, n + 1);
	*len = pad + n;
	return buf;
}

/* The reference: json-c alone, as tcwi_json_parse used it before the
 * fast path (strict, depth 64, no NUL, UTF-8, whitespace after the value). */
static int ref_parse(const char *text, size_t len, json_object **out)
{
	struct json_tokener *tok;
	json_object *o;
	size_t end;
	int ok;

	*out = NULL;
	if (memchr(text, '\0', len) || !tcwi_utf8_valid((const uint8_t *)text, len))
		return TCW_ERR_INVALID_REQUEST;
	tok = json_tokener_new_ex(TCWI_MAX_JSON_DEPTH);
	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, len ? text : "", (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!o && json_tokener_get_error(tok) == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, "", 1);
		end = len;
	}
	ok = json_tokener_get_error(tok) == json_tokener_success;
	for (; ok && end < len; end++)
		ok = strchr(" \t\r\n", text[end]) != NULL;
	json_tokener_free(tok);
	if (!ok) {
		json_object_put(o);
		return TCW_ERR_INVALID_REQUEST;
	}
	*out = o;
	return TCW_OK;
}

/* Compact serialisation of o for comparisons ("null" for NULL). */
static const char *dump(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                             JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Types of the whole tree, as one string (int and double differ). */
static void types(json_object *o, char *out, size_t *n, size_t cap)
{
	assert_true(*n + 1 < cap);
	out[(*n)++] = (char)('0' + json_object_get_type(o));
	out[*n] = '\0';
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			types(val, out, n, cap);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			types(json_object_array_get_idx(o, i), out, n, cap);
	}
}

/* Fails unless tcwi_json_parse(text) builds what json-c alone builds:
 * the same text and the same type at every node (NaN != NaN rules out
 * json_object_equal). */
static void same_tree(const char *text, size_t len)
{
	json_object *want = NULL, *got = NULL;
	char tw[256], tg[256];
	size_t nw = 0, ng = 0;

	assert_int_equal(ref_parse(text, len, &want), TCW_OK);
	assert_int_equal(tcwi_json_parse(text, len, &got), TCW_OK);
	assert_string_equal(dump(want), dump(got));
	types(want, tw, &nw, sizeof(tw));
	types(got, tg, &ng, sizeof(tg));
	assert_string_equal(tw, tg);
	json_object_put(want);
	json_object_put(got);
}

static void test_valid_same_tree(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(g_valid) / sizeof(g_valid[0]); i++) {
		size_t len;
		char *big = padded(g_valid[i], &len);

		same_tree(g_valid[i], strlen(g_valid[i]));
		same_tree(big, len);
		free(big);
	}
}

static void test_invalid_same_verdict(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(g_invalid) / sizeof(g_invalid[0]); i++) {
		json_object *o = NULL;
		size_t len;
		char *big = padded(g_invalid[i], &len);

		assert_int_equal(ref_parse(g_invalid[i], strlen(g_invalid[i]), &o),
		                 TCW_ERR_INVALID_REQUEST);
		assert_int_equal(ref_parse(big, len, &o), TCW_ERR_INVALID_REQUEST);
		assert_int_equal(tcwi_json_parse(g_invalid[i], strlen(g_invalid[i]), &o),
		                 TCW_ERR_INVALID_REQUEST);
		assert_null(o);
		assert_int_equal(tcwi_json_parse(big, len, &o), TCW_ERR_INVALID_REQUEST);
		assert_null(o);
		free(big);
	}
}

/* k nested arrays; caller frees. */
static char *nested(size_t k)
{
	char *t = malloc(2 * k + 1);

	assert_non_null(t);
	memset(t, '[', k);
	memset(t + k, ']', k);
	t[2 * k] = '\0';
	return t;
}

/* Nesting up to TCWI_MAX_JSON_DEPTH is taken on both paths, one more is not. */
static void test_depth_limit(void **state)
{
	for (size_t k = TCWI_MAX_JSON_DEPTH - 1; k <= TCWI_MAX_JSON_DEPTH + 1; k++) {
		int want = k <= TCWI_MAX_JSON_DEPTH ? TCW_OK : TCW_ERR_INVALID_REQUEST;
		char *t = nested(k), *big;
		json_object *o = NULL;
		size_t len;

		(void)state;
		assert_int_equal(tcwi_json_parse(t, strlen(t), &o), want);
		json_object_put(o);
		o = NULL;
		big = padded(t, &len);
		assert_int_equal(tcwi_json_parse(big, len, &o), want);
		json_object_put(o);
		free(big);
		free(t);
	}
}

/* A raw NUL anywhere fails before any parser runs, however large the text. */
static void test_nul_rejected(void **state)
{
	json_object *o = NULL;
	size_t len;
	char *big = padded("[\"a?b\"]", &len);

	(void)state;
	big[len - 4] = '\0';
	assert_int_equal(tcwi_json_parse(big, len, &o), TCW_ERR_INVALID_REQUEST);
	assert_null(o);
	free(big);
}

#ifdef TCW_HAVE_SIMDJSON
/* The fast path itself takes plain documents (no silent fallback) and
 * leaves doubles and what it refuses to json-c. */
static void test_fast_path_direct(void **state)
{
	static const char doc[] = "{\"a\":[1,-2,\"x\"],\"b\":{\"c\":null,\"d\":true}}";
	json_object *o = NULL;

	(void)state;
	assert_int_equal(
	    tcwi_json_parse_fast(doc, strlen(doc), TCWI_MAX_JSON_DEPTH, 0, &o, NULL, NULL), TCW_OK);
	assert_string_equal(dump(o), doc);
	json_object_put(o);
	o = NULL;
	assert_int_equal(tcwi_json_parse_fast("[1.5]", 5, TCWI_MAX_JSON_DEPTH, 0, &o, NULL, NULL),
	                 TCW_ERR_INVALID_REQUEST);
	assert_null(o);
	assert_int_equal(tcwi_json_parse_fast("[[1]]", 5, 1, 0, &o, NULL, NULL),
	                 TCW_ERR_INVALID_REQUEST);
	assert_null(o);
	assert_int_equal(tcwi_json_parse_fast("[1]", 3, 1, 0, &o, NULL, NULL), TCW_OK);
	json_object_put(o);
}
#endif

/* A large work order envelope: the params string survives the fast path
 * byte for byte and parses again. */
static void test_large_envelope(void **state)
{
	size_t n = 3 * PAD_SIZE, len;
	char *data = malloc(n + 1), *text = malloc(n + 256);
	json_object *outer = NULL, *inner = NULL, *params, *v;

	(void)state;
	assert_non_null(data);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		data[i] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
	data[n] = '\0';
	len = (size_t)snprintf(
	    text, n + 256,
	    "{\"method\":\"ProcessWorkOrder\",\"params\":\"{\\\"data\\\":\\\"%s\\\"}\"}", data);
	assert_int_equal(tcwi_json_parse(text, len, &outer), TCW_OK);
	assert_true(json_object_object_get_ex(outer, "params", &params));
	assert_int_equal(tcwi_json_parse(json_object_get_string(params),
	                                 (size_t)json_object_get_string_len(params), &inner),
	                 TCW_OK);
	assert_true(json_object_object_get_ex(inner, "data", &v));
	assert_int_equal(json_object_get_string_len(v), n);
	assert_memory_equal(json_object_get_string(v), data, n);
	json_object_put(inner);
	json_object_put(outer);
	free(data);
	free(text);
}

#ifdef TCW_HAVE_SIMDJSON
/* An envelope whose params string holds text (built with json-c, so the
 * string is escaped as any client escapes it); caller frees. */
static char *envelope(const char *inner_text)
{
	json_object *env = json_object_new_object();
	char *out = NULL;

	json_object_object_add(env, "method", json_object_new_string("ProcessWorkOrder"));
	json_object_object_add(env, "params", json_object_new_string(inner_text));
	json_object_object_add(env, "id", json_object_new_int(7));
	assert_int_equal(tcwi_json_dump(env, &out, NULL), TCW_OK);
	json_object_put(env);
	return out;
}

/* nest_params: a large params string holding an object comes back parsed,
 * exactly as parsing the string would give it; anything else stays the
 * string. */
static void test_nested_params(void **state)
{
	static const char *const keep_string[] = {"[1,2,3]", "{\"a\":", "\"just text\"",
	                                          "{\"n\":1.5}", "{\"e\":\"\\u00e9\"}"};
	char *inner = malloc(PAD_SIZE + 64), *env;
	json_object *o = NULL, *params, *want = NULL;
	const char *text = NULL;
	size_t text_len = 0;

	(void)state;
	assert_non_null(inner);
	snprintf(inner, PAD_SIZE + 64, "{\"data\":\"%0*d\",\"k\":[true,null,-3]}", PAD_SIZE, 5);
	env = envelope(inner);
	assert_int_equal(
	    tcwi_json_parse_fast(env, strlen(env), TCWI_MAX_JSON_DEPTH, 1, &o, &text, &text_len),
	    TCW_OK);
	assert_true(json_object_object_get_ex(o, "params", &params));
	assert_true(json_object_is_type(params, json_type_object));
	assert_int_equal(ref_parse(inner, strlen(inner), &want), TCW_OK);
	assert_string_equal(dump(params), dump(want));
	/* the params text as sent, kept until tcwi_json_fast_release */
	assert_non_null(text);
	assert_int_equal(text_len, strlen(inner));
	assert_memory_equal(text, inner, text_len);
	tcwi_json_fast_release();
	json_object_put(want);
	json_object_put(o);
	free(env);
	/* without nest_params, or for a small string, params stays a string */
	env = envelope(inner);
	assert_int_equal(
	    tcwi_json_parse_fast(env, strlen(env), TCWI_MAX_JSON_DEPTH, 0, &o, NULL, NULL), TCW_OK);
	assert_true(json_object_object_get_ex(o, "params", &params));
	assert_string_equal(json_object_get_string(params), inner);
	json_object_put(o);
	free(env);
	for (size_t i = 0; i < sizeof(keep_string) / sizeof(keep_string[0]); i++) {
		/* pad each to the large size with trailing whitespace */
		snprintf(inner, PAD_SIZE + 64, "%-*s", (int)PAD_SIZE, keep_string[i]);
		env = envelope(inner);
		assert_int_equal(tcwi_json_parse_fast(env, strlen(env), TCWI_MAX_JSON_DEPTH, 1, &o,
		                                      &text, &text_len),
		                 TCW_OK);
		assert_null(text);
		assert_int_equal(text_len, 0);
		assert_true(json_object_object_get_ex(o, "params", &params));
		assert_true(json_object_is_type(params, json_type_string));
		assert_string_equal(json_object_get_string(params), inner);
		json_object_put(o);
		free(env);
	}
	free(inner);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_same_tree),  cmocka_unit_test(test_invalid_same_verdict),
	    cmocka_unit_test(test_depth_limit),      cmocka_unit_test(test_nul_rejected),
#ifdef TCW_HAVE_SIMDJSON
	    cmocka_unit_test(test_fast_path_direct), cmocka_unit_test(test_nested_params),
#endif
	    cmocka_unit_test(test_large_envelope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
