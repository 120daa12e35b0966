/* SPDX-License-Identifier: Apache-2.0 */
/* pyhost.c - embedded CPython: starts the interpreter and runs Python workloads
 * (built when pkg-config finds python3-embed: into the module pyhost.so with
 * TCW_PYHOST_MODULE, else into tcworker; pyhost_none.c without Python). */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first: it sets feature macros for the system headers */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pyhost.h"

#ifndef TCW_DATADIR
#define TCW_DATADIR "/usr/local/share/tcworker"
#endif
/* Where the avalon_worker package is looked for: next to the executable
 * (installed tree; the build tree links it there), then the install
 * prefix. */
#define PKG_REL_DIR "/../share/tcworker/python"
#define PKG_PROBE "/avalon_worker/workload/workload.py"
/* Longest module path shown in the start-up log line. */
#define PATH_LOG_SIZE 2048

#define PYHOST_VERSION Py_STRINGIFY(PY_MAJOR_VERSION) "." Py_STRINGIFY(PY_MINOR_VERSION)

struct pyhost_workload {
	char *module;
	char *class_name;
	char shown[LOG_ESCAPED_SIZE]; /* escaped name for log lines */
	pthread_mutex_t lock;         /* serialises calls into this workload */
	PyObject *instance;           /* created on first use; lock + GIL */
};

/* A growing array of owned strings. */
struct strv {
	char **v;
	size_t n, cap;
};

static PyThreadState *g_main_ts; /* main thread state while the GIL is free */
static int g_started;
/* The --python-path directories (borrowed from the configuration). */
static char *const *g_paths;
static size_t g_path_count;

/* Remembers the --python-path directories; see pyhost.h. */
void pyhost_set_paths(char *const *dirs, size_t count)
{
	g_paths = dirs;
	g_path_count = count;
}

#ifdef TCW_PYHOST_MODULE
/* "yes (3.11)": the module embeds Python (pyhost_load.c adds its path). */
const char *pyhost_support(void)
{
	return "yes (" PYHOST_VERSION ")";
}
#else
/* "yes (3.11, linked in)": this tcworker embeds Python itself. */
const char *pyhost_support(void)
{
	return "yes (" PYHOST_VERSION ", linked in)";
}

/* The same as pyhost_support: nothing to load. */
const char *pyhost_describe(void)
{
	return pyhost_support();
}
#endif

/* Appends a copy of p[0..len) to s. */
static int strv_add(struct strv *s, const char *p, size_t len)
{
	char **v;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;

		v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return TCW_ERR_NOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strndup(p, len);
	if (s->v[s->n] == NULL)
		return TCW_ERR_NOMEM;
	s->n++;
	return 0;
}

/* Frees the strings of s and zeroes it. */
static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* 1 when dir holds the avalon_worker compatibility package. */
static int has_package(const char *dir)
{
	char probe[PATH_MAX * 2];
	int n = snprintf(probe, sizeof(probe), "%s" PKG_PROBE, dir);

	return n > 0 && (size_t)n < sizeof(probe) && access(probe, R_OK) == 0;
}

/* Adds the directory holding avalon_worker (see PKG_REL_DIR) to s, or
 * warns that it is missing. */
static int add_package_dir(struct strv *s)
{
	char exe[PATH_MAX], cand[PATH_MAX + sizeof(PKG_REL_DIR)], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s" PKG_REL_DIR, exe);
			if (has_package(cand) && realpath(cand, real) != NULL)
				return strv_add(s, real, strlen(real));
		}
	}
	if (has_package(TCW_DATADIR "/python"))
		return strv_add(s, TCW_DATADIR "/python", strlen(TCW_DATADIR "/python"));
	log_warn("python: the avalon_worker package is neither in <tcworker dir>%s nor in "
	         "%s/python; workloads that import it will fail",
	         PKG_REL_DIR, TCW_DATADIR);
	return 0;
}

/* The module path before the standard library, in order: the workloads
 * file's directory, --python-path, $PYTHONPATH, the package directory. */
