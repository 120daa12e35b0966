/* SPDX-License-Identifier: Apache-2.0 */
/* quote.c - tcclient's SGX quote checks: the signup quote at submit time and `tcclient quote FILE`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tcclient.h"

/* Largest quote file (raw or base64 text) and signup file read. */
#define QUOTE_FILE_MAX (4u << 20)
#define SIGNUP_FILE_MAX (1u << 20)

static const char quote_usage[] =
    "Usage: tcclient quote [FILE] [--signup FILE] [--expect-mrenclave HEX]\n"
    "                      [--expect-mrsigner HEX]\n"
    "\n"
    "Inspects an SGX quote offline (EPID, DCAP v3 or v4; raw bytes or base64\n"
    "text) and prints its format, MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN,\n"
    "ATTRIBUTES and REPORTDATA. The quote's signature is not verified (that\n"
    "needs Intel's collateral; see docs/sgx.md).\n"
    "\n"
    "  --signup FILE          a saved signup reply: its signature is checked and\n"
    "                         the quote must bind its keys; without FILE, the\n"
    "                         signup's own quote is inspected\n"
    "  --expect-mrenclave HEX fail unless MRENCLAVE equals HEX (64 hex digits)\n"
    "  --expect-mrsigner HEX  fail unless MRSIGNER equals HEX\n"
    "\n"
    "Exit status: 0 when the quote parses and every check passed, 1 when not,\n"
    "2 for usage errors and unreadable files.\n";

/* 1 when text is a measurement: exactly 64 hex digits. */
int tcc_measurement_valid(const char *text)
{
	return text != NULL && strlen(text) == 2 * TCW_SGX_MEASUREMENT_SIZE &&
	       strspn(text, "0123456789abcdefABCDEF") == 2 * TCW_SGX_MEASUREMENT_SIZE;
}

/* Compares a measurement with the expected hex (any case); prints a fatal
 * message naming flag on mismatch. 0 or TCW_ERR_VERIFY. */
static int expect_measurement(const char *name, const char *flag, const char *got_hex,
                              const char *want)
{
	if (want == NULL || strcasecmp(got_hex, want) == 0)
		return 0;
	fprintf(stderr, "tcclient: quote %s %s does not match %s %s\n", name, got_hex, flag, want);
	return TCW_ERR_VERIFY;
}

/* Prints the fields of q as "<prefix>NAME: value" lines to out; all = also
 * the raw ATTRIBUTES and REPORTDATA. */
static int print_quote(FILE *out, const char *prefix, const struct tcw_quote *q, int all,
                       char **mre, char **mrs)
{
	char *attr, *rd;

	*mre = tcw_hex_encode(q->mrenclave, sizeof(q->mrenclave));
	*mrs = tcw_hex_encode(q->mrsigner, sizeof(q->mrsigner));
	attr = tcw_hex_encode(q->attributes, sizeof(q->attributes));
	rd = tcw_hex_encode(q->report_data, sizeof(q->report_data));
	if (!*mre || !*mrs || !attr || !rd) {
		free(attr);
		free(rd);
		return TCW_ERR_NOMEM;
	}
	fprintf(out, "%sformat: %s (version %u, %s %u), %zu bytes\n", prefix,
	        tcw_quote_format_name(q->format), q->version,
	        q->format == TCW_QUOTE_EPID ? "sign type" : "attestation key type", q->key_type,
	        q->size);
	fprintf(out, "%sMRENCLAVE: %s\n", prefix, *mre);
	fprintf(out, "%sMRSIGNER: %s\n", prefix, *mrs);
	fprintf(out, "%sISVPRODID: %u\n", prefix, q->isv_prod_id);
	fprintf(out, "%sISVSVN: %u\n", prefix, q->isv_svn);
	if (all) {
		fprintf(out, "%sATTRIBUTES: %s\n", prefix, attr);
		fprintf(out, "%sREPORTDATA: %s\n", prefix, rd);
	}
	if (tcw_quote_is_debug(q))
		fprintf(out,
		        "%sWARNING: debug enclave (ATTRIBUTES.DEBUG set): its memory is "
		        "readable by the host, no confidentiality\n",
		        prefix);
	free(attr);
	free(rd);
	return 0;
}

/*
 * Parses the quote bytes, prints them, checks the REPORTDATA binding when
 * su is given and the expected measurements. Returns 0, TCW_ERR_VERIFY or
 * TCW_ERR_INVALID_PARAM (message printed), TCW_ERR_NOMEM.
 */
