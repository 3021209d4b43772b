/*
 * msgtool: write one digest message with message_write() to stdout, for
 * tests/e2e/message_strict.py.
 *
 *   msgtool FROM SUBJECT TEXTFILE HTMLFILE TO...
 *   env MSG_LIST_ID, MSG_LIST_UNSUBSCRIBE, MSG_DATE (epoch seconds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "message.h"

static int
slurp(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char tmp[8192];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		if (buf_add(b, tmp, n) != 0) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return buf_add(b, "", 0);
}

int
main(int argc, char **argv)
{
	struct buf text = BUF_INIT, html = BUF_INIT;
	struct message_spec m = {0};
	struct err e = {0};
	char mid[256];
	const char *d = getenv("MSG_DATE");

	if (argc < 6) {
		fprintf(stderr, "usage: msgtool FROM SUBJECT TEXTFILE HTMLFILE TO...\n");
		return EX_USAGE;
	}
	if (slurp(argv[3], &text) != 0 || slurp(argv[4], &html) != 0) {
		perror("msgtool");
		return EX_NOINPUT;
	}
	m.from = argv[1];
	m.subject = argv[2];
	m.text = buf_str(&text);
	m.text_len = text.len;
	m.html = buf_str(&html);
	m.html_len = html.len;
	m.to = argv + 5;
	m.nto = (size_t)(argc - 5);
	m.date = d != NULL ? (time_t)atoll(d) : time(NULL);
	m.list_id = getenv("MSG_LIST_ID");
	m.list_unsubscribe = getenv("MSG_LIST_UNSUBSCRIBE");
	if (message_write(&m, stdout, NULL, mid, sizeof mid, &e) != 0)
		fprintf(stderr, "msgtool: %s\n", e.msg);
	buf_free(&text);
	buf_free(&html);
	return e.code;
}
