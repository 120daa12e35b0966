/* SPDX-License-Identifier: Apache-2.0 */
/* eea.c - the EEA API side of libtcw: WorkOrderSubmit checks without keys, stored-order hashes,
 * worker records, signup quotes, receipt digests (include/tcw/eea.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "tcw/eea.h"
#include "tcw/tcw.h"

/* encryptedRequestHash: SHA-256 digest + GCM tag, optionally IV-prefixed. */
#define SEALED_HASH (TCW_SHA256_SIZE + TCW_GCM_TAG_SIZE)

/* Writes the lowercase hex SHA-256 of name into out (see eea.h). */
int tcw_eea_worker_id(const char *name, char out[TCW_EEA_WORKER_ID_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[TCW_SHA256_SIZE];

	if (!name || tcw_sha256(name, strlen(name), d) < 0)
		return TCW_ERR_INVALID_PARAM;
	for (size_t i = 0; i < sizeof(d); i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[TCW_EEA_WORKER_ID_HEX] = '\0';
	return TCW_OK;
}

/* How one string member of WorkOrderSubmit params is checked. */
enum field_kind {
	F_HEX,     /* required non-empty hex */
	F_OPT_HEX, /* optional; when non-empty, hex */
	F_KEYWORD, /* optional; when present, equal to want in any case */
	F_TEXT,    /* optional bounded string */
};

struct field_rule {
	const char *key;
	enum field_kind kind;
	size_t max;       /* characters */
	const char *want; /* F_KEYWORD */
};

static const struct field_rule g_rules[] = {
    {"workOrderId", F_HEX, TCWI_MAX_ID_HEX, NULL},
    {"workerId", F_HEX, TCWI_MAX_ID_HEX, NULL},
    {"workloadId", F_HEX, 2 * TCWI_MAX_WORKLOAD_NAME, NULL},
    {"requesterId", F_HEX, TCWI_MAX_ID_HEX, NULL},
    {"requesterNonce", F_HEX, TCWI_MAX_ID_HEX, NULL},
    {"encryptedSessionKey", F_HEX, TCWI_MAX_RSA_HEX, NULL},
    {"encryptedRequestHash", F_HEX, TCWI_MAX_REQ_HASH_HEX, NULL},
    {"sessionKeyIv", F_OPT_HEX, TCWI_MAX_SHORT_TEXT, NULL},
    {"payloadFormat", F_KEYWORD, TCWI_MAX_SHORT_TEXT, "JSON-RPC"},
    {"dataEncryptionAlgorithm", F_KEYWORD, TCWI_MAX_SHORT_TEXT, "AES-GCM-256"},
    {"requesterSignature", F_TEXT, TCWI_MAX_SIG_B64, NULL},
    {"verifyingKey", F_TEXT, TCWI_MAX_PEM, NULL},
    {"resultUri", F_TEXT, TCWI_MAX_URI, NULL},
    {"notifyUri", F_TEXT, TCWI_MAX_URI, NULL},
    {"workerEncryptionKey", F_TEXT, TCWI_MAX_WORKER_KEY, NULL},
};

/* Bytes hex text[0..len) decodes to ("0x" is no data). */
static size_t hex_size(const char *text, size_t len)
{
	if (len >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		len -= 2;
	return len / 2;
}

/* Applies rule r to params; *s / *len get the value (NULL when absent). */
static int check_field(json_object *params, const struct field_rule *r, const char **s,
                       size_t *len)
{
	int found = tcwi_json_str(params, r->key, r->max, s, len);

	if (found < 0)
		return -1;
	if (found == 1) {
		*s = NULL;
		*len = 0;
		return r->kind == F_HEX ? -1 : 0;
	}
	switch (r->kind) {
	case F_HEX:
		return tcwi_hex_valid(*s, *len) ? 0 : -1;
	case F_OPT_HEX:
		return *len == 0 || tcwi_hex_valid(*s, *len) ? 0 : -1;
	case F_KEYWORD:
		return strcasecmp(*s, r->want) == 0 ? 0 : -1;
	default:
		return 0;
	}
}

/* Decodes the hex workloadId into out->workload (UTF-8, no NUL). */
static int decode_workload(struct tcw_eea_submit *out, size_t len)
{
	uint8_t *name = NULL;
	size_t n = 0;
	int ok;

	if (tcw_hex_decode(out->workload_id, len, &name, &n) < 0)
		return -1;
	ok = n > 0 && n < sizeof(out->workload) && !memchr(name, '\0', n) &&
	     tcwi_utf8_valid(name, n);
	if (ok) {
		memcpy(out->workload, name, n);
		out->workload[n] = '\0';
	}
	free(name);
	return ok ? 0 : -1;
}

/* The text fields of data item array key (NULL when absent) into t[]. */
static int items_text(json_object *params, const char *key, int required,
                      struct tcw_item_text *t, size_t *count, struct tcw_error *e)
{
	struct tcwi_item it;
	json_object *arr = NULL;
	size_t n;
	int ret;

	*count = 0;
	ret = tcwi_items_array(params, key, required, &arr, &n, e);
	if (ret != TCW_OK)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (tcwi_item_parse(json_object_array_get_idx(arr, i), key, i, &it, e) < 0)
			return e->err;
		t[i] = it.text;
		tcwi_item_clear(&it);
	}
	*count = n;
	return TCW_OK;
}

/* Checks WorkOrderSubmit params and computes RH (see eea.h). */
int tcw_eea_submit_check(json_object *params, struct tcw_eea_submit *out, struct tcw_error *e)
{
	enum { N_RULES = sizeof(g_rules) / sizeof(g_rules[0]) };
	const char *v[N_RULES];
	size_t len[N_RULES];
	struct tcw_item_text in[TCWI_MAX_ITEMS], outd[TCWI_MAX_ITEMS];
	size_t in_count = 0, out_count = 0, n;
	json_object *rt = NULL;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(params, json_type_object))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "params");
	for (size_t i = 0; i < N_RULES; i++)
		if (check_field(params, &g_rules[i], &v[i], &len[i]) < 0)
			return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s", g_rules[i].key);
	out->work_order_id = v[0];
	out->worker_id = v[1];
	out->workload_id = v[2];
	out->requester_id = v[3];
	if (decode_workload(out, len[2]) < 0)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "workloadId");
	/* lengths are public: one RSA modulus, the sealed 32-byte hash */
	n = hex_size(v[5], len[5]);
	if (n != 256 && n != 384 && n != 512)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "encryptedSessionKey");
	out->session_key_bytes = n;
	n = hex_size(v[6], len[6]);
	if (n != SEALED_HASH && n != SEALED_HASH + TCW_GCM_IV_SIZE)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "encryptedRequestHash");
	if (v[7] && hex_size(v[7], len[7]) != TCW_GCM_IV_SIZE)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "sessionKeyIv");
	if (json_object_object_get_ex(params, "responseTimeoutMSecs", &rt) && rt &&
	    (!json_object_is_type(rt, json_type_int) || json_object_get_int64(rt) < 0))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "responseTimeoutMSecs");
	if (items_text(params, "inData", 1, in, &in_count, e) < 0 ||
	    items_text(params, "outData", 0, outd, &out_count, e) < 0)
		return e->err;
	return tcw_request_hash(v[4], v[0], v[1], v[2], v[3], in, in_count, outd, out_count,
	                        out->request_hash);
}

