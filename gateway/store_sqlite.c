/* SPDX-License-Identifier: Apache-2.0 */
/* store_sqlite.c - the SQLite store: WAL, synchronous=FULL, versioned schema, pooled readers. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store_sql.h"
#include "store_sqlite.h"
#include "tcw/tcw.h"

static const char *const g_sql[S_COUNT_STMTS] = {
    [S_SUBMIT] = "INSERT INTO orders(id, worker_id, requester_id, request_hash, request, key_fp,"
                 " state, claimed_by, lease_until, submitted_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                 " 0, ?7, ?8, ?9) ON CONFLICT(id) DO NOTHING",
    [S_FINISH] = "INSERT INTO results(rid, result) SELECT rowid, ?2 FROM orders"
                 " WHERE id = ?1 AND state = 0",
    [S_FINISH_STATE] = "UPDATE orders SET state = ?2, claimed_by = NULL, finished_ms = ?3"
                       " WHERE rowid = ?1",
    [S_HAS_RECEIPT] = "SELECT 1 FROM receipts WHERE wo_id = ?1",
    [S_UPDATE_COUNT] = "SELECT count(*) FROM receipt_updates WHERE wo_id = ?1",
    [S_ADD_UPDATE] = "INSERT INTO receipt_updates(wo_id, idx, updater_id, update_type,"
                     " update_data, update_signature, signature_rules, verification_key)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_SET_STATUS] = "UPDATE receipts SET current_status = ?2 WHERE wo_id = ?1",
    [S_CLAIM] = "UPDATE orders SET claimed_by = ?2, lease_until = ?3 WHERE rowid IN (SELECT rowid"
                " FROM orders WHERE worker_id = ?1 AND state = 0 AND (claimed_by IS NULL OR"
                " lease_until < ?4) ORDER BY rowid LIMIT ?5)"
                " RETURNING id, request, key_fp, submitted_ms",
    [S_RENEW] = "UPDATE orders SET lease_until = ?3 WHERE worker_id = ?1 AND state = 0"
                " AND claimed_by = ?2",
    [S_RELEASE] = "UPDATE orders SET claimed_by = NULL, lease_until = 0 WHERE id = ?1"
                  " AND claimed_by = ?2 AND state = 0",
    [S_RELEASE_ALL] = "UPDATE orders SET claimed_by = NULL, lease_until = 0 WHERE"
                      " worker_id = ?1 AND claimed_by = ?2 AND state = 0",
    [S_PUT_WORKER] = "INSERT OR REPLACE INTO workers(id, name, record, key_fp, owner, status,"
                     " worker_type, organization_id, app_type_ids) VALUES (?1, ?2, ?3, ?4, ?5,"
                     " ?6, ?7, ?8, ?9)",
    [S_ORDER_STATE] = "SELECT o.state, r.result FROM orders o LEFT JOIN results r"
                      " ON r.rid = o.rowid WHERE o.id = ?1",
    [S_ADD_RECEIPT] = "INSERT INTO receipts(wo_id, params, verification_key, create_status,"
                      " current_status, worker_service_id, worker_id, requester_id) VALUES"
                      " (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7) ON CONFLICT(wo_id) DO NOTHING",
    [S_RECEIPT_STATUS] = "SELECT current_status FROM receipts WHERE wo_id = ?1",
    [S_GET_ORDER] = "SELECT o.id, o.worker_id, o.requester_id, o.request_hash, o.key_fp,"
                    " o.state, r.result, o.submitted_ms FROM orders o LEFT JOIN results r"
                    " ON r.rid = o.rowid WHERE o.id = ?1",
    [S_COUNT] = "SELECT state, count(*) FROM orders GROUP BY state",
    [S_GET_WORKER] = "SELECT id, name, record, key_fp, owner, status FROM workers WHERE id = ?1",
    [S_LOOKUP_WORKERS] = "SELECT id FROM workers WHERE (?1 IS NULL OR worker_type = ?1) AND"
                         " (?2 IS NULL OR organization_id = ?2) AND (?3 IS NULL OR"
                         " instr(app_type_ids, ' ' || ?3 || ' ') > 0) ORDER BY id",
    [S_GET_RECEIPT] = "SELECT params, verification_key, create_status, current_status FROM"
                      " receipts WHERE wo_id = ?1",
    [S_GET_UPDATE] = "SELECT updater_id, update_type, update_data, update_signature,"
                     " signature_rules, verification_key FROM receipt_updates WHERE"
                     " wo_id = ?1 AND idx = ?2",
    [S_LOOKUP_RECEIPTS] = "SELECT wo_id FROM receipts WHERE (?1 IS NULL OR worker_service_id"
                          " = ?1) AND (?2 IS NULL OR worker_id = ?2) AND (?3 IS NULL OR"
                          " requester_id = ?3) AND (?4 < 0 OR current_status = ?4) ORDER BY"
                          " wo_id",
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
};

/* The prepared statement id of c, reset and unbound. */
sqlite3_stmt *sq_stmt(struct conn *c, enum stmt_id id)
{
	if (!c->st[id] &&
	    sqlite3_prepare_v3(c->db, g_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL) !=
	        SQLITE_OK) {
		log_error("sqlite: cannot prepare a statement: %s", sqlite3_errmsg(c->db));
		return NULL;
	}
	sqlite3_reset(c->st[id]);
	sqlite3_clear_bindings(c->st[id]);
	return c->st[id];
}

