/* SPDX-License-Identifier: Apache-2.0 */
/* workorder.c - WorkOrderSubmit: validation, request integrity, workload run, signed result. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"
#include "tcw/tcw.h"

#define PAYLOAD_FORMAT "JSON-RPC"
#define DATA_ENCRYPTION_ALGORITHM "AES-GCM-256"
#define WORKER_NONCE_SEED 16 /* random bytes hashed into workerNonce */
#define HOST_LOG_LINE 512
/* encryptedRequestHash without IV prefix: SHA-256 digest + GCM tag. */
#define REQ_HASH_SEALED (TCW_SHA256_SIZE + TCW_GCM_TAG_SIZE)
/* Cap on the summed output sizes, beside the processor's message size:
 * json-c string lengths are ints and base64 grows by 4/3. */
#define MAX_OUTPUT_TOTAL ((size_t)INT_MAX / 4 * 3 - TCW_GCM_IV_SIZE - TCW_GCM_TAG_SIZE)

/* Host-side state of one workload call (tcw_wl_call.host_private). */
struct call_state {
	struct tcw_buf out[TCW_WL_MAX_OUTPUTS]; /* plaintext outputs, secret */
	size_t count;
	size_t total;         /* sum of the output sizes */
	size_t max_total;     /* cap on total: the processor's message size */
	uint64_t deadline_ns; /* CLOCK_MONOTONIC budget end; 0 = no budget */
	struct tcwi_item *const *sorted; /* inputs in call order, during run() */
};

/* One work order in flight. Strings are borrowed from the params JSON. */
struct wo {
	const struct tcw_processor *p;
	json_object *params;
	const char *wo_id, *worker_id, *workload_id, *requester_id, *nonce;
	const char *esk, *erh, *sig, *vkey; /* sig, vkey NULL when absent */
	size_t esk_len, erh_len, sig_len;
	char name[TCWI_MAX_WORKLOAD_NAME + 1]; /* decoded workloadId */
	struct tcwi_session s;
	int key_rejected; /* encryptedSessionKey did not open: s.key is random */
	int key_cached;   /* s.key came from the unwrap cache: sent before */
	uint8_t rh[TCW_SHA256_SIZE];
	struct tcwi_item in[TCWI_MAX_ITEMS];
	size_t in_count;
	struct tcwi_item out[TCWI_MAX_ITEMS]; /* outData templates */
	size_t out_count;
	struct call_state call;
};

/* ---- host services handed to the workload ------------------------------ */

static uint8_t *host_output_alloc(struct tcw_wl_call *call, size_t size)
{
	struct call_state *st = call ? call->host_private : NULL;
	uint8_t *buf;

	if (!st || st->count >= TCW_WL_MAX_OUTPUTS || size > st->max_total - st->total)
		return NULL;
	buf = calloc(1, size ? size : 1);
	if (!buf)
		return NULL;
	st->out[st->count++] = (struct tcw_buf){.data = buf, .size = size};
	st->total += size;
	return buf;
}

static int host_output_add(struct tcw_wl_call *call, const void *data, size_t size)
{
	uint8_t *buf;

	if (size && !data)
		return -1;
	buf = host_output_alloc(call, size);
	if (!buf)
		return -1;
	if (size)
		memcpy(buf, data, size);
	return 0;
}

/* CLOCK_MONOTONIC in nanoseconds (0 if the clock cannot be read). */
static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int host_deadline_passed(const struct tcw_wl_call *call)
{
	const struct call_state *st = call ? call->host_private : NULL;

	/* deadline_ns 0: no budget (tcw_processor.workload_timeout_ms 0) */
	if (!st || !st->deadline_ns)
		return 0;
	return now_ns() >= st->deadline_ns;
}

static void host_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void host_log(int level, const char *fmt, ...)
{
	char line[HOST_LOG_LINE];
	va_list ap;

	if (!fmt)
		return;
	va_start(ap, fmt);
	if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
		line[0] = '\0';
	va_end(ap);
	if (level < TCW_LOG_ERROR)
		level = TCW_LOG_ERROR;
	if (level > TCW_LOG_DEBUG)
		level = TCW_LOG_DEBUG;
	tcw_logf(level, "workload: %s", line);
}

