/*
 * NAME
 *	miltload - drive a milter alone, as an MTA would, with the benchmark's mix
 * SYNOPSIS
 *	miltload -S SOCKET -c CONNECTIONS -n MESSAGES -m MIX.IDX
 *	         [-b IP[=NAME][,...]] [-H HELO] [-r RCPT] [-P PID] [-i INTERVAL] [-l FILE]
 *	         [-u SENDERS] [-E CODE]
 * DESCRIPTION
 *	Speaks the MTA side of the milter protocol (version 6, as Postfix
 *	does; see tests/milter/milterclient.py) to the milter listening on
 *	the unix socket SOCKET, with CONNECTIONS connections at a time, each
 *	connection one message of the mix (mkmsgs.pl's mix.idx, in the order
 *	loadcommon.h gives), then the next connection:
 *
 *	    OPTNEG (offering every SMFIP_NO* and SMFIP_NR_* step, and
 *	    SMFIP_HDR_LEADSPC), CONNECT (from the addresses IP in turn, named
 *	    NAME), HELO, MAIL FROM:<LOCAL-N@DOMAIN>, RCPT TO:<RCPT>, DATA,
 *	    HEADER for a Received field of ours and each header field of the
 *	    message (folded lines joined with LF, as Postfix stores them),
 *	    EOH, BODY in chunks of at most 65535 bytes, EOM, QUIT
 *
 *	with the macros Postfix sends ({j}, {daemon_name}, v at CONNECT; i
 *	and {mail_addr} at MAIL; {rcpt_addr} at RCPT; i at EOM). A step the
 *	milter negotiated away is not sent, and a step it asked not to answer
 *	(SMFIP_NR_*) is not waited for. A refusal at any step ends the
 *	message there.
 *
 *	The reply of a message: the final answer at end of message
 *	(continue or accept: 250; a reply code: its code; reject: 550;
 *	tempfail: 451), or the refusal. Each class must get its EXPECT code;
 *	the latency runs from the connect to that answer. Prints the summary
 *	of loadcommon.h, then with -P the memory of process PID:
 *
 *	    rss pid=PID interval=I first_at=N first_kb=K last_at=N last_kb=K end_kb=K hwm_kb=K
 *samples=N:K,...
 *
 *	VmRSS sampled each time another INTERVAL messages (default 1000)
 *	were done: first_* is the first sample, last_* the last one taken
 *	while messages were still in flight, end_kb after the last message,
 *	hwm_kb the peak (VmHWM) at the end. -l FILE also writes every
 *	message's class, reply code, latency and stage (loadcommon.h).
 *
 *	-u SENDERS: message N's sender is LOCAL-(N mod SENDERS)@DOMAIN, so
 *	that runs of the same SENDERS (a multiple of the mix's cycle, which
 *	fixes each number's class) repeat the same (client network, sender,
 *	recipient) triplets: greylisting's warm-up. -E CODE: every message
 *	must get CODE instead of its class's EXPECT (451: a greylisting
 *	round that only creates the triplets).
 * DIAGNOSTICS
 *	Exit 0 when every message got its expected reply, 1 when any did not,
 *	2 on a usage or set-up error.
 */
#include "loadcommon.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* protocol flags (libmilter's mfdef.h) */
#define SMFIP_NOCONNECT   0x1
#define SMFIP_NOHELO      0x2
#define SMFIP_NOMAIL      0x4
#define SMFIP_NORCPT      0x8
#define SMFIP_NOBODY      0x10
#define SMFIP_NOHDRS      0x20
#define SMFIP_NOEOH       0x40
#define SMFIP_NR_HDR      0x80
#define SMFIP_NODATA      0x200
#define SMFIP_NR_CONN     0x1000
#define SMFIP_NR_HELO     0x2000
#define SMFIP_NR_MAIL     0x4000
#define SMFIP_NR_RCPT     0x8000
#define SMFIP_NR_DATA     0x10000
#define SMFIP_NR_EOH      0x40000
#define SMFIP_NR_BODY     0x80000
#define SMFIP_HDR_LEADSPC 0x100000
#define OFFER_PROTOCOL    0x1FFFFF
#define OFFER_ACTIONS     0x1FF
#define CHUNK             65535

static const char *prog = "miltload";

struct header {
	char *name;
	char *value; /* after the colon, leading space kept; folding as LF */
};

