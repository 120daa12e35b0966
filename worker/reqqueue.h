/* SPDX-License-Identifier: Apache-2.0 */
/* reqqueue.h - the bounded queue between the I/O thread and the processing threads. */
#ifndef TCW_WORKER_REQQUEUE_H
#define TCW_WORKER_REQQUEUE_H

#include <stddef.h>

#include <zmq.h>

#include "shreply.h"

/* Most routing frames (identities plus the empty delimiter) one request may
 * carry; a REQ peer sends one identity, each ROUTER/DEALER hop adds one. */
#define REQUEST_MAX_ENVELOPE 8

/* One request as the ROUTER socket delivered it. */
struct request {
	zmq_msg_t env[REQUEST_MAX_ENVELOPE]; /* identities..., empty delimiter */
	size_t env_count;                    /* initialised frames in env */
	zmq_msg_t body;                      /* the one body frame */
	int has_body;                        /* body is initialised */
	size_t extra_parts;                  /* body frames after the first (dropped) */
	char *reply;                         /* the answer (malloc), set by a processing thread */
	size_t reply_size;
	struct shreply *share; /* non-NULL: reply is shared with the response store */
	struct request *next; /* in the reply queue (replyq.c) */
};

/* Allocates an empty request; NULL when out of memory. Freed by request_free. */
struct request *request_new(void);
/* Closes every frame of *r, frees (or releases) its reply and r, sets *r to NULL
 * (NULL-safe). */
void request_free(struct request **r);

/* A fixed-capacity FIFO of requests waiting for a processing thread,
 * guarded by a mutex, with a condition variable for the waiting threads. */
struct reqqueue;

/* Creates a queue holding at most capacity waiting requests (>= 1); *out
 * caller frees with reqqueue_free. TCW_ERR_NOMEM or TCW_ERR_INTERNAL. */
int reqqueue_new(size_t capacity, struct reqqueue **out);
/* Frees the queue and any request still in it; sets *q to NULL (NULL-safe).
 * No thread may be using it any more. */
void reqqueue_free(struct reqqueue **q);
/* Appends r; ownership passes to the queue on success. Returns 0, or
 * TCW_ERR_BUSY when capacity requests are already waiting (r untouched),
 * or TCW_ERR_INTERNAL after reqqueue_close. */
int reqqueue_push(struct reqqueue *q, struct request *r);
/* Blocks until a request is waiting and returns it (caller owns it and
 * must call reqqueue_done once its reply is sent), or returns NULL once
 * the queue is closed and empty. */
struct request *reqqueue_pop(struct reqqueue *q);
/* Records that a request returned by reqqueue_pop has been answered. */
void reqqueue_done(struct reqqueue *q);
/* Requests in hand: waiting in the queue plus popped and not yet done. */
size_t reqqueue_in_hand(struct reqqueue *q);
/* Stops accepting requests and wakes every waiting thread; reqqueue_pop
 * still hands out what is queued, then returns NULL. */
void reqqueue_close(struct reqqueue *q);

#endif /* TCW_WORKER_REQQUEUE_H */
