/* Unit tests for src/config.c: broken configs each give one exact
 * FILE:LINE: message; good ones give the values and the defaults. */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "confkit.h"

#define FEED "feed inodes { url = \"https://inodes.org/feed/\" }\n"

static const struct broken {
	const char *text;
	const char *file; /* NULL: t.conf */
	int line;
	const char *msg;
} broken[] = {
    {HEAD "froom = \"x\"\n", NULL, 4, "no such option 'froom' (did you mean 'from'?)"},
    {HEAD "feed a {\n url = \"http://a.example/\"\n tgas = {\"x\"}\n}\n", NULL, 6,
     "no such option 'tgas' (did you mean 'tags'?)"},
    {HEAD FEED "feed inodes { url = \"http://b.example/\" }\n", NULL, 5,
     "duplicate feed name 'inodes' (the first is at line 4)"},
    {HEAD FEED
     "subscription s { to = {\"a@b.example\"} }\n\nsubscription s { to = {\"a@b.example\"} }\n",
     NULL, 7, "duplicate subscription name 's'"},
    {HEAD "smtp { host = \"a.example\" }\nsmtp { port = 25 }\n", NULL, 5, "a second smtp {} block"},
    {HEAD "fetch { timeout = 5 }\n\nfetch { parallel = 3 }\n", NULL, 6, "a second fetch {} block"},
    {HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n feeds = {\"inodez\"}\n}\n", NULL, 7,
     "subscription 's': no feed named 'inodez' (did you mean 'inodes'?)"},
    {HEAD "feed a {\n url = \"ftp://a.example/x\"\n}\n", NULL, 5, "only http, https and file URLs"},
    {HEAD "feed a {\n url = \"http://exa mple.org/\"\n}\n", NULL, 5, "does not parse"},
    {"from = \"not an address\"\ntemplates = \"tpl\"\n", NULL, 1,
     "from \"not an address\": not an email address"},
    {HEAD FEED "subscription s {\n to = {\"ok@b.example\",\n   \"broken\"}\n}\n", NULL, 7,
     "to \"broken\": not an email address"},
    {HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n template = \"nope\"\n}\n", NULL, 7,
     "template 'nope'"},
    {HEAD "state = \"${TIDINGS_TEST_UNSET}/x\"\n", NULL, 4, "${TIDINGS_TEST_UNSET} is not set"},
    {HEAD "deliver = \"smtp\"\nsmtp {\n host = \"localhost\"\n user = \"me\"\n password-file = "
          "\"nofile\"\n}\n",
     NULL, 8, "password-file"},
    {HEAD "state-retention = \"9x\"\n", NULL, 4, "state-retention = \"9x\": not a duration"},
    {HEAD "fetch {\n max-size = \"10T\"\n}\n", NULL, 5, "max-size = \"10T\": not a size"},
    {HEAD "smtp {\n tls = \"ssl\"\n}\n", NULL, 5,
     "tls = \"ssl\": must be \"starttls\", \"none\" or \"implicit\""},
    {HEAD "deliver = \"pigeon\"\n", NULL, 4,
     "must be smtp, sendmail, mbox:PATH, maildir:PATH or stdout"},
    {"from = \"a@b.example\"\ntemplates = \"tpl\"\ndeliver = \"smtp\"\n", NULL, 3,
     "deliver = \"smtp\" needs smtp { host"},
    {HEAD "deliver = \"smtp\"\nsmtp {\n host = \"mail.example.org\"\n tls = \"none\"\n}\n", NULL, 7,
     "allow-plaintext"},
    {HEAD "deliver = \"smtp\"\nsmtp {\n host = \"h.example\"\n user = \"me\"\n"
          " password-command = \"exit 3\"\n}\n",
     NULL, 8, "password-command failed (exit status 3)"},
    {HEAD "deliver = \"smtp\"\nsmtp {\n host = \"h.example\"\n user = \"me\"\n"
          " password-command = \"true\"\n}\n",
     NULL, 8, "password-command printed no password"},
    {HEAD
     "smtp {\n host = \"h.example\"\n user = \"me\"\n password = \"pw9\"\n auth = \"ntlm\"\n}\n",
     NULL, 8, "auth = \"ntlm\": must be \"plain\", \"login\", \"cram-md5\" or \"xoauth2\""},
    {HEAD "smtp {\n host = \"h.example\"\n helo = \"a b\"\n}\n", NULL, 6,
     "helo = \"a b\": not a host name"},
    {HEAD "smtp {\n host = \"h.example\"\n sessions = 0\n}\n", NULL, 6,
     "sessions = 0: must be from 1 to 64"},
    {HEAD "feed a {\n url = \"http://a.example/\"\n interval = \"1y\"\n}\n", NULL, 6,
     "interval = \"1y\": not a duration"},
    {HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n first-run = \"soon\"\n}\n", NULL, 7,
     "first-run = \"soon\": not a duration"},
    {HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n max-items = -1\n}\n", NULL, 7,
     "max-items = -1: must be from 0"},
    {HEAD "smtp {\n port = abc\n}\n", NULL, 5, "invalid integer value for option 'port'"},
    {"templates = \"tpl\"\ndeliver = \"stdout\"\n", NULL, 1, "from is not set"},
    {HEAD FEED "subscription s {\n tags = {\"x\"}\n}\n", NULL, 5, "has no recipients"},
    {HEAD "feed a {\n title = \"A\"\n}\n", NULL, 4, "feed 'a' has no url"},
    {HEAD "feed a {\n url = \"http://a.example/\"\n", NULL, 4, "this '{' is never closed"},
    {HEAD "\ninclude(\"missing.conf\")\n", NULL, 5, "No such file or directory"},
    {HEAD "include(\"sub/inc.conf\")\n", "sub/inc.conf", 2,
     "no such option 'urll' (did you mean 'url'?)"},
    {HEAD "deliver = \"mbox:\"\n", NULL, 4, "no path after 'mbox:'"},
    {HEAD FEED "subscription s {\n to = {\"Ann <a@b.example>\",\n   \"A@b.example\"}\n}\n", NULL, 7,
     "to \"A@b.example\": A@b.example is listed twice"},
    {HEAD FEED "subscription s {\n to = {\"Ann <ann@b.example> x\"}\n}\n", NULL, 6,
     "to \"Ann <ann@b.example> x\": not an email address"},
    {HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n deliver = \"fax\"\n}\n", NULL, 7,
     "deliver = \"fax\": must be smtp, sendmail,"},
    {HEAD FEED "subscription s {\n to = {\"a@b.example\"}\n deliver = \"smtp\"\n}\n", NULL, 7,
     "needs smtp { host"},
    {HEAD "sendmail = \"/nonexistent/sendmail -t\"\n" FEED
          "subscription s {\n to = {\"a@b.example\"}\n deliver = \"sendmail\"\n}\n",
     NULL, 4, "sendmail = \"/nonexistent/sendmail -t\": /nonexistent/sendmail: No such file"},
    {"from = \"a@b.example\"\ntemplates = \"tpl\"\ndeliver = \"sendmail\"\nsendmail = \" \"\n",
     NULL, 4, "sendmail = \" \": names no program"},
    {HEAD "smtp {\n host = \"localhost\"\n password = \"x\"\n password-file = \"pw\"\n}\n", NULL, 7,
     "set only one of password, password-file and password-command"},
    {HEAD "smtp {\n host = \"localhost\"\n user = \"me\"\n}\n", NULL, 6,
     "user is set but none of password"},
    {HEAD "feed a {\n url = \"file:\"\n}\n", NULL, 5, "names no file"},
    {HEAD FEED
     "subscription s {\n to = {\"a@b.example\"}\n list-unsubscribe = \"javascript:x\"\n}\n",
     NULL, 7, "list-unsubscribe"},
    {HEAD "smtp {\n verify = maybe\n}\n", NULL, 5, "invalid boolean value for option 'verify'"},
    {HEAD "fetch {\n parallel = 0\n}\n", NULL, 5, "parallel = 0: must be from 1"},
    {HEAD "feed a {\n url = http://a.example/x # unquoted is fine\n interval = 1x\n}\n", NULL, 6,
     "interval = \"1x\": not a duration"},
    /* libconfuse 3.3 miscounts lines after comments: the numbers are fixed. */
    {"# c\n// d\n/* e\n f */\n" HEAD "smtp {\n # x\n port = abc\n}\n", NULL, 10,
     "invalid integer value for option 'port'"},
    {"# one\n# two\n" HEAD
     "state-retention = \"1x\" # three\nfeed a {\n # four\n url = \"x:y\"\n}\n",
     NULL, 9, "url \"x:y\": only http"},
};

