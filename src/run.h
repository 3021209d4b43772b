/*
 * run: one pass of the pipeline, and the commands built on it.
 *
 *   config -> lock -> fetch (parse each feed as it arrives) -> select per
 *   subscription -> render -> message -> deliver -> record -> save
 *
 * The commands run, preview, catch-up, feeds and check (src/cli.h) are
 * thin wrappers that choose which steps happen.
 */
#ifndef TIDINGS_RUN_H
#define TIDINGS_RUN_H

#include "cli.h"

#endif
