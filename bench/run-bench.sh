#!/bin/bash
# run-bench.sh: tidings beside its peers and the fetch floor, by hand.
#
#   bench/run-bench.sh BUILD_DIR [N ...]          (default N: 100 1000)
#
# Uses the shared harness (../shared/bench: nginx + SMTP sink on 127.0.0.1,
# generated feeds).  For each N it runs, through peers.sh, tidings with two
# subscriptions (everything, and one tag) for (a) every item new and (b)
# nothing new, then times curl-floor: plain parallel curl (8 at a time,
# gzip) of the same URLs.  It prints a table with ratios of tidings to
# curl-floor, and to the peers' figures measured in the same results file
# (set PEERS="ours sfeed r2e" to measure peers in the same run; the default
# measures tidings only and compares with the peers' recorded rows).
#
# env: SHARED (default: ../shared beside the repo, or beside a worktree's
# parent), BENCH_WORK (/tmp/tidings-bench), FLOOR_RUNS (3), PEERS ("ours"),
# REPEAT (3 runs of peers.sh), SUBS (2: "all" and "linux"; 10 adds eight
# one-tag subscriptions, labelled tidings10), SINK (python: the aiosmtpd
# sink, the default; postfix: Postfix's C /usr/sbin/smtp-sink, package
# postfix, whose daemon need not run).  The servers are stopped at the end,
# so one SINK or the other can be given to each run; ratios.py keeps the
# rows of different sinks apart.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:?usage: run-bench.sh BUILD_DIR [N ...]}" && pwd); shift
sizes=${*:-100 1000}
SHARED=${SHARED:-$top/../shared}
[ -d "$SHARED/bench" ] || SHARED=$top/../../shared
export SINK=${SINK:-python}
export BENCH_WORK=${BENCH_WORK:-/tmp/tidings-bench}
export RESULTS_DIR=$BENCH_WORK/results
FLOOR_RUNS=${FLOOR_RUNS:-3}
# SUBS: subscriptions in the config: "all", "linux", then one per tag below.
SUBS=${SUBS:-2}
TAGS="News Security Rust Python Networking Releases Tutorials Go"
export OURS_NAME=tidings; [ "$SUBS" = 2 ] || OURS_NAME=tidings$SUBS
max=0; for n in $sizes; do [ "$n" -gt "$max" ] && max=$n; done

command -v nginx >/dev/null && command -v hyperfine >/dev/null ||
	apt-get install -y -qq nginx-light hyperfine >/dev/null

FEEDS_N=$max "$SHARED/bench/serve.sh"
trap '"$SHARED/bench/stop.sh" >/dev/null' EXIT

# The config: every feed, one subscription with no filter and no cap, one by tag.
export OURS_SETUP="$(cat <<SETUP
{
  printf 'from = "%s"\nstate = "%s/state"\ntemplates = "%s/templates"\n' "\$BENCH_FROM" "\$BENCH_STATE" "$top"
  printf 'deliver = "smtp"\nsmtp {\n  host = "%s"\n  port = %s\n  tls = "none"\n}\n' "\$BENCH_SMTP_HOST" "\$BENCH_SMTP_PORT"
  printf 'fetch {\n  parallel = 8\n  per-host = 8\n}\n'
  awk -F'\t' '{printf "feed %s {\n  url = \"%s\"\n}\n", \$1, \$2}' "\$BENCH_FEEDS"
  printf 'subscription all {\n  to = {"%s"}\n  first-run = "0"\n  max-items = 0\n}\n' "\$BENCH_TO"
  printf 'subscription linux {\n  to = {"%s"}\n  tags = {"Linux"}\n  first-run = "0"\n  max-items = 0\n}\n' "\$BENCH_TO"
  i=0; for tag in $TAGS; do
    [ \$i -lt $((SUBS - 2)) ] || break; i=\$((i + 1))
    printf 'subscription tag%d {\n  to = {"%s"}\n  tags = {"%s"}\n  first-run = "0"\n  max-items = 0\n}\n' \$i "\$BENCH_TO" "\$tag"
  done
} > "\$BENCH_STATE/tidings.conf"
SETUP
)"
export OURS="$build/tidings -c \"\$BENCH_STATE/tidings.conf\""
for _ in $(seq "${REPEAT:-3}"); do
	PEERS=${PEERS:-ours} "$SHARED/bench/peers.sh" $sizes
done

# curl-floor: the network part alone, timed the same number of times.
for n in $sizes; do
	for _ in $(seq "$FLOOR_RUNS"); do
		/usr/bin/python3 "$here/curl-floor.py" "$n" "$BENCH_WORK/lists/N$n/urls.txt" \
			>>"$RESULTS_DIR/floor.tsv"
	done
done

/usr/bin/python3 "$here/ratios.py" "$RESULTS_DIR/runs.tsv" "$RESULTS_DIR/floor.tsv" \
	"$SHARED/bench/peers-measured.md"
