/*
 * date: RFC 822 and RFC 3339 dates as feeds write them, and the two forms
 * mail and logs need.  Parsing is by hand because strptime() depends on
 * the locale and curl_getdate() knows no ISO 8601; curl is the last resort.
 */
#include "date.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

struct zone {
	const char *name;
	int minutes; /* east of UTC */
};

/*
 * Named zones seen in feeds.  Military letters follow RFC 822 (A = -1 ..
 * M = -12, N = +1 .. Y = +12), as feedparser does.
 */
static const struct zone zones[] = {
    {"UT", 0},     {"UTC", 0},    {"GMT", 0},    {"Z", 0},       {"WET", 0},     {"EST", -300},
    {"EDT", -240}, {"CST", -360}, {"CDT", -300}, {"MST", -420},  {"MDT", -360},  {"PST", -480},
    {"PDT", -420}, {"AST", -240}, {"ADT", -180}, {"AKST", -540}, {"AKDT", -480}, {"HST", -600},
    {"NST", -210}, {"NDT", -150}, {"ET", -300},  {"CT", -360},   {"MT", -420},   {"PT", -480},
    {"AT", -240},  {"BST", 60},   {"IST", 60},   {"CET", 60},    {"CEST", 120},  {"MET", 60},
    {"MEST", 120}, {"MESZ", 120}, {"MEZ", 60},   {"WEST", 60},   {"EET", 120},   {"EEST", 180},
    {"MSK", 180},  {"JST", 540},  {"KST", 540},  {"HKT", 480},   {"SGT", 480},   {"AWST", 480},
    {"ACST", 570}, {"ACDT", 630}, {"AEST", 600}, {"AEDT", 660},  {"NZST", 720},  {"NZDT", 780},
};

static const char *const months[] = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* Read exactly n digits (n > 0) or, with n == 0, one or more. */
static const char *
digits(const char *p, int n, int *out)
{
	int v = 0, k = 0;

	while (isdigit((unsigned char)p[k]) && (n == 0 || k < n) && k < 9) {
		v = v * 10 + (p[k] - '0');
		k++;
	}
	if (k == 0 || (n && k != n))
		return NULL;
	*out = v;
	return p + k;
}

/* One or two digits (a month, a day, an hour as W3DTF writers write them). */
static const char *
one_or_two(const char *p, int *out)
{
	const char *q = digits(p, 2, out);

	return q != NULL ? q : digits(p, 1, out);
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
valid(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1)
		return 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return 0;
	return h >= 0 && h <= 24 && mi >= 0 && mi <= 59 && s >= 0 && s <= 60;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Seconds since the epoch of a valid UTC date and time (hour 24 is the next midnight). */
static int64_t
utc_seconds(int y, int mo, int d, int h, int mi, int s)
{
	return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
}

static int
make_time(int y, int mo, int d, int h, int mi, int s, int off_min, time_t *out)
{
	if (!valid(y, mo, d, h, mi, s))
		return -1;
	*out = (time_t)utc_seconds(y, mo, d, h, mi, s == 60 ? 59 : s) - (time_t)off_min * 60;
	return 0;
}

/*
 * The strict core: exactly YYYY-MM-DDTHH:MM:SSZ, a valid date from 1970
 * on, hour at most 23, no leap second.
 */
int
date_parse_strict(const char *s, size_t n, int64_t *out)
{
	int y, mo, d, h, mi, sec;

	if (n != DATE_STRICT_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z' || digits(s, 4, &y) == NULL ||
	    digits(s + 5, 2, &mo) == NULL || digits(s + 8, 2, &d) == NULL ||
	    digits(s + 11, 2, &h) == NULL || digits(s + 14, 2, &mi) == NULL ||
	    digits(s + 17, 2, &sec) == NULL)
		return -1;
	if (y < 1970 || h > 23 || sec > 59 || !valid(y, mo, d, h, mi, sec))
		return -1;
	*out = utc_seconds(y, mo, d, h, mi, sec);
	return 0;
}

/* "+hh:mm", "+hhmm", "+hh"; returns the end or NULL. */
static const char *
numeric_offset(const char *p, int *minutes)
{
	int sign, h, m = 0;
	const char *q;

	if (*p != '+' && *p != '-')
		return NULL;
	sign = *p == '-' ? -1 : 1;
	p++;
	if ((q = digits(p, 4, &h)) != NULL) {
		m = h % 100;
		h /= 100;
	} else if ((q = digits(p, 2, &h)) != NULL) {
		if (*q == ':' && digits(q + 1, 2, &m) != NULL)
			q += 3;
		else if (*q == ':' && digits(q + 1, 1, &m) != NULL)
			q += 2; /* "+00:0", seen in the wild */
	} else if ((q = digits(p, 1, &h)) == NULL) {
		return NULL;
	}
	if (h > 14 || m > 59)
		return NULL;
	*minutes = sign * (h * 60 + m);
	return q;
}

/* A named zone (case-insensitive), optionally followed by an offset ("GMT+1"). */
static const char *
named_zone(const char *p, int *minutes)
{
	size_t n = 0;
	const char *q;
	int extra;

	while (isalpha((unsigned char)p[n]))
		n++;
	if (n == 0)
		return NULL;
	if (n == 1 && *p != 'Z' && *p != 'z' && *p != 'J' && *p != 'j') {
		int c = toupper((unsigned char)*p);

		if (c <= 'I')
			*minutes = -(c - 'A' + 1) * 60;
		else if (c <= 'M')
			*minutes = -(c - 'A') * 60;
		else
			*minutes = (c - 'N' + 1) * 60;
		return p + 1;
	}
	for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		if (strlen(zones[i].name) == n && strncasecmp(p, zones[i].name, n) == 0) {
			*minutes = zones[i].minutes;
			q = p + n;
			if ((*q == '+' || *q == '-') && (q = numeric_offset(q, &extra)) != NULL) {
				*minutes += extra;
				return q;
			}
			return p + n;
		}
	}
	return NULL;
}

