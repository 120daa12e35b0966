/* SPDX-License-Identifier: Apache-2.0 */
/* config.c - detector configuration: defaults, cascade names and the JSON form. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "detector.h"

/* A cascade shipped by Debian's opencv-data, selectable by name. */
struct known_cascade {
	const char *name;
	const char *label;
	const char *file;
};

static const struct known_cascade g_known[] = {
    {"face", "face", "haarcascades/haarcascade_frontalface_alt2.xml"},
    {"face-default", "face", "haarcascades/haarcascade_frontalface_default.xml"},
    {"face-lbp", "face", "lbpcascades/lbpcascade_frontalface_improved.xml"},
    {"profile-face", "profile-face", "haarcascades/haarcascade_profileface.xml"},
    {"eye", "eye", "haarcascades/haarcascade_eye.xml"},
    {"eye-glasses", "eye", "haarcascades/haarcascade_eye_tree_eyeglasses.xml"},
    {"smile", "smile", "haarcascades/haarcascade_smile.xml"},
    {"body", "body", "haarcascades/haarcascade_fullbody.xml"},
    {"upper-body", "upper-body", "haarcascades/haarcascade_upperbody.xml"},
    {"lower-body", "lower-body", "haarcascades/haarcascade_lowerbody.xml"},
    {"cat-face", "cat-face", "lbpcascades/lbpcascade_frontalcatface.xml"},
    {"cat-face-haar", "cat-face", "haarcascades/haarcascade_frontalcatface.xml"},
    {"cat-face-extended", "cat-face", "haarcascades/haarcascade_frontalcatface_extended.xml"},
    {"plate", "plate", "haarcascades/haarcascade_russian_plate_number.xml"},
    {"plate-16", "plate", "haarcascades/haarcascade_licence_plate_rus_16stages.xml"},
    {"silverware", "silverware", "lbpcascades/lbpcascade_silverware.xml"},
};

#define KNOWN_COUNT (sizeof(g_known) / sizeof(g_known[0]))

/* Space-separated list of the known cascade names (static string). */
const char *tcd_cascade_names(void)
{
	return "face face-default face-lbp profile-face eye eye-glasses smile body upper-body "
	       "lower-body cat-face cat-face-haar cat-face-extended plate plate-16 silverware";
}

/* Fills c with the defaults. */
void tcd_config_init(struct tcd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->scale_factor = 1.05;
	c->min_neighbors = 4;
	c->min_size = 24;
	c->pad = 0.1;
	c->max_side = TCD_DEFAULT_MAX_SIDE;
	c->max_pixels = TCD_DEFAULT_MAX_PIXELS;
	c->max_input_bytes = TCD_DEFAULT_MAX_INPUT;
	c->dnn.width = 300;
	c->dnn.height = 300;
	c->dnn.scale = 1.0 / 255.0;
	c->dnn.min_confidence = 0.5;
	c->dnn.nms_threshold = 0.45;
}

/* Removes (and frees) every cascade of c. */
void tcd_config_clear_cascades(struct tcd_config *c)
{
	size_t i;

	for (i = 0; i < c->cascade_count; i++) {
		free(c->cascades[i].label);
		free(c->cascades[i].path);
	}
	memset(c->cascades, 0, sizeof(c->cascades));
	c->cascade_count = 0;
}

/* Frees every string c owns and re-initialises it. */
void tcd_config_fini(struct tcd_config *c)
{
	tcd_config_clear_cascades(c);
	free(c->dnn.model);
	free(c->dnn.config);
	free(c->dnn.labels);
	tcd_config_init(c);
}

/* "dir/file", or file itself when absolute or dir is empty; caller frees. */
static char *join_path(const char *dir, const char *file, size_t file_len)
{
	size_t dlen = dir != NULL ? strlen(dir) : 0;
	char *out;

	if (file_len > 0 && file[0] == '/')
		dlen = 0;
	out = malloc(dlen + file_len + 2);
	if (out == NULL)
		return NULL;
	memcpy(out, dir, dlen);
	if (dlen > 0 && dir[dlen - 1] != '/')
		out[dlen++] = '/';
	memcpy(out + dlen, file, file_len);
	out[dlen + file_len] = '\0';
	return out;
}

/* Appends (label, path) to c, copying both. */
static int push_cascade(struct tcd_config *c, const char *label, size_t label_len, const char *dir,
                        const char *file, size_t file_len, char *err, size_t errsize)
{
	struct tcd_cascade *k;

	if (c->cascade_count >= TCD_MAX_CASCADES) {
		tcd_set_err(err, errsize, "more than %d cascades", TCD_MAX_CASCADES);
		return TCD_ERR_INVALID;
	}
	if (label_len == 0 || label_len >= TCD_LABEL_SIZE || file_len == 0) {
		tcd_set_err(err, errsize,
		            "cascade label must be 1..%d characters and file non-empty",
		            TCD_LABEL_SIZE - 1);
		return TCD_ERR_INVALID;
	}
	k = &c->cascades[c->cascade_count];
	k->label = strndup(label, label_len);
	k->path = join_path(dir, file, file_len);
	if (k->label == NULL || k->path == NULL) {
		free(k->label);
		free(k->path);
		k->label = k->path = NULL;
		return TCD_ERR_NOMEM;
	}
	c->cascade_count++;
	return TCD_OK;
}

/* Adds one cascade spec (known name or label=path); see detector.h. */
int tcd_config_add_cascade(struct tcd_config *c, const char *spec, const char *dir, char *err,
                           size_t errsize)
{
	const char *eq = strchr(spec, '=');
	size_t i;

	if (dir == NULL || dir[0] == '\0')
		dir = TCD_DEFAULT_CASCADE_DIR;
	if (eq != NULL)
		return push_cascade(c, spec, (size_t)(eq - spec), dir, eq + 1, strlen(eq + 1), err,
		                    errsize);
	for (i = 0; i < KNOWN_COUNT; i++) {
		if (strcmp(spec, g_known[i].name) == 0)
			return push_cascade(c, g_known[i].label, strlen(g_known[i].label), dir,
			                    g_known[i].file, strlen(g_known[i].file), err, errsize);
	}
	tcd_set_err(err, errsize, "unknown cascade \"%.64s\" (known: %s; or label=file.xml)", spec,
	            tcd_cascade_names());
	return TCD_ERR_INVALID;
}

/* Replaces the cascades of c with those of a comma-separated list. */
int tcd_config_set_cascades(struct tcd_config *c, const char *list, const char *dir, char *err,
                            size_t errsize)
{
	char *copy = strdup(list), *p, *comma;
	int rc = TCD_OK;

	if (copy == NULL)
		return TCD_ERR_NOMEM;
	tcd_config_clear_cascades(c);
	for (p = copy; rc == TCD_OK && p != NULL; p = comma) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma++ = '\0';
		if (*p != '\0')
			rc = tcd_config_add_cascade(c, p, dir, err, errsize);
	}
	free(copy);
	return rc;
}
