/* SPDX-License-Identifier: Apache-2.0 */
/* test_bytes.c - hex and strict base64 codecs, wiping, constant-time compare, error table, log
 * hook. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static const uint8_t sample[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};

static void test_hex_encode(void **state)
{
	(void)state;
	char *h = tcw_hex_encode(sample, sizeof(sample));
	assert_string_equal(h, "00017f80abcdefff");
	free(h);
	h = tcw_hex_encode(NULL, 0);
	assert_string_equal(h, "");
	free(h);
}

/* Decodes text and checks the result equals want[0..want_size). */
static void hex_ok(const char *text, const uint8_t *want, size_t want_size)
{
	uint8_t *out = NULL;
	size_t n = 99;

	assert_int_equal(tcw_hex_decode(text, strlen(text), &out, &n), TCW_OK);
	assert_non_null(out);
	assert_int_equal(n, want_size);
	if (want_size)
		assert_memory_equal(out, want, want_size);
	free(out);
}

static void hex_bad(const char *text, size_t len)
{
	uint8_t *out = (uint8_t *)1;
	size_t n = 99;

	assert_int_equal(tcw_hex_decode(text, len, &out, &n), TCW_ERR_INVALID_PARAM);
	assert_null(out);
	assert_int_equal(n, 0);
}

static void test_hex_decode(void **state)
{
	(void)state;
	hex_ok("00017f80abcdefff", sample, sizeof(sample));
	hex_ok("00017F80ABCDEFFF", sample, sizeof(sample));
	hex_ok("00017f80AbCdEfFf", sample, sizeof(sample));
	hex_ok("0x00017f80abcdefff", sample, sizeof(sample));
	hex_ok("0X00017F80ABCDEFFF", sample, sizeof(sample));
	hex_ok("", NULL, 0);
	hex_ok("0x", NULL, 0);
	hex_bad("abc", 3);   /* odd length */
	hex_bad("0xabc", 5); /* odd after prefix */
	hex_bad("0g", 2);    /* bad char */
	hex_bad("zz", 2);
	hex_bad("ab cd", 5);    /* whitespace, odd */
	hex_bad("ab c", 4);     /* whitespace, even */
	hex_bad("abcd\n\n", 6); /* trailing newlines */
	hex_bad("x0ab", 4);     /* prefix must be 0x */
	hex_bad("0x0xab", 6);   /* only one prefix */
	hex_bad("ab\0d", 4);    /* embedded NUL within len */
	hex_bad("-1", 2);
	/* len is honoured: only the first 4 characters are decoded */
	uint8_t *out = NULL;
	size_t n = 0;
	assert_int_equal(tcw_hex_decode("abcdzz", 4, &out, &n), TCW_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\xab\xcd", 2);
	free(out);
}

static void test_hex_round_trip(void **state)
{
	(void)state;
	uint8_t all[256], *back = NULL;
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	char *h = tcw_hex_encode(all, sizeof(all));
	assert_int_equal(strlen(h), 512);
	assert_int_equal(tcw_hex_decode(h, strlen(h), &back, &n), TCW_OK);
	assert_int_equal(n, 256);
	assert_memory_equal(back, all, 256);
	free(back);
	free(h);
}

static void test_hex_decode_exact(void **state)
{
	(void)state;
	uint8_t out[4];

	assert_int_equal(tcw_hex_decode_exact("DEADbeef", 8, out, 4), TCW_OK);
	assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
	assert_int_equal(tcw_hex_decode_exact("0xdeadbeef", 10, out, 4), TCW_OK);
	assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
	assert_int_equal(tcw_hex_decode_exact("deadbe", 6, out, 4), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_hex_decode_exact("deadbeef00", 10, out, 4), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_hex_decode_exact("deadbee", 7, out, 4), TCW_ERR_INVALID_PARAM);
	memset(out, 0x55, sizeof(out));
	assert_int_equal(tcw_hex_decode_exact("deadbeeg", 8, out, 4), TCW_ERR_INVALID_PARAM);
	assert_memory_equal(out, "\0\0\0\0", 4); /* wiped on failure */
	assert_int_equal(tcw_hex_decode_exact("", 0, out, 0), TCW_OK);
}

/* RFC 4648 section 10 test vectors. */
static const char *const rfc_plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const rfc_b64[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static void test_b64_known(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc_plain) / sizeof(rfc_plain[0]); i++) {
		size_t len = 99, n = 99;
		uint8_t *out = NULL;
		char *t = tcw_b64_encode((const uint8_t *)rfc_plain[i], strlen(rfc_plain[i]), &len);

		assert_string_equal(t, rfc_b64[i]);
		assert_int_equal(len, strlen(rfc_b64[i]));
		free(t);
		assert_int_equal(tcw_b64_decode(rfc_b64[i], strlen(rfc_b64[i]), &out, &n), TCW_OK);
		assert_non_null(out);
		assert_int_equal(n, strlen(rfc_plain[i]));
		if (n)
			assert_memory_equal(out, rfc_plain[i], n);
		free(out);
	}
	/* both non-letter characters of the standard alphabet */
	char *t = tcw_b64_encode((const uint8_t *)"\xfb\xff\xbf", 3, NULL);
	assert_string_equal(t, "+/+/");
	free(t);
}

