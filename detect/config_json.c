/* SPDX-License-Identifier: Apache-2.0 */
/* config_json.c - reads a detector configuration from its JSON form. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "detector.h"

#define CONFIG_MAX_DEPTH 8

static const char *const g_top_keys[] = {
    "cascade_dir", "cascades", "scale_factor", "min_neighbors",   "min_size", "pad",
    "equalize",    "max_side", "max_pixels",   "max_input_bytes", "dnn",      NULL,
};
static const char *const g_dnn_keys[] = {
    "model",   "config", "labels", "width",          "height",        "scale", "mean",
    "swap_rb", "layout", "coords", "min_confidence", "nms_threshold", NULL,
};

/* Fails unless every key of obj is in known (prefix names the object). */
static int check_keys(json_object *obj, const char *const *known, const char *prefix, char *err,
                      size_t errsize)
{
	size_t i;

	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		for (i = 0; known[i] != NULL; i++) {
			if (strcmp(key, known[i]) == 0)
				break;
		}
		if (known[i] == NULL) {
			tcd_set_err(err, errsize, "unknown key \"%s%.64s\"", prefix, key);
			return TCD_ERR_INVALID;
		}
	}
	return TCD_OK;
}

/* Reads obj[key] as a number in [lo, hi] into *out when present. */
static int get_number(json_object *obj, const char *key, double lo, double hi, double *out,
                      char *err, size_t errsize)
{
	json_object *v;
	double d;

	if (!json_object_object_get_ex(obj, key, &v))
		return TCD_OK;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
		tcd_set_err(err, errsize, "\"%s\" must be a number", key);
		return TCD_ERR_INVALID;
	}
	d = json_object_get_double(v);
	if (!isfinite(d) || d < lo || d > hi) {
		tcd_set_err(err, errsize, "\"%s\" must be between %g and %g", key, lo, hi);
		return TCD_ERR_INVALID;
	}
	*out = d;
	return TCD_OK;
}

/* Reads obj[key] as an integer in [lo, hi] into *out when present. */
static int get_int(json_object *obj, const char *key, long long lo, long long hi, long long *out,
                   char *err, size_t errsize)
{
	json_object *v;
	long long n;

	if (!json_object_object_get_ex(obj, key, &v))
		return TCD_OK;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < lo || n > hi) {
		tcd_set_err(err, errsize, "\"%s\" must be an integer between %lld and %lld", key,
		            lo, hi);
		return TCD_ERR_INVALID;
	}
	*out = n;
	return TCD_OK;
}

/* Reads obj[key] as true/false into *out (1/0) when present. */
static int get_bool(json_object *obj, const char *key, int *out, char *err, size_t errsize)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return TCD_OK;
	if (!json_object_is_type(v, json_type_boolean)) {
		tcd_set_err(err, errsize, "\"%s\" must be true or false", key);
		return TCD_ERR_INVALID;
	}
	*out = json_object_get_boolean(v) ? 1 : 0;
	return TCD_OK;
}

/* Replaces *slot with a copy of the non-empty string obj[key] when present. */
static int get_string(json_object *obj, const char *key, char **slot, char *err, size_t errsize)
{
	json_object *v;
	char *copy;

	if (!json_object_object_get_ex(obj, key, &v))
		return TCD_OK;
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		tcd_set_err(err, errsize, "\"%s\" must be a non-empty string", key);
		return TCD_ERR_INVALID;
	}
	copy = strdup(json_object_get_string(v));
	if (copy == NULL)
		return TCD_ERR_NOMEM;
	free(*slot);
	*slot = copy;
	return TCD_OK;
}

/* Reads the "cascades" array: names / "label=file" strings or objects
 * {"label", "file"}; replaces the cascades of c. */
