/* SPDX-License-Identifier: Apache-2.0 */
/* items.c - data items: validation, key and IV selection (protocol.md §5), decryption, sealing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tcw/tcw.h"

/* A text decoder with the shape of tcw_hex_decode / tcw_b64_decode. */
typedef int (*decode_fn)(const char *text, size_t len, uint8_t **out, size_t *out_size);

/* One way to open an AES-GCM layer: IV-prefixed data, or a given IV. */
struct iv_try {
	int prefixed;      /* data = IV(12) || ct || tag */
	const uint8_t *iv; /* otherwise data = ct || tag under this IV */
};

/* The spec's default IV (all zeros). */
static const uint8_t zero_iv[TCW_GCM_IV_SIZE];

/* Decrypts buf[0..size) in place with t; the plaintext ends up at buf. */
static int open_in_place(const uint8_t key[TCW_AES_KEY_SIZE], const struct iv_try *t, uint8_t *buf,
                         size_t size, size_t *out_size)
{
	uint8_t iv[TCW_GCM_IV_SIZE];
	size_t n;

	if (!t->prefixed) {
		if (tcw_aes_gcm_decrypt(key, t->iv, buf, size, buf) < 0)
			return TCW_ERR_INTEGRITY;
		*out_size = size - TCW_GCM_TAG_SIZE;
		return TCW_OK;
	}
	if (size < TCW_GCM_IV_SIZE + TCW_GCM_TAG_SIZE)
		return TCW_ERR_INTEGRITY;
	memcpy(iv, buf, sizeof(iv));
	if (tcw_aes_gcm_decrypt(key, iv, buf + TCW_GCM_IV_SIZE, size - TCW_GCM_IV_SIZE,
	                        buf + TCW_GCM_IV_SIZE) < 0)
		return TCW_ERR_INTEGRITY;
	n = size - TCW_GCM_IV_SIZE - TCW_GCM_TAG_SIZE;
	memmove(buf, buf + TCW_GCM_IV_SIZE, n);
	/* the last 12 plaintext bytes are still where they were before */
	tcw_wipe(buf + n, TCW_GCM_IV_SIZE);
	*out_size = n;
	return TCW_OK;
}

/*
 * Decodes text and opens it with each way in tries until one authenticates;
 * *out (secret, caller frees with tcw_free_secret(*out, *out_size)). A
 * failed attempt wipes its buffer, so every attempt decodes afresh.
 */
static int open_text(const uint8_t key[TCW_AES_KEY_SIZE], const struct iv_try *tries, size_t count,
                     decode_fn decode, const char *text, size_t len, uint8_t **out,
                     size_t *out_size)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	int ret;

	for (size_t i = 0; i < count; i++) {
		ret = decode(text, len, &buf, &size);
		if (ret < 0)
			return ret;
		if (open_in_place(key, &tries[i], buf, size, out_size) == TCW_OK) {
			*out = buf;
			return TCW_OK;
		}
		tcw_free_secret(buf, size);
	}
	return TCW_ERR_INTEGRITY;
}

/* The IVs for a session-key layer of item it (NULL: encryptedRequestHash). */
static size_t session_tries(const struct tcwi_session *s, const struct tcwi_item *it,
                            struct iv_try t[2])
{
	size_t n = 0;

	if (it && it->has_iv)
		t[n++] = (struct iv_try){.iv = it->iv};
	if (n && s->strict_iv)
		return n;
	if (s->has_iv) {
		/* extension: an item iv that fails is retried with sessionKeyIv */
		t[n++] = (struct iv_try){.iv = s->iv};
	} else if (n == 0) {
		t[n++] = (struct iv_try){.prefixed = 1};
		t[n++] = (struct iv_try){.iv = zero_iv};
	}
	return n;
}

