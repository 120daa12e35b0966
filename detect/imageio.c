/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imageio.c - decodes PNG (libpng), JPEG (libjpeg-turbo), BMP and binary PNM
 * pictures into 8-bit BGR pixels, and encodes BGR pixels as PNG or BMP,
 * without OpenCV's imgcodecs (which pulls in ~140 libraries). The PNG and
 * JPEG transformations are the ones OpenCV's decoders apply for a colour
 * image, so detections are the same. Pixel buffers are wiped when freed.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "detector.h"
#include "imageio.h"

/* Allocates a w x h BGR picture (zeroed). */
static int image_alloc(struct tcd_image *img, uint64_t w, uint64_t h, char *err, size_t errsize)
{
	memset(img, 0, sizeof(*img));
	if (w == 0 || h == 0 || w > 65535 || h > 65535) {
		tcd_set_err(err, errsize, "picture of %llux%llu pixels", (unsigned long long)w,
		            (unsigned long long)h);
		return TCD_ERR_NOT_IMAGE;
	}
	img->stride = (size_t)w * 3;
	img->bgr = calloc((size_t)h, img->stride);
	if (img->bgr == NULL) {
		tcd_set_err(err, errsize, "out of memory");
		return TCD_ERR_NOMEM;
	}
	img->width = (int)w;
	img->height = (int)h;
	return TCD_OK;
}

/* Wipes and frees the pixels of img; see imageio.h. */
void tcd_image_free(struct tcd_image *img)
{
	if (img == NULL)
		return;
	if (img->bgr != NULL)
		memset(img->bgr, 0, img->stride * (size_t)img->height);
	free(img->bgr);
	memset(img, 0, sizeof(*img));
}

/* ---- PNG (libpng) ---------------------------------------------------- */

/* Memory source for libpng. */
struct png_src {
	const uint8_t *data;
	size_t size, pos;
};

static void png_read_mem(png_structp png, png_bytep out, size_t n)
{
	struct png_src *s = png_get_io_ptr(png);

	if (n > s->size - s->pos)
		png_error(png, "truncated");
	memcpy(out, s->data + s->pos, n);
	s->pos += n;
}

