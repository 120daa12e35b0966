/* SPDX-License-Identifier: Apache-2.0 */
/* gramine.h - detects the Gramine library OS and refuses settings that cannot work inside it. */
#ifndef TCW_WORKER_GRAMINE_H
#define TCW_WORKER_GRAMINE_H

#include <stddef.h>

/* Environment variable the Gramine manifest sets (deploy/gramine). */
#define GRAMINE_ENV "TCW_GRAMINE"
/* A pseudo-file Gramine provides in every mode, SGX or not. */
#define GRAMINE_ATTESTATION_TYPE "/dev/attestation/attestation_type"

/* Non-zero when this process runs inside Gramine: GRAMINE_ENV is set to a
 * non-empty value other than "0", or GRAMINE_ATTESTATION_TYPE exists. */
int gramine_detected(void);
/* Checks that endpoint can be bound inside Gramine, where libzmq aborts
 * when it binds a literal address (no netlink for its interface lookup):
 * tcp://, ws://, wss:// and udp:// endpoints must use the host "*". Other
 * transports pass. Returns 0, or TCW_ERR_INVALID_PARAM after writing the
 * reason into why (whysize bytes). */
int gramine_check_bind(const char *endpoint, char *why, size_t whysize);
/* Start-up check for the worker: when gramine_detected(), logs that and
 * applies gramine_check_bind to bind, logging the reason on refusal.
 * Returns 0 or TCW_ERR_INVALID_PARAM. */
int gramine_startup_check(const char *bind);

/* Environment variable a manifest rendered with SEAL_KEY=insecure-test sets:
 * its encrypted mount uses a key written in the manifest, for tests under
 * gramine-direct only. */
#define GRAMINE_TEST_KEY_ENV "TCW_INSECURE_TEST_KEY"
/* Refuses the test sealing key in SGX: when GRAMINE_TEST_KEY_ENV is set to a
 * non-empty value other than "0" and attestation_dir/attestation_type exists
 * and names an attestation type other than "none" (an SGX enclave), writes
 * the reason into why and returns TCW_ERR_INVALID_PARAM. Returns 1 when
 * the key is set outside SGX (allowed: gramine-direct), 0 when it is not
 * set. */
int gramine_check_test_key(const char *attestation_dir, char *why, size_t whysize);

#endif /* TCW_WORKER_GRAMINE_H */
