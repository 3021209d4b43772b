#!/usr/bin/python3
"""Print tidings' benchmark figures as ratios to curl-floor and the peers.

usage: ratios.py runs.tsv floor.tsv peers-measured.md

runs.tsv is peers.sh's results file (rows labelled "tidings"); floor.tsv
holds "N<TAB>curl-floor<TAB>seconds" lines timed in the same session;
peers-measured.md gives the peers' wall times (the fastest recorded run of
each, from the shared harness) when they were not measured in this run.
"""
import csv
import re
import statistics
import sys


def wall(row):
    for key in ("hf_mean_s", "wall_s"):
        try:
            return float(row[key])
        except (KeyError, TypeError, ValueError):
            pass
    return None


def load_runs(path):
    runs = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            w = wall(row)
            if w is not None and row["rc"] in ("0", ""):
                # rows of another sink are another peer: "sfeed [postfix]"
                peer = row["peer"]
                if row.get("sink") not in (None, "", "python"):
                    peer += " [%s]" % row["sink"]
                runs.setdefault((peer, int(row["n"]), row["phase"]), []).append((w, row))
    return runs


def load_floor(path):
    floor = {}
    with open(path) as fh:
        for line in fh:
            n, _, s = line.rstrip("\n").split("\t")
            floor.setdefault(int(n), []).append(float(s))
    return floor


def load_peers(path):
    """{(peer, n, phase): seconds} from the markdown table."""
    out = {}
    with open(path) as fh:
        for line in fh:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 7 or not cells[0].isdigit():
                continue
            num = lambda c: float(re.match(r"[\d.]+", c).group()) if re.match(r"[\d.]+", c) else None
            out[(cells[1], int(cells[0]), "a")] = num(cells[2])
            out[(cells[1], int(cells[0]), "b")] = num(cells[6])
    return out


def spread(xs):
    return f"{min(xs):.2f} / {statistics.median(xs):.2f} / {max(xs):.2f}"


def main(runs_path, floor_path, peers_path):
    runs, floor, peers = load_runs(runs_path), load_floor(floor_path), load_peers(peers_path)
    print("| N | run | config | tidings s (min/med/max) | ×curl-floor (med) | ×sfeed | ×rss2email | "
          "RSS MB (max) | 304/req | mails |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (peer, n, phase), rows in sorted(runs.items(), key=lambda k: (k[0][1], k[0][2])):
        if not peer.startswith("tidings"):
            continue
        ws = [w for w, _ in rows]
        med = statistics.median(ws)
        fl = statistics.median(floor.get(n, [float("nan")]))
        last = rows[-1][1]

        sink = peer[peer.index(" ["):] if " [" in peer else ""

        def ratio(p):
            live = runs.get((p + sink, n, phase))
            ref = statistics.median(w for w, _ in live) if live else peers.get((p, n, phase)) if not sink else None
            return f"{med / ref:.3f}" if ref else "-"
        subs = ("10 subs" if peer.startswith("tidings10") else "2 subs") + sink
        print(f"| {n} | {'all new' if phase == 'a' else 'nothing new'} | {subs} | {spread(ws)} | "
              f"{med / fl:.2f} | {ratio('sfeed')} | {ratio('r2e')} | "
              f"{max(float(r['maxrss_mb']) for _, r in rows):.0f} | "
              f"{last['http_304']}/{last['http_req']} | {last['smtp_msgs']} |")
    print()
    print("curl-floor s (min/med/max): " +
          "; ".join(f"N={n}: {spread(v)}" for n, v in sorted(floor.items())))


if __name__ == "__main__":
    main(*sys.argv[1:4])
