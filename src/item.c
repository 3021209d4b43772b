/*
 * item: the item model's code: building an item's parts (for both parsers),
 * its identity hash, and letting go of parts as a run goes (release, pack).
 */
#include "item.h"

#include <ctype.h>
#include <libxml/uri.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

char *
item_url(const char *href, const char *base)
{
	xmlChar *u;
	char *r;

	if (base == NULL || *base == '\0')
		return str_dup(href);
	u = xmlBuildURI((const xmlChar *)href, (const xmlChar *)base);
	if (u == NULL)
		return str_dup(href);
	r = str_dup((const char *)u);
	xmlFree(u);
	return r;
}

char *
item_escaped(const char *text)
{
	struct buf b = BUF_INIT;

	/* buf_add of nothing terminates: "" in, "" out */
	if (buf_add_html_escaped(&b, text, strlen(text), HTML_ESC_QUOT) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int
item_add_tag(struct strv *tags, const char *raw)
{
	char *t = str_dup(raw);

	if (t == NULL)
		return -1;
	str_squeeze(t);
	if (*t == '\0' || tags->n >= ITEM_TAGS_MAX || strv_contains_icase(tags, t)) {
		free(t);
		return 0;
	}
	return strv_push_owned(tags, t);
}

int
item_add_enclosure(struct item *it, char *url, char *type, char *length)
{
	struct enclosure *en, *v;

	if (url == NULL || *url == '\0' || it->nenclosures >= ITEM_ENCLOSURES_MAX) {
		free(url);
		free(type);
		free(length);
		return 0;
	}
	v = realloc(it->enclosures, (it->nenclosures + 1) * sizeof *v);
	if (v == NULL) {
		free(url);
		free(type);
		free(length);
		return -1;
	}
	it->enclosures = v;
	en = &v[it->nenclosures++];
	en->url = url;
	en->type = type;
	en->length = length && isdigit((unsigned char)*length) ? strtoll(length, NULL, 10) : -1;
	free(length);
	return 0;
}

int
item_add_link(struct item *it, char *url, char *rel, char *type, char *title)
{
	struct item_link *v;

	if (url == NULL || *url == '\0' || it->nlinks >= ITEM_LINKS_MAX ||
	    (rel == NULL && (rel = str_dup("alternate")) == NULL) ||
	    (v = realloc(it->links, (it->nlinks + 1) * sizeof *v)) == NULL) {
		int full = url != NULL && (*url == '\0' || it->nlinks >= ITEM_LINKS_MAX);

		free(url);
		free(rel);
		free(type);
		free(title);
		return full ? 0 : -1;
	}
	it->links = v;
	v[it->nlinks++] = (struct item_link){.url = url, .rel = rel, .type = type, .title = title};
	return 0;
}

/* A packed item's strings belong to its feed's pack: let go of them, do not free them. */
static void
drop(char **p, int packed)
{
	if (!packed)
		free(*p);
	*p = NULL;
}

void
item_release(struct item *it, unsigned parts)
{
	if (parts & ITEM_CONTENT) {
		free(it->content);
		free(it->summary);
		it->content = it->summary = NULL;
	}
	if (parts & (ITEM_SHOWN | ITEM_BASE))
		drop(&it->base, it->packed);
	if (parts & ITEM_SHOWN) {
		drop(&it->title, it->packed);
		drop(&it->link, it->packed);
		drop(&it->author, it->packed);
		for (size_t i = 0; i < it->nenclosures; i++) {
			free(it->enclosures[i].url);
			free(it->enclosures[i].type);
		}
		free(it->enclosures);
		it->enclosures = NULL;
		it->nenclosures = 0;
		for (size_t i = 0; i < it->nlinks; i++) {
			free(it->links[i].url);
			free(it->links[i].rel);
			free(it->links[i].type);
			free(it->links[i].title);
		}
		free(it->links);
		it->links = NULL;
		it->nlinks = 0;
		free(it->duration);
		free(it->thumbnail);
		it->duration = it->thumbnail = NULL;
	}
	if (parts & ITEM_TAGS) {
		for (size_t i = 0; !it->packed && i < it->ntags; i++)
			free(it->tags[i]);
		if (!it->packed)
			free(it->tags);
		it->tags = NULL;
		it->ntags = 0;
	}
}

void
item_free(struct item *it)
{
	item_release(it, ITEM_CONTENT | ITEM_SHOWN | ITEM_TAGS);
	drop(&it->id, it->packed);
}

/* ---- packing ---- */

static size_t
str_room(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

static size_t
item_room(const struct item *it)
{
	size_t n = it->ntags * sizeof *it->tags;

	n += str_room(it->id) + str_room(it->title) + str_room(it->link) + str_room(it->author) +
	     str_room(it->base);
	for (size_t i = 0; i < it->ntags; i++)
		n += str_room(it->tags[i]);
	return n;
}

/* Copy *p to the pack at *at and free the original. */
static void
move_str(char **p, char **at)
{
	size_t n = str_room(*p);

	if (*p == NULL)
		return;
	memcpy(*at, *p, n);
	free(*p);
	*p = *at;
	*at += n;
}

static void
pack_item(struct item *it, char ***arrays, char **strings)
{
	if (it->ntags > 0) {
		char **tags = *arrays;

		memcpy(tags, it->tags, it->ntags * sizeof *tags);
		free(it->tags);
		it->tags = tags;
		*arrays += it->ntags;
		for (size_t i = 0; i < it->ntags; i++)
			move_str(&it->tags[i], strings);
	}
	move_str(&it->id, strings);
	move_str(&it->title, strings);
	move_str(&it->link, strings);
	move_str(&it->author, strings);
	move_str(&it->base, strings);
	it->packed = 1;
}

int
feed_pack(struct feed *f)
{
	size_t room = 0, ntags = 0;
	char **arrays, *strings;

	if (f->pack != NULL)
		return 0;
	for (size_t i = 0; i < f->nitems; i++) {
		room += item_room(&f->items[i]);
		ntags += f->items[i].ntags;
	}
	if (room == 0 || (f->pack = malloc(room)) == NULL)
		return room == 0 ? 0 : -1;
	/* The tag arrays first, where pointers are aligned; then the strings. */
	arrays = (char **)(void *)f->pack;
	strings = f->pack + ntags * sizeof *arrays;
	for (size_t i = 0; i < f->nitems; i++)
		pack_item(&f->items[i], &arrays, &strings);
	return 0;
}

char *
item_hash_id(const struct item *it)
{
	struct buf b = BUF_INIT;
	char *id;
	int r;

	r = buf_printf(&b, "%s\037%lld", it->title, it->has_date ? (long long)it->published : 0LL);
	if (r == 0 && *it->title == '\0' && !it->has_date)
		r = buf_printf(&b, "\037%s\037%s", it->link ? it->link : "",
		               it->content ? it->content : "");
	/* a hash of a cut buffer would be another id: out of memory is an error */
	if (r < 0) {
		buf_free(&b);
		return NULL;
	}
	id = str_printf("sha:%016llx", (unsigned long long)hash64(b.data, b.len));
	buf_free(&b);
	return id;
}
