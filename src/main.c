/*
 * NAME
 *	main 3 - policy-milter: command line, socket, privileges, signals, drain
 * SYNOPSIS
 *	policy-milter [-fhnRV] [-c file] [-p socket]
 * DESCRIPTION
 *	Loads the policy file (refusing to start on any error, listing them
 *	all; unsafe list files among them, config.c), opens the listening
 *	socket while still root (never in a world-writable directory, -p
 *	too; a stale unix socket is removed, a live one is never stolen),
 *	sets its mode and
 *	owner, writes the pid file, then drops to milter.user / milter.group
 *	(as root with no milter.user, or a root one, it refuses to start
 *	unless -R allows running as root)
 *	and hands over to smfi_main(). It never forks: run it under systemd
 *	or with "&". The JSON decision log (log.json_file) is opened after
 *	the privileges are dropped, as the milter user, so that the reopen
 *	at each reload behaves the same; a file that cannot be opened at
 *	start is an error. The state store (store.h: greylisting and the
 *	rate limits) is opened after that too (the LMDB file's directory,
 *	and the file, given to the milter user first when root owns them:
 *	systemd's StateDirectory= makes /var/lib/policy-milter root's), when greylisting is not off
 *	or a rate limit is set; a store that cannot be opened at all (a bad
 *	LMDB path, a directory the milter user cannot write) keeps the
 *	daemon from starting. A reload whose state.* settings changed opens
 *	the store anew (store_reopen_if_changed), or opens one when the
 *	reload turns greylisting or a rate limit on; when that fails the
 *	reload is refused and the policy in use stays.
 *
 *	Metrics (metrics.listen, metrics.h): the endpoint's socket is opened
 *	with the milter's, as root (metrics_http_open); its thread starts
 *	once the privileges are dropped and the state store is open
 *	(metrics_http_start, serving metrics_render), and stops at exit
 *	(cleanup). A reload sets the policy generation and the last reload's
 *	result; a changed metrics.* is logged as taking effect at restart.
 *
 *	Signals. Debian's libmilter runs sessions on a pool of worker
 *	threads (_FFR_WORKERS_POOL), and its own signal thread (started in
 *	smfi_main) answers SIGTERM, SIGINT and SIGHUP by stopping the
 *	listener and the pool at once: sessions in flight are then never
 *	served again. So smfi_main runs in a thread of its own, and the
 *	main thread waits for the stop signals with sigwaitinfo(): the
 *	drain signal SIGRTMIN+1 (DRAIN_SIGNAL), which libmilter does not
 *	watch, blocked in every thread and waited for by this one only, so
 *	it always drains (the systemd unit's KillSignal=); and SIGTERM,
 *	SIGINT and SIGHUP, which libmilter's thread waits for too: Linux
 *	normally hands them to the main thread, but when libmilter's thread
 *	takes one (during start-up, or several at once) the daemon still
 *	stops, only without the drain.
 *
 *	Stop (SIGRTMIN+1, SIGTERM, SIGINT, SIGHUP): the unix socket is unlinked (a
 *	restarted instance can bind at once), new connections that still
 *	arrive get 421 4.3.2, sessions in flight get up to
 *	milter.drain_timeout seconds to finish (a second stop signal cuts
 *	the wait short), the pid file is removed, exit 0. SIGHUP cannot
 *	be a reload: libmilter's thread may take it, and would stop.
 *
 *	Reload (SIGUSR1): blocked in every thread (the mask is set before
 *	any thread exists) and taken by a thread of ours with sigwait(). A
 *	reload builds a new snapshot and installs it only when the whole
 *	file is good; connections in flight keep the snapshot they started
 *	with. Every SIGUSR1 also reopens the JSON decision log (log
 *	rotation): the path of the new policy, or of the one that stays when
 *	the new file is refused. A reopen that fails is logged and the log
 *	in use stays open.
 * DIAGNOSTICS
 *	Exit 0 after a stop by signal or a clean -n, 1 on any startup
 *	error or a bad policy file, 64 (EX_USAGE) for a bad command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "decision.h"
#include "dnscache.h"
#include "jsonlog.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "milter.h"
#include "policy.h"
#include "store.h"
#include "util.h"

#ifndef PM_CONFIG_PATH
#define PM_CONFIG_PATH "/etc/policy-milter/policy-milter.conf"
#endif
#ifndef PM_VERSION
#define PM_VERSION "unknown"
#endif

/* The stop signal libmilter does not watch: it always drains (a function call in glibc) */
#define DRAIN_SIGNAL  (SIGRTMIN + 1)
#define PROGNAME      "policy-milter"
#define DEFAULT_IDENT "policy-milter"

