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
/* Frequent warnings (the AES-GCM nonce-reuse warning of reference-format
 * orders) are logged once per spell of TCW_LOG_SPELL_SECONDS with a count
 * of the ones not logged. This logs those counts now and starts every
 * spell afresh, so the next such event is logged again; call at shutdown. */
void tcw_log_flush(void);
#define TCW_LOG_SPELL_SECONDS 60

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

/* ---- the unwrap cache (keycache.c) ------------------------------------ */

/* Default, largest entries and largest TTL of a key cache. */
#define TCW_KEY_CACHE_DEFAULT 4096u
#define TCW_KEY_CACHE_MAX 1000000u
#define TCW_KEY_CACHE_DEFAULT_TTL 300u
#define TCW_KEY_CACHE_MAX_TTL 86400u

/* Recent RSA-OAEP unwraps (encryptedSessionKey, and per-item data keys
 * without their session-key layer), keyed by SHA-256 of the worker key's
 * fingerprint and the ciphertext, shared by the processing threads: a
 * repeated ciphertext costs a hash lookup instead of an RSA decryption. A
 * ciphertext that does not unwrap is kept like one that does, with the
 * random key that stands in for it, so the cache reveals nothing about
 * padding. Memory is mapped at the first entry, left out of core dumps
 * (MADV_DONTDUMP), and every key is wiped when dropped and at free. */
struct tcw_key_cache;

/* What a key cache did. */
struct tcw_key_cache_stats {
	uint64_t entries;   /* unwraps held now */
	uint64_t hits;      /* lookups answered from the cache */
	uint64_t misses;    /* lookups that needed an RSA decryption */
	uint64_t evictions; /* entries dropped before their time to make room */
	uint64_t expired;   /* entries dropped at the end of their ttl */
};

/* A cache of entries (1..TCW_KEY_CACHE_MAX) unwraps, each kept ttl_seconds
 * (1..TCW_KEY_CACHE_MAX_TTL) after it was made; *out caller frees with
 * tcw_key_cache_free. TCW_ERR_INVALID_PARAM or TCW_ERR_NOMEM. */
int tcw_key_cache_new(size_t entries, uint32_t ttl_seconds, struct tcw_key_cache **out);
/* Wipes every key, frees the cache and sets *c to NULL (NULL-safe). */
void tcw_key_cache_free(struct tcw_key_cache **c);
/* The cache's counters now (thread-safe). */
struct tcw_key_cache_stats tcw_key_cache_get_stats(struct tcw_key_cache *c);

/* The stages of tcw_process_frame, for a CPU-time breakdown (bench). */
enum tcw_stage {
	TCW_STAGE_PARSE,         /* the two JSON texts, field validation */
	TCW_STAGE_KEEP,          /* exact-resubmission lookup and keeping the reply */
	TCW_STAGE_UNWRAP,        /* the session key (RSA-OAEP or the unwrap cache) */
	TCW_STAGE_REQUEST_HASH,  /* the request hash RH over the item texts */
	TCW_STAGE_VERIFY,        /* encryptedRequestHash, signature, replay, nonce rules */
	TCW_STAGE_DECRYPT,       /* inData: base64, data keys, AES-GCM, dataHash */
	TCW_STAGE_WORKLOAD,      /* the runner */
	TCW_STAGE_SEAL,          /* outputs: AES-GCM, base64 */
	TCW_STAGE_RESPONSE_HASH, /* workerNonce and the response hash WH */
	TCW_STAGE_SIGN,          /* the ECDSA signature */
	TCW_STAGE_WRITE,         /* the reply JSON */
	TCW_STAGE_COUNT
};
/* Seconds of thread CPU time spent in each stage, added up. */
struct tcw_stage_times {
	double seconds[TCW_STAGE_COUNT];
};

