/*
 * util: the few things every module needs.
 *
 *   struct err   an error as a value: a sysexits(3) code and one line of text.
 *                Functions that can fail return 0 or -1 and fill a struct err.
 *   struct buf   a growable byte buffer, always NUL-terminated.
 *   struct strv  a growable array of owned strings.
 *   str_*        small string helpers; hash64 for hash tables.
 */
#ifndef TIDINGS_UTIL_H
#define TIDINGS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define ERR_MSG_MAX 512

struct err {
	int code;              /* sysexits.h value main() exits with */
	char msg[ERR_MSG_MAX]; /* one line, no trailing newline */
};

/* Fill e (if not NULL) and return -1, so callers can `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int err_oom(struct err *e);
/* Put "what: " in front of the message already in e. Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct buf {
	char *data; /* NULL until the first append; then NUL-terminated */
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

int buf_grow(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);  /* len = 0, keeps the memory */
char *buf_steal(struct buf *b); /* caller frees; "" if empty; NULL on OOM */
void buf_free(struct buf *b);
const char *buf_str(const struct buf *b); /* "" when empty */

struct strv {
	char **v;
	size_t n;
	size_t cap;
};

#define STRV_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

int strv_push(struct strv *sv, const char *s); /* copies s */
int strv_push_owned(struct strv *sv, char *s); /* takes s */
int strv_contains_icase(const struct strv *sv, const char *s);
void strv_free(struct strv *sv);

/*
 * Append the file at path ("-": standard input) to b, at most max bytes.
 * -1 with errno set (EFBIG when the file is larger than max).
 */
int buf_read_file(struct buf *b, const char *path, size_t max);
/* The folder of path: ".", "/" or a copy of what precedes the last '/'. */
char *path_dir(const char *path);
/*
 * A temporary file for data too large to keep in memory: read-write, in
 * $TMPDIR (else /tmp), mode 0600, unlinked at once so it goes when closed.
 * what names it in errors.
 */
FILE *temp_file(const char *what, struct err *e);
const char *temp_dir(void); /* $TMPDIR, else /tmp */
/* Copy n bytes of fp from offset off to out.  -1 with errno set. */
int file_copy(FILE *fp, off_t off, size_t n, FILE *out);
/* 2 * nbytes random hex digits and a NUL into dst (nbytes <= 32). */
void random_hex(char *dst, size_t nbytes);

char *str_dup(const char *s); /* NULL in, NULL out */
char *str_ndup(const char *s, size_t n);
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *str_trim(char *s);      /* in place; returns s moved past spaces */
void str_squeeze(char *s);    /* in place: white space runs become one space, ends trimmed */
int str_empty(const char *s); /* NULL or only white space */
int str_eq(const char *a, const char *b);  /* NULL-safe */
int str_ieq(const char *a, const char *b); /* NULL-safe, ASCII case-insensitive */
int str_has_prefix(const char *s, const char *prefix);

/* Length of the valid UTF-8 sequence at p (n bytes left; NUL counts), or 0. */
size_t utf8_len(const unsigned char *p, size_t n);
/*
 * Append s as a terminal may show it: valid UTF-8 stays, but C0 and C1
 * controls, DEL and bytes that are not UTF-8 become \xNN.  -1 on OOM.
 */
int buf_add_printable(struct buf *b, const char *s);
/*
 * Append n bytes of s as HTML text or a quoted attribute's value: & < > "
 * become &amp; &lt; &gt; &quot;, and with HTML_ESC_APOS ' becomes &#39;
 * too (for a value that may stand in a single-quoted attribute).  -1 on OOM.
 */
enum html_esc { HTML_ESC_QUOT, HTML_ESC_APOS };
int buf_add_html_escaped(struct buf *b, const char *s, size_t n, enum html_esc quotes);

/*
 * Control characters never leave tidings: feed text holding ESC or BEL
 * would drive the reader's terminal.  ctl_len gives the bytes of the
 * control character at p (n bytes left): C0 but tab, newline and a CR
 * before a newline; DEL; C1 as UTF-8 (U+0080..U+009F); else 0.
 * str_strip_controls removes them from s in place and returns s;
 * fputs_clean writes s without them.
 */
size_t ctl_len(const unsigned char *p, size_t n);
char *str_strip_controls(char *s);
int fputs_clean(const char *s, FILE *f);

uint64_t hash64(const void *p, size_t n); /* FNV-1a */
uint64_t hash64_str(const char *s);

/*
 * The %XX escapes of the state file and its journal: pct_escaped says
 * whether a byte is written as %XX (controls, DEL and '%'); pct_decode
 * decodes s (n bytes) in place and returns the new length, or -1 on a bad
 * escape or one that makes a NUL.
 */
int pct_escaped(unsigned char c);
long pct_decode(char *s, size_t n);

/*
 * Make a rename in dir durable: fsync the folder (a file system that
 * cannot fsync a folder counts as done).  fsync_dir_of_file: path's folder.
 */
int fsync_dir(const char *dir);
int fsync_dir_of_file(const char *path);

#endif
