/* SPDX-License-Identifier: Apache-2.0 */
/* test_imageio.c - picture decoding and encoding without OpenCV (detect/imageio.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>

#include "detector.h"
#include "imageio.h"

/* A w x h picture whose pixel (x, y) is (x * 40 + y, y * 50 + 7, x + y * 3) in BGR. */
static void pattern(struct tcd_image *img, int w, int h)
{
	img->width = w;
	img->height = h;
	img->stride = (size_t)w * 3;
	img->bgr = malloc((size_t)h * img->stride);
	assert_non_null(img->bgr);
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			uint8_t *p = img->bgr + (size_t)y * img->stride + (size_t)x * 3;

			p[0] = (uint8_t)(x * 40 + y);
			p[1] = (uint8_t)(y * 50 + 7);
			p[2] = (uint8_t)(x + y * 3);
		}
	}
}

/* Decodes data and checks it equals want. */
static void decodes_to(const uint8_t *data, size_t size, const struct tcd_image *want)
{
	struct tcd_image got;
	char err[256] = "";

	assert_int_equal(tcd_image_decode(data, size, &got, err, sizeof(err)), TCD_OK);
	assert_int_equal(got.width, want->width);
	assert_int_equal(got.height, want->height);
	for (int y = 0; y < want->height; y++)
		assert_memory_equal(got.bgr + (size_t)y * got.stride,
		                    want->bgr + (size_t)y * want->stride, (size_t)want->width * 3);
	tcd_image_free(&got);
	assert_null(got.bgr);
}

/* Decoding data fails with TCD_ERR_NOT_IMAGE and a reason containing why. */
static void refused(const uint8_t *data, size_t size, const char *why)
{
	struct tcd_image got;
	char err[256] = "";

	assert_int_equal(tcd_image_decode(data, size, &got, err, sizeof(err)), TCD_ERR_NOT_IMAGE);
	assert_null(got.bgr);
	if (strstr(err, why) == NULL)
		fail_msg("error '%s' lacks '%s'", err, why);
}

static void test_bmp_and_png_round_trip(void **state)
{
	struct tcd_image img;
	uint8_t *out;
	size_t size;
	char err[256];

	(void)state;
	pattern(&img, 3, 2);
	assert_int_equal(tcd_image_encode(&img, ".bmp", &out, &size, err, sizeof(err)), TCD_OK);
	/* 54-byte header, rows of 9 bytes padded to 12, bottom row first */
	assert_int_equal(size, 54 + 2 * 12);
	assert_memory_equal(out, "BM", 2);
	assert_int_equal(out[18], 3);
	assert_int_equal(out[22], 2);
	assert_int_equal(out[28], 24);
	assert_memory_equal(out + 54, img.bgr + img.stride, 9);
	assert_memory_equal(out + 66, img.bgr, 9);
	decodes_to(out, size, &img);
	free(out);
	assert_int_equal(tcd_image_encode(&img, ".png", &out, &size, err, sizeof(err)), TCD_OK);
	assert_memory_equal(out, "\x89PNG\r\n\x1a\n", 8);
	decodes_to(out, size, &img);
	/* truncated: the header still says PNG, the data is missing */
	refused(out, size / 2, "the PNG picture does not decode");
	free(out);
	assert_int_equal(tcd_image_encode(&img, ".gif", &out, &size, err, sizeof(err)),
	                 TCD_ERR_INVALID);
	assert_null(out);
	tcd_image_free(&img);
}

/* A BMP header: w x h, bpp, compression, colours; 40-byte info header. */
static size_t bmp_header(uint8_t *b, int32_t w, int32_t h, int bpp, int comp, int colors,
                         size_t data_off)
{
	memset(b, 0, 54);
	b[0] = 'B';
	b[1] = 'M';
	b[10] = (uint8_t)data_off;
	b[14] = 40;
	memcpy(b + 18, &w, 4); /* little-endian host (x86-64) */
	memcpy(b + 22, &h, 4);
	b[26] = 1;
	b[28] = (uint8_t)bpp;
	b[30] = (uint8_t)comp;
	b[46] = (uint8_t)colors;
	return 54;
}

