/* SPDX-License-Identifier: Apache-2.0 */
/* decode.c - turns SSD- and YOLO-style DNN output tensors into boxes, plus NMS. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"

/* Longest row accepted (YOLO: 5 + number of classes). */
#define MAX_ROW (5 + TCD_MAX_CLASSES)

/* Clamps v to [lo, hi]. */
static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Stores a box from corner coordinates in image pixels; 0 when it is
 * degenerate (nothing stored). */
static int make_box(struct tcd_box *b, double x1, double y1, double x2, double y2,
                    const struct tcd_frame *f)
{
	double w = f->image_width, h = f->image_height;
	long l, t, r, btm;

	if (!isfinite(x1) || !isfinite(y1) || !isfinite(x2) || !isfinite(y2))
		return 0;
	l = lround(clampd(x1, 0, w));
	t = lround(clampd(y1, 0, h));
	r = lround(clampd(x2, 0, w));
	btm = lround(clampd(y2, 0, h));
	if (r <= l || btm <= t)
		return 0;
	b->x = (int)l;
	b->y = (int)t;
	b->width = (int)(r - l);
	b->height = (int)(btm - t);
	return 1;
}

/* Names class cls: labels[cls] when there is one, else "class-<cls>". */
static void set_label(struct tcd_box *b, long cls, char *const *labels, size_t label_count)
{
	if (cls >= 0 && (size_t)cls < label_count && labels[cls] != NULL && labels[cls][0] != '\0')
		snprintf(b->label, sizeof(b->label), "%s", labels[cls]);
	else
		snprintf(b->label, sizeof(b->label), "class-%ld", cls);
}

/* One SSD row [image, class, score, x1, y1, x2, y2] (corners 0..1). */
static int ssd_row(const float *r, const struct tcd_dnn *dnn, const struct tcd_frame *f,
                   char *const *labels, size_t label_count, struct tcd_box *b)
{
	double score = r[2];

	if (!(r[0] >= 0) || !isfinite(score) || score < dnn->min_confidence || !(r[1] >= 0) ||
	    r[1] > 1e6)
		return 0;
	if (!make_box(b, r[3] * f->image_width, r[4] * f->image_height, r[5] * f->image_width,
	              r[6] * f->image_height, f))
		return 0;
	b->confidence = clampd(score, 0, 1);
	set_label(b, (long)r[1], labels, label_count);
	return 1;
}

/* One YOLO row [cx, cy, w, h, objectness, class scores...] of width n. */
static int yolo_row(const float *r, size_t n, const struct tcd_dnn *dnn, const struct tcd_frame *f,
                    char *const *labels, size_t label_count, struct tcd_box *b)
{
	double sx = f->image_width, sy = f->image_height, best = -1, score;
	size_t i, cls = 0;

	for (i = 5; i < n; i++) {
		if (r[i] > best) {
			best = r[i];
			cls = i - 5;
		}
	}
	score = (double)r[4] * best;
	if (!isfinite(score) || score < dnn->min_confidence)
		return 0;
	if (dnn->pixel_coords) {
		sx /= f->input_width;
		sy /= f->input_height;
	}
	if (!make_box(b, (r[0] - r[2] / 2.0) * sx, (r[1] - r[3] / 2.0) * sy,
	              (r[0] + r[2] / 2.0) * sx, (r[1] + r[3] / 2.0) * sy, f))
		return 0;
	b->confidence = clampd(score, 0, 1);
	set_label(b, (long)cls, labels, label_count);
	return 1;
}

/* Appends the detections of one output tensor; see detector.h. */
int tcd_decode_output(const struct tcd_dnn *dnn, const struct tcd_frame *f, const int *dims,
                      int ndims, const float *data, char *const *labels, size_t label_count,
                      struct tcd_box *boxes, size_t *count, size_t cap)
{
	enum tcd_layout layout = dnn->layout;
	size_t total = 1, width, rows, i;
	int k;

	if (ndims < 2 || f->image_width <= 0 || f->image_height <= 0 || f->input_width <= 0 ||
	    f->input_height <= 0)
		return TCD_ERR_INVALID;
	for (k = 0; k < ndims; k++) {
		if (dims[k] <= 0 || total > SIZE_MAX / (size_t)dims[k])
			return TCD_ERR_INVALID;
		total *= (size_t)dims[k];
	}
	width = (size_t)dims[ndims - 1];
	if (layout == TCD_LAYOUT_AUTO)
		layout = width == 7 ? TCD_LAYOUT_SSD : TCD_LAYOUT_YOLO;
	if ((layout == TCD_LAYOUT_SSD && width != 7) ||
	    (layout == TCD_LAYOUT_YOLO && (width < 6 || width > MAX_ROW)))
		return TCD_ERR_INVALID;
	rows = total / width;
	for (i = 0; i < rows && *count < cap; i++) {
		const float *r = data + i * width;
		struct tcd_box *b = &boxes[*count];
		int ok = layout == TCD_LAYOUT_SSD
		             ? ssd_row(r, dnn, f, labels, label_count, b)
		             : yolo_row(r, width, dnn, f, labels, label_count, b);

		if (ok)
			(*count)++;
	}
	return TCD_OK;
}

/* Intersection over union of two boxes, 0..1. */
double tcd_iou(const struct tcd_box *a, const struct tcd_box *b)
{
	double l = a->x > b->x ? a->x : b->x;
	double t = a->y > b->y ? a->y : b->y;
	double r = fmin((double)a->x + a->width, (double)b->x + b->width);
	double btm = fmin((double)a->y + a->height, (double)b->y + b->height);
	double inter, uni;

	if (r <= l || btm <= t)
		return 0;
	inter = (r - l) * (btm - t);
	uni = (double)a->width * a->height + (double)b->width * b->height - inter;
	return uni > 0 ? inter / uni : 0;
}

/* Non-maximum suppression per label; see detector.h. */
void tcd_nms(struct tcd_box *boxes, size_t *count, double threshold)
{
	size_t n = *count, i, j, kept = 0;
	struct tcd_box tmp;

	/* Stable insertion sort by descending confidence (n is small). */
	for (i = 1; i < n; i++) {
		tmp = boxes[i];
		for (j = i; j > 0 && boxes[j - 1].confidence < tmp.confidence; j--)
			boxes[j] = boxes[j - 1];
		boxes[j] = tmp;
	}
	for (i = 0; i < n; i++) {
		int drop = 0;

		for (j = 0; j < kept && !drop; j++) {
			drop = strcmp(boxes[j].label, boxes[i].label) == 0 &&
			       tcd_iou(&boxes[j], &boxes[i]) > threshold;
		}
		if (!drop)
			boxes[kept++] = boxes[i];
	}
	*count = kept;
}
