/*
 * NAME
 *	metrics 3 - counters, gauges and a histogram, lock-free, and their
 *	Prometheus text rendering
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	void metrics_decision(stage, action, check, reply, would);
 *	void metrics_dns_query(type, outcome); ...
 *	char *metrics_render(size_t *len);
 * DESCRIPTION
 *	The counting side is atomics only, relaxed order (but for the
 *	claim of a slot, released so that the renderer, acquiring the key,
 *	sees the label values it names): a plain counter
 *	is one atomic; a labelled family is a table of METRICS_TABLE_SLOTS
 *	(key, value) pairs, the key packing the indices (8 bits each) of
 *	its label values in the interned table plus an "in use" bit. A new
 *	label set claims the first free slot on its probe sequence with one
 *	compare-and-swap; a thread that loses the race reads the winner's
 *	key and goes on probing, so a label set has one slot. Interning a
 *	value scans the value table in order and claims the first free
 *	entry the same way (with a copy of the string), so a value has one
 *	index. Nothing is ever removed while the daemon runs.
 *
 *	The rendering side reads every atomic once (a snapshot that may be
 *	a moment apart between series, as any Prometheus client's is),
 *	sorts each family's label sets by their values, and writes the text
 *	format 0.0.4: "# HELP", "# TYPE", label values escaped (backslash,
 *	double quote, newline), a histogram's buckets cumulative with
 *	le="+Inf" equal to its _count.
 * DIAGNOSTICS
 *	None. A full table or value table is counted, not reported:
 *	policy_milter_metrics_overflow_total{family="..."}.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "util.h"

#define MAX_LABELS 7
#define IN_USE     (1ULL << 63)
#define RELAXED    memory_order_relaxed

/* One labelled counter family. */
struct family {
	const char *name; /* ends in _total */
	const char *help;
	int nlabels;
	const char *labels[MAX_LABELS];
	_Atomic uint64_t key[METRICS_TABLE_SLOTS]; /* 0: free; else IN_USE | value indices */
	_Atomic uint64_t val[METRICS_TABLE_SLOTS];
	_Atomic uint64_t overflow; /* observations that found no slot (or no value index) */
};

static struct family fam_decisions = {
    .name = "policy_milter_decisions_total",
    .help = "Decisions, as the decision log records them: by stage, action, the check "
            "that decided, the reply's basic and enhanced code, and mode (applied, or "
            "would: log or tag mode, dry run).",
    .nlabels = 6,
    .labels = {"stage", "action", "check", "code", "enhanced", "mode"}};
static struct family fam_dns = {
    .name = "policy_milter_dns_queries_total",
    .help = "DNS lookups the checks asked for (answered by the cache or the resolver), by "
            "record type and outcome.",
    .nlabels = 2,
    .labels = {"type", "outcome"}};
static struct family fam_dkim = {
    .name = "policy_milter_dkim_signatures_total",
    .help = "DKIM signatures verified at end of message, by result and algorithm.",
    .nlabels = 2,
    .labels = {"result", "algorithm"}};
static struct family fam_dmarc = {
    .name = "policy_milter_dmarc_results_total",
    .help = "DMARC evaluations, by result and the published policy that applied (\"\" "
            "when no record applied).",
    .nlabels = 2,
    .labels = {"result", "policy"}};
static struct family fam_store_ops = {
    .name = "policy_milter_store_operations_total",
    .help = "State store (greylisting, rate limits) operations, by backend and operation.",
    .nlabels = 2,
    .labels = {"backend", "op"}};
static struct family fam_store_fail = {
    .name = "policy_milter_store_failures_total",
    .help = "State store operations that failed (backend error, outage, timeout), by "
            "backend and operation.",
    .nlabels = 2,
    .labels = {"backend", "op"}};

static struct family *const families[] = {&fam_decisions, &fam_dns,       &fam_dkim,
                                          &fam_dmarc,     &fam_store_ops, &fam_store_fail};

/* The interned label values; index 0 is "", never stored. */
static _Atomic(char *) values[METRICS_MAX_VALUES + 1];

