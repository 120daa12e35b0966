/* SPDX-License-Identifier: Apache-2.0 */
/*
 * internal.h - private helpers shared between libtcw source files; not part
 * of the public API. Internal functions use the tcwi_ prefix.
 */
#ifndef TCW_INTERNAL_H
#define TCW_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <secp256k1.h>

#include "tcw/tcw.h"

/* The process-wide randomized secp256k1 context (borrowed), created on
 * first use; NULL only if it could not be allocated. */
const secp256k1_context *tcwi_secp_ctx(void);

/* SHA-256 of the worker's RSA public key (its SPKI PEM text), 32 bytes
 * (borrowed): the key's fingerprint. */
const uint8_t *tcwi_keys_fingerprint(const struct tcw_keys *k);

/* RSA-OAEP-unwraps a 32-byte key from ct[0..n) with k, through cache c
 * (NULL: none). key gets the unwrapped key or, when ct does not unwrap to
 * 32 bytes, a random substitute: *rejected says which (secret: fold it
 * into the order's integrity verdict, never branch on it early), *cached
 * whether it came from the cache and was sent before by another order:
 * owner (a request hash, or NULL) is recorded with a fresh unwrap, and a
 * hit for the same owner sets *cached to 0. Same work, and the same
 * caching, for both outcomes. TCW_OK, or TCW_ERR_NOMEM / the RNG's error. */
int tcwi_unwrap(const struct tcw_keys *k, struct tcw_key_cache *c, const uint8_t *ct, size_t n,
                const uint8_t *owner, uint8_t key[TCW_AES_KEY_SIZE], int *rejected,
                int *cached);
/* Replaces a cache's CLOCK_MONOTONIC (nanoseconds; NULL = the real one);
 * for tests. */
void tcwi_key_cache_set_clock(struct tcw_key_cache *c, uint64_t (*clock)(void));
/* 1 when the cache's free slots hold no key material (tests). */
int tcwi_key_cache_clean(struct tcw_key_cache *c);

/* Configures an initialised encrypt/decrypt ctx for RSA-OAEP with SHA-1 and
 * MGF1-SHA-1, empty label. Returns 0 or TCW_ERR_CRYPTO. */
int tcwi_oaep_setup(EVP_PKEY_CTX *ctx);

/* A pool of EVP_PKEY_CTXs set up for RSA-OAEP (SHA-1) decryption with one
 * private key, shared by threads (ctxpool.c). */
struct tcwi_ctx_pool;
/* Creates an empty pool for pkey (borrowed; must outlive the pool); *out
 * freed with tcwi_ctx_pool_free. TCW_OK or TCW_ERR_NOMEM. */
int tcwi_ctx_pool_new(EVP_PKEY *pkey, struct tcwi_ctx_pool **out);
/* A context ready for EVP_PKEY_decrypt: a pooled one, or a new one; NULL
 * when none can be made. Hand it back with tcwi_ctx_pool_give. */
EVP_PKEY_CTX *tcwi_ctx_pool_take(struct tcwi_ctx_pool *p);
/* Returns ctx to the pool after a successful use (ok != 0), else frees it. */
void tcwi_ctx_pool_give(struct tcwi_ctx_pool *p, EVP_PKEY_CTX *ctx, int ok);
/* Frees the pooled contexts and the pool; sets *p to NULL (NULL-safe). */
void tcwi_ctx_pool_free(struct tcwi_ctx_pool **p);

/* PEM text "-----BEGIN <label>-----\n" + base64(der) in 64-column lines +
 * "-----END <label>-----", followed by "\n" when trailing_newline is set.
 * Caller frees; NULL on allocation failure. */
char *tcwi_pem_encode(const char *label, const uint8_t *der, size_t size,
		      int trailing_newline);

/* Characters of the padded base64 text of size bytes; SIZE_MAX when that
 * does not fit a size_t. */
size_t tcwi_b64_len(size_t size);
/* Writes the padded base64 text of data[0..size) at out, which has room
 * for tcwi_b64_len(size) characters; no NUL. Returns the characters written. */
