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
struct spool;

/* Compile every subscription's templates (text, HTML, subject), once. */
int digest_templates_load(const struct config *cfg, struct digest_templates **out, struct err *e);
void digest_templates_free(struct digest_templates *t);

struct digest_input {
	const struct config *cfg;
	const struct sub_conf *sub;
	const struct source *src;
	size_t nsrc;
	const struct picks *picks;
	const struct state *st; /* for the failing-feeds footer; may be NULL */
	struct spool *spool;    /* the items' content (spool.h) */
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
