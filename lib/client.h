/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.h - private to the requester side (client.c builds and checks
 * orders, client_seal.c builds the nonce-safe items and the requester
 * signature): the order object and the item builders.
 */
#ifndef TCW_CLIENT_H
#define TCW_CLIENT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "tcw/tcw.h"

/* Largest input: json-c string lengths are ints, base64 grows by 4/3. */
#define TCWI_CLIENT_MAX_INPUT ((size_t)INT_MAX / 4 * 3 - TCW_GCM_TAG_SIZE)

/* The data key of one outData template, kept to open the result. */
struct tcwi_out_key {
	uint8_t dek[TCW_AES_KEY_SIZE]; /* secret */
	char *dek_text;                /* encryptedDataEncryptionKey as sent */
};

/* One built work order. Secrets: key and the template keys (the inputs and
 * their data keys are never kept). */
struct tcw_order {
	uint8_t key[TCW_AES_KEY_SIZE];
	uint8_t iv[TCW_GCM_IV_SIZE]; /* sessionKeyIv */
	char *work_order_id, *worker_id, *workload_id, *requester_id, *nonce;
	char *request;
	size_t request_size;
	struct tcwi_out_key *out_keys; /* outData templates (nonce-safe mode) */
	size_t out_count;
};

/* A requester session (tcw.h): the key is secret. */
struct tcw_session {
	uint8_t key[TCW_AES_KEY_SIZE];
	char *esk_hex; /* encryptedSessionKey */
	size_t max_orders, orders;
};

/* Appends to arr the inData item index i for input in, encrypted under o's
 * session key with a fresh IV of its own in the item iv and
 * encryptedDataEncryptionKey "" (session reuse); *t gets its hashed texts,
 * borrowed from arr. TCW_ERR_INVALID_PARAM for an input over
 * TCWI_CLIENT_MAX_INPUT. */
int tcwi_client_session_item(const struct tcw_order *o, const struct tcw_wl_input *in, size_t i,
                             json_object *arr, struct tcw_item_text *t);
/* Appends to arr the outData template index j for the session key with a
 * fresh IV of its own, encryptedDataEncryptionKey "" and no data (session
 * reuse); *t gets its hashed texts, borrowed from arr. */
int tcwi_client_session_template(size_t j, json_object *arr, struct tcw_item_text *t);

/* Appends to arr the inData item index i for input in, encrypted under a
 * fresh data key and IV whose key is wrapped for the worker key pem and
 * then under o's session key with a fresh IV (protocol.md §5); *t gets its
 * hashed texts, borrowed from arr. TCW_ERR_INVALID_PARAM for an input over
 * TCWI_CLIENT_MAX_INPUT, TCW_ERR_CRYPTO for a bad key. */
int tcwi_client_dek_item(const struct tcw_order *o, const char *pem, const struct tcw_wl_input *in,
                         size_t i, json_object *arr, struct tcw_item_text *t);
/* Appends to arr the outData template index j with a fresh data key (kept
 * in o->out_keys[j], wrapped as for inData) and IV, and no data; *t gets
 * its hashed texts, borrowed from arr. */
int tcwi_client_template(struct tcw_order *o, const char *pem, size_t j, json_object *arr,
                         struct tcw_item_text *t);
/* Adds requesterSignature = b64(DER ECDSA(seckey, rh)) and verifyingKey (the
 * SPKI PEM of seckey) to params. TCW_ERR_INVALID_PARAM for an invalid key. */
int tcwi_client_sign(const uint8_t seckey[TCW_ECDSA_SECKEY_SIZE], const uint8_t rh[TCW_SHA256_SIZE],
                     json_object *params);

#endif /* TCW_CLIENT_H */
