/* SPDX-License-Identifier: Apache-2.0 */
/* config.c - parses tcworker's flags and --config INI file into one config. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "log.h"
#include "pyhost.h"
#include "replay.h"
#include "respstore.h"

#ifndef TCW_DATADIR
#define TCW_DATADIR "/usr/local/share/tcworker"
#endif

/* Settings that exist both as a flag and as an INI key. */
enum opt_id {
	OPT_BIND,
	OPT_WORKLOAD,
	OPT_RSA_BITS,
	OPT_LOG_LEVEL,
	OPT_MAX_MESSAGE,
	OPT_ATTEST_DIR,
	OPT_ATTEST_BIND_ENC,
	OPT_KEYS_FILE,
	OPT_REPLAY_CACHE,
	OPT_REPLAY_TTL,
	OPT_REPLAY_FILE,
	OPT_WORKLOAD_TIMEOUT,
	OPT_THREADS,
	OPT_QUEUE,
	OPT_LOG_FORMAT,
	OPT_RESPONSE_STORE,
	OPT_KEY_CACHE,
	OPT_KEY_CACHE_TTL,
	OPT_COUNT,
	/* flag-only options */
	OPT_CONFIG = OPT_COUNT,
	OPT_HELP,
	OPT_VERSION,
	OPT_REGEN_KEYS,
	OPT_PYTHON_PATH, /* repeatable; also an INI key, handled apart */
};

/* INI key of --python-path (may appear on several lines). */
#define PYTHON_PATH_KEY "python-path"

static const char *const g_keys[OPT_COUNT] = {
    "bind", "workload", "rsa-bits", "log-level", "max-message-bytes",
    "attestation-dir", "attestation-bind-encryption-key", "keys-file",
    [OPT_REPLAY_CACHE] = "replay-cache", [OPT_REPLAY_TTL] = "replay-ttl",
    [OPT_REPLAY_FILE] = "replay-file", [OPT_WORKLOAD_TIMEOUT] = "workload-timeout-ms",
    [OPT_THREADS] = "threads", [OPT_QUEUE] = "queue",
    [OPT_LOG_FORMAT] = "log-format",
    [OPT_RESPONSE_STORE] = "response-store-bytes",
    [OPT_KEY_CACHE] = "key-cache", [OPT_KEY_CACHE_TTL] = "key-cache-ttl",
};

/* Size of the reason buffers used while validating a value. */
#define REASON_SIZE 512

/* State of one INI parse: the stream, line tracking and the first error. */
struct ini_ctx {
	FILE *fp;
	struct worker_config *cfg;
	char *line;
	size_t line_cap;
	int lineno;
	int err_line;
	char err[REASON_SIZE];
};

/* Number of online CPUs (at least 1, at most CONFIG_MAX_THREADS). */
static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > (long)CONFIG_MAX_THREADS ? CONFIG_MAX_THREADS : (unsigned)n;
}

