/* SPDX-License-Identifier: Apache-2.0 */
/* spin.c - test-only workload for the time budget: polls host->deadline_passed, or sleeps. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tcw/workload.h"

/* Longest a polling run waits for a deadline that never comes, ms. */
#define SPIN_CAP_MS 120000L
#define SLEEP_PREFIX "sleep:"

static int spin_init(const struct tcw_host *host, const char *config_json, void **state, char *err,
                     size_t errsize)
{
	(void)host, (void)config_json, (void)err, (void)errsize;
	*state = NULL;
	return 0;
}

static void nap_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Input "poll": waits (polling every millisecond) until the budget is spent
 * and fails then, or outputs "no deadline" after SPIN_CAP_MS. Input
 * "sleep:<ms>": sleeps without polling, then outputs "slept". */
static int spin_execute(void *state, const struct tcw_host *host, struct tcw_wl_call *call)
{
	char text[32] = "";
	long ms = 0;

	(void)state;
	if (call->input_count < 1 || call->inputs[0].size >= sizeof(text))
		return -1;
	memcpy(text, call->inputs[0].data, call->inputs[0].size);
	if (strcmp(text, "poll") == 0) {
		for (ms = 0; ms < SPIN_CAP_MS; ms++) {
			if (TCW_HOST_HAS(host, deadline_passed) && host->deadline_passed(call)) {
				snprintf(call->error, sizeof(call->error), "deadline passed");
				return -1;
			}
			nap_ms(1);
		}
		return host->output_add(call, "no deadline", 11) == 0 ? 0 : -1;
	}
	if (sscanf(text, SLEEP_PREFIX "%ld", &ms) != 1 || ms < 0 || ms > SPIN_CAP_MS)
		return -1;
	nap_ms(ms);
	return host->output_add(call, "slept", 5) == 0 ? 0 : -1;
}

static const struct tcw_workload_desc g_spin_desc = {
    .abi_version = TCW_WORKLOAD_ABI_VERSION,
    .size = sizeof(struct tcw_workload_desc),
    .name = "spin",
    .flags = TCW_WL_THREAD_SAFE,
    .init = spin_init,
    .execute = spin_execute,
};

/* The plugin entry point: returns the static descriptor. */
__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void);

__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void)
{
	return &g_spin_desc;
}
