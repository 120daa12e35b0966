/* SPDX-License-Identifier: Apache-2.0 */
/* keys.c - the worker key object: RSA-OAEP encryption key and secp256k1 signing key. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "internal.h"
#include "tcw/tcw.h"

/* Accepted modulus sizes for loaded keys; generation allows 2048/3072/4096. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define RSA_PUBLIC_EXPONENT 65537u

struct tcw_keys {
	EVP_PKEY *rsa;                         /* RSA private key */
	uint8_t seckey[TCW_ECDSA_SECKEY_SIZE]; /* secp256k1 secret scalar */
	unsigned rsa_bits;
	char *verifying_pem;  /* SPKI PEM of the signing key, trailing "\n" */
	char *encryption_pem; /* SPKI PEM of the RSA key, no trailing newline */
	uint8_t fingerprint[TCW_SHA256_SIZE]; /* SHA-256(encryption_pem) */
	struct tcwi_ctx_pool *decrypt_pool; /* ready RSA-OAEP decryption contexts */
};

/* SPKI PEM of the public half of rsa without trailing newline; NULL on failure. */
static char *rsa_spki_pem(EVP_PKEY *rsa)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(rsa, &der);
	char *pem = NULL;

	if (len > 0)
		pem = tcwi_pem_encode("PUBLIC KEY", der, (size_t)len, 0);
	OPENSSL_free(der);
	ERR_clear_error();
	return pem;
}

/*
 * Builds the key object from an RSA private key (ownership of rsa passes to
 * this function in every case) and a secp256k1 secret. The seam for any
 * source of keys (generation, PEM, a sealed file later).
 */
static int keys_assemble(EVP_PKEY *rsa, const uint8_t seckey[TCW_ECDSA_SECKEY_SIZE],
                         struct tcw_keys **out)
{
	const secp256k1_context *ctx = tcwi_secp_ctx();
	struct tcw_keys *k = NULL;
	int ret = TCW_ERR_CRYPTO, bits;

	if (!ctx) {
		ret = TCW_ERR_NOMEM;
		goto out;
	}
	bits = EVP_PKEY_get_bits(rsa);
	if (!EVP_PKEY_is_a(rsa, "RSA") || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS ||
	    !secp256k1_ec_seckey_verify(ctx, seckey))
		goto out;
	k = calloc(1, sizeof(*k));
	if (!k) {
		ret = TCW_ERR_NOMEM;
		goto out;
	}
	k->rsa = rsa;
	rsa = NULL;
	k->rsa_bits = (unsigned)bits;
	ret = tcwi_ctx_pool_new(k->rsa, &k->decrypt_pool);
	if (ret < 0)
		goto out;
	memcpy(k->seckey, seckey, TCW_ECDSA_SECKEY_SIZE);
	ret = tcw_ecdsa_pubkey_pem(k->seckey, &k->verifying_pem);
	if (ret < 0)
		goto out;
	k->encryption_pem = rsa_spki_pem(k->rsa);
	if (!k->encryption_pem) {
		ret = TCW_ERR_NOMEM;
		goto out;
	}
	ret = tcw_sha256(k->encryption_pem, strlen(k->encryption_pem), k->fingerprint);
	if (ret < 0)
		goto out;
	*out = k;
	k = NULL;
	ret = TCW_OK;
out:
	EVP_PKEY_free(rsa);
	tcw_keys_free(&k);
	return ret;
}

/* A fresh RSA key of bits bits with e = 65537; NULL on failure. */
static EVP_PKEY *rsa_generate(unsigned bits)
{
	unsigned int e = RSA_PUBLIC_EXPONENT;
	size_t nbits = bits;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &nbits),
	    OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E, &e),
	    OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pkey = NULL;

	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_params(ctx, params) <= 0 ||
	    EVP_PKEY_generate(ctx, &pkey) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
		ERR_clear_error();
	}
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* Generates fresh keys (rsa_bits 2048, 3072 or 4096, else
 * TCW_ERR_INVALID_PARAM); *out caller frees with tcw_keys_free. */
