"""The training plot: loss and dev F1 by epoch, written beside the model (training.png)."""

from __future__ import annotations

from pathlib import Path


def plot(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(epochs, [h["loss"] for h in history], "o-", color="tab:blue", label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss", color="tab:blue")
    ax2 = ax.twinx()
    by_standard = history[0].get("dev_f1_by_standard", {})
    if len(by_standard) > 1:
        for name in by_standard:
            ax2.plot(epochs, [h["dev_f1_by_standard"][name] for h in history], ".--", label=name)
        ax2.legend(fontsize="small", loc="lower right")
    ax2.plot(epochs, [h["dev_f1"] for h in history], "s-", color="tab:red", label="dev F1 (mean)")
    ax2.set_ylabel("dev F1" + (" (mean: squares)" if len(by_standard) > 1 else ""), color="tab:red")
    ax.set_title("seg: training loss and dev F1")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
