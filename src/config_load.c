/*
 * NAME
 *	config_load 3 - read and validate the policy file into a snapshot
 * SYNOPSIS
 *	#include "config.h"
 *
 *	struct policy *config_load(const char *path, struct config_errors *errs);
 *	void config_errors_print(const struct config_errors *errs,
 *		void (*emit)(const char *line, void *arg), void *arg);
 *	void config_errors_free(struct config_errors *errs);
 * DESCRIPTION
 *	config_load() walks the libconfig tree by the key table
 *	(config_keys.c): every setting must name a table entry (an unknown
 *	key at any level is an error) of a matching type, and a key absent
 *	from the file gets its default through the same conversion. Every
 *	string is copied into the snapshot, so the libconfig tree is
 *	destroyed before config_load() returns.
 *
 *	A list of groups (CT_GROUPLIST, such as dmarc.domain_modes): every
 *	element must be a group holding every member (a CF_OPTIONAL one may
 *	be left out: it gets its default) and nothing else, and a CF_UNIQUE
 *	member may not repeat a value of an earlier element. A member is
 *	read by the same code as a top-level key of its type (a string, an
 *	integer in range, a boolean, a name of a table, a list of strings or
 *	of networks: set_from_setting_at, set_default_at), into the element
 *	instead of the snapshot; an unknown member is an error naming its
 *	element. The list's elem_check, if any, then judges the members
 *	together (overrides: exactly one of for_sender_domain and
 *	for_recipient_domain, one check at least; a check left out is -1,
 *	CT_OPT_MODE; ratelimits: at most PM_RATELIMIT_RULES_MAX rules).
 *	After the load each override gets its rule text
 *	("overrides.for_sender_domain=DOMAIN"), and each rate-limit rule its
 *	own ("ratelimits.NAME").
 *
 *	Then the checks that span several keys (config_check.c). The allow
 *	and block lists (lists.KIND.allow, .allow_file, .block, .block_file)
 *	are plain table entries; after the table build_lists() makes each
 *	list with list_new_shared() (lists.h), reading its file (or sharing
 *	the current snapshot's table of it when the file is unchanged), and
 *	turns every problem into an error: an
 *inline entry at its own line in the policy file (found again in the file, as libconfig may date an
 *element one line late), a bad line of a list file at that file's line, an unreadable file at the
 **_file key, and so is a list file anyone on the host could change (world-writable, or in a
 *	world-writable directory without the sticky bit: pm_file_unsafe); so
 *	is such a recipients.file. build_recipients() reads recipients.file
 *	(strictly: a bad line is an error) into its table (rcpt_file_load,
 *	rcpt.h), or shares the current snapshot's table when the file is
 *	unchanged. The snapshot owns the lists and that table
 *	(policy_release frees them). Then an empty authserv_id becomes
 *	gethostname(), and an empty spf.receiver becomes the authserv_id.
 *
 *	The policy file, and each file it names with @include (depth first,
 *	as libconfig will read them), must be a regular file before
 *	libconfig sees it: libconfig 1.5 blocks in fopen() on a FIFO and its
 *	scanner calls exit() when reading a directory fails (@include "" or
 *	"."), which would end the daemon at a reload (check_includes). The
 *	recipients file and the public suffix list are opened without
 *	blocking too, and refused unless regular files.
 *
 *	Loads may run in any thread but the result is only ever handed to
 *	other threads through policy_set_current() (policy.c).
 * DIAGNOSTICS
 *	config_load() collects every error (file, line, dotted key,
 *	message) into *errs and returns NULL if there was any; it never
 *	exits and never logs. libconfig stops at the first syntax error,
 *	so a syntax error is reported alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cidr.h"
#include "config_int.h"
#include "lists.h"
#include "log.h"
#include "rcpt.h"
#include "util.h"

static unsigned load_generation;

/* cfg_err_add - record one error */
void cfg_err_add(struct loader *ld, const struct origin *o, const char *key, const char *fmt, ...)
{
	struct config_errors *errs = ld->errs;
	struct config_error *e;
	struct strbuf sb;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errs->v = xrealloc(errs->v, (errs->n + 1) * sizeof(*errs->v));
	e = &errs->v[errs->n++];
	e->file = xstrdup(o != NULL && o->file != NULL ? o->file : ld->path);
	e->line = o != NULL ? o->line : 0;
	e->key = xstrdup(key != NULL ? key : "");
	if (o != NULL && o->line == 0 && key != NULL && *key != '\0') {
		sb_init(&sb);
		sb_appendf(&sb, "built-in default: %s", msg);
		e->message = sb_steal(&sb);
	} else {
		e->message = xstrdup(msg);
	}
}

/* origin_of - the file and line of a libconfig setting */
static struct origin origin_of(const struct loader *ld, const config_setting_t *s)
{
	struct origin o;

	o.file = config_setting_source_file(s);
	if (o.file == NULL)
		o.file = ld->path;
	o.line = (int)config_setting_source_line(s);
	return o;
}