/* libpng's warnings are not ours to print. */
static void png_quiet(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void png_fail(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static int decode_png(const uint8_t *data, size_t size, struct tcd_image *img, char *err,
                      size_t errsize)
{
	struct png_src src = {data, size, 0};
	png_structp png;
	png_infop info = NULL;
	png_bytep *volatile rows = NULL;
	volatile int rc = TCD_ERR_NOT_IMAGE;
	int type, depth;

	memset(img, 0, sizeof(*img));
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_quiet);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
		png_destroy_read_struct(&png, NULL, NULL);
		tcd_set_err(err, errsize, "out of memory");
		return TCD_ERR_NOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		tcd_set_err(err, errsize, "the PNG picture does not decode");
		goto out;
	}
	png_set_read_fn(png, &src, png_read_mem);
	png_read_info(png, info);
	type = png_get_color_type(png, info);
	depth = png_get_bit_depth(png, info);
	/* OpenCV's PngDecoder for a 3-channel 8-bit result */
	if (depth > 8)
		png_set_strip_16(png);
	png_set_strip_alpha(png);
	if (type == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if ((type & PNG_COLOR_MASK_COLOR) == 0 && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (type & PNG_COLOR_MASK_COLOR)
		png_set_bgr(png);
	else
		png_set_gray_to_rgb(png);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	if (png_get_rowbytes(png, info) != (size_t)png_get_image_width(png, info) * 3) {
		tcd_set_err(err, errsize, "unexpected PNG pixel layout");
		goto out;
	}
	rc = image_alloc(img, png_get_image_width(png, info), png_get_image_height(png, info), err,
	                 errsize);
	if (rc != TCD_OK)
		goto out;
	rc = TCD_ERR_NOT_IMAGE;
	rows = malloc((size_t)img->height * sizeof(*rows));
	if (rows == NULL) {
		rc = TCD_ERR_NOMEM;
		tcd_set_err(err, errsize, "out of memory");
		goto out;
	}
	for (int y = 0; y < img->height; y++)
		rows[y] = img->bgr + (size_t)y * img->stride;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	rc = TCD_OK;
out:
	free(rows);
	png_destroy_read_struct(&png, &info, NULL);
	if (rc != TCD_OK)
		tcd_image_free(img);
	return rc;
}

/* ---- JPEG (libjpeg-turbo) ------------------------------------------------ */

struct jpeg_fail {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
};

static void jpeg_fail_exit(j_common_ptr cinfo)
{
	longjmp(((struct jpeg_fail *)cinfo->err)->jump, 1);
}

static void jpeg_quiet(j_common_ptr cinfo, int level)
{
	(void)cinfo;
	(void)level;
}

/* OpenCV's icvCvt_CMYK2BGR_8u_C4C3R on one row (Adobe's inverted CMYK). */
static void cmyk_to_bgr(const uint8_t *in, uint8_t *out, int width)
{
	for (int x = 0; x < width; x++, in += 4, out += 3) {
		int c = in[0], m = in[1], y = in[2], k = in[3];

		out[2] = (uint8_t)(k - ((255 - c) * k >> 8));
		out[1] = (uint8_t)(k - ((255 - m) * k >> 8));
		out[0] = (uint8_t)(k - ((255 - y) * k >> 8));
	}
}

static int decode_jpeg(const uint8_t *data, size_t size, struct tcd_image *img, char *err,
                       size_t errsize)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_fail jerr;
	uint8_t *volatile cmyk = NULL;
	volatile int rc = TCD_ERR_NOT_IMAGE, started = 0;

	memset(img, 0, sizeof(*img));
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = jpeg_fail_exit;
	jerr.pub.emit_message = jpeg_quiet;
	if (setjmp(jerr.jump)) {
		if (rc == TCD_ERR_NOT_IMAGE)
			tcd_set_err(err, errsize, "the JPEG picture does not decode");
		goto out;
	}
	jpeg_create_decompress(&cinfo);
	started = 1;
	jpeg_mem_src(&cinfo, data, (unsigned long)size);
	jpeg_read_header(&cinfo, TRUE);
	/* OpenCV's JpegDecoder for a colour result */
	if (cinfo.num_components == 4) {
		cinfo.out_color_space = JCS_CMYK;
		cinfo.out_color_components = 4;
	} else {
		cinfo.out_color_space = JCS_EXT_BGR;
		cinfo.out_color_components = 3;
	}
	jpeg_start_decompress(&cinfo);
	rc = image_alloc(img, cinfo.output_width, cinfo.output_height, err, errsize);
	if (rc != TCD_OK)
		goto out;
	rc = TCD_ERR_NOT_IMAGE;
	if (cinfo.out_color_space == JCS_CMYK &&
	    (cmyk = malloc((size_t)cinfo.output_width * 4)) == NULL) {
		rc = TCD_ERR_NOMEM;
		tcd_set_err(err, errsize, "out of memory");
		goto out;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		uint8_t *row = img->bgr + (size_t)cinfo.output_scanline * img->stride;
		JSAMPROW target = cmyk != NULL ? cmyk : row;

		if (jpeg_read_scanlines(&cinfo, &target, 1) != 1)
			break;
		if (cmyk != NULL)
			cmyk_to_bgr(cmyk, row, img->width);
	}
	jpeg_finish_decompress(&cinfo);
	rc = TCD_OK;
out:
	if (cmyk != NULL)
		memset(cmyk, 0, (size_t)img->width * 4);
	free(cmyk);
	if (started)
		jpeg_destroy_decompress(&cinfo);
	if (rc != TCD_OK)
		tcd_image_free(img);
	return rc;
}

/* ---- BMP ----------------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The value of mask's bits in v, scaled to 0..255. */
static uint8_t channel(uint32_t v, uint32_t mask)
{
	unsigned shift = 0, bits = 0;

	if (mask == 0)
		return 0;
	while (!(mask >> shift & 1))
		shift++;
	while (shift + bits < 32 && (mask >> (shift + bits) & 1))
		bits++;
	v = (v & mask) >> shift;
	return bits >= 8 ? (uint8_t)(v >> (bits - 8)) : (uint8_t)(v * 255 / ((1u << bits) - 1));
}

/* Uncompressed (BI_RGB) 1, 4, 8, 16, 24 and 32-bit and BI_BITFIELDS 16 and
 * 32-bit pictures, bottom-up or top-down; RLE is refused. */
static int decode_bmp(const uint8_t *d, size_t size, struct tcd_image *img, char *err,
                      size_t errsize)
{
	uint32_t off, hsize, comp, colors, masks[3] = {0x7c00, 0x3e0, 0x1f};
	int32_t w, h;
	unsigned bpp;
	size_t row_bytes, pal_off;
	int rc, top_down;

	if (size < 54 || (hsize = le32(d + 14)) < 40 || 14 + (size_t)hsize > size) {
		tcd_set_err(err, errsize, "BMP header is not a BITMAPINFOHEADER");
		return TCD_ERR_NOT_IMAGE;
	}
	off = le32(d + 10);
	w = (int32_t)le32(d + 18);
	h = (int32_t)le32(d + 22);
	bpp = le16(d + 28);
	comp = le32(d + 30);
	colors = le32(d + 46);
	top_down = h < 0;
	if (w <= 0 || h == 0 || h == INT32_MIN) {
		tcd_set_err(err, errsize, "BMP size %dx%d", w, h);
		return TCD_ERR_NOT_IMAGE;
	}
	if (h < 0)
		h = -h;
	if (comp == 3 && (bpp == 16 || bpp == 32)) { /* BI_BITFIELDS */
		size_t m = hsize >= 52 ? 14 + 40 : 14 + (size_t)hsize;

		if (m + 12 > size) {
			tcd_set_err(err, errsize, "BMP bit masks missing");
			return TCD_ERR_NOT_IMAGE;
		}
		for (int i = 0; i < 3; i++)
			masks[i] = le32(d + m + 4 * (size_t)i);
	} else if (comp != 0 || (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 &&
	                         bpp != 32)) {
		tcd_set_err(err, errsize, "BMP with %u bits per pixel and compression %u is not supported",
		            bpp, comp);
		return TCD_ERR_NOT_IMAGE;
	} else if (bpp == 32) {
		masks[0] = 0xff0000;
		masks[1] = 0xff00;
		masks[2] = 0xff;
	}
	row_bytes = (((size_t)w * bpp + 31) / 32) * 4;
	pal_off = 14 + (size_t)hsize;
	if (bpp <= 8 && (colors == 0 || colors > (1u << bpp)))
		colors = 1u << bpp;
	if (off > size || (size - off) / row_bytes < (size_t)h ||
	    (bpp <= 8 && pal_off + 4 * (size_t)colors > size)) {
		tcd_set_err(err, errsize, "BMP truncated");
		return TCD_ERR_NOT_IMAGE;
	}
	rc = image_alloc(img, (uint64_t)w, (uint64_t)h, err, errsize);
	if (rc != TCD_OK)
		return rc;
	for (int32_t y = 0; y < h; y++) {
		const uint8_t *src = d + off + (size_t)(top_down ? y : h - 1 - y) * row_bytes;
		uint8_t *dst = img->bgr + (size_t)y * img->stride;

		for (int32_t x = 0; x < w; x++, dst += 3) {
			uint32_t v, i;

			switch (bpp) {
			case 24:
				memcpy(dst, src + 3 * (size_t)x, 3);
				break;
			case 16:
			case 32:
				v = bpp == 16 ? le16(src + 2 * (size_t)x) : le32(src + 4 * (size_t)x);
				dst[2] = channel(v, masks[0]);
				dst[1] = channel(v, masks[1]);
				dst[0] = channel(v, masks[2]);
				break;
			default: /* palette */
				i = (uint32_t)(src[(size_t)x * bpp / 8] >> (8 - bpp - (x * bpp) % 8)) &
				    ((1u << bpp) - 1);
				if (i >= colors)
					i = 0;
				memcpy(dst, d + pal_off + 4 * (size_t)i, 3);
				break;
			}
		}
	}
	return TCD_OK;
}

/* ---- PNM (binary P5 and P6, maxval 255) ------------------------------------ */

/* Reads the next header number of a PNM picture at *pos. */
static int pnm_number(const uint8_t *d, size_t size, size_t *pos, uint32_t *out)
{
	uint64_t v = 0;
	size_t p = *pos;

	for (;;) {
		while (p < size && (d[p] == ' ' || d[p] == '\t' || d[p] == '\r' || d[p] == '\n'))
			p++;
		if (p < size && d[p] == '#') {
			while (p < size && d[p] != '\n')
				p++;
			continue;
		}
		break;
	}
	if (p >= size || d[p] < '0' || d[p] > '9')
		return -1;
	while (p < size && d[p] >= '0' && d[p] <= '9' && v < 1000000)
		v = v * 10 + (uint64_t)(d[p++] - '0');
	*pos = p;
	*out = (uint32_t)v;
	return 0;
}

static int decode_pnm(const uint8_t *d, size_t size, struct tcd_image *img, char *err,
                      size_t errsize)
{
	size_t pos = 2, ch;
	uint32_t w, h, maxval;
	int rc;

	if (size < 3 || (d[1] != '5' && d[1] != '6') || pnm_number(d, size, &pos, &w) != 0 ||
	    pnm_number(d, size, &pos, &h) != 0 || pnm_number(d, size, &pos, &maxval) != 0 ||
	    pos >= size) {
		tcd_set_err(err, errsize, "only binary PGM (P5) and PPM (P6) pictures are supported");
		return TCD_ERR_NOT_IMAGE;
	}
	if (maxval != 255) {
		tcd_set_err(err, errsize, "PNM maxval %u is not supported (only 255)", maxval);
		return TCD_ERR_NOT_IMAGE;
	}
	pos++; /* the single white-space character after maxval */
	ch = d[1] == '6' ? 3 : 1;
	if (w == 0 || h == 0 || (size - pos) / ((size_t)w * ch) < h) {
		tcd_set_err(err, errsize, "PNM truncated");
		return TCD_ERR_NOT_IMAGE;
	}
	rc = image_alloc(img, w, h, err, errsize);
	if (rc != TCD_OK)
		return rc;
	for (size_t i = 0; i < (size_t)w * h; i++) {
		const uint8_t *s = d + pos + i * ch;
		uint8_t *t = img->bgr + i * 3;

		t[0] = s[ch - 1];
		t[1] = s[ch == 3 ? 1 : 0];
		t[2] = s[0];
	}
	return TCD_OK;
}

/* Decodes a sniffed picture; see imageio.h. */
int tcd_image_decode(const uint8_t *data, size_t size, struct tcd_image *out, char *err,
                     size_t errsize)
{
	memset(out, 0, sizeof(*out));
	switch (tcd_sniff(data, size)) {
	case TCD_FMT_PNG:
		return decode_png(data, size, out, err, errsize);
	case TCD_FMT_JPEG:
		return decode_jpeg(data, size, out, err, errsize);
	case TCD_FMT_BMP:
		return decode_bmp(data, size, out, err, errsize);
	case TCD_FMT_PNM:
		return decode_pnm(data, size, out, err, errsize);
	default:
		tcd_set_err(err, errsize, "not a PNG, JPEG, BMP or PNM image");
		return TCD_ERR_NOT_IMAGE;
	}
}

/* ---- encoding ---------------------------------------------------------------- */

/* A growing output buffer, wiped when it moves. */
struct outbuf {
	uint8_t *data;
	size_t size, cap;
	int failed;
};

static void out_put(struct outbuf *o, const void *p, size_t n)
{
	if (o->failed)
		return;
	if (n > o->cap - o->size) {
		size_t cap = o->cap ? o->cap : 65536;
		uint8_t *grown;

		while (cap - o->size < n)
			cap *= 2;
		grown = malloc(cap);
		if (grown == NULL) {
			o->failed = 1;
			return;
		}
		if (o->data != NULL) {
			memcpy(grown, o->data, o->size);
			memset(o->data, 0, o->size);
			free(o->data);
		}
		o->data = grown;
		o->cap = cap;
	}
	memcpy(o->data + o->size, p, n);
	o->size += n;
}

static void png_write_mem(png_structp png, png_bytep p, size_t n)
{
	out_put(png_get_io_ptr(png), p, n);
}

static void png_flush_none(png_structp png)
{
	(void)png;
}

static int encode_png(const struct tcd_image *img, struct outbuf *o)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_quiet);
	png_infop info = NULL;
	volatile int rc = TCD_ERR_BACKEND;

	if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
		png_destroy_write_struct(&png, NULL);
		return TCD_ERR_NOMEM;
	}
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_set_write_fn(png, o, png_write_mem, png_flush_none);
	/* OpenCV's default for PNG: fast compression */
	png_set_compression_level(png, 1);
	png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
	             PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	             PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_set_bgr(png);
	for (int y = 0; y < img->height; y++)
		png_write_row(png, img->bgr + (size_t)y * img->stride);
	png_write_end(png, NULL);
	rc = o->failed ? TCD_ERR_NOMEM : TCD_OK;
