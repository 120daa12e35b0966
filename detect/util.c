/* SPDX-License-Identifier: Apache-2.0 */
/* util.c - image sniffing, safe file names, detections JSON and error texts. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "detector.h"
#include "tcw/utf8.h"

/* Formats a diagnostic into err; see detector.h. */
void tcd_set_err(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

/* Fixed text for an error code (static string). */
const char *tcd_strerror(int err)
{
	switch (err) {
	case TCD_OK:
		return "ok";
	case TCD_ERR_INVALID:
		return "invalid configuration or argument";
	case TCD_ERR_NOT_IMAGE:
		return "not a PNG, JPEG, BMP or PNM image";
	case TCD_ERR_TOO_LARGE:
		return "image too large";
	case TCD_ERR_BACKEND:
		return "detection failed";
	case TCD_ERR_NOMEM:
		return "out of memory";
	case TCD_ERR_IO:
		return "file error";
	default:
		return "unknown error";
	}
}

/* The image format announced by the first bytes of data. */
enum tcd_format tcd_sniff(const uint8_t *data, size_t size)
{
	static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

	if (data == NULL)
		return TCD_FMT_NONE;
	if (size >= sizeof(png) && memcmp(data, png, sizeof(png)) == 0)
		return TCD_FMT_PNG;
	if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		return TCD_FMT_JPEG;
	if (size >= 26 && data[0] == 'B' && data[1] == 'M')
		return TCD_FMT_BMP;
	if (size >= 3 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6' &&
	    (data[2] == ' ' || data[2] == '\n' || data[2] == '\r' || data[2] == '\t'))
		return TCD_FMT_PNM;
	return TCD_FMT_NONE;
}

/* Big-endian 16-bit value at p. */
static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Width and height from a JPEG's first SOFn segment. */
static int jpeg_size(const uint8_t *d, size_t size, uint64_t *w, uint64_t *h)
{
	size_t i = 2, len;
	uint8_t m;

	while (i + 4 <= size) {
		if (d[i] != 0xff)
			return TCD_ERR_NOT_IMAGE;
		while (i < size && d[i] == 0xff)
			i++;
		if (i >= size)
			break;
		m = d[i++];
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd8))
			continue; /* markers without a length */
		if (m == 0xd9 || m == 0xda || i + 2 > size)
			break; /* end of image / start of scan before any frame */
		len = be16(d + i);
		if (len < 2)
			break;
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			if (len < 7 || i + 7 > size)
				break;
			*h = be16(d + i + 3);
			*w = be16(d + i + 5);
			return TCD_OK;
		}
		i += len;
	}
	return TCD_ERR_NOT_IMAGE;
}

/* Next decimal number of a PNM header (after whitespace and comments). */
static int pnm_number(const uint8_t *d, size_t size, size_t *i, uint64_t *out)
{
	uint64_t v = 0;
	size_t start;

	for (;;) {
		while (*i < size &&
		       (d[*i] == ' ' || d[*i] == '\t' || d[*i] == '\r' || d[*i] == '\n'))
			(*i)++;
		if (*i < size && d[*i] == '#') {
			while (*i < size && d[*i] != '\n')
				(*i)++;
			continue;
		}
		break;
	}
	start = *i;
	while (*i < size && d[*i] >= '0' && d[*i] <= '9' && *i - start < 9)
		v = v * 10 + (uint64_t)(d[(*i)++] - '0');
	if (*i == start)
		return TCD_ERR_NOT_IMAGE;
	*out = v;
	return TCD_OK;
}

