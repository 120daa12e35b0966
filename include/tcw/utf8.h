/* SPDX-License-Identifier: Apache-2.0 */
/*
 * utf8.h - the one UTF-8 decoder of the project, header-only so that libtcw,
 * tcclient and tcdetect (which does not link libtcw) share it.
 */
#ifndef TCW_UTF8_H
#define TCW_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the well-formed UTF-8 sequence at p, with n > 0 bytes
 * available, storing its code point in *cp; 0 for a malformed, overlong,
 * truncated or surrogate sequence or one above U+10FFFF. */
static inline size_t tcw_utf8_char(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t len, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, c = p[0] & 0x1fu, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, c = p[0] & 0x0fu, min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, c = p[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

#endif /* TCW_UTF8_H */