/* field - the address of a table entry's field in the snapshot */
static void *field(struct policy *p, size_t off)
{
	return (char *)p + off;
}

/* type_name - a libconfig type in words, for "wrong type" messages */
static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

/* expected_type - what a table entry wants, in words */
static const char *expected_type(enum cfg_type t)
{
	switch (t) {
	case CT_GROUP:
		return "a group { ... }";
	case CT_INT:
		return "an integer";
	case CT_CIDRS:
	case CT_STRLIST:
		return "a list of strings [ \"...\", ... ]";
	case CT_OCTAL:
		return "a string of octal digits such as \"0660\"";
	case CT_BOOL:
		return "true or false (not quoted)";
	case CT_GROUPLIST:
		return "a list of groups ( { ... }, { ... } )";
	default:
		return "a string";
	}
}

/* name_index - the index of s in a table of n names, or -1 */
static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/*
 * by_name - the index of the value copy of key k in a table of n names,
 * or -1 with "unknown WHAT "copy" (want a, b or c)" recorded
 */
static int by_name(struct loader *ld, const struct cfg_key *k, const struct origin *o,
                   const char *copy, const char *const *names, size_t n, const char *what)
{
	char want[100];
	int i = name_index(names, n, copy);

	if (i < 0)
		cfg_err_add(ld, o, k->name, "unknown %s \"%.100s\" (want %s)", what, copy,
		            cfg_names_text(names, n, "", "", ", ", " or ", want, sizeof(want)));
	return i;
}

/* BY_NAME - by_name for set_value_at's value and a name table */
#define BY_NAME(table, what) by_name(ld, k, o, copy, (table), PM_ARRAY_LEN(table), (what))

/*
 * set_value_at - convert one string value (from the file or a default)
 * into k's field at base + k->off (base: the snapshot, or one element of
 * a list of groups); false (with the error recorded) when it is refused
 */
static bool set_value_at(struct loader *ld, const struct cfg_key *k, const char *s,
                         const struct origin *o, char *base)
{
	char buf[640];
	char *copy = xstrdup(s);
	const char *msg = NULL;
	void *f = base + k->off;
	size_t nerrs = ld->errs->n;
	int i;

	if (k->check != NULL && (msg = k->check(&copy, buf, sizeof(buf))) != NULL) {
		cfg_err_add(ld, o, k->name, "%s", msg);
		free(copy);
		return false;
	}
	switch (k->type) {
	case CT_STRING:
		if ((k->flags & CF_EMPTY_NULL) && *copy == '\0') {
			free(copy);
			copy = NULL;
		}
		*(char **)f = copy;
		return true;
	case CT_MODE:
		if ((i = BY_NAME(pm_mode_names, "mode")) >= 0)
			*(enum pm_mode *)f = (enum pm_mode)i;
		break;
	case CT_ENUM:
		if ((i = by_name(ld, k, o, copy, k->names, k->nnames, k->what)) >= 0)
			*(int *)f = i;
		break;
	case CT_OPT_MODE:
		if (*copy == '\0')
			*(int *)f = -1;
		else if ((i = BY_NAME(pm_mode_names, "mode")) >= 0)
			*(int *)f = i;
		break;
	case CT_QUARANTINE:
		if ((i = BY_NAME(cfg_quarantine_names, "quarantine action")) >= 0)
			*(enum pm_quarantine *)f = (enum pm_quarantine)i;
		break;
	case CT_DISCOVERY:
		if ((i = BY_NAME(cfg_discovery_names, "DMARC discovery")) >= 0)
			*(enum dmarc_discovery *)f = (enum dmarc_discovery)i;
		break;
	case CT_DNSBL_ACTION:
		if ((i = BY_NAME(cfg_dnsbl_action_names, "DNSBL action")) >= 0)
			*(enum pm_dnsbl_action *)f = (enum pm_dnsbl_action)i;
		break;
	case CT_BOOL: /* built-in defaults only: the file gives a libconfig boolean */
		if (strcmp(copy, "true") == 0 || strcmp(copy, "false") == 0)
			*(bool *)f = strcmp(copy, "true") == 0;
		else
			cfg_err_add(ld, o, k->name, "\"%.100s\" is not true or false", copy);
		break;
	case CT_ACTION:
		if ((i = BY_NAME(pm_action_names, "action")) == PM_ACT_REJECT &&
		    (k->flags & CF_NO_REJECT))
			cfg_err_add(
			    ld, o, k->name,
			    "\"reject\" is not allowed here: a temporary problem must never "
			    "become a permanent 5xx refusal (want tempfail or accept)");
		else if (i >= 0)
			*(enum pm_action *)f = (enum pm_action)i;
		break;
	case CT_OCTAL: {
		size_t n = strspn(copy, "01234567");

		if (n == 0 || copy[n] != '\0' || n > 5 || strtol(copy, NULL, 8) > 07777)
			cfg_err_add(
			    ld, o, k->name,
			    "\"%.100s\" is not a file mode: want octal digits such as \"0660\"",
			    copy);
		else
			*(mode_t *)f = (mode_t)strtol(copy, NULL, 8);
		break;
	}
	case CT_FACILITY:
		if ((i = log_facility_parse(copy)) < 0)
			cfg_err_add(
			    ld, o, k->name,
			    "unknown syslog facility \"%.100s\" (want mail, daemon, user or "
			    "local0..local7)",
			    copy);
		else
			*(int *)f = i;
		break;
	case CT_REPLY:
		msg = cfg_reply_parse(copy, (k->flags & CF_4XX_ONLY) != 0, (struct pm_reply *)f,
		                      buf, sizeof(buf));
		if (msg != NULL)
			cfg_err_add(ld, o, k->name, "%s", msg);
		break;
	default:
		pm_fatal("config: key %s: not a string type", k->name);
	}
	free(copy);
	return ld->errs->n == nerrs;
}