/* What may follow a complete date: nothing, or a comment like "(UTC)". */
static int
at_end(const char *p)
{
	p = skip_space(p);
	if (*p == '(') {
		p = strchr(p, ')');
		if (p == NULL)
			return 0;
		p = skip_space(p + 1);
	}
	return *p == '\0';
}

static int
month_index(const char *p, const char **end)
{
	size_t n = 0;

	while (isalpha((unsigned char)p[n]))
		n++;
	if (n < 3)
		return -1;
	for (int i = 0; i < 12; i++) {
		if (strncasecmp(p, months[i], 3) == 0) {
			*end = p + n;
			if (*end[0] == '.')
				(*end)++;
			return i + 1;
		}
	}
	return -1;
}

/* hh:mm[:ss] */
static const char *
clock_time(const char *p, int *h, int *mi, int *s)
{
	if ((p = digits(p, 0, h)) == NULL || *p != ':')
		return NULL;
	if ((p = digits(p + 1, 2, mi)) == NULL)
		return NULL;
	*s = 0;
	if (*p == ':') {
		if ((p = digits(p + 1, 2, s)) == NULL)
			return NULL;
		if (*p == '.' || *p == ',') /* fractions, rare in RFC 822 */
			for (p++; isdigit((unsigned char)*p); p++)
				;
	}
	return p;
}

/*
 * A zone name we do not know ("Europe/Berlin", "EST5EDT"): a known name
 * it starts with, else UTC, as feedparser reads it.  One word, to the end.
 */
static const char *
unknown_zone(const char *p, int *minutes)
{
	const char *end = p;
	size_t n = 0;

	while (isalnum((unsigned char)*end) || (*end != '\0' && strchr("/_+-:", *end) != NULL))
		end++;
	if (end == p || !at_end(end))
		return NULL;
	while (isalpha((unsigned char)p[n]))
		n++;
	*minutes = 0;
	for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
		if (n > 1 && strlen(zones[i].name) == n && strncasecmp(p, zones[i].name, n) == 0)
			*minutes = zones[i].minutes;
	return end;
}

/* The rest of a date after its day: [h:mm[:ss] [AM|PM]] [zone], to the end. */
static int
time_and_zone(const char *p, int *h, int *mi, int *s, int *off)
{
	const char *q;

	if (isdigit((unsigned char)*p)) {
		if ((p = clock_time(p, h, mi, s)) == NULL)
			return -1;
		p = skip_space(p);
		if ((p[0] == 'A' || p[0] == 'P' || p[0] == 'a' || p[0] == 'p') &&
		    (p[1] == 'M' || p[1] == 'm') && !isalpha((unsigned char)p[2]) && *h >= 1 &&
		    *h <= 12) {
			*h = *h % 12 + ((p[0] == 'P' || p[0] == 'p') ? 12 : 0);
			p = skip_space(p + 2);
		}
	}
	if (*p == '+' || *p == '-')
		q = numeric_offset(p, off);
	else if (isalpha((unsigned char)*p))
		q = named_zone(p, off);
	else
		q = p;
	if ((q == NULL || !at_end(q)) && isalpha((unsigned char)*p))
		q = unknown_zone(p, off);
	return q == NULL || !at_end(q) ? -1 : 0;
}

