/*
 * date: the date forms feeds use, and the ones mail needs.
 *
 * date_parse() reads RFC 822/1123/2822 dates in the forms found in the wild
 * (named zones, no weekday, two-digit years, no seconds) and RFC 3339 /
 * ISO 8601 (Z, offsets, fractions, date only).  date_parse_strict() reads
 * the one form tidings writes itself (the state file), and nothing else.
 */
#ifndef TIDINGS_DATE_H
#define TIDINGS_DATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* 0 and *out in UTC seconds, or -1 when s is no date we know. */
int date_parse(const char *s, time_t *out);

/*
 * Strict RFC 3339: exactly "YYYY-MM-DDTHH:MM:SSZ" (n bytes, DATE_STRICT_LEN),
 * a valid date from 1970 on, no leap second.  0 and *out in UTC seconds,
 * or -1.
 */
#define DATE_STRICT_LEN 20
int date_parse_strict(const char *s, size_t n, int64_t *out);

/* RFC 5322 date in the local zone: "Thu, 26 Nov 2026 07:00:00 +0100". */
int date_format_rfc5322(time_t t, char *buf, size_t size);

/* For people: "2026-11-26 07:00" in the local zone. */
int date_format_local(time_t t, char *buf, size_t size);

/* RFC 3339 in UTC: "2026-11-26T06:00:00Z". */
int date_format_rfc3339(time_t t, char *buf, size_t size);

/*
 * A --since argument: YYYY-MM-DD (local midnight) or RFC 3339.
 */
int date_parse_since(const char *s, time_t *out);

#endif