/* Width and height announced by an image header, before any decoding. */
int tcd_image_size(const uint8_t *data, size_t size, uint64_t *width, uint64_t *height)
{
	uint64_t w = 0, h = 0;
	size_t i = 2;
	int rc = TCD_ERR_NOT_IMAGE;

	switch (tcd_sniff(data, size)) {
	case TCD_FMT_PNG:
		if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
			w = (uint64_t)be16(data + 16) << 16 | be16(data + 18);
			h = (uint64_t)be16(data + 20) << 16 | be16(data + 22);
			rc = TCD_OK;
		}
		break;
	case TCD_FMT_JPEG:
		rc = jpeg_size(data, size, &w, &h);
		break;
	case TCD_FMT_BMP:
		if (data[14] == 12 && data[15] == 0 && data[16] == 0 && data[17] == 0) {
			w = (uint64_t)data[19] << 8 | data[18];
			h = (uint64_t)data[21] << 8 | data[20];
		} else {
			int32_t sw = (int32_t)((uint32_t)data[18] | (uint32_t)data[19] << 8 |
			                       (uint32_t)data[20] << 16 | (uint32_t)data[21] << 24);
			int32_t sh = (int32_t)((uint32_t)data[22] | (uint32_t)data[23] << 8 |
			                       (uint32_t)data[24] << 16 | (uint32_t)data[25] << 24);
			w = sw < 0 ? 0 : (uint64_t)sw;
			h = sh == INT32_MIN ? 0 : sh < 0 ? (uint64_t) - (int64_t)sh : (uint64_t)sh;
		}
		rc = TCD_OK;
		break;
	case TCD_FMT_PNM:
		if (pnm_number(data, size, &i, &w) == TCD_OK &&
		    pnm_number(data, size, &i, &h) == TCD_OK)
			rc = TCD_OK;
		break;
	default:
		break;
	}
	if (rc != TCD_OK || w == 0 || h == 0)
		return TCD_ERR_NOT_IMAGE;
	*width = w;
	*height = h;
	return TCD_OK;
}

/* Length of the well-formed UTF-8 sequence at p (n bytes left) encoding a
 * code point >= U+00A0, 0 for anything else. */
static size_t utf8_printable(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len = tcw_utf8_char(p, n, &cp);

	return len && cp >= 0xa0 ? len : 0;
}

/* 1 when name is a plain file name; see detector.h. */
int tcd_name_ok(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t i = 0, n;

	if (name == NULL || len == 0 || len > 255 || p[0] == '.')
		return 0;
	while (i < len) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			if (p[i] == '/' || p[i] == '\\')
				return 0;
			i++;
			continue;
		}
		n = utf8_printable(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* Writes "<stem>.<ext>" into out; see detector.h. */
int tcd_output_name(const char *name, const char *ext, char *out, size_t outsize)
{
	const char *dot = strrchr(name, '.');
	size_t stem = dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
	int n = snprintf(out, outsize, "%.*s.%s", (int)stem, name, ext);

	return n < 0 || (size_t)n >= outsize ? TCD_ERR_INVALID : TCD_OK;
}

/* A JSON number for a confidence: 4 decimals, trailing zeros dropped. */
static json_object *new_confidence(double v)
{
	char text[32];
	size_t n;

	if (!(v >= 0.0))
		v = 0.0;
	if (v > 1.0)
		v = 1.0;
	snprintf(text, sizeof(text), "%.4f", v);
	n = strlen(text);
	while (n > 3 && text[n - 1] == '0' && text[n - 2] != '.')
		text[--n] = '\0';
	return json_object_new_double_s(v, text);
}

/* Adds one box object to arr; 0 or -1. */
static int add_box(json_object *arr, const struct tcd_box *b)
{
	json_object *o = json_object_new_object();
	int rc = 0;

	if (o == NULL)
		return -1;
	rc |= json_object_object_add(o, "label", json_object_new_string(b->label));
	rc |= json_object_object_add(o, "confidence", new_confidence(b->confidence));
	rc |= json_object_object_add(o, "x", json_object_new_int(b->x));
	rc |= json_object_object_add(o, "y", json_object_new_int(b->y));
	rc |= json_object_object_add(o, "width", json_object_new_int(b->width));
	rc |= json_object_object_add(o, "height", json_object_new_int(b->height));
	if (rc != 0 || json_object_array_add(arr, o) != 0) {
		json_object_put(o);
		return -1;
	}
	return 0;
}

/* The detections as a JSON array; caller frees. */
char *tcd_boxes_json(const struct tcd_box *boxes, size_t count)
{
	json_object *arr = json_object_new_array();
	char *text = NULL;
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < count; i++) {
		if (add_box(arr, &boxes[i]) != 0)
			goto out;
	}
	text = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(arr);
	return text;
}
