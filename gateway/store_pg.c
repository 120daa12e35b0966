/* SPDX-License-Identifier: Apache-2.0 */
/* store_pg.c - the PostgreSQL store: versioned schema, batched writes, committed order leases
 * (claimed_by, lease_until; SKIP LOCKED), LISTEN/NOTIFY for idle dispatchers and waiters. */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_pg.h"
#include "store_sql.h"
#include "tcw/tcw.h"

/* Channels: an order became claimable (payload worker id), final (order id). */
#define CH_ORDERS "tcgw_orders"
#define CH_DONE "tcgw_done"

static const struct {
	const char *sql;
	int n;
} g_sql[P_COUNT_STMTS] = {
    [P_SUBMIT] = {"INSERT INTO orders(id, worker_id, requester_id, request_hash, request, key_fp,"
                  " state, claimed_by, lease_until, submitted_ms) VALUES ($1, $2, $3, $4, $5, $6,"
                  " 0, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
                  9},
    [P_NOTIFY] = {"SELECT pg_notify($1, $2)", 2},
    [P_FINISH] = {"UPDATE orders SET state = $2, result = $3, claimed_by = NULL,"
                  " finished_ms = $4 WHERE id = $1 AND state = 0",
                  4},
    [P_HAS_RECEIPT] = {"SELECT 1 FROM receipts WHERE wo_id = $1", 1},
    [P_UPDATE_COUNT] = {"SELECT count(*) FROM receipt_updates WHERE wo_id = $1", 1},
    [P_ADD_UPDATE] = {"INSERT INTO receipt_updates(wo_id, idx, updater_id, update_type,"
                      " update_data, update_signature, signature_rules, verification_key)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                      8},
    [P_SET_STATUS] = {"UPDATE receipts SET current_status = $2 WHERE wo_id = $1", 2},
    [P_CLAIM] = {"UPDATE orders SET claimed_by = $2, lease_until = $3 WHERE id IN (SELECT id"
                 " FROM orders WHERE worker_id = $1 AND state = 0 AND (claimed_by IS NULL OR"
                 " lease_until < $4) ORDER BY seq LIMIT $5 FOR UPDATE SKIP LOCKED)"
                 " RETURNING id, request, key_fp, submitted_ms",
                 5},
    [P_RENEW] = {"UPDATE orders SET lease_until = $3 WHERE worker_id = $1 AND state = 0"
                 " AND claimed_by = $2",
                 3},
    [P_RELEASE] = {"UPDATE orders SET claimed_by = NULL, lease_until = 0 WHERE id = $1"
                   " AND claimed_by = $2 AND state = 0",
                   2},
    [P_RELEASE_ALL] = {"UPDATE orders SET claimed_by = NULL, lease_until = 0 WHERE"
                       " worker_id = $1 AND claimed_by = $2 AND state = 0",
                       2},
    [P_PUT_WORKER] = {"INSERT INTO workers(id, name, record, key_fp, owner, status, worker_type,"
                      " organization_id, app_type_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                      " $9) ON CONFLICT (id) DO UPDATE SET name = $2, record = $3, key_fp = $4,"
                      " owner = $5, status = $6, worker_type = $7, organization_id = $8,"
                      " app_type_ids = $9",
                      9},
    [P_ORDER_STATE] = {"SELECT state, result FROM orders WHERE id = $1 FOR UPDATE", 1},
    [P_ADD_RECEIPT] = {"INSERT INTO receipts(wo_id, params, verification_key, create_status,"
                       " current_status, worker_service_id, worker_id, requester_id) VALUES"
                       " ($1, $2, $3, $4, $4, $5, $6, $7) ON CONFLICT (wo_id) DO NOTHING",
                       7},
    [P_RECEIPT_STATUS] = {"SELECT current_status FROM receipts WHERE wo_id = $1 FOR UPDATE", 1},
    [P_GET_ORDER] = {"SELECT id, worker_id, requester_id, request_hash, key_fp, state, result,"
                     " submitted_ms FROM orders WHERE id = $1",
                     1},
    [P_COUNT] = {"SELECT state, count(*) FROM orders GROUP BY state", 0},
    [P_GET_WORKER] = {"SELECT id, name, record, key_fp, owner, status FROM workers WHERE id = $1",
                      1},
    [P_LOOKUP_WORKERS] = {"SELECT id FROM workers WHERE ($1::text IS NULL OR worker_type = $1)"
                          " AND ($2::text IS NULL OR organization_id = $2) AND ($3::text IS NULL"
                          " OR strpos(app_type_ids, ' ' || $3 || ' ') > 0) ORDER BY id COLLATE \"C\"",
                          3},
    [P_GET_RECEIPT] = {"SELECT params, verification_key, create_status, current_status FROM"
                       " receipts WHERE wo_id = $1",
                       1},
    [P_GET_UPDATE] = {"SELECT updater_id, update_type, update_data, update_signature,"
                      " signature_rules, verification_key FROM receipt_updates WHERE"
                      " wo_id = $1 AND idx = $2",
                      2},
    [P_LOOKUP_RECEIPTS] = {"SELECT wo_id FROM receipts WHERE ($1::text IS NULL OR"
                           " worker_service_id = $1) AND ($2::text IS NULL OR worker_id = $2) AND"
                           " ($3::text IS NULL OR requester_id = $3) AND ($4::bigint < 0 OR"
                           " current_status = $4) ORDER BY wo_id COLLATE \"C\"",
                           4},
};

