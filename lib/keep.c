/* SPDX-License-Identifier: Apache-2.0 */
/* keep.c - the identity of an inner request text for kept replies: byte-identical texts,
 * and only they, get the same one, at a fraction of hashing the whole text. */
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "tcw/tcw.h"

/* String literals at least this long may stand in the identity as a
 * marker: item data texts are bound by the request hash already. Every
 * other field with a length limit stays below it (a wrapped data key is at
 * most 2048 characters). */
#define ELIDE_MIN 4096u

static const char g_tag[] = "tcw request identity 1";

/* The closing quote of the string literal whose content starts at s. */
static const char *literal_end(const char *s, const char *end)
{
	for (const char *q = s; (q = memchr(q, '"', (size_t)(end - q))) != NULL; q++) {
		size_t k = 0;

		/* escaped when an odd number of backslashes precede it */
		while (q - k > s && q[-1 - (ptrdiff_t)k] == '\\')
			k++;
		if (k % 2 == 0)
			return q;
	}
	return end;
}

/* The unmatched item whose data text is s[0..n), or -1; *budget pays the
 * bytes compared (so that no text makes this more than one pass). */
static long match_item(const struct tcwi_item *items, size_t count, uint64_t *used, const char *s,
                       size_t n, size_t *budget)
{
	for (size_t i = 0; i < count; i++) {
		if ((*used >> i & 1) || items[i].data_len != n || !items[i].text.data)
			continue;
		if (*budget < n)
			return -1;
		*budget -= n;
		if (memcmp(items[i].text.data, s, n) == 0) {
			*used |= (uint64_t)1 << i;
			return (long)i;
		}
	}
	return -1;
}

/* Hashes the marker that stands for item pos of array (0 inData, 1
 * outData), whose data text is n bytes: a NUL byte first, which no JSON
 * text holds. */
static int add_marker(EVP_MD_CTX *md, unsigned array, size_t pos, size_t n)
{
	uint8_t m[1 + 8 + 1 + 4] = {0};

	for (int i = 0; i < 8; i++)
		m[1 + i] = (uint8_t)((uint64_t)n >> (8 * i));
	m[9] = (uint8_t)array;
	for (int i = 0; i < 4; i++)
		m[10 + i] = (uint8_t)(pos >> (8 * i));
	return EVP_DigestUpdate(md, m, sizeof(m)) == 1;
}

/*
 * SHA-256 of a tag, the text with every string literal of at least
 * ELIDE_MIN bytes that equals the data text of an inData or outData item
 * (each item at most once, no escapes in it) replaced by a marker naming
 * the item and the length, and rh. Two texts with the same identity have
 * the same bytes outside those literals, so the same items in the same
 * places, and the same request hash, which binds every item's data text:
 * they are byte for byte the same. See internal.h.
 */
int tcwi_request_identity(const char *text, size_t len, const struct tcwi_item *in, size_t in_count,
                          const struct tcwi_item *out, size_t out_count,
                          const uint8_t rh[TCW_SHA256_SIZE], uint8_t id[TCW_SHA256_SIZE])
{
	const char *end = text + len, *from = text, *q = text, *s, *e;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint64_t used_in = 0, used_out = 0;
	size_t budget = len;
	int ok;

	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(md, g_tag, sizeof(g_tag)) == 1;
	while (ok && (q = memchr(q, '"', (size_t)(end - q))) != NULL) {
		long i = -1;
		unsigned array = 0;

		s = q + 1;
		e = literal_end(s, end);
		if ((size_t)(e - s) >= ELIDE_MIN && !memchr(s, '\\', (size_t)(e - s))) {
			i = match_item(in, in_count, &used_in, s, (size_t)(e - s), &budget);
			if (i < 0) {
				array = 1;
				i = match_item(out, out_count, &used_out, s, (size_t)(e - s),
				               &budget);
			}
		}
		if (i >= 0) {
			ok = EVP_DigestUpdate(md, from, (size_t)(s - from)) == 1 &&
			     add_marker(md, array, (size_t)i, (size_t)(e - s));
			from = e;
		}
		if (e >= end)
			break;
		q = e + 1;
	}
	ok = ok && EVP_DigestUpdate(md, from, (size_t)(end - from)) == 1 &&
	     EVP_DigestUpdate(md, rh, TCW_SHA256_SIZE) == 1 &&
	     EVP_DigestFinal_ex(md, id, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok ? TCW_OK : TCW_ERR_NOMEM;
}