static const struct tcw_host g_host = {
    .size = sizeof(struct tcw_host),
    .version = TCW_WORKLOAD_ABI_VERSION,
    .output_add = host_output_add,
    .output_alloc = host_output_alloc,
    .deadline_passed = host_deadline_passed,
    .log = host_log,
};

/* ---- validation (protocol.md §4) ----------------------------------------- */

/* Required member key: a non-empty hex string of at most max characters. */
static int req_hex(struct wo *w, const char *key, size_t max, const char **s, size_t *len,
                   struct tcw_error *e)
{
	const char *v = NULL;
	size_t n = 0;

	if (tcwi_json_str(w->params, key, max, &v, &n) != 0 || !tcwi_hex_valid(v, n))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s", key);
	*s = v;
	if (len)
		*len = n;
	return TCW_OK;
}

/* workloadId decodes to the workload name: UTF-8, no NUL, bounded. */
static int parse_workload(struct wo *w, struct tcw_error *e)
{
	uint8_t *name = NULL;
	size_t len = 0, n = 0;
	int ok;

	if (req_hex(w, "workloadId", 2 * TCWI_MAX_WORKLOAD_NAME, &w->workload_id, &len, e) < 0)
		return e->err;
	if (tcw_hex_decode(w->workload_id, len, &name, &n) < 0)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "workloadId");
	ok = n > 0 && n <= TCWI_MAX_WORKLOAD_NAME && !memchr(name, '\0', n) &&
	     tcwi_utf8_valid(name, n);
	if (ok) {
		memcpy(w->name, name, n);
		w->name[n] = '\0';
	}
	free(name);
	return ok ? TCW_OK : tcw_error_set(e, TCW_ERR_INVALID_PARAM, "workloadId");
}

/* The echoed identifiers; workOrderId first so later errors can carry it. */
static int parse_ids(struct wo *w, struct tcw_error *e)
{
	if (req_hex(w, "workOrderId", TCWI_MAX_ID_HEX, &w->wo_id, NULL, e) < 0 ||
	    req_hex(w, "workerId", TCWI_MAX_ID_HEX, &w->worker_id, NULL, e) < 0 ||
	    parse_workload(w, e) < 0 ||
	    req_hex(w, "requesterId", TCWI_MAX_ID_HEX, &w->requester_id, NULL, e) < 0 ||
	    req_hex(w, "requesterNonce", TCWI_MAX_ID_HEX, &w->nonce, NULL, e) < 0)
		return e->err;
	return TCW_OK;
}

/* Bytes that valid hex text[0..len) decodes to (an "0x" prefix is not data). */
static size_t hex_bytes(const char *text, size_t len)
{
	if (len >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		len -= 2;
	return len / 2;
}

/* Optional member key that, when present, must equal want in any case. */
static int opt_keyword(struct wo *w, const char *key, const char *want, struct tcw_error *e)
{
	const char *v = NULL;
	size_t n = 0;
	int r = tcwi_json_str(w->params, key, TCWI_MAX_SHORT_TEXT, &v, &n);

	if (r < 0 || (r == 0 && strcasecmp(v, want) != 0))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s", key);
	return TCW_OK;
}

/* Optional string member key ("" = absent) into *s / *len. */
static int opt_str(struct wo *w, const char *key, size_t max, const char **s, size_t *len,
                   struct tcw_error *e)
{
	size_t n = 0;
	int r = tcwi_json_str(w->params, key, max, s, &n);

	if (r < 0)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s", key);
	if (r == 1 || n == 0)
		*s = NULL;
	if (len)
		*len = *s ? n : 0;
	return TCW_OK;
}

/* Session key material, format and signature fields. */
static int parse_crypto(struct wo *w, struct tcw_error *e)
{
	const char *iv = NULL;
	size_t iv_len = 0;

	if (req_hex(w, "encryptedSessionKey", TCWI_MAX_RSA_HEX, &w->esk, &w->esk_len, e) < 0 ||
	    req_hex(w, "encryptedRequestHash", TCWI_MAX_REQ_HASH_HEX, &w->erh, &w->erh_len, e) <
	        0 ||
	    opt_str(w, "sessionKeyIv", TCWI_MAX_SHORT_TEXT, &iv, &iv_len, e) < 0)
		return e->err;
	/* lengths are public: an RSA ciphertext is exactly one modulus long, the
	 * request hash is 32 bytes + tag (+ IV when prefixed) */
	if (hex_bytes(w->esk, w->esk_len) != (tcw_keys_rsa_bits(w->s.keys) + 7) / 8)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "encryptedSessionKey");
	if (hex_bytes(w->erh, w->erh_len) != REQ_HASH_SEALED &&
	    hex_bytes(w->erh, w->erh_len) != REQ_HASH_SEALED + TCW_GCM_IV_SIZE)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "encryptedRequestHash");
	if (iv) {
		if (tcw_hex_decode_exact(iv, iv_len, w->s.iv, sizeof(w->s.iv)) < 0)
			return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "sessionKeyIv");
		w->s.has_iv = 1;
	}
	if (opt_keyword(w, "payloadFormat", PAYLOAD_FORMAT, e) < 0 ||
	    opt_keyword(w, "dataEncryptionAlgorithm", DATA_ENCRYPTION_ALGORITHM, e) < 0 ||
	    opt_str(w, "requesterSignature", TCWI_MAX_SIG_B64, &w->sig, &w->sig_len, e) < 0 ||
	    opt_str(w, "verifyingKey", TCWI_MAX_PEM, &w->vkey, NULL, e) < 0)
		return e->err;
	return TCW_OK;
}

