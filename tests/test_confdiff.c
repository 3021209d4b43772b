/*
 * The differential test of the config parser: every config here (and
 * conf/example.conf) is loaded with conftree's parser, as tidings does,
 * and with libconfuse's (confuse_legacy.c, the loader tidings had before);
 * the struct config, field by field, and every message, word for word,
 * must be the same; likewise for the config fuzzer's seeds
 * (tests/fuzz/seeds/config: inputs on which the parsers once differed).  libconfuse's include stack
 * is global and not unwound after an error, so its load runs in a child process.
 */
#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "confkit.h"
#include "confuse_legacy.h"
#include "conftree.h"

#define FEED  "feed inodes { url = \"https://inodes.org/feed/\" }\n"
#define SUB   "subscription s { to = {\"a@b.example\"} }\n"
#define FILES 12
/* Files 1 to 9, each including the next: with t.conf's, ten deep at file 10. */
#define INCLUDES_1_TO_9                                                                            \
	{"1", "include(\"2\")"}, {"2", "include(\"3\")"}, {"3", "include(\"4\")"},                 \
	    {"4", "include(\"5\")"}, {"5", "include(\"6\")"}, {"6", "include(\"7\")"},             \
	    {"7", "include(\"8\")"}, {"8", "include(\"9\")"},                                      \
	{                                                                                          \
		"9", "\ninclude(\"10\")"                                                           \
	}

struct file {
	const char *name, *text;
};

