/* SPDX-License-Identifier: Apache-2.0 */
/* registry.c - reads workloads.json once, loads native plugins, runs them. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "pyhost.h"
#include "registry.h"
#include "static_plugins.h"

/* Escaped plugin error text: every byte may become 4 characters. */
#define ESCAPED_ERROR_SIZE (TCW_WL_ERROR_SIZE * 4 + 8)

/* One "<name>": {...} entry of workloads.json. */
struct wl_entry {
	char *name;
	char *library; /* resolved plugin path; NULL for a Python entry */
	char *module;  /* Python entries: module and class names */
	char *class_name;
	char *config_json; /* the entry's "config" object as JSON text */
	void *handle;      /* dlopen handle */
	const struct tcw_workload_desc *desc;
	void *state; /* what the plugin's init stored */
	int initialised;
	int serialise; /* plugin lacks TCW_WL_THREAD_SAFE */
	int built_in;  /* linked into the binary (static_plugins.c), not dlopened */
	struct pyhost_workload *py; /* Python entry, run by pyhost.c */
	int lock_ready;
	pthread_mutex_t lock;
};

struct registry {
	struct wl_entry *entries;
	size_t count;
	int python; /* started the interpreter: stop it in registry_free */
};

/* ---- the host table handed to init() ------------------------------------- */

static int init_output_add(struct tcw_wl_call *call, const void *data, size_t size)
{
	(void)call;
	(void)data;
	(void)size;
	return -1;
}

static uint8_t *init_output_alloc(struct tcw_wl_call *call, size_t size)
{
	(void)call;
	(void)size;
	return NULL;
}

static int init_deadline_passed(const struct tcw_wl_call *call)
{
	(void)call;
	return 0;
}

static void init_log(int level, const char *fmt, ...) LOG_PRINTF(2, 3);
static void init_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* Valid during init() only: there is no call to add outputs to yet. */
static const struct tcw_host g_init_host = {
    .size = sizeof(struct tcw_host),
    .version = TCW_WORKLOAD_ABI_VERSION,
    .output_add = init_output_add,
    .output_alloc = init_output_alloc,
    .deadline_passed = init_deadline_passed,
    .log = init_log,
};

/* ---- reading workloads.json ---------------------------------------------- */

/* Reads the whole file (at most REGISTRY_MAX_FILE_SIZE bytes); *text
 * caller frees, NUL-terminated. */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t errsize)
{
	size_t cap = REGISTRY_MAX_FILE_SIZE + 1, n = 0, got;
	char *buf;
	FILE *fp = fopen(path, "rb");
	int rc = 0;

	if (fp == NULL) {
		snprintf(err, errsize, "%s: cannot open: %s", path, strerror(errno));
		return TCW_ERR_INVALID_PARAM;
	}
	buf = malloc(cap + 1);
	if (buf == NULL) {
		fclose(fp);
		return TCW_ERR_NOMEM;
	}
	while ((got = fread(buf + n, 1, cap - n, fp)) > 0)
		n += got;
	if (ferror(fp)) {
		snprintf(err, errsize, "%s: cannot read: %s", path,
		         strerror(errno != 0 ? errno : EIO));
		rc = TCW_ERR_INVALID_PARAM;
	} else if (n > REGISTRY_MAX_FILE_SIZE) {
		snprintf(err, errsize, "%s: larger than %u bytes", path, REGISTRY_MAX_FILE_SIZE);
		rc = TCW_ERR_INVALID_PARAM;
	}
	fclose(fp);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* Parses text as one JSON object; *out caller releases with json_object_put. */
static int parse_json(const char *path, const char *text, size_t len, json_object **out, char *err,
                      size_t errsize)
{
	struct json_tokener *tok = json_tokener_new();
	enum json_tokener_error jerr;
	json_object *obj;
	size_t end;

	if (tok == NULL)
		return TCW_ERR_NOMEM;
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue) {
		snprintf(err, errsize, "%s: invalid JSON: unexpected end of file", path);
		json_object_put(obj);
		return TCW_ERR_INVALID_PARAM;
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errsize, "%s: invalid JSON at byte %zu: %s", path, end,
		         json_tokener_error_desc(jerr));
		return TCW_ERR_INVALID_PARAM;
	}
	for (; end < len; end++) {
		if (strchr(" \t\r\n", text[end]) == NULL || text[end] == '\0') {
			snprintf(err, errsize, "%s: invalid JSON at byte %zu: trailing data", path,
			         end);
			json_object_put(obj);
			return TCW_ERR_INVALID_PARAM;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errsize,
		         "%s: expected a JSON object of \"<workload name>\": {...} entries", path);
		json_object_put(obj);
		return TCW_ERR_INVALID_PARAM;
	}
	*out = obj;
	return 0;
}

