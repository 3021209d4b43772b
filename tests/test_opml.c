/*
 * Unit tests for src/opml.c: opml_import's feed sections byte for byte
 * (names, folders and categories as tags, quoting, what is skipped),
 * hostile documents (external entities, depth, size), opml_export's
 * OPML and the round trip, and the two commands' errors.
 * tests/e2e/opml.py runs the binary on other readers' exports.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "date.h"
#include "opml.h"
#include "testkit.h"

#define OPML(body)                                                                                 \
	"<?xml version=\"1.0\"?>\n<opml version=\"2.0\"><head/><body>\n" body "</body></opml>\n"

/* opml_import of text into a string; *rc its result. */
static char *
import(const char *text, size_t len, int *rc, struct err *e)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	ck_assert_ptr_nonnull(f);
	*rc = opml_import(text, len, "t.opml", f, e);
	ck_assert_int_eq(fclose(f), 0);
	return out;
}

static char *
import_ok(const char *text)
{
	struct err e = {0};
	int rc;
	char *out = import(text, strlen(text), &rc, &e);

	ck_assert_msg(rc == 0, "%s", e.msg);
	return out;
}

START_TEST(slug_forms)
{
	static const struct {
		const char *title, *slug;
	} cases[] = {
	    {"Hello, World!", "hello-world"},
	    {"  --LWN.net--  ", "lwn-net"},
	    {"C++ & Rust", "c-rust"},
	    {"Ab9", "ab9"},
	    {"日本語ニュース", "feed"},
	    {"café au lait", "caf-au-lait"},
	    {"", "feed"},
	    {NULL, "feed"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = opml_slug(cases[i].title);

		ck_assert_str_eq(s, cases[i].slug);
		free(s);
	}
}
END_TEST

START_TEST(import_names_folders_and_categories)
{
	char *out = import_ok(
	    OPML("<outline text=\"Tech\">\n"
	         " <outline title=\"Deep\" text=\"ignored\">\n"
	         "  <outline text=\"News\" xmlUrl=\"https://a.example/feed\" "
	         "category=\"/x/Extra,Tech\"/>\n"
	         " </outline>\n"
	         " <outline text=\"News\" xmlUrl=\"https://b.example/feed\"/>\n"
	         "</outline>\n"
	         "<outline text=\" \" xmlUrl=\"http://www.host.example:8080/rss\"/>\n"
	         "<outline title=\"Again\" xmlUrl=\"HTTPS://A.EXAMPLE/FEED\"/>\n"
	         "<outline><outline text=\"News\" xmlUrl=\"https://c.example/feed\"/></outline>\n"
	         "<note text=\"x\" xmlUrl=\"https://not-an-outline.example/\"/>\n"));

	/* Folders then categories (their last path part) are the tags, each once;
	 * a title-less feed is named after its host; a URL seen before (in any
	 * case) is left out; a folder without a label gives no tag. */
	ck_assert_str_eq(out, "# Feeds from t.opml (tidings import-opml)\n"
	                      "feed news {\n"
	                      "\turl = \"https://a.example/feed\"\n"
	                      "\ttitle = \"News\"\n"
	                      "\ttags = {\"Tech\", \"Deep\", \"Extra\"}\n"
	                      "}\n"
	                      "feed news-2 {\n"
	                      "\turl = \"https://b.example/feed\"\n"
	                      "\ttitle = \"News\"\n"
	                      "\ttags = {\"Tech\"}\n"
	                      "}\n"
	                      "feed host-example {\n"
	                      "\turl = \"http://www.host.example:8080/rss\"\n"
	                      "}\n"
	                      "feed news-3 {\n"
	                      "\turl = \"https://c.example/feed\"\n"
	                      "\ttitle = \"News\"\n"
	                      "}\n"
	                      "# 4 feeds\n");
	free(out);
}
END_TEST

START_TEST(import_quotes_for_libconfuse)
{
	char *out =
	    import_ok(OPML("<outline text=\"Folder &quot;1&quot;&#x85;\">"
	                   "<outline text=\"x\" title=\"Cost $5 &quot;now&quot; \\ back&#9;"
	                   "tab&#x9b;\""
	                   " xmlUrl=\"https://q.example/?a=&quot;1&quot;&#127;&amp;b=${HOME}\" "
	                   "category=\"a&#10;&#x9b;b,c$d\"/>"
	                   "</outline>\n"));

	/* " \ $ escaped (libconfuse expands ${X}), control characters (C1 too) dropped */
	ck_assert_str_eq(out, "# Feeds from t.opml (tidings import-opml)\n"
	                      "feed cost-5-now-back-tab {\n"
	                      "\turl = \"https://q.example/?a=\\\"1\\\"&b=\\${HOME}\"\n"
	                      "\ttitle = \"Cost \\$5 \\\"now\\\" \\\\ backtab\"\n"
	                      "\ttags = {\"Folder \\\"1\\\"\", \"ab\", \"c\\$d\"}\n"
	                      "}\n"
	                      "# 1 feed\n");
	free(out);
}
END_TEST

START_TEST(import_takes_only_http_and_https)
{
	char *out = import_ok(
	    OPML("<outline text=\"a\" xmlUrl=\"feed://x.example/rss\"/>\n"
	         "<outline text=\"b\" xmlUrl=\"httpx://x.example/\"/>\n"
	         "<outline text=\"c\" xmlUrl=\"ftp://x/&#x9b;&#x7f;&#9;&#10;feed y {\"/>\n"
	         "<outline text=\"ok\" xmlUrl=\"Http://ok.example/\"/>\n"));

	/* each skipped URL in one comment line, its controls shown escaped */
	ck_assert_str_eq(out, "# Feeds from t.opml (tidings import-opml)\n"
	                      "# skipped, not an http or https URL: feed://x.example/rss\n"
	                      "# skipped, not an http or https URL: httpx://x.example/\n"
	                      "# skipped, not an http or https URL: "
	                      "ftp://x/\\xC2\\x9B\\x7F\\x09\\x0Afeed y {\n"
	                      "feed ok {\n"
	                      "\turl = \"Http://ok.example/\"\n"
	                      "\ttitle = \"ok\"\n"
	                      "}\n"
	                      "# 1 feed\n");
	free(out);
}
END_TEST

/* Folders nested n deep around one feed: 32 are walked, deeper ones not. */
START_TEST(import_folder_depth)
{
	int n = _i;
	struct buf doc = BUF_INIT;
	char *out, want[32], last[16];

	buf_adds(&doc, "<opml><body>");
	for (int i = 0; i < n; i++)
		buf_printf(&doc, "<outline text=\"f%d\">", i);
	buf_adds(&doc, "<outline text=\"deep\" xmlUrl=\"https://deep.example/\"/>");
	for (int i = 0; i < n; i++)
		buf_adds(&doc, "</outline>");
	ck_assert_int_eq(buf_adds(&doc, "</body></opml>"), 0);
	out = import_ok(buf_str(&doc));
	snprintf(want, sizeof want, "# %d feed%s\n", n <= 32, n <= 32 ? "" : "s");
	ck_assert_msg(strstr(out, want) != NULL, "%d: %s", n, out);
	/* every folder it sits in is a tag, the innermost last */
	snprintf(last, sizeof last, "\"f%d\"}", n - 1);
	ck_assert_int_eq(tk_count(out, last), n <= 32);
	free(out);
	buf_free(&doc);
}
END_TEST

/*
 * Entities from outside are never read: XML_PARSE_NOENT would load an
 * external parameter entity, XML_PARSE_DTDLOAD an external DTD, and with
 * either the file's text would become a feed's title.
 */
START_TEST(import_never_loads_external_entities)
{
	char dir[] = "/tmp/topml.XXXXXX", dtd[64], doc[512];
	struct err e = {0};
	char *out;
	int rc;

	tk_mkdtemp(dir);
	snprintf(dtd, sizeof dtd, "%s/evil.dtd", dir);
	tk_write(dtd, "<!ENTITY leak \"SECRET-FROM-FILE\">\n");

	snprintf(
	    doc, sizeof doc,
	    "<?xml version=\"1.0\"?><!DOCTYPE opml [<!ENTITY %% p SYSTEM \"file://%s\"> %%p;]>"
	    "<opml><body><outline text=\"a&leak;b\" xmlUrl=\"https://a.example/\"/></body></opml>",
	    dtd);
	out = import(doc, strlen(doc), &rc, &e);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e.code, EX_DATAERR);
	ck_assert_str_eq(e.msg, "t.opml:1: not well-formed XML: Entity 'leak' not defined");
	ck_assert_str_eq(out, "");
	free(out);

	snprintf(
	    doc, sizeof doc,
	    "<?xml version=\"1.0\"?><!DOCTYPE opml SYSTEM \"file://%s\">"
	    "<opml><body><outline text=\"a&leak;b\" xmlUrl=\"https://a.example/\"/></body></opml>",
	    dtd);
	out = import_ok(doc);
	ck_assert_msg(strstr(out, "\ttitle = \"ab\"\n") != NULL, "%s", out);
	ck_assert_ptr_null(strstr(out, "SECRET"));
	free(out);

	/* an external entity in an attribute is an error, not a read */
	snprintf(doc, sizeof doc,
	         "<?xml version=\"1.0\"?><!DOCTYPE opml [<!ENTITY x SYSTEM \"file://%s\">]>"
	         "<opml><body><outline text=\"&x;\" xmlUrl=\"https://a.example/\"/></body></opml>",
	         dtd);
	out = import(doc, strlen(doc), &rc, &e);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(e.msg, "t.opml:1: not well-formed XML: "
	                        "Attribute references external entity 'x'");
	free(out);
	tk_rm_rf(dir);
}
END_TEST

