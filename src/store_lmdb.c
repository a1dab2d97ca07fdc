/*
 * NAME
 *	store_lmdb 3 - the state store in one LMDB file (see store.h)
 * SYNOPSIS
 *	#include "store_int.h"
 *
 *	void *store_lmdb_open(const struct state_settings *ss,
 *			      struct store_counters *c, char *errbuf,
 *			      size_t errsize);
 *	extern const struct store_ops store_lmdb_ops;
 * DESCRIPTION
 *	One environment per file in the process (MDB_NOSUBDIR, MDB_NOTLS,
 *	MDB_NOMETASYNC, map size state.lmdb.max_size_mb, 512 readers), one
 *	unnamed database.
 *	LMDB forbids opening one file twice in a process (closing either
 *	would drop the other's locks), so the environments live in a
 *	registry by path: a second store of the same path (a reload that
 *	changed only on_failure or the size) shares it; the size in force is
 *	the first one's until the last store of the file is closed.
 *
 *	A record is the absolute expiry (int64 milliseconds since the epoch,
 *	host order) followed by the value's bytes. An expired record reads
 *	as absent and counts as absent for store_add; a counter is the
 *	decimal text of a long (anything else counts as 0). A key longer
 *	than LMDB's limit (511) is stored as its first 446 bytes, a 0x01 byte
 *	(never in a store key) and the SHA-256 of the whole key in hex.
 *
 *	Every operation is one transaction; store_add reads, compares with
 *	the limit and writes in one write transaction, so it is exact under
 *	concurrency (LMDB has one writer at a time). The purge thread wakes
 *	every 60 s (and when a write found the map full) and walks the
 *	database in write transactions of at most 1,000 deletions and
 *	10,000 records looked at, resuming after each commit at the key
 *	where it stopped, so a writer never waits long. It runs with every
 *	signal blocked (the daemon's signals go to its own signal thread).
 *	Open the store after any fork(): the thread and the environment do
 *	not survive one.
 *
 *	Durability (MDB_NOMETASYNC): a commit syncs the transaction's data
 *	pages (one fdatasync) but not the meta page that makes it current;
 *	the next commit's sync (or env_close's mdb_env_sync) writes that meta
 *	page out. A process crash loses nothing committed (the pages are in
 *	the page cache). A power failure or kernel crash leaves the file
 *	intact (copy-on-write: the previous meta page still points at a
 *	whole tree) but may undo the last committed write transaction, that
 *	is one store_set/store_add/store_del or one purge batch.
 *
 *	Measured on the 2-core test VM (ext4), 2026-12-07. A throwaway
 *	program, 10,000 store_add from 8 threads, three runs each: default
 *	flags (two syncs a commit) 817, 1,342, 1,258 adds/s; MDB_NOMETASYNC
 *	1,490, 1,842, 1,360; MDB_NOSYNC with mdb_env_sync(env, 1) every
 *	second from the purge thread 52,428, 43,442, 60,836. The benchmark
 *	(BENCH_STATE_ROUNDS=1 tests/bench/run.sh --state-only, one run each,
 *	other work on the machine varying): measured run lmdb / no state
 *	msgs/s, priming rounds new and passed: default 1,354 / 1,732 (0.78),
 *	1,363 and 726; MDB_NOMETASYNC 1,194 / 1,506 (0.79), 1,668 and 840;
 *	NOSYNC + 1 s sync 1,444 / 1,545 (0.93), 2,162 and 1,289. NOSYNC
 *	was not taken: a system crash may then lose the writes of the last
 *	second or leave pages written out of order (a corrupt file), and
 *	env_try reads such a file in the process itself, where LMDB does not
 *	check every page (a torn tree may crash it rather than fail).
 *
 *	Opening: the file's directory must exist; a missing or empty file is
 *	created (mode 0600) with "PATH-lock" beside it. A file LMDB refuses
 *	(not an LMDB file, another version, corrupt, shorter than its own
 *	header says: a truncated file would otherwise crash the process on
 *	first access) is renamed to PATH.bad-YYYYmmddTHHMMSSZ, its lock file
 *	removed, and a new file created. At open every record is read once
 *	(a damaged page shows then, not in the middle of mail traffic).
 * DIAGNOSTICS
 *	store_lmdb_open: NULL with errbuf filled ("state.lmdb.path PATH:
 *	directory DIR does not exist", "...: Permission denied", ...);
 *	log_msg LOG_ERR "state store lmdb PATH: REASON; renamed to BAD and a
 *	new one created" for a refused file; LOG_WARNING when a reload's
 *	new max_size_mb cannot apply before the file is closed.
 */
