/*
 * smtp-bench: deliver() alone, N small messages (one recipient each, as
 * one subscription's digest each) to an SMTP server; prints the time.
 *
 *   smtp-bench HOST PORT N SESSIONS [CA-FILE USER PASSWORD]
 *
 * With CA-FILE: STARTTLS, verified against it; with USER: AUTH.  Built
 * against the libtidings.a of a build (bench/README.md); -DNO_SESSIONS
 * for a build before smtp.sessions (the libesmtp transport).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deliver.h"

int
main(int argc, char **argv)
{
	struct config cfg;
	struct outmsg *m;
	struct err e = {0};
	struct timespec t0, t1;
	char **rcpt;
	FILE *f = tmpfile(); /* every message in one file, as a run's digests are */
	off_t at = 0;
	size_t n, i, ok = 0;
	int len;

	if (argc < 5) {
		fprintf(stderr, "usage: smtp-bench HOST PORT N SESSIONS [CA USER PASS]\n");
		return 64;
	}
	n = strtoul(argv[3], NULL, 10);
	memset(&cfg, 0, sizeof cfg);
	cfg.deliver = DELIVER_SMTP;
	cfg.smtp.host = argv[1];
	cfg.smtp.port = atoi(argv[2]);
	cfg.smtp.timeout = 300;
	cfg.smtp.verify = 1;
	cfg.smtp.tls = argc > 5 ? TLS_STARTTLS : TLS_NONE;
	cfg.smtp.ca_file = argc > 5 ? argv[5] : NULL;
	cfg.smtp.user = argc > 6 ? argv[6] : NULL;
	cfg.smtp.password = argc > 7 ? argv[7] : NULL;
#ifndef NO_SESSIONS
	cfg.smtp.sessions = atoi(argv[4]);
#endif
	m = calloc(n, sizeof *m);
	rcpt = calloc(n, sizeof *rcpt);
	if (m == NULL || rcpt == NULL || f == NULL)
		return 70;
	for (i = 0; i < n; i++) {
		if (asprintf(&rcpt[i], "s%zu@example.org", i) < 0 ||
		    (len = fprintf(
		         f,
		         "From: Tidings <tidings@example.org>\r\nTo: %s\r\n"
		         "Subject: 1 new item\r\nDate: Sat, 05 Dec 2026 12:00:00 +0000\r\n"
		         "Message-ID: <bench.%zu@example.org>\r\nMIME-Version: 1.0\r\n"
		         "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
		         "one item\r\nhttp://example.org/%zu\r\n\r\nshort text of the item.\r\n",
		         rcpt[i], i, i)) < 0)
			return 70;
		m[i].file = f;
		m[i].offset = at;
		m[i].len = (size_t)len;
		at += len;
		m[i].envelope_from = "tidings@example.org";
		m[i].rcpt = &rcpt[i];
		m[i].nrcpt = 1;
	}
	if (fflush(f) != 0)
		return 74;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (deliver(&cfg, m, n, NULL, &e) != 0) {
		fprintf(stderr, "smtp-bench: %s\n", e.msg);
		return e.code;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < n; i++)
		ok += m[i].status == DELIVERY_ACCEPTED;
	printf("%zu of %zu accepted in %.2f s\n", ok, n,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (i = 0; i < n; i++)
		free(rcpt[i]);
	free(rcpt);
	fclose(f);
	free(m);
	return ok == n ? 0 : 1;
}
