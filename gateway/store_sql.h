/* SPDX-License-Identifier: Apache-2.0 */
/* store_sql.h - what the SQLite and PostgreSQL back ends share: schema migrations and helpers. */
#ifndef TCW_GATEWAY_STORE_SQL_H
#define TCW_GATEWAY_STORE_SQL_H

#include <stdint.h>

#include "store.h"

/* The schema version this build writes; migrations[i] moves i → i + 1. */
#define STORE_SCHEMA_VERSION 3
/* Receipt status / update type COMPLETED (EEA 7.1): no status update after it. */
#define STORE_RECEIPT_COMPLETED 1
/* Update types up to this set the receipt status; above: application data
 * that leaves it (EEA 7.1). */
#define STORE_RECEIPT_STATUS_MAX 255
/* Update index meaning "the last update" (EEA: 0xFFFFFFFF; Avalon's client 1 << 32). */
#define STORE_LAST_UPDATE 0xFFFFFFFFll

extern const char *const store_sql_migrations_sqlite[STORE_SCHEMA_VERSION];
extern const char *const store_sql_migrations_pg[STORE_SCHEMA_VERSION];

/* Wall-clock milliseconds since the epoch. */
int64_t store_now_ms(void);

/* Columns a worker lookup filters on, taken from a worker record JSON;
 * strings owned by the struct until the next call on the same thread. */
struct store_worker_keys {
	const char *worker_type;     /* decimal */
	const char *organization_id;
	const char *app_type_ids;    /* " id1 id2 " */
};
/* Extracts them from record; 0 or -1 when record is not a worker record. */
int store_worker_keys(const char *record, struct store_worker_keys *out);

/* The 1-based update index that index asks for among count updates, or 0
 * when there is none (EEA 7.2.6: 0xFFFFFFFF and beyond = the last). */
int64_t store_update_index(int64_t index, int64_t count);

/* Adds id to out when it comes after f->after and out has room below
 * f->limit; counts every id offered past f->after in out->total. */
int store_ids_offer(struct store_ids *out, const char *id, const struct store_lookup *f);

#endif /* TCW_GATEWAY_STORE_SQL_H */
