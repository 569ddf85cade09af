"""What a compiled dictionary's matches do to the tag scores (the hard part
of segcli.dictionary's "hard decoding"), and which words a model knows.

Listed words stick
------------------
Every character a listed occurrence of two or more characters covers gets
``LISTED_PENALTY`` off each tag that no occurrence covering it needs, where
the occurrences are the listed ones and the pieces: one-character listed
words and the words the dictionary does not discourage (multiplier >= 1,
jieba frequency lines of words the model knows among them).  So every way of
cutting a cluster of overlapping listed words into such words costs nothing,
any other costs the penalty, and the model's own scores choose among the
free ones; an occurrence that overlaps no other is cut whole.  A piece adds
its tags only where listed words cover: alone, a one-character word's "cut
me alone" would shred the words around it.  The penalty is below HARD, so
atoms, forced and forbidden words win over a listed word.  Measured against
taking overlapping listed words leftmost first, then longest (forward
maximum matching, ``LISTED_OVERLAPS = "leftmost"``): see
benchmarks/experiments/jieba_dict.md.

Forced words
------------
Every accepted forced occurrence is cut exactly so: each of its characters
gets every tag other than the required one lowered to at most ``required -
HARD``.  Overlapping forced occurrences are resolved leftmost first, then
longest; one that overlaps an accepted one is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .decode import B, E, HARD, M, S
from .encode import UNK, codepoints

#: How far a listed word's characters' other tags are put below the tags it
#: needs: beyond any difference of the model's log-scores and any finite
#: log-multiplier (under 710), below HARD, so atoms, forced and forbidden
#: words win over a listed one.
LISTED_PENALTY = HARD / 5

#: How overlapping listed occurrences are resolved: "tiling" (the model picks
#: among the ways listed words can cover them) or "leftmost" (leftmost first,
#: then longest, as forced words: forward maximum matching); see _apply_listed
#: and benchmarks/experiments/jieba_dict.py.
LISTED_OVERLAPS = "tiling"


def in_lookup_form(vocab, entries: Mapping[str, object]) -> dict[str, object]:
    """``entries`` with their words in the lookup form of ``vocab`` (where
    the text is matched), in one pass over all the words: they hold no
    whitespace, and no lookup form is one; a million-word dictionary must
    not cost a million calls."""
    words = vocab.lookup_form("\n".join(entries)).split("\n") if entries else []
    return dict(zip(words, entries.values()))


def model_knows(vocab) -> Callable[[list[str]], np.ndarray]:
    """A function telling, for words, whether the model behind ``vocab``
    knows each as a word: one of its training words or of the lexicon its
    word-match features read (jieba's dictionary for the shipped model), the
    only words it was shown as words.  Decides jieba frequency lines
    (dictfile.COUNTED): a count says how common a word is, which such a
    model has learned for the words it knows."""

    longest = max([*vocab.word_keys, *vocab.lexicon_keys], default=0)

    def knows(words: list[str]) -> np.ndarray:
        result = listed_in_model(words)
        # Longer words than the model's lists hold: known where they are made
        # of words it knows (中华人民共和国: 中华 人民 共和国), which it cuts as its
        # standard does.
        longer = [i for i, word in enumerate(words) if len(word) > longest]
        if longer and longest >= 2:
            parts = {w[a:b] for i in longer for w in (words[i],) for a in range(len(w))
                     for b in range(a + 2, min(a + longest, len(w)) + 1)}
            parts = list(parts)
            known_parts = {w for w, k in zip(parts, listed_in_model(parts).tolist()) if k}
            for i in longer:
                result[i] = _made_of(words[i], known_parts, longest)
        return result

    def listed_in_model(words: list[str]) -> np.ndarray:
        result = np.zeros(len(words), dtype=bool)
        if not words:
            return result
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        ids = vocab.char_ids_of(vocab.lookup_codepoints(codepoints("".join(words))))
        first = np.cumsum(lengths) - lengths
        for n in sorted(set(vocab.word_keys) | set(vocab.lexicon_keys)):
            which = np.flatnonzero(lengths == n)
            if not len(which):
                continue
            chars = ids[first[which][:, None] + np.arange(n)]
            key = np.zeros(len(which), dtype=np.int64)
            for column in chars.T:  # the key of word_keys_of: ids as digits in base vocab.size
                key = key * vocab.size + column
            keys = np.concatenate([vocab.word_keys.get(n, _NO_KEYS), vocab.lexicon_keys.get(n, _NO_KEYS)])
            keys.sort()
            at = np.minimum(np.searchsorted(keys, key), max(len(keys) - 1, 0))
            result[which] = (keys[at] == key) & (chars != UNK).all(axis=1) if len(keys) else False
        return result

    return knows


_NO_KEYS = np.empty(0, dtype=np.int64)


def _made_of(word: str, parts: set[str], longest: int) -> bool:
    """Whether ``word`` is a sequence of ``parts`` (each 2 to ``longest`` characters)."""
    reachable = [True] + [False] * len(word)
    for end in range(2, len(word) + 1):
        reachable[end] = any(reachable[start] and word[start:end] in parts
                             for start in range(max(0, end - longest), end - 1))
    return reachable[-1]


def _required_tags(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, tag) of every character of the occurrences text[starts[k]:
    starts[k] + lengths[k]], the tag being the one that cuts it whole."""
    total = int(lengths.sum())
    offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    pos = np.repeat(starts, lengths) + offs
    wlen = np.repeat(lengths, lengths)
    req = np.full(total, M, dtype=np.int64)
    req[offs == 0] = B
    req[offs == wlen - 1] = E
    req[wlen == 1] = S
    return pos, req


def _leftmost_longest(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The occurrences kept when those that overlap are taken leftmost
    first, then longest, and whatever overlaps a kept one is dropped."""
    order = np.lexsort((-lengths, starts))
    acc_start: list[int] = []
    acc_len: list[int] = []
    free_from = -1
    for st, ln in zip(starts[order].tolist(), lengths[order].tolist()):
        if st >= free_from:
            acc_start.append(st)
            acc_len.append(ln)
            free_from = st + ln
    return np.asarray(acc_start, dtype=np.int64), np.asarray(acc_len, dtype=np.int64)


def apply_listed(scores: np.ndarray, starts: np.ndarray, lengths: np.ndarray, piece_starts: np.ndarray,
                  piece_lengths: np.ndarray) -> None:
    """Listed occurrences ``text[starts[k]:starts[k] + lengths[k]]`` stick.

    Every character covered by a listed word of two or more characters gets
    LISTED_PENALTY off each tag that no occurrence covering it needs, where
    the occurrences are the listed ones and the pieces (one-character listed
    words, and words the dictionary does not discourage): so every way of
    cutting a cluster of overlapping listed words into such words costs
    nothing, any other costs the penalty, and the model's own scores choose
    among the free ones.  An occurrence that overlaps no other is therefore
    cut whole.  A piece adds its tags only where listed words cover (alone,
    a one-character word's "cut me alone" would shred the words around it).
    With LISTED_OVERLAPS = "leftmost" only the leftmost-longest listed
    occurrences count, and no pieces."""
    multi = lengths > 1
    if not multi.any():
        return
    starts, lengths = starts[multi], lengths[multi]
    if LISTED_OVERLAPS == "leftmost":
        starts, lengths = _leftmost_longest(starts, lengths)
        piece_starts = piece_starts[:0]
    pos, req = _required_tags(starts, lengths)
    if len(piece_starts):
        covered = np.zeros(len(scores), dtype=bool)
        covered[pos] = True
        # Most of a large dictionary's matches touch no listed word: their
        # characters are not looked at one by one.
        covered_before = np.concatenate([[0], np.cumsum(covered)])
        touches = covered_before[piece_starts + piece_lengths] > covered_before[piece_starts]
        piece_starts, piece_lengths = piece_starts[touches], piece_lengths[touches]
        piece_pos, piece_req = _required_tags(piece_starts, piece_lengths)
        inside = covered[piece_pos]
        pos = np.concatenate([pos, piece_pos[inside]])
        req = np.concatenate([req, piece_req[inside]])
    where, row = np.unique(pos, return_inverse=True)
    needed = np.zeros((len(where), 4), dtype=bool)
    needed[row, req] = True
    scores[where] -= np.where(needed, np.float32(0.0), np.float32(LISTED_PENALTY))


def apply_forced(scores: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    st, ln = _leftmost_longest(starts, lengths)
    total = int(ln.sum())
    # Positions covered by accepted occurrences (disjoint, so unique).
    pos, req = _required_tags(st, ln)
    rows = scores[pos]
    cap = rows[np.arange(total), req] - HARD
    required = rows[np.arange(total), req].copy()
    np.minimum(rows, cap[:, None], out=rows)
    rows[np.arange(total), req] = required
    scores[pos] = rows
    return st, st + ln
