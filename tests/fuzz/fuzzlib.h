/*
 * NAME
 *	fuzzlib 3h - what the libFuzzer targets in tests/fuzz share
 * DESCRIPTION
 *	A private temporary directory per process (removed at exit), files
 *	written into it, the fuzz input cut into NUL-terminated fields, a
 *	check that aborts with a message (libFuzzer then saves the input),
 *	and a DNS answer builder for the targets that answer DNS
 *	themselves (dmarc, eom: their DNS budgets query a function of the
 *	target's, so no query ever leaves the process).
 * DIAGNOSTICS
 *	Anything that goes wrong in the harness itself (no temporary
 *	directory, a write that fails) aborts with a message naming it:
 *	a harness failure must not pass for a clean run.
 */
#ifndef PM_FUZZLIB_H
#define PM_FUZZLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry points every target defines. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_CHECK - an invariant: abort (a crash libFuzzer records) with a message when false */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                         \
	} while (0)

/* fuzz_fail - print where and why, then abort */
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* fuzz_dir - the process's private temporary directory (mkdtemp under $TMPDIR, gone at exit) */
const char *fuzz_dir(void);

/* fuzz_path - "fuzz_dir()/name" in a static buffer of this call's slot (0..3) */
const char *fuzz_path(int slot, const char *name);

/* fuzz_write - path gets exactly size bytes of data, mode 0644 */
void fuzz_write(const char *path, const void *data, size_t size);

/* fuzz_cstr - a NUL-terminated copy of data (NULs inside kept); the caller frees */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* fuzz_slurp_line - a file's first line (at most 8 KB; the caller frees), NULL when unreadable */
char *fuzz_slurp_line(const char *path);

/* fuzz_printable - s holds only printable ASCII (log and header safe) */
bool fuzz_printable(const char *s);

/* Fields of an input cut at NUL bytes, each NUL-terminated. */
struct fuzz_fields {
	char **v;
	size_t n;
	char *buf;
};

/* fuzz_split - cut data at every NUL into at most max fields (the last keeps the rest) */
void fuzz_split(const uint8_t *data, size_t size, size_t max, struct fuzz_fields *f);
/* fuzz_field - field i, or "" when there are fewer */
const char *fuzz_field(const struct fuzz_fields *f, size_t i);
void fuzz_fields_free(struct fuzz_fields *f);

/* One resource record of a built DNS answer. */
struct fuzz_rr {
	int type, klass;
	const unsigned char *rdata;
	size_t rdlen;
};

/*
 * fuzz_dns_build - a DNS response to qname/qtype (class IN) with rcode
 * and the records rrs (owner name: the question, compressed) into buf;
 * its length, or 0 when it does not fit
 */
size_t fuzz_dns_build(unsigned char *buf, size_t bufsize, const char *qname, int qtype, int rcode,
                      const struct fuzz_rr *rrs, size_t nrr);

/*
 * fuzz_txt_rdata - text as TXT RDATA (character-strings of at most 255
 * bytes) into out; its length, or 0 when it does not fit
 */
size_t fuzz_txt_rdata(const char *text, size_t len, unsigned char *out, size_t outsize);

/* One header field as libmilter hands it over: name, and value with its leading space and folds. */
struct fuzz_header {
	char *name, *value;
};

/* A raw message cut as the MTA hands it to a milter. */
struct fuzz_message {
	struct fuzz_header *f; /* the header fields, in order */
	size_t n;
	const uint8_t *body; /* points into the input */
	size_t body_len;
};

/*
 * fuzz_message_split - the header fields and the body of a raw message (CRLF
 * or LF): one field per name (white space before the colon kept), folded
 * lines kept in the value; the headers end at an empty line or at a line
 * that is no header field (the body starts there)
 */
void fuzz_message_split(const uint8_t *d, size_t size, struct fuzz_message *m);
/* fuzz_message_free - release what m holds (not the input) */
void fuzz_message_free(struct fuzz_message *m);

#endif
