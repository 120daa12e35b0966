/* SPDX-License-Identifier: Apache-2.0 */
/* error.c - the fixed wire messages and codes of libtcw errors (protocol.md §8). */
#include <stdarg.h>
#include <stdio.h>

#include "tcw/tcw.h"

/* Fixed wire message of an error (static string, never NULL). */
const char *tcw_strerror(int err)
{
	switch (err) {
	case TCW_ERR_INVALID_REQUEST:
		return "Invalid request";
	case TCW_ERR_UNSUPPORTED_METHOD:
		return "Unsupported method";
	case TCW_ERR_INVALID_PARAM:
		return "Invalid parameter";
	case TCW_ERR_INTEGRITY:
		return "Work order integrity check failed";
	case TCW_ERR_DUPLICATE:
		return "Duplicate work order";
	case TCW_ERR_WORKLOAD:
		return "Error processing work load";
	case TCW_ERR_SIGNATURE:
		return "Invalid requester signature";
	case TCW_ERR_BUSY:
		return "Worker busy";
	default:
		return "Internal error";
	}
}

/* JSON-RPC error code sent on the wire for err (2, 4, 8 or 1). */
int tcw_err_wire_code(int err)
{
	switch (err) {
	case TCW_ERR_INVALID_REQUEST:
	case TCW_ERR_UNSUPPORTED_METHOD:
	case TCW_ERR_INVALID_PARAM:
	case TCW_ERR_INTEGRITY:
	case TCW_ERR_DUPLICATE:
	case TCW_ERR_WORKLOAD:
		return 2;
	case TCW_ERR_SIGNATURE:
		return 4;
	case TCW_ERR_BUSY:
		return 8;
	default:
		return 1;
	}
}

/* Records err and the printf-formatted field name in e (e may be NULL;
 * field_fmt may be NULL for ""); returns err. Long names are truncated. */
int tcw_error_set(struct tcw_error *e, int err, const char *field_fmt, ...)
{
	va_list ap;

	if (!e)
		return err;
	e->err = err;
	e->field[0] = '\0';
	if (field_fmt) {
		va_start(ap, field_fmt);
		if (vsnprintf(e->field, sizeof(e->field), field_fmt, ap) < 0)
			e->field[0] = '\0';
		va_end(ap);
	}
	return err;
}