/* The DNS query time histogram: upper bounds in microseconds, and their le= text. */
static const long dns_bounds_us[] = {1000,   2500,   5000,    10000,   25000,   50000,   100000,
                                     250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const char *const dns_bounds_le[] = {"0.001", "0.0025", "0.005", "0.01", "0.025",
                                            "0.05",  "0.1",    "0.25",  "0.5",  "1",
                                            "2.5",   "5",      "10"};
#define DNS_BUCKETS PM_ARRAY_LEN(dns_bounds_us)
static _Atomic uint64_t dns_bucket[DNS_BUCKETS + 1]; /* not cumulative; the last is +Inf */
static _Atomic uint64_t dns_sum_us;

static _Atomic uint64_t sessions_open, sessions_total, internal_errors;
static _Atomic uint64_t dns_cache_hits, dns_cache_misses;
static _Atomic uint64_t generation, reload_failures, reload_last_ok, reload_last_time;
static _Atomic uint64_t start_time;
static const char *build_version = "unknown";

/* intern - the index (1..) of value s, claimed on first use; 0 for "" or NULL; -1: table full */
static int intern(const char *s)
{
	char *mine = NULL, *cur;
	size_t n;

	if (s == NULL || *s == '\0')
		return 0;
	n = strlen(s);
	if (n > METRICS_VALUE_MAX)
		n = METRICS_VALUE_MAX;
	for (int i = 1; i <= METRICS_MAX_VALUES; i++) {
		cur = atomic_load_explicit(&values[i], memory_order_acquire);
		if (cur == NULL) {
			if (mine == NULL) {
				mine = xmalloc(n + 1);
				memcpy(mine, s, n);
				mine[n] = '\0';
			}
			if (atomic_compare_exchange_strong_explicit(
			        &values[i], &cur, mine, memory_order_acq_rel, memory_order_acquire))
				return i;
			/* another thread claimed it first: cur is its value */
		}
		if (strncmp(cur, s, n) == 0 && cur[n] == '\0') {
			free(mine);
			return i;
		}
	}
	free(mine);
	return -1;
}

/* value_text - the interned value at index i */
static const char *value_text(unsigned i)
{
	const char *v;

	if (i == 0 || i > METRICS_MAX_VALUES)
		return "";
	v = atomic_load_explicit(&values[i], memory_order_acquire);
	return v != NULL ? v : "";
}

/* slot_of - where key starts probing */
static size_t slot_of(uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 40) % METRICS_TABLE_SLOTS;
}

/* family_add - n more for the nv label values v[] of f (nv: its number of labels) */
static void family_add(struct family *f, const char *const *v, int nv, uint64_t n)
{
	uint64_t key = IN_USE, k;
	size_t i;

	if (nv != f->nlabels || nv > MAX_LABELS)
		return; /* a caller's mistake: nothing sensible to count */
	for (int l = 0; l < nv; l++) {
		int idx = intern(v[l]);

		if (idx < 0) {
			atomic_fetch_add_explicit(&f->overflow, n, RELAXED);
			return;
		}
		key |= (uint64_t)idx << (8 * l);
	}
	i = slot_of(key);
	for (size_t probe = 0; probe < METRICS_TABLE_SLOTS; probe++) {
		k = atomic_load_explicit(&f->key[i], RELAXED);
		if (k == 0) {
			uint64_t expected = 0;

			/* release: whoever sees the key sees its interned values */
			if (atomic_compare_exchange_strong_explicit(&f->key[i], &expected, key,
			                                            memory_order_release, RELAXED))
				k = key;
			else
				k = expected; /* the winner's key */
		}
		if (k == key) {
			atomic_fetch_add_explicit(&f->val[i], n, RELAXED);
			return;
		}
		i = (i + 1) % METRICS_TABLE_SLOTS;
	}
	atomic_fetch_add_explicit(&f->overflow, n, RELAXED);
}

/* inc - one more */
static void inc(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, RELAXED);
}

void metrics_init(const char *version)
{
	if (version != NULL)
		build_version = version;
	atomic_store_explicit(&start_time, (uint64_t)time(NULL), RELAXED);
	atomic_store_explicit(&reload_last_ok, 1, RELAXED);
	atomic_store_explicit(&reload_last_time, (uint64_t)time(NULL), RELAXED);
}

/* digits - s holds exactly n decimal digits at its start */
static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * reply_codes - the basic code ("550") and the enhanced code ("5.7.23")
 * of a reply line into code[4] and xcode[12]; "" for either one missing
 */
