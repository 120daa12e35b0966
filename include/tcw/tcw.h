/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcw.h - libtcw, the protocol and crypto library shared by tcworker and
 * tcclient. No sockets, no threads, no exit(): every function returns an
 * error code (0 = TCW_OK, negative = enum tcw_err) and never prints.
 *
 * Ownership conventions: "caller frees" means free() unless a specific
 * function is named; "borrowed" means valid as long as the owning object.
 * Buffers that held secrets are released with tcw_free_secret().
 */
#ifndef TCW_TCW_H
#define TCW_TCW_H

#include <stddef.h>
#include <stdint.h>

#include "tcw/workload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TCW_VERSION "0.1.0"

/* Sizes, in bytes. */
#define TCW_SHA256_SIZE 32
#define TCW_AES_KEY_SIZE 32
#define TCW_GCM_IV_SIZE 12
#define TCW_GCM_TAG_SIZE 16
#define TCW_ECDSA_SECKEY_SIZE 32
#define TCW_ECDSA_DER_MAX 72
#define TCW_FIELD_SIZE 96
#define TCW_DEFAULT_MAX_MESSAGE (16u * 1024u * 1024u)

/* Library error codes. Each maps to one wire error (tcw_err_wire_code). */
enum tcw_err {
	TCW_OK = 0,
	TCW_ERR_INVALID_REQUEST = -1,  /* 2 "Invalid request" */
	TCW_ERR_UNSUPPORTED_METHOD = -2, /* 2 "Unsupported method" */
	TCW_ERR_INVALID_PARAM = -3,    /* 2 "Invalid parameter: <field>" */
	TCW_ERR_INTEGRITY = -4,        /* 2 "Work order integrity check failed" */
	TCW_ERR_DUPLICATE = -5,        /* 2 "Duplicate work order" */
	TCW_ERR_WORKLOAD = -6,         /* 2 "Error processing work load" */
	TCW_ERR_SIGNATURE = -7,        /* 4 "Invalid requester signature" */
	TCW_ERR_BUSY = -8,             /* 8 "Worker busy" */
	TCW_ERR_INTERNAL = -9,         /* 1 "Internal error" */
	TCW_ERR_NOMEM = -10,           /* 1 "Internal error" */
	TCW_ERR_CRYPTO = -11,          /* local crypto failure (bad key, bad PEM) */
	TCW_ERR_REMOTE = -12,          /* client: the peer replied with an error */
	TCW_ERR_VERIFY = -13,          /* client: a worker signature did not verify */
};

/* An error with the field it concerns ("inData[1].iv"), "" when none. */
struct tcw_error {
	int err;
	char field[TCW_FIELD_SIZE];
};

