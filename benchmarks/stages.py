"""Time per stage of the API's pipeline, per batch, on one thread.

    python benchmarks/stages.py [--runs 3] [--mb 2.5]

Wraps the functions the Segmenter calls for each batch (the encoding, the
features, packing rows, onnxruntime, atoms, the dictionary, Viterbi, the word
strings) with timers and runs `cut_lines` over the PKU dev split repeated, on
one thread, so the stages never overlap; "the rest" is a batch's time that
none of them took (bounds, scattering the scores back, numpy calls). Each
figure is the median over the runs of the mean per batch.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict

import common
from segcli import Segmenter, atoms, segmenter, stream
from segcli.dictionary import UserDictionary
from segcli.encode import Vocab
from segcli.score import Scorer

# (label, owner, attribute): what each stage's time is the time of.
STAGES = [
    ("code points", segmenter, "codepoints"),
    ("classify (whitespace, lookup form, ids)", Vocab, "classify"),
    ("features (n-grams, word matches)", Vocab, "features"),
    ("packing rows", Scorer, "_rows"),
    ("model (onnxruntime)", Scorer, "run"),
    ("dictionary", UserDictionary, "apply_codepoints"),
    ("atoms: find", atoms, "find_codepoints"),
    ("atoms: rule out", atoms, "constrain"),
    ("Viterbi", segmenter, "decode"),
    ("word strings", segmenter, "line_words"),
]
BATCH = ("a whole batch", segmenter.Segmenter, "_words_batch")


def timing(spent: dict, label: str, function):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    return timed


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mb", type=float, default=2.5, help="size of the text in MB of UTF-8")
    args = parser.parse_args()
    lines = common.news(args.mb * 1e6)
    batches = sum(1 for _ in stream.batched(lines, stream.BATCH_CHARS))
    seg = Segmenter(threads=1)
    list(seg.cut_lines(lines))  # warm-up
    spent: dict[str, float] = defaultdict(float)
    for label, owner, name in [*STAGES, BATCH]:
        setattr(owner, name, timing(spent, label, getattr(owner, name)))
    per_run = []
    for _ in range(args.runs):
        spent.clear()
        list(seg.cut_lines(lines))
        per_run.append({label: seconds * 1e3 / batches for label, seconds in spent.items()})
        per_run[-1]["the rest"] = per_run[-1][BATCH[0]] - sum(per_run[-1].get(label, 0.0) for label, _, _ in STAGES)
    print(f"`python benchmarks/stages.py --runs {args.runs}`: {sum(map(len, lines)):,} characters, {batches} "
          f"batches of ~{stream.BATCH_CHARS:,} characters, one thread; ms per batch, median of the runs\n")
    rows = [[label, f"{statistics.median(run.get(label, 0.0) for run in per_run):.3f}"]
            for label in [*(label for label, _, _ in STAGES), "the rest", BATCH[0]]]
    print(common.table(["stage", "ms per batch"], rows, "lr"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
