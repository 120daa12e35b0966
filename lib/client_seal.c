/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_seal.c - requester side, nonce-safe mode (protocol.md §5, §12.1):
 * inData items and outData templates under their own data keys and IVs,
 * wrapped for the worker, or (session reuse) under the session key with
 * their own IVs, and the optional requester signature.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* Fresh random IV as hex into *hex (caller frees), bytes into iv. */
static int fresh_iv(uint8_t iv[TCW_GCM_IV_SIZE], char **hex)
{
	int ret = tcw_random_bytes(iv, TCW_GCM_IV_SIZE);

	*hex = ret == TCW_OK ? tcw_hex_encode(iv, TCW_GCM_IV_SIZE) : NULL;
	return ret < 0 ? ret : (*hex ? TCW_OK : TCW_ERR_NOMEM);
}

/*
 * A fresh 32-byte data key into dek and its double wrap into *e (hex, caller
 * frees): hex(wiv || AES-GCM(session key, wiv, RSA-OAEP(pem, dek))) with a
 * fresh wiv, the layout the worker tries first (protocol.md §5).
 */
static int new_dek(const struct tcw_order *o, const char *pem, uint8_t dek[TCW_AES_KEY_SIZE],
                   char **e)
{
	uint8_t *wrapped = NULL, *blob = NULL;
	size_t wrapped_size = 0, blob_size;
	int ret;

	*e = NULL;
	ret = tcw_random_bytes(dek, TCW_AES_KEY_SIZE);
	if (ret == TCW_OK)
		ret = tcw_rsa_encrypt_pem(pem, dek, TCW_AES_KEY_SIZE, &wrapped, &wrapped_size);
	if (ret < 0)
		goto out;
	ret = TCW_ERR_NOMEM;
	blob_size = TCW_GCM_IV_SIZE + wrapped_size + TCW_GCM_TAG_SIZE;
	blob = malloc(blob_size);
	if (!blob)
		goto out;
	ret = tcw_random_bytes(blob, TCW_GCM_IV_SIZE);
	if (ret == TCW_OK)
		ret = tcw_aes_gcm_encrypt(o->key, blob, wrapped, wrapped_size,
		                          blob + TCW_GCM_IV_SIZE);
	if (ret == TCW_OK && !(*e = tcw_hex_encode(blob, blob_size)))
		ret = TCW_ERR_NOMEM;
out:
	free(blob);
	free(wrapped);
	if (ret < 0)
		tcw_wipe(dek, TCW_AES_KEY_SIZE);
	return ret;
}

/* Appends {index, dataHash "", data, e, iv} to arr; *t borrows its texts. */
static int add_item(json_object *arr, size_t index, const char *data, size_t data_len,
                    const char *e, const char *iv, struct tcw_item_text *t)
{
	json_object *item = json_object_new_object(), *v;

	if (!item || tcwi_json_add(item, "index", json_object_new_int64((int64_t)index)) < 0 ||
	    tcwi_json_add(item, "dataHash", json_object_new_string("")) < 0 ||
	    tcwi_json_add(item, "data", json_object_new_string_len(data, (int)data_len)) < 0 ||
	    tcwi_json_add(item, "encryptedDataEncryptionKey", json_object_new_string(e)) < 0 ||
	    tcwi_json_add(item, "iv", json_object_new_string(iv)) < 0 ||
	    json_object_array_add(arr, item) < 0) {
		json_object_put(item);
		return TCW_ERR_NOMEM;
	}
	v = json_object_array_get_idx(arr, json_object_array_length(arr) - 1);
	*t = (struct tcw_item_text){
	    .index = (int64_t)index,
	    .data_hash = "",
	    .data = json_object_get_string(json_object_object_get(v, "data")),
	    .dek = json_object_get_string(json_object_object_get(v, "encryptedDataEncryptionKey")),
	    .iv = json_object_get_string(json_object_object_get(v, "iv")),
	};
	return TCW_OK;
}

