/* SPDX-License-Identifier: Apache-2.0 */
/* quote.c - SGX quote parsing (EPID, DCAP v3/v4) and the REPORTDATA key binding of protocol.md §10.
 */
#include <string.h>

#include "tcw/tcw.h"

/* Quote header and report body offsets (protocol.md §10); all integers
 * little-endian. The 384-byte SGX report body starts at QUOTE_BODY in all
 * three formats. */
#define QUOTE_HEADER_SIZE 48
#define QUOTE_BODY 48
#define QUOTE_OFF_VERSION 0
#define QUOTE_OFF_KEY_TYPE 2 /* EPID sign_type, DCAP attestation key type */
#define QUOTE_OFF_TEE_TYPE 4 /* DCAP: TEE type (v4) / reserved (v3) */
#define QUOTE_OFF_ATTRIBUTES (QUOTE_BODY + 48)
#define QUOTE_OFF_MRENCLAVE (QUOTE_BODY + 64)
#define QUOTE_OFF_MRSIGNER (QUOTE_BODY + 128)
#define QUOTE_OFF_ISVPRODID (QUOTE_BODY + 256)
#define QUOTE_OFF_ISVSVN (QUOTE_BODY + 258)
#define QUOTE_OFF_REPORTDATA (QUOTE_BODY + 320)
#define QUOTE_OFF_SIG_SIZE 432
#define QUOTE_OFF_SIG 436

#define EPID_SIGN_UNLINKABLE 0
#define EPID_SIGN_LINKABLE 1
#define DCAP_KEY_ECDSA_P256 2
#define DCAP_KEY_ECDSA_P384 3
#define TEE_TYPE_SGX 0x00000000u
#define TEE_TYPE_TDX 0x00000081u

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

/* Name of a quote format ("EPID", "DCAP v3", "DCAP v4"; "unknown"). Static string. */
const char *tcw_quote_format_name(int format)
{
	switch (format) {
	case TCW_QUOTE_EPID:
		return "EPID";
	case TCW_QUOTE_DCAP_V3:
		return "DCAP v3";
	case TCW_QUOTE_DCAP_V4:
		return "DCAP v4";
	default:
		return "unknown";
	}
}

/* Classifies the 48-byte header of q into out->format; error in e. */
static int quote_header(const uint8_t *q, struct tcw_quote *out, struct tcw_error *e)
{
	out->version = get_le16(q + QUOTE_OFF_VERSION);
	out->key_type = get_le16(q + QUOTE_OFF_KEY_TYPE);
	switch (out->version) {
	case 1:
	case 2:
		if (out->key_type != EPID_SIGN_UNLINKABLE && out->key_type != EPID_SIGN_LINKABLE)
			return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
			                     "quote.sign_type: %u is not an EPID signature type",
			                     out->key_type);
		out->format = TCW_QUOTE_EPID;
		return TCW_OK;
	case 3:
	case 4:
		break;
	default:
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "quote.version: %u is not supported (EPID 1-2, DCAP 3-4)",
		                     out->version);
	}
	out->format = out->version == 3 ? TCW_QUOTE_DCAP_V3 : TCW_QUOTE_DCAP_V4;
	out->tee_type = get_le32(q + QUOTE_OFF_TEE_TYPE);
	if (out->tee_type == TEE_TYPE_TDX)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "quote.tee_type: TDX quotes (0x81) are not supported");
	if (out->tee_type != TEE_TYPE_SGX)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "quote.tee_type: unknown TEE type 0x%x (expected 0 = SGX)",
		                     (unsigned)out->tee_type);
	if (out->key_type != DCAP_KEY_ECDSA_P256 && out->key_type != DCAP_KEY_ECDSA_P384)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "quote.attestation_key_type: %u is not supported (2 or 3)",
		                     out->key_type);
	return TCW_OK;
}