/* The optional fields the worker does not use (protocol.md §4: ignored),
 * still checked for type and size: responseTimeoutMSecs a non-negative
 * integer, resultUri / notifyUri / workerEncryptionKey bounded strings. */
static int parse_unused(struct wo *w, struct tcw_error *e)
{
	static const struct {
		const char *key;
		size_t max;
	} strings[] = {
	    {"resultUri", TCWI_MAX_URI},
	    {"notifyUri", TCWI_MAX_URI},
	    {"workerEncryptionKey", TCWI_MAX_WORKER_KEY},
	};
	json_object *v = NULL;
	const char *s = NULL;

	if (json_object_object_get_ex(w->params, "responseTimeoutMSecs", &v) && v &&
	    (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "responseTimeoutMSecs");
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (opt_str(w, strings[i].key, strings[i].max, &s, NULL, e) < 0)
			return e->err;
	return TCW_OK;
}

/* The data item array key (inData when required) into items / *count. */
static int parse_items(struct wo *w, const char *key, int required, struct tcwi_item *items,
                       size_t *count, struct tcw_error *e)
{
	json_object *arr = NULL;
	size_t n;
	int ret;

	*count = 0;
	ret = tcwi_items_array(w->params, key, required, &arr, &n, e);
	if (ret != TCW_OK)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (tcwi_item_parse(json_object_array_get_idx(arr, i), key, i, &items[i], e) < 0)
			return e->err;
		*count = i + 1;
	}
	return TCW_OK;
}

/* ---- request integrity (protocol.md §7) ---------------------------------- */

/*
 * RSA-decrypts encryptedSessionKey into the 32-byte session key, through
 * the unwrap cache. When it does not open, a random key takes its place
 * and the order goes on to the request hash check, which then fails: RSA
 * failures and hash failures take the same path and give the same reply
 * (no padding oracle, protocol.md §12.8); the cache keeps both alike.
 */
static int open_session_key(struct wo *w)
{
	uint8_t *esk = NULL;
	size_t size = 0;
	int ret = tcw_hex_decode(w->esk, w->esk_len, &esk, &size);

	if (ret < 0)
		return ret == TCW_ERR_NOMEM ? ret : TCW_ERR_INTEGRITY;
	/* an exact copy of the order that unwrapped the key (the same request
	 * hash) is that order again, not a reuse, where the replay check knows
	 * requests (seen_request): one copy runs, the others get its reply.
	 * Otherwise every hit counts as a reuse. */
	ret = tcwi_unwrap(w->s.keys, w->p->key_cache, esk, size,
	                  w->p->seen_request ? w->rh : NULL, w->s.key, &w->key_rejected,
	                  &w->key_cached);
	free(esk);
	/* a reused session key: an item iv is the only IV it may use */
	w->s.strict_iv = w->key_cached;
	return ret;
}

