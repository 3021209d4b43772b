#include "sendmail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

extern char **environ;

#define CHUNK        65536
#define DETAIL_MAX   300 /* of the program's first line */
#define EXIT_POLL_MS 100 /* after the message: how often to look for the exit */

/* One program run: the message going in, its first line of stderr coming out. */
struct child {
	pid_t pid;
	int in;  /* its standard input, or -1 once closed */
	int err; /* its standard error, or -1 at EOF */
	const struct outmsg *m;
	size_t done;     /* message bytes handed over */
	char out[CHUNK]; /* LF text waiting to be written */
	size_t olen, opos;
	char line[DETAIL_MAX + 1];
	size_t nline;
	int line_done; /* the first line is complete */
	int broken;    /* it stopped reading before the end */
	int reaped;
	int wstatus;
};

enum delivery_status
sendmail_status(int wstatus)
{
	if (!WIFEXITED(wstatus))
		return DELIVERY_TEMPFAIL; /* killed: nothing says the message is bad */
	switch (WEXITSTATUS(wstatus)) {
	case EX_OK: return DELIVERY_ACCEPTED;
	case EX_TEMPFAIL:
	case EX_OSERR: return DELIVERY_TEMPFAIL;
	default: return DELIVERY_PERMFAIL;
	}
}

static void __attribute__((format(printf, 2, 3))) set_detail(struct outmsg *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->detail, sizeof m->detail, fmt, ap);
	va_end(ap);
}

/*
 * The next chunk of the message as LF text into c->out.  A CR at the end
 * of a chunk waits for the next one, which may start with its LF.
 */
static int
refill(struct child *c)
{
	const struct outmsg *m = c->m;
	char in[CHUNK];
	size_t k = m->len - c->done < CHUNK ? m->len - c->done : CHUNK, used = k;
	ssize_t got;

	if (m->data != NULL) {
		memcpy(in, m->data + c->done, k);
	} else {
		got = pread(fileno(m->file), in, k, m->offset + (off_t)c->done);
		if (got != (ssize_t)k)
			return -1;
	}
	if (k > 1 && in[k - 1] == '\r' && c->done + k < m->len)
		used = k - 1;
	c->olen = c->opos = 0;
	for (size_t i = 0; i < used; i++)
		if (!(in[i] == '\r' && i + 1 < used && in[i + 1] == '\n'))
			c->out[c->olen++] = in[i];
	c->done += used;
	return 0;
}

static void
close_in(struct child *c)
{
	if (c->in >= 0)
		close(c->in);
	c->in = -1;
}

/* Write what the pipe takes now.  -1 when the message cannot be read. */
static int
feed(struct child *c)
{
	ssize_t w;

	for (;;) {
		if (c->opos == c->olen) {
			if (c->done == c->m->len) {
				close_in(c);
				return 0;
			}
			if (refill(c) < 0)
				return -1;
			continue;
		}
		w = write(c->in, c->out + c->opos, c->olen - c->opos);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w < 0) { /* EPIPE: it exited or closed its input early */
			c->broken = 1;
			close_in(c);
			return 0;
		}
		c->opos += (size_t)w;
	}
}

/* Keep the first line of its standard error; read and drop the rest. */
static void
drain(struct child *c)
{
	char buf[4096];
	ssize_t got;

	while (c->err >= 0) {
		got = read(c->err, buf, sizeof buf);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return; /* EAGAIN: nothing more for now */
		if (got == 0) {
			close(c->err);
			c->err = -1;
			return;
		}
		for (ssize_t i = 0; i < got && !c->line_done; i++) {
			unsigned char ch = (unsigned char)buf[i];

			if (ch == '\n' && c->nline > 0)
				c->line_done = 1;
			else if (ch != '\n' && ch != '\r' && c->nline < DETAIL_MAX)
				c->line[c->nline++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
		}
	}
}

static void
reap(struct child *c, int flags)
{
	pid_t r;

	while (!c->reaped && (r = waitpid(c->pid, &c->wstatus, flags)) != 0) {
		if (r == c->pid)
			c->reaped = 1;
		else if (errno != EINTR)
			break;
	}
}

/*
 * The message in, stderr out, until both ends are done.  Once the message
 * is in, the program's exit ends the wait even if something it started
 * still holds its stderr open.
 */
static int
converse(struct child *c)
{
	while (c->in >= 0 || (c->err >= 0 && !c->reaped)) {
		struct pollfd p[2] = {{c->in, POLLOUT, 0}, {c->err, POLLIN, 0}};
		int ready = poll(p, 2, c->in >= 0 ? -1 : EXIT_POLL_MS);

		if (ready < 0 && errno != EINTR)
			return -1;
		if (c->in >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP)) && feed(c) < 0)
			return -1;
		if (p[1].revents)
			drain(c);
		if (c->in < 0)
			reap(c, WNOHANG);
	}
	drain(c);
	return 0;
}

