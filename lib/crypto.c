/* SPDX-License-Identifier: Apache-2.0 */
/* crypto.c - SHA-256, CSPRNG, AES-256-GCM, RSA-OAEP public-key operations and ECDSA-secp256k1. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "internal.h"
#include "tcw/tcw.h"

/* Bytes per EVP update call, so lengths always fit an int. */
#define EVP_CHUNK (1u << 30)
#define EC_POINT_UNCOMPRESSED 65
#define EC_POINT_COMPRESSED 33

/* SPKI DER prefixes for id-ecPublicKey + secp256k1, before the point bytes:
 * SEQUENCE { SEQUENCE { OID 1.2.840.10045.2.1, OID 1.3.132.0.10 }, BIT STRING }. */
static const uint8_t spki_prefix_uncompressed[] = {
    0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00,
};
static const uint8_t spki_prefix_compressed[] = {
    0x30, 0x36, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x22, 0x00,
};

static pthread_once_t g_secp_once = PTHREAD_ONCE_INIT;
static secp256k1_context *g_secp_ctx;

/* SHA-256 of data into out. */
int tcw_sha256(const void *data, size_t size, uint8_t out[TCW_SHA256_SIZE])
{
	if (!out || (size && !data))
		return TCW_ERR_INVALID_PARAM;
	if (!EVP_Digest(data, size, out, NULL, EVP_sha256(), NULL)) {
		ERR_clear_error();
		return TCW_ERR_CRYPTO;
	}
	return TCW_OK;
}

/* Fills buf with size bytes from the CSPRNG. */
int tcw_random_bytes(void *buf, size_t size)
{
	uint8_t *p = buf;

	if (size && !buf)
		return TCW_ERR_INVALID_PARAM;
	while (size) {
		size_t n = size < EVP_CHUNK ? size : EVP_CHUNK;

		if (RAND_bytes(p, (int)n) != 1) {
			ERR_clear_error();
			return TCW_ERR_INTERNAL;
		}
		p += n;
		size -= n;
	}
	return TCW_OK;
}

/* Runs EVP_CipherUpdate over size bytes in int-sized chunks. */
static int gcm_update(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t size, uint8_t *out)
{
	while (size) {
		size_t n = size < EVP_CHUNK ? size : EVP_CHUNK;
		int got = 0;

		if (!EVP_CipherUpdate(ctx, out, &got, in, (int)n) || (size_t)got != n)
			return -1;
		in += n;
		out += n;
		size -= n;
	}
	return 0;
}

/* A GCM context for key/iv; enc 1 = encrypt, 0 = decrypt. NULL on failure. */
static EVP_CIPHER_CTX *gcm_new(const uint8_t *key, const uint8_t *iv, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!ctx)
		return NULL;
	if (!EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, TCW_GCM_IV_SIZE, NULL) ||
	    !EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* AES-256-GCM encrypt, no AAD: out (size + 16 bytes) = ciphertext || tag. */
int tcw_aes_gcm_encrypt(const uint8_t key[TCW_AES_KEY_SIZE], const uint8_t iv[TCW_GCM_IV_SIZE],
                        const uint8_t *plain, size_t size, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int ret = TCW_ERR_CRYPTO, n = 0;

	if (!key || !iv || !out || (size && !plain) || size > SIZE_MAX - TCW_GCM_TAG_SIZE)
		return TCW_ERR_INVALID_PARAM;
	ctx = gcm_new(key, iv, 1);
	if (!ctx)
		goto out;
	if (gcm_update(ctx, plain, size, out) < 0 || !EVP_EncryptFinal_ex(ctx, out + size, &n) ||
	    n != 0 || !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TCW_GCM_TAG_SIZE, out + size))
		goto out;
	ret = TCW_OK;
out:
	if (ret != TCW_OK) {
		tcw_wipe(out, size + TCW_GCM_TAG_SIZE);
		ERR_clear_error();
	}
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* AES-256-GCM decrypt of in (ciphertext || tag, size >= 16) into out
 * (size - 16 bytes). TCW_ERR_INTEGRITY if the tag does not verify or in is
 * shorter than a tag (out is wiped then). */
int tcw_aes_gcm_decrypt(const uint8_t key[TCW_AES_KEY_SIZE], const uint8_t iv[TCW_GCM_IV_SIZE],
                        const uint8_t *in, size_t size, uint8_t *out)
{
	uint8_t tag[TCW_GCM_TAG_SIZE];
	EVP_CIPHER_CTX *ctx = NULL;
	int ret = TCW_ERR_CRYPTO, n = 0;
	size_t ct_size;

	if (!key || !iv || (size && !in))
		return TCW_ERR_INVALID_PARAM;
	if (size < TCW_GCM_TAG_SIZE)
		return TCW_ERR_INTEGRITY;
	ct_size = size - TCW_GCM_TAG_SIZE;
	if (ct_size && !out)
		return TCW_ERR_INVALID_PARAM;
	memcpy(tag, in + ct_size, TCW_GCM_TAG_SIZE);
	ctx = gcm_new(key, iv, 0);
	if (!ctx)
		goto out;
	if (gcm_update(ctx, in, ct_size, out) < 0 ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TCW_GCM_TAG_SIZE, tag))
		goto out;
	ret = EVP_DecryptFinal_ex(ctx, out ? out + ct_size : tag, &n) > 0 && n == 0
	          ? TCW_OK
	          : TCW_ERR_INTEGRITY;
