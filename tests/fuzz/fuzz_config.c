/*
 * libFuzzer target: config_load() on arbitrary file contents.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       -D_GNU_SOURCE -DPACKAGE_VERSION='"fuzz"' -DPKGDATADIR='"/nonexistent"'
 * -DSYSCONFDIR='"/etc"' \
 *       tests/fuzz/fuzz_config.c src/config.c src/confscan.c src/conftree.c src/util.c \
 *       $(pkg-config --cflags --libs libconfuse libcurl) -o fuzz_config
 *   ./fuzz_config -max_total_time=20 conf/
 *
 * Inputs naming include() are skipped: reading the fuzzing machine's files
 * is not the point (tests/test_conftree.c covers include()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz-config-XXXXXX";
	struct config cfg;
	struct err e;
	FILE *devnull;
	int fd;

	if (memmem(data, size, "include", 7) != NULL)
		return 0;
	if ((fd = mkstemp(path)) < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	devnull = fopen("/dev/null", "w");
	if (config_load(path, &cfg, devnull, &e) == 0)
		config_free(&cfg);
	if (devnull)
		fclose(devnull);
	unlink(path);
	return 0;
}
