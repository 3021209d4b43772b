/*
 * journal: the state proven writable before sending, and each accepted
 * digest made durable before the next one is sent.  See journal.h.
 *
 * STATE.journal is text: a header line, then groups of "item" records
 * (TAB-separated, fields escaped as in the state file), each group ended
 * by a "commit" line.  One group is one accepted digest; it is written
 * with one write() and fsynced.  A group without its commit line was cut
 * by a crash and is ignored.  A group of "feed" records (the state file's
 * own) is a run that changed nothing but its feeds' fetch records.
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#define JOURNAL_SUFFIX ".journal"
#define JOURNAL_HEADER "tidings-journal 2\n" /* 2: feed records too */
#define JOURNAL_V1     "tidings-journal 1\n" /* items only; read, and appended to */
/*
 * Feed records pile up in the journal while runs change nothing else: up
 * to 1/64 of the state file's size, at least 16 KB, at most 1 MB (a
 * record is 110-150 bytes: a 58.7 MB state of twenty feeds journals ~300
 * runs; a small state, whose save is cheap, a few), then the state is
 * saved whole.
 */
#define FEEDS_LIMIT_MIN ((off_t)16 << 10)
#define FEEDS_LIMIT_MAX ((off_t)1 << 20)
#define JOURNAL_MAX     ((size_t)1 << 30)
#define PROBE_BLOCK     4096

struct journal {
	int fd;
	char *path;
	struct buf group; /* the records not yet committed */
};

static char *
journal_path(const char *state_path)
{
	return str_printf("%s" JOURNAL_SUFFIX, state_path);
}