out:
	if (ret != TCW_OK) {
		tcw_wipe(out, ct_size);
		ERR_clear_error();
	}
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* Configures ctx for RSA-OAEP SHA-1/MGF1-SHA-1 (see internal.h). */
int tcwi_oaep_setup(EVP_PKEY_CTX *ctx)
{
	if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) <= 0)
		return TCW_ERR_CRYPTO;
	return TCW_OK;
}

/* An RSA public key from PEM text (SPKI or PKCS#1); NULL if it does not parse. */
static EVP_PKEY *rsa_public_from_pem(const char *pem)
{
	const unsigned char *p = (const unsigned char *)pem;
	EVP_PKEY *pkey = NULL;
	OSSL_DECODER_CTX *dctx;
	size_t len;

	if (!pem)
		return NULL;
	len = strlen(pem);
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", EVP_PKEY_PUBLIC_KEY, NULL,
	                                     NULL);
	if (!dctx)
		goto out;
	if (!OSSL_DECODER_from_data(dctx, &p, &len) || !pkey || !EVP_PKEY_is_a(pkey, "RSA")) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	OSSL_DECODER_CTX_free(dctx);
	if (!pkey)
		ERR_clear_error();
	return pkey;
}

/* RSA-OAEP (SHA-1, MGF1-SHA-1, empty label) encryption with a public key in
 * PEM (SPKI or PKCS#1); *out caller frees. TCW_ERR_CRYPTO on a bad key,
 * TCW_ERR_INVALID_PARAM when plain is too long for the key. */
int tcw_rsa_encrypt_pem(const char *pem, const uint8_t *plain, size_t size, uint8_t **out,
                        size_t *out_size)
{
	EVP_PKEY *pkey = rsa_public_from_pem(pem);
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = TCW_ERR_CRYPTO;

	if (!out || !out_size || (size && !plain)) {
		ret = TCW_ERR_INVALID_PARAM;
		goto out;
	}
	*out = NULL;
	*out_size = 0;
	if (!pkey)
		goto out;
	/* OAEP with SHA-1 carries at most k - 2*20 - 2 bytes */
	if ((size_t)EVP_PKEY_get_size(pkey) < 42 || size > (size_t)EVP_PKEY_get_size(pkey) - 42) {
		ret = TCW_ERR_INVALID_PARAM;
		goto out;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx || EVP_PKEY_encrypt_init(ctx) <= 0 || tcwi_oaep_setup(ctx) < 0 ||
	    EVP_PKEY_encrypt(ctx, NULL, &len, plain, size) <= 0)
		goto out;
	buf = malloc(len);
	if (!buf) {
		ret = TCW_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_encrypt(ctx, buf, &len, plain, size) <= 0)
		goto out;
	*out = buf;
	*out_size = len;
	buf = NULL;
	ret = TCW_OK;
out:
	if (ret != TCW_OK)
		ERR_clear_error();
	free(buf);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ret;
}

/* Bits of the RSA public key in pem, or 0 if it does not parse. */
unsigned tcw_rsa_pem_bits(const char *pem)
{
	EVP_PKEY *pkey = rsa_public_from_pem(pem);
	int bits = pkey ? EVP_PKEY_get_bits(pkey) : 0;

	EVP_PKEY_free(pkey);
	return bits > 0 ? (unsigned)bits : 0;
}

static void secp_ctx_create(void)
{
	uint8_t seed[32];

	g_secp_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!g_secp_ctx)
		return;
	/* randomisation only hardens against side channels; a failure leaves
	 * a correct, unblinded context */
	if (tcw_random_bytes(seed, sizeof(seed)) == TCW_OK &&
	    !secp256k1_context_randomize(g_secp_ctx, seed))
		tcw_logf(TCW_LOG_WARN, "secp256k1 context randomisation failed");
	tcw_wipe(seed, sizeof(seed));
}

/* The process-wide randomized secp256k1 context (borrowed, see internal.h). */
const secp256k1_context *tcwi_secp_ctx(void)
{
	if (pthread_once(&g_secp_once, secp_ctx_create) != 0)
		return NULL;
	return g_secp_ctx;
}

/* ECDSA-secp256k1 signature (RFC 6979, low-S) of a 32-byte digest with a
 * raw secret key; DER into der, length into *der_size. TCW_ERR_CRYPTO for
 * an invalid secret key. */
