/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - tcclient command line: subcommand dispatch and option parsing. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "tcclient.h"

static const char usage_text[] =
    "Usage: tcclient [submit] --connect URL [options]\n"
    "       tcclient bench --connect URL [-n N] [-c C] [options]  (tcclient bench --help)\n"
    "       tcclient [submit|bench] --gateway URL --worker-name NAME [options]\n"
    "\n"
    "Submits encrypted, signed work orders to a tcworker (or an Avalon\n"
    "Graphene worker) and verifies and decrypts the results.\n"
    "\n"
    "Options:\n"
    "  --connect URL      ZeroMQ endpoint of the worker (required),\n"
    "                     e.g. tcp://127.0.0.1:7777\n"
    "  --gateway URL      instead of --connect: submit through tcgateway's EEA\n"
    "                     JSON-RPC API (http:// or https://), with the same checks\n"
    "  --worker-name NAME with --gateway: the worker (workerId = SHA-256(NAME))\n"
    "  --file FILE        work orders in the reference test file format:\n"
    "                     {\"workOrders\":[{\"workloadId\":NAME,\"params\":TEXT}]}\n"
    "  --workload NAME    submit one work order for workload NAME ...\n"
    "  --in-data TEXT     ... with TEXT as its input\n"
    "  --in-file FILE     ... or with the bytes of FILE (e.g. an image)\n"
    "  --out-dir DIR      save every output of a verified result as a file in\n"
    "                     DIR: <input stem or orderN>.<index>.<png|json|txt|...>\n"
    "  --json             print one JSON object per work order on stdout\n"
    "  --timeout MS       wait at most MS milliseconds per reply (default 60000)\n"
    "  --worker-id HEX    workerId to put in requests (default\n"
    "                     hex(sha256(\"graphene-hello\")), like the reference)\n"
    "  --expect-mrenclave HEX  require an SGX quote in the signup whose MRENCLAVE\n"
    "                     is HEX (64 hex digits); a mismatch is fatal\n"
    "  --expect-mrsigner HEX   the same for MRSIGNER\n"
    "  --signup-file FILE use this saved signup reply instead of asking the\n"
    "                     worker (a worker restarted with its --keys-file keeps it)\n"
    "  --save-signup FILE save the worker's signup reply to FILE\n"
    "  --compat           build requests exactly as the reference client does\n"
    "                     (one session key and IV for everything); default:\n"
    "                     nonce-safe, a fresh key and IV for every encryption\n"
    "  --out-items N      nonce-safe: ask for N outputs under their own keys\n"
    "                     (outData templates, 1..16, default 1)\n"
    "  --session-reuse N  one session key, RSA-wrapped once, for up to N orders\n"
    "                     (1..1048576); every encryption under it gets a fresh\n"
    "                     random IV (request hash, each input, each output's\n"
    "                     outData template): no RSA on the worker for the rest\n"
    "  --sign             sign each request (requesterSignature, verifyingKey)\n"
    "                     with a secp256k1 key made for this run\n"
    "  --signing-key FILE sign with the key in FILE (64 hex digits)\n"
    "  --help             show this help and exit\n"
    "  --version          show the version and exit\n"
    "\n"
    "When the signup carries an SGX quote, its REPORTDATA must bind the signup\n"
    "keys (else fatal); MRENCLAVE, MRSIGNER, ISVPRODID and ISVSVN are printed.\n"
    "Offline inspection of a quote: tcclient quote FILE (see tcclient quote --help).\n"
    "\n"
    "Exit status: 0 when every work order succeeded and verified, 1 when any\n"
    "failed, 2 for usage errors.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a usage error and the help hint; returns TCC_EXIT_USAGE. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tcclient: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'tcclient --help' for more information.\n", stderr);
	return TCC_EXIT_USAGE;
}

/* Parses the --timeout value; 0 or TCW_ERR_INVALID_PARAM. */
static int parse_timeout(const char *text, int *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v <= 0 || v > TCC_MAX_TIMEOUT_MS ||
	    v > INT_MAX)
		return TCW_ERR_INVALID_PARAM;
	*out = (int)v;
	return 0;
}