/* A required string member of a result object, or NULL. */
static const char *result_str(json_object *o, const char *key)
{
	const char *s = NULL;
	size_t n = 0;

	return tcwi_json_str(o, key, SIZE_MAX, &s, &n) == 0 ? s : NULL;
}

/* Response hash and signature of a stored result (see eea.h). */
int tcw_eea_result_hash(json_object *result, uint8_t wh[TCW_SHA256_SIZE], const char **sig,
                        struct tcw_error *e)
{
	static const char *const keys[] = {"workerNonce", "workOrderId", "workerId", "workloadId",
	                                   "requesterId", "workerSignature"};
	const char *s[6];
	struct tcw_item_text items[TCWI_MAX_ITEMS];
	json_object *arr = NULL;
	size_t n;

	if (!json_object_is_type(result, json_type_object))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "result");
	for (size_t i = 0; i < 6; i++)
		if ((s[i] = result_str(result, keys[i])) == NULL)
			return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "result.%s", keys[i]);
	if (!json_object_object_get_ex(result, "outData", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) > TCWI_MAX_ITEMS)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "result.outData");
	for (size_t i = 0; i < n; i++) {
		struct tcwi_item it;

		if (tcwi_item_parse(json_object_array_get_idx(arr, i), "result.outData", i, &it, e) <
		    0)
			return e->err;
		items[i] = it.text;
		tcwi_item_clear(&it);
	}
	*sig = s[5];
	return tcw_response_hash(s[0], s[1], s[2], s[3], s[4], items, n, wh);
}

