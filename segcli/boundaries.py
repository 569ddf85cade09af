"""Boundaries: where two neighbouring characters never share a word.

A rule of the text, not of any standard, applied on the tag scores after the
dictionary and the atoms (a required cut between i and i + 1: i may only
end a word, i + 1 only begin one):

- punctuation and symbols (Unicode P* and S*) never join a word character
  (Han, Latin, digit or another letter), and two different punctuation
  characters never join each other. Runs of one character (——, ……, ...)
  are left to the model: the annotated corpora disagree on them.
- an emoji never joins anything but the rest of its own sequence (an atom).
- a Latin letter and a Han character never join, unless a known word spans
  them: a training word of any standard or a word of the model's open
  lexicon (its word-match keys), or a dictionary word (A股, T恤, 卡拉OK).

Exempt: the inside of atoms (URLs, C++, GPT-4o) and of dictionary words.

Exceptions measured on the annotated corpora (benchmarks/experiments/boundaries.md),
where annotators join what the rule would cut:

- connectors (- – — · • / & _ ' ’ . ~ + ×) are left to the model between two
  word characters: 道—琼斯, 铁木尔·达瓦买提, 元／平方米, Node.js, AT&T, ２·１３.
- : ∶ between two digits (3∶0, 3:1), and units and currency signs next to
  a digit (２‰, 28℃, ¥99) are left to the model.
- ○ is a Han character (二○○一年).
- under the pku standard, ASCII square brackets around three or more
  characters are left to the model: People's Daily 1998 marks compound names
  so ([中央 人民 广播 电台]) and its text keeps the brackets on the words.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Callable

import numpy as np

from .decode import B, E, HARD, M
from .encode import Vocab, from_codepoints

# Character classes. NONE: no rule on either side (whitespace, control,
# unassigned, private use). MARK: combining marks, variation selectors and
# joiners, which belong to the character before them.
NONE, HAN, LATIN, DIGIT, LETTER, PUNCT, CONNECTOR, DIGIT_CONNECTOR, UNIT, EMOJI, MARK, UNKNOWN = range(12)
_WORD = (HAN, LATIN, DIGIT, LETTER)
_PUNCT = (PUNCT, CONNECTOR, DIGIT_CONNECTOR, UNIT)

# In their lookup form: full-width ASCII is folded to ASCII already.
CONNECTORS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212·\u2022\u2027\u2219\u30fb/&_'\u2019.~+×"
DIGIT_CONNECTORS = ":\u2236"
UNITS = "%\u2030\u2031\u2103\u2109°\u2032\u2033$¥£€\uffe5\uffe0\uffe1"

_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F), (0x3007, 0x3007),
               (0x25CB, 0x25CB))
_EMOJI_RANGES = ((0x1F000, 0x1FAFF),)

_SIZE = 0x110000
_CLASS = np.full(_SIZE, UNKNOWN, dtype=np.uint8)  # filled in as code points are first seen (see _classes)
_CLASS[0x00:0x80] = NONE
for _first, _last in _HAN_RANGES:
    _CLASS[_first : _last + 1] = HAN
for _first, _last in _EMOJI_RANGES:
    _CLASS[_first : _last + 1] = EMOJI
del _first, _last
_CLASS[0xD800:0xE000] = NONE  # lone surrogates: bytes that were not UTF-8, passed through


def _class_of(cp: int) -> int:
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
    if category[0] in "PS":
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
_IS_WORD = np.zeros(UNKNOWN + 1, dtype=bool)
_IS_WORD[list(_WORD)] = True
_IS_PUNCT = np.zeros(UNKNOWN + 1, dtype=bool)
_IS_PUNCT[list(_PUNCT)] = True
_class_lock = threading.Lock()


def _classes(folded: np.ndarray) -> np.ndarray:
    """The class of each code point. unicodedata is asked only about code
    points not seen before (asking it of every one at import cost ~30 ms)."""
    classes = _CLASS[folded]
    unknown = classes == UNKNOWN
    if unknown.any():
        new = np.unique(folded[unknown])
        with _class_lock:
            _CLASS[new] = [_class_of(int(cp)) for cp in new]
        classes = _CLASS[folded]
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


ALL = Rules()

# Under pku: an ASCII [ ... ] around 3+ characters (People's Daily 1998 markup).
_MARKUP = re.compile(r"\[[^\[\]\s]{3,}\]")


def required_cuts(folded: np.ndarray, cps: np.ndarray, vocab: Vocab, standard: str, atom_starts: np.ndarray,
                  atom_ends: np.ndarray, rules: Rules = ALL) -> np.ndarray:
    """The positions i (sorted) where a word must end, i.e. i and i + 1 may not
    share a word, before the exemptions of atoms and dictionary words. The
    atoms (sorted, apart) tell where a dot begins one (.NET)."""
    n = len(folded)
    if n < 2:
        return np.empty(0, dtype=np.int64)
    classes = _classes(np.ascontiguousarray(folded))
    mark = classes == MARK
    # A mark takes the class of its base character, for the pair after it.
    base = classes
    if mark.any():
        last = np.where(mark, 0, np.arange(n))
        np.maximum.accumulate(last, out=last)
        base = classes[last]
    left, right = base[:-1], classes[1:]
    word_left, word_right = _IS_WORD[left], _IS_WORD[right]
    punct_left, punct_right = _IS_PUNCT[left], _IS_PUNCT[right]
    cut = np.zeros(n - 1, dtype=bool)
    if rules.punctuation:
        # What lies beyond each side of the pair: is the character before i
        # (after i + 1) a word character.
        word_before = np.concatenate(([False], _IS_WORD[base[:-2]]))
        word_after = np.concatenate((_IS_WORD[classes[2:]], [False]))
        digit_left, digit_right = left == DIGIT, right == DIGIT
        digit_before = np.concatenate(([False], base[:-2] == DIGIT))
        digit_after = np.concatenate((classes[2:] == DIGIT, [False]))
        punct_then_word = punct_left & word_right & ~(
            ((left == CONNECTOR) & word_before) | ((left == DIGIT_CONNECTOR) & digit_before & digit_right)
            | ((left == UNIT) & digit_right))
        word_then_punct = word_left & punct_right & ~(
            ((right == CONNECTOR) & word_after) | ((right == DIGIT_CONNECTOR) & digit_left & digit_after)
            | ((right == UNIT) & digit_left))
        cut |= punct_then_word | word_then_punct
        # The dot that begins an atom (用.NET写) connects nothing before it.
        if len(atom_starts):
            starts = atom_starts[atom_starts > 0]
            cut[starts[(folded[starts] == 0x2E) & _IS_WORD[base[starts - 1]]] - 1] = True
        if rules.pku_brackets and standard == "pku":
            _keep_markup_brackets(cut, cps)
    if rules.punctuation_runs:
        cut |= punct_left & punct_right & (folded[:-1] != folded[1:])
    if rules.emoji:
        cut |= ((left == EMOJI) & (right != NONE) & (right != MARK)) | ((right == EMOJI) & (left != NONE))
    if rules.latin_han:
        junction = ((left == LATIN) & (right == HAN)) | ((left == HAN) & (right == LATIN))
        if junction.any():
            at = np.flatnonzero(junction)
            cut[at[~_known_words_span(folded, at, vocab)]] = True
    return np.flatnonzero(cut)


def _keep_markup_brackets(cut: np.ndarray, cps: np.ndarray) -> None:
    """Leaves to the model, in place, the cuts inside People's Daily 1998's
    ASCII brackets ([中央人民广播电台]: the corpus keeps them on the words)."""
    brackets = np.flatnonzero(cut & ((cps[:-1] == 0x5B) | (cps[1:] == 0x5D)))
    if not len(brackets):
        return
    text = from_codepoints(cps)
    for match in _MARKUP.finditer(text):
        cut[match.start()] = False
        cut[match.end() - 2] = False


def _known_words_span(folded: np.ndarray, at: np.ndarray, vocab: Vocab) -> np.ndarray:
    """For each pair (at[k], at[k] + 1): does a known word of 2..5 characters
    (a training word of any standard or a lexicon word, as the model's
    word-match features know them) span it."""
    n = len(folded)
    covered = np.zeros(len(at), dtype=bool)
    groups = [vocab.word_keys, vocab.lexicon_keys]
    lengths = sorted({length for group in groups for length in group})
    for length in lengths:
        powers = vocab.size ** np.arange(length - 1, -1, -1, dtype=np.int64)
        for offset in range(length - 1):
            starts = at - offset
            fits = (starts >= 0) & (starts + length <= n)
            positions = np.clip(starts[:, None] + np.arange(length), 0, n - 1)
            ids = vocab.char_ids_of(folded[positions])
            fits &= (ids != 1).all(axis=1)  # an unknown character (or whitespace) is in no known word
            keys = ids @ powers
            for group in groups:
                known = group.get(length)
                if known is not None and len(known):
                    found = np.minimum(np.searchsorted(known, keys), len(known) - 1)
                    covered |= fits & (known[found] == keys)
    return covered


def inside(pairs: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each pair (pairs[k], pairs[k] + 1): do both lie in one span
    [starts[j], ends[j]) (spans sorted by start, possibly overlapping)."""
    if not len(starts) or not len(pairs):
        return np.zeros(len(pairs), dtype=bool)
    order = np.argsort(starts, kind="stable")
    starts, reach = starts[order], np.maximum.accumulate(ends[order])
    k = np.searchsorted(starts, pairs, side="right") - 1
    return (k >= 0) & (reach[np.maximum(k, 0)] >= pairs + 2)


