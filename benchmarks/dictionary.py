#!/usr/bin/env python
"""Large user dictionaries: loading them cold and from the cache, cutting with one, and the output's identity.

    python benchmarks/dictionary.py [--runs 5] [--words 1000000] [--seed 20240601] [--skip-identity]

Generates a dictionary of random Han words (2-6 characters from
U+4E00..U+9FA5, one word per line, a fixed seed) in a temporary directory
and, when the ``jieba`` package is installed, converts its ``dict.txt``
(``word freq tag`` lines) into ``word,10`` lines.

Loading: for each dictionary it runs, in a fresh Python process each time::

    dictcache.from_files([path]).dictionary

(what ``seg --dict`` does, without a model's vocabulary) with
``SEG_CACHE_DIR`` pointing at a temporary directory: *cold* runs each get an
empty one (a full parse and compile, which also writes the cache), *warm*
runs share one that a cold run filled.  Each process reports its own time
(from before ``import segcli.dictcache`` to the compiled dictionary:
interpreter start-up excluded), how much of it was the imports (numpy and
segcli's modules, which plain seg imports too), and its peak RSS
(``VmHWM``, else ``ru_maxrss``).

Cutting (jieba's dictionary): whole-process wall time of ``seg < news5 >
/dev/null`` and ``seg --dict jieba.txt < news5`` (its cache warm), the two
run in turn ``--runs`` times so that the machine's ups and downs fall on
both alike; the ratio of their throughputs is taken run by run, and of
their CPU times (user + system of the whole process, which the machine's
other work moves less than the wall time).

Identity (jieba's dictionary, the benchmark text): the words cut with the
dictionary matched by segcli's C walk and by pyahocorasick's own iter (an
automaton of the very same words and ids, the way seg matched before the
walk) must be the same, byte for byte.

Printed: medians of ``--runs`` runs, with min–max, as markdown tables.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
from common import log, spread

# The peak RSS is VmHWM where there is one: Linux folds the parent's peak into
# a child's ru_maxrss at exec (the parent here holds a million words).
CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from segcli.dictcache import from_files
imports = time.perf_counter() - t0
cpu0 = time.process_time()
d = from_files([sys.argv[1]]).dictionary
seconds = time.perf_counter() - t0
cpu = time.process_time() - cpu0
try:
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "imports": imports, "cpu": cpu, "words": len(d), "maxrss_kb": peak}))
"""


