/* SPDX-License-Identifier: Apache-2.0 */
/* server.h - the ZMQ front end: a ROUTER socket, a request queue and processing threads. */
#ifndef TCW_WORKER_SERVER_H
#define TCW_WORKER_SERVER_H

#include <signal.h>
#include <stddef.h>

#include "tcw/tcw.h"

/* How long one zmq_poll waits before the stop flag is checked again. */
#define SERVER_POLL_MS 200
/* ZMQ_LINGER of the socket at shutdown, milliseconds: time for the last
 * replies to leave. */
#define SERVER_LINGER_MS 2000
/* ZMQ_MAXMSGSIZE is max_message plus this margin, so a request slightly
 * over the limit still reaches the parser and gets "Invalid request";
 * larger frames make ZMQ drop the connection without a reply. */
#define SERVER_SOCKET_MARGIN (64u * 1024u)
/* Requests (or replies) moved per poll round before the other side gets
 * its turn. */
#define SERVER_BATCH 64

/* What server_run needs; everything is borrowed. */
struct server_options {
	const char *bind;                 /* ZMQ endpoint to bind */
	size_t max_message;               /* largest request, bytes */
	const struct tcw_processor *proc; /* turns frames into replies */
	volatile sig_atomic_t *stop;      /* set by the signal handler */
	unsigned threads;                 /* processing threads, >= 1 */
	unsigned queue;                   /* waiting requests, >= 1 */
};

/*
 * Binds a ROUTER socket (REQ peers see REP behaviour: one reply per
 * request, to the peer that sent it), starts o->threads processing threads
 * and logs "listening on <endpoint>". The calling thread is the only one
 * that touches the ROUTER socket: it queues requests (answering "Worker
 * busy" at once when o->queue requests already wait; messages without a
 * routing envelope are dropped, as a REP socket does) and sends the
 * replies the processing threads hand back. Once *stop is set it stops reading requests, logs
 * "stopping", sends the replies of every request in hand, and returns 0.
 * TCW_ERR_INVALID_PARAM when the endpoint cannot be bound (logged),
 * TCW_ERR_INTERNAL or TCW_ERR_NOMEM on other failures (logged).
 */
int server_run(const struct server_options *o);

#endif /* TCW_WORKER_SERVER_H */
