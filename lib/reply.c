/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reply.c - the result reply of a work order written straight into one
 * buffer of its final size: the outData texts are sealed in place, hashed
 * where they lie and sent from there, instead of being copied into json-c
 * strings, a growing printbuf and a final copy (megabytes per large order).
 * The text is the one json-c writes for the same tree (JSON_C_TO_STRING_PLAIN
 * | JSON_C_TO_STRING_NOSLASHESCAPE), byte for byte.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tcw/tcw.h"

/* The signature's base64 text is at most this long. */
#define SIG_B64_MAX (4 * ((TCW_ECDSA_DER_MAX + 2) / 3))

/* Characters of s as a JSON string with its quotes, escaped as json-c does. */
static size_t json_str_len(const char *s)
{
	size_t n = 2;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '\b' || *p == '\n' || *p == '\r' ||
		    *p == '\t' || *p == '\f')
			n += 2;
		else if (*p < ' ')
			n += 6;
		else
			n++;
	}
	return n;
}

/* Writes s as a JSON string at out (json_str_len(s) characters); returns
 * the end. */
static char *json_str_put(char *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	*out++ = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const char *esc = NULL;

		switch (*p) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\f': esc = "\\f"; break;
		default: break;
		}
		if (esc) {
			memcpy(out, esc, 2);
			out += 2;
		} else if (*p < ' ') {
			memcpy(out, "\\u00", 4);
			out[4] = hex[*p >> 4];
			out[5] = hex[*p & 0xf];
			out += 6;
		} else {
			*out++ = (char)*p;
		}
	}
	*out++ = '"';
	return out;
}

/* Appends the literal text lit at out; returns the end. */
static char *put_lit(char *out, const char *lit)
{
	size_t n = strlen(lit);

	memcpy(out, lit, n);
	return out + n;
}

static const char *const g_head_keys[5] = {"workloadId", "workOrderId", "workerId",
                                           "requesterId", "workerNonce"};

/* Starts the result reply (see internal.h). */
int tcwi_reply_begin(json_object *id, const char *const fields[5],
                     struct tcwi_reply_item *items, size_t n, struct tcwi_reply *r)
{
	const char *id_text;
	size_t id_len = 0, size, add;
	char index[24];
	char *p;
	int k;

	memset(r, 0, sizeof(*r));
	id_text = json_object_to_json_string_length(
	    id, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &id_len);
	if (!id_text)
		return TCW_ERR_NOMEM;
	/* {"jsonrpc":"2.0","id":ID,"result":{"workloadId":S,...,"outData":[ */
	size = strlen("{\"jsonrpc\":\"2.0\",\"id\":,\"result\":{\"outData\":[") + id_len;
	for (int i = 0; i < 5; i++)
		size += strlen(g_head_keys[i]) + 4 + json_str_len(fields[i]);
	for (size_t i = 0; i < n; i++) {
		/* {"index":N,"data":"D","encryptedDataEncryptionKey":S,"iv":S}, */
		add = strlen("{\"index\":,\"data\":\"\",\"encryptedDataEncryptionKey\":,\"iv\":},") +
		      (size_t)snprintf(index, sizeof(index), "%" PRId64, items[i].index) +
		      json_str_len(items[i].dek) + json_str_len(items[i].iv);
		if (items[i].data_len > SIZE_MAX / 2 - size - add)
			return TCW_ERR_NOMEM;
		size += add + items[i].data_len;
	}
	/* ],"workerSignature":"SIG"}} and the NUL */
	size += strlen("],\"workerSignature\":\"\"}}") + SIG_B64_MAX + 1;
	r->buf = malloc(size);
	if (!r->buf)
		return TCW_ERR_NOMEM;
	r->cap = size;
	p = put_lit(r->buf, "{\"jsonrpc\":\"2.0\",\"id\":");
	memcpy(p, id_text, id_len);
	p = put_lit(p + id_len, ",\"result\":{");
	for (int i = 0; i < 5; i++) {
		*p++ = '"';
		p = put_lit(p, g_head_keys[i]);
		p = put_lit(p, "\":");
		p = json_str_put(p, fields[i]);
		*p++ = ',';
	}
	p = put_lit(p, "\"outData\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		p = put_lit(p, "{\"index\":");
		k = snprintf(index, sizeof(index), "%" PRId64, items[i].index);
		memcpy(p, index, (size_t)k);
		p += k;
		p = put_lit(p, ",\"data\":\"");
		items[i].data = p;
		p += items[i].data_len;
		p = put_lit(p, "\",\"encryptedDataEncryptionKey\":");
		p = json_str_put(p, items[i].dek);
		p = put_lit(p, ",\"iv\":");
		p = json_str_put(p, items[i].iv);
		*p++ = '}';
	}
	r->len = (size_t)(p - r->buf);
	return TCW_OK;
}

/* Ends the result reply with the signature (see internal.h). */
int tcwi_reply_finish(struct tcwi_reply *r, const char *signature, char **reply,
                      size_t *reply_size)
{
	size_t need = strlen("],\"workerSignature\":}}") + json_str_len(signature) + 1;
	char *p;

	if (need > r->cap - r->len) {
		p = realloc(r->buf, r->len + need);
		if (!p)
			return TCW_ERR_NOMEM;
		r->buf = p;
		r->cap = r->len + need;
	}
	p = put_lit(r->buf + r->len, "],\"workerSignature\":");
	p = json_str_put(p, signature);
	p = put_lit(p, "}}");
	*p = '\0';
	*reply = r->buf;
	if (reply_size)
		*reply_size = (size_t)(p - r->buf);
	r->buf = NULL;
	return TCW_OK;
}

/* Frees a reply that was not finished (see internal.h). */
void tcwi_reply_discard(struct tcwi_reply *r)
{
	free(r->buf);
	r->buf = NULL;
}
