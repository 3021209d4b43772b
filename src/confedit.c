/*
 * confedit: `tidings add NAME URL [--tags a,b] [--title T]` and
 * `tidings remove NAME`, see confedit.h.
 *
 * The file is never written until its new text loads: the new text goes
 * to a temporary file beside the config (same folder, so relative paths
 * and includes resolve the same), config_load() checks it, and only then
 * is it fsynced and renamed over the old one.  A refusal leaves the file
 * untouched and says why in one line.
 */
#include "confedit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

#define CONFIG_TEXT_MAX (1024 * 1024) /* config_load's own limit */

/* ---- the text: a lexer just good enough to find sections ---- */

enum tok { T_EOF, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_OTHER };

struct lexer {
	const char *s;
	size_t len, pos;
	size_t start, end; /* the last token */
};

/* Past white space and libconfuse's three kinds of comment. */
static void
skip_blank(struct lexer *x)
{
	while (x->pos < x->len) {
		const char *p = x->s + x->pos;
		size_t left = x->len - x->pos;

		if (isspace((unsigned char)*p)) {
			x->pos++;
		} else if (*p == '#' || (left > 1 && p[0] == '/' && p[1] == '/')) {
			while (x->pos < x->len && x->s[x->pos] != '\n')
				x->pos++;
		} else if (left > 1 && p[0] == '/' && p[1] == '*') {
			const char *close = NULL;

			for (size_t i = 2; i + 1 < left && close == NULL; i++)
				if (p[i] == '*' && p[i + 1] == '/')
					close = p + i + 2;
			x->pos = close ? (size_t)(close - x->s) : x->len;
		} else {
			return;
		}
	}
}

static int
word_char(char c)
{
	return !isspace((unsigned char)c) && strchr("{}=,()\"'#", c) == NULL;
}

static enum tok
next(struct lexer *x)
{
	char c;

	skip_blank(x);
	x->start = x->pos;
	if (x->pos >= x->len)
		return T_EOF;
	c = x->s[x->pos++];
	if (c == '"' || c == '\'') {
		while (x->pos < x->len && x->s[x->pos] != c)
			x->pos += x->s[x->pos] == '\\' && x->pos + 1 < x->len ? 2 : 1;
		x->pos += x->pos < x->len;
		x->end = x->pos;
		return T_STRING;
	}
	x->end = x->pos;
	if (c == '{' || c == '}')
		return c == '{' ? T_LBRACE : T_RBRACE;
	if (!word_char(c))
		return T_OTHER;
	while (x->pos < x->len && word_char(x->s[x->pos]))
		x->pos++;
	x->end = x->pos;
	return T_WORD;
}

/* Whether the last token (a word or a quoted string) spells name. */
static int
token_is(const struct lexer *x, enum tok t, const char *name)
{
	const char *p = x->s + x->start, *end = x->s + x->end;

	if (t == T_WORD)
		return (size_t)(end - p) == strlen(name) && memcmp(p, name, strlen(name)) == 0;
	if (t != T_STRING || end - p < 2)
		return 0;
	for (p++, end--; p < end; p++, name++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		if (*p != *name)
			return 0;
	}
	return *name == '\0';
}

/* [*start, *end) of the top-level section `feed NAME {...}`, or -1. */
static int
find_feed(const char *text, size_t len, const char *name, size_t *start, size_t *end)
{
	struct lexer x = {text, len, 0, 0, 0};
	int depth = 0;
	enum tok t;

	while ((t = next(&x)) != T_EOF) {
		size_t at = x.start;

		if (t == T_LBRACE || t == T_RBRACE) {
			depth += t == T_LBRACE ? 1 : depth > 0 ? -1 : 0;
			continue;
		}
		if (depth != 0 || !token_is(&x, t, "feed"))
			continue;
		t = next(&x);
		if (!token_is(&x, t, name)) {
			if (t == T_LBRACE)
				depth++;
			continue;
		}
		if ((t = next(&x)) != T_LBRACE)
			continue;
		for (depth = 1; depth > 0 && (t = next(&x)) != T_EOF;)
			depth += t == T_LBRACE ? 1 : t == T_RBRACE ? -1 : 0;
		if (depth != 0)
			return -1;
		*start = at;
		*end = x.end;
		return 0;
	}
	return -1;
}