out:
	png_destroy_write_struct(&png, &info);
	return rc;
}

static void put_le(struct outbuf *o, uint32_t v, int bytes)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	out_put(o, b, (size_t)bytes);
}

/* 24-bit bottom-up BMP, rows padded to 4 bytes. */
static int encode_bmp(const struct tcd_image *img, struct outbuf *o)
{
	static const uint8_t pad[3] = {0, 0, 0};
	size_t row = (size_t)img->width * 3, padding = (4 - row % 4) % 4;
	uint64_t total = 54 + (uint64_t)(row + padding) * (uint64_t)img->height;

	if (total > UINT32_MAX)
		return TCD_ERR_TOO_LARGE;
	out_put(o, "BM", 2);
	put_le(o, (uint32_t)total, 4);
	put_le(o, 0, 4);
	put_le(o, 54, 4);
	put_le(o, 40, 4);
	put_le(o, (uint32_t)img->width, 4);
	put_le(o, (uint32_t)img->height, 4);
	put_le(o, 1, 2);
	put_le(o, 24, 2);
	put_le(o, 0, 4);
	put_le(o, (uint32_t)(total - 54), 4);
	put_le(o, 2835, 4); /* 72 dpi */
	put_le(o, 2835, 4);
	put_le(o, 0, 4);
	put_le(o, 0, 4);
	for (int y = img->height - 1; y >= 0; y--) {
		out_put(o, img->bgr + (size_t)y * img->stride, row);
		out_put(o, pad, padding);
	}
	return o->failed ? TCD_ERR_NOMEM : TCD_OK;
}

/* Encodes img as ".png" or ".bmp"; see imageio.h. */
int tcd_image_encode(const struct tcd_image *img, const char *ext, uint8_t **out, size_t *size,
                     char *err, size_t errsize)
{
	struct outbuf o = {0};
	int rc;

	*out = NULL;
	*size = 0;
	if (strcmp(ext, ".png") == 0)
		rc = encode_png(img, &o);
	else if (strcmp(ext, ".bmp") == 0)
		rc = encode_bmp(img, &o);
	else
		rc = TCD_ERR_INVALID;
	if (rc != TCD_OK) {
		if (o.data != NULL)
			memset(o.data, 0, o.size);
		free(o.data);
		tcd_set_err(err, errsize, "cannot encode the annotated image as %s", ext);
		return rc;
	}
	*out = o.data;
	*size = o.size;
	return TCD_OK;
}
