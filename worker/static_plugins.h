/* SPDX-License-Identifier: Apache-2.0 */
/* static_plugins.h - plugins linked into the tcworker binary (TCW_STATIC_PLUGINS builds). */
#ifndef TCW_WORKER_STATIC_PLUGINS_H
#define TCW_WORKER_STATIC_PLUGINS_H

#include <stddef.h>

#include "tcw/workload.h"

/* The entry point of the built-in plugin that a workloads.json "library"
 * path names, or NULL. The path matches when its last component, less a
 * trailing ".so", equals the plugin's name ("../lib/tcworker/fib.so" and
 * "fib.so" both name "fib"). Always NULL in a build without
 * TCW_STATIC_PLUGINS. Nothing to free. */
tcw_workload_entry_fn static_plugin_find(const char *library);

#endif /* TCW_WORKER_STATIC_PLUGINS_H */
