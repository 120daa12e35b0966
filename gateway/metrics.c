/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.c - /metrics in the Prometheus text format: orders, workers, errors, store commits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

const double gw_hist_bounds[GW_HIST_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                0.05,   0.1,   0.25,   0.5,   1.0,  1e300};

/* Records a worker round trip of us microseconds. */
void gw_worker_latency(struct gw_worker *w, uint64_t us)
{
	size_t b = 0;

	while (b + 1 < GW_HIST_BUCKETS && (double)us / 1e6 > gw_hist_bounds[b])
		b++;
	atomic_fetch_add(&w->lat_hist[b], 1);
	atomic_fetch_add(&w->lat_us_total, us);
	atomic_fetch_add(&w->lat_count, 1);
}

/* Writes a histogram with cumulative buckets. */
static void histogram(FILE *f, const char *name, const char *labels, const uint64_t *counts,
                      size_t n, const double *bounds, double sum, uint64_t count)
{
	uint64_t cum = 0;

	for (size_t i = 0; i < n; i++) {
		cum += counts[i];
		if (i + 1 == n)
			fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, labels[0] ? "," : "",
			        (unsigned long long)cum);
		else
			fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, labels[0] ? "," : "",
			        bounds[i], (unsigned long long)cum);
	}
	fprintf(f, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels,
	        labels[0] ? "}" : "", sum, name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
	        (unsigned long long)count);
}

static const char *const g_states[3] = {"queued", "done", "failed"};
static const char *const g_codes[14] = {"0",      "1",      "2",      "3",      "4",
                                        "5",      "6",      "7",      "8",      "-32700",
                                        "-32600", "-32601", "other",  "-32602"};

/* The /metrics text (see gateway.h). */
char *gw_metrics_text(struct gw *g, size_t *len)
{
	struct store_stats st;
	int64_t counts[3] = {0, 0, 0};
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	double bounds[12];
	uint64_t hist[GW_HIST_BUCKETS];

	if (!f)
		return NULL;
	fprintf(f, "# HELP tcgw_orders Work orders in the store by state.\n"
	           "# TYPE tcgw_orders gauge\n");
	if (store_count_orders(g->store, counts) == 0)
		for (int i = 0; i < 3; i++)
			fprintf(f, "tcgw_orders{state=\"%s\"} %lld\n", g_states[i], (long long)counts[i]);
	fprintf(f, "# HELP tcgw_orders_submitted_total Orders accepted by this gateway.\n"
	           "# TYPE tcgw_orders_submitted_total counter\n"
	           "tcgw_orders_submitted_total %llu\n",
	        (unsigned long long)atomic_load(&g->m.submitted));
	fprintf(f, "# HELP tcgw_worker_in_flight Orders sent to a worker, reply pending.\n"
	           "# TYPE tcgw_worker_in_flight gauge\n");
	for (size_t i = 0; i < g->worker_count; i++)
		fprintf(f, "tcgw_worker_in_flight{worker=\"%s\"} %llu\n", g->workers[i].name,
		        (unsigned long long)atomic_load(&g->workers[i].in_flight));
	fprintf(f, "# HELP tcgw_worker_up 1 when the worker is active.\n"
	           "# TYPE tcgw_worker_up gauge\n");
	for (size_t i = 0; i < g->worker_count; i++) {
		struct gw_worker *w = &g->workers[i];
		int up;

		pthread_mutex_lock(&w->mu);
		up = w->status == WS_ACTIVE && !w->admin_status;
		pthread_mutex_unlock(&w->mu);
		fprintf(f, "tcgw_worker_up{worker=\"%s\"} %d\n", w->name, up);
	}
	fprintf(f, "# HELP tcgw_worker_latency_seconds Send to reply, per worker.\n"
	           "# TYPE tcgw_worker_latency_seconds histogram\n");
	for (size_t i = 0; i < g->worker_count; i++) {
		struct gw_worker *w = &g->workers[i];
		char labels[300];

		for (size_t b = 0; b < GW_HIST_BUCKETS; b++)
			hist[b] = atomic_load(&w->lat_hist[b]);
		snprintf(labels, sizeof(labels), "worker=\"%s\"", w->name);
		histogram(f, "tcgw_worker_latency_seconds", labels, hist, GW_HIST_BUCKETS,
		          gw_hist_bounds, (double)atomic_load(&w->lat_us_total) / 1e6,
		          atomic_load(&w->lat_count));
	}
	fprintf(f, "# HELP tcgw_rpc_errors_total JSON-RPC error replies by code.\n"
	           "# TYPE tcgw_rpc_errors_total counter\n");
	for (int i = 0; i < 14; i++)
		fprintf(f, "tcgw_rpc_errors_total{code=\"%s\"} %llu\n", g_codes[i],
		        (unsigned long long)atomic_load(&g->m.rpc_errors[i]));
	fprintf(f, "# HELP tcgw_worker_busy_total \"Worker busy\" replies (back-off).\n"
	           "# TYPE tcgw_worker_busy_total counter\ntcgw_worker_busy_total %llu\n"
	           "# HELP tcgw_orders_resent_total Orders sent again after a lost reply.\n"
	           "# TYPE tcgw_orders_resent_total counter\ntcgw_orders_resent_total %llu\n"
	           "# HELP tcgw_http_requests_total HTTP requests.\n"
	           "# TYPE tcgw_http_requests_total counter\ntcgw_http_requests_total %llu\n"
	           "# HELP tcgw_http_rejected_total HTTP requests refused before JSON-RPC.\n"
	           "# TYPE tcgw_http_rejected_total counter\ntcgw_http_rejected_total %llu\n",
	        (unsigned long long)atomic_load(&g->m.busy_replies),
	        (unsigned long long)atomic_load(&g->m.resent),
	        (unsigned long long)atomic_load(&g->m.http_requests),
	        (unsigned long long)atomic_load(&g->m.http_rejected));
	store_get_stats(g->store, &st);
	for (int i = 0; i < 12; i++)
		bounds[i] = (double)store_hist_bounds_us[i] / 1e6;
	fprintf(f, "# HELP tcgw_store_commit_seconds Store commit (one group of writes) latency.\n"
	           "# TYPE tcgw_store_commit_seconds histogram\n");
	histogram(f, "tcgw_store_commit_seconds", "", st.commit_hist, 12, bounds,
	          (double)st.commit_us_total / 1e6, st.commits);
	fprintf(f, "# HELP tcgw_store_writes_total Writes committed (several per commit).\n"
	           "# TYPE tcgw_store_writes_total counter\ntcgw_store_writes_total %llu\n",
	        (unsigned long long)st.ops);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