/* Computes the request hash RH over the public fields (protocol.md §7). */
static int request_hash(struct wo *w, struct tcw_error *e)
{
	struct tcw_item_text in[TCWI_MAX_ITEMS], out[TCWI_MAX_ITEMS];
	size_t in_lens[TCWI_MAX_ITEMS], out_lens[TCWI_MAX_ITEMS];
	const char *const head[5] = {w->nonce, w->wo_id, w->worker_id, w->workload_id,
	                             w->requester_id};
	int ret;

	for (size_t i = 0; i < w->in_count; i++)
		in[i] = w->in[i].text, in_lens[i] = w->in[i].data_len;
	for (size_t i = 0; i < w->out_count; i++)
		out[i] = w->out[i].text, out_lens[i] = w->out[i].data_len;
	ret = tcwi_request_hash_n(head, in, in_lens, w->in_count, out, out_lens, w->out_count,
	                          w->rh);
	if (ret < 0)
		return tcw_error_set(e, ret == TCW_ERR_NOMEM ? ret : TCW_ERR_INTERNAL, NULL);
	return TCW_OK;
}

/* Checks RH against the decrypted encryptedRequestHash. */
static int check_request_hash(struct wo *w)
{
	uint8_t *plain = NULL;
	size_t n = 0;
	int ret, ok;

	ret = tcwi_session_open_hex(&w->s, w->erh, w->erh_len, &plain, &n);
	if (ret < 0)
		return ret;
	ok = n == sizeof(w->rh) && tcw_ct_equal(plain, w->rh, sizeof(w->rh));
	tcw_free_secret(plain, n);
	return ok ? TCW_OK : TCW_ERR_INTEGRITY;
}

/* Verifies requesterSignature (b64 DER over RH) with verifyingKey. */
static int check_signature(struct wo *w)
{
	uint8_t *der = NULL;
	size_t n = 0;
	int ret;

	if (!w->sig)
		return TCW_OK;
	if (!w->vkey)
		return TCW_ERR_SIGNATURE;
	ret = tcw_b64_decode(w->sig, w->sig_len, &der, &n);
	if (ret == TCW_ERR_NOMEM)
		return ret;
	if (ret == TCW_OK && n <= TCW_ECDSA_DER_MAX)
		ret = tcw_ecdsa_verify_pem(w->vkey, w->rh, der, n);
	else
		ret = TCW_ERR_SIGNATURE;
	free(der);
	if (ret == TCW_OK || ret == TCW_ERR_NOMEM)
		return ret;
	return TCW_ERR_SIGNATURE;
}

/* Every check that precedes decryption, in the order protocol.md fixes. */
static int verify_request(struct wo *w, struct tcw_error *e)
{
	int ret = open_session_key(w);

	tcwi_stage(w->p, TCW_STAGE_UNWRAP);
	if (ret == TCW_OK)
		ret = check_request_hash(w);
	if (ret == TCW_OK && w->key_rejected)
		ret = TCW_ERR_INTEGRITY;
	if (ret == TCW_OK)
		ret = check_signature(w);
	return ret == TCW_OK ? TCW_OK : tcw_error_set(e, ret, NULL);
}

/* Asks the processor's replay hook whether this workOrderId was seen
 * before (with the request's identity when known); out->accepted once it
 * recorded the id or let an interrupted order run again. */
static int check_replay(struct wo *w, struct tcwi_wo_outcome *out, struct tcw_error *e)
{
	int ret;

	if (!w->p->seen)
		return TCW_OK;
	if (out->has_request && w->p->seen_request)
		ret = w->p->seen_request(w->p->seen_ctx, w->wo_id, strlen(w->wo_id), out->request);
	else
		ret = w->p->seen(w->p->seen_ctx, w->wo_id, strlen(w->wo_id));
	if (ret == TCW_OK)
		out->accepted = 1;
	if (ret == TCW_OK || ret == TCW_ERR_DUPLICATE || ret == TCW_ERR_NOMEM)
		return ret == TCW_OK ? TCW_OK : tcw_error_set(e, ret, NULL);
	return tcw_error_set(e, TCW_ERR_INTERNAL, NULL);
}

/* Identifies the request by its text and request hash when the processor
 * keeps replies (tcw_processor.stored_reply). */
