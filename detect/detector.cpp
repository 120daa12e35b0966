/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detector.cpp - the project's only C++: runs OpenCV's cascade classifiers
 * and DNN module behind the C interface of detector.h. No exception leaves
 * this file; decoded pixels are wiped before their memory is released.
 * Pictures are decoded and encoded by imageio.c (libpng, libjpeg-turbo),
 * not by OpenCV's imgcodecs.
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "detector.h"
#include "imageio.h"

struct tcd_detector {
	std::vector<std::string> cascade_labels;
	std::vector<cv::CascadeClassifier> cascades;
	double scale_factor = 1.1;
	int min_neighbors = 4;
	int min_size = 24;
	double pad = 0;
	bool equalize = false;
	int max_side = 0;
	uint64_t max_pixels = 0;
	size_t max_input = 0;
	bool has_dnn = false;
	struct tcd_dnn dnn = {}; /* scalars only; strings are not kept */
	cv::dnn::Net net;
	std::vector<std::string> labels;
	std::vector<char *> label_ptrs;
};

namespace
{

/* Overwrites the pixels of m when it owns them. */
void wipe(cv::Mat &m)
{
	if (!m.empty() && m.u != nullptr && m.isContinuous())
		std::memset(m.data, 0, m.total() * m.elemSize());
	m.release();
}

/* Wipes a Mat when it goes out of scope, also on an exception. */
struct wipe_guard {
	cv::Mat &m;
	explicit wipe_guard(cv::Mat &mat) : m(mat)
	{
	}
	~wipe_guard()
	{
		wipe(m);
	}
	wipe_guard(const wipe_guard &) = delete;
	wipe_guard &operator=(const wipe_guard &) = delete;
};

/* Fills err from an exception, keeping only OpenCV's short message. */
int backend_error(const std::exception &e, char *err, size_t errsize)
{
	const cv::Exception *ce = dynamic_cast<const cv::Exception *>(&e);

	if (dynamic_cast<const std::bad_alloc *>(&e) != nullptr) {
		tcd_set_err(err, errsize, "out of memory");
		return TCD_ERR_NOMEM;
	}
	tcd_set_err(err, errsize, "OpenCV: %.200s", ce != nullptr ? ce->err.c_str() : e.what());
	return TCD_ERR_BACKEND;
}

/* 1 when path names a readable file. */
bool readable(const char *path)
{
	FILE *f = std::fopen(path, "rb");

	if (f == nullptr)
		return false;
	std::fclose(f);
	return true;
}

/* Reads one class name per line (at most TCD_MAX_CLASSES lines). */
int load_labels(tcd_detector *d, const char *path, char *err, size_t errsize)
{
	FILE *f = std::fopen(path, "r");
	char line[TCD_LABEL_SIZE * 4];

	if (f == nullptr) {
		tcd_set_err(err, errsize, "cannot read labels file %.200s", path);
		return TCD_ERR_IO;
	}
	while (d->labels.size() < TCD_MAX_CLASSES && std::fgets(line, sizeof(line), f) != nullptr) {
		size_t n = std::strcspn(line, "\r\n");

		line[n < TCD_LABEL_SIZE - 1 ? n : TCD_LABEL_SIZE - 1] = '\0';
		d->labels.emplace_back(line);
	}
	std::fclose(f);
	for (auto &s : d->labels)
		d->label_ptrs.push_back(&s[0]);
	return TCD_OK;
}

/* Loads the cascades of c into d. */
int load_cascades(tcd_detector *d, const struct tcd_config *c, char *err, size_t errsize)
{
	for (size_t i = 0; i < c->cascade_count; i++) {
		const char *path = c->cascades[i].path;
		cv::CascadeClassifier clf;

		if (!readable(path)) {
			tcd_set_err(err, errsize, "cannot read cascade file %.200s", path);
			return TCD_ERR_IO;
		}
		if (!clf.load(path)) {
			tcd_set_err(err, errsize, "%.200s is not a cascade classifier", path);
			return TCD_ERR_BACKEND;
		}
		d->cascade_labels.emplace_back(c->cascades[i].label);
		d->cascades.push_back(clf);
	}
	return TCD_OK;
}

/* Loads the network and labels of c->dnn into d. */
int load_dnn(tcd_detector *d, const struct tcd_config *c, char *err, size_t errsize)
{
	const struct tcd_dnn *n = &c->dnn;

	if (!readable(n->model) || (n->config != nullptr && !readable(n->config))) {
		tcd_set_err(err, errsize, "cannot read DNN model %.200s%s%.200s", n->model,
		            n->config != nullptr ? " or config " : "",
		            n->config != nullptr ? n->config : "");
		return TCD_ERR_IO;
	}
	d->net = cv::dnn::readNet(n->model, n->config != nullptr ? n->config : "");
	if (d->net.empty()) {
		tcd_set_err(err, errsize, "OpenCV could not read the DNN model %.200s", n->model);
		return TCD_ERR_BACKEND;
	}
	d->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
	d->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
	d->dnn = *n;
	d->dnn.model = d->dnn.config = d->dnn.labels = nullptr;
	d->has_dnn = true;
	return n->labels != nullptr ? load_labels(d, n->labels, err, errsize) : TCD_OK;
}

/* Maps a rectangle of the padded working image back to the original
 * (scale s, border b) and clips it to width x height; false when empty. */
bool map_back(const cv::Rect &r, double s, int b, int width, int height, tcd_box *out)
{
	double l = std::max(0.0, (r.x - b) / s), t = std::max(0.0, (r.y - b) / s);
	double rt = std::min((double)width, (r.x + r.width - b) / s);
	double bt = std::min((double)height, (r.y + r.height - b) / s);

	out->x = (int)(l + 0.5);
	out->y = (int)(t + 0.5);
	out->width = (int)(rt + 0.5) - out->x;
	out->height = (int)(bt + 0.5) - out->y;
	return out->width > 0 && out->height > 0;
}

/* Runs every cascade on the grey working image (scale s of the original,
 * with a replicated border of b pixels) and appends the boxes. */
void run_cascades(tcd_detector *d, const cv::Mat &gray, double s, int b, int width, int height,
                  std::vector<tcd_box> &out)
{
	int min_side = std::max(1, (int)(d->min_size * s + 0.5));

	for (size_t i = 0; i < d->cascades.size(); i++) {
		std::vector<cv::Rect> rects;

		d->cascades[i].detectMultiScale(gray, rects, d->scale_factor, d->min_neighbors, 0,
		                                cv::Size(min_side, min_side));
		for (const cv::Rect &r : rects) {
			tcd_box box = {};

			if (!map_back(r, s, b, width, height, &box))
				continue;
			std::snprintf(box.label, sizeof(box.label), "%s",
			              d->cascade_labels[i].c_str());
			box.confidence = 1.0;
			out.push_back(box);
		}
	}
}

/* Grey (optionally equalised, padded) working copy of img for the
 * cascades; *s gets its scale, *b its border. */
void working_gray(const tcd_detector *d, const cv::Mat &img, cv::Mat &gray, double *s, int *b)
{
	cv::Mat small, g;
	wipe_guard g1(small), g2(g);
	int side = std::max(img.cols, img.rows);

	*s = 1.0;
	if (d->max_side > 0 && side > d->max_side) {
		*s = (double)d->max_side / side;
		cv::resize(img, small, cv::Size(), *s, *s, cv::INTER_AREA);
		cv::cvtColor(small, g, cv::COLOR_BGR2GRAY);
	} else {
		cv::cvtColor(img, g, cv::COLOR_BGR2GRAY);
	}
	if (d->equalize)
		cv::equalizeHist(g, g);
	*b = (int)(d->pad * std::max(g.cols, g.rows) + 0.5);
	if (*b > 0)
		cv::copyMakeBorder(g, gray, *b, *b, *b, *b, cv::BORDER_REPLICATE);
	else
		g.copyTo(gray);
}

/* Runs the network on img and decodes its outputs into out. */
int run_dnn(tcd_detector *d, const cv::Mat &img, std::vector<tcd_box> &out, char *err,
            size_t errsize)
{
	const struct tcd_dnn &n = d->dnn;
	struct tcd_frame f = {img.cols, img.rows, n.width, n.height};
	std::vector<cv::Mat> outs;
	std::vector<tcd_box> found(TCD_MAX_BOXES);
	size_t count = 0;
	cv::Mat blob = cv::dnn::blobFromImage(img, n.scale, cv::Size(n.width, n.height),
	                                      cv::Scalar(n.mean[0], n.mean[1], n.mean[2]),
	                                      n.swap_rb != 0, false, CV_32F);
	wipe_guard blob_guard(blob);

	d->net.setInput(blob);
	d->net.forward(outs, d->net.getUnconnectedOutLayersNames());
	for (cv::Mat &o : outs) {
		if (o.type() != CV_32F || !o.isContinuous() ||
		    tcd_decode_output(&n, &f, o.size.p, o.dims, o.ptr<float>(),
		                      d->label_ptrs.empty() ? nullptr : d->label_ptrs.data(),
		                      d->label_ptrs.size(), found.data(), &count,
		                      found.size()) != TCD_OK) {
			tcd_set_err(err, errsize,
			            "DNN output of shape %dD (last dimension %d) fits no "
			            "layout",
			            o.dims, o.dims > 0 ? o.size[o.dims - 1] : 0);
			return TCD_ERR_BACKEND;
		}
	}
	tcd_nms(found.data(), &count, n.nms_threshold);
	out.insert(out.end(), found.begin(), found.begin() + (long)count);
	return TCD_OK;
}

/* A stable, distinct colour per label. */
cv::Scalar label_colour(const char *label)
{
	static const cv::Scalar palette[] = {
	    {0, 200, 0},   {255, 128, 0}, {0, 0, 230},   {200, 0, 200},
	    {0, 200, 230}, {230, 230, 0}, {128, 0, 255}, {0, 128, 255},
	};
	unsigned h = 5381;

	for (const char *p = label; *p != '\0'; p++)
		h = h * 33u + (unsigned char)*p;
	return palette[h % (sizeof(palette) / sizeof(palette[0]))];
}

/* Draws every box with its label (and score below 1) onto img. */
void annotate(cv::Mat &img, const std::vector<tcd_box> &boxes)
{
	int thick = std::max(2, std::max(img.cols, img.rows) / 400);
	double font = std::max(0.5, std::max(img.cols, img.rows) / 1000.0);

	for (const tcd_box &b : boxes) {
		cv::Scalar colour = label_colour(b.label);
		char text[TCD_LABEL_SIZE + 16];
		int base = 0;

		if (b.confidence < 1.0)
			std::snprintf(text, sizeof(text), "%s %.2f", b.label, b.confidence);
		else
			std::snprintf(text, sizeof(text), "%s", b.label);
		cv::rectangle(img, cv::Rect(b.x, b.y, b.width, b.height), colour, thick);
		cv::Size ts = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font, 1, &base);
		int ty = b.y - ts.height - base - 2 >= 0 ? b.y : b.y + ts.height + base + 2;
		cv::rectangle(img, cv::Point(b.x, ty - ts.height - base - 2),
		              cv::Point(b.x + ts.width + 2, ty), colour, cv::FILLED);
		cv::putText(img, text, cv::Point(b.x + 1, ty - base - 1), cv::FONT_HERSHEY_SIMPLEX,
		            font, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
	}
}

/* Checks data against the limits before anything is decoded. */
int precheck(const tcd_detector *d, const uint8_t *data, size_t size, char *err, size_t errsize)
{
	uint64_t w = 0, h = 0;

	if (size > d->max_input) {
		tcd_set_err(err, errsize, "image of %zu bytes is over the limit of %zu", size,
		            d->max_input);
		return TCD_ERR_TOO_LARGE;
	}
	if (tcd_image_size(data, size, &w, &h) != TCD_OK) {
		tcd_set_err(err, errsize, "not a PNG, JPEG, BMP or PNM image");
		return TCD_ERR_NOT_IMAGE;
	}
	if (w > 65535 || h > 65535 || w * h > d->max_pixels) {
		tcd_set_err(err, errsize, "image of %llux%llu pixels is over the limit of %llu",
		            (unsigned long long)w, (unsigned long long)h,
		            (unsigned long long)d->max_pixels);
		return TCD_ERR_TOO_LARGE;
	}
	return TCD_OK;
}

/* Copies the detections into res; the encoded image (owned) moves there. */
int publish(std::vector<tcd_box> &boxes, uint8_t *encoded, size_t encoded_size,
            struct tcd_result *res)
{
	size_t n = std::min(boxes.size(), (size_t)TCD_MAX_BOXES);

