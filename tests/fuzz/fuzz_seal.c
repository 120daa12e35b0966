/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_seal.c - fuzz_workorder's crypto: encrypts, hashes and signs requests, decrypts and checks
 * replies. */
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>

#include "fuzz_common.h"
#include "fuzz_workorder.h"

#define SESSION_KEY_SEED "tcworker fuzz session key"

static uint8_t g_session_key[TCW_AES_KEY_SIZE];
static char g_session_key_hex[2 * TCW_AES_KEY_SIZE + 1];
static char *g_vk_pem, *g_vk_pem_compressed;
static const uint8_t zero_iv[TCW_GCM_IV_SIZE];

/* SPKI PEM of the requester key with a compressed point. */
static char *compressed_pem(const uint8_t *seckey)
{
	static const uint8_t prefix[] = {0x30, 0x36, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
	                                 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
	                                 0x81, 0x04, 0x00, 0x0a, 0x03, 0x22, 0x00};
	uint8_t der[sizeof(prefix) + 33];
	size_t n = 33;
	secp256k1_pubkey pk;

	memcpy(der, prefix, sizeof(prefix));
	if (!tcwi_secp_ctx() || !secp256k1_ec_pubkey_create(tcwi_secp_ctx(), &pk, seckey) ||
	    !secp256k1_ec_pubkey_serialize(tcwi_secp_ctx(), der + sizeof(prefix), &n, &pk,
	                                   SECP256K1_EC_COMPRESSED))
		return NULL;
	return tcwi_pem_encode("PUBLIC KEY", der, sizeof(der), 1);
}

/* Fixed requester keys and the session key (see fuzz_workorder.h). */
void fz_wo_init(void)
{
	char *hex;

	if (tcw_sha256(SESSION_KEY_SEED, strlen(SESSION_KEY_SEED), g_session_key) != TCW_OK ||
	    !(hex = tcw_hex_encode(g_session_key, sizeof(g_session_key))) ||
	    tcw_ecdsa_pubkey_pem(fz_requester_seckey(), &g_vk_pem) != TCW_OK ||
	    !(g_vk_pem_compressed = compressed_pem(fz_requester_seckey())))
		fz_fail("cannot set up the requester keys");
	memcpy(g_session_key_hex, hex, sizeof(g_session_key_hex));
	free(hex);
}

/* Lowercase hex of the fixed session key (see fuzz_workorder.h). */
const char *fz_session_key_hex(void)
{
	return g_session_key_hex;
}

/* Hex of data, uppercase when r asks for it (see fuzz_workorder.h). */
char *fz_hex(const struct req *r, const uint8_t *data, size_t size)
{
	char *hex = tcw_hex_encode(data, size);

	if (hex && r->flags & F_UPPER_HEX)
		for (char *c = hex; *c; c++)
			if (*c >= 'a' && *c <= 'f')
				*c = (char)(*c - 'a' + 'A');
	return hex;
}

/* The next IV of this request: unique within it, deterministic. */
static void next_iv(struct req *r, uint8_t iv[TCW_GCM_IV_SIZE])
{
	unsigned c = ++r->iv_counter;

	memset(iv, 0xf2, TCW_GCM_IV_SIZE);
	iv[8] = (uint8_t)(c >> 24), iv[9] = (uint8_t)(c >> 16);
	iv[10] = (uint8_t)(c >> 8), iv[11] = (uint8_t)c;
}

/* What the worker gets for a 32-byte key: in libFuzzer builds a modulus-
 * sized blob "tcw-fuzz" || key || zeros that lib/keys.c takes as the raw
 * key; otherwise RSA-OAEP for the fixed worker key. Caller frees. */
static uint8_t *wrap_key(const uint8_t key[TCW_AES_KEY_SIZE], size_t *size)
{
	uint8_t *out = NULL;
#ifdef TCW_FUZZING
	*size = tcw_keys_rsa_bits(fz_keys()) / 8;
	out = calloc(1, *size);
	if (out) {
		memcpy(out, FZ_KEY_MARKER, 8);
		memcpy(out + 8, key, TCW_AES_KEY_SIZE);
	}
#else
	if (tcw_rsa_encrypt_pem(tcw_keys_encryption_pem(fz_keys()), key, TCW_AES_KEY_SIZE, &out,
	                        size) != TCW_OK)
		out = NULL;
#endif
	return out;
}

