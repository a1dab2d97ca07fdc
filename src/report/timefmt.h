/*
 * NAME
 *	timefmt 3h - RFC 3339 times for policy-milter-report
 * SYNOPSIS
 *	#include "timefmt.h"
 * DESCRIPTION
 *	Times are milliseconds since the epoch, UTC, as a signed 64-bit
 *	count; years 0000 to 9999 only. Pure functions: no time zone, no
 *	locale, no libc time conversion.
 */
#ifndef PMR_TIMEFMT_H
#define PMR_TIMEFMT_H

/* Room for "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL (generous: the compiler cannot see the ranges).
 */
#define TIMEFMT_LEN 80

/*
 * timefmt_parse_rfc3339 - parse an RFC 3339 date-time ("2026-11-29T21:30:00.123Z",
 * "...+01:00", any number of fraction digits, "T" or "t" or one space, "Z" or "z");
 * 0 with *ms set, or -1 when s is not exactly one valid date-time.
 */
int timefmt_parse_rfc3339(const char *s, long long *ms);

/*
 * timefmt_parse_user - parse a command-line time: RFC 3339, "YYYY-MM-DD", or
 * "YYYY-MM-DD HH:MM" ("T" also separates), the last two in UTC; 0 or -1.
 */
int timefmt_parse_user(const char *s, long long *ms);

/* timefmt_format - "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (TIMEFMT_LEN bytes); returns buf */
char *timefmt_format(long long ms, char *buf);

/* timefmt_format_hour - the hour that holds ms, "YYYY-MM-DDTHH:00:00Z"; returns buf */
char *timefmt_format_hour(long long ms, char *buf);

#endif