/* What main() set up, for the reload thread and the clean-up at exit. */
static struct {
	const char *config_path;
	const char *socket_override; /* -p, or NULL */
	bool foreground;             /* -f: log to stderr as well */
	bool allow_root;             /* -R: root without a milter.user is allowed */
	bool logging;                /* log_open has been called */
	char *socket_path;           /* unix socket we created, or NULL */
	dev_t socket_dev;
	ino_t socket_ino;
	char *pid_path; /* pid file we wrote, or NULL */
} run;

/* usage - the synopsis, to out */
static void usage(FILE *out)
{
	fprintf(out, "usage: " PROGNAME " [-fhnRV] [-c file] [-p socket]\n"
	             "  -c file    policy file (default " PM_CONFIG_PATH ")\n"
	             "  -f         log to standard error as well as syslog (it never forks)\n"
	             "  -n         check the policy file, print every error, and exit\n"
	             "  -p socket  listen on socket instead of milter.socket\n"
	             "             (unix:/path, inet:port@host, inet6:port@host)\n"
	             "  -R         run as root when milter.user is empty or root (else refused)\n"
	             "  -V         print the version and exit\n"
	             "  -h         print this help and exit\n");
}

/* say - a startup diagnostic: standard error, and syslog once logging is open */
static void say(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int prio, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (run.logging)
		log_msg(prio, "%s", buf);
	if (!run.logging || !run.foreground)
		fprintf(stderr, PROGNAME ": %s\n", buf);
}

/* emit_stderr - config_errors_print sink: one error per line on standard error */
static void emit_stderr(const char *line, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

/* emit_log - config_errors_print sink: one error per log line */
static void emit_log(const char *line, void *arg)
{
	(void)arg;
	log_msg(LOG_ERR, "%s", line);
}

/* unix_socket_path - the path of a "unix:" / "local:" / bare-path socket spec, or NULL */
static const char *unix_socket_path(const char *conn)
{
	const char *colon = strchr(conn, ':');

	if (colon == NULL)
		return conn;
	if (strncasecmp(conn, "unix:", 5) == 0 || strncasecmp(conn, "local:", 6) == 0)
		return colon + 1;
	return NULL;
}

/* socket_dir_check - the directory of a unix socket must exist; 0 ok, -1 after saying why */
static int socket_dir_check(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct stat st;
	int rc = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			say(LOG_ERR,
			    "socket directory %s does not exist: create it (owned by milter.user, "
			    "group milter.socket_group, mode 0750)",
			    dir);
			rc = -1;
		}
	}
	free(dir);
	return rc;
}

/*
 * socket_prepare - make room for a unix socket at path: nothing there is
 * fine (if its directory exists); a socket nobody answers on
 * (ECONNREFUSED) is stale and removed; a socket someone answers on, or
 * anything that is not a socket, is refused. 0 ok, -1 after saying why.
 */
