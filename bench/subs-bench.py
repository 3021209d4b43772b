#!/usr/bin/python3
"""subs-bench.py: many subscriptions against Postfix's C SMTP tools (issue 20).

    bench/subs-bench.py BUILD_DIR [--subs 2000] [--feeds 20] [--runs 3]
                        [--sessions 1 4] [--seed 1]

Serves the first FEEDS generated feeds (../shared/bench/gen-feeds.py) over
nginx on 127.0.0.1 (../shared/bench/serve.sh, in $BENCH_WORK, default
/tmp/tidings-subs-bench) and starts a Postfix `smtp-sink` of its own
(no dumps: -c counts the messages it accepted; Postfix's daemon is not
started).  SUBS subscriptions of 1-3 tags each (drawn from gen-feeds.py's
tags with SEED), one recipient each, first-run "0" and max-items = 0
(every item is new and goes into the first digest, so that the second run
has nothing new).

Untimed first: one run into a maildir gives the digests' count and mean
size, and the digest closest to the mean becomes DIGEST.  Then RUNS rounds,
each timing (the clock; CPU from wait4, peak RSS from /usr/bin/time):
  floor       smtp-source -s 4 -d -m COUNT -F DIGEST  into the same sink
  tidings sN  all new (fresh state), smtp.sessions = N, for each N
and, after the rounds, nothing new at SUBS subscriptions (the state of the
last all-new run) and at 2 (the first two subscriptions), RUNS times each.
Every timed delivery is checked against the sink's message counter, and
the sink's CPU time is read from /proc: on a loaded machine the CPU of
client + sink is the steadier comparison.
Prints medians and every raw figure.  Needs: nginx, postfix (for
/usr/sbin/smtp-sink and smtp-source; its daemon need not run), time.
"""
import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SINK = "/usr/sbin/smtp-sink"
SOURCE = "/usr/sbin/smtp-source"
TAGS = ["News", "Linux", "Open Source", "Releases", "Security", "Tutorials",
        "Opinion", "Events", "Photography", "Travel", "Food", "Science",
        "Climate", "Politics", "Local", "Music", "Books", "Reviews",
        "Podcast", "Uncategorized", "C", "Go", "Rust", "Python",
        "Networking", "Self-hosting", "Email", "RSS", "Hardware",
        "Gardening"]


def free_port(first):
    for port in range(first, first + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    sys.exit("no free port from %d" % first)


def wait_port(port):
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    sys.exit("nothing listens on 127.0.0.1:%d" % port)


class Sink:
    """Postfix's smtp-sink with running counters (-c), no dumps."""

    def __init__(self, work):
        self.port = free_port(2600)
        self.count_file = os.path.join(work, "smtp-sink.count")
        user = ["-u", "nobody"] if os.getuid() == 0 else []
        with open(self.count_file, "wb") as out:
            self.proc = subprocess.Popen(
                [SINK] + user + ["-a", "-c", "127.0.0.1:%d" % self.port,
                                 "256"], stdout=out, stdin=subprocess.DEVNULL)
        wait_port(self.port)

    def messages(self):
        time.sleep(0.2)  # the counter is written as "." is answered
        with open(self.count_file, "rb") as f:
            text = f.read()[-512:].decode("ascii", "replace")
        found = re.findall(r"sess=\d+ quit=\d+ mesg=(\d+)", text)
        return int(found[-1]) if found else 0

    def cpu(self):
        """CPU seconds (user + sys) the sink used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()


def subscriptions(n, seed):
    rng = random.Random(seed)
    return [rng.sample(TAGS, rng.randint(1, 3)) for _ in range(n)]


def write_config(path, feeds, subs, sink_port, sessions, deliver, state):
    out = ['from = "bench@localhost"', 'state = "%s"' % state,
           'templates = "%s/templates"' % TOP, 'deliver = "%s"' % deliver,
           'smtp {', '  host = "127.0.0.1"', '  port = %d' % sink_port,
           '  tls = "none"', '  sessions = %d' % sessions, '}',
           'fetch {', '  parallel = 8', '  per-host = 8', '}']
    for name, url in feeds:
        out += ['feed %s {' % name, '  url = "%s"' % url, '}']
    for i, tags in enumerate(subs):
        out += ['subscription s%04d {' % i, '  to = {"s%04d@localhost"}' % i,
                '  tags = {%s}' % ", ".join('"%s"' % t for t in tags),
                '  first-run = "0"', '  max-items = 0', '}']
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def timed(cmd, log):
    """Run cmd: (wall, user+sys, user, sys, rss MB).  Wall from the clock
    and CPU from wait4's rusage, to the microsecond (/usr/bin/time rounds
    to 10 ms, a third of a 30 ms run); peak RSS from /usr/bin/time, whose
    child is forked from a small process (a child forked from Python
    counts Python's pages in its peak)."""
    tfile = log + ".time"
    with open(log, "ab") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", tfile] + cmd,
                             stdout=out, stderr=out)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.exit("%s failed (%d), see %s" % (" ".join(cmd), rc, log))
    user, sys_ = ru.ru_utime, ru.ru_stime
    rss = int(open(tfile).read().split()[-1]) / 1024
    return {"wall": wall, "cpu": user + sys_, "user": user, "sys": sys_,
            "rss": rss, "load": os.getloadavg()[0]}


