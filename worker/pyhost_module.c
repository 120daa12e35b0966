/* SPDX-License-Identifier: Apache-2.0 */
/* pyhost_module.c - the entry point of pyhost.so, and the worker services pyhost.c uses
 * (logging, libtcw) forwarded to the worker through pyhost_env. */
#include <stdarg.h>
#include <stddef.h>

#include "log.h"
#include "pyhost.h"
#include "pyhost_abi.h"

static const struct pyhost_env *g_env;

static const struct pyhost_ops g_ops = {
    .abi = PYHOST_MODULE_ABI,
    .size = sizeof(struct pyhost_ops),
    .support = pyhost_support,
    .set_paths = pyhost_set_paths,
    .start = pyhost_start,
    .stop = pyhost_stop,
    .workload_new = pyhost_workload_new,
    .workload_run = pyhost_workload_run,
    .workload_free = pyhost_workload_free,
};

/* The module's only exported symbol; see pyhost_abi.h. */
__attribute__((visibility("default"))) const struct pyhost_ops *
tcw_pyhost_module(const struct pyhost_env *env);
const struct pyhost_ops *tcw_pyhost_module(const struct pyhost_env *env)
{
	if (env == NULL || env->abi != PYHOST_MODULE_ABI || env->size != sizeof(*env))
		return NULL;
	g_env = env;
	return &g_ops;
}

/* ---- log.h, forwarded to the worker's logger ---------------------------- */

/* Forwards to the worker's log_vmsg. */
void log_vmsg(int level, const char *fmt, va_list ap)
{
	g_env->vlog(level, fmt, ap);
}

/* Forwards to the worker's log_vmsg. */
void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_env->vlog(level, fmt, ap);
	va_end(ap);
}

#define FORWARD(name, level)                                                                       \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
                                                                                                   \
		va_start(ap, fmt);                                                                 \
		g_env->vlog(level, fmt, ap);                                                       \
		va_end(ap);                                                                        \
	}

/* log_msg at TCW_LOG_ERROR. */
FORWARD(log_error, TCW_LOG_ERROR)
/* log_msg at TCW_LOG_WARN. */
FORWARD(log_warn, TCW_LOG_WARN)
/* log_msg at TCW_LOG_INFO. */
FORWARD(log_info, TCW_LOG_INFO)
/* log_msg at TCW_LOG_DEBUG. */
FORWARD(log_debug, TCW_LOG_DEBUG)

/* Forwards to the worker's log_enabled. */
int log_enabled(int level)
{
	return g_env->log_enabled(level);
}

/* Forwards to the worker's log_escape. */
char *log_escape(char *out, size_t outsize, const void *in, size_t len, size_t cap)
{
	return g_env->escape(out, outsize, in, len, cap);
}

/* ---- the two libtcw functions pyhost.c calls --------------------------- */

/* Forwards to libtcw's tcw_call_input_text in the worker. */
int tcw_call_input_text(const struct tcw_wl_call *call, size_t i, struct tcw_item_text *out)
{
	return g_env->input_text(call, i, out);
}

/* Forwards to libtcw's tcw_wipe in the worker. */
void tcw_wipe(void *p, size_t n)
{
	g_env->wipe(p, n);
}
