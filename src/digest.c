#include "digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "date.h"
#include "html.h"

#define TEXT_WIDTH 72

/* Partials live beside the templates, of the same kind: NAME.txt / NAME.html. */
struct partial_ctx {
	const char *dir;
	const char *ext;
};

struct compiled {
	const char *name;        /* a subscription's template base name */
	struct tpl *text;
	struct tpl *html;
};

struct digest_templates {
	struct partial_ctx text_partials;
	struct partial_ctx html_partials;
	struct compiled *bases;  /* one per distinct template name */
	size_t nbases;
	struct tpl **subjects;   /* one per subscription, in config order */
	size_t nsubjects;
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
		return NULL;  /* partials never leave the templates folder */
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
	free(t->bases);
	free(t->subjects);
	free(t);
}

/* ---- the data the templates see ---- */

static struct tval *
tags_value(const struct item *it)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < it->ntags; i++)
		if (buf_printf(&b, "%s%s", i ? ", " : "", it->tags[i]) < 0) {
			buf_free(&b);
			return NULL;
		}
	return tv_str_owned(buf_steal(&b));
}

static const char *
item_base(const struct item *it, const struct feed_conf *fc)
{
	if (it->base != NULL)
		return it->base;
	return it->link != NULL ? it->link : fc->url;
}

static int
links_value(struct tval *m, const struct strv *links)
{
	struct tval *list = tv_list();

	if (list == NULL || tv_set(m, "links", list) < 0)
		return -1;
	for (size_t i = 0; i < links->n; i++) {
		struct tval *l = tv_map();

		if (l == NULL || tv_push(list, l) < 0 || tv_set_int(l, "n", (long long)i + 1) < 0 ||
		    tv_set_str(l, "url", links->v[i]) < 0)
			return -1;
	}
	return 0;
}

struct rendered {
	const struct item *item;   /* NULL: empty slot */
	struct buf html;
	struct buf text;
	struct strv links;
};

struct render_cache {
	struct rendered *slot;
	size_t cap;                /* a power of two */
	size_t n;
};

struct render_cache *
render_cache_new(void)
{
	return calloc(1, sizeof(struct render_cache));
}

void
render_cache_free(struct render_cache *c)
{
	for (size_t i = 0; c != NULL && i < c->cap; i++) {
		buf_free(&c->slot[i].html);
		buf_free(&c->slot[i].text);
		strv_free(&c->slot[i].links);
	}
	if (c != NULL)
		free(c->slot);
	free(c);
}

static struct rendered *
cache_slot(struct render_cache *c, const struct item *it)
{
	uint64_t h = hash64(&it, sizeof it);
	size_t i = h & (c->cap - 1);

	while (c->slot[i].item != NULL && c->slot[i].item != it)
		i = (i + 1) & (c->cap - 1);
	return &c->slot[i];
}

static int
cache_grow(struct render_cache *c)
{
	struct render_cache bigger = {NULL, c->cap ? c->cap * 2 : 1024, c->n};

	if ((bigger.slot = calloc(bigger.cap, sizeof *bigger.slot)) == NULL)
		return -1;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slot[i].item != NULL)
			*cache_slot(&bigger, c->slot[i].item) = c->slot[i];
	free(c->slot);
	*c = bigger;
	return 0;
}

/* The item's content: sanitised HTML and wrapped text, from one parse, once. */
static const struct rendered *
render_item(struct render_cache *c, const struct item *it, const struct feed_conf *fc,
            struct err *e)
{
	const char *html = it->content ? it->content : it->summary ? it->summary : "";
	struct rendered *r;

	if ((c->n + 1) * 10 > c->cap * 7 && cache_grow(c) < 0) {
		err_oom(e);
		return NULL;
	}
	if ((r = cache_slot(c, it))->item == it)
		return r;
	if (html_render(html, strlen(html), item_base(it, fc), TEXT_WIDTH, 1, &r->html, &r->text,
	                &r->links, e) < 0) {
		buf_free(&r->html);
		buf_free(&r->text);
		strv_free(&r->links);
		return NULL;
	}
	r->item = it;
	c->n++;
	return r;
}