/* AES-GCM of p under key and iv: [iv ||] ct || tag; caller frees. */
static uint8_t *seal(const uint8_t *key, const uint8_t *iv, int prefixed, const uint8_t *p,
                     size_t n, size_t *size)
{
	size_t pre = prefixed ? TCW_GCM_IV_SIZE : 0;
	uint8_t *out = malloc(pre + n + TCW_GCM_TAG_SIZE);

	if (!out)
		return NULL;
	memcpy(out, iv, pre);
	if (tcw_aes_gcm_encrypt(key, iv, p, n, out + pre) != TCW_OK) {
		free(out);
		return NULL;
	}
	*size = pre + n + TCW_GCM_TAG_SIZE;
	return out;
}

/* The wrapped data key text e of a per-item-key item (protocol.md §5). */
static char *wrap_dek(struct req *r, struct fz_item *it, const uint8_t *item_iv)
{
	uint8_t wiv[TCW_GCM_IV_SIZE], *wrapped, *blob = NULL;
	size_t wrapped_size = 0, blob_size = 0;
	char *e = NULL;

	next_iv(r, wiv); /* a fresh counter value names a distinct key */
	if (tcw_sha256(wiv, sizeof(wiv), it->dek) != TCW_OK)
		return NULL;
	wrapped = wrap_key(it->dek, &wrapped_size);
	if (!wrapped)
		return NULL;
	if (it->mode == M_DEK_ITEM_IV) {
		blob = seal(g_session_key, item_iv, 0, wrapped, wrapped_size, &blob_size);
	} else {
		next_iv(r, wiv);
		blob = seal(g_session_key, wiv, 1, wrapped, wrapped_size, &blob_size);
	}
	if (blob)
		e = fz_hex(r, blob, blob_size);
	free(blob);
	free(wrapped);
	return e;
}

/* Key texts of item it; *iv gets the data IV (NULL: session IV rules). */
static int key_texts(struct req *r, struct fz_item *it, uint8_t iv_buf[TCW_GCM_IV_SIZE],
                     const uint8_t **iv)
{
	static const char *const dek_text[] = {"null", "", "null", "-"};

	*iv = NULL;
	if (it->mode == M_SESSION_ABSENT)
		return 0;
	if (it->mode == M_SESSION_IV || it->mode == M_DEK || it->mode == M_DEK_ITEM_IV) {
		next_iv(r, iv_buf);
		*iv = iv_buf;
		it->text.iv = fz_hex(r, iv_buf, TCW_GCM_IV_SIZE);
	} else {
		it->text.iv = strdup("");
	}
	if (it->mode <= M_PLAIN)
		it->text.dek = strdup(dek_text[it->mode]);
	else
		it->text.dek = wrap_dek(r, it, iv_buf);
	if (it->mode == M_DEK_ZERO_IV)
		*iv = zero_iv;
	return it->text.iv && it->text.dek ? 0 : -1;
}

/* The data text of inData item it, encrypted as its key texts say. */
static char *data_text(struct req *r, const struct fz_item *it, const uint8_t *iv)
{
	const uint8_t *key =
	    it->mode >= M_DEK && it->mode != M_SESSION_ABSENT ? it->dek : g_session_key;
	uint8_t piv[TCW_GCM_IV_SIZE], *buf;
	size_t size = 0;
	char *b64;
	int prefixed = 0;

	if (it->mode == M_PLAIN)
		return tcw_b64_encode(it->plain, it->plain_size, NULL);
	if (!iv && r->skiv_hex) {
		iv = r->skiv;
	} else if (!iv) {
		next_iv(r, piv);
		iv = piv;
		prefixed = 1;
	}
	buf = seal(key, iv, prefixed, it->plain, it->plain_size, &size);
	if (!buf)
		return NULL;
	if (it->tamper)
		buf[size / 2] ^= 0x10;
	b64 = tcw_b64_encode(buf, size, NULL);
	free(buf);
	return b64;
}

