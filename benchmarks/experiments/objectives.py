"""Softmax vs CRF vs Bi-MEMM, same encoder and settings, compared on dev.

    python benchmarks/objectives.py --epochs 2 --out runs/objectives

Trains one model per objective with `seg train` and prints a markdown table
(dev F1 and seconds per epoch), read back from each run's metadata.json.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

OBJECTIVES = ("softmax", "crf", "bimemm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/objectives"))
    args = parser.parse_args()
    rows = ["| objective | dev P | dev R | dev F1 | OOV recall | s/epoch |", "|---|---|---|---|---|---|"]
    for objective in OBJECTIVES:
        out = args.out / objective
        subprocess.run(
            [sys.executable, "-m", "segcli", "train", "--objective", objective,
             "--epochs", str(args.epochs), "--out", str(out)],
            check=True,
        )
        meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
        dev, history = meta["dev"], meta["history"]
        per_epoch = sum(h["seconds"] for h in history) / len(history)
        rows.append(f"| {objective} | {dev['precision']:.4f} | {dev['recall']:.4f} | {dev['f1']:.4f} "
                    f"| {dev['oov_recall']:.4f} | {per_epoch:.0f} |")
    print(f"\n{args.epochs} epochs each, `python benchmarks/objectives.py --epochs {args.epochs}`\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
