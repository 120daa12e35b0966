/* SPDX-License-Identifier: Apache-2.0 */
/*
 * count.c - test-only workload that proves how often each work order was
 * computed: a run takes about 10 ms and then, once its work is done and just
 * before it answers "counted <input>", appends one line "<input> <pid>" to
 * the file named by the environment variable TCW_COUNT_FILE (one write with
 * O_APPEND, so lines of concurrent runs never mix). So the file counts
 * completed computations, and says which worker process did each: a run cut
 * short by a kill before that point leaves no line; one killed after it, but
 * before its reply left the worker, leaves a line from the killed process.
 * Inputs are at most 256 bytes without newlines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcw/workload.h"

#define COUNT_INPUT_MAX 256
#define COUNT_RUN_NS 10000000L

static int count_init(const struct tcw_host *host, const char *config_json, void **state,
                      char *err, size_t errsize)
{
	const char *path = getenv("TCW_COUNT_FILE");
	int fd;

	(void)host;
	(void)config_json;
	if (path == NULL || path[0] == '\0') {
		snprintf(err, errsize, "TCW_COUNT_FILE is not set");
		return -1;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	*state = (void *)(intptr_t)fd;
	return 0;
}

static void count_fini(void *state)
{
	close((int)(intptr_t)state);
}

static int count_execute(void *state, const struct tcw_host *host, struct tcw_wl_call *call)
{
	const struct tcw_wl_input *in = &call->inputs[0];
	char line[COUNT_INPUT_MAX + 32], out[COUNT_INPUT_MAX + 16];
	struct timespec ts = {0, COUNT_RUN_NS};
	int n;

	if (in->size == 0 || in->size > COUNT_INPUT_MAX || memchr(in->data, '\n', in->size)) {
		snprintf(call->error, sizeof(call->error), "expected 1..%d bytes, no newline",
		         COUNT_INPUT_MAX);
		return -1;
	}
	nanosleep(&ts, NULL);
	memcpy(line, in->data, in->size);
	n = (int)in->size + snprintf(line + in->size, sizeof(line) - in->size, " %ld\n",
	                             (long)getpid());
	if (write((int)(intptr_t)state, line, (size_t)n) != (ssize_t)n) {
		snprintf(call->error, sizeof(call->error), "cannot append to the count file");
		return -1;
	}
	n = snprintf(out, sizeof(out), "counted %.*s", (int)in->size, (const char *)in->data);
	return host->output_add(call, out, (size_t)n) == 0 ? 0 : -1;
}

static const struct tcw_workload_desc g_count_desc = {
    .abi_version = TCW_WORKLOAD_ABI_VERSION,
    .size = sizeof(struct tcw_workload_desc),
    .name = "count",
    .flags = TCW_WL_THREAD_SAFE,
    .init = count_init,
    .execute = count_execute,
    .fini = count_fini,
};

/* The plugin entry point: returns the static descriptor. */
__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void);

__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void)
{
	return &g_count_desc;
}
