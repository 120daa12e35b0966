/* SPDX-License-Identifier: Apache-2.0 */
/* attestation.c - the signup's SGX evidence from Gramine's /dev/attestation files (protocol.md
 * §10). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attestation.h"
#include "log.h"

/* Longest path built from --attestation-dir and a file name. */
#define PATH_SIZE 4096
/* Size of the text collecting the problems of one run. */
#define PROBLEMS_SIZE 768

/* The files that could not be used, for the one warning. */
struct problems {
	char text[PROBLEMS_SIZE];
	size_t len;
	int count;
};

/* Appends "name: reason" to p. */
static void problem(struct problems *p, const char *name, const char *reason)
{
	int n;

	if (p->len >= sizeof(p->text) - 1)
		return;
	n = snprintf(p->text + p->len, sizeof(p->text) - p->len, "%s%s: %s", p->count ? "; " : "",
	             name, reason);
	if (n > 0)
		p->len +=
		    (size_t)n < sizeof(p->text) - p->len ? (size_t)n : sizeof(p->text) - 1 - p->len;
	p->count++;
}

/* Reads all of path (at most max bytes) into *out (caller frees; NUL
 * appended, not counted in *size). On failure returns -1 with the reason
 * in why (whysize bytes). */
static int read_file(const char *path, size_t max, uint8_t **out, size_t *size, char *why,
                     size_t whysize)
{
	size_t cap = 4096, got = 0;
	uint8_t *buf = NULL, *grown;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whysize, "%s", strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n;

		if (got == cap || !buf) {
			if (buf)
				cap *= 2;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				snprintf(why, whysize, "out of memory");
				goto out;
			}
			buf = grown;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whysize, "%s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			snprintf(why, whysize, "larger than %zu bytes", max);
			goto out;
		}
	}
	buf[got] = '\0';
	*out = buf;
	*size = got;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

/* Writes data to path in one write (Gramine takes user_report_data whole). */
static int write_file(const char *path, const uint8_t *data, size_t size, char *why, size_t whysize)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, whysize, "%s", strerror(errno));
		return -1;
	}
	do {
		n = write(fd, data, size);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		snprintf(why, whysize, "%s", strerror(errno));
	else if ((size_t)n != size)
		snprintf(why, whysize, "short write (%zd of %zu bytes)", n, size);
	if (close(fd) != 0 && n == (ssize_t)size) {
		snprintf(why, whysize, "%s", strerror(errno));
		n = -1;
	}
	return n == (ssize_t)size ? 0 : -1;
}

/* Reads attestation_type into a->type (trailing whitespace dropped) and logs it. */
static void read_type(const char *dir, struct attestation *a, struct problems *p)
{
	char path[PATH_SIZE], why[256], shown[LOG_ESCAPED_SIZE];
	uint8_t *data = NULL;
	size_t size = 0;

	snprintf(path, sizeof(path), "%s/attestation_type", dir);
	if (read_file(path, sizeof(a->type) - 1, &data, &size, why, sizeof(why)) != 0) {
		problem(p, "attestation_type", why);
		return;
	}
	while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r' ||
	                    data[size - 1] == ' ' || data[size - 1] == '\0'))
		size--;
	memcpy(a->type, data, size);
	a->type[size] = '\0';
	free(data);
	log_escape(shown, sizeof(shown), a->type, size, LOG_NAME_MAX);
	log_info("attestation type: %s", size ? shown : "(empty)");
}

/* Logs what the quote says and whether it carries the report data written. */
static void describe_quote(const uint8_t *data, size_t size, const uint8_t rd[TCW_REPORT_DATA_SIZE])
{
	struct tcw_quote q;
	struct tcw_error e = {0};
	char *mre, *mrs;

	if (tcw_quote_parse(data, size, &q, &e) != 0) {
		log_warn("the quote (%zu bytes) does not parse: %s; serving it as is", size,
		         e.field);
		return;
	}
	mre = tcw_hex_encode(q.mrenclave, sizeof(q.mrenclave));
	mrs = tcw_hex_encode(q.mrsigner, sizeof(q.mrsigner));
	log_info("quote: %s, %zu bytes, MRENCLAVE %s, MRSIGNER %s, ISVPRODID %u, ISVSVN %u%s",
	         tcw_quote_format_name(q.format), size, mre ? mre : "?", mrs ? mrs : "?",
	         q.isv_prod_id, q.isv_svn, tcw_quote_is_debug(&q) ? ", DEBUG enclave" : "");
	if (!tcw_ct_equal(q.report_data, rd, TCW_REPORT_DATA_SIZE))
		log_warn("the quote's REPORTDATA is not the report data just written: clients "
		         "will reject this quote");
	free(mre);
	free(mrs);
}

