/* SPDX-License-Identifier: Apache-2.0 */
/* test_detect_unit.c - the plain C parts of detection: names, sniffing, headers, DNN decoding, NMS,
 * JSON, config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detector.h"

#define OK(name) assert_int_equal(tcd_name_ok(name, strlen(name)), 1)
#define BAD(name) assert_int_equal(tcd_name_ok(name, strlen(name)), 0)

static void test_names(void **state)
{
	char long_name[300];

	(void)state;
	OK("astronaut.png");
	OK("a b.jpg");
	OK("\xc3\xb1"
	   "and\xc3\xba.png"); /* ñandú.png */
	OK("x");
	BAD("");
	BAD(".");
	BAD("..");
	BAD("../etc/passwd");
	BAD("a/b.png");
	BAD("/etc/passwd");
	BAD("a\\b.png");
	BAD(".hidden.png");
	BAD("tab\there");
	BAD("del\x7f");
	BAD("\xff.png");
	BAD("\xc0\xaf.png");     /* overlong "/" */
	BAD("\xc2\x85.png");     /* C1 control */
	BAD("\xed\xa0\x80.png"); /* surrogate */
	memset(long_name, 'a', 255);
	long_name[255] = '\0';
	OK(long_name);
	long_name[255] = 'a';
	long_name[256] = '\0';
	BAD(long_name);
	/* An embedded NUL is refused through the length. */
	assert_int_equal(tcd_name_ok("a\0b", 3), 0);
}

static void test_output_name(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(tcd_output_name("astronaut.png", "bmp", out, sizeof(out)), TCD_OK);
	assert_string_equal(out, "astronaut.bmp");
	assert_int_equal(tcd_output_name("a.b.c", "bmp", out, sizeof(out)), TCD_OK);
	assert_string_equal(out, "a.b.bmp");
	assert_int_equal(tcd_output_name("noext", "bmp", out, sizeof(out)), TCD_OK);
	assert_string_equal(out, "noext.bmp");
	assert_int_equal(tcd_output_name("a.", "bmp", out, sizeof(out)), TCD_OK);
	assert_string_equal(out, "a.bmp");
	assert_int_equal(tcd_output_name("much-too-long-name.png", "bmp", out, sizeof(out)),
	                 TCD_ERR_INVALID);
}

/* A PNG signature and IHDR for w x h. */
static size_t make_png(uint8_t *b, uint32_t w, uint32_t h)
{
	static const uint8_t head[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
	                                 0,    0,   0,   13,  'I',  'H',  'D',  'R'};
	memcpy(b, head, sizeof(head));
	b[16] = (uint8_t)(w >> 24), b[17] = (uint8_t)(w >> 16), b[18] = (uint8_t)(w >> 8),
	b[19] = (uint8_t)w;
	b[20] = (uint8_t)(h >> 24), b[21] = (uint8_t)(h >> 16), b[22] = (uint8_t)(h >> 8),
	b[23] = (uint8_t)h;
	return 24;
}

static void test_sniff_and_size(void **state)
{
	uint8_t b[64] = {0};
	uint64_t w = 0, h = 0;
	static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 'J',  'F', 0xff,
	                               0xc0, 0x00, 0x11, 0x08, 0x00, 0xf0, 0x01, 0x40};
	static const uint8_t jpeg_sos[] = {0xff, 0xd8, 0xff, 0xda, 0x00, 0x04, 0, 0};
	static const char pnm[] = "P6\n# a comment\n12 34\n255\n";

	(void)state;
	assert_int_equal(tcd_sniff(b, make_png(b, 640, 480)), TCD_FMT_PNG);
	assert_int_equal(tcd_image_size(b, 24, &w, &h), TCD_OK);
	assert_true(w == 640 && h == 480);
	assert_int_equal(tcd_image_size(b, 20, &w, &h), TCD_ERR_NOT_IMAGE); /* cut IHDR */
	make_png(b, 0, 10);
	assert_int_equal(tcd_image_size(b, 24, &w, &h), TCD_ERR_NOT_IMAGE); /* zero width */

	assert_int_equal(tcd_sniff(jpeg, sizeof(jpeg)), TCD_FMT_JPEG);
	assert_int_equal(tcd_image_size(jpeg, sizeof(jpeg), &w, &h), TCD_OK);
	assert_true(w == 320 && h == 240);
	assert_int_equal(tcd_image_size(jpeg_sos, sizeof(jpeg_sos), &w, &h), TCD_ERR_NOT_IMAGE);

	memset(b, 0, sizeof(b));
	b[0] = 'B', b[1] = 'M', b[14] = 40;
	b[18] = 100;                                /* width 100 */
	b[22] = 0xce, b[23] = b[24] = b[25] = 0xff; /* height -50: top-down */
	assert_int_equal(tcd_sniff(b, 26), TCD_FMT_BMP);
	assert_int_equal(tcd_image_size(b, 26, &w, &h), TCD_OK);
	assert_true(w == 100 && h == 50);

	assert_int_equal(tcd_sniff((const uint8_t *)pnm, strlen(pnm)), TCD_FMT_PNM);
	assert_int_equal(tcd_image_size((const uint8_t *)pnm, strlen(pnm), &w, &h), TCD_OK);
	assert_true(w == 12 && h == 34);

	assert_int_equal(tcd_sniff((const uint8_t *)"GIF89a", 6), TCD_FMT_NONE);
	assert_int_equal(tcd_sniff((const uint8_t *)"hello world", 11), TCD_FMT_NONE);
	assert_int_equal(tcd_sniff(NULL, 0), TCD_FMT_NONE);
	assert_int_equal(tcd_image_size((const uint8_t *)"P6 x", 4, &w, &h), TCD_ERR_NOT_IMAGE);
}

