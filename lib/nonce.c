/* SPDX-License-Identifier: Apache-2.0 */
/* nonce.c - AES-GCM nonce rules of a work order (protocol.md §12.1): what a reused session
 * key may not do, and the once-per-spell warning for results the reference format forces
 * under the session key and sessionKeyIv. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "tcw/tcw.h"

/* 1 when item it would encrypt under the session key (or wrap its key
 * under it) without an IV of its own: no iv, or sessionKeyIv again. */
static int reuses_session_iv(const struct tcwi_session *s, const struct tcwi_item *it)
{
	uint8_t wrap_iv[TCW_GCM_IV_SIZE];
	const char *dek = it->text.dek;

	if (it->mode == TCWI_KEY_PLAIN)
		return 0;
	if (!it->has_iv || (s->has_iv && memcmp(it->iv, s->iv, TCW_GCM_IV_SIZE) == 0))
		return 1;
	if (it->mode != TCWI_KEY_DEK || !s->has_iv)
		return 0;
	/* a wrapped data key carries the IV of its session-key layer first */
	if (dek[0] == '0' && (dek[1] == 'x' || dek[1] == 'X'))
		dek += 2;
	return strlen(dek) >= 2 * TCW_GCM_IV_SIZE &&
	       tcw_hex_decode_exact(dek, 2 * TCW_GCM_IV_SIZE, wrap_iv, sizeof(wrap_iv)) == TCW_OK &&
	       memcmp(wrap_iv, s->iv, TCW_GCM_IV_SIZE) == 0;
}

/* The rules for a session key that was sent before; see internal.h. */
int tcwi_check_reused_key(const struct tcwi_session *s, const struct tcwi_item *in, size_t in_count,
                          const struct tcwi_item *out, size_t out_count, struct tcw_error *e)
{
	for (size_t i = 0; i < in_count; i++)
		if (reuses_session_iv(s, &in[i]))
			return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "inData[%zu].iv", in[i].pos);
	if (out_count == 0)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "outData");
	for (size_t i = 0; i < out_count; i++)
		if (reuses_session_iv(s, &out[i]))
			return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "outData[%zu].iv",
			                     out[i].pos);
	return TCW_OK;
}

/* Reference-format orders (protocol.md §12.1) come in streams: their
 * warning is logged once per spell, with a count (log.c). */
static struct tcwi_spell g_reuse_spell;

#define REUSE_WARNING                                                                              \
	"result encrypted with the session key and sessionKeyIv (AES-GCM nonce reuse, see "        \
	"docs/protocol.md 12.1)"

/* Logs the count of nonce-reuse results not logged in the current spell. */
static void log_reuse_count(uint64_t n)
{
	if (n > 0)
		tcw_logf(TCW_LOG_WARN,
		         "%llu more work orders answered with AES-GCM nonce reuse were not logged "
		         "since the last warning",
		         (unsigned long long)n);
}

/* The nonce-reuse warning for work order wo_id, once per spell; see
 * internal.h. */
void tcwi_warn_nonce_reuse(const char *wo_id)
{
	uint64_t quiet = 0;

	if (!tcwi_spell_hit(&g_reuse_spell, &quiet))
		return;
	log_reuse_count(quiet);
	tcw_logf(TCW_LOG_WARN,
	         "work order %s: " REUSE_WARNING "; more in the next %d s are counted, not logged",
	         wo_id, TCW_LOG_SPELL_SECONDS);
}

/* Ends the nonce-reuse spell, logging its count; see internal.h. */
void tcwi_nonce_log_flush(void)
{
	log_reuse_count(tcwi_spell_end(&g_reuse_spell));
}
