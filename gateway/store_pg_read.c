/* SPDX-License-Identifier: Apache-2.0 */
/* store_pg_read.c - the PostgreSQL store's reads, on a pool of reader connections. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_pg.h"
#include "store_sql.h"
#include "tcw/tcw.h"

static struct pconn *reader_take(struct pg *p)
{
	struct pconn *c = NULL;
	char err[512];

	pthread_mutex_lock(&p->mu);
	if (p->idle_count > 0)
		c = p->idle[--p->idle_count];
	pthread_mutex_unlock(&p->mu);
	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (c && pg_connect(p->url, c, err, sizeof(err)) != 0) {
		log_error("%s", err);
		free(c);
		c = NULL;
	}
	return c;
}

/* Returns a reader to the pool (a broken one is closed). */
static void reader_give(struct pg *p, struct pconn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&p->mu);
	if (PQstatus(c->c) == CONNECTION_OK && p->idle_count < PG_READERS_MAX) {
		p->idle[p->idle_count++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	if (c) {
		pg_close(c);
		free(c);
	}
}

/* Runs a read statement on a pooled reader; the result or NULL. */
static PGresult *read_run(struct pg *p, enum pg_stmt id, int n, const char *const *v)
{
	struct pconn *c = reader_take(p);
	PGresult *r = c ? pg_run(c, id, n, v) : NULL;

	reader_give(p, c);
	return r;
}

/* One-row read: TCW_ERR_INVALID_PARAM when there is no row. */
static int one_row(PGresult *r)
{
	if (!r)
		return TCW_ERR_INTERNAL;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return TCW_ERR_INVALID_PARAM;
	}
	return 0;
}

int pg_get_order(void *b, const char *id, struct store_order *o)
{
	PGresult *r = read_run(b, P_GET_ORDER, 1, (const char *[]){id});
	int rc = one_row(r);

	if (rc)
		return rc;
	o->id = pg_dup(r, 0, 0);
	o->worker_id = pg_dup(r, 0, 1);
	o->requester_id = pg_dup(r, 0, 2);
	o->request_hash = pg_dup(r, 0, 3);
	o->key_fp = pg_dup(r, 0, 4);
	o->state = (int)strtol(PQgetvalue(r, 0, 5), NULL, 10);
	o->result = pg_dup(r, 0, 6);
	o->submitted_ms = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
	PQclear(r);
	return 0;
}

int pg_count_orders(void *b, int64_t counts[3])
{
	PGresult *r = read_run(b, P_COUNT, 0, NULL);

	counts[0] = counts[1] = counts[2] = 0;
	if (!r)
		return TCW_ERR_INTERNAL;
	for (int i = 0; i < PQntuples(r); i++) {
		long k = strtol(PQgetvalue(r, i, 0), NULL, 10);

		if (k >= 0 && k < 3)
			counts[k] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
	}
	PQclear(r);
	return 0;
}

int pg_get_worker(void *b, const char *id, struct store_worker *w)
{
	PGresult *r = read_run(b, P_GET_WORKER, 1, (const char *[]){id});
	int rc = one_row(r);

	if (rc)
		return rc;
	w->id = pg_dup(r, 0, 0);
	w->name = pg_dup(r, 0, 1);
	w->record = pg_dup(r, 0, 2);
	w->key_fp = pg_dup(r, 0, 3);
	w->owner = pg_dup(r, 0, 4);
	w->status = (int)strtol(PQgetvalue(r, 0, 5), NULL, 10);
	PQclear(r);
	return 0;
}

int pg_receipt_get(void *b, const char *wo_id, struct store_receipt *out)
{
	PGresult *r = read_run(b, P_GET_RECEIPT, 1, (const char *[]){wo_id});
	int rc = one_row(r);

	if (rc)
		return rc;
	out->params = pg_dup(r, 0, 0);
	out->verification_key = pg_dup(r, 0, 1);
	out->create_status = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	out->current_status = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
	PQclear(r);
	return 0;
}

int pg_update_get(void *b, const char *wo_id, int64_t index, struct store_update *u)
{
	PGresult *r = read_run(b, P_UPDATE_COUNT, 1, (const char *[]){wo_id});
	char idx[32];
	int64_t n;
	int rc;

	if (!r)
		return TCW_ERR_INTERNAL;
	n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	index = store_update_index(index, n);
	if (index <= 0)
		return TCW_ERR_INVALID_PARAM;
	snprintf(idx, sizeof(idx), "%" PRId64, index);
	r = read_run(b, P_GET_UPDATE, 2, (const char *[]){wo_id, idx});
	rc = one_row(r);
	if (rc)
		return rc;
	u->updater_id = pg_dup(r, 0, 0);
	u->update_type = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	u->update_data = pg_dup(r, 0, 2);
	u->update_signature = pg_dup(r, 0, 3);
	u->signature_rules = pg_dup(r, 0, 4);
	u->verification_key = pg_dup(r, 0, 5);
	u->index = index;
	u->count = n;
	PQclear(r);
	return 0;
}

/* Collects the ids of a lookup statement. */
static int lookup(struct pg *p, enum pg_stmt id, int n, const char *const *v,
                  const struct store_lookup *f, struct store_ids *out)
{
	PGresult *r = read_run(p, id, n, v);
	int rc = 0;

	if (!r)
		return TCW_ERR_INTERNAL;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++)
		rc = store_ids_offer(out, PQgetvalue(r, i, 0), f);
	PQclear(r);
	return rc;
}

int pg_lookup_workers(void *b, const struct store_lookup *f, struct store_ids *out)
{
	return lookup(b, P_LOOKUP_WORKERS, 3, (const char *[]){f->a, f->b, f->c}, f, out);
}

int pg_lookup_receipts(void *b, const struct store_lookup *f, struct store_ids *out)
{
	char st[32];

	snprintf(st, sizeof(st), "%" PRId64, f->status);
	return lookup(b, P_LOOKUP_RECEIPTS, 4, (const char *[]){f->a, f->b, f->c, st}, f, out);
}
