/*
 * NAME
 *	faultdns - a DNS forwarder that breaks on request (tests/faults)
 * SYNOPSIS
 *	faultdns ADDRESS PORT UPSTREAM RULES LOG
 * DESCRIPTION
 *	Listens for DNS queries over UDP on ADDRESS:PORT and forwards each
 *	one, unchanged, to UPSTREAM (an IPv4 address, port 53: nsd in the
 *	fault suite), then relays the answer, unchanged, to the client:
 *	unless a line of the RULES file says otherwise for that query.
 *	RULES is read again whenever it changes (checked at each query), so a
 *	test switches faults on and off while the server runs. One rule a
 *	line, the first line that matches wins; "#" starts a comment:
 *
 *	    SUFFIX TYPE ACTION [SECONDS]
 *
 *	SUFFIX matches the query name itself and every name below it, case
 *	insensitively ("." matches every name); TYPE is A, AAAA, MX, TXT,
 *	PTR, NS, SOA or "*". ACTION is one of
 *	    delay N   forward at once, but hold the answer until N seconds
 *	              after the query came in (the answer as nsd gave it)
 *	    servfail  answer SERVFAIL at once, never asking upstream
 *	    drop      never answer
 *	A query no rule matches is forwarded and answered at once.
 *
 *	Every query is logged to LOG as one line, written at once:
 *	    SECONDS.MILLIS QNAME QTYPE ACTION
 *	(the time since the epoch, the name as asked, the type number, and
 *	forward, delay:N, servfail or drop), so a test can see which lookups
 *	a filter made and when.
 *
 *	No TCP: the milter's resolver uses EDNS0 and every answer of the test
 *	zones fits in UDP; a TCP connection attempt is refused by the kernel,
 *	which the resolver takes as a failed server.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr when its arguments are wrong or it
 *	cannot bind; otherwise runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING 900 /* queries waiting for upstream or for their release */
#define MAX_RULES   64
#define MSG_SIZE    65536
#define UP_WAIT_MS  10000 /* how long upstream may take before a query is given up */

enum action { ACT_FORWARD, ACT_DELAY, ACT_SERVFAIL, ACT_DROP };

struct rule {
	char suffix[256];
	int type; /* 0: any */
	enum action act;
	int seconds;
};

struct pending {
	int fd; /* connected to upstream; -1: slot free */
	struct sockaddr_in client;
	long long release_ms; /* answer the client no earlier than this */
	long long give_up_ms; /* no answer from upstream by then: drop it */
	unsigned char *answer;
	size_t answer_len; /* 0: none yet */
};

static struct rule rules[MAX_RULES];
static int nrules;
static struct stat rules_st;
static const char *rules_path;
static FILE *logf;
static struct pending pend[MAX_PENDING];

/* now_ms - the monotonic clock in milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* type_number - the number of a type name ("*": 0); -1 when unknown */
static int type_number(const char *s)
{
	static const struct {
		const char *name;
		int num;
	} types[] = {{"*", 0},    {"A", 1},   {"NS", 2},   {"SOA", 6},
	             {"PTR", 12}, {"MX", 15}, {"TXT", 16}, {"AAAA", 28}};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].num;
	return -1;
}

