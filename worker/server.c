/* SPDX-License-Identifier: Apache-2.0 */
/* server.c - binds the ZMQ REP socket and answers every request exactly once. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <zmq.h>

#include "log.h"
#include "server.h"

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

/* Builds the reply to one frame; see server.h. */
int server_handle(const struct tcw_processor *p, const void *frame, size_t size, int multipart,
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
	return rc;
}

/* Reads and drops the remaining parts of a multi-part request. */
static int drain_parts(void *sock)
{
	zmq_msg_t part;
	int more = 1;

	while (more) {
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, sock, 0) < 0) {
			int err = errno;

			zmq_msg_close(&part);
			if (err == EINTR)
				continue;
			log_error("cannot receive request part: %s", zmq_strerror(err));
			return TCW_ERR_INTERNAL;
		}
		more = zmq_msg_more(&part);
		zmq_msg_close(&part);
	}
	return 0;
}

/* Sends data as the one reply, retrying when a signal interrupts. */
static int send_reply(void *sock, const void *data, size_t size)
{
	while (zmq_send(sock, data, size, 0) < 0) {
		if (errno == EINTR)
			continue;
		log_error("cannot send reply: %s", zmq_strerror(errno));
		return TCW_ERR_INTERNAL;
	}
	return 0;
}

/* Receives one request (all its parts) and sends exactly one reply. */
static int serve_one(void *sock, const struct tcw_processor *p)
{
	zmq_msg_t msg;
	char *reply = NULL;
	size_t reply_size = 0;
	int multipart, rc;

	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
		int err = errno;

		zmq_msg_close(&msg);
		if (err == EAGAIN || err == EINTR)
			return 0;
		log_error("cannot receive request: %s", zmq_strerror(err));
		return TCW_ERR_INTERNAL;
	}
	multipart = zmq_msg_more(&msg);
	if (multipart && drain_parts(sock) != 0) {
		zmq_msg_close(&msg);
		return TCW_ERR_INTERNAL;
	}
	if (server_handle(p, zmq_msg_data(&msg), zmq_msg_size(&msg), multipart, &reply,
	                  &reply_size) != 0)
		log_error("out of memory while building a reply");
	zmq_msg_close(&msg);
	if (reply != NULL)
		rc = send_reply(sock, reply, reply_size);
	else
		rc = send_reply(sock, g_fallback_reply, sizeof(g_fallback_reply) - 1);
	free(reply);
	return rc;
}

/* Polls with a timeout so the stop flag is seen even without EINTR. */
static int serve_loop(void *sock, const struct server_options *o)
{
	zmq_pollitem_t item;
	int n, rc;

	while (!*o->stop) {
		memset(&item, 0, sizeof(item));
		item.socket = sock;
		item.events = ZMQ_POLLIN;
		n = zmq_poll(&item, 1, SERVER_POLL_MS);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("zmq_poll failed: %s", zmq_strerror(errno));
			return TCW_ERR_INTERNAL;
		}
		if (n == 0 || !(item.revents & ZMQ_POLLIN))
			continue;
		rc = serve_one(sock, o->proc);
		if (rc != 0)
			return rc;
	}
	log_info("stopping");
	return 0;
}

/* Creates the context and socket with SIGINT/SIGTERM blocked, so ZMQ's
 * own threads inherit the mask and signals reach the serving thread. */
static int open_socket(void **ctx, void **sock)
{
	sigset_t block, old;
	int rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	*ctx = zmq_ctx_new();
	*sock = *ctx != NULL ? zmq_socket(*ctx, ZMQ_REP) : NULL;
	if (*sock == NULL) {
		log_error("cannot create ZMQ socket: %s", zmq_strerror(errno));
		rc = TCW_ERR_INTERNAL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Binds, logs the bound endpoint and serves until stopped; see server.h. */
int server_run(const struct server_options *o)
{
	void *ctx = NULL, *sock = NULL;
	int64_t maxmsg = (int64_t)o->max_message;
	int linger = SERVER_LINGER_MS;
	char endpoint[1024];
	size_t elen = sizeof(endpoint);
	int rc;

	rc = open_socket(&ctx, &sock);
	if (rc != 0)
		goto out;
	rc = TCW_ERR_INTERNAL;
	if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
	    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0) {
		log_error("cannot set socket options: %s", zmq_strerror(errno));
		goto out;
	}
	if (zmq_bind(sock, o->bind) != 0) {
		log_error("--bind %s: cannot bind: %s", o->bind, zmq_strerror(errno));
		rc = TCW_ERR_INVALID_PARAM;
		goto out;
	}
	if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, endpoint, &elen) != 0) {
		log_error("cannot read the bound endpoint: %s", zmq_strerror(errno));
		goto out;
	}
	endpoint[sizeof(endpoint) - 1] = '\0';
	log_info("listening on %s", endpoint);
	rc = serve_loop(sock, o);
out:
	if (sock != NULL)
		zmq_close(sock);
	if (ctx != NULL) {
		while (zmq_ctx_term(ctx) != 0 && errno == EINTR)
			;
	}
	return rc;
}
