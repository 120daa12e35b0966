/* SPDX-License-Identifier: Apache-2.0 */
/* orders.c - tcclient work order lists and the reference test file format. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tcclient.h"

static void set_err(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats a diagnostic into err (errsize bytes, always terminated). */
static void set_err(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

/* Appends a copy of (workload, input) to l; the list owns the copies. */
int tcc_orders_add(struct tcc_order_list *l, const char *workload, const void *input, size_t size)
{
	struct tcc_order_spec *items, *spec;
	size_t name_len = strlen(workload);

	items = realloc(l->items, (l->count + 1) * sizeof(*items));
	if (items == NULL)
		return TCW_ERR_NOMEM;
	l->items = items;
	spec = &items[l->count];
	memset(spec, 0, sizeof(*spec));
	spec->workload = malloc(name_len + 1);
	spec->input = malloc(size > 0 ? size : 1);
	if (spec->workload == NULL || spec->input == NULL) {
		free(spec->workload);
		free(spec->input);
		return TCW_ERR_NOMEM;
	}
	memcpy(spec->workload, workload, name_len + 1);
	if (size > 0)
		memcpy(spec->input, input, size);
	spec->input_size = size;
	l->count++;
	return TCW_OK;
}

/* Wipes the inputs, frees every order of l and zeroes it. */
void tcc_orders_fini(struct tcc_order_list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++) {
		free(l->items[i].workload);
		tcw_free_secret(l->items[i].input, l->items[i].input_size);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* Reads a whole file (at most TCC_MAX_FILE_SIZE bytes) into *out (caller
 * frees, NUL-terminated). */
static int read_file(const char *path, char **out, size_t *out_size, char *err, size_t errsize)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc = TCW_ERR_INVALID_PARAM;

	f = fopen(path, "rb");
	if (f == NULL) {
		set_err(err, errsize, "cannot read work order file '%s': %s", path,
		        strerror(errno));
		return rc;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				set_err(err, errsize, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > TCC_MAX_FILE_SIZE) {
			set_err(err, errsize,
			        "work order file '%s' is larger "
			        "than %u bytes",
			        path, TCC_MAX_FILE_SIZE);
			goto out;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		set_err(err, errsize, "cannot read work order file '%s'", path);
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*out_size = len;
	buf = NULL;
	rc = TCW_OK;
out:
	fclose(f);
	free(buf);
	return rc;
}

/* Parses text as exactly one JSON value; NULL (message in err) if not. */
static struct json_object *parse_json(const char *path, const char *text, size_t len, char *err,
                                      size_t errsize)
{
	struct json_tokener *tok;
	struct json_object *root;
	size_t end;

	tok = json_tokener_new_ex(TCC_MAX_FILE_DEPTH);
	if (tok == NULL) {
		set_err(err, errsize, "%s: out of memory", path);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		set_err(err, errsize,
		        "work order file '%s' is not valid JSON "
		        "(%s at byte %zu)",
		        path, json_tokener_error_desc(json_tokener_get_error(tok)),
		        json_tokener_get_parse_end(tok));
		json_object_put(root);
		root = NULL;
		goto out;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (strchr(" \t\r\n", text[end]) == NULL) {
			set_err(err, errsize,
			        "work order file '%s': trailing "
			        "data after the JSON value",
			        path);
			json_object_put(root);
			root = NULL;
			break;
		}
	}
out:
	json_tokener_free(tok);
	return root;
}

/* Returns the string member key of obj with its length, or NULL if it is
 * missing, not a string or contains a NUL byte. */
static const char *get_string(struct json_object *obj, const char *key, size_t *len)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return strlen(s) == *len ? s : NULL;
}

/* Adds entry i of the workOrders array to out (skips it when it has no
 * workloadId). */
static int add_entry(const char *path, struct json_object *entry, size_t i,
                     struct tcc_order_list *out, char *err, size_t errsize)
{
	const char *name, *params;
	size_t name_len, params_len;

	if (!json_object_is_type(entry, json_type_object)) {
		set_err(err, errsize,
		        "work order file '%s': workOrders[%zu] "
		        "is not an object",
		        path, i);
		return TCW_ERR_INVALID_PARAM;
	}
	if (!json_object_object_get_ex(entry, "workloadId", NULL)) {
		fprintf(stderr,
		        "tcclient: %s: skipping workOrders[%zu]: no "
		        "workloadId\n",
		        path, i);
		return TCW_OK;
	}
	name = get_string(entry, "workloadId", &name_len);
	if (name == NULL || name_len == 0) {
		set_err(err, errsize,
		        "work order file '%s': workOrders[%zu]: "
		        "\"workloadId\" must be a non-empty string",
		        path, i);
		return TCW_ERR_INVALID_PARAM;
	}
	params = get_string(entry, "params", &params_len);
	if (params == NULL) {
		set_err(err, errsize,
		        "work order file '%s': workOrders[%zu] "
		        "(workload '%.64s'): \"params\" is missing or not a "
		        "string",
		        path, i, name);
		return TCW_ERR_INVALID_PARAM;
	}
	if (tcc_orders_add(out, name, params, params_len) != 0) {
		set_err(err, errsize, "%s: out of memory", path);
		return TCW_ERR_NOMEM;
	}
	return TCW_OK;
}

/* Loads a work order file into out (released by tcc_orders_fini). */
int tcc_orders_load(const char *path, struct tcc_order_list *out, char *err, size_t errsize)
{
	struct json_object *root = NULL, *arr;
	char *text = NULL;
	size_t len = 0, i, n;
	int rc;

	rc = read_file(path, &text, &len, err, errsize);
	if (rc != 0)
		return rc;
	rc = TCW_ERR_INVALID_PARAM;
	root = parse_json(path, text, len, err, errsize);
	if (root == NULL)
		goto out;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "workOrders", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		set_err(err, errsize,
		        "work order file '%s': expected an object "
		        "with a \"workOrders\" array",
		        path);
		goto out;
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		rc = add_entry(path, json_object_array_get_idx(arr, i), i, out, err, errsize);
		if (rc != 0) {
			tcc_orders_fini(out);
			goto out;
		}
	}
	rc = TCW_OK;
out:
	json_object_put(root);
	tcw_free_secret(text, len + 1);
	return rc;
}
