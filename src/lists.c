/*
 * NAME
 *	lists 3 - allow and block lists
 * SYNOPSIS
 *	#include "lists.h"
 *
 *	struct pm_list *list_new(enum list_kind kind, const char *name,
 *				 const char *const *entries, size_t nentries,
 *				 const char *path, struct list_errors *errs);
 *	void list_free(struct pm_list *l);
 *	bool list_match(struct pm_list *l, const char *value, struct list_hit *hit);
 *	bool list_match_ip(struct pm_list *l, const struct pm_ip *ip, struct list_hit *hit);
 *	bool list_match_addr(struct pm_list *l, enum addr_status st,
 *			     const struct pm_addr *a, struct list_hit *hit);
 *	char *list_hit_format(const struct list_hit *hit, char *buf, size_t bufsize);
 *	size_t list_size(struct pm_list *l);
 *	void list_set_recheck_ms(struct pm_list *l, unsigned ms);
 *	const char *list_kind_name(enum list_kind kind);
 *	void list_errors_free(struct list_errors *errs);
 * DESCRIPTION
 *	Every entry becomes one key in a hash table (open addressing,
 *	linear probing); a lookup builds the few keys a value can match,
 *	most specific first, and probes each: O(labels) for names and
 *	addresses, O(prefix lengths in use) for client addresses, never a
 *	scan of the entries. Keys by kind:
 *
 *	    client       4|6, prefix length, the network's bytes (binary)
 *	    names, HELO  "mail.example.net", ".example.net", "[192.0.2.1]"
 *	    addresses    "user@example.net", "user@", "@example.net",
 *	                 "@.example.net", "<>"
 *
 *	Keys are lower-cased; an address literal is rewritten in one form
 *	("[IPv6:2001:db8::1]" as inet_ntop prints it, IPv4-mapped ones as
 *	IPv4) so that equal addresses give equal keys.
 *
 *	A list has two tables: the inline entries (fixed) and the file's,
 *	a file table (filetable.h) that reads, re-checks, re-reads and swaps
 *	it: a lookup takes a reference to the table in force and probes it
 *	without any lock; a re-read (by the one caller that found the
 *	re-check due, outside every lock) never holds a lookup up.
 * DIAGNOSTICS
 *	See lists.h.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filetable.h"
#include "lists.h"
#include "log.h"
#include "util.h"

#define KEY_MAX      1100 /* any key built from an entry or value of LIST_ENTRY_MAX bytes */
#define VALUE_MAX    1024 /* longer values never match */
#define MAX_WARNINGS 10   /* bad-line warnings per re-read */

/* A set of entries. */
struct table {
	struct ft_keyset ks;
	bool in_file;
	bool prefix[2][129]; /* client lists: [0] IPv4, [1] IPv6 prefix lengths in use */
};

struct pm_list {
	enum list_kind kind;
	char *name;
	char *path;               /* NULL: inline entries only */
	struct table *inline_tab; /* never NULL, never changed */
	struct filetable *file;   /* the file's table (filetable.h); NULL when there is no file */
};

/* An entry or value turned into a key. */
struct parsed {
	unsigned char key[KEY_MAX];
	size_t keylen;
	char text[KEY_MAX];
	int fam_index; /* client: 0 IPv4, 1 IPv6 */
	unsigned prefix;
};

/* Where errors go while building. */
struct build {
	struct list_errors *errs; /* list_new: collect here; NULL: re-read, log */
	const char *name;
	size_t nerrs; /* problems seen (collected or logged) */
};

/* table_new - an empty table */
static struct table *table_new(bool in_file)
{
	struct table *t = xcalloc(1, sizeof(*t));

	ft_keyset_init(&t->ks);
	t->in_file = in_file;
	return t;
}

/* table_free - free the table and its entries; NULL is fine */
static void table_free(struct table *t)
{
	if (t == NULL)
		return;
	ft_keyset_clear(&t->ks);
	free(t);
}

/* table_destroy - table_free for ft_ops */
static void table_destroy(void *t)
{
	table_free(t);
}

/* table_get - the entry with key, or NULL */
static const struct ft_item *table_get(const struct table *t, const unsigned char *key, size_t len)
{
	return t == NULL ? NULL : ft_keyset_get(&t->ks, key, len);
}

