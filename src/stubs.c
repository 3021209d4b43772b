/* Temporary weak stand-ins so the binary links while modules are written in
 * parallel; each real definition overrides its stub.  Removed at integration. */
#include <stdio.h>
#include <sysexits.h>

#include "cli.h"

#define STUB(fn) \
	__attribute__((weak)) int fn(const struct cli *c) \
	{ (void)c; fprintf(stderr, "tidings: %s is not built yet\n", #fn); return EX_SOFTWARE; }
STUB(cmd_run)
STUB(cmd_preview)
STUB(cmd_catch_up)
STUB(cmd_feeds)
STUB(cmd_check)
STUB(cmd_parse)
STUB(cmd_import_opml)
STUB(cmd_export_opml)

#include "date.h"
__attribute__((weak)) int
date_parse_since(const char *s, time_t *out)
{
	(void)s; (void)out;
	return -1;
}
