"""Atoms: spans of a line that are never split inside.

Latin words, numbers, URLs, e-mail addresses, dates, phone numbers, clock
times and emoji sequences are found by one compiled regular expression over
the lookup form of the text (full-width forms already folded to ASCII, see
encode.py), and constrained on the tag scores the way a forbidden dictionary
word is: inside an atom no position but the first may begin a word and no
position but the last may end one. Whether an atom joins a neighbouring Han
character (2024年, A股, 卡拉OK) stays the model's and the dictionary's
decision. A forced dictionary word wins over any atom it overlaps.

Not atoms, because the annotated corpora cut them: @mentions, #hashtags#,
runs of punctuation.
"""

from __future__ import annotations

import re

import numpy as np

from .decode import B, E, S

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_URL_END = r"[A-Za-z0-9/_\-=#%&~+]"  # a URL does not end in . , ; : ) and the like
_COMPONENT = r"[A-Za-z0-9]+(?:\.[0-9]+[A-Za-z0-9]*)*"  # iPhone15, 3.5G

#: (name, pattern, examples) in the order they are tried at each position.
PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("url", rf"(?:https?://|ftp://|www\.){_URL_CHARS}*{_URL_END}", "https://www.cc98.org/topic/123"),
    ("email", r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+", "name@example.com"),
    # Three or more groups: a phone number or a date; two (1993-2013) are a range.
    ("digit groups", r"[0-9]+(?:-[0-9]+){2,}|[0-9]+(?:/[0-9]+){2,}", "138-0013-8000, 2024/1/5"),
    ("clock time", r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?![0-9])", "19:30:05"),
    # Letters with digits, inner hyphens or apostrophes: at least one letter.
    ("latin word", rf"(?=[0-9.]*[A-Za-z]){_COMPONENT}(?:['’\-]{_COMPONENT})*", "GPT-4o, don't, 5G"),
    ("number", r"(?<![0-9A-Za-z.])[+\-]?(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)*%?",
     "1,299.00, -3.5%"),
    ("emoji sequence",
     "[\U0001F1E6-\U0001F1FF\U0001F300-\U0001FAFF\u2600-\u27BF]"
     "(?:[\uFE0E\uFE0F\U0001F3FB-\U0001F3FF\u20E3]"
     "|\u200D[\U0001F300-\U0001FAFF\u2600-\u27BF])*",
     "👨\u200d👩\u200d👧"),
)

# The lookahead on an atom's possible first characters lets most positions
# of Chinese text fail at one set test instead of one per pattern (8x faster).
_FIRST = "[0-9A-Za-z._%+\\-\u2600-\u27BF\U0001F1E6-\U0001FAFF]"
_ATOM = re.compile(f"(?={_FIRST})(?:" + "|".join(f"(?:{pattern})" for _, pattern, _ in PATTERNS) + ")")

#: Added to a tag that an atom rules out (as a forbidden dictionary word is).
HARD = 1e4


def find(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the atoms of two or more characters in `text` (its lookup form)."""
    bounds = [m.span() for m in _ATOM.finditer(text) if m.end() - m.start() > 1]
    if not bounds:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    spans = np.array(bounds, dtype=np.int64)
    return spans[:, 0], spans[:, 1]


def constrain(scores: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Rules out, in place, every cut inside the atoms [starts[k], ends[k])."""
    if not len(starts):
        return
    lengths = ends - starts
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    positions = np.repeat(starts, lengths) + offsets
    last = offsets == np.repeat(lengths - 1, lengths)
    scores[positions, S] -= HARD  # a word of one character would cut the atom
    scores[positions[offsets > 0], B] -= HARD  # only the first may begin a word
    scores[positions[~last], E] -= HARD  # only the last may end one


def without_overlaps(starts: np.ndarray, ends: np.ndarray, taken_starts: np.ndarray,
                     taken_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The atoms that overlap none of the spans [taken_starts[k], taken_ends[k])
    (forced dictionary words, which win). Both lists are sorted and the taken
    spans do not overlap each other."""
    if not len(starts) or not len(taken_starts):
        return starts, ends
    # The first taken span ending after each atom's start overlaps it if it
    # starts before the atom's end.
    k = np.searchsorted(taken_ends, starts, side="right")
    overlaps = np.zeros(len(starts), dtype=bool)
    inside = k < len(taken_starts)
    overlaps[inside] = taken_starts[k[inside]] < ends[inside]
    return starts[~overlaps], ends[~overlaps]


def describe() -> str:
    """One line per pattern with an example, for --help and the README."""
    return "\n".join(f"  {name}: {examples}" for name, _, examples in PATTERNS)
