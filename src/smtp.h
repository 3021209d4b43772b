/*
 * smtp: deliver messages over SMTP with libcurl (one transfer per
 * message on a pool of smtp.sessions connections).  STARTTLS or implicit
 * TLS, AUTH (never NTLM or GSSAPI), EHLO with a fully qualified name,
 * SIZE, a new session when the server ends one, and smtp.timeout bounding
 * each session's setup and each message's exchange whole.
 */
#ifndef TIDINGS_SMTP_H
#define TIDINGS_SMTP_H

#include <stdio.h>

#include "config.h"
#include "deliver.h"

/*
 * Send msgs to sc's server.  Returns 0 when the server gave a verdict on
 * at least one message (each message has its status; those never tried
 * are TEMPFAIL), -1 when the sessions failed as a whole (e says why:
 * EX_TEMPFAIL for connection trouble and timeouts, EX_UNAVAILABLE for TLS
 * and AUTH failures; every message is left PENDING).
 */
int smtp_deliver(const struct smtp_conf *sc, struct outmsg *msgs, size_t n, FILE *log,
                 struct err *e);

/* The EHLO name: sc->helo, the host's FQDN, the domain of from, or
 * "localhost.localdomain"; dst has size bytes. */
void smtp_helo_name(const struct smtp_conf *sc, const char *from, char *dst, size_t size);

#endif