static char *
laughs(int levels)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "<?xml version=\"1.0\"?><!DOCTYPE opml [<!ENTITY l0 \"lol\">");
	for (int i = 1; i < levels; i++) {
		buf_printf(&b, "<!ENTITY l%d \"", i);
		for (int j = 0; j < 10; j++)
			buf_printf(&b, "&l%d;", i - 1);
		buf_adds(&b, "\">");
	}
	buf_printf(&b,
	           "]><opml><body><outline text=\"&l%d;\" xmlUrl=\"https://a.example/\"/>"
	           "</body></opml>",
	           levels - 1);
	return buf_steal(&b);
}

static char *
nested(int depth)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "<opml><body>");
	for (int i = 0; i < depth; i++)
		buf_adds(&b, "<outline text=\"f\">");
	for (int i = 0; i < depth; i++)
		buf_adds(&b, "</outline>");
	buf_adds(&b, "</body></opml>");
	return buf_steal(&b);
}

/* Documents that are no OPML: one message naming the input (and line), nothing printed. */
START_TEST(import_refuses_what_is_not_opml)
{
	static const struct {
		const char *doc, *starts, *says;
	} cases[] = {
	    {"<html><body><outline text=\"a\" xmlUrl=\"https://a.example/\"/></body></html>",
	     "t.opml: ", "not OPML (no <opml> root element)"},
	    {"<opml><body>\n<outline text=\"a\"\n", "t.opml:3: ", "not well-formed XML: "},
	    {"", "t.opml: ", "empty file"},
	    {" \n", "t.opml:2: ", "not well-formed XML: Start tag expected"},
	    {"LAUGHS", "t.opml:1: ", "not well-formed XML: "}, /* a billion laughs */
	    {"NESTED", "t.opml:1: ", "not well-formed XML: Excessive depth in document"},
	};
	const char *doc = cases[_i].doc;
	char *made = NULL, *out;
	struct err e = {0};
	int rc;

	if (strcmp(doc, "LAUGHS") == 0)
		doc = made = laughs(10);
	else if (strcmp(doc, "NESTED") == 0)
		doc = made = nested(300);
	out = import(doc, strlen(doc), &rc, &e);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e.code, EX_DATAERR);
	ck_assert_msg(strncmp(e.msg, cases[_i].starts, strlen(cases[_i].starts)) == 0, "%s", e.msg);
	ck_assert_msg(strstr(e.msg, cases[_i].says) != NULL, "%s", e.msg);
	ck_assert_ptr_null(strchr(e.msg, '\n'));
	ck_assert_str_eq(out, "");
	free(out);
	free(made);
}
END_TEST

