/*
 * NAME
 *	silentdns - a DNS server that never answers
 * SYNOPSIS
 *	silentdns [address [port]]	(default 127.0.0.2 53)
 * DESCRIPTION
 *	Binds a UDP and a TCP socket and reads queries forever without ever
 *	replying. Listed as the second "nameserver" in the end-to-end tests'
 *	resolv.conf, after nsd (which answers REFUSED for zones it does not
 *	serve), it turns every lookup outside the test zones into a real
 *	timeout: that is how the tests reach SPF temperror.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr when it cannot bind.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* main - read and drop every query; accept TCP connections and hold them */
int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.2";
	int port = argc > 2 ? atoi(argv[2]) : 53;
	struct pollfd p[2];
	char buf[4096];

	p[0].fd = bind_or_die(SOCK_DGRAM, addr, port);
	p[1].fd = bind_or_die(SOCK_STREAM, addr, port);
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents & POLLIN)
			(void)recv(p[0].fd, buf, sizeof(buf), 0);
		if (p[1].revents & POLLIN) {
			/* Keep the connection open and silent; the client times out. */
			int c = accept(p[1].fd, NULL, NULL);
			(void)c;
		}
	}
}