/* Nothing delivers over SMTP: a password-command is not run (it may ask a person). */
START_TEST(password_command_only_when_smtp_is_used)
{
	struct config cfg;
	struct err e = {0};
	char *diag = NULL, text[PATH_MAX * 2 + 256], marker[PATH_MAX + 16];

	snprintf(marker, sizeof marker, "%s/ran", tc_dir);
	unlink(marker);
	snprintf(text, sizeof text,
	         HEAD "smtp {\n host = \"h.example\"\n user = \"me\"\n"
	              " password-command = \"echo pw; touch %s\"\n}\n",
	         marker);
	ck_assert_int_eq(tc_load(text, &cfg, &diag, &e), 0);
	ck_assert_int_eq(access(marker, F_OK), -1);
	config_free(&cfg);
	free(diag);
}
END_TEST

START_TEST(broken_config_names_file_line)
{
	const struct broken *b = &broken[_i];
	struct config cfg;
	struct err e = {0};
	char *diag = NULL;

	tc_put("sub/inc.conf", "feed x {\n urll = \"http://a.example/\"\n}\n", 0644);
	tc_put("pw", "secret\n", 0600);
	ck_assert_int_eq(tc_load(b->text, &cfg, &diag, &e), -1);
	ck_assert_int_eq(e.code, EX_CONFIG);
	ck_assert_msg(tc_has_line(diag, b->file ? b->file : "t.conf", b->line, b->msg),
	              "case %d: want %s:%d: ...%s... in:\n%s", _i, b->file ? b->file : "t.conf",
	              b->line, b->msg, diag);
	free(diag);
}
END_TEST

