#!/usr/bin/env python
"""How long a large user dictionary takes to load, cold and from the cache.

    python benchmarks/dictionary.py [--runs 3] [--words 1000000] [--seed 20240601]

Generates a dictionary of random Han words (2-6 characters from
U+4E00..U+9FA5, one word per line, a fixed seed) in a temporary directory
and, when the ``jieba`` package is installed, converts its ``dict.txt``
(``word freq tag`` lines) into ``word,10`` lines.  For each one it runs, in a
fresh Python process each time::

    UserDictionary(load_dicts([path])[0])

with ``SEG_CACHE_DIR`` pointing at a temporary directory: *cold* runs each
get an empty one (a full compile, which also writes the cache), *warm* runs
share one that a cold run filled.  Each process reports its own time (from
before ``import segcli.dictionary`` to the compiled dictionary: interpreter
start-up excluded) and its peak RSS (``ru_maxrss``).  Printed: the median of
``--runs`` runs, with min-max, as a markdown table.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import common
from common import log, spread

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from segcli.dictionary import UserDictionary, load_dicts
entries, _ = load_dicts([sys.argv[1]])
d = UserDictionary(entries)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "words": len(d),
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run_child(path: Path, cache: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=common.child_env(SEG_CACHE_DIR=str(cache)),
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(name: str, path: Path, runs: int, tmp: Path) -> list[str]:
    cold, warm = [], []
    filled = None
    for i in range(runs):
        cache = tmp / f"cache-{name}-{i}"
        log(f"{name}: cold run {i + 1}/{runs}")
        cold.append(run_child(path, cache))
        if filled is None:
            filled = cache
        else:
            shutil.rmtree(cache)
    for i in range(runs):
        log(f"{name}: warm run {i + 1}/{runs}")
        warm.append(run_child(path, filled))
    # seg caches only dictionaries of CACHE_MIN_ENTRIES words or more
    cached = list(filled.iterdir()) if filled.is_dir() else []
    return [
        name,
        f"{cold[0]['words']:,}",
        spread([r["seconds"] for r in cold], ".2f"),
        spread([r["seconds"] for r in warm], ".2f"),
        spread([r["maxrss_kb"] / 1024 for r in cold], ".0f"),
        spread([r["maxrss_kb"] / 1024 for r in warm], ".0f"),
        f"{sum(f.stat().st_size for f in cached) / 2**20:.0f}" if cached else "none",
    ]


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (default 3)")
    parser.add_argument("--words", type=int, default=1_000_000, help="random words (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the random dictionary")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="seg-dict-bench-") as tmp:
        tmp = Path(tmp)
        random_path = tmp / "random.txt"
        common.random_dictionary(random_path, args.words, args.seed)
        rows.append(measure(f"random {args.words:,} × 2–6 Han", random_path, args.runs, tmp))
        jieba_path = tmp / "jieba.txt"
        if common.jieba_dictionary(jieba_path) is not None:
            rows.append(measure("jieba dict.txt", jieba_path, args.runs, tmp))
        else:
            log("jieba is not installed: its dict.txt is skipped")

    from importlib import metadata

    print(f"segcli from {common.SEG_ROOT}; Python {platform.python_version()}; "
          f"pyahocorasick {metadata.version('pyahocorasick')}; {os.cpu_count()} CPUs; "
          f"median of {args.runs} runs (min–max)\n")
    print(common.table(["dictionary", "entries", "cold s", "from cache s", "cold peak RSS MB",
                        "cached peak RSS MB", "cache file MB"], rows))


if __name__ == "__main__":
    main()
