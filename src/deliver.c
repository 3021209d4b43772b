/*
 * deliver: SMTP (src/smtp.c, over libcurl), or mbox / maildir / stdout
 * files.
 */
#include "deliver.h"
#include "sendmail.h"
#include "smtp.h"

#include <openssl/ssl.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024) /* message text read, sent or written per step */

/* A maildir file's name: time.Ppid_Rrandom.host */
#define HOST_MAX         256              /* the host's name */
#define NAME_RANDOM      8                /* random bytes, in hex */
#define MAILDIR_NAME_MAX (HOST_MAX + 144) /* the whole name */

void
outmsg_detail(struct outmsg *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->detail, sizeof m->detail, fmt, ap);
	va_end(ap);
}

/* ---- messages written while others are delivered ---- */

int
outgate_init(struct outgate *g)
{
	memset(g, 0, sizeof *g);
	if (pthread_mutex_init(&g->lock, NULL) != 0)
		return -1;
	if (pthread_cond_init(&g->published, NULL) != 0) {
		pthread_mutex_destroy(&g->lock);
		return -1;
	}
	return 0;
}

void
outgate_destroy(struct outgate *g)
{
	pthread_cond_destroy(&g->published);
	pthread_mutex_destroy(&g->lock);
}

/* The gate changed: wake whoever waits on it (with its lock held). */
static void
changed(struct outgate *g)
{
	pthread_cond_broadcast(&g->published);
	if (g->wake != NULL)
		g->wake(g->wake_arg);
}

void
outgate_publish(struct outgate *g, struct outmsg *m, off_t offset, size_t len)
{
	pthread_mutex_lock(&g->lock);
	m->offset = offset;
	m->len = len;
	g->written = m->seq + 1;
	changed(g);
	pthread_mutex_unlock(&g->lock);
}

void
outgate_close(struct outgate *g)
{
	pthread_mutex_lock(&g->lock);
	g->closed = 1;
	changed(g);
	pthread_mutex_unlock(&g->lock);
}

void
outgate_on_change(struct outgate *g, void (*wake)(void *arg), void *arg)
{
	pthread_mutex_lock(&g->lock);
	g->wake = wake;
	g->wake_arg = arg;
	pthread_mutex_unlock(&g->lock);
}

/* With g's lock held. */
static enum outmsg_state
state_of(const struct outgate *g, const struct outmsg *m)
{
	if (m->seq < g->written)
		return m->len > 0 ? OUTMSG_WRITTEN : OUTMSG_NEVER; /* 0 bytes: passed over */
	return g->closed ? OUTMSG_NEVER : OUTMSG_NOT_YET;
}

static enum outmsg_state
wait_for(struct outmsg *m, int block)
{
	struct outgate *g = m->gate;
	enum outmsg_state s;

	if (g == NULL)
		return OUTMSG_WRITTEN;
	pthread_mutex_lock(&g->lock);
	while ((s = state_of(g, m)) == OUTMSG_NOT_YET && block)
		pthread_cond_wait(&g->published, &g->lock);
	pthread_mutex_unlock(&g->lock);
	return s;
}

int
outmsg_wait(struct outmsg *m)
{
	if (wait_for(m, 1) == OUTMSG_WRITTEN)
		return 0;
	outmsg_not_sent(m, 1, OUTMSG_UNWRITTEN);
	return -1;
}

enum outmsg_state
outmsg_state(struct outmsg *m)
{
	return wait_for(m, 0);
}

size_t
outmsg_wait_all(struct outmsg *msgs, size_t n)
{
	size_t written = 0;

	for (size_t i = 0; i < n; i++)
		written += outmsg_wait(&msgs[i]) == 0;
	return written;
}

/* ---- the message text, a piece at a time, from its file ---- */

int
delivery_exit(enum delivery_status s)
{
	return s == DELIVERY_TEMPFAIL   ? EX_TEMPFAIL
	       : s == DELIVERY_PERMFAIL ? EX_UNAVAILABLE
	                                : EX_OK;
}

int
outmsg_accepted(struct outmsg *m)
{
	m->status = DELIVERY_ACCEPTED;
	return m->accepted != NULL ? m->accepted(m, m->arg) : 0;
}

