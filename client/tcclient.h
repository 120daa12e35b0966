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
	const char *file;      /* work order file, or NULL */
	const char *workload;  /* single order: workload name, or NULL */
	const char *in_data;   /* single order: input text */
	const char *worker_id; /* hex workerId, NULL = library default */
	int json;              /* one JSON object per order on stdout */
	int timeout_ms;        /* receive timeout per reply */
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

#endif /* TCCLIENT_H */