/* Everything the processor needs; borrowed for each call. */
struct tcw_processor {
	const struct tcw_keys *keys;
	struct tcw_runner runner;
	const char *signup_json; /* reply to ProcessWorkerSignup */
	size_t max_message_size; /* 0 = TCW_DEFAULT_MAX_MESSAGE */
	/* Replay check (protocol.md §12.3), NULL = none: called once per work
	 * order after encryptedRequestHash and any requesterSignature have
	 * verified and before inData is decrypted, with the workOrderId text
	 * as sent (work_order_id[0..len), NUL-terminated). Must atomically
	 * record the id and return TCW_OK the first time, TCW_ERR_DUPLICATE
	 * when it was recorded before; any other error fails the order with
	 * "Internal error". May be called from several threads at once. */
	int (*seen)(void *ctx, const char *work_order_id, size_t len);
	void *seen_ctx;
	/* Wall-clock budget of one workload execution in milliseconds, from
	 * the moment the workload starts (0 = none); host->deadline_passed
	 * turns non-zero once it is spent. */
	uint32_t workload_timeout_ms;
	/* Replies kept for exact resubmissions (protocol.md §12.3), NULL =
	 * none; used only together with seen and only for inner requests sent
	 * as a JSON string (the usual form). request_sha256 identifies that
	 * string's text as sent: a SHA-256 over it (with its item data texts
	 * standing in by the request hash that binds them) that byte-identical
	 * requests, and only they, share. Both may be called from several
	 * threads at once.
	 * stored_reply: asked once the request is parsed and its hash
	 * computed, before any RSA or decryption, and again when seen
	 * answered TCW_ERR_DUPLICATE:
	 * TCW_OK with *reply (caller frees) and *size when a reply was kept
	 * for work_order_id with this request_sha256, any other value when
	 * not. A kept reply is returned as it is.
	 * store_reply: called with the reply (result or error) of every work
	 * order whose id seen recorded, before tcw_process_frame returns it;
	 * its failures are its own to report. */
	int (*stored_reply)(void *ctx, const char *work_order_id, size_t len,
			    const uint8_t request_sha256[TCW_SHA256_SIZE], char **reply,
			    size_t *size);
	void (*store_reply)(void *ctx, const char *work_order_id, size_t len,
			    const uint8_t request_sha256[TCW_SHA256_SIZE], const char *reply,
			    size_t size);
	void *store_ctx;
	/* Replay check of a request whose identity is known (the three hooks
	 * above are set and the inner request came as a string), NULL = seen
	 * for those too. Called instead of seen, at the same point and with
	 * seen_ctx, with that identity. Contract of seen, plus: it may return
	 * TCW_OK for an id recorded before when that earlier acceptance was of
	 * this very request and never produced a reply (the worker stopped
	 * while it ran, protocol.md §12.3) and no other call claimed it since;
	 * the order then runs again and its reply goes to store_reply. It may
	 * wait for a copy of the same request that is running to finish (so
	 * that stored_reply, asked next, finds its reply). */
	int (*seen_request)(void *ctx, const char *work_order_id, size_t len,
			    const uint8_t request_sha256[TCW_SHA256_SIZE]);
	/* Unwrap cache, NULL = every key is RSA-decrypted. When the session
	 * key of an order comes from it (a repeated encryptedSessionKey), the
	 * order must not reuse an AES-GCM nonce (protocol.md §12.1): every
	 * item that uses the session key needs its own iv, not sessionKeyIv,
	 * and the result needs an outData template per output; otherwise
	 * "Invalid parameter: <field>". With seen_request set, an exact copy
	 * of the order that unwrapped the key (the same request hash) is not
	 * such a reuse: the replay check lets one copy run. */
	struct tcw_key_cache *key_cache;
	/* NULL, or where tcw_process_frame adds the CPU time of its stages
	 * (benchmarks; one thread at a time, a clock read per stage). */
	struct tcw_stage_times *stage_times;
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

/* For a runner: the request's text fields of input i (in call order) of a
 * call that tcw_process_frame handed to runner.run — data_hash, dek
 * (encryptedDataEncryptionKey) and iv exactly as sent, NULL when absent;
 * out->data is the item's base64 text. Strings are borrowed until run()
 * returns. TCW_ERR_INVALID_PARAM when i is out of range or call did not
 * come from tcw_process_frame. */
int tcw_call_input_text(const struct tcw_wl_call *call, size_t i,
			struct tcw_item_text *out);

/* ---- client side: build requests, verify and decrypt replies -------- */

/* A requester session (tcclient --session-reuse): one random session key,
 * RSA-OAEP-wrapped once for a worker's encryption key, serving up to
 * max_orders orders (1..TCW_SESSION_MAX_ORDERS). Every AES-GCM encryption
 * under it uses a fresh random 96-bit IV: sessionKeyIv for the request
 * hash, an item iv for each input, an outData template with its own iv for
 * each output. Not thread-safe: one session per building thread. */
struct tcw_session;
#define TCW_SESSION_MAX_ORDERS 1048576u
/* A new session for the worker key encryption_key_pem; *out caller frees
 * with tcw_session_free. TCW_ERR_INVALID_PARAM (max_orders out of range),
 * TCW_ERR_CRYPTO (a bad key) or TCW_ERR_NOMEM. */
int tcw_session_new(const char *encryption_key_pem, size_t max_orders,
		    struct tcw_session **out);
/* Wipes and frees a session, sets *s to NULL (NULL-safe). */
void tcw_session_free(struct tcw_session **s);
/* Orders built under s so far; it serves no more after max_orders. */
size_t tcw_session_orders(const struct tcw_session *s);

/* Options for tcw_order_build; zero-initialised = the reference client. */
struct tcw_order_options {
	const char *worker_id;  /* hex; NULL = hex(H("graphene-hello")) */
	const char *inner_id;   /* raw JSON of the inner id; NULL = "\"1\"" */
	/* Non-zero: no AES-GCM key/IV pair is used twice (protocol.md §12.1).
	 * Every inData item gets its own data key (wrapped for the worker and
	 * then under the session key with its own IV, §5) and IV, the request
	 * asks for out_items outData templates with their own data keys and
	 * IVs, and sessionKeyIv protects only encryptedRequestHash. Zero: the
	 * reference client's messages exactly. */
	int nonce_safe;
	/* nonce_safe: outData templates to send, 0 = 1, at most
	 * TCW_WL_MAX_OUTPUTS. Outputs beyond them come back under the session
	 * key and sessionKeyIv (the worker's default, §5). */
	size_t out_items;
	/* 32-byte secp256k1 secret key, or NULL: when set, the request carries
	 * requesterSignature (base64 DER ECDSA over the request hash) and
	 * verifyingKey (its SPKI PEM), §7. */
	const uint8_t *signing_key;
	/* Non-NULL: build under this session instead (nonce_safe is then
	 * ignored): its session key and encryptedSessionKey, a fresh
	 * sessionKeyIv, inputs under the session key (encryptedDataEncryption
	 * Key "") each with its own iv, out_items (0 = 1) templates under the
	 * session key each with its own iv. TCW_ERR_INVALID_PARAM once the
	 * session has served its max_orders. */
	struct tcw_session *session;
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

/* ---- quote.c: SGX quotes and the REPORTDATA binding (protocol.md §10) */

#define TCW_REPORT_DATA_SIZE 64     /* SGX REPORTDATA / user_report_data */
#define TCW_SGX_MEASUREMENT_SIZE 32 /* MRENCLAVE, MRSIGNER */
#define TCW_SGX_TARGETINFO_SIZE 512 /* my_target_info; MRENCLAVE first */

/* Quote formats tcw_quote_parse accepts. */
enum tcw_quote_format {
	TCW_QUOTE_EPID = 1,    /* EPID quote, version 1 or 2 (IAS era) */
	TCW_QUOTE_DCAP_V3 = 3, /* ECDSA (DCAP) quote version 3 */
	TCW_QUOTE_DCAP_V4 = 4, /* ECDSA (DCAP) quote version 4, TEE type SGX */
};

/* What a relying party checks in an SGX quote; every field is copied out
 * of the quote (no pointers into it). */
struct tcw_quote {
	int format;        /* enum tcw_quote_format */
	uint16_t version;  /* header version */
	uint16_t key_type; /* EPID sign_type or DCAP attestation key type */
	uint32_t tee_type; /* DCAP TEE type (0 = SGX); 0 for EPID */
	uint8_t attributes[16];
	uint8_t mrenclave[TCW_SGX_MEASUREMENT_SIZE];
	uint8_t mrsigner[TCW_SGX_MEASUREMENT_SIZE];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint8_t report_data[TCW_REPORT_DATA_SIZE];
	uint32_t signature_size; /* signature (data) length field @432 */
	size_t size;             /* bytes the quote uses: 436 + signature_size */
};

/* Name of a quote format: "EPID", "DCAP v3", "DCAP v4" or "unknown" (static). */
const char *tcw_quote_format_name(int format);
/* Parses an SGX quote (EPID, DCAP v3, DCAP v4 with TEE type SGX) into *out
 * without verifying its signature; bytes after the signature data are
 * ignored (out->size tells how many were used). TCW_ERR_INVALID_PARAM with
 * the reason in e->field for a truncated quote, an unknown version, a TDX
 * or unknown TEE type; *out is zeroed then. */
int tcw_quote_parse(const uint8_t *quote, size_t size, struct tcw_quote *out,
		    struct tcw_error *e);
/* 1 when the quoted enclave was launched in debug mode (ATTRIBUTES.DEBUG). */
int tcw_quote_is_debug(const struct tcw_quote *q);

/* What the 64 bytes of REPORTDATA bind (hashes of the PEM texts exactly
 * as in the signup reply). */
enum tcw_report_layout {
	TCW_REPORT_VERIFYING_KEY = 1, /* H(verifying_key) || 32 zero bytes (Avalon) */
	TCW_REPORT_BOTH_KEYS = 2,     /* H(verifying_key) || H(encryption_key) */
};
/* Name of a report-data layout (static string). */
const char *tcw_report_layout_name(int layout);
/* The REPORTDATA of layout for the signup PEM texts into out;
 * encryption_pem may be NULL for TCW_REPORT_VERIFYING_KEY. */
int tcw_report_data(int layout, const char *verifying_pem,
		    const char *encryption_pem,
		    uint8_t out[TCW_REPORT_DATA_SIZE]);
/* Sets *layout to the layout under which report_data binds the keys and
 * returns TCW_OK, or TCW_ERR_VERIFY when it binds neither layout
 * (encryption_pem NULL: only the first layout is tried). */
int tcw_report_data_match(const uint8_t report_data[TCW_REPORT_DATA_SIZE],
			  const char *verifying_pem, const char *encryption_pem,
			  int *layout);

/* ---- keys.c: the worker identity in a keys file ------------------------ */

#define TCW_KEYS_FILE_VERSION 1
#define TCW_KEYS_FILE_MAX_SIZE (64u * 1024u)

/* Serialises keys into the versioned keys-file format (magic, version
 * byte, secp256k1 secret, RSA private key DER, SHA-256 checksum). *out is
 * secret: caller frees with tcw_free_secret(*out, *size). */
int tcw_keys_encode(const struct tcw_keys *keys, uint8_t **out, size_t *size);
/* Rebuilds keys from the keys-file format; *out caller frees with
 * tcw_keys_free. TCW_ERR_INVALID_PARAM with the reason in e->field (bad
 * magic, unsupported version, truncated, checksum, unusable key). */
int tcw_keys_decode(const uint8_t *data, size_t size, struct tcw_keys **out,
		    struct tcw_error *e);
/* Writes keys to path atomically (temporary file in the same directory,
 * mode 0600, fsync, rename, directory fsync). TCW_ERR_INTERNAL with the
 * failing step and errno text in e->field. */
int tcw_keys_save(const struct tcw_keys *keys, const char *path,
		  struct tcw_error *e);
/* Reads the keys file at path; *out caller frees with tcw_keys_free.
 * TCW_ERR_INTERNAL (cannot open/read: errno text in e->field) or the
 * errors of tcw_keys_decode. */
int tcw_keys_load(const char *path, struct tcw_keys **out,
		  struct tcw_error *e);

#ifdef __cplusplus
}
#endif
#endif /* TCW_TCW_H */