static void print_usage(FILE *out)
{
	fprintf(out,
	        "Usage: tcworker [OPTION]...\n"
	        "Trusted-compute worker: serves Avalon work orders over ZeroMQ.\n"
	        "\n"
	        "  --bind URL               ZMQ endpoint to bind (default %s)\n"
	        "  --workload FILE          workloads file (default %s in the\n"
	        "                           working directory, else the installed one)\n"
	        "  --rsa-bits N             RSA key size: 2048, 3072 or 4096 (default %u)\n"
	        "  --log-level LEVEL        error, warn, info or debug (default info)\n"
	        "  --log-format FORMAT      text or json (one object per line: time, level,\n"
	        "                           message, work_order_id); default text\n"
	        "  --max-message-bytes N    largest request accepted, 1..%lu (default %u)\n"
	        "  --config FILE            INI file with the long option names as keys\n"
	        "                           (bind = ..., except config and regenerate-keys;\n"
	        "                           top level or [tcworker]); flags win over the file\n"
	        "  --attestation-dir DIR    Gramine attestation files (default %s)\n"
	        "  --attestation-bind-encryption-key\n"
	        "                           quote binds both keys: SHA-256(verifying key)\n"
	        "                           || SHA-256(encryption key) (default: only the\n"
	        "                           verifying key, as the reference worker)\n"
	        "  --keys-file PATH         keep the worker keys in PATH: created on first\n"
	        "                           start, loaded afterwards (same identity)\n"
	        "  --regenerate-keys        replace the keys in --keys-file with new ones\n"
	        "  --replay-cache N         work order ids remembered against replays\n"
	        "                           (default %u, 0 = replay protection off)\n"
	        "  --replay-ttl SECONDS     how long an id is remembered (default %u)\n"
	        "  --replay-file PATH       keep the replay cache in PATH across restarts\n"
	        "                           (default: PATH.replay for --keys-file PATH)\n"
	        "  --response-store-bytes N keep the replies of accepted work orders, up to N\n"
	        "                           bytes, for exact resubmissions (default %u,\n"
	        "                           0 = off: they get \"Duplicate work order\")\n"
	        "  --key-cache N            RSA unwraps remembered, so a repeated session key\n"
	        "                           costs no RSA decryption (default %u, 0 = off)\n"
	        "  --key-cache-ttl SECONDS  how long an unwrap is remembered (default %u)\n"
	        "  --workload-timeout-ms MS time budget of one workload run (default %u,\n"
	        "                           0 = none); plugins that poll it stop early\n"
	        "  --threads N              processing threads, 1..%u (default: the number of\n"
	        "                           online CPUs, here %u)\n"
	        "  --queue N                requests that may wait for a thread, 1..%u\n"
	        "                           (default %u); beyond that \"Worker busy\" (code 8)\n"
	        "  --help                   show this help and exit\n"
	        "  --python-path DIR        add DIR to the Python workloads' module path, after\n"
	        "                           the workloads file's directory (repeatable; INI:\n"
	        "                           one python-path = DIR line each)\n"
	        "  --version                show the version and exit\n",
	        CONFIG_DEFAULT_BIND, CONFIG_DEFAULT_WORKLOAD, CONFIG_DEFAULT_RSA_BITS,
	        CONFIG_MAX_MESSAGE_LIMIT, TCW_DEFAULT_MAX_MESSAGE, CONFIG_DEFAULT_ATTESTATION_DIR,
	        REPLAY_DEFAULT_ENTRIES, REPLAY_DEFAULT_TTL, RESPSTORE_DEFAULT_BYTES,
	        TCW_KEY_CACHE_DEFAULT, TCW_KEY_CACHE_DEFAULT_TTL,
	        CONFIG_DEFAULT_WORKLOAD_TIMEOUT_MS, CONFIG_MAX_THREADS, online_cpus(),
	        CONFIG_MAX_QUEUE, CONFIG_DEFAULT_QUEUE);
}

/* Replaces *slot with a copy of value. */
static int set_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return TCW_ERR_NOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

/* Parses a plain decimal number (digits only) into *out. */
static int parse_decimal(const char *text, unsigned long long *out)
{
	char *end = NULL;
	unsigned long long v;

	if (text[0] < '0' || text[0] > '9')
		return TCW_ERR_INVALID_PARAM;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0')
		return TCW_ERR_INVALID_PARAM;
	*out = v;
	return 0;
}

/* Parses a boolean setting (true/false, yes/no, on/off, 1/0) into *out. */
static int parse_bool(const char *value, int *out, const char *shown, char *why, size_t whysize)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
			*out = strcasecmp(value, yes[i]) == 0;
			return 0;
		}
	}
	snprintf(why, whysize, "invalid value '%s' (expected true or false)", shown);
	return TCW_ERR_INVALID_PARAM;
}

/* Appends a copy of dir to cfg->python_paths. */
static int python_path_add(struct worker_config *cfg, const char *dir)
{
	char **v = realloc(cfg->python_paths, (cfg->python_path_count + 1) * sizeof(*v));

	if (v == NULL)
		return TCW_ERR_NOMEM;
	cfg->python_paths = v;
	v[cfg->python_path_count] = strdup(dir);
	if (v[cfg->python_path_count] == NULL)
		return TCW_ERR_NOMEM;
	cfg->python_path_count++;
	return 0;
}

/* Drops the python paths from index keep on. */
static void python_paths_truncate(struct worker_config *cfg, size_t keep)
{
	while (cfg->python_path_count > keep)
		free(cfg->python_paths[--cfg->python_path_count]);
	if (keep == 0) {
		free(cfg->python_paths);
		cfg->python_paths = NULL;
	}
}

