/* SPDX-License-Identifier: Apache-2.0 */
/* keystore.h - the worker identity: fresh keys per start, or kept in a --keys-file. */
#ifndef TCW_WORKER_KEYSTORE_H
#define TCW_WORKER_KEYSTORE_H

#include "config.h"
#include "tcw/tcw.h"

/*
 * Produces the worker keys for cfg into *keys (caller frees with
 * tcw_keys_free). Without cfg->keys_file: generated. With it: loaded when
 * the file exists, otherwise generated and stored there (mode 0600,
 * atomically); with cfg->regenerate_keys: generated and stored over the old
 * file. Logs what it does. A keys file that cannot be read, is corrupt or
 * cannot be written is refused (logged with how to start afresh) with
 * TCW_ERR_INVALID_PARAM; identity never changes silently.
 */
int keystore_open(const struct worker_config *cfg, struct tcw_keys **keys);

/* keystore_open for any daemon: path NULL = generated; regenerate replaces
 * the file; rsa_bits for new keys; who ("worker", "gateway") names the
 * identity in the log. Same rules and returns as keystore_open. */
int keystore_open_path(const char *path, int regenerate, unsigned rsa_bits, const char *who,
                       struct tcw_keys **keys);

#endif /* TCW_WORKER_KEYSTORE_H */
