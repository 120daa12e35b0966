/* SPDX-License-Identifier: Apache-2.0 */
/* bench_run.c - tcclient bench load threads: build orders, send them over REQ sockets, verify. */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* Progress bar width (characters between the brackets). */
#define BAR_WIDTH 40
/* Progress refresh period, microseconds. */
#define PROGRESS_US 100000

/* One load thread. */
struct loader {
	struct bench *b;
	size_t id;
	void *sock;
	struct tcc_gw *gw; /* --gateway: this thread's HTTP connection */
	pthread_t thread;
};

/* Sets up g for parties threads; 0 or -1. */
static int gate_init(struct bench_gate *g, unsigned parties)
{
	memset(g, 0, sizeof(*g));
	g->parties = parties;
	if (pthread_mutex_init(&g->lock, NULL) != 0)
		return -1;
	if (pthread_cond_init(&g->cond, NULL) != 0) {
		pthread_mutex_destroy(&g->lock);
		return -1;
	}
	return 0;
}

/* Releases g (no thread may be waiting). */
static void gate_fini(struct bench_gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

/* Opens the gate when the last party arrived (lock held). */
static void gate_open_if_full(struct bench_gate *g)
{
	if (g->waiting >= g->parties) {
		g->opened_s = bench_now();
		g->waiting = 0;
		g->generation++;
		pthread_cond_broadcast(&g->cond);
	}
}

/* Waits until every party reached the gate. */
static void gate_wait(struct bench_gate *g)
{
	unsigned long gen;

	pthread_mutex_lock(&g->lock);
	gen = g->generation;
	g->waiting++;
	gate_open_if_full(g);
	while (gen == g->generation)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

/* One party will never arrive (its thread did not start). */
static void gate_leave(struct bench_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->parties--;
	gate_open_if_full(g);
	pthread_mutex_unlock(&g->lock);
}

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Input of slot i: the --in-data text, or o->size bytes of printable text
 * that starts with the slot number, so that no two inputs are alike. */
void bench_input(const struct bench_opts *o, size_t i, uint8_t *buf, size_t *size)
{
	char head[32];
	size_t n, j;

	if (o->in_data != NULL) {
		*size = strlen(o->in_data);
		memcpy(buf, o->in_data, *size);
		return;
	}
	n = (size_t)snprintf(head, sizeof(head), "%zu:", i);
	for (j = 0; j < o->size; j++)
		buf[j] = j < n ? (uint8_t)head[j] : (uint8_t)('a' + (i + j) % 26);
	*size = o->size;
}

/* Opens this thread's REQ socket; 0 or -1 after printing why. */
static int loader_connect(struct loader *l)
{
	const struct bench_opts *o = l->b->o;
	int linger = 0;

	if (o->gateway) {
		tcc_gw_close(l->gw);
		l->gw = tcc_gw_open(o->gateway, o->worker_name, o->timeout_ms);
		/* the socket only marks the loader as connected */
		l->sock = l->gw;
		return l->gw ? 0 : -1;
	}
	l->sock = zmq_socket(l->b->zctx, ZMQ_REQ);
	if (l->sock == NULL || zmq_setsockopt(l->sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_setsockopt(l->sock, ZMQ_RCVTIMEO, &o->timeout_ms, sizeof(o->timeout_ms)) != 0 ||
	    zmq_setsockopt(l->sock, ZMQ_SNDTIMEO, &o->timeout_ms, sizeof(o->timeout_ms)) != 0 ||
	    zmq_connect(l->sock, o->connect) != 0) {
		fprintf(stderr, "tcclient bench: cannot connect to %s: %s\n", o->connect,
		        zmq_strerror(zmq_errno()));
		if (l->sock != NULL)
			zmq_close(l->sock);
		l->sock = NULL;
		return -1;
	}
	return 0;
}

/* Closes this thread's connection (ZeroMQ socket or gateway). */
static void loader_close(struct loader *l)
{
	if (l->gw)
		tcc_gw_close(l->gw);
	else if (l->sock)
		zmq_close(l->sock);
	l->gw = NULL;
	l->sock = NULL;
}

/* Builds the orders of slots id, id + C, id + 2C, ... (with
 * --session-reuse under this thread's session keys). */
static void build_share(struct loader *l)
{
	struct bench *b = l->b;
	const struct bench_opts *o = b->o;
	struct tcw_order_options oo = {.worker_id = o->worker_id};
	struct tcw_session *session = NULL;
	size_t cap = o->in_data != NULL ? strlen(o->in_data) : o->size;
	uint8_t *buf = malloc(cap > 0 ? cap : 1);
	struct tcw_wl_input in = {0, buf, 0};
	size_t i;
	int rc;

	if (buf == NULL) {
		atomic_store(&b->build_failed, TCW_ERR_NOMEM);
		return;
	}
	for (i = l->id; i < b->total && !atomic_load(&b->build_failed); i += o->concurrency) {
		bench_input(o, i, buf, &in.size);
		rc = o->session_reuse ? tcc_session_ready(&session, b->su->encryption_key,
		                                          o->session_reuse)
		                      : 0;
		oo.session = session;
		if (rc == 0)
			rc = tcw_order_build(b->su->encryption_key, o->workload, &in, 1, &oo,
			                     &b->slots[i].order);
		/* through the gateway the request is the envelope's inner one, built
		 * now as the direct request is */
		if (rc == 0 && o->gateway &&
		    !(b->slots[i].gw_request =
		          tcc_gw_request(b->slots[i].order, &b->slots[i].gw_request_len)))
			rc = TCW_ERR_NOMEM;
		if (rc != 0)
			atomic_store(&b->build_failed, rc);
	}
	tcw_session_free(&session);
	free(buf);
}

/* Sends slot s's request and waits for its reply; records the latency.
 * A REQ socket that lost its reply is replaced. */
static void exchange_gw(struct loader *l, struct bench_slot *s);

static void exchange(struct loader *l, struct bench_slot *s)
{
	size_t len = 0;
	const char *req = tcw_order_request(s->order, &len);
	double t0 = bench_now();
	int rc;

	if (l->gw) {
		exchange_gw(l, s);
		return;
	}
	do {
		rc = zmq_send_const(l->sock, req, len, 0);
	} while (rc < 0 && zmq_errno() == EINTR);
	if (rc >= 0) {
		zmq_msg_init(&s->reply);
		do {
			rc = zmq_msg_recv(&s->reply, l->sock, 0);
		} while (rc < 0 && zmq_errno() == EINTR);
		if (rc >= 0 && zmq_msg_more(&s->reply)) {
			/* a multi-part reply is not a worker's reply */
			rc = -1;
			errno = EPROTO;
		}
		if (rc >= 0)
			s->has_reply = 1;
		else
			zmq_msg_close(&s->reply);
	}
	s->latency_ms = (bench_now() - t0) * 1e3;
	if (rc >= 0)
		return;
	s->outcome = zmq_errno() == EAGAIN ? BENCH_TIMEOUT : BENCH_TRANSPORT;
	zmq_close(l->sock);
	l->sock = NULL;
	if (loader_connect(l) != 0)
		atomic_store(&l->b->build_failed, TCW_ERR_REMOTE);
}

static void free_reply(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/* exchange() through the gateway: submit, then poll until final. */
static void exchange_gw(struct loader *l, struct bench_slot *s)
{
	double t0 = bench_now();
	const char *why = "";
	char *reply = NULL;
	size_t size = 0;
	int rc = tcc_gw_order(l->gw, s->order, s->gw_request, s->gw_request_len, &reply, &size,
	                      &why);

	s->latency_ms = (bench_now() - t0) * 1e3;
	if (rc == 0 && zmq_msg_init_data(&s->reply, reply, size, free_reply, NULL) == 0) {
		s->has_reply = 1;
		return;
	}
	free(reply);
	s->outcome = rc == 1 ? BENCH_TIMEOUT : BENCH_TRANSPORT;
}

/* Verifies slot i: signature, echoed ids, decryption and (for hello) the
 * plaintext; frees the reply. */
static void verify_slot(struct bench *b, size_t i, uint8_t *buf)
{
	struct bench_slot *s = &b->slots[i];
	struct tcw_order_result res = {0};
	struct tcw_error e = {0};
	size_t size = 0;
	int rc;

	if (!s->has_reply)
		return;
	rc = tcw_order_check_reply(s->order, b->su->verifying_key, zmq_msg_data(&s->reply),
	                           zmq_msg_size(&s->reply), &res, &e);
	if (rc == TCW_ERR_REMOTE) {
		s->outcome =
		    res.error_code == tcw_err_wire_code(TCW_ERR_BUSY) ? BENCH_BUSY : BENCH_REMOTE;
	} else if (rc != TCW_OK) {
		s->outcome = BENCH_VERIFY;
	} else if (b->o->hello) {
		bench_input(b->o, i, buf + 6, &size);
		memcpy(buf, "Hello ", 6);
		if (res.output_count != 1 || res.outputs[0].size != size + 6 ||
		    memcmp(res.outputs[0].data, buf, size + 6) != 0)
			s->outcome = BENCH_WRONG;
	}
	tcw_order_result_fini(&res);
	zmq_msg_close(&s->reply);
	s->has_reply = 0;
}

/* Sends slots from counter (plus base) until limit. */
static void send_phase(struct loader *l, atomic_size_t *counter, size_t base, size_t limit,
                       int timed)
{
	size_t i;

	while (l->sock != NULL && (i = atomic_fetch_add(counter, 1)) < limit) {
		exchange(l, &l->b->slots[base + i]);
		if (timed)
			atomic_fetch_add(&l->b->done, 1);
	}
}

/* A load thread: build its share, warm up, run the timed phase, verify. */
static void *loader_main(void *arg)
{
	struct loader *l = arg;
	struct bench *b = l->b;
	size_t cap = (b->o->in_data != NULL ? strlen(b->o->in_data) : b->o->size) + 6;
	uint8_t *buf = NULL;
	size_t i;

	build_share(l);
	gate_wait(&b->gate); /* 1: orders built */
	if (!atomic_load(&b->build_failed))
		send_phase(l, &b->next_warm, 0, b->o->warmup, 0);
	gate_wait(&b->gate); /* 2: warm; the clock starts */
	if (!atomic_load(&b->build_failed))
		send_phase(l, &b->next, b->o->warmup, b->o->orders, 1);
	b->end_s[l->id] = bench_now();
	gate_wait(&b->gate); /* 3: the clock stops */
	buf = malloc(cap);
	for (i = l->id; i < b->total; i += b->o->concurrency) {
		if (buf == NULL && b->slots[i].has_reply) {
			b->slots[i].outcome = BENCH_VERIFY;
			continue;
		}
		verify_slot(b, i, buf);
	}
	free(buf);
	return NULL;
}

/* Redraws the progress bar on stderr. */
static void progress_draw(size_t done, size_t total)
{
	char bar[BAR_WIDTH + 1];
	size_t fill = total > 0 ? done * BAR_WIDTH / total : BAR_WIDTH, i;

	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu", bar, done, total);
	fflush(stderr);
}

/* Waits for the timed phase, drawing progress when stderr is a terminal. */
static void wait_timed(struct bench *b, int show)
{
	size_t done;

	while (show && (done = atomic_load(&b->done)) < b->o->orders &&
	       !atomic_load(&b->build_failed)) {
		progress_draw(done, b->o->orders);
		usleep(PROGRESS_US);
	}
	gate_wait(&b->gate); /* 3 */
	if (show)
		fprintf(stderr, "\r%*s\r", BAR_WIDTH + 32, "");
}

/* Connects every loader's socket, then starts the threads; returns how
 * many threads started (all of them unless something failed: printed,
 * build_failed set, the gate no longer counts the missing ones). */
static size_t start_loaders(struct bench *b, struct loader *ls)
{
	size_t n, i;

	for (n = 0; n < b->o->concurrency; n++) {
		ls[n].b = b;
		ls[n].id = n;
		if (loader_connect(&ls[n]) != 0)
			break;
	}
	if (n < b->o->concurrency) {
		for (i = 0; i < n; i++)
			loader_close(&ls[i]);
		atomic_store(&b->build_failed, TCW_ERR_INVALID_PARAM);
		return 0;
	}
	for (n = 0; n < b->o->concurrency; n++) {
		if (pthread_create(&ls[n].thread, NULL, loader_main, &ls[n]) != 0) {
			fputs("tcclient bench: cannot start a load thread\n", stderr);
			atomic_store(&b->build_failed, TCW_ERR_NOMEM);
			for (i = n; i < b->o->concurrency; i++) {
				loader_close(&ls[i]);
				gate_leave(&b->gate);
			}
			break;
		}
	}
	return n;
}

/* CPU time (user + system) of the whole process so far, seconds. */
static double process_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * Touches, then frees, heap memory for every reply before the clock starts,
 * so that receiving the replies (which are all kept until verification)
 * does not fault in fresh pages during the timed phase. A reply is about
 * as large as its request.
 */
static void prefault_replies(const struct bench *b)
{
	size_t len = 0, total, chunk = BENCH_MMAP_THRESHOLD / 2, n, i;
	void **blocks;

	tcw_order_request(b->slots[0].order, &len);
	total = (len + len / 8 + 4096) * b->total;
	n = total / chunk + 1;
	blocks = calloc(n, sizeof(*blocks));
	if (blocks == NULL)
		return;
	/* not 0: the compiler would turn malloc + memset(0) into calloc,
	 * which leaves fresh pages untouched */
	for (i = 0; i < n && (blocks[i] = malloc(chunk)) != NULL; i++)
		memset(blocks[i], 0xa5, chunk);
	for (i = 0; i < n; i++)
		free(blocks[i]);
	free(blocks);
}

/* Runs the load threads (see bench.h). */
int bench_run(struct bench *b, double *elapsed_s, double *cpu_s)
{
	struct loader *ls = calloc(b->o->concurrency, sizeof(*ls));
	unsigned parties = (unsigned)b->o->concurrency + 1;
	double t0, end = 0, cpu0, cpu_start = process_cpu();
	size_t i, started;
	int rc = 0, show = !b->o->json && isatty(STDERR_FILENO);

	b->end_s = calloc(b->o->concurrency, sizeof(*b->end_s));
	if (ls == NULL || b->end_s == NULL || gate_init(&b->gate, parties) != 0) {
		free(ls);
		free(b->end_s);
		return TCW_ERR_NOMEM;
	}
	started = start_loaders(b, ls);
	if (started == 0) {
		rc = atomic_load(&b->build_failed);
		gate_fini(&b->gate);
		free(b->end_s);
		free(ls);
		return rc;
	}
	gate_wait(&b->gate); /* 1 */
	b->build_cpu_s = process_cpu() - cpu_start;
	if (!atomic_load(&b->build_failed))
		prefault_replies(b);
	cpu0 = process_cpu();
	gate_wait(&b->gate); /* 2 */
	t0 = b->gate.opened_s;
	wait_timed(b, show);
	*cpu_s = process_cpu() - cpu0;
	for (i = 0; i < started; i++) {
		pthread_join(ls[i].thread, NULL);
		if (ls[i].sock != NULL)
			loader_close(&ls[i]);
		if (b->end_s[i] > end)
			end = b->end_s[i];
	}
	b->verify_cpu_s = process_cpu() - cpu0 - *cpu_s;
	rc = atomic_load(&b->build_failed);
	*elapsed_s = end > t0 ? end - t0 : 0;
	gate_fini(&b->gate);
	free(b->end_s);
	b->end_s = NULL;
	free(ls);
	return rc;
}