/* t.conf first, then the files it includes. */
static const struct file cases[][FILES] = {
    {{"t.conf", HEAD FEED SUB}},
    {{"t.conf", HEAD "froom = \"x\"\n"}},
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n tgas = {\"x\"}\n}\n"}},
    {{"t.conf", HEAD FEED "feed inodes { url = \"http://b.example/\" }\n"}},
    {{"t.conf", HEAD FEED SUB "\n" SUB}},
    {{"t.conf", HEAD "smtp { host = \"a.example\" }\nsmtp { port = 25 }\n"}},
    {{"t.conf", HEAD "fetch { timeout = 5 }\n\nfetch { parallel = 3 }\n"}},
    {{"t.conf", HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n feeds = {\"inodez\"}\n}\n"}},
    {{"t.conf", HEAD "feed a {\n url = \"ftp://a.example/x\"\n}\n"}},
    {{"t.conf", "from = \"not an address\"\ntemplates = \"tpl\"\n"}},
    {{"t.conf", HEAD FEED "subscription s {\n to = {\"ok@b.example\",\n   \"broken\"}\n}\n"}},
    {{"t.conf", HEAD "state = \"${TIDINGS_TEST_UNSET}/x\"\n"}},
    {{"t.conf", HEAD "state = ${TIDINGS_TEST_UNSET}\n"}},
    {{"t.conf", HEAD "state = \"${TIDINGS_TEST_UNSET:-st}\"\n" FEED SUB}},
    {{"t.conf", HEAD "fetch {\n max-size = \"10T\"\n}\n"}},
    {{"t.conf", HEAD "smtp {\n tls = \"ssl\"\n}\n"}},
    {{"t.conf", "from = \"a@b.example\"\ntemplates = \"tpl\"\ndeliver = \"smtp\"\n"}},
    {{"t.conf", "from = \"a@b.example\"\ntemplates = \"tpl\"\n" FEED SUB}},
    {{"t.conf",
      HEAD "deliver = \"smtp\"\nsmtp {\n host = \"mail.example.org\"\n tls = \"none\"\n}\n"}},
    {{"t.conf", HEAD "deliver = \"smtp\"\nsmtp {\n host = \"h.example\"\n port = 2525\n"
                     " verify = off\n allow-plaintext = YES\n sessions = 3\n}\n" FEED SUB}},
    /* typed values */
    {{"t.conf", HEAD "smtp {\n port = \"25x\"\n}\n"}},
    {{"t.conf", HEAD "smtp {\n port = 0x19\n}\n"}},
    {{"t.conf", HEAD "smtp {\n port = \"\"\n}\n"}},
    {{"t.conf", HEAD "smtp {\n port = 99999999999999999999999\n}\n"}},
    {{"t.conf", HEAD "smtp {\n verify = maybe\n}\n"}},
    {{"t.conf",
      HEAD FEED "feed b {\n url = \"http://b.example/\"\n active = no\n insecure = True\n}\n" SUB}},
    {{"t.conf", HEAD "fetch {\n timeout = -1\n parallel = 0\n}\n"}},
    /* lists */
    {{"t.conf", HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n to += {\"c@d.example\"}\n"
                          " tags += \"x\"\n tags += {\"y\", \"z\"}\n}\n"}},
    {{"t.conf",
      HEAD FEED "subscription s {\n to = {\"a@b.example\", \"c@d.example\"}\n to = {}\n}\n"}},
    {{"t.conf", HEAD FEED "subscription s {\n to = \"a@b.example\"\n to = {\"x\", \"y\"}\n to = "
                          "{\"e@f.example\"}\n}\n"}},
    {{"t.conf", HEAD "from += \"x\"\n"}},
    {{"t.conf", HEAD FEED "subscription s {\n to = {\"a@b.example\",}\n}\n"}},
    {{"t.conf", HEAD FEED "subscription s {\n to = {\"a@b.example\" \"c@d.example\"}\n}\n"}},
    /* sections */
    {{"t.conf", HEAD "feed {\n url = \"http://a.example/\"\n}\n"}},
    {{"t.conf", HEAD "feed a b {\n}\n"}},
    {{"t.conf", HEAD "smtp \"x\" {\n}\n"}},
    {{"t.conf", HEAD FEED "}\n"}},
    {{"t.conf", HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n"}},
    {{"t.conf", HEAD "from\n"}},
    {{"t.conf", HEAD "from = \n"}},
    {{"t.conf", HEAD "from = {\"a\"}\n"}},
    {{"t.conf", HEAD "= \"x\"\n"}},
    {{"t.conf", HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n template = \"nope\"\n}\n"
                          "subscription s {\n max-items = 5\n}\n"}},
    {{"t.conf", HEAD "feed a { url = \"http://a.example/\" title = \"A\" }\n"
                     "feed a { tags = {\"t\"} }\n" SUB}},
    /* strings */
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n title = \"t\\tab\\x41\\101\\\"q\\\\ "
                     "\\e\"\n}\n" SUB}},
    {{"t.conf", HEAD "feed a {\n url = 'http://a.example/'\n title = 'it\\'s \\n \\\\'\n}\n" SUB}},
    /* escapes libconfuse's lexer refuses */
    {{"t.conf", HEAD "smtp {\n host = \"h\"\n password = \"s3\\9cret\"\n}\n" FEED SUB}},
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n title = \"[\\08]\"\n}\n" SUB}},
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n title = \"x\\400y\"\n}\n" SUB}},
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n title = \"\\1234\\19\"\n}\n" SUB}},
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n title = \"\\377\\12\\7\"\n}\n" SUB}},
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n title = \"two\nlines\"\n"
                     " user-agent = \"x\\\ny\"\n}\n" SUB}},
    {{"t.conf",
      HEAD "# a comment\n// another\n/* a\n block */\nfeed a { url = http://a.example/x }\n" SUB}},
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n title = \"unterminated\n}\n"}},
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n title = 'unterminated\n}\n"}},
    {{"t.conf", HEAD "feed a {\n url = \"http://a.example/\"\n}\n\"from"}},
    {{"t.conf", HEAD "smtp {\n host = \"h\"\n password = \"hunter2\"\n port = hunter2\n}\n"}},
    /* comments: libconfuse 3.3 lets them pass only where a name may come */
    {{"t.conf", HEAD FEED "subscription s {\n to = {\"a@b.example\", # c\n \"c@d.example\"}\n}\n"}},
    {{"t.conf", HEAD FEED "subscription s {\n to = { /* c\n d */ \"a@b.example\"}\n}\n"}},
    {{"t.conf", HEAD "state = // c\n\"x\"\n"}},
    {{"t.conf", HEAD "feed # c\n a { url = \"http://a.example/\" }\n" SUB}},
    {{"t.conf", HEAD "feed a /* c */ {\n url = \"http://a.example/\" #\n}\n" SUB}},
    {{"t.conf", HEAD "include # c\n(\"a.conf\")\n"}},
    {{"t.conf", HEAD FEED SUB "###  trailing, no newline  "}},
    {{"t.conf", HEAD FEED SUB "/* never closed\n"}},
    {{"t.conf", HEAD "+\n*\n" FEED SUB}},
    /* names holding | or =: libconfuse 3.3 reads a path */
    {{"t.conf", HEAD "smtp|host = \"h.example\"\n" FEED SUB}},
    {{"t.conf", HEAD FEED "\"feed=inodes|title\" = \"T\"\n" SUB}},
    {{"t.conf", HEAD FEED "\"feed='ino\\\\des'|title\" = \"T\"\n" SUB}},
    {{"t.conf", HEAD FEED "\"feed=nope|url\" = \"x\"\n" SUB}},
    {{"t.conf", HEAD "\"smtp=x|host\" = \"h\"\n" FEED SUB}},
    {{"t.conf", HEAD "\"feed|url\" = \"h\"\n" FEED SUB}},
    {{"t.conf", HEAD "\"|x\" = \"y\"\n\"fetch|\" = 3\n"}},
    /* include() */
    {{"t.conf", HEAD "include(\"feeds.conf\")\n" SUB}, {"feeds.conf", FEED}},
    {{"t.conf", HEAD "include(\"sub/feeds.conf\")\n" SUB},
     {"sub/feeds.conf", "include(\"more.conf\")\n"},
     {"sub/more.conf", FEED}},
    {{"t.conf", HEAD "include(\"missing.conf\")\n"}},
    {{"t.conf", HEAD "include()\n"}},
    {{"t.conf", HEAD "include(\"a.conf\", \"b.conf\")\n"}},
    {{"t.conf", HEAD "include \"a.conf\"\n"}},
    {{"t.conf", HEAD "include(\"a.conf\"\n"}},
    {{"t.conf", HEAD "include(\"t.conf\")\n"}},
    {{"t.conf", HEAD "include(\"feeds.conf\")\n" SUB}, {"feeds.conf", FEED "fede x {}\n"}},
    {{"t.conf", HEAD "include(\"feeds.conf\")\n" FEED SUB}, {"feeds.conf", FEED}},
    {{"t.conf", HEAD "include(\"feeds.conf\")\n" SUB},
     {"feeds.conf", "feed x {\n url = 5\n port = 3\n}\n"}},
    {{"t.conf", HEAD "include(\"a.conf\")\n"}, {"a.conf", "feed x {\n"}},
    {{"t.conf", HEAD "feed x { include(\"a.conf\") }\n"}, {"a.conf", FEED}},
    {{"t.conf", HEAD "include(\"1\")\n" FEED SUB},
     INCLUDES_1_TO_9,
     {"10", "\n\ninclude(\"11\")"},
     {"11", "state = \"x\""}},
    {{"t.conf", HEAD "include(\"1\")\n" FEED SUB}, INCLUDES_1_TO_9, {"10", "\n\nstate = \"x\""}},
};