int tcw_keys_generate(unsigned rsa_bits, struct tcw_keys **out)
{
	const secp256k1_context *ctx = tcwi_secp_ctx();
	uint8_t seckey[TCW_ECDSA_SECKEY_SIZE];
	EVP_PKEY *rsa;
	int ret;

	if (!out)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	if (rsa_bits != 2048 && rsa_bits != 3072 && rsa_bits != 4096)
		return TCW_ERR_INVALID_PARAM;
	if (!ctx)
		return TCW_ERR_NOMEM;
	do {
		ret = tcw_random_bytes(seckey, sizeof(seckey));
		if (ret < 0)
			goto out;
	} while (!secp256k1_ec_seckey_verify(ctx, seckey));
	rsa = rsa_generate(rsa_bits);
	if (!rsa) {
		ret = TCW_ERR_CRYPTO;
		goto out;
	}
	ret = keys_assemble(rsa, seckey, out);
out:
	tcw_wipe(seckey, sizeof(seckey));
	return ret;
}

/* An RSA private key from PEM (PKCS#1 or unencrypted PKCS#8); NULL if bad. */
static EVP_PKEY *rsa_private_from_pem(const char *pem)
{
	const unsigned char *p = (const unsigned char *)pem;
	size_t len = strlen(pem);
	EVP_PKEY *pkey = NULL;
	OSSL_DECODER_CTX *dctx;

	dctx =
	    OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dctx &&
	    (!OSSL_DECODER_from_data(dctx, &p, &len) || !pkey || !EVP_PKEY_is_a(pkey, "RSA"))) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	return pkey;
}

/* Builds keys from an RSA private PEM (PKCS#1 or PKCS#8) and a raw
 * secp256k1 secret; *out caller frees with tcw_keys_free. TCW_ERR_CRYPTO
 * for a key that does not parse or is unusable. */
int tcw_keys_from_pem(const char *rsa_private_pem, const uint8_t seckey[TCW_ECDSA_SECKEY_SIZE],
                      struct tcw_keys **out)
{
	EVP_PKEY *rsa;

	if (!out)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	if (!rsa_private_pem || !seckey)
		return TCW_ERR_INVALID_PARAM;
	rsa = rsa_private_from_pem(rsa_private_pem);
	if (!rsa)
		return TCW_ERR_CRYPTO;
	return keys_assemble(rsa, seckey, out);
}

/* Wipes and frees keys, sets *keys to NULL (NULL-safe). */
void tcw_keys_free(struct tcw_keys **keys)
{
	struct tcw_keys *k;

	if (!keys || !*keys)
		return;
	k = *keys;
	tcwi_ctx_pool_free(&k->decrypt_pool);
	EVP_PKEY_free(k->rsa);
	free(k->verifying_pem);
	free(k->encryption_pem);
	tcw_free_secret(k, sizeof(*k));
	*keys = NULL;
}

/* The verifying key as SPKI PEM with trailing "\n" (borrowed). */
const char *tcw_keys_verifying_pem(const struct tcw_keys *keys)
{
	return keys ? keys->verifying_pem : NULL;
}

/* The RSA encryption key as SPKI PEM without trailing newline (borrowed). */
const char *tcw_keys_encryption_pem(const struct tcw_keys *keys)
{
	return keys ? keys->encryption_pem : NULL;
}

/* Modulus size in bits of the RSA key (0 for NULL keys). */
unsigned tcw_keys_rsa_bits(const struct tcw_keys *keys)
{
	return keys ? keys->rsa_bits : 0;
}

/* The fingerprint of the worker's RSA key; see internal.h. */
const uint8_t *tcwi_keys_fingerprint(const struct tcw_keys *k)
{
	return k->fingerprint;
}

/* RSA-OAEP (SHA-1) decryption with the worker key into out (cap bytes);
 * one uniform TCW_ERR_INTEGRITY for every failure. Thread-safe: each call
 * borrows its own EVP_PKEY_CTX from the key's pool. */
int tcw_keys_rsa_decrypt(const struct tcw_keys *keys, const uint8_t *in, size_t size, uint8_t *out,
                         size_t cap, size_t *out_size)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *tmp = NULL;
	size_t tmp_cap = 0, len = 0;
	int ret = TCW_ERR_INTEGRITY;

	if (!keys || !in || !size || !out_size || (cap && !out))
		return TCW_ERR_INTEGRITY;
	*out_size = 0;
#ifdef TCW_FUZZING
	/* libFuzzer builds only (tests/fuzz/README.md): a "ciphertext" that
	 * starts with this marker carries the raw 32-byte key right after it,
	 * so the fuzzer gets past RSA without paying for it on every input */
	if (size > 8 + TCW_AES_KEY_SIZE && memcmp(in, "tcw-fuzz", 8) == 0 &&
	    cap >= TCW_AES_KEY_SIZE) {
		memcpy(out, in + 8, TCW_AES_KEY_SIZE);
		*out_size = TCW_AES_KEY_SIZE;
		return TCW_OK;
	}
