/* SPDX-License-Identifier: Apache-2.0 */
/* shreply.c - reply texts shared by the sender and the response store (reference counted). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "shreply.h"

/* The reference the store hook parked for this thread's current reply. */
static _Thread_local struct shreply *t_pending;

/* A holder of borrowed data; see shreply.h. */
struct shreply *shreply_wrap(char *data, size_t size)
{
	struct shreply *r = malloc(sizeof(*r));

	if (r == NULL)
		return NULL;
	atomic_init(&r->refs, 1);
	r->size = size;
	r->data = data;
	return r;
}

/* A holder of a copy; see shreply.h. */
struct shreply *shreply_copy(const char *data, size_t size)
{
	char *copy = malloc(size + 1);
	struct shreply *r;

	if (copy == NULL)
		return NULL;
	memcpy(copy, data, size);
	copy[size] = '\0';
	r = shreply_wrap(copy, size);
	if (r == NULL)
		free(copy);
	return r;
}

/* Frees an unshared holder, not its data; see shreply.h. */
void shreply_unwrap(struct shreply *r)
{
	free(r);
}

/* Adds a reference; see shreply.h. */
struct shreply *shreply_ref(struct shreply *r)
{
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	return r;
}

/* Drops a reference; see shreply.h. */
void shreply_release(struct shreply *r)
{
	if (r == NULL || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(r->data);
	free(r);
}

/* ZeroMQ's free function; see shreply.h. */
void shreply_zmq_free(void *data, void *hint)
{
	(void)data;
	shreply_release(hint);
}

/* Parks r for the current reply of this thread; see shreply.h. */
void shreply_set_pending(struct shreply *r)
{
	if (t_pending != NULL) {
		/* a reply kept earlier that no caller took: never happens when
		 * the hook is only called from tcw_process_frame */
		log_error("internal: a kept reply was not collected");
		shreply_release(t_pending);
	}
	t_pending = r;
}

/* Takes the parked reference of reply; see shreply.h. */
struct shreply *shreply_take_pending(const char *reply)
{
	struct shreply *r = t_pending;

	t_pending = NULL;
	if (r != NULL && r->data != reply) {
		log_error("internal: the kept reply is not the one sent");
		shreply_release(r);
		return NULL;
	}
	return r;
}