/* load_rules - read RULES again when it changed since the last read (a missing file: no rules) */
static void load_rules(void)
{
	struct stat st;
	FILE *f;
	char line[512];

	if (stat(rules_path, &st) != 0) {
		nrules = 0;
		memset(&rules_st, 0, sizeof(rules_st));
		return;
	}
	if (st.st_ino == rules_st.st_ino && st.st_size == rules_st.st_size &&
	    st.st_mtim.tv_sec == rules_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == rules_st.st_mtim.tv_nsec)
		return;
	f = fopen(rules_path, "r");
	if (f == NULL)
		return; /* keep the old rules; try again at the next query */
	rules_st = st;
	nrules = 0;
	while (fgets(line, sizeof(line), f) != NULL && nrules < MAX_RULES) {
		char suffix[256], type[16], act[16];
		int secs = 0, n;
		struct rule *r = &rules[nrules];
		char *hash = strchr(line, '#');

		if (hash != NULL)
			*hash = '\0';
		n = sscanf(line, "%255s %15s %15s %d", suffix, type, act, &secs);
		if (n < 3)
			continue;
		r->type = type_number(type);
		if (r->type < 0) {
			fprintf(stderr, "faultdns: %s: unknown type %s (line ignored)\n",
			        rules_path, type);
			continue;
		}
		if (strcmp(act, "delay") == 0 && n == 4 && secs >= 0)
			r->act = ACT_DELAY;
		else if (strcmp(act, "servfail") == 0)
			r->act = ACT_SERVFAIL;
		else if (strcmp(act, "drop") == 0)
			r->act = ACT_DROP;
		else {
			fprintf(stderr, "faultdns: %s: bad action \"%s\" (line ignored)\n",
			        rules_path, act);
			continue;
		}
		/* "." (or "*") is the root: every name; else drop a trailing dot */
		if (strcmp(suffix, ".") == 0 || strcmp(suffix, "*") == 0)
			suffix[0] = '\0';
		else if (suffix[0] != '\0' && suffix[strlen(suffix) - 1] == '.')
			suffix[strlen(suffix) - 1] = '\0';
		memcpy(r->suffix, suffix, strlen(suffix) + 1);
		r->seconds = secs;
		nrules++;
	}
	fclose(f);
}

/*
 * question - the query's name (dotted, no trailing dot) into name and its
 * type into *type; 0, or -1 when m (n bytes) is not a query with one question
 */
static int question(const unsigned char *m, size_t n, char *name, size_t size, int *type)
{
	size_t i = 12, o = 0;

	if (n < 12 || (m[2] & 0x80) != 0 || m[4] != 0 || m[5] != 1)
		return -1;
	while (i < n && m[i] != 0) {
		size_t len = m[i++];

		if (len > 63 || i + len > n || o + len + 2 > size)
			return -1;
		if (o > 0)
			name[o++] = '.';
		memcpy(name + o, m + i, len);
		o += len;
		i += len;
	}
	if (i + 5 > n)
		return -1;
	name[o] = '\0';
	*type = m[i + 1] << 8 | m[i + 2];
	return 0;
}

/* match - the first rule for (name, type), or NULL */
static const struct rule *match(const char *name, int type)
{
	size_t nl = strlen(name);
	int i;

	for (i = 0; i < nrules; i++) {
		const struct rule *r = &rules[i];
		size_t sl = strlen(r->suffix);

		if (r->type != 0 && r->type != type)
			continue;
		if (sl == 0 || (nl == sl && strcasecmp(name, r->suffix) == 0) ||
		    (nl > sl && name[nl - sl - 1] == '.' &&
		     strcasecmp(name + nl - sl, r->suffix) == 0))
			return r;
	}
	return NULL;
}

/* log_query - one line per query */
static void log_query(const char *name, int type, const struct rule *r)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(logf, "%lld.%03ld %s %d ", (long long)ts.tv_sec, ts.tv_nsec / 1000000, name, type);
	if (r == NULL)
		fprintf(logf, "forward\n");
	else if (r->act == ACT_DELAY)
		fprintf(logf, "delay:%d\n", r->seconds);
	else
		fprintf(logf, "%s\n", r->act == ACT_SERVFAIL ? "servfail" : "drop");
	fflush(logf);
}

/* pending_free - close a slot */
static void pending_free(struct pending *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->answer);
	p->answer = NULL;
	p->answer_len = 0;
}

/* forward - send the query upstream from a socket of its own; hold it in a free slot */
static void forward(const unsigned char *m, size_t n, const struct sockaddr_in *client,
                    const struct sockaddr_in *up, int delay_s)
{
	int i, fd;
	long long t = now_ms();

	for (i = 0; i < MAX_PENDING && pend[i].fd >= 0; i++)
		;
	if (i == MAX_PENDING)
		return; /* too many at once: like a lost packet */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (const struct sockaddr *)up, sizeof(*up)) != 0 || send(fd, m, n, 0) < 0) {
		close(fd);
		return;
	}
	pend[i].fd = fd;
	pend[i].client = *client;
	pend[i].release_ms = t + (long long)delay_s * 1000;
	pend[i].give_up_ms = pend[i].release_ms + UP_WAIT_MS;
	pend[i].answer = NULL;
	pend[i].answer_len = 0;
}

