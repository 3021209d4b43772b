/*
 * statefile: where the state file is, beside the tables it holds (state.c).
 * A symbolic link is followed to the file it leads to, missing folders
 * are made, and the temp files a crashed save left (STATE.tmp.XXXXXX) are
 * found.  state.h declares the public ones: state_target,
 * state_mkdir_parent, state_remove_temps.
 */
#ifndef TIDINGS_STATEFILE_H
#define TIDINGS_STATEFILE_H

#define STATE_TMP_SUFFIX ".tmp."
#define STATE_TMP_XS     "XXXXXX"

/* path's folder ("." if none; malloc'd) and base name (in path): 0, or -1 on OOM. */
int state_split_path(const char *path, char **dir, const char **base);
/*
 * Remove BASE.tmp.XXXXXX in dir, left by a run that died mid-save.  Runs
 * hold the lock, so any such file is stale by the time one saves.
 */
void state_remove_stale_temps(const char *dir, const char *base);

#endif
