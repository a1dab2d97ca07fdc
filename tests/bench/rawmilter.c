/*
 * NAME
 *	rawmilter - the null milter without libmilter: what the milter protocol costs by itself
 * SYNOPSIS
 *	rawmilter -p unix:SOCKET [-m epoll|threads] [-b BACKLOG] [-t TIMEOUT]
 * DESCRIPTION
 *	A prototype for the benchmark (tests/bench/README, "libmilter's
 *	share"): the null milter of nullmilter.c, with the same negotiation
 *	and the same answers, speaking the milter protocol (version 6) itself
 *	instead of through libmilter. Among what the MTA offers it takes
 *	the actions SMFIF_ADDHDRS, SMFIF_CHGHDRS and SMFIF_QUARANTINE (and
 *	SMFIF_SETSYMLIST, with policy-milter's macro lists), and the
 *	protocol steps SMFIP_HDR_LEADSPC, SMFIP_NR_HDR, SMFIP_NR_EOH,
 *	SMFIP_NR_BODY, SMFIP_NODATA and SMFIP_NOUNKNOWN; it answers
 *	"continue" at every step the MTA waits for, nothing where it was
 *	told not to wait, and at end of message inserts one short
 *	Authentication-Results field on top ('i' at index 0) before the
 *	"continue" (tempfail when the MTA did not grant SMFIF_ADDHDRS, as
 *	smfi_insheader fails then). QUIT closes, QUIT_NC keeps the
 *	connection, and what was negotiated, for the next one (CONNECT
 *	comes next, as libmilter expects); an unknown command, a packet longer
 *	than 1 MiB or a read error closes it. Unlike libmilter it does not
 *	check the order of the commands (a null milter has no state to
 *	protect).
 *
 *	Input is read in large pieces (up to 64 KiB a read) and every
 *	complete packet in it is handled before the next read, so the
 *	header packets that Postfix sends without waiting cost one read
 *	between them, not two per packet (libmilter reads the length, then
 *	the packet, each after a poll); the replies of one read go out in
 *	one write.
 *
 *	-m epoll (default): one thread, non-blocking sockets, one epoll set
 *	(each connection keeps its 64 KiB input buffer for the next one);
 *	a connection idle for TIMEOUT seconds is closed (checked once a
 *	second). The cheapest design for a milter that does no blocking work.
 *
 *	-m threads: one thread per connection, kept in a pool: a thread whose
 *	connection ended waits (up to 60 s) for the next one instead of
 *	exiting, so threads are created only when more connections are open
 *	at once than ever before; blocking reads with SO_RCVTIMEO (TIMEOUT);
 *	stacks of 256 KiB. The design a milter with blocking work (DNS,
 *	the state store) would take.
 *
 *	Defaults as nullmilter's: backlog 64, timeout 300 s; socket mode
 *	0666 (umask 0111).
 * DIAGNOSTICS
 *	Runs until SIGTERM or SIGINT (exit 0); 1 on a set-up error, 2 on usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* libmilter's mfdef.h / mfapi.h values */
#define SMFIF_ADDHDRS     0x01
#define SMFIF_CHGHDRS     0x10
#define SMFIF_QUARANTINE  0x20
#define SMFIF_SETSYMLIST  0x100
#define SMFIP_NOUNKNOWN   0x100
#define SMFIP_NODATA      0x200
#define SMFIP_NR_HDR      0x80
#define SMFIP_NR_CONN     0x1000
#define SMFIP_NR_HELO     0x2000
#define SMFIP_NR_MAIL     0x4000
#define SMFIP_NR_RCPT     0x8000
#define SMFIP_NR_DATA     0x10000
#define SMFIP_NR_UNKN     0x20000
#define SMFIP_NR_EOH      0x40000
#define SMFIP_NR_BODY     0x80000
#define SMFIP_HDR_LEADSPC 0x100000

#define RM_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)
#define RM_PROTO                                                                                   \
	(SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NODATA |          \
	 SMFIP_NOUNKNOWN)
#define RM_VERSION 6
#define MAX_PACKET (1024 * 1024)
#define READ_SIZE  65536

/* policy-milter's wanted_macros (src/milter.c), by stage (SMFIM_*) */
static const struct {
	uint32_t stage;
	const char *macros;
} rm_macros[] = {
    {0, "j {daemon_name} {daemon_addr} {if_addr}"}, /* SMFIM_CONNECT */
    {2, "i {auth_authen}"},                         /* SMFIM_ENVFROM */
    {3, "i"},                                       /* SMFIM_ENVRCPT */
    {5, "i"},                                       /* SMFIM_EOM */
    {6, "i"},                                       /* SMFIM_EOH */
};

