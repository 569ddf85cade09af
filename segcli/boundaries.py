"""Boundaries: where two neighbouring characters never share a word.

Rules of the text rather than of a standard (one measured exception below),
applied on the tag scores after the dictionary and the atoms (a required cut
between i and i + 1: i may only end a word, i + 1 only begin one):

- punctuation and symbols (Unicode P* and S*) never join a word character
  (Han, Latin, digit or another letter), and two different punctuation
  characters never join each other, nor do repeated sentence and clause
  marks (！！！, 。。。, ？？, ，，: a token each, as weibo, sxu and ctb write
  them). Other runs of one character (——, ……, ..., ～～) are left to the
  model: the annotated corpora disagree on them by standard.
- an emoji never joins anything but the rest of its own sequence (an atom),
  a keycap (0️⃣, #️⃣) included.
- a Latin letter and a Han character never join, unless a known word spans
  them: a training word of any standard or a word of the model's open
  lexicon (its word-match keys), or a dictionary word (A股, T恤, 卡拉OK).
  Nor do a Latin word's last digit and the Han after it (Q3|财报, Win10|系统;
  but 歼7E, 阿里安4L: a digit that begins one is the model's).

Exempt: the inside of atoms (URLs, C++, GPT-4o) and of dictionary words.

Exceptions measured on the annotated corpora (benchmarks/experiments/boundaries.md),
where annotators join what the rule would cut:

- connectors (- – — · • / & _ ' ’ . ~ + ×) are left to the model between two
  word characters: 道—琼斯, 铁木尔·达瓦买提, 元／平方米, Node.js, AT&T, ２·１３;
  but a dot between a Latin letter and a Han character ends an abbreviation
  (i.e.即, U.S.A.的).
  A slash that begins or ends an atom (a path) next to Han cuts there
  (见|/usr/bin, /data/|目录); 元/KG is the model's.
- : ∶ between two digits (3∶0, 3:1), and units and currency signs next to
  a digit (２‰, 28℃, ¥99) are left to the model.
- ○ is a Han character (二○○一年).
- under the pku standard, ASCII square brackets around three or more
  characters (none of them ASCII; not a markdown link's text) are left to the
  model: People's Daily 1998 marks compound names so ([中央 人民 广播 电台])
  and its text keeps the brackets on the words.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata

import numpy as np

from . import _core
from .atoms import EMOJI_PRESENTATION
from .decode import HARD
from .encode import UNK, Vocab, from_codepoints

# Character classes. NONE: no rule on either side (whitespace, control,
# unassigned, private use). MARK: combining marks, variation selectors and
# joiners, which belong to the character before them.
# UNKNOWN: not classified yet (0, so that the table starts as zeroed memory
# the system hands over untouched). csrc/atoms.c numbers them alike.
# KEYCAP: U+20E3, a mark that makes its digit, # or * an emoji (0️⃣).
UNKNOWN, NONE, HAN, LATIN, DIGIT, LETTER, PUNCT, CONNECTOR, DIGIT_CONNECTOR, UNIT, EMOJI, MARK, KEYCAP = range(13)

# In their lookup form: full-width ASCII is folded to ASCII already.
CONNECTORS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212·\u2022\u2027\u2219\u30fb/&_'\u2019.~+×"
DIGIT_CONNECTORS = ":\u2236"
# Format characters (Cf) that stand for a space, not a mark: a zero-width
# space (text pasted from web pages) is a word boundary, so a token of its
# own, never dropped (the output keeps every character) nor joined to a
# word. The other format characters stay marks of the character before:
# ZWJ, ZWNJ, the soft hyphen, direction marks, and the word joiner U+2060
# and U+FEFF inside a line (its deprecated twin, "zero width no-break
# space"; a BOM that starts a joined file goes with the line's first word).
INVISIBLE_SPACES = "\u200b"
# Sentence and clause marks (full-width folded) that stay apart when repeated:
# weibo writes ！！！ 。。。 ？？？ a token each (88 of 91 runs), sxu ，， and ctb
# 、、 likewise; the other corpora have none (csrc/atoms.c's REPEATS_APART).
REPEATS_APART = "!?,\u3002\u3001"
UNITS = "%\u2030\u2031\u2103\u2109°\u2032\u2033$¥£€\uffe5\uffe0\uffe1"

_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F), (0x3007, 0x3007),
               (0x25CB, 0x25CB))
_EMOJI_RANGES = ((0x1F000, 0x1FAFF), *EMOJI_PRESENTATION)

# Up to the last Han character; past it, every code point is NONE (the C
# loop's answer past the table; _classes' too).
_CLASS = np.zeros(0x31350, dtype=np.uint8)  # filled in as code points are first seen (see _classes)
for _first, _last in _HAN_RANGES:
    _CLASS[_first : _last + 1] = HAN
for _first, _last in _EMOJI_RANGES:
    _CLASS[_first : _last + 1] = EMOJI
del _first, _last
_CLASS[0xD800:0xE000] = NONE  # lone surrogates: bytes that were not UTF-8, passed through


def _class_of(cp: int) -> int:
    if cp == 0x20E3:
        return KEYCAP
    char = chr(cp)
    if char in CONNECTORS:
        return CONNECTOR
    if char in DIGIT_CONNECTORS:
        return DIGIT_CONNECTOR
    if char in UNITS:
        return UNIT
    if "0" <= char <= "9":
        return DIGIT
    category = unicodedata.category(char)
    if category[0] in "PS" or char in INVISIBLE_SPACES:
        return PUNCT
    if category in ("Mn", "Me", "Cf"):
        return MARK
    if category[0] == "L":
        return LATIN if unicodedata.name(char, "").startswith("LATIN") else LETTER
    if category[0] == "N":
        return LETTER
    return NONE


_ASCII = np.array([_class_of(cp) if chr(cp).isprintable() and cp != 0x20 else NONE for cp in range(0x80)],
                  dtype=np.uint8)
_CLASS[:0x80] = _ASCII
_class_lock = threading.Lock()


def _classes(folded: np.ndarray) -> np.ndarray:
    """The class of each code point. unicodedata is asked only about code
    points not seen before (asking it of every one at import cost ~30 ms)."""
    inside = folded < len(_CLASS)
    classes = np.where(inside, _CLASS[np.where(inside, folded, 0)], NONE).astype(np.uint8)
    unknown = classes == UNKNOWN
    if unknown.any():
        new = np.unique(folded[unknown])
        with _class_lock:
            _CLASS[new] = [_class_of(int(cp)) for cp in new]
        classes[unknown] = _CLASS[folded[unknown]]
    return classes


class Rules:
    """Which rules apply (all by default); the experiment switches them one by one."""

    def __init__(self, punctuation: bool = True, emoji: bool = True, punctuation_runs: bool = True,
                 latin_han: bool = True, pku_brackets: bool = True):
        self.punctuation = punctuation
        self.emoji = emoji
        self.punctuation_runs = punctuation_runs
        self.latin_han = latin_han
        self.pku_brackets = pku_brackets  # the exception for People's Daily's brackets, under pku

    def bits(self, standard: str) -> int:
        """The rules as csrc/atoms.c's bits (R_PUNCTUATION ...)."""
        return (self.punctuation | self.punctuation_runs << 1 | self.emoji << 2 | self.latin_han << 3
                | (self.pku_brackets and standard == "pku") << 4)