	res->image = encoded;
	res->image_size = encoded_size;
	res->boxes = (tcd_box *)std::calloc(n > 0 ? n : 1, sizeof(tcd_box));
	if (res->boxes == nullptr)
		return TCD_ERR_NOMEM;
	if (n > 0)
		std::memcpy(res->boxes, boxes.data(), n * sizeof(tcd_box));
	res->count = n;
	return TCD_OK;
}

/* Frees a decoded picture when it goes out of scope, also on an exception. */
struct image_guard {
	tcd_image &img;
	explicit image_guard(tcd_image &i) : img(i)
	{
	}
	~image_guard()
	{
		tcd_image_free(&img);
	}
	image_guard(const image_guard &) = delete;
	image_guard &operator=(const image_guard &) = delete;
};

/* The body of tcd_detect, allowed to throw. */
int detect(tcd_detector *d, const uint8_t *data, size_t size, const char *ext,
           struct tcd_result *res, char *err, size_t errsize)
{
	tcd_image pic = {};
	image_guard g0(pic);
	cv::Mat gray;
	wipe_guard g2(gray);
	std::vector<tcd_box> boxes;
	uint8_t *encoded = nullptr;
	size_t encoded_size = 0;
	double s = 1.0;
	int b = 0, rc;

	rc = tcd_image_decode(data, size, &pic, err, errsize);
	if (rc != TCD_OK)
		return rc;
	/* the decoded pixels, not copied; pic owns (and wipes) them */
	cv::Mat img(pic.height, pic.width, CV_8UC3, pic.bgr, pic.stride);
	res->width = img.cols;
	res->height = img.rows;
	if (!d->cascades.empty()) {
		working_gray(d, img, gray, &s, &b);
		run_cascades(d, gray, s, b, img.cols, img.rows, boxes);
		wipe(gray);
	}
	if (d->has_dnn)
		rc = run_dnn(d, img, boxes, err, errsize);
	if (rc == TCD_OK && ext != nullptr) {
		annotate(img, boxes);
		rc = tcd_image_encode(&pic, ext, &encoded, &encoded_size, err, errsize);
	}
	if (rc == TCD_OK)
		return publish(boxes, encoded, encoded_size, res);
	return rc;
}

} /* namespace */