START_TEST(import_size_cap)
{
	size_t len = ((size_t)16 << 20) + 1;
	char *big = malloc(len + 1), *out;
	struct err e = {0};
	int rc;

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', len);
	big[len] = '\0';
	memcpy(big, "<opml><body>", 12);
	out = import(big, len, &rc, &e);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e.code, EX_DATAERR);
	ck_assert_str_eq(e.msg, "t.opml: larger than 16777216 bytes");
	ck_assert_str_eq(out, "");
	free(out);
	/* one byte less is read (and found unfinished) */
	out = import(big, len - 1, &rc, &e);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(e.msg, "not well-formed XML") != NULL, "%s", e.msg);
	free(out);
	free(big);
}
END_TEST

struct feeds {
	struct feed_conf f[4];
	struct config cfg;
};

static void
add_feed(struct feeds *fs, const char *name, const char *url, const char *title,
         const char *const *tags)
{
	struct feed_conf *f = &fs->f[fs->cfg.nfeeds++];

	f->name = (char *)name;
	f->url = (char *)url;
	f->title = (char *)title;
	for (; tags && *tags; tags++)
		ck_assert_int_eq(strv_push(&f->tags, *tags), 0);
}

static void
feeds_init(struct feeds *fs)
{
	memset(fs, 0, sizeof *fs);
	fs->cfg.feeds = fs->f;
	add_feed(fs, "lwn", "https://lwn.net/headlines/rss", "LWN & \"friends\" <x>",
	         (const char *const[]){"Linux", "News", NULL});
	add_feed(fs, "plain", "https://p.example/feed?a=1&b=2", NULL, NULL);
	/* a tab, U+009B CSI, SOH and DEL: dropped */
	add_feed(fs, "kern", "https://k.example/",
	         "Kernel\tNew\xc2\x9b"
	         "bies\x01\x7f",
	         (const char *const[]){"linux", NULL});
	add_feed(fs, "sys", "https://s.example/", "S", (const char *const[]){"Sys & Net", NULL});
}

