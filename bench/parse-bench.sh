#!/bin/sh
# Parse throughput and peak memory of `tidings parse` against sfeed and
# xmllint --stream on one large RSS feed (default: a generated 16 MB one).
# usage: bench/parse-bench.sh [TIDINGS [FEED]]
# Prints the median of 5 runs per tool, the ratios to tidings, and peak RSS.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tidings=${1:-./tidings}
feed=${2:-}
runs=5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -z "$feed" ]; then
	feed=$tmp/big.xml
	/usr/bin/python3 "$top/bench/gen-big-feed.py" $((16 << 20)) > "$feed"
fi
[ -x "$tidings" ] || { echo "no tidings binary at $tidings" >&2; exit 66; }
bytes=$(wc -c < "$feed")
items=$("$tidings" parse --json "$feed" | /usr/bin/python3 -c \
	'import json,sys; print(len(json.loads(sys.stdin.readline())["items"]))')
echo "feed: $feed, $bytes bytes, $items items"

# median wall seconds and max RSS (KB) of "$@" < feed > /dev/null
measure() {
	name=$1; shift
	: > "$tmp/$name.times"
	rss=0
	for _ in $(seq $runs); do
		/usr/bin/time -f '%e %M' -o "$tmp/t" "$@" < "$feed" > /dev/null 2>"$tmp/err" ||
			{ echo "$name failed:"; cat "$tmp/err"; exit 1; }
		set -- "$@"
		read -r secs kb < "$tmp/t"
		echo "$secs" >> "$tmp/$name.times"
		[ "$kb" -gt "$rss" ] && rss=$kb
	done
	med=$(sort -n "$tmp/$name.times" | sed -n "$(( (runs + 1) / 2 ))p")
	echo "$name $med $rss" >> "$tmp/results"
}

: > "$tmp/results"
measure tidings "$tidings" parse --json "$feed"
measure sfeed sfeed
measure xmllint xmllint --noout --stream "$feed"

/usr/bin/python3 - "$tmp/results" "$bytes" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
size = int(sys.argv[2])
t = {n: (float(s), int(k)) for n, s, k in rows}
base = t["tidings"][0]
print(f"{'tool':10s} {'median s':>9s} {'MB/s':>8s} {'vs tidings':>11s} {'peak RSS MB':>12s} {'RSS/file':>9s}")
for n, (s, k) in t.items():
    mbs = size / 1e6 / s if s > 0 else float('inf')
    ratio = s / base if base > 0 else float('inf')
    print(f"{n:10s} {s:9.2f} {mbs:8.1f} {ratio:10.2f}x {k / 1024:12.1f} {k * 1024 / size:9.2f}")
PY