void
outmsg_not_sent(struct outmsg *msgs, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		msgs[i].status = DELIVERY_PENDING;
		outmsg_detail(&msgs[i], "%s", why);
	}
}

void
outmsg_retry_later(struct outmsg *msgs, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++)
		if (outmsg_state(&msgs[i]) != OUTMSG_NEVER) {
			msgs[i].status = DELIVERY_TEMPFAIL;
			outmsg_detail(&msgs[i], "%s", why);
		}
}

ssize_t
outmsg_piece(const struct outmsg *m, size_t *pos, char *buf, size_t max, struct err *e)
{
	size_t want = m->len - *pos;
	ssize_t got;

	if (want > max)
		want = max;
	if (want == 0)
		return 0;
	do
		got = pread(fileno(m->file), buf, want, m->offset + (off_t)*pos);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return err_set(e, EX_IOERR, "cannot read the message: %s", strerror(errno));
	if (got == 0)
		return err_set(e, EX_IOERR,
		               "cannot read the message: its file "
		               "ends at byte %zu of %zu",
		               *pos, m->len);
	*pos += (size_t)got;
	return got;
}

/* ---- files ---- */

/*
 * Where the stored form of messages goes (an fd, or stdout's FILE), with
 * the buffers reused from one message to the next: memory is a chunk of
 * output plus the longest line, however large the message.
 */
struct dest {
	int fd;
	FILE *fp;         /* when not NULL, instead of fd */
	int mbox;         /* mboxrd: From_ line, ">From " quoting */
	const char *path; /* for errors */
	struct buf out;   /* converted text not yet written */
	struct buf line;  /* a line the last piece did not finish */
	char *rbuf;       /* CHUNK bytes read from a message's file */
};

enum text_result {
	TEXT_OK,
	TEXT_NOMEM, /* e says so */
	TEXT_READ,  /* e says why */
	TEXT_WRITE, /* errno says why */
};

static void
dest_init(struct dest *d, int fd, FILE *fp, int mbox)
{
	memset(d, 0, sizeof *d);
	d->fd = fd;
	d->fp = fp;
	d->mbox = mbox;
}