/*
 * add_list_element_at - convert one element of a list value into k's
 * field at base + k->off (base: the snapshot, or one element of a list of
 * groups)
 */
static void add_list_element_at(struct loader *ld, const struct cfg_key *k, const char *s,
                                size_t idx, const struct origin *o, char *base)
{
	void *f = base + k->off;
	char buf[640];
	const char *msg;

	if (k->type == CT_CIDRS) {
		struct pm_cidr_list *l = f;
		struct pm_cidr c;

		if (pm_cidr_parse(s, &c, &msg) != 0) {
			cfg_err_add(ld, o, k->name, "element %zu \"%.100s\": %s", idx + 1, s,
			            msg != NULL ? msg : "not an address or network");
			return;
		}
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = c;
	} else {
		char ***v = f;
		size_t *n = (size_t *)(base + k->count_off);
		char *copy = xstrdup(s);

		if (k->check != NULL && (msg = k->check(&copy, buf, sizeof(buf))) != NULL) {
			cfg_err_add(ld, o, k->name, "element %zu: %s", idx + 1, msg);
			free(copy);
			return;
		}
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = copy;
	}
}

/* members_of - the CF_MEMBER entries that follow the list of groups k; their count in *n */
static const struct cfg_key *members_of(const struct cfg_key *k, size_t *n)
{
	const struct cfg_key *end = cfg_settings + cfg_nsettings;

	*n = 0;
	while (k + 1 + *n < end && (k[1 + *n].flags & CF_MEMBER))
		(*n)++;
	return k + 1;
}

/*
 * member_list - "domain and mode": the member names of list k (only the
 * required ones when required), for messages
 */
static void member_list(const struct cfg_key *k, bool required, struct strbuf *sb)
{
	size_t n, m = 0, shown = 0;
	const struct cfg_key *mem = members_of(k, &n);

	for (size_t j = 0; j < n; j++)
		if (!required || !(mem[j].flags & CF_OPTIONAL))
			m++;
	for (size_t j = 0; j < n; j++) {
		if (required && (mem[j].flags & CF_OPTIONAL))
			continue;
		shown++;
		sb_appendf(sb, "%s%s",
		           shown == 1   ? ""
		           : shown == m ? " and "
		                        : ", ",
		           mem[j].name + strlen(k->name) + 1);
	}
}

/* free_element - free the strings one element of list k owns (not the element) */
static void free_element(const struct cfg_key *k, char *elem)
{
	size_t n;
	const struct cfg_key *mem = members_of(k, &n);

	for (size_t j = 0; j < n; j++) {
		if (mem[j].type == CT_STRING) {
			free(*(char **)(elem + mem[j].off));
		} else if (mem[j].type == CT_STRLIST) {
			char **v = *(char ***)(elem + mem[j].off);
			size_t count = *(size_t *)(elem + mem[j].count_off);

			for (size_t i = 0; i < count; i++)
				free(v[i]);
			free(v);
		} else if (mem[j].type == CT_CIDRS) {
			free(((struct pm_cidr_list *)(elem + mem[j].off))->v);
		}
	}
}

static void set_from_setting_at(struct loader *ld, const struct cfg_key *k, config_setting_t *s,
                                char *base);
static void set_default_at(struct loader *ld, const struct cfg_key *k, const struct origin *o,
                           char *base);

#define MAX_MEMBERS 16

/*
 * add_group_element - convert group g, element idx of the list of groups
 * k, and append it to k's array; nothing is appended when it has an error
 */
