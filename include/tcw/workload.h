/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workload.h - the tcworker native workload plugin ABI. Stands alone: a plugin
 * includes only this header and the C standard library.
 *
 * A plugin is a shared object that exports one function, named by
 * TCW_WORKLOAD_ENTRY, returning a pointer to a static descriptor. The host
 * checks abi_version and size before using anything else in it, so a plugin
 * built against an older header keeps loading, and one built against a
 * newer, incompatible ABI is refused with a clear message.
 *
 * The host table (struct tcw_host) only ever grows at its end: new services
 * are appended, nothing is removed or reordered. A plugin must check
 * host->size before calling a member that was added after the version it
 * was built for (TCW_HOST_HAS(host, member)).
 *
 * Memory: inputs are borrowed for the duration of execute(). Outputs are
 * handed to the host through host->output_add / host->output_alloc, which
 * copy into (or return) host-owned buffers; the plugin never frees them.
 */
#ifndef TCW_WORKLOAD_H
#define TCW_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version a plugin is built against; bumped only on incompatible change. */
#define TCW_WORKLOAD_ABI_VERSION 1u

/* Name of the one exported symbol (a function returning the descriptor). */
#define TCW_WORKLOAD_ENTRY "tcw_workload_entry"

/* Descriptor flag: execute() may run on several threads at once with the
 * same state. Without it the host serialises calls into the plugin. */
#define TCW_WL_THREAD_SAFE 0x1u

/* Upper bounds the host enforces. */
#define TCW_WL_MAX_OUTPUTS 16u
#define TCW_WL_ERROR_SIZE 256u

/* Log levels for host->log. */
enum tcw_wl_log_level {
	TCW_WL_LOG_ERROR = 0,
	TCW_WL_LOG_WARN = 1,
	TCW_WL_LOG_INFO = 2,
	TCW_WL_LOG_DEBUG = 3,
};

/* One decrypted inData item, borrowed from the host. */
struct tcw_wl_input {
	int64_t index;       /* the item's index; inputs are sorted by it */
	const uint8_t *data; /* plaintext bytes (not NUL-terminated) */
	size_t size;         /* number of bytes at data */
};

struct tcw_wl_call;

/* Services the host offers to plugins. Append-only. */
struct tcw_host {
	uint32_t size;    /* sizeof(struct tcw_host) as the host was built */
	uint32_t version; /* TCW_WORKLOAD_ABI_VERSION of the host */
	/* Appends a copy of data[0..size) as the next output; 0 on success,
	 * -1 when out of memory or over TCW_WL_MAX_OUTPUTS. */
	int (*output_add)(struct tcw_wl_call *call, const void *data, size_t size);
	/* Appends a host-owned output of exactly size bytes and returns it for
	 * the plugin to fill; NULL on failure. Valid until execute() returns. */
	uint8_t *(*output_alloc)(struct tcw_wl_call *call, size_t size);
	/* Non-zero once the work order's CPU/time budget is spent; long
	 * computations poll it and give up with an error. */
	int (*deadline_passed)(const struct tcw_wl_call *call);
	/* printf-style log line at the given level (never log plaintext). */
	void (*log)(int level, const char *fmt, ...)
#if defined(__GNUC__)
	    __attribute__((format(printf, 2, 3)))
#endif
	    ;
};

/* True when the host table carries member m (safe for older hosts). */
#define TCW_HOST_HAS(h, m)                                                    \
	((h)->size >= offsetof(struct tcw_host, m) + sizeof((h)->m) && (h)->m)

/* One execution of a workload. Created by the host. */
struct tcw_wl_call {
	const struct tcw_wl_input *inputs; /* sorted by index, count >= 1 */
	size_t input_count;
	char error[TCW_WL_ERROR_SIZE]; /* plugin's failure reason (logged, not sent) */
	void *host_private;            /* opaque to the plugin */
};

/* The descriptor a plugin exports. */
struct tcw_workload_desc {
	uint32_t abi_version; /* TCW_WORKLOAD_ABI_VERSION */
	uint32_t size;        /* sizeof(struct tcw_workload_desc) */
	const char *name;     /* human-readable plugin name, for logs */
	uint32_t flags;       /* TCW_WL_* flags */
	/* Called once at load with the entry's "config" object as JSON text
	 * ("{}" when absent). Stores plugin state in *state. Returns 0, or
	 * non-zero after writing a reason into err (errsize bytes). */
	int (*init)(const struct tcw_host *host, const char *config_json,
		    void **state, char *err, size_t errsize);
	/* Runs the workload: reads call->inputs, adds outputs through host.
	 * Returns 0 on success, non-zero (with call->error set) on failure. */
	int (*execute)(void *state, const struct tcw_host *host,
		       struct tcw_wl_call *call);
	/* Releases state at unload. May be NULL. */
	void (*fini)(void *state);
	void *reserved[8]; /* must be NULL; room to grow without an ABI bump */
};

/* Signature of the exported entry point. */
typedef const struct tcw_workload_desc *(*tcw_workload_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* TCW_WORKLOAD_H */
