/* SPDX-License-Identifier: Apache-2.0 */
/* test_quote.c - SGX quote parsing (EPID, DCAP v3/v4, TDX refused) and the REPORTDATA layouts of
 * protocol.md §10, on quotes built byte by byte in the test. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Fixed PEM texts and their SHA-256 (computed independently with Python's hashlib). */
static const char VK_PEM[] = "-----BEGIN PUBLIC KEY-----\nverifying\n-----END PUBLIC KEY-----\n";
static const char EK_PEM[] = "-----BEGIN PUBLIC KEY-----\nencryption\n-----END PUBLIC KEY-----";
static const char VK_SHA[] = "05782d1965bebe92e0c2c0be9f6c1b1c3310f3d215819a1646e8d371b884d488";
static const char EK_SHA[] = "04af543fbdbc220105b3fddee809c55a5a0296213436bedddfe952bc3455499e";

#define SIG_SIZE 100

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* A quote laid out by hand from the offsets of protocol.md §10: header
 * (version, key type, TEE type), a report body with recognisable values at
 * every field a verifier reads, then sig_size signature bytes; size
 * 436 + sig_size (+ extra zero bytes). Caller frees. */
static uint8_t *make_quote(unsigned version, unsigned key_type, uint32_t tee, uint32_t sig_size,
                           size_t extra, const uint8_t rd[64], size_t *size)
{
	size_t n = 436 + (size_t)sig_size + extra;
	uint8_t *q = calloc(1, n);
	size_t i;

	assert_non_null(q);
	put16(q, version);
	put16(q + 2, key_type);
	put32(q + 4, tee);
	put16(q + 8, 7);          /* qe_svn */
	memset(q + 12, 0x9a, 16); /* QE vendor id / basename */
	memset(q + 48, 0xc5, 16); /* CPUSVN */
	q[96] = 0x05;             /* ATTRIBUTES.FLAGS: INIT | MODE64BIT */
	q[104] = 0x03;            /* XFRM */
	for (i = 0; i < 32; i++) {
		q[112 + i] = (uint8_t)(0x10 + i); /* MRENCLAVE */
		q[176 + i] = (uint8_t)(0xa0 + i); /* MRSIGNER */
	}
	memset(q + 144, 0xee, 32); /* reserved between them: must not leak into either */
	put16(q + 304, 0x1234);    /* ISVPRODID */
	put16(q + 306, 0x0567);    /* ISVSVN */
	put16(q + 308, 0xffff);    /* CONFIGSVN */
	memcpy(q + 368, rd, 64);
	put32(q + 432, sig_size);
	for (i = 0; i < sig_size; i++)
		q[436 + i] = (uint8_t)(i * 7);
	*size = n;
	return q;
}

static void sample_rd(uint8_t rd[64])
{
	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)(0xff - i);
}

/* Checks every body field make_quote wrote. */
static void expect_body(const struct tcw_quote *q, const uint8_t rd[64])
{
	uint8_t mre[32], mrs[32], attr[16] = {0x05, 0, 0, 0, 0, 0, 0, 0, 0x03};

	for (int i = 0; i < 32; i++) {
		mre[i] = (uint8_t)(0x10 + i);
		mrs[i] = (uint8_t)(0xa0 + i);
	}
	assert_memory_equal(q->mrenclave, mre, 32);
	assert_memory_equal(q->mrsigner, mrs, 32);
	assert_memory_equal(q->attributes, attr, 16);
	assert_int_equal(q->isv_prod_id, 0x1234);
	assert_int_equal(q->isv_svn, 0x0567);
	assert_memory_equal(q->report_data, rd, 64);
	assert_int_equal(q->signature_size, SIG_SIZE);
	assert_int_equal(q->size, 436 + SIG_SIZE);
	assert_int_equal(tcw_quote_is_debug(q), 0);
}