struct conn {
	int fd;
	uint32_t pflags; /* the protocol steps granted by the MTA (of RM_PROTO) */
	uint32_t aflags; /* the actions granted */
	unsigned char *in;
	size_t in_len, in_cap;
	unsigned char out[1024];
	size_t out_len, out_off;
	time_t last; /* epoll mode: last activity */
	struct conn *next;
};

static int timeout = 300;
static volatile sig_atomic_t stopping;

/* put_pkt - append one packet to the connection's output; false when it does not fit */
static bool put_pkt(struct conn *c, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);

	if (c->out_len + 5 + len > sizeof c->out)
		return false;
	memcpy(c->out + c->out_len, &n, 4);
	c->out[c->out_len + 4] = (unsigned char)cmd;
	if (len > 0)
		memcpy(c->out + c->out_len + 5, data, len);
	c->out_len += 5 + len;
	return true;
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* negotiate - the OPTNEG reply: version, actions, steps, macro lists */
static bool negotiate(struct conn *c, const unsigned char *d, size_t len)
{
	unsigned char buf[512];
	size_t off = 12;
	uint32_t v, f0, f1;

	if (len < 12 || (v = get32(d)) < 2)
		return false;
	f0 = get32(d + 4);
	f1 = get32(d + 8);
	c->aflags = f0 & RM_ACTIONS;
	c->pflags = f1 & RM_PROTO;
	if ((f0 & SMFIF_SETSYMLIST) != 0) {
		c->aflags |= SMFIF_SETSYMLIST;
		for (size_t i = 0; i < sizeof rm_macros / sizeof rm_macros[0]; i++) {
			size_t l = strlen(rm_macros[i].macros) + 1;
			uint32_t s = htonl(rm_macros[i].stage);

			memcpy(buf + off, &s, 4);
			memcpy(buf + off + 4, rm_macros[i].macros, l);
			off += 4 + l;
		}
	}
	v = htonl(v < RM_VERSION ? v : RM_VERSION);
	memcpy(buf, &v, 4);
	v = htonl(c->aflags);
	memcpy(buf + 4, &v, 4);
	v = htonl(c->pflags);
	memcpy(buf + 8, &v, 4);
	return put_pkt(c, 'O', buf, off);
}

/* step - "continue" unless the MTA was told not to wait for this step */
static bool step(struct conn *c, uint32_t nr)
{
	return (c->pflags & nr) != 0 || put_pkt(c, 'c', NULL, 0);
}

static bool eom(struct conn *c)
{
	static const char name[] = "Authentication-Results";
	unsigned char buf[64];
	const char *value =
	    (c->pflags & SMFIP_HDR_LEADSPC) != 0 ? " mx.example.org; none" : "mx.example.org; none";
	size_t vl = strlen(value) + 1;

	if ((c->aflags & SMFIF_ADDHDRS) == 0)
		return put_pkt(c, 't', NULL, 0);
	memset(buf, 0, 4); /* index 0: on top */
	memcpy(buf + 4, name, sizeof name);
	memcpy(buf + 4 + sizeof name, value, vl);
	return put_pkt(c, 'i', buf, 4 + sizeof name + vl) && put_pkt(c, 'c', NULL, 0);
}

/* packet - handle one command; 1 go on, 0 close (QUIT), -1 error */
static int packet(struct conn *c, unsigned char cmd, const unsigned char *d, size_t len)
{
	bool ok = true;

	switch (cmd) {
	case 'O':
		ok = negotiate(c, d, len);
		break;
	case 'D': /* macros: no reply */
	case 'A': /* abort: no reply */
	case 'K': /* QUIT_NC: the next connection follows, CONNECT first, as negotiated */
		break;
	case 'C':
		ok = step(c, SMFIP_NR_CONN);
		break;
	case 'H':
		ok = step(c, SMFIP_NR_HELO);
		break;
	case 'M':
		ok = step(c, SMFIP_NR_MAIL);
		break;
	case 'R':
		ok = step(c, SMFIP_NR_RCPT);
		break;
	case 'T':
		ok = step(c, SMFIP_NR_DATA);
		break;
	case 'U':
		ok = step(c, SMFIP_NR_UNKN);
		break;
	case 'L':
		ok = step(c, SMFIP_NR_HDR);
		break;
	case 'N':
		ok = step(c, SMFIP_NR_EOH);
		break;
	case 'B':
		ok = step(c, SMFIP_NR_BODY);
		break;
	case 'E':
		ok = eom(c);
		break;
	case 'Q':
		return 0;
	default:
		return -1;
	}
	return ok ? 1 : -1;
}

