"""Constrained Viterbi decoding of per-character tag scores.

Policy and validation live here; the loop itself is ``segcli._core``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _core

#: The tag alphabet, owned here: single-character word, begin, middle, end.
#: ``csrc/core.h`` mirrors these values (tests check that they agree).
TAGS = "sbme"
S, B, M, E = 0, 1, 2, 3

#: A line's words as ``[start, end)`` character offsets, in order.
Spans = list[tuple[int, int]]

#: Finite stand-in for ``-log(0)``: a tag ruled out (by an atom or a forbidden
#: dictionary word) gets ``-HARD``; a forced word puts every other tag at least
#: ``HARD`` below the required one.
HARD = 1e4

# LEGAL[i, j]: may tag j follow tag i.  The C loop hard-codes the same table;
# it is exported for callers and tests, read-only so it cannot drift from it.
LEGAL = np.zeros((4, 4), dtype=bool)
for _i, _j in ("ss", "sb", "bm", "be", "mm", "me", "es", "eb"):
    LEGAL[TAGS.index(_i), TAGS.index(_j)] = True
LEGAL.flags.writeable = False
del _i, _j


def _convert(a, dtype, kinds: str, name: str) -> np.ndarray:
    a = np.asarray(a)
    # Refuse lossy casts (float bounds, complex scores) rather than guess;
    # an empty list arrives as float64 and is harmless.
    if a.dtype.kind not in kinds and a.size:
        raise ValueError(f"{name}: unsupported dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=dtype)


def decode(scores: np.ndarray, starts: np.ndarray, ends: np.ndarray,
           transitions: np.ndarray) -> np.ndarray:
    """Best legal tag sequence for each segment ``[starts[k], ends[k])``.

    ``scores`` is (N, 4) log-space emissions, ``transitions`` (4, 4) with
    ``transitions[i, j]`` the score of i -> j on top of the hard constraints.
    Returns uint8 tag ids of length N; rows outside every segment are 0.
    Ties go to the lowest tag index.  Bad bounds raise ValueError.
    """
    scores = _convert(scores, np.float32, "fiu", "scores")
    if scores.ndim != 2 or scores.shape[1] != 4:
        raise ValueError(f"scores: expected shape (N, 4), got {scores.shape}")
    transitions = _convert(transitions, np.float32, "fiu", "transitions")
    if transitions.shape != (4, 4):
        raise ValueError(f"transitions: expected shape (4, 4), got {transitions.shape}")
    starts = _convert(starts, np.int64, "iu", "starts")
    ends = _convert(ends, np.int64, "iu", "ends")
    if starts.ndim != 1 or starts.shape != ends.shape:
        raise ValueError(f"starts, ends: expected equal 1-D shapes, got {starts.shape} and {ends.shape}")
    out = np.zeros(len(scores), dtype=np.uint8)
    _core.viterbi(scores, starts, ends, transitions, out)
    return out


def tags_of(words) -> np.ndarray:
    """The uint8 tags of a sequence of words (s for one character, else b m… e)."""
    lengths = np.fromiter(map(len, words), dtype=np.int64)
    lengths = lengths[lengths > 0]
    tags = np.full(int(lengths.sum()), M, dtype=np.uint8)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    tags[starts] = B
    tags[ends - 1] = E
    tags[starts[lengths == 1]] = S
    return tags


def word_bounds(tags: np.ndarray, inside: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the words a tag sequence spells, as index arrays.
    ``inside`` (bool, same length) restricts both to those positions: the
    segmenter leaves whitespace out of every word."""
    tags = np.asarray(tags)
    begins = tags <= B  # s or b
    finishes = (tags == S) | (tags == E)
    if inside is not None:
        begins &= inside
        finishes &= inside
    return np.flatnonzero(begins), np.flatnonzero(finishes) + 1


def line_words(lines: Sequence[str], tags: np.ndarray, space: np.ndarray, line_starts: np.ndarray,
               line_ends: np.ndarray) -> list[list[str]]:
    """The words of each line of a decoded batch, sliced from the line in
    one C call: lines[k] spans [line_starts[k], line_ends[k]) of the batch's
    tags (one per character) and space (whitespace, in no word). Equal to
    slicing the line at word_bounds(tags, inside=~space) for the decoder's tags."""
    return _core.words(tuple(lines), np.ascontiguousarray(tags, dtype=np.uint8),
                       np.ascontiguousarray(space, dtype=np.uint8), np.ascontiguousarray(line_starts, dtype=np.int64),
                       np.ascontiguousarray(line_ends, dtype=np.int64))


def word_spans(tags: np.ndarray) -> list[tuple[int, int]]:
    """The words of a legal tag sequence as (start, end) offsets; an illegal
    ending (a word left open) still closes at the sequence's end."""
    starts, ends = word_bounds(tags)
    cuts = [0, *ends.tolist()]
    if cuts[-1] != len(tags):
        cuts.append(len(tags))
    return list(zip(cuts, cuts[1:]))


def decode_one(scores: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """``decode`` with the whole of ``scores`` as a single segment."""
    scores = np.asarray(scores)
    n = scores.shape[0] if scores.ndim else 0  # decode() rejects the bad shape
    return decode(scores, np.array([0], np.int64), np.array([n], np.int64), transitions)
