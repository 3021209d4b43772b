/*
 * main: parse the command line, dispatch to a command, exit with its status.
 *
 * Options may come before or after the command (GNU getopt permutes).  Each
 * command says which options it takes; anything else is a usage error (64)
 * reported in one line with a hint.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <libxml/parser.h>

#include "cli.h"
#include "date.h"
#include "message.h"

/* Options a command may take (-v, -q and --help go with every command). */
enum {
	O_CONFIG = 1 << 0,
	O_SUB = 1 << 1,
	O_DRY = 1 << 2,
	O_SINCE = 1 << 3,
	O_TO = 1 << 4,
	O_HTML = 1 << 5,
	O_JSON = 1 << 6,
	O_FEED = 1 << 7,
	O_TAGS = 1 << 8,
	O_TITLE = 1 << 9,
	O_VERSION = 1 << 10,
};

struct command {
	const char *name;
	int (*fn)(const struct cli *);
	const char *usage;
	const char *summary;
	unsigned opts;
	int min_args, max_args; /* operands after the command name */
};

static const struct command commands[] = {
    {"run", cmd_run, "[-c FILE] [run] [--since DATE [--to ADDR]] [-S SUB]... [-n]",
     "fetch, send the digests, record them (the default)",
     O_CONFIG | O_SUB | O_DRY | O_SINCE | O_TO, 0, 0},
    {"check", cmd_check, "[-c FILE] check",
     "validate config and templates, prove the state writable, print a summary", O_CONFIG, 0, 0},
    {"feeds", cmd_feeds, "[-c FILE] feeds", "each feed: last fetch, status, items, failures",
     O_CONFIG, 0, 0},
    {"preview", cmd_preview, "[-c FILE] preview [SUB] [--since DATE] [--html FILE] [--to ADDR]",
     "the next digests on stdout (mbox; SUB's alone: .eml); sends, records nothing",
     O_CONFIG | O_SUB | O_SINCE | O_TO | O_HTML, 0, 1},
    {"catch-up", cmd_catch_up, "[-c FILE] catch-up [SUB] [-S SUB]... [--feed NAME]",
     "record every current item as delivered, send nothing", O_CONFIG | O_SUB | O_FEED, 0, 1},
    {"parse", cmd_parse, "[-c FILE] parse [--json] FILE|URL|FEED...",
     "parse feeds and print their items (no state; FEED: a configured feed)", O_CONFIG | O_JSON, 1,
     -1},
    {"import-opml", cmd_import_opml, "import-opml FILE",
     "print feed sections for an OPML file's http(s) feeds (- for stdin)", 0, 1, 1},
    {"export-opml", cmd_export_opml, "[-c FILE] export-opml",
     "print the configured feeds as OPML 2.0", O_CONFIG, 0, 0},
    {"add", cmd_add, "[-c FILE] add NAME URL [--tags a,b] [--title T]",
     "append a feed section to the config (checked first)", O_CONFIG | O_TAGS | O_TITLE, 2, 2},
    {"remove", cmd_remove, "[-c FILE] remove NAME", "remove a feed's section from the config",
     O_CONFIG, 1, 1},
    {"test-mail", cmd_test_mail, "[-c FILE] test-mail [-S SUB]...",
     "a test message to the first subscription's recipients (or -S's)", O_CONFIG | O_SUB, 0, 0},
};

static const struct {
	unsigned bit;
	const char *name;
	const char *help;
} option_help[] = {
    {O_CONFIG, "--config",
     "  -c, --config FILE         configuration file (default: $XDG_CONFIG_HOME/tidings/\n"
     "                            tidings.conf, then " SYSCONFDIR "/tidings.conf)\n"},
    {O_SINCE, "--since",
     "      --since DATE          one-off: every item dated on or after DATE (YYYY-MM-DD or\n"
     "                            RFC 3339), ignoring the state and leaving it unchanged;\n"
     "                            older pages are fetched when DATE is older than a feed's\n"
     "                            oldest item (at most fetch.max-pages per feed)\n"},
    {O_TO, "--to",
     "      --to ADDR             with --since or preview: send to ADDR instead (a@b, or\n"
     "                            'Name <a@b>': the name goes into To:)\n"},
    {O_SUB, "--subscription", "  -S, --subscription NAME   only this subscription (repeatable)\n"},
    {O_FEED, "--feed",
     "      --feed NAME           catch-up: only this feed, for every subscription reading\n"
     "                            it (or -S's); other feeds' pending items stay pending\n"},
    {O_DRY, "--dry-run",
     "  -n, --dry-run             do everything but deliver and record; mbox on stdout\n"},
    {O_HTML, "--html", "      --html FILE           write the HTML part to FILE instead\n"},
    {O_JSON, "--json", "      --json                one JSON object per feed per line\n"},
    {O_TAGS, "--tags", "      --tags a,b            add: the feed's tags\n"},
    {O_TITLE, "--title", "      --title T             add: the feed's title\n"},
};