#endif
	ctx = keys->decrypt_pool ? tcwi_ctx_pool_take(keys->decrypt_pool) : NULL;
	if (!ctx)
		goto out;
	tmp_cap = (size_t)EVP_PKEY_get_size(keys->rsa);
	tmp = malloc(tmp_cap);
	if (!tmp)
		goto out;
	len = tmp_cap;
	if (EVP_PKEY_decrypt(ctx, tmp, &len, in, size) <= 0 || len > cap)
		goto out;
	memcpy(out, tmp, len);
	*out_size = len;
	ret = TCW_OK;
out:
	if (ret != TCW_OK)
		ERR_clear_error();
	tcw_free_secret(tmp, tmp_cap);
	if (ctx)
		tcwi_ctx_pool_give(keys->decrypt_pool, ctx, ret == TCW_OK);
	return ret;
}

/* Signs a 32-byte digest with the worker signing key (DER, low-S). */
int tcw_keys_sign(const struct tcw_keys *keys, const uint8_t digest[TCW_SHA256_SIZE],
                  uint8_t der[TCW_ECDSA_DER_MAX], size_t *der_size)
{
	if (!keys)
		return TCW_ERR_INVALID_PARAM;
	return tcw_ecdsa_sign(keys->seckey, digest, der, der_size);
}

/* ---- the keys-file format ------------------------------------------------
 * offset 0   magic "\x89TCWKEYS" (8 bytes)
 *        8   version byte (TCW_KEYS_FILE_VERSION)
 *        9   secp256k1 secret (32 bytes)
 *       41   n = length of the RSA key DER, u32 big-endian
 *       45   RSA private key, DER PKCS#8 PrivateKeyInfo (n bytes)
 *   45 + n   SHA-256 of every byte before it (32 bytes)
 */
#define KF_MAGIC_SIZE 8
static const uint8_t kf_magic[KF_MAGIC_SIZE] = {0x89, 'T', 'C', 'W', 'K', 'E', 'Y', 'S'};
#define KF_OFF_VERSION 8
#define KF_OFF_SECKEY 9
#define KF_OFF_DER_SIZE (KF_OFF_SECKEY + TCW_ECDSA_SECKEY_SIZE)
#define KF_OFF_DER (KF_OFF_DER_SIZE + 4)
#define KF_FIXED_SIZE (KF_OFF_DER + TCW_SHA256_SIZE)

