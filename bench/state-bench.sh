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
# date.c reads the dates it does not know with curl_getdate.
${CC:-cc} -O2 -I"$src/src" -o "$work/state-bench" "$src/bench/state-bench.c" "$build/libtidings.a" \
	$(pkg-config --libs libcurl)

"$work/state-bench" gen "$work/state"
size=$(wc -c <"$work/state")
lines=$(wc -l <"$work/state")
echo "state file: $size bytes, $lines lines"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# timed LABEL CMD...: append "wall cpu" (cpu = user + sys) to $work/LABEL.
# The machine may be shared: cpu time is the steadier of the two.
timed() {
	label=$1; shift
	t0=$(date +%s.%N)
	/usr/bin/time -f "%U %S" -o "$work/t" "$@"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" \
		'{ printf "%.4f %.2f\n", b - a, $1 + $2 }' "$work/t" >>"$work/$label"
}

for i in 1 2 3 4 5; do
	rm -f "$work/copy" "$work/out"
	timed cp cp "$work/state" "$work/copy"
	rm -f "$work/copy"
	# For reference: a copy as durable as a save (the save fsyncs, cp does not).
	timed cpsync sh -c 'cp "$1" "$2" && sync "$2"' sh "$work/state" "$work/copy"
	timed run "$work/state-bench" run "$work/state" "$work/out"
done
cmp -s "$work/state" "$work/out" || { echo "FAIL: load+save changed the bytes" >&2; exit 1; }
cp_wall=$(cut -d' ' -f1 "$work/cp" | median); cp_cpu=$(cut -d' ' -f2 "$work/cp" | median)
run_wall=$(cut -d' ' -f1 "$work/run" | median); run_cpu=$(cut -d' ' -f2 "$work/run" | median)
sync_wall=$(cut -d' ' -f1 "$work/cpsync" | median)
ratio() { awk "BEGIN { printf \"%.1f\", $1 / ($2 > 0 ? $2 : 0.01) }"; }
echo "cp:                 wall ${cp_wall}s  cpu ${cp_cpu}s   (median of 5)"
echo "load+lookups+save:  wall ${run_wall}s  cpu ${run_cpu}s   (median of 5)"
echo "ratio to cp:        wall $(ratio "$run_wall" "$cp_wall")x  cpu $(ratio "$run_cpu" "$cp_cpu")x  (target <= 5x)"
echo "cp + sync FILE:     wall ${sync_wall}s; ratio to it: wall $(ratio "$run_wall" "$sync_wall")x"

rm -f "$work/out"
/usr/bin/time -v "$work/state-bench" run "$work/state" "$work/out" 2>"$work/time.txt"
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
echo "peak RSS:           $((rss / 1024)) MB (target < 200 MB)"