static int socket_prepare(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		say(LOG_ERR, "socket path %s is too long", path);
		return -1;
	}
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return socket_dir_check(path);
		say(LOG_ERR, "cannot examine %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		say(LOG_ERR, "%s exists and is not a socket; refusing to replace it", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say(LOG_ERR, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	err = errno;
	close(fd);
	if (rc == 0) {
		say(LOG_ERR,
		    "%s: another process is listening on this socket "
		    "(another policy-milter?); refusing to start",
		    path);
		return -1;
	}
	if (err != ECONNREFUSED) {
		say(LOG_ERR, "%s: cannot tell whether the socket is in use: %s", path,
		    strerror(err));
		return -1;
	}
	if (unlink(path) != 0) {
		say(LOG_ERR, "cannot remove stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	say(LOG_NOTICE, "removed stale socket %s", path);
	return 0;
}

/* socket_remove - unlink our unix socket, if the path still names the one we made */
static void socket_remove(void)
{
	struct stat st;

	if (run.socket_path == NULL)
		return;
	if (lstat(run.socket_path, &st) != 0) {
		if (errno != ENOENT) /* e.g. a directory the milter user may not enter */
			log_msg(LOG_WARNING,
			        "cannot remove socket %s: %s (the next start removes it)",
			        run.socket_path, strerror(errno));
	} else if (S_ISSOCK(st.st_mode) && st.st_dev == run.socket_dev &&
	           st.st_ino == run.socket_ino && unlink(run.socket_path) != 0) {
		log_msg(LOG_WARNING, "cannot remove socket %s: %s (the next start removes it)",
		        run.socket_path, strerror(errno));
	}
	free(run.socket_path);
	run.socket_path = NULL;
}

/* pidfile_read - the pid in an existing pid file, 0 when empty or unreadable */
static long pidfile_read(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/*
 * pidfile_write - create path exclusively with our pid. A file naming a
 * live process is refused; a stale one (dead or no pid) is replaced.
 * The file is given to uid/gid (when not -1) so the unprivileged daemon
 * can at least empty it at exit. 0 ok, -1 after saying why.
 */
static int pidfile_write(const char *path, uid_t uid, gid_t gid)
{
	char buf[32];
	int fd = -1, len;
	long pid;

	for (int tries = 0; tries < 3 && fd < 0; tries++) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd >= 0)
			break;
		if (errno != EEXIST) {
			say(LOG_ERR, "cannot create pid file %s: %s", path, strerror(errno));
			return -1;
		}
		pid = pidfile_read(path);
		if (pid > 0 && pid != (long)getpid() &&
		    (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
			say(LOG_ERR, "pid file %s names running process %ld; refusing to start",
			    path, pid);
			return -1;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			say(LOG_ERR, "cannot remove stale pid file %s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (fd < 0) {
		say(LOG_ERR, "cannot create pid file %s", path);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len) {
		say(LOG_ERR, "cannot write pid file %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) != 0)
		say(LOG_WARNING, "cannot chown pid file %s: %s", path, strerror(errno));
	close(fd);
	run.pid_path = xstrdup(path);
	return 0;
}

/* pidfile_remove - remove our pid file (or empty it when the directory forbids removal) */
static void pidfile_remove(void)
{
	int fd;

	if (run.pid_path == NULL)
		return;
	if (pidfile_read(run.pid_path) == (long)getpid() && unlink(run.pid_path) != 0 &&
	    errno != ENOENT) {
		fd = open(run.pid_path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0)
			close(fd);
	}
	free(run.pid_path);
	run.pid_path = NULL;
}

/* cleanup - remove what we created on disk */
static void cleanup(void)
{
	metrics_http_stop(); /* its thread ends; a unix socket it made is removed */
	socket_remove();
	pidfile_remove();
}

/* load_or_report - config_load, printing every error through emit; NULL on any error */
static struct policy *load_or_report(const char *path, void (*emit)(const char *, void *))
{
	struct config_errors errs = {0};
	struct policy *p = config_load(path, &errs);

	if (p == NULL || errs.n > 0) {
		config_errors_print(&errs, emit, NULL);
		if (p != NULL)
			policy_release(p);
		p = NULL;
		if (errs.n == 0)
			emit("(no detail given)", NULL);
	}
	config_errors_free(&errs);
	return p;
}

/* str_differs - NULL-tolerant string inequality */
static bool str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* ident_of - the syslog ident of p */
static const char *ident_of(const struct policy *p)
{
	return p->log.syslog_ident != NULL && *p->log.syslog_ident ? p->log.syslog_ident
	                                                           : DEFAULT_IDENT;
}

/*
 * json_log_open - open (or reopen) the JSON decision log that p names;
 * 0, or -1 after saying why (at a reload the log in use stays open)
 */
static int json_log_open(const struct policy *p, bool starting)
{
	char why[640], cur[512];

	if (decision_json_open(p->log.json_file, why, sizeof(why)) == 0)
		return 0;
	if (starting) {
		say(LOG_ERR,
		    "log.json_file: cannot open the JSON decision log %s (it is opened as "
		    "milter.user); refusing to start",
		    why);
		return -1;
	}
	jsonlog_path(cur, sizeof(cur));
	if (cur[0] != '\0')
		log_msg(LOG_ERR,
		        "log.json_file: cannot open the JSON decision log %s; records still go "
		        "to %s",
		        why, cur);
	else
		log_msg(LOG_ERR,
		        "log.json_file: cannot open the JSON decision log %s; no JSON records "
		        "are written",
		        why);
	return -1;
}

/* state_wanted - does the policy need the state store (greylisting on, or a rate limit)? */
static bool state_wanted(const struct policy *p)
{
	return p->greylist.mode != PM_MODE_OFF || p->ratelimit.nrules > 0;
}

/*
 * state_open - at start (after dropping privileges) and at a reload: the
 * state store the policy needs, opened (or, when state.* changed, opened
 * anew); 0, or -1 after saying why (at a reload the store in use stays)
 */
static int state_open(const struct policy *p, bool starting)
{
	char err[512];
	struct store *cur, *st;

	if (!state_wanted(p))
		return 0;
	cur = store_acquire();
	if (cur != NULL) {
		store_release(cur);
		if (store_reopen_if_changed(&p->state, err, sizeof(err)) != 0) {
			say(LOG_ERR, "state store: %s", err);
			return -1;
		}
		return 0;
	}
	st = store_open(&p->state, err, sizeof(err));
	if (st == NULL) {
		say(LOG_ERR, "%sstate store: %s", starting ? "refusing to start: " : "", err);
		return -1;
	}
	log_msg(LOG_INFO, "state store %s open", store_describe(st));
	store_set_current(st); /* our reference moves in */
	return 0;
}

/* reload - load the policy file again; install it only when it is entirely good */
static void reload(void)
{
	struct policy *np, *old;
	unsigned gen;

	log_msg(LOG_INFO, "reloading policy from %s", run.config_path);
	np = load_or_report(run.config_path, emit_log);
	old = policy_acquire();
	if (np == NULL) {
		metrics_reload(false);
		log_msg(LOG_ERR, "reload of %s failed; keeping policy generation %u",
		        run.config_path, old != NULL ? old->generation : 0);
		if (old != NULL)
			(void)json_log_open(old, false); /* rotation still happens */
		policy_release(old);
		return;
	}
	gen = np->generation;
	if (state_open(np, false) != 0) {
		metrics_reload(false);
		log_msg(LOG_ERR,
		        "reload of %s failed: no state store; keeping policy generation %u",
		        run.config_path, old != NULL ? old->generation : 0);
		if (old != NULL)
			(void)json_log_open(old, false);
		policy_release(old);
		policy_release(np);
		return;
	}
	if (old != NULL) {
		if (run.socket_override == NULL &&
		    str_differs(old->milter.socket, np->milter.socket))
			log_msg(LOG_WARNING, "milter.socket changed; it takes effect at restart");
		if (str_differs(old->milter.user, np->milter.user) ||
		    str_differs(old->milter.group, np->milter.group) ||
		    str_differs(old->milter.pid_file, np->milter.pid_file) ||
		    old->milter.socket_mode != np->milter.socket_mode ||
		    str_differs(old->milter.socket_owner, np->milter.socket_owner) ||
		    str_differs(old->milter.socket_group, np->milter.socket_group) ||
		    old->milter.timeout != np->milter.timeout ||
		    old->milter.backlog != np->milter.backlog)
			log_msg(LOG_WARNING, "milter settings other than drain_timeout and "
			                     "on_internal_error take effect at restart");
		if (str_differs(old->metrics.listen, np->metrics.listen) ||
		    old->metrics.allow_public != np->metrics.allow_public)
			log_msg(LOG_WARNING,
			        "metrics settings changed; they take effect at restart");
	}
	if (old == NULL || old->log.syslog_facility != np->log.syslog_facility ||
	    strcmp(ident_of(old), ident_of(np)) != 0)
		log_open(ident_of(np), np->log.syslog_facility, run.foreground);
	(void)json_log_open(np, false);
	policy_set_current(np);
	policy_release(old);
	dnscache_flush(); /* a reload is also how to make the milter forget what DNS said */
	metrics_policy_loaded(gen);
	metrics_reload(true);
	log_msg(LOG_INFO, "reloaded policy generation %u from %s", gen, run.config_path);
}

/* reload_thread - wait for SIGUSR1 (blocked in every thread) and reload */
static void *reload_thread(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
			reload();
	}
	return NULL;
}

/* stop_signals - the signals that stop the daemon (and SIGUSR2: smfi_main ended) */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, DRAIN_SIGNAL);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR2);
}

/* block_signals - block ours and the stop signals here, before any thread exists */
static void block_signals(void)
{
	sigset_t set;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	stop_signals(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* The thread that runs smfi_main, and how it ended. */
static pthread_t main_thread;
static atomic_int smfi_result = MI_SUCCESS;
static atomic_bool smfi_ended;

/* smfi_thread - run libmilter; tell the main thread (SIGUSR2) when it returns */
static void *smfi_thread(void *arg)
{
	(void)arg;
	atomic_store(&smfi_result, smfi_main());
	atomic_store(&smfi_ended, true);
	pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

/* wait_signal - wait up to ms milliseconds (forever when < 0) for a stop signal; 0 on timeout */
static int wait_signal(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	sigset_t set;
	int sig;

	stop_signals(&set);
	do
		sig = ms < 0 ? sigwaitinfo(&set, NULL) : sigtimedwait(&set, NULL, &ts);
	while (sig < 0 && errno == EINTR);
	return sig < 0 ? 0 : sig;
}

/*
 * drain - stop gracefully: new connections are turned away (421) and the
 * unix socket is unlinked, sessions in flight get up to seconds to end
 * (a second stop signal, or libmilter ending, cuts the wait short).
 * libmilter is not asked to stop (smfi_stop waits up to 5 s for its
 * listener): the process exits under it. Returns the sessions still open.
 */
static unsigned drain(int seconds)
{
	struct timespec start, now;
	unsigned n;
	int sig;

	milter_set_draining(true);
	socket_remove(); /* a restarted instance may bind at once */
	clock_gettime(CLOCK_MONOTONIC, &start);
	while ((n = milter_active_sessions()) > 0 && !atomic_load(&smfi_ended)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
		    (long)seconds * 1000)
			break;
		sig = wait_signal(100);
		if (sig == DRAIN_SIGNAL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			log_msg(LOG_NOTICE, "second stop signal: not waiting any longer");
			break;
		}
	}
	if (n > 0)
		log_msg(LOG_WARNING, "%u session(s) still open after the drain", n);
	return milter_active_sessions();
}

/* lookup_ids - uid/gid for milter.user/group; 0 ok, -1 after saying why */
static int lookup_ids(const struct milter_settings *m, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	struct group *gr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (m->user != NULL && *m->user) {
		if ((pw = getpwnam(m->user)) == NULL) {
			say(LOG_ERR,
			    "milter.user \"%s\" does not exist; create it or change the "
			    "policy file",
			    m->user);
			return -1;
		}
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (m->group != NULL && *m->group) {
		if ((gr = getgrnam(m->group)) == NULL) {
			say(LOG_ERR, "milter.group \"%s\" does not exist", m->group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/* socket_owner_ids - uid/gid for milter.socket_owner/socket_group; -1 after saying why */
static int socket_owner_ids(const struct milter_settings *m, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	struct group *gr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (m->socket_owner != NULL && *m->socket_owner) {
		if ((pw = getpwnam(m->socket_owner)) == NULL) {
			say(LOG_ERR, "milter.socket_owner \"%s\" does not exist", m->socket_owner);
			return -1;
		}
		*uid = pw->pw_uid;
	}
	if (m->socket_group != NULL && *m->socket_group) {
		if ((gr = getgrnam(m->socket_group)) == NULL) {
			say(LOG_ERR, "milter.socket_group \"%s\" does not exist", m->socket_group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/* group_name - a group's name for messages ("gid N" when it has none) */
static const char *group_name(gid_t gid, char *buf, size_t size)
{
	const struct group *gr = getgrgid(gid);

	if (gr != NULL)
		return gr->gr_name;
	snprintf(buf, size, "gid %ld", (long)gid);
	return buf;
}

/* in_group - is user (whose primary group is pgid) a member of group gid? */
static bool in_group(const char *user, gid_t pgid, gid_t gid)
{
	const struct group *gr;

	if (pgid == gid)
		return true;
	if ((gr = getgrgid(gid)) == NULL)
		return false;
	for (char **m = gr->gr_mem; *m != NULL; m++)
		if (strcmp(*m, user) == 0)
			return true;
	return false;
}

/* user_can_enter - may this user search directory d? */
static bool user_can_enter(const char *user, uid_t uid, gid_t pgid, const struct stat *d)
{
	if (d->st_mode & S_IXOTH)
		return true;
	if (uid == d->st_uid)
		return (d->st_mode & S_IXUSR) != 0;
	return (d->st_mode & S_IXGRP) != 0 && in_group(user, pgid, d->st_gid);
}

/*
 * group_can_enter - may some member of group gid (a listed member, or a
 * user whose primary group it is) search directory d? An MTA that is not
 * root reaches the socket as such a member (Postfix: the postfix user).
 */
static bool group_can_enter(gid_t gid, const struct stat *d)
{
	const struct group *gr;
	const struct passwd *pw;
	char **members;
	size_t n = 0, i;
	bool can = false;

	if ((d->st_mode & S_IXOTH) != 0 || (d->st_gid == gid && (d->st_mode & S_IXGRP) != 0))
		return true;
	if ((gr = getgrgid(gid)) == NULL)
		return false;
	while (gr->gr_mem[n] != NULL)
		n++;
	members = xcalloc(n + 1, sizeof(*members));
	for (i = 0; i < n; i++)
		members[i] = xstrdup(gr->gr_mem[i]);
	for (i = 0; i < n && !can; i++)
		if ((pw = getpwnam(members[i])) != NULL)
			can = user_can_enter(members[i], pw->pw_uid, pw->pw_gid, d);
	for (i = 0; i < n; i++)
		free(members[i]);
	free(members);
	if (!can) { /* users whose primary group it is (a bounded look) */
		unsigned seen = 0;

		setpwent();
		while (!can && seen++ < 100000 && (pw = getpwent()) != NULL)
			if (pw->pw_gid == gid && pw->pw_uid != 0) {
				char *name = xstrdup(pw->pw_name);
				uid_t uid = pw->pw_uid;

				can = user_can_enter(name, uid, gid, d);
				free(name);
			}
		endpwent();
	}
	return can;
}

/*
 * socket_reach_check - warn when an MTA that is not root (Postfix: a
 * member of the socket's group) could not use the socket: the socket not
 * writable by its group or by others, or a directory above it that no
 * member of that group (and not others) may search. Sendmail runs as root
 * and reaches it all the same, so this is a warning, not a refusal.
 */
static void socket_reach_check(const char *path)
{
	struct stat st;
	char *dir, *slash, gbuf[32], dbuf[32];
	gid_t gid;

	if (stat(path, &st) != 0)
		return;
	gid = st.st_gid;
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
		say(LOG_WARNING,
		    "socket %s has mode %04o: only root (Sendmail) can connect; an MTA that is not "
		    "root (Postfix) needs milter.socket_mode 0660 and its group as "
		    "milter.socket_group",
		    path, (unsigned)(st.st_mode & 07777));
	dir = xstrdup(path);
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) == 0 && !group_can_enter(gid, &st)) {
			say(LOG_WARNING,
			    "directory %s (mode %04o, group %s) lets no member of group %s (nor "
			    "others) enter: a non-root MTA (Postfix) cannot reach socket %s",
			    dir, (unsigned)(st.st_mode & 07777),
			    group_name(st.st_gid, dbuf, sizeof(dbuf)),
			    group_name(gid, gbuf, sizeof(gbuf)), path);
			break;
		}
		if (slash == dir)
			break;
	}
	free(dir);
}

/* open_socket - register, bind and listen (as root), then set mode and owner */
static int open_socket(const struct policy *p, const char *conn)
{
	const char *path = unix_socket_path(conn);
	char why[PATH_MAX + 400];
	uid_t ouid;
	gid_t ogid;
	struct stat st;
	mode_t old_umask;
	int rc;

	if (socket_owner_ids(&p->milter, &ouid, &ogid) != 0)
		return -1;
	if (path != NULL && pm_socket_dir_unsafe(path, why, sizeof(why)) != NULL) {
		say(LOG_ERR, "%s; refusing to start", why);
		return -1;
	}
	if (path != NULL && socket_prepare(path) != 0)
		return -1;
	if (smfi_setconn((char *)conn) != MI_SUCCESS) {
		say(LOG_ERR, "bad socket specification \"%s\"", conn);
		return -1;
	}
	if (p->milter.timeout > 0)
		smfi_settimeout(p->milter.timeout);
	if (p->milter.backlog > 0 && smfi_setbacklog(p->milter.backlog) != MI_SUCCESS)
		say(LOG_WARNING, "smfi_setbacklog(%d) failed", p->milter.backlog);
	if (milter_register() != MI_SUCCESS) {
		say(LOG_ERR, "smfi_register failed");
		return -1;
	}
	old_umask = umask(0077);
	rc = smfi_opensocket(false);
	umask(old_umask);
	if (rc != MI_SUCCESS) {
		say(LOG_ERR, "cannot listen on %s (see the libmilter message above or in syslog)",
		    conn);
		return -1;
	}
	if (path == NULL)
		return 0;
	if (lstat(path, &st) != 0) {
		say(LOG_ERR, "socket %s vanished: %s", path, strerror(errno));
		return -1;
	}
	run.socket_path = xstrdup(path);
	run.socket_dev = st.st_dev;
	run.socket_ino = st.st_ino;
	if (chmod(path, p->milter.socket_mode) != 0) {
		say(LOG_ERR, "chmod %o %s: %s", (unsigned)p->milter.socket_mode, path,
		    strerror(errno));
		return -1;
	}
	if ((ouid != (uid_t)-1 || ogid != (gid_t)-1) && chown(path, ouid, ogid) != 0) {
		if (geteuid() == 0) {
			say(LOG_ERR, "chown %s: %s", path, strerror(errno));
			return -1;
		}
		say(LOG_WARNING, "not root: cannot chown %s (%s)", path, strerror(errno));
	}
	socket_reach_check(path);
	return 0;
}

/* drop_privileges - become uid/gid (supplementary groups of the user included) */
static int drop_privileges(const char *user, uid_t uid, gid_t gid)
{
	if (initgroups(user, gid) != 0) {
		say(LOG_ERR, "initgroups(%s): %s", user, strerror(errno));
		return -1;
	}
	if (setgid(gid) != 0) {
		say(LOG_ERR, "setgid(%ld): %s", (long)gid, strerror(errno));
		return -1;
	}
	if (setuid(uid) != 0) {
		say(LOG_ERR, "setuid(%ld): %s", (long)uid, strerror(errno));
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		say(LOG_ERR, "could regain root after dropping privileges; refusing to run");
		return -1;
	}
	return 0;
}

/* give_root_owned - lchown path to uid:gid when it is root's (a directory or a regular file) */
static void give_root_owned(const char *path, bool dir, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(path, &st) != 0 || st.st_uid != 0 ||
	    (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
		return;
	if (lchown(path, uid, gid) != 0)
		say(LOG_WARNING, "chown %s: %s", path, strerror(errno));
}

/*
 * state_dir_prepare - as root, before the drop: the LMDB state file's
 * directory, and the file and its lock file when they are there, given to
 * the milter user when they are root's. systemd's StateDirectory= of a
 * unit without User= (ours: the daemon drops privileges itself) makes
 * /var/lib/policy-milter root's at each start.
 */
static void state_dir_prepare(const struct policy *p, uid_t uid, gid_t gid)
{
	char dir[PATH_MAX], lock[PATH_MAX + 8];

	if (!state_wanted(p) || p->state.backend != STATE_LMDB || p->state.lmdb_path == NULL ||
	    p->state.lmdb_path[0] != '/')
		return;
	pm_dirname(p->state.lmdb_path, dir, sizeof(dir));
	if (strcmp(dir, "/") == 0)
		return;
	give_root_owned(dir, true, uid, gid);
	give_root_owned(p->state.lmdb_path, false, uid, gid);
	snprintf(lock, sizeof(lock), "%s-lock", p->state.lmdb_path);
	give_root_owned(lock, false, uid, gid);
}

/*
 * process_tuning - cheaper thread churn under libmilter, set before any thread starts
 *
 * Debian's libmilter (_FFR_WORKERS_POOL, worker.c) hands each ready
 * session to a worker thread and lets a worker exit as soon as more than
 * MIN_WORKERS (2) exist and more than MIN_IDLE (1) are idle: about 0.4
 * threads are created and destroyed per message at 200 connections
 * (perf: clone3 0.38 per message). Those numbers are compiled in, and
 * smfi_setbacklog, smfi_settimeout and the socket change nothing of it;
 * what can be cut is what each thread costs (tests/bench/README,
 * "libmilter's share", has the figures and how they were taken).
 *
 * Thread stacks: PM_THREAD_STACK_KIB for every thread that does not ask
 * for its size (libmilter's do not). With the 8 MiB default, glibc's
 * stack cache (40 MiB) keeps 5 stacks: the others are mapped, faulted in
 * and unmapped for every thread; with 512 KiB 80 stay cached. Per
 * message, policy-milter alone at 200 connections: mmap+munmap 0.48 ->
 * 0.14 with 1 MiB stacks (perf), CPU 1.113 -> 1.026 ms (-8 %, 256 KiB,
 * 6 rounds of tests/bench/engine.sh; one run.sh --milter-only run, 512
 * KiB: 1.09 ms against 1.25 and 1.08 without); RSS growth target still
 * met (-1.6 MiB). A small gain: the threads are still made and
 * destroyed, only cheaper. Enough stack: the deepest path of our
 * own code is 38 KiB of static frames (mi_envrcpt, rcpt_lookup: gcc
 * -fcallgraph-info=su), and the whole milter-only benchmark (mix, ARC,
 * LMDB and Redis state) ran with 64 KiB stacks; glibc lowers its alloca
 * cut-off (getaddrinfo, res_*) to a quarter of the stack by itself. Not
 * under ASan, whose frames are several times larger.
 *
 * Not set: malloc's M_TRIM_THRESHOLD. At 4 MiB (each thread's arena
 * keeps what it freed instead of heap_trim/shrink_heap) it took CPU per
 * message to 0.90 ms with these stacks, but RSS then grows by 5-7 MiB
 * over 20,000 messages (issue 6's growth target not met); at 1 MiB it
 * gained nothing (1.17 ms).
 */
#ifndef PM_THREAD_STACK_KIB
#define PM_THREAD_STACK_KIB 512
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PM_ASAN 1
#endif
#endif

static void process_tuning(void)
{
#ifndef PM_ASAN
	pthread_attr_t attr;
	int rc;

	if ((rc = pthread_attr_init(&attr)) == 0) {
		if ((rc = pthread_attr_setstacksize(&attr, (size_t)PM_THREAD_STACK_KIB * 1024)) ==
		    0)
			rc = pthread_setattr_default_np(&attr);
		pthread_attr_destroy(&attr);
	}
	if (rc != 0)
		say(LOG_WARNING, "thread stack size %d KiB not set: %s", PM_THREAD_STACK_KIB,
		    strerror(rc));
#endif
}

/* start - everything between the command line and smfi_main; 0 ok, -1 failed */
static int start(struct policy *p, const char *conn)
{
	char why[512];
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	bool drop = false;

	if (geteuid() == 0) {
		if (lookup_ids(&p->milter, &uid, &gid) != 0)
			return -1;
		drop = p->milter.user != NULL && *p->milter.user && uid != 0;
		if (!drop && !run.allow_root) {
			say(LOG_ERR, "refusing to run as root: milter.user is empty or root "
			             "(set milter.user, or use -R to run as root)");
			return -1;
		}
		if (!drop)
			say(LOG_WARNING, "milter.user is empty or root: running as root (-R)");
	} else if (p->milter.user != NULL && *p->milter.user) {
		say(LOG_WARNING, "not running as root: milter.user \"%s\" ignored, staying uid %ld",
		    p->milter.user, (long)geteuid());
	}
	if (open_socket(p, conn) != 0)
		return -1;
	if (p->metrics.listen != NULL &&
	    metrics_http_open(p->metrics.listen, why, sizeof(why)) != 0) {
		say(LOG_ERR, "metrics.listen %s: %s", p->metrics.listen, why);
		return -1;
	}
	if (p->milter.pid_file != NULL && *p->milter.pid_file &&
	    pidfile_write(p->milter.pid_file, drop ? uid : (uid_t)-1, drop ? gid : (gid_t)-1) != 0)
		return -1;
	if (drop)
		state_dir_prepare(p, uid, gid);
	if (drop && drop_privileges(p->milter.user, uid, gid) != 0)
		return -1;
	if (json_log_open(p, true) != 0)
		return -1;
	if (state_open(p, true) != 0) /* as the milter user: the LMDB file is its own */
		return -1;
	if (p->metrics.listen != NULL &&
	    metrics_http_start(metrics_render, why, sizeof(why)) != 0) {
		say(LOG_ERR, "metrics.listen %s: %s", p->metrics.listen, why);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct policy *p;
	const char *conn;
	pthread_t tid, mtid;
	bool check_only = false;
	unsigned left, gen;
	int c, rc, sig, drain_timeout;

	run.config_path = PM_CONFIG_PATH;
	metrics_init(PM_VERSION); /* the start time */
	opterr = 0;
	while ((c = getopt(argc, argv, ":c:fnp:RVh")) != -1) {
		switch (c) {
		case 'c':
			run.config_path = optarg;
			break;
		case 'f':
			run.foreground = true;
			break;
		case 'n':
			check_only = true;
			break;
		case 'p':
			run.socket_override = optarg;
			break;
		case 'R':
			run.allow_root = true;
			break;
		case 'V':
			printf(PROGNAME " " PM_VERSION "\n");
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, PROGNAME ": option -%c needs an argument\n", optopt);
			usage(stderr);
			return EX_USAGE;
		default:
			fprintf(stderr, PROGNAME ": unknown option -%c\n", optopt);
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROGNAME ": unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	if (run.socket_override != NULL) {
		char why[256];
		const char *bad = config_check_socket(run.socket_override, why, sizeof(why));

		if (bad != NULL) {
			fprintf(stderr, PROGNAME ": -p %s: %s\n", run.socket_override, bad);
			usage(stderr);
			return EX_USAGE;
		}
	}

	p = load_or_report(run.config_path, emit_stderr);
	if (check_only) {
		if (p == NULL)
			return 1;
		policy_release(p);
		printf(PROGNAME ": configuration OK\n");
		return 0;
	}
	if (p == NULL) {
		fprintf(stderr, PROGNAME ": refusing to start: errors in %s\n", run.config_path);
		return 1;
	}
	conn = run.socket_override != NULL ? run.socket_override : p->milter.socket;
	if (conn == NULL || *conn == '\0') {
		fprintf(stderr, PROGNAME ": no socket: set milter.socket or use -p\n");
		policy_release(p);
		return 1;
	}

	block_signals();
	log_open(ident_of(p), p->log.syslog_facility, run.foreground);
	run.logging = true;
	process_tuning();
	if (start(p, conn) != 0) {
		cleanup();
		policy_release(p);
		return 1;
	}
	gen = p->generation;
	metrics_policy_loaded(gen);
	policy_set_current(p); /* our reference moves in */
	main_thread = pthread_self();
	if ((rc = pthread_create(&tid, NULL, reload_thread, NULL)) != 0 ||
	    (rc = pthread_create(&mtid, NULL, smfi_thread, NULL)) != 0) {
		say(LOG_ERR, "cannot start a thread: %s", strerror(rc));
		cleanup();
		return 1;
	}
	pthread_detach(tid);
	pthread_detach(mtid);
	log_msg(LOG_INFO, "policy-milter %s listening on %s, policy generation %u from %s",
	        PM_VERSION, conn, gen, run.config_path);

	/*
	 * This thread waits for the stop signals. DRAIN_SIGNAL is blocked in
	 * every thread and waited for here only, so it always drains. For
	 * SIGTERM, SIGINT and SIGHUP the kernel prefers this thread when it
	 * waits, so libmilter's own signal thread (which would stop everything
	 * at once, sessions in flight included) normally never sees them.
	 */
	sig = wait_signal(-1);
	if (sig == SIGUSR2 || atomic_load(&smfi_ended)) {
		rc = atomic_load(&smfi_result);
		log_msg(rc == MI_SUCCESS ? LOG_INFO : LOG_ERR,
		        "libmilter stopped (%s); sessions in flight are abandoned",
		        rc == MI_SUCCESS ? "signal" : "failure");
	} else {
		p = policy_acquire();
		drain_timeout = p != NULL ? p->milter.drain_timeout : 0;
		policy_release(p);
		log_msg(LOG_INFO,
		        "stopping on signal %d: refusing new connections, waiting up to %d s "
		        "for %u session(s)",
		        sig, drain_timeout, milter_active_sessions());
		drain(drain_timeout);
		rc = atomic_load(&smfi_ended) ? atomic_load(&smfi_result) : MI_SUCCESS;
		if (rc != MI_SUCCESS)
			log_msg(LOG_ERR, "libmilter failed while stopping");
	}
	cleanup();
	left = milter_active_sessions();
	decision_json_shutdown(JSONLOG_EXIT_WAIT_MS); /* the queued records, and what was lost */
	log_msg(LOG_INFO, "stopped (%u session(s) cut off)", left);
	fflush(NULL);
	/* libmilter's threads still run: leave without running exit handlers under them */
	_exit(rc == MI_SUCCESS ? 0 : 1);
}
