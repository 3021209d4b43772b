/*
 * config: read tidings.conf and check it whole.
 *
 * confscan reads each file once (every unknown option and unset ${VAR}
 * named), conftree parses its tokens with libconfuse's grammar into typed
 * values that each know their file:line, and the checks run on that tree
 * so that every problem is reported, each at its file:line.  The schema is
 * written with libconfuse's macros; no libconfuse code runs (the
 * differential test, test_confdiff, still parses with it and compares).
 */
#include "config.h"
#include "confscan.h"
#include "conftree.h"
#include "deliver.h"
#include "message.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/tidings"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define PASSWORD_MAX 4096

/* The ranges of the numeric options, as tidings.conf(5) gives them. */
enum {
	TIMEOUT_MAX = 86400, /* seconds: a day, for fetch and smtp */
	PARALLEL_MAX = 1000, /* fetch.parallel and fetch.per-host */
	REPORT_AFTER_MAX = 1000000,
	MAX_PAGES_MAX = 10000,
	SESSIONS_MAX = 64,
	PORT_MAX = 65535,
	ITEMS_MAX = 100000000, /* max-items and full-items-per-feed */
};

struct loader {
	struct confscan scan; /* the messages, and what each file holds */
	struct conftree tree;
	const char *template_ok; /* the last template found readable: most share it */
};

/* --- paths ------------------------------------------------------------ */

static char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h)
		return str_dup(h);
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? str_dup(pw->pw_dir) : NULL;
}

/* `~` is the home folder; a relative path is relative to base_file's folder. */
static char *
path_abs(const char *v, const char *base_file)
{
	char *home, *dir, *r;

	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
		if ((home = home_dir()) == NULL)
			return NULL;
		r = str_printf("%s%s", home, v + 1);
		free(home);
		return r;
	}
	if (v[0] == '/')
		return str_dup(v);
	if ((dir = path_dir(base_file)) == NULL)
		return NULL;
	r = str_printf("%s/%s", dir, v);
	free(dir);
	return r;
}

static char *
abs_config_path(const char *path)
{
	char cwd[PATH_MAX], *r;

	if ((r = realpath(path, NULL)) != NULL)
		return r;
	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return str_dup(path);
	return str_printf("%s/%s", cwd, path);
}

char *
config_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	char *home, *user;

	if (x && x[0] == '/') {
		user = str_printf("%s/tidings/tidings.conf", x);
	} else {
		if ((home = home_dir()) == NULL)
			return str_dup(SYSCONFDIR "/tidings.conf");
		user = str_printf("%s/.config/tidings/tidings.conf", home);
		free(home);
	}
	if (user == NULL || access(user, F_OK) == 0)
		return user;
	if (access(SYSCONFDIR "/tidings.conf", F_OK) == 0) {
		free(user);
		return str_dup(SYSCONFDIR "/tidings.conf");
	}
	return user; /* absent: the error names the file one would create */
}

static char *
default_state_path(void)
{
	const char *x = getenv("XDG_STATE_HOME");
	char *home, *r;

	if (x && x[0] == '/')
		return str_printf("%s/tidings/state", x);
	if ((home = home_dir()) == NULL)
		return NULL;
	r = str_printf("%s/.local/state/tidings/state", home);
	free(home);
	return r;
}

/* include()'s file: `~` and relative paths as for any path, links resolved
 * (an include loop is found by the file's real name). */
static char *
include_path(const char *name, const char *base_file)
{
	char *path = path_abs(name, base_file), *real;

	if (path && (real = realpath(path, NULL)) != NULL) {
		free(path);
		path = real;
	}
	return path;
}

/* --- values ------------------------------------------------------------ */

int
config_parse_duration(const char *s, time_t *out)
{
	static const struct {
		char unit;
		long secs;
	} units[] = {
	    {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800},
	};
	char *end;
	long long n;
	long mult = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		size_t i;

		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (*end == units[i].unit)
				break;
		if (i == sizeof units / sizeof units[0] || end[1] != '\0')
			return -1;
		mult = units[i].secs;
	}
	if (n > (long long)(INT32_MAX / mult) * 100) /* ~ 68 years * 100: plenty */
		return -1;
	*out = (time_t)(n * mult);
	return 0;
}

int
config_parse_size(const char *s, size_t *out)
{
	static const char units[] = "KMG";
	unsigned long long n;
	char *end;
	const char *u;
	int shift = 0;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		if ((u = strchr(units, toupper((unsigned char)*end))) == NULL || end[1] != '\0')
			return -1;
		shift = 10 * (int)(u - units + 1);
	}
	if (n > (SIZE_MAX >> shift))
		return -1;
	*out = (size_t)(n << shift);
	return 0;
}