/* table_add - add p unless its key is there already (the first one stays) */
static void table_add(struct table *t, const struct parsed *p, size_t where)
{
	if (ft_keyset_add(&t->ks, p->key, p->keylen, p->text, where) && p->fam_index >= 0)
		t->prefix[p->fam_index][p->prefix] = true;
}

/* set_key - key = prefix + s (lower-cased), text = s; false when too long */
static bool set_key(struct parsed *p, const char *prefix, const char *s)
{
	int n = snprintf((char *)p->key, sizeof(p->key), "%s%s", prefix, s);

	if (n < 0 || (size_t)n >= sizeof(p->key))
		return false;
	pm_strlower((char *)p->key);
	p->keylen = (size_t)n;
	snprintf(p->text, sizeof(p->text), "%s", s);
	return true;
}

/* set_key_or_why - set_key, or false with *why set */
static bool set_key_or_why(struct parsed *p, const char *prefix, const char *s, const char **why)
{
	if (set_key(p, prefix, s))
		return true;
	*why = "entry too long";
	return false;
}

/*
 * ip_literal - s (n bytes) as an address: "[192.0.2.1]", "[IPv6:...]",
 * or bare. 1 with the canonical literal in out, 0 when s is no address
 * and not bracketed, -1 when bracketed but bad.
 */
static int ip_literal(const char *s, size_t n, char *out, size_t outsize)
{
	char tmp[PM_IP_STRLEN + 1], ipbuf[PM_IP_STRLEN];
	bool bracketed = n > 0 && s[0] == '[';
	struct pm_ip ip;

	if (bracketed) {
		if (n < 2 || s[n - 1] != ']')
			return -1;
		s++;
		n -= 2;
		if (n >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
			s += 5;
			n -= 5;
			if (memchr(s, ':', n) == NULL)
				return -1;
		} else if (memchr(s, ':', n) != NULL) {
			return -1; /* IPv6 needs its tag; other tags are not addresses */
		}
	}
	if (n == 0 || n >= sizeof(tmp) || memchr(s, '\0', n) != NULL)
		return bracketed ? -1 : 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (pm_ip_parse(tmp, &ip) != 0)
		return bracketed ? -1 : 0;
	pm_ip_format(&ip, ipbuf, sizeof(ipbuf));
	snprintf(out, outsize, "[%s%s]", ip.family == AF_INET6 ? "IPv6:" : "", ipbuf);
	return 1;
}

/*
 * domain_ok - check a domain name d (NUL-terminated; one trailing dot
 * allowed) the way addr_parse checks an address's domain; with
 * literals, "[...]" too. The normalised domain goes to out.
 */
static bool domain_ok(const char *d, bool literals, char *out, size_t outsize, const char **why)
{
	char tmp[LIST_ENTRY_MAX + 4];
	struct pm_addr a;
	int r;

	if (d[0] == '[') {
		if (!literals) {
			*why = "an address literal is not a host name";
			return false;
		}
		if (ip_literal(d, strlen(d), out, outsize) != 1) {
			*why = "bad address literal";
			return false;
		}
		return true;
	}
	if (strncmp(d, "*.", 2) == 0) {
		*why = "no \"*.\" wildcards: \".example.net\" means every name below example.net";
		return false;
	}
	r = snprintf(tmp, sizeof(tmp), "x@%s", d);
	if (r < 0 || (size_t)r >= sizeof(tmp)) {
		*why = "domain too long";
		return false;
	}
	if (addr_parse(tmp, (size_t)r, 0, &a, why) != ADDR_OK)
		return false;
	snprintf(out, outsize, "%s", a.domain);
	return true;
}

/* value_ip - a client address given as text: bare, "[192.0.2.1]" or "[IPv6:...]" */
static bool value_ip(const char *s, struct pm_ip *ip)
{
	char tmp[PM_IP_STRLEN + 1];
	size_t n = strlen(s);

	if (n > 0 && s[0] == '[') {
		if (n < 2 || s[n - 1] != ']')
			return false;
		s++;
		n -= 2;
		if (n >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
			s += 5;
			n -= 5;
		}
	}
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return pm_ip_parse(tmp, ip) == 0;
}