static void add_group_element(struct loader *ld, const struct cfg_key *k, config_setting_t *g,
                              int idx)
{
	size_t nmem, nmissing = 0, *count = field(ld->p, k->count_off);
	const struct cfg_key *mem = members_of(k, &nmem);
	bool present[MAX_MEMBERS] = {false};
	struct origin where[MAX_MEMBERS], go = origin_of(ld, g);
	size_t nerrs = ld->errs->n;
	char *elem = xcalloc(1, k->elem_size), *array;
	struct strbuf names, dotted;

	if (nmem == 0 || nmem > MAX_MEMBERS)
		pm_fatal("config: list %s: %zu members", k->name, nmem);
	sb_init(&names);
	member_list(k, false, &names);
	sb_init(&dotted);
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		struct origin mo = origin_of(ld, m);
		const char *name = config_setting_name(m);
		size_t j;

		sb_reset(&dotted);
		sb_appendf(&dotted, "%s.%s", k->name, name != NULL ? name : "?");
		for (j = 0; j < nmem && strcmp(mem[j].name, dotted.s) != 0; j++)
			;
		if (j == nmem) {
			cfg_err_add(ld, &mo, dotted.s,
			            "element %d: unknown key (a group of %s holds %s)", idx + 1,
			            k->name, names.s);
			continue;
		}
		present[j] = true;
		where[j] = mo;
		set_from_setting_at(ld, &mem[j], m, elem);
	}
	sb_reset(&dotted); /* now the names of the missing members */
	for (size_t j = 0; j < nmem; j++) {
		if (present[j])
			continue;
		if (mem[j].flags & CF_OPTIONAL) {
			where[j] = go;
			set_default_at(ld, &mem[j], &go, elem);
			continue;
		}
		sb_appendf(&dotted, "%s%s", nmissing++ == 0 ? "" : " and ",
		           mem[j].name + strlen(k->name) + 1);
	}
	if (nmissing > 0) {
		sb_reset(&names);
		member_list(k, true, &names);
		cfg_err_add(ld, &go, k->name, "element %d: %s %s missing (each group needs %s)",
		            idx + 1, dotted.s, nmissing > 1 ? "are" : "is", names.s);
	}
	if (k->elem_check != NULL && ld->errs->n == nerrs)
		k->elem_check(ld, elem, &go, idx);
	memcpy(&array, field(ld->p, k->off), sizeof(array));
	for (size_t j = 0; j < nmem && ld->errs->n == nerrs; j++) {
		const char *v;

		if (!(mem[j].flags & CF_UNIQUE) || mem[j].type != CT_STRING)
			continue;
		v = *(char **)(elem + mem[j].off);
		for (size_t e = 0; e < *count; e++)
			if (strcmp(*(char **)(array + e * k->elem_size + mem[j].off), v) == 0) {
				cfg_err_add(ld, &where[j], mem[j].name,
				            "element %d: \"%.300s\" is already given by an earlier "
				            "element (each may appear once)",
				            idx + 1, v);
				break;
			}
	}
	if (ld->errs->n == nerrs) {
		array = xrealloc(array, (*count + 1) * k->elem_size);
		memcpy(array + *count * k->elem_size, elem, k->elem_size);
		(*count)++;
		memcpy(field(ld->p, k->off), &array, sizeof(array));
	} else {
		free_element(k, elem);
	}
	free(elem);
	sb_free(&dotted);
	sb_free(&names);
}

/*
 * set_from_setting_at - convert the value of setting s (named by k) into
 * k's field at base + k->off (base: the snapshot, or one element of a list
 * of groups, whose members are never lists of groups)
 */
static void set_from_setting_at(struct loader *ld, const struct cfg_key *k, config_setting_t *s,
                                char *base)
{
	struct origin o = origin_of(ld, s);
	int type = config_setting_type(s);

	switch (k->type) {
	case CT_GROUP:
		pm_fatal("config: set_from_setting on group %s", k->name);
	case CT_INT: {
		long long v;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			goto wrong_type;
		v = config_setting_get_int64(s);
		if (v < k->min || v > k->max)
			cfg_err_add(ld, &o, k->name, "%lld out of range: want %d..%d", v, k->min,
			            k->max);
		else
			*(int *)(base + k->off) = (int)v;
		return;
	}
	case CT_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			goto wrong_type;
		*(bool *)(base + k->off) = config_setting_get_bool(s) != 0;
		return;
	case CT_GROUPLIST:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			goto wrong_type;
		for (int i = 0; i < config_setting_length(s); i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

			if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
				struct strbuf names;

				sb_init(&names);
				member_list(k, false, &names);
				cfg_err_add(
				    ld, &o, k->name,
				    "wrong type: element %d is %s, want a group { ... } of %s",
				    i + 1, type_name(config_setting_type(e)), names.s);
				sb_free(&names);
				continue;
			}
			add_group_element(ld, k, e, i);
		}
		return;
	case CT_CIDRS:
	case CT_STRLIST:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			goto wrong_type;
		for (int i = 0; i < config_setting_length(s); i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			/*
			 * The key's line, not the element's: libconfig dates an
			 * element after its look-ahead token (adjacent strings
			 * concatenate), one line late for a last element.
			 */
			struct origin eo = o;

			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				cfg_err_add(ld, &eo, k->name,
				            "wrong type: element %d is %s, want a string", i + 1,
				            type_name(config_setting_type(e)));
				continue;
			}
			add_list_element_at(ld, k, config_setting_get_string(e), (size_t)i, &eo,
			                    base);
		}
		return;
	default:
		if (type != CONFIG_TYPE_STRING)
			goto wrong_type;
		(void)set_value_at(ld, k, config_setting_get_string(s), &o, base);
		return;
	}
