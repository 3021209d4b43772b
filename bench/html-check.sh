#!/bin/bash
# html-check.sh: does src/html.c still render byte for byte as it did at a
# base commit, and how many instructions does html_render take now?
#
#   bench/html-check.sh BUILD_DIR BASE_COMMIT FEED...
#
# Builds bench/html-bench.c twice, against BASE_COMMIT's src/html.c and
# against the work tree's (both linked with BUILD_DIR/libtidings.a for the
# feed parser), dumps every item of the FEEDs and the corner-case snippets
# of bench/html-edge.py with both (html_render, text_wrap, url_clean:
# see html-bench.c) and compares
# the dumps.  With CALLGRIND=1 it then runs both under callgrind and prints
# the inclusive instruction counts of html_render.  Work files go to
# $WORK (default /tmp/html-check).  Exit status 1 if the dumps differ.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: html-check.sh BUILD_DIR BASE_COMMIT FEED...}" && pwd)
base=${2:?base commit}
shift 2
WORK=${WORK:-/tmp/html-check}
mkdir -p "$WORK/base"
git -C "$top" show "$base:src/html.c" > "$WORK/base/html.c"
git -C "$top" show "$base:src/html.h" > "$WORK/base/html.h"
for v in base new; do
	src=$top/src/html.c inc=$top/src
	[ $v = base ] && src=$WORK/base/html.c inc=$WORK/base
	gcc -D_GNU_SOURCE -O2 -g -std=gnu11 -I "$inc" -I "$top/src" -I "$build" \
		-I /usr/include/libxml2 -o "$WORK/bench-$v" "$top/bench/html-bench.c" "$src" \
		"$build/libtidings.a" -lxml2 -lcurl
done
/usr/bin/python3 "$top/bench/html-edge.py" "$top/tests/test_html.c" > "$WORK/edge.html"
for v in base new; do
	"$WORK/bench-$v" -d -x "$WORK/edge.html" "$@" > "$WORK/dump-$v.txt" 2>/dev/null
done
if cmp -s "$WORK/dump-base.txt" "$WORK/dump-new.txt"; then
	echo "same output: $(grep -c '^== ' "$WORK/dump-new.txt") documents"
else
	echo "OUTPUT DIFFERS: diff $WORK/dump-base.txt $WORK/dump-new.txt"
	exit 1
fi
[ "${CALLGRIND:-0}" = 1 ] || exit 0
for v in base new; do
	valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$v" "$WORK/bench-$v" "$@" \
		>/dev/null 2>&1
	printf '%s: ' $v
	callgrind_annotate --inclusive=yes "$WORK/cg.$v" 2>/dev/null |
		grep -m1 'html\.c:html_render ' | awk '{print $1, "instructions in html_render"}'
done
