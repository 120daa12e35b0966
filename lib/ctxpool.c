/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctxpool.c - reusable RSA-OAEP decryption contexts for one private key.
 * Setting up an EVP_PKEY_CTX (provider fetch, OAEP parameters) costs about
 * 5 % of an RSA-2048 decryption; threads borrow a ready context instead.
 */
#include <pthread.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "internal.h"

/* Contexts kept for reuse; more threads than this create extra ones. */
#define POOL_KEEP 64

struct tcwi_ctx_pool {
	pthread_mutex_t lock;
	EVP_PKEY *pkey; /* borrowed: the contexts hold their own reference */
	EVP_PKEY_CTX *free_ctx[POOL_KEEP];
	size_t count;
};

/* Creates an empty pool for pkey (see internal.h). */
int tcwi_ctx_pool_new(EVP_PKEY *pkey, struct tcwi_ctx_pool **out)
{
	struct tcwi_ctx_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return TCW_ERR_NOMEM;
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return TCW_ERR_NOMEM;
	}
	p->pkey = pkey;
	*out = p;
	return TCW_OK;
}

/* A context ready for EVP_PKEY_decrypt with RSA-OAEP SHA-1 (see internal.h). */
EVP_PKEY_CTX *tcwi_ctx_pool_take(struct tcwi_ctx_pool *p)
{
	EVP_PKEY_CTX *ctx = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->count > 0)
		ctx = p->free_ctx[--p->count];
	pthread_mutex_unlock(&p->lock);
	if (ctx)
		return ctx;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, p->pkey, NULL);
	if (!ctx || EVP_PKEY_decrypt_init(ctx) <= 0 || tcwi_oaep_setup(ctx) < 0) {
		EVP_PKEY_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

/* Returns ctx after use (see internal.h). */
void tcwi_ctx_pool_give(struct tcwi_ctx_pool *p, EVP_PKEY_CTX *ctx, int ok)
{
	if (!ctx)
		return;
	if (ok) {
		pthread_mutex_lock(&p->lock);
		if (p->count < POOL_KEEP) {
			p->free_ctx[p->count++] = ctx;
			ctx = NULL;
		}
		pthread_mutex_unlock(&p->lock);
	}
	/* a context that saw a failure is not trusted again */
	EVP_PKEY_CTX_free(ctx);
}

/* Frees every pooled context and the pool (see internal.h). */
void tcwi_ctx_pool_free(struct tcwi_ctx_pool **pp)
{
	struct tcwi_ctx_pool *p;

	if (!pp || !*pp)
		return;
	p = *pp;
	while (p->count > 0)
		EVP_PKEY_CTX_free(p->free_ctx[--p->count]);
	pthread_mutex_destroy(&p->lock);
	free(p);
	*pp = NULL;
}