static void
feeds_free(struct feeds *fs)
{
	for (size_t i = 0; i < fs->cfg.nfeeds; i++)
		strv_free(&fs->f[i].tags);
}

#define EXPORTED                                                                                   \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                             \
	"<opml version=\"2.0\">\n"                                                                 \
	"  <head>\n"                                                                               \
	"    <title>tidings feeds</title>\n"                                                       \
	"    <dateCreated>DATE</dateCreated>\n"                                                    \
	"  </head>\n"                                                                              \
	"  <body>\n"                                                                               \
	"    <outline text=\"Linux\" title=\"Linux\">\n"                                           \
	"      <outline type=\"rss\" text=\"LWN &amp; &quot;friends&quot; &lt;x&gt;\""             \
	" title=\"LWN &amp; &quot;friends&quot; &lt;x&gt;\" "                                      \
	"xmlUrl=\"https://lwn.net/headlines/rss\""                                                 \
	" category=\"Linux,News\"/>\n"                                                             \
	"      <outline type=\"rss\" text=\"KernelNewbies\" title=\"KernelNewbies\""               \
	" xmlUrl=\"https://k.example/\" category=\"linux\"/>\n"                                    \
	"    </outline>\n"                                                                         \
	"    <outline text=\"Sys &amp; Net\" title=\"Sys &amp; Net\">\n"                           \
	"      <outline type=\"rss\" text=\"S\" title=\"S\" xmlUrl=\"https://s.example/\""         \
	" category=\"Sys &amp; Net\"/>\n"                                                          \
	"    </outline>\n"                                                                         \
	"    <outline type=\"rss\" text=\"plain\" title=\"plain\""                                 \
	" xmlUrl=\"https://p.example/feed?a=1&amp;b=2\"/>\n"                                       \
	"  </body>\n"                                                                              \
	"</opml>\n"

/* opml_export's text with its dateCreated checked and replaced by DATE. */
static char *
exported(const struct config *cfg)
{
	char *out = NULL, *open, *close;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	struct err e = {0};
	time_t before = time(NULL), after, when;
	struct buf b = BUF_INIT;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(opml_export(cfg, f, &e), 0);
	ck_assert_int_eq(fclose(f), 0);
	after = time(NULL);
	open = strstr(out, "<dateCreated>");
	close = strstr(out, "</dateCreated>");
	ck_assert(open != NULL && close != NULL);
	open += strlen("<dateCreated>");
	*close = '\0';
	/* RFC 822, the time it was written */
	ck_assert_int_eq(date_parse(open, &when), 0);
	ck_assert(when >= before && when <= after);
	buf_add(&b, out, (size_t)(open - out));
	buf_adds(&b, "DATE");
	ck_assert_int_eq(buf_printf(&b, "</dateCreated>%s", close + strlen("</dateCreated>")), 0);
	free(out);
	return buf_steal(&b);
}