/* Writes the report data, then reads the quote into a->quote. */
static int collect_quote(const char *dir, const uint8_t rd[TCW_REPORT_DATA_SIZE],
                         struct attestation *a, struct problems *p)
{
	char path[PATH_SIZE], why[256];
	uint8_t *data = NULL;
	size_t size = 0;
	char *b64;

	snprintf(path, sizeof(path), "%s/user_report_data", dir);
	if (write_file(path, rd, TCW_REPORT_DATA_SIZE, why, sizeof(why)) != 0) {
		problem(p, "user_report_data", why);
		problem(p, "quote", "not read (no report data)");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/quote", dir);
	if (read_file(path, ATTESTATION_MAX_FILE, &data, &size, why, sizeof(why)) != 0) {
		problem(p, "quote", why);
		return 0;
	}
	if (size == 0) {
		free(data);
		problem(p, "quote", "empty");
		return 0;
	}
	describe_quote(data, size, rd);
	b64 = tcw_b64_encode(data, size, NULL);
	free(data);
	if (!b64)
		return TCW_ERR_NOMEM;
	free(a->quote);
	a->quote = b64;
	return 0;
}

/* Reads my_target_info; MRENCLAVE (its first 32 bytes) into a->mrenclave. */
static int collect_mrenclave(const char *dir, struct attestation *a, struct problems *p)
{
	char path[PATH_SIZE], why[256];
	uint8_t *data = NULL;
	size_t size = 0;
	char *hex;

	snprintf(path, sizeof(path), "%s/my_target_info", dir);
	if (read_file(path, ATTESTATION_MAX_FILE, &data, &size, why, sizeof(why)) != 0) {
		problem(p, "my_target_info", why);
		return 0;
	}
	if (size < TCW_SGX_MEASUREMENT_SIZE) {
		free(data);
		snprintf(why, sizeof(why), "%zu bytes, too short for MRENCLAVE", size);
		problem(p, "my_target_info", why);
		return 0;
	}
	if (size != TCW_SGX_TARGETINFO_SIZE)
		log_warn("my_target_info has %zu bytes (TARGETINFO has %d); using its first %d",
		         size, TCW_SGX_TARGETINFO_SIZE, TCW_SGX_MEASUREMENT_SIZE);
	hex = tcw_hex_encode(data, TCW_SGX_MEASUREMENT_SIZE);
	free(data);
	if (!hex)
		return TCW_ERR_NOMEM;
	free(a->mrenclave);
	a->mrenclave = hex;
	log_info("mrenclave: %s", hex);
	return 0;
}

/* Runs the §10 signup steps under dir (see attestation.h). */
int attestation_collect(const char *dir, int layout, const struct tcw_keys *keys,
                        struct attestation *out)
{
	uint8_t rd[TCW_REPORT_DATA_SIZE];
	struct problems p;
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	out->mrenclave = strdup("");
	out->quote = strdup("");
	if (!out->mrenclave || !out->quote) {
		rc = TCW_ERR_NOMEM;
		goto fail;
	}
	rc = tcw_report_data(layout, tcw_keys_verifying_pem(keys), tcw_keys_encryption_pem(keys),
	                     rd);
	if (rc != 0)
		goto fail;
	if (stat(dir, &st) != 0) {
		log_warn("no attestation files at %s (%s): not running in an SGX enclave; signup "
		         "mrenclave and quote are empty",
		         dir, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warn("no attestation files at %s (not a directory): signup mrenclave and quote "
		         "are empty",
		         dir);
		return 0;
	}
	read_type(dir, out, &p);
	rc = collect_quote(dir, rd, out, &p);
	if (rc == 0)
		rc = collect_mrenclave(dir, out, &p);
	if (rc != 0)
		goto fail;
	if (p.count)
		log_warn("attestation under %s incomplete (%s); signup quote: %s, mrenclave: %s",
		         dir, p.text, out->quote[0] ? "set" : "empty",
		         out->mrenclave[0] ? "set" : "empty");
	if (out->quote[0])
		log_info("quote REPORTDATA: %s", tcw_report_layout_name(layout));
	return 0;
fail:
	attestation_fini(out);
	return rc;
}

/* Frees the strings of a and zeroes it. */
void attestation_fini(struct attestation *a)
{
	free(a->mrenclave);
	free(a->quote);
	memset(a, 0, sizeof(*a));
}