struct parsed {
	struct header *h;
	int nh;
	const char *body;
	size_t body_len;
};

struct client {
	char ip[64];
	char name[256];
};

static struct mix mix;
static struct parsed *parsed; /* per class, per variant */
static int parsed_base[MAX_CLASSES];
static struct sockaddr_un sun;
static struct client clients[64];
static int nclients;
static const char *helo = "mta.example.net";
static const char *rcpt = "bob@example.org";
static char date[64];
static long total, next_msg, done_msgs;
static long nsenders;  /* -u: senders repeat modulo this (0: every message its own) */
static int expect_all; /* -E: the code every message must get (0: its class's) */
static struct record *recs;

/* ---- the milter connection ------------------------------------------------ */

struct mconn {
	int fd;
	unsigned pflags;
	char err[200];
	char in[4096]; /* what was read from the milter and not yet used */
	size_t in_len, in_off;
};

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

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

/* read_all - N bytes from the milter, through the connection's buffer; false on EOF or error */
static int read_all(struct mconn *c, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		if (c->in_off == c->in_len) {
			ssize_t r = read(c->fd, c->in, sizeof(c->in));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return 0;
			c->in_len = (size_t)r;
			c->in_off = 0;
		}
		size_t k = c->in_len - c->in_off < n ? c->in_len - c->in_off : n;
		memcpy(p, c->in + c->in_off, k);
		c->in_off += k;
		p += k;
		n -= k;
	}
	return 1;
}

/* send_pkt - one packet: length, command, data */
static int send_pkt(struct mconn *c, char cmd, const char *data, size_t len)
{
	unsigned char hdr[5];
	uint32_t n = htonl((uint32_t)len + 1);

	struct iovec iov[2] = {{hdr, 5}, {(void *)data, len}};
	ssize_t w;

	memcpy(hdr, &n, 4);
	hdr[4] = (unsigned char)cmd;
	/* one system call for the packet; write_all finishes a short write */
	do
		w = writev(c->fd, iov, len > 0 ? 2 : 1);
	while (w < 0 && errno == EINTR);
	if (w < 0 || (w < 5 && !write_all(c->fd, hdr + w, 5 - (size_t)w)) ||
	    (len > 0 && (size_t)w < 5 + len &&
	     !write_all(c->fd, data + (w > 5 ? (size_t)w - 5 : 0),
	                len - (w > 5 ? (size_t)w - 5 : 0)))) {
		snprintf(c->err, sizeof(c->err), "(send %c: %s)", cmd, strerror(errno));
		return 0;
	}
	return 1;
}

/* recv_pkt - one packet into *DATA (malloc'd, NUL added); its command, or 0 on trouble */
static char recv_pkt(struct mconn *c, char **data, size_t *len)
{
	uint32_t n;
	unsigned char cmd;

	if (!read_all(c, &n, 4)) {
		snprintf(c->err, sizeof(c->err), "(no reply: %s)",
		         errno ? strerror(errno) : "connection closed");
		return 0;
	}
	n = ntohl(n);
	if (n < 1 || n > 64 * 1024 * 1024 || !read_all(c, &cmd, 1)) {
		snprintf(c->err, sizeof(c->err), "(bad packet)");
		return 0;
	}
	*len = n - 1;
	*data = malloc(*len + 1);
	if (*data == NULL || !read_all(c, *data, *len)) {
		free(*data);
		*data = NULL;
		snprintf(c->err, sizeof(c->err), "(short packet)");
		return 0;
	}
	(*data)[*len] = '\0';
	return (char)cmd;
}

/*
 * reply - read packets up to a final reply (changes before it are
 * skipped); its SMTP-like code: 0 to go on ("continue"), 250 accept,
 * the code of a reply code, 550 reject, 451 tempfail, 1 skip (body), -1 trouble
 */