/* Verifies a base64 DER signature over digest with a PEM key (see eea.h). */
int tcw_eea_verify_b64(const char *pem, const uint8_t digest[TCW_SHA256_SIZE],
                       const char *sig_b64)
{
	uint8_t *der = NULL;
	size_t size = 0;
	int rc;

	if (!pem || !sig_b64 || strlen(sig_b64) > TCWI_MAX_SIG_B64 ||
	    tcw_b64_decode(sig_b64, strlen(sig_b64), &der, &size) < 0)
		return TCW_ERR_INVALID_PARAM;
	rc = size > TCW_ECDSA_DER_MAX ? TCW_ERR_VERIFY : tcw_ecdsa_verify_pem(pem, digest, der, size);
	free(der);
	if (rc == TCW_ERR_CRYPTO)
		return TCW_ERR_INVALID_PARAM;
	return rc == TCW_OK ? TCW_OK : TCW_ERR_VERIFY;
}

/* Verifies the workerSignature of a result (see eea.h). */
int tcw_eea_result_verify(json_object *result, const char *verifying_pem, struct tcw_error *e)
{
	uint8_t wh[TCW_SHA256_SIZE];
	const char *sig = NULL;
	int rc = tcw_eea_result_hash(result, wh, &sig, e);

	if (rc < 0)
		return rc;
	rc = tcw_eea_verify_b64(verifying_pem, wh, sig);
	if (rc < 0)
		return tcw_error_set(e, TCW_ERR_VERIFY, "result.workerSignature");
	return TCW_OK;
}

/* Hex of a measurement into out (65 bytes). */
static void measurement_hex(const uint8_t m[TCW_SGX_MEASUREMENT_SIZE], char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < TCW_SGX_MEASUREMENT_SIZE; i++) {
		out[2 * i] = hex[m[i] >> 4];
		out[2 * i + 1] = hex[m[i] & 15];
	}
	out[2 * TCW_SGX_MEASUREMENT_SIZE] = '\0';
}

/* Checks a signup's quote against the expected measurements (see eea.h). */
int tcw_eea_signup_quote(const struct tcw_signup *su, const char *expect_mrenclave,
                         const char *expect_mrsigner, struct tcw_eea_quote_info *out,
                         struct tcw_error *e)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!su->quote || !su->quote[0]) {
		if (expect_mrenclave || expect_mrsigner)
			return tcw_error_set(e, TCW_ERR_VERIFY,
			                     "a measurement is expected but the signup has no quote");
		return TCW_OK;
	}
	rc = tcw_b64_decode(su->quote, strlen(su->quote), &data, &size);
	if (rc == TCW_ERR_NOMEM)
		return rc;
	if (rc < 0)
		return tcw_error_set(e, TCW_ERR_VERIFY, "quote is not base64");
	rc = tcw_quote_parse(data, size, &out->quote, e);
	free(data);
	if (rc < 0)
		return tcw_error_set(e, TCW_ERR_VERIFY, "quote does not parse");
	out->present = 1;
	measurement_hex(out->quote.mrenclave, out->mrenclave);
	measurement_hex(out->quote.mrsigner, out->mrsigner);
	if (tcw_report_data_match(out->quote.report_data, su->verifying_key, su->encryption_key,
	                          &out->layout) < 0)
		return tcw_error_set(e, TCW_ERR_VERIFY, "quote REPORTDATA does not bind the keys");
	if (expect_mrenclave && strcasecmp(expect_mrenclave, out->mrenclave) != 0)
		return tcw_error_set(e, TCW_ERR_VERIFY, "MRENCLAVE is not the expected one");
	if (expect_mrsigner && strcasecmp(expect_mrsigner, out->mrsigner) != 0)
		return tcw_error_set(e, TCW_ERR_VERIFY, "MRSIGNER is not the expected one");
	return TCW_OK;
}

/* Adds a string member (NULL → ""). */
static int add_s(json_object *o, const char *key, const char *v)
{
	return tcwi_json_add(o, key, json_object_new_string(v ? v : ""));
}

/* workerTypeData of a signup (keys, empty proofData, the quote apart). */
static json_object *type_data(const struct tcw_signup *su, const struct tcw_eea_quote_info *q)
{
	json_object *td = json_object_new_object(), *em = json_object_new_array();
	int rc;

	if (!td || !em) {
		json_object_put(td);
		json_object_put(em);
		return NULL;
	}
	if (q && q->present) {
		json_object_array_add(em, json_object_new_string(q->mrenclave));
		json_object_array_add(em, json_object_new_string(q->mrsigner));
	}
	rc = add_s(td, "verificationKey", su->verifying_key);
	rc |= tcwi_json_add(td, "extendedMeasurements", em);
	rc |= add_s(td, "proofDataType", "");
	rc |= add_s(td, "proofData", "");
	rc |= add_s(td, "encryptionKey", su->encryption_key);
	rc |= add_s(td, "encryptionKeyNonce", "");
	rc |= add_s(td, "encryptionKeySignature", su->encryption_key_signature);
	rc |= add_s(td, "sgxQuote", q && q->present ? su->quote : "");
	rc |= add_s(td, "sgxQuoteType", q && q->present ? tcw_quote_format_name(q->quote.format) : "");
	if (rc != 0) {
		json_object_put(td);
		return NULL;
	}
	return td;
}

