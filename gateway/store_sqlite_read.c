/* SPDX-License-Identifier: Apache-2.0 */
/* store_sqlite_read.c - the SQLite store's reads, on a pool of reader connections. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_sql.h"
#include "store_sqlite.h"
#include "tcw/tcw.h"

/* ---- reads (any thread, pooled connections) ---- */

static struct conn *reader_take(struct sq *q)
{
	struct conn *c = NULL;

	pthread_mutex_lock(&q->mu);
	if (q->idle_count > 0)
		c = q->idle[--q->idle_count];
	pthread_mutex_unlock(&q->mu);
	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (c && sq_conn_open(q->path, c, 0) != 0) {
		log_error("sqlite: %s: cannot open a reader: %s", q->path,
		          c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sq_conn_close(c);
		free(c);
		c = NULL;
	}
	return c;
}

static void reader_give(struct sq *q, struct conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&q->mu);
	if (q->idle_count < READERS_MAX) {
		q->idle[q->idle_count++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	if (c) {
		sq_conn_close(c);
		free(c);
	}
}

/* Runs a one-row statement with text parameter key on a reader; fill()
 * copies the row. TCW_ERR_INVALID_PARAM when there is no row. */
static int read_row(struct sq *q, enum stmt_id id, const char *key, int64_t num,
                    void (*fill)(sqlite3_stmt *st, void *out), void *out)
{
	struct conn *c = reader_take(q);
	sqlite3_stmt *st = c ? sq_stmt(c, id) : NULL;
	int rc;

	if (!st) {
		reader_give(q, c);
		return TCW_ERR_INTERNAL;
	}
	sq_bind_s(st, 1, key);
	if (num >= 0)
		sqlite3_bind_int64(st, 2, num);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill(st, out);
	else if (rc != SQLITE_DONE)
		log_error("sqlite: %s", sqlite3_errmsg(c->db));
	sqlite3_reset(st);
	reader_give(q, c);
	return rc == SQLITE_ROW ? TCW_OK : rc == SQLITE_DONE ? TCW_ERR_INVALID_PARAM
	                                                     : TCW_ERR_INTERNAL;
}

static void fill_order(sqlite3_stmt *st, void *out)
{
	struct store_order *o = out;

	o->id = sq_col_dup(st, 0);
	o->worker_id = sq_col_dup(st, 1);
	o->requester_id = sq_col_dup(st, 2);
	o->request_hash = sq_col_dup(st, 3);
	o->key_fp = sq_col_dup(st, 4);
	o->state = sqlite3_column_int(st, 5);
	o->result = sq_col_dup(st, 6);
	o->submitted_ms = sqlite3_column_int64(st, 7);
}

int sq_get_order(void *b, const char *id, struct store_order *out)
{
	return read_row(b, S_GET_ORDER, id, -1, fill_order, out);
}

static void fill_worker(sqlite3_stmt *st, void *out)
{
	struct store_worker *w = out;

	w->id = sq_col_dup(st, 0);
	w->name = sq_col_dup(st, 1);
	w->record = sq_col_dup(st, 2);
	w->key_fp = sq_col_dup(st, 3);
	w->owner = sq_col_dup(st, 4);
	w->status = sqlite3_column_int(st, 5);
}

int sq_get_worker(void *b, const char *id, struct store_worker *out)
{
	return read_row(b, S_GET_WORKER, id, -1, fill_worker, out);
}

static void fill_receipt(sqlite3_stmt *st, void *out)
{
	struct store_receipt *r = out;

	r->params = sq_col_dup(st, 0);
	r->verification_key = sq_col_dup(st, 1);
	r->create_status = sqlite3_column_int64(st, 2);
	r->current_status = sqlite3_column_int64(st, 3);
}

int sq_receipt_get(void *b, const char *wo_id, struct store_receipt *out)
{
	return read_row(b, S_GET_RECEIPT, wo_id, -1, fill_receipt, out);
}

static void fill_count(sqlite3_stmt *st, void *out)
{
	*(int64_t *)out = sqlite3_column_int64(st, 0);
}

static void fill_update(sqlite3_stmt *st, void *out)
{
	struct store_update *u = out;

	u->updater_id = sq_col_dup(st, 0);
	u->update_type = sqlite3_column_int64(st, 1);
	u->update_data = sq_col_dup(st, 2);
	u->update_signature = sq_col_dup(st, 3);
	u->signature_rules = sq_col_dup(st, 4);
	u->verification_key = sq_col_dup(st, 5);
}

int sq_update_get(void *b, const char *wo_id, int64_t index, struct store_update *out)
{
	int64_t n = 0;
	int rc = read_row(b, S_UPDATE_COUNT, wo_id, -1, fill_count, &n);

	if (rc != 0)
		return rc;
	index = store_update_index(index, n);
	if (index <= 0)
		return TCW_ERR_INVALID_PARAM;
	rc = read_row(b, S_GET_UPDATE, wo_id, index, fill_update, out);
	out->index = index;
	out->count = n;
	return rc;
}

int sq_count_orders(void *b, int64_t counts[3])
{
	struct sq *q = b;
	struct conn *c = reader_take(q);
	sqlite3_stmt *st = c ? sq_stmt(c, S_COUNT) : NULL;

	counts[0] = counts[1] = counts[2] = 0;
	if (!st) {
		reader_give(q, c);
		return TCW_ERR_INTERNAL;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		int k = sqlite3_column_int(st, 0);

		if (k >= 0 && k < 3)
			counts[k] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	reader_give(q, c);
	return TCW_OK;
}

/* Runs a lookup statement whose first column is an id into out. */
static int lookup(struct sq *q, enum stmt_id id, const struct store_lookup *f,
                  struct store_ids *out)
{
	struct conn *c = reader_take(q);
	sqlite3_stmt *st = c ? sq_stmt(c, id) : NULL;
	int rc;

	if (!st) {
		reader_give(q, c);
		return TCW_ERR_INTERNAL;
	}
	sq_bind_s(st, 1, f->a);
	sq_bind_s(st, 2, f->b);
	sq_bind_s(st, 3, f->c);
	if (id == S_LOOKUP_RECEIPTS)
		sqlite3_bind_int64(st, 4, f->status);
	rc = TCW_OK;
	while (sqlite3_step(st) == SQLITE_ROW)
		if (store_ids_offer(out, (const char *)sqlite3_column_text(st, 0), f) != 0)
			rc = TCW_ERR_NOMEM;
	sqlite3_reset(st);
	reader_give(q, c);
	return rc;
}

int sq_lookup_workers(void *b, const struct store_lookup *f, struct store_ids *out)
{
	return lookup(b, S_LOOKUP_WORKERS, f, out);
}

int sq_lookup_receipts(void *b, const struct store_lookup *f, struct store_ids *out)
{
	return lookup(b, S_LOOKUP_RECEIPTS, f, out);
}

