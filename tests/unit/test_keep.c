/* SPDX-License-Identifier: Apache-2.0 */
/* test_keep.c - the identity of an inner request text for kept replies: equal for equal
 * bytes, different for any other byte (inside and outside the data texts it leaves to the
 * request hash), escapes, literals that only look like data, a hostile text. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BIG 20000

/* A parsed request: its text, params, items and request hash. */
struct req {
	char *text;
	json_object *root;
	struct tcwi_item in[TCWI_MAX_ITEMS], out[TCWI_MAX_ITEMS];
	size_t in_count, out_count;
	uint8_t rh[32], id[32];
};

static size_t items_of(json_object *params, const char *array, struct tcwi_item *it)
{
	json_object *arr = NULL;
	struct tcw_error e;
	size_t n;

	if (!json_object_object_get_ex(params, array, &arr))
		return 0;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		memset(&it[i], 0, sizeof(it[i]));
		assert_int_equal(
		    tcwi_item_parse(json_object_array_get_idx(arr, i), array, i, &it[i], &e),
		    TCW_OK);
	}
	return n;
}

/* Parses text as libtcw does and computes its request hash and identity. */
static void parse(struct req *r, const char *text)
{
	struct tcw_item_text tin[TCWI_MAX_ITEMS], tout[TCWI_MAX_ITEMS];
	json_object *params;

	memset(r, 0, sizeof(*r));
	r->text = strdup(text);
	assert_non_null(r->text);
	assert_int_equal(tcwi_json_parse(r->text, strlen(r->text), &r->root), TCW_OK);
	params = tu_member(r->root, "params");
	r->in_count = items_of(params, "inData", r->in);
	r->out_count = items_of(params, "outData", r->out);
	for (size_t i = 0; i < r->in_count; i++)
		tin[i] = r->in[i].text;
	for (size_t i = 0; i < r->out_count; i++)
		tout[i] = r->out[i].text;
	assert_int_equal(tcw_request_hash(tu_str(params, "requesterNonce"),
	                                  tu_str(params, "workOrderId"), tu_str(params, "workerId"),
	                                  tu_str(params, "workloadId"),
	                                  tu_str(params, "requesterId"), tin, r->in_count, tout,
	                                  r->out_count, r->rh),
	                 TCW_OK);
	assert_int_equal(tcwi_request_identity(r->text, strlen(r->text), r->in, r->in_count, r->out,
	                                       r->out_count, r->rh, r->id),
	                 TCW_OK);
}

static void done(struct req *r)
{
	json_object_put(r->root);
	free(r->text);
}

/* An inner request text: data texts a and b (inData 0 and 1), extra
 * members spliced in before inData (may be ""); caller frees. */
static char *request(const char *a, const char *b, const char *extra, const char *id)
{
	size_t n = strlen(a) + strlen(b) + strlen(extra) + 1024;
	char *t = malloc(n);

	assert_non_null(t);
	snprintf(t, n,
	         "{\"jsonrpc\":\"2.0\",\"method\":\"WorkOrderSubmit\",\"id\":%s,\"params\":{"
	         "\"workOrderId\":\"aa\",\"workerId\":\"bb\",\"workloadId\":\"6865\","
	         "\"requesterId\":\"cc\",\"requesterNonce\":\"dd\",%s"
	         "\"inData\":[{\"index\":0,\"data\":\"%s\",\"encryptedDataEncryptionKey\":\"-\"},"
	         "{\"index\":1,\"data\":\"%s\",\"encryptedDataEncryptionKey\":\"-\"}]}}",
	         id, extra, a, b);
	return t;
}

