/* SPDX-License-Identifier: Apache-2.0 */
/* pyhost_load.c - pyhost.h for the default build: loads the Python host module
 * (pyhost.so, which links libpython) with dlopen at the first module/class entry,
 * so that tcworker itself never links or maps libpython. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pyhost.h"
#include "pyhost_abi.h"

#ifndef TCW_PLUGINDIR
#define TCW_PLUGINDIR "/usr/local/lib/tcworker"
#endif
/* The module's folder relative to the folder of the tcworker binary: the
 * same in the installed tree (bindir -> <libdir>/tcworker) and in the build
 * tree, which mirrors it (build/bin -> build/lib/tcworker). */
#ifndef TCW_PYHOST_REL
#define TCW_PYHOST_REL "../lib/tcworker"
#endif

/* A candidate path: a directory (PATH_MAX) plus the relative part. */
#define CAND_SIZE (PATH_MAX * 2 + 64)
#define REASON_SIZE (CAND_SIZE + 1024)
#define SUPPORT_SIZE (CAND_SIZE + REASON_SIZE + 64)

static const struct pyhost_env g_env = {
    .abi = PYHOST_MODULE_ABI,
    .size = sizeof(struct pyhost_env),
    .vlog = log_vmsg,
    .log_enabled = log_enabled,
    .escape = log_escape,
    .input_text = tcw_call_input_text,
    .wipe = tcw_wipe,
};

/* Loaded once on the main thread (before processing threads exist) and
 * never unloaded: an interpreter cannot be unloaded cleanly, and
 * sanitizers need the module's code mapped until exit. */
static const struct pyhost_ops *g_ops;
static int g_tried;
static char g_path[CAND_SIZE];     /* the module found (or the first candidate) */
static char g_reason[REASON_SIZE]; /* why it could not be used */
static char *const *g_paths;
static size_t g_path_count;

/* The directory of the running binary into dir; 0 or -1. */
static int exe_dir(char *dir, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", dir, size - 1);
	char *slash;

	if (n <= 0)
		return -1;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

/* The module's path: <binary dir>/TCW_PYHOST_REL/pyhost.so when it exists,
 * else TCW_PLUGINDIR/pyhost.so when that exists; 0, or -1 with g_path
 * set to the first candidate. */
static int find_module(void)
{
	char dir[PATH_MAX], cand[CAND_SIZE];

	g_path[0] = '\0';
	if (exe_dir(dir, sizeof(dir)) == 0) {
		snprintf(cand, sizeof(cand), "%s/%s/%s", dir, TCW_PYHOST_REL, PYHOST_MODULE_FILE);
		if (access(cand, F_OK) == 0 && realpath(cand, dir) != NULL) {
			snprintf(g_path, sizeof(g_path), "%s", dir);
			return 0;
		}
		snprintf(g_path, sizeof(g_path), "%s", cand);
	}
	snprintf(cand, sizeof(cand), "%s/%s", TCW_PLUGINDIR, PYHOST_MODULE_FILE);
	if (access(cand, F_OK) == 0) {
		snprintf(g_path, sizeof(g_path), "%s", cand);
		return 0;
	}
	if (g_path[0] == '\0')
		snprintf(g_path, sizeof(g_path), "%s", cand);
	return -1;
}

/* Loads the module once; 0, or -1 with g_reason set. */
static int load_module(void)
{
	pyhost_module_fn entry;
	void *handle;
	const char *why;

	if (g_tried)
		return g_ops != NULL ? 0 : -1;
	g_tried = 1;
	if (find_module() != 0) {
		snprintf(g_reason, sizeof(g_reason),
		         "the Python host module %s is not installed (Debian: package "
		         "tcworker-python)",
		         g_path);
		return -1;
	}
	/* RTLD_GLOBAL: the interpreter's own extension modules (lib-dynload)
	 * resolve libpython's symbols from the global scope */
	handle = dlopen(g_path, RTLD_NOW | RTLD_GLOBAL);
	if (handle == NULL) {
		why = dlerror();
		snprintf(g_reason, sizeof(g_reason), "cannot load %s: %s", g_path,
		         why != NULL ? why : "unknown error");
		return -1;
	}
	*(void **)&entry = dlsym(handle, PYHOST_MODULE_ENTRY);
	g_ops = entry != NULL ? entry(&g_env) : NULL;
	if (g_ops == NULL || g_ops->abi != PYHOST_MODULE_ABI || g_ops->size != sizeof(*g_ops)) {
		snprintf(g_reason, sizeof(g_reason),
		         "%s is not a Python host module of this tcworker build", g_path);
		g_ops = NULL;
		dlclose(handle);
		return -1;
	}
	g_ops->set_paths(g_paths, g_path_count);
	return 0;
}

/* "yes (3.11, module PATH)" or "no (reason)"; loads the module. */
const char *pyhost_support(void)
{
	static char text[SUPPORT_SIZE];
	const char *s;
	size_t n;

	if (load_module() != 0) {
		snprintf(text, sizeof(text), "no (%s)", g_reason);
		return text;
	}
	/* the module says "yes (3.11)": insert the module path */
	s = g_ops->support();
	n = strlen(s);
	if (n > 0 && s[n - 1] == ')')
		snprintf(text, sizeof(text), "%.*s, module %s)", (int)(n - 1), s, g_path);
	else
		snprintf(text, sizeof(text), "%s (module %s)", s, g_path);
	return text;
}

/* One line for the start-up log, without loading anything. */
const char *pyhost_describe(void)
{
	return "module " PYHOST_MODULE_FILE ", loaded at the first module/class entry";
}

/* Remembers the --python-path directories; see pyhost.h. */
void pyhost_set_paths(char *const *dirs, size_t count)
{
	g_paths = dirs;
	g_path_count = count;
	if (g_ops != NULL)
		g_ops->set_paths(dirs, count);
}

/* Loads the module and starts the interpreter; see pyhost.h. */
int pyhost_start(const char *workloads_dir, char *err, size_t errsize)
{
	int first = !g_tried;

	if (load_module() != 0) {
		snprintf(err, errsize, "Python (module/class) workloads: %s", g_reason);
		return TCW_ERR_INVALID_PARAM;
	}
	if (first)
		log_info("python: %s", pyhost_support());
	return g_ops->start(workloads_dir, err, errsize);
}

/* Stops the interpreter when the module was loaded; see pyhost.h. */
void pyhost_stop(void)
{
	if (g_ops != NULL)
		g_ops->stop();
}

/* Creates a Python entry through the module; see pyhost.h. */
int pyhost_workload_new(const char *name, const char *module, const char *class_name,
                        struct pyhost_workload **out, char *err, size_t errsize)
{
	*out = NULL;
	if (load_module() != 0) {
		snprintf(err, errsize, "Python (module/class) workloads: %s", g_reason);
		return TCW_ERR_INVALID_PARAM;
	}
	return g_ops->workload_new(name, module, class_name, out, err, errsize);
}

/* Runs one work order through the module; see pyhost.h. */
int pyhost_workload_run(struct pyhost_workload *w, const struct tcw_host *host,
                        struct tcw_wl_call *call)
{
	if (g_ops == NULL || w == NULL) {
		snprintf(call->error, sizeof(call->error), "the Python host module is not loaded");
		return TCW_ERR_WORKLOAD;
	}
	return g_ops->workload_run(w, host, call);
}

/* Frees an entry through the module; see pyhost.h. */
void pyhost_workload_free(struct pyhost_workload **w)
{
	if (w == NULL || *w == NULL)
		return;
	if (g_ops != NULL)
		g_ops->workload_free(w);
	*w = NULL;
}
