/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eea.h - libtcw's side of the EEA JSON-RPC API a front end serves
 * (tcgateway): WorkOrderSubmit checks without the worker's private keys,
 * the request and response hashes of stored orders, the worker record
 * built from a signup, the signup's quote against expected measurements,
 * and the work order receipt digests. Uses json-c objects (borrowed).
 *
 * Ownership conventions as in tcw.h.
 */
#ifndef TCW_EEA_H
#define TCW_EEA_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "tcw/tcw.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hex SHA-256 of a worker name: the workerId Avalon derives from it. */
#define TCW_EEA_WORKER_ID_HEX 64

/* Writes the lowercase hex SHA-256 of name (NUL-terminated) into out. */
int tcw_eea_worker_id(const char *name, char out[TCW_EEA_WORKER_ID_HEX + 1]);

/* What a front end needs from a checked WorkOrderSubmit; strings are
 * borrowed from the params object. */
struct tcw_eea_submit {
	const char *work_order_id;
	const char *worker_id;
	const char *requester_id;
	const char *workload_id; /* hex text as sent */
	char workload[129];      /* decoded workload name */
	size_t session_key_bytes; /* decoded encryptedSessionKey: the RSA modulus */
	uint8_t request_hash[TCW_SHA256_SIZE]; /* RH of protocol.md §7 */
};

/* Checks WorkOrderSubmit params with the worker's rules that need no
 * private key (every field's type, encoding and limit, protocol.md §4 and
 * docs/hardening.md) and computes the request hash. TCW_OK, or
 * TCW_ERR_INVALID_PARAM with the field in e; TCW_ERR_NOMEM. */
int tcw_eea_submit_check(json_object *params, struct tcw_eea_submit *out, struct tcw_error *e);

/* The response hash WH (protocol.md §7) of a result object as a worker
 * returned it, and its workerSignature (borrowed) in *sig. TCW_OK or
 * TCW_ERR_INVALID_PARAM with the field in e. */
int tcw_eea_result_hash(json_object *result, uint8_t wh[TCW_SHA256_SIZE], const char **sig,
                        struct tcw_error *e);

/* Verifies the workerSignature of result with the worker's verifying key
 * PEM: TCW_OK, TCW_ERR_VERIFY, or TCW_ERR_INVALID_PARAM (malformed). */
int tcw_eea_result_verify(json_object *result, const char *verifying_pem, struct tcw_error *e);

/* What the quote of a signup proved (tcw_eea_signup_quote). */
struct tcw_eea_quote_info {
	int present; /* the signup carried a quote */
	struct tcw_quote quote;
	int layout; /* enum tcw_report_layout that matched */
	char mrenclave[2 * TCW_SGX_MEASUREMENT_SIZE + 1];
	char mrsigner[2 * TCW_SGX_MEASUREMENT_SIZE + 1];
};

/* Checks the quote of a verified signup: it must parse, bind the signup's
 * keys in REPORTDATA and match expect_mrenclave / expect_mrsigner (hex,
 * any case; NULL = not checked). A signup without a quote passes only
 * when neither is expected. TCW_OK, or TCW_ERR_VERIFY with the reason in
 * e->field; TCW_ERR_NOMEM. */
int tcw_eea_signup_quote(const struct tcw_signup *su, const char *expect_mrenclave,
                         const char *expect_mrsigner, struct tcw_eea_quote_info *out,
                         struct tcw_error *e);

/* The EEA worker record of a signup (WorkerRetrieve result members
 * workerType, organizationId, applicationTypeId, details, status): details
 * with the algorithms as the keys really are, workerTypeData with
 * verificationKey, encryptionKey, encryptionKeySignature, an empty
 * proofData and, when q->present, the quote and measurements in fields of
 * their own. *out caller json_object_put()s. */
int tcw_eea_worker_record(const struct tcw_signup *su, const struct tcw_eea_quote_info *q,
                          const char *organization_id, int status, json_object **out);

/* SHA-256 of the text a WorkOrderReceiptCreate requester signs:
 * workOrderId, workerServiceId, workerId, requesterId, receiptCreateStatus
 * (decimal), workOrderRequestHash, requesterGeneratedNonce. TCW_OK or
 * TCW_ERR_INVALID_PARAM (field in e) when one is missing or mistyped. */
int tcw_eea_receipt_create_digest(json_object *params, uint8_t digest[TCW_SHA256_SIZE],
                                  struct tcw_error *e);

/* SHA-256 of workOrderId || decimal updateType || updateData: what a
 * receipt update signature covers. */
int tcw_eea_receipt_update_digest(const char *work_order_id, int64_t update_type,
                                  const char *update_data, uint8_t digest[TCW_SHA256_SIZE]);

/* Verifies a base64 DER signature over digest with a PEM key: TCW_OK,
 * TCW_ERR_VERIFY or TCW_ERR_INVALID_PARAM (not base64 / not a key). */
int tcw_eea_verify_b64(const char *pem, const uint8_t digest[TCW_SHA256_SIZE],
                       const char *sig_b64);

#ifdef __cplusplus
}
#endif
#endif /* TCW_EEA_H */
