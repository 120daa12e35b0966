/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_workorder.h - the request model shared by fuzz_workorder.c (input, JSON) and fuzz_seal.c
 * (crypto, checks). */
#ifndef TCW_FUZZ_WORKORDER_H
#define TCW_FUZZ_WORKORDER_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "internal.h"
#include "tcw/tcw.h"

/* Request flags (input byte 0). */
#define F_NO_SESSION_IV 0x01 /* omit sessionKeyIv: IV-prefixed blobs */
#define F_SIGN 0x02          /* attach requesterSignature + verifyingKey */
#define F_BAD_SIG 0x04       /* ... with one bit of the signature flipped */
#define F_BAD_ERH 0x08       /* flip one bit of encryptedRequestHash */
#define F_FORMATS 0x10       /* send payloadFormat / dataEncryptionAlgorithm */
#define F_INT_ID 0x20        /* integer inner id instead of "1" */
#define F_COMPRESSED_VK 0x40 /* verifyingKey with a compressed point */
#define F_UPPER_HEX 0x80     /* ids, IVs and keys in uppercase hex */

/* Item key modes (control byte bits 0-2), protocol.md §5. */
enum fz_mode {
	M_SESSION_NULL = 0,   /* e "null", iv "": session key, sessionKeyIv */
	M_SESSION_EMPTY = 1,  /* e "", iv "" */
	M_SESSION_IV = 2,     /* e "null", own iv */
	M_PLAIN = 3,          /* e "-": base64 only */
	M_DEK = 4,            /* e = hex(IV || GCM(session, IV, wrap(DEK))), own iv */
	M_DEK_ZERO_IV = 5,    /* same, iv "" (all-zero data IV) */
	M_DEK_ITEM_IV = 6,    /* e = hex(GCM(session, item iv, wrap(DEK))), own iv */
	M_SESSION_ABSENT = 7, /* no e and no iv member */
};

/* What the reply must be. */
enum fz_expect {
	EXP_OK = 0,    /* a result with the expected outputs */
	EXP_WORKLOAD,  /* 2 "Error processing work load" */
	EXP_INTEGRITY, /* 2 "Work order integrity check failed" */
	EXP_SIGNATURE, /* 4 "Invalid requester signature" */
	EXP_ANY,       /* any well-formed reply */
};

/* Marker of a raw key in place of an RSA ciphertext (lib/keys.c, TCW_FUZZING). */
#define FZ_KEY_MARKER "tcw-fuzz"

#define FZ_MAX_SEGS (3 + 2 * TCWI_MAX_ITEMS + 2)
#define FZ_WORKER_ID "6beafc7f045eef7a93d80ffe02b4cb98aeb7cc18609e369acdd4a3fd670dbad4"
#define FZ_REQUESTER_ID "72657175657374657220666f722074686520667a7a696e672068617272657373"

/* A slice of the input. */
struct seg {
	const uint8_t *data;
	size_t size;
};

/* One data item as the harness builds it. */
struct fz_item {
	int out; /* outData template (else inData) */
	enum fz_mode mode;
	int hash_ok, hash_bad, tamper, no_data;
	int64_t index;
	const uint8_t *plain; /* borrowed from the input */
	size_t plain_size;
	uint8_t dek[TCW_AES_KEY_SIZE];
	struct tcw_item_text text; /* owned strings; NULL = member absent */
};

/* One request under construction. */
struct req {
	uint8_t flags, wl;
	struct seg seg[FZ_MAX_SEGS];
	size_t nseg;
	const char *name; /* workload name */
	char name_buf[256];
	struct fz_item items[FZ_MAX_SEGS];
	size_t nitems, nin, nout;
	int any;       /* over a limit or an unknown workload: any reply */
	int bad_items; /* an inData item must fail to decrypt or hash */
	int wl_fail;   /* the workload must fail */
	unsigned iv_counter;
	uint8_t skiv[TCW_GCM_IV_SIZE];
	char *wo_id, *nonce, *workload_hex, *skiv_hex, *esk_hex, *erh_hex, *sig_b64;
	const char *vkey; /* borrowed */
};

/* Fixed requester keys and the session key; call once after fz_init. */
void fz_wo_init(void);
/* Lowercase hex of the fixed session key (borrowed). */
const char *fz_session_key_hex(void);
/* Hex of data, uppercase when r asks for it; caller frees; NULL on failure. */
char *fz_hex(const struct req *r, const uint8_t *data, size_t size);
/* Encrypts every item, hashes, encrypts and signs the request: fills the
 * item texts, workload_hex, skiv_hex, esk_hex, erh_hex, sig_b64, vkey. */
int fz_seal_request(struct req *r);
/* Frees the texts an item owns. */
void fz_item_free(struct fz_item *it);
/* Fails unless the parsed reply root is what r must produce. */
void fz_check_expectation(const struct req *r, json_object *root);

#endif /* TCW_FUZZ_WORKORDER_H */