/*
 * RFC 822/1123/2822: [Wdy[,]] d Mon yy[yy] hh:mm[:ss] [zone].  A missing
 * zone means UTC.
 */
static int
parse_rfc822(const char *p, time_t *out)
{
	int d, mo, y, h = 0, mi = 0, s = 0, off = 0, ylen;
	const char *q;

	p = skip_space(p);
	if (isalpha((unsigned char)*p)) {
		/* A weekday (any spelling): skip it and an optional comma. */
		if (month_index(p, &q) > 0 && isspace((unsigned char)*q) &&
		    isdigit((unsigned char)*skip_space(q)))
			goto day_month_swapped;
		while (isalpha((unsigned char)*p))
			p++;
		if (*p == '.')
			p++;
		p = skip_space(p);
		if (*p == ',')
			p = skip_space(p + 1);
		if (month_index(p, &q) > 0)
			goto day_month_swapped; /* "Sat, Dec 16 2023 ..." */
	}
	if ((p = digits(p, 0, &d)) == NULL)
		return -1;
	p = skip_space(p);
	if (*p == '-')
		p++;
	if ((mo = month_index(p, &p)) < 0)
		return -1;
	p = skip_space(p);
	if (*p == '-')
		p++;
	goto year;
day_month_swapped:
	/* "Nov 26 2026 07:00:00 GMT" and "Nov 26, 2026 ..." */
	mo = month_index(p, &p);
	if ((p = digits(skip_space(p), 0, &d)) == NULL)
		return -1;
	p = skip_space(p);
	if (*p == ',')
		p = skip_space(p + 1);
year:
	q = p;
	if ((p = digits(p, 0, &y)) == NULL)
		return -1;
	ylen = (int)(p - q);
	if (ylen == 2)
		y += y < 50 ? 2000 : 1900;
	else if (ylen != 4)
		return -1;
	p = skip_space(p);
	if (*p == ',')
		p = skip_space(p + 1);
	if (time_and_zone(p, &h, &mi, &s, &off) < 0)
		return -1;
	return make_time(y, mo, d, h, mi, s, off, out);
}

/*
 * A date written with slashes, year first (Perforce and many CMSs):
 * [Wdy, ]YYYY/M/D [h:mm[:ss] [AM|PM]] [zone].
 */
static int
parse_slashed(const char *p, time_t *out)
{
	int y, mo, d, h = 0, mi = 0, s = 0, off = 0;

	p = skip_space(p);
	if (isalpha((unsigned char)*p)) {
		while (isalpha((unsigned char)*p))
			p++;
		p = skip_space(*p == ',' ? p + 1 : p);
	}
	if ((p = digits(p, 4, &y)) == NULL || *p != '/' || (p = digits(p + 1, 0, &mo)) == NULL ||
	    *p != '/' || (p = digits(p + 1, 0, &d)) == NULL)
		return -1;
	if (time_and_zone(skip_space(p), &h, &mi, &s, &off) < 0)
		return -1;
	return make_time(y, mo, d, h, mi, s, off, out);
}

/* YYYY-DDD, an ordinal date: its month and day. */
static int
from_ordinal(int y, int yday, int *mo, int *d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (yday < 1 || yday > 365 + leap(y))
		return -1;
	for (*mo = 1; yday > mdays[*mo - 1] + (*mo == 2 && leap(y)); (*mo)++)
		yday -= mdays[*mo - 1] + (*mo == 2 && leap(y));
	*d = yday;
	return 0;
}

/*
 * RFC 3339 / ISO 8601: YYYY-MM-DD[(T| )hh:mm[:ss[.frac]]][Z|+hh:mm|+hhmm].
 * Also YYYYMMDD[Thhmmss], a date alone (midnight UTC), a year alone,
 * YYYY-DDD, and W3DTF as written in the wild: one-digit months, days and
 * hours ("2009-1-12T5:40:14-05:00").
 */