def constrain(scores: np.ndarray, cuts: np.ndarray) -> None:
    """Rules out, in place, the tags that would join i and i + 1 for each i in
    `cuts`, on float32 (N, 4) scores: b and m at i, m and e at i + 1."""
    if not len(cuts):
        return
    scores[cuts, B] -= HARD
    scores[cuts, M] -= HARD
    scores[cuts + 1, M] -= HARD
    scores[cuts + 1, E] -= HARD


def apply(scores: np.ndarray, folded: np.ndarray, cps: np.ndarray, vocab: Vocab, standard: str,
          atoms: tuple[np.ndarray, np.ndarray], exempt: Callable[[], tuple[tuple[np.ndarray, np.ndarray], ...]],
          rules: Rules = ALL) -> None:
    """The segmenter's entry point: rules out every required cut's joining
    tags but those inside the atoms (starts, ends) and inside the spans
    exempt() gives (dictionary words; asked only when a rule applies)."""
    atom_starts, atom_ends = atoms
    cuts = required_cuts(folded, cps, vocab, standard, atom_starts, atom_ends, rules)
    cuts = cuts[~inside(cuts, atom_starts, atom_ends)]
    if len(cuts):
        for starts, ends in exempt():
            cuts = cuts[~inside(cuts, starts, ends)]
    constrain(scores, cuts)
