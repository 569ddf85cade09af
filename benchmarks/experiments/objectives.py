"""Softmax vs CRF vs Bi-MEMM, same encoder and settings, compared on dev.

    python benchmarks/experiments/objectives.py --epochs 2 --out runs/objectives

Trains one model per objective with `seg train` and prints a markdown table
(dev F1 and seconds per epoch), read back from each run's metadata.json.
Runs already in --out are reused.
"""

from pathlib import Path

import common

OBJECTIVES = ("softmax", "crf", "bimemm")


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/objectives"))
    args = parser.parse_args()
    rows = []
    for objective in OBJECTIVES:
        meta = common.seg_train(args.out / objective, ["--objective", objective, "--epochs", str(args.epochs)])
        dev, history = meta["dev"], meta["history"]
        per_epoch = sum(h["seconds"] for h in history) / len(history)
        rows.append([objective, *(f"{dev[key]:.4f}" for key in ("precision", "recall", "f1", "oov_recall")),
                     f"{per_epoch:.0f}"])
    print(f"\n{args.epochs} epochs each, `python benchmarks/experiments/objectives.py --epochs {args.epochs}`\n")
    print(common.table(["objective", "dev P", "dev R", "dev F1", "OOV recall", "s/epoch"], rows))


if __name__ == "__main__":
    main()
