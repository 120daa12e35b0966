/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detector.h - the C interface to object detection, shared by the tcdetect
 * service and the object-detect workload plugin. Only detector.cpp talks to
 * OpenCV (C++); everything declared here is plain C.
 *
 * Ownership: strings in struct tcd_config are owned by it (tcd_config_fini);
 * a struct tcd_result owns its boxes and encoded image (tcd_result_fini).
 */
#ifndef TCD_DETECTOR_H
#define TCD_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Errors: every function returns 0 or one of these. */
enum tcd_err {
	TCD_OK = 0,
	TCD_ERR_INVALID = -1,   /* bad configuration or argument */
	TCD_ERR_NOT_IMAGE = -2, /* the bytes are not a supported, decodable image */
	TCD_ERR_TOO_LARGE = -3, /* over max_input_bytes or max_pixels */
	TCD_ERR_BACKEND = -4,   /* OpenCV failed (exception, missing model file) */
	TCD_ERR_NOMEM = -5,
	TCD_ERR_IO = -6, /* a file could not be read or written */
};

#define TCD_LABEL_SIZE 64                            /* longest label + NUL */
#define TCD_MAX_CASCADES 16                          /* cascades in one configuration */
#define TCD_MAX_BOXES 1024                           /* detections kept per image */
#define TCD_MAX_CLASSES 4096                         /* lines read from a DNN labels file */
#define TCD_ERR_SIZE 256                             /* diagnostic buffers */
#define TCD_DEFAULT_CASCADE_DIR "/usr/share/opencv4" /* Debian opencv-data */
#define TCD_DEFAULT_MAX_INPUT (16u << 20)            /* bytes of one encoded image */
#define TCD_DEFAULT_MAX_PIXELS (40u * 1000u * 1000u)
#define TCD_DEFAULT_MAX_SIDE 1280        /* detection runs on a copy at most this long */
#define TCD_DEFAULT_CASCADES "face,body" /* when the configuration names none */

/* One detection, in pixels of the original image. */
struct tcd_box {
	char label[TCD_LABEL_SIZE];
	double confidence; /* DNN score in [0, 1]; 1 for cascade detections */
	int x, y, width, height;
};

/* A cascade classifier: the label its boxes get and its XML file. */
struct tcd_cascade {
	char *label; /* owned */
	char *path;  /* owned, absolute or relative to the working directory */
};

/* How the DNN output tensor is laid out (see docs/detect.md). */
enum tcd_layout {
	TCD_LAYOUT_AUTO = 0, /* last dimension 7 → SSD, otherwise YOLO */
	TCD_LAYOUT_SSD,      /* rows [image, class, score, x1, y1, x2, y2] */
	TCD_LAYOUT_YOLO,     /* rows [cx, cy, w, h, objectness, class scores...] */
};

/* The optional DNN detector; model == NULL means none. */
struct tcd_dnn {
	char *model;       /* owned: .onnx, .caffemodel, .pb, .weights, ... */
	char *config;      /* owned, may be NULL: .prototxt, .pbtxt, .cfg */
	char *labels;      /* owned, may be NULL: one class name per line */
	int width, height; /* network input size */
	double scale;      /* pixel multiplier before the network */
	double mean[3];    /* subtracted per channel (after swap_rb) */
	int swap_rb;       /* feed RGB instead of OpenCV's BGR */
	enum tcd_layout layout;
	int pixel_coords;      /* YOLO boxes in input pixels, not 0..1 */
	double min_confidence; /* detections below are dropped */
	double nms_threshold;  /* IoU above which a weaker same-class box goes */
};

/* Everything a detector is built from. */
struct tcd_config {
	struct tcd_cascade cascades[TCD_MAX_CASCADES];
	size_t cascade_count;
	double scale_factor; /* cascade pyramid step, > 1 */
	int min_neighbors;   /* cascade: overlapping hits needed */
	int min_size;        /* cascade: smallest object side, pixels */
	double pad;          /* cascade: border added (fraction of the long side) */
	int equalize;        /* cascade: equalise the grey histogram first */
	struct tcd_dnn dnn;
	int max_side;           /* detect on a copy scaled to this long side */
	uint64_t max_pixels;    /* larger images are refused */
	size_t max_input_bytes; /* larger encoded images are refused */
};

/* Opaque: loaded cascades and network. Not safe for concurrent use. */
struct tcd_detector;

/* The outcome of one detection. */
struct tcd_result {
	struct tcd_box *boxes; /* owned (malloc), count entries */
	size_t count;
	int width, height; /* of the decoded input image */
	uint8_t *image;    /* owned: annotated image, encoded; NULL if not asked */
	size_t image_size;
};

/* ---- config.c (plain C) ---- */

/* Fills c with the defaults (no cascades, no DNN, the limits above); callers
 * add TCD_DEFAULT_CASCADES themselves. */
