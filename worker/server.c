/* SPDX-License-Identifier: Apache-2.0 */
/* server.c - the I/O thread: owns the ROUTER socket, queues requests, relays replies. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "log.h"
#include "notify.h"
#include "pool.h"
#include "replyq.h"
#include "reqqueue.h"
#include "server.h"

/* Allocations up to this size come from the heap instead of fresh mmap()s,
 * and this much free memory may stay at the top of a heap: without it every
 * large work order pays for page faults on newly mapped memory (about 40 %
 * of the time of a 1 MiB order). glibc caps the threshold at 32 MiB. */
#define MALLOC_MMAP_THRESHOLD (32 << 20)
#define MALLOC_TRIM_THRESHOLD (64 << 20)

/* poll timeout while the last requests in hand finish. */
#define DRAIN_POLL_MS 50

/* Sent when not even an error reply could be allocated. */
static const char g_fallback_reply[] =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":1,\"message\":\"Internal error\"}}";

/* The I/O thread's state. */
struct server {
	const struct server_options *o;
	void *ctx;
	void *router; /* bound to o->bind; only this thread uses it */
	int router_fd; /* its ZMQ_FD: readable when it may have news */
	struct replyq *replies; /* from the processing threads */
	struct reqqueue *q;
	struct pool *pool;
	char *busy_reply; /* the fixed "Worker busy" reply */
	size_t busy_reply_size;
	unsigned long busy_streak; /* busy replies since the queue last had room */
};

/* Reads and drops the remaining parts of the current message. */
static int drain_parts(void *sock)
{
	zmq_msg_t part;
	int more = 1;

	while (more) {
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, sock, 0) < 0) {
			int err = zmq_errno();

			zmq_msg_close(&part);
			if (err == EINTR)
				continue;
			log_error("cannot receive a message part: %s", zmq_strerror(err));
			return TCW_ERR_INTERNAL;
		}
		more = zmq_msg_more(&part);
		zmq_msg_close(&part);
	}
	return 0;
}

/* Files the received part into r: routing frames up to and including the
 * first empty frame after the identity, then the body frame, then extra
 * body frames (counted and dropped). Sets *bad for an envelope that is
 * too long. */
static void file_part(struct request *r, zmq_msg_t *part, int *in_env, int *bad)
{
	if (*bad) {
		zmq_msg_close(part);
	} else if (*in_env) {
		if (r->env_count == REQUEST_MAX_ENVELOPE) {
			*bad = 1;
			zmq_msg_close(part);
			return;
		}
		if (r->env_count > 0 && zmq_msg_size(part) == 0)
			*in_env = 0;
		zmq_msg_init(&r->env[r->env_count]);
		zmq_msg_move(&r->env[r->env_count++], part);
		zmq_msg_close(part);
	} else if (!r->has_body) {
		zmq_msg_init(&r->body);
		zmq_msg_move(&r->body, part);
		zmq_msg_close(part);
		r->has_body = 1;
	} else {
		r->extra_parts++;
		zmq_msg_close(part);
	}
}

/*
 * Reads the next message of the ROUTER socket without waiting. Returns 1
 * with *out set (caller owns it), 1 with *out NULL when the message was
 * dropped (no routing envelope, no body: a REP socket drops those too, or
 * out of memory), 0 when nothing waits, TCW_ERR_INTERNAL when the socket
 * fails (logged).
 */
static int read_request(void *router, struct request **out)
{
	struct request *r;
	zmq_msg_t part;
	int in_env = 1, bad = 0, more;

	*out = NULL;
	zmq_msg_init(&part);
	if (zmq_msg_recv(&part, router, ZMQ_DONTWAIT) < 0) {
		int err = zmq_errno();

		zmq_msg_close(&part);
		if (err == EAGAIN || err == EINTR)
			return 0;
		log_error("cannot receive a request: %s", zmq_strerror(err));
		return TCW_ERR_INTERNAL;
	}
	r = request_new();
	if (r == NULL) {
		more = zmq_msg_more(&part);
		zmq_msg_close(&part);
		log_error("out of memory: dropping a request");
		return more && drain_parts(router) != 0 ? TCW_ERR_INTERNAL : 1;
	}
	for (;;) {
		more = zmq_msg_more(&part);
		file_part(r, &part, &in_env, &bad);
		if (!more)
			break;
		zmq_msg_init(&part);
		while (zmq_msg_recv(&part, router, 0) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			log_error("cannot receive a request part: %s", zmq_strerror(zmq_errno()));
			zmq_msg_close(&part);
			request_free(&r);
			return TCW_ERR_INTERNAL;
		}
	}
	if (bad || !r->has_body) {
		log_debug("dropping a message without a valid routing envelope");
		request_free(&r);
		return 1;
	}
	*out = r;
	return 1;
}