/* canonical_domain - a parsed address's domain with a literal in its one form */
static void canonical_domain(struct pm_addr *a)
{
	char lit[PM_IP_STRLEN + 8];

	if (a->domain_is_literal && ip_literal(a->domain, strlen(a->domain), lit, sizeof(lit)) == 1)
		snprintf(a->domain, sizeof(a->domain), "%s", lit);
}

/* parse_client - an address or CIDR block */
static bool parse_client(const char *s, struct parsed *p, const char **why)
{
	struct pm_cidr c;
	char ipbuf[PM_IP_STRLEN];
	size_t bytes;

	if (s[0] == '[') {
		*why = "write the address without brackets";
		return false;
	}
	if (pm_cidr_parse(s, &c, why) != 0)
		return false;
	p->fam_index = c.net.family == AF_INET ? 0 : 1;
	bytes = p->fam_index == 0 ? 4 : 16;
	p->prefix = c.prefix;
	p->key[0] = p->fam_index == 0 ? 4 : 6;
	p->key[1] = (unsigned char)c.prefix;
	memcpy(p->key + 2, c.net.addr, bytes);
	p->keylen = 2 + bytes;
	pm_ip_format(&c.net, ipbuf, sizeof(ipbuf));
	if (c.prefix == bytes * 8)
		snprintf(p->text, sizeof(p->text), "%s", ipbuf);
	else
		snprintf(p->text, sizeof(p->text), "%s/%u", ipbuf, c.prefix);
	return true;
}

/* parse_name - a host name entry: "name", ".suffix", or (HELO) an address literal */
static bool parse_name(enum list_kind kind, const char *s, struct parsed *p, const char **why)
{
	char dom[ADDR_DOMAIN_MAX + 8], lit[PM_IP_STRLEN + 8];
	int r = ip_literal(s, strlen(s), lit, sizeof(lit));

	if (r != 0 && kind == LIST_CLIENT_NAME) {
		*why = "an address, not a host name (client addresses go in the client list)";
		return false;
	}
	if (r < 0) {
		*why = "bad address literal";
		return false;
	}
	if (r == 1)
		return set_key_or_why(p, "", lit, why);
	if (s[0] == '.') {
		if (s[1] == '\0' || s[1] == '.') {
			*why = "empty domain after the leading dot";
			return false;
		}
		if (!domain_ok(s + 1, false, dom, sizeof(dom), why))
			return false;
		if (!set_key(p, ".", dom)) {
			*why = "entry too long";
			return false;
		}
		snprintf(p->text, sizeof(p->text), ".%s", dom);
		return true;
	}
	if (!domain_ok(s, false, dom, sizeof(dom), why))
		return false;
	return set_key_or_why(p, "", dom, why);
}

/* format_local - the local part of a, quoted when it must be */
static void format_local(const struct pm_addr *a, char *buf, size_t size)
{
	struct pm_addr tmp = *a;

	tmp.domain[0] = '\0';
	addr_format(&tmp, buf, size);
}

/* parse_address - a sender or recipient entry */
static bool parse_address(enum list_kind kind, const char *s, struct parsed *p, const char **why)
{
	char dom[ADDR_DOMAIN_MAX + 8], buf[KEY_MAX], tmp[LIST_ENTRY_MAX + 16];
	size_t len = strlen(s);
	struct pm_addr a;

	if (strcmp(s, "<>") == 0) {
		if (kind != LIST_SENDER) {
			*why = "the null sender \"<>\" belongs in a sender list";
			return false;
		}
		return set_key(p, "", "<>");
	}
	if (s[0] == '.') {
		if (s[1] == '\0' || s[1] == '.') {
			*why = "empty domain after the leading dot";
			return false;
		}
		if (!domain_ok(s + 1, false, dom, sizeof(dom), why))
			return false;
		if (!set_key(p, "@.", dom)) {
			*why = "entry too long";
			return false;
		}
		snprintf(p->text, sizeof(p->text), ".%s", dom);
		return true;
	}
	if (strchr(s + 1, '@') == NULL) {
		/* "@domain" or "domain" ("@a:b@c", a source route, goes on as an address) */
		if (!domain_ok(s[0] == '@' ? s + 1 : s, true, dom, sizeof(dom), why))
			return false;
		return set_key_or_why(p, "@", dom, why);
	}
	if (s[len - 1] == '@') {
		/* "user@": judge the local part as addr_parse would with a domain */
		snprintf(tmp, sizeof(tmp), "%sinvalid", s);
		if (addr_parse(tmp, strlen(tmp), 0, &a, why) != ADDR_OK)
			return false;
		if (a.had_source_route) {
			*why = "source route in entry";
			return false;
		}
		format_local(&a, buf, sizeof(buf));
		if (!set_key(p, "", buf) || p->keylen + 1 >= sizeof(p->key)) {
			*why = "entry too long";
			return false;
		}
		p->key[p->keylen++] = '@';
		p->key[p->keylen] = '\0';
		snprintf(p->text, sizeof(p->text), "%s", (char *)p->key);
		return true;
	}
	if (addr_parse(s, len, 0, &a, why) != ADDR_OK)
		return false;
	if (a.had_source_route) {
		*why = "source route in entry";
		return false;
	}
	canonical_domain(&a);
	addr_format(&a, buf, sizeof(buf));
	if (!set_key(p, "", buf)) {
		*why = "entry too long";
		return false;
	}
	snprintf(p->text, sizeof(p->text), "%s", (char *)p->key);
	return true;
}

