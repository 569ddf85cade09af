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


def _pair_keys(char_ids: np.ndarray, last: np.ndarray, size: int) -> np.ndarray:
    following = np.empty_like(char_ids)
    following[:-1] = char_ids[1:]
    following[last] = PAD
    return char_ids * size + following


class Vocab:
    """Character and character-bigram ids, as stored beside the model."""

    def __init__(self, chars: str, bigram_keys: np.ndarray):
        self.chars = chars
        self.size = len(chars) + _FIRST_ID
        self.bigram_keys = np.asarray(bigram_keys, dtype=np.int64)
        self.bigram_size = len(self.bigram_keys) + _FIRST_ID
        table = np.full(0x110000, UNK, dtype=np.int64)
        table[codepoints(chars)] = np.arange(_FIRST_ID, self.size)
        table[_FULLWIDTH] = table[_FULLWIDTH - _HALFWIDTH_OFFSET]
        self._table = table

    @classmethod
    def load(cls, model_dir: Path) -> "Vocab":
        chars = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["chars"]
        return cls(chars, np.load(model_dir / "bigrams.npy"))

    def save(self, model_dir: Path) -> None:
        (model_dir / "vocab.json").write_text(
            json.dumps({"chars": self.chars}, ensure_ascii=False), encoding="utf-8"
        )
        np.save(model_dir / "bigrams.npy", self.bigram_keys)

    def char_ids(self, text: str) -> np.ndarray:
        return self._table[codepoints(text)]

    def char_ids_of(self, cps: np.ndarray) -> np.ndarray:
        return self._table[cps]

    def bigram_ids(self, char_ids: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Ids of (char i, char i+1); `last` marks the final char of each sequence,
        whose partner is PAD, so sequences concatenated in one array stay apart."""
        keys = _pair_keys(char_ids, last, self.size)
        pos = np.searchsorted(self.bigram_keys, keys)
        pos_clipped = np.minimum(pos, len(self.bigram_keys) - 1)
        found = self.bigram_keys[pos_clipped] == keys if len(self.bigram_keys) else np.zeros(len(keys), bool)
        return np.where(found, pos + _FIRST_ID, UNK)

    @classmethod
    def build(cls, sequences: list[str], min_char_count: int, min_bigram_count: int) -> "Vocab":
        """Vocabulary of the (normalised) training sequences; rare items stay
        UNK so the model learns what to do with unseen characters."""
        from collections import Counter

        char_counts = Counter("".join(sequences))
        chars = "".join(sorted(c for c, n in char_counts.items() if n >= min_char_count))
        partial = cls(chars, np.empty(0, dtype=np.int64))
        ids = [partial.char_ids(s) for s in sequences if s]
        flat = np.concatenate(ids)
        last = np.cumsum([len(i) for i in ids]) - 1
        keys, counts = np.unique(_pair_keys(flat, last, partial.size), return_counts=True)
        return cls(chars, keys[counts >= min_bigram_count])