void sq_bind_s(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

char *sq_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

/* Runs a statement that returns no rows; -1 on error (logged). */
static int step_done(struct conn *c, sqlite3_stmt *st)
{
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

	if (rc != SQLITE_DONE) {
		log_error("sqlite: %s", sqlite3_errmsg(c->db));
		return -1;
	}
	return 0;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("sqlite: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

void sq_conn_close(struct conn *c)
{
	for (int i = 0; i < S_COUNT_STMTS; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	memset(c, 0, sizeof(*c));
}

/* Opens a connection with the durability settings. */
int sq_conn_open(const char *path, struct conn *c, int create)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);

	memset(c, 0, sizeof(*c));
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(c->db, 10000);
	return exec_sql(c->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	                       " PRAGMA mmap_size = 268435456;");
}

/* ---- migrations ---- */

/* Applies the migrations above the file's version in one transaction. */
static int migrate(struct sq *q, int *version, char *err, size_t errsize)
{
	sqlite3_stmt *st = NULL;
	int have = 0, i;

	if (exec_sql(q->writer.db, "BEGIN IMMEDIATE") < 0 ||
	    exec_sql(q->writer.db, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER"
	                           " NOT NULL)") < 0)
		goto fail;
	if (sqlite3_prepare_v2(q->writer.db, "SELECT max(version) FROM schema_version", -1, &st,
	                       NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (have > STORE_SCHEMA_VERSION) {
		exec_sql(q->writer.db, "ROLLBACK");
		snprintf(err, errsize,
		         "%s: schema version %d is newer than this tcgateway (%d); refusing to use it",
		         q->path, have, STORE_SCHEMA_VERSION);
		return TCW_ERR_INVALID_PARAM;
	}
	for (i = have; i < STORE_SCHEMA_VERSION; i++) {
		char ver[64];

		if (exec_sql(q->writer.db, store_sql_migrations_sqlite[i]) < 0)
			goto fail;
		snprintf(ver, sizeof(ver), "INSERT INTO schema_version VALUES (%d)", i + 1);
		if (exec_sql(q->writer.db, ver) < 0)
			goto fail;
		log_info("store %s: schema migrated to version %d", q->path, i + 1);
	}
	if (exec_sql(q->writer.db, "COMMIT") < 0)
		goto fail;
	*version = STORE_SCHEMA_VERSION;
	return 0;
fail:
	exec_sql(q->writer.db, "ROLLBACK");
	snprintf(err, errsize, "%s: cannot set up the schema: %s", q->path,
	         sqlite3_errmsg(q->writer.db));
	return TCW_ERR_INVALID_PARAM;
}

/* ---- transactions and writes (the thread leading the transaction) ---- */

/* The transaction statements are prepared once, like the others: parsing
 * "BEGIN IMMEDIATE" and "COMMIT" at every group commit showed in profiles. */
static int sq_begin(void *b)
{
	struct conn *c = &((struct sq *)b)->writer;

	return step_done(c, sq_stmt(c, S_BEGIN));
}

static int sq_commit(void *b)
{
	struct conn *c = &((struct sq *)b)->writer;
	int rc = step_done(c, sq_stmt(c, S_COMMIT));

	sqlite3_reset(c->st[S_COMMIT]);
	return rc;
}

static void sq_rollback(void *b)
{
	struct conn *c = &((struct sq *)b)->writer;

	if (!sqlite3_get_autocommit(c->db))
		step_done(c, sq_stmt(c, S_ROLLBACK));
}

/* Appends update u as number index of receipt id and makes its type the
 * receipt's current status (types up to 255); -1 on error (logged). */
static int append_update(struct sq *q, const char *id, int64_t index, const struct store_update *u)
{
	struct conn *c = &q->writer;
	sqlite3_stmt *st = sq_stmt(c, S_ADD_UPDATE);

	if (!st)
		return -1;
	sq_bind_s(st, 1, id);
	sqlite3_bind_int64(st, 2, index);
	sq_bind_s(st, 3, u->updater_id);
	sqlite3_bind_int64(st, 4, u->update_type);
	sq_bind_s(st, 5, u->update_data);
	sq_bind_s(st, 6, u->update_signature);
	sq_bind_s(st, 7, u->signature_rules);
	sq_bind_s(st, 8, u->verification_key);
	if (step_done(c, st) < 0)
		return -1;
	if (u->update_type > STORE_RECEIPT_STATUS_MAX)
		return 0;
	if (!(st = sq_stmt(c, S_SET_STATUS)))
		return -1;
	sq_bind_s(st, 1, id);
	sqlite3_bind_int64(st, 2, u->update_type);
	return step_done(c, st);
}

/* Appends the completion update of a final order to its receipt. */
static int add_completion(struct sq *q, struct store *s, const char *id, int state,
                          const char *result)
{
	struct conn *c = &q->writer;
	struct store_update u;
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc = -1;

	if (store_make_completion(s, id, state, result, &u) != 0)
		return 0;
	st = sq_stmt(c, S_UPDATE_COUNT);
	if (!st)
		goto out;
	sq_bind_s(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	rc = append_update(q, id, n + 1, &u);
out:
	store_update_fini(&u);
	return rc;
}

static int op_submit(struct sq *q, struct store_op *op)
{
	const struct store_new_order *o = op->order;
	sqlite3_stmt *st = sq_stmt(&q->writer, S_SUBMIT);

	if (!st)
		return -1;
	sq_bind_s(st, 1, o->id);
	sq_bind_s(st, 2, o->worker_id);
	sq_bind_s(st, 3, o->requester_id);
	sq_bind_s(st, 4, o->request_hash);
	sqlite3_bind_text(st, 5, o->request, (int)o->request_len, SQLITE_STATIC);
	sq_bind_s(st, 6, o->key_fp);
	sq_bind_s(st, 7, o->claim_by);
	sqlite3_bind_int64(st, 8, o->lease_until_ms);
	sqlite3_bind_int64(st, 9, o->now_ms);
	if (step_done(&q->writer, st) < 0)
		return -1;
	op->rc = sqlite3_changes(q->writer.db) ? TCW_OK : TCW_ERR_DUPLICATE;
	return 0;
}

static int op_finish(struct sq *q, struct store *s, struct store_op *op)
{
	sqlite3_stmt *st = sq_stmt(&q->writer, S_FINISH);

	if (!st)
		return -1;
	/* the result row goes in only while the order is queued: the first wins */
	sq_bind_s(st, 1, op->id);
	sq_bind_s(st, 2, op->text);
	if (step_done(&q->writer, st) < 0)
		return -1;
	op->changed = sqlite3_changes(q->writer.db) > 0;
	if (!op->changed)
		return 0;
	st = sq_stmt(&q->writer, S_FINISH_STATE);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(q->writer.db));
	sqlite3_bind_int(st, 2, op->state);
	sqlite3_bind_int64(st, 3, store_now_ms());
	if (step_done(&q->writer, st) < 0)
		return -1;
	st = sq_stmt(&q->writer, S_HAS_RECEIPT);
	if (!st)
		return -1;
	sq_bind_s(st, 1, op->id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return 0;
	return add_completion(q, s, op->id, op->state, op->text);
}

static int op_claim(struct sq *q, struct store_op *op)
{
	sqlite3_stmt *st = sq_stmt(&q->writer, S_CLAIM);
	size_t cap = 0;
	int rc;

	if (!st)
		return -1;
	sq_bind_s(st, 1, op->worker_id);
	sq_bind_s(st, 2, q->node);
	sqlite3_bind_int64(st, 3, op->until_ms);
	sqlite3_bind_int64(st, 4, op->now_ms);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)op->max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_order *o;

		if (op->claimed_count == cap) {
			struct store_order *v;

			cap = cap ? 2 * cap : 16;
			v = realloc(op->claimed, cap * sizeof(*v));
			if (!v)
				return -1;
			op->claimed = v;
		}
		o = &op->claimed[op->claimed_count++];
		memset(o, 0, sizeof(*o));
		o->id = sq_col_dup(st, 0);
		o->request = sq_col_dup(st, 1);
		o->key_fp = sq_col_dup(st, 2);
		o->submitted_ms = sqlite3_column_int64(st, 3);
		o->worker_id = strdup(op->worker_id);
	}
	if (rc != SQLITE_DONE) {
		log_error("sqlite: claim: %s", sqlite3_errmsg(q->writer.db));
		return -1;
	}
	return 0;
}

static int op_simple(struct sq *q, struct store_op *op)
{
	sqlite3_stmt *st = sq_stmt(&q->writer, op->kind == OP_RENEW     ? S_RENEW
	                                       : op->kind == OP_RELEASE ? S_RELEASE
	                                                                : S_RELEASE_ALL);

	if (!st)
		return -1;
	sq_bind_s(st, 1, op->kind == OP_RELEASE ? op->id : op->worker_id);
	sq_bind_s(st, 2, q->node);
	sqlite3_bind_int64(st, 3, op->until_ms);
	return step_done(&q->writer, st);
}

static int op_put_worker(struct sq *q, struct store_op *op)
{
	const struct store_worker *w = op->worker;
	sqlite3_stmt *st = sq_stmt(&q->writer, S_PUT_WORKER);
	struct store_worker_keys k;

	if (!st || store_worker_keys(w->record, &k) != 0)
		return -1;
	sq_bind_s(st, 1, w->id);
	sq_bind_s(st, 2, w->name);
	sq_bind_s(st, 3, w->record);
	sq_bind_s(st, 4, w->key_fp ? w->key_fp : "");
	sq_bind_s(st, 5, w->owner);
	sqlite3_bind_int(st, 6, w->status);
	sq_bind_s(st, 7, k.worker_type);
	sq_bind_s(st, 8, k.organization_id);
	sq_bind_s(st, 9, k.app_type_ids);
	return step_done(&q->writer, st);
}

static int op_receipt_create(struct sq *q, struct store *s, struct store_op *op)
{
	sqlite3_stmt *st = sq_stmt(&q->writer, S_ORDER_STATE);
	char *result = NULL;
	int state, rc;

	if (!st)
		return -1;
	sq_bind_s(st, 1, op->id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		op->rc = TCW_ERR_INVALID_PARAM;
		return 0;
	}
	state = sqlite3_column_int(st, 0);
	result = sq_col_dup(st, 1);
	st = sq_stmt(&q->writer, S_ADD_RECEIPT);
	rc = -1;
	if (!st)
		goto out;
	sq_bind_s(st, 1, op->id);
	sq_bind_s(st, 2, op->text);
	sq_bind_s(st, 3, op->key);
	sqlite3_bind_int64(st, 4, op->num);
	sq_bind_s(st, 5, op->a);
	sq_bind_s(st, 6, op->b);
	sq_bind_s(st, 7, op->c);
	if (step_done(&q->writer, st) < 0)
		goto out;
	rc = 0;
	if (!sqlite3_changes(q->writer.db))
		op->rc = TCW_ERR_DUPLICATE;
	else if (state != ORDER_QUEUED)
		rc = add_completion(q, s, op->id, state, result);
out:
	free(result);
	return rc;
}

static int op_receipt_update(struct sq *q, struct store_op *op)
{
	const struct store_update *u = op->update;
	sqlite3_stmt *st = sq_stmt(&q->writer, S_RECEIPT_STATUS);
	int64_t n = 0, current;

	if (!st)
		return -1;
	sq_bind_s(st, 1, op->id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		op->rc = TCW_ERR_INVALID_PARAM;
		return 0;
	}
	current = sqlite3_column_int64(st, 0);
	st = sq_stmt(&q->writer, S_UPDATE_COUNT);
	if (!st)
		return -1;
	sq_bind_s(st, 1, op->id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	if (n > 0 && current == STORE_RECEIPT_COMPLETED && u->update_type <= STORE_RECEIPT_STATUS_MAX) {
		op->rc = TCW_ERR_DUPLICATE;
		return 0;
	}
	return append_update(q, op->id, n + 1, u);
}

static int sq_apply(void *b, struct store *s, struct store_op *op)
{
	struct sq *q = b;

	switch (op->kind) {
	case OP_SUBMIT:
		return op_submit(q, op);
	case OP_FINISH:
		return op_finish(q, s, op);
	case OP_CLAIM:
		return op_claim(q, op);
	case OP_RENEW:
	case OP_RELEASE:
	case OP_RELEASE_ALL:
		return op_simple(q, op);
	case OP_PUT_WORKER:
		return op_put_worker(q, op);
	case OP_RECEIPT_CREATE:
		return op_receipt_create(q, s, op);
	case OP_RECEIPT_UPDATE:
		return op_receipt_update(q, op);
	}
	return -1;
}

static void sq_close(void *b)
{
	struct sq *q = b;

	if (!q)
		return;
	for (size_t i = 0; i < q->idle_count; i++) {
		sq_conn_close(q->idle[i]);
		free(q->idle[i]);
	}
	sq_conn_close(&q->writer);
	if (q->lock_fd >= 0)
		close(q->lock_fd);
	pthread_mutex_destroy(&q->mu);
	free(q->path);
	free(q);
}

static const struct store_backend g_sqlite = {
    .kind = "sqlite",
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .apply = sq_apply,
    .get_order = sq_get_order,
    .count_orders = sq_count_orders,
    .get_worker = sq_get_worker,
    .lookup_workers = sq_lookup_workers,
    .receipt_get = sq_receipt_get,
    .update_get = sq_update_get,
    .lookup_receipts = sq_lookup_receipts,
    .close = sq_close,
};

/* Takes an exclusive lock beside the database: one gateway per file. */
static int lock_file(struct sq *q, char *err, size_t errsize)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s.lock", q->path);
	q->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (q->lock_fd < 0) {
		snprintf(err, errsize, "%s: cannot open: %s", path, strerror(errno));
		return TCW_ERR_INVALID_PARAM;
	}
	if (flock(q->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errsize,
		         "%s: another tcgateway uses this database (SQLite serves one gateway; "
		         "use PostgreSQL for several)",
		         q->path);
		return TCW_ERR_INVALID_PARAM;
	}
	return 0;
}

/* Opens the SQLite back end (see store_backend.h). */
int store_sqlite_open(const char *path, const char *node, const struct store_backend **be,
                      void **b, int *version, char *err, size_t errsize)
{
	struct sq *q = calloc(1, sizeof(*q));
	int rc;

	if (!q || !(q->path = strdup(path))) {
		free(q);
		return TCW_ERR_NOMEM;
	}
	q->node = node;
	q->lock_fd = -1;
	pthread_mutex_init(&q->mu, NULL);
	if (path[0] == '\0') {
		snprintf(err, errsize, "--db sqlite: needs a file name (sqlite:PATH)");
		rc = TCW_ERR_INVALID_PARAM;
		goto fail;
	}
	rc = lock_file(q, err, errsize);
	if (rc != 0)
		goto fail;
	if (sq_conn_open(path, &q->writer, 1) != 0) {
		snprintf(err, errsize, "%s: cannot open: %s", path,
		         q->writer.db ? sqlite3_errmsg(q->writer.db) : "out of memory");
		rc = TCW_ERR_INVALID_PARAM;
		goto fail;
	}
	rc = migrate(q, version, err, errsize);
	if (rc != 0)
		goto fail;
	*be = &g_sqlite;
	*b = q;
	return 0;
fail:
	sq_close(q);
	return rc;
}