/* Controls (TAB and LF among them), DEL and '%' become %XX: a record is one line. */
static int
put_field(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int rc = pct_escaped(*p) ? buf_printf(b, "%%%02X", *p) : buf_addc(b, (char)*p);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- before sending ---- */

/* Fill the file up to size (a real write, then the space reserved) and fsync it. */
static int
probe_file(int fd, off_t size)
{
	static const char block[PROBE_BLOCK];
	int rc;

	if (write(fd, block, sizeof block) != (ssize_t)sizeof block)
		return errno ? errno : ENOSPC;
	if (size > (off_t)sizeof block && (rc = posix_fallocate(fd, 0, size)) != 0)
		return rc;
	return fsync(fd) != 0 ? errno : 0;
}

int
journal_preflight(const char *link_path, size_t room, struct err *e)
{
	struct stat st;
	off_t size = (off_t)room;
	char *tmp, *state_path;
	int fd, rc;

	if (state_target(link_path, &state_path, e) < 0)
		return -1;
	if (state_mkdir_parent(state_path, e) < 0) {
		free(state_path);
		return -1;
	}
	if (stat(state_path, &st) == 0)
		size += st.st_size;
	tmp = str_printf("%s.tmp.XXXXXX", state_path);
	free(state_path);
	if (tmp == NULL)
		return err_oom(e);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		err_set(e, EX_CANTCREAT, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	rc = probe_file(fd, size);
	close(fd);
	unlink(tmp);
	if (rc != 0)
		err_set(e, EX_IOERR, "cannot write %s: %s", tmp, strerror(rc));
	free(tmp);
	return rc != 0 ? -1 : 0;
}

/* ---- replay ---- */

struct replay {
	const char *path;
	struct state *st;
	struct strv group; /* sub, rcpt, feed, id, time: five strings a record */
	struct strv feeds; /* the group's feed records, whole lines */
	size_t *feed_line; /* and where each is */
	size_t line;
};

static int
corrupt(const struct replay *r, const char *why, struct err *e)
{
	return err_set(e, EX_IOERR, "%s:%zu: corrupt journal: %s", r->path, r->line, why);
}

static int
replay_commit(struct replay *r, struct err *e)
{
	for (size_t i = 0; i < r->feeds.n; i++)
		if (state_replay_feed(r->st, r->path, r->feed_line[i], r->feeds.v[i], e) < 0)
			return -1;
	strv_free(&r->feeds);
	if (r->group.n > 0 && state_load_items(r->st, e) < 0)
		return -1;
	for (size_t i = 0; i + 4 < r->group.n; i += 5) {
		const char *rcpt = strcmp(r->group.v[i + 1], "-") == 0 ? NULL : r->group.v[i + 1];

		if (state_record_to(r->st, r->group.v[i], rcpt, r->group.v[i + 2],
		                    r->group.v[i + 3],
		                    (time_t)strtoll(r->group.v[i + 4], NULL, 10)) < 0)
			return err_oom(e);
	}
	strv_free(&r->group);
	return 0;
}

/* "item", SUB, RCPT ("-": the subscription's), FEED-URL, ID, TIME: TAB-separated. */
static int
replay_item(struct replay *r, char *line, struct err *e)
{
	char *f[6], *p = line;
	size_t n = 0;

	for (; n < 6 && p != NULL; n++) {
		f[n] = p;
		if ((p = strchr(p, '\t')) != NULL)
			*p++ = '\0';
	}
	if (n != 6 || p != NULL || strcmp(f[0], "item") != 0)
		return corrupt(r, "an item record has six fields", e);
	if (f[5][0] == '\0' || strspn(f[5], "0123456789") != strlen(f[5]))
		return corrupt(r, "bad time (seconds since 1970)", e);
	for (size_t i = 1; i < 6; i++) {
		if (pct_decode(f[i], strlen(f[i])) < 0)
			return corrupt(r, "bad %XX escape", e);
		if (strv_push(&r->group, f[i]) < 0)
			return err_oom(e);
	}
	return 0;
}

/* A feed record: checked and applied at its group's commit, like the items. */
static int
replay_feed(struct replay *r, char *line, struct err *e)
{
	size_t *at = realloc(r->feed_line, (r->feeds.n + 1) * sizeof *at);

	if (at == NULL)
		return err_oom(e);
	r->feed_line = at;
	at[r->feeds.n] = r->line;
	return strv_push(&r->feeds, line) < 0 ? err_oom(e) : 0;
}

static int
is_header(const char *line)
{
	return strncmp(line, JOURNAL_HEADER, strlen(JOURNAL_HEADER) - 1) == 0 ||
	       strncmp(line, JOURNAL_V1, strlen(JOURNAL_V1) - 1) == 0;
}

static int
replay_line(struct replay *r, char *line, struct err *e)
{
	if (r->line == 1)
		return is_header(line) && strlen(line) == strlen(JOURNAL_HEADER) - 1
		           ? 0
		           : corrupt(r, "not a journal", e);
	if (strcmp(line, "commit") == 0)
		return replay_commit(r, e);
	if (strncmp(line, "feed\t", 5) == 0)
		return replay_feed(r, line, e);
	return replay_item(r, line, e);
}

int
journal_replay(const char *state_path, struct state *st, struct err *e)
{
	struct replay r = {.st = st, .group = STRV_INIT, .feeds = STRV_INIT};
	struct buf b = BUF_INIT;
	char *path = journal_path(state_path), *p, *nl;
	int rc = 0;

	if (path == NULL)
		return err_oom(e);
	r.path = path;
	if (buf_read_file(&b, path, JOURNAL_MAX) < 0) {
		rc = errno == ENOENT
		         ? 0
		         : err_set(e, EX_IOERR, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (b.len > 0 && memchr(b.data, '\0', b.len) != NULL) {
		rc = err_set(e, EX_IOERR, "%s: corrupt journal: a NUL byte", path);
		goto out;
	}
	/* A last line without its newline, and a group without its commit, were cut by a crash. */
	for (p = b.data; rc == 0 && p != NULL && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		r.line++;
		rc = replay_line(&r, p, e);
	}
out:
	strv_free(&r.group);
	strv_free(&r.feeds);
	free(r.feed_line);
	buf_free(&b);
	free(path);
	return rc;
}

/* ---- while sending ---- */

/*
 * How much of the journal in b is whole: up to its last commit line (or
 * its header).  What follows was cut by a crash; new groups must not be
 * glued onto it.
 */
static size_t
committed_length(const struct buf *b)
{
	static const char commit[] = "\ncommit\n";
	size_t hlen = strlen(JOURNAL_HEADER);
	const char *p;

	if (b->len < hlen ||
	    (memcmp(b->data, JOURNAL_HEADER, hlen) != 0 && memcmp(b->data, JOURNAL_V1, hlen) != 0))
		return 0;
	for (p = b->data + b->len - 1; p >= b->data + hlen - 1; p--)
		if (*p == '\n' && (size_t)(b->data + b->len - p) >= sizeof commit - 1 &&
		    memcmp(p, commit, sizeof commit - 1) == 0)
			return (size_t)(p - b->data) + sizeof commit - 1;
	return hlen;
}

int
journal_open(const char *state_path, struct journal **out, struct err *e)
{
	struct journal *j = calloc(1, sizeof *j);
	struct buf old = BUF_INIT;
	size_t keep;

	*out = NULL;
	if (j == NULL || (j->path = journal_path(state_path)) == NULL) {
		free(j);
		return err_oom(e);
	}
	j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0 || (buf_read_file(&old, j->path, JOURNAL_MAX) < 0 && errno != ENOENT) ||
	    ftruncate(j->fd, (off_t)(keep = committed_length(&old))) != 0 ||
	    lseek(j->fd, 0, SEEK_END) < 0 ||
	    (keep == 0 && buf_adds(&j->group, JOURNAL_HEADER) < 0)) {
		err_set(e, EX_CANTCREAT, "cannot open %s: %s", j->path, strerror(errno));
		buf_free(&old);
		journal_close(j);
		return -1;
	}
	/* Version 2 reads version 1: upgrade the header before anything of 2 is added. */
	if (keep > 0 && memcmp(old.data, JOURNAL_V1, strlen(JOURNAL_V1)) == 0 &&
	    pwrite(j->fd, JOURNAL_HEADER, strlen(JOURNAL_HEADER), 0) !=
	        (ssize_t)strlen(JOURNAL_HEADER)) {
		err_set(e, EX_CANTCREAT, "cannot write %s: %s", j->path, strerror(errno));
		buf_free(&old);
		journal_close(j);
		return -1;
	}
	buf_free(&old);
	*out = j;
	return 0;
}

int
journal_add(struct journal *j, const char *sub, const char *rcpt, const char *feed_url,
            const char *id, time_t when)
{
	struct buf *b = &j->group;

	if (buf_adds(b, "item\t") < 0 || put_field(b, sub) < 0 || buf_addc(b, '\t') < 0 ||
	    put_field(b, rcpt != NULL ? rcpt : "-") < 0 || buf_addc(b, '\t') < 0 ||
	    put_field(b, feed_url) < 0 || buf_addc(b, '\t') < 0 || put_field(b, id) < 0)
		return -1;
	return buf_printf(b, "\t%" PRId64 "\n", (int64_t)when);
}

/* Write out what the group holds so far (a new journal's header, the records). */
static int
write_group(struct journal *j, struct err *e)
{
	const char *p;
	size_t left;

	for (p = j->group.data, left = j->group.len; left > 0;) {
		ssize_t w = write(j->fd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_set(e, EX_IOERR, "cannot write %s: %s", j->path,
			               w < 0 ? strerror(errno) : "no progress");
		p += w;
		left -= (size_t)w;
	}
	buf_reset(&j->group);
	return 0;
}

int
journal_commit(struct journal *j, struct err *e)
{
	if (buf_adds(&j->group, "commit\n") < 0)
		return err_oom(e);
	if (write_group(j, e) < 0)
		return -1;
	if (fsync(j->fd) != 0)
		return err_set(e, EX_IOERR, "cannot write %s: %s", j->path, strerror(errno));
	return 0;
}

/* How much feed records the journal may hold before the state is saved whole. */
static off_t
feeds_limit(const char *state_path)
{
	struct stat sb;
	off_t limit;

	if (stat(state_path, &sb) != 0)
		return 0;
	limit = sb.st_size / 64;
	return limit < FEEDS_LIMIT_MIN   ? FEEDS_LIMIT_MIN
	       : limit > FEEDS_LIMIT_MAX ? FEEDS_LIMIT_MAX
	                                 : limit;
}

int
journal_save_feeds(const char *state_path, struct state *st, struct err *e)
{
	struct journal *j;
	struct stat sb;
	off_t limit = feeds_limit(state_path);
	int rc = 1;

	if (limit == 0 || journal_open(state_path, &j, e) < 0)
		return limit == 0 ? 0 : -1;
	if (fstat(j->fd, &sb) != 0 || sb.st_size > limit)
		rc = 0;                 /* full enough: the caller saves the state whole */
	else if (write_group(j, e) < 0) /* a new journal's header */
		rc = -1;
	else if (state_write_changed_feeds(st, j->fd, e) < 0)
		rc = err_prefix(e, "cannot write %s", j->path);
	else if (journal_commit(j, e) < 0)
		rc = -1;
	else
		state_feeds_saved(st); /* durable now */
	journal_close(j);
	return rc;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	buf_free(&j->group);
	free(j->path);
	free(j);
}

int
journal_remove(const char *state_path, struct err *e)
{
	char *path = journal_path(state_path);
	int rc = 0;

	if (path == NULL)
		return err_oom(e);
	if (unlink(path) != 0 && errno != ENOENT)
		rc = err_set(e, EX_IOERR, "cannot remove %s: %s", path, strerror(errno));
	free(path);
	return rc;
}