wrong_type:
	cfg_err_add(ld, &o, k->name, "wrong type: got %s, want %s", type_name(type),
	            expected_type(k->type));
}

/* set_from_setting - convert the value of setting s (named by k) into the snapshot */
static void set_from_setting(struct loader *ld, const struct cfg_key *k, config_setting_t *s)
{
	set_from_setting_at(ld, k, s, (char *)ld->p);
}

/*
 * set_default_at - give an absent key (or member of a group, base its
 * element) its default, through the same conversion; o: where the
 * default stands (the policy file, line 0: built in; or the group)
 */
static void set_default_at(struct loader *ld, const struct cfg_key *k, const struct origin *o,
                           char *base)
{
	switch (k->type) {
	case CT_GROUP:
		return;
	case CT_GROUPLIST:
		if (*k->def != '\0')
			pm_fatal("config: list %s: only an empty default is supported", k->name);
		return;
	case CT_INT: {
		int v = (int)strtol(k->def, NULL, 10);

		if (v < k->min || v > k->max)
			cfg_err_add(ld, o, k->name, "%d out of range: want %d..%d", v, k->min,
			            k->max);
		*(int *)(base + k->off) = v;
		return;
	}
	case CT_CIDRS:
	case CT_STRLIST: {
		char *copy = xstrdup(k->def != NULL ? k->def : ""), *save = NULL;
		size_t i = 0;

		for (char *w = strtok_r(copy, " ", &save); w != NULL;
		     w = strtok_r(NULL, " ", &save))
			add_list_element_at(ld, k, w, i++, o, base);
		free(copy);
		return;
	}
	default:
		(void)set_value_at(ld, k, k->def != NULL ? k->def : "", o, base);
		return;
	}
}

/* set_default - give an absent top-level key its built-in default */
static void set_default(struct loader *ld, const struct cfg_key *k)
{
	struct origin o = {ld->path, 0};

	if (!(k->flags & CF_MEMBER))
		set_default_at(ld, k, &o, (char *)ld->p);
}

/* walk - check every setting of group g (prefix "" at the top) and convert its values */
static void walk(struct loader *ld, config_setting_t *g, const char *prefix)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct cfg_key *k;
		struct origin o = origin_of(ld, s);
		struct strbuf dotted;

		sb_init(&dotted);
		if (*prefix != '\0')
			sb_appendf(&dotted, "%s.", prefix);
		sb_append(&dotted, name != NULL ? name : "?");
		k = cfg_find_key(dotted.s);
		if (k == NULL || (k->flags & CF_MEMBER)) {
			cfg_err_add(ld, &o, dotted.s, "%s",
			            config_setting_is_group(s) ? "unknown group" : "unknown key");
		} else {
			ld->seen[k - cfg_settings] = true;
			ld->where[k - cfg_settings] = o;
			if (k->type != CT_GROUP)
				set_from_setting(ld, k, s);
			else if (!config_setting_is_group(s))
				cfg_err_add(ld, &o, dotted.s,
				            "wrong type: got %s, want a group { ... }",
				            type_name(config_setting_type(s)));
			else
				walk(ld, s, dotted.s);
		}
		sb_free(&dotted);
	}
}

/* default_authserv_id - the host name (or "localhost" when there is none) */
static char *default_authserv_id(void)
{
	char host[HOST_NAME_MAX + 1];

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		return xstrdup("localhost");
	host[sizeof(host) - 1] = '\0';
	return xstrdup(host);
}

/*
 * slurp_regular - the whole content of path, a regular file, opened
 * without blocking (a FIFO must not hang a load), NUL-terminated, its
 * length in *len; NULL with the reason in buf
 */
static char *slurp_regular(const char *path, size_t *len, char *buf, size_t bufsize)
{
	struct stat st;
	struct strbuf sb;
	char chunk[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		snprintf(buf, bufsize, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(buf, bufsize, "cannot read: not a regular file");
		close(fd);
		return NULL;
	}
	sb_init(&sb);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(buf, bufsize, "cannot read: %s", strerror(errno));
			sb_free(&sb);
			close(fd);
			return NULL;
		}
		sb_appendn(&sb, chunk, (size_t)n);
	}
	close(fd);
	*len = sb.len;
	return sb_steal(&sb);
}

#define INCLUDE_DEPTH_MAX 10 /* libconfig's MAX_INCLUDE_DEPTH */

