/* SPDX-License-Identifier: Apache-2.0 */
/* test_crypto.c - SHA-256, AES-256-GCM, RSA-OAEP, worker keys and ECDSA-secp256k1 against fixed
 * vectors. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <secp256k1.h>

#include "internal.h"
#include "testutil.h"

static json_object *g_keys, *g_orders;
static struct tcw_keys *g_rsa2048, *g_rsa3072;

static int setup(void **state)
{
	(void)state;
	g_keys = tu_load_json("keys.json");
	g_orders = tu_load_json("workorders.json");
	g_rsa2048 = tu_worker_keys("worker_rsa_private_pem");
	g_rsa3072 = tu_worker_keys("worker_rsa3072_private_pem");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tcw_keys_free(&g_rsa2048);
	tcw_keys_free(&g_rsa3072);
	assert_null(g_rsa2048);
	json_object_put(g_keys);
	json_object_put(g_orders);
	return 0;
}

static json_object *requests(void)
{
	return tu_member(g_orders, "requests");
}

static void test_sha256_random(void **state)
{
	(void)state;
	uint8_t d[32], want[32], a[48], b[48];

	assert_int_equal(tcw_sha256("abc", 3, d), TCW_OK);
	tu_unhex_exact("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want,
	               32);
	assert_memory_equal(d, want, 32);
	assert_int_equal(tcw_sha256(NULL, 0, d), TCW_OK);
	tu_unhex_exact("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want,
	               32);
	assert_memory_equal(d, want, 32);
	assert_int_equal(tcw_random_bytes(a, sizeof(a)), TCW_OK);
	assert_int_equal(tcw_random_bytes(b, sizeof(b)), TCW_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(tcw_random_bytes(NULL, 0), TCW_OK);
}

/* NIST GCM test cases 13 and 14 (AES-256, zero key and IV). */
static void test_aes_gcm_nist(void **state)
{
	(void)state;
	uint8_t key[32] = {0}, iv[12] = {0}, zero[16] = {0}, out[32], back[16];
	uint8_t want[32];
	size_t n;

	assert_int_equal(tcw_aes_gcm_encrypt(key, iv, NULL, 0, out), TCW_OK);
	uint8_t *t = tu_unhex("530f8afbc74536b9a963b4f1c4cb738b", &n);
	assert_memory_equal(out, t, 16);
	free(t);
	assert_int_equal(tcw_aes_gcm_decrypt(key, iv, out, 16, NULL), TCW_OK);
	out[3] ^= 1;
	assert_int_equal(tcw_aes_gcm_decrypt(key, iv, out, 16, NULL), TCW_ERR_INTEGRITY);

	assert_int_equal(tcw_aes_gcm_encrypt(key, iv, zero, 16, out), TCW_OK);
	tu_unhex_exact("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919", want,
	               32);
	assert_memory_equal(out, want, 32);
	assert_int_equal(tcw_aes_gcm_decrypt(key, iv, out, 32, back), TCW_OK);
	assert_memory_equal(back, zero, 16);
	/* shorter than a tag */
	assert_int_equal(tcw_aes_gcm_decrypt(key, iv, out, 15, back), TCW_ERR_INTEGRITY);
}

/* Known answer: decrypt item data with key/iv, expect plain, re-encrypt to
 * the same bytes; then every single-bit tamper of the tag fails. */
static void gcm_known_answer(const uint8_t key[32], const uint8_t iv[12], const uint8_t *ct,
                             size_t size, const char *plain)
{
	size_t psize = strlen(plain);
	uint8_t *out = malloc(size), *re = malloc(size), *bad = malloc(size);

	assert_non_null(out);
	assert_non_null(re);
	assert_non_null(bad);
	assert_int_equal(size, psize + 16);
	assert_int_equal(tcw_aes_gcm_decrypt(key, iv, ct, size, out), TCW_OK);
	assert_memory_equal(out, plain, psize);
	assert_int_equal(tcw_aes_gcm_encrypt(key, iv, out, psize, re), TCW_OK);
	assert_memory_equal(re, ct, size);
	for (size_t bit = 0; bit < 8; bit++) {
		memcpy(bad, ct, size);
		bad[size - 1 - bit] ^= (uint8_t)(1u << bit);
		memset(out, 0x5a, psize);
		assert_int_equal(tcw_aes_gcm_decrypt(key, iv, bad, size, out), TCW_ERR_INTEGRITY);
		for (size_t i = 0; i < psize; i++)
			assert_int_equal(out[i], 0); /* wiped */
	}
	memcpy(bad, ct, size);
	bad[0] ^= 0x80; /* ciphertext tamper */
	assert_int_equal(tcw_aes_gcm_decrypt(key, iv, bad, size, out), TCW_ERR_INTEGRITY);
	free(out);
	free(re);
	free(bad);
}

