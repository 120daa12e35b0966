/* SPDX-License-Identifier: Apache-2.0 */
/* bytes.c - hex, strict base64 and PEM text encodings, wiping and constant-time compare. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "internal.h"
#include "tcw/tcw.h"

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

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of each base64 character, 0xff for every other byte. */
static const uint8_t b64_value[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3e, 0xff, 0xff, 0xff, 0x3f,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
	0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* Two base64 characters for every 12-bit value, built once. */
static uint16_t b64_pairs[4096];
static pthread_once_t b64_pairs_once = PTHREAD_ONCE_INIT;

static void b64_pairs_build(void)
{
	for (unsigned i = 0; i < 4096; i++) {
		const char two[2] = {b64_alphabet[i >> 6], b64_alphabet[i & 0x3f]};

		memcpy(&b64_pairs[i], two, sizeof(two));
	}
}

/* Appends the 4 characters of the 24-bit group v at out. */
static void b64_put_group(uint32_t v, char *out)
{
	memcpy(out, &b64_pairs[v >> 12], 2);
	memcpy(out + 2, &b64_pairs[v & 0xfff], 2);
}

/* Encodes the complete 3-byte groups of data[0..size) into out; returns
 * the characters written (4 per group). Six bytes at a time through the
 * pair table while an 8-byte load stays inside data. */
static size_t b64_encode_groups(const uint8_t *data, size_t size, char *out)
{
	size_t i = 0, o = 0;

	pthread_once(&b64_pairs_once, b64_pairs_build);
	for (; i + 8 <= size; i += 6, o += 8) {
		uint64_t w = (uint64_t)data[i] << 56 | (uint64_t)data[i + 1] << 48 |
		             (uint64_t)data[i + 2] << 40 | (uint64_t)data[i + 3] << 32 |
		             (uint64_t)data[i + 4] << 24 | (uint64_t)data[i + 5] << 16;

		b64_put_group((uint32_t)(w >> 40), out + o);
		b64_put_group((uint32_t)(w >> 16) & 0xffffff, out + o + 4);
	}
	for (; i + 3 <= size; i += 3, o += 4)
		b64_put_group((uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2],
		              out + o);
	return o;
}

/* Characters of the base64 text of size bytes (see internal.h). */
size_t tcwi_b64_len(size_t size)
{
	size_t groups = size / 3 + (size % 3 != 0);

	return groups > SIZE_MAX / 4 ? SIZE_MAX : 4 * groups;
}

/* Writes the base64 text of data[0..size) at out (see internal.h). */
size_t tcwi_b64_encode_to(const uint8_t *data, size_t size, char *out)
{
	size_t pos = b64_encode_groups(data, size, out), rest = size % 3;

	if (rest) {
		uint32_t v = (uint32_t)data[size - rest] << 16;

		if (rest == 2)
			v |= (uint32_t)data[size - 1] << 8;
		out[pos] = b64_alphabet[v >> 18];
		out[pos + 1] = b64_alphabet[(v >> 12) & 0x3f];
		out[pos + 2] = rest == 2 ? b64_alphabet[(v >> 6) & 0x3f] : '=';
		out[pos + 3] = '=';
		pos += 4;
	}
	return pos;
}

/* Standard base64 with padding, no line breaks; caller frees; *out_len
 * gets the text length (may be NULL). NULL on allocation failure. */
char *tcw_b64_encode(const uint8_t *data, size_t size, size_t *out_len)
{
	size_t groups = size / 3 + (size % 3 != 0);
	size_t pos;
	char *out;

	if (groups > (SIZE_MAX - 1) / 4 || (size && !data))
		return NULL;
	out = malloc(4 * groups + 1);
	if (!out)
		return NULL;
	pos = tcwi_b64_encode_to(data, size, out);
	out[pos] = '\0';
	if (out_len)
		*out_len = pos;
	return out;
}

/*
 * Decodes the len / 4 complete groups of text (len a multiple of 4, no
 * padding) into out (3 bytes per group) in one pass through the value
 * table; -1 at the first character outside the alphabet.
 */
static int b64_decode_groups(const char *text, size_t len, uint8_t *out)
{
	const uint8_t *t = (const uint8_t *)text;
	size_t i, o = 0;

	for (i = 0; i < len; i += 4) {
		uint32_t a = b64_value[t[i]], b = b64_value[t[i + 1]];
		uint32_t c = b64_value[t[i + 2]], d = b64_value[t[i + 3]];
		uint32_t v = a << 18 | b << 12 | c << 6 | d;

		if ((a | b | c | d) & 0x80)
			return -1;
		out[o] = (uint8_t)(v >> 16);
		out[o + 1] = (uint8_t)(v >> 8);
		out[o + 2] = (uint8_t)v;
		o += 3;
	}
	return 0;
}

/* Decodes the last group (4 characters, "xx==", "xxx=" or "xxxx") into out;
 * returns the bytes written, or -1. Like Python's decoder, non-zero bits
 * under the padding are ignored. */
static int b64_decode_last(const char *text, uint8_t *out)
{
	const uint8_t *t = (const uint8_t *)text;
	uint32_t a = b64_value[t[0]], b = b64_value[t[1]], c, d, v;
	int pad = t[3] != '=' ? 0 : t[2] == '=' ? 2 : 1;

	c = pad == 2 ? 0 : b64_value[t[2]];
	d = pad >= 1 ? 0 : b64_value[t[3]];
	if ((a | b | c | d) & 0x80)
		return -1;
	v = a << 18 | b << 12 | c << 6 | d;
	out[0] = (uint8_t)(v >> 16);
	if (pad < 2)
		out[1] = (uint8_t)(v >> 8);
	if (pad == 0)
		out[2] = (uint8_t)v;
	return 3 - pad;
}

/* Strict base64 decode (alphabet +/, mandatory padding, no whitespace);
 * *out caller frees (1 byte allocated for empty input). One table-driven
 * pass validates and decodes. */
int tcw_b64_decode(const char *text, size_t len, uint8_t **out, size_t *out_size)
{
	uint8_t *buf;
	int last = 0;

	if (!out || !out_size)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	*out_size = 0;
	if ((!text && len) || len % 4)
		return TCW_ERR_INVALID_PARAM;
	buf = malloc(len ? len / 4 * 3 : 1);
	if (!buf)
		return TCW_ERR_NOMEM;
	if (len && (b64_decode_groups(text, len - 4, buf) < 0 ||
	            (last = b64_decode_last(text + len - 4, buf + (len - 4) / 4 * 3)) < 0)) {
		tcw_free_secret(buf, len / 4 * 3);
		return TCW_ERR_INVALID_PARAM;
	}
	*out = buf;
	*out_size = len ? (len - 4) / 4 * 3 + (size_t)last : 0;
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

/* Wipes size bytes at p so the compiler cannot elide it: glibc's
 * explicit_bzero, a memset the compiler may not drop (12 us per MiB here
 * against 33 us for OPENSSL_cleanse; a 1 MiB order wipes 2 MiB). */
void tcw_wipe(void *p, size_t size)
{
	if (p && size)
		explicit_bzero(p, size);
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