def run_child(path: Path, cache: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=common.child_env(SEG_CACHE_DIR=str(cache)),
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(name: str, path: Path, runs: int, tmp: Path) -> tuple[list[str], Path]:
    """The loading table's row of a dictionary, and a cache directory it fills."""
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
    row = [
        name,
        f"{cold[0]['words']:,}",
        spread([r["seconds"] for r in cold], ".2f"),
        spread([r["seconds"] for r in warm], ".2f"),
        spread([r["seconds"] - r["imports"] for r in warm], ".2f"),
        spread([r["cpu"] for r in warm], ".2f"),
        spread([r["maxrss_kb"] / 1024 for r in cold], ".0f"),
        spread([r["maxrss_kb"] / 1024 for r in warm], ".0f"),
        f"{sum(f.stat().st_size for f in cached) / 2**20:.0f}" if cached else "none",
    ]
    return row, filled


def seg_command() -> list[str]:
    script = Path(sys.executable).with_name("seg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "segcli"]


def wall(cmd: list[str], stdin: Path, cache: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of a run of cmd on stdin."""
    env = common.child_env(SEG_CACHE_DIR=str(cache), PYTHONIOENCODING="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    common.run_quiet(cmd, stdin, env)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def cutting(news: Path, dict_path: Path, cache: Path, runs: int) -> list[str]:
    """The cutting table's rows: plain seg and seg --dict, run in turn."""
    chars = len(news.read_text(encoding="utf-8"))
    wall(seg_command() + ["--dict", str(dict_path)], news, cache)  # the model's tables and the dictionary cached
    plain, with_dict = [], []
    for i in range(runs):
        log(f"cutting: run {i + 1}/{runs}")
        plain.append(wall(seg_command(), news, cache))
        with_dict.append(wall(seg_command() + ["--dict", str(dict_path)], news, cache))
    ratios = [100 * p / d for (p, _), (d, _) in zip(plain, with_dict)]
    cpu_ratios = [100 * p / d for (_, p), (_, d) in zip(plain, with_dict)]
    return [
        ["seg", spread([chars / s / 1000 for s, _ in plain], ",.0f"), "100%", spread([c for _, c in plain], ".1f"),
         "100%"],
        ["seg --dict jieba dict.txt", spread([chars / s / 1000 for s, _ in with_dict], ",.0f"),
         spread(ratios, ".0f") + "%", spread([c for _, c in with_dict], ".1f"), spread(cpu_ratios, ".0f") + "%"],
    ]


def pyahocorasick_matches(layers, singles, cps):
    """segcli.trie.matches as seg matched before its C walk: pyahocorasick's
    iter over an automaton of each layer's words and ids, then the
    one-character words by numpy's searchsorted."""
    import ahocorasick
    import numpy as np

    text = cps.tobytes().decode("utf-32-le", "surrogatepass")
    automata = [layer if isinstance(layer, ahocorasick.Automaton) else _pyahocorasick_of(layer) for layer in layers]
    flat = np.fromiter(itertools.chain.from_iterable(itertools.chain.from_iterable(a.iter(text) for a in automata)),
                       dtype=np.int64)
    ends, ids = flat[0::2], flat[1::2]
    chars, char_ids = singles
    if len(chars):
        at = np.searchsorted(chars, cps)
        hit = np.flatnonzero(chars[np.minimum(at, len(chars) - 1)] == cps)
        ends, ids = np.concatenate([ends, hit]), np.concatenate([ids, char_ids[at[hit]]])
    return ends, ids


_AUTOMATA: dict[int, object] = {}


def _pyahocorasick_of(layer):
    """pyahocorasick's automaton of a segcli.trie.Trie's words, read back from its arrays (made once)."""
    import ahocorasick

    if id(layer) not in _AUTOMATA:
        records, letter = (layer.nodes.columns[name].tolist() for name in ("nodes", "letter"))
        made = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        words = [""] * len(letter)
        for u in range(len(letter)):
            for k in range(records[u][0], records[u + 1][0]):  # nodes come after their parents
                words[k] = words[u] + chr(letter[k])
                if records[k][3] >= 0:
                    made.add_word(words[k], records[k][3])
        made.make_automaton()
        _AUTOMATA[id(layer)] = (layer, made)
    return _AUTOMATA[id(layer)][1]


def identity(news: Path, dict_path: Path, cache: Path) -> list[str]:
    """The identity table's rows: the digest of the words cut through each matcher."""
    from segcli import Segmenter, trie

    os.environ["SEG_CACHE_DIR"] = str(cache)
    lines = news.read_text(encoding="utf-8").splitlines()
    segmenter = Segmenter(dicts=[dict_path])
    digests = {}
    walk = trie.matches
    for name, matcher in [("segcli.trie (C walk)", walk), ("pyahocorasick iter", pyahocorasick_matches)]:
        log(f"identity: cutting through {name}")
        trie.matches = matcher
        try:
            start = time.perf_counter()
            cut = "".join(" ".join(words) + "\n" for words in segmenter.cut_lines(lines)).encode("utf-8")
            seconds = time.perf_counter() - start
        finally:
            trie.matches = walk
        digests[name] = (hashlib.sha256(cut).hexdigest()[:16], len(cut), seconds)
    same = len({d for d, _, _ in digests.values()}) == 1
    return [[name, f"{size:,}", digest, f"{seconds:.1f}", "yes" if same else "**NO**"]
            for name, (digest, size, seconds) in digests.items()]


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement (default 5)")
    parser.add_argument("--words", type=int, default=1_000_000, help="random words (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the random dictionary")
    parser.add_argument("--skip-identity", action="store_true", help="leave out the identity check (a minute)")
    args = parser.parse_args()

    rows, cutting_rows, identity_rows = [], [], []
    with tempfile.TemporaryDirectory(prefix="seg-dict-bench-") as tmp:
        tmp = Path(tmp)
        random_path = tmp / "random.txt"
        common.random_dictionary(random_path, args.words, args.seed)
        rows.append(measure(f"random {args.words:,} × 2–6 Han", random_path, args.runs, tmp)[0])
        jieba_path = tmp / "jieba.txt"
        if common.jieba_dictionary(jieba_path) is not None:
            row, jieba_cache = measure("jieba dict.txt", jieba_path, args.runs, tmp)
            rows.append(row)
            news = tmp / "news5.txt"
            news.write_text(common.text(common.news(5_000_000)), encoding="utf-8")
            cutting_rows = cutting(news, jieba_path, jieba_cache, args.runs)
            if not args.skip_identity:
                identity_rows = identity(news, jieba_path, jieba_cache)
        else:
            log("jieba is not installed: its dict.txt is skipped")

    from importlib import metadata

    print(f"segcli from {common.SEG_ROOT}; Python {platform.python_version()}; "
          f"pyahocorasick {metadata.version('pyahocorasick')}; {os.cpu_count()} CPUs; "
          f"median of {args.runs} runs (min–max)\n")
    print(common.table(["dictionary", "entries", "cold s", "from cache s", "of which loading s", "loading CPU s",
                        "cold peak RSS MB", "cached peak RSS MB", "cache file MB"], rows, "lrrrrrrrr"))
    print("\n'from cache' counts from `import segcli.dictcache` on; 'of which loading' leaves out the imports "
          "(numpy, segcli), which plain seg makes too; 'loading CPU s' is that part's CPU time (less moved by the "
          "machine's other work).")
    if cutting_rows:
        print("\nWhole process, the benchmark text (news5), jieba's dictionary cached; ratio run by run:\n")
        print(common.table(["command", "k chars/s", "of plain", "CPU s", "of plain's CPU"], cutting_rows, "lrrrr"))
    if identity_rows:
        print("\nWords cut with jieba's dictionary through each matcher (sha256 of the output):\n")
        print(common.table(["matcher", "bytes", "sha256", "s", "identical"], identity_rows, "lrlrl"))
    if identity_rows and identity_rows[0][-1] != "yes":
        sys.exit("the outputs differ")


if __name__ == "__main__":
    main()