/* PROGRAM ARGS... -oi -f FROM -- RCPT... NULL (the strings are borrowed). */
static char **
command_line(char *const *prog, size_t nprog, const struct outmsg *m)
{
	char **argv = calloc(nprog + m->nrcpt + 6, sizeof *argv);
	size_t k = 0;

	if (argv == NULL)
		return NULL;
	for (size_t i = 0; i < nprog; i++)
		argv[k++] = prog[i];
	argv[k++] = "-oi";
	argv[k++] = "-f";
	argv[k++] = (char *)m->envelope_from;
	argv[k++] = "--";
	for (size_t i = 0; i < m->nrcpt; i++)
		argv[k++] = m->rcpt[i];
	return argv;
}

static int
spawn(struct child *c, char **argv, struct err *e)
{
	posix_spawn_file_actions_t fa;
	int in[2] = {-1, -1}, er[2] = {-1, -1}, rc;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		rc = errno;
		goto fail;
	}
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		goto fail;
	if ((rc = posix_spawn_file_actions_adddup2(&fa, in[0], 0)) == 0 &&
	    (rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, er[1], 2)) == 0)
		rc = posix_spawnp(&c->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		goto fail;
	close(in[0]);
	close(er[1]);
	c->in = in[1];
	c->err = er[0];
	if (fcntl(c->in, F_SETFL, O_NONBLOCK) < 0 || fcntl(c->err, F_SETFL, O_NONBLOCK) < 0)
		return err_set(e, EX_OSERR, "sendmail: %s", strerror(errno));
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	return err_set(e, rc == ENOENT || rc == EACCES ? EX_CONFIG : EX_OSERR,
	               "sendmail = \"%s\": cannot run it: %s", argv[0], strerror(rc));
}

/* What the exit status says, in the words of the program's first line. */
static void
verdict(struct child *c, struct outmsg *m, const char *prog)
{
	const char *said = c->nline ? c->line : "(it said nothing)";

	c->line[c->nline] = '\0';
	m->status = sendmail_status(c->wstatus);
	if (m->status == DELIVERY_ACCEPTED && c->broken) {
		m->status = DELIVERY_TEMPFAIL;
		set_detail(m, "%s exited before reading the whole message: %s", prog, said);
	} else if (!WIFEXITED(c->wstatus)) {
		set_detail(m, "%s was killed by signal %d: %s", prog, WTERMSIG(c->wstatus), said);
	} else if (m->status != DELIVERY_ACCEPTED) {
		set_detail(m, "%s exited with status %d: %s", prog, WEXITSTATUS(c->wstatus), said);
	}
}

/* One message through the program: 0 with its status set, -1 when it could not run. */
static int
send_one(char *const *prog, size_t nprog, struct outmsg *m, struct err *e)
{
	struct child *c = calloc(1, sizeof *c);
	char **argv = command_line(prog, nprog, m);
	int rc = -1;

	if (c == NULL || argv == NULL) {
		err_oom(e);
		goto out;
	}
	c->m = m;
	c->in = c->err = -1;
	if (spawn(c, argv, e) < 0)
		goto out;
	if (converse(c) < 0) {
		/* The message file failed us: the program must not take a truncated message. */
		kill(c->pid, SIGTERM);
		m->status = DELIVERY_TEMPFAIL;
		set_detail(m, "cannot read the message for %s: %s", prog[0], strerror(errno));
	}
	close_in(c);
	if (c->err >= 0)
		close(c->err);
	reap(c, 0);
	if (m->status == DELIVERY_PENDING)
		verdict(c, m, prog[0]);
	rc = 0;
out:
	free(argv);
	free(c);
	return rc;
}

int
sendmail_deliver(char *const *argv, size_t argc, struct outmsg *msgs, size_t n, FILE *log,
                 struct err *e)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	int rc = 0;

	if (argc == 0)
		return err_set(e, EX_CONFIG, "sendmail: no program configured");
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old); /* a program that quits early must not kill the run */
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].file != NULL && msgs[i].data == NULL)
			fflush(msgs[i].file);
		if (send_one(argv, argc, &msgs[i], e) < 0) {
			/* what went before stands: only a first failure is "none could be tried" */
			if (i == 0) {
				rc = -1;
				break;
			}
			for (size_t k = i; k < n; k++) {
				msgs[k].status = DELIVERY_TEMPFAIL;
				outmsg_detail(&msgs[k], "%s", e->msg);
			}
			break;
		}
		if (log != NULL)
			fprintf(log, "tidings: sendmail: message %zu of %zu: %s\n", i + 1, n,
			        msgs[i].status == DELIVERY_ACCEPTED ? "accepted" : msgs[i].detail);
		if (msgs[i].status == DELIVERY_ACCEPTED && outmsg_accepted(&msgs[i]) != 0) {
			outmsg_not_sent(msgs + i + 1, n - i - 1, OUTMSG_STOPPED);
			break;
		}
	}
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}
