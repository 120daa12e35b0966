/* SPDX-License-Identifier: Apache-2.0 */
/* test_signup.c - building and checking the signup reply (protocol.md §3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>

#include "internal.h"
#include "testutil.h"

static json_object *g_keys, *g_orders;
static struct tcw_keys *g_worker;

static int setup(void **state)
{
	(void)state;
	g_keys = tu_load_json("keys.json");
	g_orders = tu_load_json("workorders.json");
	g_worker = tu_worker_keys("worker_rsa_private_pem");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tcw_keys_free(&g_worker);
	json_object_put(g_keys);
	json_object_put(g_orders);
	return 0;
}

static json_object *signup_vector(void)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(g_orders, "signup", &v));
	return v;
}

/* s with every newline written as the two characters \n; caller frees. */
static char *json_escape_newlines(const char *s)
{
	char *out = calloc(2 * strlen(s) + 1, 1);
	size_t j = 0;

	assert_non_null(out);
	for (; *s; s++) {
		if (*s == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
		} else {
			out[j++] = *s;
		}
	}
	return out;
}

static void test_build_exact(void **state)
{
	(void)state;
	json_object *v = signup_vector();
	char *ver = json_escape_newlines(tu_str(g_keys, "worker_verifying_key_pem"));
	char *enc = json_escape_newlines(tu_str(g_keys, "worker_rsa_public_pem"));
	char want[4096];

	/* RFC 6979 makes the signature, hence the whole reply, deterministic */
	snprintf(want, sizeof(want),
	         "{\"sealed_data\":\"\",\"verifying_key\":\"%s\",\"encryption_key\":\"%s\","
	         "\"encryption_key_signature\":\"%s\",\"mrenclave\":\"\",\"quote\":\"\"}",
	         ver, enc, tu_str(v, "encryption_key_signature"));
	char *got = tcw_signup_build(g_worker, NULL, NULL);
	assert_string_equal(got, want);
	free(got);

	snprintf(want, sizeof(want),
	         "{\"sealed_data\":\"\",\"verifying_key\":\"%s\",\"encryption_key\":\"%s\","
	         "\"encryption_key_signature\":\"%s\",\"mrenclave\":\"%s\",\"quote\":\"%s\"}",
	         ver, enc, tu_str(v, "encryption_key_signature"),
	         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "AAE/+w==");
	got = tcw_signup_build(g_worker,
	                       "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	                       "AAE/+w==");
	assert_string_equal(got, want);
	free(got);
	free(ver);
	free(enc);
	assert_null(tcw_signup_build(NULL, NULL, NULL));
}

static void test_build_parse_round_trip(void **state)
{
	(void)state;
	struct tcw_signup s;
	struct tcw_error e;
	struct tcw_keys *fresh = NULL;

	char *json = tcw_signup_build(g_worker, "abcd", "cXVvdGU=");
	assert_int_equal(tcw_signup_parse(json, strlen(json), &s, &e), TCW_OK);
	assert_string_equal(s.verifying_key, tcw_keys_verifying_pem(g_worker));
	assert_string_equal(s.encryption_key, tcw_keys_encryption_pem(g_worker));
	assert_string_equal(s.mrenclave, "abcd");
	assert_string_equal(s.quote, "cXVvdGU=");
	assert_string_equal(s.sealed_data, "");
	assert_int_equal(strlen(s.encryption_key_signature) % 2, 0);
	tcw_signup_fini(&s);
	assert_null(s.verifying_key);
	assert_null(s.encryption_key_signature);
	free(json);

	/* freshly generated keys sign their own signup too */
	assert_int_equal(tcw_keys_generate(2048, &fresh), TCW_OK);
	json = tcw_signup_build(fresh, NULL, NULL);
	assert_int_equal(tcw_signup_parse(json, strlen(json), &s, &e), TCW_OK);
	assert_string_equal(s.encryption_key, tcw_keys_encryption_pem(fresh));
	assert_int_equal(tcw_rsa_pem_bits(s.encryption_key), 2048);
	tcw_signup_fini(&s);
	free(json);
	tcw_keys_free(&fresh);
}

/* A signup object from the vector with field key replaced by value (a raw
 * JSON value, or NULL to drop the field); caller frees. */
static char *vector_json(const char *key, const char *value)
{
	json_object *v = signup_vector(), *obj = json_object_new_object();
	static const char *const fields[] = {"verifying_key", "encryption_key",
	                                     "encryption_key_signature"};

	for (size_t i = 0; i < 3; i++) {
		if (key && strcmp(key, fields[i]) == 0) {
			if (value)
				json_object_object_add(obj, fields[i], json_tokener_parse(value));
			continue;
		}
		json_object_object_add(obj, fields[i],
		                       json_object_new_string(tu_str(v, fields[i])));
	}
	if (key && value && !json_object_object_get_ex(obj, key, NULL))
		json_object_object_add(obj, key, json_tokener_parse(value));
	char *text = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	json_object_put(obj);
	return text;
}

static int parse_text(const char *json, struct tcw_error *e)
{
	struct tcw_signup s;

	memset(&s, 0x5a, sizeof(s));
	int ret = tcw_signup_parse(json, strlen(json), &s, e);
	if (ret != TCW_OK) {
		assert_null(s.verifying_key); /* zeroed on failure */
		assert_null(s.quote);
	}
	tcw_signup_fini(&s);
	return ret;
}

static void test_vector_parses(void **state)
{
	(void)state;
	json_object *v = signup_vector();
	struct tcw_signup s;
	struct tcw_error e;
	uint8_t d[32];

	/* the vector carries extra members (description, hash): ignored */
	const char *full = json_object_to_json_string(v);
	assert_int_equal(tcw_signup_parse(full, strlen(full), &s, &e), TCW_OK);
	assert_string_equal(s.encryption_key, tu_str(v, "encryption_key"));
	assert_string_equal(s.mrenclave, "");
	assert_string_equal(s.quote, "");
	assert_string_equal(s.sealed_data, "");
	assert_int_equal(tcw_sha256(s.encryption_key, strlen(s.encryption_key), d), TCW_OK);
	char *hex = tcw_hex_encode(d, 32);
	assert_string_equal(hex, tu_str(v, "encryption_key_hash_hex"));
	free(hex);
	tcw_signup_fini(&s);

	/* uppercase hex signature (C++ enclave style) */
	char sig[200], quoted[210];
	snprintf(sig, sizeof(sig), "%s", tu_str(v, "encryption_key_signature"));
	for (char *c = sig; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	snprintf(quoted, sizeof(quoted), "\"%s\"", sig);
	char *json = vector_json("encryption_key_signature", quoted);
	assert_int_equal(parse_text(json, &e), TCW_OK);
	free(json);
	/* optional members given as null read as "" */
	json = vector_json("quote", "null");
	assert_int_equal(tcw_signup_parse(json, strlen(json), &s, &e), TCW_OK);
	assert_string_equal(s.quote, "");
	tcw_signup_fini(&s);
	free(json);
}

/* The vector's signature turned into its high-S twin (n - s), as hex. */
static char *high_s_signature(void)
{
	const secp256k1_context *ctx = tcwi_secp_ctx();
	static const uint8_t order[32] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
	    0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
	};
	secp256k1_ecdsa_signature sig;
	uint8_t compact[64], der[80];
	size_t n = 0, der_size = sizeof(der);
	uint8_t *raw = tu_unhex(tu_str(signup_vector(), "encryption_key_signature"), &n);
	int borrow = 0;

	assert_true(secp256k1_ecdsa_signature_parse_der(ctx, &sig, raw, n));
	free(raw);
	assert_true(secp256k1_ecdsa_signature_serialize_compact(ctx, compact, &sig));
	for (int i = 31; i >= 0; i--) {
		int diff = order[i] - compact[32 + i] - borrow;
		borrow = diff < 0;
		compact[32 + i] = (uint8_t)(diff + (borrow ? 256 : 0));
	}
	assert_true(secp256k1_ecdsa_signature_parse_compact(ctx, &sig, compact));
	assert_true(secp256k1_ecdsa_signature_serialize_der(ctx, der, &der_size, &sig));
	assert_int_equal(secp256k1_ecdsa_signature_normalize(ctx, NULL, &sig), 1);
	return tcw_hex_encode(der, der_size);
}

static void test_high_s_accepted(void **state)
{
	(void)state;
	struct tcw_error e;
	char *hex = high_s_signature(), quoted[200];

	assert_string_not_equal(hex, tu_str(signup_vector(), "encryption_key_signature"));
	snprintf(quoted, sizeof(quoted), "\"%s\"", hex);
	char *json = vector_json("encryption_key_signature", quoted);
	assert_int_equal(parse_text(json, &e), TCW_OK);
	free(json);
	free(hex);
}

static void expect_error(const char *json, int err, const char *field)
{
	struct tcw_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(parse_text(json, &e), err);
	assert_int_equal(e.err, err);
	assert_string_equal(e.field, field);
}

static void test_tampered(void **state)
{
	(void)state;
	json_object *v = signup_vector();
	char buf[4096];

	/* one hex digit of r changed */
	snprintf(buf, sizeof(buf), "\"%s\"", tu_str(v, "encryption_key_signature"));
	buf[20] = buf[20] == '1' ? '2' : '1';
	char *json = vector_json("encryption_key_signature", buf);
	expect_error(json, TCW_ERR_VERIFY, "encryption_key_signature");
	free(json);

	/* one base64 character of the encryption key changed: still an RSA key */
	json_object *s = json_object_new_string(tu_str(v, "encryption_key"));
	snprintf(buf, sizeof(buf), "%s", json_object_to_json_string(s));
	json_object_put(s);
	buf[80] = buf[80] == 'A' ? 'B' : 'A';
	json = vector_json("encryption_key", buf);
	expect_error(json, TCW_ERR_VERIFY, "encryption_key_signature");
	free(json);

	/* a different verifying key */
	s = json_object_new_string(tu_str(g_keys, "requester_verifying_key_pem"));
	json = vector_json("verifying_key", json_object_to_json_string(s));
	json_object_put(s);
	expect_error(json, TCW_ERR_VERIFY, "encryption_key_signature");
	free(json);
}

static void test_missing_and_bad_fields(void **state)
{
	(void)state;
	static const char *const required[] = {"verifying_key", "encryption_key",
	                                       "encryption_key_signature"};
	char *json;

	for (size_t i = 0; i < 3; i++) {
		json = vector_json(required[i], NULL);
		expect_error(json, TCW_ERR_INVALID_PARAM, required[i]);
		free(json);
		json = vector_json(required[i], "42");
		expect_error(json, TCW_ERR_INVALID_PARAM, required[i]);
		free(json);
		json = vector_json(required[i], "null");
		expect_error(json, TCW_ERR_INVALID_PARAM, required[i]);
		free(json);
	}
	static const char *const optional[] = {"mrenclave", "quote", "sealed_data"};
	for (size_t i = 0; i < 3; i++) {
		json = vector_json(optional[i], "[1]");
		expect_error(json, TCW_ERR_INVALID_PARAM, optional[i]);
		free(json);
	}
	static const char *const bad_sigs[] = {"\"zz\"", "\"\"", "\"304\"", "\"30440220 0e\""};
	for (size_t i = 0; i < 4; i++) {
		json = vector_json("encryption_key_signature", bad_sigs[i]);
		expect_error(json, TCW_ERR_INVALID_PARAM, "encryption_key_signature");
		free(json);
	}
	char longsig[200] = "\"";
	memset(longsig + 1, 'a', 146); /* 73 bytes: longer than any DER signature */
	longsig[147] = '"';
	json = vector_json("encryption_key_signature", longsig);
	expect_error(json, TCW_ERR_INVALID_PARAM, "encryption_key_signature");
	free(json);
	/* an embedded NUL would make the checked text differ from the sent one */
	json = vector_json("quote", "\"ab\\u0000cd\"");
	expect_error(json, TCW_ERR_INVALID_PARAM, "quote");
	free(json);
	json = vector_json("verifying_key", "\"not a pem\"");
	expect_error(json, TCW_ERR_INVALID_PARAM, "verifying_key");
	free(json);
}

/* A correctly signed encryption_key that is not an RSA key is refused. */
static void test_signed_non_rsa_key(void **state)
{
	(void)state;
	const char *bogus = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";
	uint8_t d[32], der[TCW_ECDSA_DER_MAX];
	size_t n = 0;

	assert_int_equal(tcw_sha256(bogus, strlen(bogus), d), TCW_OK);
	assert_int_equal(tcw_keys_sign(g_worker, d, der, &n), TCW_OK);
	char *hex = tcw_hex_encode(der, n);
	json_object *obj = json_object_new_object();
	json_object_object_add(obj, "verifying_key",
	                       json_object_new_string(tcw_keys_verifying_pem(g_worker)));
	json_object_object_add(obj, "encryption_key", json_object_new_string(bogus));
	json_object_object_add(obj, "encryption_key_signature", json_object_new_string(hex));
	expect_error(json_object_to_json_string(obj), TCW_ERR_INVALID_PARAM, "encryption_key");
	json_object_put(obj);
	free(hex);
}

static void test_not_an_object(void **state)
{
	(void)state;
	struct tcw_signup s;
	struct tcw_error e;

	expect_error("", TCW_ERR_INVALID_PARAM, "");
	expect_error("not json", TCW_ERR_INVALID_PARAM, "");
	expect_error("[1,2]", TCW_ERR_INVALID_PARAM, "");
	expect_error("\"text\"", TCW_ERR_INVALID_PARAM, "");
	expect_error("{\"verifying_key\":", TCW_ERR_INVALID_PARAM, "");
	char *json = vector_json(NULL, NULL);
	size_t len = strlen(json);
	/* trailing whitespace is fine, trailing garbage is not */
	char *padded = calloc(1, len + 8);
	memcpy(padded, json, len);
	memcpy(padded + len, " \n", 2);
	assert_int_equal(parse_text(padded, &e), TCW_OK);
	memcpy(padded + len, " {}", 3);
	expect_error(padded, TCW_ERR_INVALID_PARAM, "");
	/* the length is honoured: a cut-off object does not parse */
	assert_int_equal(tcw_signup_parse(json, len - 1, &s, &e), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_signup_parse(json, len, &s, NULL), TCW_OK);
	tcw_signup_fini(&s);
	tcw_signup_fini(NULL);
	free(padded);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_exact),
	    cmocka_unit_test(test_build_parse_round_trip),
	    cmocka_unit_test(test_vector_parses),
	    cmocka_unit_test(test_high_s_accepted),
	    cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_missing_and_bad_fields),
	    cmocka_unit_test(test_signed_non_rsa_key),
	    cmocka_unit_test(test_not_an_object),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