ALL = Rules()

# Under pku: an ASCII [ ... ] around 3+ characters (People's Daily 1998
# markup); never around ASCII, nor a markdown link's text ([关于博主](url)).
_MARKUP = re.compile(r"\[[^\[\]\s\x21-\x7e]{3,}\](?!\()")
_NO_SPANS = np.empty(0, dtype=np.int64)


def pair_cuts(folded: np.ndarray, cps: np.ndarray, bits: int, atom_starts: np.ndarray, atom_ends: np.ndarray,
              span_starts: np.ndarray = _NO_SPANS, span_ends: np.ndarray = _NO_SPANS) -> tuple[np.ndarray, np.ndarray]:
    """(cuts, deferred): the pairs (i, i + 1) the rules keep apart outside the
    atoms (sorted, apart) and the spans (any order, may overlap), by i;
    deferred: those this module decides (Latin|Han, pku brackets). One C
    pass (csrc/atoms.c); numpy took ~50 ns a character, 6% of a run."""
    folded = np.ascontiguousarray(folded, dtype=np.uint32)
    cps = np.ascontiguousarray(cps, dtype=np.uint32)
    atom_starts = np.ascontiguousarray(atom_starts, dtype=np.int64)
    atom_ends = np.ascontiguousarray(atom_ends, dtype=np.int64)
    order = np.argsort(span_starts, kind="stable")
    span_starts = np.ascontiguousarray(np.asarray(span_starts, dtype=np.int64)[order])
    span_reach = np.ascontiguousarray(np.maximum.accumulate(np.asarray(span_ends, dtype=np.int64)[order]))
    cuts = np.empty(len(folded), dtype=np.int64)
    deferred = np.empty(len(folded), dtype=np.int64)
    while True:
        ncuts, ndeferred, unknown = _core.boundary_cuts(folded, cps, _CLASS, bits, atom_starts, atom_ends,
                                                        span_starts, span_reach, cuts, deferred)
        if not unknown:
            return cuts[:ncuts], deferred[:ndeferred]
        _classes(folded)  # classifies the code points not seen before, then once more