static void b64_bad(const char *text, size_t len)
{
	uint8_t *out = (uint8_t *)1;
	size_t n = 99;

	assert_int_equal(tcw_b64_decode(text, len, &out, &n), TCW_ERR_INVALID_PARAM);
	assert_null(out);
	assert_int_equal(n, 0);
}

static void test_b64_reject(void **state)
{
	(void)state;
	b64_bad("Zg=", 3); /* not a multiple of 4 */
	b64_bad("Zg", 2);  /* missing padding */
	b64_bad("Zm9vY", 5);
	b64_bad("Zm9=v", 5);
	b64_bad("Zg==Zg==", 8); /* '=' in the middle */
	b64_bad("Z=9v", 4);
	b64_bad("Zm=v", 4); /* '=' not at the end */
	b64_bad("Z===", 4); /* three pad characters */
	b64_bad("====", 4);
	b64_bad("Zm 9v", 5); /* whitespace */
	b64_bad("Zm9v\n", 5);
	b64_bad("Zm9v\nZm9v", 9);
	b64_bad(" Zm9", 4);
	b64_bad("Zm9 ", 4);
	b64_bad("Zm9-", 4); /* URL-safe alphabet */
	b64_bad("Zm9_", 4);
	b64_bad("Zm9*", 4);
	b64_bad("Zm\09", 4); /* embedded NUL */
}

static void test_b64_round_trip(void **state)
{
	(void)state;
	uint8_t buf[300];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (size_t size = 0; size <= sizeof(buf); size += 37) {
		size_t len = 0, n = 0;
		char *t = tcw_b64_encode(buf, size, &len);
		uint8_t *out = NULL;

		assert_int_equal(len, (size + 2) / 3 * 4);
		assert_int_equal(strlen(t), len);
		assert_int_equal(tcw_b64_decode(t, len, &out, &n), TCW_OK);
		assert_int_equal(n, size);
		if (size)
			assert_memory_equal(out, buf, size);
		free(out);
		free(t);
	}
}

static void test_b64_large(void **state)
{
	(void)state;
	/* spans several internal chunks of both encoder and decoder */
	size_t size = 200002, len = 0, n = 0;
	uint8_t *buf = malloc(size), *out = NULL;

	assert_non_null(buf);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i ^ (i >> 8));
	char *t = tcw_b64_encode(buf, size, &len);
	assert_int_equal(len, (size + 2) / 3 * 4);
	/* size % 3 == 1: the last group encodes the last byte alone, padded */
	char *tail = tcw_b64_encode(buf + size - 1, 1, NULL);
	assert_string_equal(t + len - 4, tail);
	assert_string_equal(t + len - 2, "==");
	free(tail);
	assert_int_equal(tcw_b64_decode(t, len, &out, &n), TCW_OK);
	assert_int_equal(n, size);
	assert_memory_equal(out, buf, size);
	free(out);
	/* a pad character inside an early chunk is refused */
	t[4] = '=';
	b64_bad(t, len);
	free(t);
	free(buf);
}

static void test_pem_encode(void **state)
{
	(void)state;
	uint8_t der[100];

	memset(der, 0, sizeof(der));
	/* 100 bytes -> 136 base64 characters -> lines of 64, 64, 8 */
	char *p = tcwi_pem_encode("TEST", der, sizeof(der), 0);
	const char *want_body =
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
	char want[400];
	snprintf(want, sizeof(want), "-----BEGIN TEST-----\n%s%sAAAAAA==\n-----END TEST-----",
	         want_body, want_body);
	assert_string_equal(p, want);
	free(p);
	p = tcwi_pem_encode("TEST", der, sizeof(der), 1);
	assert_int_equal(strlen(p), strlen(want) + 1);
	assert_int_equal(p[strlen(want)], '\n');
	free(p);
	/* exactly one full line */
	p = tcwi_pem_encode("X", der, 48, 1);
	assert_string_equal(p, "-----BEGIN X-----\n"
	                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	                       "-----END X-----\n");
	free(p);
}

