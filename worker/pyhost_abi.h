/* SPDX-License-Identifier: Apache-2.0 */
/* pyhost_abi.h - the interface between tcworker and its Python host module (pyhost.so). */
#ifndef TCW_WORKER_PYHOST_ABI_H
#define TCW_WORKER_PYHOST_ABI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "tcw/tcw.h"

/*
 * tcworker does not link libpython: the embedded interpreter (pyhost.c) is
 * built into a module of its own, <libdir>/tcworker/pyhost.so, which
 * pyhost_load.c loads with dlopen only when the workloads file has a
 * module/class entry. Module and worker come from the same build, so the
 * version below must match exactly; the module exports one symbol,
 * PYHOST_MODULE_ENTRY, and reaches the worker only through pyhost_env.
 */
#define PYHOST_MODULE_ABI 1u
#define PYHOST_MODULE_ENTRY "tcw_pyhost_module"
/* File name of the module. */
#define PYHOST_MODULE_FILE "pyhost.so"

struct pyhost_workload;

/* What the worker lends the module (the worker's logger and libtcw). */
struct pyhost_env {
	uint32_t abi;  /* PYHOST_MODULE_ABI */
	uint32_t size; /* sizeof(struct pyhost_env) */
	/* log_vmsg of worker/log.c */
	void (*vlog)(int level, const char *fmt, va_list ap);
	/* log_enabled of worker/log.c */
	int (*log_enabled)(int level);
	/* log_escape of worker/log.c */
	char *(*escape)(char *out, size_t outsize, const void *in, size_t len, size_t cap);
	/* tcw_call_input_text of libtcw */
	int (*input_text)(const struct tcw_wl_call *call, size_t i, struct tcw_item_text *out);
	/* tcw_wipe of libtcw */
	void (*wipe)(void *p, size_t n);
};

/* What the module provides: the functions of pyhost.h. */
struct pyhost_ops {
	uint32_t abi;  /* PYHOST_MODULE_ABI */
	uint32_t size; /* sizeof(struct pyhost_ops) */
	const char *(*support)(void);
	void (*set_paths)(char *const *dirs, size_t count);
	int (*start)(const char *workloads_dir, char *err, size_t errsize);
	void (*stop)(void);
	int (*workload_new)(const char *name, const char *module, const char *class_name,
	                    struct pyhost_workload **out, char *err, size_t errsize);
	int (*workload_run)(struct pyhost_workload *w, const struct tcw_host *host,
	                    struct tcw_wl_call *call);
	void (*workload_free)(struct pyhost_workload **w);
};

/* The module's entry point: keeps env (which must outlive the module's
 * use) and returns its static function table, or NULL when env has
 * another ABI version or size. */
typedef const struct pyhost_ops *(*pyhost_module_fn)(const struct pyhost_env *env);

#endif /* TCW_WORKER_PYHOST_ABI_H */