static int check_quote(FILE *out, const char *prefix, const uint8_t *data, size_t size, int all,
                       const struct tcw_signup *su, const struct tcc_quote_expect *x)
{
	struct tcw_error e = {0};
	struct tcw_quote q;
	char *mre = NULL, *mrs = NULL;
	int rc, layout = 0;

	rc = tcw_quote_parse(data, size, &q, &e);
	if (rc != 0) {
		fprintf(stderr, "tcclient: %s\n", e.field);
		return rc;
	}
	rc = print_quote(out, prefix, &q, all, &mre, &mrs);
	if (rc != 0)
		goto out;
	if (su != NULL) {
		rc = tcw_report_data_match(q.report_data, su->verifying_key, su->encryption_key,
		                           &layout);
		if (rc != 0) {
			fprintf(stderr,
			        "tcclient: the quote's REPORTDATA does not bind the signup's "
			        "verifying_key (neither layout matches): it is no evidence "
			        "for these keys\n");
			rc = TCW_ERR_VERIFY;
			goto out;
		}
		fprintf(out, "%sREPORTDATA binds the signup keys: %s\n", prefix,
		        tcw_report_layout_name(layout));
		if (su->mrenclave != NULL && su->mrenclave[0] != '\0' &&
		    strcasecmp(su->mrenclave, mre) != 0)
			fprintf(stderr,
			        "tcclient: warning: signup mrenclave %.64s differs from the "
			        "quote's MRENCLAVE (the quote is what counts)\n",
			        su->mrenclave);
	}
	if (x != NULL) {
		rc = expect_measurement("MRENCLAVE", "--expect-mrenclave", mre, x->mrenclave);
		if (rc == 0)
			rc = expect_measurement("MRSIGNER", "--expect-mrsigner", mrs, x->mrsigner);
		if (rc != 0)
			goto out;
	}
	fprintf(out, "%ssignature: not verified (needs Intel's collateral, see docs/sgx.md)\n",
	        prefix);
out:
	free(mre);
	free(mrs);
	return rc;
}

/* Checks the quote of a verified signup (see tcclient.h). */
int tcc_quote_check_signup(FILE *out, const struct tcw_signup *su, const struct tcc_quote_expect *x)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int rc;

	if (su->quote == NULL || su->quote[0] == '\0') {
		if (x->mrenclave != NULL || x->mrsigner != NULL) {
			fprintf(stderr,
			        "tcclient: %s given, but the worker's signup carries no "
			        "quote (not running in an SGX enclave?)\n",
			        x->mrenclave != NULL ? "--expect-mrenclave" : "--expect-mrsigner");
			return TCW_ERR_VERIFY;
		}
		return 0;
	}
	rc = tcw_b64_decode(su->quote, strlen(su->quote), &data, &size);
	if (rc != 0) {
		fprintf(stderr, "tcclient: worker signup: quote is not valid base64\n");
		return rc == TCW_ERR_NOMEM ? rc : TCW_ERR_VERIFY;
	}
	rc = check_quote(out, "worker quote: ", data, size, 0, su, x);
	free(data);
	return rc == TCW_ERR_NOMEM ? rc : rc != 0 ? TCW_ERR_VERIFY : 0;
}

/* Reads a whole file (at most max bytes) into *out (caller frees, NUL
 * appended). 0 or -1 with a message printed. */
static int slurp(const char *path, size_t max, char **out, size_t *size)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, got = 0, n;
	char *buf = NULL, *grown;
	const char *why = NULL;

	if (f == NULL) {
		fprintf(stderr, "tcclient: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (got == cap) {
			cap = cap ? 2 * cap : 4096;
			grown = realloc(buf, cap + 1);
			if (grown == NULL) {
				why = "out of memory";
				break;
			}
			buf = grown;
		}
		n = fread(buf + got, 1, cap - got, f);
		got += n;
		if (got > max)
			why = "file too large";
		else if (ferror(f))
			why = "read error";
	} while (why == NULL && n > 0);
	fclose(f);
	if (why != NULL) {
		fprintf(stderr, "tcclient: %s: %s\n", path, why);
		free(buf);
		return -1;
	}
	buf[got] = '\0';
	*out = buf;
	*size = got;
	return 0;
}

/* The quote bytes of file text: base64 text (surrounding whitespace
 * allowed) is decoded, anything else taken as raw bytes. *out caller frees. */
static int quote_bytes(char *text, size_t size, uint8_t **out, size_t *out_size)
{
	size_t start = 0, end = size;

	while (start < end && strchr(" \t\r\n", text[start]) != NULL && text[start] != '\0')
		start++;
	while (end > start && strchr(" \t\r\n", text[end - 1]) != NULL && text[end - 1] != '\0')
		end--;
	if (end > start && tcw_b64_decode(text + start, end - start, out, out_size) == TCW_OK)
		return 0;
	*out = malloc(size ? size : 1);
	if (*out == NULL)
		return TCW_ERR_NOMEM;
	memcpy(*out, text, size);
	*out_size = size;
	return 0;
}

