/*
 * digest: turn one subscription's picks into the subject, the text part
 * and the HTML part, through its Mustache templates.
 *
 * The data handed to the templates is documented in tidings.conf(5)
 * (TEMPLATES): subscription, date, count, since, owner, unsubscribe,
 * feeds[] {title, link, count, items[], more[], has_more}, problems[],
 * has_problems, undated.  Templates are compiled once per run.
 */
#ifndef TIDINGS_DIGEST_H
#define TIDINGS_DIGEST_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "select.h"
#include "state.h"
#include "template.h"
#include "util.h"

struct digest_templates;
struct render_cache;

/*
 * Each item's content, sanitised and turned into text once per run, however
 * many subscriptions show it, and kept in a temporary file (a big run
 * renders more than memory should hold).  Free it after the digests.
 */
int render_cache_new(struct render_cache **out, struct err *e);
void render_cache_free(struct render_cache *c);
/*
 * With -v: an item whose content is cut (over a megabyte of HTML, or
 * nested too deep) is told on log, one line naming the feed and the item.
 */
void render_cache_log(struct render_cache *c, FILE *log);
/*
 * Hand the item's content (else its summary) to the cache, so the caller
 * may free both (its other fields must stay): prerender renders it now,
 * stash only stores it, to be rendered if a digest shows the item in
 * full.  An item given to neither is rendered from its fields when needed.
 * Both may be called from several threads at once; digest_render from
 * one thread, once they are done.
 */
int digest_prerender(struct render_cache *c, const struct item *it, const struct feed_conf *fc,
                     struct err *e);
int digest_stash(struct render_cache *c, const struct item *it, struct err *e);

/* Compile every subscription's templates (text, HTML, subject), once. */
int digest_templates_load(const struct config *cfg, struct digest_templates **out, struct err *e);
void digest_templates_free(struct digest_templates *t);

struct digest_input {
	const struct config *cfg;
	const struct sub_conf *sub;
	const struct source *src;
	size_t nsrc;
	const struct picks *picks;
	const struct state *st;      /* for the failing-feeds footer; may be NULL */
	struct render_cache *cache;
	time_t now;
	int have_since;
	time_t since;
};

/* The parts are temporary files, rewound, of text_len and html_len bytes. */
struct digest_output {
	struct buf subject;
	FILE *text;
	size_t text_len;
	FILE *html;
	size_t html_len;
};

int digest_render(const struct digest_input *in, struct digest_templates *t,
                  struct digest_output *out, struct err *e);
void digest_output_free(struct digest_output *out);

#endif