static const char common_help[] =
    "  -v, --verbose             a line per feed and per digest on stderr\n"
    "  -q, --quiet               errors only: no feed notices, no progress line\n"
    "  -h, --help                this help\n";

enum { OPT_SINCE = 256, OPT_TO, OPT_HTML, OPT_JSON, OPT_VERSION, OPT_FEED, OPT_TAGS, OPT_TITLE };

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
    {"feed", required_argument, NULL, OPT_FEED},
    {"tags", required_argument, NULL, OPT_TAGS},
    {"title", required_argument, NULL, OPT_TITLE},
    {NULL, 0, NULL, 0},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])
#define NOPTHELP  (sizeof option_help / sizeof option_help[0])

static void
usage(FILE *out)
{
	fprintf(out, "usage: tidings [OPTIONS] [COMMAND] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\noptions:\n");
	for (size_t i = 0; i < NOPTHELP; i++)
		fputs(option_help[i].help, out);
	fputs(common_help, out);
	fprintf(
	    out,
	    "      --version             print the version\n"
	    "\n'tidings COMMAND --help' shows a command's options; see tidings(1), "
	    "tidings.conf(5).\n"
	    "exit status: 0 ok, 64 usage, 65 bad data, 66 no input (parse, import-opml), 69 SMTP\n"
	    "refused, 73 cannot create output, 74 I/O error, 75 temporary failure (retry later),\n"
	    "78 configuration error (a missing config file too)\n");
}

