/*
 * config: the configuration file (libconfuse), checked whole.
 *
 * config_load() reports every problem as one "file:line: message" line on
 * diag and fails (EX_CONFIG) if there was any; on success every value is
 * valid and paths are absolute.  A syntax error (an unknown option, a
 * missing brace) stops libconfuse at that line; every other problem is
 * reported in the same run.  Relative paths resolve against the folder of
 * the file that sets them; `include("x")` against the including file.
 * Not thread-safe: libconfuse's lexer is global (so is our hook into it).
 */
#ifndef TIDINGS_CONFIG_H
#define TIDINGS_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

struct feed_conf {
	char *name;
	char *url;
	char *title; /* or NULL: the feed's own */
	struct strv tags;
	time_t interval;  /* 0: every run */
	char *user_agent; /* or NULL: fetch.user_agent */
	int insecure;
	char *proxy; /* or NULL: fetch.proxy; "" for none */
	int active;  /* 0: paused, neither fetched nor offered; state kept */
	char *file;  /* where it was defined */
	int line;
};

enum deliver_kind {
	DELIVER_SMTP,
	DELIVER_MBOX,
	DELIVER_MAILDIR,
	DELIVER_STDOUT,
	DELIVER_SENDMAIL, /* the sendmail program: config.sendmail */
};

struct sub_conf {
	char *name;
	struct strv to;      /* as written: "Name <addr>" or "addr", for the To header */
	struct strv to_addr; /* the bare address of each, same order: the envelope */
	struct strv feeds;   /* empty: every feed */
	struct strv tags;    /* empty: all */
	struct strv exclude_tags;
	char *subject;  /* mustache */
	char *template; /* base name: TEMPLATES/NAME.txt and NAME.html */
	long max_items; /* 0: no cap */
	long full_items_per_feed;
	time_t first_run;          /* seconds; 0: no limit, the first run sends everything */
	char *list_unsubscribe;    /* or NULL */
	enum deliver_kind deliver; /* its own deliver, else the global one */
	char *deliver_path;        /* likewise: mbox file or maildir folder, or NULL */
	char *file;
	int line;
};

enum tls_mode { TLS_STARTTLS, TLS_NONE, TLS_IMPLICIT };

/* smtp.auth: the SASL mechanism; SMTP_AUTH_ANY lets tidings choose. */
enum smtp_auth {
	SMTP_AUTH_ANY,
	SMTP_AUTH_PLAIN,
	SMTP_AUTH_LOGIN,
	SMTP_AUTH_CRAM_MD5,
	SMTP_AUTH_XOAUTH2,
};

struct smtp_conf {
	char *host;
	int port;
	enum tls_mode tls;
	int verify;
	char *ca_file;  /* or NULL */
	char *user;     /* or NULL: no AUTH */
	char *password; /* from password, password-file or password-command;
	                   never printed (with auth = xoauth2: the bearer token) */
	enum smtp_auth auth;
	char *helo;   /* or NULL: the host's FQDN, else the From domain */
	int sessions; /* parallel SMTP sessions */
	int allow_plaintext;
	long timeout; /* seconds for the whole session */
};

struct fetch_conf {
	long timeout;
	int parallel;
	int per_host;
	size_t max_size;
	char *user_agent;
	int report_after;
	int max_pages; /* --since: older pages per feed at most (0: never page) */
	char *proxy;   /* or NULL: the environment's; "" for none */
};

struct config {
	char *path; /* the file read, absolute */
	char *dir;  /* its folder */
	char *from;
	char *state_path;
	char *templates_dir;
	time_t retention;
	struct fetch_conf fetch;
	enum deliver_kind deliver;
	char *deliver_path;   /* mbox file or maildir folder */
	struct strv sendmail; /* the program, then its arguments (split on blanks) */
	struct smtp_conf smtp;
	struct feed_conf *feeds;
	size_t nfeeds;
	struct sub_conf *subs;
	size_t nsubs;
};

/* The path used when -c is not given ($XDG_CONFIG_HOME, ~/.config, /etc). Caller frees. */
char *config_default_path(void);

int config_load(const char *path, struct config *cfg, FILE *diag, struct err *e);
struct conftree;
struct conftree_load;
/* config_load() with another parser than conftree_parse(): the differential
 * test's libconfuse one. */
int config_load_with(const char *path, struct config *cfg, FILE *diag,
                     int (*parse)(struct conftree *, const struct conftree_load *), struct err *e);
/* config_load of path, or of config_default_path() when path is NULL. */
int config_open(const char *path, struct config *cfg, FILE *diag, struct err *e);
void config_free(struct config *cfg);

const struct feed_conf *config_feed(const struct config *cfg, const char *name);
const struct sub_conf *config_sub(const struct config *cfg, const char *name);

/* "90d" -> seconds (s m h d w; a bare number is seconds); "10M" -> bytes
 * (K M G, powers of 1024; a bare number is bytes).  -1 when malformed. */
int config_parse_duration(const char *s, time_t *out);
int config_parse_size(const char *s, size_t *out);

/* For `tidings check`: feed count, delivery, and per subscription its
 * recipients, feeds, tags and exclude-tags.  Never prints the password. */
void config_summary(const struct config *cfg, FILE *out);
/* One delivery as a person reads it: "smtp host:587 (starttls, as me)", "mbox PATH", ... */
void config_print_delivery(FILE *out, const struct config *cfg, enum deliver_kind kind,
                           const char *path);

#endif
