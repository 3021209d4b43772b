#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/*
 * An error line may quote feed or server text: no control character
 * reaches the terminal, and a newline or tab becomes a space.
 */
static void
err_one_line(struct err *e)
{
	str_strip_controls(e->msg);
	for (char *p = e->msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	err_one_line(e);
	return -1;
}

int
err_oom(struct err *e)
{
	return err_set(e, EX_OSERR, "out of memory");
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char head[ERR_MSG_MAX], old[ERR_MSG_MAX];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	/* Truncation is acceptable: the message is one line for a person. */
	if (snprintf(e->msg, sizeof e->msg, "%s: %s", head, old) < 0)
		e->msg[0] = '\0';
	err_one_line(e);
	return -1;
}

int
buf_grow(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if ((b->cap - b->len <= n || b->data == NULL) && buf_grow(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	/* Byte-at-a-time writers (HTML to text, QP) call this most: skip buf_grow when it fits. */
	if (b->len + 2 > b->cap && buf_grow(b, 1) < 0)
		return -1;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || buf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *
buf_steal(struct buf *b)
{
	char *s = b->data;

	if (s == NULL)
		s = str_dup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

const char *
buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

int
strv_push_owned(struct strv *sv, char *s)
{
	char **v;
	size_t cap;

	if (s == NULL)
		return -1;
	if (sv->n == sv->cap) {
		cap = sv->cap ? sv->cap * 2 : 8;
		v = realloc(sv->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

int
strv_push(struct strv *sv, const char *s)
{
	char *copy = str_dup(s);

	if (copy == NULL || strv_push_owned(sv, copy) < 0) {
		free(copy);
		return -1;
	}
	return 0;
}

int
strv_contains_icase(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (str_ieq(sv->v[i], s))
			return 1;
	return 0;
}

void
strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int
buf_read_file(struct buf *b, const char *path, size_t max)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t start = b->len, n;
	struct stat st;
	int saved, rc = -1;

	if (fp == NULL)
		return -1;
	errno = 0; /* a read error keeps fread's own reason (EISDIR for a folder) */
	/* One allocation of the right size: feeds are read whole. */
	if (fstat(fileno(fp), &st) == 0 && st.st_size > 0 && (size_t)st.st_size <= max &&
	    buf_grow(b, (size_t)st.st_size) < 0)
		goto out;
	for (;;) {
		if (b->cap - b->len < 2 && buf_grow(b, 65536) < 0)
			goto out;
		n = fread(b->data + b->len, 1, b->cap - b->len - 1, fp);
		if (n == 0)
			break;
		b->len += n;
		b->data[b->len] = '\0';
		if (b->len - start > max) {
			errno = EFBIG;
			goto out;
		}
	}
	if (ferror(fp)) {
		if (errno == 0)
			errno = EIO;
		goto out;
	}
	rc = buf_add(b, "", 0); /* terminated even when empty */
out:
	saved = errno;
	if (fp != stdin)
		fclose(fp);
	errno = saved;
	return rc;
}

char *
path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return str_dup(".");
	if (slash == path)
		return str_dup("/");
	return str_ndup(path, (size_t)(slash - path));
}

void
random_hex(char *dst, size_t nbytes)
{
	unsigned char r[32];
	size_t i, got = 0;
	ssize_t k;
	struct timespec ts;

	if (nbytes > sizeof r)
		nbytes = sizeof r;
	while (got < nbytes) {
		k = getrandom(r + got, nbytes - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (got < nbytes) {
		/* no entropy source: still unique enough per process */
		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = got; i < nbytes; i++)
			r[i] = (unsigned char)((uint64_t)ts.tv_nsec >> (i % 4 * 8) ^
			                       (unsigned)getpid() >> (i % 2 * 8) ^ i);
	}
	for (i = 0; i < nbytes; i++) {
		dst[2 * i] = "0123456789abcdef"[r[i] >> 4];
		dst[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	dst[2 * nbytes] = '\0';
}

char *
str_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
str_ndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
str_printf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

char *
str_trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

void
str_squeeze(char *s)
{
	char *o = s;
	int sp = 0;

	for (char *p = s; *p; p++) {
		if (isspace((unsigned char)*p)) {
			sp = o != s;
			continue;
		}
		if (sp)
			*o++ = ' ';
		sp = 0;
		*o++ = *p;
	}
	*o = '\0';
}

int
str_empty(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
str_ieq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	return *a == *b;
}

int
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Shortest form only: no overlongs, no surrogates, nothing past U+10FFFF. */
size_t
utf8_len(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))
			return 0;
		return 3;
	}
	if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
		    (p[3] & 0xC0) != 0x80)
			return 0;
		if ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

size_t
ctl_len(const unsigned char *p, size_t n)
{
	if (p[0] == '\t' || p[0] == '\n' || (p[0] == '\r' && n > 1 && p[1] == '\n'))
		return 0;
	if (p[0] < 0x20)
		return 1;
	if (p[0] == 0x7f)
		return 1;
	return p[0] == 0xc2 && n > 1 && p[1] >= 0x80 && p[1] <= 0x9f ? 2 : 0;
}

char *
str_strip_controls(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;
	size_t n = strlen(s), k;

	while (*r != '\0') {
		if ((k = ctl_len(r, n)) > 0) {
			r += k;
			n -= k;
			continue;
		}
		*w++ = *r++;
		n--;
	}
	*w = '\0';
	return s;
}

int
fputs_clean(const char *s, FILE *f)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		size_t run = 0, k;

		while (run < n && (p[run] >= 0x20 || p[run] == '\t' || p[run] == '\n') &&
		       p[run] != 0x7f && p[run] != 0xc2)
			run++;
		if (run > 0 && fwrite(p, 1, run, f) != run)
			return EOF;
		p += run;
		n -= run;
		if (n == 0)
			break;
		k = ctl_len(p, n);
		if (k == 0) {
			if (fputc(*p, f) == EOF)
				return EOF;
			k = 1;
		}
		p += k;
		n -= k;
	}
	return 0;
}

int
buf_add_printable(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		size_t l = utf8_len(p, n);
		/* Controls (ctl_len's, and tab and newline too) and what is not UTF-8: escaped. */
		int raw = l > 0 && ctl_len(p, n) == 0 && *p != '\t' && *p != '\n' && *p != '\r';

		if (!raw)
			l = 1;
		if ((raw ? buf_add(b, p, l) : buf_printf(b, "\\x%02X", *p)) < 0)
			return -1;
		p += l;
		n -= l;
	}
	return 0;
}

int
buf_add_html_escaped(struct buf *b, const char *s, size_t n, enum html_esc quotes)
{
	static const char *const ref[256] = {
	    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
	};
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		const char *r = ref[(unsigned char)s[i]];

		if (r == NULL || (s[i] == '\'' && quotes != HTML_ESC_APOS))
			continue;
		if (buf_add(b, s + run, i - run) < 0 || buf_adds(b, r) < 0)
			return -1;
		run = i + 1;
	}
	return buf_add(b, s + run, n - run);
}

uint64_t
hash64(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 1469598103934665603ULL;

	while (n--) {
		h ^= *c++;
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t
hash64_str(const char *s)
{
	return hash64(s, strlen(s));
}

const char *
temp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir != NULL && dir[0] != '\0' ? dir : "/tmp";
}

FILE *
temp_file(const char *what, struct err *e)
{
	const char *dir = temp_dir();
	char *path;
	FILE *fp = NULL;
	int fd;

	if ((path = str_printf("%s/tidings-%s.XXXXXX", dir, what)) == NULL) {
		err_oom(e);
		return NULL;
	}
	if ((fd = mkstemp(path)) < 0) {
		err_set(e, EX_CANTCREAT, "%s: cannot make a temporary file for the %s: %s", dir,
		        what, strerror(errno));
	} else {
		unlink(path);
		if ((fp = fdopen(fd, "w+")) == NULL) {
			err_set(e, EX_OSERR, "%s: %s", what, strerror(errno));
			close(fd);
		}
	}
	free(path);
	return fp;
}

int
file_copy(FILE *fp, off_t off, size_t n, FILE *out)
{
	char chunk[1 << 16];
	size_t at = 0;

	if (fflush(fp) != 0)
		return -1;
	while (at < n) {
		size_t want = n - at < sizeof chunk ? n - at : sizeof chunk;
		ssize_t got = pread(fileno(fp), chunk, want, off + (off_t)at);

		if (got <= 0) {
			if (got == 0)
				errno = EIO;
			return -1;
		}
		if (fwrite(chunk, 1, (size_t)got, out) != (size_t)got)
			return -1;
		at += (size_t)got;
	}
	return 0;
}

int
pct_escaped(unsigned char c)
{
	static const uint64_t map[4] = {0xffffffffULL | 1ULL << '%', 1ULL << (0x7f - 64), 0, 0};

	return (int)(map[c >> 6] >> (c & 63) & 1);
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode %XX in place; the new length, or -1 on a bad or NUL escape. */
long
pct_decode(char *s, size_t n)
{
	char *w = s, *r = s, *end = s + n, *pct;

	if ((pct = memchr(s, '%', n)) == NULL)
		return (long)n;
	w = r = pct;
	while (r < end) {
		if (*r != '%') {
			*w++ = *r++;
			continue;
		}
		int hi, lo;

		if (end - r < 3 || (hi = hexval((unsigned char)r[1])) < 0 ||
		    (lo = hexval((unsigned char)r[2])) < 0 || (hi | lo) == 0)
			return -1;
		*w++ = (char)(hi << 4 | lo);
		r += 3;
	}
	*w = '\0';
	return (long)(w - s);
}

int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	/* Some file systems cannot fsync a folder; the rename is done anyway. */
	if (rc < 0 && (errno == EINVAL || errno == EROFS))
		rc = 0;
	close(fd);
	return rc;
}

int
fsync_dir_of_file(const char *path)
{
	char *dir = path_dir(path);
	int rc = dir != NULL ? fsync_dir(dir) : -1;

	free(dir);
	return rc;
}