/* parse_entry - one trimmed entry (len bytes) into a key; false with *why */
static bool parse_entry(enum list_kind kind, const char *s, size_t len, struct parsed *p,
                        const char **why)
{
	char buf[LIST_ENTRY_MAX + 1];
	bool address = kind == LIST_SENDER || kind == LIST_RECIPIENT;
	size_t i;

	p->keylen = 0;
	p->text[0] = '\0';
	p->fam_index = -1;
	p->prefix = 0;
	if (len == 0) {
		*why = "empty entry";
		return false;
	}
	if (len > LIST_ENTRY_MAX) {
		*why = "entry too long";
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t') {
			if (!address || memchr(s, '"', len) == NULL) {
				*why = "white space inside the entry (one entry a line)";
				return false;
			}
		} else if (c < 0x20 || c == 0x7f) {
			*why = "control character in the entry";
			return false;
		} else if (c >= 0x80 && !address) {
			*why = "non-ASCII character (write a domain name as its A-label, xn--...)";
			return false;
		}
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	switch (kind) {
	case LIST_CLIENT:
		return parse_client(buf, p, why);
	case LIST_CLIENT_NAME:
	case LIST_HELO:
		return parse_name(kind, buf, p, why);
	case LIST_SENDER:
	case LIST_RECIPIENT:
		return parse_address(kind, buf, p, why);
	}
	*why = "unknown list kind";
	return false;
}

/* trim - strip white space (CR and LF included) at both ends of s[0..*len) */
static const char *trim(const char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 &&
	       (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\f' || *s == '\v')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
	                 s[n - 1] == '\n' || s[n - 1] == '\f' || s[n - 1] == '\v'))
		n--;
	*len = n;
	return s;
}

