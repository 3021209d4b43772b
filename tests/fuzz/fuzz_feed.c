/* libFuzzer target: feed_parse on arbitrary bytes, with and without a base URL. */
#include <stddef.h>
#include <stdint.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f;
	struct err e;

	if (feed_parse((const char *)data, size, (size & 1) ? "http://example.org/a/b" : NULL, &f,
	               &e) == 0)
		feed_free(&f);
	return 0;
}
