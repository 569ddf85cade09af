"""Encode stage: characters to the model's vocabulary ids.

Lookups go through a codepoint-indexed table so a whole batch is encoded with a
few numpy operations. Normalisation (full-width ASCII to half-width) happens in
the table only: the text itself is never changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

PAD = 0
UNK = 1
_FIRST_ID = 2
_FULLWIDTH = np.arange(0xFF01, 0xFF5F)
_HALFWIDTH_OFFSET = 0xFEE0


def codepoints(text: str) -> np.ndarray:
    # surrogatepass keeps the lone surrogates that surrogateescape decoding
    # produces for invalid UTF-8, so such bytes reach the output unchanged.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def normalize(text: str) -> str:
    """The lookup form of a text: full-width ASCII folded to half-width."""
    return "".join(
        chr(ord(ch) - _HALFWIDTH_OFFSET) if 0xFF01 <= ord(ch) <= 0xFF5E else ch for ch in text
    )


def _ngram_keys(char_ids: np.ndarray, last: np.ndarray, size: int, order: int) -> np.ndarray:
    """Keys of the n-grams starting at each position; past the end of a
    sequence (marked by `last`) PAD stands in, so sequences concatenated in one
    array never share an n-gram."""
    ends = np.flatnonzero(last)
    remaining = ends[np.searchsorted(ends, np.arange(len(char_ids)))] - np.arange(len(char_ids))
    keys = char_ids.copy()
    for k in range(1, order):
        following = np.full_like(char_ids, PAD)
        following[:-k] = char_ids[k:]
        keys = keys * size + np.where(remaining >= k, following, PAD)
    return keys


class Vocab:
    """Character ids and the ids of character n-grams (orders 2, 3, …), as
    stored beside the model."""

    def __init__(self, chars: str, ngram_keys: dict[int, np.ndarray]):
        self.chars = chars
        self.size = len(chars) + _FIRST_ID
        self.ngram_keys = {n: np.asarray(k, dtype=np.int64) for n, k in sorted(ngram_keys.items())}
        table = np.full(0x110000, UNK, dtype=np.int64)
        table[codepoints(chars)] = np.arange(_FIRST_ID, self.size)
        table[_FULLWIDTH] = table[_FULLWIDTH - _HALFWIDTH_OFFSET]
        self._table = table

    @property
    def ngram_sizes(self) -> dict[int, int]:
        return {n: len(k) + _FIRST_ID for n, k in self.ngram_keys.items()}

    @classmethod
    def load(cls, model_dir: Path) -> "Vocab":
        chars = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["chars"]
        with np.load(model_dir / "ngrams.npz") as stored:
            return cls(chars, {int(name.split("_")[1]): stored[name] for name in stored.files})

    def save(self, model_dir: Path) -> None:
        (model_dir / "vocab.json").write_text(
            json.dumps({"chars": self.chars}, ensure_ascii=False), encoding="utf-8"
        )
        np.savez(model_dir / "ngrams.npz", **{f"order_{n}": k for n, k in self.ngram_keys.items()})

    def char_ids(self, text: str) -> np.ndarray:
        return self._table[codepoints(text)]

    def char_ids_of(self, cps: np.ndarray) -> np.ndarray:
        return self._table[cps]

    def ngram_ids(self, char_ids: np.ndarray, last: np.ndarray) -> list[np.ndarray]:
        """For each stored order, the id of the n-gram starting at each char
        (UNK when unseen); `last` marks the final char of each sequence."""
        result = []
        for n, known in self.ngram_keys.items():
            keys = _ngram_keys(char_ids, last, self.size, n)
            pos = np.searchsorted(known, keys)
            found = known[np.minimum(pos, len(known) - 1)] == keys if len(known) else np.zeros(len(keys), bool)
            result.append(np.where(found, pos + _FIRST_ID, UNK))
        return result

    @classmethod
    def build(cls, sequences: list[str], min_char_count: int, orders: tuple[int, ...],
              min_ngram_count: int) -> "Vocab":
        """Vocabulary of the (normalised) training sequences; rare items stay
        UNK so the model learns what to do with unseen ones."""
        from collections import Counter

        char_counts = Counter("".join(sequences))
        chars = "".join(sorted(c for c, n in char_counts.items() if n >= min_char_count))
        partial = cls(chars, {})
        ids = [partial.char_ids(s) for s in sequences if s]
        flat = np.concatenate(ids)
        last = np.zeros(len(flat), dtype=bool)
        last[np.cumsum([len(i) for i in ids]) - 1] = True
        ngram_keys = {}
        for n in orders:
            keys, counts = np.unique(_ngram_keys(flat, last, partial.size, n), return_counts=True)
            ngram_keys[n] = keys[counts >= min_ngram_count]
        return cls(chars, ngram_keys)