static void reply_codes(const char *reply, char *code, char *xcode)
{
	size_t n, a, b, c;

	code[0] = xcode[0] = '\0';
	if (reply == NULL || !digits(reply, 3) || (reply[3] != ' ' && reply[3] != '\0'))
		return;
	memcpy(code, reply, 3);
	code[3] = '\0';
	if (reply[3] == '\0')
		return;
	reply += 4;
	if (reply[0] < '2' || reply[0] > '5' || reply[1] != '.')
		return;
	for (a = 0; a < 4 && reply[2 + a] >= '0' && reply[2 + a] <= '9'; a++)
		;
	if (a < 1 || a > 3 || reply[2 + a] != '.')
		return;
	for (b = 0; b < 4 && reply[3 + a + b] >= '0' && reply[3 + a + b] <= '9'; b++)
		;
	if (b < 1 || b > 3)
		return;
	c = 3 + a + b;
	if (reply[c] != ' ' && reply[c] != '\0')
		return;
	n = c < 11 ? c : 11;
	memcpy(xcode, reply, n);
	xcode[n] = '\0';
}

void metrics_decision(const char *stage, const char *action, const char *check, const char *reply,
                      bool would)
{
	char code[4], xcode[12];
	const char *v[6];

	reply_codes(reply, code, xcode);
	v[0] = stage;
	v[1] = action;
	v[2] = check != NULL ? check : "none";
	v[3] = code;
	v[4] = xcode;
	v[5] = would ? "would" : "applied";
	family_add(&fam_decisions, v, 6, 1);
}

void metrics_session_open(void)
{
	inc(&sessions_open);
}

void metrics_session_close(void)
{
	atomic_fetch_sub_explicit(&sessions_open, 1, RELAXED);
}

void metrics_session_connect(void)
{
	inc(&sessions_total);
}

void metrics_internal_error(void)
{
	inc(&internal_errors);
}

/* dns_type_name - the label of a record type */
static const char *dns_type_name(int type)
{
	switch (type) {
	case 1:
		return "A";
	case 2:
		return "NS";
	case 5:
		return "CNAME";
	case 6:
		return "SOA";
	case 12:
		return "PTR";
	case 15:
		return "MX";
	case 16:
		return "TXT";
	case 28:
		return "AAAA";
	default:
		return "other";
	}
}

void metrics_dns_query(int type, const char *outcome)
{
	const char *v[2] = {dns_type_name(type), outcome != NULL ? outcome : "other"};

	family_add(&fam_dns, v, 2, 1);
}

void metrics_dns_cache(bool hit)
{
	inc(hit ? &dns_cache_hits : &dns_cache_misses);
}

void metrics_dns_latency(long usec)
{
	size_t b = 0;

	if (usec < 0)
		usec = 0;
	while (b < DNS_BUCKETS && usec > dns_bounds_us[b])
		b++;
	inc(&dns_bucket[b]);
	atomic_fetch_add_explicit(&dns_sum_us, (uint64_t)usec, RELAXED);
}

void metrics_dkim_signature(const char *result, const char *algorithm)
{
	const char *v[2] = {result != NULL ? result : "none", "other"};

	if (algorithm != NULL &&
	    (strcmp(algorithm, "rsa-sha256") == 0 || strcmp(algorithm, "rsa-sha1") == 0 ||
	     strcmp(algorithm, "ed25519-sha256") == 0))
		v[1] = algorithm;
	family_add(&fam_dkim, v, 2, 1);
}

void metrics_dmarc_result(const char *result, const char *policy)
{
	const char *v[2] = {result != NULL ? result : "none", policy};

	family_add(&fam_dmarc, v, 2, 1);
}

void metrics_store_op(const char *backend, const char *op, bool ok)
{
	const char *v[2] = {backend, op};

	family_add(&fam_store_ops, v, 2, 1);
	if (!ok)
		family_add(&fam_store_fail, v, 2, 1);
}

void metrics_policy_loaded(unsigned gen)
{
	atomic_store_explicit(&generation, gen, RELAXED);
}

void metrics_reload(bool ok)
{
	if (!ok)
		inc(&reload_failures);
	atomic_store_explicit(&reload_last_ok, ok ? 1 : 0, RELAXED);
	atomic_store_explicit(&reload_last_time, (uint64_t)time(NULL), RELAXED);
}

/* ---- rendering ---------------------------------------------------------- */

/* One series of a snapshot. */
struct sample {
	uint64_t key;
	uint64_t val;
};

