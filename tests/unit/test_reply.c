/* SPDX-License-Identifier: Apache-2.0 */
/* test_reply.c - the result reply writer (lib/reply.c) against json-c's own
 * serialisation of the same tree, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "internal.h"
#include "tcw/tcw.h"

/* The result reply as json-c writes it (what workorder.c used to build). */
static char *jsonc_reply(json_object *id, const char *const f[5], const struct tcwi_reply_item *it,
                         const char *const *data, size_t n, const char *sig)
{
	static const char *const keys[5] = {"workloadId", "workOrderId", "workerId",
	                                    "requesterId", "workerNonce"};
	json_object *root = json_object_new_object(), *res = json_object_new_object();
	json_object *arr = json_object_new_array();
	char *out;

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "index", json_object_new_int64(it[i].index));
		json_object_object_add(o, "data", json_object_new_string(data[i]));
		json_object_object_add(o, "encryptedDataEncryptionKey",
		                       json_object_new_string(it[i].dek));
		json_object_object_add(o, "iv", json_object_new_string(it[i].iv));
		json_object_array_add(arr, o);
	}
	for (int i = 0; i < 5; i++)
		json_object_object_add(res, keys[i], json_object_new_string(f[i]));
	json_object_object_add(res, "outData", arr);
	json_object_object_add(res, "workerSignature", json_object_new_string(sig));
	json_object_object_add(root, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(root, "id", json_object_get(id));
	json_object_object_add(root, "result", res);
	out = strdup(json_object_to_json_string_ext(
	    root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}

/* Writes the reply with reply.c and compares it with json-c's. */
static void check(json_object *id, const char *const f[5], const int64_t *index,
                  const char *const *dek, const char *const *iv, const char *const *data,
                  size_t n, const char *sig)
{
	struct tcwi_reply_item it[4];
	struct tcwi_reply r;
	char *want, *got = NULL;
	size_t size = 0;

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++)
		it[i] = (struct tcwi_reply_item){
		    .index = index[i], .dek = dek[i], .iv = iv[i], .data_len = strlen(data[i])};
	assert_int_equal(tcwi_reply_begin(id, f, it, n, &r), TCW_OK);
	for (size_t i = 0; i < n; i++)
		memcpy(it[i].data, data[i], it[i].data_len);
	assert_int_equal(tcwi_reply_finish(&r, sig, &got, &size), TCW_OK);
	tcwi_reply_discard(&r);
	want = jsonc_reply(id, f, it, data, n, sig);
	assert_string_equal(got, want);
	assert_int_equal(size, strlen(want));
	free(want);
	free(got);
}

static void test_plain_result(void **state)
{
	const char *const f[5] = {"68656c6c6f", "0a1b", "ff00", "01", "bm9uY2U="};
	const int64_t index[1] = {0};
	const char *const dek[1] = {"null"}, *const iv[1] = {""}, *const data[1] = {"QUJD+/=="};
	json_object *id = json_object_new_int(42);

	(void)state;
	check(id, f, index, dek, iv, data, 1, "MEUCIQ/+abc=");
	json_object_put(id);
}

/* Every character json-c escapes, in every text field. */
static void test_escapes(void **state)
{
	char all[128];
	const char *const f[5] = {all, "a\"b\\c/d", "\x01\x1f\x7f", "caf\xc3\xa9", ""};
	const int64_t index[3] = {-7, INT64_MAX, INT64_MIN};
	const char *const dek[3] = {"", "-", all}, *const iv[3] = {"\b\f\n\r\t", "00", ""};
	const char *const data[3] = {"", "x", "y/z"};
	json_object *id = json_object_new_string("id \"with\" \\ and \n");

	(void)state;
	for (int c = 1; c < 128; c++)
		all[c - 1] = (char)c;
	all[127] = '\0';
	check(id, f, index, dek, iv, data, 3, "s\"ig");
	json_object_put(id);
}

/* Ids of every JSON kind, including a number json-c keeps as text. */
static void test_ids(void **state)
{
	const char *const f[5] = {"w", "o", "k", "r", "n"};
	const char *texts[] = {"null", "1.50", "-0", "[1,\"a\",{\"b\":null}]", "{\"x\":true}",
	                       "18446744073709551615", "\"\\u00e9\""};
	const int64_t index[1] = {3};
	const char *const dek[1] = {"ab"}, *const iv[1] = {"cd"}, *const data[1] = {"ZZ"};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_object *id = NULL;

		assert_int_equal(tcwi_json_parse(texts[i], strlen(texts[i]), &id), TCW_OK);
		check(id, f, index, dek, iv, data, 1, "sig");
		json_object_put(id);
	}
}

/* No outData items; a signature longer than the room reserved for it. */
static void test_empty_and_long_signature(void **state)
{
	const char *const f[5] = {"w", "o", "k", "r", "n"};
	char sig[400];
	json_object *id = json_object_new_int(1);

	(void)state;
	memset(sig, 'A', sizeof(sig) - 1);
	sig[sizeof(sig) - 1] = '\0';
	check(id, f, NULL, NULL, NULL, NULL, 0, "");
	check(id, f, NULL, NULL, NULL, NULL, 0, sig);
	json_object_put(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_result),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_empty_and_long_signature),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
