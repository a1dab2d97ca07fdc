/*
 * NAME
 *	timefmt 3 - RFC 3339 times for policy-milter-report
 * SYNOPSIS
 *	#include "timefmt.h"
 *
 *	int timefmt_parse_rfc3339(const char *s, long long *ms);
 *	int timefmt_parse_user(const char *s, long long *ms);
 *	char *timefmt_format(long long ms, char *buf);
 *	char *timefmt_format_hour(long long ms, char *buf);
 * DESCRIPTION
 *	Converts between RFC 3339 text and milliseconds since the epoch
 *	with the proleptic Gregorian calendar (days_from_civil and its
 *	inverse, as in H. Hinnant's "chrono-compatible low-level date
 *	algorithms"). A leap second (:60) is read as the following second.
 *	Fractions beyond milliseconds are truncated.
 * DIAGNOSTICS
 *	The parsers return -1 for anything that is not a whole valid time:
 *	out-of-range fields, trailing text, a missing zone.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

#define MS_PER_DAY 86400000LL

/* days_from_civil - days since 1970-01-01 of y-m-d (m 1..12, d 1..31) */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* civil_from_days - the inverse of days_from_civil */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

/* days_in_month - 28..31 */
static unsigned days_in_month(long long y, unsigned m)
{
	static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* digits - read exactly n decimal digits at *p into *out, advancing *p; false when not */
static bool digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* parse_date - "YYYY-MM-DD" at *p; days since the epoch */
static bool parse_date(const char **p, long long *days)
{
	unsigned y, m, d;

	if (!digits(p, 4, &y) || *(*p)++ != '-' || !digits(p, 2, &m) || *(*p)++ != '-' ||
	    !digits(p, 2, &d))
		return false;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

/* parse_hhmm - "HH:MM" at *p; milliseconds into the day */
static bool parse_hhmm(const char **p, long long *ms)
{
	unsigned h, mi;

	if (!digits(p, 2, &h) || *(*p)++ != ':' || !digits(p, 2, &mi))
		return false;
	if (h > 23 || mi > 59)
		return false;
	*ms = ((long long)h * 60 + mi) * 60000;
	return true;
}

/* is_sep - the date/time separator RFC 3339 section 5.6 allows */
static bool is_sep(char c)
{
	return c == 'T' || c == 't' || c == ' ';
}

/* timefmt_parse_rfc3339 - parse one whole RFC 3339 date-time */
int timefmt_parse_rfc3339(const char *s, long long *ms)
{
	const char *p = s;
	long long days, tod, off = 0;
	unsigned sec, frac = 0;

	if (s == NULL || !parse_date(&p, &days) || !is_sep(*p++) || !parse_hhmm(&p, &tod) ||
	    *p++ != ':' || !digits(&p, 2, &sec) || sec > 60)
		return -1;
	if (*p == '.') {
		int n = 0;

		p++;
		for (; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 3)
				frac = frac * 10 + (unsigned)(*p - '0');
		if (n == 0)
			return -1;
		for (; n < 3; n++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (!parse_hhmm(&p, &off))
			return -1;
		off *= sign;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*ms = days * MS_PER_DAY + tod + (long long)sec * 1000 + frac - off;
	return 0;
}

/* timefmt_parse_user - RFC 3339, or a UTC date with an optional HH:MM */
int timefmt_parse_user(const char *s, long long *ms)
{
	const char *p = s;
	long long days, tod = 0;

	if (s == NULL)
		return -1;
	if (timefmt_parse_rfc3339(s, ms) == 0)
		return 0;
	if (!parse_date(&p, &days))
		return -1;
	if (*p != '\0' && (!is_sep(*p++) || !parse_hhmm(&p, &tod)))
		return -1;
	if (*p != '\0')
		return -1;
	*ms = days * MS_PER_DAY + tod;
	return 0;
}

/* split - ms into civil date and milliseconds of the day */
static void split(long long ms, long long *y, unsigned *m, unsigned *d, long long *tod)
{
	long long days = ms / MS_PER_DAY;

	*tod = ms % MS_PER_DAY;
	if (*tod < 0) {
		*tod += MS_PER_DAY;
		days--;
	}
	civil_from_days(days, y, m, d);
}

/* timefmt_format - "YYYY-MM-DDTHH:MM:SS.mmmZ" */
char *timefmt_format(long long ms, char *buf)
{
	long long y, tod;
	unsigned m, d;

	split(ms, &y, &m, &d, &tod);
	snprintf(buf, TIMEFMT_LEN, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", y, m, d,
	         tod / 3600000, tod / 60000 % 60, tod / 1000 % 60, tod % 1000);
	return buf;
}

/* timefmt_format_hour - "YYYY-MM-DDTHH:00:00Z" */
char *timefmt_format_hour(long long ms, char *buf)
{
	long long y, tod;
	unsigned m, d;

	split(ms, &y, &m, &d, &tod);
	snprintf(buf, TIMEFMT_LEN, "%04lld-%02u-%02uT%02lld:00:00Z", y, m, d, tod / 3600000);
	return buf;
}
