#!/bin/sh
# Build every tests/fuzz/fuzz_*.c with libFuzzer + ASan + UBSan against all of
# src/*.c (but main.c) and run each for SECONDS seconds.
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS
# Exits non-zero if a target fails to build or finds a crash.
set -u
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR SECONDS" >&2; exit 64; }
build=$1
secs=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-clang}
mkdir -p "$build" || exit 73

pkgs="libcurl libxml-2.0 libconfuse openssl"
cflags=$(pkg-config --cflags $pkgs) || exit 69
libs=$(pkg-config --libs $pkgs) || exit 69
srcs=$(ls "$top"/src/*.c | grep -v '/main\.c$')

# Seed corpora by target name; a target without one starts from nothing.
seeds_for() {
	case $1 in
	feed) echo "$top/tests/data/corpus/feeds $top/tests/fuzz/seeds/feed" ;;
	template) echo "$top/tests/data/mustache-spec" ;;
	*) [ -d "$top/tests/fuzz/seeds/$1" ] && echo "$top/tests/fuzz/seeds/$1" ;;
	esac
}

status=0
for target in "$top"/tests/fuzz/fuzz_*.c; do
	[ -e "$target" ] || continue
	name=$(basename "$target" .c)
	short=${name#fuzz_}
	bin=$build/$name
	echo "== $name: build"
	# shellcheck disable=SC2086
	if ! $CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -DPACKAGE_VERSION='"fuzz"' -DPACKAGE_URL='""' -DPKGDATADIR='"."' \
		-DSYSCONFDIR='"/etc"' -I "$top/src" $cflags \
		-o "$bin" "$target" $srcs $libs; then
		echo "== $name: BUILD FAILED"
		status=1
		continue
	fi
	work=$build/$name.corpus
	mkdir -p "$work"
	seeds=$(seeds_for "$short")
	echo "== $name: run ${secs}s"
	# shellcheck disable=SC2086
	if ! (cd "$build" && "$bin" -max_total_time="$secs" -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 "$work" $seeds > "$build/$name.log" 2>&1); then
		echo "== $name: FAILED (see $build/$name.log and crash-* in $build)"
		tail -40 "$build/$name.log"
		status=1
	else
		grep -E '^stat::number_of_executed_units|^Done' "$build/$name.log" | tail -2
		echo "== $name: ok"
	fi
done
exit $status