/* The load's result, its message, its diagnostics and the config, as text. */
static void
dump_strv(FILE *o, const char *k, const struct strv *v)
{
	fprintf(o, "%s:", k);
	for (size_t i = 0; i < v->n; i++)
		fprintf(o, " [%s]", v->v[i]);
	fputc('\n', o);
}

#define S(k, v) fprintf(o, "%s: %s\n", k, (v) ? (v) : "(null)")
#define N(k, v) fprintf(o, "%s: %lld\n", k, (long long)(v))

static void
dump_config(FILE *o, const struct config *c)
{
	S("path", c->path), S("dir", c->dir), S("from", c->from), S("state", c->state_path);
	S("templates", c->templates_dir), N("retention", c->retention), N("deliver", c->deliver);
	S("deliver_path", c->deliver_path), dump_strv(o, "sendmail", &c->sendmail);
	N("f.timeout", c->fetch.timeout), N("f.parallel", c->fetch.parallel);
	N("f.per_host", c->fetch.per_host), N("f.max_size", c->fetch.max_size);
	S("f.ua", c->fetch.user_agent), N("f.report", c->fetch.report_after);
	N("f.pages", c->fetch.max_pages), S("f.proxy", c->fetch.proxy);
	S("s.host", c->smtp.host), N("s.port", c->smtp.port), N("s.tls", c->smtp.tls);
	N("s.verify", c->smtp.verify), S("s.ca", c->smtp.ca_file), S("s.user", c->smtp.user);
	S("s.password", c->smtp.password), N("s.auth", c->smtp.auth), S("s.helo", c->smtp.helo);
	N("s.sessions", c->smtp.sessions), N("s.plain", c->smtp.allow_plaintext);
	N("s.timeout", c->smtp.timeout);
	for (size_t i = 0; i < c->nfeeds; i++) {
		const struct feed_conf *f = &c->feeds[i];

		S("feed", f->name), S("url", f->url), S("title", f->title),
		    dump_strv(o, "tags", &f->tags);
		N("interval", f->interval), S("ua", f->user_agent), N("insecure", f->insecure);
		S("proxy", f->proxy), N("active", f->active), S("file", f->file),
		    N("line", f->line);
	}
	for (size_t i = 0; i < c->nsubs; i++) {
		const struct sub_conf *s = &c->subs[i];

		S("sub", s->name), dump_strv(o, "to", &s->to), dump_strv(o, "to_addr", &s->to_addr);
		dump_strv(o, "feeds", &s->feeds), dump_strv(o, "tags", &s->tags);
		dump_strv(o, "exclude", &s->exclude_tags), S("subject", s->subject);
		S("template", s->template), N("max", s->max_items),
		    N("full", s->full_items_per_feed);
		N("first", s->first_run), S("unsub", s->list_unsubscribe), N("deliver", s->deliver);
		S("deliver_path", s->deliver_path), S("file", s->file), N("line", s->line);
	}
}

