/*
 * Unit tests for src/run.c through the commands' entry points (src/cli.h):
 * run, preview, catch-up, feeds and check, for real: a config naming
 * file:// feeds written to a temporary directory, delivering to an mbox
 * there.  Asserted: the exit status, the mbox and the state file.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

struct site {
	char dir[64];
	char conf[128], feed[128], mbox[128], state[128], out[128];
};

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
}

/* The whole file, or NULL if there is none. */
static char *
slurp(const char *path)
{
	struct buf b = {0};

	if (access(path, F_OK) != 0)
		return NULL;
	ck_assert_int_eq(buf_read_file(&b, path, 1 << 24), 0);
	return buf_steal(&b);
}

/* An RSS feed of the first n of these items. */
static void
write_feed(const struct site *s, int n)
{
	static const char *items[] = {
	    "<item><guid>id-1</guid><title>First post</title>"
	    "<link>http://example.org/1</link>"
	    "<pubDate>Mon, 02 Jan 2023 10:00:00 GMT</pubDate>"
	    "<description>The first body.</description></item>",
	    "<item><guid>id-2</guid><title>Second post</title>"
	    "<link>http://example.org/2</link>"
	    "<pubDate>Tue, 03 Jan 2023 10:00:00 GMT</pubDate>"
	    "<description>The second body.</description></item>",
	    "<item><guid>id-3</guid><title>Third post</title>"
	    "<link>http://example.org/3</link>"
	    "<pubDate>Wed, 04 Jan 2023 10:00:00 GMT</pubDate>"
	    "<description>The third body.</description></item>",
	};
	struct buf b = {0};
	int rc = buf_adds(&b, "<rss version=\"2.0\"><channel><title>Example</title>"
	                      "<link>http://example.org/</link>");

	for (int i = n - 1; i >= 0; i--)
		rc |= buf_adds(&b, items[i]);
	rc |= buf_adds(&b, "</channel></rss>\n");
	ck_assert_int_eq(rc, 0);
	write_file(s->feed, buf_str(&b));
	buf_free(&b);
}

