/* SPDX-License-Identifier: Apache-2.0 */
/* server.h - the ZMQ request loop: one frame in, exactly one reply out. */
#ifndef TCW_WORKER_SERVER_H
#define TCW_WORKER_SERVER_H

#include <signal.h>
#include <stddef.h>

#include "tcw/tcw.h"

/* How long one zmq_poll waits before the stop flag is checked again. */
#define SERVER_POLL_MS 200
/* ZMQ_LINGER of the socket at shutdown, milliseconds. */
#define SERVER_LINGER_MS 100

/* What server_run needs; everything is borrowed. */
struct server_options {
	const char *bind;                 /* ZMQ endpoint to bind */
	size_t max_message;               /* ZMQ_MAXMSGSIZE, bytes */
	const struct tcw_processor *proc; /* turns frames into replies */
	volatile sig_atomic_t *stop;      /* set by the signal handler */
};

/* Binds a REP socket, logs "listening on <endpoint>" and answers requests
 * until *stop is set, then logs "stopping" and closes. Returns 0 after a
 * clean stop, TCW_ERR_INVALID_PARAM when the endpoint cannot be bound
 * (logged), TCW_ERR_INTERNAL on any other ZMQ failure (logged). */
int server_run(const struct server_options *o);

/* Per-request work, independent of the socket: builds the reply to one
 * request frame (multipart != 0: the request had several parts, which
 * earns an "Invalid request" error) and logs it at debug (method, size,
 * time, error code — never content). *reply caller frees. Returns 0, or
 * TCW_ERR_NOMEM when no reply at all could be built. */
int server_handle(const struct tcw_processor *p, const void *frame, size_t size, int multipart,
                  char **reply, size_t *reply_size);

#endif /* TCW_WORKER_SERVER_H */
