/* SPDX-License-Identifier: Apache-2.0 */
/* store.c - the store interface: group commit of writes by whichever caller leads the next
 * transaction, reads straight to the back end. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_backend.h"
#include "tcw/tcw.h"

/* Most writes folded into one transaction. */
#define MAX_BATCH 512

const uint64_t store_hist_bounds_us[12] = {100,   250,    500,    1000,   2500,    5000,
                                           10000, 25000, 50000, 100000, 1000000, UINT64_MAX};

struct store {
	const struct store_backend *be;
	void *b;
	int version;
	pthread_mutex_t mu;
	pthread_cond_t batch_done; /* a commit ended: followers look again */
	struct store_op *head, *tail;   /* synchronous writes waiting */
	struct store_op *ahead, *atail; /* asynchronous writes waiting for store_flush */
	int committing;                 /* a thread runs a transaction now */
	store_completion_fn completion;
	store_notify_fn notify;
	void *cb_ctx;
	struct store_stats stats;
};

/* strdup that maps NULL to NULL (see store_backend.h). */
char *store_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Runs ops[0..n) in one transaction; when the transaction fails, each op
 * again in a transaction of its own so one bad write cannot fail others.
 * Called by the leader (s->committing set, s->mu not held). */
static void run_batch(struct store *s, struct store_op **ops, size_t n)
{
	uint64_t t0 = mono_us(), dt;
	size_t i, h;
	int bad = s->be->begin(s->b) != 0;

	for (i = 0; i < n && !bad; i++)
		bad = s->be->apply(s->b, s, ops[i]) != 0;
	if (!bad)
		bad = s->be->commit(s->b) != 0;
	if (bad) {
		s->be->rollback(s->b);
		for (i = 0; i < n && n > 1; i++) {
			if (s->be->begin(s->b) != 0 || s->be->apply(s->b, s, ops[i]) != 0 ||
			    s->be->commit(s->b) != 0) {
				s->be->rollback(s->b);
				ops[i]->rc = TCW_ERR_INTERNAL;
			}
		}
		if (n == 1)
			ops[0]->rc = TCW_ERR_INTERNAL;
	}
	dt = mono_us() - t0;
	pthread_mutex_lock(&s->mu);
	s->stats.commits++;
	s->stats.ops += n;
	s->stats.commit_us_total += dt;
	for (h = 0; h < 11 && dt > store_hist_bounds_us[h]; h++)
		;
	s->stats.commit_hist[h]++;
	pthread_mutex_unlock(&s->mu);
}

/* Moves up to room ops from the front of a queue into v; returns how many. */
static size_t take(struct store_op **head, struct store_op **tail, struct store_op **v,
                   size_t room)
{
	size_t n = 0;

	while (*head && n < room) {
		v[n++] = *head;
		*head = (*head)->next;
	}
	if (!*head)
		*tail = NULL;
	return n;
}

/* Leads one transaction (s->mu held, nobody committing): the waiting
 * synchronous writes and, with async, the asynchronous ones; marks the
 * synchronous ones done. Returns with s->mu held; the asynchronous ops
 * taken are left in av[0..*an) for the caller. */
static void lead(struct store *s, struct store_op **av, size_t *an)
{
	struct store_op *batch[MAX_BATCH];
	size_t n = 0, k = 0;

	s->committing = 1;
	if (av)
		k = n = take(&s->ahead, &s->atail, batch, MAX_BATCH);
	n += take(&s->head, &s->tail, batch + n, MAX_BATCH - n);
	pthread_mutex_unlock(&s->mu);
	if (n)
		run_batch(s, batch, n);
	pthread_mutex_lock(&s->mu);
	/* a synchronous op may be gone once marked done: mark them last */
	for (size_t i = k; i < n; i++)
		batch[i]->done = 1;
	s->committing = 0;
	pthread_cond_broadcast(&s->batch_done);
	if (av) {
		memcpy(av, batch, k * sizeof(*av));
		*an = k;
	}
}

