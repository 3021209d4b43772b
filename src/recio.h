/*
 * recio: the state file's text form, one record at a time.
 *
 * A record is a line of fields separated by tabs.  Writing: rec_field
 * escapes controls (tab and newline among them), DEL and '%' as %XX, and a
 * field that is exactly "-" as %2D, since a bare "-" means none (NULL);
 * times are "YYYY-MM-DDTHH:MM:SSZ" in UTC ("-" for 0); numbers are
 * decimal.  Output goes through a buffer of REC_OUT_CHUNK bytes; the first
 * write error is kept in err and stops further writes.  Reading:
 * rec_read_line hands out one line at a time from a growing buffer, and
 * notes whether a NUL byte was read.  Decoding %XX is pct_decode (util.h),
 * strict times are date_parse_strict (date.h).
 */
#ifndef TIDINGS_RECIO_H
#define TIDINGS_RECIO_H

#include <stddef.h>
#include <stdint.h>

#define REC_OUT_CHUNK  (1u << 20)
#define REC_READ_CHUNK (1u << 20)
#define REC_MAX_TIME   253402300799LL /* 9999-12-31T23:59:59Z: later times are written as it */

struct rec_out {
	int fd;
	char *buf; /* REC_OUT_CHUNK bytes, the caller's */
	size_t len;
	int err;         /* errno of the first failed write */
	int64_t last_t;  /* the last time formatted, as last_s */
	char last_s[20]; /* YYYY-MM-DDTHH:MM:SSZ */
	size_t last_n;
};

/* n bytes as they are; no escapes (record names, the header). */
void rec_raw(struct rec_out *o, const char *s, size_t n);
/* A tab, then s (n bytes) escaped; NULL is "-". */
void rec_field(struct rec_out *o, const char *s, size_t n);
/* rec_field of a string, or of NULL. */
void rec_str(struct rec_out *o, const char *s);
/* A tab, then t as a date ("-" for 0 or less). */
void rec_time(struct rec_out *o, int64_t t);
/* A tab, then v in decimal (a negative v is 0). */
void rec_num(struct rec_out *o, long long v);
void rec_eol(struct rec_out *o);
/* Write out what is buffered (at the end; rec_raw and co. flush when full). */
void rec_flush(struct rec_out *o);

struct rec_in {
	int fd;
	char *buf; /* malloc'd, cap bytes (REC_READ_CHUNK to start); the caller frees it */
	size_t len, pos, cap;
	int eof;
	int nul; /* a NUL byte was read: lines must be checked for it */
};

/*
 * The next line without its newline, NUL-terminated in place: 1; 0 at the
 * end (*tail set if bytes without a newline remain); -1 with *err (an
 * errno; EFBIG for a line over 64 MB).
 */
int rec_read_line(struct rec_in *r, char **line, size_t *n, int *tail, int *err);

/* A decimal number 0..max (n bytes, no sign, no leading zeros): 0, or -1. */
int rec_parse_num(const char *s, size_t n, long long max, long long *out);

#endif
