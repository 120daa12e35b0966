/* SPDX-License-Identifier: Apache-2.0 */
/* hello.c - the "hello" workload: replies "Hello " followed by the first input. */
#include <stddef.h>
#include <string.h>

#include "tcw/workload.h"

#define HELLO_PREFIX "Hello "
#define HELLO_PREFIX_SIZE (sizeof(HELLO_PREFIX) - 1)

static int hello_init(const struct tcw_host *host, const char *config_json, void **state, char *err,
                      size_t errsize)
{
	(void)host;
	(void)config_json;
	(void)err;
	(void)errsize;
	*state = NULL;
	return 0;
}

static void set_error(struct tcw_wl_call *call, const char *reason)
{
	size_t n = strlen(reason);

	if (n >= sizeof(call->error))
		n = sizeof(call->error) - 1;
	memcpy(call->error, reason, n);
	call->error[n] = '\0';
}

static int hello_execute(void *state, const struct tcw_host *host, struct tcw_wl_call *call)
{
	const struct tcw_wl_input *in;
	uint8_t *out;

	(void)state;
	if (call->input_count < 1) {
		set_error(call, "no input");
		return -1;
	}
	in = &call->inputs[0];
	if (in->size > SIZE_MAX - HELLO_PREFIX_SIZE) {
		set_error(call, "input too large");
		return -1;
	}
	out = host->output_alloc(call, HELLO_PREFIX_SIZE + in->size);
	if (out == NULL) {
		set_error(call, "cannot allocate the output");
		return -1;
	}
	memcpy(out, HELLO_PREFIX, HELLO_PREFIX_SIZE);
	if (in->size > 0)
		memcpy(out + HELLO_PREFIX_SIZE, in->data, in->size);
	return 0;
}

static const struct tcw_workload_desc g_hello_desc = {
    .abi_version = TCW_WORKLOAD_ABI_VERSION,
    .size = sizeof(struct tcw_workload_desc),
    .name = "hello",
    .flags = TCW_WL_THREAD_SAFE,
    .init = hello_init,
    .execute = hello_execute,
    .fini = NULL,
};

/* The plugin entry point: returns the static descriptor (never freed). */
__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void);

__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void)
{
	return &g_hello_desc;
}