/* Defaults for the decoder tests: min_confidence 0.5, NMS 0.45. */
static struct tcd_dnn dnn_defaults(enum tcd_layout layout)
{
	struct tcd_config c;

	tcd_config_init(&c);
	c.dnn.layout = layout;
	return c.dnn;
}

static void assert_box(const struct tcd_box *b, const char *label, double conf, int x, int y, int w,
                       int h)
{
	assert_string_equal(b->label, label);
	assert_true(b->confidence > conf - 1e-6 && b->confidence < conf + 1e-6);
	assert_int_equal(b->x, x);
	assert_int_equal(b->y, y);
	assert_int_equal(b->width, w);
	assert_int_equal(b->height, h);
}

static void test_decode_ssd(void **state)
{
	static const float rows[] = {
	    0,  1, 0.9f,  0.1f,  0.2f, 0.5f, 0.6f, /* person */
	    0,  2, 0.4f,  0.0f,  0.0f, 1.0f, 1.0f, /* below 0.5 */
	    -1, 1, 0.99f, 0.0f,  0.0f, 1.0f, 1.0f, /* padding row (image -1) */
	    0,  9, 0.75f, -0.5f, 0.5f, 1.5f, 2.0f, /* clamped, no label line */
	    0,  1, 0.8f,  0.5f,  0.5f, 0.5f, 0.9f, /* zero width: dropped */
	};
	char *labels[] = {"background", "person", "cat"};
	struct tcd_frame f = {200, 100, 300, 300};
	struct tcd_dnn d = dnn_defaults(TCD_LAYOUT_AUTO);
	int dims[] = {1, 1, 5, 7};
	struct tcd_box boxes[8];
	size_t n = 0;

	(void)state;
	assert_int_equal(tcd_decode_output(&d, &f, dims, 4, rows, labels, 3, boxes, &n, 8), TCD_OK);
	assert_int_equal(n, 2);
	assert_box(&boxes[0], "person", 0.9, 20, 20, 80, 40);
	assert_box(&boxes[1], "class-9", 0.75, 0, 50, 200, 50);
	/* The cap is honoured. */
	n = 0;
	assert_int_equal(tcd_decode_output(&d, &f, dims, 4, rows, labels, 3, boxes, &n, 1), TCD_OK);
	assert_int_equal(n, 1);
	/* Forcing SSD on a 6-wide tensor fails, as does a 1-D tensor. */
	d.layout = TCD_LAYOUT_SSD;
	dims[3] = 6;
	assert_int_equal(tcd_decode_output(&d, &f, dims, 4, rows, labels, 3, boxes, &n, 8),
	                 TCD_ERR_INVALID);
	assert_int_equal(tcd_decode_output(&d, &f, dims, 1, rows, labels, 3, boxes, &n, 8),
	                 TCD_ERR_INVALID);
}