int
confedit_remove(const char *text, size_t len, const char *name, struct buf *out, struct err *e)
{
	size_t start, end, a, b;

	if (find_feed(text, len, name, &start, &end) < 0)
		return err_set(e, EX_DATAERR, "no section feed %s { ... } at the top level", name);
	/* Whole lines when the section has them to itself. */
	for (a = start; a > 0 && (text[a - 1] == ' ' || text[a - 1] == '\t'); a--)
		;
	for (b = end; b < len && (text[b] == ' ' || text[b] == '\t' || text[b] == '\r'); b++)
		;
	if ((a == 0 || text[a - 1] == '\n') && (b == len || text[b] == '\n')) {
		start = a;
		end = b < len ? b + 1 : b;
		/* Between blank lines (or last, after one, as `add` puts it): one blank goes too.
		 */
		if (start >= 1 && (start == 1 || text[start - 2] == '\n') &&
		    text[start - 1] == '\n' && (end == len || text[end] == '\n'))
			start--;
	}
	buf_reset(out);
	if (buf_add(out, text, start) < 0 || buf_add(out, text + end, len - end) < 0)
		return err_oom(e);
	return 0;
}

/* A libconfuse string: bare when it is a plain word, else double-quoted. */
static int
add_string(struct buf *b, const char *s, int bare_ok)
{
	int bare = bare_ok && *s != '\0';

	for (const char *p = s; bare && *p; p++)
		bare = isalnum((unsigned char)*p) || strchr("_-.", *p) != NULL;
	if (bare)
		return buf_adds(b, s);
	if (buf_addc(b, '"') < 0)
		return -1;
	for (; *s; s++)
		if ((strchr("\\\"$", *s) && buf_addc(b, '\\') < 0) || buf_addc(b, *s) < 0)
			return -1;
	return buf_addc(b, '"');
}

static int
add_tags(struct buf *b, const char *tags)
{
	int n = 0;

	if (buf_adds(b, "\ttags  = {") < 0)
		return -1;
	while (*tags) {
		size_t k = strcspn(tags, ",");
		char *tag = str_ndup(tags, k);
		char *trimmed;
		int rc;

		if (tag == NULL)
			return -1;
		trimmed = str_trim(tag);
		rc = *trimmed == '\0'                    ? 0
		     : (n++ ? buf_adds(b, ", ") : 0) < 0 ? -1
		                                         : add_string(b, trimmed, 0);
		free(tag);
		if (rc < 0)
			return -1;
		tags += k + (tags[k] == ',');
	}
	return buf_adds(b, "}\n");
}

int
confedit_add(const char *text, size_t len, const struct feed_spec *spec, struct buf *out,
             struct err *e)
{
	int rc;

	buf_reset(out);
	rc = buf_add(out, text, len);
	if (rc == 0 && len > 0)
		rc = buf_adds(out, text[len - 1] == '\n' ? "\n" : "\n\n");
	rc |= buf_adds(out, "feed ") | add_string(out, spec->name, 1) | buf_adds(out, " {\n");
	rc |= buf_adds(out, "\turl   = ") | add_string(out, spec->url, 0) | buf_addc(out, '\n');
	if (spec->title != NULL)
		rc |= buf_adds(out, "\ttitle = ") | add_string(out, spec->title, 0) |
		      buf_addc(out, '\n');
	if (spec->tags != NULL)
		rc |= add_tags(out, spec->tags);
	rc |= buf_adds(out, "}\n");
	return rc < 0 ? err_oom(e) : 0;
}

/* ---- the file ---- */

