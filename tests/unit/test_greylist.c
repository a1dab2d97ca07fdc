/*
 * NAME
 *	test_greylist - unit tests for greylist.c
 * DESCRIPTION
 *	Normalisation as a table (lower case, SRS0, SRS1, BATV prvs= and
 *	msprvs1=, +detail with the configured separators, the null sender,
 *	hostile and overlong input, input not NUL-terminated); the client
 *	network of each family and prefix; the skip decision, one reason
 *	at a time; the store keys (escaping, hashing of overlong parts);
 *	greylist_check over a fake backend (fakestore.h) with an explicit
 *	clock: new, early, passed, known, the daily refresh, a retry after
 *	the window, auto-allow after N passes, and store failures.
 * DIAGNOSTICS
 *	"case N: got X, want Y" for each mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fakestore.h"
#include "greylist.h"
#include "util.h"

/* test_normalise - the table of sender and recipient forms */
static void test_normalise(void **state)
{
	static const struct {
		const char *in, *seps, *want;
	} cases[] = {
	    {"alice@example.org", "+", "alice@example.org"},
	    {"Alice@Example.ORG", "+", "alice@example.org"},
	    {"", "+", ""},
	    {"alice+list@example.org", "+", "alice@example.org"},
	    {"alice+a+b@example.org", "+", "alice@example.org"},
	    {"alice-list@example.org", "+-", "alice@example.org"},
	    {"alice-list@example.org", "+", "alice-list@example.org"},
	    {"alice+list@example.org", "", "alice+list@example.org"},
	    {"alice+list@example.org", NULL, "alice+list@example.org"},
	    {"+alice@example.org", "+", "+alice@example.org"},
	    /* SRS */
	    {"SRS0=HHH=TT=orig.example=alice@fwd.example", "+", "alice@orig.example"},
	    {"srs0=hhh=tt=Orig.Example=Alice@fwd.example", "+", "alice@orig.example"},
	    {"SRS0+HHH=TT=orig.example=alice@fwd.example", "+", "alice@orig.example"},
	    {"SRS0-HHH=TT=orig.example=alice@fwd.example", "+", "alice@orig.example"},
	    {"SRS0=HHH=TT=orig.example=a=b@fwd.example", "+", "a=b@orig.example"},
	    {"SRS0=HHH=TT=orig.example=alice+x@fwd.example", "+", "alice@orig.example"},
	    {"SRS1=HHH=fwd1.example==HHH=TT=orig.example=alice@fwd2.example", "+",
	     "alice@orig.example"},
	    {"SRS1=HHH=fwd1.example=+HHH=TT=orig.example=alice@fwd2.example", "+",
	     "alice@orig.example"},
	    /* not SRS: left as they are (lower-cased, the detail dropped) */
	    {"SRS0=HHH=TT=orig.example@fwd.example", "+", "srs0=hhh=tt=orig.example@fwd.example"},
	    {"SRS0=HHH=TT==alice@fwd.example", "+", "srs0=hhh=tt==alice@fwd.example"},
	    {"SRS0=HHH=TT=orig.example=@fwd.example", "+", "srs0=hhh=tt=orig.example=@fwd.example"},
	    {"SRS1=HHH@fwd.example", "+", "srs1=hhh@fwd.example"},
	    {"SRS1=HHH=fwd1.example=@fwd.example", "+", "srs1=hhh=fwd1.example=@fwd.example"},
	    {"SRS2=HHH=TT=orig.example=alice@fwd.example", "+",
	     "srs2=hhh=tt=orig.example=alice@fwd.example"},
	    {"SRS0", "+", "srs0"},
	    /* BATV */
	    {"prvs=1234abcdef=alice@example.org", "+", "alice@example.org"},
	    {"PRVS=1234ABCDEF=Alice@example.org", "+", "alice@example.org"},
	    {"msprvs1=17abcdefg=alice@example.org", "+", "alice@example.org"},
	    {"MSPRVS1=17ABCDEFG=alice+x@example.org", "+", "alice@example.org"},
	    {"prvs==alice@example.org", "+", "prvs==alice@example.org"},
	    {"prvs=1234abcdef=@example.org", "+", "prvs=1234abcdef=@example.org"},
	    {"prvs=1234abcdef@example.org", "+", "prvs=1234abcdef@example.org"},
	    {"prvs=tag=SRS0=HHH=TT=orig.example=alice@fwd.example", "+", "alice@orig.example"},
	    {"SRS0=HHH=TT=orig.example=prvs=tag=alice@fwd.example", "+", "alice@orig.example"},
	    /* a local part alone (a local recipient), the last '@' separates */
	    {"postmaster", "+", "postmaster"},
	    {"a@b@example.org", "+", "a@b@example.org"},
	    /* hostile bytes are kept (keys escape them), only ASCII letters lower-cased */
	    {"Al\xc3\x89"
	     "ce@example.org",
	     "+",
	     "al\xc3\x89"
	     "ce@example.org"},
	    {"a b:c%d@example.org", "+", "a b:c%d@example.org"},
	};
	char out[GL_ADDR_MAX];
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		size_t n = greylist_normalise(cases[i].in, strlen(cases[i].in), cases[i].seps, out,
		                              sizeof(out));

		if (n == (size_t)-1 || strcmp(out, cases[i].want) != 0 || n != strlen(out)) {
			print_error("case %zu %s: got \"%s\" (%zu), want \"%s\"\n", i, cases[i].in,
			            out, n, cases[i].want);
			failed++;
		}
	}
	if (failed)
		fail_msg("%zu normalisation cases failed", failed);
}