def digest_file(maildir, dest):
    """Count, mean size of the digests in maildir; the one nearest the
    mean is copied to dest."""
    files = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        files += [os.path.join(d, f) for f in os.listdir(d)]
    sizes = {f: os.path.getsize(f) for f in files}
    mean = statistics.mean(sizes.values())
    nearest = min(files, key=lambda f: abs(sizes[f] - mean))
    shutil.copy(nearest, dest)
    return len(files), mean, os.path.getsize(dest)


def serve(work, nfeeds):
    # ../shared beside the repo (or beside a worktree's parent)
    shared = os.environ.get("SHARED") or next(
        (p for p in (os.path.join(TOP, "..", "shared"),
                     os.path.join(TOP, "..", "..", "shared"))
         if os.path.isdir(p)), "../shared")
    env = dict(os.environ, BENCH_WORK=work, FEEDS_N=str(nfeeds),
               SINK="postfix")
    subprocess.check_call([os.path.join(shared, "bench", "serve.sh")],
                          env=env, stdout=subprocess.DEVNULL)
    ports = dict(line.strip().split("=", 1)
                 for line in open(os.path.join(work, "srv", "ports.env")))
    feeds = []
    for line in open(os.path.join(work, "feeds", "index.tsv")):
        if line.startswith("#"):
            continue
        name, fname = line.split("\t")[:2]
        feeds.append((name, "http://127.0.0.1:%s/%s" % (ports["HTTP_PORT"],
                                                       fname)))
    stop = [os.path.join(shared, "bench", "stop.sh")]
    return feeds[:nfeeds], lambda: subprocess.call(
        stop, env=env, stdout=subprocess.DEVNULL)


