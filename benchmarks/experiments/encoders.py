"""FCN against the transformer encoder trained from scratch, on the same short
runs: dev F1 and OOV recall on every dev split (through the runtime, each
corpus by its own standard) and API characters per second on 2 cores.

    python benchmarks/experiments/encoders.py --train-lines 3000 --epochs 2 --out runs/encoders

Both are trained by `seg train --recipe models/recipe.json` on the first N
lines of every corpus file (the recipe's settings: bigrams, word-match and
jieba-lexicon features for both); the FCN is quantised to int8 as `seg
train` ships it, the transformer runs in fp32 (its quantisation is not
implemented). Runs already in --out are reused.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import common
from devsets import dev_sets
from segcli import model
from segcli.evaluate import compare
from segcli.segmenter import Segmenter

ENCODERS = {
    "FCN (shipped design)": [],
    "transformer from scratch (2 layers, d 128, 4 heads)": ["--encoder", "transformer", "--set", "lr=0.001"],
}


def speed(directory: Path, lines: list[str], runs: int) -> str:
    """Median API characters per second (all cores), construction excluded."""
    segmenter = Segmenter(directory)
    list(segmenter.cut_lines(lines[:50]))
    times, _ = common.timed(lambda: list(segmenter.cut_lines(lines)), runs)
    return common.rate(sum(map(len, lines)), statistics.median(times))


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--train-lines", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("runs/encoders"))
    args = parser.parse_args()
    sets = dev_sets()
    rows = []
    for name, extra in ENCODERS.items():
        directory = args.out / ("fcn" if not extra else "transformer")
        metadata = common.seg_train(directory, ["--recipe", str(common.RECIPE), "--epochs", str(args.epochs),
                                                "--set", f"train_lines={args.train_lines}", *extra])
        loaded = model.load(directory)
        scores = []
        for _, standard, gold in sets:
            segmenter = Segmenter(directory, standard=standard)
            predicted = list(segmenter.cut_lines(["".join(w) for w in gold]))
            scores.append(compare(gold, predicted, loaded.train_words(standard)))
        pku_lines = ["".join(w) for w in sets[0][2]]
        rows.append([name, *(f"{s.f1:.4f} ({s.oov_recall:.3f})" for s in scores),
                     speed(directory, pku_lines, args.runs), f"{metadata['training_seconds']:.0f}"])
    corpora = [c for c, _, _ in sets]
    print(f"\nfirst {args.train_lines} lines of each corpus file, {args.epochs} epochs; "
          f"`python benchmarks/experiments/encoders.py --train-lines {args.train_lines} --epochs {args.epochs}`\n")
    header = ["encoder", *(f"{c} F1 (OOV R)" for c in corpora), "API chars/s", "training s"]
    print(common.table(header, rows, "l" + "r" * (len(corpora) + 2)))


if __name__ == "__main__":
    main()
