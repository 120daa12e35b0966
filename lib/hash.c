/* SPDX-License-Identifier: Apache-2.0 */
/* hash.c - the EEA/Avalon request and response hashes of protocol.md §7. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "internal.h"
#include "tcw/tcw.h"

/* Appends the text s (NULL = absent, contributes nothing) to the digest. */
static int md_text(EVP_MD_CTX *md, const char *s)
{
	if (!s || !*s)
		return 0;
	return EVP_DigestUpdate(md, s, strlen(s)) ? 0 : -1;
}

/* Stable merge sort of idx[0..n) by items[idx].index, using tmp[0..n). */
static void sort_by_index(const struct tcw_item_text *items, size_t *idx, size_t *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j, k = 0;

	if (n < 2)
		return;
	sort_by_index(items, idx, tmp, mid);
	sort_by_index(items, idx + mid, tmp, n - mid);
	j = mid;
	while (i < mid && j < n) {
		/* take from the left run on ties: keeps equal indices in order */
		if (items[idx[j]].index < items[idx[i]].index)
			tmp[k++] = idx[j++];
		else
			tmp[k++] = idx[i++];
	}
	while (i < mid)
		tmp[k++] = idx[i++];
	while (j < n)
		tmp[k++] = idx[j++];
	memcpy(idx, tmp, n * sizeof(*idx));
}

/* Digest of the sorted item strings into out; md is reset and reused.
 * data_lens[i] (NULL: strlen) is the length of items[i].data, which then
 * needs no NUL. */
static int items_digest_md(EVP_MD_CTX *md, const struct tcw_item_text *items,
                           const size_t *data_lens, size_t count, uint8_t out[TCW_SHA256_SIZE])
{
	size_t *idx = NULL;
	int ret = TCW_ERR_CRYPTO;

	if (count > SIZE_MAX / (2 * sizeof(size_t)))
		return TCW_ERR_INVALID_PARAM;
	if (count) {
		idx = malloc(2 * count * sizeof(*idx));
		if (!idx)
			return TCW_ERR_NOMEM;
		for (size_t i = 0; i < count; i++)
			idx[i] = i;
		sort_by_index(items, idx, idx + count, count);
	}
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	for (size_t i = 0; i < count; i++) {
		const struct tcw_item_text *it = &items[idx[i]];
		size_t len = data_lens ? data_lens[idx[i]] : 0;

		if (md_text(md, it->data_hash) < 0 ||
		    (data_lens ? len && !EVP_DigestUpdate(md, it->data, len)
		               : md_text(md, it->data) < 0) ||
		    md_text(md, it->dek) < 0 || md_text(md, it->iv) < 0)
			goto out;
	}
	if (!EVP_DigestFinal_ex(md, out, NULL))
		goto out;
	ret = TCW_OK;
out:
	free(idx);
	return ret;
}

/* D(items): SHA-256 over I(item) of each item, stably sorted by index. */
int tcw_items_digest(const struct tcw_item_text *items, size_t count, uint8_t out[TCW_SHA256_SIZE])
{
	EVP_MD_CTX *md;
	int ret;

	if (!out || (count && !items))
		return TCW_ERR_INVALID_PARAM;
	md = EVP_MD_CTX_new();
	if (!md)
		return TCW_ERR_NOMEM;
	ret = items_digest_md(md, items, NULL, count, out);
	if (ret < 0)
		ERR_clear_error();
	EVP_MD_CTX_free(md);
	return ret;
}

/*
 * H(H(a‖b‖c‖d‖e) ‖ D(first) ‖ [D(second) if second_count > 0]): the common
 * shape of the request hash (a = requesterNonce) and the response hash
 * (a = workerNonce, first = outData, no second).
 */
static int two_level_hash(const char *const head[5], const struct tcw_item_text *first,
                          const size_t *first_lens, size_t first_count,
                          const struct tcw_item_text *second, const size_t *second_lens,
                          size_t second_count, int with_first, uint8_t out[TCW_SHA256_SIZE])
{
	uint8_t parts[3][TCW_SHA256_SIZE];
	size_t nparts = 0;
	EVP_MD_CTX *md = NULL;
	int ret = TCW_ERR_CRYPTO;

	for (int i = 0; i < 5; i++)
		if (!head[i])
			return TCW_ERR_INVALID_PARAM;
	if (!out || (first_count && !first) || (second_count && !second))
		return TCW_ERR_INVALID_PARAM;
	md = EVP_MD_CTX_new();
	if (!md)
		return TCW_ERR_NOMEM;
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	for (int i = 0; i < 5; i++)
		if (md_text(md, head[i]) < 0)
			goto out;
	if (!EVP_DigestFinal_ex(md, parts[nparts++], NULL))
		goto out;
	if (with_first && (ret = items_digest_md(md, first, first_lens, first_count, parts[nparts++])) < 0)
		goto out;
	if (second_count && (ret = items_digest_md(md, second, second_lens, second_count,
	                                    parts[nparts++])) < 0)
		goto out;
	ret = tcw_sha256(parts, nparts * TCW_SHA256_SIZE, out);
out:
	if (ret < 0)
		ERR_clear_error();
	EVP_MD_CTX_free(md);
	return ret;
}

/* RH = H(h1 || D(inData) || [D(outData) if out_count > 0]). Every id
 * string is required (NULL → TCW_ERR_INVALID_PARAM). */
int tcw_request_hash(const char *requester_nonce, const char *work_order_id, const char *worker_id,
                     const char *workload_id, const char *requester_id,
                     const struct tcw_item_text *in, size_t in_count,
                     const struct tcw_item_text *out, size_t out_count, uint8_t rh[TCW_SHA256_SIZE])
{
	const char *const head[5] = {requester_nonce, work_order_id, worker_id, workload_id,
	                             requester_id};

	return two_level_hash(head, in, NULL, in_count, out, NULL, out_count, 1, rh);
}

/* WH = H(r1 || [D(outData) if out_count > 0]). Every id string is required
 * (NULL → TCW_ERR_INVALID_PARAM). */
int tcw_response_hash(const char *worker_nonce, const char *work_order_id, const char *worker_id,
                      const char *workload_id, const char *requester_id,
                      const struct tcw_item_text *out, size_t out_count,
                      uint8_t wh[TCW_SHA256_SIZE])
{
	const char *const head[5] = {worker_nonce, work_order_id, worker_id, workload_id,
	                             requester_id};

	return two_level_hash(head, out, NULL, out_count, NULL, NULL, 0, out_count > 0, wh);
}

/* tcw_request_hash with the data text lengths given (see internal.h). */
int tcwi_request_hash_n(const char *const head[5], const struct tcw_item_text *in,
                        const size_t *in_lens, size_t in_count, const struct tcw_item_text *out,
                        const size_t *out_lens, size_t out_count, uint8_t rh[TCW_SHA256_SIZE])
{
	return two_level_hash(head, in, in_lens, in_count, out, out_lens, out_count, 1, rh);
}

/* tcw_response_hash with the data text lengths given (see internal.h). */
int tcwi_response_hash_n(const char *const head[5], const struct tcw_item_text *out,
                         const size_t *out_lens, size_t out_count, uint8_t wh[TCW_SHA256_SIZE])
{
	return two_level_hash(head, out, out_lens, out_count, NULL, NULL, 0, out_count > 0, wh);
}
