"""Numpy twin of segcli._core.word_tags, as segcli.pos summed a word's
rows before the loop moved to C (csrc/tags.c)."""

import numpy as np


def word_sums(rows: np.ndarray, first_rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The sums of rows[first_rows[k] : first_rows[k] + lengths[k]], each
    added in row order: a step per character position, over the words that long."""
    sums = rows[first_rows]
    longer = np.flatnonzero(lengths > 1)
    offset = 1
    while len(longer):
        sums[longer] += rows[first_rows[longer] + offset]
        offset += 1
        longer = longer[lengths[longer] > offset]
    return sums


def word_tags(rows: np.ndarray, first_rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    return word_sums(rows, first_rows, lengths).argmax(axis=1)
