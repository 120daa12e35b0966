/* SPDX-License-Identifier: Apache-2.0 */
/* config.c - parses tcgateway's flags and --config INI file from one table of settings. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "config.h"
#include "log.h"
#include "tcw/tcw.h"

enum kind { K_STR, K_BOOL, K_NUM, K_LIST_WORKER, K_LIST_ACCEPT, K_LEVEL, K_FORMAT };

/* One setting: flag --name and INI key name. */
struct setting {
	const char *name;
	enum kind kind;
	size_t off;
	unsigned long min, max;
	const char *arg, *help;
};

#define S(f) offsetof(struct gw_config, f)
static const struct setting g_settings[] = {
    {"listen", K_STR, S(listen), 0, 0, "ADDR:PORT",
     "HTTP(S) JSON-RPC address (default 127.0.0.1:1947; port 0 = any free port)"},
    {"admin-socket", K_STR, S(admin_socket), 0, 0, "PATH",
     "unix socket (mode 0600) for WorkerRegister, WorkerUpdate, WorkerSetStatus"},
    {"tls-cert", K_STR, S(tls_cert), 0, 0, "FILE", "serve HTTPS with this PEM certificate"},
    {"tls-key", K_STR, S(tls_key), 0, 0, "FILE", "... and this PEM private key"},
    {"insecure-http", K_BOOL, S(insecure_http), 0, 0, NULL,
     "allow plain HTTP on a non-loopback address (logs a warning)"},
    {"worker", K_LIST_WORKER, 0, 0, 0, "NAME=URL",
     "a tcworker to serve as workerId SHA-256(NAME) (repeatable)"},
    {"accept-new-keys", K_LIST_ACCEPT, 0, 0, 0, "NAME",
     "accept the keys worker NAME presents now, even if they changed (repeatable)"},
    {"expect-mrenclave", K_STR, S(expect_mrenclave), 0, 0, "HEX",
     "workers' SGX quotes must carry this MRENCLAVE"},
    {"expect-mrsigner", K_STR, S(expect_mrsigner), 0, 0, "HEX",
     "workers' SGX quotes must carry this MRSIGNER"},
    {"db", K_STR, S(db), 0, 0, "URL",
     "sqlite:PATH (default sqlite:tcgateway.db) or postgresql://..."},
    {"node-name", K_STR, S(node_name), 0, 0, "NAME",
     "this gateway's name in order leases (default: host name)"},
    {"keys-file", K_STR, S(keys_file), 0, 0, "PATH",
     "the gateway's receipt signing key (tcworker keys-file format)"},
    {"regenerate-keys", K_BOOL, S(regenerate_keys), 0, 0, NULL,
     "replace the key in --keys-file with a new one"},
    {"organization-id", K_STR, S(organization_id), 0, 0, "TEXT",
     "organizationId of the workers' records (default empty)"},
    {"log-level", K_LEVEL, S(log_level), 0, 0, "LEVEL", "error, warn, info or debug"},
    {"log-format", K_FORMAT, S(log_format), 0, 0, "FORMAT",
     "text (default) or json; on the journal: its priorities, no own time stamps"},
    {"result-wait-ms", K_NUM, S(result_wait_ms), 0, 60000, "MS",
     "WorkOrderGetResult waits this long for a pending order (default 2000)"},
    {"order-timeout-ms", K_NUM, S(order_timeout_ms), 1000, 86400000, "MS",
     "an order not final this long after submission fails (default 300000)"},
    {"max-in-flight", K_NUM, S(max_in_flight), 1, 4096, "N",
     "orders sent to one worker and not answered yet (default 16)"},
    {"recheck-ms", K_NUM, S(recheck_ms), 100, 3600000, "MS",
     "how often each worker's signup is checked again (default 10000)"},
    {"lease-ms", K_NUM, S(lease_ms), 1000, 3600000, "MS",
     "an order claim lasts this long unless renewed (default 30000)"},
    {"dispatch-timeout-ms", K_NUM, S(dispatch_timeout_ms), 100, 3600000, "MS",
     "a worker reply not received this long after sending is asked again (default 30000)"},
    {"signup-timeout-ms", K_NUM, S(signup_timeout_ms), 100, 600000, "MS",
     "wait for a worker's signup reply (default 3000)"},
    {"max-body-bytes", K_NUM, S(max_body_bytes), 1024, 1073741824, "N",
     "largest request body (default 16777216); larger: HTTP 413"},
    {"max-header-bytes", K_NUM, S(max_header_bytes), 4096, 1048576, "N",
     "memory for one request's headers (default 32768); beyond: HTTP 431"},
    {"max-connections", K_NUM, S(max_connections), 1, 65536, "N",
     "open HTTP connections (default 1024)"},
    {"idle-timeout-s", K_NUM, S(idle_timeout_s), 1, 86400, "SECONDS",
     "close an HTTP connection idle this long (default 30)"},
    {"drain-ms", K_NUM, S(drain_ms), 0, 600000, "MS",
     "on SIGTERM, wait this long for orders at workers (default 10000)"},
};
#define N_SETTINGS (sizeof(g_settings) / sizeof(g_settings[0]))
enum { OPT_CONFIG = 1000, OPT_HELP, OPT_VERSION };