static int collect_paths(const char *workloads_dir, struct strv *s, char *err, size_t errsize)
{
	char real[PATH_MAX];
	const char *p, *colon, *why;
	struct stat st;
	size_t len;
	int rc;

	p = realpath(workloads_dir, real) != NULL ? real : workloads_dir;
	if ((rc = strv_add(s, p, strlen(p))) != 0)
		return rc;
	for (size_t i = 0; i < g_path_count; i++) {
		why = NULL;
		if (realpath(g_paths[i], real) == NULL)
			why = strerror(errno);
		else if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
			why = "not a directory";
		if (why != NULL) {
			snprintf(err, errsize, "--python-path %s: %s", g_paths[i], why);
			return TCW_ERR_INVALID_PARAM;
		}
		if ((rc = strv_add(s, real, strlen(real))) != 0)
			return rc;
	}
	/* the isolated configuration ignores $PYTHONPATH: read it here */
	for (p = getenv("PYTHONPATH"); p != NULL && *p != '\0'; p = colon ? colon + 1 : NULL) {
		colon = strchr(p, ':');
		len = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if (len > 0 && (rc = strv_add(s, p, len)) != 0)
			return rc;
	}
	return add_package_dir(s);
}

/* Inserts s in front of sys.path (GIL held); logs the result. */
static int prepend_paths(const struct strv *s)
{
	PyObject *sys_path = PySys_GetObject("path"); /* borrowed */
	char shown[PATH_LOG_SIZE];
	size_t used = 0;

	if (sys_path == NULL || !PyList_Check(sys_path))
		return -1;
	shown[0] = '\0';
	for (size_t i = 0; i < s->n; i++) {
		PyObject *dir = PyUnicode_DecodeFSDefault(s->v[i]);

		if (dir == NULL || PyList_Insert(sys_path, (Py_ssize_t)i, dir) != 0) {
			Py_XDECREF(dir);
			return -1;
		}
		Py_DECREF(dir);
		if (used < sizeof(shown))
			used += (size_t)snprintf(shown + used, sizeof(shown) - used, "%s%s",
			                         i > 0 ? ":" : "", s->v[i]);
	}
	log_info("python %s started (isolated); module path: %s, then the standard library",
	         PYHOST_VERSION, shown);
	return 0;
}

/* Py_InitializeFromConfig with tcworker's settings. */
static PyStatus init_interpreter(void)
{
	PyConfig config;
	PyStatus st;

	PyConfig_InitIsolatedConfig(&config);
	config.write_bytecode = 0;
	config.user_site_directory = 0;
	config.install_signal_handlers = 0;
	config.parse_argv = 0;
	/* TCW_PYTHON_SITE=0 (set by the enclave manifest, deploy/gramine):
	 * no site module, so no site-packages from the host. */
	if (getenv("TCW_PYTHON_SITE") != NULL && strcmp(getenv("TCW_PYTHON_SITE"), "0") == 0)
		config.site_import = 0;
#ifdef TCW_PYTHON_HOME
	/* The interpreter we were built against, never one that a python3 (or
	 * a virtual environment) on PATH would suggest: without an executable
	 * the prefix and site-packages follow PATH. */
	st = PyConfig_SetBytesString(&config, &config.home, TCW_PYTHON_HOME);
	if (!PyStatus_Exception(st))
		st = PyConfig_SetBytesString(&config, &config.executable,
		                             TCW_PYTHON_HOME "/bin/python" PYHOST_VERSION);
	if (PyStatus_Exception(st))
		goto out;
#endif
	st = Py_InitializeFromConfig(&config);
#ifdef TCW_PYTHON_HOME
out:
#endif
	PyConfig_Clear(&config);
	return st;
}

/* Starts the interpreter once; see pyhost.h. */
int pyhost_start(const char *workloads_dir, char *err, size_t errsize)
{
	struct strv paths = {0};
	PyStatus st;
	int rc;

	if (g_started)
		return 0;
	rc = collect_paths(workloads_dir, &paths, err, errsize);
	if (rc != 0)
		goto out;
	st = init_interpreter();
	if (PyStatus_Exception(st)) {
		snprintf(err, errsize, "cannot start Python %s: %s", PYHOST_VERSION,
		         st.err_msg != NULL ? st.err_msg : "unknown error");
		rc = TCW_ERR_INVALID_PARAM;
		goto out;
	}
	if (prepend_paths(&paths) != 0) {
		PyErr_Clear();
		Py_FinalizeEx();
		snprintf(err, errsize, "cannot set the Python module path");
		rc = TCW_ERR_NOMEM;
		goto out;
	}
	g_main_ts = PyEval_SaveThread();
	g_started = 1;
out:
	if (rc == TCW_ERR_NOMEM && err[0] == '\0')
		snprintf(err, errsize, "out of memory");
	strv_free(&paths);
	return rc;
}

