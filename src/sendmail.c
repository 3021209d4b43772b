#include "sendmail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CHUNK        65536
#define DETAIL_MAX   300  /* of the program's first line */
#define STDERR_CHUNK 4096 /* of its standard error, read at a time */
#define EXIT_POLL_MS 100  /* after the message: how often to look for the exit */
#define MS_PER_S     1000LL

/* Past the deadline: from SIGTERM to SIGKILL, looking every KILL_POLL_MS. */
#define GRACE_MS     2000
#define KILL_POLL_MS 20

/* The arguments besides the program's and the recipients: -oi -f FROM -- and the NULL. */
#define FIXED_ARGS 5

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
	long long deadline; /* CLOCK_MONOTONIC milliseconds */
	int timed_out;
};

enum delivery_status
sendmail_status(int wstatus)
{
	if (!WIFEXITED(wstatus))
		return DELIVERY_TEMPFAIL; /* killed: nothing says the message is bad */
	switch (WEXITSTATUS(wstatus)) {
	case EX_OK: return DELIVERY_ACCEPTED;
	case EX_NOHOST: /* msmtp: the server's name did not resolve (DNS may be down) */
	case EX_OSERR:  /* Postfix: a soft local error */
	case EX_IOERR:  /* msmtp: the network or the connection failed */
	case EX_TEMPFAIL: return DELIVERY_TEMPFAIL;
	default: return DELIVERY_PERMFAIL;
	}
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
	size_t k = m->len - c->done < CHUNK ? m->len - c->done : CHUNK, used = k, pos = c->done;
	struct err e; /* errno says why, for the detail */
	ssize_t got;

	for (size_t have = 0; have < k; have += (size_t)got)
		if ((got = outmsg_piece(m, &pos, in + have, k - have, &e)) <= 0) {
			if (got == 0)
				errno = EIO; /* the file is shorter than the message */
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

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * MS_PER_S + ts.tv_nsec / 1000000;
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
	char buf[STDERR_CHUNK];
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

	/* ECHILD (not with SIGCHLD at its default): gone, so never to be signalled */
	while (!c->reaped && (r = waitpid(c->pid, &c->wstatus, flags)) != 0) {
		if (r == c->pid || errno == ECHILD)
			c->reaped = 1;
		else if (errno != EINTR)
			break;
	}
}

/*
 * The message in, stderr out, until the program has its message and has
 * exited, or until its deadline (c->timed_out).  Once the message is in,
 * the program's exit ends the wait even if something it started still
 * holds its stderr open.
 */
static int
converse(struct child *c)
{
	while (c->in >= 0 || !c->reaped) {
		struct pollfd p[2] = {{.fd = c->in, .events = POLLOUT},
		                      {.fd = c->err, .events = POLLIN}};
		long long left = c->deadline - now_ms();
		int ready;

		if (left <= 0) {
			c->timed_out = 1;
			return 0;
		}
		ready = poll(p, 2, (int)(c->in < 0 && left > EXIT_POLL_MS ? EXIT_POLL_MS : left));
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

/*
 * SIGTERM, then SIGKILL if it is still there after a grace; reaped either
 * way.  0 when it had exited by itself.
 */
static int
terminate(struct child *c)
{
	long long give_up = now_ms() + GRACE_MS;

	reap(c, WNOHANG);
	if (c->reaped)
		return 0;
	kill(c->pid, SIGTERM);
	for (reap(c, WNOHANG); !c->reaped && now_ms() < give_up; reap(c, WNOHANG))
		poll(NULL, 0, KILL_POLL_MS);
	if (!c->reaped)
		kill(c->pid, SIGKILL); /* not reaped: the pid is still its own */
	reap(c, 0);
	return 1;
}

/* PROGRAM ARGS... -oi -f FROM -- RCPT... NULL (the strings are borrowed). */
static char **
command_line(char *const *prog, size_t nprog, const struct outmsg *m)
{
	char **argv = calloc(nprog + m->nrcpt + FIXED_ARGS, sizeof *argv);
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

	/*
	 * Our ends turn non-blocking before the program exists, so that no
	 * failure here leaves a child running with nobody to reap it; the
	 * program's ends are other open file descriptions and stay blocking.
	 */
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0 ||
	    fcntl(in[1], F_SETFL, O_NONBLOCK) < 0 || fcntl(er[0], F_SETFL, O_NONBLOCK) < 0) {
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
		outmsg_detail(m, "%s exited before reading the whole message: %s", prog, said);
	} else if (!WIFEXITED(c->wstatus)) {
		outmsg_detail(m, "%s was killed by signal %d: %s", prog, WTERMSIG(c->wstatus),
		              said);
	} else if (m->status != DELIVERY_ACCEPTED) {
		outmsg_detail(m, "%s exited with status %d: %s", prog, WEXITSTATUS(c->wstatus),
		              said);
	}
}

/*
 * One message through the program, which has timeout seconds for it: 0
 * with its status set, -1 when it could not run.  A program past its
 * deadline or fed a broken message is stopped before its input closes, so
 * that it never takes a truncated message for a whole one.
 */
static int
send_one(char *const *prog, size_t nprog, long timeout, struct outmsg *m, struct err *e)
{
	struct child *c = calloc(1, sizeof *c);
	char **argv = command_line(prog, nprog, m);
	int rc = -1, why;

	if (c == NULL || argv == NULL) {
		err_oom(e);
		goto out;
	}
	c->m = m;
	c->in = c->err = -1;
	c->deadline = now_ms() + (long long)timeout * MS_PER_S;
	if (spawn(c, argv, e) < 0)
		goto out;
	if (converse(c) < 0) {
		why = errno;
		terminate(c);
		m->status = DELIVERY_TEMPFAIL;
		outmsg_detail(m, "cannot read the message for %s: %s", prog[0], strerror(why));
	} else if (c->timed_out && terminate(c)) {
		m->status = DELIVERY_TEMPFAIL;
		outmsg_detail(m, "sendmail: %s did not finish within %ld s", prog[0], timeout);
	} else if (c->timed_out && c->in >= 0) {
		c->broken = 1; /* it exited just then, with part of the message unwritten */
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
sendmail_deliver(char *const *argv, size_t argc, long timeout, struct outmsg *msgs, size_t n,
                 FILE *log, struct err *e)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL}, old, oldchld;
	int rc = 0;

	if (argc == 0)
		return err_set(e, EX_CONFIG, "sendmail: no program configured");
	sigemptyset(&ign.sa_mask);
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGPIPE, &ign, &old); /* a program that quits early must not kill the run */
	/* an ignored SIGCHLD (inherited through exec) would discard the exit status */
	sigaction(SIGCHLD, &dfl, &oldchld);
	for (size_t i = 0, tried = 0; i < n; i++) {
		if (outmsg_wait(&msgs[i]) < 0)
			continue; /* passed over, left as it is */
		if (send_one(argv, argc, timeout, &msgs[i], e) < 0) {
			/* what went before stands: only a first failure is "none could be tried" */
			if (tried == 0) {
				rc = -1;
				break;
			}
			outmsg_retry_later(msgs + i, n - i, e->msg);
			break;
		}
		tried++;
		if (log != NULL)
			fprintf(log, "tidings: sendmail: message %zu of %zu: %s\n", i + 1, n,
			        msgs[i].status == DELIVERY_ACCEPTED ? "accepted" : msgs[i].detail);
		if (msgs[i].status == DELIVERY_ACCEPTED && outmsg_accepted(&msgs[i]) != 0) {
			outmsg_not_sent(msgs + i + 1, n - i - 1, OUTMSG_STOPPED);
			break;
		}
	}
	sigaction(SIGCHLD, &oldchld, NULL);
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}