START_TEST(export_folders_by_first_tag_and_escapes)
{
	struct feeds fs;
	char *out;

	feeds_init(&fs);
	out = exported(&fs.cfg);
	/* a folder per first tag (case aside), in order; untagged feeds at the top */
	ck_assert_str_eq(out, EXPORTED);
	free(out);
	feeds_free(&fs);
}
END_TEST

START_TEST(export_then_import)
{
	struct feeds fs;
	char *xml, *again;

	feeds_init(&fs);
	xml = exported(&fs.cfg);
	again = import_ok(xml);
	/* the same URLs, titles (a feed without one: its name) and tags; the
	 * folder's spelling of a tag wins over the category's */
	ck_assert_str_eq(again, "# Feeds from t.opml (tidings import-opml)\n"
	                        "feed lwn-friends-x {\n"
	                        "\turl = \"https://lwn.net/headlines/rss\"\n"
	                        "\ttitle = \"LWN & \\\"friends\\\" <x>\"\n"
	                        "\ttags = {\"Linux\", \"News\"}\n"
	                        "}\n"
	                        "feed kernelnewbies {\n"
	                        "\turl = \"https://k.example/\"\n"
	                        "\ttitle = \"KernelNewbies\"\n"
	                        "\ttags = {\"Linux\"}\n"
	                        "}\n"
	                        "feed s {\n"
	                        "\turl = \"https://s.example/\"\n"
	                        "\ttitle = \"S\"\n"
	                        "\ttags = {\"Sys & Net\"}\n"
	                        "}\n"
	                        "feed plain {\n"
	                        "\turl = \"https://p.example/feed?a=1&b=2\"\n"
	                        "\ttitle = \"plain\"\n"
	                        "}\n"
	                        "# 4 feeds\n");
	free(xml);
	free(again);
	feeds_free(&fs);
}
END_TEST

START_TEST(export_write_error)
{
	struct feeds fs;
	struct err e = {0};
	FILE *full = fopen("/dev/full", "w");

	ck_assert_ptr_nonnull(full);
	feeds_init(&fs);
	ck_assert_int_eq(opml_export(&fs.cfg, full, &e), -1);
	ck_assert_int_eq(e.code, EX_IOERR);
	ck_assert_str_eq(e.msg, "writing the OPML: No space left on device");
	fclose(full);
	feeds_free(&fs);
}
END_TEST

static struct tk_result
run_cmd(int (*cmd)(const struct cli *), const char *config, char **argv, int argc)
{
	struct cli c = {.config_path = config, .argv = argv, .argc = argc};
	struct tk_result r;

	tk_run_cmd(cmd, &c, &r);
	return r;
}

START_TEST(import_command_reads_the_file)
{
	char dir[] = "/tmp/topml.XXXXXX", path[64], want[256];
	char *argv[1] = {path};
	struct tk_result r;

	tk_mkdtemp(dir);
	snprintf(path, sizeof path, "%s/feeds.opml", dir);
	tk_write(path, OPML("<outline text=\"A\" xmlUrl=\"https://a.example/\"/>"));
	r = run_cmd(cmd_import_opml, NULL, argv, 1);
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof want,
	         "# Feeds from %s (tidings import-opml)\n"
	         "feed a {\n\turl = \"https://a.example/\"\n\ttitle = \"A\"\n}\n# 1 feed\n",
	         path);
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
	tk_result_free(&r);

	/* not well-formed: one line naming the file and line, exit 65 */
	tk_write(path, "<opml><body>\n<outline\n");
	r = run_cmd(cmd_import_opml, NULL, argv, 1);
	ck_assert_int_eq(r.status, EX_DATAERR);
	snprintf(want, sizeof want, "tidings: %s:3: not well-formed XML: ", path);
	ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "%s", r.err);
	ck_assert_int_eq(tk_count(r.err, "\n"), 1);
	ck_assert_str_eq(r.out, "");
	tk_result_free(&r);

	/* empty, after that error in the same process: not its line and message */
	tk_write(path, "");
	r = run_cmd(cmd_import_opml, NULL, argv, 1);
	ck_assert_int_eq(r.status, EX_DATAERR);
	snprintf(want, sizeof want, "tidings: %s: empty file\n", path);
	ck_assert_str_eq(r.err, want);
	ck_assert_str_eq(r.out, "");
	tk_result_free(&r);
	tk_rm_rf(dir);
}
END_TEST

