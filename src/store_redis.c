/*
 * NAME
 *	store_redis 3 - the state store in Redis (see store.h)
 * SYNOPSIS
 *	#include "store_int.h"
 *
 *	void *store_redis_open(const struct state_settings *ss,
 *			       struct store_counters *c, char *errbuf,
 *			       size_t errsize);
 *	extern const struct store_ops store_redis_ops;
 * DESCRIPTION
 *	hiredis (synchronous API). A pool keeps up to POOL_MAX idle
 *	connections on a free list under a mutex: an operation takes one
 *	(or connects a new one when the list is empty, so no thread waits
 *	for another's connection), uses it alone, and gives it back, or
 *	frees it when it failed (a timed-out or broken connection is never
 *	used again: a late answer would be read as the next command's) or
 *	when the list is full. A pooled connection that fails at once (end of
 *	file, reset: the server restarted or a proxy closed it while idle;
 *	not a timeout) is replaced by a new one and the command sent again,
 *	once. Connecting: redisConnectWithTimeout
 *	("host:port", "[v6addr]:port") or redisConnectUnixWithTimeout
 *	("unix:/path") with state.redis.connect_timeout_ms, then
 *	redisSetTimeout with command_timeout_ms (the socket's send and
 *	receive timeouts: no command waits longer), AUTH (ACL user and
 *	password, or the password alone) and SELECT (database not 0). A
 *	host name is resolved by getaddrinfo, which no timeout bounds: give
 *	an address. Every key gets state.redis.prefix in front.
 *
 *	get is one Lua script (GET and PTTL, atomic); set is SET key value
 *	EX ttl; del is DEL; add is one Lua script doing store_add's whole
 *	contract in one atomic step (read, compare with the limit, write; a
 *	new counter gets the ttl, an existing record keeps its expiry; not
 *	an integer: 0). Scripts run by EVALSHA with their SHA-1, computed
 *	here (what SCRIPT LOAD would answer); on NOSCRIPT (a server that has
 *	not seen the script, or restarted) EVAL sends it whole, which also
 *	caches it on the server. The round trip counter counts every command
 *	sent, a connection's AUTH and SELECT included.
 *
 *	Sentinel and replicas: this client speaks to one server and does not
 *	ask Sentinel for the master. With Sentinel, point state.redis.server
 *	at something that always reaches the current master: a proxy such as
 *	HAProxy checking "role:master" (tcp-check send "info replication",
 *	expect "role:master"), or a virtual address that follows it. A
 *	read-only replica answers every write with an error (READONLY): the
 *	writes fail, three in a row begin an outage, and state.on_failure decides (greylisting
 *	and the rate limits need writes on every message), so never point
 *	the milters at a replica. After a failover the counters are what the
 *	new master had (asynchronous replication may lose the last writes).
 *
 *	A write to a connection the server closed would raise SIGPIPE: when
 *	SIGPIPE is at its default (terminate), store_redis_open ignores it
 *	(libmilter ignores it too).
 * DIAGNOSTICS
 *	store_redis_open: NULL with errbuf filled for settings that cannot
 *	work ("state.redis.server X: ..."); a server that does not answer is
 *	not an error: store_open then starts the store in an outage
 *	(store_redis_connect_now, one connection, AUTH and SELECT included). Operations:
 *	STORE_ERROR with store_reason() saying why ("connect to ...: ...",
 *	"GET: READONLY ...", "timeout"); a failure to connect (AUTH and
 *	SELECT included) is also marked with store_connect_failed(), which
 *	begins an outage at once (store.c).
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "policy.h"
#include "store_int.h"
#include "util.h"

#define POOL_MAX     16  /* idle connections kept */
#define PREFIX_MAX   200 /* bytes of state.redis.prefix */
#define DEFAULT_PORT 6379

/* The scripts, by index. */
enum { SCRIPT_GET, SCRIPT_ADD, SCRIPTS };

static const char *const script_text[SCRIPTS] = {
    /* KEYS[1]: the key. nil, or {value, pttl} */
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return false end\n"
    "return {v, redis.call('PTTL', KEYS[1])}\n",
    /* KEYS[1]: the key; ARGV: delta, limit, ttl. {1, new} or {0, current} (over) */
    "local v = redis.call('GET', KEYS[1])\n"
    "local cur = 0\n"
    "if v and string.match(v, '^%-?%d+$') then cur = tonumber(v) end\n"
    "local new = cur + tonumber(ARGV[1])\n"
    "local limit = tonumber(ARGV[2])\n"
    "if limit > 0 and new > limit then return {0, cur} end\n"
    "if v then\n"
    "  local pttl = redis.call('PTTL', KEYS[1])\n"
    "  redis.call('SET', KEYS[1], new)\n"
    "  if pttl > 0 then redis.call('PEXPIRE', KEYS[1], pttl)\n"
    "  else redis.call('EXPIRE', KEYS[1], ARGV[3]) end\n"
    "else\n"
    "  redis.call('SET', KEYS[1], new, 'EX', ARGV[3])\n"
    "end\n"
    "return {1, new}\n",
};