size_t tcwi_b64_encode_to(const uint8_t *data, size_t size, char *out);

#ifndef __cplusplus /* _Atomic: C only (jsonfast.cpp includes this header) */
/* A warning rate-limited to one line per spell (log.c): the first event
 * is logged, the following ones within TCW_LOG_SPELL_SECONDS only counted;
 * the count goes into the first line of the next spell (or
 * tcw_log_flush). Zero-initialised; lock-free. */
struct tcwi_spell {
	_Atomic uint64_t start_ns; /* CLOCK_MONOTONIC start of the spell, 0 = none */
	_Atomic uint64_t quiet;    /* events counted, not logged, in this spell */
};
/* Records one event: 1 when the caller logs it (a spell starts; *quiet =
 * the events the previous spell did not log), 0 when it was only counted. */
int tcwi_spell_hit(struct tcwi_spell *s, uint64_t *quiet);
/* Ends the spell: the events it did not log (0 when none). */
uint64_t tcwi_spell_end(struct tcwi_spell *s);
#endif
/* Logs the count of the nonce-reuse warning's spell (nonce.c; called by
 * tcw_log_flush). */
void tcwi_nonce_log_flush(void);

#include <json-c/json.h>

/* ---- request limits ------------------------------------------------------ */

/* Upper bounds on request content; over-limit → "Invalid parameter: <field>".
 * String limits count characters of the JSON string value as sent. */
#define TCWI_MAX_JSON_DEPTH 64     /* nesting of any parsed JSON text */
#define TCWI_MAX_ID_HEX 256        /* workOrderId, workerId, requesterId, requesterNonce */
#define TCWI_MAX_WORKLOAD_NAME 128 /* bytes of the hex-decoded workloadId */
#define TCWI_MAX_ITEMS 64          /* inData items, and outData items */
#define TCWI_MAX_RSA_HEX 1024      /* encryptedSessionKey (RSA up to 4096 bits) */
#define TCWI_MAX_REQ_HASH_HEX 256  /* encryptedRequestHash (96, or 120 IV-prefixed) */
#define TCWI_MAX_SIG_B64 256       /* requesterSignature / workerSignature */
#define TCWI_MAX_PEM 4096          /* verifyingKey */
#define TCWI_MAX_SHORT_TEXT 64     /* payloadFormat, dataEncryptionAlgorithm, item iv */
#define TCWI_MAX_DATA_HASH 66      /* item dataHash: hex of a SHA-256, "0x" allowed */
#define TCWI_MAX_DEK_HEX 2048      /* item encryptedDataEncryptionKey */
#define TCWI_MAX_URI 2048          /* resultUri, notifyUri (unused) */
#define TCWI_MAX_WORKER_KEY 8192   /* workerEncryptionKey (unused; hex of a PEM) */

/* ---- JSON helpers (json.c), used by the work-order engine and the client ---- */

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF), else 0. NUL bytes are valid UTF-8. */
int tcwi_utf8_valid(const uint8_t *s, size_t len);

/* Parses one complete JSON text (UTF-8, no NUL byte, nesting at most
 * TCWI_MAX_JSON_DEPTH, nothing but whitespace after the value) into *out
 * (caller json_object_put()s; NULL for the text "null"). json-c's strict
 * mode still takes 'single-quoted' strings and NaN, as Python does NaN.
 * TCW_ERR_INVALID_REQUEST when the text is rejected. */
int tcwi_json_parse(const char *text, size_t len, json_object **out);

/* tcwi_json_parse for a JSON-RPC envelope: with simdjson, a large "params"
 * string holding an object comes back parsed and its text in *params_text /
 * *params_len (else NULL / 0), valid until tcwi_json_envelope_done. */
int tcwi_json_parse_envelope(const char *text, size_t len, json_object **out,
                             const char **params_text, size_t *params_len);
/* Ends the life of a params text tcwi_json_parse_envelope returned (NULL:
 * nothing to do). */
void tcwi_json_envelope_done(const char *params_text);