/* Decrypts a hex session-key blob such as encryptedRequestHash (see internal.h). */
int tcwi_session_open_hex(const struct tcwi_session *s, const char *hex, size_t len, uint8_t **out,
                          size_t *out_size)
{
	struct iv_try t[2];
	size_t n = session_tries(s, NULL, t);
	int ret = open_text(s->key, t, n, tcw_hex_decode, hex, len, out, out_size);

	return ret == TCW_ERR_NOMEM ? ret : (ret < 0 ? TCW_ERR_INTEGRITY : TCW_OK);
}

/* Validates the optional string member key of item obj into *s / *len. */
static int item_str(json_object *obj, const char *key, size_t max, const char **s, size_t *len)
{
	int r = tcwi_json_str(obj, key, max, s, len);

	if (r == 1) {
		*s = NULL;
		*len = 0;
	}
	return r < 0 ? -1 : 0;
}

/* Reads member index of obj, a JSON integer within int64. */
static int item_index(json_object *obj, int64_t *index)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, "index", &v) || !json_object_is_type(v, json_type_int))
		return -1;
	*index = json_object_get_int64(v);
	/* json-c clamps integers above INT64_MAX */
	if (*index == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
		return -1;
	return 0;
}

/* 1 when text[0..len) is non-empty, valid hex (see internal.h). */
int tcwi_hex_valid(const char *text, size_t len)
{
	uint8_t *buf = NULL;
	size_t n = 0;

	if (!len || tcw_hex_decode(text, len, &buf, &n) < 0)
		return 0;
	free(buf);
	return n > 0;
}

/* The item array key of params, checked; see internal.h. */
int tcwi_items_array(json_object *params, const char *key, int required, json_object **arr,
                     size_t *n, struct tcw_error *e)
{
	*arr = NULL;
	*n = 0;
	if (!json_object_object_get_ex(params, key, arr) || !*arr) {
		*arr = NULL;
		return required ? tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s", key) : TCW_OK;
	}
	if (!json_object_is_type(*arr, json_type_array))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s", key);
	*n = json_object_array_length(*arr);
	if ((required && *n == 0) || *n > TCWI_MAX_ITEMS)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s", key);
	return TCW_OK;
}

/* Validates data item obj (see internal.h). */
int tcwi_item_parse(json_object *obj, const char *array, size_t pos, struct tcwi_item *it,
                    struct tcw_error *e)
{
	uint8_t digest[TCW_SHA256_SIZE]; /* a dataHash is hex of one SHA-256 */
	const char *field = "";
	size_t hash_len = 0, dek_len = 0, iv_len = 0;

	memset(it, 0, sizeof(*it));
	it->pos = pos;
	it->array = array;
	if (!json_object_is_type(obj, json_type_object))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s[%zu]", array, pos);
	if (item_index(obj, &it->text.index) < 0) {
		field = "index";
		goto bad;
	}
	field = "dataHash";
	if (item_str(obj, field, TCWI_MAX_DATA_HASH, &it->text.data_hash, &hash_len) < 0 ||
	    (hash_len && tcw_hex_decode_exact(it->text.data_hash, hash_len, digest,
	                                      sizeof(digest)) < 0))
		goto bad;
	field = "data";
	if (item_str(obj, field, SIZE_MAX, &it->text.data, &it->data_len) < 0)
		goto bad;
	field = "encryptedDataEncryptionKey";
	if (item_str(obj, field, TCWI_MAX_DEK_HEX, &it->text.dek, &dek_len) < 0)
		goto bad;
	if (!dek_len || strcmp(it->text.dek, "null") == 0)
		it->mode = TCWI_KEY_SESSION;
	else if (strcmp(it->text.dek, "-") == 0)
		it->mode = TCWI_KEY_PLAIN;
	else if (tcwi_hex_valid(it->text.dek, dek_len))
		it->mode = TCWI_KEY_DEK;
	else
		goto bad;
	field = "iv";
	if (item_str(obj, field, TCWI_MAX_SHORT_TEXT, &it->text.iv, &iv_len) < 0)
		goto bad;
	if (iv_len) {
		if (tcw_hex_decode_exact(it->text.iv, iv_len, it->iv, sizeof(it->iv)) < 0)
			goto bad;
		it->has_iv = 1;
	}
	return TCW_OK;
bad:
	return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s[%zu].%s", array, pos, field);
}

