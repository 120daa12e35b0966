/* SPDX-License-Identifier: Apache-2.0 */
/* pyhost.h - the embedded CPython interpreter that runs module/class workloads
 * (pyhost.c; in the default build it lives in the module pyhost.so, reached
 * through pyhost_load.c; pyhost_none.c in a build without Python). */
#ifndef TCW_WORKER_PYHOST_H
#define TCW_WORKER_PYHOST_H

#include <stddef.h>

#include "tcw/tcw.h"

/* One workloads.json module/class entry; its class is instantiated on
 * first use and the instance is reused. */
struct pyhost_workload;

/* For --version: "yes (3.11, module PATH)" (the module loads),
 * "yes (3.11, linked in)", or "no" / "no (reason)" (static string). In the
 * module build this loads the module. */
const char *pyhost_support(void);

/* For the start-up log line, without loading anything (static string). */
const char *pyhost_describe(void);

/* Remembers the --python-path directories for pyhost_start. The array and
 * its strings are borrowed: they must stay valid until pyhost_start has
 * returned. */
void pyhost_set_paths(char *const *dirs, size_t count);

/* Starts the interpreter (once; later calls return 0): isolated settings,
 * no user site directory, no .pyc writing, module path = workloads_dir,
 * the --python-path directories, $PYTHONPATH, the directory holding the
 * avalon_worker package, then the standard library. Must run on the main
 * thread before any processing thread exists; returns with the GIL
 * released. On failure writes a reason into err and returns
 * TCW_ERR_INVALID_PARAM (or TCW_ERR_NOMEM). */
int pyhost_start(const char *workloads_dir, char *err, size_t errsize);

/* Finalises the interpreter on the thread that started it, after every
 * processing thread has stopped and every workload was freed (no-op when
 * not started). The interpreter cannot be started again afterwards. */
void pyhost_stop(void);

/* Creates the entry name -> module.class_name (strings copied); nothing is
 * imported yet. *out caller frees with pyhost_workload_free. On failure
 * (for example a build without Python) writes a reason into err and
 * returns TCW_ERR_INVALID_PARAM (or TCW_ERR_NOMEM). */
int pyhost_workload_new(const char *name, const char *module, const char *class_name,
                        struct pyhost_workload **out, char *err, size_t errsize);

/* Runs one work order on any thread: imports and instantiates the class on
 * first use, calls execute() with the inputs of call and hands the outputs
 * to host. Calls into one workload are serialised; the GIL is held only
 * while Python runs. TCW_OK, or TCW_ERR_WORKLOAD with call->error set. */
int pyhost_workload_run(struct pyhost_workload *w, const struct tcw_host *host,
                        struct tcw_wl_call *call);

/* Drops the instance, frees w and sets *w to NULL (NULL-safe). Call before
 * pyhost_stop. */
void pyhost_workload_free(struct pyhost_workload **w);

#endif /* TCW_WORKER_PYHOST_H */