/* Unwraps a per-item data key: W = IV || GCM(session key, IV, RSA-OAEP(DEK)). */
static void unwrap_dek(struct tcw_keys *keys, const uint8_t session[32], const char *e_hex,
                       uint8_t dek[32])
{
	size_t wsize = 0, n = 0;
	uint8_t *w = tu_unhex(e_hex, &wsize), rsa_ct[512];

	assert_true(wsize > 12 + 16 && wsize - 28 <= sizeof(rsa_ct));
	assert_int_equal(tcw_aes_gcm_decrypt(session, w, w + 12, wsize - 12, rsa_ct), TCW_OK);
	assert_int_equal(tcw_keys_rsa_decrypt(keys, rsa_ct, wsize - 28, dek, 32, &n), TCW_OK);
	assert_int_equal(n, 32);
	free(w);
}

static void test_aes_gcm_vectors(void **state)
{
	(void)state;
	int checked = 0;

	for (size_t r = 0; r < json_object_array_length(requests()); r++) {
		json_object *v = json_object_array_get_idx(requests(), r);
		json_object *in = tu_member(tu_member(v, "request_params"), "inData");
		json_object *plains = tu_member(v, "expected_plaintexts_by_index");
		const char *siv_hex = tu_str(v, "session_key_iv_hex");
		uint8_t key[32], siv[12], dek[32];

		tu_unhex_exact(tu_str(v, "session_key_hex"), key, 32);
		if (*siv_hex)
			assert_int_equal(tcw_hex_decode_exact(siv_hex, 24, siv, 12), TCW_OK);
		for (size_t i = 0; i < json_object_array_length(in); i++) {
			json_object *it = json_object_array_get_idx(in, i);
			int64_t index = json_object_get_int64(tu_member(it, "index"));
			const char *e = tu_str(it, "encryptedDataEncryptionKey");
			const char *iv_hex = tu_str(it, "iv");
			const char *plain = json_object_get_string(
			    json_object_array_get_idx(plains, (size_t)index));
			size_t size = 0;
			uint8_t *data = tu_unb64(tu_str(it, "data"), &size), iv[12];

			if (strcmp(e, "-") == 0) {
				assert_int_equal(size, strlen(plain));
				assert_memory_equal(data, plain, size);
			} else if (*e && strcmp(e, "null") != 0) {
				unwrap_dek(g_rsa2048, key, e, dek);
				assert_int_equal(
				    tcw_hex_decode_exact(iv_hex, strlen(iv_hex), iv, 12), 0);
				gcm_known_answer(dek, iv, data, size, plain);
				checked++;
			} else if (*iv_hex) {
				assert_int_equal(
				    tcw_hex_decode_exact(iv_hex, strlen(iv_hex), iv, 12), 0);
				gcm_known_answer(key, iv, data, size, plain);
				checked++;
			} else if (*siv_hex) {
				gcm_known_answer(key, siv, data, size, plain);
				checked++;
			} else { /* no sessionKeyIv: IV || ciphertext || tag */
				gcm_known_answer(key, data, data + 12, size - 12, plain);
				checked++;
			}
			free(data);
		}
	}
	assert_int_equal(checked, 9); /* every encrypted item of the 8 vectors */
}

