/* SPDX-License-Identifier: Apache-2.0 */
/* store_pg.c - the PostgreSQL store (in progress). */
#include <stdio.h>

#include "store_backend.h"
#include "tcw/tcw.h"

int store_pg_open(const char *url, const char *node, struct store *s,
                  const struct store_backend **be, void **b, int *version, char *err,
                  size_t errsize)
{
	(void)url; (void)node; (void)s; (void)be; (void)b; (void)version;
	snprintf(err, errsize, "PostgreSQL store not built yet");
	return TCW_ERR_INVALID_PARAM;
}