def required_cuts(folded: np.ndarray, cps: np.ndarray, vocab: Vocab, standard: str, atom_starts: np.ndarray,
                  atom_ends: np.ndarray, rules: Rules = ALL, span_starts: np.ndarray = _NO_SPANS,
                  span_ends: np.ndarray = _NO_SPANS) -> np.ndarray:
    """The positions i (sorted) where a word must end, i.e. i and i + 1 may not
    share a word, outside the atoms (sorted, apart) and the spans (dictionary
    words; any order, may overlap)."""
    groups = _cut_groups(folded, cps, vocab, standard, atom_starts, atom_ends, rules, span_starts, span_ends)
    return np.sort(np.concatenate(groups)) if len(groups) > 1 else groups[0]


def _cut_groups(folded: np.ndarray, cps: np.ndarray, vocab: Vocab, standard: str, atom_starts: np.ndarray,
                atom_ends: np.ndarray, rules: Rules, span_starts: np.ndarray, span_ends: np.ndarray
                ) -> list[np.ndarray]:
    """required_cuts as arrays apart from each other, each sorted (no sorting
    of them all for the segmenter, which applies each)."""
    cuts, deferred = pair_cuts(folded, cps, rules.bits(standard), atom_starts, atom_ends, span_starts, span_ends)
    groups = [cuts]
    if len(deferred):
        brackets = (cps[deferred] == 0x5B) | (cps[deferred + 1] == 0x5D)
        groups.append(_outside_markup(deferred[brackets], cps))
        junctions = deferred[~brackets]
        groups.append(junctions[~_known_words_span(folded, junctions, vocab)])
    return groups


def _outside_markup(at: np.ndarray, cps: np.ndarray) -> np.ndarray:
    """The pairs at `at` (each next to an ASCII bracket) that are no edge of
    People's Daily 1998's markup ([中央人民广播电台]: the corpus keeps the
    brackets on the words), under pku."""
    if not len(at):
        return at
    text = from_codepoints(cps)
    edges = {i for match in _MARKUP.finditer(text) for i in (match.start(), match.end() - 2)}
    return at[[i not in edges for i in at.tolist()]]


def _known_words_span(folded: np.ndarray, at: np.ndarray, vocab: Vocab) -> np.ndarray:
    """For each pair (at[k], at[k] + 1): does a known word of 2..5 characters
    (a training word of any standard or a lexicon word, as the model's
    word-match features know them) span it."""
    keys, segments = _sorted_keys(vocab)
    covered = np.zeros(len(at), dtype=np.uint8)
    if not len(at) or not len(segments):
        return covered.view(bool)
    longest = int(segments[:, 0].max())
    # The ids of the characters around each pair, the pair's first at column
    # longest - 2; a position outside the text is UNK, in no known word.
    positions = at[:, None] + np.arange(2 - longest, longest)
    ids = vocab.char_ids_of(folded[np.clip(positions, 0, len(folded) - 1)])
    ids[(positions < 0) | (positions >= len(folded))] = UNK
    _core.known_spans(np.ascontiguousarray(ids, dtype=np.int64), ids.shape[1], longest - 2, vocab.size, keys,
                      segments, covered)
    return covered.view(bool)


@functools.lru_cache(maxsize=8)
def _sorted_keys(vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """The training words' and the lexicon's keys (see Vocab.word_keys_of)
    in one array, and a row (length, start, end) for each sorted slice of
    them (as word_keys_of stores them; sorted here where they are not)."""
    parts, segments, at = [], [], 0
    for group in (vocab.word_keys, vocab.lexicon_keys):
        for length, part in group.items():
            if len(part) and length >= 2:
                part = np.ascontiguousarray(part, dtype=np.int64)
                parts.append(part if (part[1:] >= part[:-1]).all() else np.sort(part))
                segments.append((length, at, at + len(part)))
                at += len(part)
    keys = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    return keys, np.array(segments, dtype=np.int64).reshape(-1, 3)


def constrain(scores: np.ndarray, cuts: np.ndarray) -> None:
    """Rules out, in place, the tags that would join i and i + 1 for each i in
    `cuts`, on float32 (N, 4) C-contiguous scores: b and m at i, m and e at i + 1."""
    if scores.dtype != np.float32 or scores.ndim != 2 or scores.shape[1] != 4 or not scores.flags.c_contiguous:
        raise ValueError(f"scores: expected C-contiguous float32 (N, 4), got {scores.dtype} {scores.shape}")
    _core.require_cuts(scores, np.ascontiguousarray(cuts, dtype=np.int64), HARD)


def apply(scores: np.ndarray, folded: np.ndarray, cps: np.ndarray, vocab: Vocab, standard: str,
          atoms: tuple[np.ndarray, np.ndarray], spans: tuple[np.ndarray, np.ndarray], rules: Rules = ALL) -> None:
    """The segmenter's entry point: rules out every required cut's joining
    tags but those inside the atoms (starts, ends: sorted, apart) and inside
    the spans (dictionary words: starts, ends)."""
    for cuts in _cut_groups(folded, cps, vocab, standard, *atoms, rules, *spans):
        constrain(scores, cuts)