/* The EEA worker record of a signup (see eea.h). */
int tcw_eea_worker_record(const struct tcw_signup *su, const struct tcw_eea_quote_info *q,
                          const char *organization_id, int status, json_object **out)
{
	static const char *const uris[] = {
	    "workOrderSyncUri",           "workOrderAsyncUri",       "workOrderPullUri",
	    "workOrderNotifyUri",         "receiptInvocationUri",    "workOrderInvocationAddress",
	    "receiptInvocationAddress",   "fromAddress"};
	json_object *rec = json_object_new_object(), *d = json_object_new_object();
	char kea[32];
	int rc = 0;

	*out = NULL;
	if (!rec || !d) {
		json_object_put(rec);
		json_object_put(d);
		return TCW_ERR_NOMEM;
	}
	snprintf(kea, sizeof(kea), "RSA-OAEP-%u", tcw_rsa_pem_bits(su->encryption_key));
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++)
		rc |= add_s(d, uris[i], "");
	rc |= add_s(d, "hashingAlgorithm", "SHA-256");
	rc |= add_s(d, "signingAlgorithm", "SECP256K1");
	rc |= add_s(d, "keyEncryptionAlgorithm", kea);
	rc |= add_s(d, "dataEncryptionAlgorithm", "AES-GCM-256");
	rc |= add_s(d, "workOrderPayloadFormats", "JSON-RPC");
	rc |= tcwi_json_add(d, "workerTypeData", type_data(su, q));
	rc |= tcwi_json_add(rec, "workerType", json_object_new_int(1));
	rc |= add_s(rec, "organizationId", organization_id);
	rc |= tcwi_json_add(rec, "applicationTypeId", json_object_new_array());
	rc |= tcwi_json_add(rec, "details", d);
	rc |= tcwi_json_add(rec, "status", json_object_new_int(status));
	if (rc != 0) {
		json_object_put(rec);
		return TCW_ERR_NOMEM;
	}
	*out = rec;
	return TCW_OK;
}

/* Appends text to a growing buffer; -1 when it does not fit. */
static int cat(char *buf, size_t cap, size_t *pos, const char *text)
{
	size_t n = strlen(text);

	if (n >= cap - *pos)
		return -1;
	memcpy(buf + *pos, text, n + 1);
	*pos += n;
	return 0;
}

/* Digest a WorkOrderReceiptCreate requester signs (see eea.h). */
int tcw_eea_receipt_create_digest(json_object *params, uint8_t digest[TCW_SHA256_SIZE],
                                  struct tcw_error *e)
{
	static const char *const keys[] = {"workOrderId", "workerServiceId", "workerId",
	                                   "requesterId", NULL, "workOrderRequestHash",
	                                   "requesterGeneratedNonce"};
	char buf[8 * TCWI_MAX_ID_HEX];
	size_t pos = 0;
	json_object *st = NULL;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = NULL;
		size_t n = 0;
		char num[32];

		if (!keys[i]) {
			if (!json_object_object_get_ex(params, "receiptCreateStatus", &st) ||
			    !json_object_is_type(st, json_type_int))
				return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "receiptCreateStatus");
			snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(st));
			s = num;
		} else if (tcwi_json_str(params, keys[i], TCWI_MAX_ID_HEX, &s, &n) != 0) {
			return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s", keys[i]);
		}
		if (cat(buf, sizeof(buf), &pos, s) < 0)
			return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s",
			                     keys[i] ? keys[i] : "receiptCreateStatus");
	}
	return tcw_sha256(buf, pos, digest);
}

/* Digest of a receipt update (see eea.h). */
int tcw_eea_receipt_update_digest(const char *work_order_id, int64_t update_type,
                                  const char *update_data, uint8_t digest[TCW_SHA256_SIZE])
{
	char num[32];
	size_t a = strlen(work_order_id), b, c = strlen(update_data);
	char *buf;
	int rc;

	snprintf(num, sizeof(num), "%lld", (long long)update_type);
	b = strlen(num);
	buf = malloc(a + b + c + 1);
	if (!buf)
		return TCW_ERR_NOMEM;
	memcpy(buf, work_order_id, a);
	memcpy(buf + a, num, b);
	memcpy(buf + a + b, update_data, c);
	rc = tcw_sha256(buf, a + b + c, digest);
	free(buf);
	return rc;
}
