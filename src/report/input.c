/*
 * NAME
 *	input 3 - read a log line by line, plain or gzip-compressed
 * SYNOPSIS
 *	#include "input.h"
 *
 *	struct input *input_open(const char *name);
 *	int input_next(struct input *in, const char **line, size_t *len, bool *too_long);
 *	unsigned long input_lineno(const struct input *in);
 *	const char *input_name(const struct input *in);
 *	const char *input_error(struct input *in);
 *	void input_close(struct input *in);
 * DESCRIPTION
 *	Reads through zlib (gzopen/gzdopen and gzread) in 64 KiB blocks and
 *	splits at '\n' itself, so a NUL byte is just another byte of the
 *	line. The part of a line beyond INPUT_MAX_LINE is read and dropped,
 *	never buffered: memory stays bounded whatever the input.
 * DIAGNOSTICS
 *	input_open() returns NULL with errno set. input_next() returns -1 on
 *	a read error, including a compressed file that ends early ("unexpected
 *	end of file") or is corrupt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../util.h"
#include "input.h"

struct input {
	gzFile gz;
	char *name;
	unsigned long lineno;
	struct strbuf line;
	bool eof;
	size_t pos, end;
	char errbuf[200];
	char block[65536];
};

/* input_open - gzopen a file, gzdopen a copy of standard input for "-" */
struct input *input_open(const char *name)
{
	struct input *in;
	gzFile gz;
	int fd = -1;

	errno = 0;
	if (strcmp(name, "-") == 0) {
		if ((fd = dup(STDIN_FILENO)) < 0)
			return NULL;
		gz = gzdopen(fd, "rb");
	} else {
		gz = gzopen(name, "rb");
	}
	if (gz == NULL) {
		if (fd >= 0)
			close(fd);
		if (errno == 0)
			errno = ENOMEM;
		return NULL;
	}
	gzbuffer(gz, 128 * 1024);
	in = xcalloc(1, sizeof(*in));
	in->gz = gz;
	in->name = xstrdup(strcmp(name, "-") == 0 ? "stdin" : name);
	sb_init(&in->line);
	return in;
}

/* fill - read the next block; 1 got some, 0 end of input, -1 error */
static int fill(struct input *in)
{
	int n, errnum;

	if (in->eof)
		return 0;
	n = gzread(in->gz, in->block, sizeof(in->block));
	if (n > 0) {
		in->pos = 0;
		in->end = (size_t)n;
		return 1;
	}
	if (n == 0) {
		gzerror(in->gz, &errnum);
		if (errnum == Z_OK) {
			in->eof = true;
			return 0;
		}
	}
	return -1;
}

/* input_next - the next line; 1 line, 0 end, -1 read error */
int input_next(struct input *in, const char **line, size_t *len, bool *too_long)
{
	bool any = false;
	int rc;

	sb_reset(&in->line);
	*too_long = false;
	for (;;) {
		const char *start, *nl;
		size_t take;

		if (in->pos == in->end) {
			if ((rc = fill(in)) < 0)
				return -1;
			if (rc == 0) {
				if (!any)
					return 0;
				break;
			}
		}
		any = true;
		start = in->block + in->pos;
		nl = memchr(start, '\n', in->end - in->pos);
		take = nl != NULL ? (size_t)(nl - start) : in->end - in->pos;
		if (!*too_long) {
			if (in->line.len + take > INPUT_MAX_LINE) {
				*too_long = true;
				sb_reset(&in->line);
			} else {
				sb_appendn(&in->line, start, take);
			}
		}
		in->pos += take;
		if (nl != NULL) {
			in->pos++;
			break;
		}
	}
	in->lineno++;
	*line = in->line.s;
	*len = in->line.len;
	return 1;
}

/* input_lineno - number of the last line returned */
unsigned long input_lineno(const struct input *in)
{
	return in->lineno;
}

/* input_name - the input's name for messages */
const char *input_name(const struct input *in)
{
	return in->name;
}

/* input_error - zlib's or the system's description of the last read error */
const char *input_error(struct input *in)
{
	int errnum;
	const char *msg = gzerror(in->gz, &errnum);

	if (errnum == Z_ERRNO) {
		msg = strerror(errno);
	} else if (msg != NULL) {
		/* zlib says "PATH: message"; PATH is the file name or "<fd:N>" */
		const char *p = strcmp(in->name, "stdin") == 0 ? strchr(msg, '>') : NULL;
		size_t n = strlen(in->name);

		if (p != NULL && strncmp(p, ">: ", 3) == 0)
			msg = p + 3;
		else if (strncmp(msg, in->name, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
			msg += n + 2;
	}
	snprintf(in->errbuf, sizeof(in->errbuf), "%s", msg != NULL && *msg ? msg : "read error");
	return in->errbuf;
}

/* input_close - close the stream, free the reader */
void input_close(struct input *in)
{
	if (in == NULL)
		return;
	gzclose(in->gz);
	sb_free(&in->line);
	free(in->name);
	free(in);
}