/* consume - every complete packet in the input; 1 go on, 0 quit, -1 error */
static int consume(struct conn *c)
{
	size_t off = 0;
	int r = 1;

	while (c->in_len - off >= 5) {
		uint32_t n = get32(c->in + off);

		if (n == 0 || n > MAX_PACKET) {
			r = -1;
			break;
		}
		if (c->in_len - off < 4 + (size_t)n) {
			if (c->in_cap < 4 + (size_t)n) {
				unsigned char *p = realloc(c->in, 4 + (size_t)n);

				if (p == NULL) {
					r = -1;
					break;
				}
				c->in = p;
				c->in_cap = 4 + (size_t)n;
			}
			break;
		}
		r = packet(c, c->in[off + 4], c->in + off + 5, n - 1);
		off += 4 + n;
		if (r <= 0)
			break;
	}
	if (off > 0 && off < c->in_len)
		memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off < c->in_len ? off : c->in_len;
	return r;
}

/* room - grow the input buffer so that a read of READ_SIZE fits */
static bool room(struct conn *c)
{
	if (c->in_cap - c->in_len >= READ_SIZE)
		return true;
	size_t cap = c->in_len + READ_SIZE;
	unsigned char *p = realloc(c->in, cap);

	if (p == NULL)
		return false;
	c->in = p;
	c->in_cap = cap;
	return true;
}

static int listen_on(const char *conn, int backlog)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *path = conn;
	int fd;

	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	else if (strncmp(path, "local:", 6) == 0)
		path += 6;
	if (strlen(path) >= sizeof sun.sun_path)
		return -1;
	strcpy(sun.sun_path, path);
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	umask(0111);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, backlog) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- -m epoll ---------------------------------------------------------------- */

static struct conn *free_conns;

static void ep_close(int ep, struct conn *c)
{
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->in_len = c->out_len = c->out_off = 0;
	c->next = free_conns;
	free_conns = c;
}

/* ep_flush - write what is pending; 1 all out, 0 would block, -1 error */
static int ep_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w <= 0)
			return -1;
		c->out_off += (size_t)w;
	}
	c->out_len = c->out_off = 0;
	return 1;
}

/* ep_serve - read what is there, answer it; false: close the connection */
static bool ep_serve(int ep, struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.data.ptr = c};
	int f;

	if (c->out_len > 0) { /* waiting for room to write: finish that first */
		if ((f = ep_flush(c)) < 0)
			return false;
		if (f == 0)
			return true;
		ev.events = EPOLLIN;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			return false;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
		return true;
	for (;;) {
		ssize_t r;
		size_t want;
		int q;

		if (!room(c))
			return false;
		want = c->in_cap - c->in_len;
		r = read(c->fd, c->in + c->in_len, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return true;
		if (r <= 0)
			return false;
		c->in_len += (size_t)r;
		c->last = time(NULL);
		if ((q = consume(c)) < 0)
			return false;
		if ((f = ep_flush(c)) < 0)
			return false;
		if (q == 0)
			return false;
		if (f == 0) {
			ev.events = EPOLLOUT;
			return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0;
		}
		if ((size_t)r < want)
			return true; /* the socket is drained: no need to read for EAGAIN */
	}
}

static int run_epoll(int lfd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[64];
	struct conn **all = NULL;
	size_t nall = 0;
	time_t checked = time(NULL);
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return 1;
	while (!stopping) {
		int n = epoll_wait(ep, evs, 64, 1000);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c != NULL) {
				if (!ep_serve(ep, c, evs[i].events))
					ep_close(ep, c);
				continue;
			}
			int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (fd < 0)
				continue;
			if ((c = free_conns) != NULL) {
				free_conns = c->next;
			} else {
				struct conn **p = realloc(all, (nall + 1) * sizeof *all);

				if (p == NULL || (c = calloc(1, sizeof *c)) == NULL) {
					all = p != NULL ? p : all;
					close(fd);
					continue;
				}
				all = p;
				all[nall++] = c;
			}
			c->fd = fd;
			c->last = time(NULL);
			c->pflags = c->aflags = 0;
			ev.events = EPOLLIN;
			ev.data.ptr = c;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
				ep_close(ep, c);
		}
		time_t now = time(NULL);

		if (now != checked) { /* the idle timeout, once a second */
			checked = now;
			for (size_t i = 0; i < nall; i++)
				if (all[i]->fd >= 0 && now - all[i]->last > timeout)
					ep_close(ep, all[i]);
		}
	}
	return 0;
}