#include <errno.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "store_int.h"
#include "util.h"

#define PURGE_INTERVAL_S 60
#define PURGE_DELETES    1000  /* at most, per write transaction */
#define PURGE_LOOKS      10000 /* records looked at, per write transaction */
#define MAX_READERS      512
#define HASHED_PREFIX    446 /* + 0x01 + 64 hex digits = 511, LMDB's default key limit */
#define REC_HEAD         8   /* the expiry before the value */

/* One environment, shared by the stores of its path. */
struct lmdb_env {
	struct lmdb_env *next; /* the registry */
	char *path;
	int refs;   /* under registry_lock */
	int max_mb; /* as opened */
	MDB_env *env;
	MDB_dbi dbi;
	size_t maxkey;
	pthread_t purger;
	pthread_mutex_t lock; /* guards stop, wake, c */
	pthread_cond_t cond;
	bool stop, wake;
	struct store_counters *c;  /* a store's counters the purge adds to (NULL: none) */
	struct lmdb_store *stores; /* the handles on it (under lock) */
};

/* One store's handle. */
struct lmdb_store {
	struct lmdb_store *next; /* on its env */
	struct lmdb_env *e;
	struct store_counters *c;
	char describe[300];
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lmdb_env *registry;

/* now_ms - the real clock in milliseconds (the expiries outlive the process) */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* db_key - the LMDB key of key, in buf (at least e->maxkey + 1 bytes) */
static MDB_val db_key(const struct lmdb_env *e, const char *key, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(key), i;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	MDB_val k;

	if (n <= e->maxkey) {
		k.mv_data = (void *)key;
		k.mv_size = n;
		return k;
	}
	memcpy(buf, key, HASHED_PREFIX);
	buf[HASHED_PREFIX] = '\x01';
	if (EVP_Digest(key, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		pm_fatal("store_lmdb: SHA-256 failed");
	for (i = 0; i < mdlen && i < 32; i++) {
		buf[HASHED_PREFIX + 1 + 2 * i] = hex[md[i] >> 4];
		buf[HASHED_PREFIX + 2 + 2 * i] = hex[md[i] & 15];
	}
	k.mv_data = buf;
	k.mv_size = HASHED_PREFIX + 1 + 2 * i;
	return k;
}

/* rec_expiry - the expiry of a record; false when it is too short to be one */
static bool rec_expiry(const MDB_val *v, int64_t *exp)
{
	if (v->mv_size < REC_HEAD)
		return false;
	memcpy(exp, v->mv_data, sizeof(*exp));
	return true;
}

/* counter_of - the counter a record's value holds (not a decimal long: 0) */
static long counter_of(const char *s, size_t n)
{
	char buf[32], *end;
	long v;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || (buf[0] != '-' && (buf[0] < '0' || buf[0] > '9')))
		return 0;
	return v;
}

/* fail - note why an operation failed; STORE_ERROR */
static enum store_status fail(struct lmdb_store *s, const char *what, int rc)
{
	store_reason("lmdb %s: %s", what, mdb_strerror(rc));
	if (rc == MDB_MAP_FULL) {
		store_reason("lmdb %s: the map is full (state.lmdb.max_size_mb = %d)", what,
		             s->e->max_mb);
		pthread_mutex_lock(&s->e->lock);
		s->e->wake = true;
		pthread_cond_signal(&s->e->cond);
		pthread_mutex_unlock(&s->e->lock);
	}
	return STORE_ERROR;
}

/* txn - begin a transaction, counting it */
static int txn(struct lmdb_store *s, unsigned flags, MDB_txn **t)
{
	atomic_fetch_add(&s->c->round_trips, 1);
	return mdb_txn_begin(s->e->env, NULL, flags, t);
}

/* lmdb_get - store_ops.get */
static enum store_status lmdb_get(void *b, const char *key, char *val, size_t valsize,
                                  time_t *expires)
{
	struct lmdb_store *s = b;
	char kbuf[600];
	MDB_val k = db_key(s->e, key, kbuf), v;
	MDB_txn *t;
	int64_t exp;
	size_t n;
	int rc;

	if ((rc = txn(s, MDB_RDONLY, &t)) != 0)
		return fail(s, "read transaction", rc);
	rc = mdb_get(t, s->e->dbi, &k, &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && (!rec_expiry(&v, &exp) || exp <= now_ms()))) {
		mdb_txn_abort(t);
		return STORE_NOTFOUND;
	}
	if (rc != 0) {
		mdb_txn_abort(t);
		return fail(s, "get", rc);
	}
	n = v.mv_size - REC_HEAD;
	if (n >= valsize)
		n = valsize - 1;
	memcpy(val, (const char *)v.mv_data + REC_HEAD, n);
	val[n] = '\0';
	if (expires != NULL)
		*expires = (time_t)((exp + 999) / 1000);
	mdb_txn_abort(t);
	return STORE_OK;
}

/* put - write the record (exp, val) at k in t */
static int put(struct lmdb_store *s, MDB_txn *t, MDB_val *k, int64_t exp, const char *val, size_t n)
{
	char rec[REC_HEAD + STORE_VALUE_MAX + 32];
	MDB_val v = {.mv_size = REC_HEAD + n, .mv_data = rec};

	memcpy(rec, &exp, REC_HEAD);
	memcpy(rec + REC_HEAD, val, n);
	return mdb_put(t, s->e->dbi, k, &v, 0);
}

/* lmdb_set - store_ops.set */
static enum store_status lmdb_set(void *b, const char *key, const char *val, unsigned ttl)
{
	struct lmdb_store *s = b;
	char kbuf[600];
	MDB_val k = db_key(s->e, key, kbuf);
	MDB_txn *t;
	int rc;