/* err_add - record a problem with a list: in errs when building, else in the log */
static void err_add(struct build *b, const char *file, size_t line, size_t index, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
static void err_add(struct build *b, const char *file, size_t line, size_t index, const char *fmt,
                    ...)
{
	struct list_error *e;
	char msg[1024];
	va_list ap;

	b->nerrs++;
	if (b->errs != NULL ? b->nerrs > LIST_MAX_ERRORS : b->nerrs > MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->errs == NULL) {
		log_msg(LOG_WARNING, "list %s: %s:%zu: %s; line skipped", b->name, file, line, msg);
		return;
	}
	b->errs->v = xrealloc(b->errs->v, (b->errs->n + 1) * sizeof(*b->errs->v));
	e = &b->errs->v[b->errs->n++];
	e->file = xstrdup(file);
	e->line = line;
	e->index = index;
	e->message = xstrdup(msg);
}

/* add_entry - parse and add one entry; a bad one goes to err_add */
static void add_entry(struct build *b, enum list_kind kind, struct table *t, const char *s,
                      size_t len, const char *file, size_t where)
{
	struct parsed p;
	const char *why = "bad entry";
	char esc[160];

	if (parse_entry(kind, s, len, &p, &why)) {
		table_add(t, &p, where);
		return;
	}
	pm_escape(esc, sizeof(esc), s, len);
	err_add(b, file, file ? where : 0, file ? 0 : where, "\"%s\": %s", esc, why);
}

/* err_text - the text for a load failure code (not FT_ERR_UNSAFE: its reason is its own) */
static const char *err_text(int err)
{
	return err == FT_ERR_NOT_REG ? "not a regular file" : strerror(err);
}

/* One read of a list file in progress. */
struct reading {
	struct build *b;
	enum list_kind kind;
	const char *path;
};

/* read_line - ft_line_fn for a list file: a bad line goes to err_add, the read goes on */
static int read_line(void *table, const char *line, size_t len, size_t lineno, void *arg)
{
	struct reading *rd = arg;
	const char *s;

	if (memchr(line, '\0', len) != NULL) {
		err_add(rd->b, rd->path, lineno, 0, "NUL byte in the line");
		return 0;
	}
	len = ft_comment_start(line, len);
	s = trim(line, &len);
	if (len > 0)
		add_entry(rd->b, rd->kind, table, s, len, rd->path, lineno);
	return 0;
}

/*
 * load_file - read path into a new table (res->st: the file's status), or
 * NULL with res->err set (see ft_read)
 */
static struct table *load_file(struct build *b, enum list_kind kind, const char *path,
                               struct ft_load *res)
{
	struct reading rd = {b, kind, path};
	struct table *t = table_new(true);

	if (ft_read(path, read_line, t, &rd, res) != 0) {
		table_free(t);
		return NULL;
	}
	res->nbad = b->nerrs;
	return t;
}

/*
 * What a list file's handle knows of its list (its ft_ops arg): the
 * handle's own, as it may be shared by the lists of several snapshots
 */
struct list_file {
	enum list_kind kind;
	char *name;
};

/* list_file_free - free a handle's struct list_file (ft_ops.free_arg) */
static void list_file_free(void *arg)
{
	struct list_file *lf = arg;

	free(lf->name);
	free(lf);
}

/* reload - a re-read at run time (ft_ops.load): bad lines are logged and skipped */
static void *reload(const char *path, void *arg, struct ft_load *res)
{
	const struct list_file *l = arg;
	struct build b = {NULL, l->name, 0};
	struct table *t = load_file(&b, l->kind, path, res);

	if (t != NULL && b.nerrs > MAX_WARNINGS)
		log_msg(LOG_WARNING, "list %s: %s: %zu bad lines skipped in all", l->name, path,
		        b.nerrs);
	return t;
}

/* reloaded - log a re-read (ft_ops.loaded) */
static void reloaded(const char *path, void *arg, const void *table, const struct ft_load *res)
{
	const struct list_file *l = arg;

	(void)res;
	log_msg(LOG_INFO, "list %s: re-read %s: %zu entries", l->name, path,
	        ((const struct table *)table)->ks.n);
}

/* reload_failed - log a failed check or re-read, once per failure (ft_ops.failed) */
static void reload_failed(const char *path, void *arg, const char *what, const struct ft_load *res,
                          const void *old)
{
	const struct list_file *l = arg;
	size_t n = old ? ((const struct table *)old)->ks.n : 0;

	if (res->err == FT_ERR_UNSAFE)
		log_msg(LOG_WARNING,
		        "list %s: %s: unsafe permissions: %s; keeping the %zu entries read before",
		        l->name, path, res->why, n);
	else
		log_msg(LOG_WARNING, "list %s: %s %s: %s; keeping the %zu entries read before",
		        l->name, what, path, err_text(res->err), n);
}

static const struct ft_ops file_ops = {reload, reloaded, reload_failed, table_destroy,
                                       list_file_free};

/*
 * shared_file - prev's file handle, held once more, when prev is a list
 * of the same kind and name whose file at path is unchanged (ft_reuse);
 * else NULL
 */
static struct filetable *shared_file(const struct pm_list *prev, enum list_kind kind,
                                     const char *name, const char *path)
{
	if (prev == NULL || prev->file == NULL || prev->kind != kind ||
	    strcmp(prev->name, name) != 0)
		return NULL;
	return ft_reuse(prev->file, path);
}

/*
 * read_file - a handle for the list file at path, read now; NULL with
 * the reason given to err_add when it cannot be read
 */
static struct filetable *read_file(struct build *b, enum list_kind kind, const char *name,
                                   const char *path)
{
	struct list_file *lf;
	struct ft_load res;
	struct table *t = load_file(b, kind, path, &res);

	if (t == NULL) {
		if (res.err == FT_ERR_UNSAFE)
			err_add(b, path, 0, 0, "unsafe permissions: %s", res.why);
		else
			err_add(b, path, 0, 0, "cannot read the list file: %s", err_text(res.err));
		return NULL;
	}
	lf = xcalloc(1, sizeof(*lf));
	lf->kind = kind;
	lf->name = xstrdup(name);
	return ft_new(path, &file_ops, lf, t, &res.st, res.nbad == 0);
}

/* list_new - build a list from inline entries and a file */
struct pm_list *list_new(enum list_kind kind, const char *name, const char *const *entries,
                         size_t nentries, const char *path, struct list_errors *errs)
{
	return list_new_shared(kind, name, entries, nentries, path, NULL, errs);
}

/* list_new_shared - list_new, sharing prev's table of an unchanged file */
struct pm_list *list_new_shared(enum list_kind kind, const char *name, const char *const *entries,
                                size_t nentries, const char *path, const struct pm_list *prev,
                                struct list_errors *errs)
{
	struct list_errors dummy = {NULL, 0};
	struct build b = {errs ? errs : &dummy, name ? name : list_kind_name(kind), 0};
	struct pm_list *l = xcalloc(1, sizeof(*l));
	struct strbuf sb;
	size_t i;

	l->kind = kind;
	l->name = xstrdup(b.name);
	l->inline_tab = table_new(false);
	if (kind != LIST_CLIENT && kind != LIST_CLIENT_NAME && kind != LIST_HELO &&
	    kind != LIST_SENDER && kind != LIST_RECIPIENT)
		err_add(&b, NULL, 0, 0, "unknown list kind %d", (int)kind);
	for (i = 0; i < nentries; i++) {
		const char *s = entries ? entries[i] : NULL;
		size_t len = s ? strlen(s) : 0;

		s = s ? trim(s, &len) : "";
		add_entry(&b, kind, l->inline_tab, s, len, NULL, i);
	}
	if (path != NULL && path[0] != '\0') {
		l->path = xstrdup(path);
		if ((l->file = shared_file(prev, kind, l->name, path)) == NULL)
			l->file = read_file(&b, kind, l->name, path);
	}
	if (b.nerrs > LIST_MAX_ERRORS) {
		struct list_error *e;

		b.errs->v = xrealloc(b.errs->v, (b.errs->n + 1) * sizeof(*b.errs->v));
		e = &b.errs->v[b.errs->n++];
		e->file = xstrdup(l->path);
		e->line = 0;
		e->index = 0;
		sb_init(&sb);
		sb_appendf(&sb, "%zu more bad entries not listed", b.nerrs - LIST_MAX_ERRORS);
		e->message = sb_steal(&sb);
	}
	if (b.nerrs > 0) {
		list_errors_free(&dummy);
		list_free(l);
		return NULL;
	}
	return l;
}

/* list_file_table - the handle of the list's file table, or NULL */
const struct filetable *list_file_table(const struct pm_list *l)
{
	return l != NULL ? l->file : NULL;
}

/* list_free - free the list; NULL is fine */
void list_free(struct pm_list *l)
{
	if (l == NULL)
		return;
	table_free(l->inline_tab);
	ft_release(l->file);
	free(l->name);
	free(l->path);
	free(l);
}

/* A lookup in progress: the tables searched and what was found. */
struct search {
	struct pm_list *l;
	const struct table *tab[2];
	struct ft_version *v; /* the file table's reference */
	const struct ft_item *found;
	const struct table *found_in;
};

/* search_begin - note the list's tables (the file's re-read first when due) */
static void search_begin(struct search *s, struct pm_list *l)
{
	s->l = l;
	s->tab[0] = l->inline_tab;
	s->v = NULL;
	s->tab[1] = l->file != NULL ? ft_acquire(l->file, &s->v) : NULL;
	s->found = NULL;
	s->found_in = NULL;
}

/* probe - is key in either table? the inline one first */
static bool probe(struct search *s, const void *key, size_t len)
{
	int i;

	for (i = 0; i < 2; i++) {
		const struct ft_item *it = table_get(s->tab[i], key, len);

		if (it != NULL) {
			s->found = it;
			s->found_in = s->tab[i];
			return true;
		}
	}
	return false;
}

/* probe_str - probe with a NUL-terminated key */
static bool probe_str(struct search *s, const char *key)
{
	return probe(s, key, strlen(key));
}

/* search_end - fill *hit from what was found, let the tables go; returns whether anything was */
static bool search_end(struct search *s, struct list_hit *hit)
{
	bool found = s->found != NULL;

	if (found && hit != NULL) {
		memset(hit, 0, sizeof(*hit));
		snprintf(hit->entry, sizeof(hit->entry), "%s", s->found->text);
		hit->in_file = s->found_in->in_file;
		hit->source = hit->in_file ? s->l->path : s->l->name;
		if (hit->in_file)
			hit->line = s->found->where;
		else
			hit->index = s->found->where;
	}
	ft_put(s->v);
	return found;
}

/* match_ip - probe every prefix length in use, longest first */
static bool match_ip(struct pm_list *l, const struct pm_ip *ip, struct list_hit *hit)
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char addr[16], key[2 + 16];
	struct search s;
	int fi, p, t;
	size_t bytes;

	if (ip->family == AF_INET) {
		fi = 0;
		memcpy(addr, ip->addr, 4);
	} else if (ip->family == AF_INET6 && memcmp(ip->addr, v4mapped, 12) == 0) {
		fi = 0;
		memcpy(addr, ip->addr + 12, 4);
	} else if (ip->family == AF_INET6) {
		fi = 1;
		memcpy(addr, ip->addr, 16);
	} else {
		return false;
	}
	bytes = fi == 0 ? 4 : 16;
	search_begin(&s, l);
	for (p = (int)bytes * 8; p >= 0 && s.found == NULL; p--) {
		bool used = false;

		for (t = 0; t < 2; t++)
			used |= s.tab[t] != NULL && s.tab[t]->prefix[fi][p];
		if (!used)
			continue;
		key[0] = fi == 0 ? 4 : 6;
		key[1] = (unsigned char)p;
		memcpy(key + 2, addr, bytes);
		for (size_t i = 0; i < bytes; i++) {
			int lo = (int)i * 8;

			if (lo >= p)
				key[2 + i] = 0;
			else if (lo + 8 > p)
				key[2 + i] &= (unsigned char)(0xff << (8 - (p - lo)));
		}
		probe(&s, key, 2 + bytes);
	}
	return search_end(&s, hit);
}

