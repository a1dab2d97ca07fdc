/*
 * NAME
 *	silentdns - a misbehaving DNS server for the SPF tests
 * SYNOPSIS
 *	silentdns [address [port]]	(default 127.0.0.2 53)
 * DESCRIPTION
 *	Listed as the second nameserver in the SPF tests' resolv.conf, after
 *	nsd (which answers REFUSED for zones it does not serve). By the name
 *	asked for:
 *	    *servfail.test   SERVFAIL at once
 *	    *refused.test    REFUSED at once
 *	    *delay.test      NXDOMAIN after 0.7 seconds
 *	    anything else    never answered (a real timeout)
 *	UDP only; one process, no threads: delayed answers wait in a queue.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr when it cannot bind.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXPENDING 256
#define DELAY_MS   700

struct pending {
	struct sockaddr_in to;
	unsigned char msg[512];
	size_t len;
	long long due; /* ms, CLOCK_MONOTONIC */
};

static struct pending queue[MAXPENDING];
static int npending;

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* qname - the question name, lower-cased, dotted, into buf; end of question in *qend; -1 bad */
static int qname(const unsigned char *m, size_t len, char *buf, size_t bufsize, size_t *qend)
{
	size_t i = 12, o = 0;

	if (len < 12)
		return -1;
	while (i < len && m[i] != 0) {
		size_t l = m[i++];

		if (l > 63 || i + l > len || o + l + 2 > bufsize)
			return -1;
		if (o > 0)
			buf[o++] = '.';
		for (size_t k = 0; k < l; k++)
			buf[o++] = (char)tolower(m[i + k]);
		i += l;
	}
	if (i + 5 > len)
		return -1;
	buf[o] = '\0';
	*qend = i + 5; /* root label, type, class */
	return 0;
}

/* ends_with - s ends with suffix */
static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* reply - turn the query in m into a header-and-question reply with rcode */
static size_t reply(unsigned char *m, size_t qend, int rcode)
{
	m[2] = (unsigned char)(0x80 | (m[2] & 0x79));  /* QR, keep opcode and RD */
	m[3] = (unsigned char)(0x80 | rcode);          /* RA, rcode */
	m[6] = m[7] = m[8] = m[9] = m[10] = m[11] = 0; /* no answer, authority, additional */
	m[4] = 0;
	m[5] = 1;
	return qend;
}

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.2";
	int port = argc > 2 ? atoi(argv[2]) : 53;
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (fd < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "silentdns: cannot bind %s:%d\n", addr, port);
		return 1;
	}
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int timeout = -1;
		long long now = now_ms();

		for (int i = 0; i < npending;) {
			if (queue[i].due <= now) {
				sendto(fd, queue[i].msg, queue[i].len, 0,
				       (struct sockaddr *)&queue[i].to, sizeof(queue[i].to));
				queue[i] = queue[--npending];
			} else {
				long long w = queue[i].due - now;

				if (timeout < 0 || w < timeout)
					timeout = (int)w;
				i++;
			}
		}
		if (poll(&pfd, 1, timeout) > 0) {
			unsigned char m[512];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(fd, m, sizeof(m), 0, (struct sockaddr *)&from, &fl);
			char name[300];
			size_t qend;

			if (n <= 0 || qname(m, (size_t)n, name, sizeof(name), &qend) < 0)
				continue;
			if (ends_with(name, "servfail.test")) {
				size_t l = reply(m, qend, 2);
				sendto(fd, m, l, 0, (struct sockaddr *)&from, fl);
			} else if (ends_with(name, "refused.test")) {
				size_t l = reply(m, qend, 5);
				sendto(fd, m, l, 0, (struct sockaddr *)&from, fl);
			} else if (ends_with(name, "delay.test") && npending < MAXPENDING) {
				struct pending *p = &queue[npending++];

				p->len = reply(m, qend, 3);
				memcpy(p->msg, m, p->len);
				p->to = from;
				p->due = now_ms() + DELAY_MS;
			}
			/* anything else: silence */
		}
	}
}
