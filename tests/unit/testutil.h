/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.h - shared helpers for the cmocka unit tests: fixed vectors from
 * tests/data (TCW_TEST_DATA_DIR), hex helpers, fixed worker keys. */
#ifndef TCW_TESTUTIL_H
#define TCW_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "tcw/tcw.h"

/* Whole file tests/data/<name> as a NUL-terminated string; caller frees. Fails the test if unreadable. */
char *tu_read_data(const char *name, size_t *size);
/* Parsed tests/data/<name>; caller json_object_put()s. Fails the test on error. */
json_object *tu_load_json(const char *name);
/* String member key of obj (borrowed); fails the test if absent or not a string. */
const char *tu_str(json_object *obj, const char *key);
/* Hex text decoded into a new buffer (caller frees), length in *size; fails the test on bad hex. */
uint8_t *tu_unhex(const char *hex, size_t *size);
/* The request vector named name from workorders.json (borrowed from root). */
json_object *tu_request_vector(json_object *root, const char *name);
/* Worker keys built from keys.json: rsa_key_name is "worker_rsa_private_pem" or
 * "worker_rsa3072_private_pem"; ECDSA key is worker_ecdsa_private_hex. Caller frees with tcw_keys_free. */
struct tcw_keys *tu_worker_keys(const char *rsa_key_name);

/* ---- crypto test helpers ---- */
/* Member key of obj (borrowed); fails the test if absent. */
json_object *tu_member(json_object *obj, const char *key);
/* Hex text decoded into exactly size bytes at out; fails the test otherwise. */
void tu_unhex_exact(const char *hex, uint8_t *out, size_t size);
/* Strict base64 text decoded into a new buffer (caller frees); fails the test on bad text. */
uint8_t *tu_unb64(const char *text, size_t *size);
/* 1 when the DER ECDSA signature is high-S (s > n/2), 0 when low-S; fails the test on bad DER. */
int tu_is_high_s(const uint8_t *der, size_t size);
/* SPKI PEM (trailing newline) with the compressed point of the uncompressed
 * secp256k1 SPKI PEM pem; caller frees. */
char *tu_compressed_pem(const char *pem);

/* ---- scratch folders ---- */
/* Creates a fresh folder /tmp/tcw-test-<tag>.XXXXXX, its path into dir
 * (size bytes); fails the test otherwise. */
void tu_tmpdir(const char *tag, char *dir, size_t size);
/* Removes dir and everything in it; fails the test otherwise. */
void tu_rmtree(const char *dir);
/* Removes the files in the scratch folder dir (keeps dir); fails the test
 * otherwise. */
void tu_empty_dir(const char *dir);

#endif