static void test_rsa_decrypt_vectors(void **state)
{
	(void)state;
	for (size_t r = 0; r < json_object_array_length(requests()); r++) {
		json_object *v = json_object_array_get_idx(requests(), r);
		const char *which = tu_str(v, "worker_key");
		struct tcw_keys *keys =
		    strcmp(which, "worker_rsa3072_private_pem") == 0 ? g_rsa3072 : g_rsa2048;
		size_t size = 0, n = 0;
		uint8_t *ct =
		    tu_unhex(tu_str(tu_member(v, "request_params"), "encryptedSessionKey"), &size);
		uint8_t key[32], out[512];

		assert_int_equal(size, tcw_keys_rsa_bits(keys) / 8);
		tu_unhex_exact(tu_str(v, "session_key_hex"), key, 32);
		assert_int_equal(tcw_keys_rsa_decrypt(keys, ct, size, out, sizeof(out), &n),
		                 TCW_OK);
		assert_int_equal(n, 32);
		assert_memory_equal(out, key, 32);
		/* exact capacity is enough, one byte less is not */
		assert_int_equal(tcw_keys_rsa_decrypt(keys, ct, size, out, 32, &n), TCW_OK);
		assert_int_equal(tcw_keys_rsa_decrypt(keys, ct, size, out, 31, &n),
		                 TCW_ERR_INTEGRITY);
		/* the other worker key cannot decrypt it */
		assert_int_equal(tcw_keys_rsa_decrypt(keys == g_rsa2048 ? g_rsa3072 : g_rsa2048, ct,
		                                      size, out, sizeof(out), &n),
		                 TCW_ERR_INTEGRITY);
		/* corrupted ciphertext, truncated, empty: one uniform error */
		ct[size / 2] ^= 0x01;
		assert_int_equal(tcw_keys_rsa_decrypt(keys, ct, size, out, sizeof(out), &n),
		                 TCW_ERR_INTEGRITY);
		assert_int_equal(n, 0);
		ct[size / 2] ^= 0x01;
		assert_int_equal(tcw_keys_rsa_decrypt(keys, ct, size - 1, out, sizeof(out), &n),
		                 TCW_ERR_INTEGRITY);
		assert_int_equal(tcw_keys_rsa_decrypt(keys, ct, 0, out, sizeof(out), &n),
		                 TCW_ERR_INTEGRITY);
		free(ct);
	}
}

struct decrypt_job {
	const uint8_t *ct;
	size_t size;
	int failures;
};

