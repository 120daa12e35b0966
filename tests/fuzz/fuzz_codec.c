/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_codec.c - libFuzzer target (c): hex and base64 decoding against
 * independent reference decoders, encode/decode round trips, the UTF-8
 * validator against the RFC 3629 table, the constant-time comparison, and
 * (with simdjson) the fast JSON parser against the json-c tree it must equal.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "internal.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a hex digit, or -1. */
static int ref_nibble(char c)
{
	const char *digits = "0123456789abcdef0123456789ABCDEF", *p;

	if (!c || !(p = strchr(digits, c)))
		return -1;
	return (int)((p - digits) % 16);
}

/* Reference hex decoder: optional 0x, even length; *n bytes into out. */
static int ref_hex(const char *t, size_t len, uint8_t *out, size_t *n)
{
	if (len >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
		t += 2, len -= 2;
	if (len % 2)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = ref_nibble(t[i]), lo = ref_nibble(t[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi * 16 + lo);
	}
	*n = len / 2;
	return 0;
}

/* Hex: acceptance and bytes agree with the reference; canonical round trip. */
static void check_hex(const char *t, size_t len)
{
	uint8_t *ref = malloc(len / 2 + 1), *out = NULL, *exact = malloc(len / 2 + 2);
	size_t ref_n = 0, n = 0;
	int ref_ok = ref_hex(t, len, ref, &ref_n) == 0;
	int ok = tcw_hex_decode(t, len, &out, &n) == TCW_OK;
	char *enc;

	if (ok != ref_ok || (ok && (n != ref_n || memcmp(out, ref, n) != 0)))
		fz_fail("tcw_hex_decode disagrees with the reference (ok %d, ref %d)", ok, ref_ok);
	if (tcwi_hex_valid(t, len) != (ref_ok && ref_n > 0))
		fz_fail("tcwi_hex_valid disagrees with the reference");
	if (ok) {
		if (tcw_hex_decode_exact(t, len, exact, n) != TCW_OK ||
		    memcmp(exact, out, n) != 0 ||
		    tcw_hex_decode_exact(t, len, exact, n + 1) != TCW_ERR_INVALID_PARAM ||
		    (n && tcw_hex_decode_exact(t, len, exact, n - 1) != TCW_ERR_INVALID_PARAM))
			fz_fail("tcw_hex_decode_exact disagrees with tcw_hex_decode");
		enc = tcw_hex_encode(out, n);
		if (!enc || strlen(enc) != 2 * n)
			fz_fail("tcw_hex_encode length");
		for (size_t i = 0; i < 2 * n; i++)
			if (ref_nibble(enc[i]) != ref_nibble(t[len - 2 * n + i]) ||
			    (enc[i] >= 'A' && enc[i] <= 'F'))
				fz_fail("hex round trip differs at %zu", i);
		free(enc);
	}
	free(out);
	free(ref);
	free(exact);
}

/* Reference strict base64 decoder (RFC 4648 §4, padding required). Sets
 * *canonical to 0 when the bits below the last full byte are not zero. */
static int ref_b64(const char *t, size_t len, uint8_t *out, size_t *n, int *canonical)
{
	size_t pad = 0, o = 0;

	*canonical = 1;
	if (len % 4)
		return -1;
	if (len && t[len - 1] == '=')
		pad = len >= 2 && t[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;

		for (size_t k = 0; k < 4; k++) {
			const char *p = t[i + k] ? strchr(b64_alphabet, t[i + k]) : NULL;

			if (i + k >= len - pad)
				p = b64_alphabet; /* a pad position counts as zero bits */
			else if (!p)
				return -1;
			v = v << 6 | (uint32_t)(p - b64_alphabet);
		}
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
		if (i + 4 == len && pad)
			*canonical = (v & (pad == 2 ? 0xffffu : 0xffu)) == 0;
	}
	*n = o - pad;
	return 0;
}

/* Base64: acceptance and bytes agree with the reference; re-encoding
 * gives the text back whenever the text is canonical. */
static void check_b64(const char *t, size_t len)
{
	uint8_t *ref = malloc(len / 4 * 3 + 3), *out = NULL;
	size_t ref_n = 0, n = 0, enc_len = 0;
	int canonical = 1, ref_ok = ref_b64(t, len, ref, &ref_n, &canonical) == 0;
	int ok = tcw_b64_decode(t, len, &out, &n) == TCW_OK;
	char *enc;

	if (ok != ref_ok || (ok && (n != ref_n || memcmp(out, ref, n) != 0)))
		fz_fail("tcw_b64_decode disagrees with the reference (ok %d, ref %d)", ok, ref_ok);
	if (ok) {
		enc = tcw_b64_encode(out, n, &enc_len);
		if (!enc || enc_len != len || (canonical && memcmp(enc, t, len) != 0))
			fz_fail("base64 round trip differs");
		free(enc);
	}
	free(out);
	free(ref);
}

/* encode → decode gives the bytes back, for hex and base64. */
static void check_round_trip(const uint8_t *data, size_t size)
{
	size_t len = 0, n = 0;
	char *hex = tcw_hex_encode(data, size), *b64 = tcw_b64_encode(data, size, &len);
	uint8_t *back = NULL;

	if (!hex || !b64 || len != (size + 2) / 3 * 4)
		fz_fail("encoders failed");
	if (tcw_hex_decode(hex, strlen(hex), &back, &n) != TCW_OK || n != size ||
	    (size && memcmp(back, data, size) != 0))
		fz_fail("hex encode/decode round trip");
	free(back);
	back = NULL;
	if (tcw_b64_decode(b64, len, &back, &n) != TCW_OK || n != size ||
	    (size && memcmp(back, data, size) != 0))
		fz_fail("base64 encode/decode round trip");
	free(back);
	free(hex);
	free(b64);
}

/* Reference UTF-8 check from the RFC 3629 table of well-formed sequences. */
static int ref_utf8(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		uint8_t lo = 0x80, hi = 0xbf;
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		else
			return 0;
		if (len - i - 1 < n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += n + 1;
	}
	return 1;
}

#ifdef TCW_HAVE_SIMDJSON
/* What json-c alone makes of text, with libtcw's rules (UTF-8, no NUL,
 * depth limit, strict, whitespace only after the value); *ok says whether
 * it accepted. Caller puts the result. */
static json_object *ref_json(const char *text, size_t len, int *ok)
{
	struct json_tokener *tok;
	json_object *o;
	size_t end;

	*ok = 0;
	if ((len && memchr(text, '\0', len)) || !tcwi_utf8_valid((const uint8_t *)text, len) ||
	    !(tok = json_tokener_new_ex(TCWI_MAX_JSON_DEPTH)))
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, len ? text : "", (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!o && json_tokener_get_error(tok) == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, "", 1);
		end = len;
	}
	*ok = json_tokener_get_error(tok) == json_tokener_success;
	for (size_t i = end; *ok && i < len; i++)
		*ok = strchr(" \t\r\n", text[i]) != NULL;
	json_tokener_free(tok);
	if (!*ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Equal trees, or (NaN, number spellings) equal serialisations. */
static int same_json(json_object *a, json_object *b)
{
	if (json_object_equal(a, b))
		return 1;
	return a && b &&
	       strcmp(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
	              json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN)) == 0;
}

/* Whatever tcwi_json_parse_fast accepts, json-c accepts as the same tree;
 * with nest_params, a "params" string it hands back parsed is that string's
 * json-c tree. */
static void check_json(const char *text, size_t len)
{
	for (int nest = 0; nest < 2; nest++) {
		json_object *fast = NULL, *ref, *fp = NULL, *rp = NULL;
		int ok, r = tcwi_json_parse_fast(text, len, TCWI_MAX_JSON_DEPTH, nest, &fast, NULL, NULL);

		if (r != TCW_OK)
			continue;
		ref = ref_json(text, len, &ok);
		if (!ok)
			fz_fail("simdjson accepts a text json-c refuses");
		if (nest && json_object_is_type(fast, json_type_object) &&
		    json_object_object_get_ex(fast, "params", &fp) &&
		    json_object_object_get_ex(ref, "params", &rp) &&
		    json_object_is_type(fp, json_type_object) &&
		    json_object_is_type(rp, json_type_string)) {
			json_object *inner = ref_json(json_object_get_string(rp),
			                              (size_t)json_object_get_string_len(rp), &ok);

			if (!ok || !same_json(fp, inner))
				fz_fail("simdjson's nested params differ from json-c's");
			json_object_put(inner);
			json_object_object_del(fast, "params");
			json_object_object_del(ref, "params");
		}
		if (!same_json(fast, ref))
			fz_fail("simdjson and json-c build different trees");
		json_object_put(fast);
		json_object_put(ref);
	}
}
#endif

/* No set-up needed. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Every codec property on the input bytes (as text and as data). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	size_t half = size / 2;

	if (!text)
		return 0;
	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	check_hex(text, size);
	check_b64(text, size);
	check_round_trip(data, size);
	if (tcwi_utf8_valid(data, size) != ref_utf8(data, size))
		fz_fail("tcwi_utf8_valid disagrees with the RFC 3629 table");
	if (tcw_ct_equal(data, data + half, half) != (memcmp(data, data + half, half) == 0))
		fz_fail("tcw_ct_equal disagrees with memcmp");
#ifdef TCW_HAVE_SIMDJSON
	check_json(text, size);
#endif
	free(text);
	return 0;
}
