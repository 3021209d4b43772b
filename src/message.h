/*
 * message: an RFC 5322 / MIME digest message.
 *
 * message_write() writes a multipart/alternative message (text/plain and
 * text/html, UTF-8, quoted-printable) with CRLF line ends and no line over
 * 998 octets to a FILE as it is encoded, the parts given in memory or as
 * files, so a huge digest is never whole in memory.  Header text from
 * feeds is RFC 2047-encoded and can never inject a header.
 */
#ifndef TIDINGS_MESSAGE_H
#define TIDINGS_MESSAGE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

struct message_spec {
	const char *from; /* "Name <addr>" or "addr", UTF-8 name allowed */
	char *const *to;  /* addresses */
	size_t nto;
	const char *subject; /* UTF-8, any text */
	time_t date;
	const char *list_id;          /* "sub.domain" or NULL */
	const char *list_unsubscribe; /* mailto: or http(s) URL, or NULL */
	const char *text;             /* the text/plain part, UTF-8, LF or CRLF */
	size_t text_len;
	const char *html; /* the text/html part */
	size_t html_len;
	FILE *text_file; /* when not NULL: the text/plain part, read from its current offset to EOF
	                    (text/text_len ignored) */
	FILE *html_file; /* likewise for the text/html part */
};

/*
 * Write the message to out as it is encoded: memory stays bounded by a
 * chunk plus the longest line of a part, however large the parts.
 * *written gets the bytes written; its Message-ID (with <>) goes to
 * message_id.  Nothing is written when a header is refused.
 */
int message_write(const struct message_spec *m, FILE *out, size_t *written, char *message_id,
                  size_t message_id_size, struct err *e);

/* Will the message writer take u as List-Unsubscribe (mailto: or http(s), tame ASCII, <= 900)? */
int message_list_unsubscribe_ok(const char *u);

/* RFC 2047 encoding of an unstructured header value, folded; name is the header's name. */
int message_encode_header(const char *name, const char *value, struct buf *out);
/* Quoted-printable body encoding with CRLF line ends; control characters (ctl_len) dropped. */
int message_qp_encode(const char *s, size_t n, struct buf *out);
/* The bare address of "Name <addr>" (malloc'd), or NULL if it is no address. */
char *message_address(const char *mailbox);

#endif