static void *decrypt_worker(void *arg)
{
	struct decrypt_job *job = arg;
	static const uint8_t want[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
	                                 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
	                                 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

	for (int i = 0; i < 25; i++) {
		uint8_t out[256];
		size_t n = 0;

		if (tcw_keys_rsa_decrypt(g_rsa2048, job->ct, job->size, out, sizeof(out), &n) !=
		        0 ||
		    n != 32 || memcmp(out, want, 32) != 0)
			job->failures++;
	}
	return NULL;
}

/* One key object used by several threads at once. */
static void test_rsa_decrypt_threads(void **state)
{
	(void)state;
	json_object *v = json_object_array_get_idx(requests(), 0);
	size_t size = 0;
	uint8_t *ct =
	    tu_unhex(tu_str(tu_member(v, "request_params"), "encryptedSessionKey"), &size);
	struct decrypt_job jobs[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct decrypt_job){ct, size, 0};
		assert_int_equal(pthread_create(&th[i], NULL, decrypt_worker, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(jobs[i].failures, 0);
	}
	free(ct);
}

/* pem re-encoded by OpenSSL as the given structure; caller frees. */
static char *pem_convert(const char *pem, int selection, const char *structure)
{
	const unsigned char *p = (const unsigned char *)pem;
	size_t len = strlen(pem), out_len = 0;
	EVP_PKEY *pkey = NULL;
	unsigned char *data = NULL;
	OSSL_DECODER_CTX *d =
	    OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", selection, NULL, NULL);

	assert_non_null(d);
	assert_true(OSSL_DECODER_from_data(d, &p, &len));
	OSSL_DECODER_CTX_free(d);
	OSSL_ENCODER_CTX *e =
	    OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", structure, NULL);
	assert_non_null(e);
	assert_true(OSSL_ENCODER_to_data(e, &data, &out_len));
	char *s = calloc(1, out_len + 1);
	assert_non_null(s);
	memcpy(s, data, out_len);
	OPENSSL_free(data);
	OSSL_ENCODER_CTX_free(e);
	EVP_PKEY_free(pkey);
	return s;
}

/* Encrypts a random 32-byte key for pem and decrypts it with keys. */
static void rsa_round_trip(const char *pem, const struct tcw_keys *keys)
{
	uint8_t plain[32], back[64], *ct = NULL;
	size_t ct_size = 0, n = 0;

	assert_int_equal(tcw_random_bytes(plain, sizeof(plain)), TCW_OK);
	assert_int_equal(tcw_rsa_encrypt_pem(pem, plain, sizeof(plain), &ct, &ct_size), TCW_OK);
	assert_int_equal(ct_size, tcw_keys_rsa_bits(keys) / 8);
	assert_int_equal(tcw_keys_rsa_decrypt(keys, ct, ct_size, back, sizeof(back), &n), TCW_OK);
	assert_int_equal(n, 32);
	assert_memory_equal(back, plain, 32);
	free(ct);
}

static void test_rsa_encrypt_pem(void **state)
{
	(void)state;
	struct tcw_keys *k = NULL;
	uint8_t big[256] = {0}, *ct = (uint8_t *)1;
	size_t n = 99;

	assert_int_equal(tcw_keys_generate(2048, &k), TCW_OK);
	rsa_round_trip(tcw_keys_encryption_pem(k), k);
	char *pkcs1 = pem_convert(tcw_keys_encryption_pem(k), EVP_PKEY_PUBLIC_KEY, "type-specific");
	assert_non_null(strstr(pkcs1, "-----BEGIN RSA PUBLIC KEY-----\n"));
	assert_int_equal(tcw_rsa_pem_bits(pkcs1), 2048);
	rsa_round_trip(pkcs1, k);
	free(pkcs1);
	/* the fixed 3072-bit key, SPKI form */
	rsa_round_trip(tu_str(g_keys, "worker_rsa3072_public_pem"), g_rsa3072);
	/* OAEP-SHA-1 with a 2048-bit key carries at most 214 bytes */
	assert_int_equal(tcw_rsa_encrypt_pem(tcw_keys_encryption_pem(k), big, 214, &ct, &n),
	                 TCW_OK);
	free(ct);
	assert_int_equal(tcw_rsa_encrypt_pem(tcw_keys_encryption_pem(k), big, 215, &ct, &n),
	                 TCW_ERR_INVALID_PARAM);
	assert_null(ct);
	assert_int_equal(tcw_rsa_encrypt_pem("not a pem", big, 32, &ct, &n), TCW_ERR_CRYPTO);
	assert_null(ct);
	assert_int_equal(n, 0);
	assert_int_equal(
	    tcw_rsa_encrypt_pem(tu_str(g_keys, "worker_verifying_key_pem"), big, 32, &ct, &n),
	    TCW_ERR_CRYPTO);
	tcw_keys_free(&k);
	assert_null(k);

	assert_int_equal(tcw_rsa_pem_bits(tu_str(g_keys, "worker_rsa_public_pem")), 2048);
	assert_int_equal(tcw_rsa_pem_bits(tu_str(g_keys, "worker_rsa3072_public_pem")), 3072);
	assert_int_equal(
	    tcw_rsa_pem_bits("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"), 0);
	assert_int_equal(tcw_rsa_pem_bits(tu_str(g_keys, "worker_verifying_key_pem")), 0);
	assert_int_equal(tcw_rsa_pem_bits(""), 0);
	assert_int_equal(tcw_rsa_pem_bits(NULL), 0);
}

/* Checks the documented shape of both PEMs of keys. */
static void check_pem_shapes(const struct tcw_keys *keys, unsigned bits)
{
	const char *enc = tcw_keys_encryption_pem(keys), *ver = tcw_keys_verifying_pem(keys);
	const char *head = "-----BEGIN PUBLIC KEY-----\n", *tail = "\n-----END PUBLIC KEY-----";
	size_t len = strlen(enc);

	assert_int_equal(tcw_keys_rsa_bits(keys), bits);
	assert_int_equal(tcw_rsa_pem_bits(enc), bits);
	assert_memory_equal(enc, head, strlen(head));
	assert_true(len > strlen(head) + strlen(tail));
	assert_string_equal(enc + len - strlen(tail), tail); /* no trailing newline */
	/* body: full 64-column lines, then one shorter or equal line */
	const char *line = enc + strlen(head), *end = enc + len - strlen(tail);
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line) + 1);
		assert_non_null(nl);
		size_t cols = (size_t)(nl - line);
		if (nl < end)
			assert_int_equal(cols, 64);
		else
			assert_true(cols >= 1 && cols <= 64);
		line = nl + 1;
	}
	assert_int_equal(strlen(ver), 174);
	assert_memory_equal(ver, "-----BEGIN PUBLIC KEY-----\nMFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE",
	                    59);
	assert_string_equal(ver + 174 - 26, "\n-----END PUBLIC KEY-----\n");
	assert_int_equal(ver[27 + 64], '\n');
}