/* Appends op to a queue (s->mu held). */
static void enqueue(struct store_op **head, struct store_op **tail, struct store_op *op)
{
	op->rc = TCW_OK;
	op->next = NULL;
	op->done = 0;
	if (*tail)
		(*tail)->next = op;
	else
		*head = op;
	*tail = op;
}

/* Queues a synchronous op and returns once it is durable: the caller leads
 * the next transaction itself when nobody else is committing, else waits
 * for the running one and then joins or leads the next (group commit
 * without a thread of its own, so no hand-off to one). */
static int exec_op(struct store *s, struct store_op *op)
{
	pthread_mutex_lock(&s->mu);
	enqueue(&s->head, &s->tail, op);
	while (!op->done) {
		if (s->committing)
			pthread_cond_wait(&s->batch_done, &s->mu);
		else
			lead(s, NULL, NULL);
	}
	pthread_mutex_unlock(&s->mu);
	return op->rc;
}

/* Queues an asynchronous op for the next store_flush. */
static void queue_async(struct store *s, struct store_op *op)
{
	pthread_mutex_lock(&s->mu);
	enqueue(&s->ahead, &s->atail, op);
	pthread_mutex_unlock(&s->mu);
}

/* Commits the queued asynchronous writes (see store.h). */
void store_flush(struct store *s)
{
	struct store_op *av[MAX_BATCH];
	size_t an = 0;

	pthread_mutex_lock(&s->mu);
	while (s->ahead) {
		while (s->committing)
			pthread_cond_wait(&s->batch_done, &s->mu);
		lead(s, av, &an);
		pthread_mutex_unlock(&s->mu);
		for (size_t i = 0; i < an; i++) {
			struct store_op *op = av[i];

			if (op->submit_fn)
				op->submit_fn(op->done_ctx, op->rc, op->order);
			else if (op->done_fn)
				op->done_fn(op->done_ctx, op->own_id, op->rc, op->changed, op->state,
				            op->own_text);
			free(op->own_id);
			free(op->own_text);
			free(op);
		}
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
}

/* Non-zero while asynchronous writes wait for store_flush. */
int store_has_queued(struct store *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->ahead != NULL;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Opens the store at url (see store.h). */
int store_open(const char *url, const char *node, struct store **out, char *err, size_t errsize)
{
	struct store *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return TCW_ERR_NOMEM;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->batch_done, NULL);
	if (strncmp(url, "sqlite:", 7) == 0) {
		rc = store_sqlite_open(url + 7, node, &s->be, &s->b, &s->version, err, errsize);
	} else if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
		rc = store_pg_open(url, node, s, &s->be, &s->b, &s->version, err, errsize);
	} else {
		snprintf(err, errsize, "--db %s: expected sqlite:PATH or postgresql://...", url);
		rc = TCW_ERR_INVALID_PARAM;
	}
	if (rc != 0) {
		if (s->be)
			s->be->close(s->b);
		pthread_cond_destroy(&s->batch_done);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Installs the completion and notify callbacks (see store.h). */
void store_set_callbacks(struct store *s, store_completion_fn completion, store_notify_fn notify,
                         void *ctx)
{
	pthread_mutex_lock(&s->mu);
	s->completion = completion;
	s->notify = notify;
	s->cb_ctx = ctx;
	pthread_mutex_unlock(&s->mu);
}

/* Builds a completion update through the callback (see store_backend.h). */
int store_make_completion(struct store *s, const char *wo_id, int state, const char *result,
                          struct store_update *u)
{
	memset(u, 0, sizeof(*u));
	if (!s->completion)
		return -1;
	return s->completion(s->cb_ctx, wo_id, state, result, u);
}

/* Forwards a notification (see store_backend.h). */
void store_notify(struct store *s, char kind, const char *payload)
{
	if (s->notify)
		s->notify(s->cb_ctx, kind, payload);
}

/* Commits what is queued, closes the store (see store.h). */
void store_close(struct store **sp)
{
	struct store *s = sp ? *sp : NULL;

	if (!s)
		return;
	store_flush(s);
	s->be->close(s->b);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->batch_done);
	free(s);
	*sp = NULL;
}

const char *store_kind(const struct store *s)
{
	return s->be->kind;
}

int store_schema_version(const struct store *s)
{
	return s->version;
}

/* Copies the commit statistics (see store.h). */
void store_get_stats(struct store *s, struct store_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->stats;
	pthread_mutex_unlock(&s->mu);
}

int store_submit(struct store *s, const struct store_new_order *o)
{
	struct store_op op = {.kind = OP_SUBMIT, .order = o};

	return exec_op(s, &op);
}

/* An asynchronous submission: the op and its copy of the order, one block. */
struct submit_op {
	struct store_op op;
	struct store_new_order o;
	char text[];
};

/* Copies s (NULL stays NULL) to *at and advances it. */
static const char *put_str(char **at, const char *s, size_t n)
{
	char *d = *at;

	if (!s)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	*at += n + 1;
	return d;
}

int store_submit_async(struct store *s, const struct store_new_order *o, store_submit_fn done,
                       void *ctx)
{
	const char *f[7] = {o->id, o->worker_id, o->requester_id, o->request_hash, o->request,
	                    o->key_fp, o->claim_by};
	size_t n[7], total = 0;
	struct submit_op *so;
	char *at;

	for (int i = 0; i < 7; i++) {
		n[i] = f[i] ? (i == 4 ? o->request_len : strlen(f[i])) : 0;
		total += n[i] + 1;
	}
	so = malloc(sizeof(*so) + total);
	if (!so)
		return TCW_ERR_NOMEM;
	memset(so, 0, sizeof(*so));
	so->o = *o;
	at = so->text;
	so->o.id = put_str(&at, f[0], n[0]);
	so->o.worker_id = put_str(&at, f[1], n[1]);
	so->o.requester_id = put_str(&at, f[2], n[2]);
	so->o.request_hash = put_str(&at, f[3], n[3]);
	so->o.request = put_str(&at, f[4], n[4]);
	so->o.key_fp = put_str(&at, f[5], n[5]);
	so->o.claim_by = put_str(&at, f[6], n[6]);
	so->op.kind = OP_SUBMIT;
	so->op.order = &so->o;
	so->op.submit_fn = done;
	so->op.done_ctx = ctx;
	queue_async(s, &so->op);
	return TCW_OK;
}

int store_finish(struct store *s, const char *id, int state, const char *result, int *changed)
{
	struct store_op op = {.kind = OP_FINISH, .id = id, .state = state, .text = result};
	int rc = exec_op(s, &op);

	if (changed)
		*changed = op.changed;
	return rc;
}

int store_finish_async(struct store *s, char *id, int state, char *result, store_done_fn done,
                       void *ctx)
{
	struct store_op *op = calloc(1, sizeof(*op));

	if (!op) {
		free(id);
		free(result);
		return TCW_ERR_NOMEM;
	}
	op->kind = OP_FINISH;
	op->own_id = id;
	op->own_text = result;
	op->id = id;
	op->text = result;
	op->state = state;
	op->done_fn = done;
	op->done_ctx = ctx;
	queue_async(s, op);
	return TCW_OK;
}

int store_claim(struct store *s, const char *worker_id, size_t max, int64_t now_ms,
                int64_t lease_until_ms, struct store_order **out, size_t *count)
{
	struct store_op op = {.kind = OP_CLAIM, .worker_id = worker_id, .max = max,
	                      .now_ms = now_ms, .until_ms = lease_until_ms};
	int rc = exec_op(s, &op);

	*out = op.claimed;
	*count = op.claimed_count;
	return rc;
}

int store_renew(struct store *s, const char *worker_id, int64_t lease_until_ms)
{
	struct store_op op = {.kind = OP_RENEW, .worker_id = worker_id, .until_ms = lease_until_ms};

	return exec_op(s, &op);
}

int store_release(struct store *s, const char *id)
{
	struct store_op op = {.kind = OP_RELEASE, .id = id};

	return exec_op(s, &op);
}

int store_release_all(struct store *s, const char *worker_id)
{
	struct store_op op = {.kind = OP_RELEASE_ALL, .worker_id = worker_id};

	return exec_op(s, &op);
}

int store_put_worker(struct store *s, const struct store_worker *w)
{
	struct store_op op = {.kind = OP_PUT_WORKER, .worker = w};

	return exec_op(s, &op);
}

int store_receipt_create(struct store *s, const char *wo_id, const char *params,
                         const char *verification_key, int64_t create_status,
                         const char *worker_service_id, const char *worker_id,
                         const char *requester_id)
{
	struct store_op op = {.kind = OP_RECEIPT_CREATE, .id = wo_id, .text = params,
	                      .key = verification_key, .num = create_status,
	                      .a = worker_service_id, .b = worker_id, .c = requester_id};

	return exec_op(s, &op);
}

int store_receipt_update(struct store *s, const char *wo_id, const struct store_update *u)
{
	struct store_op op = {.kind = OP_RECEIPT_UPDATE, .id = wo_id, .update = u};

	return exec_op(s, &op);
}

int store_get_order(struct store *s, const char *id, struct store_order *out)
{
	memset(out, 0, sizeof(*out));
	return s->be->get_order(s->b, id, out);
}

int store_count_orders(struct store *s, int64_t counts[3])
{
	return s->be->count_orders(s->b, counts);
}

int store_get_worker(struct store *s, const char *id, struct store_worker *out)
{
	memset(out, 0, sizeof(*out));
	return s->be->get_worker(s->b, id, out);
}

int store_lookup_workers(struct store *s, const struct store_lookup *f, struct store_ids *out)
{
	memset(out, 0, sizeof(*out));
	return s->be->lookup_workers(s->b, f, out);
}

int store_receipt_get(struct store *s, const char *wo_id, struct store_receipt *out)
{
	memset(out, 0, sizeof(*out));
	return s->be->receipt_get(s->b, wo_id, out);
}

int store_receipt_update_get(struct store *s, const char *wo_id, int64_t index,
                             struct store_update *out)
{
	memset(out, 0, sizeof(*out));
	return s->be->update_get(s->b, wo_id, index, out);
}

int store_lookup_receipts(struct store *s, const struct store_lookup *f, struct store_ids *out)
{
	memset(out, 0, sizeof(*out));
	return s->be->lookup_receipts(s->b, f, out);
}

void store_order_fini(struct store_order *o)
{
	free(o->id);
	free(o->worker_id);
	free(o->requester_id);
	free(o->request_hash);
	free(o->request);
	free(o->key_fp);
	free(o->result);
	memset(o, 0, sizeof(*o));
}

void store_orders_free(struct store_order *v, size_t count)
{
	for (size_t i = 0; i < count; i++)
		store_order_fini(&v[i]);
	free(v);
}

void store_worker_fini(struct store_worker *w)
{
	free(w->id);
	free(w->name);
	free(w->record);
	free(w->key_fp);
	free(w->owner);
	memset(w, 0, sizeof(*w));
}

void store_ids_fini(struct store_ids *ids)
{
	for (size_t i = 0; i < ids->count; i++)
		free(ids->ids[i]);
	free(ids->ids);
	memset(ids, 0, sizeof(*ids));
}

void store_receipt_fini(struct store_receipt *r)
{
	free(r->params);
	free(r->verification_key);
	memset(r, 0, sizeof(*r));
}

void store_update_fini(struct store_update *u)
{
	free(u->updater_id);
	free(u->update_data);
	free(u->update_signature);
	free(u->signature_rules);
	free(u->verification_key);
	memset(u, 0, sizeof(*u));
}