static int sort_nlabels; /* the family being sorted (render is serialised by the caller) */

/* key_cmp - by the label values, first label first (qsort) */
static int key_cmp(const void *a, const void *b)
{
	uint64_t ka = ((const struct sample *)a)->key, kb = ((const struct sample *)b)->key;

	for (int l = 0; l < sort_nlabels; l++) {
		int c = strcmp(value_text((unsigned)(ka >> (8 * l)) & 0xff),
		               value_text((unsigned)(kb >> (8 * l)) & 0xff));

		if (c != 0)
			return c;
	}
	return 0;
}

/* put_escaped - a label value: backslash, double quote and newline escaped */
static void put_escaped(struct strbuf *sb, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			sb_append(sb, "\\\\");
		else if (*s == '"')
			sb_append(sb, "\\\"");
		else if (*s == '\n')
			sb_append(sb, "\\n");
		else
			sb_appendc(sb, *s);
	}
}

/* put_head - the HELP and TYPE lines */
static void put_head(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	sb_appendf(sb, "# HELP %s ", name);
	for (; *help != '\0'; help++) { /* HELP escapes backslash and newline only */
		if (*help == '\\')
			sb_append(sb, "\\\\");
		else if (*help == '\n')
			sb_append(sb, "\\n");
		else
			sb_appendc(sb, *help);
	}
	sb_appendf(sb, "\n# TYPE %s %s\n", name, type);
}

/* put_one - an unlabelled series */
static void put_one(struct strbuf *sb, const char *name, const char *type, const char *help,
                    uint64_t v)
{
	put_head(sb, name, type, help);
	sb_appendf(sb, "%s %llu\n", name, (unsigned long long)v);
}

/* put_family - a labelled family, its series sorted by label values */
static void put_family(struct strbuf *sb, struct family *f)
{
	struct sample *s = xcalloc(METRICS_TABLE_SLOTS, sizeof(*s));
	size_t n = 0;

	for (size_t i = 0; i < METRICS_TABLE_SLOTS; i++) {
		uint64_t k = atomic_load_explicit(&f->key[i], memory_order_acquire);

		if (k == 0)
			continue;
		s[n].key = k;
		s[n].val = atomic_load_explicit(&f->val[i], RELAXED);
		n++;
	}
	sort_nlabels = f->nlabels;
	qsort(s, n, sizeof(*s), key_cmp);
	put_head(sb, f->name, "counter", f->help);
	for (size_t i = 0; i < n; i++) {
		sb_append(sb, f->name);
		for (int l = 0; l < f->nlabels; l++) {
			sb_appendf(sb, "%s%s=\"", l == 0 ? "{" : ",", f->labels[l]);
			put_escaped(sb, value_text((unsigned)(s[i].key >> (8 * l)) & 0xff));
			sb_appendc(sb, '"');
		}
		sb_appendf(sb, "%s %llu\n", f->nlabels > 0 ? "}" : "",
		           (unsigned long long)s[i].val);
	}
	free(s);
}

/* put_dns_histogram - the DNS query time histogram, buckets cumulative */
static void put_dns_histogram(struct strbuf *sb)
{
	const char *name = "policy_milter_dns_query_duration_seconds";
	uint64_t cum = 0;

	put_head(sb, name, "histogram",
	         "Time of the DNS queries sent to the resolver (cache misses), in seconds.");
	for (size_t b = 0; b <= DNS_BUCKETS; b++) {
		cum += atomic_load_explicit(&dns_bucket[b], RELAXED);
		sb_appendf(sb, "%s_bucket{le=\"%s\"} %llu\n", name,
		           b < DNS_BUCKETS ? dns_bounds_le[b] : "+Inf", (unsigned long long)cum);
	}
	uint64_t us = atomic_load_explicit(&dns_sum_us, RELAXED);
	sb_appendf(sb, "%s_sum %llu.%06llu\n", name, (unsigned long long)(us / 1000000),
	           (unsigned long long)(us % 1000000));
	sb_appendf(sb, "%s_count %llu\n", name, (unsigned long long)cum);
}

