/*
 * NAME
 *	smtpload - the benchmark's SMTP client: the mix, per-message replies and latencies
 * SYNOPSIS
 *	smtpload -s ADDR -p PORT -c CONCURRENCY -n MESSAGES -m MIX.IDX
 *	         [-b SRC[,SRC...]] [-H HELO] [-r RCPT] [-E CODE] [-l FILE]
 * DESCRIPTION
 *	Sends MESSAGES messages of the mix (mkmsgs.pl's mix.idx, in the
 *	order loadcommon.h gives) to the SMTP server ADDR:PORT over
 *	CONCURRENCY sessions at a time, each session one message, the way
 *	mail arrives at an MX: connect (from the source addresses SRC in
 *	turn), banner, EHLO HELO, MAIL FROM:<LOCAL-N@DOMAIN> (N the message
 *	number), RCPT TO:<RCPT>, DATA, the message (dot-stuffed), QUIT. A
 *	session ends early at the first refusal.
 *
 *	A message's latency runs from the connect to the reply to its final
 *	dot (or to the refusal); its reply is the code of that last reply.
 *	Each class must get its EXPECT code (mix.idx), or CODE for every
 *	class with -E (no milter: 250 for all). Prints the summary of
 *	loadcommon.h and lists the first mismatches on stderr; -l FILE also
 *	writes every message's class, reply code, latency and stage.
 *
 *	Why not smtp-source (postfix): it sends one file with one sender per
 *	process, stops at the first reply that is not 2xx (or with -A ignores
 *	it without counting), and says nothing of each message's reply or
 *	latency; this benchmark must count the 250 and 550 replies of every
 *	class and time every message.
 * DIAGNOSTICS
 *	Exit 0 when every message got its expected reply, 1 when any did not,
 *	2 on a usage or set-up error.
 */
#include "loadcommon.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static const char *prog = "smtpload";
static struct mix mix;
static struct sockaddr_in server;
static struct in_addr srcs[64];
static int nsrc;
static const char *helo = "mta.example.net";
static const char *rcpt = "bob@example.org";
static long total;
static long next_msg;
static struct record *recs;
static char **wire; /* each message dot-stuffed, with the final dot */
static size_t *wire_len;
static int nwire;
static int wire_base[MAX_CLASSES];

struct conn {
	int fd;
	char buf[8192];
	size_t len, off;
};

/* read_line - the next line without CRLF into OUT; false on EOF, error or timeout */
static int read_line(struct conn *c, char *out, size_t size)
{
	size_t n = 0;

	for (;;) {
		while (c->off < c->len) {
			char ch = c->buf[c->off++];

			if (ch == '\n') {
				if (n > 0 && out[n - 1] == '\r')
					n--;
				out[n] = '\0';
				return 1;
			}
			if (n + 1 < size)
				out[n++] = ch;
		}
		ssize_t r = read(c->fd, c->buf, sizeof(c->buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		c->len = (size_t)r;
		c->off = 0;
	}
}

/* read_reply - one (multi-line) reply: its code, the first line in TEXT; 0 on trouble */
static int read_reply(struct conn *c, char *text, size_t size)
{
	char line[1024];
	int first = 1;

	for (;;) {
		if (!read_line(c, line, sizeof(line))) {
			if (first)
				snprintf(text, size, "(no reply: %s)",
				         errno ? strerror(errno) : "connection closed");
			return 0;
		}
		if (first) {
			size_t l = strlen(line) < size ? strlen(line) : size - 1;

			memcpy(text, line, l);
			text[l] = '\0';
		}
		first = 0;
		if (strlen(line) < 3 || line[3] != '-')
			return atoi(line);
	}
}

/* write_all - the whole buffer; false on error */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		p += w;
		n -= (size_t)w;
	}
	return 1;
}

/* command - send LINE (CRLF added), read the reply */
static int command(struct conn *c, const char *line, char *text, size_t size)
{
	char buf[1100];
	int n = snprintf(buf, sizeof(buf), "%s\r\n", line);

	if (n < 0 || (size_t)n >= sizeof(buf) || !write_all(c->fd, buf, (size_t)n)) {
		snprintf(text, size, "(cannot send: %s)", strerror(errno));
		return 0;
	}
	return read_reply(c, text, size);
}