/* DER PKCS#8 of the RSA private key; secret, free with OPENSSL_clear_free. */
static int rsa_private_der(EVP_PKEY *rsa, unsigned char **der, size_t *size)
{
	OSSL_ENCODER_CTX *ectx;
	int ret = TCW_ERR_CRYPTO;

	*der = NULL;
	*size = 0;
	ectx = OSSL_ENCODER_CTX_new_for_pkey(rsa, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", NULL);
	if (ectx && OSSL_ENCODER_to_data(ectx, der, size) == 1 && *der && *size)
		ret = TCW_OK;
	else if (*der) {
		OPENSSL_clear_free(*der, *size);
		*der = NULL;
		*size = 0;
	}
	OSSL_ENCODER_CTX_free(ectx);
	ERR_clear_error();
	return ret;
}

/* Serialises keys into the keys-file format (see tcw.h); *out secret. */
int tcw_keys_encode(const struct tcw_keys *keys, uint8_t **out, size_t *size)
{
	unsigned char *der = NULL;
	size_t der_size = 0, total;
	uint8_t *buf;
	int ret;

	if (!out || !size)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	*size = 0;
	if (!keys)
		return TCW_ERR_INVALID_PARAM;
	ret = rsa_private_der(keys->rsa, &der, &der_size);
	if (ret < 0)
		return ret;
	if (der_size > TCW_KEYS_FILE_MAX_SIZE - KF_FIXED_SIZE) {
		ret = TCW_ERR_CRYPTO;
		goto out;
	}
	total = KF_FIXED_SIZE + der_size;
	buf = malloc(total);
	if (!buf) {
		ret = TCW_ERR_NOMEM;
		goto out;
	}
	memcpy(buf, kf_magic, KF_MAGIC_SIZE);
	buf[KF_OFF_VERSION] = TCW_KEYS_FILE_VERSION;
	memcpy(buf + KF_OFF_SECKEY, keys->seckey, TCW_ECDSA_SECKEY_SIZE);
	buf[KF_OFF_DER_SIZE] = (uint8_t)(der_size >> 24);
	buf[KF_OFF_DER_SIZE + 1] = (uint8_t)(der_size >> 16);
	buf[KF_OFF_DER_SIZE + 2] = (uint8_t)(der_size >> 8);
	buf[KF_OFF_DER_SIZE + 3] = (uint8_t)der_size;
	memcpy(buf + KF_OFF_DER, der, der_size);
	ret = tcw_sha256(buf, KF_OFF_DER + der_size, buf + KF_OFF_DER + der_size);
	if (ret < 0) {
		tcw_free_secret(buf, total);
		goto out;
	}
	*out = buf;
	*size = total;
out:
	OPENSSL_clear_free(der, der_size);
	return ret;
}

/* An RSA private key from DER PKCS#8; NULL if it does not parse. */
static EVP_PKEY *rsa_private_from_der(const uint8_t *der, size_t size)
{
	const unsigned char *p = der;
	size_t len = size;
	EVP_PKEY *pkey = NULL;
	OSSL_DECODER_CTX *dctx;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", "PrivateKeyInfo", "RSA",
	                                     EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dctx && (!OSSL_DECODER_from_data(dctx, &p, &len) || !pkey ||
	             !EVP_PKEY_is_a(pkey, "RSA") || len != 0)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	return pkey;
}

/* Checks magic, version, length and checksum of a keys file image;
 * *der_size gets the RSA DER length. */
static int keys_file_check(const uint8_t *data, size_t size, size_t *der_size, struct tcw_error *e)
{
	uint8_t sum[TCW_SHA256_SIZE];
	size_t n;
	int ret;

	if (size < KF_MAGIC_SIZE || memcmp(data, kf_magic, KF_MAGIC_SIZE) != 0)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "not a tcworker keys file (bad magic, %zu bytes)", size);
	if (size <= KF_OFF_VERSION)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "truncated (%zu bytes)", size);
	if (data[KF_OFF_VERSION] != TCW_KEYS_FILE_VERSION)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "unsupported format version %u (this build reads %u)",
		                     data[KF_OFF_VERSION], TCW_KEYS_FILE_VERSION);
	if (size < KF_FIXED_SIZE)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "truncated (%zu bytes)", size);
	n = ((size_t)data[KF_OFF_DER_SIZE] << 24) | ((size_t)data[KF_OFF_DER_SIZE + 1] << 16) |
	    ((size_t)data[KF_OFF_DER_SIZE + 2] << 8) | (size_t)data[KF_OFF_DER_SIZE + 3];
	if (n > size - KF_FIXED_SIZE)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "truncated (%zu bytes, expected %zu)", size,
		                     KF_FIXED_SIZE + n);
	if (n < size - KF_FIXED_SIZE)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "%zu unexpected bytes after the checksum",
		                     size - KF_FIXED_SIZE - n);
	ret = tcw_sha256(data, KF_OFF_DER + n, sum);
	if (ret < 0)
		return tcw_error_set(e, ret, "checksum");
	if (!tcw_ct_equal(sum, data + KF_OFF_DER + n, sizeof(sum)))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "checksum mismatch (file is corrupt)");
	*der_size = n;
	return TCW_OK;
}

/* Rebuilds keys from the keys-file format (see tcw.h). */
int tcw_keys_decode(const uint8_t *data, size_t size, struct tcw_keys **out, struct tcw_error *e)
{
	EVP_PKEY *rsa;
	size_t der_size = 0;
	int ret;

	tcw_error_set(e, TCW_OK, NULL);
	if (!out)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, NULL);
	*out = NULL;
	if (!data && size)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, NULL);
	ret = keys_file_check(data, size, &der_size, e);
	if (ret < 0)
		return ret;
	rsa = rsa_private_from_der(data + KF_OFF_DER, der_size);
	if (!rsa)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "RSA private key does not parse");
	ret = keys_assemble(rsa, data + KF_OFF_SECKEY, out);
	if (ret == TCW_ERR_CRYPTO)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "unusable key (RSA size or secp256k1 secret)");
	return ret < 0 ? tcw_error_set(e, ret, NULL) : TCW_OK;
}