static void test_keys_generate(void **state)
{
	(void)state;
	static const unsigned sizes[] = {2048, 3072, 4096};
	struct tcw_keys *k = (struct tcw_keys *)1;

	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(tcw_keys_generate(sizes[i], &k), TCW_OK);
		check_pem_shapes(k, sizes[i]);
		rsa_round_trip(tcw_keys_encryption_pem(k), k);
		tcw_keys_free(&k);
	}
	static const unsigned bad[] = {0, 1024, 2047, 2049, 8192};
	for (size_t i = 0; i < 5; i++) {
		k = (struct tcw_keys *)1;
		assert_int_equal(tcw_keys_generate(bad[i], &k), TCW_ERR_INVALID_PARAM);
		assert_null(k);
	}
	tcw_keys_free(NULL);
	tcw_keys_free(&k);
}

static void test_keys_from_pem(void **state)
{
	(void)state;
	size_t n = 0;
	uint8_t *sk = tu_unhex(tu_str(g_keys, "worker_ecdsa_private_hex"), &n);
	struct tcw_keys *k = NULL;

	/* fixed keys reproduce the published PEMs byte for byte */
	check_pem_shapes(g_rsa2048, 2048);
	check_pem_shapes(g_rsa3072, 3072);
	assert_string_equal(tcw_keys_encryption_pem(g_rsa2048),
	                    tu_str(g_keys, "worker_rsa_public_pem"));
	assert_string_equal(tcw_keys_encryption_pem(g_rsa3072),
	                    tu_str(g_keys, "worker_rsa3072_public_pem"));
	assert_string_equal(tcw_keys_verifying_pem(g_rsa2048),
	                    tu_str(g_keys, "worker_verifying_key_pem"));

	/* PKCS#8 form of the same private key */
	char *p8 = pem_convert(tu_str(g_keys, "worker_rsa_private_pem"), EVP_PKEY_KEYPAIR,
	                       "PrivateKeyInfo");
	assert_non_null(strstr(p8, "-----BEGIN PRIVATE KEY-----\n"));
	assert_int_equal(tcw_keys_from_pem(p8, sk, &k), TCW_OK);
	assert_string_equal(tcw_keys_encryption_pem(k), tu_str(g_keys, "worker_rsa_public_pem"));
	tcw_keys_free(&k);
	free(p8);

	/* bad RSA PEMs and bad secp256k1 secrets */
	assert_int_equal(tcw_keys_from_pem("garbage", sk, &k), TCW_ERR_CRYPTO);
	assert_null(k);
	assert_int_equal(tcw_keys_from_pem(tu_str(g_keys, "worker_rsa_public_pem"), sk, &k),
	                 TCW_ERR_CRYPTO);
	uint8_t zero[32] = {0}, order[32];
	assert_int_equal(tcw_keys_from_pem(tu_str(g_keys, "worker_rsa_private_pem"), zero, &k),
	                 TCW_ERR_CRYPTO);
	tu_unhex_exact("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", order,
	               32);
	assert_int_equal(tcw_keys_from_pem(tu_str(g_keys, "worker_rsa_private_pem"), order, &k),
	                 TCW_ERR_CRYPTO);
	assert_null(k);
	free(sk);
}

