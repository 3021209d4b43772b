/*
 * testmail: `tidings test-mail [-S SUB]...`, a short message through the
 * configured delivery, to check the SMTP settings (or the mbox/maildir
 * path) before the first digest depends on them.
 *
 * It goes to the recipients of each subscription named with -S, or of the
 * first subscription when none is named: a test should not mail every
 * reader.  Nothing is fetched and nothing is recorded; the exit status is
 * the one a run would have for the same delivery (75 to retry, 69 refused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "deliver.h"
#include "message.h"
#include "util.h"

static const char *const deliver_names[] = {[DELIVER_SMTP] = "smtp",
                                            [DELIVER_MBOX] = "mbox",
                                            [DELIVER_MAILDIR] = "maildir",
                                            [DELIVER_STDOUT] = "stdout"};

/* Where the message went, for the body and for the line on stdout. */
static char *
describe_delivery(const struct config *cfg)
{
	if (cfg->deliver == DELIVER_SMTP)
		return str_printf("smtp %s:%d", cfg->smtp.host, cfg->smtp.port);
	if (cfg->deliver == DELIVER_STDOUT)
		return str_dup("stdout");
	return str_printf("%s %s", deliver_names[cfg->deliver], cfg->deliver_path);
}

static int
build(const struct config *cfg, const struct sub_conf *sub, const char *via, struct buf *out,
      struct err *e)
{
	char *text = str_printf("This is a test message from tidings %s, sent with\n"
	                        "`tidings test-mail` through %s to the recipients of\n"
	                        "the subscription '%s'.  Nothing was fetched or recorded.\n",
	                        PACKAGE_VERSION, via, sub->name);
	char *html = text ? str_dup("<p>This is a test message from tidings "
	                            "(<code>tidings test-mail</code>). "
	                            "Nothing was fetched or recorded.</p>\n")
	                  : NULL;
	struct message_spec m = {
	    .from = cfg->from,
	    .to = sub->to.v,
	    .nto = sub->to.n,
	    .subject = "tidings test message",
	    .date = time(NULL),
	    .text = text,
	    .text_len = text ? strlen(text) : 0,
	    .html = html,
	    .html_len = html ? strlen(html) : 0,
	};
	char message_id[256];
	int rc;

	if (text == NULL || html == NULL) {
		free(text);
		free(html);
		return err_oom(e);
	}
	rc = message_build(&m, out, message_id, sizeof message_id, e);
	free(text);
	free(html);
	return rc;
}

static int
status_exit(enum delivery_status s)
{
	return s == DELIVERY_TEMPFAIL   ? EX_TEMPFAIL
	       : s == DELIVERY_PERMFAIL ? EX_UNAVAILABLE
	                                : EX_OK;
}

/* The subscriptions to write to: -S ones, else the first. */
static int
chosen_subs(const struct cli *c, const struct config *cfg, const struct sub_conf **out, size_t *n)
{
	*n = 0;
	if (c->subs.n == 0) {
		if (cfg->nsubs == 0) {
			fprintf(stderr, "tidings: %s has no subscription to send a test to\n",
			        cfg->path);
			return EX_CONFIG;
		}
		out[(*n)++] = &cfg->subs[0];
		return EX_OK;
	}
	for (size_t i = 0; i < c->subs.n; i++) {
		if ((out[*n] = config_sub(cfg, c->subs.v[i])) == NULL) {
			fprintf(stderr, "tidings: no subscription named '%s' in %s\n", c->subs.v[i],
			        cfg->path);
			return EX_USAGE;
		}
		(*n)++;
	}
	return EX_OK;
}

static int
send_tests(const struct cli *c, const struct config *cfg, const struct sub_conf **subs, size_t n,
           struct buf *bodies, struct outmsg *msgs, const char *from, const char *via)
{
	struct err e = {0};
	int rc = EX_OK;

	for (size_t i = 0; i < n; i++) {
		if (build(cfg, subs[i], via, &bodies[i], &e) < 0) {
			fprintf(stderr, "tidings: %s\n", e.msg);
			return e.code ? e.code : EX_SOFTWARE;
		}
		msgs[i] = (struct outmsg){.data = bodies[i].data,
		                          .len = bodies[i].len,
		                          .envelope_from = from,
		                          .rcpt = subs[i]->to.v,
		                          .nrcpt = subs[i]->to.n};
	}
	if (deliver(cfg, msgs, n, c->verbose ? stderr : NULL, &e) < 0) {
		fprintf(stderr, "tidings: %s\n", e.msg);
		return e.code ? e.code : EX_SOFTWARE;
	}
	for (size_t i = 0; i < n; i++) {
		int s = status_exit(msgs[i].status);

		if (msgs[i].status != DELIVERY_ACCEPTED)
			fprintf(stderr,
			        "tidings: subscription %s: test message not delivered: %s\n",
			        subs[i]->name, msgs[i].detail);
		else if (msgs[i].refused != DELIVERY_PENDING)
			fprintf(stderr,
			        "tidings: subscription %s: test message delivered, but %s\n",
			        subs[i]->name, msgs[i].detail);
		else if (!c->quiet && cfg->deliver != DELIVER_STDOUT)
			printf("subscription %s: test message accepted (%s)\n", subs[i]->name, via);
		if (s == EX_OK)
			s = status_exit(msgs[i].refused);
		if (s != EX_OK && (rc == EX_OK || rc == EX_TEMPFAIL))
			rc = s;
	}
	return rc;
}

int
cmd_test_mail(const struct cli *c)
{
	struct config cfg;
	struct err e = {0};
	const struct sub_conf **subs = NULL;
	struct buf *bodies = NULL;
	struct outmsg *msgs = NULL;
	char *from = NULL, *via = NULL;
	size_t n = 0;
	int rc;

	if (config_open(c->config_path, &cfg, stderr, &e) < 0) {
		fprintf(stderr, "tidings: %s\n", e.msg);
		return e.code ? e.code : EX_CONFIG;
	}
	subs = calloc(c->subs.n + 1, sizeof *subs);
	bodies = calloc(c->subs.n + 1, sizeof *bodies);
	msgs = calloc(c->subs.n + 1, sizeof *msgs);
	from = message_address(cfg.from);
	via = describe_delivery(&cfg);
	if (subs == NULL || bodies == NULL || msgs == NULL || from == NULL || via == NULL) {
		fprintf(stderr, "tidings: out of memory\n");
		rc = EX_OSERR;
	} else if ((rc = chosen_subs(c, &cfg, subs, &n)) == EX_OK) {
		rc = send_tests(c, &cfg, subs, n, bodies, msgs, from, via);
	}
	for (size_t i = 0; bodies != NULL && i < n; i++)
		buf_free(&bodies[i]);
	free(bodies);
	free(msgs);
	free(subs);
	free(from);
	free(via);
	config_free(&cfg);
	return rc;
}
