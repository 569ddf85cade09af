"""Word-level segmentation scoring, as the SIGHAN 2005 bakeoff ``score.pl`` defines it.

A predicted word is correct when both of its boundaries -- character offsets
within the line, whitespace removed -- coincide with those of a gold word.
Per corpus we count gold words, predicted words and correct words, and derive

* precision = correct / predicted
* recall    = correct / gold
* F1        = 2PR / (P + R)

With a training word list we also report

* OOV rate   = gold words not in the list / gold words
* OOV recall = correctly segmented gold OOV words / gold OOV words
* IV recall  = correctly segmented gold in-vocabulary words / gold IV words

With part-of-speech tags on both sides (``gold_tags``, ``pred_tags``: a tag
per word; ``split_tags`` reads ``word/tag`` tokens) we also report

* joint precision, recall and F1: a word counts when its boundaries and its
  tag are both right;
* tag accuracy = words with both right / correctly segmented words (how well
  the words that were cut right are tagged).

Any ratio whose denominator is zero is reported as 0.0.

Lines whose characters differ between gold and prediction (once whitespace is
removed) cannot be aligned; they are listed in ``Scores.mismatched_lines``
(1-based) and excluded from every count -- never silently scored.

Everything here works on already-tokenised lines (sequences of words), so it
is usable from the CLI and from training code alike; the readers are
``segcli.wordlist``'s, re-exported here::

    gold = read_segmented("gold.utf8")
    pred = read_segmented("pred.utf8")
    print(format_report(compare(gold, pred, read_word_list("training_words.utf8"))))
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass
from itertools import accumulate
from typing import Any

from .wordlist import read_segmented, read_word_list

__all__ = [
    "Scores",
    "compare",
    "read_segmented",
    "read_word_list",
    "format_report",
    "mean_word_length",
    "split_tags",
]

_MAX_LISTED_MISMATCHES = 20
#: Segmented text's words average under 2 characters in every standard seg
#: knows (PKU: 1.6); words this long mean (almost) no word separators.
UNSEGMENTED_WORD_LENGTH = 8


@dataclass(frozen=True)
class Scores:
    """Corpus-level scores. OOV fields are None when no training words were given."""

    gold_words: int
    pred_words: int
    correct: int
    precision: float
    recall: float
    f1: float
    oov_rate: float | None = None
    oov_recall: float | None = None
    iv_recall: float | None = None
    mismatched_lines: tuple[int, ...] = ()
    # With tags on both sides (else None): words right in span and tag, and the ratios.
    pos_correct: int | None = None
    pos_precision: float | None = None
    pos_recall: float | None = None
    pos_f1: float | None = None
    tag_accuracy: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (``mismatched_lines`` becomes a list);
        the tag fields only where tags were scored."""
        d = asdict(self)
        d["mismatched_lines"] = list(self.mismatched_lines)
        if self.pos_correct is None:
            for name in _TAG_FIELDS:
                del d[name]
        return d


_TAG_FIELDS = ("pos_correct", "pos_precision", "pos_recall", "pos_f1", "tag_accuracy")
#: A part-of-speech tag as tagged text writes it: PKU's n, Ng, vn; jieba's
#: eng; CTB's NN; Universal POS's PROPN.
_TAG = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def split_tags(lines: Iterable[Sequence[str]], delimiter: str = "/") -> tuple[list[list[str]], list[list[str]]] | None:
    """(words, tags) of lines of ``word/tag`` tokens (``delimiter`` between
    the two, the last one in the token); None unless every token is one
    (untagged text: no token is), or there is no token at all."""
    words: list[list[str]] = []
    tags: list[list[str]] = []
    for line in lines:
        line_words, line_tags = [], []
        for token in line:
            word, found, tag = token.rpartition(delimiter)
            if not found or not word or not _TAG.fullmatch(tag):
                return None
            line_words.append(word)
            line_tags.append(tag)
        words.append(line_words)
        tags.append(line_tags)
    return (words, tags) if any(words) else None


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _clean(words: Sequence[str], which: str, lineno: int) -> tuple[list[str], str]:
    """The line's words (whitespace removed, empty tokens dropped) and its text."""
    if isinstance(words, (str, bytes)):
        raise TypeError(
            f"{which} line {lineno} is a {type(words).__name__}, expected a sequence of "
            "words; split it first (e.g. with read_segmented)"
        )
    words = list(words)
    text = "".join(words)
    if text.split() == [text] and all(words):
        return words, text  # fast path: no whitespace and no empty tokens
    # Whitespace never counts as text; empty tokens are not words.
    cleaned = [c for c in ("".join(w.split()) for w in words) if c]
    return cleaned, "".join(cleaned)


