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


def _ngram_keys(char_ids: np.ndarray, last: np.ndarray, size: int, orders) -> dict[int, np.ndarray]:
    """For each order n, the keys of the n-grams starting at each position
    (each order extends the one before); past the end of a sequence (marked by
    `last`) PAD stands in, so sequences concatenated in one array never share
    an n-gram."""
    keys = char_ids.copy()
    ended = last.copy()  # ended[i]: the sequence of i ends before i + k
    result = {}
    for k in range(1, max(orders, default=1)):
        following = np.full_like(char_ids, PAD)
        following[:-k] = char_ids[k:]
        following[ended] = PAD
        keys = keys * size + following
        ended[:-k] |= last[k:]
        if k + 1 in orders:
            result[k + 1] = keys
    return result


class KeyIndex:
    """Positions of int64 keys in a sorted key array, found through an
    open-addressing hash table: a few vectorised probes per lookup instead of
    binary search's ~17 dependent, cache-missing steps."""

    _EMPTY = -1  # keys are never negative
    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing

    def __init__(self, sorted_keys: np.ndarray):
        keys = np.asarray(sorted_keys, dtype=np.int64)
        self._bits = max(4, int(4 * len(keys)).bit_length())  # load factor <= 1/4
        self._mask = (1 << self._bits) - 1
        self._keys = np.full(1 << self._bits, self._EMPTY, dtype=np.int64)
        self._positions = np.zeros(1 << self._bits, dtype=np.int64)
        pending = np.arange(len(keys))
        slots = self._slots(keys)
        while len(pending):  # each round, each free slot takes one contender
            wanted = slots[pending]
            free = self._keys[wanted] == self._EMPTY
            taken, first = np.unique(wanted[free], return_index=True)
            winners = pending[free][first]
            self._keys[taken] = keys[winners]
            self._positions[taken] = winners
            pending = np.setdiff1d(pending, winners, assume_unique=True)
            slots[pending] = (slots[pending] + 1) & self._mask

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        hashed = keys.astype(np.uint64) * self._MULTIPLIER
        return (hashed >> np.uint64(64 - self._bits)).astype(np.int64)

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in the sorted keys, found) for each key."""
        slots = self._slots(keys)
        stored = self._keys[slots]
        found = stored == keys
        positions = self._positions[slots]  # meaningful where found
        # Most keys settle at the first probe; only collisions walk on.
        pending = np.flatnonzero(~found & (stored != self._EMPTY))
        probe = slots[pending]
        while len(pending):
            probe = (probe + 1) & self._mask
            stored = self._keys[probe]
            hit = stored == keys[pending]
            found[pending[hit]] = True
            positions[pending[hit]] = self._positions[probe[hit]]
            go_on = ~hit & (stored != self._EMPTY)
            pending, probe = pending[go_on], probe[go_on]
        return positions, found


class Vocab:
    """What the model's inputs are made of, as stored beside it: character ids,
    the ids of character n-grams (orders 2, 3, …) and the training words that
    give the word-match features."""

    def __init__(self, chars: str, ngram_keys: dict[int, np.ndarray], word_keys: dict[int, np.ndarray]):
        self.chars = chars
        self.size = len(chars) + _FIRST_ID
        self.ngram_keys = {n: np.asarray(k, dtype=np.int64) for n, k in sorted(ngram_keys.items())}
        self.word_keys = {n: np.asarray(k, dtype=np.int64) for n, k in sorted(word_keys.items())}
        self._ngram_index = {n: KeyIndex(k) for n, k in self.ngram_keys.items()}
        self._word_index = {n: KeyIndex(k) for n, k in self.word_keys.items()}
        table = np.full(0x110000, UNK, dtype=np.int64)
        table[codepoints(chars)] = np.arange(_FIRST_ID, self.size)
        table[_FULLWIDTH] = table[_FULLWIDTH - _HALFWIDTH_OFFSET]
        self._table = table

    @property
    def ngram_sizes(self) -> dict[int, int]:
        return {n: len(k) + _FIRST_ID for n, k in self.ngram_keys.items()}

    @property
    def word_feature_count(self) -> int:
        return 2 * len(self.word_keys)

    @classmethod
    def load(cls, model_dir: Path) -> "Vocab":
        chars = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["chars"]
        with np.load(model_dir / "ngrams.npz") as stored:
            tables = {name: stored[name] for name in stored.files}
        pick = lambda prefix: {int(k.split("_")[1]): v for k, v in tables.items() if k.startswith(prefix)}
        return cls(chars, pick("order_"), pick("words_"))

    def save(self, model_dir: Path) -> None:
        (model_dir / "vocab.json").write_text(
            json.dumps({"chars": self.chars}, ensure_ascii=False), encoding="utf-8"
        )
        np.savez(
            model_dir / "ngrams.npz",
            **{f"order_{n}": k for n, k in self.ngram_keys.items()},
            **{f"words_{n}": k for n, k in self.word_keys.items()},
        )

    def char_ids(self, text: str) -> np.ndarray:
        return self._table[codepoints(text)]

    def char_ids_of(self, cps: np.ndarray) -> np.ndarray:
        return self._table[cps]

    def word_keys_of(self, words, max_len: int) -> dict[int, np.ndarray]:
        """Sorted keys of the words of length 2..max_len, skipping words with an
        unknown character (an UNK key would match any unknown character)."""
        if self.size ** max_len >= 2**63:
            raise ValueError(f"words of {max_len} characters overflow 64-bit keys with {self.size} characters")
        by_len: dict[int, list[int]] = {n: [] for n in range(2, max_len + 1)}
        for word in words:
            if 2 <= len(word) <= max_len:
                ids = self.char_ids(word)
                if (ids != UNK).all():
                    key = 0
                    for i in ids.tolist():
                        key = key * self.size + i
                    by_len[len(word)].append(key)
        return {n: np.unique(np.array(k, dtype=np.int64)) for n, k in by_len.items()}

    def features(self, char_ids: np.ndarray, last: np.ndarray, word_keys=None) -> list[np.ndarray]:
        """The model's inputs after the char ids, for concatenated sequences
        whose final chars `last` marks: for each n-gram order, the id of the
        n-gram starting at each char (UNK when unseen); then, if the model has
        word features, a float32 (n, 2 × lengths) matrix saying whether a known
        word of each length begins / ends at each char."""
        word_index = self._word_index if word_keys is None else {n: KeyIndex(k) for n, k in word_keys.items()}
        keys = _ngram_keys(char_ids, last, self.size, {*self.ngram_keys, *word_index})
        result = []
        for n, index in self._ngram_index.items():
            pos, found = index.find(keys[n])
            result.append(np.where(found, pos + _FIRST_ID, UNK))
        if word_index:
            matches = np.zeros((len(char_ids), 2 * len(word_index)), dtype=np.float32)
            for column, (n, index) in enumerate(word_index.items()):
                begins = index.find(keys[n])[1]
                matches[:, 2 * column] = begins
                matches[n - 1 :, 2 * column + 1] = begins[: max(0, len(begins) - n + 1)]
            result.append(matches)
        return result

    @classmethod
    def build(cls, sequences: list[str], min_char_count: int, orders: tuple[int, ...],
              min_ngram_count: int, words=(), word_max_len: int = 0) -> "Vocab":
        """Vocabulary of the (normalised) training sequences; rare items stay
        UNK so the model learns what to do with unseen ones."""
        from collections import Counter

        char_counts = Counter("".join(sequences))
        chars = "".join(sorted(c for c, n in char_counts.items() if n >= min_char_count))
        partial = cls(chars, {}, {})
        ids = [partial.char_ids(s) for s in sequences if s]
        flat = np.concatenate(ids)
        last = np.zeros(len(flat), dtype=bool)
        last[np.cumsum([len(i) for i in ids]) - 1] = True
        ngram_keys = {}
        for n, all_keys in _ngram_keys(flat, last, partial.size, orders).items():
            keys, counts = np.unique(all_keys, return_counts=True)
            ngram_keys[n] = keys[counts >= min_ngram_count]
        return cls(chars, ngram_keys, partial.word_keys_of(words, word_max_len) if word_max_len else {})
