/* SPDX-License-Identifier: Apache-2.0 */
/* output.c - tcclient result printing: reference-style text lines or JSON. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tcclient.h"
#include "tcw/utf8.h"

/* Length of the well-formed UTF-8 sequence at p (n bytes available) that
 * encodes a printable, non-control code point; 0 when there is none. */
static size_t utf8_seq(const uint8_t *p, size_t n, int printable)
{
	uint32_t cp;
	size_t len = tcw_utf8_char(p, n, &cp);

	if (printable && len > 1 && cp < 0xa0) /* C1 control characters */
		return 0;
	return len;
}

/* 1 when data is well-formed UTF-8 (no overlongs or surrogates). */
int tcc_utf8_valid(const uint8_t *data, size_t size)
{
	size_t i = 0, len;

	while (i < size) {
		len = utf8_seq(data + i, size - i, 0);
		if (len == 0)
			return 0;
		i += len;
	}
	return 1;
}

/* One-line printable copy of data; caller frees (tcw_free_secret). */
char *tcc_escape(const uint8_t *data, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char *out, *w;
	size_t i = 0, len;

	if (size > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(size * 4 + 1);
	if (out == NULL)
		return NULL;
	w = out;
	while (i < size) {
		uint8_t c = data[i];

		len = utf8_seq(data + i, size - i, 1);
		if (c == '\\' || c == '\n' || c == '\t' || c == '\r') {
			*w++ = '\\';
			*w++ = c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
			i++;
		} else if (len > 1 || (len == 1 && c >= 0x20 && c < 0x7f)) {
			memcpy(w, data + i, len);
			w += len;
			i += len;
		} else {
			*w++ = '\\';
			*w++ = 'x';
			*w++ = hex[c >> 4];
			*w++ = hex[c & 0xf];
			i++;
		}
	}
	*w = '\0';
	return out;
}

/* Prints the reference client's line(s) for one outcome. */
static int report_text(FILE *out, const struct tcc_outcome *o)
{
	const struct tcw_order_result *r = o->res;
	char *text;
	size_t i;

	switch (o->kind) {
	case TCC_OUT_OK:
		for (i = 0; i < r->output_count; i++) {
			if (o->saved != NULL)
				fprintf(stderr, "Work order output saved : %s\n", o->saved[i]);
			if (o->saved != NULL && !tcc_utf8_valid(r->outputs[i].data, r->outputs[i].size)) {
				fprintf(out, "Work order result : %zu bytes saved to %s\n",
				        r->outputs[i].size, o->saved[i]);
				continue;
			}
			text = tcc_escape(r->outputs[i].data, r->outputs[i].size);
			if (text == NULL)
				return TCW_ERR_NOMEM;
			fprintf(out, "Work order result : %s\n", text);
			tcw_free_secret(text, strlen(text) + 1);
		}
		if (r->output_count == 0)
			fputs("Work order result : \n", out);
		break;
	case TCC_OUT_REMOTE:
		text = tcc_escape((const uint8_t *)(r->error_message ? r->error_message : ""),
		                  r->error_message ? strlen(r->error_message) : 0);
		if (text == NULL)
			return TCW_ERR_NOMEM;
		fprintf(out, "Work order execution failed: %d %s\n", r->error_code, text);
		free(text);
		break;
	case TCC_OUT_VERIFY:
		fputs("Work order result verification fail\n", out);
		break;
	default:
		fprintf(out, "Work order execution failed: %s\n",
		        o->detail ? o->detail : "unknown error");
		break;
	}
	return TCW_OK;
}

/* Adds key: bytes as a JSON string (escaped when not UTF-8, then also
 * key + "Base64" with the exact bytes). */
static int add_bytes(struct json_object *obj, const char *key, const uint8_t *data, size_t size)
{
	char b64key[64];
	char *text;
	int rc = 0;

	if (tcc_utf8_valid(data, size))
		return json_object_object_add(
		    obj, key, json_object_new_string_len((const char *)data, (int)size));
	text = tcc_escape(data, size);
	if (text == NULL)
		return -1;
	rc |= json_object_object_add(obj, key, json_object_new_string(text));
	tcw_free_secret(text, strlen(text) + 1);
	text = tcw_b64_encode(data, size, NULL);
	if (text == NULL)
		return -1;
	snprintf(b64key, sizeof(b64key), "%sBase64", key);
	rc |= json_object_object_add(obj, b64key, json_object_new_string(text));
	tcw_free_secret(text, strlen(text) + 1);
	return rc;
}

/* Name of an outcome kind in JSON output. */
static const char *kind_name(enum tcc_outcome_kind k)
{
	switch (k) {
	case TCC_OUT_OK:
		return "ok";
	case TCC_OUT_REMOTE:
		return "remote";
	case TCC_OUT_VERIFY:
		return "verify";
	case TCC_OUT_TIMEOUT:
		return "timeout";
	case TCC_OUT_TRANSPORT:
		return "transport";
	default:
		return "request";
	}
}

/* Fills the "result"/"error" members of a JSON outcome. */
static int fill_json(struct json_object *obj, const struct tcc_outcome *o)
{
	const struct tcw_order_result *r = o->res;
	struct json_object *e;
	int rc = 0;

	if (o->kind == TCC_OUT_OK) {
		rc |= json_object_object_add(obj, "ok", json_object_new_boolean(1));
		if (r->output_count == 0)
			return rc |
			       json_object_object_add(obj, "result", json_object_new_string(""));
		return rc | add_bytes(obj, "result", r->outputs[0].data, r->outputs[0].size);
	}
	rc |= json_object_object_add(obj, "ok", json_object_new_boolean(0));
	e = json_object_new_object();
	if (e == NULL)
		return -1;
	rc |= json_object_object_add(obj, "error", e);
	rc |= json_object_object_add(e, "kind", json_object_new_string(kind_name(o->kind)));
	if (o->kind == TCC_OUT_REMOTE) {
		const char *m = r->error_message ? r->error_message : "";

		rc |= json_object_object_add(e, "code", json_object_new_int(r->error_code));
		return rc | add_bytes(e, "message", (const uint8_t *)m, strlen(m));
	}
	return rc | json_object_object_add(
	                e, "message",
	                json_object_new_string(o->kind == TCC_OUT_VERIFY
	                                           ? "Work order result verification fail"
	                                       : o->detail ? o->detail
	                                                   : "unknown error"));
}

/* Adds "files": [saved paths] to a JSON outcome when outputs were saved. */
static int json_add_saved(struct json_object *obj, const struct tcc_outcome *o)
{
	struct json_object *arr;
	size_t i;

	if (o->saved == NULL || o->res == NULL)
		return 0;
	arr = json_object_new_array();
	if (arr == NULL)
		return -1;
	for (i = 0; i < o->res->output_count; i++) {
		if (json_object_array_add(arr, json_object_new_string(o->saved[i])) != 0) {
			json_object_put(arr);
			return -1;
		}
	}
	return json_object_object_add(obj, "files", arr) != 0 ? -1 : 0;
}

/* Prints one JSON object line for an outcome. */
static int report_json(FILE *out, const struct tcc_outcome *o)
{
	struct json_object *obj = json_object_new_object();
	int rc = TCW_ERR_NOMEM;

	if (obj == NULL)
		return rc;
	if (add_bytes(obj, "workloadId", (const uint8_t *)o->workload, strlen(o->workload)) != 0)
		goto out;
	if (o->work_order_id != NULL &&
	    json_object_object_add(obj, "workOrderId", json_object_new_string(o->work_order_id)) !=
	        0)
		goto out;
	if (fill_json(obj, o) != 0 || json_add_saved(obj, o) != 0)
		goto out;
	fprintf(out, "%s\n",
	        json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	                                                JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = TCW_OK;
out:
	json_object_put(obj);
	return rc;
}

/* Prints one outcome as text or a JSON line and flushes out. */
int tcc_report(FILE *out, int json, const struct tcc_outcome *o)
{
	int rc = json ? report_json(out, o) : report_text(out, o);

	fflush(out);
	return rc;
}
