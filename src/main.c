/*
 * main: parse the command line, dispatch to a command, exit with its status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "date.h"

struct command {
	const char *name;
	int (*fn)(const struct cli *);
	const char *usage;
	const char *summary;
};

static const struct command commands[] = {
	{"run", cmd_run, "[-c FILE] [run] [--since DATE [--to ADDR]] [-S SUB]... [-n]",
	 "fetch, send the digests, record them (the default)"},
	{"check", cmd_check, "[-c FILE] check", "validate config and templates, print a summary"},
	{"feeds", cmd_feeds, "[-c FILE] feeds", "each feed: last fetch, status, items, failures"},
	{"preview", cmd_preview, "[-c FILE] preview [SUB] [--html FILE] [--to ADDR]",
	 "render SUB's next digest to stdout (.eml); sends and records nothing"},
	{"catch-up", cmd_catch_up, "[-c FILE] catch-up [SUB]",
	 "record every current item as delivered, send nothing"},
	{"parse", cmd_parse, "parse [--json] FILE|URL...",
	 "parse feeds and print their items (no config, no state)"},
	{"import-opml", cmd_import_opml, "import-opml FILE", "print feed sections for an OPML file"},
	{"export-opml", cmd_export_opml, "[-c FILE] export-opml", "print the configured feeds as OPML"},
};

enum { OPT_SINCE = 256, OPT_TO, OPT_HTML, OPT_JSON, OPT_VERSION, OPT_HELP };

static const struct option long_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"subscription", required_argument, NULL, 'S'},
	{"dry-run", no_argument, NULL, 'n'},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"since", required_argument, NULL, OPT_SINCE},
	{"to", required_argument, NULL, OPT_TO},
	{"html", required_argument, NULL, OPT_HTML},
	{"json", no_argument, NULL, OPT_JSON},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: tidings [OPTIONS] [COMMAND] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
	        "\noptions:\n"
	        "  -c, --config FILE         configuration file (default: $XDG_CONFIG_HOME/tidings/tidings.conf,\n"
	        "                            then /etc/tidings.conf)\n"
	        "      --since DATE          one-off: every item dated on or after DATE (YYYY-MM-DD or\n"
	        "                            RFC 3339), ignoring the state and leaving it unchanged\n"
	        "      --to ADDR             with --since or preview: send to ADDR instead\n"
	        "  -S, --subscription NAME   only this subscription (repeatable)\n"
	        "  -n, --dry-run             do everything but deliver and record; mbox on stdout\n"
	        "      --html FILE           preview: write the HTML part to FILE\n"
	        "      --json                parse: one JSON object per feed per line\n"
	        "  -v, --verbose             progress on stderr\n"
	        "  -q, --quiet               errors only\n"
	        "      --version             print the version\n"
	        "  -h, --help                this help; COMMAND --help for a command's\n"
	        "\nexit status: 0 ok, 64 usage, 65 bad data, 69 SMTP refused, 73 cannot create output,\n"
	        "74 I/O error, 75 temporary failure (retry later), 78 configuration error\n");
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Returns -1 to go on, or an exit status. */
static int
parse_options(int argc, char **argv, struct cli *c, int *want_help)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "c:S:nvqh", long_options, NULL)) != -1) {
		switch (ch) {
		case 'c': c->config_path = optarg; break;
		case 'S':
			if (strv_push(&c->subs, optarg) < 0)
				return EX_OSERR;
			break;
		case 'n': c->dry_run = 1; break;
		case 'v': c->verbose++; break;
		case 'q': c->quiet = 1; break;
		case 'h': *want_help = 1; break;
		case OPT_SINCE:
			if (date_parse_since(optarg, &c->since) < 0) {
				fprintf(stderr, "tidings: --since %s: not a date (YYYY-MM-DD or RFC 3339)\n", optarg);
				return EX_DATAERR;
			}
			c->have_since = 1;
			break;
		case OPT_TO: c->to = optarg; break;
		case OPT_HTML: c->html_out = optarg; break;
		case OPT_JSON: c->json = 1; break;
		case OPT_VERSION:
			printf("tidings %s\n", PACKAGE_VERSION);
			return EX_OK;
		default:
			fprintf(stderr, "Try 'tidings --help'.\n");
			return EX_USAGE;
		}
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct cli c = {0};
	const struct command *cmd;
	int want_help = 0, rc;

	rc = parse_options(argc, argv, &c, &want_help);
	if (rc >= 0)
		goto out;
	cmd = optind < argc ? find_command(argv[optind]) : find_command("run");
	if (cmd == NULL) {
		fprintf(stderr, "tidings: unknown command '%s'; try 'tidings --help'\n", argv[optind]);
		rc = EX_USAGE;
		goto out;
	}
	if (optind < argc)
		optind++;
	if (want_help) {
		if (optind == 1 || argc == 1 || cmd == find_command("run"))
			usage(stdout);
		else
			printf("usage: tidings %s\n%s\n", cmd->usage, cmd->summary);
		rc = EX_OK;
		goto out;
	}
	c.argc = argc - optind;
	c.argv = argv + optind;
	rc = cmd->fn(&c);
out:
	strv_free(&c.subs);
	return rc;
}
