/*
 * libFuzzer target: html_render, html_render_item (whole and cut to half)
 * and text_wrap on arbitrary bytes.  Besides crashes it checks that
 * nothing executable survives the sanitiser (tags and attributes are
 * re-read), that the output is valid UTF-8, and that html_render_item
 * without a bound agrees with html_render.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html.h"
#include "wrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Every "<" in serialised HTML starts a tag (text has &lt;).  Check each
 * tag's attributes: only the allowed names, URLs only http(s) or mailto,
 * the one style the sanitiser adds.
 */
static void
check_tags(const char *s)
{
	static const char *const names[] = {"href",   "src",     "alt",     "title", "width",
	                                    "height", "colspan", "rowspan", "style"};

	while ((s = strchr(s, '<')) != NULL) {
		s++;
		if (*s == '!')
			__builtin_trap(); /* comments and doctypes never survive */
		if (*s == '/')
			continue;
		while (*s && *s != ' ' && *s != '>')
			s++;
		for (;;) {
			const char *name, *val = NULL;
			size_t n, ok = 0;

			while (*s == ' ')
				s++;
			if (*s == '>' || *s == '\0')
				break;
			name = s;
			while (*s && *s != '=' && *s != ' ' && *s != '>')
				s++;
			n = s - name;
			for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
				ok |= strlen(names[i]) == n && strncmp(name, names[i], n) == 0;
			if (!ok)
				__builtin_trap();
			/* libxml2 quotes with ' when the value holds a " */
			if (*s == '=' && (s[1] == '"' || s[1] == '\'')) {
				val = s + 2;
				if ((s = strchr(val, s[1])) == NULL)
					__builtin_trap();
				s++;
			}
			if (val != NULL &&
			    (strncmp(name, "href", 4) == 0 || strncmp(name, "src", 3) == 0) &&
			    strncmp(val, "http://", 7) != 0 && strncmp(val, "https://", 8) != 0 &&
			    strncmp(val, "mailto:", 7) != 0)
				__builtin_trap();
			if (strncmp(name, "style", 5) == 0 &&
			    (val == NULL || strncmp(val, "max-width:100%;height:auto", 26) != 0 ||
			     (val[26] != '"' && val[26] != '\'')))
				__builtin_trap();
		}
	}
}

static void
must_be_utf8(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80             ? 1
		           : (*s & 0xe0) == 0xc0 ? 2
		           : (*s & 0xf0) == 0xe0 ? 3
		           : (*s & 0xf8) == 0xf0 ? 4
		                                 : 0;

		if (n == 0)
			__builtin_trap();
		for (size_t i = 1; i < n; i++)
			if ((s[i] & 0xc0) != 0x80)
				__builtin_trap();
		s += n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const bad[] = {"<script", "<iframe", "<style", "<object",
	                                  "<embed",  "<form",   "<svg",   "<math",
	                                  "<base",   "<meta",   "<link"};
	static const char base[] = "http://example.org/a/b.html";
	struct buf h = BUF_INIT, t = BUF_INIT, h2 = BUF_INIT, t2 = BUF_INIT;
	struct strv links = STRV_INIT, links2 = STRV_INIT;
	struct err e;
	char *text;
	int rh;

	if ((rh = html_render((const char *)data, size, base, 40, 1, &h, &t, &links, &e)) == 0) {
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
			if (strcasestr(buf_str(&h), bad[i]) != NULL)
				__builtin_trap();
		check_tags(buf_str(&h));
		must_be_utf8((const unsigned char *)buf_str(&h));
		must_be_utf8((const unsigned char *)buf_str(&t));
	}
	for (size_t i = 0; i < links.n; i++)
		if (strncmp(links.v[i], "http", 4) != 0 && strncmp(links.v[i], "mailto:", 7) != 0)
			__builtin_trap();
	/* Unbounded and not cut by the nesting, html_render_item gives what html_render does. */
	{
		struct html_item whole = {.width = 40, .first_ref = 1};

		if (html_render_item((const char *)data, size, base, &whole, &h2, &t2, &links2,
		                     &e) == 0 &&
		    rh == 0 && whole.cut == 0 &&
		    (strcmp(buf_str(&h), buf_str(&h2)) != 0 ||
		     strcmp(buf_str(&t), buf_str(&t2)) != 0 || links.n != links2.n))
			__builtin_trap();
	}
	/* Cut to half: the notice is well-formed and the output still clean. */
	{
		struct html_item item = {.width = 40,
		                         .first_ref = 1,
		                         .link = "http://example.org/p?a=1&b=<2>",
		                         .max = size / 2};

		buf_reset(&h2);
		buf_reset(&t2);
		if (html_render_item((const char *)data, size, base, &item, &h2, &t2, &links2,
		                     &e) == 0) {
			for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
				if (strcasestr(buf_str(&h2), bad[i]) != NULL)
					__builtin_trap();
			check_tags(buf_str(&h2));
			must_be_utf8((const unsigned char *)buf_str(&h2));
			must_be_utf8((const unsigned char *)buf_str(&t2));
			if (item.cut > size ||
			    (item.cut > 0 && strstr(buf_str(&t2), "[cut: ") == NULL))
				__builtin_trap();
		}
	}
	if ((text = malloc(size + 1)) != NULL) {
		memcpy(text, data, size);
		text[size] = '\0';
		buf_reset(&t);
		text_wrap(text, 20, &t);
		free(text);
	}
	buf_free(&h);
	buf_free(&t);
	buf_free(&h2);
	buf_free(&t2);
	strv_free(&links);
	strv_free(&links2);
	return 0;
}
