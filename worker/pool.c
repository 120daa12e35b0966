/* SPDX-License-Identifier: Apache-2.0 */
/* pool.c - processing threads: take a request, run tcw_process_frame, push the reply. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <zmq.h>

#include "log.h"
#include "pool.h"

/* What every processing thread shares; all borrowed. */
struct pool_shared {
	void *zctx;
	const char *endpoint;
	struct reqqueue *q;
	const struct tcw_processor *proc;
};

/* One processing thread: its PUSH socket, created and connected by
 * pool_start and handed over when the thread starts. */
struct pool_worker {
	const struct pool_shared *sh;
	void *push;
	pthread_t thread;
};

struct pool {
	struct pool_shared shared;
	struct pool_worker *workers;
	unsigned count;   /* workers with a socket */
	unsigned started; /* workers with a running thread */
};

/* Sent when not even an error reply could be allocated. */
static const char g_fallback_reply[] =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":1,\"message\":\"Internal error\"}}";

/* Parses text as JSON for the debug line only; NULL when it is not JSON. */
static json_object *parse_for_log(const void *text, size_t size)
{
	struct json_tokener *tok;
	json_object *obj;

	if (size > (size_t)INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	obj = json_tokener_parse_ex(tok, text, (int)size);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* The request's outer "method", escaped and capped, or "-". */
static void request_method(const void *frame, size_t size, char *out, size_t outsize)
{
	json_object *obj = parse_for_log(frame, size);
	json_object *m;

	snprintf(out, outsize, "-");
	if (json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, "method", &m) &&
	    json_object_is_type(m, json_type_string))
		log_escape(out, outsize, json_object_get_string(m),
		           (size_t)json_object_get_string_len(m), LOG_NAME_MAX);
	json_object_put(obj);
}

/* The wire error code of a reply ("error"."code"), 0 for a result. */
static int reply_code(const char *reply, size_t size)
{
	json_object *obj = parse_for_log(reply, size);
	json_object *err, *code;
	int rc = 0;

	if (json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, "error", &err) &&
	    json_object_object_get_ex(err, "code", &code))
		rc = json_object_get_int(code);
	json_object_put(obj);
	return rc;
}

static double elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1000.0 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Builds the reply to one frame; see pool.h. */
int pool_handle(const struct tcw_processor *p, const void *frame, size_t size, int multipart,
                char **reply, size_t *reply_size)
{
	struct tcw_error e = {.err = TCW_ERR_INVALID_REQUEST, .field = ""};
	char method[LOG_ESCAPED_SIZE];
	struct timespec start;
	int debug = log_enabled(TCW_LOG_DEBUG);
	int rc = 0;

	*reply = NULL;
	*reply_size = 0;
	if (debug)
		clock_gettime(CLOCK_MONOTONIC, &start);
	if (multipart) {
		*reply = tcw_error_reply(NULL, &e, NULL);
		if (*reply == NULL)
			rc = TCW_ERR_NOMEM;
		else
			*reply_size = strlen(*reply);
	} else {
		rc = tcw_process_frame(p, frame, size, reply, reply_size);
		if (rc != 0 || *reply == NULL) {
			free(*reply);
			*reply = NULL;
			*reply_size = 0;
			rc = TCW_ERR_NOMEM;
		}
	}
	if (debug) {
		request_method(frame, size, method, sizeof(method));
		log_debug("request method=%s%s bytes=%zu ms=%.3f code=%d", method,
		          multipart ? " (multipart)" : "", size, elapsed_ms(&start),
		          *reply != NULL ? reply_code(*reply, *reply_size) : 1);
	}
	log_set_work_order(NULL, 0); /* named by the seen hook (main.c) */
	return rc;
}