START_TEST(all_errors_are_reported)
{
	struct config cfg;
	struct err e = {0};
	char *diag = NULL;

	/* Unknown options: every one, not only the first. */
	ck_assert_int_eq(tc_load(HEAD
	                         "froom = \"x\"\nfeed a {\n tgas = {}\n}\nsmtp { hots = \"h\" }\n",
	                         &cfg, &diag, &e),
	                 -1);
	ck_assert(tc_has_line(diag, "t.conf", 4, "'froom'"));
	ck_assert(tc_has_line(diag, "t.conf", 6, "'tgas'"));
	ck_assert(tc_has_line(diag, "t.conf", 8, "'hots' (did you mean 'host'?)"));
	ck_assert_str_eq(strrchr(e.msg, ':'), ": 3 errors");
	free(diag);
	diag = NULL;
	/* Checks of values: every one. */
	ck_assert_int_eq(tc_load("from = \"nobody\"\ntemplates = \"tpl\"\ndeliver = \"stdout\"\n"
	                         "state-retention = \"x\"\nfeed a { url = \"gopher://x/\" }\n"
	                         "subscription s { to = {\"bad\"} feeds = {\"b\"} }\n",
	                         &cfg, &diag, &e),
	                 -1);
	ck_assert(tc_has_line(diag, "t.conf", 1, "not an email address"));
	ck_assert(tc_has_line(diag, "t.conf", 4, "not a duration"));
	ck_assert(tc_has_line(diag, "t.conf", 5, "only http, https and file"));
	ck_assert(tc_has_line(diag, "t.conf", 6, "to \"bad\""));
	ck_assert(tc_has_line(diag, "t.conf", 6, "no feed named 'b'"));
	ck_assert_str_eq(strrchr(e.msg, ':'), ": 5 errors");
	free(diag);
}
END_TEST

START_TEST(defaults)
{
	struct config cfg;
	struct err e = {0};
	char *diag = NULL;
	const struct sub_conf *s;

	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	ck_assert_int_eq(
	    tc_load(HEAD FEED "subscription me { to = {\"me@example.org\"} }\n", &cfg, &diag, &e),
	    0);
	ck_assert_str_eq(diag, "");
	ck_assert_int_eq(cfg.fetch.timeout, 30);
	ck_assert_int_eq(cfg.fetch.parallel, 8);
	ck_assert_int_eq(cfg.fetch.per_host, 2);
	ck_assert_uint_eq(cfg.fetch.max_size, 10u * 1024 * 1024);
	/* No home page in AC_INIT: the version alone, no made-up URL. */
	ck_assert_str_eq(cfg.fetch.user_agent, "tidings/" PACKAGE_VERSION);
	ck_assert_ptr_null(cfg.fetch.proxy);
	ck_assert_ptr_null(cfg.feeds[0].proxy);
	ck_assert_int_eq(cfg.feeds[0].active, 1);
	ck_assert_int_eq(cfg.fetch.report_after, 3);
	ck_assert_int_eq(cfg.smtp.port, 587);
	ck_assert_int_eq(cfg.smtp.tls, TLS_STARTTLS);
	ck_assert_int_eq(cfg.smtp.verify, 1);
	ck_assert_int_eq(cfg.smtp.timeout, 60);
	ck_assert_ptr_null(cfg.smtp.password);
	ck_assert_int_eq(cfg.retention, 90 * 86400);
	ck_assert_str_eq(cfg.state_path, "/xdg/state/tidings/state");
	ck_assert_int_eq(cfg.deliver, DELIVER_STDOUT);
	ck_assert_uint_eq(cfg.nfeeds, 1);
	ck_assert_str_eq(cfg.feeds[0].name, "inodes");
	ck_assert_str_eq(cfg.feeds[0].url, "https://inodes.org/feed/");
	ck_assert_int_eq(cfg.feeds[0].line, 4);
	ck_assert_int_eq(cfg.feeds[0].interval, 0);
	ck_assert_ptr_null(cfg.feeds[0].title);
	s = config_sub(&cfg, "me");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->subject, "[{{subscription}}] {{headline}}");
	ck_assert_str_eq(s->template, "digest");
	ck_assert_int_eq(s->max_items, 200);
	ck_assert_int_eq(s->full_items_per_feed, 10);
	ck_assert_int_eq(s->first_run, 7 * 86400);
	ck_assert_uint_eq(s->feeds.n, 0);
	ck_assert_int_eq(s->line, 5);
	ck_assert_ptr_null(config_sub(&cfg, "you"));
	ck_assert_ptr_nonnull(config_feed(&cfg, "inodes"));
	ck_assert_ptr_null(config_feed(&cfg, "nope"));
	config_free(&cfg);
	free(diag);
	diag = NULL;
	/* No templates option: the installed ones. */
	ck_assert_int_eq(tc_load("from = \"a@b.example\"\ndeliver = \"stdout\"\n", &cfg, &diag, &e),
	                 0);
	ck_assert_str_eq(cfg.templates_dir, PKGDATADIR);
	config_free(&cfg);
	free(diag);
}
END_TEST

