#!/usr/bin/python3
"""curl-floor: the network part alone.  One curl, 8 transfers at once,
gzip, every URL fetched unconditionally.  Prints "N<TAB>curl-floor<TAB>s".

usage: curl-floor.py N URLS_FILE
"""
import subprocess
import sys
import tempfile
import time

n, urls = sys.argv[1], sys.argv[2]
with open(urls) as fh, tempfile.NamedTemporaryFile("w", suffix=".curlrc") as cfg:
    for u in fh.read().split():
        cfg.write(f'url = "{u}"\noutput = "/dev/null"\n')
    cfg.flush()
    t0 = time.monotonic()
    subprocess.run(["curl", "-s", "--no-progress-meter", "--compressed", "--parallel", "--parallel-max", "8", "-K", cfg.name],
                   stdout=subprocess.DEVNULL, check=True)
print(f"{n}\tcurl-floor\t{time.monotonic() - t0:.3f}")