def report(results, expected, mean, digest_size, args):
    print("\n%d subscriptions, %d feeds, %d digests, mean %.0f KB "
          "(DIGEST %d bytes), load at start %.1f" %
          (args.subs, args.feeds, expected, mean / 1024, digest_size,
           results["load0"]))
    print("%-22s %8s %8s %8s %8s %8s %8s %8s   raw wall s" %
          ("", "wall s", "cpu s", "user", "sys", "sink cpu", "cpu+sink",
           "RSS MB"))
    for key, runs in results["runs"].items():
        med = {k: statistics.median(r[k] for r in runs)
               for k in ("wall", "cpu", "user", "sys", "sink", "both", "rss")}
        print("%-22s %8.3f %8.2f %8.2f %8.2f %8.2f %8.2f %8.1f   %s" %
              (key, med["wall"], med["cpu"], med["user"], med["sys"],
               med["sink"], med["both"], med["rss"],
               " ".join("%.3f" % r["wall"] for r in runs)))
        results["median"][key] = med
    m = results["median"]
    for s in args.sessions:
        print("all new, sessions = %d: %.2fx the smtp-source floor "
              "(CPU of client + sink: %.2fx)" %
              (s, m["all-new s%d" % s]["wall"] / m["floor"]["wall"],
               m["all-new s%d" % s]["both"] / m["floor"]["both"]))
    print("nothing new: %d subs / 2 subs = %.2fx" %
          (args.subs, m["nothing-new %d" % args.subs]["wall"] /
           m["nothing-new 2"]["wall"]))
    print("loads during the runs: %s" % " ".join(
        "%.1f" % r["load"] for runs in results["runs"].values()
        for r in runs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--subs", type=int, default=2000)
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tidings = os.path.join(os.path.abspath(args.build), "tidings")
    work = os.environ.get("BENCH_WORK", "/tmp/tidings-subs-bench")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    feeds, stop_servers = serve(work, args.feeds)
    run_dir = os.path.join(work, "subs")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    sink = Sink(run_dir)
    try:
        bench(args, tidings, feeds, sink, run_dir)
    finally:
        sink.stop()
        stop_servers()


def bench(args, tidings, feeds, sink, d):
    subs = subscriptions(args.subs, args.seed)
    state = os.path.join(d, "state")
    log = os.path.join(d, "log")

    def conf(name, sessions, nsubs=args.subs, deliver="smtp"):
        path = os.path.join(d, name + ".conf")
        write_config(path, feeds, subs[:nsubs], sink.port, sessions, deliver,
                     state)
        return path

    def fresh():
        for f in os.listdir(d):
            if f.startswith("state"):
                os.remove(os.path.join(d, f))

    maildir = os.path.join(d, "Maildir")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    fresh()
    subprocess.check_call([tidings, "-c", conf("maildir", 1,
                                               deliver="maildir:" + maildir)])
    digest = os.path.join(d, "DIGEST")
    expected, mean, digest_size = digest_file(maildir, digest)
    shutil.rmtree(maildir)
    results = {"runs": {}, "median": {}, "load0": os.getloadavg()[0]}

    def record(key, cmd, count):
        before, cpu0 = sink.messages(), sink.cpu()
        r = timed(cmd, log)
        got = sink.messages() - before
        r["sink"] = sink.cpu() - cpu0
        r["both"] = r["cpu"] + r["sink"]
        if got != count:
            sys.exit("%s: the sink accepted %d messages, not %d" %
                     (key, got, count))
        r["accepted"] = got
        results["runs"].setdefault(key, []).append(r)
        print("%s: %.3f s wall, %.2f s cpu (sink %.2f), %.1f MB, %d accepted, "
              "load %.1f" % (key, r["wall"], r["cpu"], r["sink"], r["rss"], got,
                             r["load"]),
              flush=True)

    floor = [SOURCE, "-s", "4", "-d", "-m", str(expected), "-F", digest,
             "127.0.0.1:%d" % sink.port]
    confs = {s: conf("s%d" % s, s) for s in args.sessions}
    for _ in range(args.runs):
        record("floor", floor, expected)
        for s in args.sessions:
            fresh()
            record("all-new s%d" % s, [tidings, "-c", confs[s]], expected)
    for _ in range(args.runs):
        record("nothing-new %d" % args.subs, [tidings, "-c",
                                              confs[args.sessions[0]]], 0)
    fresh()
    two = conf("two", 1, nsubs=2)
    subprocess.check_call([tidings, "-c", two], stdout=subprocess.DEVNULL)
    for _ in range(args.runs):
        record("nothing-new 2", [tidings, "-c", two], 0)
    report(results, expected, mean, digest_size, args)


if __name__ == "__main__":
    main()