/* Texts of at least this many bytes are parsed by tcwi_json_parse_fast
 * first (when built with simdjson; 4.3 us instead of 6.9 us for a 16-byte
 * work order, 0.5 ms instead of 2.4 ms for a 1 MiB one); json-c still
 * decides whatever that does not take. */
#define TCWI_JSON_FAST_MIN 512u

/* Parses one complete JSON text of len bytes with simdjson into the json-c
 * tree json-c's parser would build (*out, caller json_object_put()s; NULL
 * for "null"), refusing nesting deeper than max_depth. No UTF-8 or NUL
 * pre-checks needed. With nest_params, a root "params" member that is a
 * string of at least TCWI_JSON_FAST_MIN bytes holding a JSON object comes
 * back as that object, already parsed (the ProcessWorkOrder envelope),
 * and as the string otherwise; when params_text is not NULL, the text of a
 * params string parsed that way is returned in *params_text / *params_len
 * (NULL / 0 otherwise), valid on this thread until tcwi_json_fast_release.
 * TCW_ERR_INVALID_REQUEST for anything it does not accept (the caller then
 * asks json-c), TCW_ERR_NOMEM. Only present when TCW_HAVE_SIMDJSON is
 * defined. */
int tcwi_json_parse_fast(const char *text, size_t len, int max_depth, int nest_params,
                         json_object **out, const char **params_text, size_t *params_len);
/* Ends the life of a params text tcwi_json_parse_fast returned on this
 * thread (frees large buffers it kept for it). */
void tcwi_json_fast_release(void);

/* Serialises o compactly without escaping '/' into *out (caller frees) and
 * its length into *size (may be NULL). TCW_ERR_NOMEM on failure. */
int tcwi_json_dump(json_object *o, char **out, size_t *size);

/* Adds val as member key of obj, taking ownership of val even on failure.
 * TCW_ERR_NOMEM when val is NULL (a failed allocation) or insertion fails. */
int tcwi_json_add(json_object *obj, const char *key, json_object *val);

/* Looks up string member key of obj: 0 with *s (borrowed) and *len set, 1
 * when absent or JSON null, -1 when not a string, longer than max
 * characters, or containing a NUL. */
int tcwi_json_str(json_object *obj, const char *key, size_t max, const char **s, size_t *len);

/* tcw_request_hash / tcw_response_hash (head: the nonce, workOrderId,
 * workerId, workloadId, requesterId) where *_lens[i] is the length of
 * item i's data text, which then needs no NUL (hash.c). */
int tcwi_request_hash_n(const char *const head[5], const struct tcw_item_text *in,
                        const size_t *in_lens, size_t in_count, const struct tcw_item_text *out,
                        const size_t *out_lens, size_t out_count, uint8_t rh[TCW_SHA256_SIZE]);
int tcwi_response_hash_n(const char *const head[5], const struct tcw_item_text *out,
                         const size_t *out_lens, size_t out_count, uint8_t wh[TCW_SHA256_SIZE]);

/* Starts the stage clock of this thread when p measures stages (log.c). */
void tcwi_stage_start(const struct tcw_processor *p);
/* Adds the thread CPU time since the last mark to stage s of p's
 * stage_times (nothing when p does not measure), and marks now. */
void tcwi_stage(const struct tcw_processor *p, enum tcw_stage s);

/* ---- work-order engine: jsonrpc.c, workorder.c, items.c, client.c ---- */

/* 1 when text[0..len) is hex that tcw_hex_decode accepts, of at least one byte. */
int tcwi_hex_valid(const char *text, size_t len);

/* Which key protects a data item (protocol.md §5). */
enum tcwi_key_mode {
	TCWI_KEY_SESSION = 0, /* encryptedDataEncryptionKey absent, "" or "null" */
	TCWI_KEY_PLAIN,       /* "-": data is only base64-encoded */
	TCWI_KEY_DEK,         /* a per-item data key, wrapped (hex) */
};

