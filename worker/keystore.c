/* SPDX-License-Identifier: Apache-2.0 */
/* keystore.c - loads the worker keys from a --keys-file, or generates and stores them. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "keystore.h"
#include "log.h"

/* Generates keys of rsa_bits bits, logging the outcome. */
static int generate(unsigned rsa_bits, struct tcw_keys **keys)
{
	int rc;

	log_info("generating a %u-bit RSA encryption key and a secp256k1 signing key", rsa_bits);
	rc = tcw_keys_generate(rsa_bits, keys);
	if (rc != 0)
		log_error("key generation failed: %s", tcw_strerror(rc));
	return rc;
}

/* Logs why the daemon (who) refuses its keys file and how to start afresh. */
static void refuse(const char *who, const char *path, const char *what, const char *reason)
{
	log_error("keys file %s: %s: %s", path, what, reason);
	log_error("refusing to start: the %s's identity (its registered keys) would change. "
	          "Restore the file, or start afresh with --regenerate-keys (clients and "
	          "registries then need the new keys). Inside SGX, a file sealed by another "
	          "enclave build or on another CPU cannot be read.",
	          who);
}

/* Generates keys and stores them in path (first start or --regenerate-keys). */
static int create(const char *path, unsigned rsa_bits, struct tcw_keys **keys)
{
	struct tcw_error e = {0};
	int rc;

	rc = generate(rsa_bits, keys);
	if (rc != 0)
		return rc;
	rc = tcw_keys_save(*keys, path, &e);
	if (rc != 0) {
		log_error("keys file %s: cannot store the new keys: %s", path, e.field);
		log_error("refusing to start with keys that would not survive a restart");
		tcw_keys_free(keys);
		return TCW_ERR_INVALID_PARAM;
	}
	log_info("stored the new keys in %s", path);
	return 0;
}

/* Produces the worker keys for cfg (see keystore.h). */
int keystore_open(const struct worker_config *cfg, struct tcw_keys **keys)
{
	return keystore_open_path(cfg->keys_file, cfg->regenerate_keys, cfg->rsa_bits, "worker",
	                          keys);
}

/* Produces a daemon's keys from an optional keys file (see keystore.h). */
int keystore_open_path(const char *path, int regenerate, unsigned rsa_bits, const char *who,
                       struct tcw_keys **keys)
{
	struct tcw_error e = {0};
	struct stat st;
	int rc;

	*keys = NULL;
	if (path == NULL)
		return generate(rsa_bits, keys);
	if (regenerate) {
		log_warn("--regenerate-keys: replacing the keys in %s with new ones; clients and "
		         "registries that know the old keys must be given the new ones",
		         path);
		return create(path, rsa_bits, keys);
	}
	if (stat(path, &st) != 0) {
		if (errno != ENOENT) {
			refuse(who, path, "cannot access", strerror(errno));
			return TCW_ERR_INVALID_PARAM;
		}
		log_info("keys file %s does not exist yet: first start", path);
		return create(path, rsa_bits, keys);
	}
	rc = tcw_keys_load(path, keys, &e);
	if (rc == TCW_ERR_NOMEM) {
		log_error("keys file %s: out of memory", path);
		return rc;
	}
	if (rc != 0) {
		refuse(who, path, rc == TCW_ERR_INTERNAL ? "unreadable" : "corrupt", e.field);
		return TCW_ERR_INVALID_PARAM;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		log_warn("keys file %s is accessible to other users (mode %03o); it holds the "
		         "%s's private keys: chmod 600 it",
		         path, (unsigned)(st.st_mode & 0777), who);
	if (tcw_keys_rsa_bits(*keys) != rsa_bits)
		log_info("keys file %s holds an RSA-%u key; the configured size %u applies only "
		         "to new keys",
		         path, tcw_keys_rsa_bits(*keys), rsa_bits);
	log_info("loaded the %s keys from %s (same identity as before)", who, path);
	return 0;
}
