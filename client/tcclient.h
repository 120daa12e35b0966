/* SPDX-License-Identifier: Apache-2.0 */
/* tcclient.h - internal interfaces shared by the tcclient source files. */
#ifndef TCCLIENT_H
#define TCCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcw/tcw.h"

/* Process exit statuses. */
#define TCC_EXIT_OK 0    /* every work order succeeded and verified */
#define TCC_EXIT_FAIL 1  /* signup or at least one work order failed */
#define TCC_EXIT_USAGE 2 /* bad flags, unreadable or malformed --file */

#define TCC_DEFAULT_TIMEOUT_MS 60000
#define TCC_MAX_TIMEOUT_MS 86400000L  /* one day */
#define TCC_MAX_WORKER_ID_LEN 256     /* hex characters */
#define TCC_MAX_FILE_SIZE (64u << 20) /* work order file, bytes */
#define TCC_MAX_FILE_DEPTH 64         /* JSON nesting of the file */
#define TCC_ERR_SIZE 512              /* diagnostic message buffers */

/* One work order to submit: a plain workload name and its input. */
struct tcc_order_spec {
	char *workload; /* plain (not hex) workload name, owned */
	uint8_t *input; /* input bytes, owned, wiped on release */
	size_t input_size;
};

/* The work orders of one run, in submission order. */
struct tcc_order_list {
	struct tcc_order_spec *items;
	size_t count;
};

/* What `tcclient submit` was asked to do; strings borrowed from argv. */
struct tcc_submit_opts {
	const char *connect;   /* ZeroMQ endpoint of the worker */
	const char *gateway;     /* --gateway URL: through tcgateway instead */
	const char *worker_name; /* --worker-name NAME with --gateway */
	const char *file;      /* work order file, or NULL */
	const char *workload;  /* single order: workload name, or NULL */
	const char *in_data;   /* single order: input text */
	const char *worker_id; /* hex workerId, NULL = library default */
	int json;              /* one JSON object per order on stdout */
	int timeout_ms;        /* receive timeout per reply */

	/* SGX quote expectations (hex), NULL = any; signup kept in files. */
	const char *expect_mrenclave;
	const char *expect_mrsigner;
	const char *signup_file; /* use this saved signup instead of asking */
	const char *save_signup; /* write the worker's signup reply here */

	/* Request shape (protocol.md §12.1): nonce-safe unless compat. */
	int compat;                   /* --compat: the reference client's messages */
	size_t out_items;             /* --out-items: outData templates, 0 = 1 */
	size_t session_reuse;         /* --session-reuse N: orders per session key, 0 = off */
	int sign;                     /* --sign / --signing-key: requesterSignature */
	const char *signing_key_file; /* --signing-key FILE; NULL = fresh key */
	/* the requester's signing key when sign is set; wiped after the run */
	uint8_t signing_key[TCW_ECDSA_SECKEY_SIZE];

	/* Files (outdir.c): binary input, outputs saved one file each. */
	const char *in_file; /* --in-file FILE: the single order's input */
	const char *out_dir; /* --out-dir DIR: save every output there */
};

/* How one work order ended. */
enum tcc_outcome_kind {
	TCC_OUT_OK = 0,    /* verified result */
	TCC_OUT_REMOTE,    /* the worker replied with an error */
	TCC_OUT_VERIFY,    /* the reply did not verify or decrypt */
	TCC_OUT_TIMEOUT,   /* no reply in time */
	TCC_OUT_TRANSPORT, /* send/receive failed */
	TCC_OUT_REQUEST,   /* the request could not be built */
};

/* One finished work order, as handed to the printer; all borrowed. */
struct tcc_outcome {
	enum tcc_outcome_kind kind;
	const char *workload;               /* plain workload name */
	const char *work_order_id;          /* hex, or NULL when never built */
	const struct tcw_order_result *res; /* TCC_OUT_OK / TCC_OUT_REMOTE */
	const char *detail;                 /* human-readable reason for other kinds */
	char *const *saved; /* --out-dir: file of each output (res->output_count), or NULL */
};

/* ---- orders.c ---- */

/* Loads a work order file (protocol.md §11) into out; on failure returns
 * TCW_ERR_INVALID_PARAM with a message naming the file in err. out is
 * released by tcc_orders_fini. */
int tcc_orders_load(const char *path, struct tcc_order_list *out, char *err, size_t errsize);
/* Appends a copy of (workload, input) to l; TCW_ERR_NOMEM on failure. */
int tcc_orders_add(struct tcc_order_list *l, const char *workload, const void *input, size_t size);
/* Wipes and frees every order of l and zeroes it. */
void tcc_orders_fini(struct tcc_order_list *l);

/* ---- output.c ---- */

/* 1 when data[0..size) is well-formed UTF-8, else 0. */
int tcc_utf8_valid(const uint8_t *data, size_t size);
/* Printable one-line rendering of bytes: valid UTF-8 text as is, control
 * characters, backslash and invalid bytes escaped (\n, \\, \xNN). Caller
 * frees with tcw_free_secret(p, strlen(p) + 1); NULL when out of memory. */
char *tcc_escape(const uint8_t *data, size_t size);
/* Prints one outcome to out, as text lines or one JSON line; returns 0 or
 * TCW_ERR_NOMEM. */