/* match_name - a host name or HELO value: the literal, or the name and its parents */
static bool match_name(struct pm_list *l, const char *value, struct list_hit *hit)
{
	char name[VALUE_MAX + 1], lit[PM_IP_STRLEN + 8];
	size_t len = strlen(value), i;
	struct search s;
	int r = ip_literal(value, len, lit, sizeof(lit));

	if (r == 1 && l->kind == LIST_HELO) {
		pm_strlower(lit);
		search_begin(&s, l);
		probe_str(&s, lit);
		return search_end(&s, hit);
	}
	if (r != 0 || len == 0 || len > VALUE_MAX || value[0] == '.' || value[0] == '[')
		return false;
	memcpy(name, value, len + 1);
	if (name[len - 1] == '.')
		name[--len] = '\0';
	if (len == 0)
		return false;
	pm_strlower(name);
	search_begin(&s, l);
	if (!probe_str(&s, name))
		for (i = 1; i < len; i++)
			if (name[i] == '.' && probe_str(&s, name + i))
				break;
	return search_end(&s, hit);
}

/* list_match_addr - match a parsed envelope address */
bool list_match_addr(struct pm_list *l, enum addr_status st, const struct pm_addr *a,
                     struct list_hit *hit)
{
	char key[KEY_MAX];
	struct pm_addr c;
	struct search s;
	size_t i, dlen, klen;

