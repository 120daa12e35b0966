/* SPDX-License-Identifier: Apache-2.0 */
/* replyq.h - replies from the processing threads to the I/O thread, with an eventfd wake-up. */
#ifndef TCW_WORKER_REPLYQ_H
#define TCW_WORKER_REPLYQ_H

#include "reqqueue.h"

/*
 * An unbounded FIFO of answered requests (struct request with reply and
 * reply_size set, linked through next), lock-free. The I/O thread
 * waits on replyq_fd() together with the ROUTER socket; a push writes the
 * eventfd only while the I/O thread has announced that it is about to wait
 * (replyq_prepare_wait), so a busy I/O thread picks replies up without any
 * system call, and one that sleeps is woken once however many replies
 * arrive. (It replaces an inproc PUSH/PULL pair, whose mailbox signalling
 * and polling cost several system calls per reply: expensive in a library
 * OS such as Gramine, and far more in SGX, where each is an enclave exit.)
 */
struct replyq;

/* Creates an empty queue and its eventfd; *out caller frees with
 * replyq_free. TCW_ERR_NOMEM or TCW_ERR_INTERNAL. */
int replyq_new(struct replyq **out);
/* Frees the queue, every request still in it (and its reply) and the
 * eventfd; sets *q to NULL (NULL-safe). No thread may be using it. */
void replyq_free(struct replyq **q);
/* The file descriptor to poll for POLLIN (borrowed). */
int replyq_fd(const struct replyq *q);
/* Appends r (ownership passes to the queue; r->reply may be NULL for the
 * fixed internal-error reply) and wakes the I/O thread if it waits. */
void replyq_push(struct replyq *q, struct request *r);
/* Called by the I/O thread before it waits on replyq_fd(): returns 1 when
 * replies are already waiting (do not wait), else 0 and later pushes will
 * write the eventfd. */
int replyq_prepare_wait(struct replyq *q);
/* Takes every waiting reply, oldest first, linked through next (caller
 * frees each with request_free after sending), or NULL; ends a wait begun
 * by replyq_prepare_wait. */
struct request *replyq_take(struct replyq *q);
/* Resets the eventfd; the I/O thread calls it whenever poll() reports
 * replyq_fd() readable (a push's write may land after the take that
 * collected its reply: the next poll then wakes once more, harmlessly). */
void replyq_drain(struct replyq *q);

#endif /* TCW_WORKER_REPLYQ_H */