int tcc_report(FILE *out, int json, const struct tcc_outcome *o);

/* ---- submit.c ---- */

/* Runs signup and every order against the worker; returns a TCC_EXIT_*
 * status. */
int tcc_submit_run(const struct tcc_submit_opts *opts, const struct tcc_order_list *orders);

/* ---- outdir.c ---- */

/* Reads the whole file path (at most TCC_MAX_FILE_SIZE bytes) into *data
 * (caller frees with tcw_free_secret(*data, *size)); message in err. */
int tcc_read_input_file(const char *path, uint8_t **data, size_t *size, char *err, size_t errsize);
/* Saves every output of res into dir (created, mode 0700) as
 * "<base>.<index>.<ext>" (base: stem of in_file, else "order<order_no>";
 * ext from the content: png, jpg, bmp, json, txt, bin, ...), mode 0600.
 * *paths (res->output_count entries) is freed with tcc_paths_free. */
int tcc_save_outputs(const char *dir, const char *in_file, size_t order_no,
		     const struct tcw_order_result *res, char ***paths, char *err, size_t errsize);
/* Appends an order for workload whose input is the content of path; a
 * message in err on failure. */
int tcc_orders_add_file(struct tcc_order_list *l, const char *workload, const char *path,
			char *err, size_t errsize);
/* Frees a list of count paths (NULL-safe). */
void tcc_paths_free(char **paths, size_t count);

/* ---- modes.c ---- */

/* Parses the --out-items value (1..TCW_WL_MAX_OUTPUTS) into *out; 0 or -1. */
int tcc_parse_out_items(const char *text, size_t *out);
/* Parses the --session-reuse value (1..TCW_SESSION_MAX_ORDERS) into *out;
 * 0 or -1. */
int tcc_parse_session_reuse(const char *text, size_t *out);
/* Makes *s a session with orders left: a new one for the worker key pem,
 * serving n orders, when it is NULL or used up (the old one freed).
 * 0 or a tcw_err. */
int tcc_session_ready(struct tcw_session **s, const char *pem, size_t n);

/* Fills key with the requester's secp256k1 signing key: read from path (64
 * hex digits, surrounding whitespace allowed) or, when path is NULL, freshly
 * generated. Returns 0, or TCC_EXIT_USAGE / TCC_EXIT_FAIL after printing
 * why (key wiped then). */
int tcc_signing_key(const char *path, uint8_t key[TCW_ECDSA_SECKEY_SIZE]);

/* ---- quote.c ---- */

/* Measurements the signup quote must carry (hex, any case); NULL = any. */
struct tcc_quote_expect {
	const char *mrenclave;
	const char *mrsigner;
};
/* 1 when text is exactly 64 hex digits (an MRENCLAVE/MRSIGNER). */
int tcc_measurement_valid(const char *text);
/* Checks the quote of a verified signup: parses it, requires REPORTDATA to
 * bind the signup keys, prints its measurements to out ("worker quote: "
 * lines) and enforces x. No quote is fine unless x expects something.
 * Returns 0, or TCW_ERR_VERIFY / TCW_ERR_NOMEM after printing why. */
int tcc_quote_check_signup(FILE *out, const struct tcw_signup *su,
                           const struct tcc_quote_expect *x);
/* Loads a saved signup reply from path and verifies its signature into su
 * (released by tcw_signup_fini); 0 or -1 after printing why. */
int tcc_signup_load(const char *path, struct tcw_signup *su);
/* Runs `tcclient quote` (argv[0] is "quote"); returns the exit status. */
int tcc_quote_main(int argc, char **argv);

/* ---- gateway.c: --gateway URL --worker-name NAME ---- */

struct tcc_gw;
/* Process-wide libcurl set-up; call once before any thread uses it. */
int tcc_gw_global_init(void);
/* A keep-alive connection to the gateway at url for worker NAME (workerId
 * SHA-256(NAME)); NULL when out of memory. Free with tcc_gw_close. */
struct tcc_gw *tcc_gw_open(const char *url, const char *worker_name, int timeout_ms);
/* Frees g (NULL-safe). */
void tcc_gw_close(struct tcc_gw *g);
/* The workerId requests carry (borrowed). */
const char *tcc_gw_worker_id(const struct tcc_gw *g);
/* WorkerRetrieve: the worker must be active; its keys are verified into su
 * (tcw_signup_fini). 0 or -1 after printing why. */
int tcc_gw_signup(struct tcc_gw *g, struct tcw_signup *su);
/* The WorkOrderSubmit request of order o as the gateway takes it (the
 * inner request of o's envelope), its length in *len; caller frees; NULL
 * when out of memory. */
char *tcc_gw_request(const struct tcw_order *o, size_t *len);
/* WorkOrderSubmit (request: tcc_gw_request's text, or NULL to build it
 * here), then WorkOrderGetResult until the order is final: the reply text
 * as the gateway sent it in *reply (caller frees). 0, 1 when still pending
 * at the timeout, -1 on a transport error (*why). */
int tcc_gw_order(struct tcc_gw *g, const struct tcw_order *o, const char *request,
                 size_t request_len, char **reply, size_t *size, const char **why);

#endif /* TCCLIENT_H */