static int
item_body(struct tval *m, const struct item *it, const struct feed_conf *fc,
          struct render_cache *cache, struct err *e)
{
	const struct rendered *r = render_item(cache, it, fc, e);

	if (r == NULL)
		return -1;
	/* Flags, because a Mustache section cannot ask whether a list is empty. */
	if (links_value(m, &r->links) < 0 || tv_set_bool(m, "has_links", r->links.n > 0) < 0 ||
	    tv_set_bool(m, "has_text", r->text.len > 0) < 0 ||
	    tv_set(m, "html", tv_str_borrowed(buf_str(&r->html), r->html.len)) < 0 ||
	    tv_set(m, "text", tv_str_borrowed(buf_str(&r->text), r->text.len)) < 0)
		return err_oom(e);
	return 0;
}

/* Links go into href attributes: only http, https and mailto survive. */
static int
set_link(struct tval *m, const char *key, const char *url, const char *base)
{
	char *clean = url ? html_clean_url(url, base) : NULL;

	return tv_set(m, key, clean ? tv_str_owned(clean) : tv_null());
}

/* A title for the text part: wrapped at the column like the rest of it. */
static struct tval *
wrapped(const char *s)
{
	struct buf b = BUF_INIT;

	if (text_wrap(s, TEXT_WIDTH, &b) < 0) {
		buf_free(&b);
		return NULL;
	}
	return tv_str_owned(buf_steal(&b));
}

static struct tval *
item_value(const struct item *it, const struct feed_conf *fc, struct render_cache *cache,
           struct err *e)
{
	struct tval *m = tv_map();
	char date[32] = "";

	if (m == NULL)
		goto oom;
	if (it->has_date && date_format_local(it->published, date, sizeof date) < 0)
		date[0] = '\0';
	if (tv_set_str(m, "title", it->title[0] ? it->title : "(untitled)") < 0 ||
	    tv_set(m, "title_text", wrapped(it->title[0] ? it->title : "(untitled)")) < 0 ||
	    set_link(m, "link", it->link, fc->url) < 0 ||
	    tv_set_str(m, "date", date[0] ? date : NULL) < 0 ||
	    tv_set_str(m, "author", it->author) < 0 || tv_set_str(m, "id", it->id) < 0 ||
	    tv_set(m, "tags", it->ntags ? tags_value(it) : tv_null()) < 0)
		goto oom;
	if (cache != NULL && item_body(m, it, fc, cache, e) < 0) {
		tv_free(m);
		return NULL;
	}
	return m;
oom:
	tv_free(m);
	err_oom(e);
	return NULL;
}

struct feed_group {
	struct tval *map;
	struct tval *items;
	struct tval *more;
	size_t count;
	size_t nmore;
};

static int
group_open(struct feed_group *g, const struct source *s)
{
	const char *title = s->conf->title;

	if (title == NULL)
		title = s->feed && s->feed->title && s->feed->title[0] ? s->feed->title : s->conf->name;
	g->count = g->nmore = 0;
	g->map = tv_map();
	g->items = tv_list();
	g->more = tv_list();
	if (g->map == NULL || g->items == NULL || g->more == NULL)
		return -1;
	return tv_set_str(g->map, "title", title) < 0 ||
	       set_link(g->map, "link", s->feed && s->feed->link ? s->feed->link : s->conf->url,
	                s->conf->url) < 0 ||
	       tv_set_str(g->map, "name", s->conf->name) < 0 ? -1 : 0;
}

/* Move the group into the feeds list; the group is emptied either way. */
static int
group_close(struct feed_group *g, struct tval *feeds)
{
	int rc;

	rc = tv_set_int(g->map, "count", (long long)g->count);
	rc |= tv_set_bool(g->map, "has_more", g->nmore > 0);
	rc |= tv_set(g->map, "items", g->items);
	g->items = NULL;
	rc |= tv_set(g->map, "more", g->more);
	g->more = NULL;
	rc |= tv_push(feeds, g->map);
	g->map = NULL;
	return rc ? -1 : 0;
}

