/*
 * testkit: running a command with its output caught, and the harness
 * servers (see testkit.h).
 */
#include "testkit.h"

#include <check.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif
#ifndef TEST_PYTHON3
#define TEST_PYTHON3 "/usr/bin/python3"
#endif

/* make check exports TOP_SRCDIR; the built-in one serves a test run by hand. */
static const char *
env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : fallback;
}

char *
tk_slurp(const char *path)
{
	struct buf b = BUF_INIT;

	if (buf_read_file(&b, path, (size_t)1 << 30) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

void
tk_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s", path);
	ck_assert_int_ne(fputs(text, f), EOF);
	ck_assert_int_eq(fclose(f), 0);
}

int
tk_count(const char *hay, const char *needle)
{
	int n = 0;

	while (hay != NULL && (hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

void
tk_mkdtemp(char *tmpl)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void
tk_rm_rf(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int
tk_closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd); /* bound but never listening, and now closed: refused */
	return ntohs(a.sin_port);
}

/* All of f, from its start, NUL-terminated. */
static char *
read_back(FILE *f, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	rewind(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		ck_assert_int_eq(buf_add(&b, chunk, n), 0);
	*len = b.len;
	fclose(f);
	return buf_steal(&b); /* "" when nothing was printed */
}

void
tk_run_cmd(int (*cmd)(const struct cli *), const struct cli *c, struct tk_result *r)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int saved_out, saved_err;
	size_t err_len;

	ck_assert(out != NULL && err != NULL);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	ck_assert(saved_out >= 0 && saved_err >= 0);
	ck_assert_int_eq(dup2(fileno(out), 1), 1);
	ck_assert_int_eq(dup2(fileno(err), 2), 2);
	r->status = cmd(c);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	r->out = read_back(out, &r->out_len);
	r->err = read_back(err, &err_len);
}

void
tk_result_free(struct tk_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static void
exec_server(const char *const *argv, int stdin_fd)
{
	/* die with the test, even when an assertion ends it early */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	dup2(stdin_fd, 0);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

void
tk_server_start(struct tk_server *s, const char *script, const char *dir_flag,
                const char *const *opts)
{
	const char *argv[32];
	char path[512], portfile[96], *txt;
	int i = 0, pipefd[2];

	strcpy(s->dir, "/tmp/tkserver.XXXXXX");
	tk_mkdtemp(s->dir);
	snprintf(path, sizeof path, "%s/tests/harness/%s", env_or("TOP_SRCDIR", TOP_SRCDIR),
	         script);
	snprintf(portfile, sizeof portfile, "%s/port", s->dir);
	argv[i++] = env_or("PYTHON3", TEST_PYTHON3);
	argv[i++] = path;
	argv[i++] = dir_flag;
	argv[i++] = s->dir;
	argv[i++] = "--port-file";
	argv[i++] = portfile;
	for (int j = 0; opts != NULL && opts[j] != NULL && i < 31; j++)
		argv[i++] = opts[j];
	argv[i] = NULL;
	ck_assert_int_eq(pipe(pipefd), 0);
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0)
		exec_server(argv, pipefd[0]);
	close(pipefd[0]);
	s->feed_fd = pipefd[1];
	/* Python starts slowly on a loaded machine: wait as long as it lives,
	 * up to five minutes (a guard against a hang, not a speed test). */
	for (int tries = 0; tries < 6000; tries++) {
		if ((txt = tk_slurp(portfile)) != NULL && *txt != '\0') {
			s->port = atoi(txt);
			free(txt);
			return;
		}
		free(txt);
		ck_assert_msg(waitpid(s->pid, NULL, WNOHANG) == 0, "%s exited before listening",
		              script);
		usleep(50000);
	}
	ck_abort_msg("%s did not start in five minutes", script);
}

void
tk_server_stop(struct tk_server *s)
{
	close(s->feed_fd);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	tk_rm_rf(s->dir);
}

char *
tk_server_file(const struct tk_server *s, const char *name)
{
	char path[160];

	snprintf(path, sizeof path, "%s/%s", s->dir, name);
	return tk_slurp(path);
}