/* Fills the texts of item it: dataHash, key, iv and data. */
static int seal_item(struct req *r, struct fz_item *it)
{
	uint8_t h[TCW_SHA256_SIZE], iv_buf[TCW_GCM_IV_SIZE];
	const uint8_t *iv = NULL;
	EVP_MD_CTX *md;

	it->text.index = it->index;
	if (it->hash_ok || it->hash_bad) {
		md = EVP_MD_CTX_new();
		if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
		    !EVP_DigestUpdate(md, it->plain, it->plain_size) ||
		    (it->hash_bad && !EVP_DigestUpdate(md, "x", 1)) ||
		    !EVP_DigestFinal_ex(md, h, NULL)) {
			EVP_MD_CTX_free(md);
			return -1;
		}
		EVP_MD_CTX_free(md);
		it->text.data_hash = fz_hex(r, h, sizeof(h));
	} else {
		it->text.data_hash = strdup("");
	}
	if (!it->text.data_hash || key_texts(r, it, iv_buf, &iv) < 0)
		return -1;
	if (it->out) /* templates: data is hashed but never read */
		it->text.data = tcw_b64_encode(it->plain, it->plain_size, NULL);
	else if (it->no_data)
		return 0;
	else
		it->text.data = data_text(r, it, iv);
	return it->text.data ? 0 : -1;
}

/* encryptedRequestHash and the optional signature over rh. */
static int seal_hash(struct req *r, const uint8_t rh[TCW_SHA256_SIZE])
{
	uint8_t iv[TCW_GCM_IV_SIZE], der[TCW_ECDSA_DER_MAX], *erh;
	size_t size = 0, der_size = 0;

	if (!r->skiv_hex)
		next_iv(r, iv);
	erh = seal(g_session_key, r->skiv_hex ? r->skiv : iv, !r->skiv_hex, rh, TCW_SHA256_SIZE,
	           &size);
	if (!erh)
		return -1;
	if (r->flags & F_BAD_ERH)
		erh[size - 1] ^= 0x01;
	r->erh_hex = fz_hex(r, erh, size);
	free(erh);
	if (!r->erh_hex)
		return -1;
	if (!(r->flags & F_SIGN))
		return 0;
	if (tcw_ecdsa_sign(fz_requester_seckey(), rh, der, &der_size) != TCW_OK)
		return -1;
	if (r->flags & F_BAD_SIG)
		der[der_size - 1] ^= 0x01;
	r->sig_b64 = tcw_b64_encode(der, der_size, NULL);
	r->vkey = r->flags & F_COMPRESSED_VK ? g_vk_pem_compressed : g_vk_pem;
	return r->sig_b64 ? 0 : -1;
}

/* Encrypts, hashes and signs the whole request (see fuzz_workorder.h). */
int fz_seal_request(struct req *r)
{
	struct tcw_item_text in[FZ_MAX_SEGS], out[FZ_MAX_SEGS];
	uint8_t rh[TCW_SHA256_SIZE], *esk;
	size_t nin = 0, nout = 0, esk_size = 0;

	r->workload_hex = fz_hex(r, (const uint8_t *)r->name, strlen(r->name));
	if (!r->workload_hex)
		return -1;
	if (!(r->flags & F_NO_SESSION_IV)) {
		next_iv(r, r->skiv);
		if (!(r->skiv_hex = fz_hex(r, r->skiv, sizeof(r->skiv))))
			return -1;
	}
	for (size_t i = 0; i < r->nitems; i++) {
		if (seal_item(r, &r->items[i]) < 0)
			return -1;
		if (r->items[i].out)
			out[nout++] = r->items[i].text;
		else
			in[nin++] = r->items[i].text;
	}
	esk = wrap_key(g_session_key, &esk_size);
	r->esk_hex = esk ? fz_hex(r, esk, esk_size) : NULL;
	free(esk);
	if (!r->esk_hex || tcw_request_hash(r->nonce, r->wo_id, FZ_WORKER_ID, r->workload_hex,
	                                    FZ_REQUESTER_ID, in, nin, out, nout, rh) != TCW_OK)
		return -1;
	return seal_hash(r, rh);
}