/* Copies the string member key of obj into *slot (NULL when absent);
 * TCW_ERR_INVALID_PARAM when present but not a non-empty string. */
static int get_string(json_object *obj, const char *key, char **slot)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
		return TCW_ERR_INVALID_PARAM;
	*slot = strdup(json_object_get_string(v));
	return *slot != NULL ? 0 : TCW_ERR_NOMEM;
}

/* Resolves a plugin path against dir (the workloads file's directory). */
static char *resolve_library(const char *dir, const char *library)
{
	size_t dlen, llen;
	char *out;

	if (library[0] == '/')
		return strdup(library);
	dlen = strlen(dir);
	llen = strlen(library);
	out = malloc(dlen + llen + 2);
	if (out == NULL)
		return NULL;
	memcpy(out, dir, dlen);
	out[dlen] = '/';
	memcpy(out + dlen + 1, library, llen + 1);
	return out;
}

/* The directory part of path ("." when none); caller frees. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Fails unless val is an object whose keys are all known entry keys. */
static int check_keys(json_object *val, char *why, size_t whysize)
{
	static const char *const known[] = {"library", "config", "module", "class"};
	char shown[LOG_ESCAPED_SIZE];
	size_t i;

	if (!json_object_is_type(val, json_type_object)) {
		snprintf(why, whysize, "expected an object");
		return TCW_ERR_INVALID_PARAM;
	}
	json_object_object_foreach(val, key, member)
	{
		(void)member;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			if (strcmp(key, known[i]) == 0)
				break;
		}
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(why, whysize, "unknown key \"%s\"",
			         log_escape(shown, sizeof(shown), key, strlen(key), LOG_NAME_MAX));
			return TCW_ERR_INVALID_PARAM;
		}
	}
	return 0;
}

/* Checks the keys of one entry object and fills e from it. */
static int parse_entry(struct wl_entry *e, json_object *val, const char *dir, char *why,
                       size_t whysize)
{
	char *library = NULL;
	json_object *cfg;
	int rc;

	if ((rc = check_keys(val, why, whysize)) != 0)
		return rc;
	if ((rc = get_string(val, "library", &library)) != 0) {
		snprintf(why, whysize, "\"library\" must be a non-empty string");
		return rc;
	}
	if ((rc = get_string(val, "module", &e->module)) != 0 ||
	    (rc = get_string(val, "class", &e->class_name)) != 0) {
		snprintf(why, whysize, "\"module\" and \"class\" must be non-empty strings");
		goto out;
	}
	rc = TCW_ERR_INVALID_PARAM;
	if (library != NULL && (e->module != NULL || e->class_name != NULL)) {
		snprintf(why, whysize, "has both \"library\" and \"module\"/\"class\"");
		goto out;
	}
	if (library == NULL && (e->module == NULL || e->class_name == NULL)) {
		snprintf(why, whysize,
		         "needs \"library\" (native) or \"module\" and \"class\" (Python)");
		goto out;
	}
	cfg = NULL;
	if (json_object_object_get_ex(val, "config", &cfg) &&
	    !json_object_is_type(cfg, json_type_object)) {
		snprintf(why, whysize, "\"config\" must be an object");
		goto out;
	}
	e->config_json = strdup(
	    cfg != NULL ? json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN) : "{}");
	rc = TCW_ERR_NOMEM;
	if (e->config_json == NULL)
		goto out;
	if (library != NULL) {
		e->library = resolve_library(dir, library);
		if (e->library == NULL)
			goto out;
	}
	rc = 0;
out:
	free(library);
	return rc;
}