static int
parse_iso8601(const char *p, time_t *out)
{
	int y, mo, d = 1, h = 0, mi = 0, s = 0, off = 0, basic;
	const char *q;

	p = skip_space(p);
	if ((q = digits(p, 4, &y)) == NULL)
		return -1;
	p = q;
	basic = *p != '-';
	if (basic && at_end(p)) {
		mo = 1; /* a year alone */
	} else if (basic) {
		if ((p = digits(p, 2, &mo)) == NULL || (p = digits(p, 2, &d)) == NULL)
			return -1;
	} else if ((q = digits(p + 1, 3, &d)) != NULL && !isdigit((unsigned char)*q)) {
		if (from_ordinal(y, d, &mo, &d) < 0)
			return -1;
		p = q;
	} else {
		if ((p = one_or_two(p + 1, &mo)) == NULL)
			return -1;
		if (*p == '-' && (p = one_or_two(p + 1, &d)) == NULL)
			return -1;
	}
	if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
		p++;
		if ((q = digits(p, 2, &h)) == NULL &&
		    (basic || (q = digits(p, 1, &h)) == NULL || *q != ':'))
			return -1;
		p = q;
		if (*p == ':')
			p++;
		if ((p = digits(p, 2, &mi)) == NULL)
			return -1;
		if (*p == ':' || (basic && isdigit((unsigned char)*p))) {
			if (*p == ':')
				p++;
			if ((p = digits(p, 2, &s)) == NULL)
				return -1;
		}
		if (*p == '.' || *p == ',')
			for (p++; isdigit((unsigned char)*p); p++)
				;
		p = skip_space(p);
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-')
			p = numeric_offset(p, &off);
		else if (isalpha((unsigned char)*p) &&
		         ((q = named_zone(p, &off)) == NULL || !at_end(q)))
			p = unknown_zone(p, &off);
		else if (isalpha((unsigned char)*p))
			p = q;
		if (p == NULL)
			return -1;
	}
	if (!at_end(p))
		return -1;
	return make_time(y, mo, d, h, mi, s, off, out);
}

/*
 * Greek and Hungarian month and weekday names, as feedparser's handlers
 * know them, with what they stand for: the date is read again with the
 * English name or the month's number in their place.
 */
/* clang-format off */
static const struct {
	const char *name, *as;
} foreign_names[] = {
    {"\u0399\u03b1\u03bd", "Jan"}, {"\u03a6\u03b5\u03b2", "Feb"},
    {"\u039c\u03ac\u03ce", "Mar"}, {"\u039c\u03b1\u03ce", "Mar"},
    {"\u0391\u03c0\u03c1", "Apr"}, {"\u039c\u03ac\u03b9", "May"},
    {"\u039c\u03b1\u03ca", "May"}, {"\u039c\u03b1\u03b9", "May"},
    {"\u0399\u03bf\u03cd\u03bd", "Jun"}, {"\u0399\u03bf\u03bd", "Jun"},
    {"\u0399\u03bf\u03cd\u03bb", "Jul"}, {"\u0399\u03bf\u03bb", "Jul"},
    {"\u0391\u03cd\u03b3", "Aug"}, {"\u0391\u03c5\u03b3", "Aug"},
    {"\u03a3\u03b5\u03c0", "Sep"}, {"\u039f\u03ba\u03c4", "Oct"},
    {"\u039d\u03bf\u03ad", "Nov"}, {"\u039d\u03bf\u03b5", "Nov"},
    {"\u0394\u03b5\u03ba", "Dec"}, {"\u039a\u03c5\u03c1", "Sun"},
    {"\u0394\u03b5\u03c5", "Mon"}, {"\u03a4\u03c1\u03b9", "Tue"},
    {"\u03a4\u03b5\u03c4", "Wed"}, {"\u03a0\u03b5\u03bc", "Thu"},
    {"\u03a0\u03b1\u03c1", "Fri"}, {"\u03a3\u03b1\u03b2", "Sat"},
    {"janu\u00e1r", "01"}, {"febru\u00e1ri", "02"}, {"m\u00e1rcius", "03"},
    {"\u00e1prilis", "04"}, {"m\u00e1ujus", "05"}, {"j\u00fanius", "06"},
    {"j\u00falius", "07"}, {"augusztus", "08"}, {"szeptember", "09"},
    {"okt\u00f3ber", "10"}, {"november", "11"}, {"december", "12"},
};
/* clang-format on */