/* Runs statement id (see store_pg.h). */
PGresult *pg_run(struct pconn *c, enum pg_stmt id, int n, const char *const *params)
{
	char name[16];
	PGresult *r;
	ExecStatusType st;

	snprintf(name, sizeof(name), "s%d", (int)id);
	if (!c->prepared[id]) {
		r = PQprepare(c->c, name, g_sql[id].sql, g_sql[id].n, NULL);
		st = PQresultStatus(r);
		PQclear(r);
		if (st != PGRES_COMMAND_OK) {
			log_error("postgresql: prepare: %s", PQerrorMessage(c->c));
			return NULL;
		}
		c->prepared[id] = 1;
	}
	r = PQexecPrepared(c->c, name, n, params, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		log_error("postgresql: %s", PQresultErrorMessage(r));
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Copy of a result value (see store_pg.h). */
char *pg_dup(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

/* Opens a connection (see store_pg.h). */
int pg_connect(const char *url, struct pconn *c, char *err, size_t errsize)
{
	memset(c, 0, sizeof(*c));
	c->c = PQconnectdb(url);
	if (PQstatus(c->c) != CONNECTION_OK) {
		snprintf(err, errsize, "postgresql: cannot connect: %s", PQerrorMessage(c->c));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(c->c);
		c->c = NULL;
		return -1;
	}
	return 0;
}

void pg_close(struct pconn *c)
{
	if (c->c)
		PQfinish(c->c);
	memset(c, 0, sizeof(*c));
}

/* Runs SQL text that returns nothing; -1 on error (logged). */
static int pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		log_error("postgresql: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

/* Runs a write statement; -1 on error, else the rows it touched. */
static long pg_write(struct pconn *c, enum pg_stmt id, int n, const char *const *params)
{
	PGresult *r = pg_run(c, id, n, params);
	long rows;

	if (!r)
		return -1;
	rows = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return rows;
}

static int pg_notify(struct pg *p, const char *channel, const char *payload)
{
	const char *v[2] = {channel, payload};
	PGresult *r = pg_run(&p->writer, P_NOTIFY, 2, v);

	PQclear(r);
	return r ? 0 : -1;
}

/* ---- migrations ---- */

static int migrate(struct pg *p, int *version, char *err, size_t errsize)
{
	PGresult *r;
	int have = 0;

	/* one gateway at a time migrates: an advisory lock held by the transaction */
	if (pg_exec(p->writer.c, "BEGIN") < 0 ||
	    pg_exec(p->writer.c, "SELECT pg_advisory_xact_lock(7041947)") < 0 ||
	    pg_exec(p->writer.c, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT "
	                         "NULL)") < 0)
		goto fail;
	r = PQexec(p->writer.c, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		goto fail;
	}
	have = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (have > STORE_SCHEMA_VERSION) {
		pg_exec(p->writer.c, "ROLLBACK");
		snprintf(err, errsize,
		         "postgresql: schema version %d is newer than this tcgateway (%d); refusing "
		         "to use it",
		         have, STORE_SCHEMA_VERSION);
		return TCW_ERR_INVALID_PARAM;
	}
	for (int i = have; i < STORE_SCHEMA_VERSION; i++) {
		char ver[64];

		snprintf(ver, sizeof(ver), "INSERT INTO schema_version VALUES (%d)", i + 1);
		if (pg_exec(p->writer.c, store_sql_migrations_pg[i]) < 0 ||
		    pg_exec(p->writer.c, ver) < 0)
			goto fail;
		log_info("store postgresql: schema migrated to version %d", i + 1);
	}
	if (pg_exec(p->writer.c, "COMMIT") < 0)
		goto fail;
	*version = STORE_SCHEMA_VERSION;
	return 0;
fail:
	pg_exec(p->writer.c, "ROLLBACK");
	snprintf(err, errsize, "postgresql: cannot set up the schema: %s",
	         PQerrorMessage(p->writer.c));
	err[strcspn(err, "\n")] = '\0';
	return TCW_ERR_INVALID_PARAM;
}

/* ---- transactions and writes (commit thread) ---- */

static int pg_begin(void *b)
{
	return pg_exec(((struct pg *)b)->writer.c, "BEGIN");
}

static int pg_commit(void *b)
{
	return pg_exec(((struct pg *)b)->writer.c, "COMMIT");
}

static void pg_rollback(void *b)
{
	struct pg *p = b;

	if (PQtransactionStatus(p->writer.c) != PQTRANS_IDLE)
		pg_exec(p->writer.c, "ROLLBACK");
	if (PQstatus(p->writer.c) != CONNECTION_OK) {
		log_warn("postgresql: writer connection lost; reconnecting");
		PQreset(p->writer.c);
		memset(p->writer.prepared, 0, sizeof(p->writer.prepared));
	}
}

/* Appends update u as number index of receipt id and makes its type the
 * receipt's current status (types up to 255); -1 on error (logged). */
static int append_update(struct pg *p, const char *id, int64_t index, const struct store_update *u)
{
	char idx[32], type[32];

	snprintf(idx, sizeof(idx), "%" PRId64, index);
	snprintf(type, sizeof(type), "%" PRId64, u->update_type);
	if (pg_write(&p->writer, P_ADD_UPDATE, 8,
	             (const char *[]){id, idx, u->updater_id, type, u->update_data,
	                              u->update_signature, u->signature_rules,
	                              u->verification_key}) < 0)
		return -1;
	if (u->update_type > STORE_RECEIPT_STATUS_MAX)
		return 0;
	return pg_write(&p->writer, P_SET_STATUS, 2, (const char *[]){id, type}) < 0 ? -1 : 0;
}

/* Appends the completion update of a final order to its receipt. */
static int add_completion(struct pg *p, const char *id, int state, const char *result)
{
	struct store_update u;
	PGresult *r;
	int rc = -1;

	if (store_make_completion(p->s, id, state, result, &u) != 0)
		return 0;
	r = pg_run(&p->writer, P_UPDATE_COUNT, 1, (const char *[]){id});
	if (!r)
		goto out;
	rc = append_update(p, id, strtoll(PQgetvalue(r, 0, 0), NULL, 10) + 1, &u);
	PQclear(r);
out:
	store_update_fini(&u);
	return rc;
}

static int op_submit(struct pg *p, struct store_op *op)
{
	const struct store_new_order *o = op->order;
	char lease[32], now[32];
	long rows;

	snprintf(lease, sizeof(lease), "%" PRId64, o->lease_until_ms);
	snprintf(now, sizeof(now), "%" PRId64, o->now_ms);
	rows = pg_write(&p->writer, P_SUBMIT, 9,
	                (const char *[]){o->id, o->worker_id, o->requester_id, o->request_hash,
	                                 o->request, o->key_fp, o->claim_by, lease, now});
	if (rows < 0)
		return -1;
	op->rc = rows ? TCW_OK : TCW_ERR_DUPLICATE;
	/* an unclaimed order wakes the dispatchers of its worker, here or elsewhere */
	if (rows && !o->claim_by)
		return pg_notify(p, CH_ORDERS, o->worker_id);
	return 0;
}

static int op_finish(struct pg *p, struct store_op *op)
{
	char state[16], now[32];
	PGresult *r;
	long rows;

	snprintf(state, sizeof(state), "%d", op->state);
	snprintf(now, sizeof(now), "%" PRId64, store_now_ms());
	rows = pg_write(&p->writer, P_FINISH, 4, (const char *[]){op->id, state, op->text, now});
	if (rows < 0)
		return -1;
	op->changed = rows > 0;
	if (!op->changed)
		return 0;
	if (pg_notify(p, CH_DONE, op->id) < 0)
		return -1;
	r = pg_run(&p->writer, P_HAS_RECEIPT, 1, (const char *[]){op->id});
	if (!r)
		return -1;
	rows = PQntuples(r);
	PQclear(r);
	return rows ? add_completion(p, op->id, op->state, op->text) : 0;
}

static int op_claim(struct pg *p, struct store_op *op)
{
	char until[32], now[32], max[32];
	PGresult *r;
	int n;

	snprintf(until, sizeof(until), "%" PRId64, op->until_ms);
	snprintf(now, sizeof(now), "%" PRId64, op->now_ms);
	snprintf(max, sizeof(max), "%zu", op->max);
	r = pg_run(&p->writer, P_CLAIM, 5, (const char *[]){op->worker_id, p->node, until, now, max});
	if (!r)
		return -1;
	n = PQntuples(r);
	op->claimed = calloc((size_t)n + 1, sizeof(*op->claimed));
	if (!op->claimed) {
		PQclear(r);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct store_order *o = &op->claimed[i];

		o->id = pg_dup(r, i, 0);
		o->request = pg_dup(r, i, 1);
		o->key_fp = pg_dup(r, i, 2);
		o->submitted_ms = strtoll(PQgetvalue(r, i, 3), NULL, 10);
		o->worker_id = strdup(op->worker_id);
	}
	op->claimed_count = (size_t)n;
	PQclear(r);
	return 0;
}

static int op_simple(struct pg *p, struct store_op *op)
{
	char until[32];

	snprintf(until, sizeof(until), "%" PRId64, op->until_ms);
	if (op->kind == OP_RENEW)
		return pg_write(&p->writer, P_RENEW, 3, (const char *[]){op->worker_id, p->node, until}) <
		               0
		           ? -1
		           : 0;
	if (op->kind == OP_RELEASE_ALL)
		return pg_write(&p->writer, P_RELEASE_ALL, 2, (const char *[]){op->worker_id, p->node}) <
		               0
		           ? -1
		           : 0;
	return pg_write(&p->writer, P_RELEASE, 2, (const char *[]){op->id, p->node}) < 0 ? -1 : 0;
}

static int op_put_worker(struct pg *p, struct store_op *op)
{
	const struct store_worker *w = op->worker;
	struct store_worker_keys k;
	char status[16];

	if (store_worker_keys(w->record, &k) != 0)
		return -1;
	snprintf(status, sizeof(status), "%d", w->status);
	return pg_write(&p->writer, P_PUT_WORKER, 9,
	                (const char *[]){w->id, w->name, w->record, w->key_fp ? w->key_fp : "",
	                                 w->owner, status, k.worker_type, k.organization_id,
	                                 k.app_type_ids}) < 0
	           ? -1
	           : 0;
}

static int op_receipt_create(struct pg *p, struct store_op *op)
{
	PGresult *r = pg_run(&p->writer, P_ORDER_STATE, 1, (const char *[]){op->id});
	char status[32], *result;
	long rows;
	int state, rc;

	if (!r)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		op->rc = TCW_ERR_INVALID_PARAM;
		return 0;
	}
	state = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	result = pg_dup(r, 0, 1);
	PQclear(r);
	snprintf(status, sizeof(status), "%" PRId64, op->num);
	rows = pg_write(&p->writer, P_ADD_RECEIPT, 7,
	                (const char *[]){op->id, op->text, op->key, status, op->a, op->b, op->c});
	rc = rows < 0 ? -1 : 0;
	if (rows == 0)
		op->rc = TCW_ERR_DUPLICATE;
	else if (rows > 0 && state != ORDER_QUEUED)
		rc = add_completion(p, op->id, state, result);
	free(result);
	return rc;
}

static int op_receipt_update(struct pg *p, struct store_op *op)
{
	const struct store_update *u = op->update;
	PGresult *r = pg_run(&p->writer, P_RECEIPT_STATUS, 1, (const char *[]){op->id});
	int64_t current, n;

	if (!r)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		op->rc = TCW_ERR_INVALID_PARAM;
		return 0;
	}
	current = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	r = pg_run(&p->writer, P_UPDATE_COUNT, 1, (const char *[]){op->id});
	if (!r)
		return -1;
	n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (n > 0 && current == STORE_RECEIPT_COMPLETED && u->update_type <= STORE_RECEIPT_STATUS_MAX) {
		op->rc = TCW_ERR_DUPLICATE;
		return 0;
	}
	return append_update(p, op->id, n + 1, u);
}

static int pg_apply(void *b, struct store *s, struct store_op *op)
{
	struct pg *p = b;

	(void)s;
	switch (op->kind) {
	case OP_SUBMIT:
		return op_submit(p, op);
	case OP_FINISH:
		return op_finish(p, op);
	case OP_CLAIM:
		return op_claim(p, op);
	case OP_RENEW:
	case OP_RELEASE:
	case OP_RELEASE_ALL:
		return op_simple(p, op);
	case OP_PUT_WORKER:
		return op_put_worker(p, op);
	case OP_RECEIPT_CREATE:
		return op_receipt_create(p, op);
	case OP_RECEIPT_UPDATE:
		return op_receipt_update(p, op);
	}
	return -1;
}

/* ---- LISTEN / NOTIFY ---- */

/* The listener thread: forwards notifications to the store's callback,
 * reconnecting when the connection drops. */
static void *listen_main(void *arg)
{
	struct pg *p = arg;
	struct pconn c = {0};
	char err[512];

	while (!p->stop) {
		struct pollfd pfd;
		PGnotify *n;

		if (!c.c) {
			if (pg_connect(p->url, &c, err, sizeof(err)) != 0 ||
			    pg_exec(c.c, "LISTEN " CH_ORDERS "; LISTEN " CH_DONE) != 0) {
				pg_close(&c);
				poll(NULL, 0, 500);
				continue;
			}
			/* something may have happened while not listening */
			store_notify(p->s, 'o', NULL);
		}
		pfd.fd = PQsocket(c.c);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) > 0 && !PQconsumeInput(c.c)) {
			log_warn("postgresql: notification connection lost; reconnecting");
			pg_close(&c);
			continue;
		}
		while ((n = PQnotifies(c.c)) != NULL) {
			store_notify(p->s, strcmp(n->relname, CH_DONE) == 0 ? 'd' : 'o', n->extra);
			PQfreemem(n);
		}
	}
	pg_close(&c);
	return NULL;
}

