/* SPDX-License-Identifier: Apache-2.0 */
/* shreply.h - a reply text shared by the sender and the response store (reference counted). */
#ifndef TCW_WORKER_SHREPLY_H
#define TCW_WORKER_SHREPLY_H

#include <stdatomic.h>
#include <stddef.h>

/*
 * One reply text (malloc'ed) with a count of its holders: the message
 * ZeroMQ sends it from and the response store entry that keeps it for an
 * exact resubmission. The last holder frees it, so a reply kept by the
 * store is never copied (1.4 MB for a 1 MiB order).
 */
struct shreply {
	atomic_uint refs;
	size_t size;
	char *data;
};

/* A holder of data[0..size) with one reference; data is borrowed until
 * shreply_own. NULL when out of memory. */
struct shreply *shreply_wrap(char *data, size_t size);
/* A holder of a copy of data[0..size) (NUL added), owning it, one
 * reference; NULL when out of memory. */
struct shreply *shreply_copy(const char *data, size_t size);
/* Frees a holder made by shreply_wrap that was never shared, leaving its
 * (borrowed) data to the caller. */
void shreply_unwrap(struct shreply *r);
/* Adds a reference; returns r. */
struct shreply *shreply_ref(struct shreply *r);
/* Drops a reference; the last one frees the data and r (NULL-safe). */
void shreply_release(struct shreply *r);
/* ZeroMQ's free function for a message sent from r->data (hint = r). */
void shreply_zmq_free(void *data, void *hint);

/* The handover between the response store hook and the processing thread
 * that called tcw_process_frame (thread-local): the hook that kept the
 * very reply tcw_process_frame returns parks one reference here (pending,
 * which takes it); the thread takes it with shreply_take_pending(reply)
 * and sends from it. Returns NULL when reply was not kept. */
void shreply_set_pending(struct shreply *r);
struct shreply *shreply_take_pending(const char *reply);

#endif /* TCW_WORKER_SHREPLY_H */