static void test_wipe_and_compare(void **state)
{
	(void)state;
	uint8_t buf[16];

	memset(buf, 0xa5, sizeof(buf));
	tcw_wipe(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	tcw_wipe(NULL, 10);
	tcw_free_secret(NULL, 10);
	uint8_t *heap = malloc(32);
	assert_non_null(heap);
	memset(heap, 1, 32);
	tcw_free_secret(heap, 32);

	assert_int_equal(tcw_ct_equal("abcd", "abcd", 4), 1);
	assert_int_equal(tcw_ct_equal("abcd", "abce", 4), 0);
	assert_int_equal(tcw_ct_equal("xbcd", "abcd", 4), 0);
	assert_int_equal(tcw_ct_equal("a", "b", 0), 1);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		int err, code;
		const char *msg;
	} table[] = {
	    {TCW_ERR_INVALID_REQUEST, 2, "Invalid request"},
	    {TCW_ERR_UNSUPPORTED_METHOD, 2, "Unsupported method"},
	    {TCW_ERR_INVALID_PARAM, 2, "Invalid parameter"},
	    {TCW_ERR_INTEGRITY, 2, "Work order integrity check failed"},
	    {TCW_ERR_DUPLICATE, 2, "Duplicate work order"},
	    {TCW_ERR_WORKLOAD, 2, "Error processing work load"},
	    {TCW_ERR_SIGNATURE, 4, "Invalid requester signature"},
	    {TCW_ERR_BUSY, 8, "Worker busy"},
	    {TCW_ERR_INTERNAL, 1, "Internal error"},
	    {TCW_ERR_NOMEM, 1, "Internal error"},
	    {TCW_ERR_CRYPTO, 1, "Internal error"},
	    {TCW_ERR_REMOTE, 1, "Internal error"},
	    {TCW_ERR_VERIFY, 1, "Internal error"},
	    {-1000, 1, "Internal error"},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_string_equal(tcw_strerror(table[i].err), table[i].msg);
		assert_int_equal(tcw_err_wire_code(table[i].err), table[i].code);
	}

	struct tcw_error e;
	memset(&e, 0x7f, sizeof(e));
	assert_int_equal(tcw_error_set(&e, TCW_ERR_INVALID_PARAM, "inData[%d].iv", 2),
	                 TCW_ERR_INVALID_PARAM);
	assert_int_equal(e.err, TCW_ERR_INVALID_PARAM);
	assert_string_equal(e.field, "inData[2].iv");
	assert_int_equal(tcw_error_set(&e, TCW_ERR_INTEGRITY, NULL), TCW_ERR_INTEGRITY);
	assert_string_equal(e.field, "");
	assert_int_equal(tcw_error_set(NULL, TCW_ERR_BUSY, "x"), TCW_ERR_BUSY);
	char longname[200];
	memset(longname, 'f', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	tcw_error_set(&e, TCW_ERR_INVALID_PARAM, "%s", longname);
	assert_int_equal(strlen(e.field), TCW_FIELD_SIZE - 1);
}

static int g_log_calls, g_log_level;
static char g_log_line[2048];

static void log_capture(int level, const char *message)
{
	g_log_calls++;
	g_log_level = level;
	snprintf(g_log_line, sizeof(g_log_line), "%s", message);
}

static void test_log_hook(void **state)
{
	(void)state;
	tcw_logf(TCW_LOG_INFO, "dropped %d", 1); /* no handler: nothing happens */
	tcw_set_log_handler(log_capture);
	tcw_logf(TCW_LOG_WARN, "value %d of %s", 7, "x");
	assert_int_equal(g_log_calls, 1);
	assert_int_equal(g_log_level, TCW_LOG_WARN);
	assert_string_equal(g_log_line, "value 7 of x");
	char big[3000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tcw_logf(TCW_LOG_DEBUG, "%s", big);
	assert_int_equal(g_log_calls, 2);
	assert_int_equal(strlen(g_log_line), 1023); /* truncated, not overflowed */
	tcw_set_log_handler(NULL);
	tcw_logf(TCW_LOG_ERROR, "dropped");
	assert_int_equal(g_log_calls, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hex_encode),     cmocka_unit_test(test_hex_decode),
	    cmocka_unit_test(test_hex_round_trip), cmocka_unit_test(test_hex_decode_exact),
	    cmocka_unit_test(test_b64_known),      cmocka_unit_test(test_b64_reject),
	    cmocka_unit_test(test_b64_round_trip), cmocka_unit_test(test_b64_large),
	    cmocka_unit_test(test_pem_encode),     cmocka_unit_test(test_wipe_and_compare),
	    cmocka_unit_test(test_errors),         cmocka_unit_test(test_log_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