	if (l == NULL || (l->kind != LIST_SENDER && l->kind != LIST_RECIPIENT))
		return false;
	if (st == ADDR_NULL) {
		search_begin(&s, l);
		probe_str(&s, "<>");
		return search_end(&s, hit);
	}
	if (a == NULL || (st != ADDR_OK && st != ADDR_LOCAL_ONLY) || a->local[0] == '\0')
		return false;
	c = *a;
	c.local[sizeof(c.local) - 1] = '\0';
	c.domain[sizeof(c.domain) - 1] = '\0';
	if (st == ADDR_LOCAL_ONLY)
		c.domain[0] = '\0';
	canonical_domain(&c);
	search_begin(&s, l);
	if (c.domain[0] != '\0') {
		addr_format(&c, key, sizeof(key));
		pm_strlower(key);
		if (probe_str(&s, key))
			return search_end(&s, hit);
	}
	format_local(&c, key, sizeof(key) - 1);
	pm_strlower(key);
	klen = strlen(key);
	key[klen] = '@';
	key[klen + 1] = '\0';
	if (probe_str(&s, key) || c.domain[0] == '\0')
		return search_end(&s, hit);
	pm_strlower(c.domain);
	snprintf(key, sizeof(key), "@%s", c.domain);
	if (probe_str(&s, key) || c.domain_is_literal)
		return search_end(&s, hit);
	dlen = strlen(c.domain);
	for (i = 1; i < dlen; i++) {
		if (c.domain[i] != '.')
			continue;
		snprintf(key, sizeof(key), "@%s", c.domain + i);
		if (probe_str(&s, key))
			break;
	}
	return search_end(&s, hit);
}