START_TEST(values_and_paths)
{
	struct config cfg;
	struct err e = {0};
	char *diag = NULL, want[PATH_MAX * 3];
	const struct feed_conf *f;
	const struct sub_conf *s;

	setenv("HOME", "/home/tester", 1);
	setenv("TIDINGS_TEST_HOST", "mail.example.org", 1);
	tc_put("sub/inc.conf", "include(\"more.conf\")\n", 0644);
	tc_put(
	    "sub/more.conf",
	    "feed local {\n url = \"file:feed.xml\"\n}\n"
	    "feed local2 { url = \"file://x/feed.xml\" }\nfeed abs { url = \"file:///srv/f.xml\" "
	    "}\n",
	    0644);
	ck_assert_int_eq(
	    tc_load(
	        "from = \"Me <me@example.org>\"\ntemplates = \"tpl\"\nstate = \"~/st\"\n"
	        "deliver = \"maildir:mail\"\nstate-retention = \"2w\"\n"
	        "include(\"sub/inc.conf\")\n"
	        "fetch { timeout = 5 parallel = 3 per-host = 1 max-size = \"512K\" "
	        "user-agent = \"ua/1\" report-after = 7 }\n"
	        "smtp { host = \"${TIDINGS_TEST_HOST}\" port = 2525 tls = \"none\" "
	        "allow-plaintext = true verify = false user = \"me\" password = \"pw1234\" timeout "
	        "= 9 }\n"
	        "feed inodes {\n url = \"https://inodes.org/feed/\"\n title = \"T\"\n"
	        " tags = {\"sysadmin\", \"linux\"}\n interval = \"1h\"\n insecure = true\n}\n"
	        "subscription john {\n to = {\"john@example.org\", \"J <j@example.org>\"}\n"
	        " feeds = {\"inodes\", \"local\"}\n tags = {\"linux\"}\n exclude-tags = {\"cup\"}\n"
	        " subject = \"news\"\n max-items = 0\n full-items-per-feed = 3\n"
	        " first-run = \"0\"\n list-unsubscribe = \"mailto:o@example.org\"\n}\n",
	        &cfg, &diag, &e),
	    0);
	ck_assert_str_eq(diag, "");
	ck_assert_str_eq(cfg.state_path, "/home/tester/st");
	ck_assert_int_eq(cfg.deliver, DELIVER_MAILDIR);
	snprintf(want, sizeof want, "%s/mail", tc_dir);
	ck_assert_str_eq(cfg.deliver_path, want);
	snprintf(want, sizeof want, "%s/tpl", tc_dir);
	ck_assert_str_eq(cfg.templates_dir, want);
	ck_assert_str_eq(cfg.dir, tc_dir);
	ck_assert_int_eq(cfg.retention, 14 * 86400);
	ck_assert_int_eq(cfg.fetch.timeout, 5);
	ck_assert_int_eq(cfg.fetch.parallel, 3);
	ck_assert_int_eq(cfg.fetch.per_host, 1);
	ck_assert_uint_eq(cfg.fetch.max_size, 512 * 1024);
	ck_assert_str_eq(cfg.fetch.user_agent, "ua/1");
	ck_assert_int_eq(cfg.fetch.report_after, 7);
	ck_assert_str_eq(cfg.smtp.host, "mail.example.org");
	ck_assert_int_eq(cfg.smtp.port, 2525);
	ck_assert_int_eq(cfg.smtp.tls, TLS_NONE);
	ck_assert_int_eq(cfg.smtp.verify, 0);
	ck_assert_int_eq(cfg.smtp.allow_plaintext, 1);
	ck_assert_str_eq(cfg.smtp.user, "me");
	ck_assert_str_eq(cfg.smtp.password, "pw1234");
	ck_assert_int_eq(cfg.smtp.timeout, 9);
	/* include() resolves against the including file, twice over. */
	f = config_feed(&cfg, "local");
	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof want, "file://%s/sub/feed.xml", tc_dir);
	ck_assert_str_eq(f->url, want);
	snprintf(want, sizeof want, "%s/sub/more.conf", tc_dir);
	ck_assert_str_eq(f->file, want);
	ck_assert_int_eq(f->line, 1);
	snprintf(want, sizeof want, "file://%s/sub/x/feed.xml", tc_dir);
	ck_assert_str_eq(config_feed(&cfg, "local2")->url, want);
	ck_assert_str_eq(config_feed(&cfg, "abs")->url, "file:///srv/f.xml");
	f = config_feed(&cfg, "inodes");
	ck_assert_str_eq(f->title, "T");
	ck_assert_uint_eq(f->tags.n, 2);
	ck_assert_str_eq(f->tags.v[1], "linux");
	ck_assert_int_eq(f->interval, 3600);
	ck_assert_int_eq(f->insecure, 1);
	s = config_sub(&cfg, "john");
	ck_assert_uint_eq(s->to.n, 2);
	ck_assert_str_eq(s->to.v[1], "J <j@example.org>");
	/* Parsed once: the envelope's bare addresses, in the same order. */
	ck_assert_uint_eq(s->to_addr.n, 2);
	ck_assert_str_eq(s->to_addr.v[0], "john@example.org");
	ck_assert_str_eq(s->to_addr.v[1], "j@example.org");
	/* No deliver of its own: the global one. */
	ck_assert_int_eq(s->deliver, DELIVER_MAILDIR);
	snprintf(want, sizeof want, "%s/mail", tc_dir);
	ck_assert_str_eq(s->deliver_path, want);
	ck_assert_uint_eq(s->feeds.n, 2);
	ck_assert_str_eq(s->exclude_tags.v[0], "cup");
	ck_assert_str_eq(s->subject, "news");
	ck_assert_int_eq(s->max_items, 0);
	ck_assert_int_eq(s->full_items_per_feed, 3);
	ck_assert_int_eq(s->first_run, 0);
	ck_assert_str_eq(s->list_unsubscribe, "mailto:o@example.org");
	config_free(&cfg);
	free(diag);
}
END_TEST