/* Finalises the interpreter; see pyhost.h. */
void pyhost_stop(void)
{
	if (!g_started)
		return;
	PyEval_RestoreThread(g_main_ts);
	if (Py_FinalizeEx() != 0)
		log_warn("python: errors while shutting the interpreter down");
	g_main_ts = NULL;
	g_started = 0;
}

/* Creates an entry; see pyhost.h. */
int pyhost_workload_new(const char *name, const char *module, const char *class_name,
                        struct pyhost_workload **out, char *err, size_t errsize)
{
	struct pyhost_workload *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w == NULL)
		goto nomem;
	w->module = strdup(module);
	w->class_name = strdup(class_name);
	if (w->module == NULL || w->class_name == NULL || pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w->module);
		free(w->class_name);
		free(w);
		goto nomem;
	}
	log_escape(w->shown, sizeof(w->shown), name, strlen(name), LOG_NAME_MAX);
	*out = w;
	return 0;
nomem:
	snprintf(err, errsize, "out of memory");
	return TCW_ERR_NOMEM;
}

/* Name of the pending exception's type (borrowed), "?" when none. */
static const char *exc_name(void)
{
	PyObject *t = PyErr_Occurred();

	return t != NULL && PyType_Check(t) ? ((PyTypeObject *)t)->tp_name : "?";
}

/* Logs the pending exception's traceback at debug level, one line per
 * log line, and clears it. Tracebacks may quote workload data, so they
 * are never written at other levels. */
static void log_exception(const struct pyhost_workload *w)
{
	PyObject *type, *value, *tb, *mod = NULL, *lines = NULL;

	PyErr_Fetch(&type, &value, &tb);
	if (type == NULL || !log_enabled(TCW_LOG_DEBUG))
		goto out;
	PyErr_NormalizeException(&type, &value, &tb);
	mod = PyImport_ImportModule("traceback");
	if (mod != NULL)
		lines =
		    PyObject_CallMethod(mod, "format_exception", "OOO", type,
		                        value != NULL ? value : Py_None, tb != NULL ? tb : Py_None);
	if (lines == NULL || !PyList_Check(lines)) {
		log_debug("python workload %s: no traceback available", w->shown);
		goto out;
	}
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++) {
		const char *text = PyUnicode_AsUTF8(PyList_GET_ITEM(lines, i));
		const char *nl;

		for (; text != NULL && *text != '\0'; text = nl != NULL ? nl + 1 : "") {
			nl = strchr(text, '\n');
			log_debug("python workload %s: %.*s", w->shown,
			          (int)(nl != NULL ? nl - text : (ptrdiff_t)strlen(text)), text);
		}
	}
out:
	Py_XDECREF(lines);
	Py_XDECREF(mod);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_Clear();
}

/* Records a load failure (import, class lookup, constructor) in call->error
 * and logs it with the exception's type; the exception stays pending. */
static int load_failed(const struct pyhost_workload *w, struct tcw_wl_call *call, const char *what)
{
	const char *name = exc_name();

	snprintf(call->error, sizeof(call->error), "%s %s.%s: %s", what, w->module, w->class_name,
	         name);
	log_warn("python workload %s: %s %s.%s: %s", w->shown, what, w->module, w->class_name,
	         name);
	return -1;
}

/* Imports the module and creates the instance unless it exists (lock and
 * GIL held). */
static int get_instance(struct pyhost_workload *w, struct tcw_wl_call *call)
{
	PyObject *mod, *cls;

	if (w->instance != NULL)
		return 0;
	mod = PyImport_ImportModule(w->module);
	if (mod == NULL)
		return load_failed(w, call, "cannot import");
	cls = PyObject_GetAttrString(mod, w->class_name);
	Py_DECREF(mod);
	if (cls == NULL)
		return load_failed(w, call, "cannot find");
	w->instance = PyObject_CallNoArgs(cls);
	Py_DECREF(cls);
	if (w->instance == NULL)
		return load_failed(w, call, "cannot create");
	log_info("python workload %s: created a %s.%s instance", w->shown, w->module,
	         w->class_name);
	return 0;
}

