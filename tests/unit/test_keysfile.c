/* SPDX-License-Identifier: Apache-2.0 */
/* test_keysfile.c - the worker keys file: format round trip, refusal of corrupt, truncated or
 * foreign files, atomic mode-0600 writes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static struct tcw_keys *g_a, *g_b;
static char g_dir[] = "/tmp/tcw-test-keysfile.XXXXXX";

static int setup(void **state)
{
	(void)state;
	g_a = tu_worker_keys("worker_rsa_private_pem");
	g_b = tu_worker_keys("worker_rsa3072_private_pem");
	if (!mkdtemp(g_dir))
		return -1;
	return 0;
}

/* Removes every file in g_dir, then g_dir. */
static int teardown(void **state)
{
	char path[512];
	struct dirent *d;
	DIR *dir = opendir(g_dir);

	(void)state;
	while (dir && (d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", g_dir, d->d_name);
		if (unlink(path) != 0)
			rmdir(path);
	}
	if (dir)
		closedir(dir);
	rmdir(g_dir);
	tcw_keys_free(&g_a);
	tcw_keys_free(&g_b);
	return 0;
}

/* Fails unless a and b are the same identity: same PEMs, same (deterministic RFC 6979)
 * signatures, and b decrypts what was encrypted for a. */
static void expect_same_keys(const struct tcw_keys *a, const struct tcw_keys *b)
{
	uint8_t digest[32], sa[TCW_ECDSA_DER_MAX], sb[TCW_ECDSA_DER_MAX], plain[32], *ct = NULL;
	size_t la = 0, lb = 0, ct_size = 0, got = 0;

	assert_string_equal(tcw_keys_verifying_pem(a), tcw_keys_verifying_pem(b));
	assert_string_equal(tcw_keys_encryption_pem(a), tcw_keys_encryption_pem(b));
	assert_int_equal(tcw_keys_rsa_bits(a), tcw_keys_rsa_bits(b));
	assert_int_equal(tcw_sha256("digest", 6, digest), TCW_OK);
	assert_int_equal(tcw_keys_sign(a, digest, sa, &la), TCW_OK);
	assert_int_equal(tcw_keys_sign(b, digest, sb, &lb), TCW_OK);
	assert_int_equal(la, lb);
	assert_memory_equal(sa, sb, la);
	assert_int_equal(tcw_rsa_encrypt_pem(tcw_keys_encryption_pem(a), digest, 32, &ct, &ct_size),
	                 TCW_OK);
	assert_int_equal(tcw_keys_rsa_decrypt(b, ct, ct_size, plain, sizeof(plain), &got), TCW_OK);
	assert_int_equal(got, 32);
	assert_memory_equal(plain, digest, 32);
	free(ct);
}

/* g_a encoded; caller frees with tcw_free_secret. */
static uint8_t *encode_a(size_t *size)
{
	uint8_t *data = NULL;

	assert_int_equal(tcw_keys_encode(g_a, &data, size), TCW_OK);
	assert_non_null(data);
	return data;
}

static void put_be32(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Recomputes the trailing checksum of an encoded image of size bytes. */
static void fix_checksum(uint8_t *data, size_t size)
{
	assert_int_equal(tcw_sha256(data, size - 32, data + size - 32), TCW_OK);
}

/* Fails unless decoding data gives TCW_ERR_INVALID_PARAM with exactly reason. */
static void expect_decode_error(const uint8_t *data, size_t size, const char *reason)
{
	struct tcw_keys *k = (struct tcw_keys *)&k;
	struct tcw_error e = {0};

	assert_int_equal(tcw_keys_decode(data, size, &k, &e), TCW_ERR_INVALID_PARAM);
	assert_null(k);
	if (reason)
		assert_string_equal(e.field, reason);
	else
		assert_true(e.field[0] != '\0');
}

static void test_encode_layout(void **state)
{
	uint8_t *data, seckey[32];
	size_t size;

	(void)state;
	data = encode_a(&size);
	assert_memory_equal(data, "\x89TCWKEYS", 8);
	assert_int_equal(data[8], TCW_KEYS_FILE_VERSION);
	assert_int_equal(TCW_KEYS_FILE_VERSION, 1);
	/* The secp256k1 secret of keys.json, as stored. */
	{
		json_object *keys = tu_load_json("keys.json");

		tu_unhex_exact(tu_str(keys, "worker_ecdsa_private_hex"), seckey, 32);
		assert_memory_equal(data + 9, seckey, 32);
		json_object_put(keys);
	}
	/* DER length (big-endian) + fixed parts add up to the size. */
	{
		size_t n = ((size_t)data[41] << 24) | ((size_t)data[42] << 16) |
		           ((size_t)data[43] << 8) | data[44];

		assert_int_equal(size, 77 + n);
		assert_int_equal(data[45], 0x30); /* DER SEQUENCE */
	}
	tcw_free_secret(data, size);
}

static void test_round_trip(void **state)
{
	struct tcw_keys *k = NULL;
	struct tcw_error e = {0};
	uint8_t *data;
	size_t size;

	(void)state;
	data = encode_a(&size);
	assert_int_equal(tcw_keys_decode(data, size, &k, &e), TCW_OK);
	expect_same_keys(g_a, k);
	tcw_keys_free(&k);
	tcw_free_secret(data, size);
	assert_int_equal(tcw_keys_encode(g_b, &data, &size), TCW_OK);
	assert_int_equal(tcw_keys_decode(data, size, &k, &e), TCW_OK);
	expect_same_keys(g_b, k);
	assert_int_equal(tcw_keys_rsa_bits(k), 3072);
	tcw_keys_free(&k);
	tcw_free_secret(data, size);
}

static void test_corrupt_magic_version(void **state)
{
	uint8_t *data;
	size_t size;
	char want[96];

	(void)state;
	data = encode_a(&size);
	snprintf(want, sizeof(want), "not a tcworker keys file (bad magic, %zu bytes)", size);
	for (size_t i = 0; i < 8; i++) {
		data[i] ^= 0x20;
		expect_decode_error(data, size, want);
		data[i] ^= 0x20;
	}
	data[8] = 2;
	expect_decode_error(data, size, "unsupported format version 2 (this build reads 1)");
	data[8] = 0;
	expect_decode_error(data, size, "unsupported format version 0 (this build reads 1)");
	/* A PEM file is not a keys file. */
	expect_decode_error((const uint8_t *)"-----BEGIN PRIVATE KEY-----\n", 28,
	                    "not a tcworker keys file (bad magic, 28 bytes)");
	tcw_free_secret(data, size);
}

static void test_truncated_and_trailing(void **state)
{
	uint8_t *data, *longer;
	size_t size, len;
	char want[96];

	(void)state;
	data = encode_a(&size);
	for (len = 0; len < size; len++)
		expect_decode_error(data, len, NULL);
	expect_decode_error(data, 8, "truncated (8 bytes)");
	expect_decode_error(data, 76, "truncated (76 bytes)");
	snprintf(want, sizeof(want), "truncated (%zu bytes, expected %zu)", size - 1, size);
	expect_decode_error(data, size - 1, want);
	longer = calloc(1, size + 3);
	assert_non_null(longer);
	memcpy(longer, data, size);
	expect_decode_error(longer, size + 3, "3 unexpected bytes after the checksum");
	free(longer);
	tcw_free_secret(data, size);
}

static void test_checksum_and_bad_keys(void **state)
{
	uint8_t *data;
	size_t size;

	(void)state;
	data = encode_a(&size);
	/* Any flipped bit in the secret, the length, the DER or the checksum itself. */
	for (size_t i = 9; i < size; i += 13) {
		data[i] ^= 0x01;
		if (i < 41 || i >= 45)
			expect_decode_error(data, size, "checksum mismatch (file is corrupt)");
		else
			expect_decode_error(data, size, NULL);
		data[i] ^= 0x01;
	}
	/* A consistent checksum over an invalid secp256k1 secret (zero). */
	memset(data + 9, 0, 32);
	fix_checksum(data, size);
	expect_decode_error(data, size, "unusable key (RSA size or secp256k1 secret)");
	tcw_free_secret(data, size);
	/* A consistent checksum over a DER that is not an RSA key. */
	data = encode_a(&size);
	memset(data + 45, 0x30, 8);
	fix_checksum(data, size);
	expect_decode_error(data, size, "RSA private key does not parse");
	/* A DER length that is consistent with the size but cuts the key. */
	tcw_free_secret(data, size);
	data = encode_a(&size);
	{
		size_t n = size - 77, cut = 10;
		uint8_t *img = calloc(1, size - cut);

		assert_non_null(img);
		memcpy(img, data, 45 + n - cut);
		put_be32(img + 41, n - cut);
		fix_checksum(img, size - cut);
		expect_decode_error(img, size - cut, "RSA private key does not parse");
		free(img);
	}
	tcw_free_secret(data, size);
}

static void path_in_dir(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", g_dir, name);
}

/* Number of entries in g_dir (without . and ..). */
static int dir_entries(void)
{
	struct dirent *d;
	DIR *dir = opendir(g_dir);
	int n = 0;

	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

static void test_save_load(void **state)
{
	struct tcw_keys *k = NULL;
	struct tcw_error e = {0};
	struct stat st;
	char path[512];
	mode_t old;

	(void)state;
	path_in_dir(path, sizeof(path), "worker.keys");
	/* Mode 0600 even with a permissive umask. */
	old = umask(0);
	assert_int_equal(tcw_keys_save(g_a, path, &e), TCW_OK);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(dir_entries(), 1); /* no temporary file left behind */
	assert_int_equal(tcw_keys_load(path, &k, &e), TCW_OK);
	expect_same_keys(g_a, k);
	tcw_keys_free(&k);
	/* Replacing the file (--regenerate-keys) swaps it atomically. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(tcw_keys_save(g_b, path, &e), TCW_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(dir_entries(), 1);
	assert_int_equal(tcw_keys_load(path, &k, &e), TCW_OK);
	expect_same_keys(g_b, k);
	tcw_keys_free(&k);
	assert_int_equal(unlink(path), 0);
}

static void write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
}

static void test_load_errors(void **state)
{
	struct tcw_keys *k = NULL;
	struct tcw_error e = {0};
	char path[512], big_path[512], want[96];
	uint8_t *data, *big;
	size_t size;

	(void)state;
	path_in_dir(path, sizeof(path), "missing.keys");
	assert_int_equal(tcw_keys_load(path, &k, &e), TCW_ERR_INTERNAL);
	assert_string_equal(e.field, "cannot open: No such file or directory");
	assert_null(k);
	/* A directory is not a keys file. */
	assert_int_equal(tcw_keys_load(g_dir, &k, &e), TCW_ERR_INVALID_PARAM);
	assert_string_equal(e.field, "not a regular file");
	/* A truncated file on disk. */
	data = encode_a(&size);
	path_in_dir(path, sizeof(path), "short.keys");
	write_file(path, data, size / 2);
	assert_int_equal(tcw_keys_load(path, &k, &e), TCW_ERR_INVALID_PARAM);
	snprintf(want, sizeof(want), "truncated (%zu bytes, expected %zu)", size / 2, size);
	assert_string_equal(e.field, want);
	assert_null(k);
	/* An empty file. */
	write_file(path, data, 0);
	assert_int_equal(tcw_keys_load(path, &k, &e), TCW_ERR_INVALID_PARAM);
	assert_string_equal(e.field, "not a tcworker keys file (bad magic, 0 bytes)");
	assert_int_equal(unlink(path), 0);
	/* Too large to be a keys file. */
	big = calloc(1, TCW_KEYS_FILE_MAX_SIZE + 1);
	assert_non_null(big);
	memcpy(big, data, size);
	path_in_dir(big_path, sizeof(big_path), "big.keys");
	write_file(big_path, big, TCW_KEYS_FILE_MAX_SIZE + 1);
	assert_int_equal(tcw_keys_load(big_path, &k, &e), TCW_ERR_INVALID_PARAM);
	assert_string_equal(e.field, "too large (65537 bytes)");
	assert_int_equal(unlink(big_path), 0);
	free(big);
	tcw_free_secret(data, size);
	/* Unreadable (mode 0000) unless we are root, who reads anything. */
	if (geteuid() != 0) {
		path_in_dir(path, sizeof(path), "locked.keys");
		assert_int_equal(tcw_keys_save(g_a, path, &e), TCW_OK);
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(tcw_keys_load(path, &k, &e), TCW_ERR_INTERNAL);
		assert_string_equal(e.field, "cannot open: Permission denied");
		assert_int_equal(unlink(path), 0);
	}
}

static void test_save_errors(void **state)
{
	struct tcw_error e = {0};
	char path[512];

	(void)state;
	path_in_dir(path, sizeof(path), "no/such/dir/worker.keys");
	assert_int_equal(tcw_keys_save(g_a, path, &e), TCW_ERR_INTERNAL);
	assert_string_equal(e.field,
	                    "cannot create a temporary file beside it: No such file or directory");
	/* Renaming over a directory fails; the temporary file is removed. */
	path_in_dir(path, sizeof(path), "adir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(tcw_keys_save(g_a, path, &e), TCW_ERR_INTERNAL);
	assert_non_null(strstr(e.field, "cannot rename the temporary file over it: "));
	assert_int_equal(dir_entries(), 1);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(tcw_keys_save(NULL, path, &e), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_keys_save(g_a, "", &e), TCW_ERR_INVALID_PARAM);
	assert_int_equal(dir_entries(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_layout),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_corrupt_magic_version),
	    cmocka_unit_test(test_truncated_and_trailing),
	    cmocka_unit_test(test_checksum_and_bad_keys),
	    cmocka_unit_test(test_save_load),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_save_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