char *metrics_render(size_t *len)
{
	static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER; /* render side only */
	struct strbuf sb;

	if (len == NULL)
		return NULL;
	sb_init(&sb);
	pthread_mutex_lock(&render_lock);
	put_family(&sb, &fam_decisions);
	put_one(&sb, "policy_milter_sessions_open", "gauge", "Milter sessions (connections) open.",
	        atomic_load_explicit(&sessions_open, RELAXED));
	put_one(&sb, "policy_milter_sessions_total", "counter",
	        "SMTP connections the milter was told of (connect stage).",
	        atomic_load_explicit(&sessions_total, RELAXED));
	put_family(&sb, &fam_dns);
	put_one(&sb, "policy_milter_dns_cache_hits_total", "counter",
	        "DNS lookups answered by the shared cache.",
	        atomic_load_explicit(&dns_cache_hits, RELAXED));
	put_one(&sb, "policy_milter_dns_cache_misses_total", "counter",
	        "DNS lookups the shared cache could not answer.",
	        atomic_load_explicit(&dns_cache_misses, RELAXED));
	put_dns_histogram(&sb);
	put_family(&sb, &fam_dkim);
	put_family(&sb, &fam_dmarc);
	put_family(&sb, &fam_store_ops);
	put_family(&sb, &fam_store_fail);
	put_one(&sb, "policy_milter_policy_generation", "gauge",
	        "Generation of the policy in use (1 at start, one more per good reload).",
	        atomic_load_explicit(&generation, RELAXED));
	put_one(&sb, "policy_milter_reload_last_success", "gauge",
	        "1 when the last reload (or the start) installed its policy, 0 when it failed.",
	        atomic_load_explicit(&reload_last_ok, RELAXED));
	put_one(&sb, "policy_milter_reload_last_time_seconds", "gauge",
	        "When the last reload (or the start) ended, seconds since the epoch.",
	        atomic_load_explicit(&reload_last_time, RELAXED));
	put_one(&sb, "policy_milter_reload_failures_total", "counter",
	        "Reloads that kept the policy in use (a bad file, no state store).",
	        atomic_load_explicit(&reload_failures, RELAXED));
	put_one(&sb, "policy_milter_internal_errors_total", "counter",
	        "Verdicts on the milter.on_internal_error path (tempfail, or accept when failing "
	        "open).",
	        atomic_load_explicit(&internal_errors, RELAXED));
	put_one(&sb, "policy_milter_start_time_seconds", "gauge",
	        "Start time of the process, seconds since the epoch.",
	        atomic_load_explicit(&start_time, RELAXED));
	put_head(&sb, "policy_milter_build_info", "gauge", "The version running (always 1).");
	sb_append(&sb, "policy_milter_build_info{version=\"");
	put_escaped(&sb, build_version);
	sb_append(&sb, "\"} 1\n");
	put_head(&sb, "policy_milter_metrics_overflow_total", "counter",
	         "Observations not counted in their family: its table of label sets, or the "
	         "table of label values, was full.");
	for (size_t i = 0; i < PM_ARRAY_LEN(families); i++)
		sb_appendf(
		    &sb, "policy_milter_metrics_overflow_total{family=\"%s\"} %llu\n",
		    families[i]->name,
		    (unsigned long long)atomic_load_explicit(&families[i]->overflow, RELAXED));
	pthread_mutex_unlock(&render_lock);
	*len = sb.len;
	return sb_steal(&sb);
}

void metrics_reset(void)
{
	for (size_t i = 0; i < PM_ARRAY_LEN(families); i++) {
		struct family *f = families[i];

		for (size_t j = 0; j < METRICS_TABLE_SLOTS; j++) {
			atomic_store(&f->key[j], 0);
			atomic_store(&f->val[j], 0);
		}
		atomic_store(&f->overflow, 0);
	}
	for (int i = 1; i <= METRICS_MAX_VALUES; i++)
		free(atomic_exchange(&values[i], NULL));
	for (size_t b = 0; b <= DNS_BUCKETS; b++)
		atomic_store(&dns_bucket[b], 0);
	atomic_store(&dns_sum_us, 0);
	atomic_store(&sessions_open, 0);
	atomic_store(&sessions_total, 0);
	atomic_store(&internal_errors, 0);
	atomic_store(&dns_cache_hits, 0);
	atomic_store(&dns_cache_misses, 0);
	atomic_store(&generation, 0);
	atomic_store(&reload_failures, 0);
	atomic_store(&reload_last_ok, 0);
	atomic_store(&reload_last_time, 0);
	atomic_store(&start_time, 0);
	build_version = "unknown";
}
