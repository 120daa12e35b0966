/* SPDX-License-Identifier: Apache-2.0 */
/* modes.c - tcclient request modes: --out-items, --session-reuse, and the --sign /
 * --signing-key requester key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcclient.h"

#define KEY_FILE_MAX 4096 /* bytes read from a --signing-key file */
#define KEY_TRIES 16      /* random candidates before giving up */

/* Parses the --out-items value (1..TCW_WL_MAX_OUTPUTS); 0 or -1. */
int tcc_parse_out_items(const char *text, size_t *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < 1 || v > (long)TCW_WL_MAX_OUTPUTS)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Parses the --session-reuse value (1..TCW_SESSION_MAX_ORDERS); 0 or -1. */
int tcc_parse_session_reuse(const char *text, size_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > TCW_SESSION_MAX_ORDERS)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Makes *s a session with orders left: a new one (for pem, serving n
 * orders) when it is NULL or used up. 0 or a tcw_err. */
int tcc_session_ready(struct tcw_session **s, const char *pem, size_t n)
{
	if (*s != NULL && tcw_session_orders(*s) < n)
		return 0;
	tcw_session_free(s);
	return tcw_session_new(pem, n, s);
}

/* 0 when key is a usable secp256k1 secret (non-zero, below the order). */
static int key_usable(const uint8_t key[TCW_ECDSA_SECKEY_SIZE])
{
	char *pem = NULL;
	int rc = tcw_ecdsa_pubkey_pem(key, &pem);

	free(pem);
	return rc;
}

/* Reads the hex key in path into key; 0 or TCC_EXIT_USAGE after printing why. */
static int key_from_file(const char *path, uint8_t key[TCW_ECDSA_SECKEY_SIZE])
{
	char buf[KEY_FILE_MAX + 1];
	const char *why = NULL;
	size_t n, start = 0;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		fprintf(stderr, "tcclient: --signing-key %s: %s\n", path, strerror(errno));
		return TCC_EXIT_USAGE;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f))
		why = "cannot read the file";
	else if (n > KEY_FILE_MAX)
		why = "the file is too large for a key";
	fclose(f);
	if (why == NULL) {
		while (n > 0 && strchr(" \t\r\n", buf[n - 1]) != NULL && buf[n - 1] != '\0')
			n--;
		while (start < n && strchr(" \t\r\n", buf[start]) != NULL && buf[start] != '\0')
			start++;
		if (tcw_hex_decode_exact(buf + start, n - start, key, TCW_ECDSA_SECKEY_SIZE) != 0)
			why = "expected 64 hex digits (a 32-byte secp256k1 secret key)";
		else if (key_usable(key) != 0)
			why = "not a valid secp256k1 secret key";
	}
	tcw_wipe(buf, sizeof(buf));
	if (why != NULL) {
		tcw_wipe(key, TCW_ECDSA_SECKEY_SIZE);
		fprintf(stderr, "tcclient: --signing-key %s: %s\n", path, why);
		return TCC_EXIT_USAGE;
	}
	return 0;
}

/* Fills key from path or with a fresh key (see tcclient.h). */
int tcc_signing_key(const char *path, uint8_t key[TCW_ECDSA_SECKEY_SIZE])
{
	if (path != NULL)
		return key_from_file(path, key);
	for (int i = 0; i < KEY_TRIES; i++) {
		if (tcw_random_bytes(key, TCW_ECDSA_SECKEY_SIZE) != 0)
			break;
		if (key_usable(key) == 0)
			return 0;
	}
	tcw_wipe(key, TCW_ECDSA_SECKEY_SIZE);
	fputs("tcclient: cannot generate a signing key\n", stderr);
	return TCC_EXIT_FAIL;
}
