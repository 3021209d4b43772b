/*
 * history: page back through a feed's older items (see history.h).
 *
 * Each feed being paged has a pager: the URLs it fetched, the ids it
 * holds, and the next page to fetch.  Rounds of fetch_all() fetch every
 * pager's next page at once; each page, once read, names the next one.
 */
#include "history.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

struct pager {
	struct history_feed *hf;
	struct strv urls;       /* pages fetched or being fetched */
	struct history_ids ids; /* ids met so far (every page's, kept or not) */
	int wordpress;
	int page_no; /* of the last page read: 1 is the feed itself */
	char *next;  /* the page to fetch next, or NULL: done */
};

struct paging {
	struct pager *pg;
	size_t n;
	time_t since;
	int max_pages;
};

static const char *const stop_text[] = {
    [HISTORY_NOT_NEEDED] = "the feed itself reaches back to the date",
    [HISTORY_REACHED] = "reached the date",
    [HISTORY_END] = "no older page",
    [HISTORY_REPEAT] = "a page came back again",
    [HISTORY_MAX_PAGES] = "fetch.max-pages reached",
    [HISTORY_FAILED] = "failed",
};

const char *
history_stop_text(enum history_stop s)
{
	return stop_text[s];
}

int
history_wants_older(const struct feed *page, time_t since)
{
	int dated = 0;
	time_t oldest = 0;

	for (size_t i = 0; i < page->nitems; i++) {
		const struct item *it = &page->items[i];

		if (it->has_date && (!dated || it->published < oldest))
			oldest = it->published;
		dated |= it->has_date;
	}
	return dated && oldest >= since;
}

int
history_is_wordpress(const struct feed *f)
{
	const char *g = f->generator;

	for (; g != NULL && *g != '\0'; g++)
		if (strncasecmp(g, "wordpress", 9) == 0)
			return 1;
	return 0;
}

char *
history_wordpress_page(const char *url, int n)
{
	size_t end = strcspn(url, "#");
	const char *sep = memchr(url, '?', end) == NULL ? "?" : "&";

	/* "feed?" or "feed?a=1&" already end in a separator */
	if (end > 0 && (url[end - 1] == '?' || url[end - 1] == '&'))
		sep = "";
	return str_printf("%.*s%spaged=%d%s", (int)end, url, sep, n, url + end);
}

/* The slot for id (hash h): where it is, or the empty slot it would go in. */
static size_t
ids_slot(struct history_ids *s, const char *id, uint64_t h)
{
	size_t mask = s->cap - 1, i = (size_t)h & mask;

	for (;; i = (i + 1) & mask) {
		s->work++;
		if (s->slot[i].id == NULL ||
		    (s->slot[i].hash == h && strcmp(s->slot[i].id, id) == 0))
			return i;
	}
}

/* Twice the slots (16 at first), every id moved over.  -1 on OOM. */
static int
ids_grow(struct history_ids *s)
{
	struct history_ids bigger = {.cap = s->cap ? 2 * s->cap : 16, .n = s->n, .work = s->work};

	if ((bigger.slot = calloc(bigger.cap, sizeof *bigger.slot)) == NULL)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i].id != NULL)
			bigger.slot[ids_slot(&bigger, s->slot[i].id, s->slot[i].hash)] = s->slot[i];
	free(s->slot);
	*s = bigger;
	return 0;
}

int
history_ids_add(struct history_ids *s, const char *id)
{
	uint64_t h = hash64_str(id);
	size_t i;

	/* At most half full: a probe run stays short. */
	if (2 * (s->n + 1) > s->cap && ids_grow(s) < 0)
		return -1;
	i = ids_slot(s, id, h);
	if (s->slot[i].id != NULL)
		return 0;
	if ((s->slot[i].id = str_dup(id)) == NULL)
		return -1;
	s->slot[i].hash = h;
	s->n++;
	return 1;
}

void
history_ids_free(struct history_ids *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i].id);
	free(s->slot);
	memset(s, 0, sizeof *s);
}

static int
seen_url(const struct pager *pg, const char *url)
{
	for (size_t i = 0; i < pg->urls.n; i++)
		if (strcmp(pg->urls.v[i], url) == 0)
			return 1;
	return 0;
}

/*
 * Move the page's items that are new and not too old to the feed; the
 * rest stay in page (freed with it).  How many ids were new goes in
 * *fresh.  -1 on OOM.
 */
static int
merge_page(struct pager *pg, struct feed *page, time_t since, size_t *fresh)
{
	struct feed *into = pg->hf->feed;
	struct item *v;

	*fresh = 0;
	v = realloc(into->items, (into->nitems + page->nitems + 1) * sizeof *v);
	if (v == NULL)
		return -1;
	into->items = v;
	for (size_t i = 0; i < page->nitems; i++) {
		struct item *it = &page->items[i];
		int rc = history_ids_add(&pg->ids, it->id);

		if (rc < 0)
			return -1;
		*fresh += (size_t)rc;
		if (rc == 0 || (it->has_date && it->published < since))
			continue;
		into->items[into->nitems++] = *it;
		memset(it, 0, sizeof *it);
		pg->hf->added++;
	}
	return 0;
}

/* The page after this one, or NULL (none, or OOM: oom set). */
static char *
next_of(const struct pager *pg, const struct feed *page, int *oom)
{
	char *u = NULL;

	if (page->next != NULL)
		u = str_dup(page->next);
	else if (page->prev_archive != NULL)
		u = str_dup(page->prev_archive);
	else if (pg->wordpress)
		u = history_wordpress_page(pg->hf->url, pg->page_no + 1);
	else
		return NULL;
	*oom = u == NULL;
	return u;
}

