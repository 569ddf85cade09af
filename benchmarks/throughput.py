"""Whole-process throughput and startup of seg against jieba, and against
another seg checkout (e.g. the previous release), measured in one run.

    python benchmarks/throughput.py [--runs 5] [--other-seg PATH ...]

Each round runs every tool once over the same 5 MB of news (the PKU dev split
repeated, as benchmarks/run.py makes it), in turn, so the machine's noise hits
them alike; the report gives medians over the rounds with min–max, and each
tool's ratio to jieba as the median of the per-round ratios. `--other-seg`
takes a source checkout with its extension built in place (`python setup.py
build_ext --inplace`), e.g. a `git worktree` of an older commit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def news(path: Path, size: int = 5_000_000) -> int:
    sys.path.insert(0, str(ROOT))
    from segcli.corpus import default_corpus, read_corpus, split

    _, dev = split(read_corpus(default_corpus()))
    text = "\n".join("".join(words) for words in dev) + "\n"
    text = text * max(1, round(size / len(text.encode())))
    path.write_text(text, encoding="utf-8")
    return len(text) - text.count("\n")


def tools(others: list[Path]) -> dict[str, tuple[list[str], dict]]:
    def env_for(root: Path) -> dict:
        return {**os.environ, "PYTHONPATH": str(root), "PYTHONSAFEPATH": "1"}

    result = {"seg": ([PY, "-m", "segcli"], env_for(ROOT))}
    for other in others:
        result[f"seg ({other.name})"] = ([PY, "-m", "segcli"], env_for(other))
    result["jieba"] = ([PY, "-m", "jieba", "-d", " "], dict(os.environ))
    return result


def timed(cmd: list[str], env: dict, stdin: Path | bytes) -> float:
    start = time.perf_counter()
    if isinstance(stdin, bytes):
        proc = subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    else:
        with open(stdin, "rb") as f:
            proc = subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if proc.returncode:
        raise RuntimeError(f"{cmd} failed: {proc.stderr.decode(errors='replace')[-500:]}")
    return time.perf_counter() - start


def spread(values: list[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--other-seg", type=Path, action="append", default=[])
    args = parser.parse_args()
    measured = tools(args.other_seg)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "news5"
        chars = news(path)
        wall = {name: [] for name in measured}
        start = {name: [] for name in measured}
        for round_ in range(args.runs):
            for name, (cmd, env) in measured.items():
                wall[name].append(timed(cmd, env, path))
                start[name].append(timed(cmd, env, "你好\n".encode()))
            print(f"round {round_ + 1}/{args.runs} done", file=sys.stderr)
    print(f"`python benchmarks/throughput.py --runs {args.runs}`: {chars:,} characters of news, "
          f"whole process (`TOOL < news5 > /dev/null`), {args.runs} rounds; medians (min–max)\n")
    print("| tool | wall s | chars/s | × jieba (per-round ratio) | startup s (`echo 你好 \\| TOOL`) |")
    print("|---|--:|--:|--:|--:|")
    for name in measured:
        ratios = [j / t for j, t in zip(wall["jieba"], wall[name])]
        rate = [chars / t / 1e3 for t in wall[name]]
        print(f"| {name} | {spread(wall[name], '.2f')} | {spread(rate, ',.0f')}k | {spread(ratios, '.2f')} "
              f"| {spread(start[name], '.2f')} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