static void usage(FILE *out)
{
	fprintf(out, "Usage: tcgateway [OPTION]...\n"
	             "EEA JSON-RPC front end for tcworker workers, with a durable store.\n\n");
	for (size_t i = 0; i < N_SETTINGS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", g_settings[i].name,
		         g_settings[i].arg ? " " : "", g_settings[i].arg ? g_settings[i].arg : "");
		fprintf(out, "  %-28s %s\n", left, g_settings[i].help);
	}
	fprintf(out, "  %-28s %s\n", "--config FILE",
	        "INI file with the long option names as keys, top level or [tcgateway];"
	        " flags win");
	fprintf(out, "  %-28s %s\n  %-28s %s\n", "--help", "show this help and exit", "--version",
	        "show the version and exit");
}

static int set_str(char **slot, const char *v)
{
	char *c = strdup(v);

	if (!c)
		return TCW_ERR_NOMEM;
	free(*slot);
	*slot = c;
	return 0;
}

/* Appends v to a string list of at most GW_MAX_WORKERS entries. */
static int list_add(struct gw_config *cfg, const struct setting *s, const char *v, char *why,
                    size_t whysize)
{
	const char *eq = strchr(v, '=');

	if (s->kind == K_LIST_ACCEPT) {
		if (cfg->accept_count == GW_MAX_WORKERS)
			goto full;
		return set_str(&cfg->accept_new_keys[cfg->accept_count++], v);
	}
	if (!eq || eq == v || eq[1] == '\0') {
		snprintf(why, whysize, "expected NAME=URL, e.g. worker-1=tcp://127.0.0.1:7777");
		return TCW_ERR_INVALID_PARAM;
	}
	if (cfg->worker_count == GW_MAX_WORKERS)
		goto full;
	for (size_t i = 0; i < cfg->worker_count; i++) {
		if (strlen(cfg->workers[i].name) == (size_t)(eq - v) &&
		    strncmp(cfg->workers[i].name, v, (size_t)(eq - v)) == 0) {
			snprintf(why, whysize, "worker name given twice");
			return TCW_ERR_INVALID_PARAM;
		}
	}
	cfg->workers[cfg->worker_count].name = strndup(v, (size_t)(eq - v));
	cfg->workers[cfg->worker_count].url = strdup(eq + 1);
	cfg->worker_count++;
	if (!cfg->workers[cfg->worker_count - 1].name || !cfg->workers[cfg->worker_count - 1].url)
		return TCW_ERR_NOMEM;
	return 0;
full:
	snprintf(why, whysize, "more than %d entries", GW_MAX_WORKERS);
	return TCW_ERR_INVALID_PARAM;
}

