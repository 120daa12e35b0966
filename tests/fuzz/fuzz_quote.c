/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_quote.c - libFuzzer target: any bytes as an SGX quote through
 * tcw_quote_parse, checked against an independent reference classifier
 * written from the offsets of protocol.md §10 (accept/reject must agree,
 * every copied field must equal the input bytes at its offset, a rejected
 * quote leaves the output zeroed with a reason), then the REPORTDATA binding
 * check on what was parsed. Seeds: corpus/fuzz_quote (EPID, DCAP v3/v4, TDX,
 * truncated), made with tests/integration/sgxquote.py.
 */
#include <string.h>

#include "fuzz_common.h"

static const char VK[] =
    "-----BEGIN PUBLIC KEY-----\nfuzz verifying key\n-----END PUBLIC KEY-----\n";
static const char EK[] =
    "-----BEGIN PUBLIC KEY-----\nfuzz encryption key\n-----END PUBLIC KEY-----";

static unsigned le16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

/* Reference classifier: the format (1 EPID, 3, 4) of an acceptable quote, or 0. */
static int ref_format(const uint8_t *d, size_t n)
{
	unsigned version, key;
	int format;

	if (n < 48)
		return 0;
	version = le16(d);
	key = le16(d + 2);
	if (version == 1 || version == 2) {
		if (key > 1)
			return 0;
		format = TCW_QUOTE_EPID;
	} else if (version == 3 || version == 4) {
		if (le32(d + 4) != 0 || (key != 2 && key != 3))
			return 0;
		format = (int)version;
	} else {
		return 0;
	}
	if (n < 436 || (uint64_t)le32(d + 432) + 436 > n)
		return 0;
	return format;
}

/* Nothing to load: the parser needs no keys or plugins. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* One input as a quote: parse, compare with the reference, check binding. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tcw_quote zero;
	struct tcw_error e = {0};
	struct tcw_quote q;
	int rc, want = ref_format(data, size), layout = -1;

	rc = tcw_quote_parse(data, size, &q, &e);
	if ((rc == TCW_OK) != (want != 0))
		fz_fail("tcw_quote_parse %s a quote the reference %s (%s)",
		        rc == TCW_OK ? "accepted" : "rejected", want ? "accepts" : "rejects",
		        e.field);
	if (rc != TCW_OK) {
		if (rc != TCW_ERR_INVALID_PARAM || e.err != rc || e.field[0] == '\0' ||
		    memcmp(&q, &zero, sizeof(q)) != 0)
			fz_fail("rejected quote: rc %d, reason '%s', output not zeroed", rc,
			        e.field);
		return 0;
	}
	if (q.format != want || q.version != le16(data) || q.key_type != le16(data + 2) ||
	    q.signature_size != le32(data + 432) || q.size != 436 + (size_t)q.signature_size ||
	    q.size > size || q.tee_type != (want == TCW_QUOTE_EPID ? 0 : le32(data + 4)) ||
	    memcmp(q.attributes, data + 96, 16) != 0 || memcmp(q.mrenclave, data + 112, 32) != 0 ||
	    memcmp(q.mrsigner, data + 176, 32) != 0 || q.isv_prod_id != le16(data + 304) ||
	    q.isv_svn != le16(data + 306) || memcmp(q.report_data, data + 368, 64) != 0 ||
	    tcw_quote_is_debug(&q) != ((data[96] & 2) != 0))
		fz_fail("parsed fields differ from the input bytes at their offsets");
	if (strcmp(tcw_quote_format_name(q.format), "unknown") == 0)
		fz_fail("accepted format %d has no name", q.format);
	rc = tcw_report_data_match(q.report_data, VK, EK, &layout);
	if (rc == TCW_OK) {
		uint8_t rd[TCW_REPORT_DATA_SIZE];

		if (tcw_report_data(layout, VK, EK, rd) != TCW_OK ||
		    memcmp(rd, q.report_data, sizeof(rd)) != 0)
			fz_fail("binding matched layout %d but the report data differs", layout);
	} else if (rc != TCW_ERR_VERIFY || layout != 0) {
		fz_fail("tcw_report_data_match: rc %d, layout %d", rc, layout);
	}
	return 0;
}
