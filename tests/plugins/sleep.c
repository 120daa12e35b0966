/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sleep.c - test-only workload: sleeps for the milliseconds given as input,
 * then answers "slept <ms> ms". With the config {"marker": "PREFIX"} it first
 * creates the file PREFIX.<ms>, so a test can see that the work order is
 * being processed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcw/workload.h"

/* Longest sleep accepted, milliseconds. */
#define SLEEP_MAX_MS 600000L
/* Sleep step between deadline checks, milliseconds. */
#define SLEEP_STEP_MS 10L

/* Longest marker prefix, bytes. */
#define SLEEP_MARKER_MAX 1024

/* Reads the optional "marker" string of the config into *state (malloc'ed)
 * or NULL. A test only needs plain paths: the one escape accepted is \/,
 * which the worker's JSON writer puts in front of every '/'. */
static int sleep_init(const struct tcw_host *host, const char *config_json, void **state, char *err,
                      size_t errsize)
{
	const char *key = strstr(config_json, "\"marker\"");
	const char *p;
	char *prefix;
	size_t n = 0;

	(void)host;
	*state = NULL;
	if (key == NULL)
		return 0;
	p = strchr(key + 8, '"');
	prefix = malloc(SLEEP_MARKER_MAX + 1);
	if (p == NULL || prefix == NULL) {
		free(prefix);
		snprintf(err, errsize, "config: bad \"marker\"");
		return -1;
	}
	for (p++; *p != '"' && *p != '\0' && n < SLEEP_MARKER_MAX; p++) {
		if (*p == '\\' && p[1] == '/')
			p++;
		else if (*p == '\\')
			break;
		prefix[n++] = *p;
	}
	if (*p != '"') {
		free(prefix);
		snprintf(err, errsize, "config: \"marker\" must be a plain string");
		return -1;
	}
	prefix[n] = '\0';
	*state = prefix;
	return 0;
}

static void sleep_fini(void *state)
{
	free(state);
}

/* Creates the marker file <prefix>.<ms> when a prefix is configured. */
static void touch_marker(const char *prefix, long ms)
{
	char path[SLEEP_MARKER_MAX + 32];
	FILE *fp;

	if (prefix == NULL)
		return;
	snprintf(path, sizeof(path), "%s.%ld", prefix, ms);
	fp = fopen(path, "w");
	if (fp != NULL)
		fclose(fp);
}

/* Parses the input as a decimal count of milliseconds; -1 when it is not. */
static long parse_ms(const struct tcw_wl_input *in)
{
	long ms = 0;
	size_t i;

	if (in->size == 0 || in->size > 9)
		return -1;
	for (i = 0; i < in->size; i++) {
		if (in->data[i] < '0' || in->data[i] > '9')
			return -1;
		ms = ms * 10 + (in->data[i] - '0');
	}
	return ms <= SLEEP_MAX_MS ? ms : -1;
}

static int sleep_execute(void *state, const struct tcw_host *host, struct tcw_wl_call *call)
{
	char out[64];
	long ms, left;
	int n;

	ms = parse_ms(&call->inputs[0]);
	if (ms < 0) {
		snprintf(call->error, sizeof(call->error), "expected milliseconds 0..%ld",
		         SLEEP_MAX_MS);
		return -1;
	}
	touch_marker(state, ms);
	for (left = ms; left > 0; left -= SLEEP_STEP_MS) {
		long step = left < SLEEP_STEP_MS ? left : SLEEP_STEP_MS;
		struct timespec ts = {0, step * 1000000L};

		if (TCW_HOST_HAS(host, deadline_passed) && host->deadline_passed(call)) {
			snprintf(call->error, sizeof(call->error), "deadline passed");
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	n = snprintf(out, sizeof(out), "slept %ld ms", ms);
	return host->output_add(call, out, (size_t)n) == 0 ? 0 : -1;
}

static const struct tcw_workload_desc g_sleep_desc = {
    .abi_version = TCW_WORKLOAD_ABI_VERSION,
    .size = sizeof(struct tcw_workload_desc),
    .name = "sleep",
    .flags = TCW_WL_THREAD_SAFE,
    .init = sleep_init,
    .execute = sleep_execute,
    .fini = sleep_fini,
};

/* The plugin entry point: returns the static descriptor. */
__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void);

__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void)
{
	return &g_sleep_desc;
}
