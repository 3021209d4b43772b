/*
 * testkit: what the unit tests of the commands (cmd_* of cli.h) share.
 *
 * tk_run_cmd() runs one command in this process with its stdout and
 * stderr caught in files, as a user's terminal would see them.
 * tk_server_start() starts a harness server of tests/harness (httpd.py,
 * smtpd.py) on a free 127.0.0.1 port, in a folder of its own, and waits
 * as long as it lives for the port it writes; tk_server_stop() ends it
 * and removes the folder.  Every failure here fails the test.
 */
#ifndef TIDINGS_TESTKIT_H
#define TIDINGS_TESTKIT_H

#include <sys/types.h>

#include "cli.h"

struct tk_result {
	int status; /* the command's exit status */
	char *out;  /* what it printed on stdout, NUL-terminated */
	size_t out_len;
	char *err; /* and on stderr */
};

void tk_run_cmd(int (*cmd)(const struct cli *), const struct cli *c, struct tk_result *r);
void tk_result_free(struct tk_result *r);

struct tk_server {
	pid_t pid;
	int port;
	int feed_fd;  /* its stdin: closing it stops httpd.py --stop-on-eof */
	char dir[64]; /* its folder: smtpd.py --dir, httpd.py --root */
};

/* tests/harness/script DIR_FLAG DIR --port-file DIR/port OPTS... (opts NULL-terminated). */
void tk_server_start(struct tk_server *s, const char *script, const char *dir_flag,
                     const char *const *opts);
void tk_server_stop(struct tk_server *s);
/* The file name in the server's folder, read whole (NULL if it is not there). */
char *tk_server_file(const struct tk_server *s, const char *name);

/* A fresh folder from a template such as "/tmp/tparse.XXXXXX" (modified in place). */
void tk_mkdtemp(char *tmpl);
void tk_rm_rf(const char *dir);
char *tk_slurp(const char *path);
void tk_write(const char *path, const char *text);
/* How often needle occurs in hay (0 when hay is NULL). */
int tk_count(const char *hay, const char *needle);
/* A 127.0.0.1 port nothing listens on (it was free a moment ago): connecting is refused. */
int tk_closed_port(void);

#endif