/* "Name <local@domain>" or "local@domain". */
static int
address_ok(const char *s)
{
	const char *a = s, *lt, *gt, *at, *p, *e;

	if (strpbrk(s, "\r\n"))
		return 0;
	if ((lt = strrchr(s, '<')) != NULL) {
		if ((gt = strchr(lt, '>')) == NULL || !str_empty(gt + 1))
			return 0;
		a = lt + 1;
		e = gt;
	} else {
		while (*a == ' ' || *a == '\t')
			a++;
		e = a + strlen(a);
		while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
	}
	if ((at = memchr(a, '@', (size_t)(e - a))) == NULL || at == a || at + 1 >= e)
		return 0;
	for (p = a; p < at; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-/=?^_`{|}~.", *p))
			return 0;
	if (at[1] == '.' || at[1] == '-' || e[-1] == '.' || e[-1] == '-')
		return 0;
	for (p = at + 1; p < e; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && !(*p == '.' && p[1] != '.'))
			return 0;
	return 1;
}

/* NULL when fine, else why not. */
static const char *
http_url_problem(const char *s)
{
	CURLU *u = curl_url();
	CURLUcode rc;
	char *host = NULL;
	const char *why = NULL;

	if (u == NULL)
		return "out of memory";
	rc = curl_url_set(u, CURLUPART_URL, s, 0);
	if (rc != CURLUE_OK)
		why = curl_url_strerror(rc);
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL || !*host)
		why = "no host";
	curl_free(host);
	curl_url_cleanup(u);
	return why;
}

/* A file: URL names a local file; a relative one is relative to base_file. */
static char *
file_url(const char *v, const char *base_file)
{
	const char *p = v + 5;
	char *path, *r;

	if (strncmp(p, "//", 2) == 0) {
		p += 2;
		if (strncasecmp(p, "localhost/", 10) == 0)
			p += 9;
	}
	if (*p == '\0')
		return NULL;
	if ((path = path_abs(p, base_file)) == NULL)
		return NULL;
	r = str_printf("file://%s", path);
	free(path);
	return r;
}

static int
is_loopback(const char *h)
{
	return strcasecmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 ||
	       strcmp(h, "::1") == 0 || strcmp(h, "[::1]") == 0;
}

/* --- building the config ---------------------------------------------- */

struct ctx { /* one section being read */
	struct loader *L;
	const struct ct_sec *sec;
};

static void __attribute__((format(printf, 4, 5)))
bad(const struct ctx *x, const char *opt, unsigned idx, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	const char *file;
	int line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ct_locate(x->sec, opt, idx, &file, &line);
	confscan_emit(&x->L->scan, file, line, 0, msg);
}

static const char *
where_file(const struct ctx *x, const char *opt)
{
	const char *file;
	int line;

	ct_locate(x->sec, opt, 0, &file, &line);
	return file;
}

static char *
get_str(const struct ctx *x, const char *opt)
{
	const char *v = ct_getstr(x->sec, opt);

	return v ? str_dup(v) : NULL;
}

static char *
get_path(const struct ctx *x, const char *opt)
{
	const char *v = ct_getstr(x->sec, opt);
	char *r;

	if (v == NULL)
		return NULL;
	if (*v == '\0') {
		bad(x, opt, 0, "%s is empty", opt);
		return NULL;
	}
	if ((r = path_abs(v, where_file(x, opt))) == NULL)
		bad(x, opt, 0, "%s '%s': cannot find the home folder", opt, v);
	return r;
}

static long
get_int(const struct ctx *x, const char *opt, long lo, long hi)
{
	long v = ct_getint(x->sec, opt);

	if (v < lo || v > hi) {
		bad(x, opt, 0, "%s = %ld: must be from %ld to %ld", opt, v, lo, hi);
		return lo;
	}
	return v;
}

static time_t
get_duration(const struct ctx *x, const char *opt)
{
	const char *v = ct_getstr(x->sec, opt);
	time_t t = 0;

	if (v && config_parse_duration(v, &t) < 0)
		bad(x, opt, 0, "%s = \"%s\": not a duration (a number with s, m, h, d or w)", opt,
		    v);
	return t;
}

static int
get_list(const struct ctx *x, const char *opt, struct strv *out)
{
	unsigned n = ct_size(x->sec, opt);

	for (unsigned i = 0; i < n; i++)
		if (strv_push(out, ct_getnstr(x->sec, opt, i)) < 0)
			return -1;
	return 0;
}

static void
check_address(const struct ctx *x, const char *opt, unsigned idx, const char *v)
{
	if (v && !address_ok(v))
		bad(x, opt, idx, "%s \"%s\": not an email address", opt, v);
}

/* "" (no proxy) or [SCHEME://]HOST[:PORT] with a scheme libcurl can proxy through. */
static char *
get_proxy(const struct ctx *x)
{
	static const char *const schemes[] = {"http://",    "https://",  "socks4://",
	                                      "socks4a://", "socks5://", "socks5h://"};
	const char *v = ct_getstr(x->sec, "proxy");
	int known = strstr(v ? v : "", "://") == NULL;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; !known && i < sizeof schemes / sizeof schemes[0]; i++)
		known = strncasecmp(v, schemes[i], strlen(schemes[i])) == 0;
	if (!known || v[strcspn(v, " \t\r\n")] != '\0') {
		bad(x, "proxy", 0,
		    "proxy \"%s\": a proxy URL (http://HOST:PORT, socks5://HOST:PORT ...) or \"\"",
		    v);
		return NULL;
	}
	return str_dup(v);
}

static void
read_fetch(struct loader *L, const struct ct_sec *root, struct fetch_conf *f)
{
	struct ctx x = {.L = L, .sec = ct_getsec(root, "fetch")};
	const char *ms;

	f->timeout = get_int(&x, "timeout", 1, TIMEOUT_MAX);
	f->parallel = (int)get_int(&x, "parallel", 1, PARALLEL_MAX);
	f->per_host = (int)get_int(&x, "per-host", 1, PARALLEL_MAX);
	f->report_after = (int)get_int(&x, "report-after", 1, REPORT_AFTER_MAX);
	f->max_pages = (int)get_int(&x, "max-pages", 0, MAX_PAGES_MAX);
	ms = ct_getstr(x.sec, "max-size");
	if (config_parse_size(ms, &f->max_size) < 0 || f->max_size == 0)
		bad(&x, "max-size", 0, "max-size = \"%s\": not a size (a number with K, M or G)",
		    ms);
	f->user_agent = get_str(&x, "user-agent");
	/* "tidings/VERSION", and "(+URL)" only when configure was given a home page. */
	if (f->user_agent == NULL)
		f->user_agent = PACKAGE_URL[0]
		                    ? str_printf("tidings/%s (+%s)", PACKAGE_VERSION, PACKAGE_URL)
		                    : str_dup("tidings/" PACKAGE_VERSION);
	else if (strpbrk(f->user_agent, "\r\n"))
		bad(&x, "user-agent", 0, "user-agent holds a line break");
	f->proxy = get_proxy(&x);
}

static void
read_password_file(const struct ctx *x, struct smtp_conf *s)
{
	char *path = get_path(x, "password-file"), line[PASSWORD_MAX];
	struct stat st;
	FILE *fp;

	if (path == NULL)
		return;
	fp = NULL;
	/* stat first: opening a FIFO would wait for a writer. */
	if (stat(path, &st) < 0) {
		bad(x, "password-file", 0, "password-file %s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		bad(x, "password-file", 0, "password-file %s: not a regular file", path);
	} else if ((fp = fopen(path, "r")) == NULL) {
		bad(x, "password-file", 0, "password-file %s: %s", path, strerror(errno));
	} else {
		if (st.st_mode & (S_IRGRP | S_IROTH)) {
			const char *file;
			int l;

			ct_locate(x->sec, "password-file", 0, &file, &l);
			confscan_say(&x->L->scan, file, l, 1,
			             "password-file %s is readable by others "
			             "(chmod 600 %s)",
			             path, path);
		}
		if (fgets(line, sizeof line, fp) == NULL)
			line[0] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			bad(x, "password-file", 0, "password-file %s: the first line is empty",
			    path);
		else if ((s->password = str_dup(line)) == NULL ||
		         strv_push(&x->L->scan.secrets, line) < 0)
			bad(x, "password-file", 0, "out of memory");
		explicit_bzero(line, sizeof line);
	}
	if (fp)
		fclose(fp);
	free(path);
}

/*
 * Does the global deliver or a subscription's use kind (word: its value)?
 * *by gets the first subscription that names it itself, or NULL.
 */
static int
delivery_used(const struct ct_sec *root, const struct config *cfg, enum deliver_kind kind,
              const char *word, const struct ct_sec **by)
{
	unsigned ns = ct_size(root, "subscription");
	int inherit = ns == 0;

	*by = NULL;
	for (unsigned i = 0; i < ns; i++) {
		const struct ct_sec *sec = ct_getnsec(root, "subscription", i);
		const char *v = ct_getstr(sec, "deliver");

		if (v == NULL)
			inherit = 1;
		else if (strcmp(v, word) == 0 && *by == NULL)
			*by = sec;
	}
	return (inherit && cfg->deliver == kind) || *by != NULL;
}

/*
 * password-command: run by /bin/sh -c, its first line is the password (or
 * the XOAUTH2 bearer token), like msmtp's passwordeval.
 */
static void
run_password_command(const struct ctx *x, struct smtp_conf *s)
{
	const char *cmd = ct_getstr(x->sec, "password-command");
	char line[PASSWORD_MAX];
	FILE *fp;
	int st;

	fflush(NULL);
	if ((fp = popen(cmd, "r")) == NULL) {
		bad(x, "password-command", 0, "password-command: cannot run it: %s",
		    strerror(errno));
		return;
	}
	if (fgets(line, sizeof line, fp) == NULL)
		line[0] = '\0';
	while (fgetc(fp) != EOF)
		; /* let it finish writing */
	st = pclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	if (st != 0)
		bad(x, "password-command", 0, "password-command failed (%s %d)",
		    st > 0 && WIFEXITED(st) ? "exit status" : "signal",
		    st > 0 && WIFEXITED(st)     ? WEXITSTATUS(st)
		    : st > 0 && WIFSIGNALED(st) ? WTERMSIG(st)
		                                : -1);
	else if (line[0] == '\0')
		bad(x, "password-command", 0, "password-command printed no password");
	else if ((s->password = str_dup(line)) == NULL || strv_push(&x->L->scan.secrets, line) < 0)
		bad(x, "password-command", 0, "out of memory");
	explicit_bzero(line, sizeof line);
}

/*
 * Where the password comes from: at most one of three options.  A
 * password-command runs only when something delivers over SMTP (used): it
 * may ask a keyring or a person.
 */
static void
read_password(const struct ctx *x, struct smtp_conf *s, int used)
{
	static const char *const from[] = {"password", "password-file", "password-command"};
	const char *set = NULL;

	for (size_t i = 0; i < 3; i++) {
		if (ct_getstr(x->sec, from[i]) == NULL)
			continue;
		if (set != NULL) {
			bad(x, from[i], 0,
			    "set only one of password, password-file and "
			    "password-command (%s is set too)",
			    set);
			return;
		}
		set = from[i];
	}
	if (set == NULL)
		return;
	if (set == from[0])
		s->password = get_str(x, "password");
	else if (set == from[1])
		read_password_file(x, s);
	else if (used)
		run_password_command(x, s);
	if (s->password != NULL && s->user == NULL)
		bad(x, set, 0, "a password without a user: set user too");
}

/* A table over an if-chain: the name of each value of an enum option. */
static int
pick(const struct ctx *x, const char *opt, const char *const *names, size_t n)
{
	const char *v = ct_getstr(x->sec, opt);
	char list[200] = "";
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		if (str_eq(v, names[i]))
			return (int)i;
	for (size_t i = 0; i < n && len < sizeof list; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s\"%s\"",
		                        i == 0       ? ""
		                        : i + 1 == n ? " or "
		                                     : ", ",
		                        names[i]);
	bad(x, opt, 0, "%s = \"%s\": must be %s", opt, v ? v : "", list);
	return 0;
}

/* EHLO names: a host name (letters, digits, '-', '.') or an address literal. */
static int
helo_ok(const char *h)
{
	if (h[0] == '[')
		return h[strlen(h) - 1] == ']' &&
		       strspn(h + 1, "0123456789abcdefABCDEF.:") == strlen(h) - 2;
	return *h != '\0' && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                               "0123456789-.") == strlen(h);
}

static void
read_smtp_extras(const struct ctx *x, struct smtp_conf *s)
{
	/* in the order of enum smtp_auth, from SMTP_AUTH_PLAIN */
	static const char *const auths[] = {"plain", "login", "cram-md5", "xoauth2"};
	const char *a = ct_getstr(x->sec, "auth");

	s->sessions = (int)get_int(x, "sessions", 1, SESSIONS_MAX);
	s->auth = SMTP_AUTH_ANY;
	if (a != NULL)
		s->auth = (enum smtp_auth)(SMTP_AUTH_PLAIN + pick(x, "auth", auths, 4));
	if (a != NULL && s->user == NULL)
		bad(x, "auth", 0, "auth = \"%s\" needs user too", a);
	s->helo = get_str(x, "helo");
	if (s->helo != NULL && !helo_ok(s->helo))
		bad(x, "helo", 0, "helo = \"%s\": not a host name or [address]", s->helo);
}

static void
read_smtp(struct loader *L, const struct ct_sec *root, struct config *cfg)
{
	struct ctx x = {.L = L, .sec = ct_getsec(root, "smtp")};
	struct smtp_conf *s = &cfg->smtp;
	static const char *const tls[] = {
	    [TLS_STARTTLS] = "starttls", [TLS_NONE] = "none", [TLS_IMPLICIT] = "implicit"};
	const struct ct_sec *by;
	int used;

	s->host = get_str(&x, "host");
	s->tls = (enum tls_mode)pick(&x, "tls", tls, 3);
	if (ct_getint(x.sec, "port") == 0)
		s->port = s->tls == TLS_IMPLICIT ? 465 : 587;
	else
		s->port = (int)get_int(&x, "port", 1, PORT_MAX);
	s->verify = ct_getbool(x.sec, "verify");
	s->ca_file = get_path(&x, "ca-file");
	if (s->ca_file && access(s->ca_file, R_OK) < 0)
		bad(&x, "ca-file", 0, "ca-file %s: %s", s->ca_file, strerror(errno));
	else if (s->ca_file && !deliver_ca_file_ok(s->ca_file))
		bad(&x, "ca-file", 0, "ca-file %s: no PEM certificate in it", s->ca_file);
	s->user = get_str(&x, "user");
	s->allow_plaintext = ct_getbool(x.sec, "allow-plaintext");
	s->timeout = get_int(&x, "timeout", 1, TIMEOUT_MAX);
	used = delivery_used(root, cfg, DELIVER_SMTP, "smtp", &by);
	read_password(&x, s, used);
	if (s->user && s->password == NULL && !ct_getstr(x.sec, "password-file") &&
	    !ct_getstr(x.sec, "password-command"))
		bad(&x, "user", 0,
		    "user is set but none of password, password-file and "
		    "password-command");
	read_smtp_extras(&x, s);
	if (!used)
		return;
	if (str_empty(s->host) && cfg->deliver != DELIVER_SMTP) {
		struct ctx sx = {.L = L, .sec = by};

		bad(&sx, "deliver", 0, "deliver = \"smtp\" needs smtp { host = \"...\" }");
	} else if (str_empty(s->host)) {
		const char *file;
		int line;
		int set = ct_was_set(root, "deliver", 0);

		ct_locate(set ? root : x.sec, set ? "deliver" : NULL, 0, &file, &line);
		confscan_say(&L->scan, file, line, 0,
		             "deliver = \"smtp\"%s needs smtp { host = \"...\" }",
		             set ? "" : " (the default)");
	} else if (s->tls == TLS_NONE && !s->allow_plaintext && !is_loopback(s->host)) {
		bad(&x, "tls", 0,
		    "tls = \"none\" to %s would send the password and mail in "
		    "clear: set allow-plaintext = true if you mean it",
		    s->host);
	}
}

/*
 * The mbox file or maildir is made by the run, but not the folder it goes
 * in, unless that is the state's folder (a run makes that one first).
 */
static void
check_deliver_folder(const struct ctx *x, const char *path, const char *state_path)
{
	char *dir = path_dir(path), *state_dir = state_path ? path_dir(state_path) : NULL;
	int made_by_run = str_eq(dir, state_dir);
	struct stat st;

	free(state_dir);
	if (dir == NULL || made_by_run) {
		free(dir);
		return;
	}
	if (stat(dir, &st) != 0)
		bad(x, "deliver", 0, "deliver: folder %s: %s", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		bad(x, "deliver", 0, "deliver: %s is not a folder", dir);
	free(dir);
}

/* A deliver value ("smtp", "mbox:PATH", ...) as the option opt of section x says. */
static void
parse_deliver(const struct ctx *x, const char *v, enum deliver_kind *kind, char **path,
              const char *state_path)
{
	static const struct {
		const char *word; /* the whole value, or its prefix when with_path */
		int with_path;
		enum deliver_kind kind;
	} kinds[] = {
	    {"smtp", 0, DELIVER_SMTP},         {"stdout", 0, DELIVER_STDOUT},
	    {"sendmail", 0, DELIVER_SENDMAIL}, {"mbox:", 1, DELIVER_MBOX},
	    {"maildir:", 1, DELIVER_MAILDIR},
	};

	for (size_t i = 0; v && i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i].word);

		if (kinds[i].with_path ? strncmp(v, kinds[i].word, n) != 0
		                       : strcmp(v, kinds[i].word) != 0)
			continue;
		*kind = kinds[i].kind;
		if (kinds[i].with_path &&
		    (v[n] == '\0' || (*path = path_abs(v + n, where_file(x, "deliver"))) == NULL))
			bad(x, "deliver", 0, "deliver = \"%s\": no path after '%s'", v,
			    kinds[i].word);
		else if (kinds[i].with_path)
			check_deliver_folder(x, *path, state_path);
		return;
	}
	bad(x, "deliver", 0,
	    "deliver = \"%s\": must be smtp, sendmail, mbox:PATH, maildir:PATH or stdout",
	    v ? v : "");
}

static void
read_deliver(struct loader *L, const struct ct_sec *root, struct config *cfg)
{
	struct ctx x = {.L = L, .sec = root};

	parse_deliver(&x, ct_getstr(root, "deliver"), &cfg->deliver, &cfg->deliver_path,
	              cfg->state_path);
}

/*
 * sendmail = "PROGRAM ARGS...": split on blanks, no shell.  Checked only
 * when something delivers through it: a missing program is named here.
 */
static void
read_sendmail(struct loader *L, const struct ct_sec *root, struct config *cfg)
{
	struct ctx x = {.L = L, .sec = root};
	const char *v = ct_getstr(root, "sendmail"), *p, *prog;
	const struct ct_sec *by;

	for (p = v ? v + strspn(v, " \t") : NULL; p && *p; p += strspn(p, " \t")) {
		size_t n = strcspn(p, " \t");
		char *word = str_ndup(p, n);

		if (strv_push_owned(&cfg->sendmail, word) < 0) {
			free(word);
			bad(&x, NULL, 0, "out of memory");
			return;
		}
		p += n;
	}
	if (!delivery_used(root, cfg, DELIVER_SENDMAIL, "sendmail", &by))
		return;
	if (cfg->sendmail.n == 0) {
		bad(&x, "sendmail", 0, "sendmail = \"%s\": names no program", v ? v : "");
		return;
	}
	prog = cfg->sendmail.v[0];
	if (strchr(prog, '/') != NULL && access(prog, X_OK) < 0)
		bad(&x, "sendmail", 0, "sendmail = \"%s\": %s: %s", v, prog, strerror(errno));
}

static int
valid_name(const char *s)
{
	if (str_empty(s))
		return 0;
	for (; *s; s++)
		if (iscntrl((unsigned char)*s))
			return 0;
	return 1;
}

static void
read_feed(struct loader *L, const struct ct_sec *sec, struct feed_conf *f)
{
	struct ctx x = {.L = L, .sec = sec};
	const char *url = ct_getstr(sec, "url"), *why;

	f->name = str_dup(ct_title(sec));
	ct_locate(sec, NULL, 0, (const char **)&f->file, &f->line);
	f->file = str_dup(f->file);
	if (!valid_name(f->name))
		bad(&x, NULL, 0, "feed: the name must not be empty nor hold control characters");
	if (url == NULL)
		bad(&x, NULL, 0, "feed '%s' has no url", f->name);
	else if (strncasecmp(url, "file:", 5) == 0) {
		if ((f->url = file_url(url, where_file(&x, "url"))) == NULL)
			bad(&x, "url", 0, "url \"%s\": names no file", url);
	} else if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		bad(&x, "url", 0, "url \"%s\": only http, https and file URLs are supported", url);
	} else if ((why = http_url_problem(url)) != NULL) {
		bad(&x, "url", 0, "url \"%s\" does not parse: %s", url, why);
	} else {
		f->url = str_dup(url);
	}
	f->title = get_str(&x, "title");
	if (get_list(&x, "tags", &f->tags) < 0)
		bad(&x, NULL, 0, "out of memory");
	f->interval = get_duration(&x, "interval");
	f->user_agent = get_str(&x, "user-agent");
	f->insecure = ct_getbool(sec, "insecure");
	f->proxy = get_proxy(&x);
	f->active = ct_getbool(sec, "active");
}

static void
check_template(const struct ctx *x, const char *dir, const char *name)
{
	static const char *const ext[] = {".txt", ".html"};

	int ok = 1;

	if (name == NULL || *name == '\0' || strchr(name, '/') || strcmp(name, "..") == 0) {
		bad(x, "template", 0, "template \"%s\": a name, not a path", name ? name : "");
		return;
	}
	/* Thousands of subscriptions ask for the same one: look once. */
	if (x->L->template_ok != NULL && strcmp(x->L->template_ok, name) == 0)
		return;
	for (size_t i = 0; dir && i < 2; i++) {
		char *p = str_printf("%s/%s%s", dir, name, ext[i]);

		if (p && access(p, R_OK) < 0) {
			bad(x, "template", 0, "template '%s': %s: %s", name, p, strerror(errno));
			ok = 0;
		}
		free(p);
	}
	if (ok)
		x->L->template_ok = name; /* the subscription's: lives as long as the load */
}

/*
 * Each recipient's bare address, parsed once: the envelope gets it, the
 * To header the mailbox as written.  A recipient listed twice would get
 * the digest twice.
 */
static void
read_recipients(const struct ctx *x, struct sub_conf *s)
{
	for (size_t i = 0; i < s->to.n; i++) {
		char *a = message_address(s->to.v[i]);

		if (a == NULL || strpbrk(s->to.v[i], "\r\n") != NULL)
			bad(x, "to", (unsigned)i, "to \"%s\": not an email address", s->to.v[i]);
		else if (strv_contains_icase(&s->to_addr, a))
			bad(x, "to", (unsigned)i, "to \"%s\": %s is listed twice", s->to.v[i], a);
		else if (strv_push(&s->to_addr, a) < 0)
			bad(x, NULL, 0, "out of memory");
		free(a);
	}
}

static void
read_sub(struct loader *L, const struct ct_sec *sec, struct config *cfg, struct sub_conf *s)
{
	struct ctx x = {.L = L, .sec = sec};
	const char **names;
	char hint[CONFSCAN_HINT_MAX];

	s->name = str_dup(ct_title(sec));
	ct_locate(sec, NULL, 0, (const char **)&s->file, &s->line);
	s->file = str_dup(s->file);
	if (!valid_name(s->name))
		bad(&x, NULL, 0,
		    "subscription: the name must not be empty nor hold control characters");
	if (get_list(&x, "to", &s->to) < 0 || get_list(&x, "feeds", &s->feeds) < 0 ||
	    get_list(&x, "tags", &s->tags) < 0 ||
	    get_list(&x, "exclude-tags", &s->exclude_tags) < 0)
		bad(&x, NULL, 0, "out of memory");
	if (s->to.n == 0)
		bad(&x, "to", 0, "subscription '%s' has no recipients: to = {\"you@example.org\"}",
		    s->name);
	read_recipients(&x, s);
	s->deliver = cfg->deliver;
	if (ct_getstr(sec, "deliver") != NULL)
		parse_deliver(&x, ct_getstr(sec, "deliver"), &s->deliver, &s->deliver_path,
		              cfg->state_path);
	else if (cfg->deliver_path != NULL &&
	         (s->deliver_path = str_dup(cfg->deliver_path)) == NULL)
		bad(&x, NULL, 0, "out of memory");
	for (size_t i = 0; i < s->feeds.n; i++) {
		if (config_feed(cfg, s->feeds.v[i]))
			continue;
		/* The feeds' names, for a hint: only for a name not found. */
		if ((names = calloc(cfg->nfeeds + 1, sizeof *names)) != NULL)
			for (size_t k = 0; k < cfg->nfeeds; k++)
				names[k] = cfg->feeds[k].name ? cfg->feeds[k].name : "";
		bad(&x, "feeds", (unsigned)i, "subscription '%s': no feed named '%s'%s", s->name,
		    s->feeds.v[i],
		    names ? confscan_did_you_mean(hint, s->feeds.v[i], names, cfg->nfeeds) : "");
		free(names);
	}
	s->subject = get_str(&x, "subject");
	if (s->subject && strpbrk(s->subject, "\r\n"))
		bad(&x, "subject", 0, "subject holds a line break");
	s->template = get_str(&x, "template");
	check_template(&x, cfg->templates_dir, s->template);
	s->max_items = get_int(&x, "max-items", 0, ITEMS_MAX);
	s->full_items_per_feed = get_int(&x, "full-items-per-feed", 0, ITEMS_MAX);
	s->first_run = get_duration(&x, "first-run");
	s->list_unsubscribe = get_str(&x, "list-unsubscribe");
	/* The message writer's own rule: a value it would refuse fails every run. */
	if (s->list_unsubscribe && !message_list_unsubscribe_ok(s->list_unsubscribe))
		bad(&x, "list-unsubscribe", 0,
		    "list-unsubscribe \"%s\": a mailto: or http(s) URL of printable ASCII, "
		    "without spaces or <>\"\\, (900 characters at most)",
		    s->list_unsubscribe);
}

static void
read_globals(struct loader *L, const struct ct_sec *root, struct config *cfg)
{
	struct ctx x = {.L = L, .sec = root};
	const char *from = ct_getstr(root, "from");

	if (from == NULL)
		bad(&x, NULL, 0, "from is not set: from = \"Tidings <tidings@example.org>\"");
	check_address(&x, "from", 0, from);
	cfg->from = str_dup(from);
	cfg->state_path = get_path(&x, "state");
	if (cfg->state_path == NULL && ct_getstr(root, "state") == NULL &&
	    (cfg->state_path = default_state_path()) == NULL)
		bad(&x, NULL, 0, "no state file: set state (HOME is not set)");
	cfg->templates_dir = get_path(&x, "templates");
	if (cfg->templates_dir == NULL && ct_getstr(root, "templates") == NULL)
		cfg->templates_dir = str_dup(PKGDATADIR);
	cfg->retention = get_duration(&x, "state-retention");
}

static void
build(struct loader *L, const struct ct_sec *root, struct config *cfg)
{
	unsigned nf = ct_size(root, "feed"), ns = ct_size(root, "subscription");

	read_globals(L, root, cfg);
	read_fetch(L, root, &cfg->fetch);
	read_deliver(L, root, cfg);
	read_sendmail(L, root, cfg);
	read_smtp(L, root, cfg);
	cfg->feeds = calloc(nf ? nf : 1, sizeof *cfg->feeds);
	cfg->subs = calloc(ns ? ns : 1, sizeof *cfg->subs);
	if (cfg->feeds == NULL || cfg->subs == NULL) {
		confscan_say(&L->scan, L->scan.path, 1, 0, "out of memory");
		return;
	}
	for (unsigned i = 0; i < nf; i++, cfg->nfeeds++)
		read_feed(L, ct_getnsec(root, "feed", i), &cfg->feeds[i]);
	for (unsigned i = 0; i < ns; i++, cfg->nsubs++)
		read_sub(L, ct_getnsec(root, "subscription", i), cfg, &cfg->subs[i]);
}

/* --- the schema --------------------------------------------------------- */

/* The options, declared with libconfuse's macros (conftree reads them; the
 * differential test hands them to libconfuse), the sections pointing at
 * their members. */
struct schema {
	cfg_opt_t fetch[9], smtp[15], feed[9], sub[12], top[12];
};

static void
schema_init(struct schema *sc)
{
	*sc = (struct schema){
	    .fetch = {CFG_INT("timeout", 30, CFGF_NONE), CFG_INT("parallel", 8, CFGF_NONE),
	              CFG_INT("per-host", 2, CFGF_NONE), CFG_STR("max-size", "10M", CFGF_NONE),
	              CFG_STR("user-agent", NULL, CFGF_NONE), CFG_INT("report-after", 3, CFGF_NONE),
	              CFG_INT("max-pages", 50, CFGF_NONE), CFG_STR("proxy", NULL, CFGF_NONE),
	              CFG_END()},
	    .smtp = {CFG_STR("host", NULL, CFGF_NONE), CFG_INT("port", 0, CFGF_NONE),
	             CFG_STR("tls", "starttls", CFGF_NONE), CFG_BOOL("verify", cfg_true, CFGF_NONE),
	             CFG_STR("ca-file", NULL, CFGF_NONE), CFG_STR("user", NULL, CFGF_NONE),
	             CFG_STR("password", NULL, CFGF_NONE),
	             CFG_STR("password-file", NULL, CFGF_NONE),
	             CFG_STR("password-command", NULL, CFGF_NONE), CFG_STR("auth", NULL, CFGF_NONE),
	             CFG_STR("helo", NULL, CFGF_NONE), CFG_INT("sessions", 1, CFGF_NONE),
	             CFG_BOOL("allow-plaintext", cfg_false, CFGF_NONE),
	             CFG_INT("timeout", 60, CFGF_NONE), CFG_END()},
	    .feed = {CFG_STR("url", NULL, CFGF_NONE), CFG_STR("title", NULL, CFGF_NONE),
	             CFG_STR_LIST("tags", NULL, CFGF_NONE), CFG_STR("interval", "0", CFGF_NONE),
	             CFG_STR("user-agent", NULL, CFGF_NONE),
	             CFG_BOOL("insecure", cfg_false, CFGF_NONE), CFG_STR("proxy", NULL, CFGF_NONE),
	             CFG_BOOL("active", cfg_true, CFGF_NONE), CFG_END()},
	    .sub = {CFG_STR_LIST("to", NULL, CFGF_NONE), CFG_STR_LIST("feeds", NULL, CFGF_NONE),
	            CFG_STR_LIST("tags", NULL, CFGF_NONE),
	            CFG_STR_LIST("exclude-tags", NULL, CFGF_NONE),
	            CFG_STR("subject", "[{{subscription}}] {{headline}}", CFGF_NONE),
	            CFG_STR("template", "digest", CFGF_NONE), CFG_INT("max-items", 200, CFGF_NONE),
	            CFG_INT("full-items-per-feed", 10, CFGF_NONE),
	            CFG_STR("first-run", "7d", CFGF_NONE),
	            CFG_STR("list-unsubscribe", NULL, CFGF_NONE),
	            CFG_STR("deliver", NULL, CFGF_NONE), CFG_END()},
	    .top = {CFG_STR("from", NULL, CFGF_NONE), CFG_STR("state", NULL, CFGF_NONE),
	            CFG_STR("templates", NULL, CFGF_NONE),
	            CFG_STR("state-retention", "90d", CFGF_NONE),
	            CFG_STR("deliver", "smtp", CFGF_NONE),
	            CFG_STR("sendmail", "/usr/sbin/sendmail", CFGF_NONE), CFG_FUNC("include", NULL),
	            CFG_SEC("fetch", sc->fetch, CFGF_NONE), CFG_SEC("smtp", sc->smtp, CFGF_NONE),
	            CFG_SEC("feed", sc->feed, CFGF_MULTI | CFGF_TITLE),
	            CFG_SEC("subscription", sc->sub, CFGF_MULTI | CFGF_TITLE), CFG_END()},
	};
}

/* Parse and check cfg->path: 0, else -1 with e set. */
static int
load(struct loader *L, struct schema *sc, struct config *cfg, conftree_parser parse, struct err *e)
{
	struct conftree_load ld = {
	    .scan = &L->scan, .schema = sc->top, .path = cfg->path, .resolve = include_path};
	int rc = parse(&L->tree, &ld), n;

	/* Unreadable: one line, in e; the caller prints it (not in diag as well). */
	if (rc < 0 && errno == ENOMEM)
		return err_oom(e);
	if (rc < 0)
		return err_set(e, EX_CONFIG, "%s: %s", cfg->path, strerror(errno));
	if (rc == 0)
		build(L, L->tree.root, cfg);
	else if (L->scan.nerr == 0)
		confscan_say(&L->scan, cfg->path, 1, 0, "cannot parse");
	if ((n = L->scan.nerr) > 0)
		return err_set(e, EX_CONFIG, "%s: %d error%s", cfg->path, n, n == 1 ? "" : "s");
	return 0;
}

int
config_load_with(const char *path, struct config *cfg, FILE *diag,
                 int (*parse)(struct conftree *, const struct conftree_load *), struct err *e)
{
	struct schema sc;
	struct loader L = {.template_ok = NULL};
	int rc;

	memset(cfg, 0, sizeof *cfg);
	if ((cfg->path = abs_config_path(path)) == NULL ||
	    (cfg->dir = path_dir(cfg->path)) == NULL) {
		config_free(cfg);
		return err_oom(e);
	}
	schema_init(&sc);
	confscan_init(&L.scan, cfg->path, sc.top, diag);
	rc = load(&L, &sc, cfg, parse, e);
	conftree_free(&L.tree);
	confscan_free(&L.scan);
	if (rc < 0)
		config_free(cfg);
	return rc;
}

int
config_load(const char *path, struct config *cfg, FILE *diag, struct err *e)
{
	return config_load_with(path, cfg, diag, conftree_parse, e);
}

/* --- the rest ------------------------------------------------------------ */

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; cfg->feeds && i < cfg->nfeeds; i++) {
		struct feed_conf *f = &cfg->feeds[i];

		free(f->name);
		free(f->url);
		free(f->title);
		strv_free(&f->tags);
		free(f->user_agent);
		free(f->proxy);
		free(f->file);
	}
	for (size_t i = 0; cfg->subs && i < cfg->nsubs; i++) {
		struct sub_conf *s = &cfg->subs[i];

		free(s->name);
		strv_free(&s->to);
		strv_free(&s->to_addr);
		free(s->deliver_path);
		strv_free(&s->feeds);
		strv_free(&s->tags);
		strv_free(&s->exclude_tags);
		free(s->subject);
		free(s->template);
		free(s->list_unsubscribe);
		free(s->file);
	}
	free(cfg->feeds);
	free(cfg->subs);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->from);
	free(cfg->state_path);
	free(cfg->templates_dir);
	free(cfg->deliver_path);
	strv_free(&cfg->sendmail);
	free(cfg->fetch.user_agent);
	free(cfg->fetch.proxy);
	free(cfg->smtp.host);
	free(cfg->smtp.ca_file);
	free(cfg->smtp.user);
	free(cfg->smtp.helo);
	if (cfg->smtp.password)
		explicit_bzero(cfg->smtp.password, strlen(cfg->smtp.password));
	free(cfg->smtp.password);
	memset(cfg, 0, sizeof *cfg);
}

const struct feed_conf *
config_feed(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nfeeds; i++)
		if (str_eq(cfg->feeds[i].name, name))
			return &cfg->feeds[i];
	return NULL;
}

const struct sub_conf *
config_sub(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsubs; i++)
		if (str_eq(cfg->subs[i].name, name))
			return &cfg->subs[i];
	return NULL;
}

static void
print_list(FILE *out, const char *label, const struct strv *v, const char *none)
{
	fprintf(out, "; %s: ", label);
	if (v->n == 0)
		fputs(none, out);
	for (size_t i = 0; i < v->n; i++)
		fprintf(out, "%s%s", i ? ", " : "", v->v[i]);
}

/* "smtp HOST:PORT (...)", "mbox PATH", ... for check's summary. */
void
config_print_delivery(FILE *out, const struct config *cfg, enum deliver_kind kind, const char *path)
{
	static const char *const tls[] = {"starttls", "no TLS", "implicit TLS"};

	switch (kind) {
	case DELIVER_SMTP:
		fprintf(out, "smtp %s:%d (%s%s%s)", cfg->smtp.host, cfg->smtp.port,
		        tls[cfg->smtp.tls], cfg->smtp.user ? ", as " : "",
		        cfg->smtp.user ? cfg->smtp.user : "");
		break;
	case DELIVER_MBOX: fprintf(out, "mbox %s", path); break;
	case DELIVER_MAILDIR: fprintf(out, "maildir %s", path); break;
	case DELIVER_STDOUT: fprintf(out, "stdout"); break;
	case DELIVER_SENDMAIL:
		fprintf(out, "sendmail");
		for (size_t i = 0; i < cfg->sendmail.n; i++)
			fprintf(out, " %s", cfg->sendmail.v[i]);
		break;
	}
}

void
config_summary(const struct config *cfg, FILE *out)
{
	fprintf(out, "%s: %zu feed%s, %zu subscription%s\n", cfg->path, cfg->nfeeds,
	        cfg->nfeeds == 1 ? "" : "s", cfg->nsubs, cfg->nsubs == 1 ? "" : "s");
	fprintf(out, "deliver: ");
	config_print_delivery(out, cfg, cfg->deliver, cfg->deliver_path);
	fputc('\n', out);
	for (size_t i = 0, n = 0; i < cfg->nfeeds; i++)
		if (!cfg->feeds[i].active)
			fprintf(out, "%s%s",
			        n++ ? ", " : "paused (active = false): ", cfg->feeds[i].name);
	for (size_t i = 0; i < cfg->nfeeds; i++)
		if (!cfg->feeds[i].active) {
			fputc('\n', out);
			break;
		}
	for (size_t i = 0; i < cfg->nsubs; i++) {
		const struct sub_conf *s = &cfg->subs[i];

		fprintf(out, "subscription %s", s->name);
		print_list(out, "to", &s->to, "nobody");
		print_list(out, "feeds", &s->feeds, "all");
		print_list(out, "tags", &s->tags, "all");
		print_list(out, "exclude-tags", &s->exclude_tags, "none");
		fprintf(out, "; template %s", s->template);
		if (s->deliver != cfg->deliver || !str_eq(s->deliver_path, cfg->deliver_path)) {
			fprintf(out, "; deliver ");
			config_print_delivery(out, cfg, s->deliver, s->deliver_path);
		}
		fputc('\n', out);
	}
}

int
config_open(const char *path, struct config *cfg, FILE *diag, struct err *e)
{
	char *fallback = NULL;
	int rc;

	if (path == NULL && (path = fallback = config_default_path()) == NULL)
		return err_oom(e);
	rc = config_load(path, cfg, diag, e);
	free(fallback);
	return rc;
}