	if ((rc = txn(s, 0, &t)) != 0)
		return fail(s, "write transaction", rc);
	if ((rc = put(s, t, &k, now_ms() + (int64_t)ttl * 1000, val, strlen(val))) != 0) {
		mdb_txn_abort(t);
		return fail(s, "put", rc);
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		return fail(s, "commit", rc);
	return STORE_OK;
}

/* lmdb_add - store_ops.add: read, compare and write in one write transaction */
static enum store_status lmdb_add(void *b, const char *key, long delta, long limit, unsigned ttl,
                                  long *value)
{
	struct lmdb_store *s = b;
	char kbuf[600], num[32];
	MDB_val k = db_key(s->e, key, kbuf), v;
	int64_t now = now_ms(), exp = now + (int64_t)ttl * 1000, old;
	long cur = 0, sum;
	MDB_txn *t;
	int rc;

	if ((rc = txn(s, 0, &t)) != 0)
		return fail(s, "write transaction", rc);
	rc = mdb_get(t, s->e->dbi, &k, &v);
	if (rc == 0 && rec_expiry(&v, &old) && old > now) {
		exp = old;
		cur = counter_of((const char *)v.mv_data + REC_HEAD, v.mv_size - REC_HEAD);
	} else if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_txn_abort(t);
		return fail(s, "get", rc);
	}
	sum = cur + delta;
	if (limit > 0 && sum > limit) {
		mdb_txn_abort(t);
		if (value != NULL)
			*value = cur;
		return STORE_OVER;
	}
	snprintf(num, sizeof(num), "%ld", sum);
	if ((rc = put(s, t, &k, exp, num, strlen(num))) != 0) {
		mdb_txn_abort(t);
		return fail(s, "put", rc);
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		return fail(s, "commit", rc);
	if (value != NULL)
		*value = sum;
	return STORE_OK;
}

/* lmdb_del - store_ops.del */
static enum store_status lmdb_del(void *b, const char *key)
{
	struct lmdb_store *s = b;
	char kbuf[600];
	MDB_val k = db_key(s->e, key, kbuf);
	MDB_txn *t;
	int rc;