/* test_normalise_bounds - never past len, never past out; too long is an error */
static void test_normalise_bounds(void **state)
{
	char in[2000], out[GL_ADDR_MAX], small[8];
	char *heap;
	size_t n;

	(void)state;
	/* len stops the reading: a buffer without a NUL (ASan sees any read past it) */
	heap = xmalloc(17);
	memcpy(heap, "Alice+x@Example.o", 17);
	n = greylist_normalise(heap, 17, "+", out, sizeof(out));
	assert_int_equal(n, strlen("alice@example.o"));
	assert_string_equal(out, "alice@example.o");
	free(heap);
	heap = xmalloc(5);
	memcpy(heap, "SRS0=", 5);
	n = greylist_normalise(heap, 5, "+", out, sizeof(out));
	assert_string_equal(out, "srs0=");
	free(heap);
	heap = xmalloc(11);
	memcpy(heap, "SRS1=HHH=fw", 11);
	n = greylist_normalise(heap, 11, "+", out, sizeof(out));
	assert_string_equal(out, "srs1=hhh=fw");
	free(heap);
	heap = xmalloc(5);
	memcpy(heap, "prvs=", 5);
	n = greylist_normalise(heap, 5, "+", out, sizeof(out));
	assert_string_equal(out, "prvs=");
	free(heap);
	/* a NUL inside ends the address */
	n = greylist_normalise("a@b\0c@d", 7, "+", out, sizeof(out));
	assert_string_equal(out, "a@b");
	assert_int_equal(n, 3);
	/* longer than out: an error, out empty */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[1000] = '@';
	n = greylist_normalise(in, strlen(in), "+", out, sizeof(out));
	assert_true(n == (size_t)-1);
	assert_string_equal(out, "");
	n = greylist_normalise("alice@example.org", 17, "+", small, sizeof(small));
	assert_true(n == (size_t)-1);
	assert_string_equal(small, "");
	/* exactly fits */
	n = greylist_normalise("abc@d.e", 7, "+", small, sizeof(small));
	assert_int_equal(n, 7);
	assert_string_equal(small, "abc@d.e");
	/* NULL input is the null sender; no room at all is an error */
	assert_int_equal(greylist_normalise(NULL, 3, "+", out, sizeof(out)), 0);
	assert_true(greylist_normalise("a@b", 3, "+", out, 0) == (size_t)-1);
	/* many SRS and BATV fragments: bounded work, some answer */
	for (size_t i = 0; i + 5 < sizeof(in) - 1; i += 5)
		memcpy(in + i, "SRS1=", 5);
	in[sizeof(in) - 1] = '\0';
	n = greylist_normalise(in, strlen(in), "+=", out, sizeof(out));
	assert_true(n == (size_t)-1 || n < sizeof(out));
}

