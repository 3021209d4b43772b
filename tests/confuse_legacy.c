/*
 * confuse_legacy: tidings.conf parsed by libconfuse, as tidings did before
 * conftree, into a conftree for config.c to build from.  The differential
 * test (test_confdiff) loads each config with both parsers and compares.
 *
 * This is the old loader's parsing half, kept as the reference: confscan
 * reads each file first, libconfuse parses it, its messages are moved to
 * the real lines (confscan's line map), validate callbacks note where
 * every value was set (confscan's where-table), and the parsed cfg_t is
 * copied into the tree with those places.  libconfuse's callbacks carry no
 * user pointer: the load in progress is reached through `active`, so one
 * load at a time (and its include stack is global and not unwound after an
 * error: the test runs each load in a child process).
 */
#include "confuse_legacy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct legacy {
	const struct conftree_load *ld;
	cfg_t *root;
	const void *last_val; /* a list's closing brace re-runs the callback */
};

static struct legacy *active;

static const char *
cur_file(cfg_t *c)
{
	/* A plain section (smtp) made by cfg_init() has no file name. */
	if (c && c->filename)
		return c->filename;
	if (active && active->root && active->root->filename)
		return active->root->filename;
	return active ? active->ld->path : "?";
}

static void
on_cfg_error(cfg_t *c, const char *fmt, va_list ap)
{
	char msg[ERR_MSG_MAX], hint[CONFSCAN_HINT_MAX];
	const char *name = NULL, *names[CONFSCAN_NAMES_MAX];
	struct confscan *S;
	int line;
	va_list cp;

	if (active == NULL || fmt == NULL)
		return;
	S = active->ld->scan;
	va_copy(cp, ap);
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (strcmp(fmt, "no such option '%s'") == 0)
		name = va_arg(cp, const char *);
	va_end(cp);
	line = confscan_real_line(S, cur_file(c), c ? c->line : 0);
	if (name) {
		if (confscan_unknown_named(S, cur_file(c), line))
			return;
		if (c && c->opts) {
			size_t l = strlen(msg);

			snprintf(msg + l, sizeof msg - l, "%s",
			         confscan_did_you_mean(hint, name, names,
			                               confscan_opt_names(c->opts, names)));
		}
	}
	confscan_emit(S, cur_file(c), line, 0, msg);
}

static int
on_value(cfg_t *sec, cfg_opt_t *opt)
{
	unsigned n = cfg_opt_size(opt);
	const char *file = cur_file(sec);
	struct confscan *S;

	if (active == NULL || n == 0 || opt->values == NULL)
		return 0;
	if (active->last_val == opt->values[n - 1])
		return 0;
	S = active->ld->scan;
	active->last_val = opt->values[n - 1];
	confscan_where_set(S, sec->name, sec->title, opt->name, n - 1, file,
	                   confscan_real_line(S, file, sec->line));
	return 0;
}

static int
on_include(cfg_t *c, cfg_opt_t *opt, int argc, const char **argv)
{
	char *path;
	int rc;

	if (argc != 1) {
		cfg_error(c, "include() takes one file name");
		return 1;
	}
	if ((path = active->ld->resolve(argv[0], cur_file(c))) == NULL) {
		cfg_error(c, "include(\"%s\"): cannot resolve the path", argv[0]);
		return 1;
	}
	if (confscan_has_read(active->ld->scan, path)) {
		cfg_error(c, "include(\"%s\"): %s is already read (an include loop)", argv[0],
		          path);
		free(path);
		return 1;
	}
	if (confscan_file(active->ld->scan, path) > 0) {
		free(path);
		return 1;
	}
	rc = cfg_include(c, opt, 1, (const char **)&path);
	free(path);
	return rc;
}

static void
watch(cfg_opt_t *opts)
{
	for (; opts->name; opts++)
		if (opts->type == CFGT_SEC)
			watch(opts->subopts);
		else if (opts->type == CFGT_FUNC)
			opts->func = on_include;
		else
			opts->validcb = on_value;
}

static int copy_sec(struct conftree *T, struct ct_sec *to, cfg_t *c);

/* Option o's values, and where each was set (also those past its end). */
static int
copy_values(struct conftree *T, struct ct_sec *to, cfg_t *c, cfg_opt_t *o)
{
	const struct confscan *S = active->ld->scan;
	unsigned n = cfg_opt_size(o);

	for (unsigned i = 0; i < n; i++) {
		long v = o->type == CFGT_INT ? cfg_opt_getnint(o, i) : 0;

		if (o->type == CFGT_BOOL)
			v = cfg_opt_getnbool(o, i);
		if (conftree_append(T, to, o->name,
		                    o->type == CFGT_STR ? cfg_opt_getnstr(o, i) : NULL, v) < 0)
			return -1;
	}
	for (unsigned i = 0; i < n + 64; i++) {
		const char *file;
		int line;

		if (!confscan_was_set(S, c->name, c->title, o->name, i)) {
			if (i >= n)
				break;
			continue;
		}
		confscan_locate(S, c->name, c->title, o->name, i, &file, &line);
		if ((file = conftree_file(T, file)) == NULL ||
		    conftree_set_at(T, to, o->name, i, file, line) < 0)
			return -1;
	}
	return 0;
}

static int
copy_sec(struct conftree *T, struct ct_sec *to, cfg_t *c)
{
	for (cfg_opt_t *o = c->opts; o->name; o++) {
		if (o->type == CFGT_FUNC)
			continue;
		if (o->type != CFGT_SEC) {
			if (copy_values(T, to, c, o) < 0)
				return -1;
			continue;
		}
		for (unsigned i = 0; i < cfg_opt_size(o); i++) {
			cfg_t *sub = cfg_opt_getnsec(o, i);
			const char *file;
			int line;
			struct ct_sec *s;

			confscan_locate(active->ld->scan, o->name, sub->title, NULL, 0, &file,
			                &line);
			if ((file = conftree_file(T, file)) == NULL ||
			    (s = conftree_section(T, to, o->name, sub->title, 0, file, line)) ==
			        NULL ||
			    copy_sec(T, s, sub) < 0)
				return -1;
		}
	}
	return 0;
}

static int
parse(struct legacy *L, struct conftree *T)
{
	const struct conftree_load *ld = L->ld;
	int rc = confscan_file(ld->scan, ld->path);

	if (rc != 0)
		return rc;
	watch(ld->schema);
	if ((L->root = cfg_init(ld->schema, CFGF_NONE)) == NULL)
		return errno = ENOMEM, -1;
	cfg_set_error_function(L->root, on_cfg_error);
	cfg_set_error_function(cfg_getsec(L->root, "smtp"), on_cfg_error);
	cfg_set_error_function(cfg_getsec(L->root, "fetch"), on_cfg_error);
	rc = cfg_parse(L->root, ld->path);
	if (rc == CFG_FILE_ERROR) {
		confscan_say(ld->scan, ld->path, 1, 0, "cannot read: %s", strerror(errno));
		rc = 1;
	} else if (rc == CFG_SUCCESS) {
		rc = copy_sec(T, T->root, L->root) < 0 ? (errno = ENOMEM, -1) : 0;
	} else {
		rc = 1;
	}
	cfg_free(L->root);
	return rc;
}

int
legacy_parse(struct conftree *T, const struct conftree_load *ld)
{
	struct legacy L = {.ld = ld};
	int rc;

	if (conftree_init(T, ld->schema, ld->path) < 0) {
		errno = ENOMEM;
		return -1;
	}
	active = &L;
	rc = parse(&L, T);
	active = NULL;
	return rc;
}