/* list_match - is value listed? */
bool list_match(struct pm_list *l, const char *value, struct list_hit *hit)
{
	if (l == NULL || value == NULL)
		return false;
	switch (l->kind) {
	case LIST_CLIENT: {
		struct pm_ip ip;

		if (!value_ip(value, &ip))
			return false;
		return match_ip(l, &ip, hit);
	}
	case LIST_CLIENT_NAME:
	case LIST_HELO:
		return match_name(l, value, hit);
	case LIST_SENDER:
	case LIST_RECIPIENT: {
		struct pm_addr a;
		const char *why;
		size_t len = strlen(value);
		enum addr_status st;

		if (len == 0)
			return list_match_addr(l, ADDR_NULL, NULL, hit);
		st = addr_parse(value, len, ADDR_ALLOW_NULL | ADDR_ALLOW_LOCAL_ONLY, &a, &why);
		return list_match_addr(l, st, &a, hit);
	}
	}
	return false;
}

/* list_match_ip - match a client address */
bool list_match_ip(struct pm_list *l, const struct pm_ip *ip, struct list_hit *hit)
{
	if (l == NULL || ip == NULL || l->kind != LIST_CLIENT)
		return false;
	return match_ip(l, ip, hit);
}

/* list_hit_format - "entry in file:line" or "entry in name[index]" */
char *list_hit_format(const struct list_hit *hit, char *buf, size_t bufsize)
{
	if (buf == NULL || bufsize == 0)
		return buf;
	if (hit == NULL)
		snprintf(buf, bufsize, "(nothing)");
	else if (hit->in_file)
		snprintf(buf, bufsize, "%s in %s:%zu", hit->entry, hit->source ? hit->source : "?",
		         hit->line);
	else
		snprintf(buf, bufsize, "%s in %s[%zu]", hit->entry, hit->source ? hit->source : "?",
		         hit->index);
	return buf;
}

/* list_size - entries in force now */
size_t list_size(struct pm_list *l)
{
	struct ft_version *v = NULL;
	const struct table *t;
	size_t n;

	if (l == NULL)
		return 0;
	t = l->file != NULL ? ft_acquire(l->file, &v) : NULL;
	n = l->inline_tab->ks.n + (t ? t->ks.n : 0);
	ft_put(v);
	return n;
}

/* list_set_recheck_ms - stat the file at most every ms milliseconds */
void list_set_recheck_ms(struct pm_list *l, unsigned ms)
{
	if (l == NULL || l->file == NULL)
		return;
	ft_set_recheck_ms(l->file, ms);
}

/* list_kind_name - the kind's name for logs and errors */
const char *list_kind_name(enum list_kind kind)
{
	switch (kind) {
	case LIST_CLIENT:
		return "client";
	case LIST_CLIENT_NAME:
		return "client_name";
	case LIST_HELO:
		return "helo";
	case LIST_SENDER:
		return "sender";
	case LIST_RECIPIENT:
		return "recipient";
	}
	return "unknown";
}

/* list_errors_free - free every error; *errs is left empty */
void list_errors_free(struct list_errors *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++) {
		free(errs->v[i].file);
		free(errs->v[i].message);
	}
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}