/* 1 when text is non-empty, even-length hex of bounded size. */
static int worker_id_valid(const char *text)
{
	size_t len = strlen(text);

	return len > 0 && len % 2 == 0 && len <= TCC_MAX_WORKER_ID_LEN &&
	       strspn(text, "0123456789abcdefABCDEF") == len;
}

/* Checks the combination of options; returns 0 or TCC_EXIT_USAGE. */
static int check_opts(const struct tcc_submit_opts *o)
{
	if ((o->connect == NULL || o->connect[0] == '\0') && o->gateway == NULL)
		return usage_error("%s", "missing --connect URL (or --gateway URL)");
	if (o->connect != NULL && o->gateway != NULL)
		return usage_error("%s", "--connect and --gateway cannot be combined");
	if ((o->gateway == NULL) != (o->worker_name == NULL))
		return usage_error("%s", "--gateway and --worker-name go together");
	if (o->gateway != NULL && (o->signup_file != NULL || o->save_signup != NULL ||
	                           o->worker_id != NULL))
		return usage_error("%s", "--gateway takes the worker's keys and id from the gateway: "
		                         "no --signup-file, --save-signup or --worker-id");
	if (o->file != NULL && o->workload != NULL)
		return usage_error("%s", "--file and --workload cannot be combined");
	if (o->file == NULL && o->workload == NULL)
		return usage_error("%s", "nothing to submit: give --file FILE or "
		                         "--workload NAME --in-data TEXT");
	if (o->in_data != NULL && o->in_file != NULL)
		return usage_error("%s", "--in-data and --in-file cannot be combined");
	if (o->workload != NULL && o->in_data == NULL && o->in_file == NULL)
		return usage_error("%s", "--workload needs --in-data TEXT or --in-file FILE");
	if ((o->in_data != NULL || o->in_file != NULL) && o->workload == NULL)
		return usage_error("%s", "--in-data/--in-file need --workload NAME");
	if (o->workload != NULL && o->workload[0] == '\0')
		return usage_error("%s", "--workload: empty workload name");
	if ((o->expect_mrenclave != NULL && !tcc_measurement_valid(o->expect_mrenclave)) ||
	    (o->expect_mrsigner != NULL && !tcc_measurement_valid(o->expect_mrsigner)))
		return usage_error("%s", "--expect-mrenclave/--expect-mrsigner: expected 64 hex "
		                         "digits");
	if (o->signup_file != NULL && o->save_signup != NULL)
		return usage_error("%s", "--signup-file and --save-signup cannot be combined");
	if (o->compat && o->out_items != 0)
		return usage_error("%s", "--out-items needs the nonce-safe mode (not --compat)");
	if (o->compat && o->session_reuse != 0)
		return usage_error("%s", "--session-reuse and --compat cannot be combined");
	if (o->worker_id != NULL && !worker_id_valid(o->worker_id))
		return usage_error("--worker-id '%s': expected an even number of "
		                   "hex digits (at most 256)",
		                   o->worker_id);
	return 0;
}

