#include "confkit.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char tc_dir[PATH_MAX];

void
tc_put(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX * 2];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", tc_dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

void
tc_setup(void)
{
	char tmpl[] = "/tmp/tidings-conftest-XXXXXX", *real;
	char sub[PATH_MAX * 2];

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	real = realpath(tmpl, NULL);
	ck_assert_ptr_nonnull(real);
	snprintf(tc_dir, sizeof tc_dir, "%s", real);
	free(real);
	snprintf(sub, sizeof sub, "%s/tpl", tc_dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof sub, "%s/sub", tc_dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	tc_put("tpl/digest.txt", "{{count}}\n", 0644);
	tc_put("tpl/digest.html", "<p>{{count}}</p>\n", 0644);
	unsetenv("TIDINGS_TEST_UNSET");
}

void
tc_teardown(void)
{
	nftw(tc_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
tc_load(const char *text, struct config *cfg, char **out, struct err *e)
{
	char path[PATH_MAX * 2];
	size_t len;
	FILE *diag = open_memstream(out, &len);
	int rc;

	ck_assert_ptr_nonnull(diag);
	tc_put("t.conf", text, 0644);
	snprintf(path, sizeof path, "%s/t.conf", tc_dir);
	rc = config_load(path, cfg, diag, e);
	fclose(diag);
	return rc;
}

int
tc_has_line(const char *diag, const char *file, int line, const char *what)
{
	char head[PATH_MAX * 2];
	const char *p = diag;

	snprintf(head, sizeof head, "%s/%s:%d: ", tc_dir, file, line);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *l = strndup(p, n);
		int ok = strncmp(l, head, strlen(head)) == 0 && strstr(l, what) != NULL;

		free(l);
		if (ok)
			return 1;
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}