/* Frees the texts an item owns (see fuzz_workorder.h). */
void fz_item_free(struct fz_item *it)
{
	free((char *)it->text.data_hash);
	free((char *)it->text.data);
	free((char *)it->text.dek);
	free((char *)it->text.iv);
}

/* ---- replies ------------------------------------------------------------- */

/* One expected output of the workload. */
struct want {
	uint8_t *data; /* owned */
	size_t size;
};

/* Stable order of the items of one array (out = templates) by index. */
static size_t sorted_items(const struct req *r, int out, const struct fz_item **v)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nitems; i++) {
		const struct fz_item *x = &r->items[i];
		size_t j;

		if (x->out != out)
			continue;
		for (j = n; j > 0 && v[j - 1]->index > x->index; j--)
			v[j] = v[j - 1];
		v[j] = x;
		n++;
	}
	return n;
}

/* The outputs r's workload must produce into w; returns their count. */
static size_t expected_outputs(const struct req *r, struct want *w)
{
	const struct fz_item *in[FZ_MAX_SEGS];
	size_t n = sorted_items(r, 0, in), total = 0;

	if (strcmp(r->name, "echo") == 0) {
		for (size_t i = 0; i < n; i++) {
			w[i].data = malloc(in[i]->plain_size + 1);
			memcpy(w[i].data, in[i]->plain, in[i]->plain_size);
			w[i].size = in[i]->plain_size;
		}
		return n;
	}
	for (size_t i = 0; i < n; i++)
		total += in[i]->plain_size;
	w[0].data = malloc(total + 7);
	w[0].size = 0;
	if (strcmp(r->name, "python-hello") == 0) {
		memcpy(w[0].data, "Hello ", 6);
		memcpy(w[0].data + 6, in[0]->plain, in[0]->plain_size);
		w[0].size = 6 + in[0]->plain_size;
	} else if (strcmp(r->name, "concat") == 0) {
		for (size_t i = 0; i < n; i++) {
			memcpy(w[0].data + w[0].size, in[i]->plain, in[i]->plain_size);
			w[0].size += in[i]->plain_size;
		}
	}
	return 1;
}

/* Decrypts reply item it (position i) with what the request says. */
static uint8_t *open_output(const struct req *r, json_object *it, const struct fz_item *tmpl,
                            size_t *size)
{
	const char *e =
	    json_object_get_string(json_object_object_get(it, "encryptedDataEncryptionKey"));
	const char *ivt = json_object_get_string(json_object_object_get(it, "iv"));
	const char *data = json_object_get_string(json_object_object_get(it, "data"));
	const uint8_t *key = g_session_key, *iv = r->skiv_hex ? r->skiv : NULL;
	uint8_t ivb[TCW_GCM_IV_SIZE], *buf = NULL;
	size_t n = 0;

	if (tcw_b64_decode(data, strlen(data), &buf, &n) != TCW_OK)
		fz_fail("outData data is not base64");
	if (strcmp(e, "-") == 0) {
		*size = n;
		return buf;
	}
	if (strcmp(e, "null") != 0 && *e) {
		if (!tmpl || !tmpl->text.dek || strcmp(tmpl->text.dek, e) != 0)
			fz_fail("outData key is not the template's");
		key = tmpl->dek;
		iv = zero_iv;
	}
	if (*ivt && tcw_hex_decode_exact(ivt, strlen(ivt), ivb, sizeof(ivb)) == TCW_OK)
		iv = ivb;
	if (!iv) { /* IV-prefixed */
		if (n < TCW_GCM_IV_SIZE + TCW_GCM_TAG_SIZE)
			fz_fail("IV-prefixed output too short");
		memcpy(ivb, buf, sizeof(ivb));
		memmove(buf, buf + TCW_GCM_IV_SIZE, n - TCW_GCM_IV_SIZE);
		n -= TCW_GCM_IV_SIZE;
		iv = ivb;
	}
	if (n < TCW_GCM_TAG_SIZE || tcw_aes_gcm_decrypt(key, iv, buf, n, buf) != TCW_OK)
		fz_fail("an outData item does not decrypt");
	*size = n - TCW_GCM_TAG_SIZE;
	return buf;
}

