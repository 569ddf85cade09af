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

import os
import sys
import tempfile
from pathlib import Path

import common
from common import spread

PY = sys.executable


def tools(others: list[Path]) -> dict[str, tuple[list[str], dict]]:
    def env_for(root: Path) -> dict:  # that checkout's segcli alone, whatever else is installed
        return {**os.environ, "PYTHONPATH": str(root), "PYTHONSAFEPATH": "1"}

    result = {"seg": ([PY, "-m", "segcli"], env_for(common.ROOT))}
    for other in others:
        result[f"seg ({other.name})"] = ([PY, "-m", "segcli"], env_for(other))
    result["jieba"] = ([PY, "-m", "jieba", "-d", " "], dict(os.environ))
    return result


def timed(cmd: list[str], env: dict, stdin: Path | bytes) -> float:
    """Wall seconds of one `cmd` process on stdin, its output discarded."""
    return common.timed(lambda: common.run_quiet(cmd, stdin, env))[0][0]


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--other-seg", type=Path, action="append", default=[])
    args = parser.parse_args()
    measured = tools(args.other_seg)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "news5"
        lines = common.news(5_000_000)
        path.write_text(common.text(lines), encoding="utf-8")
        chars = sum(map(len, lines))
        wall = {name: [] for name in measured}
        start = {name: [] for name in measured}
        for round_ in range(args.runs):
            for name, (cmd, env) in measured.items():
                wall[name].append(timed(cmd, env, path))
                start[name].append(timed(cmd, env, "你好\n".encode()))
            common.log(f"round {round_ + 1}/{args.runs} done")
    rows = []
    for name in measured:
        ratios = [j / t for j, t in zip(wall["jieba"], wall[name])]
        rate = [chars / t / 1e3 for t in wall[name]]
        rows.append([name, spread(wall[name], ".2f"), f"{spread(rate, ',.0f')}k", spread(ratios, ".2f"),
                     spread(start[name], ".2f")])
    print(f"`python benchmarks/throughput.py --runs {args.runs}`: {chars:,} characters of news, "
          f"whole process (`TOOL < news5 > /dev/null`), {args.runs} rounds; medians (min–max)\n")
    print(common.table(["tool", "wall s", "chars/s", "× jieba (per-round ratio)",
                        "startup s (`echo 你好 \\| TOOL`)"], rows, "lrrrr"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