static void
command_usage(const struct command *cmd, FILE *out)
{
	fprintf(out, "usage: tidings %s\n%s\n\noptions:\n", cmd->usage, cmd->summary);
	for (size_t i = 0; i < NOPTHELP; i++)
		if (cmd->opts & option_help[i].bit)
			fputs(option_help[i].help, out);
	fputs(common_help, out);
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
usage_error(const char *what, const char *arg, const char *cmd)
{
	struct buf shown = BUF_INIT;

	if (arg != NULL)
		buf_add_printable(&shown, arg);
	fprintf(stderr, "tidings: %s%s%s%s; try 'tidings %s%s--help'\n", what, arg ? " '" : "",
	        arg ? buf_str(&shown) : "", arg ? "'" : "", cmd ? cmd : "", cmd ? " " : "");
	buf_free(&shown);
	return EX_USAGE;
}

/* The option getopt just refused: "-x" of "-vx", or "--long". */
static const char *
bad_option(char **argv, char shortopt[3])
{
	if (optopt > 0 && optopt < 128 && argv[optind - 1][1] != '-') {
		shortopt[0] = '-';
		shortopt[1] = (char)optopt;
		shortopt[2] = '\0';
		return shortopt;
	}
	return argv[optind - 1];
}

/* Returns -1 to go on, or an exit status. */
static int
parse_options(int argc, char **argv, struct cli *c, unsigned *seen, int *want_help)
{
	char shortopt[3];
	int ch;

	opterr = 0; /* our own one-line messages */
	while ((ch = getopt_long(argc, argv, ":c:S:nvqh", long_options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->config_path = optarg;
			*seen |= O_CONFIG;
			break;
		case 'S':
			if (strv_push(&c->subs, optarg) < 0)
				return EX_OSERR;
			*seen |= O_SUB;
			break;
		case 'n':
			c->dry_run = 1;
			*seen |= O_DRY;
			break;
		case 'v': c->verbose++; break;
		case 'q': c->quiet = 1; break;
		case 'h': *want_help = 1; break;
		case OPT_SINCE:
			if (date_parse_since(optarg, &c->since) < 0) {
				fprintf(
				    stderr,
				    "tidings: --since %s: not a date (YYYY-MM-DD or RFC 3339)\n",
				    optarg);
				return EX_DATAERR;
			}
			c->have_since = 1;
			*seen |= O_SINCE;
			break;
		case OPT_TO:
			c->to = optarg; /* checked and parsed below, once the command is known */
			*seen |= O_TO;
			break;
		case OPT_HTML:
			c->html_out = optarg;
			*seen |= O_HTML;
			break;
		case OPT_JSON:
			c->json = 1;
			*seen |= O_JSON;
			break;
		case OPT_FEED:
			c->feed = optarg;
			*seen |= O_FEED;
			break;
		case OPT_TAGS:
			c->tags = optarg;
			*seen |= O_TAGS;
			break;
		case OPT_TITLE:
			c->title = optarg;
			*seen |= O_TITLE;
			break;
		case OPT_VERSION: *seen |= O_VERSION; break;
		case ':':
			return usage_error("option needs a value:", bad_option(argv, shortopt),
			                   NULL);
		default: return usage_error("unknown option", bad_option(argv, shortopt), NULL);
		}
	}
	if (c->verbose && c->quiet)
		return usage_error("-v and -q contradict each other", NULL, NULL);
	if (*seen & O_VERSION) {
		/* --version takes nothing else: "--version run" is a mistake, not a success. */
		if (optind < argc)
			return usage_error("unexpected operand", argv[optind], NULL);
		printf("tidings %s\n", PACKAGE_VERSION);
		return EX_OK;
	}
	return -1;
}

/* An option the command does not take, or a bad number of operands. */
static int
check_use(const struct command *cmd, struct cli *c, unsigned seen)
{
	for (size_t i = 0; i < NOPTHELP; i++)
		if ((seen & option_help[i].bit) && !(cmd->opts & option_help[i].bit)) {
			char what[96];

			snprintf(what, sizeof what, "%s does not go with", option_help[i].name);
			return usage_error(what, cmd->name, cmd->name);
		}
	if ((seen & O_TO) && !c->have_since && strcmp(cmd->name, "preview") != 0)
		return usage_error("--to goes only with --since or preview", NULL, cmd->name);
	/* Parsed once, here: the envelope gets the address, To: all of it. */
	if ((seen & O_TO) &&
	    (strpbrk(c->to, "\r\n") != NULL || (c->to_addr = message_address(c->to)) == NULL))
		return usage_error("--to takes one email address, not", c->to, cmd->name);
	if (c->argc < cmd->min_args)
		return usage_error(cmd->min_args == 1 && cmd->max_args == 1 ? "one operand needed:"
		                                                            : "operands needed:",
		                   cmd->usage, cmd->name);
	if (cmd->max_args >= 0 && c->argc > cmd->max_args)
		return usage_error("unexpected operand", c->argv[cmd->max_args], cmd->name);
	/* preview SUB / catch-up SUB: the same as -S SUB. */
	if (cmd->max_args == 1 && (cmd->opts & O_SUB) && c->argc == 1) {
		if (strv_push(&c->subs, c->argv[0]) < 0)
			return EX_OSERR;
		c->argc = 0;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct cli c = {0};
	const struct command *cmd;
	unsigned seen = 0;
	int want_help = 0, rc;

	/* Before any second thread: libxml2 2.9 sets itself up on first use, racily. */
	xmlInitParser();
	/* Past a file-size limit, a write should fail with EFBIG and be reported, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	rc = parse_options(argc, argv, &c, &seen, &want_help);
	if (rc >= 0)
		goto out;
	if (optind < argc && (cmd = find_command(argv[optind])) == NULL) {
		rc = usage_error("unknown command", argv[optind], NULL);
		goto out;
	}
	if (optind >= argc) {
		if (want_help) {
			usage(stdout);
			rc = EX_OK;
			goto out;
		}
		cmd = find_command("run");
	} else {
		optind++;
	}
	if (want_help) {
		command_usage(cmd, stdout);
		rc = EX_OK;
		goto out;
	}
	c.argc = argc - optind;
	c.argv = argv + optind;
	if ((rc = check_use(cmd, &c, seen)) >= 0)
		goto out;
	rc = cmd->fn(&c);
out:
	strv_free(&c.subs);
	free(c.to_addr);
	if (fflush(stdout) == EOF && rc == EX_OK)
		rc = EX_IOERR;
	return rc;
}