/* Unwraps a per-item data key into it->dek (see internal.h). */
int tcwi_item_unwrap(const struct tcwi_session *s, struct tcwi_item *it)
{
	/* C++ layout (IV inside the blob) first, then the item iv (Python intent) */
	struct iv_try t[2] = {{.prefixed = 1}, {.iv = it->iv}};
	uint8_t *wrapped = NULL;
	size_t wrapped_size = 0;
	int ret, cached = 0;

	if (it->mode != TCWI_KEY_DEK || it->has_dek)
		return TCW_OK;
	if (!s->keys)
		return TCW_ERR_INTEGRITY;
	ret = open_text(s->key, t, it->has_iv ? 2 : 1, tcw_hex_decode, it->text.dek,
	                strlen(it->text.dek), &wrapped, &wrapped_size);
	if (ret < 0)
		return ret == TCW_ERR_NOMEM ? ret : TCW_ERR_INTEGRITY;
	ret = tcwi_unwrap(s->keys, s->cache, wrapped, wrapped_size, NULL, it->dek, &it->dek_rejected,
	                  &cached);
	tcw_free_secret(wrapped, wrapped_size);
	if (ret < 0) {
		tcw_wipe(it->dek, sizeof(it->dek));
		return ret;
	}
	it->has_dek = 1;
	return TCW_OK;
}

/* Checks a non-empty dataHash against hex(H(plaintext)), constant time. */
static int check_data_hash(const struct tcwi_item *it)
{
	uint8_t want[TCW_SHA256_SIZE], got[TCW_SHA256_SIZE];
	const char *dh = it->text.data_hash;

	if (!dh || !*dh)
		return TCW_OK;
	if (tcw_hex_decode_exact(dh, strlen(dh), want, sizeof(want)) < 0)
		return TCW_ERR_INTEGRITY;
	if (tcw_sha256(it->plain, it->plain_size, got) < 0)
		return TCW_ERR_INTERNAL;
	return tcw_ct_equal(want, got, sizeof(got)) ? TCW_OK : TCW_ERR_INTEGRITY;
}

/* Decodes and decrypts it's data into it->plain (see internal.h). */
int tcwi_item_decrypt(const struct tcwi_session *s, struct tcwi_item *it, struct tcw_error *e)
{
	struct iv_try t[2];
	int ret;

	if (!it->data_len) {
		/* empty data is an empty plaintext (C++ emits it for empty results) */
		it->plain = malloc(1);
		ret = it->plain ? TCW_OK : TCW_ERR_NOMEM;
	} else if (it->mode == TCWI_KEY_PLAIN) {
		ret = tcw_b64_decode(it->text.data, it->data_len, &it->plain, &it->plain_size);
	} else if (it->mode == TCWI_KEY_SESSION) {
		ret = open_text(s->key, t, session_tries(s, it, t), tcw_b64_decode, it->text.data,
		                it->data_len, &it->plain, &it->plain_size);
	} else {
		t[0] = (struct iv_try){.iv = it->has_iv ? it->iv : zero_iv};
		ret = tcwi_item_unwrap(s, it);
		if (ret == TCW_OK)
			ret = open_text(it->dek, t, 1, tcw_b64_decode, it->text.data, it->data_len,
			                &it->plain, &it->plain_size);
		/* a stand-in key opens nothing, but the verdict must not rest on that */
		if (ret == TCW_OK && it->dek_rejected)
			ret = TCW_ERR_INTEGRITY;
	}
	if (ret == TCW_OK)
		ret = check_data_hash(it);
	if (ret == TCW_OK)
		return TCW_OK;
	tcw_free_secret(it->plain, it->plain_size);
	it->plain = NULL;
	it->plain_size = 0;
	if (ret == TCW_ERR_INVALID_PARAM)
		return tcw_error_set(e, ret, "%s[%zu].data", it->array, it->pos);
	if (ret != TCW_ERR_NOMEM && ret != TCW_ERR_INTERNAL)
		ret = TCW_ERR_INTEGRITY;
	return tcw_error_set(e, ret, NULL);
}

