/* SPDX-License-Identifier: Apache-2.0 */
/* bench.h - tcclient bench: shared state of the option parser, the load threads and the report. */
#ifndef TCCLIENT_BENCH_H
#define TCCLIENT_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "tcclient.h"

#define BENCH_DEFAULT_WORKLOAD "hello"
#define BENCH_DEFAULT_SIZE 16u
#define BENCH_MAX_ORDERS 10000000u
#define BENCH_MAX_CONCURRENCY 1024u
#define BENCH_MAX_SIZE (256u << 20) /* input bytes per order */
/* malloc blocks up to this size come from the heap (glibc's ceiling) */
#define BENCH_MMAP_THRESHOLD (32 << 20)

/* What `tcclient bench` was asked to do; strings borrowed from argv. */
struct bench_opts {
	const char *connect;
	const char *gateway;     /* --gateway URL: through tcgateway instead */
	const char *worker_name; /* --worker-name NAME with --gateway */
	const char *workload;  /* plain workload name */
	const char *in_data;   /* fixed input text, or NULL for generated input */
	const char *worker_id; /* hex workerId, NULL = library default */
	size_t orders;         /* timed work orders (-n) */
	size_t concurrency;    /* connections, one thread each (-c) */
	size_t warmup;         /* untimed work orders sent first */
	size_t size;           /* generated input bytes per order (--size) */
	size_t session_reuse;  /* orders per session key (--session-reuse), 0 = off */
	int json;              /* one JSON line instead of text */
	int timeout_ms;        /* per reply */
	int hello;             /* workload is hello: the plaintext is checked */
};

/* How one work order ended (after verification). */
enum bench_outcome {
	BENCH_OK = 0,    /* verified, expected plaintext */
	BENCH_BUSY,      /* error reply 8 "Worker busy" */
	BENCH_REMOTE,    /* any other error reply */
	BENCH_VERIFY,    /* signature, ids or decryption failed */
	BENCH_WRONG,     /* verified, but not the expected plaintext */
	BENCH_TIMEOUT,   /* no reply in time */
	BENCH_TRANSPORT, /* send or receive failed */
	BENCH_OUTCOMES,
};

/* One work order of the run. */
struct bench_slot {
	struct tcw_order *order;
	char *gw_request; /* --gateway: the WorkOrderSubmit request, built with the order */
	size_t gw_request_len;
	zmq_msg_t reply; /* initialised once a reply arrived */
	int has_reply;
	enum bench_outcome outcome;
	double latency_ms;
};

/* A reusable barrier whose party count can shrink (a thread that never
 * started). */
struct bench_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned parties;
	unsigned waiting;
	unsigned long generation;
	double opened_s; /* bench_now() when the gate last opened */
};

/* The whole run; shared by every load thread. */
struct bench {
	const struct bench_opts *o;
	const struct tcw_signup *su;
	void *zctx;
	struct bench_slot *slots; /* warmup orders first, then the timed ones */
	size_t total;             /* warmup + orders */
	atomic_size_t next_warm;  /* next warmup slot to send */
	atomic_size_t next;       /* next timed slot to send, from 0 */
	atomic_size_t done;       /* timed slots answered (progress) */
	atomic_int build_failed;
	struct bench_gate gate; /* the threads plus the main thread */
	double *end_s;          /* per thread: when it sent its last order */
	double build_cpu_s;     /* CPU time building the orders (not timed) */
	double verify_cpu_s;    /* CPU time verifying the replies (not timed) */
};

/* Input of slot i (size bytes into buf, which holds o->size bytes or the
 * --in-data text): generated inputs are distinct printable text. */
void bench_input(const struct bench_opts *o, size_t i, uint8_t *buf, size_t *size);
/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);
/* Runs the load threads over b (slots allocated, signup done): build,
 * warmup, timed phase, verification. Sets *elapsed_s to the timed phase
 * and *cpu_s to the CPU time this process used during it (and the warmup),
 * b->build_cpu_s and b->verify_cpu_s to that of the other two phases.
 * Returns 0, or TCW_ERR_* after printing why (no figures then). */
int bench_run(struct bench *b, double *elapsed_s, double *cpu_s);
/* Runs `tcclient bench` (argv[0] is "bench"); returns the exit status. */
int tcc_bench_main(int argc, char **argv);

#endif /* TCCLIENT_BENCH_H */