/* Loads cascades and network; see detector.h. */
extern "C" int tcd_detector_new(const struct tcd_config *c, struct tcd_detector **out, char *err,
                                size_t errsize)
{
	tcd_detector *d = nullptr;
	int rc;

	*out = nullptr;
	try {
		cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
		d = new tcd_detector();
		d->scale_factor = c->scale_factor;
		d->min_neighbors = c->min_neighbors;
		d->min_size = c->min_size;
		d->pad = c->pad;
		d->equalize = c->equalize != 0;
		d->max_side = c->max_side;
		d->max_pixels = c->max_pixels;
		d->max_input = c->max_input_bytes;
		rc = load_cascades(d, c, err, errsize);
		if (rc == TCD_OK && c->dnn.model != nullptr)
			rc = load_dnn(d, c, err, errsize);
	} catch (const std::exception &e) {
		rc = backend_error(e, err, errsize);
	} catch (...) {
		tcd_set_err(err, errsize, "OpenCV: unknown failure");
		rc = TCD_ERR_BACKEND;
	}
	if (rc != TCD_OK) {
		delete d;
		return rc;
	}
	*out = d;
	return TCD_OK;
}

/* Frees a detector and sets *d to NULL. */
extern "C" void tcd_detector_free(struct tcd_detector **d)
{
	if (d == nullptr || *d == nullptr)
		return;
	try {
		delete *d;
	} catch (...) {
	}
	*d = nullptr;
}