/* deliver per subscription overrides the global one; sendmail is split on blanks. */
START_TEST(deliver_per_subscription)
{
	struct config cfg;
	struct err e = {0};
	char *diag = NULL, want[PATH_MAX * 2];
	const struct sub_conf *s;

	ck_assert_int_eq(
	    tc_load(HEAD
	            "sendmail = \"  /bin/true  -C /x/rc\t-v \"\n" FEED
	            "subscription a {\n to = {\"a@b.example\"}\n deliver = \"sendmail\"\n}\n"
	            "subscription b {\n to = {\"b@b.example\"}\n deliver = \"mbox:b.mbox\"\n}\n"
	            "subscription c {\n to = {\"c@b.example\"}\n}\n",
	            &cfg, &diag, &e),
	    0);
	ck_assert_str_eq(diag, "");
	ck_assert_uint_eq(cfg.sendmail.n, 4);
	ck_assert_str_eq(cfg.sendmail.v[0], "/bin/true");
	ck_assert_str_eq(cfg.sendmail.v[1], "-C");
	ck_assert_str_eq(cfg.sendmail.v[2], "/x/rc");
	ck_assert_str_eq(cfg.sendmail.v[3], "-v");
	ck_assert_int_eq(cfg.deliver, DELIVER_STDOUT);
	s = config_sub(&cfg, "a");
	ck_assert_int_eq(s->deliver, DELIVER_SENDMAIL);
	s = config_sub(&cfg, "b");
	ck_assert_int_eq(s->deliver, DELIVER_MBOX);
	snprintf(want, sizeof want, "%s/b.mbox", tc_dir);
	ck_assert_str_eq(s->deliver_path, want);
	s = config_sub(&cfg, "c");
	ck_assert_int_eq(s->deliver, DELIVER_STDOUT);
	ck_assert_ptr_null(s->deliver_path);
	config_free(&cfg);
	free(diag);
}
END_TEST

