/*
 * NAME
 *	input 3h - read a log line by line, plain or gzip-compressed
 * SYNOPSIS
 *	#include "input.h"
 * DESCRIPTION
 *	One reader per input. zlib's gzread() reads gzip files (several
 *	members too, as logrotate's delaycompress and cat produce) and plain
 *	files alike, so rotated and live logs need no option. Lines may hold
 *	any byte, NUL included; a line longer than INPUT_MAX_LINE is not
 *	kept, only reported as too long.
 */
#ifndef PMR_INPUT_H
#define PMR_INPUT_H

#include <stdbool.h>
#include <stddef.h>

/* The longest line kept (bytes, without the newline). */
#define INPUT_MAX_LINE ((size_t)1024 * 1024)

struct input;

/*
 * input_open - open a file, or standard input for "-". NULL with errno set
 * when it cannot be opened. The name is copied.
 */
struct input *input_open(const char *name);

/*
 * input_next - the next line, without its newline (a last line without one
 * counts too). Returns 1 with *line (valid until the next call, len bytes,
 * NUL-terminated), *len, and *too_long (then *line is empty); 0 at the end;
 * -1 on a read error (input_error says which).
 */
int input_next(struct input *in, const char **line, size_t *len, bool *too_long);

/* input_lineno - the number of the line input_next returned last (1-based) */
unsigned long input_lineno(const struct input *in);

/* input_name - the name given to input_open; "stdin" for "-" */
const char *input_name(const struct input *in);

/* input_error - a description of the read error (static or owned by in) */
const char *input_error(struct input *in);

/* input_close - close and free; NULL is fine */
void input_close(struct input *in);

#endif