static int get_cascades(struct tcd_config *c, json_object *root, char *err, size_t errsize)
{
	json_object *arr, *v, *label, *file;
	const char *dir = NULL;
	size_t i, n;
	int rc;

	if (!json_object_object_get_ex(root, "cascades", &arr))
		return TCD_OK;
	if (json_object_object_get_ex(root, "cascade_dir", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			tcd_set_err(err, errsize, "\"cascade_dir\" must be a string");
			return TCD_ERR_INVALID;
		}
		dir = json_object_get_string(v);
	}
	if (!json_object_is_type(arr, json_type_array)) {
		tcd_set_err(err, errsize, "\"cascades\" must be an array");
		return TCD_ERR_INVALID;
	}
	tcd_config_clear_cascades(c);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (json_object_is_type(v, json_type_string)) {
			rc =
			    tcd_config_add_cascade(c, json_object_get_string(v), dir, err, errsize);
		} else if (json_object_is_type(v, json_type_object) &&
		           json_object_object_get_ex(v, "label", &label) &&
		           json_object_object_get_ex(v, "file", &file) &&
		           json_object_is_type(label, json_type_string) &&
		           json_object_is_type(file, json_type_string) &&
		           json_object_object_length(v) == 2 &&
		           strchr(json_object_get_string(label), '=') == NULL) {
			char spec[TCD_LABEL_SIZE + 4096];
			int len =
			    snprintf(spec, sizeof(spec), "%s=%s", json_object_get_string(label),
			             json_object_get_string(file));

			rc = len < 0 || (size_t)len >= sizeof(spec)
			         ? TCD_ERR_INVALID
			         : tcd_config_add_cascade(c, spec, dir, err, errsize);
		} else {
			tcd_set_err(err, errsize,
			            "\"cascades\"[%zu] must be a name or {\"label\", \"file\"}", i);
			rc = TCD_ERR_INVALID;
		}
		if (rc != TCD_OK)
			return rc;
	}
	return TCD_OK;
}

/* Reads the "mean" array of three numbers. */
static int get_mean(json_object *dnn, double mean[3], char *err, size_t errsize)
{
	json_object *arr, *v;
	size_t i;

	if (!json_object_object_get_ex(dnn, "mean", &arr))
		return TCD_OK;
	if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) != 3)
		goto bad;
	for (i = 0; i < 3; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_double) &&
		    !json_object_is_type(v, json_type_int))
			goto bad;
		mean[i] = json_object_get_double(v);
		if (!isfinite(mean[i]))
			goto bad;
	}
	return TCD_OK;
bad:
	tcd_set_err(err, errsize, "\"dnn.mean\" must be an array of 3 numbers");
	return TCD_ERR_INVALID;
}

/* Reads one of two words of obj[key] into *out (0 for first, 1 for second). */
static int get_choice(json_object *obj, const char *key, const char *const *words, int *out,
                      char *err, size_t errsize)
{
	json_object *v;
	int i;

	if (!json_object_object_get_ex(obj, key, &v))
		return TCD_OK;
	for (i = 0; json_object_is_type(v, json_type_string) && words[i] != NULL; i++) {
		if (strcmp(json_object_get_string(v), words[i]) == 0) {
			*out = i;
			return TCD_OK;
		}
	}
	tcd_set_err(err, errsize, "\"dnn.%s\" has an unknown value", key);
	return TCD_ERR_INVALID;
}