static void
dest_free(struct dest *d)
{
	buf_free(&d->out);
	buf_free(&d->line);
	free(d->rbuf);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write out what is waiting once it is at least least bytes. */
static int
dest_flush(struct dest *d, size_t least)
{
	size_t n = d->out.len;

	if (n == 0 || n < least)
		return 0;
	if (d->fp != NULL ? fwrite(d->out.data, 1, n, d->fp) != n
	                  : write_all(d->fd, d->out.data, n) != 0)
		return -1;
	buf_reset(&d->out);
	return 0;
}

/* One line without its LF: a CR before it dropped, quoted in mboxrd. */
static int
put_line(struct dest *d, const char *p, size_t l)
{
	size_t k;

	if (l > 0 && p[l - 1] == '\r')
		l--;
	if (d->mbox) {
		for (k = 0; k < l && p[k] == '>'; k++)
			;
		if (l - k >= 5 && memcmp(p + k, "From ", 5) == 0 && buf_addc(&d->out, '>') != 0)
			return -1;
	}
	if (buf_add(&d->out, p, l) != 0 || buf_addc(&d->out, '\n') != 0)
		return -1;
	return 0;
}

/* The lines a piece finishes; the one it does not waits in d->line. */
static int
put_piece(struct dest *d, const char *p, size_t n)
{
	const char *nl;
	size_t l;
	int r;

	while ((nl = memchr(p, '\n', n)) != NULL) {
		l = (size_t)(nl - p);
		if (d->line.len > 0) {
			r = buf_add(&d->line, p, l) != 0 ||
			    put_line(d, d->line.data, d->line.len) != 0;
			buf_reset(&d->line);
		} else
			r = put_line(d, p, l) != 0;
		if (r)
			return -1;
		p += l + 1;
		n -= l + 1;
	}
	return n > 0 ? buf_add(&d->line, p, n) : 0;
}

static int
mbox_from_line(const struct outmsg *m, struct buf *out)
{
	char date[32];
	struct tm tm;
	time_t now = time(NULL);

	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
	return buf_printf(out, "From %s %s\n",
	                  str_empty(m->envelope_from) ? "MAILER-DAEMON" : m->envelope_from, date);
}

/* The rest of the message once every piece is in. */
static int
put_end(struct dest *d)
{
	if (d->line.len > 0 && put_line(d, d->line.data, d->line.len) != 0)
		return -1;
	buf_reset(&d->line);
	return d->mbox ? buf_addc(&d->out, '\n') : 0;
}

static enum text_result
text_nomem(struct err *e)
{
	err_oom(e);
	return TEXT_NOMEM;
}

/*
 * The message as stored in mbox (mboxrd) or maildir, LF line ends,
 * converted and written a piece at a time.
 */
static enum text_result
file_text(const struct outmsg *m, struct dest *d, struct err *e)
{
	size_t pos = 0;
	ssize_t n;

	buf_reset(&d->out);
	buf_reset(&d->line);
	if (d->rbuf == NULL && (d->rbuf = malloc(CHUNK)) == NULL)
		return text_nomem(e);
	if (d->mbox && mbox_from_line(m, &d->out) != 0)
		return text_nomem(e);
	while ((n = outmsg_piece(m, &pos, d->rbuf, CHUNK, e)) > 0) {
		if (put_piece(d, d->rbuf, (size_t)n) != 0)
			return text_nomem(e);
		if (dest_flush(d, CHUNK) != 0)
			return TEXT_WRITE;
	}
	if (n < 0)
		return TEXT_READ;
	if (put_end(d) != 0)
		return text_nomem(e);
	return dest_flush(d, 0) != 0 ? TEXT_WRITE : TEXT_OK;
}

/*
 * Open an mbox for appending (and reading its end): never blocking (a FIFO would wait for a
 * reader forever), and only a regular file.
 */
static int
mbox_open(const char *path, struct stat *st, struct err *e)
{
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);

	if (fd < 0)
		/* ENXIO: a FIFO without a reader */
		return err_set(e, EX_CANTCREAT, "cannot open mbox %s: %s", path,
		               errno == ENXIO ? "not a regular file" : strerror(errno));
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || fcntl(fd, F_SETFL, O_APPEND) != 0) {
		err_set(e, EX_CANTCREAT, "cannot open mbox %s: %s", path,
		        S_ISREG(st->st_mode) ? strerror(errno) : "not a regular file");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * mboxrd ends every message with a blank line; a file that does not (an
 * editor's last line without its newline) would glue our From_ line onto
 * its last line, and readers would lose the message.  A failed first
 * message truncates back to before this ending too.
 */
static int
mbox_ending(int fd, off_t size)
{
	char tail[2] = {'\n', '\n'};
	size_t want = size >= 2 ? 2 : (size_t)size;

	if (size == 0)
		return 0;
	if (pread(fd, tail + 2 - want, want, size - (off_t)want) != (ssize_t)want)
		return -1;
	if (tail[1] != '\n')
		return write_all(fd, "\n\n", 2);
	return tail[0] != '\n' ? write_all(fd, "\n", 1) : 0;
}

/*
 * Append one message and fsync it; on failure truncate back to end.
 * Returns the text result; *end moves past the message when it is in.
 */
static enum text_result
mbox_one(int fd, struct outmsg *m, struct dest *d, off_t *end, struct err *e)
{
	enum text_result t = file_text(m, d, e);
	struct stat st;

	if (t == TEXT_OK && (fsync(fd) != 0 || fstat(fd, &st) != 0))
		t = TEXT_WRITE;
	if (t == TEXT_OK) {
		*end = st.st_size;
		return t;
	}
	if (t == TEXT_WRITE)
		err_set(e, EX_IOERR, "cannot write mbox %s: %s", d->path, strerror(errno));
	/* leave no half message behind */
	if (ftruncate(fd, *end) == 0)
		fsync(fd);
	return t;
}

/*
 * Append the messages one at a time, each fsynced before the next: a
 * failure keeps the ones before it and leaves nothing of itself.
 */
static int
deliver_mbox(const char *path, struct outmsg *msgs, size_t n, struct err *e)
{
	struct dest d;
	struct flock fl;
	struct stat st;
	off_t end;
	size_t i, done = 0;
	int fd, r = -1;

	if ((fd = mbox_open(path, &st, e)) < 0)
		return -1;
	dest_init(&d, fd, NULL, 1);
	d.path = path;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLKW, &fl) != 0 || flock(fd, LOCK_EX) != 0) {
		err_set(e, EX_IOERR, "cannot lock mbox %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		err_set(e, EX_IOERR, "cannot stat mbox %s: %s", path, strerror(errno));
		goto out;
	}
	end = st.st_size;
	if (mbox_ending(fd, end) != 0) {
		err_set(e, EX_IOERR, "cannot write mbox %s: %s", path, strerror(errno));
		if (ftruncate(fd, end) == 0)
			fsync(fd);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (outmsg_state(&msgs[i]) != OUTMSG_WRITTEN)
			continue; /* passed over, left as it is */
		if (mbox_one(fd, &msgs[i], &d, &end, e) != TEXT_OK) {
			if (done == 0)
				goto out;
			/* the earlier ones are in: report them, retry the rest */
			outmsg_retry_later(msgs + i, n - i, e->msg);
			break;
		}
		done++;
		if (outmsg_accepted(&msgs[i]) != 0) {
			outmsg_not_sent(msgs + i + 1, n - i - 1, OUTMSG_STOPPED);
			break;
		}
	}
	r = 0;
out:
	close(fd);
	dest_free(&d);
	return r;
}

/*
 * Messages go out one after the other; once one is out, a failure is
 * reported on the rest (a failed write may leave part of one behind).
 */
static int
deliver_stdout(struct outmsg *msgs, size_t n, struct err *e)
{
	struct dest d;
	enum text_result t;
	size_t i, done = 0;

	dest_init(&d, -1, stdout, 1);
	for (i = 0; i < n; i++) {
		if (outmsg_state(&msgs[i]) != OUTMSG_WRITTEN)
			continue; /* passed over, left as it is */
		t = file_text(&msgs[i], &d, e);
		if (t == TEXT_OK && fflush(stdout) != 0)
			t = TEXT_WRITE;
		done += t == TEXT_OK;
		if (t == TEXT_OK && outmsg_accepted(&msgs[i]) != 0) {
			outmsg_not_sent(msgs + i + 1, n - i - 1, OUTMSG_STOPPED);
			break;
		}
		if (t == TEXT_OK)
			continue;
		dest_free(&d);
		if (t == TEXT_NOMEM)
			return -1;
		if (done == 0)
			return t == TEXT_READ ? -1
			                      : err_set(e, EX_IOERR, "cannot write to stdout: %s",
			                                strerror(errno));
		outmsg_retry_later(msgs + i, n - i,
		                   t == TEXT_READ ? e->msg : "cannot write to stdout");
		return 0;
	}
	dest_free(&d);
	return 0;
}

static int
mkdir_ok(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* time.Ppid_Rrandom.host: unique per delivery (the maildir convention). */
static void
maildir_name(char *dst, size_t size)
{
	char host[HOST_MAX], r[2 * NAME_RANDOM + 1], *p;
	struct timeval tv;

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (p = host; *p != '\0'; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	random_hex(r, NAME_RANDOM);
	gettimeofday(&tv, NULL);
	snprintf(dst, size, "%lld.M%ldP%dR%s.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
	         (int)getpid(), r, host);
}

/* Write m into tmp/ and fsync it; the file is gone again on failure. */
static int
maildir_write(const char *tmp, struct outmsg *m, struct dest *d, struct err *e)
{
	enum text_result t;
	int fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, EX_CANTCREAT, "cannot create %s: %s", tmp, strerror(errno));
	d->fd = fd;
	t = file_text(m, d, e);
	if (t == TEXT_OK && fsync(fd) != 0)
		t = TEXT_WRITE;
	saved = errno;
	if (close(fd) != 0 && t == TEXT_OK) {
		t = TEXT_WRITE;
		saved = errno;
	}
	d->fd = -1;
	if (t == TEXT_OK)
		return 0;
	if (t == TEXT_WRITE)
		err_set(e, EX_IOERR, "cannot write %s: %s", tmp, strerror(saved));
	unlink(tmp);
	return -1;
}

/* 0: in; 1: in, but its hook said stop; -1: not in (e says why). */
static int
maildir_one(const char *dir, struct outmsg *m, struct dest *d, struct err *e)
{
	char name[MAILDIR_NAME_MAX], *tmp = NULL, *dst = NULL, *newdir = NULL;
	int r = -1;

	maildir_name(name, sizeof name);
	tmp = str_printf("%s/tmp/%s", dir, name);
	dst = str_printf("%s/new/%s", dir, name);
	newdir = str_printf("%s/new", dir);
	if (tmp == NULL || dst == NULL || newdir == NULL) {
		err_oom(e);
		goto out;
	}
	if (maildir_write(tmp, m, d, e) != 0)
		goto out;
	if (rename(tmp, dst) != 0 || fsync_dir(newdir) != 0) {
		err_set(e, EX_IOERR, "cannot move %s to new/: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	r = outmsg_accepted(m) != 0 ? 1 : 0;
out:
	free(tmp);
	free(dst);
	free(newdir);
	return r;
}

static int
maildir_dirs(const char *dir, struct err *e)
{
	static const char *const sub[] = {"tmp", "new", "cur"};
	char *p;
	size_t i;

	if (mkdir_ok(dir) != 0)
		return err_set(e, EX_CANTCREAT, "cannot create maildir %s: %s", dir,
		               strerror(errno));
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		if ((p = str_printf("%s/%s", dir, sub[i])) == NULL)
			return err_oom(e);
		if (mkdir_ok(p) != 0) {
			err_set(e, EX_CANTCREAT, "cannot create %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

static int
deliver_maildir(const char *dir, struct outmsg *msgs, size_t n, struct err *e)
{
	struct dest d;
	size_t i, done = 0;
	int r;

	if (maildir_dirs(dir, e) != 0)
		return -1;
	dest_init(&d, -1, NULL, 0);
	for (i = 0; i < n; i++) {
		if (outmsg_state(&msgs[i]) != OUTMSG_WRITTEN)
			continue; /* passed over, left as it is */
		r = maildir_one(dir, &msgs[i], &d, e);
		if (r > 0) {
			outmsg_not_sent(msgs + i + 1, n - i - 1, OUTMSG_STOPPED);
			break;
		}
		if (r == 0) {
			done++;
			continue;
		}
		if (done == 0) {
			dest_free(&d);
			return -1;
		}
		/* the earlier ones are in: report them, retry the rest */
		outmsg_retry_later(msgs + i, n - i, e->msg);
		break;
	}
	dest_free(&d);
	return 0;
}

int
deliver(const struct config *cfg, struct outmsg *msgs, size_t n, FILE *log, struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		msgs[i].status = DELIVERY_PENDING;
		msgs[i].detail[0] = '\0';
	}
	/*
	 * SMTP and sendmail send each message as it is written; a file is
	 * locked once all are (a reader must not wait on the writing).
	 */
	if (n == 0 || (cfg->deliver != DELIVER_SMTP && cfg->deliver != DELIVER_SENDMAIL &&
	               outmsg_wait_all(msgs, n) == 0))
		return 0;
	switch (cfg->deliver) {
	case DELIVER_SMTP: return smtp_deliver(&cfg->smtp, msgs, n, log, e);
	case DELIVER_MBOX: return deliver_mbox(cfg->deliver_path, msgs, n, e);
	case DELIVER_MAILDIR: return deliver_maildir(cfg->deliver_path, msgs, n, e);
	case DELIVER_STDOUT: return deliver_stdout(msgs, n, e);
	case DELIVER_SENDMAIL:
		return sendmail_deliver(cfg->sendmail.v, cfg->sendmail.n, cfg->smtp.timeout, msgs,
		                        n, log, e);
	}
	return err_set(e, EX_SOFTWARE, "unknown delivery kind");
}

int
deliver_ca_file_ok(const char *path)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok = ctx != NULL && SSL_CTX_load_verify_locations(ctx, path, NULL) == 1;

	SSL_CTX_free(ctx);
	return ok;
}
