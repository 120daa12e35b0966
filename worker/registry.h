/* SPDX-License-Identifier: Apache-2.0 */
/* registry.h - workloads.json: workload names mapped to loaded native plugins. */
#ifndef TCW_WORKER_REGISTRY_H
#define TCW_WORKER_REGISTRY_H

#include <stddef.h>

#include "tcw/tcw.h"

/* Largest workloads.json accepted, bytes. */
#define REGISTRY_MAX_FILE_SIZE (1024u * 1024u)
/* Most entries accepted in workloads.json. */
#define REGISTRY_MAX_ENTRIES 1024u
/* Size of the error buffer registry_load fills. */
#define REGISTRY_ERROR_SIZE 1024u

/* The loaded workloads. Read-only after load, so run() may be called from
 * several threads; plugins without TCW_WL_THREAD_SAFE are serialised. */
struct registry;

/* Reads workloads.json at path, loads and initialises every native plugin
 * (relative "library" paths resolve against the file's directory), starts
 * the Python interpreter when there is a module/class entry (pyhost.h;
 * main thread, before any processing thread) and logs what was loaded.
 * *out caller frees with registry_free. On failure writes a message naming
 * the file, entry and plugin into err and returns TCW_ERR_INVALID_PARAM (or
 * TCW_ERR_NOMEM). One registry per process. */
int registry_load(const char *path, struct registry **out, char *err, size_t errsize);
/* Number of entries (native and Python) in r. */
size_t registry_count(const struct registry *r);
/* tcw_runner.run: runs workload name (ctx is the struct registry). Returns
 * TCW_OK or TCW_ERR_WORKLOAD (unknown, unsupported or failed). */
int registry_run(void *ctx, const char *name, const struct tcw_host *host,
                 struct tcw_wl_call *call);
/* Calls every plugin's fini, unloads them, drops the Python instances and
 * stops the interpreter (main thread, after the processing threads), frees
 * r and sets *r to NULL (NULL-safe). */
void registry_free(struct registry **r);

#endif /* TCW_WORKER_REGISTRY_H */