/* A file that cannot be read: one line, and the exit status says why. */
START_TEST(import_command_errors)
{
	char dir[] = "/tmp/topml.XXXXXX", missing[64], big[64], want[256];
	char *argv[1];
	struct tk_result r;
	FILE *f;

	tk_mkdtemp(dir);
	snprintf(missing, sizeof missing, "%s/missing.opml", dir);
	snprintf(big, sizeof big, "%s/big.opml", dir);
	f = fopen(big, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ftruncate(fileno(f), ((off_t)16 << 20) + 1), 0);
	fclose(f);

	const struct {
		const char *path, *fmt;
		int status;
	} cases[] = {
	    {missing, "tidings: %s: No such file or directory\n", EX_NOINPUT},
	    {dir, "tidings: %s: Is a directory\n", EX_IOERR},
	    {big, "tidings: %s: larger than 16777216 bytes\n", EX_DATAERR},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		argv[0] = (char *)cases[i].path;
		r = run_cmd(cmd_import_opml, NULL, argv, 1);
		ck_assert_int_eq(r.status, cases[i].status);
		snprintf(want, sizeof want, cases[i].fmt, cases[i].path);
		ck_assert_str_eq(r.err, want);
		ck_assert_str_eq(r.out, "");
		tk_result_free(&r);
	}
	r = run_cmd(cmd_import_opml, NULL, argv, 0);
	ck_assert_int_eq(r.status, EX_USAGE);
	ck_assert_str_eq(r.err, "usage: tidings import-opml FILE\n");
	tk_result_free(&r);
	tk_rm_rf(dir);
}
END_TEST

START_TEST(export_command_prints_the_config)
{
	char dir[] = "/tmp/topml.XXXXXX", conf[64];
	char *argv[1] = {"extra"};
	struct tk_result r;

	tk_mkdtemp(dir);
	snprintf(conf, sizeof conf, "%s/t.conf", dir);
	tk_write(conf, "from = \"Tidings <t@example.org>\"\ndeliver = \"stdout\"\n"
	               "feed one {\n url = \"https://one.example/\"\n title = \"One & only\"\n"
	               " tags = {\"x\"}\n}\n");
	r = run_cmd(cmd_export_opml, conf, argv, 0);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.err, "");
	ck_assert_msg(strstr(r.out, "    <outline text=\"x\" title=\"x\">\n"
	                            "      <outline type=\"rss\" text=\"One &amp; only\" "
	                            "title=\"One &amp; only\" xmlUrl=\"https://one.example/\" "
	                            "category=\"x\"/>\n    </outline>\n") != NULL,
	              "%s", r.out);
	tk_result_free(&r);
	r = run_cmd(cmd_export_opml, conf, argv, 1);
	ck_assert_int_eq(r.status, EX_USAGE);
	ck_assert_str_eq(r.err, "usage: tidings [-c FILE] export-opml\n");
	ck_assert_str_eq(r.out, "");
	tk_result_free(&r);
	tk_rm_rf(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("opml");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, slug_forms);
	tcase_add_test(tc, import_names_folders_and_categories);
	tcase_add_test(tc, import_quotes_for_libconfuse);
	tcase_add_test(tc, import_takes_only_http_and_https);
	tcase_add_loop_test(tc, import_folder_depth, 31, 35);
	tcase_add_test(tc, import_never_loads_external_entities);
	tcase_add_loop_test(tc, import_refuses_what_is_not_opml, 0, 6);
	tcase_add_test(tc, import_size_cap);
	tcase_add_test(tc, export_folders_by_first_tag_and_escapes);
	tcase_add_test(tc, export_then_import);
	tcase_add_test(tc, export_write_error);
	tcase_add_test(tc, import_command_reads_the_file);
	tcase_add_test(tc, import_command_errors);
	tcase_add_test(tc, export_command_prints_the_config);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