static void test_ecdsa_pubkey_pem(void **state)
{
	(void)state;
	static const char *const pairs[][2] = {
	    {"worker_ecdsa_private_hex", "worker_verifying_key_pem"},
	    {"requester_ecdsa_private_hex", "requester_verifying_key_pem"},
	};
	uint8_t sk[32], zero[32] = {0};
	char *pem = (char *)1;

	for (size_t i = 0; i < 2; i++) {
		tu_unhex_exact(tu_str(g_keys, pairs[i][0]), sk, 32);
		assert_int_equal(tcw_ecdsa_pubkey_pem(sk, &pem), TCW_OK);
		assert_string_equal(pem, tu_str(g_keys, pairs[i][1]));
		free(pem);
	}
	assert_int_equal(tcw_ecdsa_pubkey_pem(zero, &pem), TCW_ERR_CRYPTO);
	assert_null(pem);
}

static void test_ecdsa_sign_known_answer(void **state)
{
	(void)state;
	/* RFC 6979 (HMAC-SHA-256) low-S signature of SHA-256("tcworker") by the
	 * fixed worker key, computed independently with python-ecdsa */
	const char *want = "304402207e870106074d3aeb91239a6b08b9893337bd4b8c57dbaa4dc5f4676d45"
	                   "cf9199022069ea2f5888b58f201a5c8b88dfb5bf49bb9f946a35425a834521e6914d"
	                   "93edf0";
	uint8_t sk[32], d[32], der[TCW_ECDSA_DER_MAX], der2[TCW_ECDSA_DER_MAX], zero[32] = {0};
	size_t n = 0, n2 = 0;

	tu_unhex_exact(tu_str(g_keys, "worker_ecdsa_private_hex"), sk, 32);
	assert_int_equal(tcw_sha256("tcworker", 8, d), TCW_OK);
	assert_int_equal(tcw_ecdsa_sign(sk, d, der, &n), TCW_OK);
	char *hex = tcw_hex_encode(der, n);
	assert_string_equal(hex, want);
	free(hex);
	assert_int_equal(tcw_keys_sign(g_rsa2048, d, der2, &n2), TCW_OK);
	assert_int_equal(n2, n);
	assert_memory_equal(der2, der, n);
	assert_int_equal(tcw_ecdsa_sign(zero, d, der, &n), TCW_ERR_CRYPTO);
}

static void test_ecdsa_sign_verify(void **state)
{
	(void)state;
	const char *pem = tcw_keys_verifying_pem(g_rsa2048);
	const char *other = tu_str(g_keys, "requester_verifying_key_pem");
	uint8_t d[32], der[TCW_ECDSA_DER_MAX];
	size_t n = 0;

	for (int i = 0; i < 64; i++) {
		assert_int_equal(tcw_random_bytes(d, sizeof(d)), TCW_OK);
		assert_int_equal(tcw_keys_sign(g_rsa2048, d, der, &n), TCW_OK);
		assert_true(n >= 8 && n <= TCW_ECDSA_DER_MAX);
		assert_int_equal(tu_is_high_s(der, n), 0); /* always low-S */
		assert_int_equal(tcw_ecdsa_verify_pem(pem, d, der, n), TCW_OK);
		assert_int_equal(tcw_ecdsa_verify_pem(other, d, der, n), TCW_ERR_VERIFY);
		d[i % 32] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(tcw_ecdsa_verify_pem(pem, d, der, n), TCW_ERR_VERIFY);
	}
}

/* Verifies a vector signature (b64 or hex DER) over digest_hex with pem,
 * with its compressed-point form, and rejects a flipped digest bit. */
static int verify_vector(const char *pem, const char *digest_hex, const uint8_t *der, size_t n)
{
	uint8_t d[32];
	char *cpem = tu_compressed_pem(pem);

	tu_unhex_exact(digest_hex, d, 32);
	assert_int_equal(tcw_ecdsa_verify_pem(pem, d, der, n), TCW_OK);
	assert_int_equal(tcw_ecdsa_verify_pem(cpem, d, der, n), TCW_OK);
	d[31] ^= 1;
	assert_int_equal(tcw_ecdsa_verify_pem(pem, d, der, n), TCW_ERR_VERIFY);
	assert_int_equal(tcw_ecdsa_verify_pem(cpem, d, der, n), TCW_ERR_VERIFY);
	free(cpem);
	return tu_is_high_s(der, n);
}

