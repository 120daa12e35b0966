/* SPDX-License-Identifier: Apache-2.0 */
/* keys.c - the worker key object: RSA-OAEP encryption key and secp256k1 signing key. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
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
	memcpy(k->seckey, seckey, TCW_ECDSA_SECKEY_SIZE);
	ret = tcw_ecdsa_pubkey_pem(k->seckey, &k->verifying_pem);
	if (ret < 0)
		goto out;
	k->encryption_pem = rsa_spki_pem(k->rsa);
	if (!k->encryption_pem) {
		ret = TCW_ERR_NOMEM;
		goto out;
	}
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

/* RSA-OAEP (SHA-1) decryption with the worker key into out (cap bytes);
 * one uniform TCW_ERR_INTEGRITY for every failure. Thread-safe: each call
 * uses its own EVP_PKEY_CTX. */
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
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, keys->rsa, NULL);
	if (!ctx || EVP_PKEY_decrypt_init(ctx) <= 0 || tcwi_oaep_setup(ctx) < 0)
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
	EVP_PKEY_CTX_free(ctx);
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