/* Sends r's routing frames and the fixed busy reply on the ROUTER socket. */
static int answer_busy(struct server *s, struct request *r)
{
	size_t i;

	for (i = 0; i < r->env_count; i++) {
		if (zmq_msg_send(&r->env[i], s->router, ZMQ_SNDMORE) < 0)
			goto fail;
	}
	if (zmq_send(s->router, s->busy_reply, s->busy_reply_size, 0) < 0)
		goto fail;
	return 0;
fail:
	log_error("cannot send a reply: %s", zmq_strerror(zmq_errno()));
	return TCW_ERR_INTERNAL;
}

/* Queues r for a processing thread, or answers "Worker busy" at once when
 * the queue is full; r is consumed either way. */
static int dispatch(struct server *s, struct request *r)
{
	int rc = reqqueue_push(s->q, r);

	if (rc == 0) {
		if (s->busy_streak > 0)
			log_info("request queue has room again after %lu 'Worker busy' replies",
			         s->busy_streak);
		s->busy_streak = 0;
		return 0;
	}
	if (s->busy_streak++ == 0)
		log_warn("request queue full (%u waiting): answering 'Worker busy'", s->o->queue);
	log_debug("request bytes=%zu answered busy", zmq_msg_size(&r->body));
	rc = answer_busy(s, r);
	request_free(&r);
	return rc;
}

/* Takes up to SERVER_BATCH requests off the ROUTER socket. Returns 0 when
 * none is left (the socket's commands are processed, so its ZMQ_FD may be
 * waited on), 1 when the batch is full (more may wait), or an error. */
static int accept_requests(struct server *s)
{
	struct request *r;
	int i, rc;

	for (i = 0; i < SERVER_BATCH; i++) {
		rc = read_request(s->router, &r);
		if (rc <= 0)
			return rc;
		if (r != NULL && (rc = dispatch(s, r)) != 0)
			return rc;
	}
	return 1;
}

