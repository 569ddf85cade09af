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

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:
    import segcli
except ImportError:  # a source checkout without PYTHONPATH
    sys.path.insert(0, str(ROOT))
    import segcli
SEG_ROOT = str(Path(segcli.__file__).resolve().parent.parent)  # the children use the same segcli

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


def random_dictionary(path: Path, words: int, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 7, words)
    points = rng.integers(0x4E00, 0x9FA6, int(lengths.sum()), dtype=np.uint32)
    text = points.tobytes().decode("utf-32-le")
    ends = np.cumsum(lengths).tolist()
    starts = [0] + ends[:-1]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(text[a:b] for a, b in zip(starts, ends)))
        f.write("\n")


def jieba_dictionary(path: Path) -> int | None:
    """Writes jieba's dict.txt as ``word,10`` lines; None without jieba."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).parent / "dict.txt"
    if not source.exists():
        return None
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        word = line.split(" ", 1)[0].strip()
        if word and not word.startswith("#"):  # '#' would start a comment
            lines.append(f"{word},10")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def run_child(path: Path, cache: Path) -> dict:
    env = {**os.environ, "SEG_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join(filter(None, [SEG_ROOT, os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(values: list[float], fmt: str) -> str:
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def measure(name: str, path: Path, runs: int, tmp: Path) -> list[str]:
    cold, warm = [], []
    filled = None
    for i in range(runs):
        cache = tmp / f"cache-{name}-{i}"
        print(f"{name}: cold run {i + 1}/{runs}", file=sys.stderr, flush=True)
        cold.append(run_child(path, cache))
        if filled is None:
            filled = cache
        else:
            shutil.rmtree(cache)
    for i in range(runs):
        print(f"{name}: warm run {i + 1}/{runs}", file=sys.stderr, flush=True)
        warm.append(run_child(path, filled))
    cache_mb = sum(f.stat().st_size for f in filled.iterdir()) / 2**20
    return [
        name,
        f"{cold[0]['words']:,}",
        summary([r["seconds"] for r in cold], ".2f"),
        summary([r["seconds"] for r in warm], ".2f"),
        summary([r["maxrss_kb"] / 1024 for r in cold], ".0f"),
        summary([r["maxrss_kb"] / 1024 for r in warm], ".0f"),
        f"{cache_mb:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (default 3)")
    parser.add_argument("--words", type=int, default=1_000_000, help="random words (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the random dictionary")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="seg-dict-bench-") as tmp:
        tmp = Path(tmp)
        random_path = tmp / "random.txt"
        random_dictionary(random_path, args.words, args.seed)
        rows.append(measure(f"random {args.words:,} × 2–6 Han", random_path, args.runs, tmp))
        jieba_path = tmp / "jieba.txt"
        if jieba_dictionary(jieba_path) is not None:
            rows.append(measure("jieba dict.txt", jieba_path, args.runs, tmp))
        else:
            print("jieba is not installed: its dict.txt is skipped", file=sys.stderr)

    from importlib import metadata

    print(f"segcli from {SEG_ROOT}; Python {platform.python_version()}; "
          f"pyahocorasick {metadata.version('pyahocorasick')}; {os.cpu_count()} CPUs; "
          f"median of {args.runs} runs (min–max)\n")
    header = ["dictionary", "entries", "cold s", "from cache s", "cold peak RSS MB",
              "cached peak RSS MB", "cache file MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