static void test_decode_yolo(void **state)
{
	static const float norm[] = {
	    0.30f, 0.40f, 0.40f, 0.40f, 0.95f, 0.90f, 0.10f, 0.00f, /* person .855 */
	    0.75f, 0.25f, 0.30f, 0.30f, 0.80f, 0.05f, 0.10f, 0.75f, /* bird .6 */
	    0.50f, 0.50f, 0.20f, 0.20f, 0.40f, 0.90f, 0.10f, 0.00f, /* .36 */
	};
	static const float pix[] = {
	    32, 32, 32, 16, 1.0f, 0.0f, 0.7f, 0.0f, /* centre of a 64x64 input */
	};
	char *labels[] = {"person", "cat", "bird"};
	struct tcd_frame f = {200, 100, 64, 64};
	struct tcd_dnn d = dnn_defaults(TCD_LAYOUT_AUTO);
	int dims[] = {1, 3, 8};
	struct tcd_box boxes[8];
	size_t n = 0;

	(void)state;
	assert_int_equal(tcd_decode_output(&d, &f, dims, 3, norm, labels, 3, boxes, &n, 8), TCD_OK);
	assert_int_equal(n, 2);
	assert_box(&boxes[0], "person", 0.855, 20, 20, 80, 40);
	assert_box(&boxes[1], "bird", 0.6, 120, 10, 60, 30);
	d.pixel_coords = 1;
	dims[1] = 1;
	n = 0;
	assert_int_equal(tcd_decode_output(&d, &f, dims, 3, pix, labels, 3, boxes, &n, 8), TCD_OK);
	assert_int_equal(n, 1);
	assert_box(&boxes[0], "cat", 0.7, 50, 38, 100, 25);
	/* Too narrow for YOLO (5 values, no class score). */
	dims[2] = 5;
	assert_int_equal(tcd_decode_output(&d, &f, dims, 3, pix, labels, 3, boxes, &n, 8),
	                 TCD_ERR_INVALID);
}

static struct tcd_box mkbox(const char *label, double conf, int x, int y, int w, int h)
{
	struct tcd_box b;

	memset(&b, 0, sizeof(b));
	snprintf(b.label, sizeof(b.label), "%s", label);
	b.confidence = conf;
	b.x = x, b.y = y, b.width = w, b.height = h;
	return b;
}

static void test_nms_iou(void **state)
{
	struct tcd_box b[5] = {
	    mkbox("cat", 0.6, 0, 0, 10, 10),  mkbox("cat", 0.9, 1, 1, 10, 10),
	    mkbox("dog", 0.7, 1, 1, 10, 10),  mkbox("cat", 0.5, 50, 50, 10, 10),
	    mkbox("cat", 0.95, 5, 0, 10, 10),
	};
	size_t n = 5;

	(void)state;
	assert_true(tcd_iou(&b[0], &b[0]) > 0.999999);
	assert_true(tcd_iou(&b[0], &b[3]) == 0.0);
	/* [0,10)x[0,10) against [5,15)x[0,10): 50 / 150. */
	assert_true(tcd_iou(&b[0], &b[4]) > 0.3333 && tcd_iou(&b[0], &b[4]) < 0.3334);
	tcd_nms(b, &n, 0.45);
	/* 0.95 cat kept; 0.9 cat (IoU with it 54/146 < .45) kept; 0.6 cat
	 * overlaps the 0.9 one (81/119): dropped; dog kept; far cat kept. */
	assert_int_equal(n, 4);
	assert_box(&b[0], "cat", 0.95, 5, 0, 10, 10);
	assert_box(&b[1], "cat", 0.9, 1, 1, 10, 10);
	assert_box(&b[2], "dog", 0.7, 1, 1, 10, 10);
	assert_box(&b[3], "cat", 0.5, 50, 50, 10, 10);
}

static void test_boxes_json(void **state)
{
	struct tcd_box b[2] = {mkbox("face", 1.0, 176, 66, 97, 97),
	                       mkbox("a \"q\"/b", 0.123456, 0, 1, 2, 3)};
	char *j;

	(void)state;
	j = tcd_boxes_json(b, 2);
	assert_non_null(j);
	assert_string_equal(j, "[{\"label\":\"face\",\"confidence\":1.0,\"x\":176,\"y\":66,"
	                       "\"width\":97,\"height\":97},{\"label\":\"a \\\"q\\\"/b\","
	                       "\"confidence\":0.1235,\"x\":0,\"y\":1,\"width\":2,\"height\":3}]");
	free(j);
	j = tcd_boxes_json(NULL, 0);
	assert_string_equal(j, "[]");
	free(j);
}

/* Expects tcd_config_from_json to refuse json with a message containing want. */
static void refuse(const char *json, const char *want)
{
	struct tcd_config c;
	char err[TCD_ERR_SIZE] = "";

	tcd_config_init(&c);
	assert_int_equal(tcd_config_from_json(&c, json, err, sizeof(err)), TCD_ERR_INVALID);
	if (strstr(err, want) == NULL)
		fail_msg("config %s: error \"%s\" lacks \"%s\"", json, err, want);
	tcd_config_fini(&c);
}

