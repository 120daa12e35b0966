/* SPDX-License-Identifier: Apache-2.0 */
/* fib.c - the "fib" workload: the Fibonacci number at a decimal position. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "tcw/workload.h"

/* Default and largest accepted value of the "max_n" config key. */
#define FIB_DEFAULT_MAX_N 100000ul
#define FIB_MAX_N_LIMIT 10000000ul

struct fib_state {
	unsigned long max_n;
};

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static const char *skip_space(const char *p)
{
	while (is_space((unsigned char)*p))
		p++;
	return p;
}

/* Returns the character after the JSON string starting at p (a '"'), or
 * NULL when it is not terminated. */
static const char *skip_string(const char *p)
{
	for (p++; *p != '\0'; p++) {
		if (*p == '\\') {
			if (p[1] == '\0')
				return NULL;
			p++;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Finds the value of the top-level key "max_n" in a JSON object text;
 * *value is NULL when the key is absent. -1 on malformed text. */
static int find_max_n(const char *json, const char **value)
{
	const char *p = json, *end;
	int depth = 0;

	*value = NULL;
	while (*p != '\0') {
		if (*p == '"') {
			end = skip_string(p);
			if (end == NULL)
				return -1;
			if (depth == 1 && end - p == 7 && memcmp(p, "\"max_n\"", 7) == 0 &&
			    *skip_space(end) == ':')
				*value = skip_space(skip_space(end) + 1);
			p = end;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		p++;
	}
	return depth == 0 ? 0 : -1;
}

/* Parses a max_n value: digits followed by space, ',' or '}'. */
static int parse_max_n(const char *v, unsigned long *out)
{
	unsigned long n = 0;

	if (!is_digit((unsigned char)*v))
		return -1;
	for (; is_digit((unsigned char)*v); v++) {
		n = n * 10 + (unsigned long)(*v - '0');
		if (n > FIB_MAX_N_LIMIT)
			return -1;
	}
	v = skip_space(v);
	if (*v != ',' && *v != '}')
		return -1;
	*out = n;
	return 0;
}

static int fib_init(const struct tcw_host *host, const char *config_json, void **state, char *err,
                    size_t errsize)
{
	struct fib_state *s;
	const char *value;
	unsigned long max_n = FIB_DEFAULT_MAX_N;

	(void)host;
	*state = NULL;
	if (config_json == NULL)
		config_json = "{}";
	if (find_max_n(config_json, &value) != 0) {
		snprintf(err, errsize, "config is not a JSON object");
		return -1;
	}
	if (value != NULL && parse_max_n(value, &max_n) != 0) {
		snprintf(err, errsize, "config max_n: expected an integer from 0 to %lu",
		         FIB_MAX_N_LIMIT);
		return -1;
	}
	s = malloc(sizeof(*s));
	if (s == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	s->max_n = max_n;
	*state = s;
	return 0;
}

/* Parses input text as a position n <= max_n; writes the reason on error. */
static int parse_position(const uint8_t *d, size_t size, unsigned long max_n, unsigned long *out,
                          struct tcw_wl_call *call)
{
	unsigned long n = 0;
	size_t i;

	while (size > 0 && is_space(d[0])) {
		d++;
		size--;
	}
	while (size > 0 && is_space(d[size - 1]))
		size--;
	if (size > 0 && d[0] == '+') {
		d++;
		size--;
	} else if (size > 0 && d[0] == '-') {
		snprintf(call->error, sizeof(call->error), "negative position");
		return -1;
	}
	if (size == 0) {
		snprintf(call->error, sizeof(call->error), "empty input");
		return -1;
	}
	for (i = 0; i < size; i++) {
		if (!is_digit(d[i])) {
			snprintf(call->error, sizeof(call->error),
			         "input is not a decimal integer");
			return -1;
		}
	}
	for (i = 0; i < size; i++) {
		n = n * 10 + (unsigned long)(d[i] - '0');
		if (n > max_n) {
			snprintf(call->error, sizeof(call->error), "position over the limit of %lu",
			         max_n);
			return -1;
		}
	}
	*out = n;
	return 0;
}

static int deadline_passed(const struct tcw_host *host, struct tcw_wl_call *call)
{
	if (TCW_HOST_HAS(host, deadline_passed) && host->deadline_passed(call)) {
		snprintf(call->error, sizeof(call->error), "deadline passed");
		return 1;
	}
	return 0;
}

/* Writes "Fibonacci number at position <n> = <f>" as the output. */
static int emit_result(const struct tcw_host *host, struct tcw_wl_call *call, unsigned long n,
                       const mpz_t f)
{
	char prefix[64];
	char *digits;
	size_t plen, dlen;
	uint8_t *out;
	int rc = -1;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "Fibonacci number at position %lu = ", n);
	digits = malloc(mpz_sizeinbase(f, 10) + 2);
	if (digits == NULL) {
		snprintf(call->error, sizeof(call->error), "out of memory");
		return -1;
	}
	mpz_get_str(digits, 10, f);
	dlen = strlen(digits);
	out = TCW_HOST_HAS(host, output_alloc) ? host->output_alloc(call, plen + dlen) : NULL;
	if (out == NULL) {
		snprintf(call->error, sizeof(call->error), "cannot allocate the output");
		goto out;
	}
	memcpy(out, prefix, plen);
	memcpy(out + plen, digits, dlen);
	rc = 0;
out:
	/* the result is the requester's secret: wipe the copy before freeing */
	explicit_bzero(digits, dlen + 1);
	free(digits);
	return rc;
}

static int fib_execute(void *state, const struct tcw_host *host, struct tcw_wl_call *call)
{
	const struct fib_state *s = state;
	unsigned long n;
	mpz_t f;
	int rc;

	if (call->input_count < 1) {
		snprintf(call->error, sizeof(call->error), "no input");
		return -1;
	}
	if (parse_position(call->inputs[0].data, call->inputs[0].size, s->max_n, &n, call) != 0)
		return -1;
	if (deadline_passed(host, call))
		return -1;
	mpz_init(f);
	mpz_fib_ui(f, n);
	rc = deadline_passed(host, call) ? -1 : emit_result(host, call, n, f);
	/* wipe the result's limbs too (GMP's own temporaries are not wiped) */
	if (mpz_size(f) > 0)
		memset(mpz_limbs_modify(f, (mp_size_t)mpz_size(f)), 0,
		       mpz_size(f) * sizeof(mp_limb_t));
	mpz_clear(f);
	return rc;
}

static void fib_fini(void *state)
{
	free(state);
}

static const struct tcw_workload_desc g_fib_desc = {
    .abi_version = TCW_WORKLOAD_ABI_VERSION,
    .size = sizeof(struct tcw_workload_desc),
    .name = "fib",
    .flags = TCW_WL_THREAD_SAFE,
    .init = fib_init,
    .execute = fib_execute,
    .fini = fib_fini,
};

/* The plugin entry point: returns the static descriptor (never freed). */
__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void);

__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void)
{
	return &g_fib_desc;
}