/* zmq_msg free function for replies built by tcw_process_frame. */
static void free_reply(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/* Sends msg on sock (flags), retrying on EINTR; 0 or -1 (logged). */
static int send_part(void *sock, zmq_msg_t *msg, int flags)
{
	while (zmq_msg_send(msg, sock, flags) < 0) {
		if (zmq_errno() == EINTR)
			continue;
		log_error("cannot hand a reply to the I/O thread: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

/*
 * Sends r's routing frames and then reply[0..size) as one message. The
 * reply buffer is handed to ZMQ without a copy (freed by ZMQ once sent);
 * when reply is NULL the fixed internal-error reply goes instead.
 */
static void send_reply(void *push, struct request *r, char *reply, size_t size)
{
	zmq_msg_t body;
	size_t i;

	for (i = 0; i < r->env_count; i++) {
		if (send_part(push, &r->env[i], ZMQ_SNDMORE) != 0) {
			free(reply);
			return;
		}
	}
	if (reply == NULL || zmq_msg_init_data(&body, reply, size, free_reply, NULL) != 0) {
		free(reply);
		zmq_msg_init_data(&body, (void *)g_fallback_reply, sizeof(g_fallback_reply) - 1,
		                  NULL, NULL);
	}
	if (send_part(push, &body, 0) != 0)
		zmq_msg_close(&body);
}

/* Answers one request: the reply to its body frame, or the error reply of
 * a multi-part body. */
static void process_one(void *push, const struct tcw_processor *proc, struct request *r)
{
	char *reply = NULL;
	size_t size = 0;

	if (pool_handle(proc, zmq_msg_data(&r->body), zmq_msg_size(&r->body), r->extra_parts > 0,
	                &reply, &size) != 0)
		log_error("out of memory while building a reply");
	/* the request body can be large: release it before the reply travels */
	zmq_msg_close(&r->body);
	r->has_body = 0;
	send_reply(push, r, reply, size);
}

/* One processing thread: serves the queue until it is closed and empty.
 * The PUSH socket moved here with pthread_create (a full barrier). */
static void *pool_thread(void *arg)
{
	struct pool_worker *w = arg;
	struct request *r;

	while ((r = reqqueue_pop(w->sh->q)) != NULL) {
		process_one(w->push, w->sh->proc, r);
		request_free(&r);
		reqqueue_done(w->sh->q);
	}
	return NULL;
}

/* Creates the PUSH socket of w, connected to the reply endpoint. */
static int worker_connect(struct pool_worker *w)
{
	int linger = -1;

	w->push = zmq_socket(w->sh->zctx, ZMQ_PUSH);
	if (w->push == NULL || zmq_setsockopt(w->push, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_connect(w->push, w->sh->endpoint) != 0) {
		log_error("cannot connect a processing thread to %s: %s", w->sh->endpoint,
		          zmq_strerror(zmq_errno()));
		if (w->push != NULL)
			zmq_close(w->push);
		w->push = NULL;
		return TCW_ERR_INTERNAL;
	}
	return 0;
}

/* Starts the processing threads (see pool.h). */
int pool_start(void *zctx, const char *reply_endpoint, struct reqqueue *q,
               const struct tcw_processor *proc, unsigned threads, struct pool **out)
{
	sigset_t block, old;
	struct pool *p;
	int rc = 0, err;

	*out = NULL;
	if (threads == 0 || threads > POOL_MAX_THREADS)
		return TCW_ERR_INTERNAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return TCW_ERR_NOMEM;
	p->workers = calloc(threads, sizeof(*p->workers));
	if (p->workers == NULL) {
		free(p);
		return TCW_ERR_NOMEM;
	}
	p->shared = (struct pool_shared){zctx, reply_endpoint, q, proc};
	for (; p->count < threads; p->count++) {
		p->workers[p->count].sh = &p->shared;
		if (worker_connect(&p->workers[p->count]) != 0) {
			pool_stop(&p);
			return TCW_ERR_INTERNAL;
		}
	}
	/* the threads inherit the mask: stop signals go to the I/O thread */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (; p->started < threads; p->started++) {
		err = pthread_create(&p->workers[p->started].thread, NULL, pool_thread,
		                     &p->workers[p->started]);
		if (err != 0) {
			log_error("cannot start processing thread %u: %s", p->started + 1,
			          strerror(err));
			rc = err == EAGAIN ? TCW_ERR_NOMEM : TCW_ERR_INTERNAL;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pool_stop(&p);
		return rc;
	}
	*out = p;
	return 0;
}

/* Closes the queue and joins every thread (see pool.h). */
void pool_stop(struct pool **pp)
{
	struct pool *p;
	unsigned i;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	reqqueue_close(p->shared.q);
	for (i = 0; i < p->started; i++)
		pthread_join(p->workers[i].thread, NULL);
	for (i = 0; i < p->count; i++)
		zmq_close(p->workers[i].push);
	free(p->workers);
	free(p);
	*pp = NULL;
}