/* Validates v for setting s and stores it in cfg. */
static int apply(struct gw_config *cfg, const struct setting *s, const char *v, char *why,
                 size_t whysize)
{
	char *base = (char *)cfg, *end = NULL;
	unsigned long long n;
	int level;

	if (v[0] == '\0') {
		snprintf(why, whysize, "empty value");
		return TCW_ERR_INVALID_PARAM;
	}
	switch (s->kind) {
	case K_STR:
		return set_str((char **)(base + s->off), v);
	case K_BOOL:
		if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0)
			*(int *)(base + s->off) = 1;
		else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
		         strcasecmp(v, "no") == 0)
			*(int *)(base + s->off) = 0;
		else
			goto bad_bool;
		return 0;
	case K_NUM:
		errno = 0;
		n = strtoull(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || errno || *end || n < s->min || n > s->max) {
			snprintf(why, whysize, "invalid value '%.64s' (expected an integer from %lu to %lu)",
			         v, s->min, s->max);
			return TCW_ERR_INVALID_PARAM;
		}
		*(unsigned long *)(base + s->off) = (unsigned long)n;
		return 0;
	case K_LEVEL:
		if (log_level_parse(v, &level) != 0) {
			snprintf(why, whysize, "invalid value '%.64s' (expected error, warn, info or debug)",
			         v);
			return TCW_ERR_INVALID_PARAM;
		}
		cfg->log_level = level;
		return 0;
	case K_FORMAT:
		if (log_format_parse(v, &cfg->log_format) != 0) {
			snprintf(why, whysize, "invalid value '%.64s' (expected text or json)", v);
			return TCW_ERR_INVALID_PARAM;
		}
		return 0;
	default:
		return list_add(cfg, s, v, why, whysize);
	}
bad_bool:
	snprintf(why, whysize, "invalid value '%.64s' (expected true or false)", v);
	return TCW_ERR_INVALID_PARAM;
}

/* INI parse state: the first error. */
struct ini_state {
	struct gw_config *cfg;
	char err[512];
};

static int cfg_ini_line(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	char why[400];

	if (section[0] && strcmp(section, "tcgateway") != 0) {
		snprintf(st->err, sizeof(st->err), "unknown section [%.64s] (expected [tcgateway])",
		         section);
		return 0;
	}
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (strcmp(name, g_settings[i].name) != 0)
			continue;
		why[0] = '\0';
		if (apply(st->cfg, &g_settings[i], value, why, sizeof(why)) != 0) {
			snprintf(st->err, sizeof(st->err), "%s: %s", name, why[0] ? why : "out of memory");
			return 0;
		}
		return 1;
	}
	snprintf(st->err, sizeof(st->err), "%.64s: unknown key", name);
	return 0;
}

static int load_ini(const char *path, struct gw_config *cfg)
{
	struct ini_state st = {.cfg = cfg};
	FILE *fp = fopen(path, "r");
	int line;

	if (!fp) {
		fprintf(stderr, "tcgateway: --config %s: cannot open: %s\n", path, strerror(errno));
		return TCW_ERR_INVALID_PARAM;
	}
	line = ini_parse_file(fp, cfg_ini_line, &st);
	fclose(fp);
	if (line == 0)
		return 0;
	if (st.err[0])
		fprintf(stderr, "tcgateway: %s:%d: %s\n", path, line, st.err);
	else
		fprintf(stderr, "tcgateway: %s:%d: syntax error (expected key = value or [section])\n",
		        path, line);
	return TCW_ERR_INVALID_PARAM;
}

static int set_defaults(struct gw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = TCW_LOG_INFO;
	cfg->log_format = LOG_FORMAT_TEXT;
	cfg->result_wait_ms = 2000;
	cfg->order_timeout_ms = 300000;
	cfg->max_in_flight = 16;
	cfg->recheck_ms = 10000;
	cfg->lease_ms = 30000;
	cfg->dispatch_timeout_ms = 30000;
	cfg->signup_timeout_ms = 3000;
	cfg->max_body_bytes = 16777216;
	cfg->max_header_bytes = 32768;
	cfg->max_connections = 1024;
	cfg->idle_timeout_s = 30;
	cfg->drain_ms = 10000;
	if (set_str(&cfg->listen, "127.0.0.1:1947") || set_str(&cfg->db, "sqlite:tcgateway.db") ||
	    set_str(&cfg->organization_id, ""))
		return TCW_ERR_NOMEM;
	return 0;
}

/* Checks what no single setting can: measurement syntax, TLS pairs. */
static int check_combination(struct gw_config *cfg)
{
	const char *m[2] = {cfg->expect_mrenclave, cfg->expect_mrsigner};

	for (int i = 0; i < 2; i++) {
		if (m[i] && (strlen(m[i]) != 64 || strspn(m[i], "0123456789abcdefABCDEF") != 64)) {
			fprintf(stderr, "tcgateway: --%s: expected 64 hex digits\n",
			        i ? "expect-mrsigner" : "expect-mrenclave");
			return TCW_ERR_INVALID_PARAM;
		}
	}
	if (!cfg->tls_cert != !cfg->tls_key) {
		fprintf(stderr, "tcgateway: --tls-cert and --tls-key go together\n");
		return TCW_ERR_INVALID_PARAM;
	}
	if (cfg->regenerate_keys && !cfg->keys_file) {
		fprintf(stderr, "tcgateway: --regenerate-keys needs --keys-file PATH\n");
		return TCW_ERR_INVALID_PARAM;
	}
	return 0;
}

