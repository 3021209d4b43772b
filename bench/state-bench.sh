#!/bin/sh
# state-bench.sh BUILDDIR: time load + one lookup per id + save of a state
# of 1,000,000 ids (1,000 feeds, 10 subscriptions) against cp of the same
# file (median of 5 runs each), and report peak memory.
# Targets: <= 5x cp, < 200 MB.
set -eu
build=${1:?usage: state-bench.sh BUILDDIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/state-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

[ -f "$build/libtidings.a" ] || { echo "no $build/libtidings.a: build first" >&2; exit 1; }
${CC:-cc} -O2 -I"$src/src" -o "$work/state-bench" "$src/bench/state-bench.c" "$build/libtidings.a"

"$work/state-bench" gen "$work/state"
size=$(wc -c <"$work/state")
lines=$(wc -l <"$work/state")
echo "state file: $size bytes, $lines lines"

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

cp_times=""
run_times=""
for i in 1 2 3 4 5; do
	rm -f "$work/copy" "$work/out"
	t0=$(now); cp "$work/state" "$work/copy"; t1=$(now)
	"$work/state-bench" run "$work/state" "$work/out"; t2=$(now)
	cp_times="$cp_times $(awk "BEGIN { printf \"%.4f\", $t1 - $t0 }")"
	run_times="$run_times $(awk "BEGIN { printf \"%.4f\", $t2 - $t1 }")"
done
cmp -s "$work/state" "$work/out" || { echo "FAIL: load+save changed the bytes" >&2; exit 1; }
cp_med=$(echo "$cp_times" | tr ' ' '\n' | grep . | median)
run_med=$(echo "$run_times" | tr ' ' '\n' | grep . | median)
ratio=$(awk "BEGIN { printf \"%.2f\", $run_med / $cp_med }")
echo "cp:                     median ${cp_med}s  (runs:$cp_times)"
echo "load+lookups+save:      median ${run_med}s  (runs:$run_times)"
echo "ratio to cp:            ${ratio}x (target <= 5x)"

rm -f "$work/out"
/usr/bin/time -v "$work/state-bench" run "$work/state" "$work/out" 2>"$work/time.txt"
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
echo "peak RSS:               $((rss / 1024)) MB (target < 200 MB)"