static void test_dcap_v3(void **state)
{
	struct tcw_error e = {0};
	struct tcw_quote q;
	uint8_t rd[64], *buf;
	size_t size;

	(void)state;
	sample_rd(rd);
	buf = make_quote(3, 2, 0, SIG_SIZE, 0, rd, &size);
	assert_int_equal(tcw_quote_parse(buf, size, &q, &e), TCW_OK);
	assert_int_equal(q.format, TCW_QUOTE_DCAP_V3);
	assert_int_equal(q.version, 3);
	assert_int_equal(q.key_type, 2);
	assert_int_equal(q.tee_type, 0);
	assert_string_equal(tcw_quote_format_name(q.format), "DCAP v3");
	expect_body(&q, rd);
	free(buf);
	/* ECDSA-384 attestation keys are a valid DCAP key type too. */
	buf = make_quote(3, 3, 0, SIG_SIZE, 0, rd, &size);
	assert_int_equal(tcw_quote_parse(buf, size, &q, &e), TCW_OK);
	assert_int_equal(q.key_type, 3);
	free(buf);
}

static void test_dcap_v4_sgx(void **state)
{
	struct tcw_quote q;
	uint8_t rd[64], *buf;
	size_t size;

	(void)state;
	sample_rd(rd);
	buf = make_quote(4, 2, 0, SIG_SIZE, 0, rd, &size);
	assert_int_equal(tcw_quote_parse(buf, size, &q, NULL), TCW_OK);
	assert_int_equal(q.format, TCW_QUOTE_DCAP_V4);
	assert_int_equal(q.version, 4);
	assert_string_equal(tcw_quote_format_name(q.format), "DCAP v4");
	expect_body(&q, rd);
	free(buf);
}

static void test_epid(void **state)
{
	struct tcw_quote q;
	uint8_t rd[64], *buf;
	size_t size;

	(void)state;
	sample_rd(rd);
	for (unsigned version = 1; version <= 2; version++) {
		for (unsigned sign = 0; sign <= 1; sign++) {
			/* EPID bytes 4..7 are the EPID group id: any value. */
			buf = make_quote(version, sign, 0x00000b2a, SIG_SIZE, 0, rd, &size);
			assert_int_equal(tcw_quote_parse(buf, size, &q, NULL), TCW_OK);
			assert_int_equal(q.format, TCW_QUOTE_EPID);
			assert_int_equal(q.version, version);
			assert_int_equal(q.key_type, sign);
			assert_int_equal(q.tee_type, 0);
			assert_string_equal(tcw_quote_format_name(q.format), "EPID");
			expect_body(&q, rd);
			free(buf);
		}
	}
}

/* Every proper prefix of a valid quote is refused as truncated. */
static void test_truncated(void **state)
{
	static const unsigned versions[] = {2, 3, 4};
	struct tcw_error e;
	struct tcw_quote q;
	uint8_t rd[64], *buf;
	size_t size, len;

	(void)state;
	sample_rd(rd);
	for (size_t v = 0; v < 3; v++) {
		buf = make_quote(versions[v], versions[v] == 2 ? 1 : 2, 0, SIG_SIZE, 0, rd, &size);
		for (len = 0; len < size; len++) {
			memset(&q, 0x5a, sizeof(q));
			assert_int_equal(tcw_quote_parse(buf, len, &q, &e), TCW_ERR_INVALID_PARAM);
			assert_int_equal(e.err, TCW_ERR_INVALID_PARAM);
			assert_non_null(strstr(e.field, "truncated"));
			assert_int_equal(q.format, 0);
			assert_int_equal(q.size, 0);
		}
		free(buf);
	}
	assert_int_equal(tcw_quote_parse(NULL, 0, &q, &e), TCW_ERR_INVALID_PARAM);
	assert_string_equal(e.field, "quote: truncated (0 bytes, the header alone needs 48)");
	/* A signature length that runs past the end (and would overflow 32-bit arithmetic). */
	buf = make_quote(3, 2, 0, 0, 0, rd, &size);
	put32(buf + 432, 0xffffffffu);
	assert_int_equal(tcw_quote_parse(buf, size, &q, &e), TCW_ERR_INVALID_PARAM);
	assert_string_equal(e.field,
	                    "quote: truncated (436 bytes, signature data needs 4294967295 more)");
	put32(buf + 432, 1);
	assert_int_equal(tcw_quote_parse(buf, size, &q, &e), TCW_ERR_INVALID_PARAM);
	put32(buf + 432, 0);
	assert_int_equal(tcw_quote_parse(buf, size, &q, &e), TCW_OK);
	assert_int_equal(q.size, 436);
	free(buf);
}