/* d[key] = text decoded as UTF-8 ("" when NULL); 0 or -1. */
static int dict_set_text(PyObject *d, const char *key, const char *text)
{
	PyObject *v;
	int rc;

	if (text == NULL)
		text = "";
	v = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
	if (v == NULL)
		return -1;
	rc = PyDict_SetItemString(d, key, v);
	Py_DECREF(v);
	return rc;
}

/* One in_data_array element; data is a new reference to its bytes. */
static PyObject *input_dict(const struct tcw_wl_call *call, size_t i, PyObject *data)
{
	struct tcw_item_text t = {0};
	PyObject *d = PyDict_New(), *index;

	if (d == NULL)
		return NULL;
	(void)tcw_call_input_text(call, i, &t); /* fields stay NULL ("") if unknown */
	index = PyLong_FromLongLong((long long)call->inputs[i].index);
	if (index == NULL || PyDict_SetItemString(d, "index", index) != 0 ||
	    dict_set_text(d, "dataHash", t.data_hash) != 0 ||
	    PyDict_SetItemString(d, "data", data) != 0 ||
	    dict_set_text(d, "encryptedDataEncryptionKey", t.dek) != 0 ||
	    dict_set_text(d, "iv", t.iv) != 0) {
		Py_XDECREF(index);
		Py_DECREF(d);
		return NULL;
	}
	Py_DECREF(index);
	return d;
}

/* The in_data_array list; datas[i] receives a new reference to each
 * input's bytes so they can be wiped afterwards. */
static PyObject *build_inputs(const struct tcw_wl_call *call, PyObject **datas)
{
	PyObject *list = PyList_New((Py_ssize_t)call->input_count);

	if (list == NULL)
		return NULL;
	for (size_t i = 0; i < call->input_count; i++) {
		const struct tcw_wl_input *in = &call->inputs[i];
		PyObject *d;

		datas[i] = PyBytes_FromStringAndSize(in->size > 0 ? (const char *)in->data : NULL,
		                                     (Py_ssize_t)in->size);
		d = datas[i] != NULL ? input_dict(call, i, datas[i]) : NULL;
		if (d == NULL) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, d);
	}
	return list;
}

/* Drops a reference to plaintext bytes, wiping them first when it is the
 * last one (best effort: a workload may keep copies). */
static void release_plain(PyObject *b)
{
	if (b == NULL)
		return;
	/* size > 1: never touch the interpreter's shared 0/1-byte objects */
	if (PyBytes_CheckExact(b) && Py_REFCNT(b) == 1 && PyBytes_GET_SIZE(b) > 1)
		tcw_wipe(PyBytes_AS_STRING(b), (size_t)PyBytes_GET_SIZE(b));
	Py_DECREF(b);
}

/* Hands output o (bytes, bytearray or str as UTF-8) to the host. */
static int add_output(PyObject *o, Py_ssize_t i, const struct tcw_host *host,
                      struct tcw_wl_call *call)
{
	const char *p;
	Py_ssize_t n;

	if (PyBytes_Check(o)) {
		p = PyBytes_AS_STRING(o);
		n = PyBytes_GET_SIZE(o);
	} else if (PyByteArray_Check(o)) {
		p = PyByteArray_AS_STRING(o);
		n = PyByteArray_GET_SIZE(o);
	} else if (PyUnicode_Check(o)) {
		p = PyUnicode_AsUTF8AndSize(o, &n);
		if (p == NULL) {
			snprintf(call->error, sizeof(call->error),
			         "output %zd: str not encodable as UTF-8", i);
			return -1;
		}
	} else {
		snprintf(call->error, sizeof(call->error),
		         "output %zd is %s, expected bytes or str", i, Py_TYPE(o)->tp_name);
		return -1;
	}
	if (host->output_add(call, p, (size_t)n) != 0) {
		snprintf(call->error, sizeof(call->error), "output %zd: over the output limits", i);
		return -1;
	}
	return 0;
}