/* dlopens e->library, checks its descriptor and runs its init(). */
static int load_plugin(struct wl_entry *e, char *why, size_t whysize)
{
	char reason[ESCAPED_ERROR_SIZE];
	char init_err[TCW_WL_ERROR_SIZE] = "";
	tcw_workload_entry_fn entry;
	const struct tcw_workload_desc *d;
	void *sym;

	/* A plugin linked into the binary (TCW_STATIC_PLUGINS) wins over dlopen. */
	entry = static_plugin_find(e->library);
	e->built_in = entry != NULL;
	if (entry == NULL) {
		e->handle = dlopen(e->library, RTLD_NOW | RTLD_LOCAL);
		if (e->handle == NULL) {
			const char *msg = dlerror();

			snprintf(why, whysize, "cannot load plugin %s: %s", e->library,
			         msg != NULL ? msg : "unknown error");
			return TCW_ERR_INVALID_PARAM;
		}
		sym = dlsym(e->handle, TCW_WORKLOAD_ENTRY);
		if (sym == NULL) {
			snprintf(why, whysize, "%s: no %s() entry point", e->library,
			         TCW_WORKLOAD_ENTRY);
			return TCW_ERR_INVALID_PARAM;
		}
		memcpy(&entry, &sym, sizeof(entry));
	}
	d = entry();
	if (d == NULL) {
		snprintf(why, whysize, "%s: %s() returned no descriptor", e->library,
		         TCW_WORKLOAD_ENTRY);
		return TCW_ERR_INVALID_PARAM;
	}
	if (d->abi_version != TCW_WORKLOAD_ABI_VERSION) {
		snprintf(why, whysize, "%s: plugin ABI %u, this worker supports %u", e->library,
		         (unsigned)d->abi_version, TCW_WORKLOAD_ABI_VERSION);
		return TCW_ERR_INVALID_PARAM;
	}
	if (d->size < offsetof(struct tcw_workload_desc, fini) + sizeof(d->fini) ||
	    d->init == NULL || d->execute == NULL) {
		snprintf(why, whysize,
		         "%s: malformed descriptor (size %u, init and execute required)",
		         e->library, (unsigned)d->size);
		return TCW_ERR_INVALID_PARAM;
	}
	e->desc = d;
	if (d->init(&g_init_host, e->config_json, &e->state, init_err, sizeof(init_err)) != 0) {
		init_err[sizeof(init_err) - 1] = '\0';
		snprintf(why, whysize, "%s: init failed: %s", e->library,
		         log_escape(reason, sizeof(reason), init_err, strlen(init_err),
		                    TCW_WL_ERROR_SIZE));
		return TCW_ERR_INVALID_PARAM;
	}
	e->initialised = 1;
	if (!(d->flags & TCW_WL_THREAD_SAFE)) {
		if (pthread_mutex_init(&e->lock, NULL) != 0)
			return TCW_ERR_NOMEM;
		e->lock_ready = 1;
		e->serialise = 1;
	}
	return 0;
}

/* Starts the interpreter (once, at the first Python entry) and creates
 * e's Python workload; nothing is imported until its first work order. */
static int load_python(struct registry *r, struct wl_entry *e, const char *dir, char *why,
                       size_t whysize)
{
	int rc = pyhost_start(dir, why, whysize);

	if (rc != 0)
		return rc;
	r->python = 1;
	return pyhost_workload_new(e->name, e->module, e->class_name, &e->py, why, whysize);
}

/* Logs one loaded entry at info. */
static void log_entry(const struct wl_entry *e)
{
	char name[LOG_ESCAPED_SIZE], plugin[LOG_ESCAPED_SIZE];
	char module[LOG_ESCAPED_SIZE], cls[LOG_ESCAPED_SIZE];
	const char *pname;

	log_escape(name, sizeof(name), e->name, strlen(e->name), LOG_NAME_MAX);
	if (e->desc == NULL) {
		log_escape(module, sizeof(module), e->module, strlen(e->module), LOG_NAME_MAX);
		log_escape(cls, sizeof(cls), e->class_name, strlen(e->class_name), LOG_NAME_MAX);
		log_info("workload \"%s\": python class %s from module %s", name, cls, module);
		return;
	}
	pname = e->desc->name != NULL ? e->desc->name : "?";
	log_escape(plugin, sizeof(plugin), pname, strlen(pname), LOG_NAME_MAX);
	log_info("workload \"%s\": plugin \"%s\" %s %s%s", name, plugin,
	         e->built_in ? "built in, named by" : "from", e->library,
	         e->serialise ? "" : " (thread-safe)");
}