static void test_trailing_bytes(void **state)
{
	struct tcw_quote q;
	uint8_t rd[64], *buf;
	size_t size;

	(void)state;
	sample_rd(rd);
	buf = make_quote(3, 2, 0, SIG_SIZE, 64, rd, &size);
	assert_int_equal(tcw_quote_parse(buf, size, &q, NULL), TCW_OK);
	assert_int_equal(q.size, 436 + SIG_SIZE);
	expect_body(&q, rd);
	free(buf);
}

static void expect_refused(unsigned version, unsigned key_type, uint32_t tee, const char *field)
{
	struct tcw_error e;
	struct tcw_quote q;
	uint8_t rd[64] = {0}, *buf;
	size_t size;

	buf = make_quote(version, key_type, tee, SIG_SIZE, 0, rd, &size);
	memset(&q, 0x5a, sizeof(q));
	assert_int_equal(tcw_quote_parse(buf, size, &q, &e), TCW_ERR_INVALID_PARAM);
	assert_string_equal(e.field, field);
	assert_int_equal(q.format, 0);
	free(buf);
}

static void test_refused_formats(void **state)
{
	(void)state;
	expect_refused(4, 2, 0x81, "quote.tee_type: TDX quotes (0x81) are not supported");
	expect_refused(4, 2, 0x80, "quote.tee_type: unknown TEE type 0x80 (expected 0 = SGX)");
	expect_refused(3, 2, 1, "quote.tee_type: unknown TEE type 0x1 (expected 0 = SGX)");
	expect_refused(5, 2, 0, "quote.version: 5 is not supported (EPID 1-2, DCAP 3-4)");
	expect_refused(0, 0, 0, "quote.version: 0 is not supported (EPID 1-2, DCAP 3-4)");
	expect_refused(0x300, 2, 0, "quote.version: 768 is not supported (EPID 1-2, DCAP 3-4)");
	expect_refused(3, 1, 0, "quote.attestation_key_type: 1 is not supported (2 or 3)");
	expect_refused(4, 4, 0, "quote.attestation_key_type: 4 is not supported (2 or 3)");
	expect_refused(2, 2, 0, "quote.sign_type: 2 is not an EPID signature type");
}

static void test_debug_flag(void **state)
{
	struct tcw_quote q;
	uint8_t rd[64] = {0}, *buf;
	size_t size;

	(void)state;
	buf = make_quote(3, 2, 0, SIG_SIZE, 0, rd, &size);
	buf[96] |= 0x02;
	assert_int_equal(tcw_quote_parse(buf, size, &q, NULL), TCW_OK);
	assert_int_equal(tcw_quote_is_debug(&q), 1);
	assert_int_equal(tcw_quote_is_debug(NULL), 0);
	free(buf);
}

static void test_report_data_layouts(void **state)
{
	uint8_t rd[64], want[64];

	(void)state;
	memset(want, 0, sizeof(want));
	tu_unhex_exact(VK_SHA, want, 32);
	assert_int_equal(tcw_report_data(TCW_REPORT_VERIFYING_KEY, VK_PEM, NULL, rd), TCW_OK);
	assert_memory_equal(rd, want, 64);
	assert_int_equal(tcw_report_data(TCW_REPORT_VERIFYING_KEY, VK_PEM, EK_PEM, rd), TCW_OK);
	assert_memory_equal(rd, want, 64);
	tu_unhex_exact(EK_SHA, want + 32, 32);
	assert_int_equal(tcw_report_data(TCW_REPORT_BOTH_KEYS, VK_PEM, EK_PEM, rd), TCW_OK);
	assert_memory_equal(rd, want, 64);
	assert_int_equal(tcw_report_data(TCW_REPORT_BOTH_KEYS, VK_PEM, NULL, rd),
	                 TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_report_data(0, VK_PEM, EK_PEM, rd), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_report_data(3, VK_PEM, EK_PEM, rd), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_report_data(1, NULL, EK_PEM, rd), TCW_ERR_INVALID_PARAM);
	assert_string_equal(tcw_report_layout_name(TCW_REPORT_VERIFYING_KEY),
	                    "SHA-256(verifying_key) || 32 zero bytes");
	assert_string_equal(tcw_report_layout_name(TCW_REPORT_BOTH_KEYS),
	                    "SHA-256(verifying_key) || SHA-256(encryption_key)");
}