/* bind_udp - a UDP socket bound to addr:port, or exit */
static int bind_udp(const char *addr, int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (fd < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		fprintf(stderr, "faultdns: cannot bind %s:%d: %s\n", addr, port, strerror(errno));
		exit(1);
	}
	return fd;
}

/* main - serve forever */
int main(int argc, char **argv)
{
	static unsigned char buf[MSG_SIZE];
	struct sockaddr_in up;
	struct pollfd *pfd;
	int *slot, lfd, i;

	if (argc != 6) {
		fprintf(stderr, "usage: faultdns ADDRESS PORT UPSTREAM RULES LOG\n");
		return 1;
	}
	memset(&up, 0, sizeof(up));
	up.sin_family = AF_INET;
	up.sin_port = htons(53);
	if (inet_pton(AF_INET, argv[3], &up.sin_addr) != 1) {
		fprintf(stderr, "faultdns: bad upstream address %s\n", argv[3]);
		return 1;
	}
	rules_path = argv[4];
	logf = fopen(argv[5], "a");
	if (logf == NULL) {
		fprintf(stderr, "faultdns: %s: %s\n", argv[5], strerror(errno));
		return 1;
	}
	for (i = 0; i < MAX_PENDING; i++)
		pend[i].fd = -1;
	lfd = bind_udp(argv[1], atoi(argv[2]));
	pfd = calloc(MAX_PENDING + 1, sizeof(*pfd));
	slot = calloc(MAX_PENDING + 1, sizeof(*slot));
	if (pfd == NULL || slot == NULL)
		return 1;
	for (;;) {
		long long t = now_ms(), next = t + 1000;
		int np = 1;

		/* answers due now go out; upstream that never answered is given up */
		for (i = 0; i < MAX_PENDING; i++) {
			struct pending *p = &pend[i];

			if (p->fd < 0)
				continue;
			if (p->answer_len > 0 && t >= p->release_ms) {
				(void)sendto(lfd, p->answer, p->answer_len, 0,
				             (struct sockaddr *)&p->client, sizeof(p->client));
				pending_free(p);
				continue;
			}
			if (t >= p->give_up_ms) {
				pending_free(p);
				continue;
			}
			if (p->answer_len > 0) {
				if (p->release_ms < next)
					next = p->release_ms;
				continue;
			}
			if (p->give_up_ms < next)
				next = p->give_up_ms;
			pfd[np].fd = p->fd;
			pfd[np].events = POLLIN;
			slot[np++] = i;
		}
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		if (poll(pfd, (nfds_t)np, (int)(next > t ? next - t : 0)) < 0) {
			if (errno == EINTR)
				continue;
			perror("faultdns: poll");
			return 1;
		}
		for (i = 1; i < np; i++) {
			struct pending *p = &pend[slot[i]];
			ssize_t n;

			if ((pfd[i].revents & (POLLIN | POLLERR)) == 0)
				continue;
			n = recv(p->fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				pending_free(
				    p); /* upstream refused (stopped): the client hears nothing */
				continue;
			}
			p->answer = malloc((size_t)n);
			if (p->answer == NULL) {
				pending_free(p);
				continue;
			}
			memcpy(p->answer, buf, (size_t)n);
			p->answer_len = (size_t)n;
		}
		if (pfd[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n =
			    recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			char name[256];
			int type;
			const struct rule *r;

			if (n <= 0 || question(buf, (size_t)n, name, sizeof(name), &type) != 0)
				continue;
			load_rules();
			r = match(name, type);
			log_query(name, type, r);
			if (r == NULL || r->act == ACT_DELAY) {
				forward(buf, (size_t)n, &from, &up, r == NULL ? 0 : r->seconds);
			} else if (r->act == ACT_SERVFAIL) {
				buf[2] = (unsigned char)(0x80 | (buf[2] & 0x01)); /* QR, keep RD */
				buf[3] = 0x80 | 2;                                /* RA, SERVFAIL */
				(void)sendto(lfd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
			}
			/* ACT_DROP: nothing */
		}
	}
}