def _clean_tagged(words: Sequence[str], tags: Sequence[str], which: str, lineno: int
                  ) -> tuple[list[str], str, list[str]]:
    """_clean of a line of words with a tag each; the tags of the words kept."""
    if isinstance(tags, (str, bytes)):
        raise TypeError(f"{which} tags of line {lineno} are a {type(tags).__name__}, expected a sequence of tags")
    words, tags = list(words), list(tags)
    if len(words) != len(tags):
        raise ValueError(f"{which} line {lineno} has {len(words)} words but {len(tags)} tags")
    cleaned, text = _clean(words, which, lineno)
    if len(cleaned) == len(words):
        return cleaned, text, tags
    pairs = [("".join(w.split()), t) for w, t in zip(words, tags)]
    return cleaned, text, [t for w, t in pairs if w]


def _spans(words: list[str]) -> list[tuple[int, int]]:
    ends = list(accumulate(len(w) for w in words))
    return list(zip([0] + ends[:-1], ends))


def _count_rest(it: Iterable[Any]) -> int:
    return sum(1 for _ in it)


def compare(
    gold: Iterable[Sequence[str]],
    pred: Iterable[Sequence[str]],
    train_words: Collection[str] | None = None,
    *,
    gold_tags: Iterable[Sequence[str]] | None = None,
    pred_tags: Iterable[Sequence[str]] | None = None,
) -> Scores:
    """The word-level scores of predicted segmentation ``pred`` against ``gold``, line by line.

    Each line is a sequence of words. ``train_words``, when given, enables the
    OOV rate, OOV recall and IV recall figures; ``gold_tags`` and
    ``pred_tags`` (both, a tag per word, lines as the words' lines) the
    joint and tag accuracy figures. Raises ``ValueError`` when the two
    inputs have different numbers of lines, or a line's tags do not match
    its words.
    """
    if (gold_tags is None) != (pred_tags is None):
        raise ValueError("tags are scored with both gold_tags and pred_tags, not one")
    tagged = gold_tags is not None
    gold_tag_it = iter(gold_tags) if gold_tags is not None else None
    pred_tag_it = iter(pred_tags) if pred_tags is not None else None
    n_tagged_correct = 0
    vocab: AbstractSet[str] | None
    if train_words is None:
        vocab = None
    elif isinstance(train_words, AbstractSet):
        vocab = train_words
    else:
        vocab = frozenset(train_words)

    n_gold = n_pred = n_correct = 0
    n_oov = n_oov_correct = 0
    mismatched: list[int] = []

    gold_it = iter(gold)
    pred_it = iter(pred)
    lineno = 0
    sentinel = object()
    while True:
        g = next(gold_it, sentinel)
        p = next(pred_it, sentinel)
        if g is sentinel or p is sentinel:
            if g is sentinel and p is sentinel:
                break
            if g is sentinel:
                ng, np_ = lineno, lineno + 1 + _count_rest(pred_it)
            else:
                ng, np_ = lineno + 1 + _count_rest(gold_it), lineno
            raise ValueError(f"gold has {ng} lines, prediction has {np_}")
        lineno += 1

        if tagged:
            gw, g_text, gt = _clean_tagged(g, next(gold_tag_it, ()), "gold", lineno)  # type: ignore[arg-type]
            pw, p_text, pt = _clean_tagged(p, next(pred_tag_it, ()), "prediction", lineno)  # type: ignore[arg-type]
        else:
            gw, g_text = _clean(g, "gold", lineno)  # type: ignore[arg-type]
            pw, p_text = _clean(p, "prediction", lineno)  # type: ignore[arg-type]
        if g_text != p_text:
            mismatched.append(lineno)
            continue
        if tagged:
            n_tagged_correct += len(set(zip(_spans(pw), pt)).intersection(zip(_spans(gw), gt)))

        g_spans = _spans(gw)
        p_spans = set(_spans(pw))
        n_gold += len(gw)
        n_pred += len(pw)
        if vocab is None:
            n_correct += len(p_spans.intersection(g_spans))
        else:
            for w, sp in zip(gw, g_spans):
                hit = sp in p_spans
                n_correct += hit
                if w not in vocab:
                    n_oov += 1
                    n_oov_correct += hit

    precision = _ratio(n_correct, n_pred)
    recall = _ratio(n_correct, n_gold)
    f1 = _ratio(2 * precision * recall, precision + recall)

    oov_rate = oov_recall = iv_recall = None
    if vocab is not None:
        oov_rate = _ratio(n_oov, n_gold)
        oov_recall = _ratio(n_oov_correct, n_oov)
        iv_recall = _ratio(n_correct - n_oov_correct, n_gold - n_oov)

    tag_scores: dict[str, Any] = {}
    if tagged:
        pos_precision = _ratio(n_tagged_correct, n_pred)
        pos_recall = _ratio(n_tagged_correct, n_gold)
        tag_scores = dict(pos_correct=n_tagged_correct, pos_precision=pos_precision, pos_recall=pos_recall,
                          pos_f1=_ratio(2 * pos_precision * pos_recall, pos_precision + pos_recall),
                          tag_accuracy=_ratio(n_tagged_correct, n_correct))

    return Scores(
        gold_words=n_gold,
        pred_words=n_pred,
        correct=n_correct,
        precision=precision,
        recall=recall,
        f1=f1,
        oov_rate=oov_rate,
        oov_recall=oov_recall,
        iv_recall=iv_recall,
        mismatched_lines=tuple(mismatched),
        **tag_scores,
    )