static void test_report_data_match(void **state)
{
	uint8_t rd[64];
	int layout = -1;

	(void)state;
	memset(rd, 0, sizeof(rd));
	tu_unhex_exact(VK_SHA, rd, 32);
	assert_int_equal(tcw_report_data_match(rd, VK_PEM, EK_PEM, &layout), TCW_OK);
	assert_int_equal(layout, TCW_REPORT_VERIFYING_KEY);
	assert_int_equal(tcw_report_data_match(rd, VK_PEM, NULL, &layout), TCW_OK);
	assert_int_equal(layout, TCW_REPORT_VERIFYING_KEY);
	/* The trailing 32 bytes must be zero in the first layout. */
	rd[63] = 1;
	assert_int_equal(tcw_report_data_match(rd, VK_PEM, EK_PEM, &layout), TCW_ERR_VERIFY);
	assert_int_equal(layout, 0);
	tu_unhex_exact(EK_SHA, rd + 32, 32);
	assert_int_equal(tcw_report_data_match(rd, VK_PEM, EK_PEM, &layout), TCW_OK);
	assert_int_equal(layout, TCW_REPORT_BOTH_KEYS);
	/* Without the encryption key only the first layout can match. */
	assert_int_equal(tcw_report_data_match(rd, VK_PEM, NULL, &layout), TCW_ERR_VERIFY);
	/* Another encryption key, swapped keys, a flipped bit: no binding. */
	assert_int_equal(tcw_report_data_match(rd, VK_PEM, VK_PEM, &layout), TCW_ERR_VERIFY);
	assert_int_equal(tcw_report_data_match(rd, EK_PEM, VK_PEM, &layout), TCW_ERR_VERIFY);
	rd[0] ^= 0x80;
	assert_int_equal(tcw_report_data_match(rd, VK_PEM, EK_PEM, &layout), TCW_ERR_VERIFY);
	/* The PEM text is hashed as is: without its trailing newline it is another key. */
	memset(rd, 0, sizeof(rd));
	tu_unhex_exact(VK_SHA, rd, 32);
	assert_int_equal(tcw_report_data_match(rd,
	                                       "-----BEGIN PUBLIC KEY-----\nverifying\n"
	                                       "-----END PUBLIC KEY-----",
	                                       NULL, &layout),
	                 TCW_ERR_VERIFY);
	assert_int_equal(tcw_report_data_match(NULL, VK_PEM, NULL, &layout), TCW_ERR_INVALID_PARAM);
	assert_int_equal(tcw_report_data_match(rd, VK_PEM, NULL, NULL), TCW_ERR_INVALID_PARAM);
}

/* A quote whose REPORTDATA was made by tcw_report_data binds; with real worker keys. */
static void test_quote_binds_worker_keys(void **state)
{
	struct tcw_keys *keys = tu_worker_keys("worker_rsa_private_pem");
	const char *vk = tcw_keys_verifying_pem(keys), *ek = tcw_keys_encryption_pem(keys);
	struct tcw_quote q;
	uint8_t rd[64], *buf;
	size_t size;
	int layout = 0;

	(void)state;
	for (int l = TCW_REPORT_VERIFYING_KEY; l <= TCW_REPORT_BOTH_KEYS; l++) {
		assert_int_equal(tcw_report_data(l, vk, ek, rd), TCW_OK);
		buf = make_quote(3, 2, 0, SIG_SIZE, 0, rd, &size);
		assert_int_equal(tcw_quote_parse(buf, size, &q, NULL), TCW_OK);
		assert_int_equal(tcw_report_data_match(q.report_data, vk, ek, &layout), TCW_OK);
		assert_int_equal(layout, l);
		free(buf);
	}
	tcw_keys_free(&keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dcap_v3),
	    cmocka_unit_test(test_dcap_v4_sgx),
	    cmocka_unit_test(test_epid),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_trailing_bytes),
	    cmocka_unit_test(test_refused_formats),
	    cmocka_unit_test(test_debug_flag),
	    cmocka_unit_test(test_report_data_layouts),
	    cmocka_unit_test(test_report_data_match),
	    cmocka_unit_test(test_quote_binds_worker_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
