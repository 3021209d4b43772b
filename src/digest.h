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
 * many subscriptions show it.  The digests borrow from it: free it last.
 */
struct render_cache *render_cache_new(void);
void render_cache_free(struct render_cache *c);

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

struct digest_output {
	struct buf subject;
	struct buf text;
	struct buf html;
};

int digest_render(const struct digest_input *in, struct digest_templates *t,
                  struct digest_output *out, struct err *e);
void digest_output_free(struct digest_output *out);

#endif