START_TEST(password_file_and_secrecy)
{
	struct config cfg;
	struct err e = {0};
	char *diag = NULL, *sum = NULL;
	size_t len;
	FILE *out;

	tc_put("pw", "file-secret-77\nsecond line\n", 0644);
	ck_assert_int_eq(
	    tc_load(
	        HEAD
	        "smtp {\n host = \"localhost\"\n user = \"me\"\n password-file = \"pw\"\n}\n" FEED
	        "subscription s { to = {\"a@b.example\"} }\n",
	        &cfg, &diag, &e),
	    0);
	ck_assert_msg(tc_has_line(diag, "t.conf", 7, "warning: password-file"), "%s", diag);
	ck_assert_ptr_null(strstr(diag, "file-secret-77"));
	ck_assert_str_eq(cfg.smtp.password, "file-secret-77");
	out = open_memstream(&sum, &len);
	config_summary(&cfg, out);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(sum, "1 feed, 1 subscription"));
	ck_assert_ptr_nonnull(strstr(sum, "subscription s; to: a@b.example; feeds: all"));
	ck_assert_ptr_null(strstr(sum, "file-secret-77"));
	config_free(&cfg);
	free(diag);
	free(sum);
	diag = NULL;
	/* 0600: no warning. */
	tc_put("pw", "file-secret-77\n", 0600);
	ck_assert_int_eq(
	    tc_load(HEAD
	            "smtp {\n host = \"localhost\"\n user = \"me\"\n password-file = \"pw\"\n}\n",
	            &cfg, &diag, &e),
	    0);
	ck_assert_str_eq(diag, "");
	config_free(&cfg);
	free(diag);
	diag = NULL;
	/* A message that would quote the password shows *** instead. */
	ck_assert_int_eq(tc_load(HEAD "smtp {\n host = \"localhost\"\n user = \"me\"\n"
	                              " password = \"hunter2-pass\" \"hunter2-pass\"\n}\n",
	                         &cfg, &diag, &e),
	                 -1);
	ck_assert_msg(tc_has_line(diag, "t.conf", 7, "no such option '***'"), "%s", diag);
	ck_assert_ptr_null(strstr(diag, "hunter2"));
	free(diag);
}
END_TEST

START_TEST(durations_and_sizes)
{
	time_t t;
	size_t n;

	ck_assert_int_eq(config_parse_duration("90d", &t), 0);
	ck_assert_int_eq(t, 90 * 86400);
	ck_assert_int_eq(config_parse_duration("30s", &t), 0);
	ck_assert_int_eq(t, 30);
	ck_assert_int_eq(config_parse_duration("5m", &t), 0);
	ck_assert_int_eq(t, 300);
	ck_assert_int_eq(config_parse_duration("2h", &t), 0);
	ck_assert_int_eq(t, 7200);
	ck_assert_int_eq(config_parse_duration("1w", &t), 0);
	ck_assert_int_eq(t, 604800);
	ck_assert_int_eq(config_parse_duration("0", &t), 0);
	ck_assert_int_eq(t, 0);
	ck_assert_int_eq(config_parse_duration("", &t), -1);
	ck_assert_int_eq(config_parse_duration("d", &t), -1);
	ck_assert_int_eq(config_parse_duration("-1d", &t), -1);
	ck_assert_int_eq(config_parse_duration("1dd", &t), -1);
	ck_assert_int_eq(config_parse_duration("1 d", &t), -1);
	ck_assert_int_eq(config_parse_duration("99999999999999999999d", &t), -1);
	ck_assert_int_eq(config_parse_size("10M", &n), 0);
	ck_assert_uint_eq(n, 10u << 20);
	ck_assert_int_eq(config_parse_size("512k", &n), 0);
	ck_assert_uint_eq(n, 512u << 10);
	ck_assert_int_eq(config_parse_size("1G", &n), 0);
	ck_assert_uint_eq(n, 1u << 30);
	ck_assert_int_eq(config_parse_size("1000", &n), 0);
	ck_assert_uint_eq(n, 1000);
	ck_assert_int_eq(config_parse_size("1T", &n), -1);
	ck_assert_int_eq(config_parse_size("M", &n), -1);
	ck_assert_int_eq(config_parse_size("99999999999999999999G", &n), -1);
}
END_TEST

