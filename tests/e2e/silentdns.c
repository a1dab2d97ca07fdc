/*
 * NAME
 *	silentdns - a DNS server that (almost) never answers
 * SYNOPSIS
 *	silentdns [address [port]]	(default 127.0.0.2 53)
 * DESCRIPTION
 *	Binds a UDP and a TCP socket and reads queries forever without
 *	replying. Listed as the second "nameserver" in the end-to-end tests'
 *	resolv.conf, after nsd (which answers REFUSED for zones it does not
 *	serve), it turns every lookup outside the test zones into a real
 *	timeout: that is how the tests reach SPF temperror and the sender
 *	domain check's 451 4.4.3.
 *
 *	One exception, over UDP: an MX query for dead.example is answered
 *	"dead.example MX 10 mx.example.org", so that the sender domain
 *	check passes and the SPF temperror scenario still sees the sender
 *	domain's own TXT lookup time out (nsd alone cannot serve a name's MX
 *	and let its TXT query time out).
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr when it cannot bind.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* bind_or_die - a socket of this type bound to addr:port */
static int bind_or_die(int type, const char *addr, int port)
{
	struct sockaddr_in sin;
	int one = 1;
	int fd = socket(AF_INET, type, 0);

	if (fd < 0) {
		perror("silentdns: socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "silentdns: bad address %s\n", addr);
		exit(1);
	}
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "silentdns: bind %s:%d: ", addr, port);
		perror("");
		exit(1);
	}
	if (type == SOCK_STREAM && listen(fd, 16) < 0) {
		perror("silentdns: listen");
		exit(1);
	}
	return fd;
}

/*
 * mx_answer - when the query in m (n bytes) is "dead.example IN MX", turn
 * it into the answer (in place, m holds size bytes) and return its length;
 * 0 for any other query
 */
static size_t mx_answer(unsigned char *m, size_t n, size_t size)
{
	static const unsigned char qname[] = "\4dead\7example";
	/* the answer record; the literal's own NUL is the exchange's root label */
	static const unsigned char rr[] = "\300\14"             /* the question's name */
	                                  "\0\17\0\1\0\0\1\54"  /* MX IN, TTL 300 */
	                                  "\0\22\0\12"          /* rdlength 18, preference 10 */
	                                  "\2mx\7example\3org"; /* mx.example.org */
	size_t qend = 12 + sizeof(qname) + 4; /* name with its root label, type, class */

	if (n < qend || (m[2] & 0x80) != 0 || m[4] != 0 || m[5] != 1 ||
	    strncasecmp((const char *)m + 12, (const char *)qname, sizeof(qname)) != 0 ||
	    m[qend - 4] != 0 || m[qend - 3] != 15 || m[qend - 2] != 0 || m[qend - 1] != 1 ||
	    qend + sizeof(rr) > size)
		return 0;
	m[2] = (unsigned char)(0x84 | (m[2] & 0x01)); /* QR, AA, keep RD */
	m[3] = 0;                                     /* NOERROR */
	m[6] = 0;
	m[7] = 1;                        /* one answer */
	m[8] = m[9] = m[10] = m[11] = 0; /* no authority, no additional (EDNS) */
	memcpy(m + qend, rr, sizeof(rr));
	return qend + sizeof(rr);
}

/* main - drop every query but one; accept TCP connections and hold them */
int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.2";
	int port = argc > 2 ? atoi(argv[2]) : 53;
	struct pollfd p[2];
	unsigned char buf[4096];

	p[0].fd = bind_or_die(SOCK_DGRAM, addr, port);
	p[1].fd = bind_or_die(SOCK_STREAM, addr, port);
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n =
			    recvfrom(p[0].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			size_t len = n > 0 ? mx_answer(buf, (size_t)n, sizeof(buf)) : 0;

			if (len > 0)
				(void)sendto(p[0].fd, buf, len, 0, (struct sockaddr *)&from, fl);
		}
		if (p[1].revents & POLLIN) {
			/* Keep the connection open and silent; the client times out. */
			int c = accept(p[1].fd, NULL, NULL);
			(void)c;
		}
	}
}