/* Reads the "dnn" object into c->dnn. */
static int get_dnn(struct tcd_config *c, json_object *root, char *err, size_t errsize)
{
	static const char *const layouts[] = {"auto", "ssd", "yolo", NULL};
	static const char *const coords[] = {"normalized", "pixels", NULL};
	struct tcd_dnn *d = &c->dnn;
	json_object *dnn;
	long long w = d->width, h = d->height;
	int layout = (int)d->layout, rc;

	if (!json_object_object_get_ex(root, "dnn", &dnn))
		return TCD_OK;
	if (!json_object_is_type(dnn, json_type_object)) {
		tcd_set_err(err, errsize, "\"dnn\" must be an object");
		return TCD_ERR_INVALID;
	}
	if ((rc = check_keys(dnn, g_dnn_keys, "dnn.", err, errsize)) != 0 ||
	    (rc = get_string(dnn, "model", &d->model, err, errsize)) != 0 ||
	    (rc = get_string(dnn, "config", &d->config, err, errsize)) != 0 ||
	    (rc = get_string(dnn, "labels", &d->labels, err, errsize)) != 0 ||
	    (rc = get_int(dnn, "width", 1, 4096, &w, err, errsize)) != 0 ||
	    (rc = get_int(dnn, "height", 1, 4096, &h, err, errsize)) != 0 ||
	    (rc = get_number(dnn, "scale", 1e-9, 1e9, &d->scale, err, errsize)) != 0 ||
	    (rc = get_mean(dnn, d->mean, err, errsize)) != 0 ||
	    (rc = get_choice(dnn, "layout", layouts, &layout, err, errsize)) != 0 ||
	    (rc = get_choice(dnn, "coords", coords, &d->pixel_coords, err, errsize)) != 0 ||
	    (rc = get_number(dnn, "min_confidence", 0, 1, &d->min_confidence, err, errsize)) != 0 ||
	    (rc = get_number(dnn, "nms_threshold", 0, 1, &d->nms_threshold, err, errsize)) != 0)
		return rc;
	if ((rc = get_bool(dnn, "swap_rb", &d->swap_rb, err, errsize)) != 0)
		return rc;
	d->width = (int)w;
	d->height = (int)h;
	d->layout = (enum tcd_layout)layout;
	if (d->model == NULL && (d->config != NULL || d->labels != NULL)) {
		tcd_set_err(err, errsize, "\"dnn\" needs \"model\"");
		return TCD_ERR_INVALID;
	}
	return TCD_OK;
}

/* Applies the scalar limits and cascade tuning of root to c. */
static int get_limits(struct tcd_config *c, json_object *root, char *err, size_t errsize)
{
	long long neighbors = c->min_neighbors, min_size = c->min_size, max_side = c->max_side;
	long long max_pixels = (long long)c->max_pixels;
	long long max_input = (long long)c->max_input_bytes;
	int rc;

	if ((rc = get_number(root, "scale_factor", 1.01, 4.0, &c->scale_factor, err, errsize)) !=
	        0 ||
	    (rc = get_int(root, "min_neighbors", 0, 100, &neighbors, err, errsize)) != 0 ||
	    (rc = get_int(root, "min_size", 1, 10000, &min_size, err, errsize)) != 0 ||
	    (rc = get_number(root, "pad", 0, 0.5, &c->pad, err, errsize)) != 0 ||
	    (rc = get_bool(root, "equalize", &c->equalize, err, errsize)) != 0 ||
	    (rc = get_int(root, "max_side", 0, 20000, &max_side, err, errsize)) != 0 ||
	    (rc = get_int(root, "max_pixels", 1, 1000000000LL, &max_pixels, err, errsize)) != 0 ||
	    (rc = get_int(root, "max_input_bytes", 1, 1LL << 30, &max_input, err, errsize)) != 0)
		return rc;
	c->min_neighbors = (int)neighbors;
	c->min_size = (int)min_size;
	c->max_side = (int)max_side;
	c->max_pixels = (uint64_t)max_pixels;
	c->max_input_bytes = (size_t)max_input;
	return TCD_OK;
}

/* Applies a JSON object on top of c; see detector.h. */
int tcd_config_from_json(struct tcd_config *c, const char *json, char *err, size_t errsize)
{
	struct json_tokener *tok = json_tokener_new_ex(CONFIG_MAX_DEPTH);
	json_object *root = NULL;
	size_t len = strlen(json);
	int rc = TCD_ERR_INVALID;

	if (tok == NULL)
		return TCD_ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		tcd_set_err(err, errsize, "configuration is not one valid JSON value");
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		tcd_set_err(err, errsize, "configuration must be a JSON object");
		goto out;
	}
	if ((rc = check_keys(root, g_top_keys, "", err, errsize)) != 0 ||
	    (rc = get_limits(c, root, err, errsize)) != 0 ||
	    (rc = get_cascades(c, root, err, errsize)) != 0 ||
	    (rc = get_dnn(c, root, err, errsize)) != 0)
		goto out;
	rc = TCD_OK;
out:
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}
