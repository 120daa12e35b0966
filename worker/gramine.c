/* SPDX-License-Identifier: Apache-2.0 */
/* gramine.c - Gramine detection and the bind-address check that keeps libzmq from aborting. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gramine.h"
#include "log.h"

/* Transports whose bind resolves a host or interface name in libzmq. */
static const char *const g_ip_transports[] = {"tcp", "ws", "wss", "udp"};

/* Non-zero when the manifest's variable is set or Gramine's pseudo-file
 * exists; see gramine.h. */
int gramine_detected(void)
{
	const char *env = getenv(GRAMINE_ENV);

	if (env != NULL && env[0] != '\0' && strcmp(env, "0") != 0)
		return 1;
	return access(GRAMINE_ATTESTATION_TYPE, F_OK) == 0;
}

/* Non-zero when the scheme endpoint[0..len) is one of g_ip_transports. */
static int is_ip_transport(const char *endpoint, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(g_ip_transports) / sizeof(g_ip_transports[0]); i++) {
		if (strlen(g_ip_transports[i]) == len &&
		    memcmp(endpoint, g_ip_transports[i], len) == 0)
			return 1;
	}
	return 0;
}

/* Refuses a literal host in an IP endpoint; see gramine.h. */
int gramine_check_bind(const char *endpoint, char *why, size_t whysize)
{
	char shown[LOG_ESCAPED_SIZE];
	const char *sep, *addr, *end, *colon = NULL, *p;

	sep = strstr(endpoint, "://");
	if (sep == NULL || !is_ip_transport(endpoint, (size_t)(sep - endpoint)))
		return 0;
	addr = sep + 3;
	end = strchr(addr, '/');
	if (end == NULL)
		end = addr + strlen(addr);
	for (p = addr; p < end; p++) {
		if (*p == ':')
			colon = p;
	}
	if (colon == NULL || (colon - addr == 1 && addr[0] == '*'))
		return 0; /* no port: libzmq reports the malformed endpoint itself */
	log_escape(shown, sizeof(shown), endpoint, strlen(endpoint), LOG_NAME_MAX);
	snprintf(why, whysize,
	         "cannot bind %s inside Gramine: libzmq aborts when it binds a literal address "
	         "there (no netlink); bind the wildcard instead, e.g. %.*s://*:%s",
	         shown, (int)(sep - endpoint), endpoint, colon + 1);
	return TCW_ERR_INVALID_PARAM;
}

/* Logs Gramine and checks the bind endpoint; see gramine.h. */
int gramine_startup_check(const char *bind)
{
	char why[2 * LOG_ESCAPED_SIZE + 256];

	if (!gramine_detected())
		return 0;
	log_info("running inside Gramine");
	if (gramine_check_bind(bind, why, sizeof(why)) != 0) {
		log_error("--bind: %s", why);
		return TCW_ERR_INVALID_PARAM;
	}
	return 0;
}

/* Refuses the insecure test key inside SGX; see gramine.h. */
int gramine_check_test_key(const char *attestation_dir, char *why, size_t whysize)
{
	const char *env = getenv(GRAMINE_TEST_KEY_ENV);
	char path[4096], type[64], shown[LOG_ESCAPED_SIZE];
	ssize_t n;
	int fd;

	if (env == NULL || env[0] == '\0' || strcmp(env, "0") == 0)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/attestation_type", attestation_dir) >=
	    sizeof(path))
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1; /* no attestation files: not SGX */
	n = read(fd, type, sizeof(type) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	while (n > 0 && (type[n - 1] == '\n' || type[n - 1] == ' ' || type[n - 1] == '\0'))
		n--;
	type[n] = '\0';
	if (strcmp(type, "none") == 0)
		return 1;
	log_escape(shown, sizeof(shown), type, (size_t)n, LOG_NAME_MAX);
	snprintf(why, whysize,
	         "%s is set: the manifest was rendered with SEAL_KEY=insecure-test, whose "
	         "sealing key is written in the manifest, but %s says this is an SGX enclave "
	         "(attestation type '%s'); refusing to keep keys under a key the host knows. "
	         "Render with SEAL_KEY=_sgx_mrenclave or _sgx_mrsigner",
	         GRAMINE_TEST_KEY_ENV, path, shown);
	return TCW_ERR_INVALID_PARAM;
}