static int identify(const struct wo *w, const char *text, size_t len,
                    struct tcwi_wo_outcome *out)
{
	const struct tcw_processor *p = w->p;

	if (!p->seen || !p->stored_reply || !p->store_reply || !text)
		return TCW_OK;
	if (tcwi_request_identity(text, len, w->in, w->in_count, w->out, w->out_count, w->rh,
	                          out->request) != TCW_OK)
		return TCW_ERR_INTERNAL;
	out->has_request = 1;
	return TCW_OK;
}

/* 1 when a reply was kept for this very request: *reply set. */
static int kept_reply(const struct tcw_processor *p, const struct tcwi_wo_outcome *out,
                      char **reply, size_t *reply_size)
{
	char *r = NULL;
	size_t n = 0;

	if (!out->has_request ||
	    p->stored_reply(p->store_ctx, out->wo_id, strlen(out->wo_id), out->request, &r, &n) !=
	        TCW_OK ||
	    !r)
		return 0;
	*reply = r;
	if (reply_size)
		*reply_size = n;
	return 1;
}

/* Decrypts every inData item and unwraps the data keys of outData
 * templates; a template key that did not unwrap fails the order once all
 * are done. */
static int open_items(struct wo *w, struct tcw_error *e)
{
	int ret, rejected = 0;

	for (size_t i = 0; i < w->in_count; i++)
		if (tcwi_item_decrypt(&w->s, &w->in[i], e) < 0)
			return e->err;
	for (size_t i = 0; i < w->out_count; i++) {
		ret = tcwi_item_unwrap(&w->s, &w->out[i]);
		if (ret < 0)
			return tcw_error_set(e, ret, NULL);
		rejected |= w->out[i].dek_rejected;
	}
	return rejected ? tcw_error_set(e, TCW_ERR_INTEGRITY, NULL) : TCW_OK;
}

/* ---- workload and result (protocol.md §8-§9) -------------------------- */

/* Runs the workload on the inputs sorted by index; wipes them afterwards. */
static int run_workload(struct wo *w, struct tcw_error *e)
{
	struct tcwi_item *sorted[TCWI_MAX_ITEMS];
	struct tcw_wl_input inputs[TCWI_MAX_ITEMS];
	struct tcw_wl_call call = {0};
	int ret = TCW_ERR_WORKLOAD;

	for (size_t i = 0; i < w->in_count; i++)
		sorted[i] = &w->in[i];
	tcwi_items_sort(sorted, w->in_count);
	for (size_t i = 0; i < w->in_count; i++)
		inputs[i] = (struct tcw_wl_input){.index = sorted[i]->text.index,
		                                  .data = sorted[i]->plain,
		                                  .size = sorted[i]->plain_size};
	call.inputs = inputs;
	call.input_count = w->in_count;
	call.host_private = &w->call;
	w->call.max_total =
	    w->p->max_message_size ? w->p->max_message_size : TCW_DEFAULT_MAX_MESSAGE;
	if (w->call.max_total > MAX_OUTPUT_TOTAL)
		w->call.max_total = MAX_OUTPUT_TOTAL;
	if (w->p->workload_timeout_ms)
		w->call.deadline_ns = now_ns() + (uint64_t)w->p->workload_timeout_ms * 1000000u;
	w->call.sorted = sorted;
	if (w->p->runner.run)
		ret = w->p->runner.run(w->p->runner.ctx, w->name, &g_host, &call);
	w->call.sorted = NULL;
	for (size_t i = 0; i < w->in_count; i++)
		tcwi_item_clear(&w->in[i]);
	tcw_wipe(call.error, sizeof(call.error));
	if (ret != TCW_OK)
		return tcw_error_set(e, TCW_ERR_WORKLOAD, NULL);
	/* a successful workload without output answers one empty item */
	if (w->call.count == 0 && !host_output_alloc(&call, 0))
		return tcw_error_set(e, TCW_ERR_NOMEM, NULL);
	return TCW_OK;
}

/* The text fields of input i of a runner call; see tcw.h. */
int tcw_call_input_text(const struct tcw_wl_call *call, size_t i, struct tcw_item_text *out)
{
	const struct call_state *st = call ? call->host_private : NULL;

	if (!st || !out || !st->sorted || i >= call->input_count)
		return TCW_ERR_INVALID_PARAM;
	*out = st->sorted[i]->text;
	return TCW_OK;
}