/* s with the Greek and Hungarian names in it translated; 0, or -1 when it has none. */
static int
translate_names(const char *s, char *out, size_t size)
{
	size_t k = 0;
	int found = 0;

	while (*s && k + 1 < size) {
		size_t i, n = 0;

		for (i = 0; i < sizeof foreign_names / sizeof foreign_names[0]; i++) {
			n = strlen(foreign_names[i].name);
			if (strncmp(s, foreign_names[i].name, n) == 0)
				break;
		}
		if (i < sizeof foreign_names / sizeof foreign_names[0] &&
		    k + strlen(foreign_names[i].as) + 1 < size) {
			k += (size_t)snprintf(out + k, size - k, "%s", foreign_names[i].as);
			s += n;
			found = 1;
		} else {
			out[k++] = *s++;
		}
	}
	out[k] = '\0';
	return found && *s == '\0' ? 0 : -1;
}

/*
 * Korean blogs (KST, +09:00), as feedparser reads them: OnBlog's
 * "2004\ub144 05\uc6d4 28\uc77c 01:31:15" and Nate's "2004-05-25 \uc624\ud6c4 11:23:17"
 * (\uc624\uc804 before noon, \uc624\ud6c4 after).
 */
static int
parse_korean(const char *p, time_t *out)
{
	static const char year[] = "\ub144", month[] = "\uc6d4", day[] = "\uc77c";
	static const char am[] = "\uc624\uc804", pm[] = "\uc624\ud6c4";
	int y, mo, d, h, mi, s, after_noon = 0;

	if ((p = digits(p, 4, &y)) == NULL)
		return -1;
	if (strncmp(p, year, strlen(year)) == 0) {
		if ((p = digits(skip_space(p + strlen(year)), 0, &mo)) == NULL ||
		    strncmp(p, month, strlen(month)) != 0 ||
		    (p = digits(skip_space(p + strlen(month)), 0, &d)) == NULL ||
		    strncmp(p, day, strlen(day)) != 0)
			return -1;
		p = skip_space(p + strlen(day));
	} else {
		if (*p != '-' || (p = digits(p + 1, 2, &mo)) == NULL || *p != '-' ||
		    (p = digits(p + 1, 2, &d)) == NULL)
			return -1;
		p = skip_space(p);
		if (strncmp(p, pm, strlen(pm)) == 0)
			after_noon = 1;
		else if (strncmp(p, am, strlen(am)) != 0)
			return -1;
		p = skip_space(p + strlen(am));
	}
	if ((p = clock_time(p, &h, &mi, &s)) == NULL || !at_end(p))
		return -1;
	if (after_noon && h < 12)
		h += 12;
	return make_time(y, mo, d, h, mi, s, 9 * 60, out);
}

static int
has_non_ascii(const char *s)
{
	while (*s && (unsigned char)*s < 0x80)
		s++;
	return *s != '\0';
}

int
date_parse(const char *s, time_t *out)
{
	time_t t;

	if (s == NULL)
		return -1;
	s = skip_space(s);
	if (*s == '\0' || strlen(s) > 128)
		return -1;
	if (parse_iso8601(s, out) == 0 || parse_rfc822(s, out) == 0 || parse_slashed(s, out) == 0)
		return 0;
	if (has_non_ascii(s)) {
		char ascii[160];

		if (parse_korean(s, out) == 0)
			return 0;
		if (translate_names(s, ascii, sizeof ascii) == 0 &&
		    (parse_iso8601(ascii, out) == 0 || parse_rfc822(ascii, out) == 0))
			return 0;
	}
	t = curl_getdate(s, NULL);
	if (t == -1)
		return -1;
	*out = t;
	return 0;
}

int
date_format_rfc5322(time_t t, char *buf, size_t size)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off;
	int n;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	/* Names by hand: strftime's %a and %b follow the locale. */
	off = tm.tm_gmtoff / 60;
	n = snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", wdays[tm.tm_wday],
	             tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	             tm.tm_sec, off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
	             (off < 0 ? -off : off) % 60);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
date_format_rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	return strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 ? -1 : 0;
}

int
date_format_local(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	return strftime(buf, size, "%Y-%m-%d %H:%M", &tm) == 0 ? -1 : 0;
}

int
date_parse_since(const char *s, time_t *out)
{
	int y, mo, d;
	const char *p;
	struct tm tm;

	if (s == NULL)
		return -1;
	p = digits(s, 4, &y);
	if (p && *p == '-' && (p = digits(p + 1, 2, &mo)) && *p == '-' &&
	    (p = digits(p + 1, 2, &d)) && *p == '\0') {
		if (!valid(y, mo, d, 0, 0, 0))
			return -1;
		memset(&tm, 0, sizeof tm);
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_isdst = -1;
		*out = mktime(&tm);
		return *out == (time_t)-1 ? -1 : 0;
	}
	return parse_iso8601(s, out);
}
