/*
 * NAME
 *	nullmilter - a milter that does nothing: the floor of any milter on an MTA
 * SYNOPSIS
 *	nullmilter -p unix:SOCKET [-b BACKLOG] [-t TIMEOUT]
 * DESCRIPTION
 *	A libmilter filter for the benchmark (tests/bench/run.sh, setup nm).
 *	It registers every callback and negotiates what policy-milter does
 *	(src/milter.c, mi_negotiate): among what the MTA offers, the actions
 *	SMFIF_ADDHDRS, SMFIF_CHGHDRS and SMFIF_QUARANTINE and the protocol
 *	steps SMFIP_HDR_LEADSPC, SMFIP_NR_HDR, SMFIP_NR_EOH, SMFIP_NR_BODY,
 *	SMFIP_NODATA and SMFIP_NOUNKNOWN, and the same macros at each stage
 *	(smfi_setsymlist, as ask_macros does). Then it does no work: every
 *	callback returns SMFIS_NOREPLY where the MTA was told not to wait,
 *	else SMFIS_CONTINUE, and at end of message it inserts one short
 *	Authentication-Results field on top (smfi_insheader at index 0, as
 *	policy-milter does), so that the MTA does the same modification work
 *	(if that fails, the message is tempfailed: the benchmark's replies
 *	check then fails).
 *	What the MTA spends on it is what the milter protocol costs by itself.
 *
 *	The negotiated steps are kept in the connection's private pointer
 *	(no allocation). Defaults as policy-milter's conf: backlog 64,
 *	timeout 300 s. The socket is created with umask 0111 (Postfix's smtpd
 *	must be able to connect).
 * DIAGNOSTICS
 *	Exit 0 when smfi_main ends normally (SIGTERM), 1 otherwise.
 */
#include <libmilter/mfapi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define NM_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)
#define NM_PROTO                                                                                   \
	(SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NODATA |          \
	 SMFIP_NOUNKNOWN)

/* policy-milter's wanted_macros (src/milter.c) */
static const struct {
	int stage;
	const char *macros;
} nm_macros[] = {
    {SMFIM_CONNECT, "j {daemon_name} {daemon_addr} {if_addr}"},
    {SMFIM_ENVFROM, "i {auth_authen}"},
    {SMFIM_ENVRCPT, "i"},
    {SMFIM_EOH, "i"},
    {SMFIM_EOM, "i"},
};

/* proto - the protocol steps negotiated on this connection */
static unsigned long proto(SMFICTX *ctx)
{
	return (unsigned long)(uintptr_t)smfi_getpriv(ctx);
}

/* reply_or_not - SMFIS_NOREPLY where the MTA was told not to wait, else SMFIS_CONTINUE */
static sfsistat reply_or_not(SMFICTX *ctx, unsigned long flag)
{
	return (proto(ctx) & flag) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	*pf0 = f0 & NM_ACTIONS;
	if ((f0 & SMFIF_SETSYMLIST) != 0) {
		for (size_t i = 0; i < sizeof nm_macros / sizeof nm_macros[0]; i++)
			(void)smfi_setsymlist(ctx, nm_macros[i].stage, (char *)nm_macros[i].macros);
		*pf0 |= SMFIF_SETSYMLIST;
	}
	*pf1 = f1 & NM_PROTO;
	*pf2 = 0;
	*pf3 = 0;
	smfi_setpriv(ctx, (void *)(uintptr_t)*pf1);
	return SMFIS_CONTINUE;
}

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)host;
	(void)addr;
	return reply_or_not(ctx, SMFIP_NR_CONN);
}

static sfsistat nm_helo(SMFICTX *ctx, char *helo)
{
	(void)helo;
	return reply_or_not(ctx, SMFIP_NR_HELO);
}

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return reply_or_not(ctx, SMFIP_NR_MAIL);
}

static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return reply_or_not(ctx, SMFIP_NR_RCPT);
}

static sfsistat nm_data(SMFICTX *ctx)
{
	return reply_or_not(ctx, SMFIP_NR_DATA);
}

static sfsistat nm_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)cmd;
	return reply_or_not(ctx, SMFIP_NR_UNKN);
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return reply_or_not(ctx, SMFIP_NR_HDR);
}

static sfsistat nm_eoh(SMFICTX *ctx)
{
	return reply_or_not(ctx, SMFIP_NR_EOH);
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)chunk;
	(void)len;
	return reply_or_not(ctx, SMFIP_NR_BODY);
}

static sfsistat nm_eom(SMFICTX *ctx)
{
	/* with SMFIP_HDR_LEADSPC the MTA writes the value as given: the space is ours */
	const char *value = (proto(ctx) & SMFIP_HDR_LEADSPC) != 0 ? " mx.example.org; none"
	                                                          : "mx.example.org; none";

	/* a failure must show: the message is then tempfailed (451, not the expected 250) */
	if (smfi_insheader(ctx, 0, "Authentication-Results", (char *)value) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: smfi_insheader failed\n");
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat nm_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_close(SMFICTX *ctx)
{
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc nm_desc = {
    .xxfi_name = "nullmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = NM_ACTIONS,
    .xxfi_connect = nm_connect,
    .xxfi_helo = nm_helo,
    .xxfi_envfrom = nm_envfrom,
    .xxfi_envrcpt = nm_envrcpt,
    .xxfi_header = nm_header,
    .xxfi_eoh = nm_eoh,
    .xxfi_body = nm_body,
    .xxfi_eom = nm_eom,
    .xxfi_abort = nm_abort,
    .xxfi_close = nm_close,
    .xxfi_unknown = nm_unknown,
    .xxfi_data = nm_data,
    .xxfi_negotiate = nm_negotiate,
};

int main(int argc, char **argv)
{
	const char *conn = NULL;
	int opt, backlog = 64, timeout = 300;

	while ((opt = getopt(argc, argv, "p:b:t:")) != -1) {
		switch (opt) {
		case 'p':
			conn = optarg;
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
	if (conn == NULL || optind != argc) {
		fprintf(stderr, "usage: nullmilter -p unix:SOCKET [-b BACKLOG] [-t TIMEOUT]\n");
		return 2;
	}
	if (smfi_setconn((char *)conn) != MI_SUCCESS || smfi_settimeout(timeout) != MI_SUCCESS ||
	    smfi_setbacklog(backlog) != MI_SUCCESS || smfi_register(nm_desc) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot set up libmilter for %s\n", conn);
		return 1;
	}
	umask(0111);
	if (smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", conn);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