/* option_apply for the replay cache and workload budget settings. */
static int apply_hardening(struct worker_config *cfg, int id, const char *value, const char *shown,
                           char *why, size_t whysize)
{
	unsigned long long n, lo, hi;

	if (id == OPT_REPLAY_FILE)
		return set_string(&cfg->replay_file, value);
	hi = id == OPT_REPLAY_CACHE     ? REPLAY_MAX_ENTRIES
	     : id == OPT_REPLAY_TTL     ? REPLAY_MAX_TTL
	     : id == OPT_RESPONSE_STORE ? RESPSTORE_MAX_BYTES
	                                : CONFIG_MAX_WORKLOAD_TIMEOUT_MS;
	lo = id == OPT_REPLAY_TTL ? 1 : 0;
	if (parse_decimal(value, &n) != 0 || n < lo || n > hi) {
		snprintf(why, whysize, "invalid value '%s' (expected an integer from %llu to %llu)",
		         shown, lo, hi);
		return TCW_ERR_INVALID_PARAM;
	}
	if (id == OPT_REPLAY_CACHE)
		cfg->replay_entries = (size_t)n;
	else if (id == OPT_REPLAY_TTL)
		cfg->replay_ttl = (unsigned long)n;
	else if (id == OPT_RESPONSE_STORE)
		cfg->response_store_bytes = (uint64_t)n;
	else
		cfg->workload_timeout_ms = (unsigned)n;
	return 0;
}

/* option_apply for --key-cache and --key-cache-ttl. */
static int apply_key_cache(struct worker_config *cfg, int id, const char *value, const char *shown,
                           char *why, size_t whysize)
{
	unsigned long long n, lo = id == OPT_KEY_CACHE ? 0 : 1;
	unsigned long long hi = id == OPT_KEY_CACHE ? TCW_KEY_CACHE_MAX : TCW_KEY_CACHE_MAX_TTL;

	if (parse_decimal(value, &n) != 0 || n < lo || n > hi) {
		snprintf(why, whysize, "invalid value '%s' (expected an integer from %llu to %llu)",
		         shown, lo, hi);
		return TCW_ERR_INVALID_PARAM;
	}
	if (id == OPT_KEY_CACHE)
		cfg->key_cache = (size_t)n;
	else
		cfg->key_cache_ttl = (unsigned)n;
	return 0;
}

/* option_apply for --threads and --queue. */
static int apply_concurrency(struct worker_config *cfg, int id, const char *value,
                             const char *shown, char *why, size_t whysize)
{
	unsigned long long n, hi = id == OPT_THREADS ? CONFIG_MAX_THREADS : CONFIG_MAX_QUEUE;

	if (parse_decimal(value, &n) != 0 || n < 1 || n > hi) {
		snprintf(why, whysize, "invalid value '%s' (expected an integer from 1 to %llu)",
		         shown, hi);
		return TCW_ERR_INVALID_PARAM;
	}
	if (id == OPT_THREADS)
		cfg->threads = (unsigned)n;
	else
		cfg->queue = (unsigned)n;
	return 0;
}

/* Validates value for option id and stores it in cfg; writes the reason
 * for a rejection into why. */
static int option_apply(struct worker_config *cfg, int id, const char *value, char *why,
                        size_t whysize)
{
	char shown[LOG_ESCAPED_SIZE];
	unsigned long long n;
	int level;

	log_escape(shown, sizeof(shown), value, strlen(value), LOG_NAME_MAX);
	if (value[0] == '\0') {
		snprintf(why, whysize, "empty value");
		return TCW_ERR_INVALID_PARAM;
	}
	switch (id) {
	case OPT_BIND:
		return set_string(&cfg->bind, value);
	case OPT_WORKLOAD:
		return set_string(&cfg->workload, value);
	case OPT_RSA_BITS:
		if (parse_decimal(value, &n) != 0 || (n != 2048 && n != 3072 && n != 4096)) {
			snprintf(why, whysize, "invalid value '%s' (expected 2048, 3072 or 4096)",
			         shown);
			return TCW_ERR_INVALID_PARAM;
		}
		cfg->rsa_bits = (unsigned)n;
		return 0;
	case OPT_LOG_LEVEL:
		if (log_level_parse(value, &level) != 0) {
			snprintf(why, whysize,
			         "invalid value '%s' (expected error, warn, info or debug)", shown);
			return TCW_ERR_INVALID_PARAM;
		}
		cfg->log_level = level;
		return 0;
	case OPT_LOG_FORMAT:
		if (log_format_parse(value, &cfg->log_format) != 0) {
			snprintf(why, whysize, "invalid value '%s' (expected text or json)", shown);
			return TCW_ERR_INVALID_PARAM;
		}
		return 0;
	case OPT_MAX_MESSAGE:
		if (parse_decimal(value, &n) != 0 || n < 1 || n > CONFIG_MAX_MESSAGE_LIMIT) {
			snprintf(why, whysize,
			         "invalid value '%s' (expected a byte count from 1 to %lu)", shown,
			         CONFIG_MAX_MESSAGE_LIMIT);
			return TCW_ERR_INVALID_PARAM;
		}
		cfg->max_message = (size_t)n;
		return 0;
	case OPT_ATTEST_DIR:
		return set_string(&cfg->attestation_dir, value);
	case OPT_ATTEST_BIND_ENC:
		return parse_bool(value, &cfg->attestation_bind_enc, shown, why, whysize);
	case OPT_KEYS_FILE:
		return set_string(&cfg->keys_file, value);
	case OPT_REPLAY_CACHE:
	case OPT_REPLAY_TTL:
	case OPT_REPLAY_FILE:
	case OPT_WORKLOAD_TIMEOUT:
	case OPT_RESPONSE_STORE:
		return apply_hardening(cfg, id, value, shown, why, whysize);
	case OPT_THREADS:
	case OPT_QUEUE:
		return apply_concurrency(cfg, id, value, shown, why, whysize);
	case OPT_KEY_CACHE:
	case OPT_KEY_CACHE_TTL:
		return apply_key_cache(cfg, id, value, shown, why, whysize);
	default:
		snprintf(why, whysize, "unknown setting");
		return TCW_ERR_INVALID_PARAM;
	}
}