void tcd_config_init(struct tcd_config *c);
/* Frees every string c owns and re-initialises it. */
void tcd_config_fini(struct tcd_config *c);
/* Adds a cascade from a spec: a known name ("face", "body", "cat-face", ...,
 * file under dir) or "label=path.xml" (path relative to dir unless
 * absolute); dir NULL or "" = TCD_DEFAULT_CASCADE_DIR.
 * TCD_ERR_INVALID with a reason in err. */
int tcd_config_add_cascade(struct tcd_config *c, const char *spec, const char *dir, char *err,
                           size_t errsize);
/* Replaces the cascades of c with the specs of a comma-separated list (see
 * tcd_config_add_cascade); "" leaves none. */
int tcd_config_set_cascades(struct tcd_config *c, const char *list, const char *dir, char *err,
                            size_t errsize);
/* Removes (and frees) every cascade of c. */
void tcd_config_clear_cascades(struct tcd_config *c);
/* Applies a JSON object (docs/detect.md "Configuration") on top of c;
 * cascades listed there replace any set before. TCD_ERR_INVALID with a
 * reason naming the key in err. */
int tcd_config_from_json(struct tcd_config *c, const char *json, char *err, size_t errsize);
/* Space-separated list of the known cascade names (static string). */
const char *tcd_cascade_names(void);

/* ---- detector.cpp (C++ inside, C interface) ---- */

/* Loads the cascades and network of c (c is not kept); *out caller frees
 * with tcd_detector_free. TCD_ERR_BACKEND / TCD_ERR_IO with err set. */
int tcd_detector_new(const struct tcd_config *c, struct tcd_detector **out, char *err,
                     size_t errsize);
/* Frees a detector and sets *d to NULL (NULL-safe). */
void tcd_detector_free(struct tcd_detector **d);
/* Decodes data (PNG, JPEG, BMP or PNM), runs every detector, and, when
 * encode_ext is ".png" or ".bmp", draws the boxes and encodes the annotated
 * image into res->image. res is owned by the caller (tcd_result_fini).
 * Decoded pixels are wiped before release. */
int tcd_detect(struct tcd_detector *d, const uint8_t *data, size_t size, const char *encode_ext,
               struct tcd_result *res, char *err, size_t errsize);
/* Frees what res owns and zeroes it. */
void tcd_result_fini(struct tcd_result *res);

/* ---- decode.c (plain C): DNN output tensors to boxes ---- */

/* The geometry a DNN output is mapped back to. */
struct tcd_frame {
	int image_width, image_height; /* original image */
	int input_width, input_height; /* network input */
};

/* Appends the detections of one output tensor (dims[0..ndims), float data
 * of the product of dims elements) to boxes (count in/out, at most cap),
 * using labels[class] (NULL or out of range → "class-<n>"). Boxes below
 * dnn->min_confidence are skipped. TCD_ERR_INVALID for a shape that fits
 * neither layout. */
int tcd_decode_output(const struct tcd_dnn *dnn, const struct tcd_frame *f, const int *dims,
                      int ndims, const float *data, char *const *labels, size_t label_count,
                      struct tcd_box *boxes, size_t *count, size_t cap);
/* Non-maximum suppression per label: drops every box whose IoU with a
 * stronger box of the same label exceeds threshold; keeps order by
 * descending confidence. Updates *count. */
void tcd_nms(struct tcd_box *boxes, size_t *count, double threshold);
/* Intersection over union of two boxes, 0..1. */
double tcd_iou(const struct tcd_box *a, const struct tcd_box *b);

/* ---- util.c (plain C) ---- */

/* Kind of image recognised from its first bytes. */
enum tcd_format {
	TCD_FMT_NONE = 0,
	TCD_FMT_PNG,
	TCD_FMT_JPEG,
	TCD_FMT_BMP,
	TCD_FMT_PNM,
};
/* The image format announced by the first bytes of data, TCD_FMT_NONE
 * for anything else (so OpenCV's other decoders are never reached). */
enum tcd_format tcd_sniff(const uint8_t *data, size_t size);
/* Width and height announced by the header of a sniffed image, read
 * without decoding (so a tiny file cannot make the decoder allocate
 * gigabytes). TCD_ERR_NOT_IMAGE when the header is not readable. */
int tcd_image_size(const uint8_t *data, size_t size, uint64_t *width, uint64_t *height);
/* 1 when name is a plain file name: 1..255 bytes, printable UTF-8 or
 * ASCII, no '/', '\\' or control characters, not starting with '.'. */
int tcd_name_ok(const char *name, size_t len);
/* Writes "<stem of name>.<ext>" into out (outsize bytes); the stem is name
 * up to its last '.'. TCD_ERR_INVALID if it does not fit. */
int tcd_output_name(const char *name, const char *ext, char *out, size_t outsize);
/* The detections as a JSON array of {label, confidence, x, y, width,
 * height}; caller frees. NULL when out of memory. */
char *tcd_boxes_json(const struct tcd_box *boxes, size_t count);
/* Fixed text for an error code (static string). */
const char *tcd_strerror(int err);
/* Formats into err (errsize bytes, always terminated; err may be NULL). */
void tcd_set_err(char *err, size_t errsize, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* TCD_DETECTOR_H */