/* data, fsynced, in a new file beside path with path's mode; its name in *tmp. */
static int
write_beside(const char *path, const char *data, size_t len, char **tmp, struct err *e)
{
	struct stat st;
	int fd;
	size_t done = 0;

	if (stat(path, &st) < 0)
		return err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
	if ((*tmp = str_printf("%s.XXXXXX", path)) == NULL)
		return err_oom(e);
	if ((fd = mkstemp(*tmp)) < 0) {
		err_set(e, EX_CANTCREAT, "%s: %s", *tmp, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done < len || fchmod(fd, st.st_mode & 07777) != 0 || fsync(fd) != 0) {
		err_set(e, EX_IOERR, "%s: %s", *tmp, strerror(errno));
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	if (close(fd) != 0) {
		err_set(e, EX_IOERR, "%s: %s", *tmp, strerror(errno));
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	return 0;
}

/*
 * The first problem config_load finds in the candidate, as a line about
 * the real file (the candidate has its lines, under another name).
 */
static void
first_problem(const char *diag, const char *tmp, const char *real, char *out, size_t size)
{
	size_t n = strcspn(diag, "\n"), tl = strlen(tmp);

	if (n == 0)
		snprintf(out, size, "%s does not load", real);
	else if (n > tl && strncmp(diag, tmp, tl) == 0)
		snprintf(out, size, "%s%.*s", real, (int)(n - tl), diag + tl);
	else
		snprintf(out, size, "%.*s", (int)n, diag);
}

/* Replace path by text once the config, with it, loads; else one line, nothing changed. */
static int
check_and_replace(const char *path, const struct buf *text, int check)
{
	char *tmp = NULL, *diag = NULL, line[ERR_MSG_MAX];
	size_t diaglen = 0;
	struct config cfg;
	struct err e = {0};
	FILE *mem;
	int rc;

	if (write_beside(path, text->data ? text->data : "", text->len, &tmp, &e) < 0) {
		fprintf(stderr, "tidings: %s\n", e.msg);
		return e.code;
	}
	if (check) {
		if ((mem = open_memstream(&diag, &diaglen)) == NULL) {
			unlink(tmp);
			free(tmp);
			fprintf(stderr, "tidings: out of memory\n");
			return EX_OSERR;
		}
		rc = config_load(tmp, &cfg, mem, &e);
		fclose(mem);
		if (rc == 0) {
			config_free(&cfg);
		} else {
			first_problem(diag ? diag : "", tmp, path, line, sizeof line);
			fprintf(stderr, "tidings: %s; %s left as it was\n", line, path);
			free(diag);
			unlink(tmp);
			free(tmp);
			return EX_DATAERR;
		}
		free(diag);
	}
	if (rename(tmp, path) != 0 || fsync_dir_of_file(path) < 0) {
		fprintf(stderr, "tidings: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return EX_IOERR;
	}
	free(tmp);
	return EX_OK;
}

/* The config, loaded; a broken one is refused: the edit could not be checked. */
static int
load_current(const struct cli *c, struct config *cfg)
{
	struct err e = {0};

	if (config_open(c->config_path, cfg, NULL, &e) == 0)
		return EX_OK;
	fprintf(stderr, "tidings: %s; fix it first ('tidings check' lists the problems)\n", e.msg);
	return e.code ? e.code : EX_CONFIG;
}

/* The file behind a path that may be a symbolic link: the link stays, its target changes. */
static char *
real_file(const char *path)
{
	char *r = realpath(path, NULL);

	return r ? r : str_dup(path);
}

static int
read_text(const char *path, struct buf *b)
{
	if (buf_read_file(b, path, CONFIG_TEXT_MAX) == 0)
		return EX_OK;
	fprintf(stderr, "tidings: %s: %s\n", path, strerror(errno));
	return EX_IOERR;
}

/* What the command line gives goes into the file as one line each: no control characters. */
static const char *
bad_operand(const struct feed_spec *spec)
{
	const char *const what[] = {"the name", "the URL", "--title", "--tags"};
	const char *const val[] = {spec->name, spec->url, spec->title, spec->tags};

	for (size_t i = 0; i < sizeof val / sizeof val[0]; i++)
		for (const char *p = val[i]; p && *p; p++)
			if (iscntrl((unsigned char)*p))
				return what[i];
	return *spec->name == '\0' ? "the name" : NULL;
}

int
cmd_add(const struct cli *c)
{
	struct feed_spec spec = {c->argv[0], c->argv[1], c->title, c->tags};
	struct buf old = BUF_INIT, text = BUF_INIT;
	const struct feed_conf *fc;
	struct config cfg;
	struct err e = {0};
	char *path;
	const char *bad = bad_operand(&spec);
	int rc;

	if (bad != NULL) {
		fprintf(stderr,
		        "tidings: add: %s is empty or holds a control character; nothing "
		        "changed\n",
		        bad);
		return EX_DATAERR;
	}
	if ((rc = load_current(c, &cfg)) != EX_OK)
		return rc;
	if ((fc = config_feed(&cfg, spec.name)) != NULL) {
		fprintf(stderr, "tidings: a feed named '%s' is already in %s:%d; nothing changed\n",
		        spec.name, fc->file, fc->line);
		config_free(&cfg);
		return EX_DATAERR;
	}
	if ((path = real_file(cfg.path)) == NULL)
		rc = EX_OSERR;
	else if ((rc = read_text(path, &old)) == EX_OK) {
		if (confedit_add(old.data ? old.data : "", old.len, &spec, &text, &e) < 0) {
			fprintf(stderr, "tidings: %s\n", e.msg);
			rc = e.code;
		} else {
			rc = check_and_replace(path, &text, 1);
		}
	}
	if (rc == EX_OK && !c->quiet)
		printf("feed %s added to %s\n", spec.name, cfg.path);
	buf_free(&old);
	buf_free(&text);
	free(path);
	config_free(&cfg);
	return rc;
}

/* A subscription listing the feed by name would no longer load without it. */
static const struct sub_conf *
sub_naming(const struct config *cfg, const char *feed)
{
	for (size_t i = 0; i < cfg->nsubs; i++)
		for (size_t j = 0; j < cfg->subs[i].feeds.n; j++)
			if (str_eq(cfg->subs[i].feeds.v[j], feed))
				return &cfg->subs[i];
	return NULL;
}

int
cmd_remove(const struct cli *c)
{
	const char *name = c->argv[0];
	struct buf old = BUF_INIT, text = BUF_INIT;
	const struct feed_conf *fc;
	const struct sub_conf *sub;
	struct config cfg;
	struct err e = {0};
	char *path = NULL;
	int rc = load_current(c, &cfg);

	if (rc != EX_OK)
		return rc;
	if ((fc = config_feed(&cfg, name)) == NULL) {
		fprintf(stderr, "tidings: no feed named '%s' in %s; nothing changed\n", name,
		        cfg.path);
		rc = EX_DATAERR;
	} else if ((sub = sub_naming(&cfg, name)) != NULL) {
		fprintf(stderr,
		        "tidings: subscription '%s' (%s:%d) names feed '%s' in its feeds: take it "
		        "out of that list first; nothing changed\n",
		        sub->name, sub->file, sub->line, name);
		rc = EX_DATAERR;
	} else if ((path = real_file(fc->file)) == NULL) {
		rc = EX_OSERR;
	} else if ((rc = read_text(path, &old)) == EX_OK) {
		if (confedit_remove(old.data ? old.data : "", old.len, name, &text, &e) < 0) {
			fprintf(stderr, "tidings: %s: %s; nothing changed\n", fc->file, e.msg);
			rc = e.code;
		} else {
			/* Only the main file can be loaded on its own to check. */
			rc = check_and_replace(path, &text, str_eq(fc->file, cfg.path));
		}
	}
	if (rc == EX_OK && !c->quiet)
		printf("feed %s removed from %s\n", name, fc->file);
	buf_free(&old);
	buf_free(&text);
	free(path);
	config_free(&cfg);
	return rc;
}