/* How an output for template tmpl is sealed: key and IV, or an IV drawn
 * into a prefix of the ciphertext; *iv_reused when that is sessionKeyIv. */
struct seal_way {
	enum tcwi_key_mode mode;
	const uint8_t *key, *iv;
	size_t prefix; /* TCW_GCM_IV_SIZE: a random IV leads the ciphertext */
	int iv_reused;
};

static struct seal_way seal_way(const struct tcwi_session *s, const struct tcwi_item *tmpl)
{
	struct seal_way w = {.mode = tmpl ? tmpl->mode : TCWI_KEY_SESSION, .key = s->key};

	if (w.mode == TCWI_KEY_PLAIN) {
		w.key = NULL;
	} else if (w.mode == TCWI_KEY_DEK) {
		w.key = tmpl->has_dek ? tmpl->dek : NULL;
		w.iv = tmpl->has_iv ? tmpl->iv : zero_iv;
	} else if (tmpl && tmpl->has_iv) {
		w.iv = tmpl->iv;
	} else if (s->has_iv) {
		w.iv = s->iv;
		w.iv_reused = 1;
	} else {
		w.prefix = TCW_GCM_IV_SIZE;
	}
	return w;
}

/* Length of the sealed base64 text (see internal.h). */
size_t tcwi_item_seal_len(const struct tcwi_session *s, const struct tcwi_item *tmpl,
                          size_t size)
{
	struct seal_way w = seal_way(s, tmpl);

	if (w.mode == TCWI_KEY_PLAIN)
		return tcwi_b64_len(size);
	if (size > SIZE_MAX - TCW_GCM_IV_SIZE - TCW_GCM_TAG_SIZE)
		return SIZE_MAX;
	return tcwi_b64_len(w.prefix + size + TCW_GCM_TAG_SIZE);
}

/* Encrypts plain for output template tmpl into base64 text at out (see internal.h). */
int tcwi_item_seal_to(const struct tcwi_session *s, const struct tcwi_item *tmpl,
                      const uint8_t *plain, size_t size, char *out, int *iv_reused)
{
	struct seal_way w = seal_way(s, tmpl);
	size_t total;
	uint8_t *buf = NULL;
	int ret;

	if (w.mode == TCWI_KEY_PLAIN) {
		tcwi_b64_encode_to(plain, size, out);
		return TCW_OK;
	}
	if (!w.key)
		return TCW_ERR_INTERNAL;
	if (size > SIZE_MAX - TCW_GCM_IV_SIZE - TCW_GCM_TAG_SIZE)
		return TCW_ERR_NOMEM;
	total = w.prefix + size + TCW_GCM_TAG_SIZE;
	buf = malloc(total);
	if (!buf)
		return TCW_ERR_NOMEM;
	if (w.prefix) {
		ret = tcw_random_bytes(buf, w.prefix);
		if (ret < 0)
			goto out;
		w.iv = buf;
	}
	ret = tcw_aes_gcm_encrypt(w.key, w.iv, plain, size, buf + w.prefix);
	if (ret < 0)
		goto out;
	tcwi_b64_encode_to(buf, total, out);
	*iv_reused |= w.iv_reused;
out:
	free(buf);
	return ret < 0 && ret != TCW_ERR_NOMEM ? TCW_ERR_INTERNAL : ret;
}

/* Wipes and frees what it owns (see internal.h). */
void tcwi_item_clear(struct tcwi_item *it)
{
	tcw_free_secret(it->plain, it->plain_size);
	it->plain = NULL;
	it->plain_size = 0;
	tcw_wipe(it->dek, sizeof(it->dek));
	it->has_dek = 0;
	it->dek_rejected = 0;
}

/* Stable insertion sort of v[0..n) by index (see internal.h). */
void tcwi_items_sort(struct tcwi_item **v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct tcwi_item *x = v[i];
		size_t j = i;

		while (j > 0 && v[j - 1]->text.index > x->text.index) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}