/* ---- -m threads ---------------------------------------------------------------- */

struct worker {
	pthread_cond_t cv;
	int fd; /* the connection handed over, -1 none */
	struct worker *next;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct worker *idle;

/* th_serve - one connection, blocking reads until QUIT, EOF, error or timeout */
static void th_serve(struct conn *c)
{
	for (;;) {
		ssize_t r;
		int q;

		if (!room(c))
			break;
		r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		c->in_len += (size_t)r;
		q = consume(c);
		while (c->out_off < c->out_len) {
			ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				q = -1;
				break;
			}
			c->out_off += (size_t)w;
		}
		c->out_len = c->out_off = 0;
		if (q <= 0)
			break;
	}
	close(c->fd);
	c->in_len = 0;
}

static void *th_main(void *arg)
{
	struct worker *w = arg;
	struct conn c = {.fd = -1};

	pthread_mutex_lock(&pool_lock);
	for (;;) {
		while (w->fd < 0) {
			struct timespec ts;
			int rc;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 60;
			rc = pthread_cond_timedwait(&w->cv, &pool_lock, &ts);
			if (rc == ETIMEDOUT && w->fd < 0) { /* idle a minute: leave the pool */
				struct worker **p = &idle;

				while (*p != NULL && *p != w)
					p = &(*p)->next;
				if (*p == w) {
					*p = w->next;
					pthread_mutex_unlock(&pool_lock);
					pthread_cond_destroy(&w->cv);
					free(w);
					free(c.in);
					return NULL;
				}
			}
		}
		c.fd = w->fd;
		pthread_mutex_unlock(&pool_lock);
		c.pflags = c.aflags = 0;
		th_serve(&c);
		pthread_mutex_lock(&pool_lock);
		w->fd = -1;
		w->next = idle;
		idle = w;
	}
}

static int run_threads(int lfd)
{
	struct timeval tv = {.tv_sec = timeout};
	pthread_attr_t attr;
	sigset_t stops, old;

	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (!stopping) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct worker *w;
		pthread_t tid;
		int rc;

		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		pthread_mutex_lock(&pool_lock);
		if ((w = idle) != NULL) {
			idle = w->next;
			w->fd = fd;
			pthread_cond_signal(&w->cv);
			pthread_mutex_unlock(&pool_lock);
			continue;
		}
		pthread_mutex_unlock(&pool_lock);
		if ((w = calloc(1, sizeof *w)) == NULL) {
			close(fd);
			continue;
		}
		pthread_cond_init(&w->cv, NULL);
		w->fd = fd;
		/* the workers never take SIGTERM: it must interrupt accept() here */
		pthread_sigmask(SIG_BLOCK, &stops, &old);
		rc = pthread_create(&tid, &attr, th_main, w);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0) {
			pthread_cond_destroy(&w->cv);
			free(w);
			close(fd);
		}
	}
	return 0;
}

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	const char *conn = NULL, *mode = "epoll";
	int opt, backlog = 64, lfd;
	struct sigaction sa = {.sa_handler = on_stop};

	while ((opt = getopt(argc, argv, "p:m:b:t:")) != -1) {
		switch (opt) {
		case 'p':
			conn = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'b':
			backlog = atoi(optarg);
			break;
		case 't':
			timeout = atoi(optarg);
			break;
		default:
			conn = NULL;
			optind = argc + 1;
			break;
		}
	}
	if (conn == NULL || optind != argc ||
	    (strcmp(mode, "epoll") != 0 && strcmp(mode, "threads") != 0)) {
		fprintf(stderr, "usage: rawmilter -p unix:SOCKET [-m epoll|threads] [-b BACKLOG] "
		                "[-t TIMEOUT]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: accept and epoll_wait return */
	sigaction(SIGINT, &sa, NULL);
	if ((lfd = listen_on(conn, backlog)) < 0) {
		fprintf(stderr, "rawmilter: cannot listen on %s: %s\n", conn, strerror(errno));
		return 1;
	}
	return strcmp(mode, "epoll") == 0 ? run_epoll(lfd) : run_threads(lfd);
}