/* Appends inData item i under its own data key and IV (see client.h). */
int tcwi_client_dek_item(const struct tcw_order *o, const char *pem, const struct tcw_wl_input *in,
                         size_t i, json_object *arr, struct tcw_item_text *t)
{
	uint8_t dek[TCW_AES_KEY_SIZE], iv[TCW_GCM_IV_SIZE], *ct = NULL;
	char *e = NULL, *iv_hex = NULL, *b64 = NULL;
	size_t len = 0;
	int ret;

	if ((in->size && !in->data) || in->size > TCWI_CLIENT_MAX_INPUT)
		return TCW_ERR_INVALID_PARAM;
	ret = new_dek(o, pem, dek, &e);
	if (ret == TCW_OK)
		ret = fresh_iv(iv, &iv_hex);
	if (ret < 0)
		goto out;
	ct = malloc(in->size + TCW_GCM_TAG_SIZE);
	ret = ct ? tcw_aes_gcm_encrypt(dek, iv, in->data, in->size, ct) : TCW_ERR_NOMEM;
	if (ret == TCW_OK && !(b64 = tcw_b64_encode(ct, in->size + TCW_GCM_TAG_SIZE, &len)))
		ret = TCW_ERR_NOMEM;
	if (ret == TCW_OK)
		ret = add_item(arr, i, b64, len, e, iv_hex, t);
out:
	tcw_wipe(dek, sizeof(dek));
	free(ct);
	free(b64);
	free(e);
	free(iv_hex);
	return ret;
}

/* Appends inData item i under the session key with its own IV (see client.h). */
int tcwi_client_session_item(const struct tcw_order *o, const struct tcw_wl_input *in, size_t i,
                             json_object *arr, struct tcw_item_text *t)
{
	uint8_t iv[TCW_GCM_IV_SIZE], *ct = NULL;
	char *iv_hex = NULL, *b64 = NULL;
	size_t len = 0;
	int ret;

	if ((in->size && !in->data) || in->size > TCWI_CLIENT_MAX_INPUT)
		return TCW_ERR_INVALID_PARAM;
	ret = fresh_iv(iv, &iv_hex);
	if (ret < 0)
		return ret;
	ct = malloc(in->size + TCW_GCM_TAG_SIZE);
	ret = ct ? tcw_aes_gcm_encrypt(o->key, iv, in->data, in->size, ct) : TCW_ERR_NOMEM;
	if (ret == TCW_OK && !(b64 = tcw_b64_encode(ct, in->size + TCW_GCM_TAG_SIZE, &len)))
		ret = TCW_ERR_NOMEM;
	if (ret == TCW_OK)
		ret = add_item(arr, i, b64, len, "", iv_hex, t);
	free(ct);
	free(b64);
	free(iv_hex);
	return ret;
}

/* Appends outData template j for the session key with its own IV (see client.h). */
int tcwi_client_session_template(size_t j, json_object *arr, struct tcw_item_text *t)
{
	uint8_t iv[TCW_GCM_IV_SIZE];
	char *iv_hex = NULL;
	int ret = fresh_iv(iv, &iv_hex);

	if (ret == TCW_OK)
		ret = add_item(arr, j, "", 0, "", iv_hex, t);
	free(iv_hex);
	return ret;
}

/* Appends outData template j and records its data key (see client.h). */
int tcwi_client_template(struct tcw_order *o, const char *pem, size_t j, json_object *arr,
                         struct tcw_item_text *t)
{
	struct tcwi_out_key *k = &o->out_keys[j];
	uint8_t iv[TCW_GCM_IV_SIZE];
	char *iv_hex = NULL;
	int ret = new_dek(o, pem, k->dek, &k->dek_text);

	if (ret == TCW_OK)
		ret = fresh_iv(iv, &iv_hex);
	if (ret == TCW_OK)
		ret = add_item(arr, j, "", 0, k->dek_text, iv_hex, t);
	free(iv_hex);
	return ret;
}

/* Adds requesterSignature and verifyingKey over rh to params (see client.h). */
int tcwi_client_sign(const uint8_t seckey[TCW_ECDSA_SECKEY_SIZE], const uint8_t rh[TCW_SHA256_SIZE],
                     json_object *params)
{
	uint8_t der[TCW_ECDSA_DER_MAX];
	char *pem = NULL, *b64 = NULL;
	size_t der_size = 0;
	int ret;

	if (!tcwi_secp_ctx())
		return TCW_ERR_NOMEM;
	if (!secp256k1_ec_seckey_verify(tcwi_secp_ctx(), seckey))
		return TCW_ERR_INVALID_PARAM;
	ret = tcw_ecdsa_sign(seckey, rh, der, &der_size);
	if (ret == TCW_OK)
		ret = tcw_ecdsa_pubkey_pem(seckey, &pem);
	if (ret == TCW_OK && !(b64 = tcw_b64_encode(der, der_size, NULL)))
		ret = TCW_ERR_NOMEM;
	if (ret == TCW_OK)
		ret = tcwi_json_add(params, "requesterSignature", json_object_new_string(b64));
	if (ret == TCW_OK)
		ret = tcwi_json_add(params, "verifyingKey", json_object_new_string(pem));
	free(pem);
	free(b64);
	return ret;
}