/* include_name - NAME of an @include line's [p, end) after the '"'; false when unterminated */
static bool include_name(const char *p, const char *end, struct strbuf *name)
{
	while (p < end && *p != '"') {
		const char *run = p;

		if (*p == '\\') {
			/* \\ and \" are escapes; libconfig's scanner drops any other backslash */
			if (p + 1 < end && (p[1] == '\\' || p[1] == '"'))
				sb_appendc(name, p[1]);
			p += p + 1 < end && (p[1] == '\\' || p[1] == '"') ? 2 : 1;
			continue;
		}
		while (p < end && *p != '"' && *p != '\\')
			p++;
		/* libconfig appends each run as a C string: up to its first NUL */
		sb_appendn(name, run, strnlen(run, (size_t)(p - run)));
	}
	return p < end;
}

/*
 * check_includes - libconfig 1.5 opens an "@include" file with fopen(),
 * which blocks on a FIFO, and its flex scanner calls exit() when reading
 * fails ("input in flex scanner failed": @include "" or "." names the
 * directory), which would end the daemon at a reload. So every line
 * [ \t]*@include[ \t]+"NAME" of file (text, len bytes) is looked at
 * before libconfig reads it, in libconfig's order and way: NAME with \\
 * and \" undone, below dir (the include directory, NULL: none) when
 * there is one; something there that is not a regular file is an error,
 * and a regular file is checked the same way, depth first. A missing
 * file, or nesting deeper than libconfig allows, is left for libconfig to
 * report (*stop set: it stops there). A line inside a comment or a
 * string that looks like an @include is checked too (stricter than
 * libconfig). false when an error was recorded.
 */
static bool check_includes(struct loader *ld, const char *file, const char *text, size_t len,
                           const char *dir, int depth, bool *stop)
{
	const char *line = text, *eot = text + len;
	bool ok = true;
	int lineno = 1;

	for (; line < eot && !*stop; lineno++) {
		const char *eol = memchr(line, '\n', (size_t)(eot - line)), *p = line;
		struct strbuf name, full;
		struct origin o = {file, lineno};
		struct stat st;
		bool found;
		char why[256], *inc;
		size_t inclen;

		line = eol != NULL ? eol + 1 : eot;
		while (p < eot && (*p == ' ' || *p == '\t'))
			p++;
		if (eot - p < 10 || memcmp(p, "@include", 8) != 0 || (p[8] != ' ' && p[8] != '\t'))
			continue;
		for (p += 8; p < eot && (*p == ' ' || *p == '\t'); p++)
			;
		if (p >= eot || *p++ != '"')
			continue;
		sb_init(&name);
		if (!include_name(p, eot, &name)) {
			sb_free(&name); /* unterminated: a syntax error for libconfig */
			continue;
		}
		sb_init(&full);
		if (dir != NULL)
			sb_appendf(&full, "%s/", dir);
		sb_append(&full, name.s);
		found = stat(full.s, &st) == 0;
		if (found && !S_ISREG(st.st_mode)) {
			cfg_err_add(ld, &o, "", "@include \"%s\": %s: not a regular file", name.s,
			            full.s);
			ok = false;
		} else if (!found || depth + 1 > INCLUDE_DEPTH_MAX ||
		           (inc = slurp_regular(full.s, &inclen, why, sizeof(why))) == NULL) {
			/*
			 * libconfig: "cannot open include file", "include file nesting
			 * too deep"; or changed since the stat, or unreadable: libconfig says
			 */
			*stop = true;
		} else {
			if (!check_includes(ld, full.s, inc, inclen, dir, depth + 1, stop))
				ok = false;
			free(inc);
		}
		sb_free(&name);
		sb_free(&full);
	}
	return ok;
}

/* read_file - parse path into cfg; false (with the error recorded) on I/O or syntax errors */
static bool read_file(struct loader *ld, config_t *cfg)
{
	char *dir, *slash, *text, why[256];
	bool stop = false, ok;
	size_t len;

	if ((text = slurp_regular(ld->path, &len, why, sizeof(why))) == NULL) {
		cfg_err_add(ld, NULL, "", "%s", why);
		return false;
	}
	dir = xstrdup(ld->path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		slash[slash == dir ? 1 : 0] = '\0';
		config_set_include_dir(cfg, dir);
	}
	ok = check_includes(ld, ld->path, text, len, slash != NULL ? dir : NULL, 0, &stop);
	free(text);
	free(dir);
	if (!ok)
		return false;
	if (config_read_file(cfg, ld->path) == CONFIG_TRUE)
		return true;
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
		struct origin o = {config_error_file(cfg), 0};

		cfg_err_add(ld, &o, "", "cannot read: %s", config_error_text(cfg));
	} else {
		struct origin o = {config_error_file(cfg), config_error_line(cfg)};

		cfg_err_add(ld, &o, "", "%s", config_error_text(cfg));
	}
	return false;
}

/* cfg_key_origin - where the named key was set, or its built-in default */
struct origin cfg_key_origin(const struct loader *ld, const char *name)
{
	const struct cfg_key *k = cfg_find_key(name);
	struct origin o = {ld->path, 0};