/* Remembers the first error of an INI parse (with the current line). */
static void cfg_ini_fail(struct ini_ctx *ctx, const char *fmt, ...) LOG_PRINTF(2, 3);
static void cfg_ini_fail(struct ini_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->err_line != 0)
		return;
	ctx->err_line = ctx->lineno;
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
}

/* inih reader: hands inih one physical line at a time so line numbers
 * stay exact; a line longer than inih's buffer is an error. */
static char *cfg_ini_read(char *str, int num, void *stream)
{
	struct ini_ctx *ctx = stream;
	ssize_t n = getline(&ctx->line, &ctx->line_cap, ctx->fp);

	if (n < 0 || num < 2)
		return NULL;
	ctx->lineno++;
	if ((size_t)n + 1 > (size_t)num) {
		cfg_ini_fail(ctx, "line too long (more than %d characters)", num - 2);
		memcpy(str, "\n", 2);
		return str;
	}
	memcpy(str, ctx->line, (size_t)n + 1);
	return str;
}

/* inih handler: applies one key of the top level or [tcworker]. */
static int cfg_ini_value(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;
	char shown[LOG_ESCAPED_SIZE];
	char why[REASON_SIZE];
	int id, rc;

	log_escape(shown, sizeof(shown), name, strlen(name), LOG_NAME_MAX);
	if (section[0] != '\0' && strcmp(section, "tcworker") != 0) {
		char sec[LOG_ESCAPED_SIZE];

		log_escape(sec, sizeof(sec), section, strlen(section), LOG_NAME_MAX);
		cfg_ini_fail(ctx, "%s: unknown section [%s] (expected [tcworker])", shown, sec);
		return 0;
	}
	if (strcmp(name, PYTHON_PATH_KEY) == 0) {
		rc = value[0] != '\0' ? python_path_add(ctx->cfg, value) : TCW_ERR_INVALID_PARAM;
		if (rc != 0)
			cfg_ini_fail(ctx, "%s: %s", shown,
			             rc == TCW_ERR_NOMEM ? "out of memory" : "empty value");
		return rc == 0;
	}
	for (id = 0; id < OPT_COUNT; id++) {
		if (strcmp(name, g_keys[id]) == 0)
			break;
	}
	if (id == OPT_COUNT) {
		cfg_ini_fail(ctx, "%s: unknown key", shown);
		return 0;
	}
	why[0] = '\0';
	rc = option_apply(ctx->cfg, id, value, why, sizeof(why));
	if (rc == TCW_ERR_NOMEM) {
		cfg_ini_fail(ctx, "%s: out of memory", shown);
		return 0;
	}
	if (rc != 0) {
		cfg_ini_fail(ctx, "%s: %s", shown, why);
		return 0;
	}
	return 1;
}

