/* SPDX-License-Identifier: Apache-2.0 */
/* test_workorder_integrity.c - WorkOrderSubmit: request integrity, per-item key failures, requester
 * signatures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wotest.h"

static void test_integrity(void **state)
{
	uint8_t key[32], iv[12], rh[32], *ct, short_key[16] = {1};
	json_object *params, *item;
	size_t size = 0;
	char *hex, *b64;
	(void)state;
	session_of("hello_session_key", key, iv);

	/* tampered encryptedRequestHash */
	params = params_of("hello_session_key");
	hex = strdup(tu_str(params, "encryptedRequestHash"));
	hex[0] = hex[0] == '0' ? '1' : '0';
	set_str(params, "encryptedRequestHash", hex);
	free(hex);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	/* encryptedRequestHash authentic but over other content, or short */
	memset(rh, 0x5a, sizeof(rh));
	ct = gcm(key, iv, rh, sizeof(rh), 0, &size);
	hex = tcw_hex_encode(ct, size);
	set_str(params, "encryptedRequestHash", hex);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	/* a short one is a length error, not an integrity failure */
	hex[64] = '\0';
	set_str(params, "encryptedRequestHash", hex);
	params_error(g_k2048, params, 2, "Invalid parameter: encryptedRequestHash", 1);
	free(hex);
	free(ct);
	json_object_put(params);

	/* tampered inData ciphertext, request hash recomputed over it */
	params = params_of("hello_session_key");
	item = item_at(params, "inData", 0);
	ct = tu_unb64(tu_str(item, "data"), &size);
	ct[0] ^= 1;
	b64 = tcw_b64_encode(ct, size, NULL);
	set_str(item, "data", b64);
	free(b64);
	free(ct);
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	json_object_put(params);

	/* wrong dataHash (valid hex, request hash recomputed) */
	params = params_of("three_items_unsorted_mixed");
	assert_int_equal(json_object_get_int(tu_member(item_at(params, "inData", 1), "index")), 0);
	set_str(item_at(params, "inData", 1), "dataHash",
	        "0000000000000000000000000000000000000000000000000000000000000000");
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	set_str(item_at(params, "inData", 1), "dataHash", "abcd");
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, "Invalid parameter: inData[1].dataHash", 1);
	json_object_put(params);

	/* a session key for a key of another size is a length error; one for
	 * another key of the right size fails like any RSA failure; a session
	 * key of the wrong size too */
	params = params_of("hello_session_key");
	params_error(g_k3072, params, 2, "Invalid parameter: encryptedSessionKey", 1);
	hex = strdup(tu_str(params, "encryptedSessionKey"));
	hex[10] = hex[10] == '0' ? '1' : '0';
	set_str(params, "encryptedSessionKey", hex);
	free(hex);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	json_object_put(params);
	params = params_of("rsa3072_worker_key");
	params_error(g_k2048, params, 2, "Invalid parameter: encryptedSessionKey", 1);
	assert_int_equal(tcw_rsa_encrypt_pem(tu_str(g_keyfile, "worker_rsa_public_pem"), short_key,
	                                     sizeof(short_key), &ct, &size),
	                 TCW_OK);
	hex = tcw_hex_encode(ct, size);
	set_str(params, "encryptedSessionKey", hex);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	free(hex);
	free(ct);
	json_object_put(params);
}

static void test_integrity_dek(void **state)
{
	uint8_t key[32], iv[12], dek16[16] = {7};
	json_object *params, *item;
	char *hex;
	(void)state;
	session_of("per_item_data_key", key, iv);
	/* a flipped bit in the wrapped key */
	params = params_of("per_item_data_key");
	item = item_at(params, "inData", 0);
	hex = strdup(tu_str(item, "encryptedDataEncryptionKey"));
	hex[40] = hex[40] == '0' ? '1' : '0';
	set_str(item, "encryptedDataEncryptionKey", hex);
	free(hex);
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	/* a data key that is not 32 bytes */
	hex = wrap_dek(key, dek16, sizeof(dek16), zero_iv, 1);
	set_str(item, "encryptedDataEncryptionKey", hex);
	free(hex);
	reseal(params, key, iv, 0);
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	json_object_put(params);
}

static void test_requester_signature(void **state)
{
	json_object *params;
	uint8_t key[32], iv[12], *der;
	size_t der_size = 0;
	char *b64, *pem;
	(void)state;
	session_of("hello_requester_signed", key, iv);
	/* s changed: does not verify */
	params = params_of("hello_requester_signed");
	der = tu_unb64(tu_str(params, "requesterSignature"), &der_size);
	der[der_size - 1] ^= 1;
	b64 = tcw_b64_encode(der, der_size, NULL);
	set_str(params, "requesterSignature", b64);
	free(b64);
	free(der);
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	/* integrity comes first */
	set_str(params, "encryptedRequestHash", "00");
	params_error(g_k2048, params, 2, "Invalid parameter: encryptedRequestHash", 1);
	set_str(
	    params, "encryptedRequestHash",
	    tu_str(tu_member(vec("hello_session_key"), "request_params"), "encryptedRequestHash"));
	params_error(g_k2048, params, 2, INTEGRITY, 1);
	json_object_put(params);
	/* missing, wrong or unparsable verifyingKey; signature not base64 */
	params = params_of("hello_requester_signed");
	json_object_object_del(params, "verifyingKey");
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	set_str(params, "verifyingKey", "");
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	set_str(params, "verifyingKey", tu_str(g_keyfile, "worker_verifying_key_pem"));
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	set_str(params, "verifyingKey",
	        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	set_str(params, "verifyingKey", tu_str(g_keyfile, "requester_verifying_key_pem"));
	set_str(params, "requesterSignature", "!!!!");
	params_error(g_k2048, params, 4, "Invalid requester signature", 1);
	json_object_put(params);
	/* a compressed-point verifyingKey is accepted */
	params = params_of("hello_requester_signed");
	pem = tu_compressed_pem(tu_str(params, "verifyingKey"));
	set_str(params, "verifyingKey", pem);
	free(pem);
	expect_hello(g_k2048, params, key, "Rama");
	json_object_put(params);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_integrity),
	    cmocka_unit_test(test_integrity_dek),
	    cmocka_unit_test(test_requester_signature),
	};
	return cmocka_run_group_tests(tests, wo_setup, wo_teardown);
}
