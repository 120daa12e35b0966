/* SPDX-License-Identifier: Apache-2.0 */
/* api_worker.c - the worker registry methods: WorkerRetrieve, WorkerLookUp(Next), and on the
 * admin socket WorkerRegister, WorkerUpdate, WorkerSetStatus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc.h"

#define ID_MAX 256
#define LOOKUP_LIMIT 1000

void api_worker_retrieve(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workerId", ID_MAX, 1);
	struct store_worker w;

	if (!id)
		return;
	if (store_get_worker(c->g->store, id, &w) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER,
		          "Worker Id not found in the database. Hence invalid parameter", NULL);
		return;
	}
	rpc_result(c, w.record);
	store_worker_fini(&w);
}

/* WorkerLookUp(Next): filters workerType, organizationId, applicationTypeId. */
static void lookup(struct rpc_call *c, const char *after)
{
	struct store_lookup f = {.limit = LOOKUP_LIMIT, .status = -1, .after = after};
	struct store_ids ids;
	char type[32];
	int64_t wt = 0;
	int r = rpc_int(c, "workerType", &wt, 0);

	if (r < 0)
		return;
	if (r == 0) {
		snprintf(type, sizeof(type), "%lld", (long long)wt);
		f.a = type;
	}
	f.b = rpc_str(c, "organizationId", ID_MAX, 0);
	if (c->reply)
		return;
	f.c = rpc_str(c, "applicationTypeId", ID_MAX, 0);
	if (c->reply)
		return;
	if (store_lookup_workers(c->g->store, &f, &ids) != 0) {
		store_ids_fini(&ids);
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", NULL);
		return;
	}
	rpc_lookup_result(c, &ids);
	store_ids_fini(&ids);
}

void api_worker_lookup(struct rpc_call *c)
{
	lookup(c, NULL);
}

void api_worker_lookup_next(struct rpc_call *c)
{
	const char *tag = rpc_str(c, "lookUpTag", ID_MAX, 0);

	if (!tag && !c->reply)
		tag = rpc_str(c, "lookupTag", ID_MAX, 1);
	if (tag)
		lookup(c, tag);
}

/* Refuses admin changes to a worker whose keys come from its signup. */
static int is_signup_worker(struct rpc_call *c, const char *id, const struct store_worker *sw)
{
	if (gw_worker_find(c->g, id) || (sw && sw->owner && strcmp(sw->owner, "worker") == 0)) {
		rpc_error(c, RPC_ACCESS_DENIED,
		          "Access denied: this worker is a --worker of a gateway; its keys and "
		          "details come from its own signup",
		          NULL);
		return 1;
	}
	return 0;
}

/* Stores an admin worker record. */
static void put_admin(struct rpc_call *c, const char *id, json_object *rec, int status,
                      const char *ok)
{
	struct store_worker sw = {0};

	json_object_object_add(rec, "status", json_object_new_int(status));
	sw.id = (char *)id;
	sw.name = (char *)id;
	sw.record = (char *)json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
	                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
	sw.key_fp = "";
	sw.owner = "admin";
	sw.status = status;
	if (store_put_worker(c->g->store, &sw) != 0)
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", NULL);
	else
		rpc_error(c, RPC_SUCCESS, ok, NULL);
}

void api_worker_register(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workerId", ID_MAX, 1);
	json_object *rec, *v = NULL;
	struct store_worker sw;
	int64_t type = 0;

	if (!id || rpc_int(c, "workerType", &type, 1) < 0)
		return;
	if (is_signup_worker(c, id, NULL))
		return;
	if (store_get_worker(c->g->store, id, &sw) == 0) {
		int signup = is_signup_worker(c, id, &sw);

		store_worker_fini(&sw);
		if (!signup)
			rpc_error(c, RPC_INVALID_PARAMETER,
			          "Worker Id already exists in the database. Hence invalid parameter",
			          NULL);
		return;
	}
	if (!json_object_object_get_ex(c->params, "details", &v) ||
	    !json_object_is_type(v, json_type_object)) {
		rpc_bad_param(c, "details");
		return;
	}
	rec = json_object_new_object();
	if (!rec)
		return;
	json_object_object_add(rec, "workerType", json_object_new_int64(type));
	json_object_object_add(rec, "organizationId",
	                       json_object_new_string(rpc_str(c, "organizationId", ID_MAX, 0)
	                                                  ? rpc_str(c, "organizationId", ID_MAX, 0)
	                                                  : ""));
	json_object_object_add(rec, "applicationTypeId",
	                       json_object_object_get_ex(c->params, "applicationTypeId", &v) &&
	                               json_object_is_type(v, json_type_array)
	                           ? json_object_get(v)
	                           : json_object_new_array());
	json_object_object_get_ex(c->params, "details", &v);
	json_object_object_add(rec, "details", json_object_get(v));
	if (!c->reply)
		put_admin(c, id, rec, WS_ACTIVE, "Successfully Registered");
	json_object_put(rec);
}

void api_worker_update(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workerId", ID_MAX, 1);
	json_object *rec, *d = NULL, *old = NULL, *st = NULL;
	struct store_worker sw;

	if (!id || is_signup_worker(c, id, NULL))
		return;
	if (!json_object_object_get_ex(c->params, "details", &d) ||
	    !json_object_is_type(d, json_type_object)) {
		rpc_bad_param(c, "details");
		return;
	}
	if (store_get_worker(c->g->store, id, &sw) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER,
		          "Worker Id not found in the database. Hence invalid parameter", NULL);
		return;
	}
	if (is_signup_worker(c, id, &sw)) {
		store_worker_fini(&sw);
		return;
	}
	rec = json_tokener_parse(sw.record);
	if (rec && json_object_object_get_ex(rec, "details", &old) &&
	    json_object_is_type(old, json_type_object)) {
		json_object_object_foreach(d, key, val)
		{
			json_object_object_add(old, key, json_object_get(val));
		}
		json_object_object_get_ex(rec, "status", &st);
		put_admin(c, id, rec, st ? json_object_get_int(st) : WS_ACTIVE,
		          "Successfully Updated");
	} else {
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error: stored record unreadable", NULL);
	}
	json_object_put(rec);
	store_worker_fini(&sw);
}

void api_worker_set_status(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workerId", ID_MAX, 1);
	struct gw_worker *w;
	struct store_worker sw;
	json_object *rec;
	int64_t status = 0;
	char msg[128];

	if (!id || rpc_int(c, "status", &status, 1) < 0)
		return;
	if (status < WS_ACTIVE || status > WS_COMPROMISED) {
		rpc_bad_param(c, "status");
		return;
	}
	w = gw_worker_find(c->g, id);
	if (w) {
		gw_worker_admin_status(c->g, w, (int)status, msg, sizeof(msg));
		rpc_error(c, RPC_SUCCESS, msg, NULL);
		return;
	}
	if (store_get_worker(c->g->store, id, &sw) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER,
		          "Worker Id not found in the database. Hence invalid parameter", NULL);
		return;
	}
	if (strcmp(sw.owner, "worker") == 0) {
		rpc_error(c, RPC_ACCESS_DENIED,
		          "Access denied: this worker is attached to another gateway; set its status "
		          "there",
		          NULL);
	} else if ((rec = json_tokener_parse(sw.record)) != NULL) {
		put_admin(c, id, rec, (int)status, "Successfully Set Status");
		json_object_put(rec);
	} else {
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error: stored record unreadable", NULL);
	}
	store_worker_fini(&sw);
}