static int reply(struct mconn *c, char *text, size_t size)
{
	for (;;) {
		char *data = NULL, cmd;
		size_t len;
		int code;

		cmd = recv_pkt(c, &data, &len);
		switch (cmd) {
		case 0:
			snprintf(text, size, "%s", c->err);
			return -1;
		case 'c':
			code = 0;
			break;
		case 'a':
			code = 250;
			snprintf(text, size, "accept");
			break;
		case 'y':
			code = atoi(data);
			snprintf(text, size, "%.*s", (int)(size - 1), data);
			if (code < 200 || code > 599)
				code = -1;
			break;
		case 'r':
			code = 550;
			snprintf(text, size, "reject");
			break;
		case 't':
			code = 451;
			snprintf(text, size, "tempfail");
			break;
		case 's':
			code = 1;
			break;
		case 'd':
			code = -1;
			snprintf(text, size, "discard");
			break;
		case 'p': /* progress: keep waiting */
		case 'h': /* header and envelope changes: only counted as seen */
		case 'i':
		case 'm':
		case '+':
		case '-':
		case '2':
		case 'e':
		case 'b':
		case 'q':
			free(data);
			continue;
		default:
			snprintf(text, size, "(unknown reply '%c')", cmd);
			code = -1;
		}
		free(data);
		return code;
	}
}

/* step - send a command (its macros first) and, unless NO_FLAG or NR_FLAG, read its answer */
static int step(struct mconn *c, char cmd, const char *data, size_t len, unsigned no_flag,
                unsigned nr_flag, const char *macros, size_t mlen, char *text, size_t size)
{
	if (c->pflags & no_flag)
		return 0;
	if (macros != NULL && !send_pkt(c, 'D', macros, mlen)) {
		snprintf(text, size, "%s", c->err);
		return -1;
	}
	if (!send_pkt(c, cmd, data, len)) {
		snprintf(text, size, "%s", c->err);
		return -1;
	}
	if (nr_flag && (c->pflags & nr_flag))
		return 0;
	return reply(c, text, size);
}

/* buf_add - append strings, each with its NUL, to B at *N; the new length */
static size_t buf_add(char *b, size_t n, size_t size, const char *s)
{
	size_t l = strlen(s) + 1;

	if (n + l > size)
		die(prog, "packet buffer too small");
	memcpy(b + n, s, l);
	return n + l;
}