/* base64-looking text of n characters, seed s (caller frees). */
static char *b64text(size_t n, char s)
{
	char *t = malloc(n + 1);

	assert_non_null(t);
	for (size_t i = 0; i < n; i++)
		t[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		    [(i * 7 + (size_t)s) % 64];
	t[n] = '\0';
	return t;
}

/* The identity of text (parsed afresh). */
static void identity(const char *text, uint8_t id[32])
{
	struct req r;

	parse(&r, text);
	memcpy(id, r.id, 32);
	done(&r);
}

/* Equal bytes, equal identity; every change inside or outside the long data
 * texts, a different one. */
static void test_equal_and_different(void **state)
{
	char *big = b64text(BIG, 1), *big2 = b64text(BIG, 1);
	const char *small = "aGk=";
	char *t, *u;
	uint8_t a[32], b[32], full[32];
	(void)state;
	t = request(big, small, "", "1");
	identity(t, a);
	identity(t, b);
	assert_memory_equal(a, b, 32);
	/* not the SHA-256 of the text: the data text stands in by a marker */
	assert_int_equal(tcw_sha256(t, strlen(t), full), TCW_OK);
	assert_memory_not_equal(a, full, 32);
	/* one byte of the long data text */
	big2[BIG / 2] = big2[BIG / 2] == 'A' ? 'B' : 'A';
	u = request(big2, small, "", "1");
	identity(u, b);
	assert_memory_not_equal(a, b, 32);
	free(u);
	/* the inner id, whitespace, a short data text, an unknown member */
	const char *const ids[] = {"2", "\"1\"", " 1"};
	for (size_t i = 0; i < 3; i++) {
		u = request(big, small, "", ids[i]);
		identity(u, b);
		assert_memory_not_equal(a, b, 32);
		free(u);
	}
	u = request(big, "aGl=", "", "1");
	identity(u, b);
	assert_memory_not_equal(a, b, 32);
	free(u);
	u = request(big, small, "\"x\":1,", "1");
	identity(u, b);
	assert_memory_not_equal(a, b, 32);
	free(u);
	/* the two items swapped: the markers name other items */
	u = request(small, big, "", "1");
	identity(u, b);
	assert_memory_not_equal(a, b, 32);
	free(u);
	free(t);
	free(big);
	free(big2);
}

/* A data text written with escapes (\/ for /) is the same value, but other
 * bytes: another identity. A long member equal to a data text stands in
 * once; the real data text is hashed then, and the identity stays exact. */
static void test_escapes_and_lookalikes(void **state)
{
	char *big = b64text(BIG, 3), *esc, *t, *u, *extra;
	uint8_t a[32], b[32];
	size_t n = 0;
	(void)state;
	esc = malloc(2 * BIG + 1);
	assert_non_null(esc);
	for (size_t i = 0; i < BIG; i++) {
		if (big[i] == '/')
			esc[n++] = '\\';
		esc[n++] = big[i];
	}
	esc[n] = '\0';
	assert_true(n > BIG);
	t = request(big, "aGk=", "", "1");
	u = request(esc, "aGk=", "", "1");
	identity(t, a);
	identity(u, b);
	assert_memory_not_equal(a, b, 32);
	free(u);
	extra = malloc(BIG + 16);
	assert_non_null(extra);
	snprintf(extra, BIG + 16, "\"z\":\"%s\",", big);
	u = request(big, "aGk=", extra, "1");
	identity(u, b);
	assert_memory_not_equal(a, b, 32);
	identity(u, a);
	assert_memory_equal(a, b, 32);
	free(u);
	free(t);
	free(extra);
	free(esc);
	free(big);
}

/* A text full of long literals of a data text's length, each differing at
 * the end: comparisons stop once they add up to the text's length, the
 * identity is still computed and still tells texts apart. */
static void test_hostile(void **state)
{
	char *big = b64text(BIG, 5), *extra, *t, *u;
	size_t n = 0, cap = 40 * (BIG + 8);
	uint8_t a[32], b[32];
	(void)state;
	extra = malloc(cap);
	assert_non_null(extra);
	for (int i = 0; i < 30; i++) {
		n += (size_t)snprintf(extra + n, cap - n, "\"m%02d\":\"%.*s%c\",", i, BIG - 1, big,
		                      big[BIG - 1] == 'Q' ? 'R' : 'Q');
	}
	t = request(big, big, extra, "1");
	identity(t, a);
	big[0] = big[0] == 'A' ? 'B' : 'A';
	u = request(big, big, extra, "1");
	identity(u, b);
	assert_memory_not_equal(a, b, 32);
	free(t);
	free(u);
	free(extra);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equal_and_different),
	    cmocka_unit_test(test_escapes_and_lookalikes),
	    cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
