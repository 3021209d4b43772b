/*
 * statefile: the state file's place in the file system.  See statefile.h.
 */
#include "statefile.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "state.h"

int
state_mkdir_parent(const char *path, struct err *e)
{
	char *dir = str_dup(path), *p;

	if (dir == NULL)
		return err_oom(e);
	if ((p = strrchr(dir, '/')) == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			err_set(e, EX_IOERR, "cannot create %s: %s", dir, strerror(errno));
			free(dir);
			return -1;
		}
		if ((*p = c) == '\0')
			break;
	}
	free(dir);
	return 0;
}

int
state_split_path(const char *path, char **dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*dir = str_dup(".");
		*base = path;
	} else {
		*dir = slash == path ? str_dup("/") : str_ndup(path, (size_t)(slash - path));
		*base = slash + 1;
	}
	return *dir == NULL ? -1 : 0;
}

void
state_remove_stale_temps(const char *dir, const char *base)
{
	size_t blen = strlen(base), slen = strlen(STATE_TMP_SUFFIX), xlen = strlen(STATE_TMP_XS);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strlen(de->d_name) == blen + slen + xlen &&
		    strncmp(de->d_name, base, blen) == 0 &&
		    strncmp(de->d_name + blen, STATE_TMP_SUFFIX, slen) == 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

int
state_remove_temps(const char *link_path, struct err *e)
{
	char *path, *dir;
	const char *base;

	if (state_target(link_path, &path, e) < 0)
		return -1;
	if (state_split_path(path, &dir, &base) < 0) {
		free(path);
		return err_oom(e);
	}
	state_remove_stale_temps(dir, base);
	free(dir);
	free(path);
	return 0;
}

int
state_target(const char *path, char **out, struct err *e)
{
	struct stat lst;

	if (lstat(path, &lst) != 0 || !S_ISLNK(lst.st_mode))
		return (*out = str_dup(path)) != NULL ? 0 : err_oom(e);
	if ((*out = realpath(path, NULL)) == NULL)
		return err_set(e, EX_IOERR, "%s: a symbolic link that leads nowhere: %s", path,
		               strerror(errno));
	return 0;
}