/* workerNonce = b64(H(16 random bytes)); caller frees. */
static int worker_nonce(char **nonce)
{
	uint8_t seed[WORKER_NONCE_SEED], h[TCW_SHA256_SIZE];
	int ret = tcw_random_bytes(seed, sizeof(seed));

	if (ret == TCW_OK)
		ret = tcw_sha256(seed, sizeof(seed), h);
	*nonce = ret == TCW_OK ? tcw_b64_encode(h, sizeof(h), NULL) : NULL;
	if (ret == TCW_OK && !*nonce)
		ret = TCW_ERR_NOMEM;
	return ret;
}

/* Encrypts the outputs straight into the result reply, signs WH over
 * their texts where they lie and ends the reply (reply.c). */
static int build_result(struct wo *w, json_object *id, char **reply, size_t *size,
                        struct tcw_error *e)
{
	struct tcwi_item *tmpl[TCWI_MAX_ITEMS];
	struct tcwi_reply_item ri[TCW_WL_MAX_OUTPUTS];
	struct tcw_item_text items[TCW_WL_MAX_OUTPUTS];
	size_t lens[TCW_WL_MAX_OUTPUTS] = {0}, der_size = 0, n = w->call.count;
	uint8_t wh[TCW_SHA256_SIZE], der[TCW_ECDSA_DER_MAX];
	struct tcwi_reply r = {0};
	char *nonce = NULL, *signature = NULL;
	const char *head[5];
	int ret, reused = 0;

	for (size_t i = 0; i < w->out_count; i++)
		tmpl[i] = &w->out[i];
	tcwi_items_sort(tmpl, w->out_count);
	/* a reused session key: no output may fall back to sessionKeyIv */
	if (w->key_cached && n > w->out_count)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "outData");
	for (size_t i = 0; i < n; i++) {
		const struct tcwi_item *t = i < w->out_count ? tmpl[i] : NULL;

		ri[i] = (struct tcwi_reply_item){
		    .index = t ? t->text.index : (int64_t)i,
		    .dek = t ? (t->text.dek ? t->text.dek : "") : "null",
		    .iv = t ? (t->text.iv ? t->text.iv : "") : "",
		    .data_len = tcwi_item_seal_len(&w->s, t, w->call.out[i].size),
		};
		if (ri[i].data_len == SIZE_MAX)
			return tcw_error_set(e, TCW_ERR_NOMEM, NULL);
	}
	ret = worker_nonce(&nonce);
	head[0] = w->workload_id, head[1] = w->wo_id, head[2] = w->worker_id;
	head[3] = w->requester_id, head[4] = nonce;
	if (ret == TCW_OK)
		ret = tcwi_reply_begin(id, head, ri, n, &r);
	for (size_t i = 0; i < n && ret == TCW_OK; i++) {
		const struct tcwi_item *t = i < w->out_count ? tmpl[i] : NULL;
		struct tcw_buf *o = &w->call.out[i];

		ret = tcwi_item_seal_to(&w->s, t, o->data, o->size, ri[i].data, &reused);
		tcw_free_secret(o->data, o->size);
		*o = (struct tcw_buf){0};
		items[i] = (struct tcw_item_text){
		    .index = ri[i].index, .data = ri[i].data, .dek = ri[i].dek, .iv = ri[i].iv};
		lens[i] = ri[i].data_len;
	}
	tcwi_stage(w->p, TCW_STAGE_SEAL);
	/* workerNonce, workOrderId, workerId, workloadId, requesterId */
	head[0] = nonce, head[1] = w->wo_id, head[2] = w->worker_id;
	head[3] = w->workload_id, head[4] = w->requester_id;
	if (ret == TCW_OK)
		ret = tcwi_response_hash_n(head, items, lens, n, wh);
	tcwi_stage(w->p, TCW_STAGE_RESPONSE_HASH);
	if (ret == TCW_OK)
		ret = tcw_keys_sign(w->s.keys, wh, der, &der_size);
	if (ret == TCW_OK && !(signature = tcw_b64_encode(der, der_size, NULL)))
		ret = TCW_ERR_NOMEM;
	tcwi_stage(w->p, TCW_STAGE_SIGN);
	if (ret == TCW_OK)
		ret = tcwi_reply_finish(&r, signature, reply, size);
	tcwi_stage(w->p, TCW_STAGE_WRITE);
	if (ret == TCW_OK && reused)
		tcwi_warn_nonce_reuse(w->wo_id);
	tcwi_reply_discard(&r);
	free(nonce);
	free(signature);
	if (ret < 0 && ret != TCW_ERR_NOMEM)
		ret = TCW_ERR_INTERNAL;
	return ret == TCW_OK ? TCW_OK : tcw_error_set(e, ret, NULL);
}