/* Parses, loads and initialises every entry of obj into r. */
static int load_entries(struct registry *r, json_object *obj, const char *path, char *err,
                        size_t errsize)
{
	char why[REGISTRY_ERROR_SIZE], shown[LOG_ESCAPED_SIZE];
	char *dir = dir_of(path);
	size_t n = (size_t)json_object_object_length(obj);
	int rc = TCW_ERR_NOMEM;

	if (dir == NULL)
		return TCW_ERR_NOMEM;
	if (n > REGISTRY_MAX_ENTRIES) {
		snprintf(err, errsize, "%s: more than %u entries", path, REGISTRY_MAX_ENTRIES);
		rc = TCW_ERR_INVALID_PARAM;
		goto out;
	}
	r->entries = calloc(n > 0 ? n : 1, sizeof(*r->entries));
	if (r->entries == NULL)
		goto out;
	json_object_object_foreach(obj, key, val)
	{
		struct wl_entry *e = &r->entries[r->count++];

		log_escape(shown, sizeof(shown), key, strlen(key), LOG_NAME_MAX);
		why[0] = '\0';
		e->name = strdup(key);
		rc = TCW_ERR_NOMEM;
		if (e->name == NULL)
			goto out;
		rc = TCW_ERR_INVALID_PARAM;
		if (key[0] == '\0')
			snprintf(why, sizeof(why), "empty workload name");
		else
			rc = parse_entry(e, val, dir, why, sizeof(why));
		if (rc == 0 && e->library != NULL)
			rc = load_plugin(e, why, sizeof(why));
		else if (rc == 0)
			rc = load_python(r, e, dir, why, sizeof(why));
		if (rc != 0) {
			snprintf(err, errsize, "%s: entry \"%s\": %s", path, shown,
			         why[0] != '\0' ? why : "out of memory");
			goto out;
		}
		log_entry(e);
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Reads workloads.json and loads its plugins; see registry.h. */
int registry_load(const char *path, struct registry **out, char *err, size_t errsize)
{
	struct registry *r = NULL;
	json_object *obj = NULL;
	char *text = NULL;
	size_t len = 0, i, python = 0;
	int rc;

	*out = NULL;
	err[0] = '\0';
	rc = read_file(path, &text, &len, err, errsize);
	if (rc != 0)
		goto out;
	rc = parse_json(path, text, len, &obj, err, errsize);
	if (rc != 0)
		goto out;
	rc = TCW_ERR_NOMEM;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto out;
	rc = load_entries(r, obj, path, err, errsize);
	if (rc != 0)
		goto out;
	for (i = 0; i < r->count; i++)
		python += r->entries[i].desc == NULL;
	log_info("loaded %zu workloads from %s (%zu native, %zu python)", r->count, path,
	         r->count - python, python);
	*out = r;
	r = NULL;
out:
	if (rc == TCW_ERR_NOMEM && err[0] == '\0')
		snprintf(err, errsize, "%s: out of memory", path);
	registry_free(&r);
	json_object_put(obj);
	free(text);
	return rc;
}

/* Number of entries (native and Python) in r. */
size_t registry_count(const struct registry *r)
{
	return r != NULL ? r->count : 0;
}

static struct wl_entry *find_entry(struct registry *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->count; i++) {
		if (strcmp(r->entries[i].name, name) == 0)
			return &r->entries[i];
	}
	return NULL;
}

/* tcw_runner.run: looks up name and executes its plugin; see registry.h. */
int registry_run(void *ctx, const char *name, const struct tcw_host *host, struct tcw_wl_call *call)
{
	struct registry *r = ctx;
	char shown[LOG_ESCAPED_SIZE], reason[ESCAPED_ERROR_SIZE];
	struct wl_entry *e;
	int rc;

	if (r == NULL || name == NULL || host == NULL || call == NULL)
		return TCW_ERR_WORKLOAD;
	e = find_entry(r, name);
	if (e == NULL) {
		log_escape(shown, sizeof(shown), name, strlen(name), LOG_NAME_MAX);
		log_info("unknown workload %s", shown);
		return TCW_ERR_WORKLOAD;
	}
	call->error[0] = '\0';
	if (e->py != NULL) {
		rc = pyhost_workload_run(e->py, host, call);
	} else {
		if (e->serialise)
			pthread_mutex_lock(&e->lock);
		rc = e->desc->execute(e->state, host, call);
		if (e->serialise)
			pthread_mutex_unlock(&e->lock);
	}
	/* The work order's time budget (tcw_processor.workload_timeout_ms): a
	 * plugin that polls deadline_passed gives up by itself; a result that
	 * arrives after the budget is refused either way. */
	if (TCW_HOST_HAS(host, deadline_passed) && host->deadline_passed(call)) {
		log_escape(shown, sizeof(shown), name, strlen(name), LOG_NAME_MAX);
		log_info("workload %s ran out of its time budget%s", shown,
		         rc == 0 ? " (result discarded)" : "");
		return TCW_ERR_WORKLOAD;
	}
	if (rc == 0)
		return TCW_OK;
	if (log_enabled(TCW_LOG_DEBUG)) {
		call->error[sizeof(call->error) - 1] = '\0';
		log_escape(shown, sizeof(shown), name, strlen(name), LOG_NAME_MAX);
		log_debug("workload %s failed: %s", shown,
		          log_escape(reason, sizeof(reason), call->error, strlen(call->error),
		                     TCW_WL_ERROR_SIZE));
	}
	return TCW_ERR_WORKLOAD;
}

/* Calls fini on every initialised plugin, unloads them and frees r. */
void registry_free(struct registry **rp)
{
	struct registry *r;
	size_t i;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	for (i = 0; i < r->count; i++) {
		struct wl_entry *e = &r->entries[i];

		if (e->initialised && e->desc->fini != NULL)
			e->desc->fini(e->state);
		if (e->handle != NULL)
			dlclose(e->handle);
		if (e->lock_ready)
			pthread_mutex_destroy(&e->lock);
		pyhost_workload_free(&e->py);
		free(e->name);
		free(e->library);
		free(e->module);
		free(e->class_name);
		free(e->config_json);
	}
	if (r->python)
		pyhost_stop();
	free(r->entries);
	free(r);
	*rp = NULL;
}