/* test_network - the client network of each family */
static void test_network(void **state)
{
	static const struct {
		const char *ip;
		int v4, v6;
		const char *want;
	} cases[] = {
	    {"192.0.2.77", 24, 64, "192.0.2.0/24"},
	    {"192.0.2.77", 32, 64, "192.0.2.77/32"},
	    {"192.0.2.77", 16, 64, "192.0.0.0/16"},
	    {"192.0.2.77", 20, 64, "192.0.0.0/20"},
	    {"198.51.100.255", 25, 64, "198.51.100.128/25"},
	    {"192.0.2.77", 0, 64, "0.0.0.0/0"},
	    {"2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64"},
	    {"2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::/48"},
	    {"2001:db8:1:2:3:4:5:6", 24, 128, "2001:db8:1:2:3:4:5:6/128"},
	    {"2001:db8:1:2ff:3:4:5:6", 24, 56, "2001:db8:1:200::/56"},
	    {"2001:db8:1:2:3:4:5:6", 24, 56, "2001:db8:1::/56"},
	};
	struct pm_ip ip;
	char out[GL_NET_MAX];

	(void)state;
	for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
		assert_int_equal(pm_ip_parse(cases[i].ip, &ip), 0);
		assert_int_equal(greylist_network(&ip, cases[i].v4, cases[i].v6, out, sizeof(out)),
		                 0);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu %s: got %s, want %s", i, cases[i].ip, out,
			         cases[i].want);
	}
	ip.family = AF_UNSPEC;
	assert_int_equal(greylist_network(&ip, 24, 64, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(greylist_network(NULL, 24, 64, out, sizeof(out)), -1);
	assert_int_equal(pm_ip_parse("192.0.2.1", &ip), 0);
	assert_int_equal(greylist_network(&ip, 24, 64, out, 5), -1);
}

/* test_skip - each reason greylisting does not apply, alone */
static void test_skip(void **state)
{
	char *large[] = {"bigmail.example", "ESP.example"};
	char *exempt_rcpts[] = {"abuse-desk@example.org", "@hosted.example"};
	struct greylist_settings gs = {.mode = PM_MODE_ENFORCE,
	                               .delay = 300,
	                               .retry_window = 86400,
	                               .lifetime = 3110400,
	                               .ipv4_prefix = 24,
	                               .ipv6_prefix = 64,
	                               .large_senders = large,
	                               .nlarge_senders = 2,
	                               .exempt_recipients = exempt_rcpts,
	                               .nexempt_recipients = 2};
	struct pm_cidr nets[1];
	struct pm_ip ip, none = {.family = AF_UNSPEC}, exempt_ip;
	const char *err = NULL;
	const struct greylist_subject base = {.ip = &ip,
	                                      .sender_domain = "sender.example",
	                                      .rcpt = "bob@example.org",
	                                      .rcpt_domain = "example.org"};
	struct greylist_subject s;
	static const struct {
		int field;
		const char *want;
	} one[] = {
	    {0, NULL},
	    {1, "trusted"},
	    {2, "authenticated"},
	    {3, "allowed"},
	    {4, "postmaster"},
	    {5, "no_address"},
	    {6, "exempt_client"},
	    {7, "exempt_recipient"},
	    {8, "exempt_recipient"},
	    {9, "large_sender"},
	    {10, "large_sender"},
	    {11, "large_sender"},
	    {12, NULL}, /* SPF not pass: the sender domain alone does not skip */
	    {13, NULL}, /* a name that only ends like a listed domain */
	    {14, NULL}, /* the recipient domain below an "@domain" entry */
	};

	(void)state;
	assert_int_equal(pm_cidr_parse("203.0.113.0/24", &nets[0], &err), 0);
	gs.exempt_clients.v = nets;
	gs.exempt_clients.n = 1;
	assert_int_equal(pm_ip_parse("192.0.2.10", &ip), 0);
	assert_int_equal(pm_ip_parse("203.0.113.9", &exempt_ip), 0);
	for (size_t i = 0; i < PM_ARRAY_LEN(one); i++) {
		const char *got;

		s = base;
		switch (one[i].field) {
		case 1:
			s.trusted = true;
			break;
		case 2:
			s.authenticated = true;
			break;
		case 3:
			s.allowed = true;
			break;
		case 4:
			s.always_valid = true;
			break;
		case 5:
			s.ip = &none;
			break;
		case 6:
			s.ip = &exempt_ip;
			break;
		case 7:
			s.rcpt = "abuse-desk@example.org";
			break;
		case 8:
			s.rcpt = "x@hosted.example";
			s.rcpt_domain = "hosted.example";
			break;
		case 9:
			s.verified_name = "out12.bigmail.example";
			break;
		case 10:
			s.verified_name = "esp.example.";
			break;
		case 11:
			s.sender_domain = "news.bigmail.example";
			s.spf_pass = true;
			break;
		case 12:
			s.sender_domain = "news.bigmail.example";
			break;
		case 13:
			s.verified_name = "notbigmail.example";
			break;
		case 14:
			s.rcpt = "x@sub.hosted.example";
			s.rcpt_domain = "sub.hosted.example";
			break;
		default:
			break;
		}
		got = greylist_skip(&gs, &s);
		if ((got == NULL) != (one[i].want == NULL) ||
		    (got != NULL && strcmp(got, one[i].want) != 0))
			fail_msg("case %zu: got %s, want %s", i, got ? got : "(applies)",
			         one[i].want ? one[i].want : "(applies)");
	}
	/* the first reason wins: trusted before authenticated */
	s = base;
	s.trusted = s.authenticated = true;
	assert_string_equal(greylist_skip(&gs, &s), "trusted");
}

/* test_keys - escaping, printable keys, overlong parts hashed */
static void test_keys(void **state)
{
	struct greylist_triplet t = {"192.0.2.0/24", "alice@example.org", "bob@example.org"};
	char key[STORE_KEY_MAX + 1], key2[STORE_KEY_MAX + 1];

	(void)state;
	assert_int_equal(greylist_key(&t, key, sizeof(key)), 0);
	assert_string_equal(key, "gl:t:192.0.2.0/24:alice@example.org:bob@example.org");
	assert_int_equal(greylist_net_key("2001:db8::/64", key, sizeof(key)), 0);
	assert_string_equal(key, "gl:n:2001%3Adb8%3A%3A/64");
	snprintf(t.network, sizeof(t.network), "2001:db8::/64");
	snprintf(t.sender, sizeof(t.sender), "%s", "");
	snprintf(t.rcpt, sizeof(t.rcpt), "a b%%c:\x01\xff@x");
	assert_int_equal(greylist_key(&t, key, sizeof(key)), 0);
	assert_string_equal(key, "gl:t:2001%3Adb8%3A%3A/64::a%20b%25c%3A%01%FF@x");
	for (const char *p = key; *p; p++)
		assert_true(*p > 0x20 && *p < 0x7f);
	/* the longest parts: every key fits, distinct parts give distinct keys */
	memset(t.sender, 0xff, sizeof(t.sender) - 1);
	t.sender[sizeof(t.sender) - 1] = '\0';
	memset(t.rcpt, ':', sizeof(t.rcpt) - 1);
	t.rcpt[sizeof(t.rcpt) - 1] = '\0';
	assert_int_equal(greylist_key(&t, key, sizeof(key)), 0);
	assert_true(strlen(key) <= STORE_KEY_MAX);
	assert_non_null(strstr(key, ":#"));
	t.rcpt[3] = 'x';
	assert_int_equal(greylist_key(&t, key2, sizeof(key2)), 0);
	assert_true(strlen(key2) <= STORE_KEY_MAX);
	assert_string_not_equal(key, key2);
	/* a buffer too small for anything */
	assert_int_equal(greylist_key(&t, key, 4), -1);
	/* greylist_key_escape leaves the key whole when a part does not fit */
	{
		char k[8] = "ab";
		size_t len = 2;

		assert_int_equal(greylist_key_escape(k, sizeof(k), &len, "::::"), -1);
		assert_string_equal(k, "ab");
		assert_int_equal(len, 2);
	}
}

static const struct greylist_settings GS = {.mode = PM_MODE_ENFORCE,
                                            .delay = 300,
                                            .retry_window = 86400,
                                            .lifetime = 3110400,
                                            .ipv4_prefix = 24,
                                            .ipv6_prefix = 64,
                                            .auto_allow_after = 3};

/* check - greylist_check at fake_now; the state, age and retry_in wanted */
static void check(struct store *st, const struct greylist_settings *gs,
                  const struct greylist_triplet *t, enum greylist_state want, long age, long retry)
{
	struct greylist_result r;

	greylist_check(st, gs, t, fake_now, &r);
	if (r.state != want || r.age != age || r.retry_in != retry)
		fail_msg("at %ld %s: got %s age %ld retry %ld, want %s age %ld retry %ld",
		         (long)fake_now, t->rcpt, greylist_state_name(r.state), r.age, r.retry_in,
		         greylist_state_name(want), age, retry);
}

/* test_check - new, early, passed, known, refresh, retry after the window */
static void test_check(void **state)
{
	struct greylist_triplet t = {"192.0.2.0/24", "alice@example.org", "bob@example.org"};
	struct greylist_triplet other = t;
	struct greylist_settings gs = GS;
	struct store *st;
	char key[STORE_KEY_MAX + 1], val[STORE_VALUE_MAX + 1];
	time_t exp;
	const time_t start = 1000000;

	(void)state;
	fake_reset();
	st = fake_store();
	gs.auto_allow_after = 0;
	check(st, &gs, &t, GL_NEW, 0, 300);
	fake_now += 1;
	check(st, &gs, &t, GL_EARLY, 1, 299);
	fake_now = start + 299;
	check(st, &gs, &t, GL_EARLY, 299, 1);
	fake_now = start + 300;
	check(st, &gs, &t, GL_PASSED, 300, -1);
	/* the record lives lifetime from the pass */
	assert_int_equal(greylist_key(&t, key, sizeof(key)), 0);
	assert_int_equal(store_get(st, key, val, sizeof(val), &exp), STORE_OK);
	assert_int_equal((long)exp, (long)(fake_now + gs.lifetime));
	fake_now += 10;
	check(st, &gs, &t, GL_KNOWN, 310, -1);
	/* refreshed at most once a day */
	fake_now = start + 300 + 86399;
	check(st, &gs, &t, GL_KNOWN, 300 + 86399, -1);
	assert_int_equal(store_get(st, key, val, sizeof(val), &exp), STORE_OK);
	assert_int_equal((long)exp, (long)(start + 300 + gs.lifetime));
	fake_now = start + 300 + 86400;
	check(st, &gs, &t, GL_KNOWN, 300 + 86400, -1);
	assert_int_equal(store_get(st, key, val, sizeof(val), &exp), STORE_OK);
	assert_int_equal((long)exp, (long)(fake_now + gs.lifetime));
	/* another recipient is another triplet */
	snprintf(other.rcpt, sizeof(other.rcpt), "carol@example.org");
	check(st, &gs, &other, GL_NEW, 0, 300);
	/* a retry after the window: seen anew (the record would have expired; here it has not) */
	snprintf(other.rcpt, sizeof(other.rcpt), "dave@example.org");
	fake_now = start + 500000;
	check(st, &gs, &other, GL_NEW, 0, 300);
	assert_int_equal(greylist_key(&other, key, sizeof(key)), 0);
	assert_int_equal(store_set(st, key, "400000 0 400000", 1000000), STORE_OK);
	check(st, &gs, &other, GL_NEW, 0, 300); /* first seen 100000 s ago, never passed */
	fake_now += 300;
	check(st, &gs, &other, GL_PASSED, 300, -1);
	/* the record expired (retry_window): new again */
	snprintf(other.rcpt, sizeof(other.rcpt), "erin@example.org");
	check(st, &gs, &other, GL_NEW, 0, 300);
	fake_now += 86400;
	check(st, &gs, &other, GL_NEW, 0, 300);
	/* a record that is not ours reads as new */
	snprintf(other.rcpt, sizeof(other.rcpt), "frank@example.org");
	assert_int_equal(greylist_key(&other, key, sizeof(key)), 0);
	assert_int_equal(store_set(st, key, "garbage", 1000), STORE_OK);
	check(st, &gs, &other, GL_NEW, 0, 300);
	store_release(st);
}

/* test_auto_allow - a network that passed auto_allow_after triplets goes through */
static void test_auto_allow(void **state)
{
	struct greylist_triplet t = {"198.51.100.0/24", "alice@example.org", ""};
	struct store *st;
	char key[STORE_KEY_MAX + 1];
	unsigned long ops;

	(void)state;
	fake_reset();
	st = fake_store();
	for (int i = 0; i < GS.auto_allow_after; i++) {
		snprintf(t.rcpt, sizeof(t.rcpt), "user%d@example.org", i);
		check(st, &GS, &t, GL_NEW, 0, 300);
		fake_now += 300;
		check(st, &GS, &t, GL_PASSED, 300, -1);
		fake_now -= 300;
	}
	assert_int_equal(greylist_net_key(t.network, key, sizeof(key)), 0);
	assert_int_equal(fake_counter(key), GS.auto_allow_after);
	/* a triplet never seen: through, one store operation (the counter) */
	snprintf(t.rcpt, sizeof(t.rcpt), "new@example.org");
	ops = fake_ops;
	check(st, &GS, &t, GL_AUTO, -1, -1);
	assert_int_equal(fake_ops - ops, 1);
	/* another network is not */
	snprintf(t.network, sizeof(t.network), "198.51.101.0/24");
	check(st, &GS, &t, GL_NEW, 0, 300);
	/* a known triplet does not count twice */
	snprintf(t.network, sizeof(t.network), "203.0.113.0/24");
	check(st, &GS, &t, GL_NEW, 0, 300);
	fake_now += 300;
	check(st, &GS, &t, GL_PASSED, 300, -1);
	check(st, &GS, &t, GL_KNOWN, 300, -1);
	check(st, &GS, &t, GL_KNOWN, 300, -1);
	assert_int_equal(greylist_net_key(t.network, key, sizeof(key)), 0);
	assert_int_equal(fake_counter(key), 1);
	store_release(st);
}

/* test_store_error - every failure is GL_ERROR; no store at all too */
static void test_store_error(void **state)
{
	struct greylist_triplet t = {"192.0.2.0/24", "alice@example.org", "bob@example.org"};
	struct store *st;

	(void)state;
	fake_reset();
	check(NULL, &GS, &t, GL_ERROR, -1, -1);
	st = fake_store();
	fake_fail = true;
	check(st, &GS, &t, GL_ERROR, -1, -1);
	store_release(st);
	/* without auto-allow: the triplet read fails */
	fake_reset();
	st = fake_store();
	fake_fail = true;
	{
		struct greylist_settings gs = GS;

		gs.auto_allow_after = 0;
		check(st, &gs, &t, GL_ERROR, -1, -1);
	}
	store_release(st);
}

/* test_names - every state has its log name */
static void test_names(void **state)
{
	(void)state;
	assert_null(greylist_state_name(GL_NONE));
	assert_string_equal(greylist_state_name(GL_SKIPPED), "skipped");
	assert_string_equal(greylist_state_name(GL_NEW), "new");
	assert_string_equal(greylist_state_name(GL_EARLY), "early");
	assert_string_equal(greylist_state_name(GL_PASSED), "passed");
	assert_string_equal(greylist_state_name(GL_KNOWN), "known");
	assert_string_equal(greylist_state_name(GL_AUTO), "auto");
	assert_string_equal(greylist_state_name(GL_ERROR), "error");
	assert_true(greylist_refuses(GL_NEW));
	assert_true(greylist_refuses(GL_EARLY));
	assert_false(greylist_refuses(GL_PASSED));
	assert_false(greylist_refuses(GL_ERROR));
	assert_false(greylist_refuses(GL_SKIPPED));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalise),  cmocka_unit_test(test_normalise_bounds),
	    cmocka_unit_test(test_network),    cmocka_unit_test(test_skip),
	    cmocka_unit_test(test_keys),       cmocka_unit_test(test_check),
	    cmocka_unit_test(test_auto_allow), cmocka_unit_test(test_store_error),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
