/*
 * sendmail: hand each message to a sendmail-compatible program (Postfix's
 * or OpenSMTPD's sendmail, msmtp, ...), the way cron and mutt do.
 *
 * For each message: PROGRAM ARGS... -oi -f FROM -- RCPT..., run without a
 * shell, the message on its standard input with LF line ends (the local
 * form every sendmail reads; it writes CRLF on the wire itself).  Exit
 * status 0 means accepted; EX_TEMPFAIL and EX_OSERR (Postfix's soft
 * codes), EX_NOHOST and EX_IOERR (msmtp's for DNS and network failures)
 * or a death by signal mean try again later; any other status is a
 * refusal.  The first line the program wrote on its standard error is the
 * detail.  A program still running after its timeout is stopped (SIGTERM,
 * SIGKILL a moment later) and the message is to be tried again.  SIGPIPE
 * is ignored while a program runs.
 */
#ifndef TIDINGS_SENDMAIL_H
#define TIDINGS_SENDMAIL_H

#include <stddef.h>
#include <stdio.h>

#include "deliver.h"
#include "util.h"

/*
 * Deliver msgs through the program argv[0..argc-1], each run given timeout
 * seconds (> 0).  0 when each message has its status; -1 when none could
 * be tried (the program cannot be started: e says why, with EX_CONFIG for
 * a missing one).
 */
int sendmail_deliver(char *const *argv, size_t argc, long timeout, struct outmsg *msgs, size_t n,
                     FILE *log, struct err *e);

/* The delivery status a sendmail exit status (wait(2)'s) stands for. */
enum delivery_status sendmail_status(int wstatus);

#endif