static void
fail(struct pager *pg, const char *url, const char *why)
{
	pg->hf->stop = HISTORY_FAILED;
	/* A long URL is cut, never the cause. */
	snprintf(pg->hf->detail, sizeof pg->hf->detail, "%.*s: %.200s",
	         (int)(sizeof pg->hf->detail - 210), url, why);
}

/*
 * After reading a page (the feed itself first): stop, or set the next
 * page.  wants: history_wants_older() of the page before its items moved.
 */
static void
plan_next(struct pager *pg, const struct feed *page, int wants, size_t fresh,
          const struct paging *P)
{
	int oom = 0;
	char *next;

	if (!wants) {
		pg->hf->stop = pg->page_no == 1 ? HISTORY_NOT_NEEDED : HISTORY_REACHED;
		return;
	}
	if (fresh == 0) {
		pg->hf->stop = HISTORY_REPEAT;
		return;
	}
	if ((next = next_of(pg, page, &oom)) == NULL) {
		if (oom)
			fail(pg, pg->hf->url, "out of memory");
		else
			pg->hf->stop = HISTORY_END;
		return;
	}
	if (seen_url(pg, next))
		pg->hf->stop = HISTORY_REPEAT;
	else if (pg->hf->pages >= (size_t)P->max_pages)
		pg->hf->stop = HISTORY_MAX_PAGES;
	else if (strv_push(&pg->urls, next) < 0)
		fail(pg, pg->hf->url, "out of memory");
	else {
		pg->next = next;
		return;
	}
	free(next);
}

static void
read_page(struct pager *pg, const char *url, struct fetch_result *res, const struct paging *P)
{
	struct feed page;
	struct err e = {0};
	size_t fresh = 0;
	int wants;

	memset(&page, 0, sizeof page);
	if (feed_parse(res->body, res->len, url, &page, &e) < 0) {
		fail(pg, url, e.msg);
		return;
	}
	pg->page_no++;
	pg->hf->pages++;
	wants = history_wants_older(&page, P->since);
	if (merge_page(pg, &page, P->since, &fresh) < 0)
		fail(pg, url, "out of memory");
	else
		plan_next(pg, &page, wants, fresh, P);
	feed_free(&page);
}

static void
on_page(const struct fetch_request *req, struct fetch_result *res, void *arg)
{
	struct pager *pg = req->userdata;
	char *url = pg->next;

	pg->next = NULL;
	if (res->outcome == FETCH_GONE || res->http_status == 404)
		pg->hf->stop = HISTORY_END; /* WordPress past its last page */
	else if (res->outcome != FETCH_OK)
		fail(pg, url,
		     res->outcome == FETCH_NOT_MODIFIED ? "HTTP 304 Not Modified" : res->error);
	else
		read_page(pg, url, res, arg);
	free(url);
}

static int
start(struct pager *pg, struct history_feed *hf, const struct paging *P)
{
	struct feed *f = hf->feed;

	memset(pg, 0, sizeof *pg);
	pg->hf = hf;
	pg->page_no = 1;
	pg->wordpress = history_is_wordpress(f);
	hf->pages = hf->added = 0;
	hf->stop = HISTORY_NOT_NEEDED;
	hf->detail[0] = '\0';
	if (strv_push(&pg->urls, hf->url) < 0)
		return -1;
	plan_next(pg, f, history_wants_older(f, P->since), 1, P);
	/* The ids are needed only to merge older pages: most feeds have none to read. */
	for (size_t i = 0; pg->next != NULL && i < f->nitems; i++)
		if (history_ids_add(&pg->ids, f->items[i].id) < 0)
			return -1;
	return 0;
}

/* One round: every pager's next page.  Returns -1 when fetch_all could not run. */
static int
round_of_pages(struct paging *P, struct fetch_request *reqs, const struct fetch_options *opt,
               size_t *nreq, struct err *e)
{
	size_t k = 0;

	for (size_t i = 0; i < P->n; i++) {
		struct pager *pg = &P->pg[i];

		if (pg->next == NULL)
			continue;
		reqs[k++] = (struct fetch_request){
		    .url = pg->next,
		    .user_agent = pg->hf->user_agent,
		    .proxy = pg->hf->proxy,
		    .insecure = pg->hf->insecure,
		    .allow_file = pg->hf->allow_file,
		    .userdata = pg,
		};
	}
	*nreq = k;
	return k ? fetch_all(reqs, k, opt, on_page, P, e) : 0;
}

int
history_extend(struct history_feed *hf, size_t n, time_t since, int max_pages,
               const struct fetch_options *opt, struct err *e)
{
	struct paging P = {calloc(n + 1, sizeof *P.pg), n, since, max_pages};
	struct fetch_request *reqs = calloc(n + 1, sizeof *reqs);
	size_t nreq = 1;
	int rc = 0;

	if (P.pg == NULL || reqs == NULL)
		rc = err_oom(e);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (start(&P.pg[i], &hf[i], &P) < 0)
			rc = err_oom(e);
	while (rc == 0 && nreq > 0)
		rc = round_of_pages(&P, reqs, opt, &nreq, e);
	for (size_t i = 0; P.pg != NULL && i < n; i++) {
		if (P.pg[i].next != NULL)
			fail(&P.pg[i], P.pg[i].next, e->msg);
		free(P.pg[i].next);
		strv_free(&P.pg[i].urls);
		history_ids_free(&P.pg[i].ids);
	}
	free(P.pg);
	free(reqs);
	return rc;
}