static void test_bmp_variants(void **state)
{
	uint8_t b[256];
	struct tcd_image want = {0};
	uint8_t px[12];

	(void)state;
	/* 8-bit palette, top-down (negative height), 2 x 2: indices 1 0 / 2 1 */
	bmp_header(b, 2, -2, 8, 0, 3, 54 + 12);
	memcpy(b + 54, "\x10\x20\x30\x00\x40\x50\x60\x00\x70\x80\x90\x00", 12);
	memcpy(b + 66, "\x01\x00\x00\x00\x02\x01\x00\x00", 8);
	memcpy(px, "\x40\x50\x60\x10\x20\x30\x70\x80\x90\x40\x50\x60", 12);
	want = (struct tcd_image){px, 2, 2, 6};
	decodes_to(b, 74, &want);
	/* 16-bit 5-6-5 bit fields, one pixel: pure red, then pure green */
	bmp_header(b, 2, 1, 16, 3, 0, 54 + 12);
	memcpy(b + 54, "\x00\xf8\x00\x00\xe0\x07\x00\x00\x1f\x00\x00\x00", 12);
	memcpy(b + 66, "\x00\xf8\xe0\x07", 4);
	memcpy(px, "\x00\x00\xff\x00\xff\x00", 6);
	want = (struct tcd_image){px, 2, 1, 6};
	decodes_to(b, 70, &want);
	/* RLE8 is refused by name; a truncated pixel array too */
	bmp_header(b, 2, 1, 8, 1, 0, 54);
	refused(b, 64, "compression 1 is not supported");
	bmp_header(b, 4, 4, 24, 0, 0, 54);
	refused(b, 60, "BMP truncated");
}

static void test_pnm(void **state)
{
	static const uint8_t p6[] = "P6\n# comment\n2 1\n255\n\x01\x02\x03\x04\x05\x06";
	static const uint8_t p5[] = "P5 2 1 255 \x09\xfe";
	static const uint8_t deep[] = "P6 1 1 65535 \x00\x01\x00\x02\x00\x03";
	uint8_t px[6];
	struct tcd_image want;

	(void)state;
	memcpy(px, "\x03\x02\x01\x06\x05\x04", 6);
	want = (struct tcd_image){px, 2, 1, 6};
	decodes_to(p6, sizeof(p6) - 1, &want);
	memcpy(px, "\x09\x09\x09\xfe\xfe\xfe", 6);
	decodes_to(p5, sizeof(p5) - 1, &want);
	refused(deep, sizeof(deep) - 1, "maxval 65535 is not supported");
	refused(p6, sizeof(p6) - 2, "PNM truncated");
}

static void test_jpeg(void **state)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	unsigned char *jpg = NULL;
	unsigned long size = 0;
	uint8_t row[16 * 3];
	struct tcd_image got;
	char err[256];

	(void)state;
	for (int x = 0; x < 16; x++)
		memcpy(row + 3 * x, "\xc8\x64\x32", 3); /* RGB 200, 100, 50 */
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &jpg, &size);
	c.image_width = 16;
	c.image_height = 16;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 100, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < 16) {
		JSAMPROW r = row;

		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	assert_int_equal(tcd_image_decode(jpg, size, &got, err, sizeof(err)), TCD_OK);
	assert_int_equal(got.width, 16);
	assert_int_equal(got.height, 16);
	/* BGR order, within JPEG's rounding of a flat colour */
	for (size_t i = 0; i < 16 * 16 * 3; i += 3) {
		assert_in_range(got.bgr[i], 48, 52);
		assert_in_range(got.bgr[i + 1], 98, 102);
		assert_in_range(got.bgr[i + 2], 198, 202);
	}
	tcd_image_free(&got);
	refused(jpg, 40, "the JPEG picture does not decode");
	free(jpg);
	refused((const uint8_t *)"GIF89a......", 12, "not a PNG, JPEG, BMP or PNM image");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bmp_and_png_round_trip),
	    cmocka_unit_test(test_bmp_variants),
	    cmocka_unit_test(test_pnm),
	    cmocka_unit_test(test_jpeg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
