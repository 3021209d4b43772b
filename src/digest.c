#include "digest.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "date.h"
#include "html.h"
#include "url.h"
#include "wrap.h"
#include "spool.h"

/* A subject fits one line of a mail client's list. */
#define SUBJECT_COLUMNS 78

/* Partials live beside the templates, of the same kind: NAME.txt / NAME.html. */
struct partial_ctx {
	const char *dir;
	const char *ext;
};

struct compiled {
	const char *name; /* a subscription's template base name */
	struct tpl *text;
	struct tpl *html;
};

struct digest_templates {
	struct partial_ctx text_partials;
	struct partial_ctx html_partials;
	struct compiled *bases; /* one per distinct template name */
	size_t nbases;
	struct tpl **subjects; /* one per subscription, in config order */
	size_t nsubjects;
	/* An item's values last made, to be made anew for the next: without, with its body. */
	struct tval *spare[2];
};

/* Templates are small: anything past a megabyte is not one. */
#define TEMPLATE_MAX (1 << 20)

static char *
read_file(const char *path)
{
	struct buf b = BUF_INIT;

	if (buf_read_file(&b, path, TEMPLATE_MAX) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static char *
load_partial(const char *name, void *arg)
{
	const struct partial_ctx *pc = arg;
	char *path, *src;

	if (strchr(name, '/') != NULL || name[0] == '.')
		return NULL; /* partials never leave the templates folder */
	path = str_printf("%s/%s%s", pc->dir, name, pc->ext);
	src = path ? read_file(path) : NULL;
	free(path);
	return src;
}

static int
compile_file(const char *base, struct partial_ctx *pc, struct tpl **out, struct err *e)
{
	char *path = str_printf("%s/%s%s", pc->dir, base, pc->ext), *src;
	int rc;

	if (path == NULL)
		return err_oom(e);
	src = read_file(path);
	if (src == NULL) {
		err_set(e, EX_CONFIG, "%s: cannot read template", path);
		free(path);
		return -1;
	}
	rc = tpl_compile(src, path, load_partial, pc, out, e);
	if (rc < 0 && e)
		e->code = EX_CONFIG;
	free(src);
	free(path);
	return rc;
}

static struct compiled *
find_base(struct digest_templates *t, const char *name)
{
	for (size_t i = 0; i < t->nbases; i++)
		if (strcmp(t->bases[i].name, name) == 0)
			return &t->bases[i];
	return NULL;
}

static int
load_base(struct digest_templates *t, const char *name, struct err *e)
{
	struct compiled *c;

	if (find_base(t, name) != NULL)
		return 0;
	c = &t->bases[t->nbases];
	*c = (struct compiled){name, NULL, NULL};
	if (compile_file(name, &t->text_partials, &c->text, e) < 0)
		return -1;
	t->nbases++;
	return compile_file(name, &t->html_partials, &c->html, e);
}

int
digest_templates_load(const struct config *cfg, struct digest_templates **out, struct err *e)
{
	struct digest_templates *t = calloc(1, sizeof *t);

	*out = t;
	if (t == NULL)
		return err_oom(e);
	t->text_partials = (struct partial_ctx){cfg->templates_dir, ".txt"};
	t->html_partials = (struct partial_ctx){cfg->templates_dir, ".html"};
	t->bases = calloc(cfg->nsubs + 1, sizeof *t->bases);
	t->subjects = calloc(cfg->nsubs + 1, sizeof *t->subjects);
	if (t->bases == NULL || t->subjects == NULL)
		return err_oom(e);
	for (size_t i = 0; i < cfg->nsubs; i++) {
		const struct sub_conf *sub = &cfg->subs[i];
		char name[128];

		if (load_base(t, sub->template, e) < 0)
			return -1;
		snprintf(name, sizeof name, "subscription %s: subject", sub->name);
		if (tpl_compile(sub->subject, name, NULL, NULL, &t->subjects[i], e) < 0) {
			e->code = EX_CONFIG;
			return -1;
		}
		t->nsubjects++;
	}
	return 0;
}

void
digest_templates_free(struct digest_templates *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nbases; i++) {
		tpl_free(t->bases[i].text);
		tpl_free(t->bases[i].html);
	}
	for (size_t i = 0; i < t->nsubjects; i++)
		tpl_free(t->subjects[i]);
	tv_free(t->spare[0]);
	tv_free(t->spare[1]);
	free(t->bases);
	free(t->subjects);
	free(t);
}

/* ---- the data the templates see ---- */

static int
item_tag_listed(const struct item *it, const char *tag)
{
	for (size_t i = 0; i < it->ntags; i++)
		if (str_ieq(it->tags[i], tag))
			return 1;
	return 0;
}

static int
add_tag(struct buf *b, const char *sep, const char *tag)
{
	return buf_adds(b, sep) < 0 || buf_adds(b, tag) < 0 ? -1 : 0;
}

/*
 * The tags that route the item, ", " between them and lead before the
 * first: its own, then its feed's configured ones it lacks.
 */
static int
add_tags(struct buf *b, const struct item *it, const struct feed_conf *fc, const char *lead)
{
	size_t n = 0;

	for (size_t i = 0; i < it->ntags; i++)
		if (add_tag(b, n++ ? ", " : lead, it->tags[i]) < 0)
			return -1;
	for (size_t i = 0; i < fc->tags.n; i++)
		if (!item_tag_listed(it, fc->tags.v[i]) &&
		    add_tag(b, n++ ? ", " : lead, fc->tags.v[i]) < 0)
			return -1;
	return 0;
}

/* links[] {n, url} and has_links, from the item's links (each NUL-terminated, n bytes in all). */
static int
links_value(struct tval *m, const char *all, size_t n)
{
	struct tval *list = tv_set_list(m, "links"), *l;
	long long k = 0;

	if (list == NULL)
		return -1;
	for (size_t at = 0, len; at < n; at += len + 1) {
		len = strlen(all + at);
		if ((l = tv_push_map(list)) == NULL || tv_set_int(l, "n", ++k) < 0 ||
		    tv_set_strn(l, "url", all + at, len) < 0)
			return -1;
	}
	return tv_set_bool(m, "has_links", k > 0);
}

/* Links go into href attributes: only http, https and mailto survive. */
static int
set_link(struct tval *m, const char *key, const char *url, const char *base)
{
	char *clean = url ? url_clean(url, base) : NULL;
	int r = tv_set_str(m, key, clean);

	free(clean);
	return r;
}

/* An enclosure's length for people: "31 KB", "12.3 MB". */
static void
human_size(long long n, char *buf, size_t size)
{
	static const char *const unit[] = {"bytes", "KB", "MB", "GB", "TB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1000 && u + 1 < sizeof unit / sizeof unit[0])
		v /= 1000, u++;
	snprintf(buf, size, u == 0 || v >= 10 ? "%.0f %s" : "%.1f %s", v, unit[u]);
}

/* itunes:duration as H:MM:SS or M:SS when it is a count of seconds; else as written. */
static void
duration_text(const char *d, char *buf, size_t size)
{
	char *end;
	long long s = strtoll(d, &end, 10);

	if (end == d || *end != '\0' || s < 0)
		snprintf(buf, size, "%s", d);
	else if (s >= 3600)
		snprintf(buf, size, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%lld:%02lld", s / 60, s % 60);
}

/*
 * One enclosure: url, type, size, duration (the item's, on its first
 * enclosure), and info, all of those given joined for a template to show
 * in parentheses ("audio/mpeg, 31 MB, 1:02:03").
 */
static int
enclosure_value(struct tval *m, const struct enclosure *en, const char *duration, const char *base)
{
	char size[32] = "", dur[64] = "", info[256];

	if (en->length > 0)
		human_size(en->length, size, sizeof size);
	if (duration != NULL)
		duration_text(duration, dur, sizeof dur);
	snprintf(info, sizeof info, "%s%s%s%s%s", en->type ? en->type : "",
	         en->type && (size[0] || dur[0]) ? ", " : "", size, size[0] && dur[0] ? ", " : "",
	         dur);
	if (set_link(m, "url", en->url, base) < 0 || tv_set_str(m, "type", en->type) < 0 ||
	    tv_set_str(m, "size", size[0] ? size : NULL) < 0 ||
	    tv_set_str(m, "duration", dur[0] ? dur : NULL) < 0 ||
	    tv_set_str(m, "info", info[0] ? info : NULL) < 0)
		return -1;
	return 0;
}

/* One of the item's other links: url, rel, title (the rel when it has none). */
static int
other_link_value(struct tval *m, const struct item_link *l, const char *base)
{
	if (set_link(m, "url", l->url, base) < 0 || tv_set_str(m, "rel", l->rel) < 0 ||
	    tv_set_str(m, "title", l->title ? l->title : l->rel) < 0)
		return -1;
	return 0;
}

/* What podcasts and videos add: enclosures, thumbnail, other_links; has_media if any. */
static int
media_values(struct tval *m, const struct item *it, const char *base)
{
	struct tval *encl = tv_set_list(m, "enclosures"), *links = tv_set_list(m, "other_links"),
	            *v;

	if (encl == NULL || links == NULL || set_link(m, "thumbnail", it->thumbnail, base) < 0 ||
	    tv_set_bool(m, "has_media", it->thumbnail || it->nenclosures || it->nlinks) < 0)
		return -1;
	for (size_t i = 0; i < it->nenclosures; i++)
		if ((v = tv_push_map(encl)) == NULL ||
		    enclosure_value(v, &it->enclosures[i], i == 0 ? it->duration : NULL, base) < 0)
			return -1;
	for (size_t i = 0; i < it->nlinks; i++)
		if ((v = tv_push_map(links)) == NULL ||
		    other_link_value(v, &it->links[i], base) < 0)
			return -1;
	return 0;
}

/*
 * The item's date, author and tags on one line, sep between those it has
 * (an undated item's line does not start with a separator).
 */
static int
meta_text(struct buf *b, const char *date, const struct item *it, const struct feed_conf *fc,
          const char *sep)
{
	int r;

	buf_reset(b);
	r = buf_adds(b, date);
	if (r == 0 && it->author != NULL && it->author[0] != '\0')
		r = buf_adds(b, b->len > 0 ? sep : "") | buf_adds(b, it->author);
	if (r == 0)
		r = add_tags(b, it, fc, b->len > 0 ? sep : "");
	return r;
}

/*
 * What takes work to make of an item (its meta lines, wrapped title,
 * cleaned link, date, tags; with its body, where that is in the spool and
 * its links, read back), made once and kept in the spool's memo for the
 * next digest that shows the item: this header, then each fact's bytes,
 * a string and its NUL (length 0: null; the links: each NUL-terminated).
 */
enum fact { F_META, F_META_DOT, F_TITLE_TEXT, F_LINK, F_DATE, F_TAGS, F_LINKS, NFACTS };

struct facts {
	off_t html_off, text_off; /* with its body only: where it is in the spool */
	uint32_t html_len, text_len;
	int fd;
	uint32_t len[NFACTS];
};

/* A run of one feed's items in the picks, made into values one at a time. */
struct item_run {
	const struct digest_input *in;
	const struct pick *first;
	int with_body;      /* the full item, not only its title line */
	struct buf facts;   /* an item's facts, when the memo has none */
	struct buf scratch; /* one fact as it is made */
};

/* The fact k, s (n bytes; NULL: null) after those before it. */
static int
add_fact(struct buf *b, uint32_t *len, enum fact k, const char *s, size_t n)
{
	if (s != NULL && n >= UINT32_MAX)
		return -1;
	len[k] = s != NULL ? (uint32_t)n + 1 : 0;
	return s != NULL && (buf_add(b, s, n) < 0 || buf_add(b, "", 1) < 0) ? -1 : 0;
}

/* The scratch buffer as fact k: null if empty. */
static int
add_built(struct item_run *ir, uint32_t *len, enum fact k)
{
	struct buf *t = &ir->scratch;

	return add_fact(&ir->facts, len, k, t->len > 0 ? t->data : NULL, t->len);
}

static int
add_body(struct item_run *ir, struct facts *f, const struct item *it, const struct feed_conf *fc,
         struct err *e)
{
	struct spool *spool = ir->in->spool;
	struct spooled r;

	if (spool_read(spool, it, fc, &r, e) < 0 || spool_links(spool, &r, &ir->scratch, e) < 0)
		return -1;
	/* The spool keeps each length in 32 bits. */
	f->fd = r.fd;
	f->html_off = r.html_off;
	f->html_len = (uint32_t)r.html_len;
	f->text_off = r.text_off;
	f->text_len = (uint32_t)r.text_len;
	f->len[F_LINKS] = (uint32_t)r.links_len;
	return buf_add(&ir->facts, ir->scratch.data, ir->scratch.len) < 0 ? err_oom(e) : 0;
}

static int
make_facts(struct item_run *ir, const struct item *it, const struct feed_conf *fc, int body,
           struct err *e)
{
	const char *title = it->title[0] ? it->title : "(untitled)";
	struct buf *t = &ir->scratch;
	struct facts f = {0};
	char date[32] = "", *link = it->link ? url_clean(it->link, fc->url) : NULL;
	int r;

	if (it->has_date && date_format_local(it->published, date, sizeof date) < 0)
		date[0] = '\0';
	buf_reset(&ir->facts);
	r = buf_add(&ir->facts, (const char *)&f, sizeof f);
	r = r || meta_text(t, date, it, fc, " | ") || add_built(ir, f.len, F_META);
	r = r || meta_text(t, date, it, fc, " \xc2\xb7 ") || add_built(ir, f.len, F_META_DOT);
	buf_reset(t);
	r = r || text_wrap(title, TEXT_WIDTH, t) < 0 ||
	    add_fact(&ir->facts, f.len, F_TITLE_TEXT, buf_str(t), t->len) < 0;
	r = r || add_fact(&ir->facts, f.len, F_LINK, link, link ? strlen(link) : 0) < 0;
	r = r || add_fact(&ir->facts, f.len, F_DATE, date[0] ? date : NULL, strlen(date)) < 0;
	buf_reset(t);
	r = r || add_tags(t, it, fc, "") < 0 || add_built(ir, f.len, F_TAGS) < 0;
	free(link);
	if (r)
		return err_oom(e);
	if (body && add_body(ir, &f, it, fc, e) < 0)
		return -1;
	memcpy(ir->facts.data, &f, sizeof f);
	return 0;
}

/* Fact k at *at, set at key; *at moves past it. */
static int
set_fact(struct tval *m, const char *key, const struct facts *f, enum fact k, const char **at)
{
	const char *s = *at;

	*at += f->len[k];
	return tv_set_strn(m, key, f->len[k] > 0 ? s : NULL, f->len[k] > 0 ? f->len[k] - 1 : 0);
}

/* The item's values in m, from its facts (p) and its fields. */
static int
set_item(struct tval *m, const char *p, const struct item *it, const struct feed_conf *fc, int body)
{
	struct facts f;
	const char *at = p + sizeof f;

	memcpy(&f, p, sizeof f);
	if (set_fact(m, "meta", &f, F_META, &at) < 0 ||
	    set_fact(m, "meta_dot", &f, F_META_DOT, &at) < 0 ||
	    tv_set_str(m, "title", it->title[0] ? it->title : "(untitled)") < 0 ||
	    set_fact(m, "title_text", &f, F_TITLE_TEXT, &at) < 0 ||
	    set_fact(m, "link", &f, F_LINK, &at) < 0 || set_fact(m, "date", &f, F_DATE, &at) < 0 ||
	    tv_set_str(m, "author", it->author) < 0 || tv_set_str(m, "id", it->id) < 0 ||
	    set_fact(m, "tags", &f, F_TAGS, &at) < 0 || media_values(m, it, fc->url) < 0)
		return -1;
	if (!body)
		return 0;
	/* Flags, because a Mustache section cannot ask whether a list is empty. */
	if (links_value(m, at, f.len[F_LINKS]) < 0 ||
	    tv_set_bool(m, "has_text", f.text_len > 0) < 0 ||
	    tv_set_file(m, "html", f.fd, f.html_off, f.html_len) < 0 ||
	    tv_set_file(m, "text", f.fd, f.text_off, f.text_len) < 0)
		return -1;
	return 0;
}

/* The item's values, in m: a new map, or one a previous item had (set anew, key by key). */
static struct tval *
item_value(struct item_run *ir, const struct item *it, const struct feed_conf *fc, struct tval *m,
           struct err *e)
{
	struct spool *spool = ir->in->spool;
	int body = ir->with_body && spool != NULL;
	const char *facts = spool != NULL ? spool_memo(spool, it, body, &(size_t){0}) : NULL;

	if (facts == NULL) {
		if (make_facts(ir, it, fc, body, e) < 0)
			goto fail;
		facts = ir->facts.data;
		/* Not kept (past the bound, or out of memory): made again next time. */
		if (spool != NULL)
			(void)spool_memo_keep(spool, it, body, facts, ir->facts.len);
	}
	if (m == NULL && (m = tv_map()) == NULL) {
		err_oom(e);
		goto fail;
	}
	if (set_item(m, facts, it, fc, body) < 0) {
		err_oom(e);
		goto fail;
	}
	return m;
fail:
	tv_free(m);
	return NULL;
}

static struct tval *
make_item(void *arg, size_t i, struct tval *reuse, struct err *e)
{
	struct item_run *ir = arg;
	const struct pick *p = &ir->first[i];

	return item_value(ir, p->item, ir->in->src[p->source].conf, reuse, e);
}

static void
item_run_free(void *arg)
{
	struct item_run *ir = arg;

	buf_free(&ir->facts);
	buf_free(&ir->scratch);
	free(ir);
}

/* Items lists share two spares (spare[with_body]) for the whole run: an item's values are allocated
 * once. */
static struct tval *
item_list(const struct digest_input *in, const struct pick *first, size_t n, int with_body,
          struct tval **spare)
{
	struct item_run *ir = calloc(1, sizeof *ir);

	if (ir == NULL)
		return NULL;
	*ir = (struct item_run){in, first, with_body, BUF_INIT, BUF_INIT};
	return tv_lazy_list_shared(n, make_item, ir, item_run_free, &spare[with_body]);
}

/* The configured title, else the feed's own, else the section's name. */
static const char *
feed_title(const struct source *s)
{
	if (s->conf->title != NULL)
		return s->conf->title;
	return s->feed && s->feed->title && s->feed->title[0] ? s->feed->title : s->conf->name;
}

/* One feed's group: its shown picks are first[0..count), in digest order. */
static struct tval *
feed_value(const struct digest_input *in, const struct pick *first, size_t count,
           struct tval **spare)
{
	const struct source *s = &in->src[first->source];
	const char *title = feed_title(s);
	long per_feed = in->sub->full_items_per_feed;
	size_t full = per_feed <= 0 || count <= (size_t)per_feed ? count : (size_t)per_feed;
	struct tval *m = tv_map();

	if (m == NULL || tv_set_str(m, "title", title) < 0 ||
	    set_link(m, "link", s->feed && s->feed->link ? s->feed->link : s->conf->url,
	             s->conf->url) < 0 ||
	    tv_set_str(m, "name", s->conf->name) < 0 ||
	    tv_set_int(m, "count", (long long)count) < 0 ||
	    tv_set_bool(m, "has_more", count > full) < 0 ||
	    tv_set(m, "items", item_list(in, first, full, 1, spare)) < 0 ||
	    tv_set(m, "more", item_list(in, first + full, count - full, 0, spare)) < 0) {
		tv_free(m);
		return NULL;
	}
	return m;
}

/*
 * The shown picks come sorted by feed: one group per feed, whose items are
 * made only while the template walks them.
 */
static int
feeds_value(const struct digest_input *in, struct tval *root, struct tval **spare, struct err *e)
{
	const struct picks *pk = in->picks;
	struct tval *feeds = tv_list();

	if (feeds == NULL || tv_set(root, "feeds", feeds) < 0)
		return err_oom(e);
	for (size_t i = 0; i < pk->n;) {
		size_t j = i;

		if (pk->v[i].kind != PICK_SHOW) {
			i++;
			continue;
		}
		while (j < pk->n && pk->v[j].kind == PICK_SHOW &&
		       pk->v[j].source == pk->v[i].source)
			j++;
		if (tv_push(feeds, feed_value(in, &pk->v[i], j - i, spare)) < 0)
			return err_oom(e);
		i = j;
	}
	return 0;
}

/* Feeds of this subscription that are failing, for the footer. */
static int
problems_value(const struct digest_input *in, struct tval *root)
{
	struct tval *list = tv_list();
	size_t n = 0;

	if (list == NULL || tv_set(root, "problems", list) < 0)
		return -1;
	for (size_t i = 0; in->st != NULL && i < in->nsrc; i++) {
		const struct feed_conf *fc = in->src[i].conf;
		const struct feed_state *fs = state_feed((struct state *)in->st, fc->url, 0);
		struct tval *m;
		char since[32] = "";

		char *error;

		if (fs == NULL || !fc->active || !select_sub_reads_feed(in->sub, fc) ||
		    (fs->failures < in->cfg->fetch.report_after && !fs->gone && !fs->moved_to))
			continue;
		/* Gone and moved feeds stay listed until the config changes: they need a person. */
		if (fs->gone)
			error = str_dup("gone (HTTP 410): delete it from the config");
		else if (fs->failures < in->cfg->fetch.report_after)
			error =
			    str_printf("moved permanently to %s: update the config", fs->moved_to);
		else
			error = str_dup(fs->last_error ? fs->last_error : "failing");
		if (fs->failures > 0 && !fs->gone && fs->first_failure > 0)
			date_format_local(fs->first_failure, since, sizeof since);
		if (error == NULL || (m = tv_map()) == NULL || tv_push(list, m) < 0 ||
		    tv_set_str(m, "feed", fc->name) < 0 || tv_set_str(m, "error", error) < 0 ||
		    tv_set_str(m, "since", since[0] ? since : NULL) < 0) {
			free(error);
			return -1;
		}
		free(error);
		n++;
	}
	return tv_set_bool(root, "has_problems", n > 0);
}

static size_t
columns(const char *s)
{
	return text_columns(s, strlen(s));
}

/*
 * s, cut to at most room columns: at a space if one is in its last third,
 * "\xe2\x80\xa6" (an ellipsis) marking the cut.  Feed text is one line here.
 */
static int
add_fitted(struct buf *b, const char *s, size_t room)
{
	size_t n = strlen(s), i = 0, c = 0, space = 0, k;

	if (columns(s) <= room)
		return buf_adds(b, s);
	while (room > 0 && i < n) {
		size_t w;

		if ((k = utf8_len((const unsigned char *)s + i, n - i)) == 0)
			k = 1;
		if (c + (w = text_columns(s + i, k)) > room - 1)
			break;
		if (s[i] == ' ')
			space = i;
		c += w;
		i += k;
	}
	if (space > 0 && space * 3 >= i * 2)
		i = space;
	while (i > 0 && s[i - 1] == ' ')
		i--;
	return room == 0 ? 0 : buf_add(b, s, i) | buf_adds(b, "\xe2\x80\xa6");
}

/* The shown picks' feed groups: the first pick of each, n of them. */
static size_t
next_group(const struct picks *pk, size_t i)
{
	size_t j = i;

	while (j < pk->n && pk->v[j].kind == PICK_SHOW && pk->v[j].source == pk->v[i].source)
		j++;
	while (j < pk->n && pk->v[j].kind != PICK_SHOW)
		j++;
	return j;
}

/* "FEED — TITLE, +N" for one feed's items, in room columns. */
static int
headline_one_feed(struct buf *b, const char *feed, const char *title, size_t more, size_t room)
{
	char tail[32];
	size_t fc = columns(feed), tc;

	snprintf(tail, sizeof tail, ", +%zu", more);
	tc = more > 0 ? strlen(tail) : 0;
	room = room > tc ? room - tc : 0;
	if (fc + 3 + 12 <= room) {
		if (buf_adds(b, feed) < 0 || buf_adds(b, " \xe2\x80\x94 ") < 0 ||
		    add_fitted(b, title, room - fc - 3) < 0)
			return -1;
	} else if (add_fitted(b, feed, room) < 0) {
		return -1;
	}
	return more > 0 ? buf_adds(b, tail) : 0;
}

/* "FEED (N), FEED (N), +K more feeds", as many as fit in room columns. */
static int
headline_feeds(const struct digest_input *in, struct buf *b, size_t nfeeds, size_t room)
{
	const struct picks *pk = in->picks;
	size_t shown = 0;
	char entry[32], tail[48];
	int r = 0;

	for (size_t i = 0; i < pk->n && r == 0; i = next_group(pk, i)) {
		const char *title;
		size_t end = next_group(pk, i), count = 0, used = columns(buf_str(b)), need;

		if (pk->v[i].kind != PICK_SHOW)
			continue;
		for (size_t j = i; j < end; j++)
			count += pk->v[j].kind == PICK_SHOW;
		title = feed_title(&in->src[pk->v[i].source]);
		snprintf(entry, sizeof entry, " (%zu)", count);
		snprintf(tail, sizeof tail, ", +%zu more feeds", nfeeds - shown - 1);
		need = (shown ? 2 : 0) + columns(title) + strlen(entry) +
		       (shown + 1 < nfeeds ? strlen(tail) : 0);
		if (used + need > room)
			break;
		r = buf_adds(b, shown ? ", " : "") | buf_adds(b, title) | buf_adds(b, entry);
		shown++;
	}
	if (r == 0 && shown < nfeeds)
		r = buf_printf(b, "%s+%zu %s", shown ? ", " : "", nfeeds - shown,
		               shown ? "more feeds" : "feeds");
	return r;
}

/*
 * What the digest holds, for its subject (after "[subscription] ") and
 * heading, within SUBJECT_COLUMNS with that prefix: one item, its title;
 * one feed, "N new: FEED — FIRST TITLE, +N-1"; several,
 * "N new: FEED (N), FEED (N), +K more feeds".
 */
static struct tval *
headline_value(const struct digest_input *in)
{
	const struct picks *pk = in->picks;
	size_t first = 0, nfeeds = 0, prefix = columns(in->sub->name) + 3, room;
	struct buf b = BUF_INIT;
	const char *title;
	int r;

	room = prefix + 24 < SUBJECT_COLUMNS ? SUBJECT_COLUMNS - prefix : 24;
	while (first < pk->n && pk->v[first].kind != PICK_SHOW)
		first++;
	for (size_t i = first; i < pk->n; i = next_group(pk, i))
		nfeeds++;
	if (first == pk->n)
		return tv_str("no new items");
	title = pk->v[first].item->title[0] ? pk->v[first].item->title : "(untitled)";
	if (pk->nshow == 1)
		r = add_fitted(&b, title, room);
	else if ((r = buf_printf(&b, "%zu new: ", pk->nshow)) == 0 && nfeeds == 1)
		r = headline_one_feed(&b, feed_title(&in->src[pk->v[first].source]), title,
		                      pk->nshow - 1, room - columns(b.data));
	else if (r == 0)
		r = headline_feeds(in, &b, nfeeds, room);
	if (r != 0) {
		buf_free(&b);
		return NULL;
	}
	str_strip_controls(b.data);
	return tv_str_owned(buf_steal(&b));
}

static struct tval *
root_value(const struct digest_input *in, struct tval **spare, struct err *e)
{
	struct tval *root = tv_map();
	char date[64], since[32] = "";

	if (root == NULL)
		goto oom;
	date_format_rfc5322(in->now, date, sizeof date);
	if (tv_set_str(root, "subscription", in->sub->name) < 0 ||
	    tv_set(root, "headline", headline_value(in)) < 0 ||
	    tv_set_str(root, "date", date) < 0 ||
	    tv_set_int(root, "count", (long long)in->picks->nshow) < 0 ||
	    tv_set_bool(root, "plural", in->picks->nshow != 1) < 0 ||
	    tv_set_str(root, "owner", in->cfg->from) < 0 ||
	    tv_set_str(root, "unsubscribe", in->sub->list_unsubscribe) < 0)
		goto oom;
	if (in->have_since) {
		date_format_local(in->since, since, sizeof since);
		if (tv_set_str(root, "since", since) < 0 ||
		    (in->picks->undated &&
		     (tv_set_int(root, "undated", (long long)in->picks->undated) < 0 ||
		      tv_set_bool(root, "undated_plural", in->picks->undated != 1) < 0)))
			goto oom;
	}
	if (problems_value(in, root) < 0)
		goto oom;
	if (feeds_value(in, root, spare, e) < 0) {
		tv_free(root);
		return NULL;
	}
	return root;
oom:
	tv_free(root);
	err_oom(e);
	return NULL;
}

static int
sub_index(const struct config *cfg, const struct sub_conf *sub)
{
	return (int)(sub - cfg->subs);
}

/* Subjects are one line: whatever the template or the feed text held. */
static void
flatten(struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] < 0x20 || b->data[i] == 0x7f)
			b->data[i] = ' ';
}

static int
render_part(struct tpl *t, const struct tval *root, enum escape_mode mode, const char *what,
            FILE **fp, size_t *len, struct err *e)
{
	if ((*fp = temp_file(what, e)) == NULL)
		return -1;
	if (tpl_render_file(t, root, mode, *fp, len, e) < 0)
		return -1;
	if (fflush(*fp) != 0 || fseeko(*fp, 0, SEEK_SET) != 0)
		return err_set(e, EX_IOERR, "%s: cannot write the %s: %s", temp_dir(), what,
		               strerror(errno));
	return 0;
}

int
digest_render(const struct digest_input *in, struct digest_templates *t, struct digest_output *out,
              struct err *e)
{
	struct compiled *c = find_base(t, in->sub->template);
	struct tval *root;
	int rc;

	memset(out, 0, sizeof *out);
	if (c == NULL)
		return err_set(e, EX_SOFTWARE, "template %s was not loaded", in->sub->template);
	if ((root = root_value(in, t->spare, e)) == NULL)
		return -1;
	rc = tpl_render(t->subjects[sub_index(in->cfg, in->sub)], root, ESCAPE_NONE, &out->subject,
	                e);
	if (rc == 0)
		rc = render_part(c->text, root, ESCAPE_NONE, "text part", &out->text,
		                 &out->text_len, e);
	if (rc == 0)
		rc = render_part(c->html, root, ESCAPE_HTML, "HTML part", &out->html,
		                 &out->html_len, e);
	tv_free(root);
	if (rc < 0) {
		digest_output_free(out);
		return -1;
	}
	flatten(&out->subject);
	return 0;
}

void
digest_output_free(struct digest_output *out)
{
	buf_free(&out->subject);
	if (out->text != NULL)
		fclose(out->text);
	if (out->html != NULL)
		fclose(out->html);
	out->text = out->html = NULL;
}