int tcw_ecdsa_sign(const uint8_t seckey[TCW_ECDSA_SECKEY_SIZE],
                   const uint8_t digest[TCW_SHA256_SIZE], uint8_t der[TCW_ECDSA_DER_MAX],
                   size_t *der_size)
{
	const secp256k1_context *ctx = tcwi_secp_ctx();
	secp256k1_ecdsa_signature sig;
	size_t len = TCW_ECDSA_DER_MAX;

	if (!seckey || !digest || !der || !der_size)
		return TCW_ERR_INVALID_PARAM;
	if (!ctx)
		return TCW_ERR_NOMEM;
	if (!secp256k1_ecdsa_sign(ctx, &sig, digest, seckey, NULL, NULL) ||
	    !secp256k1_ecdsa_signature_serialize_der(ctx, der, &len, &sig))
		return TCW_ERR_CRYPTO;
	*der_size = len;
	return TCW_OK;
}

/* Parses an SPKI PEM secp256k1 public key into *pk; TCW_ERR_CRYPTO if bad. */
static int ec_pubkey_from_pem(const secp256k1_context *ctx, const char *pem, secp256k1_pubkey *pk)
{
	const size_t plen = sizeof(spki_prefix_uncompressed);
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	BIO *bio = NULL;
	int ret = TCW_ERR_CRYPTO;
	size_t pt_len;

	if (!pem)
		return TCW_ERR_CRYPTO;
	bio = BIO_new_mem_buf(pem, -1);
	if (!bio || !PEM_read_bio(bio, &name, &header, &der, &der_len) ||
	    strcmp(name, "PUBLIC KEY") != 0 || der_len <= (long)plen)
		goto out;
	pt_len = (size_t)der_len - plen;
	if (!(pt_len == EC_POINT_UNCOMPRESSED &&
	      memcmp(der, spki_prefix_uncompressed, plen) == 0) &&
	    !(pt_len == EC_POINT_COMPRESSED && memcmp(der, spki_prefix_compressed, plen) == 0))
		goto out;
	if (secp256k1_ec_pubkey_parse(ctx, pk, der + plen, pt_len))
		ret = TCW_OK;
out:
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	BIO_free(bio);
	return ret;
}

/* Verifies DER signature over digest with an SPKI PEM secp256k1 key
 * (compressed or uncompressed point); high-S is normalised first.
 * TCW_OK, TCW_ERR_VERIFY (bad signature) or TCW_ERR_CRYPTO (bad key). */
int tcw_ecdsa_verify_pem(const char *pem, const uint8_t digest[TCW_SHA256_SIZE], const uint8_t *der,
                         size_t der_size)
{
	const secp256k1_context *ctx = tcwi_secp_ctx();
	secp256k1_ecdsa_signature sig;
	secp256k1_pubkey pk;
	int ret;

	if (!ctx)
		return TCW_ERR_NOMEM;
	ret = ec_pubkey_from_pem(ctx, pem, &pk);
	if (ret < 0)
		return ret;
	if (!digest || !der || !der_size ||
	    !secp256k1_ecdsa_signature_parse_der(ctx, &sig, der, der_size))
		return TCW_ERR_VERIFY;
	secp256k1_ecdsa_signature_normalize(ctx, &sig, &sig);
	return secp256k1_ecdsa_verify(ctx, &sig, digest, &pk) ? TCW_OK : TCW_ERR_VERIFY;
}

/* SPKI PEM (uncompressed point, 64-column lines, trailing "\n") of the
 * public key of seckey; caller frees *pem. TCW_ERR_CRYPTO for an invalid
 * secret key. */
int tcw_ecdsa_pubkey_pem(const uint8_t seckey[TCW_ECDSA_SECKEY_SIZE], char **pem)
{
	const secp256k1_context *ctx = tcwi_secp_ctx();
	const size_t plen = sizeof(spki_prefix_uncompressed);
	uint8_t der[sizeof(spki_prefix_uncompressed) + EC_POINT_UNCOMPRESSED];
	size_t pt_len = EC_POINT_UNCOMPRESSED;
	secp256k1_pubkey pk;

	if (!seckey || !pem)
		return TCW_ERR_INVALID_PARAM;
	*pem = NULL;
	if (!ctx)
		return TCW_ERR_NOMEM;
	if (!secp256k1_ec_pubkey_create(ctx, &pk, seckey))
		return TCW_ERR_CRYPTO;
	memcpy(der, spki_prefix_uncompressed, plen);
	if (!secp256k1_ec_pubkey_serialize(ctx, der + plen, &pt_len, &pk,
	                                   SECP256K1_EC_UNCOMPRESSED) ||
	    pt_len != EC_POINT_UNCOMPRESSED)
		return TCW_ERR_CRYPTO;
	*pem = tcwi_pem_encode("PUBLIC KEY", der, sizeof(der), 1);
	return *pem ? TCW_OK : TCW_ERR_NOMEM;
}