/* Checks execute()'s (ok, output) and hands the outputs to the host. */
static int take_result(PyObject *res, const struct tcw_host *host, struct tcw_wl_call *call)
{
	PyObject *ok, *out;
	Py_ssize_t n;

	if ((!PyTuple_Check(res) && !PyList_Check(res)) || PySequence_Fast_GET_SIZE(res) != 2) {
		snprintf(call->error, sizeof(call->error),
		         "execute returned %s, expected (ok, output)", Py_TYPE(res)->tp_name);
		return -1;
	}
	ok = PySequence_Fast_GET_ITEM(res, 0);
	out = PySequence_Fast_GET_ITEM(res, 1);
	if (!PyBool_Check(ok)) {
		snprintf(call->error, sizeof(call->error),
		         "execute returned ok of type %s, not bool", Py_TYPE(ok)->tp_name);
		return -1;
	}
	if (ok != Py_True) {
		snprintf(call->error, sizeof(call->error), "execute returned ok=False");
		return -1;
	}
	if (!PyList_Check(out) && !PyTuple_Check(out))
		return add_output(out, 0, host, call);
	n = PySequence_Fast_GET_SIZE(out);
	if (n > (Py_ssize_t)TCW_WL_MAX_OUTPUTS) {
		snprintf(call->error, sizeof(call->error),
		         "execute returned %zd outputs, at most %u", n, TCW_WL_MAX_OUTPUTS);
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		if (add_output(PySequence_Fast_GET_ITEM(out, i), i, host, call) != 0)
			return -1;
	}
	return 0;
}

/* Calls instance.execute(in_data_array) and collects its outputs (lock
 * and GIL held). */
static int run_execute(struct pyhost_workload *w, const struct tcw_host *host,
                       struct tcw_wl_call *call)
{
	PyObject **datas = calloc(call->input_count > 0 ? call->input_count : 1, sizeof(*datas));
	PyObject *args, *res = NULL;
	int rc = -1;

	if (datas == NULL) {
		snprintf(call->error, sizeof(call->error), "out of memory");
		return -1;
	}
	args = build_inputs(call, datas);
	if (args == NULL)
		snprintf(call->error, sizeof(call->error), "cannot build the inputs: %s",
		         exc_name());
	else
		res = PyObject_CallMethod(w->instance, "execute", "(O)", args);
	Py_XDECREF(args);
	if (args != NULL && res == NULL)
		snprintf(call->error, sizeof(call->error), "execute raised %s", exc_name());
	if (res != NULL) {
		rc = take_result(res, host, call);
		Py_DECREF(res);
	}
	for (size_t i = 0; i < call->input_count; i++)
		release_plain(datas[i]);
	free(datas);
	return rc;
}

/* Runs one work order; see pyhost.h. */
int pyhost_workload_run(struct pyhost_workload *w, const struct tcw_host *host,
                        struct tcw_wl_call *call)
{
	PyGILState_STATE gs;
	int rc;

	if (w == NULL || !g_started) {
		snprintf(call->error, sizeof(call->error), "the Python interpreter is not running");
		return TCW_ERR_WORKLOAD;
	}
	pthread_mutex_lock(&w->lock);
	gs = PyGILState_Ensure();
	rc = get_instance(w, call);
	if (rc == 0)
		rc = run_execute(w, host, call);
	if (PyErr_Occurred() != NULL)
		log_exception(w);
	PyGILState_Release(gs);
	pthread_mutex_unlock(&w->lock);
	return rc == 0 ? TCW_OK : TCW_ERR_WORKLOAD;
}

/* Drops the instance and frees w; see pyhost.h. */
void pyhost_workload_free(struct pyhost_workload **wp)
{
	struct pyhost_workload *w;

	if (wp == NULL || *wp == NULL)
		return;
	w = *wp;
	if (w->instance != NULL && g_started) {
		PyGILState_STATE gs = PyGILState_Ensure();

		Py_CLEAR(w->instance);
		PyGILState_Release(gs);
	}
	pthread_mutex_destroy(&w->lock);
	free(w->module);
	free(w->class_name);
	free(w);
	*wp = NULL;
}
