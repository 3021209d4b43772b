/*
 * opml: move feed lists between tidings and other feed readers.
 *
 * opml_import() turns an OPML file into ready-to-paste `feed NAME {}`
 * sections: names come from the titles ([a-z0-9-], unique with -2, -3...),
 * the folders an outline sits in become its tags (so does its OPML 2.0
 * `category` attribute).  opml_export() writes OPML 2.0: one folder per
 * feed's first tag (untagged feeds at the top level), every tag in the
 * `category` attribute, so importing the export gives the same feeds.
 * The commands cmd_import_opml and cmd_export_opml (cli.h) wrap them.
 */
#ifndef TIDINGS_OPML_H
#define TIDINGS_OPML_H

#include <stdio.h>

#include "config.h"
#include "util.h"

/* Parse the OPML document in data and print feed sections on out. */
int opml_import(const char *data, size_t len, const char *label, FILE *out, struct err *e);

/* Print cfg's feeds as OPML 2.0 on out. */
int opml_export(const struct config *cfg, FILE *out, struct err *e);

/* The config-name form of a title: lowercase [a-z0-9-], never empty.  Caller frees. */
char *opml_slug(const char *title);

#endif