/* Reads the INI file at path into cfg; prints a message on failure. */
static int load_ini(const char *path, struct worker_config *cfg)
{
	struct ini_ctx ctx;
	int ret, rc = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.fp = fopen(path, "r");
	if (ctx.fp == NULL) {
		fprintf(stderr, "tcworker: --config %s: cannot open: %s\n", path, strerror(errno));
		return TCW_ERR_INVALID_PARAM;
	}
	errno = 0;
	ret = ini_parse_stream(cfg_ini_read, &ctx, cfg_ini_value, &ctx);
	if (ferror(ctx.fp)) {
		fprintf(stderr, "tcworker: --config %s: cannot read: %s\n", path,
		        strerror(errno != 0 ? errno : EIO));
		rc = TCW_ERR_INVALID_PARAM;
	} else if (ctx.err_line != 0 && (ret <= 0 || ctx.err_line <= ret)) {
		fprintf(stderr, "tcworker: %s:%d: %s\n", path, ctx.err_line, ctx.err);
		rc = TCW_ERR_INVALID_PARAM;
	} else if (ret > 0) {
		fprintf(stderr,
		        "tcworker: %s:%d: syntax error (expected key = value or [section])\n", path,
		        ret);
		rc = TCW_ERR_INVALID_PARAM;
	} else if (ret != 0) {
		fprintf(stderr, "tcworker: --config %s: cannot parse\n", path);
		rc = TCW_ERR_INVALID_PARAM;
	}
	free(ctx.line);
	fclose(ctx.fp);
	return rc;
}

/* Sets cfg->workload to the first default workloads file that exists:
 * ./workloads.json, <exe dir>/../share/tcworker/, then TCW_DATADIR. */
static int default_workload(struct worker_config *cfg)
{
	char exe[PATH_MAX];
	char cand[PATH_MAX + 64];
	ssize_t n;
	char *slash;

	if (access(CONFIG_DEFAULT_WORKLOAD, F_OK) == 0)
		return set_string(&cfg->workload, CONFIG_DEFAULT_WORKLOAD);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(cand, sizeof(cand),
			         "%s/../share/tcworker/" CONFIG_DEFAULT_WORKLOAD, exe);
			if (access(cand, F_OK) == 0)
				return set_string(&cfg->workload, cand);
		}
	}
	if (access(TCW_DATADIR "/" CONFIG_DEFAULT_WORKLOAD, F_OK) == 0)
		return set_string(&cfg->workload, TCW_DATADIR "/" CONFIG_DEFAULT_WORKLOAD);
	fprintf(stderr,
	        "tcworker: no workloads file: %s not found in the working directory,\n"
	        "  next to the executable (../share/tcworker/) or in %s; use --workload FILE\n",
	        CONFIG_DEFAULT_WORKLOAD, TCW_DATADIR);
	return TCW_ERR_INVALID_PARAM;
}

/* Reads argv: setting values into given[] (last one wins), --config into
 * cfg. Prints help/version (sets *done) or an error message. */
static int parse_args(int argc, char **argv, const char **given, struct worker_config *cfg,
                      int *done)
{
	static const struct option longopts[] = {
	    {"bind", required_argument, NULL, OPT_BIND},
	    {"workload", required_argument, NULL, OPT_WORKLOAD},
	    {"rsa-bits", required_argument, NULL, OPT_RSA_BITS},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"max-message-bytes", required_argument, NULL, OPT_MAX_MESSAGE},
	    {"attestation-dir", required_argument, NULL, OPT_ATTEST_DIR},
	    {"attestation-bind-encryption-key", no_argument, NULL, OPT_ATTEST_BIND_ENC},
	    {"keys-file", required_argument, NULL, OPT_KEYS_FILE},
	    {"regenerate-keys", no_argument, NULL, OPT_REGEN_KEYS},
	    {"python-path", required_argument, NULL, OPT_PYTHON_PATH},
	    {"replay-cache", required_argument, NULL, OPT_REPLAY_CACHE},
	    {"replay-ttl", required_argument, NULL, OPT_REPLAY_TTL},
	    {"replay-file", required_argument, NULL, OPT_REPLAY_FILE},
	    {"response-store-bytes", required_argument, NULL, OPT_RESPONSE_STORE},
	    {"key-cache", required_argument, NULL, OPT_KEY_CACHE},
	    {"key-cache-ttl", required_argument, NULL, OPT_KEY_CACHE_TTL},
	    {"workload-timeout-ms", required_argument, NULL, OPT_WORKLOAD_TIMEOUT},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"queue", required_argument, NULL, OPT_QUEUE},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c >= 0 && c < OPT_COUNT) {
			given[c] = optarg != NULL ? optarg : "true"; /* no_argument: a switch */
		} else if (c == OPT_PYTHON_PATH) {
			if (optarg[0] == '\0') {
				fprintf(stderr, "tcworker: --python-path: empty value\n");
				return TCW_ERR_INVALID_PARAM;
			}
			if (python_path_add(cfg, optarg) != 0)
				return TCW_ERR_NOMEM;
		} else if (c == OPT_REGEN_KEYS) {
			cfg->regenerate_keys = 1;
		} else if (c == OPT_CONFIG) {
			if (optarg[0] == '\0') {
				fprintf(stderr, "tcworker: --config: empty value\n");
				return TCW_ERR_INVALID_PARAM;
			}
			if (set_string(&cfg->config_file, optarg) != 0)
				return TCW_ERR_NOMEM;
		} else if (c == OPT_HELP || c == 'h') {
			print_usage(stdout);
			*done = 1;
			return 0;
		} else if (c == OPT_VERSION) {
			printf("tcworker %s\npython: %s\n", TCW_VERSION, pyhost_support());
			*done = 1;
			return 0;
		} else if (c == ':') {
			fprintf(stderr, "tcworker: %s: missing value\n", argv[optind - 1]);
			goto usage;
		} else {
			fprintf(stderr, "tcworker: %s: unknown option\n", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcworker: unexpected argument '%s'\n", argv[optind]);
		goto usage;
	}
	return 0;
usage:
	fprintf(stderr, "Try 'tcworker --help' for more information.\n");
	return TCW_ERR_INVALID_PARAM;
}