/* String member key of o equals want. */
static void expect_member(json_object *o, const char *key, const char *want)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || strcmp(json_object_get_string(v), want) != 0)
		fz_fail("%s is not %s", key, want);
}

/* A result: echoed ids, outputs in template order, decrypting to w. */
static void check_result(const struct req *r, json_object *res, const struct want *w, size_t nw)
{
	const struct fz_item *tmpl[FZ_MAX_SEGS];
	size_t nt = sorted_items(r, 1, tmpl), size = 0;
	json_object *arr = json_object_object_get(res, "outData");

	expect_member(res, "workOrderId", r->wo_id);
	expect_member(res, "workloadId", r->workload_hex);
	expect_member(res, "workerId", FZ_WORKER_ID);
	expect_member(res, "requesterId", FZ_REQUESTER_ID);
	if (json_object_array_length(arr) != nw)
		fz_fail("%zu outputs, expected %zu", json_object_array_length(arr), nw);
	for (size_t i = 0; i < nw; i++) {
		json_object *it = json_object_array_get_idx(arr, i);
		const struct fz_item *t = i < nt ? tmpl[i] : NULL;
		uint8_t *plain;

		if (json_object_get_int64(json_object_object_get(it, "index")) !=
		    (t ? t->index : (int64_t)i))
			fz_fail("outData[%zu] has the wrong index", i);
		expect_member(it, "encryptedDataEncryptionKey",
		              t ? (t->text.dek ? t->text.dek : "") : "null");
		expect_member(it, "iv", t && t->text.iv ? t->text.iv : "");
		plain = open_output(r, it, t, &size);
		if (size != w[i].size || (size && memcmp(plain, w[i].data, size) != 0))
			fz_fail("outData[%zu] is not the expected output", i);
		free(plain);
	}
}

/* Fails unless the parsed reply root is what r must produce (see fuzz_workorder.h). */
void fz_check_expectation(const struct req *r, json_object *root)
{
	static const char *const msg[] = {"", "Error processing work load",
	                                  "Work order integrity check failed",
	                                  "Invalid requester signature"};
	enum fz_expect e = r->any                 ? EXP_ANY
	                   : r->flags & F_BAD_ERH ? EXP_INTEGRITY
	                   : (r->flags & (F_SIGN | F_BAD_SIG)) == (F_SIGN | F_BAD_SIG)
	                       ? EXP_SIGNATURE
	                   : r->bad_items ? EXP_INTEGRITY
	                   : r->wl_fail   ? EXP_WORKLOAD
	                                  : EXP_OK;
	struct want w[TCWI_MAX_ITEMS] = {{0}};
	json_object *res = NULL, *err = NULL, *data = NULL;
	size_t nw;

	if (e == EXP_ANY)
		return;
	if (e != EXP_OK) {
		if (!json_object_object_get_ex(root, "error", &err) ||
		    strcmp(fz_error_message(root), msg[e]) != 0 ||
		    fz_error_code(root) != (e == EXP_SIGNATURE ? 4 : 2))
			fz_fail("expected error '%s', got %s", msg[e],
			        json_object_to_json_string(root));
		if (!json_object_object_get_ex(err, "data", &data))
			fz_fail("error reply without data.workOrderId");
		expect_member(data, "workOrderId", r->wo_id);
		return;
	}
	if (!json_object_object_get_ex(root, "result", &res))
		fz_fail("expected a result, got %s", json_object_to_json_string(root));
	nw = expected_outputs(r, w);
	check_result(r, res, w, nw);
	for (size_t i = 0; i < nw; i++)
		free(w[i].data);
}
