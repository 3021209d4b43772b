/*
 * testmail: `tidings test-mail [-S SUB]...`, a short message through the
 * configured delivery, to check the SMTP settings (or the mbox/maildir
 * path) before the first digest depends on them.
 *
 * It goes to each recipient of each subscription named with -S (or of the
 * first subscription when none is named: a test should not mail every
 * reader), one message each, through the subscription's own delivery,
 * as a run would send a digest.  Nothing is fetched and nothing is recorded; the exit status is
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

/* Where sub's messages go, as a person reads it (malloc'd; NULL on OOM). */
static char *
describe_delivery(const struct config *cfg, const struct sub_conf *sub)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (fp == NULL)
		return NULL;
	config_print_delivery(fp, cfg, sub->deliver, sub->deliver_path);
	if (fclose(fp) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * The test message to one recipient (mailbox: To, display name and all),
 * written to out; *len gets its size.
 */
static int
build(const struct config *cfg, const struct sub_conf *sub, const char *mailbox, const char *via,
      FILE *out, size_t *len, struct err *e)
{
	char *to[] = {(char *)mailbox};
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
	    .to = to,
	    .nto = 1,
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
	rc = message_write(&m, out, len, message_id, sizeof message_id, e);
	free(text);
	free(html);
	/* an unwritable file is $TMPDIR's fault */
	return rc < 0 && e->code == EX_IOERR ? err_prefix(e, "%s", temp_dir()) : rc;
}

/* The test message in a temporary file, as a run's digests are: NULL when it cannot be. */
static FILE *
message_file(const struct config *cfg, const struct sub_conf *sub, size_t k, const char *via,
             size_t *len, struct err *e)
{
	FILE *f;

	if (via == NULL) {
		err_oom(e);
		return NULL;
	}
	if ((f = temp_file("test message", e)) != NULL &&
	    build(cfg, sub, sub->to.v[k], via, f, len, e) < 0) {
		fclose(f);
		f = NULL;
	}
	return f;
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

/*
 * One message to one recipient of sub, through sub's own delivery, as a
 * run would send it (recipients never see each other).  The exit status
 * it makes.
 */
static int
send_one(const struct cli *c, const struct config *cfg, const struct sub_conf *sub, size_t k,
         const char *from)
{
	struct config via_cfg = *cfg;
	struct outmsg m;
	struct err e = {0};
	char *via = describe_delivery(cfg, sub);
	size_t len = 0;
	FILE *file = message_file(cfg, sub, k, via, &len, &e);
	int rc;

	if (file == NULL) {
		fprintf(stderr, "tidings: %s\n", e.msg);
		free(via);
		return e.code ? e.code : EX_SOFTWARE;
	}
	m = (struct outmsg){.file = file,
	                    .len = len,
	                    .envelope_from = from,
	                    .rcpt = &sub->to_addr.v[k],
	                    .nrcpt = 1};
	via_cfg.deliver = sub->deliver;
	via_cfg.deliver_path = sub->deliver_path;
	if (deliver(&via_cfg, &m, 1, c->verbose ? stderr : NULL, &e) < 0) {
		fprintf(stderr, "tidings: %s\n", e.msg);
		rc = e.code ? e.code : EX_SOFTWARE;
	} else if (m.status != DELIVERY_ACCEPTED) {
		fprintf(stderr, "tidings: subscription %s: test message to %s not delivered: %s\n",
		        sub->name, sub->to_addr.v[k], m.detail);
		rc = delivery_exit(m.status);
	} else {
		if (!c->quiet && sub->deliver != DELIVER_STDOUT)
			printf("subscription %s: test message to %s accepted (%s)\n", sub->name,
			       sub->to_addr.v[k], via);
		rc = EX_OK;
	}
	free(via);
	fclose(file);
	return rc;
}

/* Every recipient of every chosen subscription: the worst status wins, 75 below the rest. */
static int
send_tests(const struct cli *c, const struct config *cfg, const struct sub_conf **subs, size_t n,
           const char *from)
{
	int rc = EX_OK;

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < subs[i]->to_addr.n; k++) {
			int s = send_one(c, cfg, subs[i], k, from);

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
	char *from = NULL;
	size_t n = 0;
	int rc;

	if (config_open(c->config_path, &cfg, stderr, &e) < 0) {
		fprintf(stderr, "tidings: %s\n", e.msg);
		return e.code ? e.code : EX_CONFIG;
	}
	subs = calloc(c->subs.n + 1, sizeof *subs);
	from = message_address(cfg.from);
	if (subs == NULL || from == NULL) {
		fprintf(stderr, "tidings: out of memory\n");
		rc = EX_OSERR;
	} else if ((rc = chosen_subs(c, &cfg, subs, &n)) == EX_OK) {
		rc = send_tests(c, &cfg, subs, n, from);
	}
	free(subs);
	free(from);
	config_free(&cfg);
	return rc;
}
