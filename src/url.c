#include "url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/uri.h>

#include "util.h"

/*
 * Image hosts that serve only tracking pixels.  A leading dot matches any
 * subdomain.
 */
static const char *const trackers[] = {
    ".doubleclick.net",         ".feedsportal.com",     ".scorecardresearch.com",
    "feeds.feedburner.com",     "feeds.wordpress.com",  "feedproxy.google.com",
    "google-analytics.com",     "pixel.quantserve.com", "pixel.wp.com",
    "ssl.google-analytics.com", "stats.wordpress.com",  "www.google-analytics.com",
};

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Bytes url_prepare escapes: space, non-ASCII and "<>\^`{|} (1), or drops: controls (2). */
static const unsigned char url_class[256] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 2,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/*
 * Prepare a URL from HTML for xmlBuildURI: control characters and white
 * space are removed (browsers ignore tabs and newlines inside URLs, which is
 * how "jav&#x09;ascript:" works), the rest of the unsafe bytes escaped.
 */
char *
url_prepare(const char *raw)
{
	size_t n = strlen(raw);
	char *out, *w;

	while (n > 0 && (unsigned char)raw[n - 1] <= ' ')
		n--;
	while (n > 0 && (unsigned char)*raw <= ' ')
		raw++, n--;
	if (n > (SIZE_MAX - 1) / 3 || (w = out = malloc(3 * n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = raw[i], k = url_class[c];

		if (k == 2)
			continue;
		if (k == 1 ||
		    (c == '%' && !(i + 2 < n && is_hex(raw[i + 1]) && is_hex(raw[i + 2])))) {
			*w++ = '%';
			*w++ = "0123456789ABCDEF"[c >> 4];
			*w++ = "0123456789ABCDEF"[c & 15];
		} else {
			*w++ = c;
		}
	}
	*w = '\0';
	return out;
}

/* The scheme if it is one we allow ("http", "https", "mailto"), else NULL. */
static const char *
url_scheme(const char *u)
{
	static const char *const ok[] = {"http", "https", "mailto"};
	size_t n = strcspn(u, ":/?#");

	if (u[n] != ':')
		return NULL;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strlen(ok[i]) == n && strncasecmp(u, ok[i], n) == 0)
			return ok[i];
	return NULL;
}

/* Drop utm_* parameters from the query, in place. */
static void
strip_utm(char *u)
{
	char *q = strchr(u, '?'), *frag, *w, *p;
	size_t fraglen;

	if (q == NULL)
		return;
	frag = q + strcspn(q, "#");
	fraglen = strlen(frag);
	w = q + 1;
	for (p = q + 1; p < frag;) {
		size_t n = strcspn(p, "&#");

		if (p + n > frag)
			n = frag - p;
		if (n > 0 && strncasecmp(p, "utm_", 4) != 0) {
			if (w > q + 1)
				*w++ = '&';
			memmove(w, p, n);
			w += n;
		}
		p += n;
		if (p < frag && *p == '&')
			p++;
	}
	if (w == q + 1)
		w = q;
	memmove(w, frag, fraglen + 1);
}

/*
 * What RFC 3986 (and libxml2's parser of it, uri.c) allows in a path (1),
 * and also in a query or fragment (2: "?"): unreserved, sub-delims, ":",
 * "@" and "/".  '%' is checked apart; '[', ']' and '#' are left out.
 */
static const unsigned char uri_pchar[256] = {
    ['a'] = 1, 1,         1,         1,         1,         1,          1,         1,
    1,         1,         1,         1,         1,         1,          1,         1,
    1,         1,         1,         1,         1,         1,          1,         1,
    1,         1,         ['A'] = 1, 1,         1,         1,          1,         1,
    1,         1,         1,         1,         1,         1,          1,         1,
    1,         1,         1,         1,         1,         1,          1,         1,
    1,         1,         1,         1,         ['0'] = 1, 1,          1,         1,
    1,         1,         1,         1,         1,         1,          ['-'] = 1, ['.'] = 1,
    ['_'] = 1, ['~'] = 1, ['!'] = 1, ['$'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1,
    ['*'] = 1, ['+'] = 1, [','] = 1, [';'] = 1, ['='] = 1, [':'] = 1,  ['@'] = 1, ['/'] = 1,
    ['?'] = 2,
};

/* Bytes taken in a host name here: letters, digits, "-", ".", "_" and "~". */
static int
host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/*
 * 1 if u (prepared) is an http(s) URL of the plainest shape, which
 * xmlBuildURI surely parses as absolute and so returns unchanged: then it
 * need not be asked.  Anything unusual (user info, a host starting with a
 * digit, an empty or long port, brackets, a second "#") says 0 and goes to
 * xmlBuildURI as before.
 */
static int
url_plain_absolute(const char *u)
{
	const unsigned char *p = (const unsigned char *)u;
	int in_query = 0, in_frag = 0;
	size_t k;

	if (strncasecmp(u, "http://", 7) == 0)
		p += 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		p += 8;
	else
		return 0;
	if (*p >= '0' && *p <= '9')
		return 0;
	for (k = 0; host_char(p[k]); k++)
		;
	if (k == 0)
		return 0;
	p += k;
	if (*p == ':') {
		for (k = 1; p[k] >= '0' && p[k] <= '9'; k++)
			;
		if (k == 1 || k > 6)
			return 0;
		p += k;
	}
	if (*p != '\0' && *p != '/' && *p != '?' && *p != '#')
		return 0;
	for (; *p != '\0'; p++) {
		if (*p == '#' && !in_frag) {
			in_frag = 1;
		} else if (*p == '?' && !in_query) {
			in_query = 1;
		} else if (*p == '%') {
			if (!is_hex(p[1]) || !is_hex(p[2]))
				return 0;
			p += 2;
		} else if (uri_pchar[*p] == 0 || (uri_pchar[*p] == 2 && !(in_query || in_frag))) {
			return 0;
		}
	}
	return 1;
}

char *
url_clean_prepared(const char *raw, const char *pbase)
{
	char *u = url_prepare(raw), *r;
	const char *scheme;

	if (u == NULL)
		return NULL;
	if (pbase != NULL && *pbase != '\0' && !url_plain_absolute(u)) {
		xmlChar *x = xmlBuildURI((const xmlChar *)u, (const xmlChar *)pbase);

		free(u);
		u = x != NULL ? str_dup((const char *)x) : NULL;
		xmlFree(x);
	}
	if (u == NULL || (scheme = url_scheme(u)) == NULL)
		goto bad;
	r = u + strlen(scheme) + 1;
	if (strcmp(scheme, "mailto") != 0) {
		if (strncmp(r, "//", 2) != 0 || strchr("/?#", r[2]) != NULL)
			goto bad;
		strip_utm(u);
	} else if (*r == '\0') {
		goto bad;
	}
	memcpy(u, scheme, strlen(scheme)); /* lower case */
	return u;
bad:
	free(u);
	return NULL;
}

char *
url_clean(const char *raw, const char *base)
{
	char *b, *u;

	if (raw == NULL)
		return NULL;
	b = base != NULL && *base != '\0' ? url_prepare(base) : NULL;
	u = url_clean_prepared(raw, b);

	free(b);
	return u;
}

#define HOST_MAX 256 /* bytes of a host name compared, NUL included */

int
url_tracker_host(const char *url)
{
	const char *h = strstr(url, "://"), *at;
	char host[HOST_MAX];
	size_t n;

	if (h == NULL)
		return 0;
	h += 3;
	n = strcspn(h, "/?#");
	if ((at = memchr(h, '@', n)) != NULL) {
		n -= at + 1 - h;
		h = at + 1;
	}
	if (n >= sizeof host)
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	host[strcspn(host, ":")] = '\0';
	n = strlen(host);
	for (size_t i = 0; i < sizeof trackers / sizeof trackers[0]; i++) {
		const char *t = trackers[i];
		size_t tn = strlen(t);

		if (*t == '.' ? (n > tn && strcasecmp(host + n - tn, t) == 0) ||
		                    strcasecmp(host, t + 1) == 0
		              : strcasecmp(host, t) == 0)
			return 1;
	}
	return 0;
}
