"""Pure-numpy/Python twins of segcli._core.render_text and words, written
from their contract rather than from the C loops: a word begins at each
non-space position tagged s or b or first after a space (or the line's
start) and ends before the next begin or space; bytes come from Python's
own UTF-8 codec."""

from __future__ import annotations

import numpy as np

S, B = 0, 1


def render_text(cps, tags, space, line_starts, line_ends, delimiter: bytes, word_labels=None,
                labels=()) -> list[bytes] | None:
    """Each line's body, or None where some code point cannot be encoded;
    with word_labels, the batch's j-th word followed by labels[word_labels[j]]."""
    cps, tags, space = np.asarray(cps, np.uint32), np.asarray(tags, np.uint8), np.asarray(space, bool)
    labelled = word_labels is not None and len(word_labels) > 0
    if labelled:
        count = sum(len(_groups(tags, space, a, b)) for a, b in zip(np.asarray(line_starts).tolist(),
                                                                    np.asarray(line_ends).tolist()))
        if count != len(word_labels):
            raise ValueError("word_labels: expected one label a word of the batch")
    suffixes = iter([labels[i] for i in word_labels] if labelled else [])
    bodies = []
    for a, b in zip(np.asarray(line_starts).tolist(), np.asarray(line_ends).tolist()):
        words = _groups(tags, space, a, b)
        try:
            bodies.append(delimiter.join(
                "".join(map(chr, cps[w].tolist())).encode("utf-8", "surrogateescape") + next(suffixes, b"")
                for w in words))
        except UnicodeEncodeError:
            return None
    return bodies


def words(lines, tags, space, line_starts, line_ends) -> list[list[str]]:
    """Each line's words as str, by the same contract as render_text."""
    tags, space = np.asarray(tags, np.uint8), np.asarray(space, bool)
    result = []
    for line, a, b in zip(lines, np.asarray(line_starts).tolist(), np.asarray(line_ends).tolist()):
        groups = _groups(tags, space, a, b)
        result.append(["".join(line[p - a] for p in g.tolist()) for g in groups])
    return result


def _groups(tags, space, a, b) -> list[np.ndarray]:
    """The positions of each word of the line [a, b)."""
    kept = np.flatnonzero(~space[a:b]) + a
    after_space = np.concatenate(([True], space[a:b][:-1]))[kept - a] if len(kept) else kept.astype(bool)
    begins = kept[(tags[kept] <= B) | after_space]
    return np.split(kept, np.searchsorted(kept, begins[1:])) if len(kept) else []
