/* SPDX-License-Identifier: Apache-2.0 */
/* json.c - the JSON helpers of libtcw: UTF-8 checks, strict parsing (simdjson for large
 * texts, json-c for the rest), compact serialisation, member access. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tcw/tcw.h"
#include "tcw/utf8.h"

/* Length of the run of ASCII bytes at the start of s[0..len). */
static size_t ascii_prefix(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (len - i >= 8) {
		uint64_t w;

		memcpy(&w, s + i, sizeof(w));
		if (w & UINT64_C(0x8080808080808080))
			break;
		i += 8;
	}
	while (i < len && s[i] < 0x80)
		i++;
	return i;
}

/* 1 when s[0..len) is well-formed UTF-8 (see internal.h), else 0. */
int tcwi_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	if (!s)
		return len == 0;
	while ((i += ascii_prefix(s + i, len - i)) < len) {
		uint32_t cp;
		size_t n = tcw_utf8_char(s + i, len - i, &cp);

		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* tcwi_json_parse; with params_text set, a large envelope's "params"
 * string may come back already parsed, its text in *params_text (see
 * tcwi_json_parse_fast). */
static int json_parse(const char *text, size_t len, json_object **out, const char **params_text,
                      size_t *params_len)
{
	struct json_tokener *tok = NULL;
	json_object *o = NULL;
	int ret = TCW_ERR_INVALID_REQUEST;
	size_t end;

	if (!out)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	if (params_text) {
		*params_text = NULL;
		*params_len = 0;
	}
	if ((!text && len) || len > INT_MAX - 1)
		return TCW_ERR_INVALID_REQUEST;
#ifdef TCW_HAVE_SIMDJSON
	/* large texts: simdjson, which also rejects invalid UTF-8 and any raw
	 * NUL; json-c decides whatever it does not take */
	if (len >= TCWI_JSON_FAST_MIN) {
		ret = tcwi_json_parse_fast(text, len, TCWI_MAX_JSON_DEPTH, params_text != NULL, out,
		                           params_text, params_len);
		if (ret != TCW_ERR_INVALID_REQUEST)
			return ret;
	}
#endif
	if ((len && memchr(text, '\0', len)) || !tcwi_utf8_valid((const uint8_t *)text, len))
		return TCW_ERR_INVALID_REQUEST;
	tok = json_tokener_new_ex(TCWI_MAX_JSON_DEPTH);
	if (!tok)
		return TCW_ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, len ? text : "", (int)len);
	end = json_tokener_get_parse_end(tok);
	/* a bare number or literal at the end of the text needs a terminator */
	if (!o && json_tokener_get_error(tok) == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, "", 1);
		end = len;
	}
	if (json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	/* strict mode already refuses trailing text; make it explicit */
	for (size_t i = end; i < len; i++)
		if (!strchr(" \t\r\n", text[i]))
			goto out;
	*out = o;
	o = NULL;
	ret = TCW_OK;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

/* Parses one complete JSON text strictly (see internal.h); *out caller puts. */
int tcwi_json_parse(const char *text, size_t len, json_object **out)
{
	return json_parse(text, len, out, NULL, NULL);
}

/* Parses a JSON-RPC envelope; see internal.h. */
int tcwi_json_parse_envelope(const char *text, size_t len, json_object **out,
                             const char **params_text, size_t *params_len)
{
	return json_parse(text, len, out, params_text, params_len);
}

/* Ends the life of an envelope's params text; see internal.h. */
void tcwi_json_envelope_done(const char *params_text)
{
#ifdef TCW_HAVE_SIMDJSON
	if (params_text)
		tcwi_json_fast_release();
#else
	(void)params_text;
#endif
}

/* Serialises o compactly into *out (caller frees), see internal.h. */
int tcwi_json_dump(json_object *o, char **out, size_t *size)
{
	const char *s;
	size_t len = 0;

	*out = NULL;
	s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!s)
		return TCW_ERR_NOMEM;
	*out = malloc(len + 1);
	if (!*out)
		return TCW_ERR_NOMEM;
	memcpy(*out, s, len + 1);
	if (size)
		*size = len;
	return TCW_OK;
}

/* Adds val as member key of obj, taking ownership (see internal.h). */
int tcwi_json_add(json_object *obj, const char *key, json_object *val)
{
	if (!val)
		return TCW_ERR_NOMEM;
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return TCW_ERR_NOMEM;
	}
	return TCW_OK;
}

/* Looks up string member key of obj (see internal.h for the results). */
int tcwi_json_str(json_object *obj, const char *key, size_t max, const char **s, size_t *len)
{
	json_object *v = NULL;
	size_t n;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 1;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	n = (size_t)json_object_get_string_len(v);
	*s = json_object_get_string(v);
	if (n > max || strlen(*s) != n)
		return -1;
	*len = n;
	return 0;
}
