/* SPDX-License-Identifier: Apache-2.0 */
/* bench.c - tcclient bench: options, signup, the figures line (text or JSON). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "tcw/eea.h"

static const char bench_usage[] =
    "Usage: tcclient bench --connect URL [-n N] [-c C] [options]\n"
    "\n"
    "Measures a worker: pre-builds N distinct work orders (client crypto is\n"
    "not timed), sends them over C concurrent REQ connections, then verifies\n"
    "every reply (worker signature, echoed ids, decryption and, for the hello\n"
    "workload, the exact plaintext \"Hello <input>\") and prints one line:\n"
    "work orders/s, MB/s of input (10^6 bytes), latency p50/p90/p99/max in\n"
    "milliseconds and the number of failures.\n"
    "\n"
    "Options:\n"
    "  --connect URL      ZeroMQ endpoint of the worker (required)\n"
    "  -n, --orders N     timed work orders (default 1000)\n"
    "  -c, --concurrency C  connections, one thread each (default 1)\n"
    "  --workload NAME    workload to run (default hello; hello and\n"
    "                     python-hello outputs are checked byte for byte)\n"
    "  --size BYTES       generated input size per order (default 16)\n"
    "  --in-data TEXT     use TEXT as every order's input instead\n"
    "  --warmup N         untimed work orders sent first (default: C)\n"
    "  --json             print the figures as one JSON object (also the CPU\n"
    "                     time this client used in the timed phase)\n"
    "  --timeout MS       wait at most MS milliseconds per reply (default 60000)\n"
    "  --worker-id HEX    workerId to put in requests\n"
    "  --gateway URL      instead of --connect: each order through tcgateway\n"
    "                     (WorkOrderSubmit, then WorkOrderGetResult until final)\n"
    "  --worker-name NAME with --gateway: the worker (workerId = SHA-256(NAME))\n"
    "  --session-reuse N  one session key, RSA-wrapped once, per N orders of a\n"
    "                     connection (1..1048576), a fresh random IV for every\n"
    "                     encryption (default: the reference client's format,\n"
    "                     a new session key per order)\n"
    "  --help             show this help and exit\n"
    "\n"
    "A progress bar is drawn on stderr when it is a terminal (not with --json).\n"
    "Exit status: 0 when every reply verified, 1 when any failed (or the run\n"
    "could not be done), 2 for usage errors.\n";

static const char *const g_outcome_names[BENCH_OUTCOMES] = {
    "ok", "busy", "error_reply", "verify", "wrong_output", "timeout", "transport",
};

static int bench_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a usage error and the help hint; returns TCC_EXIT_USAGE. */
static int bench_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tcclient bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'tcclient bench --help' for more information.\n", stderr);
	return TCC_EXIT_USAGE;
}