/* Parses submit options; returns -1 to continue, else an exit status. */
static int parse_submit(int argc, char **argv, struct tcc_submit_opts *o)
{
	static const struct option longopts[] = {
	    {"connect", required_argument, NULL, 'c'},
	    {"file", required_argument, NULL, 'f'},
	    {"workload", required_argument, NULL, 'w'},
	    {"in-data", required_argument, NULL, 'i'},
	    {"in-file", required_argument, NULL, 'F'},
	    {"out-dir", required_argument, NULL, 'D'},
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 't'},
	    {"worker-id", required_argument, NULL, 'W'},
	    {"expect-mrenclave", required_argument, NULL, 'E'},
	    {"expect-mrsigner", required_argument, NULL, 'M'},
	    {"signup-file", required_argument, NULL, 'P'},
	    {"save-signup", required_argument, NULL, 'O'},
	    {"compat", no_argument, NULL, 'C'},
	    {"out-items", required_argument, NULL, 'N'},
	    {"session-reuse", required_argument, NULL, 'r'},
	    {"sign", no_argument, NULL, 'S'},
	    {"signing-key", required_argument, NULL, 'K'},
	    {"gateway", required_argument, NULL, 'G'},
	    {"worker-name", required_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->connect = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'G':
			o->gateway = optarg;
			break;
		case 'R':
			o->worker_name = optarg;
			break;
		case 'w':
			o->workload = optarg;
			break;
		case 'i':
			o->in_data = optarg;
			break;
		case 'F':
			o->in_file = optarg;
			break;
		case 'D':
			o->out_dir = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'W':
			o->worker_id = optarg;
			break;
		case 'E':
			o->expect_mrenclave = optarg;
			break;
		case 'M':
			o->expect_mrsigner = optarg;
			break;
		case 'P':
			o->signup_file = optarg;
			break;
		case 'O':
			o->save_signup = optarg;
			break;
		case 'C':
			o->compat = 1;
			break;
		case 'N':
			if (tcc_parse_out_items(optarg, &o->out_items) != 0)
				return usage_error("--out-items '%s': expected 1 to %u", optarg,
				                   TCW_WL_MAX_OUTPUTS);
			break;
		case 'r':
			if (tcc_parse_session_reuse(optarg, &o->session_reuse) != 0)
				return usage_error("--session-reuse '%s': expected 1 to %u", optarg,
				                   TCW_SESSION_MAX_ORDERS);
			break;
		case 'S':
			o->sign = 1;
			break;
		case 'K':
			o->sign = 1;
			o->signing_key_file = optarg;
			break;
		case 't':
			if (parse_timeout(optarg, &o->timeout_ms) != 0)
				return usage_error("--timeout '%s': expected "
				                   "milliseconds between 1 and 86400000",
				                   optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return TCC_EXIT_OK;
		case 'V':
			printf("tcclient %s\n", TCW_VERSION);
			return TCC_EXIT_OK;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (strncmp(argv[optind - 1], "--", 2) == 0 || optopt == 0)
				return usage_error("invalid option '%s'", argv[optind - 1]);
			return usage_error("invalid option '-%c'", optopt);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return -1;
}

/* Runs `tcclient submit`; returns the process exit status. */
static int cmd_submit(int argc, char **argv)
{
	struct tcc_submit_opts o = {.timeout_ms = TCC_DEFAULT_TIMEOUT_MS};
	struct tcc_order_list orders = {0};
	char err[TCC_ERR_SIZE];
	int rc;

	rc = parse_submit(argc, argv, &o);
	if (rc >= 0)
		return rc;
	rc = check_opts(&o);
	if (rc != 0)
		return rc;
	if (o.file != NULL) {
		if (tcc_orders_load(o.file, &orders, err, sizeof(err)) != 0) {
			fprintf(stderr, "tcclient: %s\n", err);
			return TCC_EXIT_USAGE;
		}
		fprintf(stderr, "work order json file : %s\n", o.file);
	} else if (o.in_file != NULL) {
		if (tcc_orders_add_file(&orders, o.workload, o.in_file, err, sizeof(err)) != 0) {
			fprintf(stderr, "tcclient: %s\n", err);
			return TCC_EXIT_USAGE;
		}
	} else if (tcc_orders_add(&orders, o.workload, o.in_data, strlen(o.in_data)) != 0) {
		fputs("tcclient: out of memory\n", stderr);
		return TCC_EXIT_FAIL;
	}
	rc = o.sign ? tcc_signing_key(o.signing_key_file, o.signing_key) : 0;
	if (rc == 0)
		rc = tcc_submit_run(&o, &orders);
	tcc_orders_fini(&orders);
	tcw_wipe(o.signing_key, sizeof(o.signing_key));
	return rc;
}

/* Dispatches the subcommand; returns the process exit status. */
int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return TCC_EXIT_USAGE;
	}
	if (tcc_gw_global_init() != 0) {
		fputs("tcclient: cannot initialise libcurl\n", stderr);
		return TCC_EXIT_FAIL;
	}
	cmd = argv[1];
	if (cmd[0] == '-')
		return cmd_submit(argc, argv);
	if (strcmp(cmd, "submit") == 0)
		return cmd_submit(argc - 1, argv + 1);
	if (strcmp(cmd, "quote") == 0)
		return tcc_quote_main(argc - 1, argv + 1);
	if (strcmp(cmd, "bench") == 0)
		return tcc_bench_main(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
