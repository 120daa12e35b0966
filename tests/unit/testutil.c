/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.c - helpers shared by the unit tests (see testutil.h). */
#include "testutil.h"

#include <secp256k1.h>

#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tu_read_data(const char *name, size_t *size)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", TCW_TEST_DATA_DIR, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open test data %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	assert_true(n >= 0);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	if (size)
		*size = (size_t)n;
	return buf;
}

json_object *tu_load_json(const char *name)
{
	char *text = tu_read_data(name, NULL);
	json_object *obj = json_tokener_parse(text);
	free(text);
	if (!obj)
		fail_msg("test data %s is not JSON", name);
	return obj;
}

const char *tu_str(json_object *obj, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		fail_msg("vector has no string member %s", key);
	return json_object_get_string(v);
}

uint8_t *tu_unhex(const char *hex, size_t *size)
{
	size_t len = strlen(hex);
	assert_true(len % 2 == 0);
	uint8_t *out = malloc(len / 2 + 1);
	assert_non_null(out);
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	*size = len / 2;
	return out;
}

json_object *tu_request_vector(json_object *root, const char *name)
{
	json_object *reqs = NULL;
	assert_true(json_object_object_get_ex(root, "requests", &reqs));
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		json_object *r = json_object_array_get_idx(reqs, i);
		if (strcmp(tu_str(r, "name"), name) == 0)
			return r;
	}
	fail_msg("no request vector %s", name);
	return NULL;
}

struct tcw_keys *tu_worker_keys(const char *rsa_key_name)
{
	json_object *keys = tu_load_json("keys.json");
	size_t n = 0;
	uint8_t *sk = tu_unhex(tu_str(keys, "worker_ecdsa_private_hex"), &n);
	assert_int_equal(n, 32);
	struct tcw_keys *k = NULL;
	assert_int_equal(tcw_keys_from_pem(tu_str(keys, rsa_key_name), sk, &k), TCW_OK);
	free(sk);
	json_object_put(keys);
	return k;
}

json_object *tu_member(json_object *obj, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		fail_msg("vector has no member %s", key);
	return v;
}

void tu_unhex_exact(const char *hex, uint8_t *out, size_t size)
{
	assert_int_equal(tcw_hex_decode_exact(hex, strlen(hex), out, size), TCW_OK);
}

uint8_t *tu_unb64(const char *text, size_t *size)
{
	uint8_t *out = NULL;
	assert_int_equal(tcw_b64_decode(text, strlen(text), &out, size), TCW_OK);
	return out;
}

int tu_is_high_s(const uint8_t *der, size_t size)
{
	const secp256k1_context *ctx = tcwi_secp_ctx();
	secp256k1_ecdsa_signature sig;
	assert_non_null(ctx);
	assert_true(secp256k1_ecdsa_signature_parse_der(ctx, &sig, der, size));
	return secp256k1_ecdsa_signature_normalize(ctx, NULL, &sig);
}

char *tu_compressed_pem(const char *pem)
{
	static const uint8_t prefix[] = {0x30, 0x36, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
	                                 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
	                                 0x81, 0x04, 0x00, 0x0a, 0x03, 0x22, 0x00};
	const secp256k1_context *ctx = tcwi_secp_ctx();
	const char *head = "-----BEGIN PUBLIC KEY-----\n";
	uint8_t der[sizeof(prefix) + 33], *full = NULL;
	size_t full_size = 0, n = 33, j = 0;
	secp256k1_pubkey pk;
	char body[200];

	assert_memory_equal(pem, head, strlen(head));
	for (const char *b = pem + strlen(head); *b && *b != '-' && j < sizeof(body) - 1; b++)
		if (*b != '\n')
			body[j++] = *b;
	body[j] = '\0';
	/* the 88-byte DER of an uncompressed SPKI ends with the 65-byte point */
	assert_int_equal(tcw_b64_decode(body, j, &full, &full_size), TCW_OK);
	assert_int_equal(full_size, 88);
	assert_true(secp256k1_ec_pubkey_parse(ctx, &pk, full + 23, 65));
	free(full);
	memcpy(der, prefix, sizeof(prefix));
	assert_true(secp256k1_ec_pubkey_serialize(ctx, der + sizeof(prefix), &n, &pk,
	                                          SECP256K1_EC_COMPRESSED));
	assert_int_equal(n, 33);
	char *out = tcwi_pem_encode("PUBLIC KEY", der, sizeof(der), 1);
	assert_non_null(out);
	return out;
}

/* Creates a scratch folder; see testutil.h. */
void tu_tmpdir(const char *tag, char *dir, size_t size)
{
	int n = snprintf(dir, size, "/tmp/tcw-test-%s.XXXXXX", tag);

	assert_true(n > 0 && (size_t)n < size);
	assert_non_null(mkdtemp(dir));
}

/* Runs "rm <flags> '<dir><suffix>'" on a scratch folder. */
static void remove_in(const char *dir, const char *flags, const char *suffix)
{
	char cmd[512];

	assert_true(strncmp(dir, "/tmp/tcw-test-", 14) == 0 && !strchr(dir, '\''));
	snprintf(cmd, sizeof(cmd), "rm %s '%s'%s", flags, dir, suffix);
	assert_int_equal(system(cmd), 0);
}

/* Removes a scratch folder; see testutil.h. */
void tu_rmtree(const char *dir)
{
	remove_in(dir, "-rf", "");
}

/* Empties a scratch folder; see testutil.h. */
void tu_empty_dir(const char *dir)
{
	remove_in(dir, "-f", "/*");
}