/* Parses a decimal count in [lo, hi]; 0 or -1. */
static int parse_count(const char *text, unsigned long long lo, unsigned long long hi, size_t *out)
{
	unsigned long long v;
	char *end = NULL;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Applies one option; returns -1 to continue, else an exit status. */
static int bench_option(int c, struct bench_opts *o, int *warmup_given, int *size_given)
{
	size_t v = 0;

	switch (c) {
	case 'C':
		o->connect = optarg;
		return -1;
	case 'n':
		if (parse_count(optarg, 1, BENCH_MAX_ORDERS, &o->orders) != 0)
			return bench_usage_error("-n '%s': expected 1 to %u", optarg,
			                         BENCH_MAX_ORDERS);
		return -1;
	case 'c':
		if (parse_count(optarg, 1, BENCH_MAX_CONCURRENCY, &o->concurrency) != 0)
			return bench_usage_error("-c '%s': expected 1 to %u", optarg,
			                         BENCH_MAX_CONCURRENCY);
		return -1;
	case 'w':
		o->workload = optarg;
		return -1;
	case 's':
		if (parse_count(optarg, 0, BENCH_MAX_SIZE, &o->size) != 0)
			return bench_usage_error("--size '%s': expected 0 to %u bytes", optarg,
			                         BENCH_MAX_SIZE);
		*size_given = 1;
		return -1;
	case 'i':
		o->in_data = optarg;
		return -1;
	case 'W':
		if (parse_count(optarg, 0, BENCH_MAX_ORDERS, &o->warmup) != 0)
			return bench_usage_error("--warmup '%s': expected 0 to %u", optarg,
			                         BENCH_MAX_ORDERS);
		*warmup_given = 1;
		return -1;
	case 'j':
		o->json = 1;
		return -1;
	case 't':
		if (parse_count(optarg, 1, TCC_MAX_TIMEOUT_MS, &v) != 0 || v > INT_MAX)
			return bench_usage_error("--timeout '%s': expected milliseconds between 1 "
			                         "and %ld",
			                         optarg, TCC_MAX_TIMEOUT_MS);
		o->timeout_ms = (int)v;
		return -1;
	case 'I':
		o->worker_id = optarg;
		return -1;
	case 'G':
		o->gateway = optarg;
		return -1;
	case 'R':
		o->worker_name = optarg;
		return -1;
	case 'r':
		if (tcc_parse_session_reuse(optarg, &o->session_reuse) != 0)
			return bench_usage_error("--session-reuse '%s': expected 1 to %u", optarg,
			                         TCW_SESSION_MAX_ORDERS);
		return -1;
	case 'h':
		fputs(bench_usage, stdout);
		return TCC_EXIT_OK;
	case ':':
		return bench_usage_error("option '%s' needs a value", optarg != NULL ? optarg : "");
	default:
		return bench_usage_error("invalid option");
	}
}

/* Parses argv into o; returns -1 to continue, else an exit status. */
static int bench_parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
	    {"connect", required_argument, NULL, 'C'},
	    {"orders", required_argument, NULL, 'n'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"workload", required_argument, NULL, 'w'},
	    {"size", required_argument, NULL, 's'},
	    {"in-data", required_argument, NULL, 'i'},
	    {"warmup", required_argument, NULL, 'W'},
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 't'},
	    {"worker-id", required_argument, NULL, 'I'},
	    {"gateway", required_argument, NULL, 'G'},
	    {"worker-name", required_argument, NULL, 'R'},
	    {"session-reuse", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, rc, warmup_given = 0, size_given = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:n:c:", longopts, NULL)) != -1) {
		if (c == ':' || c == '?')
			optarg = argv[optind - 1];
		rc = bench_option(c, o, &warmup_given, &size_given);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc)
		return bench_usage_error("unexpected argument '%s'", argv[optind]);
	if ((o->connect == NULL || o->connect[0] == '\0') && o->gateway == NULL)
		return bench_usage_error("missing --connect URL (or --gateway URL)");
	if (o->connect != NULL && o->gateway != NULL)
		return bench_usage_error("--connect and --gateway cannot be combined");
	if ((o->gateway == NULL) != (o->worker_name == NULL) || (o->gateway && o->worker_id))
		return bench_usage_error("--gateway needs --worker-name NAME (and no --worker-id)");
	if (o->workload[0] == '\0' || strlen(o->workload) > 128)
		return bench_usage_error("--workload: expected a name of 1 to 128 bytes");
	if (o->in_data != NULL && size_given)
		return bench_usage_error("--size and --in-data cannot be combined");
	if (!warmup_given)
		o->warmup = o->concurrency;
	o->hello = strcmp(o->workload, "hello") == 0 || strcmp(o->workload, "python-hello") == 0;
	return -1;
}

static int bench_signup_zmq(void *zctx, const struct bench_opts *o, struct tcw_signup *su);

/* Asks the worker (or the gateway) for its keys and verifies them into su; 0 or -1. */
static int bench_signup(void *zctx, const struct bench_opts *o, struct tcw_signup *su)
{
	if (o->gateway) {
		struct tcc_gw *g = tcc_gw_open(o->gateway, o->worker_name, o->timeout_ms);
		int rc = g ? tcc_gw_signup(g, su) : -1;

		tcc_gw_close(g);
		return rc;
	}
	return bench_signup_zmq(zctx, o, su);
}

/* Asks the worker for its signup over ZeroMQ and verifies it into su. */
static int bench_signup_zmq(void *zctx, const struct bench_opts *o, struct tcw_signup *su)
{
	static const char req[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ProcessWorkerSignup\",\"params\":null}";
	struct tcw_error e = {0};
	void *sock = zmq_socket(zctx, ZMQ_REQ);
	int linger = 0, rc = -1;
	zmq_msg_t msg;

	zmq_msg_init(&msg);
	if (sock == NULL || zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &o->timeout_ms, sizeof(o->timeout_ms)) != 0 ||
	    zmq_connect(sock, o->connect) != 0 || zmq_send(sock, req, sizeof(req) - 1, 0) < 0 ||
	    zmq_msg_recv(&msg, sock, 0) < 0) {
		fprintf(stderr, "tcclient bench: worker signup: %s\n", zmq_strerror(zmq_errno()));
		goto out;
	}
	if (tcw_signup_parse(zmq_msg_data(&msg), zmq_msg_size(&msg), su, &e) != 0) {
		fprintf(stderr, "tcclient bench: worker signup does not verify%s%s\n",
		        e.field[0] ? ": " : "", e.field);
		goto out;
	}
	rc = 0;
out:
	zmq_msg_close(&msg);
	if (sock != NULL)
		zmq_close(sock);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..100] of sorted v[0..n). */
static double percentile(const double *v, size_t n, double p)
{
	size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);

	if (n == 0)
		return 0;
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

/* 1 when s can go into a JSON string as is (letters, digits, . _ -). */
static int json_safe(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       strlen(s);
}

