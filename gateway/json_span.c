/* SPDX-License-Identifier: Apache-2.0 */
/* json_span.c - where a member's value is in a JSON text that json-c has already parsed, so the
 * text can be kept as it came instead of being serialised again. */
#include <string.h>

#include "gateway.h"

/* Index just past the string that starts at t[i] (a quote). */
static size_t skip_string(const char *t, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (t[i] == '\\')
			i++;
		else if (t[i] == '"')
			return i + 1;
	}
	return n;
}

/* Index just past the JSON value that starts at t[i]. */
static size_t skip_value(const char *t, size_t n, size_t i)
{
	size_t depth = 0;

	if (i < n && t[i] == '"')
		return skip_string(t, n, i);
	if (i < n && t[i] != '{' && t[i] != '[') {
		while (i < n && !strchr(",}] \t\r\n", t[i]))
			i++;
		return i;
	}
	while (i < n) {
		if (t[i] == '"') {
			i = skip_string(t, n, i);
			continue;
		}
		if (t[i] == '{' || t[i] == '[')
			depth++;
		else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return n;
}

/* Index of the first byte from t[i] on that is not JSON whitespace (n if none). */
size_t gw_json_skip_ws(const char *t, size_t n, size_t i)
{
	while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n'))
		i++;
	return i;
}

/* Where the value of top-level member key is in t (see gateway.h). */
int gw_json_member_span(const char *t, size_t n, const char *key, size_t *off, size_t *len)
{
	size_t i = gw_json_skip_ws(t, n, 0), klen = strlen(key), ks, ke, vs;
	int found = -1;

	if (i >= n || t[i] != '{')
		return -1;
	for (i++;;) {
		i = gw_json_skip_ws(t, n, i);
		if (i >= n || t[i] == '}')
			return found;
		if (t[i] != '"')
			return -1;
		ks = i + 1;
		i = skip_string(t, n, i);
		ke = i - 1;
		if (memchr(t + ks, '\\', ke - ks))
			return -1;
		i = gw_json_skip_ws(t, n, i);
		if (i >= n || t[i] != ':')
			return -1;
		vs = i = gw_json_skip_ws(t, n, i + 1);
		i = skip_value(t, n, i);
		if (ke - ks == klen && memcmp(t + ks, key, klen) == 0) {
			*off = vs;
			*len = i - vs;
			found = 0;
		}
		i = gw_json_skip_ws(t, n, i);
		if (i < n && t[i] == ',')
			i++;
	}
}
