/* SPDX-License-Identifier: Apache-2.0 */
/* tcdetect.c - the inference service: command line, configuration, one-shot mode, signals. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "service.h"

#define TCDETECT_VERSION "0.1.0"
#define EXIT_USAGE 2
#define MAX_CONFIG_FILE (1u << 20)

static const char usage_text[] =
    "Usage: tcdetect [options]                 serve the ov-inference protocol\n"
    "       tcdetect --detect IMAGE [options]  detect once, print JSON, exit\n"
    "\n"
    "Options:\n"
    "  --bind URL           ZeroMQ endpoint to bind (default tcp://*:8888)\n"
    "  --images DIR         where requested image names are read (default images)\n"
    "  --output DIR         where <stem>.bmp is written (default output; created)\n"
    "  --config FILE        detector configuration, JSON (see docs/detect.md)\n"
    "  --cascades LIST      comma-separated cascades (default face,body); names:\n"
    "                       %s\n"
    "                       or label=file.xml\n"
    "  --cascade-dir DIR    base of cascade files (default /usr/share/opencv4)\n"
    "  --dnn-model FILE     add a DNN detector (.onnx, .caffemodel, .pb, .weights)\n"
    "  --dnn-config FILE    its network description (.prototxt, .pbtxt, .cfg)\n"
    "  --dnn-labels FILE    its class names, one per line\n"
    "  --detect IMAGE       one-shot: print the detections of IMAGE as JSON\n"
    "  --annotate FILE      with --detect: write the annotated image (.png or .bmp)\n"
    "  --help, --version\n";

/* Settings from the command line; strings borrowed from argv. */
struct options {
	const char *bind, *images, *output, *config, *cascades, *cascade_dir;
	const char *dnn_model, *dnn_config, *dnn_labels, *detect, *annotate;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* Parses argv into o; returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"bind", required_argument, NULL, 'b'},
	    {"images", required_argument, NULL, 'i'},
	    {"output", required_argument, NULL, 'o'},
	    {"config", required_argument, NULL, 'c'},
	    {"cascades", required_argument, NULL, 'C'},
	    {"cascade-dir", required_argument, NULL, 'D'},
	    {"dnn-model", required_argument, NULL, 'm'},
	    {"dnn-config", required_argument, NULL, 'M'},
	    {"dnn-labels", required_argument, NULL, 'l'},
	    {"detect", required_argument, NULL, 'd'},
	    {"annotate", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char **slot;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			slot = &o->bind;
			break;
		case 'i':
			slot = &o->images;
			break;
		case 'o':
			slot = &o->output;
			break;
		case 'c':
			slot = &o->config;
			break;
		case 'C':
			slot = &o->cascades;
			break;
		case 'D':
			slot = &o->cascade_dir;
			break;
		case 'm':
			slot = &o->dnn_model;
			break;
		case 'M':
			slot = &o->dnn_config;
			break;
		case 'l':
			slot = &o->dnn_labels;
			break;
		case 'd':
			slot = &o->detect;
			break;
		case 'a':
			slot = &o->annotate;
			break;
		case 'h':
			printf(usage_text, tcd_cascade_names());
			return EXIT_SUCCESS;
		case 'V':
			printf("tcdetect %s\n", TCDETECT_VERSION);
			return EXIT_SUCCESS;
		case ':':
			fprintf(stderr, "tcdetect: option '%s' needs a value\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "tcdetect: invalid option '%s'\nTry 'tcdetect --help'.\n",
			        argv[optind - 1]);
			return EXIT_USAGE;
		}
		*slot = optarg;
	}
	if (optind < argc) {
		fprintf(stderr, "tcdetect: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->annotate != NULL && o->detect == NULL) {
		fprintf(stderr, "tcdetect: --annotate needs --detect IMAGE\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* Reads a whole file of at most max bytes into *out (caller frees,
 * NUL-terminated). */
static int slurp(const char *path, size_t max, char **out, size_t *size)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return TCD_ERR_IO;
	buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		return TCD_ERR_NOMEM;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		fclose(f);
		free(buf);
		return n > max ? TCD_ERR_TOO_LARGE : TCD_ERR_IO;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*size = n;
	return TCD_OK;
}

/* Replaces *slot with a copy of value (when value is set). */
static int set_string(char **slot, const char *value)
{
	char *copy;

	if (value == NULL)
		return TCD_OK;
	copy = strdup(value);
	if (copy == NULL)
		return TCD_ERR_NOMEM;
	free(*slot);
	*slot = copy;
	return TCD_OK;
}

/* Builds the detector configuration: defaults, then --config, then flags. */
static int build_config(const struct options *o, struct tcd_config *c, char *err, size_t errsize)
{
	char *text = NULL;
	size_t size = 0;
	int rc;

	tcd_config_init(c);
	rc = tcd_config_set_cascades(c, TCD_DEFAULT_CASCADES, o->cascade_dir, err, errsize);
	if (rc == TCD_OK && o->config != NULL) {
		rc = slurp(o->config, MAX_CONFIG_FILE, &text, &size);
		if (rc != TCD_OK)
			tcd_set_err(err, errsize, "%s: cannot read (%s)", o->config,
			            tcd_strerror(rc));
		else if (strlen(text) != size)
			rc = TCD_ERR_INVALID;
		if (rc == TCD_OK)
			rc = tcd_config_from_json(c, text, err, errsize);
		free(text);
	}
	if (rc == TCD_OK && o->cascades != NULL)
		rc = tcd_config_set_cascades(c, o->cascades, o->cascade_dir, err, errsize);
	if (rc == TCD_OK)
		rc = set_string(&c->dnn.model, o->dnn_model);
	if (rc == TCD_OK)
		rc = set_string(&c->dnn.config, o->dnn_config);
	if (rc == TCD_OK)
		rc = set_string(&c->dnn.labels, o->dnn_labels);
	if (rc == TCD_OK && c->dnn.model == NULL &&
	    (c->dnn.config != NULL || c->dnn.labels != NULL)) {
		tcd_set_err(err, errsize, "--dnn-config and --dnn-labels need --dnn-model");
		rc = TCD_ERR_INVALID;
	}
	if (rc == TCD_OK && c->cascade_count == 0 && c->dnn.model == NULL) {
		tcd_set_err(err, errsize, "no detector configured (no cascades and no DNN model)");
		rc = TCD_ERR_INVALID;
	}
	return rc;
}

/* One-shot mode: prints the detections of one file; returns the exit status. */
static int detect_once(struct tcd_detector *d, const struct options *o, size_t max_input)
{
	char err[TCD_ERR_SIZE] = "", *json, *data = NULL;
	const char *ext = NULL;
	struct tcd_result res = {0};
	size_t size = 0, n;
	int rc;
	FILE *f;

	if (o->annotate != NULL) {
		n = strlen(o->annotate);
		ext = n > 4 && strcmp(o->annotate + n - 4, ".bmp") == 0 ? ".bmp" : ".png";
	}
	rc = slurp(o->detect, max_input, &data, &size);
	if (rc != TCD_OK) {
		fprintf(stderr, "tcdetect: %s: cannot read (%s)\n", o->detect, tcd_strerror(rc));
		return EXIT_FAILURE;
	}
	rc = tcd_detect(d, (const uint8_t *)data, size, ext, &res, err, sizeof(err));
	free(data);
	if (rc != TCD_OK) {
		fprintf(stderr, "tcdetect: %s: %s\n", o->detect, err);
		return EXIT_FAILURE;
	}
	json = tcd_boxes_json(res.boxes, res.count);
	if (json != NULL)
		printf("%s\n", json);
	free(json);
	fprintf(stderr, "tcdetect: %s: %dx%d, %zu detections\n", o->detect, res.width, res.height,
	        res.count);
	if (ext != NULL) {
		f = fopen(o->annotate, "wb");
		if (f == NULL || fwrite(res.image, 1, res.image_size, f) != res.image_size) {
			fprintf(stderr, "tcdetect: %s: cannot write: %s\n", o->annotate,
			        strerror(errno));
			rc = TCD_ERR_IO;
		}
		if (f != NULL && fclose(f) != 0)
			rc = TCD_ERR_IO;
	}
	tcd_result_fini(&res);
	return json != NULL && rc == TCD_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Opens dir as a directory descriptor (creating it when create is set). */
static int open_dir(const char *dir, int create)
{
	if (create && mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -1;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Serves the reference protocol until SIGTERM or SIGINT. */
static int serve(struct tcd_detector *d, const struct options *o, size_t max_input)
{
	struct tcd_service s = {.detector = d, .max_input = max_input};
	struct sigaction sa;
	int rc = EXIT_FAILURE;

	s.images_fd = open_dir(o->images, 0);
	s.output_fd = open_dir(o->output, 1);
	if (s.images_fd < 0 || s.output_fd < 0) {
		fprintf(stderr, "tcdetect: cannot open %s directory %s: %s\n",
		        s.images_fd < 0 ? "images" : "output",
		        s.images_fd < 0 ? o->images : o->output, strerror(errno));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	tcd_log("images from %s, annotated images to %s", o->images, o->output);
	if (tcd_service_run(&s, o->bind, &g_stop) == TCD_OK)
		rc = EXIT_SUCCESS;
out:
	if (s.images_fd >= 0)
		close(s.images_fd);
	if (s.output_fd >= 0)
		close(s.output_fd);
	return rc;
}

/* Parses flags, loads the detectors, then serves or detects once. */
int main(int argc, char **argv)
{
	struct options o = {.bind = "tcp://*:8888", .images = "images", .output = "output"};
	struct tcd_detector *d = NULL;
	struct tcd_config c;
	char err[TCD_ERR_SIZE] = "";
	size_t max_input;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	rc = build_config(&o, &c, err, sizeof(err));
	if (rc != TCD_OK) {
		fprintf(stderr, "tcdetect: %s\n", err[0] != '\0' ? err : tcd_strerror(rc));
		tcd_config_fini(&c);
		return EXIT_USAGE;
	}
	max_input = c.max_input_bytes;
	rc = tcd_detector_new(&c, &d, err, sizeof(err));
	tcd_config_fini(&c);
	if (rc != TCD_OK) {
		fprintf(stderr, "tcdetect: %s\n", err);
		return EXIT_USAGE;
	}
	rc = o.detect != NULL ? detect_once(d, &o, max_input) : serve(d, &o, max_input);
	tcd_detector_free(&d);
	return rc;
}