/* One validated data item of inData/outData. Texts are borrowed from the
 * JSON they were parsed from; dek and plain are secrets owned by the item
 * and released by tcwi_item_clear. */
struct tcwi_item {
	struct tcw_item_text text;
	size_t data_len;   /* characters of text.data (0 when absent) */
	size_t pos;        /* position in the array as sent */
	const char *array; /* array name for error fields, e.g. "inData" */
	enum tcwi_key_mode mode;
	int has_iv; /* item iv non-empty: iv holds its 12 bytes */
	uint8_t iv[TCW_GCM_IV_SIZE];
	int has_dek; /* per-item key unwrapped into dek */
	int dek_rejected; /* secret: dek is a random stand-in, the key did not unwrap */
	uint8_t dek[TCW_AES_KEY_SIZE];
	uint8_t *plain; /* decrypted data (heap, never NULL once decrypted) */
	size_t plain_size;
};

/* The session of one work order: worker keys (NULL on the client side),
 * the 32-byte session key and the optional sessionKeyIv. */
struct tcwi_session {
	const struct tcw_keys *keys;
	struct tcw_key_cache *cache; /* unwrap cache for data keys, NULL = none */
	uint8_t key[TCW_AES_KEY_SIZE];
	int has_iv;
	uint8_t iv[TCW_GCM_IV_SIZE];
	int strict_iv; /* an item iv is the only IV tried (no sessionKeyIv retry) */
};

/* Decrypts a hex session-key blob such as encryptedRequestHash: with
 * sessionKeyIv, else IV-prefixed with an all-zero-IV fallback. *out (secret,
 * caller frees with tcw_free_secret(*out, *out_size)). TCW_ERR_INTEGRITY on
 * any failure except TCW_ERR_NOMEM. */
int tcwi_session_open_hex(const struct tcwi_session *s, const char *hex, size_t len, uint8_t **out,
                          size_t *out_size);

/* The data item array key of params (inData, outData) into *arr and *n
 * (borrowed; NULL and 0 when absent and not required): an array of 1 (0 when
 * not required) to TCWI_MAX_ITEMS entries, else "Invalid parameter: key". */
int tcwi_items_array(json_object *params, const char *key, int required, json_object **arr,
                     size_t *n, struct tcw_error *e);
/* Validates data item obj found at array[pos] and fills it (texts borrowed
 * from obj). TCW_ERR_INVALID_PARAM with e->field "<array>[<pos>].<member>". */
int tcwi_item_parse(json_object *obj, const char *array, size_t pos, struct tcwi_item *it,
                    struct tcw_error *e);
/* Unwraps a TCWI_KEY_DEK item's data key into it->dek (no-op for other
 * modes), through s->cache. TCW_ERR_INTEGRITY when the session-key layer
 * does not open; a key that does not RSA-unwrap gets a random stand-in and
 * it->dek_rejected (see tcwi_unwrap), for the caller's final verdict. */
int tcwi_item_unwrap(const struct tcwi_session *s, struct tcwi_item *it);
/* Decodes and decrypts it's data into it->plain (owned by it) and checks
 * dataHash when non-empty. TCW_ERR_INTEGRITY for every crypto failure,
 * TCW_ERR_INVALID_PARAM (field in e) for data that is not base64. */
int tcwi_item_decrypt(const struct tcwi_session *s, struct tcwi_item *it, struct tcw_error *e);
/* Characters of the base64 text tcwi_item_seal_to writes for size
 * plaintext bytes under output item template tmpl (NULL = default
 * session-key item); SIZE_MAX when too large. */
size_t tcwi_item_seal_len(const struct tcwi_session *s, const struct tcwi_item *tmpl,
                          size_t size);
/* Encrypts plain[0..size) for template tmpl and writes the base64 text,
 * tcwi_item_seal_len characters without NUL, at out. Sets *iv_reused when
 * the session key and sessionKeyIv were used. */
int tcwi_item_seal_to(const struct tcwi_session *s, const struct tcwi_item *tmpl,
                      const uint8_t *plain, size_t size, char *out, int *iv_reused);
