/*
 * libFuzzer target: compile arbitrary bytes as a Mustache template and
 * render it against a fixed data tree, in both escape modes, with a partial
 * loader that hands back the input itself (so partials recurse).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
self_partial(const char *name, void *arg)
{
	return strcmp(name, "none") != 0 ? str_dup(arg) : NULL;
}

static struct tval *
make_data(void)
{
	struct tval *d = tv_map(), *l = tv_list(), *m = tv_map();

	tv_set_str(d, "s", "<a href='x'>&</a>");
	tv_set_int(d, "n", 3);
	tv_set_bool(d, "t", 1);
	tv_set_bool(d, "f", 0);
	tv_set(d, "x", tv_num("1.5"));
	tv_set_str(m, "s", "inner");
	tv_set(m, "self", tv_list());
	tv_push(l, tv_str("one"));
	tv_push(l, tv_int(2));
	tv_push(l, m);
	tv_push(l, tv_null());
	tv_set(d, "l", l);
	return d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = malloc(size + 1);
	struct tval *d;
	struct tpl *t;
	struct buf out = BUF_INIT;
	struct err e;

	if (src == NULL)
		return 0;
	memcpy(src, data, size);
	src[size] = '\0';
	d = make_data();
	if (tpl_compile(src, "fuzz", self_partial, src, &t, &e) == 0) {
		tpl_set_limits(t, 1 << 16, 20000);
		tpl_render(t, d, ESCAPE_HTML, &out, &e);
		buf_reset(&out);
		tpl_render(t, d, ESCAPE_NONE, &out, &e);
		tpl_free(t);
	}
	buf_free(&out);
	tv_free(d);
	free(src);
	return 0;
}