/* Fills cfg from defaults, the INI file and the flags (see config.h). */
int gw_config_load(int argc, char **argv, struct gw_config *cfg, int *done)
{
	struct option longopts[N_SETTINGS + 4];
	const char *given[N_SETTINGS][GW_MAX_WORKERS];
	size_t ngiven[N_SETTINGS] = {0};
	char why[400];
	int c, rc;

	*done = 0;
	rc = set_defaults(cfg);
	if (rc)
		return rc;
	for (size_t i = 0; i < N_SETTINGS; i++)
		longopts[i] = (struct option){g_settings[i].name,
		                              g_settings[i].kind == K_BOOL ? no_argument
		                                                           : required_argument,
		                              NULL, (int)i};
	longopts[N_SETTINGS] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	longopts[N_SETTINGS + 1] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[N_SETTINGS + 2] = (struct option){"version", no_argument, NULL, OPT_VERSION};
	longopts[N_SETTINGS + 3] = (struct option){NULL, 0, NULL, 0};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c >= 0 && (size_t)c < N_SETTINGS) {
			if (ngiven[c] == GW_MAX_WORKERS) {
				fprintf(stderr, "tcgateway: --%s: given too often\n", g_settings[c].name);
				return TCW_ERR_INVALID_PARAM;
			}
			given[c][ngiven[c]++] = optarg ? optarg : "true";
		} else if (c == OPT_CONFIG) {
			if (set_str(&cfg->config_file, optarg))
				return TCW_ERR_NOMEM;
		} else if (c == OPT_HELP) {
			usage(stdout);
			*done = 1;
			return 0;
		} else if (c == OPT_VERSION) {
			printf("tcgateway %s\n", TCW_VERSION);
			*done = 1;
			return 0;
		} else {
			fprintf(stderr, "tcgateway: %s: %s\n", argv[optind - 1],
			        c == ':' ? "missing value" : "unknown option");
			fprintf(stderr, "Try 'tcgateway --help' for more information.\n");
			return TCW_ERR_INVALID_PARAM;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcgateway: unexpected argument '%s'\n", argv[optind]);
		return TCW_ERR_INVALID_PARAM;
	}
	if (cfg->config_file && (rc = load_ini(cfg->config_file, cfg)) != 0)
		return rc;
	for (size_t i = 0; i < N_SETTINGS; i++) {
		/* list flags replace the file's list */
		if (ngiven[i] && g_settings[i].kind == K_LIST_WORKER) {
			for (size_t k = 0; k < cfg->worker_count; k++) {
				free(cfg->workers[k].name);
				free(cfg->workers[k].url);
			}
			cfg->worker_count = 0;
		}
		for (size_t k = 0; k < ngiven[i]; k++) {
			why[0] = '\0';
			rc = apply(cfg, &g_settings[i], given[i][k], why, sizeof(why));
			if (rc == TCW_ERR_NOMEM)
				return rc;
			if (rc) {
				fprintf(stderr, "tcgateway: --%s: %s\n", g_settings[i].name, why);
				return rc;
			}
		}
	}
	return check_combination(cfg);
}

/* Frees the strings of cfg and zeroes it. */
void gw_config_fini(struct gw_config *cfg)
{
	char **strs[] = {&cfg->listen, &cfg->admin_socket, &cfg->tls_cert, &cfg->tls_key,
	                 &cfg->expect_mrenclave, &cfg->expect_mrsigner, &cfg->db, &cfg->node_name,
	                 &cfg->keys_file, &cfg->organization_id, &cfg->config_file};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	for (size_t i = 0; i < cfg->worker_count; i++) {
		free(cfg->workers[i].name);
		free(cfg->workers[i].url);
	}
	for (size_t i = 0; i < cfg->accept_count; i++)
		free(cfg->accept_new_keys[i]);
	memset(cfg, 0, sizeof(*cfg));
}
