/* SPDX-License-Identifier: Apache-2.0 */
/* pool.h - the processing threads: requests from the queue in, replies to the I/O thread out. */
#ifndef TCW_WORKER_POOL_H
#define TCW_WORKER_POOL_H

#include "replyq.h"
#include "reqqueue.h"
#include "tcw/tcw.h"

/* Most processing threads accepted (--threads). */
#define POOL_MAX_THREADS 256u

/* The running processing threads. */
struct pool;

/*
 * Starts threads processing threads. Each one repeatedly takes a request
 * from q, builds its reply with pool_handle(proc, ...), attaches it to the
 * request (r->reply, NULL when not even an error reply could be built) and
 * pushes the request onto replies for the I/O thread, exactly once per
 * request, before reqqueue_done. SIGINT and SIGTERM are blocked in these
 * threads. Everything is borrowed and must outlive pool_stop. *out caller
 * stops with pool_stop. TCW_ERR_NOMEM or TCW_ERR_INTERNAL (logged) when a
 * thread cannot start; the threads already started are stopped again then.
 */
int pool_start(struct replyq *replies, struct reqqueue *q, const struct tcw_processor *proc,
               unsigned threads, struct pool **out);
/* Closes the queue, lets the threads finish what it still holds, joins
 * them, frees the pool and sets *p to NULL (NULL-safe). */
void pool_stop(struct pool **p);

/* Per-request work, independent of the socket: builds the reply to one
 * request frame (multipart != 0: the request had several parts, which
 * earns an "Invalid request" error) and logs it at debug (method, size,
 * time, error code — never content). *reply caller frees. Returns 0, or
 * TCW_ERR_NOMEM when no reply at all could be built. */
int pool_handle(const struct tcw_processor *p, const void *frame, size_t size, int multipart,
                char **reply, size_t *reply_size);

#endif /* TCW_WORKER_POOL_H */