static void test_ecdsa_verify_vectors(void **state)
{
	(void)state;
	json_object *resp = tu_member(g_orders, "responses");
	int high = 0, total = 0;
	size_t n = 0;
	uint8_t *der;

	for (size_t i = 0; i < json_object_array_length(resp); i++) {
		json_object *v = json_object_array_get_idx(resp, i);
		der = tu_unb64(tu_str(tu_member(v, "result"), "workerSignature"), &n);
		high += verify_vector(tu_str(g_keys, "worker_verifying_key_pem"),
		                      tu_str(v, "expected_response_hash_hex"), der, n);
		total++;
		free(der);
	}
	json_object *signed_req = tu_request_vector(g_orders, "hello_requester_signed");
	json_object *params = tu_member(signed_req, "request_params");
	der = tu_unb64(tu_str(params, "requesterSignature"), &n);
	high += verify_vector(tu_str(params, "verifyingKey"),
	                      tu_str(signed_req, "expected_request_hash_hex"), der, n);
	total++;
	free(der);
	json_object *signup = tu_member(g_orders, "signup");
	der = tu_unhex(tu_str(signup, "encryption_key_signature"), &n);
	high += verify_vector(tu_str(signup, "verifying_key"),
	                      tu_str(signup, "encryption_key_hash_hex"), der, n);
	total++;
	free(der);
	assert_int_equal(total, 4);
	assert_int_equal(high, 2); /* both response signatures are high-S */
}

static void test_ecdsa_verify_errors(void **state)
{
	(void)state;
	const char *pem = tu_str(g_keys, "worker_verifying_key_pem");
	uint8_t d[32], der[TCW_ECDSA_DER_MAX];
	size_t n = 0;

	assert_int_equal(tcw_random_bytes(d, sizeof(d)), TCW_OK);
	assert_int_equal(tcw_keys_sign(g_rsa2048, d, der, &n), TCW_OK);
	/* keys that are not SPKI secp256k1 public keys */
	assert_int_equal(tcw_ecdsa_verify_pem("garbage", d, der, n), TCW_ERR_CRYPTO);
	assert_int_equal(tcw_ecdsa_verify_pem("", d, der, n), TCW_ERR_CRYPTO);
	assert_int_equal(tcw_ecdsa_verify_pem(NULL, d, der, n), TCW_ERR_CRYPTO);
	assert_int_equal(tcw_ecdsa_verify_pem(tu_str(g_keys, "worker_rsa_public_pem"), d, der, n),
	                 TCW_ERR_CRYPTO);
	/* a point not on the curve (last byte changed) */
	char *bad = strdup(pem);
	bad[27 + 64 + 1 + 52] = bad[27 + 64 + 1 + 52] == 'A' ? 'B' : 'A';
	assert_int_equal(tcw_ecdsa_verify_pem(bad, d, der, n), TCW_ERR_CRYPTO);
	free(bad);
	/* signatures that are not DER or do not match */
	assert_int_equal(tcw_ecdsa_verify_pem(pem, d, der, n - 1), TCW_ERR_VERIFY);
	assert_int_equal(tcw_ecdsa_verify_pem(pem, d, der, 0), TCW_ERR_VERIFY);
	assert_int_equal(tcw_ecdsa_verify_pem(pem, d, (const uint8_t *)"\x30\x00", 2),
	                 TCW_ERR_VERIFY);
	der[n - 1] ^= 1;
	assert_int_equal(tcw_ecdsa_verify_pem(pem, d, der, n), TCW_ERR_VERIFY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_random),
	    cmocka_unit_test(test_aes_gcm_nist),
	    cmocka_unit_test(test_aes_gcm_vectors),
	    cmocka_unit_test(test_rsa_decrypt_vectors),
	    cmocka_unit_test(test_rsa_decrypt_threads),
	    cmocka_unit_test(test_rsa_encrypt_pem),
	    cmocka_unit_test(test_keys_generate),
	    cmocka_unit_test(test_keys_from_pem),
	    cmocka_unit_test(test_ecdsa_pubkey_pem),
	    cmocka_unit_test(test_ecdsa_sign_known_answer),
	    cmocka_unit_test(test_ecdsa_sign_verify),
	    cmocka_unit_test(test_ecdsa_verify_vectors),
	    cmocka_unit_test(test_ecdsa_verify_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