static char *
load_dump(const char *path, int (*parse)(struct conftree *, const struct conftree_load *))
{
	struct config cfg;
	struct err e = {.code = 0};
	char *text = NULL;
	size_t len;
	FILE *o = open_memstream(&text, &len);
	int rc;

	ck_assert_ptr_nonnull(o);
	rc = config_load_with(path, &cfg, o, parse, &e);
	fprintf(o, "rc %d code %d: %s\n", rc, rc < 0 ? e.code : 0, rc < 0 ? e.msg : "");
	if (rc == 0) {
		dump_config(o, &cfg);
		config_free(&cfg);
	}
	fclose(o);
	return text;
}

/* libconfuse's load, in a child: its dump through a pipe. */
static char *
legacy_dump(const char *path)
{
	int fd[2], status;
	char *text = NULL, chunk[4096];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fd), 0);
	if ((pid = fork()) == 0) {
		char *d = load_dump(path, legacy_parse);

		close(fd[0]);
		_exit(write(fd[1], d, strlen(d)) == (ssize_t)strlen(d) ? 0 : 1);
	}
	ck_assert_int_gt(pid, 0);
	close(fd[1]);
	while ((n = read(fd[0], chunk, sizeof chunk)) > 0) {
		text = realloc(text, len + (size_t)n + 1);
		ck_assert_ptr_nonnull(text);
		memcpy(text + len, chunk, (size_t)n);
		len += (size_t)n;
		text[len] = '\0';
	}
	close(fd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return text ? text : strdup("");
}

static void
compare(const char *path)
{
	char *now = load_dump(path, conftree_parse), *then = legacy_dump(path);

	if (strcmp(now, then) != 0)
		fprintf(stderr, "%s\n--- conftree:\n%s--- libconfuse:\n%s", path, now, then);
	ck_assert_str_eq(now, then);
	free(now);
	free(then);
}

START_TEST(same_as_libconfuse)
{
	char path[PATH_MAX * 2];

	for (int k = 0; k < FILES && cases[_i][k].name; k++)
		tc_put(cases[_i][k].name, cases[_i][k].text, 0644);
	snprintf(path, sizeof path, "%s/t.conf", tc_dir);
	compare(path);
}
END_TEST

/* The config fuzzer's seeds (conf/example.conf, and inputs it found). */
START_TEST(fuzz_seeds_same)
{
	const char *top = getenv("TOP_SRCDIR");
	char dir[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	ck_assert_ptr_nonnull(top);
	snprintf(dir, sizeof dir, "%s/tests/fuzz/seeds/config", top);
	ck_assert_ptr_nonnull(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
		compare(path);
		n++;
	}
	closedir(dp);
	ck_assert_int_ge(n, 50);
}
END_TEST

START_TEST(example_conf_same)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[PATH_MAX * 2];

	ck_assert_ptr_nonnull(top);
	snprintf(path, sizeof path, "%s/conf/example.conf", top);
	compare(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("confdiff");
	TCase *tc = tcase_create("confdiff");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, tc_setup, tc_teardown);
	tcase_add_loop_test(tc, same_as_libconfuse, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, example_conf_same);
	tcase_add_test(tc, fuzz_seeds_same);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