static void
group_discard(struct feed_group *g)
{
	tv_free(g->map);
	tv_free(g->items);
	tv_free(g->more);
	memset(g, 0, sizeof *g);
}

static int
feeds_value(const struct digest_input *in, struct tval *root, struct err *e)
{
	struct tval *feeds = tv_list();
	struct feed_group g = {0};
	size_t current = (size_t)-1, full = 0;
	long per_feed = in->sub->full_items_per_feed;

	if (feeds == NULL || tv_set(root, "feeds", feeds) < 0)
		return err_oom(e);
	for (size_t i = 0; i < in->picks->n; i++) {
		const struct pick *p = &in->picks->v[i];
		const struct source *s = &in->src[p->source];
		struct tval *v;
		int show_full;

		if (p->kind != PICK_SHOW)
			continue;
		if (p->source != current) {
			if (g.map != NULL && group_close(&g, feeds) < 0)
				goto oom;
			if (group_open(&g, s) < 0)
				goto oom;
			current = p->source;
			full = 0;
		}
		show_full = per_feed <= 0 || full < (size_t)per_feed;
		if ((v = item_value(p->item, s->conf, show_full ? in->cache : NULL, e)) == NULL)
			goto fail;
		if (tv_push(show_full ? g.items : g.more, v) < 0)
			goto oom;
		full += show_full;
		g.nmore += !show_full;
		g.count++;
	}
	if (g.map != NULL && group_close(&g, feeds) < 0)
		goto oom;
	return 0;
oom:
	err_oom(e);
fail:
	group_discard(&g);
	return -1;
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

		if (fs == NULL || fs->failures < in->cfg->fetch.report_after ||
		    !select_sub_reads_feed(in->sub, fc))
			continue;
		date_format_local(fs->first_failure, since, sizeof since);
		if ((m = tv_map()) == NULL || tv_push(list, m) < 0 ||
		    tv_set_str(m, "feed", fc->name) < 0 ||
		    tv_set_str(m, "error", fs->last_error ? fs->last_error : "failing") < 0 ||
		    tv_set_str(m, "since", since) < 0)
			return -1;
		n++;
	}
	return tv_set_bool(root, "has_problems", n > 0);
}

static struct tval *
root_value(const struct digest_input *in, struct err *e)
{
	struct tval *root = tv_map();
	char date[64], since[32] = "";

	if (root == NULL)
		goto oom;
	date_format_rfc5322(in->now, date, sizeof date);
	if (tv_set_str(root, "subscription", in->sub->name) < 0 ||
	    tv_set_str(root, "date", date) < 0 ||
	    tv_set_int(root, "count", (long long)in->picks->nshow) < 0 ||
	    tv_set_bool(root, "plural", in->picks->nshow != 1) < 0 ||
	    tv_set_str(root, "owner", in->cfg->from) < 0 ||
	    tv_set_str(root, "unsubscribe", in->sub->list_unsubscribe) < 0)
		goto oom;
	if (in->have_since) {
		date_format_local(in->since, since, sizeof since);
		if (tv_set_str(root, "since", since) < 0 ||
		    (in->picks->undated && tv_set_int(root, "undated", (long long)in->picks->undated) < 0))
			goto oom;
	}
	if (problems_value(in, root) < 0)
		goto oom;
	if (feeds_value(in, root, e) < 0) {
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

int
digest_render(const struct digest_input *in, struct digest_templates *t,
              struct digest_output *out, struct err *e)
{
	struct compiled *c = find_base(t, in->sub->template);
	struct tval *root;
	int rc;

	memset(out, 0, sizeof *out);
	if (c == NULL)
		return err_set(e, EX_SOFTWARE, "template %s was not loaded", in->sub->template);
	if ((root = root_value(in, e)) == NULL)
		return -1;
	rc = tpl_render(t->subjects[sub_index(in->cfg, in->sub)], root, ESCAPE_NONE, &out->subject, e);
	if (rc == 0)
		rc = tpl_render(c->text, root, ESCAPE_NONE, &out->text, e);
	if (rc == 0)
		rc = tpl_render(c->html, root, ESCAPE_HTML, &out->html, e);
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
	buf_free(&out->text);
	buf_free(&out->html);
}