static void
site_init(struct site *s)
{
	char *conf;

	strcpy(s->dir, "/tmp/test_run.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	snprintf(s->conf, sizeof s->conf, "%s/tidings.conf", s->dir);
	snprintf(s->feed, sizeof s->feed, "%s/feed.xml", s->dir);
	snprintf(s->mbox, sizeof s->mbox, "%s/mbox", s->dir);
	snprintf(s->state, sizeof s->state, "%s/state", s->dir);
	snprintf(s->out, sizeof s->out, "%s/out", s->dir);
	conf = str_printf("from = \"Tidings <tidings@example.org>\"\n"
	                  "state = \"%s\"\n"
	                  "templates = \"%s/templates\"\n"
	                  "deliver = \"mbox:%s\"\n"
	                  "feed example {\n  url = \"file://%s\"\n}\n"
	                  "subscription news {\n  to = {\"ann@example.org\"}\n"
	                  "  first-run = \"0\"\n}\n",
	                  s->state, TOP_SRCDIR, s->mbox, s->feed);
	ck_assert_ptr_nonnull(conf);
	write_file(s->conf, conf);
	free(conf);
	write_feed(s, 2);
}

/* Everything the site holds goes (the state's lock and journal too). */
static void
site_free(struct site *s)
{
	char *cmd = str_printf("rm -rf '%s'", s->dir);

	ck_assert_ptr_nonnull(cmd);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static struct cli
cli_for(const struct site *s)
{
	return (struct cli){.config_path = s->conf};
}

/* How many messages the mbox holds ("From " lines at the start of a line). */
static int
messages(const struct site *s)
{
	char *m = slurp(s->mbox);
	int n = 0;

	if (m == NULL)
		return 0;
	n = strncmp(m, "From ", 5) == 0;
	for (const char *p = m; (p = strstr(p, "\nFrom ")) != NULL; p++)
		n++;
	free(m);
	return n;
}

/* Does the state record item id for subscription sub? */
static int
recorded_for(const struct site *s, const char *sub, const char *id)
{
	char *st = slurp(s->state),
	     *want = str_printf("item\t%s\tfile://%s\t%s\t", sub, s->feed, id);
	int found;

	ck_assert_ptr_nonnull(want);
	found = st != NULL && strstr(st, want) != NULL;
	free(st);
	free(want);
	return found;
}

/* Does the state record item id for the subscription (news)? */
static int
recorded(const struct site *s, const char *id)
{
	return recorded_for(s, "news", id);
}

/* A command's standard output, into s->out. */
static int
to_file(const struct site *s, int (*cmd)(const struct cli *), const struct cli *c)
{
	int saved = dup(STDOUT_FILENO), fd = open(s->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc;

	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
	rc = cmd(c);
	fflush(stdout);
	ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
	close(fd);
	close(saved);
	return rc;
}

START_TEST(first_run_delivers_and_records)
{
	struct site s;
	struct cli c;
	char *mbox;

	site_init(&s);
	c = cli_for(&s);
	ck_assert_int_eq(cmd_run(&c), EX_OK);
	ck_assert_int_eq(messages(&s), 1);
	mbox = slurp(s.mbox);
	ck_assert_ptr_nonnull(strstr(mbox, "To: ann@example.org"));
	ck_assert_ptr_nonnull(strstr(mbox, "First post"));
	ck_assert_ptr_nonnull(strstr(mbox, "The second body."));
	free(mbox);
	ck_assert(recorded(&s, "id-1"));
	ck_assert(recorded(&s, "id-2"));
	site_free(&s);
}
END_TEST

START_TEST(second_run_sends_nothing)
{
	struct site s;
	struct cli c;
	char *before, *after;

	site_init(&s);
	c = cli_for(&s);
	ck_assert_int_eq(cmd_run(&c), EX_OK);
	before = slurp(s.mbox);
	ck_assert_int_eq(cmd_run(&c), EX_OK);
	after = slurp(s.mbox);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(messages(&s), 1);
	free(before);
	free(after);
	site_free(&s);
}
END_TEST

START_TEST(a_new_item_comes_alone)
{
	struct site s;
	struct cli c;
	char *mbox, *second;

	site_init(&s);
	c = cli_for(&s);
	ck_assert_int_eq(cmd_run(&c), EX_OK);
	ck_assert(!recorded(&s, "id-3"));
	write_feed(&s, 3);
	ck_assert_int_eq(cmd_run(&c), EX_OK);
	ck_assert_int_eq(messages(&s), 2);
	mbox = slurp(s.mbox);
	second = strstr(mbox, "\nFrom ");
	ck_assert_ptr_nonnull(second);
	ck_assert_ptr_nonnull(strstr(second, "Third post"));
	ck_assert_ptr_null(strstr(second, "First post"));
	ck_assert_ptr_null(strstr(second, "Second post"));
	free(mbox);
	ck_assert(recorded(&s, "id-3"));
	site_free(&s);
}
END_TEST

START_TEST(preview_does_not_record)
{
	struct site s;
	struct cli c;
	char *html;

	site_init(&s);
	c = cli_for(&s);
	c.html_out = s.out;
	ck_assert_int_eq(cmd_preview(&c), EX_OK);
	html = slurp(s.out);
	ck_assert_ptr_nonnull(html);
	ck_assert_ptr_nonnull(strstr(html, "<html"));
	ck_assert_ptr_nonnull(strstr(html, "The first body."));
	free(html);
	ck_assert_int_eq(messages(&s), 0);
	ck_assert(!recorded(&s, "id-1"));
	/* The run after it still sends both. */
	c.html_out = NULL;
	ck_assert_int_eq(cmd_run(&c), EX_OK);
	ck_assert_int_eq(messages(&s), 1);
	ck_assert(recorded(&s, "id-1"));
	site_free(&s);
}
END_TEST

START_TEST(dry_run_neither_delivers_nor_records)
{
	struct site s;
	struct cli c;
	char *out;

	site_init(&s);
	c = cli_for(&s);
	c.dry_run = 1;
	ck_assert_int_eq(to_file(&s, cmd_run, &c), EX_OK);
	out = slurp(s.out);
	ck_assert_ptr_nonnull(strstr(out, "Second post")); /* the message, on stdout */
	free(out);
	ck_assert_int_eq(messages(&s), 0);
	ck_assert(!recorded(&s, "id-2"));
	site_free(&s);
}
END_TEST

START_TEST(catch_up_records_without_sending)
{
	struct site s;
	struct cli c;

	site_init(&s);
	c = cli_for(&s);
	ck_assert_int_eq(cmd_catch_up(&c), EX_OK);
	ck_assert_int_eq(messages(&s), 0);
	ck_assert(recorded(&s, "id-1"));
	ck_assert(recorded(&s, "id-2"));
	ck_assert_int_eq(cmd_run(&c), EX_OK);
	ck_assert_int_eq(messages(&s), 0);
	site_free(&s);
}
END_TEST

START_TEST(feeds_lists_the_last_fetch)
{
	struct site s;
	struct cli c;
	char *out, *want;

	site_init(&s);
	c = cli_for(&s);
	ck_assert_int_eq(cmd_run(&c), EX_OK);
	ck_assert_int_eq(to_file(&s, cmd_feeds, &c), EX_OK);
	out = slurp(s.out);
	want = str_printf("file://%s", s.feed);
	ck_assert_ptr_nonnull(strstr(out, "FEED "));
	ck_assert_msg(strstr(out, "example ") != NULL && strstr(out, " ok ") != NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, want));
	free(want);
	free(out);
	site_free(&s);
}
END_TEST

START_TEST(check_tells_a_good_config_from_a_bad_one)
{
	struct site s;
	struct cli c;
	char *out;

	site_init(&s);
	c = cli_for(&s);
	ck_assert_int_eq(to_file(&s, cmd_check, &c), EX_OK);
	out = slurp(s.out);
	ck_assert_ptr_nonnull(strstr(out, "1 feed, 1 subscription"));
	free(out);
	write_file(s.conf, "feed {\n");
	ck_assert_int_eq(to_file(&s, cmd_check, &c), EX_CONFIG);
	ck_assert_int_eq(cmd_run(&c), EX_CONFIG);
	site_free(&s);
}
END_TEST

/*
 * A subscription whose digest cannot be made (a broken partial in its
 * template) is told and passed over: the one after it still gets its
 * digest, and only its items are recorded.  Mended, the next run sends
 * the one that waited, and nothing twice.
 */
START_TEST(a_digest_that_cannot_be_made_holds_back_only_its_own)
{
	struct site s;
	struct cli c;
	char *conf, *cmd, *mbox;

	site_init(&s);
	cmd = str_printf("mkdir '%s/templates' && cp '%s/templates/'* '%s/templates/' && "
	                 "printf '{{> broken}}\\n' > '%s/templates/late.txt' && "
	                 "printf '<p>late</p>\\n' > '%s/templates/late.html' && "
	                 "printf '{{#open}}\\n' > '%s/templates/broken.txt'",
	                 s.dir, TOP_SRCDIR, s.dir, s.dir, s.dir, s.dir);
	ck_assert_ptr_nonnull(cmd);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	conf = str_printf("from = \"tidings@example.org\"\nstate = \"%s\"\n"
	                  "templates = \"%s/templates\"\ndeliver = \"mbox:%s\"\n"
	                  "feed example {\n  url = \"file://%s\"\n}\n"
	                  "subscription late {\n  to = {\"bob@example.org\"}\n"
	                  "  template = \"late\"\n  first-run = \"0\"\n}\n"
	                  "subscription news {\n  to = {\"ann@example.org\"}\n"
	                  "  first-run = \"0\"\n}\n",
	                  s.state, s.dir, s.mbox, s.feed);
	ck_assert_ptr_nonnull(conf);
	write_file(s.conf, conf);
	free(conf);
	c = cli_for(&s);
	ck_assert_int_eq(cmd_run(&c), EX_DATAERR);
	ck_assert_int_eq(messages(&s), 1);
	mbox = slurp(s.mbox);
	ck_assert_ptr_nonnull(strstr(mbox, "To: ann@example.org"));
	free(mbox);
	ck_assert(recorded_for(&s, "news", "id-2"));
	ck_assert(!recorded_for(&s, "late", "id-1"));
	ck_assert(!recorded_for(&s, "late", "id-2"));

	cmd = str_printf("printf 'mended\\n' > '%s/templates/broken.txt'", s.dir);
	ck_assert_ptr_nonnull(cmd);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	ck_assert_int_eq(cmd_run(&c), EX_OK);
	ck_assert_int_eq(messages(&s), 2);
	mbox = slurp(s.mbox);
	ck_assert_ptr_nonnull(strstr(mbox, "To: bob@example.org"));
	ck_assert_ptr_nonnull(strstr(mbox, "mended"));
	free(mbox);
	ck_assert(recorded_for(&s, "late", "id-1"));
	site_free(&s);
}
END_TEST

START_TEST(an_unknown_subscription_is_a_usage_error)
{
	struct site s;
	struct cli c;

	site_init(&s);
	c = cli_for(&s);
	ck_assert_int_eq(strv_push(&c.subs, "nope"), 0);
	ck_assert_int_eq(cmd_run(&c), EX_USAGE);
	ck_assert_int_eq(messages(&s), 0);
	strv_free(&c.subs);
	site_free(&s);
}
END_TEST

static Suite *
run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, first_run_delivers_and_records);
	tcase_add_test(tc, second_run_sends_nothing);
	tcase_add_test(tc, a_new_item_comes_alone);
	tcase_add_test(tc, preview_does_not_record);
	tcase_add_test(tc, dry_run_neither_delivers_nor_records);
	tcase_add_test(tc, catch_up_records_without_sending);
	tcase_add_test(tc, feeds_lists_the_last_fetch);
	tcase_add_test(tc, check_tells_a_good_config_from_a_bad_one);
	tcase_add_test(tc, an_unknown_subscription_is_a_usage_error);
	tcase_add_test(tc, a_digest_that_cannot_be_made_holds_back_only_its_own);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(run_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
