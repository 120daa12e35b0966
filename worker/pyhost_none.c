/* SPDX-License-Identifier: Apache-2.0 */
/* pyhost_none.c - pyhost.h for a build without python3-embed: module/class
 * entries are refused at load time with a message saying why. */
#include <stdio.h>

#include "pyhost.h"

#define NO_PYTHON                                                                                  \
	"Python (module/class) workloads need a tcworker built with Python support; this "         \
	"one was built without it (pkg-config python3-embed not found: install python3-dev "       \
	"and rebuild)"

struct pyhost_workload {
	int unused;
};

/* "no": this build does not embed Python. */
const char *pyhost_support(void)
{
	return "no";
}

/* "no": nothing to load. */
const char *pyhost_describe(void)
{
	return "no";
}

/* Always fails: no interpreter in this build. */
int pyhost_start(const char *workloads_dir, char *err, size_t errsize)
{
	(void)workloads_dir;
	snprintf(err, errsize, "%s", NO_PYTHON);
	return TCW_ERR_INVALID_PARAM;
}

/* Nothing to stop in this build. */
void pyhost_stop(void)
{
}

/* Always fails with the reason: no interpreter in this build. */
int pyhost_workload_new(const char *name, const char *module, const char *class_name,
                        struct pyhost_workload **out, char *err, size_t errsize)
{
	(void)name;
	(void)module;
	(void)class_name;
	*out = NULL;
	snprintf(err, errsize, "%s", NO_PYTHON);
	return TCW_ERR_INVALID_PARAM;
}

/* Always fails: no interpreter in this build. */
int pyhost_workload_run(struct pyhost_workload *w, const struct tcw_host *host,
                        struct tcw_wl_call *call)
{
	(void)w;
	(void)host;
	snprintf(call->error, sizeof(call->error), "built without Python support");
	return TCW_ERR_WORKLOAD;
}

/* Nothing to free in this build beyond clearing the pointer. */
void pyhost_workload_free(struct pyhost_workload **w)
{
	if (w != NULL)
		*w = NULL;
}

/* Nothing to remember in this build. */
void pyhost_set_paths(char *const *dirs, size_t count)
{
	(void)dirs;
	(void)count;
}