/* Loads and verifies a saved signup reply into su. 0 or -1 (printed). */
int tcc_signup_load(const char *path, struct tcw_signup *su)
{
	struct tcw_error e = {0};
	char *text = NULL;
	size_t size = 0;
	int rc;

	if (slurp(path, SIGNUP_FILE_MAX, &text, &size) != 0)
		return -1;
	rc = tcw_signup_parse(text, size, su, &e);
	free(text);
	if (rc == TCW_ERR_VERIFY) {
		fprintf(stderr,
		        "tcclient: %s: encryption_key_signature does not verify with "
		        "verifying_key\n",
		        path);
		return -1;
	}
	if (rc != 0) {
		fprintf(stderr, "tcclient: %s: not a valid signup reply: %s%s%s\n", path,
		        tcw_strerror(rc), e.field[0] ? ": " : "", e.field);
		return -1;
	}
	return 0;
}

/* Parses `tcclient quote` options into the out-parameters; -1 to go on,
 * else an exit status. */
static int parse_quote_args(int argc, char **argv, const char **file, const char **signup,
                            struct tcc_quote_expect *x)
{
	static const struct option longopts[] = {
	    {"signup", required_argument, NULL, 's'},
	    {"expect-mrenclave", required_argument, NULL, 'E'},
	    {"expect-mrsigner", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			*signup = optarg;
			break;
		case 'E':
			x->mrenclave = optarg;
			break;
		case 'S':
			x->mrsigner = optarg;
			break;
		case 'h':
			fputs(quote_usage, stdout);
			return TCC_EXIT_OK;
		default:
			fprintf(stderr, "tcclient quote: %s '%s'\nTry 'tcclient quote --help'.\n",
			        c == ':' ? "missing value for" : "invalid option",
			        argv[optind - 1]);
			return TCC_EXIT_USAGE;
		}
	}
	if (optind < argc)
		*file = argv[optind++];
	if (optind < argc || (*file == NULL && *signup == NULL)) {
		fprintf(stderr, "tcclient quote: %s\nTry 'tcclient quote --help'.\n",
		        optind < argc ? "more than one FILE"
		                      : "give a quote FILE or --signup FILE");
		return TCC_EXIT_USAGE;
	}
	if ((x->mrenclave && !tcc_measurement_valid(x->mrenclave)) ||
	    (x->mrsigner && !tcc_measurement_valid(x->mrsigner))) {
		fprintf(stderr, "tcclient quote: --expect-mrenclave/--expect-mrsigner: expected "
		                "64 hex digits\n");
		return TCC_EXIT_USAGE;
	}
	return -1;
}

/* `tcclient quote [FILE] [options]` (argv[0] = "quote"); exit status. */
int tcc_quote_main(int argc, char **argv)
{
	struct tcc_quote_expect x = {0};
	struct tcw_signup su = {0};
	const char *file = NULL, *signup = NULL;
	uint8_t *data = NULL;
	size_t size = 0, text_size = 0;
	char *text = NULL;
	int status, rc;

	status = parse_quote_args(argc, argv, &file, &signup, &x);
	if (status >= 0)
		return status;
	status = TCC_EXIT_USAGE;
	if (signup != NULL && tcc_signup_load(signup, &su) != 0)
		goto out;
	if (file != NULL) {
		if (slurp(file, QUOTE_FILE_MAX, &text, &text_size) != 0)
			goto out;
		rc = quote_bytes(text, text_size, &data, &size);
	} else if (su.quote[0] == '\0') {
		fprintf(stderr, "tcclient: %s: the signup carries no quote\n", signup);
		status = TCC_EXIT_FAIL;
		goto out;
	} else {
		rc = tcw_b64_decode(su.quote, strlen(su.quote), &data, &size);
	}
	if (rc != 0) {
		fputs(rc == TCW_ERR_NOMEM ? "tcclient: out of memory\n"
		                          : "tcclient: the signup quote is not valid base64\n",
		      stderr);
		status = TCC_EXIT_FAIL;
		goto out;
	}
	rc = check_quote(stdout, "", data, size, 1, signup != NULL ? &su : NULL, &x);
	status = rc == 0 ? TCC_EXIT_OK : TCC_EXIT_FAIL;
out:
	free(text);
	free(data);
	tcw_signup_fini(&su);
	return status;
}