START_TEST(default_path)
{
	char *p;

	setenv("XDG_CONFIG_HOME", "/nonexistent-xdg", 1);
	p = config_default_path();
	/* Absent everywhere (unless the system has one): the user's path. */
	if (access(SYSCONFDIR "/tidings.conf", F_OK) != 0)
		ck_assert_str_eq(p, "/nonexistent-xdg/tidings/tidings.conf");
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", tc_dir, 1);
	p = config_default_path();
	ck_assert_ptr_nonnull(strstr(p, "/.config/tidings/tidings.conf"));
	free(p);
}
END_TEST

/* The shipped examples load, with templates pointed at the test's. */
static void
load_example(const char *name, struct config *cfg)
{
	const char *srcdir = getenv("srcdir");
	char path[PATH_MAX * 2], *text = NULL, *diag = NULL;
	size_t len = 0;
	struct err e = {0};
	FILE *in, *out;
	int c;

	snprintf(path, sizeof path, "%s/conf/%s", srcdir ? srcdir : ".", name);
	in = fopen(path, "r");
	ck_assert_msg(in != NULL, "%s", path);
	out = open_memstream(&text, &len);
	while ((c = getc(in)) != EOF)
		putc(c, out);
	fputs("\ntemplates = \"tpl\"\n", out);
	fclose(in);
	fclose(out);
	ck_assert_msg(tc_load(text, cfg, &diag, &e) == 0, "%s: %s", name, diag);
	ck_assert_str_eq(diag, "");
	free(text);
	free(diag);
}

START_TEST(examples_load)
{
	struct config cfg;
	char want[PATH_MAX * 3];

	load_example("tidings.conf.example", &cfg);
	ck_assert_uint_eq(cfg.nfeeds, 2);
	ck_assert_uint_eq(cfg.nsubs, 1);
	ck_assert_int_eq(cfg.deliver, DELIVER_SMTP);
	ck_assert_str_eq(cfg.smtp.host, "smtp.example.org");
	ck_assert_str_eq(cfg.subs[0].exclude_tags.v[0], "cup");
	config_free(&cfg);
	load_example("example.conf", &cfg);
	snprintf(want, sizeof want, "file://%s/example-feed.xml", tc_dir);
	ck_assert_str_eq(cfg.feeds[0].url, want);
	ck_assert_str_eq(cfg.feeds[0].tags.v[0], "sysadmin");
	ck_assert_int_eq(cfg.deliver, DELIVER_MBOX);
	snprintf(want, sizeof want, "%s/../demo/digest.mbox", tc_dir);
	ck_assert_str_eq(cfg.deliver_path, want);
	snprintf(want, sizeof want, "%s/../demo/state", tc_dir);
	ck_assert_str_eq(cfg.state_path, want);
	ck_assert_int_eq(cfg.subs[0].first_run, 0);
	ck_assert_str_eq(cfg.subs[0].to.v[0], "me@example.org");
	config_free(&cfg);
}
END_TEST

START_TEST(missing_file)
{
	struct config cfg;
	struct err e = {0};

	ck_assert_int_eq(config_load("/nonexistent/tidings.conf", &cfg, NULL, &e), -1);
	ck_assert_int_eq(e.code, EX_CONFIG);
	ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/tidings.conf"));
}
END_TEST

START_TEST(proxy_and_active)
{
	struct config cfg;
	struct err e = {0};
	char *diag = NULL;

	ck_assert_int_eq(tc_load(HEAD "fetch { proxy = \"http://127.0.0.1:3128\" }\n"
	                              "feed a { url = \"https://a.example/\" proxy = \"\" }\n"
	                              "feed b { url = \"https://b.example/\" active = false\n"
	                              " proxy = \"socks5h://p:1080\" }\n"
	                              "feed c { url = \"https://c.example/\" }\n",
	                         &cfg, &diag, &e),
	                 0);
	ck_assert_str_eq(diag, "");
	ck_assert_str_eq(cfg.fetch.proxy, "http://127.0.0.1:3128");
	ck_assert_str_eq(cfg.feeds[0].proxy, "");
	ck_assert_str_eq(cfg.feeds[1].proxy, "socks5h://p:1080");
	ck_assert_ptr_null(cfg.feeds[2].proxy);
	ck_assert_int_eq(cfg.feeds[0].active, 1);
	ck_assert_int_eq(cfg.feeds[1].active, 0);
	config_free(&cfg);
	free(diag);
	diag = NULL;
	/* Unset: NULL, libcurl's environment. A scheme libcurl cannot proxy through: refused. */
	ck_assert_int_eq(tc_load(HEAD
	                         "feed a { url = \"https://a.example/\"\n"
	                         " proxy = \"ftp://p:21\" }\nfetch { proxy = \"http://a b\" }\n",
	                         &cfg, &diag, &e),
	                 -1);
	ck_assert_msg(tc_has_line(diag, "t.conf", 5, "proxy \"ftp://p:21\": a proxy URL"), "%s",
	              diag);
	ck_assert_msg(tc_has_line(diag, "t.conf", 6, "proxy \"http://a b\""), "%s", diag);
	free(diag);
}
END_TEST

