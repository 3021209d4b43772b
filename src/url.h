/*
 * url: the URLs a digest may link, from feed HTML and feed fields.
 *
 * url_clean() resolves a URL against a base, allows only http, https and
 * mailto, and removes utm_* parameters.  url_prepare() and
 * url_clean_prepared() split that for a document whose many URLs share one
 * base: prepare the base once.  url_tracker_host() tells images served
 * only to count readers.
 */
#ifndef TIDINGS_URL_H
#define TIDINGS_URL_H

/*
 * The URL as a digest may link it: resolved against base (may be NULL),
 * only http, https and mailto, utm_* parameters removed.  NULL if not
 * allowed (or url is NULL, or out of memory).  Caller frees.
 */
char *url_clean(const char *url, const char *base);

/*
 * A URL from HTML made ready for resolving: control characters and white
 * space removed (browsers ignore tabs and newlines inside URLs, which is
 * how "jav&#x09;ascript:" works), other unsafe bytes %-escaped.  NULL if
 * out of memory.  Caller frees.
 */
char *url_prepare(const char *raw);

/* url_clean against a base made ready by url_prepare (NULL or "": none). */
char *url_clean_prepared(const char *raw, const char *pbase);

/* 1 if url's host serves only tracking pixels. */
int url_tracker_host(const char *url);

#endif