/* Fixed wire message of an error (static string, never NULL). */
const char *tcw_strerror(int err);
/* JSON-RPC error code sent on the wire for err (2, 4, 8 or 1). */
int tcw_err_wire_code(int err);
/* Records err and the printf-formatted field name in e (e may be NULL); returns err. */
int tcw_error_set(struct tcw_error *e, int err, const char *field_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- logging hook (the library itself never prints) ---------------- */

/* Log levels shared by the library, the worker and plugins. */
enum tcw_log_level {
	TCW_LOG_ERROR = 0,
	TCW_LOG_WARN = 1,
	TCW_LOG_INFO = 2,
	TCW_LOG_DEBUG = 3,
};
typedef void (*tcw_log_fn)(int level, const char *message);
/* Installs the process-wide handler for library log lines (NULL = drop). */
void tcw_set_log_handler(tcw_log_fn fn);
/* Emits a printf-formatted line through the handler; never pass secrets. */
void tcw_logf(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- bytes.c: encodings and owned buffers --------------------------- */

/* An owned byte buffer. */
struct tcw_buf {
	uint8_t *data;
	size_t size;
};

/* Lowercase hex of data; caller frees. NULL on allocation failure. */
char *tcw_hex_encode(const uint8_t *data, size_t size);
/* Decodes hex text (either case, optional leading "0x"); *out caller frees
 * (a 1-byte allocation for empty input). TCW_ERR_INVALID_PARAM on bad text. */
int tcw_hex_decode(const char *text, size_t len, uint8_t **out, size_t *out_size);
/* Decodes hex text into exactly out_size bytes; TCW_ERR_INVALID_PARAM on bad
 * text or any other length. */
int tcw_hex_decode_exact(const char *text, size_t len, uint8_t *out, size_t out_size);
/* Standard base64 with padding, no line breaks; caller frees; *out_len
 * gets the text length (may be NULL). NULL on allocation failure. */
char *tcw_b64_encode(const uint8_t *data, size_t size, size_t *out_len);
/* Strict base64 decode (alphabet +/, mandatory padding, no whitespace);
 * *out caller frees (1 byte allocated for empty input). */
int tcw_b64_decode(const char *text, size_t len, uint8_t **out, size_t *out_size);
/* Wipes size bytes at p so the compiler cannot elide it. */
void tcw_wipe(void *p, size_t size);
/* Wipes then frees a heap buffer of size bytes (p may be NULL). */
void tcw_free_secret(void *p, size_t size);
/* Constant-time comparison; 1 when equal, 0 otherwise. */
int tcw_ct_equal(const void *a, const void *b, size_t size);

/* ---- crypto.c: primitives and the worker key object ----------------- */

/* SHA-256 of data into out. */
int tcw_sha256(const void *data, size_t size, uint8_t out[TCW_SHA256_SIZE]);
/* Fills buf with size bytes from the CSPRNG. */
int tcw_random_bytes(void *buf, size_t size);
/* AES-256-GCM encrypt, no AAD: out (size + 16 bytes) = ciphertext || tag. */
int tcw_aes_gcm_encrypt(const uint8_t key[TCW_AES_KEY_SIZE],
			const uint8_t iv[TCW_GCM_IV_SIZE], const uint8_t *plain,
			size_t size, uint8_t *out);
/* AES-256-GCM decrypt of in (ciphertext || tag, size >= 16) into out
 * (size - 16 bytes). TCW_ERR_INTEGRITY if the tag does not verify (out is
 * wiped then). */
int tcw_aes_gcm_decrypt(const uint8_t key[TCW_AES_KEY_SIZE],
			const uint8_t iv[TCW_GCM_IV_SIZE], const uint8_t *in,
			size_t size, uint8_t *out);

/* RSA-OAEP (SHA-1, MGF1-SHA-1, empty label) encryption with a public key in
 * PEM (SPKI or PKCS#1); *out caller frees. TCW_ERR_CRYPTO on a bad key. */
int tcw_rsa_encrypt_pem(const char *pem, const uint8_t *plain, size_t size,
			uint8_t **out, size_t *out_size);
/* Bits of the RSA public key in pem, or 0 if it does not parse. */
unsigned tcw_rsa_pem_bits(const char *pem);

/* ECDSA-secp256k1 signature (RFC 6979, low-S) of a 32-byte digest with a
 * raw secret key; DER into der, length into *der_size. */
int tcw_ecdsa_sign(const uint8_t seckey[TCW_ECDSA_SECKEY_SIZE],
		   const uint8_t digest[TCW_SHA256_SIZE],
		   uint8_t der[TCW_ECDSA_DER_MAX], size_t *der_size);
/* Verifies DER signature over digest with an SPKI PEM secp256k1 key
 * (compressed or uncompressed point); high-S is normalised first.
 * TCW_OK, TCW_ERR_VERIFY (bad signature) or TCW_ERR_CRYPTO (bad key). */
int tcw_ecdsa_verify_pem(const char *pem, const uint8_t digest[TCW_SHA256_SIZE],
			 const uint8_t *der, size_t der_size);
/* SPKI PEM (uncompressed point, 64-column lines, trailing "\n") of the
 * public key of seckey; caller frees *pem. */
int tcw_ecdsa_pubkey_pem(const uint8_t seckey[TCW_ECDSA_SECKEY_SIZE], char **pem);

/* The worker's key pair set: RSA encryption key and secp256k1 signing key.
 * Immutable after creation; safe to share between threads. */
struct tcw_keys;

/* Generates fresh keys (rsa_bits 2048, 3072 or 4096); *out caller frees
 * with tcw_keys_free. */
int tcw_keys_generate(unsigned rsa_bits, struct tcw_keys **out);
/* Builds keys from an RSA private PEM (PKCS#1 or PKCS#8) and a raw
 * secp256k1 secret; *out caller frees with tcw_keys_free. */
int tcw_keys_from_pem(const char *rsa_private_pem,
		      const uint8_t seckey[TCW_ECDSA_SECKEY_SIZE],
		      struct tcw_keys **out);
/* Wipes and frees keys, sets *keys to NULL (NULL-safe). */
void tcw_keys_free(struct tcw_keys **keys);
/* The verifying key as SPKI PEM with trailing "\n" (borrowed). */
const char *tcw_keys_verifying_pem(const struct tcw_keys *keys);
/* The RSA encryption key as SPKI PEM without trailing newline (borrowed). */
const char *tcw_keys_encryption_pem(const struct tcw_keys *keys);
/* Modulus size in bits of the RSA key. */
unsigned tcw_keys_rsa_bits(const struct tcw_keys *keys);
/* RSA-OAEP (SHA-1) decryption with the worker key into out (cap bytes);
 * one uniform TCW_ERR_INTEGRITY for every failure. */
int tcw_keys_rsa_decrypt(const struct tcw_keys *keys, const uint8_t *in,
			 size_t size, uint8_t *out, size_t cap, size_t *out_size);
/* Signs a 32-byte digest with the worker signing key (DER, low-S). */
int tcw_keys_sign(const struct tcw_keys *keys,
		  const uint8_t digest[TCW_SHA256_SIZE],
		  uint8_t der[TCW_ECDSA_DER_MAX], size_t *der_size);

/* ---- hash.c: EEA request / response hashes (protocol.md §7) --------- */

/* The hashed text fields of one data item; NULL = field absent. */
struct tcw_item_text {
	int64_t index;
	const char *data_hash;
	const char *data;
	const char *dek; /* encryptedDataEncryptionKey */
	const char *iv;
};

/* D(items): SHA-256 over I(item) of each item, stably sorted by index. */
int tcw_items_digest(const struct tcw_item_text *items, size_t count,
		     uint8_t out[TCW_SHA256_SIZE]);
/* RH = H(h1 || D(inData) || [D(outData) if out_count > 0]). */
int tcw_request_hash(const char *requester_nonce, const char *work_order_id,
		     const char *worker_id, const char *workload_id,
		     const char *requester_id, const struct tcw_item_text *in,
		     size_t in_count, const struct tcw_item_text *out,
		     size_t out_count, uint8_t rh[TCW_SHA256_SIZE]);
/* WH = H(r1 || [D(outData) if out_count > 0]). */
int tcw_response_hash(const char *worker_nonce, const char *work_order_id,
		      const char *worker_id, const char *workload_id,
		      const char *requester_id, const struct tcw_item_text *out,
		      size_t out_count, uint8_t wh[TCW_SHA256_SIZE]);

/* ---- signup (worker side builds it, client side checks it) ---------- */

/* The signup reply JSON (protocol.md §3) for keys; mrenclave/quote may be
 * NULL (→ ""). Caller frees. NULL on allocation failure. */
char *tcw_signup_build(const struct tcw_keys *keys, const char *mrenclave,
		       const char *quote);

/* A parsed signup reply; all strings owned, released by tcw_signup_fini. */
struct tcw_signup {
	char *verifying_key;
	char *encryption_key;
	char *encryption_key_signature;
	char *mrenclave;
	char *quote;
	char *sealed_data;
};
/* Parses a signup reply and verifies encryption_key_signature with
 * verifying_key. TCW_ERR_INVALID_PARAM (field in e) or TCW_ERR_VERIFY. */
int tcw_signup_parse(const char *json, size_t len, struct tcw_signup *out,
		     struct tcw_error *e);
/* Frees the strings of a parsed signup and zeroes it. */
void tcw_signup_fini(struct tcw_signup *s);

/* ---- processor: one request frame in, one reply frame out ----------- */

/* How the library runs a workload: the worker supplies this. run() looks
 * up name (UTF-8 decoded workloadId) and executes it with host and call;
 * returns TCW_OK, or TCW_ERR_WORKLOAD (unknown, failed, over budget). */
struct tcw_runner {
	int (*run)(void *ctx, const char *name, const struct tcw_host *host,
		   struct tcw_wl_call *call);
	void *ctx;
};

/* Everything the processor needs; borrowed for each call. */
struct tcw_processor {
	const struct tcw_keys *keys;
	struct tcw_runner runner;
	const char *signup_json; /* reply to ProcessWorkerSignup */
	size_t max_message_size; /* 0 = TCW_DEFAULT_MAX_MESSAGE */
};

/* Handles one request frame (any bytes) and returns the reply text in
 * *reply (caller frees) — a result, a signup object or an error reply.
 * Returns TCW_OK when *reply is set (even for error replies), or
 * TCW_ERR_NOMEM if not even an error reply could be built. */
int tcw_process_frame(const struct tcw_processor *p, const char *frame,
		      size_t size, char **reply, size_t *reply_size);

/* Builds an error reply {"jsonrpc","id","error":{code,message[,data]}}.
 * id_json is the raw JSON text of the id ("0" when NULL); work_order_id
 * may be NULL. Caller frees. NULL on allocation failure. */
char *tcw_error_reply(const char *id_json, const struct tcw_error *e,
		      const char *work_order_id);

/* ---- client side: build requests, verify and decrypt replies -------- */

/* Options for tcw_order_build; zero-initialised = the reference client. */
struct tcw_order_options {
	const char *worker_id;  /* hex; NULL = hex(H("graphene-hello")) */
	const char *inner_id;   /* raw JSON of the inner id; NULL = "\"1\"" */
};

/* One built work order: keys, ids and the request text. Opaque. */
struct tcw_order;

/* Builds a WorkOrderSubmit for workload_name with the given inputs
 * (index = position) encrypted for the worker's encryption_key_pem, with
 * fresh session key, IV and ids; *out caller frees with tcw_order_free. */
int tcw_order_build(const char *encryption_key_pem, const char *workload_name,
		    const struct tcw_wl_input *inputs, size_t count,
		    const struct tcw_order_options *opt, struct tcw_order **out);
/* The outer ProcessWorkOrder envelope text (borrowed); *size may be NULL. */
const char *tcw_order_request(const struct tcw_order *o, size_t *size);
/* The hex workOrderId of the order (borrowed). */
const char *tcw_order_id(const struct tcw_order *o);
/* Wipes and frees an order, sets *o to NULL (NULL-safe). */
void tcw_order_free(struct tcw_order **o);

/* The outcome of one reply. */
struct tcw_order_result {
	int error_code;        /* wire error code when TCW_ERR_REMOTE */
	char *error_message;   /* wire error message when TCW_ERR_REMOTE */
	struct tcw_buf *outputs; /* decrypted outData, sorted by index */
	size_t output_count;
};
/* Checks a reply against its order: verifies workerSignature with
 * verifying_pem, checks echoed ids, decrypts outData into res. TCW_OK,
 * TCW_ERR_REMOTE (error reply, code/message in res), TCW_ERR_VERIFY (bad
 * signature or mismatching ids) or TCW_ERR_INTEGRITY (does not decrypt);
 * TCW_ERR_INVALID_PARAM with e->field for a malformed reply. */
int tcw_order_check_reply(const struct tcw_order *o, const char *verifying_pem,
			  const char *reply, size_t size,
			  struct tcw_order_result *res, struct tcw_error *e);
/* Wipes and frees what a result owns and zeroes it. */
void tcw_order_result_fini(struct tcw_order_result *res);

#ifdef __cplusplus
}
#endif
#endif /* TCW_TCW_H */