/* one_message - send message number I in its own session; fills R */
static void one_message(long i, struct record *r)
{
	struct conn c = {.fd = -1};
	char text[512], line[600];
	const char *stage = "connect";
	int code = 0, cls, one = 1, v;
	struct timeval tv = {.tv_sec = 120};
	struct sockaddr_in src = {.sin_family = AF_INET};
	double t0 = now_ms();

	(void)mix_pick(&mix, i, &cls);
	v = (int)((i / mix.cycle) % mix.c[cls].nv);
	r->cls = cls;
	text[0] = '\0';
	src.sin_addr = srcs[i % nsrc];
	c.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c.fd < 0) {
		snprintf(text, sizeof(text), "(socket: %s)", strerror(errno));
		goto done;
	}
	setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (bind(c.fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    connect(c.fd, (struct sockaddr *)&server, sizeof(server)) != 0) {
		snprintf(text, sizeof(text), "(connect: %s)", strerror(errno));
		goto done;
	}
	stage = "banner";
	if ((code = read_reply(&c, text, sizeof(text))) != 220)
		goto done;
	stage = "ehlo";
	snprintf(line, sizeof(line), "EHLO %s", helo);
	if ((code = command(&c, line, text, sizeof(text))) != 250)
		goto done;
	stage = "mail";
	snprintf(line, sizeof(line), "MAIL FROM:<%s-%ld@%s>", mix.c[cls].local, i,
	         mix.c[cls].domain);
	if ((code = command(&c, line, text, sizeof(text))) != 250)
		goto done;
	stage = "rcpt";
	snprintf(line, sizeof(line), "RCPT TO:<%s>", rcpt);
	if ((code = command(&c, line, text, sizeof(text))) != 250)
		goto done;
	stage = "data";
	if ((code = command(&c, "DATA", text, sizeof(text))) != 354) {
		if (code == 250) /* not what DATA may answer */
			code = 0;
		goto done;
	}
	stage = "dot";
	int w = wire_base[cls] + v;
	if (!write_all(c.fd, wire[w], wire_len[w])) {
		snprintf(text, sizeof(text), "(cannot send the message: %s)", strerror(errno));
		code = 0;
		goto done;
	}
	code = read_reply(&c, text, sizeof(text));
done:
	r->ms = now_ms() - t0;
	r->code = code;
	snprintf(r->stage, sizeof(r->stage), "%s", stage);
	r->text = strdup(text);
	if (c.fd >= 0) {
		if (code != 0 && strcmp(stage, "connect") != 0) {
			char bye[256];
			(void)command(&c, "QUIT", bye, sizeof(bye));
		}
		close(c.fd);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		long i = __atomic_fetch_add(&next_msg, 1, __ATOMIC_RELAXED);

		if (i >= total)
			break;
		one_message(i, &recs[i]);
	}
	return NULL;
}

/* stuff - the wire form of a message: dot-stuffed, ending in CRLF, then ".\r\n" */
static void stuff(const struct msgfile *f, char **out, size_t *outlen)
{
	char *p = malloc(f->len * 2 + 8);
	size_t n = 0;
	int bol = 1;

	if (p == NULL)
		die(prog, "out of memory");
	for (size_t k = 0; k < f->len; k++) {
		if (bol && f->data[k] == '.')
			p[n++] = '.';
		p[n++] = f->data[k];
		bol = f->data[k] == '\n';
	}
	if (!bol) {
		p[n++] = '\r';
		p[n++] = '\n';
	}
	memcpy(p + n, ".\r\n", 3);
	*out = p;
	*outlen = n + 3;
}

static void usage(void)
{
	die(prog, "usage: smtpload -s ADDR -p PORT -c CONCURRENCY -n MESSAGES -m MIX.IDX "
	          "[-b SRC[,SRC...]] [-H HELO] [-r RCPT] [-E CODE] [-l FILE]");
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *idx = NULL, *latfile = NULL;
	char *srclist = NULL;
	int opt, port = 25, conc = 1, expect_all = 0;
	pthread_t *th;
	double t0, t1;

	signal(SIGPIPE, SIG_IGN); /* a peer that goes away is a failed message, not our end */
	while ((opt = getopt(argc, argv, "s:p:c:n:m:b:H:r:E:l:")) != -1) {
		switch (opt) {
		case 's':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			conc = atoi(optarg);
			break;
		case 'n':
			total = atol(optarg);
			break;
		case 'm':
			idx = optarg;
			break;
		case 'b':
			srclist = optarg;
			break;
		case 'H':
			helo = optarg;
			break;
		case 'r':
			rcpt = optarg;
			break;
		case 'E':
			expect_all = atoi(optarg);
			break;
		case 'l':
			latfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (addr == NULL || idx == NULL || port < 1 || port > 65535 || conc < 1 || conc > 1000 ||
	    total < 1 || optind != argc)
		usage();
	server.sin_family = AF_INET;
	server.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &server.sin_addr) != 1)
		die(prog, "bad address %s", addr);
	if (srclist == NULL)
		srclist = "0.0.0.0";
	for (char *save, *tok = strtok_r(srclist, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (nsrc == (int)(sizeof(srcs) / sizeof(srcs[0])) ||
		    inet_pton(AF_INET, tok, &srcs[nsrc]) != 1)
			die(prog, "bad source address %s", tok);
		nsrc++;
	}
	mix_load(prog, idx, &mix);
	for (int k = 0; k < mix.nc; k++)
		nwire += mix.c[k].nv;
	wire = calloc((size_t)nwire, sizeof(*wire));
	wire_len = calloc((size_t)nwire, sizeof(*wire_len));
	recs = calloc((size_t)total, sizeof(*recs));
	th = calloc((size_t)conc, sizeof(*th));
	if (wire == NULL || wire_len == NULL || recs == NULL || th == NULL)
		die(prog, "out of memory");
	for (int k = 0, w = 0; k < mix.nc; k++) {
		wire_base[k] = w;
		for (int v = 0; v < mix.c[k].nv; v++, w++)
			stuff(&mix.c[k].v[v], &wire[w], &wire_len[w]);
	}

	t0 = now_ms();
	for (int t = 0; t < conc; t++)
		if (pthread_create(&th[t], NULL, worker, NULL) != 0)
			die(prog, "pthread_create failed");
	for (int t = 0; t < conc; t++)
		pthread_join(th[t], NULL);
	t1 = now_ms();
	if (latfile != NULL)
		write_records(prog, latfile, &mix, recs, total);
	return report(prog, &mix, recs, total, (t1 - t0) / 1e3, expect_all) ? 1 : 0;
}
