/* SPDX-License-Identifier: Apache-2.0 */
/* signup.c - building (worker) and checking (client) the signup reply of protocol.md §3. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tcw/tcw.h"

/* Adds key: string s (NULL → "") to obj; -1 on allocation failure. */
static int add_str(json_object *obj, const char *key, const char *s)
{
	json_object *v = json_object_new_string(s ? s : "");

	if (!v || json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* Lowercase hex of the DER signature over H(utf8(encryption PEM)); caller frees. */
static char *encryption_key_signature(const struct tcw_keys *keys)
{
	const char *pem = tcw_keys_encryption_pem(keys);
	uint8_t digest[TCW_SHA256_SIZE], der[TCW_ECDSA_DER_MAX];
	size_t der_size = 0;

	if (!pem || tcw_sha256(pem, strlen(pem), digest) < 0 ||
	    tcw_keys_sign(keys, digest, der, &der_size) < 0)
		return NULL;
	return tcw_hex_encode(der, der_size);
}

/* The signup reply JSON (protocol.md §3) for keys; mrenclave/quote may be
 * NULL (→ ""). Caller frees. NULL on allocation failure. */
char *tcw_signup_build(const struct tcw_keys *keys, const char *mrenclave, const char *quote)
{
	json_object *obj = NULL;
	char *sig = NULL, *text = NULL;
	const char *s;

	if (!keys)
		return NULL;
	sig = encryption_key_signature(keys);
	obj = json_object_new_object();
	if (!sig || !obj || add_str(obj, "sealed_data", "") < 0 ||
	    add_str(obj, "verifying_key", tcw_keys_verifying_pem(keys)) < 0 ||
	    add_str(obj, "encryption_key", tcw_keys_encryption_pem(keys)) < 0 ||
	    add_str(obj, "encryption_key_signature", sig) < 0 ||
	    add_str(obj, "mrenclave", mrenclave) < 0 || add_str(obj, "quote", quote) < 0)
		goto out;
	s = json_object_to_json_string_ext(obj,
	                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		text = strdup(s);
out:
	json_object_put(obj);
	free(sig);
	return text;
}

/* Copies string member key of obj into *dst. Absent or null members give ""
 * unless required; strings with an embedded NUL are refused. Returns 0, TCW_ERR_INVALID_PARAM or
 * TCW_ERR_NOMEM. */
static int take_str(json_object *obj, const char *key, int required, char **dst,
                    struct tcw_error *e)
{
	json_object *v = NULL;
	int present = json_object_object_get_ex(obj, key, &v);

	if ((present && v && !json_object_is_type(v, json_type_string)) ||
	    (required && (!present || !v)) ||
	    (v && strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "%s", key);
	*dst = strdup(v ? json_object_get_string(v) : "");
	return *dst ? TCW_OK : tcw_error_set(e, TCW_ERR_NOMEM, "%s", key);
}

/* 1 when s[0..n) is only JSON whitespace. */
static int only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* The parsed JSON object in json[0..len), or NULL if it is not one. */
static json_object *parse_object(const char *json, size_t len)
{
	json_tokener *tok;
	json_object *obj = NULL;
	size_t end;

	if (!json || len > INT_MAX)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	obj = json_tokener_parse_ex(tok, json, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (json_tokener_get_error(tok) != json_tokener_success || !obj ||
	    !json_object_is_type(obj, json_type_object) || !only_space(json + end, len - end)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* Checks encryption_key_signature of the parsed fields of s. */
static int signup_verify(const struct tcw_signup *s, struct tcw_error *e)
{
	uint8_t digest[TCW_SHA256_SIZE], *der = NULL;
	size_t der_size = 0;
	int ret;

	ret = tcw_hex_decode(s->encryption_key_signature, strlen(s->encryption_key_signature), &der,
	                     &der_size);
	if (ret < 0 || der_size == 0 || der_size > TCW_ECDSA_DER_MAX) {
		ret = ret == TCW_ERR_NOMEM ? ret : TCW_ERR_INVALID_PARAM;
		tcw_error_set(e, ret, "encryption_key_signature");
		goto out;
	}
	ret = tcw_sha256(s->encryption_key, strlen(s->encryption_key), digest);
	if (ret < 0)
		goto out;
	ret = tcw_ecdsa_verify_pem(s->verifying_key, digest, der, der_size);
	if (ret == TCW_ERR_CRYPTO)
		ret = tcw_error_set(e, TCW_ERR_INVALID_PARAM, "verifying_key");
	else if (ret == TCW_ERR_VERIFY)
		tcw_error_set(e, ret, "encryption_key_signature");
	else if (ret == TCW_OK && tcw_rsa_pem_bits(s->encryption_key) == 0)
		ret = tcw_error_set(e, TCW_ERR_INVALID_PARAM, "encryption_key");
out:
	free(der);
	return ret;
}

/* Parses a signup reply and verifies encryption_key_signature with
 * verifying_key. TCW_ERR_INVALID_PARAM (field in e) or TCW_ERR_VERIFY; on
 * any error *out is left zeroed. Strings in *out are released by
 * tcw_signup_fini. */
int tcw_signup_parse(const char *json, size_t len, struct tcw_signup *out, struct tcw_error *e)
{
	json_object *obj;
	int ret;

	if (!out)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, NULL);
	memset(out, 0, sizeof(*out));
	tcw_error_set(e, TCW_OK, NULL);
	obj = parse_object(json, len);
	if (!obj)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, NULL);
	if ((ret = take_str(obj, "verifying_key", 1, &out->verifying_key, e)) < 0 ||
	    (ret = take_str(obj, "encryption_key", 1, &out->encryption_key, e)) < 0 ||
	    (ret = take_str(obj, "encryption_key_signature", 1, &out->encryption_key_signature,
	                    e)) < 0 ||
	    (ret = take_str(obj, "mrenclave", 0, &out->mrenclave, e)) < 0 ||
	    (ret = take_str(obj, "quote", 0, &out->quote, e)) < 0 ||
	    (ret = take_str(obj, "sealed_data", 0, &out->sealed_data, e)) < 0)
		goto out;
	ret = signup_verify(out, e);
out:
	json_object_put(obj);
	if (ret < 0)
		tcw_signup_fini(out);
	return ret;
}

/* Frees the strings of a parsed signup and zeroes it (NULL-safe). */
void tcw_signup_fini(struct tcw_signup *s)
{
	if (!s)
		return;
	free(s->verifying_key);
	free(s->encryption_key);
	free(s->encryption_key_signature);
	free(s->mrenclave);
	free(s->quote);
	free(s->sealed_data);
	memset(s, 0, sizeof(*s));
}
