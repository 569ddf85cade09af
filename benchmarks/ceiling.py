"""Where the API's time goes against the ceiling: seg's API, the same
pipeline without making word strings, the encoding alone, and raw
onnxruntime inference of the very model inputs the API ran (the ceiling),
at each thread count, measured in interleaved rounds.

    python benchmarks/ceiling.py [--runs 7] [--threads 1 2] [--mb 2.5]

The text is the PKU dev split repeated (as run.py makes it). Each round runs
every variant once, in turn, so the machine's noise falls on all alike; the
report gives medians with min–max, and each variant's share of the ceiling
as the median of the per-round ratios.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import common
from common import spread
from segcli import Segmenter, stream


def variants(segmenter: Segmenter, lines: list[str]) -> dict:
    """name -> a function running it over `lines`; the ceiling replays the
    onnxruntime calls the API made, with as many threads as the API used."""
    calls = []
    run = segmenter._scorer.run

    def recording(*args):
        calls.append(args)
        return run(*args)

    segmenter._scorer.run = recording
    list(segmenter.cut_lines(lines))
    segmenter._scorer.run = run

    def ceiling():
        with ThreadPoolExecutor(segmenter.threads) as pool:
            list(pool.map(lambda args: run(*args), calls))

    return {
        "API (`cut_lines`: words as str)": lambda: list(segmenter.cut_lines(lines)),
        "tags only (no word strings)": lambda: list(stream.pipe(lines, segmenter._tag, threads=segmenter.threads)),
        "encoding only (ids, features)": lambda: list(stream.pipe(lines, segmenter._encode,
                                                                  threads=segmenter.threads)),
        "ceiling: onnxruntime alone": ceiling,
    }


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mb", type=float, default=2.5, help="size of the text in MB of UTF-8")
    args = parser.parse_args()
    lines = common.news(args.mb * 1e6)
    chars = sum(map(len, lines))
    rows = []
    for threads in args.threads:
        measured = variants(Segmenter(threads=threads), lines)
        times: dict[str, list[float]] = {name: [] for name in measured}
        for round_ in range(args.runs):
            for name, function in measured.items():
                times[name] += common.timed(function)[0]
            common.log(f"{threads} thread(s): round {round_ + 1}/{args.runs} done")
        ceiling = times["ceiling: onnxruntime alone"]
        for name, values in times.items():
            shares = [100 * c / t for c, t in zip(ceiling, values)]
            rows.append([str(threads), name, f"{spread([chars / t / 1e3 for t in values], ',.0f')}k",
                         f"{spread(shares, '.0f')} %"])
    print(f"`python benchmarks/ceiling.py --runs {args.runs}`: {chars:,} characters in {len(lines):,} lines, "
          f"{args.runs} interleaved rounds; medians (min–max)\n")
    print(common.table(["threads", "variant", "chars/s", "share of the ceiling (per-round ratio)"], rows, "rlrr"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