/* Prints the figures of a finished run; returns the exit status. */
static int bench_report(const struct bench *b, double elapsed, double cpu)
{
	const struct bench_opts *o = b->o;
	size_t counts[BENCH_OUTCOMES] = {0}, failures, i, input;
	double *lat = malloc(o->orders * sizeof(*lat)), rate, mbps;
	double p50, p90, p99, max;

	if (lat == NULL) {
		fputs("tcclient bench: out of memory\n", stderr);
		return TCC_EXIT_FAIL;
	}
	for (i = 0; i < b->total; i++)
		counts[b->slots[i].outcome]++;
	for (i = 0; i < o->orders; i++)
		lat[i] = b->slots[o->warmup + i].latency_ms;
	qsort(lat, o->orders, sizeof(*lat), cmp_double);
	p50 = percentile(lat, o->orders, 50);
	p90 = percentile(lat, o->orders, 90);
	p99 = percentile(lat, o->orders, 99);
	max = lat[o->orders - 1];
	free(lat);
	failures = b->total - counts[BENCH_OK];
	input = o->in_data != NULL ? strlen(o->in_data) : o->size;
	rate = elapsed > 0 ? (double)o->orders / elapsed : 0;
	mbps = rate * (double)input / 1e6;
	if (o->json) {
		printf("{\"orders\":%zu,\"warmup\":%zu,\"concurrency\":%zu,\"workload\":\"%s\","
		       "\"input_bytes\":%zu,\"seconds\":%.6f,\"wo_per_s\":%.2f,\"mb_per_s\":%.3f,"
		       "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
		       "\"client_cpu_s\":%.6f,\"build_cpu_s\":%.6f,\"verify_cpu_s\":%.6f,"
		       "\"session_reuse\":%zu,\"failures\":%zu",
		       o->orders, o->warmup, o->concurrency,
		       json_safe(o->workload) ? o->workload : "?", input, elapsed, rate, mbps, p50,
		       p90, p99, max, cpu, b->build_cpu_s, b->verify_cpu_s, o->session_reuse,
		       failures);
		for (i = 0; i < BENCH_OUTCOMES; i++)
			printf(",\"%s\":%zu", g_outcome_names[i], counts[i]);
		printf("}\n");
	} else {
		printf("%zu work orders (%zu B input) over %zu connections in %.3f s: %.1f wo/s, "
		       "%.2f MB/s, latency ms p50 %.3f p90 %.3f p99 %.3f max %.3f, failures %zu",
		       o->orders, input, o->concurrency, elapsed, rate, mbps, p50, p90, p99, max,
		       failures);
		for (i = 1; i < BENCH_OUTCOMES && failures > 0; i++) {
			if (counts[i] > 0)
				printf(" %s=%zu", g_outcome_names[i], counts[i]);
		}
		printf("\n");
	}
	fflush(stdout);
	return failures == 0 ? TCC_EXIT_OK : TCC_EXIT_FAIL;
}

/* Frees the orders and any reply still held. */
static void bench_slots_free(struct bench *b)
{
	size_t i;

	for (i = 0; b->slots != NULL && i < b->total; i++) {
		tcw_order_free(&b->slots[i].order);
		free(b->slots[i].gw_request);
		if (b->slots[i].has_reply)
			zmq_msg_close(&b->slots[i].reply);
	}
	free(b->slots);
	b->slots = NULL;
}

/* Runs `tcclient bench`; returns the exit status. */
int tcc_bench_main(int argc, char **argv)
{
	struct bench_opts o = {.workload = BENCH_DEFAULT_WORKLOAD,
	                       .orders = 1000,
	                       .concurrency = 1,
	                       .size = BENCH_DEFAULT_SIZE,
	                       .timeout_ms = TCC_DEFAULT_TIMEOUT_MS};
	struct tcw_signup su = {0};
	struct bench b;
	double elapsed = 0, cpu = 0;
	int status, rc;

	static char gw_worker_id[TCW_EEA_WORKER_ID_HEX + 1];

	status = bench_parse(argc, argv, &o);
	if (status >= 0)
		return status;
	if (o.gateway) {
		tcw_eea_worker_id(o.worker_name, gw_worker_id);
		o.worker_id = gw_worker_id;
	}
	/* one heap for every thread (ZeroMQ's I/O thread allocates the
	 * replies), no mmap()ed blocks, nothing given back: bench_run touches
	 * the memory the replies will need before the clock starts */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, BENCH_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
	memset(&b, 0, sizeof(b));
	b.o = &o;
	b.su = &su;
	b.total = o.warmup + o.orders;
	status = TCC_EXIT_FAIL;
	b.zctx = zmq_ctx_new();
	b.slots = calloc(b.total, sizeof(*b.slots));
	if (b.zctx == NULL || b.slots == NULL) {
		fputs("tcclient bench: out of memory\n", stderr);
		goto out;
	}
	if (bench_signup(b.zctx, &o, &su) != 0)
		goto out;
	rc = bench_run(&b, &elapsed, &cpu);
	if (rc != 0) {
		fprintf(stderr, "tcclient bench: run aborted: %s\n", tcw_strerror(rc));
		goto out;
	}
	status = bench_report(&b, elapsed, cpu);
out:
	bench_slots_free(&b);
	tcw_signup_fini(&su);
	if (b.zctx != NULL)
		zmq_ctx_term(b.zctx);
	return status;
}