/* Wipes and frees every secret a work order holds, then the work order. */
static void wo_free(struct wo *w)
{
	for (size_t i = 0; i < w->in_count; i++)
		tcwi_item_clear(&w->in[i]);
	for (size_t i = 0; i < w->out_count; i++)
		tcwi_item_clear(&w->out[i]);
	for (size_t i = 0; i < w->call.count; i++)
		tcw_free_secret(w->call.out[i].data, w->call.out[i].size);
	tcw_free_secret(w, sizeof(*w));
}

/* Runs one WorkOrderSubmit params object (see internal.h). */
int tcwi_workorder_run(const struct tcw_processor *p, json_object *id, json_object *params,
                       const char *text, size_t len, char **reply, size_t *reply_size,
                       struct tcw_error *e, struct tcwi_wo_outcome *out)
{
	struct wo *w = calloc(1, sizeof(*w));
	int ret;

	memset(out, 0, sizeof(*out));
	if (!w)
		return tcw_error_set(e, TCW_ERR_NOMEM, NULL);
	w->p = p;
	w->params = params;
	w->s.keys = p->keys;
	w->s.cache = p->key_cache;
	ret = parse_ids(w, e);
	out->wo_id = w->wo_id;
	if (ret == TCW_OK && !p->keys)
		ret = tcw_error_set(e, TCW_ERR_INTERNAL, NULL);
	if (ret == TCW_OK)
		ret = parse_crypto(w, e);
	if (ret == TCW_OK)
		ret = parse_unused(w, e);
	if (ret == TCW_OK)
		ret = parse_items(w, "inData", 1, w->in, &w->in_count, e);
	if (ret == TCW_OK)
		ret = parse_items(w, "outData", 0, w->out, &w->out_count, e);
	tcwi_stage(p, TCW_STAGE_PARSE);
	if (ret == TCW_OK)
		ret = request_hash(w, e);
	tcwi_stage(p, TCW_STAGE_REQUEST_HASH);
	if (ret == TCW_OK && identify(w, text, len, out) != TCW_OK)
		ret = tcw_error_set(e, TCW_ERR_INTERNAL, NULL);
	/* an exact resubmission of an order already answered: the same reply,
	 * nothing unwrapped, decrypted or run again */
	if (ret == TCW_OK && kept_reply(p, out, reply, reply_size))
		goto out;
	tcwi_stage(p, TCW_STAGE_KEEP);
	if (ret == TCW_OK)
		ret = verify_request(w, e);
	/*
	 * The replay cache (protocol.md §12.3) is consulted here, once
	 * integrity and signature have passed (so nobody can block an id in
	 * advance) and before any inData is decrypted; a workOrderId seen
	 * before answers TCW_ERR_DUPLICATE.
	 */
	if (ret == TCW_OK)
		ret = check_replay(w, out, e);
	/* a copy that was still running at the first look may be done now */
	if (ret == TCW_ERR_DUPLICATE && kept_reply(p, out, reply, reply_size)) {
		ret = TCW_OK;
		goto out;
	}
	if (ret == TCW_OK && w->key_cached)
		ret = tcwi_check_reused_key(&w->s, w->in, w->in_count, w->out, w->out_count, e);
	tcwi_stage(p, TCW_STAGE_VERIFY);
	if (ret == TCW_OK)
		ret = open_items(w, e);
	tcwi_stage(p, TCW_STAGE_DECRYPT);
	if (ret == TCW_OK)
		ret = run_workload(w, e);
	tcwi_stage(p, TCW_STAGE_WORKLOAD);
	if (ret == TCW_OK)
		ret = build_result(w, id, reply, reply_size, e);
out:
	wo_free(w);
	return ret;
}