/* Decodes, detects and optionally annotates; see detector.h. */
extern "C" int tcd_detect(struct tcd_detector *d, const uint8_t *data, size_t size,
                          const char *encode_ext, struct tcd_result *res, char *err, size_t errsize)
{
	int rc;

	std::memset(res, 0, sizeof(*res));
	if (d == nullptr || data == nullptr || size == 0 || size > (size_t)INT32_MAX ||
	    (encode_ext != nullptr && std::strcmp(encode_ext, ".png") != 0 &&
	     std::strcmp(encode_ext, ".bmp") != 0)) {
		tcd_set_err(err, errsize, "invalid arguments");
		return TCD_ERR_INVALID;
	}
	rc = precheck(d, data, size, err, errsize);
	if (rc != TCD_OK)
		return rc;
	try {
		rc = detect(d, data, size, encode_ext, res, err, errsize);
	} catch (const std::exception &e) {
		rc = backend_error(e, err, errsize);
	} catch (...) {
		tcd_set_err(err, errsize, "OpenCV: unknown failure");
		rc = TCD_ERR_BACKEND;
	}
	if (rc != TCD_OK)
		tcd_result_fini(res);
	return rc;
}

/* Frees what res owns and zeroes it. */
extern "C" void tcd_result_fini(struct tcd_result *res)
{
	if (res == nullptr)
		return;
	if (res->image != nullptr)
		std::memset(res->image, 0, res->image_size);
	std::free(res->image);
	std::free(res->boxes);
	std::memset(res, 0, sizeof(*res));
}