	if (k == NULL)
		pm_fatal("config: no key %s", name);
	return ld->seen[k - cfg_settings] ? ld->where[k - cfg_settings] : o;
}

/* override_rules - each override's rule text, "overrides.for_sender_domain=DOMAIN" */
static void override_rules(struct policy *p)
{
	for (size_t i = 0; i < p->noverrides; i++) {
		struct pm_override *ov = &p->overrides[i];
		struct strbuf sb;

		sb_init(&sb);
		if (ov->sender_domain != NULL)
			sb_appendf(&sb, "overrides.for_sender_domain=%s", ov->sender_domain);
		else
			sb_appendf(&sb, "overrides.for_recipient_domain=%s",
			           ov->recipient_domain != NULL ? ov->recipient_domain : "");
		ov->rule = xstrdup(sb.s);
		sb_free(&sb);
	}
}

/* ratelimit_rules - each rate-limit rule's rule text, "ratelimits.NAME" */
static void ratelimit_rules(struct policy *p)
{
	for (size_t i = 0; i < p->ratelimit.nrules; i++) {
		struct ratelimit_rule *r = &p->ratelimit.rules[i];
		struct strbuf sb;

		sb_init(&sb);
		sb_appendf(&sb, "ratelimits.%s", r->name);
		r->rule = sb_steal(&sb);
	}
}

/*
 * element_line - the line of a list element whose quoted value is value:
 * libconfig dates an element after its look-ahead token, one line late
 * when the "," or "]" after it is on a later line, so the lines from lo
 * (the previous element's) to hi (libconfig's) are searched for
 * "value", last first. hi when it is not found (escapes in the value)
 * or the file cannot be read.
 */
static int element_line(const char *file, int lo, int hi, const char *value)
{
	char *line = NULL, *want;
	size_t cap = 0;
	int n = 0, found = hi;
	FILE *fp;

	if (lo >= hi || lo <= 0 || file == NULL || (fp = fopen(file, "r")) == NULL)
		return hi;
	want = xmalloc(strlen(value) + 3);
	snprintf(want, strlen(value) + 3, "\"%s\"", value);
	while (getline(&line, &cap, fp) >= 0 && ++n <= hi)
		if (n >= lo && strstr(line, want) != NULL)
			found = n;
	free(want);
	free(line);
	fclose(fp);
	return found;
}

/*
 * build_list - the allow (or block) list of one kind from its inline
 * entries (read again from the libconfig tree, for their lines) and its
 * file (cur: the current snapshot, whose list of an unchanged file is
 * shared); list_new's errors become "file:line: key: message": an inline
 * entry at its line in the policy file, a bad line of the list file at
 * that line, an unreadable file at the policy file's *_file key
 */
static void build_list(struct loader *ld, config_t *cfg, const struct policy *cur,
                       enum list_kind kind, bool allow)
{
	const struct list_settings *had = cur != NULL ? &cur->lists[kind] : NULL;
	struct list_settings *ls = &ld->p->lists[kind];
	const char *path = allow ? ls->allow_file : ls->block_file;
	struct list_errors errs = {NULL, 0};
	char key[48], fkey[64];
	const char **entries = NULL;
	config_setting_t *s;
	struct pm_list *l;
	struct origin ko;
	int *lines = NULL;
	size_t n = 0;

	snprintf(key, sizeof(key), "lists.%s.%s", list_kind_name(kind), allow ? "allow" : "block");
	snprintf(fkey, sizeof(fkey), "%s_file", key);
	ko = cfg_key_origin(ld, key);
	s = config_lookup(cfg, key);
	if (s != NULL && (config_setting_type(s) == CONFIG_TYPE_ARRAY ||
	                  config_setting_type(s) == CONFIG_TYPE_LIST)) {
		int len = config_setting_length(s), prev = ko.line;

		entries = xcalloc((size_t)len + 1, sizeof(*entries));
		lines = xcalloc((size_t)len + 1, sizeof(*lines));
		for (int i = 0; i < len; i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				continue; /* reported by the table walk */
			entries[n] = config_setting_get_string(e);
			lines[n] = element_line(ko.file, prev, (int)config_setting_source_line(e),
			                        entries[n]);
			prev = lines[n++];
		}
	}
	if (n > 0 || path != NULL) {
		l = list_new_shared(kind, key, entries, n, path,
		                    had == NULL ? NULL
		                    : allow     ? had->allow_list
		                                : had->block_list,
		                    &errs);
		for (size_t i = 0; i < errs.n; i++) {
			const struct list_error *e = &errs.v[i];
			struct origin o = ko;

			if (e->file == NULL) {
				if (e->index < n)
					o.line = lines[e->index];
				cfg_err_add(ld, &o, key, "%s", e->message);
			} else if (e->line > 0) {
				o.file = e->file;
				o.line = (int)e->line;
				cfg_err_add(ld, &o, fkey, "%s", e->message);
			} else {
				o = cfg_key_origin(ld, fkey);
				cfg_err_add(ld, &o, fkey, "%s: %s", e->file, e->message);
			}
		}
		list_errors_free(&errs);
		if (allow)
			ls->allow_list = l;
		else
			ls->block_list = l;
	}
	free(entries);
	free(lines);
}

