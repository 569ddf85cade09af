"""Draws benchmarks/speed_accuracy.png: F1 on each dev corpus against
whole-process characters per second, one point per tool.

    python benchmarks/plot.py    # after run.py --out benchmarks/results.md and
                                 # experiments/devsets.py --out benchmarks/experiments/devsets.md

Reads benchmarks/results.json (speed, from run.py) and
benchmarks/experiments/devsets.json (accuracy, from experiments/devsets.py);
needs matplotlib (the bench or train extra).
"""

from __future__ import annotations

import json

import common

PLOT = common.BENCHMARKS / "speed_accuracy.png"
MARKERS = {"seg": "*", "jieba": "o", "rjieba": "s", "pkuseg": "^", "thulac": "v"}


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    common.parser(__doc__).parse_args()
    speed = json.loads((common.BENCHMARKS / "results.json").read_text(encoding="utf-8"))["whole_process"]
    accuracy = json.loads((common.EXPERIMENTS / "devsets.json").read_text(encoding="utf-8"))["f1"]
    corpora = list(accuracy)
    fig, axes = plt.subplots(1, len(corpora), figsize=(2.6 * len(corpora), 3.2), sharex=True)
    for ax, name in zip(axes, corpora):
        for tool, f1 in accuracy[name].items():
            if tool not in speed:
                continue
            x = speed[tool]["chars_per_s"] / 1e3
            ax.scatter([x], [f1], marker=MARKERS.get(tool, "x"), s=90 if tool == "seg" else 40, label=tool,
                       zorder=3)
        ax.set_title(name, fontsize=9)
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("dev F1")
    fig.supxlabel("whole process, thousand characters per second (log scale, 2 cores)", fontsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    fig.savefig(PLOT, dpi=110)
    print(PLOT)


if __name__ == "__main__":
    main()
