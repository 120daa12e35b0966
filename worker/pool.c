/* SPDX-License-Identifier: Apache-2.0 */
/* pool.c - processing threads: take a request, run tcw_process_frame, queue the reply. */
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
	struct replyq *replies;
	struct reqqueue *q;
	const struct tcw_processor *proc;
};

struct pool {
	struct pool_shared shared;
	pthread_t *threads;
	unsigned started; /* threads running */
};

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

/* Answers one request: its reply (NULL when none could be built, for the
 * fixed internal-error reply) goes with it to the I/O thread. */
static void process_one(const struct pool_shared *sh, struct request *r)
{
	char *reply = NULL;
	size_t size = 0;

	if (pool_handle(sh->proc, zmq_msg_data(&r->body), zmq_msg_size(&r->body), r->extra_parts > 0,
	                &reply, &size) != 0)
		log_error("out of memory while building a reply");
	/* the request body can be large: release it before the reply travels */
	zmq_msg_close(&r->body);
	r->has_body = 0;
	r->reply = reply;
	r->reply_size = size;
	/* a reply the response store kept is sent from the same buffer */
	r->share = shreply_take_pending(reply);
	replyq_push(sh->replies, r);
}

/* One processing thread: serves the queue until it is closed and empty. */
static void *pool_thread(void *arg)
{
	const struct pool_shared *sh = arg;
	struct request *r;

	while ((r = reqqueue_pop(sh->q)) != NULL) {
		process_one(sh, r);
		/* after the push: the I/O thread relays every reply of a
		 * request that no longer counts as in hand */
		reqqueue_done(sh->q);
	}
	return NULL;
}

/* Starts the processing threads (see pool.h). */
int pool_start(struct replyq *replies, struct reqqueue *q, const struct tcw_processor *proc,
               unsigned threads, struct pool **out)
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
	p->threads = calloc(threads, sizeof(*p->threads));
	if (p->threads == NULL) {
		free(p);
		return TCW_ERR_NOMEM;
	}
	p->shared = (struct pool_shared){replies, q, proc};
	/* the threads inherit the mask: stop signals go to the I/O thread */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (; p->started < threads; p->started++) {
		err = pthread_create(&p->threads[p->started], NULL, pool_thread, &p->shared);
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
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	free(p);
	*pp = NULL;
}