/* one_message - message number I over its own milter connection; fills R */
static void one_message(long i, struct record *r)
{
	struct mconn c = {.fd = -1};
	char text[512], b[4096], m[1024], qid[32], recv_val[1024];
	const char *stage = "connect";
	int code = -1, cls, v;
	size_t n, mn;
	const struct client *cl = &clients[i % nclients];
	struct timeval tv = {.tv_sec = 120};
	double t0 = now_ms();

	(void)mix_pick(&mix, i, &cls);
	v = (int)((i / mix.cycle) % mix.c[cls].nv);
	const struct parsed *p = &parsed[parsed_base[cls] + v];
	r->cls = cls;
	text[0] = '\0';
	snprintf(qid, sizeof(qid), "4B%09lX", (unsigned long)i);

	c.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c.fd < 0) {
		snprintf(text, sizeof(text), "(socket: %s)", strerror(errno));
		goto done;
	}
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c.fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		snprintf(text, sizeof(text), "(connect: %s)", strerror(errno));
		goto done;
	}

	/* OPTNEG */
	stage = "optneg";
	uint32_t o[3] = {htonl(6), htonl(OFFER_ACTIONS), htonl(OFFER_PROTOCOL)};
	char *data = NULL;
	size_t len;
	if (!send_pkt(&c, 'O', (const char *)o, sizeof(o)) || recv_pkt(&c, &data, &len) != 'O' ||
	    len < 12) {
		snprintf(text, sizeof(text), "%s", c.err[0] ? c.err : "(bad OPTNEG reply)");
		free(data);
		goto done;
	}
	memcpy(o, data, 12);
	c.pflags = ntohl(o[2]);
	free(data);

	/* CONNECT, with the macros Postfix sends */
	stage = "connect";
	m[0] = 'C'; /* the command the macros are for, then NAME\0VALUE\0 pairs */
	mn = 1;
	mn = buf_add(m, mn, sizeof(m), "j");
	mn = buf_add(m, mn, sizeof(m), "mx.example.org");
	mn = buf_add(m, mn, sizeof(m), "{daemon_name}");
	mn = buf_add(m, mn, sizeof(m), "smtpd");
	mn = buf_add(m, mn, sizeof(m), "v");
	mn = buf_add(m, mn, sizeof(m), "Postfix 3.7.11");
	n = buf_add(b, 0, sizeof(b), cl->name);
	b[n++] = '4';
	uint16_t port = htons(40000 + (uint16_t)(i % 20000));
	memcpy(b + n, &port, 2);
	n += 2;
	n = buf_add(b, n, sizeof(b), cl->ip);
	if ((code = step(&c, 'C', b, n, SMFIP_NOCONNECT, SMFIP_NR_CONN, m, mn, text, sizeof(text))))
		goto done;

	stage = "helo";
	n = buf_add(b, 0, sizeof(b), helo);
	if ((code = step(&c, 'H', b, n, SMFIP_NOHELO, SMFIP_NR_HELO, NULL, 0, text, sizeof(text))))
		goto done;

	stage = "mail";
	char sender[300];
	snprintf(sender, sizeof(sender), "%s-%ld@%s", mix.c[cls].local,
	         nsenders > 0 ? i % nsenders : i, mix.c[cls].domain);
	m[0] = 'M'; /* the command the macros are for, then NAME\0VALUE\0 pairs */
	mn = 1;
	mn = buf_add(m, mn, sizeof(m), "i");
	mn = buf_add(m, mn, sizeof(m), qid);
	mn = buf_add(m, mn, sizeof(m), "{mail_addr}");
	mn = buf_add(m, mn, sizeof(m), sender);
	snprintf(b, sizeof(b), "<%s>", sender);
	n = strlen(b) + 1;
	if ((code = step(&c, 'M', b, n, SMFIP_NOMAIL, SMFIP_NR_MAIL, m, mn, text, sizeof(text))))
		goto done;

	stage = "rcpt";
	m[0] = 'R'; /* the command the macros are for, then NAME\0VALUE\0 pairs */
	mn = 1;
	mn = buf_add(m, mn, sizeof(m), "{rcpt_addr}");
	mn = buf_add(m, mn, sizeof(m), rcpt);
	snprintf(b, sizeof(b), "<%s>", rcpt);
	n = strlen(b) + 1;
	if ((code = step(&c, 'R', b, n, SMFIP_NORCPT, SMFIP_NR_RCPT, m, mn, text, sizeof(text))))
		goto done;

	stage = "data";
	if ((code = step(&c, 'T', "", 0, SMFIP_NODATA, SMFIP_NR_DATA, NULL, 0, text, sizeof(text))))
		goto done;

	/* the header: Postfix's Received field on top, then the message's own */
	stage = "header";
	snprintf(
	    recv_val, sizeof(recv_val),
	    "%sfrom %s (%s [%s])\n\tby mx.example.org (Postfix) with ESMTP id %s\n\tfor <%s>; %s",
	    (c.pflags & SMFIP_HDR_LEADSPC) ? " " : "", helo, cl->name, cl->ip, qid, rcpt, date);
	for (int h = -1; h < p->nh; h++) {
		const char *name = h < 0 ? "Received" : p->h[h].name;
		const char *val = h < 0 ? recv_val : p->h[h].value;
		size_t nl = strlen(name) + 1, vl;
		char *pkt;

		if (h >= 0 && !(c.pflags & SMFIP_HDR_LEADSPC))
			while (*val == ' ' || *val == '\t')
				val++;
		vl = strlen(val) + 1;
		pkt = malloc(nl + vl);
		if (pkt == NULL)
			die(prog, "out of memory");
		memcpy(pkt, name, nl);
		memcpy(pkt + nl, val, vl);
		code = step(&c, 'L', pkt, nl + vl, SMFIP_NOHDRS, SMFIP_NR_HDR, NULL, 0, text,
		            sizeof(text));
		free(pkt);
		if (code)
			goto done;
	}
	stage = "eoh";
	if ((code = step(&c, 'N', "", 0, SMFIP_NOEOH, SMFIP_NR_EOH, NULL, 0, text, sizeof(text))))
		goto done;

	stage = "body";
	for (size_t off = 0; off < p->body_len; off += CHUNK) {
		size_t k = p->body_len - off < CHUNK ? p->body_len - off : CHUNK;

		code = step(&c, 'B', p->body + off, k, SMFIP_NOBODY, SMFIP_NR_BODY, NULL, 0, text,
		            sizeof(text));
		if (code == 1) /* skip the rest of the body */
			break;
		if (code)
			goto done;
	}

	stage = "eom";
	m[0] = 'E'; /* the command the macros are for, then NAME\0VALUE\0 pairs */
	mn = 1;
	mn = buf_add(m, mn, sizeof(m), "i");
	mn = buf_add(m, mn, sizeof(m), qid);
	if (!send_pkt(&c, 'D', m, mn) || !send_pkt(&c, 'E', "", 0)) {
		snprintf(text, sizeof(text), "%s", c.err);
		code = -1;
		goto done;
	}
	code = reply(&c, text, sizeof(text));
	if (code == 0) {
		code = 250;
		snprintf(text, sizeof(text), "continue");
	}