/* Fills cfg from defaults, the --config file and the flags; see config.h. */
int config_load(int argc, char **argv, struct worker_config *cfg, int *done)
{
	const char *given[OPT_COUNT] = {NULL};
	char why[REASON_SIZE];
	size_t flag_paths;
	int id, rc;

	memset(cfg, 0, sizeof(*cfg));
	*done = 0;
	cfg->rsa_bits = CONFIG_DEFAULT_RSA_BITS;
	cfg->log_level = TCW_LOG_INFO;
	cfg->max_message = TCW_DEFAULT_MAX_MESSAGE;
	cfg->replay_entries = REPLAY_DEFAULT_ENTRIES;
	cfg->replay_ttl = REPLAY_DEFAULT_TTL;
	cfg->response_store_bytes = RESPSTORE_DEFAULT_BYTES;
	cfg->key_cache = TCW_KEY_CACHE_DEFAULT;
	cfg->key_cache_ttl = TCW_KEY_CACHE_DEFAULT_TTL;
	cfg->workload_timeout_ms = CONFIG_DEFAULT_WORKLOAD_TIMEOUT_MS;
	cfg->threads = online_cpus();
	cfg->queue = CONFIG_DEFAULT_QUEUE;
	rc = set_string(&cfg->bind, CONFIG_DEFAULT_BIND);
	if (rc == 0)
		rc = set_string(&cfg->attestation_dir, CONFIG_DEFAULT_ATTESTATION_DIR);
	if (rc != 0)
		return rc;
	rc = parse_args(argc, argv, given, cfg, done);
	if (rc != 0 || *done)
		return rc;
	flag_paths = cfg->python_path_count;
	if (cfg->config_file != NULL) {
		rc = load_ini(cfg->config_file, cfg);
		if (rc != 0)
			return rc;
	}
	/* --python-path flags replace the file's python-path lines */
	if (flag_paths > 0)
		python_paths_truncate(cfg, flag_paths);
	for (id = 0; id < OPT_COUNT; id++) {
		if (given[id] == NULL)
			continue;
		why[0] = '\0';
		rc = option_apply(cfg, id, given[id], why, sizeof(why));
		if (rc == TCW_ERR_NOMEM)
			return rc;
		if (rc != 0) {
			fprintf(stderr, "tcworker: --%s: %s\n", g_keys[id], why);
			return rc;
		}
	}
	if (cfg->regenerate_keys && cfg->keys_file == NULL) {
		fprintf(stderr, "tcworker: --regenerate-keys needs --keys-file PATH (without it, "
		                "new keys are generated at every start anyway)\n");
		return TCW_ERR_INVALID_PARAM;
	}
	if (cfg->workload == NULL)
		return default_workload(cfg);
	return 0;
}

/* Frees the strings of cfg and zeroes it. */
void config_fini(struct worker_config *cfg)
{
	free(cfg->bind);
	free(cfg->workload);
	free(cfg->config_file);
	free(cfg->replay_file);
	free(cfg->attestation_dir);
	free(cfg->keys_file);
	python_paths_truncate(cfg, 0);
	memset(cfg, 0, sizeof(*cfg));
}
