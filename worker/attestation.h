/* SPDX-License-Identifier: Apache-2.0 */
/* attestation.h - Gramine's /dev/attestation: report data out, quote and MRENCLAVE in (protocol.md
 * §10). */
#ifndef TCW_WORKER_ATTESTATION_H
#define TCW_WORKER_ATTESTATION_H

#include "tcw/tcw.h"

/* Largest quote and attestation pseudo-file read, in bytes. */
#define ATTESTATION_MAX_FILE (1u << 20)

/* What the signup reply gets from the attestation files; strings owned
 * (attestation_fini), "" when unavailable. */
struct attestation {
	char type[32];   /* attestation_type as read, "" when absent */
	char *mrenclave; /* hex of the first 32 bytes of my_target_info */
	char *quote;     /* base64 of the quote */
};

/*
 * Runs the signup steps of protocol.md §10 under dir (normally
 * /dev/attestation): reads and logs attestation_type, writes the 64-byte
 * report data of layout (TCW_REPORT_*) for keys to user_report_data, reads
 * quote (base64 into out->quote) and my_target_info (hex of MRENCLAVE into
 * out->mrenclave), and logs what the quote says. Missing or unusable files
 * leave their field "" and produce exactly one warning, as the reference
 * worker serves without SGX. Returns 0, or TCW_ERR_NOMEM / a tcw_report_data
 * error (out is then released).
 */
int attestation_collect(const char *dir, int layout, const struct tcw_keys *keys,
                        struct attestation *out);
/* Frees the strings of a and zeroes it. */
void attestation_fini(struct attestation *a);

#endif /* TCW_WORKER_ATTESTATION_H */