/* Wipes and frees what it owns (plain, dek); texts stay borrowed. */
void tcwi_item_clear(struct tcwi_item *it);
/* Stable sort of v[0..n) by index (ties keep array order). */
void tcwi_items_sort(struct tcwi_item **v, size_t n);

/* The rules for an order whose session key came from the unwrap cache
 * (sent before), nonce.c: every encrypted inData item and outData template
 * carries its own iv, not sessionKeyIv (nor is its wrapped key's IV
 * sessionKeyIv), and there is at least one template.
 * TCW_ERR_INVALID_PARAM naming the field otherwise. */
int tcwi_check_reused_key(const struct tcwi_session *s, const struct tcwi_item *in,
                          size_t in_count, const struct tcwi_item *out, size_t out_count,
                          struct tcw_error *e);
/* The warning that work order wo_id's result was encrypted with the session
 * key and sessionKeyIv, logged once per spell with a count (nonce.c). */
void tcwi_warn_nonce_reuse(const char *wo_id);

/* One outData item of a result reply (reply.c): index, key and IV texts
 * (borrowed), and data_len characters of data text that the caller writes
 * at data, which tcwi_reply_begin points into the reply. */
struct tcwi_reply_item {
	int64_t index;
	const char *dek, *iv;
	size_t data_len;
	char *data;
};
/* A result reply being written: buf[0..len) written, cap allocated. */
struct tcwi_reply {
	char *buf;
	size_t len, cap;
};
/* Allocates the whole result reply for id (borrowed; NULL = JSON null) and
 * writes it up to the end of outData, leaving each item's data text to the
 * caller (items[i].data). fields: workloadId, workOrderId, workerId,
 * requesterId, workerNonce. TCW_OK or TCW_ERR_NOMEM; then finish or discard r. */
int tcwi_reply_begin(json_object *id, const char *const fields[5],
                     struct tcwi_reply_item *items, size_t n, struct tcwi_reply *r);
/* Appends workerSignature and ends the reply: *reply (caller frees, NUL
 * terminated), its length in *reply_size (may be NULL). TCW_OK or
 * TCW_ERR_NOMEM (r still to be discarded). */
int tcwi_reply_finish(struct tcwi_reply *r, const char *signature, char **reply,
                      size_t *reply_size);
/* Frees an unfinished reply (NULL-safe after finish). */
void tcwi_reply_discard(struct tcwi_reply *r);

/* The identity of inner request text[0..len) for kept replies (keep.c):
 * byte-identical texts, and only they, get the same 32 bytes, computed
 * from the text and its request hash rh without hashing the item data
 * texts again. in / out: the request's parsed items. TCW_OK or NOMEM. */
int tcwi_request_identity(const char *text, size_t len, const struct tcwi_item *in,
                          size_t in_count, const struct tcwi_item *out, size_t out_count,
                          const uint8_t rh[TCW_SHA256_SIZE], uint8_t id[TCW_SHA256_SIZE]);

/* What tcwi_workorder_run reports beside its reply. */
struct tcwi_wo_outcome {
	const char *wo_id; /* the validated workOrderId (borrowed from params), or NULL */
	int accepted;      /* the replay hook recorded the id: keep the reply */
	int has_request;   /* request identifies the inner request text (keep.c) */
	uint8_t request[TCW_SHA256_SIZE];
};

/* Runs one WorkOrderSubmit params object for processor p; text[0..len) is
 * the inner request's text as sent (NULL when unknown), which identifies
 * exact resubmissions (tcw_processor.stored_reply). On success *reply
 * (caller frees) is the result reply carrying id (borrowed; NULL = JSON
 * null), or a kept reply of the same request. On failure returns the
 * error with e filled. *out tells what is known either way. */
int tcwi_workorder_run(const struct tcw_processor *p, json_object *id, json_object *params,
                       const char *text, size_t len, char **reply, size_t *reply_size,
                       struct tcw_error *e, struct tcwi_wo_outcome *out);

#endif /* TCW_INTERNAL_H */