static void test_config(void **state)
{
	struct tcd_config c;
	char err[TCD_ERR_SIZE] = "";

	(void)state;
	tcd_config_init(&c);
	assert_int_equal(tcd_config_set_cascades(&c, "face,body", NULL, err, sizeof(err)), TCD_OK);
	assert_int_equal(c.cascade_count, 2);
	assert_string_equal(c.cascades[0].label, "face");
	assert_string_equal(c.cascades[0].path,
	                    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml");
	assert_string_equal(c.cascades[1].label, "body");
	assert_int_equal(
	    tcd_config_from_json(
	        &c,
	        "{\"cascade_dir\": \"/opt/c\", \"cascades\": [\"cat-face\", "
	        "{\"label\": \"logo\", \"file\": \"logo.xml\"}, \"x=/abs/y.xml\"], "
	        "\"scale_factor\": 1.2, \"min_neighbors\": 3, \"pad\": 0, "
	        "\"equalize\": true, \"max_side\": 0, \"dnn\": {\"model\": \"m.onnx\", "
	        "\"labels\": \"l.txt\", \"width\": 64, \"height\": 32, \"mean\": [1, 2, "
	        "3.5], \"swap_rb\": true, \"layout\": \"yolo\", \"coords\": \"pixels\", "
	        "\"min_confidence\": 0.25}}",
	        err, sizeof(err)),
	    TCD_OK);
	assert_int_equal(c.cascade_count, 3);
	assert_string_equal(c.cascades[0].path, "/opt/c/lbpcascades/lbpcascade_frontalcatface.xml");
	assert_string_equal(c.cascades[1].label, "logo");
	assert_string_equal(c.cascades[1].path, "/opt/c/logo.xml");
	assert_string_equal(c.cascades[2].path, "/abs/y.xml");
	assert_true(c.scale_factor == 1.2 && c.min_neighbors == 3 && c.pad == 0 && c.equalize);
	assert_true(c.max_side == 0);
	assert_string_equal(c.dnn.model, "m.onnx");
	assert_null(c.dnn.config);
	assert_true(c.dnn.width == 64 && c.dnn.height == 32 && c.dnn.mean[2] == 3.5);
	assert_true(c.dnn.swap_rb && c.dnn.layout == TCD_LAYOUT_YOLO && c.dnn.pixel_coords);
	assert_true(c.dnn.min_confidence == 0.25 && c.dnn.nms_threshold == 0.45);
	assert_int_equal(tcd_config_set_cascades(&c, "", NULL, err, sizeof(err)), TCD_OK);
	assert_int_equal(c.cascade_count, 0);
	assert_int_equal(tcd_config_set_cascades(&c, "face,nope", NULL, err, sizeof(err)),
	                 TCD_ERR_INVALID);
	assert_non_null(strstr(err, "unknown cascade \"nope\""));
	tcd_config_fini(&c);

	refuse("{\"cascade\": []}", "unknown key \"cascade\"");
	refuse("{\"dnn\": {\"modle\": \"x\"}}", "unknown key \"dnn.modle\"");
	refuse("{\"scale_factor\": 1.0}", "\"scale_factor\" must be between");
	refuse("{\"min_neighbors\": 2.5}", "\"min_neighbors\" must be an integer");
	refuse("{\"pad\": \"x\"}", "\"pad\" must be a number");
	refuse("{\"equalize\": 1}", "\"equalize\" must be true or false");
	refuse("{\"cascades\": \"face\"}", "\"cascades\" must be an array");
	refuse("{\"cascades\": [3]}", "\"cascades\"[0]");
	refuse("{\"dnn\": {\"model\": \"m\", \"mean\": [1, 2]}}", "\"dnn.mean\"");
	refuse("{\"dnn\": {\"model\": \"m\", \"layout\": \"rcnn\"}}", "\"dnn.layout\"");
	refuse("{\"dnn\": {\"labels\": \"l\"}}", "needs \"model\"");
	refuse("{\"dnn\": {\"model\": \"m\", \"min_confidence\": 2}}", "\"min_confidence\"");
	refuse("{\"dnn\": {\"model\": \"\"}}", "\"model\" must be a non-empty string");
	refuse("[]", "must be a JSON object");
	refuse("{\"pad\": 0.1} x", "not one valid JSON value");
	refuse("{", "not one valid JSON value");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),          cmocka_unit_test(test_output_name),
	    cmocka_unit_test(test_sniff_and_size), cmocka_unit_test(test_decode_ssd),
	    cmocka_unit_test(test_decode_yolo),    cmocka_unit_test(test_nms_iou),
	    cmocka_unit_test(test_boxes_json),     cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
