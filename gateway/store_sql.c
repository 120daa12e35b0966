/* SPDX-License-Identifier: Apache-2.0 */
/* store_sql.c - the versioned schema of both store back ends and their shared helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "store_sql.h"
#include "tcw/tcw.h"

/* Version 1: orders, workers, receipts and their updates. Version 2: the
 * indexes receipt lookups use. Version 3 (SQLite): results in a table of
 * their own, keyed by the order's rowid, so that storing a result appends
 * a row instead of growing the order's (which split its page in two, about
 * two more WAL frames per order); PostgreSQL keeps results in orders.
 * Never edit a released step: add one. */
const char *const store_sql_migrations_sqlite[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE orders(id TEXT PRIMARY KEY, worker_id TEXT NOT NULL,"
    " requester_id TEXT NOT NULL, request_hash TEXT NOT NULL, request TEXT NOT NULL,"
    " key_fp TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0, result TEXT,"
    " claimed_by TEXT, lease_until INTEGER NOT NULL DEFAULT 0,"
    " submitted_ms INTEGER NOT NULL, finished_ms INTEGER);"
    "CREATE INDEX orders_queued ON orders(worker_id) WHERE state = 0;"
    "CREATE TABLE workers(id TEXT PRIMARY KEY, name TEXT NOT NULL, record TEXT NOT NULL,"
    " key_fp TEXT NOT NULL, owner TEXT NOT NULL, status INTEGER NOT NULL,"
    " worker_type TEXT, organization_id TEXT, app_type_ids TEXT);"
    "CREATE TABLE receipts(wo_id TEXT PRIMARY KEY, params TEXT NOT NULL,"
    " verification_key TEXT NOT NULL, create_status INTEGER NOT NULL,"
    " current_status INTEGER NOT NULL, worker_service_id TEXT, worker_id TEXT,"
    " requester_id TEXT);"
    "CREATE TABLE receipt_updates(wo_id TEXT NOT NULL, idx INTEGER NOT NULL,"
    " updater_id TEXT NOT NULL, update_type INTEGER NOT NULL, update_data TEXT NOT NULL,"
    " update_signature TEXT NOT NULL, signature_rules TEXT NOT NULL,"
    " verification_key TEXT NOT NULL, PRIMARY KEY(wo_id, idx));",
    "CREATE INDEX receipts_requester ON receipts(requester_id);"
    "CREATE INDEX receipts_worker ON receipts(worker_id);",
    "CREATE TABLE results(rid INTEGER PRIMARY KEY, result TEXT NOT NULL);"
    "INSERT INTO results SELECT rowid, result FROM orders WHERE result IS NOT NULL;"
    "UPDATE orders SET result = NULL WHERE result IS NOT NULL;",
};

const char *const store_sql_migrations_pg[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE orders(id TEXT PRIMARY KEY, seq BIGSERIAL, worker_id TEXT NOT NULL,"
    " requester_id TEXT NOT NULL, request_hash TEXT NOT NULL, request TEXT NOT NULL,"
    " key_fp TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0, result TEXT,"
    " claimed_by TEXT, lease_until BIGINT NOT NULL DEFAULT 0,"
    " submitted_ms BIGINT NOT NULL, finished_ms BIGINT);"
    "CREATE INDEX orders_queued ON orders(worker_id, seq) WHERE state = 0;"
    "CREATE TABLE workers(id TEXT PRIMARY KEY, name TEXT NOT NULL, record TEXT NOT NULL,"
    " key_fp TEXT NOT NULL, owner TEXT NOT NULL, status INTEGER NOT NULL,"
    " worker_type TEXT, organization_id TEXT, app_type_ids TEXT);"
    "CREATE TABLE receipts(wo_id TEXT PRIMARY KEY, params TEXT NOT NULL,"
    " verification_key TEXT NOT NULL, create_status BIGINT NOT NULL,"
    " current_status BIGINT NOT NULL, worker_service_id TEXT, worker_id TEXT,"
    " requester_id TEXT);"
    "CREATE TABLE receipt_updates(wo_id TEXT NOT NULL, idx BIGINT NOT NULL,"
    " updater_id TEXT NOT NULL, update_type BIGINT NOT NULL, update_data TEXT NOT NULL,"
    " update_signature TEXT NOT NULL, signature_rules TEXT NOT NULL,"
    " verification_key TEXT NOT NULL, PRIMARY KEY(wo_id, idx));",
    "CREATE INDEX receipts_requester ON receipts(requester_id);"
    "CREATE INDEX receipts_worker ON receipts(worker_id);",
    "SELECT 1", /* results stay in orders: rows are updated in place */
};

/* Wall-clock milliseconds since the epoch. */
int64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Thread_local char t_type[32];
static _Thread_local char t_org[512];
static _Thread_local char t_apps[2048];

/* Extracts the lookup columns of a worker record (see store_sql.h). */
int store_worker_keys(const char *record, struct store_worker_keys *out)
{
	json_object *r = json_tokener_parse(record), *v = NULL;
	size_t pos = 1;

	if (!r || !json_object_is_type(r, json_type_object)) {
		json_object_put(r);
		return -1;
	}
	snprintf(t_type, sizeof(t_type), "%d",
	         json_object_object_get_ex(r, "workerType", &v) ? json_object_get_int(v) : 0);
	snprintf(t_org, sizeof(t_org), "%s",
	         json_object_object_get_ex(r, "organizationId", &v) && v
	             ? json_object_get_string(v)
	             : "");
	t_apps[0] = ' ';
	t_apps[1] = '\0';
	if (json_object_object_get_ex(r, "applicationTypeId", &v) &&
	    json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(v, i));
			int n = snprintf(t_apps + pos, sizeof(t_apps) - pos, "%s ", s ? s : "");

			if (n < 0 || (size_t)n >= sizeof(t_apps) - pos)
				break;
			pos += (size_t)n;
		}
	}
	json_object_put(r);
	out->worker_type = t_type;
	out->organization_id = t_org;
	out->app_type_ids = t_apps;
	return 0;
}

/* The 1-based update index for a request (see store_sql.h). */
int64_t store_update_index(int64_t index, int64_t count)
{
	if (count <= 0 || index <= 0)
		return 0;
	if (index >= STORE_LAST_UPDATE)
		return count;
	return index <= count ? index : 0;
}

/* Offers one id to a lookup answer (see store_sql.h). */
int store_ids_offer(struct store_ids *out, const char *id, const struct store_lookup *f)
{
	char **v;

	if (!id || (f->after && strcmp(id, f->after) <= 0))
		return 0;
	out->total++;
	if (out->count >= f->limit)
		return 0;
	v = realloc(out->ids, (out->count + 1) * sizeof(*v));
	if (!v)
		return TCW_ERR_NOMEM;
	out->ids = v;
	v[out->count] = strdup(id);
	if (!v[out->count])
		return TCW_ERR_NOMEM;
	out->count++;
	return 0;
}