/* Parses an SGX quote (see tcw.h); never reads outside quote[0..size). */
int tcw_quote_parse(const uint8_t *quote, size_t size, struct tcw_quote *out, struct tcw_error *e)
{
	struct tcw_quote q;
	int ret;

	memset(&q, 0, sizeof(q));
	if (out)
		memset(out, 0, sizeof(*out));
	tcw_error_set(e, TCW_OK, NULL);
	if (!out || (!quote && size))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "quote");
	if (size < QUOTE_HEADER_SIZE)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "quote: truncated (%zu bytes, the header alone needs %d)",
		                     size, QUOTE_HEADER_SIZE);
	ret = quote_header(quote, &q, e);
	if (ret < 0)
		return ret;
	if (size < QUOTE_OFF_SIG)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "quote: truncated (%zu bytes, header and report need %d)",
		                     size, QUOTE_OFF_SIG);
	q.signature_size = get_le32(quote + QUOTE_OFF_SIG_SIZE);
	if (q.signature_size > size - QUOTE_OFF_SIG)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM,
		                     "quote: truncated (%zu bytes, signature data needs %zu more)",
		                     size, (size_t)q.signature_size - (size - QUOTE_OFF_SIG));
	q.size = QUOTE_OFF_SIG + (size_t)q.signature_size;
	memcpy(q.attributes, quote + QUOTE_OFF_ATTRIBUTES, sizeof(q.attributes));
	memcpy(q.mrenclave, quote + QUOTE_OFF_MRENCLAVE, sizeof(q.mrenclave));
	memcpy(q.mrsigner, quote + QUOTE_OFF_MRSIGNER, sizeof(q.mrsigner));
	q.isv_prod_id = get_le16(quote + QUOTE_OFF_ISVPRODID);
	q.isv_svn = get_le16(quote + QUOTE_OFF_ISVSVN);
	memcpy(q.report_data, quote + QUOTE_OFF_REPORTDATA, sizeof(q.report_data));
	*out = q;
	return TCW_OK;
}

/* 1 when the quoted enclave runs in debug mode (ATTRIBUTES.FLAGS bit 1). */
int tcw_quote_is_debug(const struct tcw_quote *q)
{
	return q && (q->attributes[0] & 0x02) != 0;
}

/* Name of a report-data layout (static string). */
const char *tcw_report_layout_name(int layout)
{
	switch (layout) {
	case TCW_REPORT_VERIFYING_KEY:
		return "SHA-256(verifying_key) || 32 zero bytes";
	case TCW_REPORT_BOTH_KEYS:
		return "SHA-256(verifying_key) || SHA-256(encryption_key)";
	default:
		return "unknown";
	}
}

/* Computes the REPORTDATA of layout for the signup PEM texts (see tcw.h). */
int tcw_report_data(int layout, const char *verifying_pem, const char *encryption_pem,
                    uint8_t out[TCW_REPORT_DATA_SIZE])
{
	int ret;

	if (!out || !verifying_pem)
		return TCW_ERR_INVALID_PARAM;
	memset(out, 0, TCW_REPORT_DATA_SIZE);
	if (layout != TCW_REPORT_VERIFYING_KEY && layout != TCW_REPORT_BOTH_KEYS)
		return TCW_ERR_INVALID_PARAM;
	if (layout == TCW_REPORT_BOTH_KEYS && !encryption_pem)
		return TCW_ERR_INVALID_PARAM;
	ret = tcw_sha256(verifying_pem, strlen(verifying_pem), out);
	if (ret == TCW_OK && layout == TCW_REPORT_BOTH_KEYS)
		ret = tcw_sha256(encryption_pem, strlen(encryption_pem), out + TCW_SHA256_SIZE);
	if (ret < 0)
		memset(out, 0, TCW_REPORT_DATA_SIZE);
	return ret;
}

/* Finds the layout under which report_data binds the signup keys (see tcw.h). */
int tcw_report_data_match(const uint8_t report_data[TCW_REPORT_DATA_SIZE],
                          const char *verifying_pem, const char *encryption_pem, int *layout)
{
	static const int layouts[] = {TCW_REPORT_VERIFYING_KEY, TCW_REPORT_BOTH_KEYS};
	uint8_t want[TCW_REPORT_DATA_SIZE];
	size_t i;
	int ret;

	if (layout)
		*layout = 0;
	if (!report_data || !verifying_pem || !layout)
		return TCW_ERR_INVALID_PARAM;
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (layouts[i] == TCW_REPORT_BOTH_KEYS && !encryption_pem)
			continue;
		ret = tcw_report_data(layouts[i], verifying_pem, encryption_pem, want);
		if (ret < 0)
			return ret;
		if (tcw_ct_equal(want, report_data, sizeof(want))) {
			*layout = layouts[i];
			return TCW_OK;
		}
	}
	return TCW_ERR_VERIFY;
}
