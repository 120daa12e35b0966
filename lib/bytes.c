/* SPDX-License-Identifier: Apache-2.0 */
/* bytes.c - hex, strict base64 and PEM text encodings, wiping and constant-time compare. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "internal.h"
#include "tcw/tcw.h"

/* Input bytes per EVP_EncodeBlock call (multiple of 3) and characters per
 * EVP_DecodeBlock call (multiple of 4): keeps every length well inside int. */
#define B64_ENC_CHUNK (3u * 16384u)
#define B64_DEC_CHUNK (4u * 16384u)
#define PEM_LINE 64u

static const char hex_digits[] = "0123456789abcdef";

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strips an optional "0x"/"0X" prefix; returns 0, or -1 for odd length. */
static int hex_prepare(const char **text, size_t *len)
{
	if (*len >= 2 && (*text)[0] == '0' && ((*text)[1] == 'x' || (*text)[1] == 'X')) {
		*text += 2;
		*len -= 2;
	}
	return (*len % 2) ? -1 : 0;
}

/* Decodes len (even) hex characters into out; -1 on a non-hex character. */
static int hex_decode_into(const char *text, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_nibble(text[2 * i]);
		int lo = hex_nibble(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	return 0;
}

/* Lowercase hex of data; caller frees. NULL on allocation failure. */
char *tcw_hex_encode(const uint8_t *data, size_t size)
{
	char *out;

	if (size > (SIZE_MAX - 1) / 2 || (size && !data))
		return NULL;
	out = malloc(2 * size + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < size; i++) {
		out[2 * i] = hex_digits[data[i] >> 4];
		out[2 * i + 1] = hex_digits[data[i] & 0x0f];
	}
	out[2 * size] = '\0';
	return out;
}

/* Decodes hex text (either case, optional leading "0x"); *out caller frees
 * (a 1-byte allocation for empty input). TCW_ERR_INVALID_PARAM on bad text. */
int tcw_hex_decode(const char *text, size_t len, uint8_t **out, size_t *out_size)
{
	uint8_t *buf;

	if (!out || !out_size)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	*out_size = 0;
	if ((!text && len) || hex_prepare(&text, &len) < 0)
		return TCW_ERR_INVALID_PARAM;
	buf = malloc(len ? len / 2 : 1);
	if (!buf)
		return TCW_ERR_NOMEM;
	if (hex_decode_into(text, len, buf) < 0) {
		tcw_free_secret(buf, len / 2);
		return TCW_ERR_INVALID_PARAM;
	}
	*out = buf;
	*out_size = len / 2;
	return TCW_OK;
}

/* Decodes hex text into exactly out_size bytes; TCW_ERR_INVALID_PARAM on bad
 * text or any other length (out is wiped then). */
int tcw_hex_decode_exact(const char *text, size_t len, uint8_t *out, size_t out_size)
{
	if ((!text && len) || (!out && out_size) || hex_prepare(&text, &len) < 0 ||
	    len / 2 != out_size)
		return TCW_ERR_INVALID_PARAM;
	if (hex_decode_into(text, len, out) < 0) {
		tcw_wipe(out, out_size);
		return TCW_ERR_INVALID_PARAM;
	}
	return TCW_OK;
}

/* Standard base64 with padding, no line breaks; caller frees; *out_len
 * gets the text length (may be NULL). NULL on allocation failure. */
char *tcw_b64_encode(const uint8_t *data, size_t size, size_t *out_len)
{
	size_t groups = size / 3 + (size % 3 != 0);
	size_t pos = 0;
	char *out;

	if (groups > (SIZE_MAX - 1) / 4 || (size && !data))
		return NULL;
	out = malloc(4 * groups + 1);
	if (!out)
		return NULL;
	for (size_t off = 0; off < size; off += B64_ENC_CHUNK) {
		size_t n = size - off < B64_ENC_CHUNK ? size - off : B64_ENC_CHUNK;

		pos += (size_t)EVP_EncodeBlock((unsigned char *)out + pos, data + off, (int)n);
	}
	out[pos] = '\0';
	if (out_len)
		*out_len = pos;
	return out;
}

static int b64_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Number of '=' pad characters of well-formed base64 text, or -1. */
static int b64_check(const char *text, size_t len)
{
	int pad = 0;

	if (len % 4)
		return -1;
	if (len >= 1 && text[len - 1] == '=')
		pad = (len >= 2 && text[len - 2] == '=') ? 2 : 1;
	for (size_t i = 0; i < len - (size_t)pad; i++)
		if (!b64_char_ok(text[i]))
			return -1;
	return pad;
}

/* Strict base64 decode (alphabet +/, mandatory padding, no whitespace);
 * *out caller frees (1 byte allocated for empty input). */
int tcw_b64_decode(const char *text, size_t len, uint8_t **out, size_t *out_size)
{
	size_t pos = 0;
	uint8_t *buf;
	int pad;

	if (!out || !out_size)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	*out_size = 0;
	if ((!text && len) || (pad = b64_check(text, len)) < 0)
		return TCW_ERR_INVALID_PARAM;
	buf = malloc(len ? len / 4 * 3 : 1);
	if (!buf)
		return TCW_ERR_NOMEM;
	for (size_t off = 0; off < len; off += B64_DEC_CHUNK) {
		size_t n = len - off < B64_DEC_CHUNK ? len - off : B64_DEC_CHUNK;
		int got = EVP_DecodeBlock(buf + pos, (const unsigned char *)text + off, (int)n);

		if (got < 0 || (size_t)got != n / 4 * 3) {
			tcw_free_secret(buf, len / 4 * 3);
			return TCW_ERR_INVALID_PARAM;
		}
		pos += (size_t)got;
	}
	*out = buf;
	*out_size = pos - (size_t)pad;
	return TCW_OK;
}

/* PEM text of der with 64-column base64 lines; caller frees (see internal.h). */
char *tcwi_pem_encode(const char *label, const uint8_t *der, size_t size, int trailing_newline)
{
	size_t b64_len = 0, label_len = strlen(label), pos = 0, cap;
	char *b64 = tcw_b64_encode(der, size, &b64_len);
	char *out = NULL;

	if (!b64)
		return NULL;
	/* two armour lines of 16 + label chars, a newline per body line, NUL */
	cap = 2 * (label_len + 17) + b64_len + b64_len / PEM_LINE + 2;
	out = malloc(cap);
	if (!out)
		goto out;
	memcpy(out + pos, "-----BEGIN ", 11);
	memcpy(out + pos + 11, label, label_len);
	memcpy(out + pos + 11 + label_len, "-----\n", 6);
	pos += 17 + label_len;
	for (size_t off = 0; off < b64_len; off += PEM_LINE) {
		size_t n = b64_len - off < PEM_LINE ? b64_len - off : PEM_LINE;

		memcpy(out + pos, b64 + off, n);
		pos += n;
		out[pos++] = '\n';
	}
	memcpy(out + pos, "-----END ", 9);
	memcpy(out + pos + 9, label, label_len);
	memcpy(out + pos + 9 + label_len, "-----", 5);
	pos += 14 + label_len;
	if (trailing_newline)
		out[pos++] = '\n';
	out[pos] = '\0';
out:
	free(b64);
	return out;
}

/* Wipes size bytes at p so the compiler cannot elide it. */
void tcw_wipe(void *p, size_t size)
{
	if (p && size)
		OPENSSL_cleanse(p, size);
}

/* Wipes then frees a heap buffer of size bytes (p may be NULL). */
void tcw_free_secret(void *p, size_t size)
{
	if (!p)
		return;
	tcw_wipe(p, size);
	free(p);
}

/* Constant-time comparison; 1 when equal, 0 otherwise. */
int tcw_ct_equal(const void *a, const void *b, size_t size)
{
	if (!size)
		return 1;
	return CRYPTO_memcmp(a, b, size) == 0;
}