/*
 * build_recipients - recipients.file read into the snapshot's table (or
 * the current snapshot's table shared, when the file is unchanged); a
 * file that cannot be used is an error at recipients.file
 */
static void build_recipients(struct loader *ld)
{
	struct recipient_settings *rs = &ld->p->recipients;
	struct policy *cur;
	char why[512];

	if (rs->file == NULL || rs->file[0] == '\0')
		return;
	cur = policy_acquire();
	rs->file_table =
	    rcpt_file_load(rs->file, cur ? cur->recipients.file_table : NULL, why, sizeof(why));
	if (cur != NULL)
		policy_release(cur);
	if (rs->file_table == NULL) {
		struct origin o = cfg_key_origin(ld, "recipients.file");

		cfg_err_add(ld, &o, "recipients.file", "cannot use recipients file: %s",
		            why[0] != '\0' ? why : "unreadable");
	}
}

/*
 * build_lists - every allow and block list (before config_destroy:
 * build_list reads the tree), each sharing the current snapshot's table
 * of its file when the file is unchanged
 */
static void build_lists(struct loader *ld, config_t *cfg)
{
	struct policy *cur = policy_acquire();

	for (int k = 0; k < PM_LIST_KINDS; k++) {
		build_list(ld, cfg, cur, (enum list_kind)k, true);
		build_list(ld, cfg, cur, (enum list_kind)k, false);
	}
	policy_release(cur);
}

/* config_load - read and validate a policy file; a new snapshot (refcount 1) or NULL */
struct policy *config_load(const char *path, struct config_errors *errs)
{
	struct loader ld;
	config_t cfg;
	bool parsed;

	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.errs = errs;
	ld.seen = xcalloc(cfg_nsettings, sizeof(*ld.seen));
	ld.where = xcalloc(cfg_nsettings, sizeof(*ld.where));
	errs->v = NULL;
	errs->n = 0;
	ld.p = xcalloc(1, sizeof(*ld.p));
	ld.p->refcount = 1;
	ld.p->path = xstrdup(path);

	config_init(&cfg);
	parsed = read_file(&ld, &cfg);
	/*
	 * Defaults even after errors in the values (defaults cannot fail), so
	 * that the checks spanning several keys run and report in the same
	 * pass; a key whose value was refused stays zero (a mode off, a path
	 * NULL) and is not checked again. A file that did not parse is
	 * reported alone. The checks run before config_destroy(): ld.where
	 * points at file names libconfig owns.
	 */
	if (parsed) {
		walk(&ld, config_root_setting(&cfg), "");
		for (size_t i = 0; i < cfg_nsettings; i++)
			if (!ld.seen[i])
				set_default(&ld, &cfg_settings[i]);
		cfg_check_dmarc(&ld);
		cfg_check_socket_dir(&ld);
		cfg_check_metrics(&ld);
		cfg_check_state(&ld);
		build_lists(&ld, &cfg);
		build_recipients(&ld);
	}
	config_destroy(&cfg);
	free(ld.seen);
	free(ld.where);
	if (errs->n != 0) {
		policy_release(ld.p);
		return NULL;
	}
	if (ld.p->authserv_id[0] == '\0') {
		free(ld.p->authserv_id);
		ld.p->authserv_id = default_authserv_id();
	}
	if (ld.p->spf.receiver[0] == '\0') {
		free(ld.p->spf.receiver);
		ld.p->spf.receiver = xstrdup(ld.p->authserv_id);
	}
	override_rules(ld.p);
	ratelimit_rules(ld.p);
	ld.p->generation = __atomic_add_fetch(&load_generation, 1, __ATOMIC_RELAXED);
	return ld.p;
}

/* config_errors_print - call emit with one "file:line: key: message" line per error */
void config_errors_print(const struct config_errors *errs,
                         void (*emit)(const char *line, void *arg), void *arg)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < errs->n; i++) {
		const struct config_error *e = &errs->v[i];

		sb_reset(&sb);
		sb_append(&sb, e->file);
		if (e->line > 0)
			sb_appendf(&sb, ":%d", e->line);
		sb_append(&sb, ": ");
		if (e->key[0] != '\0')
			sb_appendf(&sb, "%s: ", e->key);
		sb_append(&sb, e->message);
		emit(sb.s, arg);
	}
	sb_free(&sb);
}

/* config_errors_free - free every error; *errs is left empty */
void config_errors_free(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		free(errs->v[i].file);
		free(errs->v[i].key);
		free(errs->v[i].message);
	}
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}