static void pg_close_all(void *b)
{
	struct pg *p = b;

	if (!p)
		return;
	if (p->listening) {
		p->stop = 1;
		pthread_join(p->listener, NULL);
	}
	for (size_t i = 0; i < p->idle_count; i++) {
		pg_close(p->idle[i]);
		free(p->idle[i]);
	}
	pg_close(&p->writer);
	pthread_mutex_destroy(&p->mu);
	free(p->url);
	free(p);
}

static const struct store_backend g_pg = {
    .kind = "postgresql",
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .apply = pg_apply,
    .get_order = pg_get_order,
    .count_orders = pg_count_orders,
    .get_worker = pg_get_worker,
    .lookup_workers = pg_lookup_workers,
    .receipt_get = pg_receipt_get,
    .update_get = pg_update_get,
    .lookup_receipts = pg_lookup_receipts,
    .close = pg_close_all,
};

/* Opens the PostgreSQL back end (see store_backend.h). */
int store_pg_open(const char *url, const char *node, struct store *s,
                  const struct store_backend **be, void **b, int *version, char *err,
                  size_t errsize)
{
	struct pg *p = calloc(1, sizeof(*p));
	int rc;

	if (!p || !(p->url = strdup(url))) {
		free(p);
		return TCW_ERR_NOMEM;
	}
	p->node = node;
	p->s = s;
	pthread_mutex_init(&p->mu, NULL);
	if (pg_connect(url, &p->writer, err, errsize) != 0) {
		rc = TCW_ERR_INVALID_PARAM;
		goto fail;
	}
	rc = migrate(p, version, err, errsize);
	if (rc != 0)
		goto fail;
	if (pthread_create(&p->listener, NULL, listen_main, p) != 0) {
		snprintf(err, errsize, "cannot start the notification thread");
		rc = TCW_ERR_INTERNAL;
		goto fail;
	}
	p->listening = 1;
	*be = &g_pg;
	*b = p;
	return 0;
fail:
	pg_close_all(p);
	return rc;
}