def mean_word_length(lines: Iterable[Sequence[str]]) -> float:
    """The lines' characters per word (whitespace aside), 0.0 for no words:
    UNSEGMENTED_WORD_LENGTH or more says a file is not segmented at all."""
    characters = words = 0
    for line in lines:
        for word in line:
            length = len("".join(word.split()))
            characters += length
            words += length > 0
    return _ratio(characters, words)


def format_report(scores: Scores) -> str:
    """A small aligned human-readable table of ``scores``."""
    rows: list[tuple[str, str]] = [
        ("gold words", str(scores.gold_words)),
        ("predicted words", str(scores.pred_words)),
        ("correct", str(scores.correct)),
        ("precision", f"{scores.precision:.4f}"),
        ("recall", f"{scores.recall:.4f}"),
        ("F1", f"{scores.f1:.4f}"),
    ]
    for label, value in (
        ("OOV rate", scores.oov_rate),
        ("OOV recall", scores.oov_recall),
        ("IV recall", scores.iv_recall),
    ):
        if value is not None:
            rows.append((label, f"{value:.4f}"))
    if scores.pos_correct is not None:
        rows += [
            ("correct with tag", str(scores.pos_correct)),
            ("joint precision", f"{scores.pos_precision:.4f}"),
            ("joint recall", f"{scores.pos_recall:.4f}"),
            ("joint F1", f"{scores.pos_f1:.4f}"),
            ("tag accuracy", f"{scores.tag_accuracy:.4f}"),
        ]
    rows.append(("mismatched lines", str(len(scores.mismatched_lines))))

    label_w = max(len(label) for label, _ in rows)
    value_w = max(len(value) for _, value in rows)
    out = [f"{label:<{label_w}}  {value:>{value_w}}" for label, value in rows]

    mm = scores.mismatched_lines
    if mm:
        listed = ", ".join(str(n) for n in mm[:_MAX_LISTED_MISMATCHES])
        more = len(mm) - _MAX_LISTED_MISMATCHES
        if more > 0:
            listed += f" \u2026 and {more} more"
        lines = "line" if len(mm) == 1 else "lines"
        out.append(f"not scored (the text differs between gold and prediction): {lines} {listed}")
    return "\n".join(out) + "\n"
