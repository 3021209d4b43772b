/*
 * cli: the parsed command line, and the commands main() dispatches to.
 *
 * Each command returns a sysexits(3) status; it prints its own errors,
 * one line each, on stderr.  Only main() exits.
 */
#ifndef TIDINGS_CLI_H
#define TIDINGS_CLI_H

#include <time.h>

#include "util.h"

struct cli {
	const char *config_path; /* -c, or NULL for the default */
	int verbose;             /* -v */
	int quiet;               /* -q */
	int dry_run;             /* -n */
	int json;                /* parse --json */
	int have_since;          /* --since given */
	time_t since;
	const char *to;       /* --to, as given: the To header */
	char *to_addr;        /* its bare address: the envelope */
	const char *html_out; /* preview --html FILE */
	const char *feed;     /* catch-up --feed NAME */
	const char *tags;     /* add --tags a,b */
	const char *title;    /* add --title T */
	struct strv subs;     /* -S (repeatable) and positional SUB */
	int argc;             /* operands after the command name */
	char **argv;
};

int cmd_run(const struct cli *c);         /* run.c */
int cmd_preview(const struct cli *c);     /* run.c */
int cmd_catch_up(const struct cli *c);    /* run.c */
int cmd_feeds(const struct cli *c);       /* run.c */
int cmd_check(const struct cli *c);       /* run.c */
int cmd_parse(const struct cli *c);       /* parsecmd.c */
int cmd_import_opml(const struct cli *c); /* opml.c */
int cmd_export_opml(const struct cli *c); /* opml.c */
int cmd_add(const struct cli *c);         /* confedit.c */
int cmd_remove(const struct cli *c);      /* confedit.c */
int cmd_test_mail(const struct cli *c);   /* testmail.c */

#endif