/* zmq_msg free function for replies built by tcw_process_frame. */
static void free_reply(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/* Sends r's routing frames and its reply on the ROUTER socket, which
 * routes it by the first frame (a peer that went away makes ROUTER drop
 * it silently). The reply buffer goes to ZMQ without a copy. */
static int send_reply(struct server *s, struct request *r)
{
	zmq_msg_t body;
	size_t i;

	for (i = 0; i < r->env_count; i++) {
		if (zmq_msg_send(&r->env[i], s->router, ZMQ_SNDMORE) < 0)
			goto fail;
	}
	if (r->reply == NULL ||
	    zmq_msg_init_data(&body, r->reply, r->reply_size,
	                      r->share != NULL ? shreply_zmq_free : free_reply, r->share) != 0) {
		if (r->share != NULL)
			shreply_release(r->share);
		else
			free(r->reply);
		zmq_msg_init_data(&body, (void *)g_fallback_reply, sizeof(g_fallback_reply) - 1,
		                  NULL, NULL);
	}
	r->reply = NULL; /* owned by body now */
	r->share = NULL;
	if (zmq_msg_send(&body, s->router, 0) < 0) {
		zmq_msg_close(&body);
		goto fail;
	}
	return 0;
fail:
	log_error("cannot send a reply: %s", zmq_strerror(zmq_errno()));
	return TCW_ERR_INTERNAL;
}

/* Sends every reply the processing threads have queued; ends a wait begun
 * with replyq_prepare_wait. Returns how many were sent, or an error. */
static int relay_replies(struct server *s)
{
	struct request *r = replyq_take(s->replies), *next;
	int n = 0, rc = 0;

	for (; r != NULL; r = next) {
		next = r->next;
		if (rc == 0)
			rc = send_reply(s, r);
		request_free(&r);
		n++;
	}
	return rc != 0 ? rc : n;
}

/*
 * The I/O loop: requests in, replies out; on stop, finishes the requests in
 * hand before returning. It waits with one poll() on the ROUTER socket's
 * ZMQ_FD and the reply queue's eventfd, and only when neither side has
 * anything known to be pending, so a busy worker moves requests and replies
 * without waiting at all. ZMQ_FD only signals news: after any send the
 * socket may hold requests it has not signalled, so it is read (until it
 * says EAGAIN, which also processes its pending commands) before the next
 * wait.
 */
static int serve_loop(struct server *s)
{
	struct pollfd fds[2];
	int stopping = 0, check_router = 1, n, rc;

	for (;;) {
		rc = relay_replies(s);
		if (rc < 0)
			return rc;
		if (rc > 0)
			check_router = 1;
		if (*s->o->stop && !stopping) {
			stopping = 1;
			log_info("stopping: answering the %zu requests in hand",
			         reqqueue_in_hand(s->q));
			notify_send("STOPPING=1");
		}
		if (stopping) {
			/* every reply is queued before its request counts as done */
			if (reqqueue_in_hand(s->q) == 0)
				return relay_replies(s) < 0 ? TCW_ERR_INTERNAL : 0;
		} else if (check_router) {
			rc = accept_requests(s);
			if (rc < 0)
				return rc;
			check_router = rc; /* a full batch: look again first */
			if (check_router)
				continue;
		}
		if (replyq_prepare_wait(s->replies))
			continue;
		fds[0] = (struct pollfd){.fd = replyq_fd(s->replies), .events = POLLIN};
		fds[1] = (struct pollfd){.fd = s->router_fd, .events = POLLIN};
		n = poll(fds, stopping ? 1 : 2, stopping ? DRAIN_POLL_MS : SERVER_POLL_MS);
		if (n < 0 && errno != EINTR) {
			log_error("poll failed: %s", strerror(errno));
			return TCW_ERR_INTERNAL;
		}
		if (n > 0 && (fds[0].revents & POLLIN))
			replyq_drain(s->replies);
		if (n > 0 && !stopping && (fds[1].revents & (POLLIN | POLLERR)))
			check_router = 1;
	}
}

/* Creates the context and sockets with SIGINT/SIGTERM blocked, so ZMQ's
 * own threads inherit the mask and signals reach this thread. */
static int open_sockets(struct server *s)
{
	sigset_t block, old;
	int rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	s->ctx = zmq_ctx_new();
	if (s->ctx != NULL)
		s->router = zmq_socket(s->ctx, ZMQ_ROUTER);
	if (s->router == NULL) {
		log_error("cannot create ZMQ sockets: %s", zmq_strerror(zmq_errno()));
		rc = TCW_ERR_INTERNAL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Sets the ROUTER options, binds it and the reply socket, and logs nothing
 * yet; *endpoint gets the bound endpoint. */
static int bind_sockets(struct server *s, char *endpoint, size_t size)
{
	int64_t maxmsg = (int64_t)s->o->max_message + SERVER_SOCKET_MARGIN;
	int linger = SERVER_LINGER_MS;
	size_t fdsize = sizeof(s->router_fd);

	if (zmq_setsockopt(s->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
	    zmq_setsockopt(s->router, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_getsockopt(s->router, ZMQ_FD, &s->router_fd, &fdsize) != 0) {
		log_error("cannot set socket options: %s", zmq_strerror(zmq_errno()));
		return TCW_ERR_INTERNAL;
	}
	if (zmq_bind(s->router, s->o->bind) != 0) {
		log_error("--bind %s: cannot bind: %s", s->o->bind, zmq_strerror(zmq_errno()));
		return TCW_ERR_INVALID_PARAM;
	}
	if (zmq_getsockopt(s->router, ZMQ_LAST_ENDPOINT, endpoint, &size) != 0) {
		log_error("cannot read the bound endpoint: %s", zmq_strerror(zmq_errno()));
		return TCW_ERR_INTERNAL;
	}
	endpoint[size > 0 ? size - 1 : 0] = '\0';
	return 0;
}

/* Builds the fixed replies and starts the queue and the processing threads. */
static int start_processing(struct server *s)
{
	struct tcw_error busy = {.err = TCW_ERR_BUSY, .field = ""};
	int rc;

	s->busy_reply = tcw_error_reply(NULL, &busy, NULL);
	if (s->busy_reply == NULL)
		return TCW_ERR_NOMEM;
	s->busy_reply_size = strlen(s->busy_reply);
	rc = replyq_new(&s->replies);
	if (rc == 0)
		rc = reqqueue_new(s->o->queue, &s->q);
	if (rc == 0)
		rc = pool_start(s->replies, s->q, s->o->proc, s->o->threads, &s->pool);
	if (rc == TCW_ERR_NOMEM)
		log_error("out of memory while starting the processing threads");
	return rc;
}

/* Binds, starts the processing threads and serves until stopped; see server.h. */
int server_run(const struct server_options *o)
{
	struct server s = {.o = o};
	char endpoint[1024];
	int rc;

	/* before any thread (and its malloc arena) exists */
	if (mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD) != 1 ||
	    mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD) != 1)
		log_debug("malloc not tuned for large requests (another allocator?)");
	rc = open_sockets(&s);
	if (rc == 0)
		rc = bind_sockets(&s, endpoint, sizeof(endpoint));
	if (rc == 0)
		rc = start_processing(&s);
	if (rc != 0)
		goto out;
	log_info("%u processing threads, up to %u waiting requests", o->threads, o->queue);
	log_info("listening on %s", endpoint);
	/* systemd Type=notify: serving from now on */
	if (notify_send("READY=1") < 0)
		log_warn("NOTIFY_SOCKET is set but READY=1 could not be sent: %s", strerror(errno));
	rc = serve_loop(&s);
out:
	pool_stop(&s.pool);
	reqqueue_free(&s.q);
	replyq_free(&s.replies);
	free(s.busy_reply);
	if (s.router != NULL)
		zmq_close(s.router);
	if (s.ctx != NULL) {
		while (zmq_ctx_term(s.ctx) != 0 && zmq_errno() == EINTR)
			;
	}
	return rc;
}