	if ((rc = txn(s, 0, &t)) != 0)
		return fail(s, "write transaction", rc);
	rc = mdb_del(t, s->e->dbi, &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_txn_abort(t);
		return fail(s, "del", rc);
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		return fail(s, "commit", rc);
	return STORE_OK;
}

/* purge_counters - add n purged records and t transactions to the env's store counters */
static void purge_counters(struct lmdb_env *e, unsigned long n, unsigned long t)
{
	pthread_mutex_lock(&e->lock);
	if (e->c != NULL) {
		atomic_fetch_add(&e->c->purged, n);
		atomic_fetch_add(&e->c->round_trips, t);
	}
	pthread_mutex_unlock(&e->lock);
}

/* purge_pass - delete the expired records of e, in small write transactions */
static unsigned long purge_pass(struct lmdb_env *e)
{
	char resume[512];
	size_t resume_len = 0;
	bool more = true;
	unsigned long total = 0, txns = 0;

	while (more) {
		MDB_txn *t;
		MDB_cursor *cur;
		MDB_val k, v;
		int64_t now = now_ms(), exp;
		unsigned deleted = 0, looked = 0;
		int rc;

		if (mdb_txn_begin(e->env, NULL, 0, &t) != 0)
			break;
		txns++;
		if (mdb_cursor_open(t, e->dbi, &cur) != 0) {
			mdb_txn_abort(t);
			break;
		}
		if (resume_len > 0) {
			k.mv_data = resume;
			k.mv_size = resume_len;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		} else {
			rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		}
		while (rc == 0 && deleted < PURGE_DELETES && looked < PURGE_LOOKS) {
			looked++;
			if ((!rec_expiry(&v, &exp) || exp <= now) && mdb_cursor_del(cur, 0) == 0)
				deleted++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		more = rc == 0 && k.mv_size <= sizeof(resume);
		if (more) {
			memcpy(resume, k.mv_data, k.mv_size);
			resume_len = k.mv_size;
		}
		mdb_cursor_close(cur);
		if (mdb_txn_commit(t) != 0)
			break;
		total += deleted;
		if (more)
			sched_yield();
	}
	purge_counters(e, total, txns);
	return total;
}

/* purger - the purge thread: a pass every PURGE_INTERVAL_S seconds or when woken */
static void *purger(void *arg)
{
	struct lmdb_env *e = arg;

	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += PURGE_INTERVAL_S;
		while (!e->stop && !e->wake)
			if (pthread_cond_timedwait(&e->cond, &e->lock, &until) != 0)
				break;
		if (e->stop)
			break;
		e->wake = false;
		pthread_mutex_unlock(&e->lock);
		mdb_reader_check(e->env, NULL);
		purge_pass(e);
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

unsigned long store_lmdb_purge_now(void *b)
{
	struct lmdb_store *s = b;

	return purge_pass(s->e);
}

/* refused - is rc LMDB's word for a file it will not use (renamed aside) */
static bool refused(int rc)
{
	return rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED ||
	       rc == MDB_PAGE_NOTFOUND;
}

/*
 * env_try - open the environment of path, its database, and read it whole;
 * 0, an LMDB or errno code, or MDB_CORRUPTED for a file shorter than its
 * header says
 */
static int env_try(struct lmdb_env *e)
{
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *t;
	MDB_cursor *cur;
	MDB_val k, v;
	struct stat sb;
	int rc;

	if ((rc = mdb_env_create(&e->env)) != 0)
		return rc;
	mdb_env_set_mapsize(e->env, (size_t)e->max_mb << 20);
	mdb_env_set_maxreaders(e->env, MAX_READERS);
	/* one sync a commit, not two: see DESCRIPTION, Durability */
	rc = mdb_env_open(e->env, e->path, MDB_NOSUBDIR | MDB_NOTLS | MDB_NOMETASYNC, 0600);
	if (rc == 0)
		mdb_reader_check(e->env, NULL);
	if (rc == 0 && (rc = mdb_env_info(e->env, &info)) == 0 &&
	    (rc = mdb_env_stat(e->env, &ms)) == 0) {
		if (stat(e->path, &sb) != 0)
			rc = errno;
		else if ((uint64_t)sb.st_size < ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize)
			rc = MDB_CORRUPTED; /* truncated: reading it would SIGBUS */
	}
	if (rc == 0 && (rc = mdb_txn_begin(e->env, NULL, 0, &t)) == 0) {
		if ((rc = mdb_dbi_open(t, NULL, 0, &e->dbi)) == 0)
			rc = mdb_txn_commit(t);
		else
			mdb_txn_abort(t);
	}
	if (rc == 0 && (rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &t)) == 0) {
		if ((rc = mdb_cursor_open(t, e->dbi, &cur)) == 0) {
			while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
				;
			if (rc == MDB_NOTFOUND)
				rc = 0;
			mdb_cursor_close(cur);
		}
		mdb_txn_abort(t);
	}
	if (rc != 0) {
		mdb_env_close(e->env);
		e->env = NULL;
	}
	return rc;
}

/* env_open - a new environment for path (not in the registry); NULL with errbuf filled */
static struct lmdb_env *env_open(const char *path, int max_mb, char *errbuf, size_t errsize)
{
	struct lmdb_env *e = xcalloc(1, sizeof(*e));
	char dir[4096], bad[4400], lock[4200], stamp[32];
	struct stat sb;
	sigset_t all, old;
	time_t now;
	struct tm tm;
	int rc;

	pm_dirname(path, dir, sizeof(dir));
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		pm_bprintf(errbuf, errsize, "state.lmdb.path %s: directory %s %s", path, dir,
		           stat(dir, &sb) != 0 ? "does not exist" : "is not a directory");
		free(e);
		return NULL;
	}
	e->path = xstrdup(path);
	e->max_mb = max_mb > 0 ? max_mb : 256;
	rc = env_try(e);
	if (refused(rc)) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		pm_bprintf(bad, sizeof(bad), "%s.bad-%s", path, stamp);
		pm_bprintf(lock, sizeof(lock), "%s-lock", path);
		if (rename(path, bad) != 0) {
			pm_bprintf(errbuf, errsize,
			           "state.lmdb.path %s: %s; cannot rename it to %s: %s", path,
			           mdb_strerror(rc), bad, strerror(errno));
			goto fail;
		}
		unlink(lock);
		log_msg(LOG_ERR, "state store lmdb %s: %s; renamed to %s and a new one created",
		        path, mdb_strerror(rc), bad);
		rc = env_try(e);
	}
	if (rc != 0) {
		pm_bprintf(
		    errbuf, errsize, "state.lmdb.path %s: %s%s", path, mdb_strerror(rc),
		    rc == EACCES || rc == EROFS
		        ? " (the file and its directory must be writable by the milter's user)"
		        : "");
		goto fail;
	}
	e->maxkey = (size_t)mdb_env_get_maxkeysize(e->env);
	if (e->maxkey > HASHED_PREFIX + 65)
		e->maxkey = HASHED_PREFIX + 65;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	/* every signal blocked in the purge thread: they are the daemon's signal thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&e->purger, NULL, purger, e) != 0)
		pm_fatal("store_lmdb: cannot start the purge thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_setname_np(e->purger, "pm-lmdb-purge");
	return e;
fail:
	free(e->path);
	free(e);
	return NULL;
}

/* env_close - stop the purge thread and close e */
static void env_close(struct lmdb_env *e)
{
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->purger, NULL);
	mdb_env_sync(e->env, 1); /* the last commit's meta page (MDB_NOMETASYNC) */
	mdb_env_close(e->env);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e->path);
	free(e);
}

void *store_lmdb_open(const struct state_settings *ss, struct store_counters *c, char *errbuf,
                      size_t errsize)
{
	const char *path = ss->lmdb_path;
	struct lmdb_store *s;
	struct lmdb_env *e;

	if (path == NULL || path[0] != '/') {
		pm_bprintf(errbuf, errsize, "state.lmdb.path %s: not an absolute path",
		           path != NULL ? path : "(none)");
		return NULL;
	}
	pthread_mutex_lock(&registry_lock);
	for (e = registry; e != NULL; e = e->next)
		if (strcmp(e->path, path) == 0)
			break;
	if (e != NULL) {
		e->refs++;
		if (ss->lmdb_max_mb != e->max_mb)
			log_msg(LOG_WARNING,
			        "state store lmdb %s: state.lmdb.max_size_mb %d applies when the "
			        "file is next opened (%d MiB until then)",
			        path, ss->lmdb_max_mb, e->max_mb);
	} else if ((e = env_open(path, ss->lmdb_max_mb, errbuf, errsize)) != NULL) {
		e->refs = 1;
		e->next = registry;
		registry = e;
	}
	pthread_mutex_unlock(&registry_lock);
	if (e == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->e = e;
	s->c = c;
	pm_bprintf(s->describe, sizeof(s->describe), "lmdb %s", path);
	pthread_mutex_lock(&e->lock);
	s->next = e->stores;
	e->stores = s;
	e->c = c;
	pthread_mutex_unlock(&e->lock);
	return s;
}

/* lmdb_close - store_ops.close: the environment closes with its last store */
static void lmdb_close(void *b)
{
	struct lmdb_store *s = b, **pp;
	struct lmdb_env *e = s->e, **ep;
	bool last;

	pthread_mutex_lock(&e->lock);
	for (pp = &e->stores; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	e->c = e->stores != NULL ? e->stores->c : NULL;
	pthread_mutex_unlock(&e->lock);
	pthread_mutex_lock(&registry_lock);
	last = --e->refs == 0;
	if (last)
		for (ep = &registry; *ep != NULL; ep = &(*ep)->next)
			if (*ep == e) {
				*ep = e->next;
				break;
			}
	pthread_mutex_unlock(&registry_lock);
	if (last)
		env_close(e);
	free(s);
}

/* lmdb_describe - store_ops.describe */
static const char *lmdb_describe(void *b)
{
	const struct lmdb_store *s = b;

	return s->describe;
}

const struct store_ops store_lmdb_ops = {
    .name = "lmdb",
    .get = lmdb_get,
    .set = lmdb_set,
    .add = lmdb_add,
    .del = lmdb_del,
    .close = lmdb_close,
    .describe = lmdb_describe,
};