struct redis_store {
	bool is_unix;
	char host[256]; /* or the socket's path */
	int port;
	char *user, *pass; /* NULL: none */
	int db;
	char prefix[PREFIX_MAX + 1];
	size_t prefix_len;
	struct timeval connect_tv, command_tv;
	char sha[SCRIPTS][41];
	struct store_counters *c;
	char describe[300];
	pthread_mutex_t lock; /* guards the pool */
	redisContext *pool[POOL_MAX];
	int npool;
};

/* sha1_hex - the SHA-1 of s in hex, into out (41 bytes) */
static void sha1_hex(const char *s, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n, i;

	if (EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
		pm_fatal("store_redis: SHA-1 failed");
	n = mdlen;
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ms_tv - milliseconds as a timeval (def when not positive) */
static struct timeval ms_tv(int ms, int def)
{
	struct timeval tv;

	if (ms <= 0)
		ms = def;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* parse_server - "host:port", "[v6addr]:port", "host" or "unix:/path" into s; -1 with errbuf */
static int parse_server(struct redis_store *s, const char *server, char *errbuf, size_t errsize)
{
	const char *hs = server, *he, *ps = NULL;
	char *end;
	long port = DEFAULT_PORT;

	if (server == NULL || *server == '\0') {
		pm_bprintf(errbuf, errsize, "state.redis.server: empty");
		return -1;
	}
	if (strncmp(server, "unix:", 5) == 0) {
		if (server[5] == '\0' || strlen(server + 5) >= sizeof(s->host)) {
			pm_bprintf(errbuf, errsize, "state.redis.server %s: no socket path",
			           server);
			return -1;
		}
		s->is_unix = true;
		pm_bprintf(s->host, sizeof(s->host), "%s", server + 5);
		return 0;
	}
	if (*server == '[') {
		hs = server + 1;
		he = strchr(hs, ']');
		if (he == NULL || (he[1] != '\0' && he[1] != ':')) {
			pm_bprintf(errbuf, errsize, "state.redis.server %s: want [address]:port",
			           server);
			return -1;
		}
		if (he[1] == ':')
			ps = he + 2;
	} else {
		he = strchr(server, ':');
		if (he != NULL && strchr(he + 1, ':') != NULL) {
			pm_bprintf(errbuf, errsize,
			           "state.redis.server %s: an IPv6 address goes in brackets: "
			           "[address]:port",
			           server);
			return -1;
		}
		if (he != NULL)
			ps = he + 1;
		else
			he = server + strlen(server);
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(s->host)) {
		pm_bprintf(errbuf, errsize, "state.redis.server %s: no host", server);
		return -1;
	}
	if (ps != NULL) {
		errno = 0;
		port = strtol(ps, &end, 10);
		if (*ps == '\0' || *end != '\0' || errno != 0 || port < 1 || port > 65535) {
			pm_bprintf(errbuf, errsize, "state.redis.server %s: bad port", server);
			return -1;
		}
	}
	memcpy(s->host, hs, (size_t)(he - hs));
	s->host[he - hs] = '\0';
	s->port = (int)port;
	return 0;
}

/* reply_error - a reply that is an error (or missing): the reason noted */
static bool reply_error(redisContext *ctx, const redisReply *r, const char *what)
{
	if (r == NULL) {
		/* a read that timed out: hiredis says strerror(EAGAIN) */
		store_reason("%s: %s", what,
		             ctx->err == REDIS_ERR_IO && strcmp(ctx->errstr, strerror(EAGAIN)) == 0
		                 ? "timeout (state.redis.command_timeout_ms)"
		             : ctx->errstr[0] != '\0' ? ctx->errstr
		                                      : "no answer");
		return true;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		store_reason("%s: %s", what, r->str != NULL ? r->str : "error");
		return true;
	}
	return false;
}

/* command - send one command and read its answer, counting it; NULL on a broken connection */
static redisReply *command(struct redis_store *s, redisContext *ctx, int argc, const char **argv,
                           const size_t *lens)
{
	atomic_fetch_add(&s->c->round_trips, 1);
	return redisCommandArgv(ctx, argc, argv, lens);
}

/*
 * connect_new - a new connection, authenticated, its database selected;
 * NULL: reason noted and marked a connect failure (store.c: an outage at once)
 */
static redisContext *connect_new(struct redis_store *s)
{
	redisContext *ctx;
	redisReply *r;
	const char *argv[3];
	size_t lens[3];
	char db[16];
	int argc;

	if (s->is_unix)
		ctx = redisConnectUnixWithTimeout(s->host, s->connect_tv);
	else
		ctx = redisConnectWithTimeout(s->host, s->port, s->connect_tv);
	if (ctx == NULL) {
		store_reason("connect: out of memory");
		store_connect_failed();
		return NULL;
	}
	if (ctx->err != 0) {
		store_reason("connect: %s", ctx->errstr);
		redisFree(ctx);
		store_connect_failed();
		return NULL;
	}
	if (redisSetTimeout(ctx, s->command_tv) != REDIS_OK) {
		store_reason("setting the command timeout: %s", ctx->errstr);
		redisFree(ctx);
		store_connect_failed();
		return NULL;
	}
	if (s->pass != NULL) {
		argc = 0;
		argv[argc++] = "AUTH";
		if (s->user != NULL)
			argv[argc++] = s->user;
		argv[argc++] = s->pass;
		for (int i = 0; i < argc; i++)
			lens[i] = strlen(argv[i]);
		r = command(s, ctx, argc, argv, lens);
		if (reply_error(ctx, r, "AUTH")) {
			freeReplyObject(r);
			redisFree(ctx);
			store_connect_failed();
			return NULL;
		}
		freeReplyObject(r);
	}
	if (s->db != 0) {
		snprintf(db, sizeof(db), "%d", s->db);
		argv[0] = "SELECT";
		argv[1] = db;
		lens[0] = 6;
		lens[1] = strlen(db);
		r = command(s, ctx, 2, argv, lens);
		if (reply_error(ctx, r, "SELECT")) {
			freeReplyObject(r);
			redisFree(ctx);
			store_connect_failed();
			return NULL;
		}
		freeReplyObject(r);
	}
	return ctx;
}

/* ctx_get - a connection for one operation (*reused: from the pool, else new); NULL: reason noted
 */
static redisContext *ctx_get(struct redis_store *s, bool *reused)
{
	redisContext *ctx = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->npool > 0)
		ctx = s->pool[--s->npool];
	pthread_mutex_unlock(&s->lock);
	*reused = ctx != NULL;
	return ctx != NULL ? ctx : connect_new(s);
}

/* ctx_put - give ctx back after use; a broken one (or one too many) is freed */
static void ctx_put(struct redis_store *s, redisContext *ctx)
{
	if (ctx->err == 0) {
		pthread_mutex_lock(&s->lock);
		if (s->npool < POOL_MAX) {
			s->pool[s->npool++] = ctx;
			ctx = NULL;
		}
		pthread_mutex_unlock(&s->lock);
	}
	if (ctx != NULL)
		redisFree(ctx);
}

/* full_key - the prefixed key in buf (PREFIX_MAX + STORE_KEY_MAX + 1 bytes); its length */
static size_t full_key(const struct redis_store *s, const char *key, char *buf)
{
	size_t n = strlen(key);

	memcpy(buf, s->prefix, s->prefix_len);
	memcpy(buf + s->prefix_len, key, n);
	buf[s->prefix_len + n] = '\0';
	return s->prefix_len + n;
}

/*
 * script - run script idx with argv[0] its key and the rest its arguments
 * (at most 4): EVALSHA, EVAL on NOSCRIPT; the reply (NULL: broken
 * connection)
 */
static redisReply *script(struct redis_store *s, redisContext *ctx, int idx, int argc,
                          const char **argv, const size_t *lens)
{
	const char *av[8] = {"EVALSHA", s->sha[idx], "1"};
	size_t lv[8] = {7, 40, 1};
	redisReply *r;
	int n = 3, i;

	for (i = 0; i < argc && n < 8; i++, n++) {
		av[n] = argv[i];
		lv[n] = lens[i];
	}
	r = command(s, ctx, n, av, lv);
	if (r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		av[0] = "EVAL";
		av[1] = script_text[idx];
		lv[0] = 4;
		lv[1] = strlen(script_text[idx]);
		r = command(s, ctx, n, av, lv);
	}
	return r;
}

/* timed_out - did ctx fail by the command timeout (hiredis: strerror(EAGAIN)) */
static bool timed_out(const redisContext *ctx)
{
	return ctx->err == REDIS_ERR_IO && strcmp(ctx->errstr, strerror(EAGAIN)) == 0;
}

/*
 * call - one command (idx < 0) or script idx on a connection of the pool,
 * into *ctxp (NULL: none could be had, reason noted). A pooled connection
 * the server (or a proxy) closed while it was idle fails at once (end of
 * file, reset: not a timeout): the command goes once more on a new one.
 */
static redisReply *call(struct redis_store *s, redisContext **ctxp, int idx, int argc,
                        const char **argv, const size_t *lens)
{
	bool reused;
	redisContext *ctx = ctx_get(s, &reused);
	redisReply *r;

	*ctxp = ctx;
	if (ctx == NULL)
		return NULL;
	r = idx < 0 ? command(s, ctx, argc, argv, lens) : script(s, ctx, idx, argc, argv, lens);
	if (r == NULL && reused && !timed_out(ctx)) {
		redisFree(ctx);
		*ctxp = ctx = connect_new(s);
		if (ctx == NULL)
			return NULL;
		r = idx < 0 ? command(s, ctx, argc, argv, lens)
		            : script(s, ctx, idx, argc, argv, lens);
	}
	return r;
}

bool store_redis_connect_now(void *b)
{
	struct redis_store *s = b;
	redisContext *ctx = connect_new(s);

	if (ctx == NULL)
		return false;
	ctx_put(s, ctx);
	return true;
}

/* redis_get - store_ops.get */
static enum store_status redis_get(void *b, const char *key, char *val, size_t valsize,
                                   time_t *expires)
{
	struct redis_store *s = b;
	char k[PREFIX_MAX + STORE_KEY_MAX + 1];
	const char *argv[1] = {k};
	size_t lens[1] = {full_key(s, key, k)}, n;
	enum store_status st = STORE_ERROR;
	redisContext *ctx;
	redisReply *r = call(s, &ctx, SCRIPT_GET, 1, argv, lens);

	if (ctx == NULL)
		return STORE_ERROR;
	if (reply_error(ctx, r, "GET")) {
		/* nothing more */
	} else if (r->type == REDIS_REPLY_NIL) {
		st = STORE_NOTFOUND;
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	           r->element[0]->type == REDIS_REPLY_STRING &&
	           r->element[1]->type == REDIS_REPLY_INTEGER) {
		long long pttl = r->element[1]->integer;

		if (pttl == -2) {
			st = STORE_NOTFOUND; /* cannot happen: the script is atomic */
		} else {
			n = r->element[0]->len < valsize ? r->element[0]->len : valsize - 1;
			memcpy(val, r->element[0]->str, n);
			val[n] = '\0';
			if (expires != NULL)
				*expires =
				    pttl < 0 ? 0 : time(NULL) + (time_t)((pttl + 999) / 1000);
			st = STORE_OK;
		}
	} else {
		store_reason("GET: unexpected answer (type %d)", r->type);
	}
	freeReplyObject(r);
	ctx_put(s, ctx);
	return st;
}

/* redis_set - store_ops.set */
static enum store_status redis_set(void *b, const char *key, const char *val, unsigned ttl)
{
	struct redis_store *s = b;
	char k[PREFIX_MAX + STORE_KEY_MAX + 1], t[16];
	const char *argv[5] = {"SET", k, val, "EX", t};
	size_t lens[5];
	enum store_status st = STORE_ERROR;
	redisContext *ctx;
	redisReply *r;

	snprintf(t, sizeof(t), "%u", ttl);
	lens[0] = 3;
	lens[1] = full_key(s, key, k);
	lens[2] = strlen(val);
	lens[3] = 2;
	lens[4] = strlen(t);
	r = call(s, &ctx, -1, 5, argv, lens);
	if (ctx == NULL)
		return STORE_ERROR;
	if (!reply_error(ctx, r, "SET"))
		st = STORE_OK;
	freeReplyObject(r);
	ctx_put(s, ctx);
	return st;
}

/* redis_add - store_ops.add: the add script */
static enum store_status redis_add(void *b, const char *key, long delta, long limit, unsigned ttl,
                                   long *value)
{
	struct redis_store *s = b;
	char k[PREFIX_MAX + STORE_KEY_MAX + 1], d[24], l[24], t[16];
	const char *argv[4] = {k, d, l, t};
	size_t lens[4];
	enum store_status st = STORE_ERROR;
	redisContext *ctx;
	redisReply *r;

	snprintf(d, sizeof(d), "%ld", delta);
	snprintf(l, sizeof(l), "%ld", limit);
	snprintf(t, sizeof(t), "%u", ttl);
	lens[0] = full_key(s, key, k);
	lens[1] = strlen(d);
	lens[2] = strlen(l);
	lens[3] = strlen(t);
	r = call(s, &ctx, SCRIPT_ADD, 4, argv, lens);
	if (ctx == NULL)
		return STORE_ERROR;
	if (reply_error(ctx, r, "add")) {
		/* nothing more */
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	           r->element[0]->type == REDIS_REPLY_INTEGER &&
	           r->element[1]->type == REDIS_REPLY_INTEGER) {
		st = r->element[0]->integer == 1 ? STORE_OK : STORE_OVER;
		if (value != NULL)
			*value = (long)r->element[1]->integer;
	} else {
		store_reason("add: unexpected answer (type %d)", r->type);
	}
	freeReplyObject(r);
	ctx_put(s, ctx);
	return st;
}

/* redis_del - store_ops.del */
static enum store_status redis_del(void *b, const char *key)
{
	struct redis_store *s = b;
	char k[PREFIX_MAX + STORE_KEY_MAX + 1];
	const char *argv[2] = {"DEL", k};
	size_t lens[2] = {3, full_key(s, key, k)};
	enum store_status st = STORE_ERROR;
	redisContext *ctx;
	redisReply *r = call(s, &ctx, -1, 2, argv, lens);

	if (ctx == NULL)
		return STORE_ERROR;
	if (!reply_error(ctx, r, "DEL"))
		st = STORE_OK;
	freeReplyObject(r);
	ctx_put(s, ctx);
	return st;
}

/* redis_close - store_ops.close */
static void redis_close(void *b)
{
	struct redis_store *s = b;

	while (s->npool > 0)
		redisFree(s->pool[--s->npool]);
	pthread_mutex_destroy(&s->lock);
	free(s->user);
	free(s->pass);
	free(s);
}

/* redis_describe - store_ops.describe */
static const char *redis_describe(void *b)
{
	const struct redis_store *s = b;

	return s->describe;
}

void *store_redis_open(const struct state_settings *ss, struct store_counters *c, char *errbuf,
                       size_t errsize)
{
	struct redis_store *s = xcalloc(1, sizeof(*s));
	const char *prefix = ss->redis_prefix != NULL ? ss->redis_prefix : "";
	struct sigaction sa;
	int i;

	if (parse_server(s, ss->redis_server, errbuf, errsize) != 0)
		goto fail;
	if (ss->redis_password == NULL || ss->redis_password[0] == '\0') {
		if (ss->redis_username != NULL && ss->redis_username[0] != '\0') {
			pm_bprintf(errbuf, errsize, "state.redis.username %s: needs a password",
			           ss->redis_username);
			goto fail;
		}
	} else {
		s->pass = xstrdup(ss->redis_password);
		if (ss->redis_username != NULL && ss->redis_username[0] != '\0')
			s->user = xstrdup(ss->redis_username);
	}
	if (ss->redis_database < 0) {
		pm_bprintf(errbuf, errsize, "state.redis.database %d: negative",
		           ss->redis_database);
		goto fail;
	}
	if (strlen(prefix) > PREFIX_MAX) {
		pm_bprintf(errbuf, errsize, "state.redis.prefix: longer than %d bytes", PREFIX_MAX);
		goto fail;
	}
	s->db = ss->redis_database;
	s->prefix_len = strlen(prefix);
	memcpy(s->prefix, prefix, s->prefix_len + 1);
	s->connect_tv = ms_tv(ss->redis_connect_timeout_ms, 500);
	s->command_tv = ms_tv(ss->redis_command_timeout_ms, 250);
	for (i = 0; i < SCRIPTS; i++)
		sha1_hex(script_text[i], s->sha[i]);
	s->c = c;
	if (s->is_unix)
		pm_bprintf(s->describe, sizeof(s->describe), "redis unix:%s", s->host);
	else if (strchr(s->host, ':') != NULL)
		pm_bprintf(s->describe, sizeof(s->describe), "redis [%s]:%d", s->host, s->port);
	else
		pm_bprintf(s->describe, sizeof(s->describe), "redis %s:%d", s->host, s->port);
	pthread_mutex_init(&s->lock, NULL);
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	return s;
fail:
	free(s->user);
	free(s->pass);
	free(s);
	return NULL;
}

const struct store_ops store_redis_ops = {
    .name = "redis",
    .get = redis_get,
    .set = redis_set,
    .add = redis_add,
    .del = redis_del,
    .close = redis_close,
    .describe = redis_describe,
};