static int
count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/*
 * Feed and subscription sections are moved aside while libconfuse parses
 * (its title search is quadratic): they come back in order with their
 * values, and a title used twice, even in an included file, is still
 * merged by libconfuse as before (one duplicate message, no second feed).
 */
START_TEST(many_sections_keep_order_and_merging)
{
	struct config cfg;
	struct err e = {0};
	struct buf b = BUF_INIT;
	char *diag = NULL, want[64];

	buf_adds(&b, HEAD);
	for (int i = 0; i < 300; i++) {
		buf_printf(&b, "feed f%03d { url = \"http://a.example/%d\" }\n", i, i);
		buf_printf(
		    &b,
		    "subscription s%03d {\n to = {\"r%d@b.example\"}\n feeds = {\"f%03d\"}\n}\n", i,
		    i, i);
	}
	ck_assert_int_eq(tc_load(buf_str(&b), &cfg, &diag, &e), 0);
	ck_assert_int_eq(cfg.nfeeds, 300);
	ck_assert_int_eq(cfg.nsubs, 300);
	for (int i = 0; i < 300; i++) {
		snprintf(want, sizeof want, "f%03d", i);
		ck_assert_str_eq(cfg.feeds[i].name, want);
		ck_assert_str_eq(cfg.subs[i].feeds.v[0], want);
		snprintf(want, sizeof want, "r%d@b.example", i);
		ck_assert_str_eq(cfg.subs[i].to.v[0], want);
		ck_assert_int_eq(cfg.subs[i].line, 4 + 5 * i + 1);
	}
	config_free(&cfg);
	free(diag);
	diag = NULL;
	/* Merged: the second block's values replace the first's, whose error goes. */
	tc_put("sub/dup.conf", "feed f001 {\n url = \"http://b.example/\"\n}\n", 0644);
	ck_assert_int_eq(
	    tc_load(HEAD "feed f000 { url = \"http://a.example/\" }\n"
	                 "feed f001 {\n url = \"http://a.example/\"\n interval = \"1x\"\n}\n"
	                 "include(\"sub/dup.conf\")\n",
	            &cfg, &diag, &e),
	    -1);
	ck_assert_msg(
	    tc_has_line(diag, "sub/dup.conf", 1, "duplicate feed name 'f001' (the first is at"),
	    "%s", diag);
	ck_assert_ptr_null(strstr(diag, "interval"));
	ck_assert_str_eq(strrchr(e.msg, ':'), ": 1 error");
	free(diag);
	buf_free(&b);
}
END_TEST

/* An include loop is one line, naming the include that closes it (it was 12, its cause last). */
START_TEST(include_loop_is_one_line)
{
	struct config cfg;
	struct err e = {0};
	char *diag = NULL, want[PATH_MAX * 2 + 64];

	tc_put("loop.conf", "feed x { url = \"https://x.example/\" }\ninclude(\"t.conf\")\n", 0644);
	ck_assert_int_eq(tc_load(HEAD "include(\"loop.conf\")\n", &cfg, &diag, &e), -1);
	ck_assert_int_eq(count_lines(diag), 1);
	snprintf(want, sizeof want,
	         "include(\"t.conf\"): %s/t.conf is already read (an include loop)", tc_dir);
	ck_assert_msg(tc_has_line(diag, "loop.conf", 2, want), "%s", diag);
	free(diag);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, tc_setup, tc_teardown);
	tcase_add_test(tc, password_command_only_when_smtp_is_used);
	tcase_add_loop_test(tc, broken_config_names_file_line, 0,
	                    (int)(sizeof broken / sizeof broken[0]));
	tcase_add_test(tc, all_errors_are_reported);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, proxy_and_active);
	tcase_add_test(tc, values_and_paths);
	tcase_add_test(tc, deliver_per_subscription);
	tcase_add_test(tc, password_file_and_secrecy);
	tcase_add_test(tc, durations_and_sizes);
	tcase_add_test(tc, default_path);
	tcase_add_test(tc, examples_load);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, include_loop_is_one_line);
	tcase_add_test(tc, many_sections_keep_order_and_merging);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
