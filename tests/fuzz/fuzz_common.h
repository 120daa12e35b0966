/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_common.h - what the libFuzzer harnesses share: the fixed worker keys
 * of tests/data/keys.json, a processor whose runner knows a few in-harness
 * workloads plus the real hello/fib plugins, reply invariants, and a trap
 * that reports why an invariant failed.
 */
#ifndef TCW_FUZZ_COMMON_H
#define TCW_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "tcw/tcw.h"

/* The libFuzzer entry points every harness defines. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Workloads the runner knows (protocol.md §9 contract):
 *   echo          each input becomes one output, in index order
 *   concat        one output: the inputs concatenated in index order
 *   none          succeeds without output (the worker answers one empty item)
 *   fail          always fails
 *   python-hello  the hello plugin (dlopen'ed from the build's workloads/)
 *   python-fib    the fib plugin, with max_n = FZ_FIB_MAX_N
 * Any other name fails like an unknown workload.
 */
#define FZ_FIB_MAX_N 2000

/* Prints why an invariant failed and aborts, so libFuzzer records a crash. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Loads keys, plugins and signup once; exits the process on failure. */
void fz_init(void);
/* The fixed worker keys (borrowed; fz_init first). */
const struct tcw_keys *fz_keys(void);
/* The processor every harness drives (borrowed; fz_init first). */
const struct tcw_processor *fz_processor(void);
/* The requester's fixed secp256k1 secret key from keys.json (borrowed). */
const uint8_t *fz_requester_seckey(void);

/* Checks what every reply must satisfy (one JSON object: the signup
 * object, a result, or an error with a fixed message and a code of 1, 2, 4
 * or 8) and returns it parsed (caller json_object_put()s). */
json_object *fz_check_reply(const char *reply, size_t size);

/* Wire code of a parsed error reply, or 0 when root is not an error. */
int fz_error_code(json_object *root);
/* Message of a parsed error reply ("" when absent; borrowed). */
const char *fz_error_message(json_object *root);

/* Installs a log handler that fails when a line contains needle (the hex
 * of a secret); NULL removes the needle. */
void fz_forbid_in_logs(const char *needle);

#endif /* TCW_FUZZ_COMMON_H */