done:
	r->ms = now_ms() - t0;
	r->code = code < 0 || code == 1 ? 0 : code;
	snprintf(r->stage, sizeof(r->stage), "%s", stage);
	r->text = strdup(text);
	if (c.fd >= 0) {
		(void)send_pkt(&c, 'Q', "", 0);
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
		__atomic_fetch_add(&done_msgs, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---- memory of the milter -------------------------------------------------- */

static int rss_pid;
static long rss_interval = 1000;
static long *samp_at, *samp_kb;
static int nsamp;
static volatile int monitor_stop;

/* status_kb - the value of FIELD ("VmRSS:") in /proc/PID/status, in kB; -1 if unknown */
static long status_kb(const char *field)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", rss_pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			kb = atol(line + strlen(field));
	fclose(fp);
	return kb;
}

/* monitor - VmRSS each time another rss_interval messages are done */
static void *monitor(void *arg)
{
	long mark = rss_interval;

	(void)arg;
	while (!monitor_stop) {
		long d = __atomic_load_n(&done_msgs, __ATOMIC_RELAXED);

		while (d >= mark && mark < total) {
			samp_at[nsamp] = mark;
			samp_kb[nsamp++] = status_kb("VmRSS:");
			mark += rss_interval;
		}
		usleep(10000);
	}
	return NULL;
}

/* ---- start-up ---------------------------------------------------------------- */

/* parse_message - split a message (CRLF lines) into header fields and body */
static void parse_message(const struct msgfile *f, struct parsed *p)
{
	const char *s = f->data, *end = f->data + f->len;

	memset(p, 0, sizeof(*p));
	while (s < end) {
		const char *eol, *colon;
		char *val;
		size_t vn = 0;

		if (s + 1 < end && s[0] == '\r' && s[1] == '\n') { /* the empty line */
			s += 2;
			break;
		}
		colon = memchr(s, ':', (size_t)(end - s));
		eol = memchr(s, '\n', (size_t)(end - s));
		if (colon == NULL || (eol != NULL && colon > eol))
			die(prog, "a header line without a colon");
		p->h = realloc(p->h, sizeof(*p->h) * (size_t)(p->nh + 1));
		if (p->h == NULL)
			die(prog, "out of memory");
		p->h[p->nh].name = strndup(s, (size_t)(colon - s));
		val = malloc((size_t)(end - colon));
		if (p->h[p->nh].name == NULL || val == NULL)
			die(prog, "out of memory");
		/* the value up to the end of the field: CRLF of a folded line becomes LF */
		s = colon + 1;
		for (;;) {
			eol = memchr(s, '\n', (size_t)(end - s));
			if (eol == NULL)
				eol = end;
			size_t l = (size_t)(eol - s);
			if (l > 0 && s[l - 1] == '\r')
				l--;
			memcpy(val + vn, s, l);
			vn += l;
			s = eol < end ? eol + 1 : end;
			if (s < end && (*s == ' ' || *s == '\t'))
				val[vn++] = '\n';
			else
				break;
		}
		val[vn] = '\0';
		p->h[p->nh++].value = val;
	}
	p->body = s;
	p->body_len = (size_t)(end - s);
}

static void usage(void)
{
	die(prog, "usage: miltload -S SOCKET -c CONNECTIONS -n MESSAGES -m MIX.IDX "
	          "[-b IP[=NAME][,...]] [-H HELO] [-r RCPT] [-P PID] [-i INTERVAL] [-l FILE] "
	          "[-u SENDERS] [-E CODE]");
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *idx = NULL, *latfile = NULL;
	char *clist = NULL;
	int opt, conc = 1;
	pthread_t *th, mon;
	double t0, t1;
	long mism;

	signal(SIGPIPE, SIG_IGN); /* a peer that goes away is a failed message, not our end */
	while ((opt = getopt(argc, argv, "S:c:n:m:b:H:r:P:i:l:u:E:")) != -1) {
		switch (opt) {
		case 'S':
			sock = optarg;
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
			clist = optarg;
			break;
		case 'H':
			helo = optarg;
			break;
		case 'r':
			rcpt = optarg;
			break;
		case 'P':
			rss_pid = atoi(optarg);
			break;
		case 'i':
			rss_interval = atol(optarg);
			break;
		case 'l':
			latfile = optarg;
			break;
		case 'u':
			nsenders = atol(optarg);
			if (nsenders < 1)
				usage();
			break;
		case 'E':
			expect_all = atoi(optarg);
			if (expect_all < 200 || expect_all > 599)
				usage();
			break;
		default:
			usage();
		}
	}
	if (sock == NULL || idx == NULL || conc < 1 || conc > 2000 || total < 1 ||
	    rss_interval < 1 || optind != argc || strlen(sock) >= sizeof(sun.sun_path))
		usage();
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	if (clist == NULL)
		clist = "192.0.2.10";
	for (char *save, *tok = strtok_r(clist, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		struct in_addr a;

		if (eq != NULL)
			*eq = '\0';
		if (nclients == (int)(sizeof(clients) / sizeof(clients[0])) ||
		    inet_pton(AF_INET, tok, &a) != 1 || strlen(tok) >= sizeof(clients[0].ip) ||
		    (eq != NULL && strlen(eq + 1) >= sizeof(clients[0].name)))
			die(prog, "bad client %s", tok);
		strcpy(clients[nclients].ip, tok);
		if (eq != NULL)
			strcpy(clients[nclients].name, eq + 1);
		else
			snprintf(clients[nclients].name, sizeof(clients[0].name), "[%s]", tok);
		nclients++;
	}
	time_t now = time(NULL);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000 (UTC)", gmtime(&now));

	mix_load(prog, idx, &mix);
	int np = 0;
	for (int k = 0; k < mix.nc; k++) {
		parsed_base[k] = np;
		np += mix.c[k].nv;
	}
	parsed = calloc((size_t)np, sizeof(*parsed));
	recs = calloc((size_t)total, sizeof(*recs));
	th = calloc((size_t)conc, sizeof(*th));
	samp_at = calloc((size_t)(total / rss_interval + 2), sizeof(long));
	samp_kb = calloc((size_t)(total / rss_interval + 2), sizeof(long));
	if (parsed == NULL || recs == NULL || th == NULL || samp_at == NULL || samp_kb == NULL)
		die(prog, "out of memory");
	for (int k = 0; k < mix.nc; k++)
		for (int v = 0; v < mix.c[k].nv; v++)
			parse_message(&mix.c[k].v[v], &parsed[parsed_base[k] + v]);

	if (rss_pid > 0 && pthread_create(&mon, NULL, monitor, NULL) != 0)
		die(prog, "pthread_create failed");
	t0 = now_ms();
	for (int t = 0; t < conc; t++)
		if (pthread_create(&th[t], NULL, worker, NULL) != 0)
			die(prog, "pthread_create failed");
	for (int t = 0; t < conc; t++)
		pthread_join(th[t], NULL);
	t1 = now_ms();
	if (latfile != NULL)
		write_records(prog, latfile, &mix, recs, total);
	mism = report(prog, &mix, recs, total, (t1 - t0) / 1e3, expect_all);
	if (rss_pid > 0) {
		monitor_stop = 1;
		pthread_join(mon, NULL);
		long end_kb = status_kb("VmRSS:"), hwm = status_kb("VmHWM:");

		printf("rss pid=%d interval=%ld first_at=%ld first_kb=%ld last_at=%ld last_kb=%ld "
		       "end_kb=%ld hwm_kb=%ld samples=",
		       rss_pid, rss_interval, nsamp ? samp_at[0] : 0, nsamp ? samp_kb[0] : -1,
		       nsamp ? samp_at[nsamp - 1] : 0, nsamp ? samp_kb[nsamp - 1] : -1, end_kb,
		       hwm);
		for (int k = 0; k < nsamp; k++)
			printf("%s%ld:%ld", k ? "," : "", samp_at[k], samp_kb[k]);
		printf("\n");
	}
	return mism ? 1 : 0;
}
