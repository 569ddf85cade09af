"""Encode stage: characters to the model's vocabulary ids.

Lookups go through a codepoint-indexed table so a whole batch is encoded with a
few numpy operations. Each character is looked up in its *lookup form*:
full-width ASCII folded to half-width, and, where the model directory ships a
lookup table (model.LOOKUP_FILE), traditional and variant characters mapped to
the simplified form the model was trained on. Every mapping is one code point
to one, so offsets stay the same, and it happens in the lookup only: the text
itself is never changed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import _core

PAD = 0
UNK = 1
_FIRST_ID = 2
_FULLWIDTH = np.arange(0xFF01, 0xFF5F)
_HALFWIDTH_OFFSET = 0xFEE0


def codepoints(text: str) -> np.ndarray:
    # surrogatepass keeps the lone surrogates that surrogateescape decoding
    # produces for invalid UTF-8, so such bytes reach the output unchanged.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def from_codepoints(cps: np.ndarray) -> str:
    return np.ascontiguousarray(cps, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")


def fold_table(lookup: Mapping[int, int] | None = None, size: int = 0x110000) -> np.ndarray:
    """Code point -> the code point of its lookup form, for the code points
    below `size` (above every one that folds): full-width ASCII to
    half-width, then `lookup` (traditional and variant characters), whose
    targets are folded too."""
    fold = np.arange(size, dtype=np.uint32)
    fold[_FULLWIDTH] = _FULLWIDTH - _HALFWIDTH_OFFSET
    if lookup:
        sources = np.fromiter(lookup.keys(), dtype=np.int64, count=len(lookup))
        targets = np.fromiter(lookup.values(), dtype=np.int64, count=len(lookup))
        fold[sources] = fold[targets]
    return fold


def normalize(text: str, lookup: Mapping[int, int] | None = None) -> str:
    """The lookup form of a text (see fold_table)."""
    return from_codepoints(fold_table(lookup)[codepoints(text)])


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
    """Values of int64 keys (default: a key's position in the sorted keys,
    plus `first`), found through an open-addressing hash table: one probe loop
    per key in C (segcli._core) instead of binary search's ~17 dependent,
    cache-missing steps. tests/reference_lookup.py is its numpy twin."""

    EMPTY = 0  # keys are positive (ids start above PAD): a zeroed table is empty
    #: The version of the tables' layout, hashing and filter: cached tables
    #: (segcli.tablecache) of another layout are never used.
    LAYOUT = 2

    def __init__(self, keys: np.ndarray, first: int = 0, values: np.ndarray | None = None, filtered: bool = False):
        """values: each key's value (a repeated key gets their bitwise OR).
        filtered: keep a bitmap filter (two bits a slot, 1/64 of the table's bytes) that
        answers most absent keys without touching the table: for indexes
        that most lookups miss."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        if values is None:
            values = np.arange(first, first + len(keys), dtype=np.int64)
        table_shape, filter_shape = self.shapes(len(keys), filtered)
        # Each slot's key and value side by side (see csrc/encode.c).
        self.table = np.zeros(table_shape, dtype=np.int64)
        self.filter = np.zeros(filter_shape, dtype=np.uint64)
        _core.build(keys, np.ascontiguousarray(values, dtype=np.int64), self.table, self.filter)

    @staticmethod
    def shapes(count: int, filtered: bool) -> tuple[tuple[int, int], tuple[int]]:
        """The shapes of the table and the filter of an index of `count` keys."""
        # Load factor <= 1/2: linear probing stays near one probe a lookup, and
        # the tables are the largest part of a loaded model (1/4 measured 30 MB more).
        slots = 1 << max(4, int(2 * count).bit_length())
        return (slots, 2), KeyIndex.filter_shape(slots, filtered)

    @staticmethod
    def filter_shape(slots: int, filtered: bool) -> tuple[int]:
        # Two filter bits a slot: at most 1 in 4 set (slots are at most half full).
        return (max(1, slots // 32) if filtered else 0,)

    @classmethod
    def restored(cls, table: np.ndarray, filter: np.ndarray) -> "KeyIndex":
        """The index whose table and filter an earlier one built (see Vocab.tables)."""
        index = cls.__new__(cls)
        index.table, index.filter = table, filter
        return index

    def get(self, keys: np.ndarray, missing: int, out: np.ndarray | None = None) -> np.ndarray:
        """The value of each key, `missing` for a key not in the index (into
        `out`, a contiguous int64 array as long as `keys`, if given)."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        if out is None:
            out = np.empty(len(keys), dtype=np.int64)
        _core.find(self.table, self.filter, keys, missing, out)
        return out


_WORD, _LEXICON, _PREFIX = 1, 2, 4  # flag bits of a word-match lookup
_FLAGS_SHIFT = 32  # a gram's value: its n-gram id (0: none) | its flags << 32
_ID_MASK = (1 << _FLAGS_SHIFT) - 1


def _build_gram_index(size: int, ngram_keys: dict[int, np.ndarray], word_keys: dict[int, np.ndarray],
                      lexicon_keys: dict[int, np.ndarray],
                      stored: Mapping[str, np.ndarray] | None = None) -> dict[int, KeyIndex]:
    """Per length n, one index of every n-character key the features look
    up: the n-gram's id (an order of the model), and flags saying whether it
    is a training word, a lexicon word, or the first n characters of a longer
    word of either (_PREFIX). One lookup answers them all, and the prefix
    flag lets features() look up an n-gram of 3+ characters only where its
    first n - 1 characters begin some word: ~1.5 lookups a character
    instead of one per length and order.
    stored: tables built before for these very keys (see Vocab.tables), used
    where they are well-formed."""
    word_groups = ((_WORD, word_keys), (_LEXICON, lexicon_keys))
    lengths = {*ngram_keys, *(k for _, group in word_groups for n in group for k in range(2, n + 1))}
    result = {}
    for n in sorted(lengths):
        # Most text n-grams of 3+ characters are no word (94-99.5 % of lookups
        # miss on news): a filter spares them the table. N-gram orders mostly hit.
        filtered = n not in ngram_keys
        index = _restored(stored, f"grams{n}", filtered)
        if index is None:
            parts = []
            if n in ngram_keys:
                if len(ngram_keys[n]) + _FIRST_ID > _ID_MASK:
                    raise ValueError(f"{len(ngram_keys[n])} {n}-grams: ids would run into the flag bits")
                parts.append((ngram_keys[n], np.arange(_FIRST_ID, _FIRST_ID + len(ngram_keys[n]), dtype=np.int64)))
            for flag, group in word_groups:
                if n in group:
                    parts.append((group[n], np.full(len(group[n]), flag << _FLAGS_SHIFT, dtype=np.int64)))
                for longer, keys in group.items():
                    if longer > n:  # the first n characters of each longer word
                        prefixes = _distinct(keys // size ** (longer - n))
                        parts.append((prefixes, np.full(len(prefixes), _PREFIX << _FLAGS_SHIFT, dtype=np.int64)))
            # A key in several parts gets their values ORed: its id and every flag.
            index = KeyIndex(np.concatenate([k for k, _ in parts] or [np.empty(0, np.int64)]),
                             values=np.concatenate([v for _, v in parts] or [np.empty(0, np.int64)]),
                             filtered=filtered)
        result[n] = index
    return result


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct keys: of sorted keys (as stored) in one pass, else by np.unique."""
    if len(keys) < 2 or not (keys[1:] >= keys[:-1]).all():
        return np.unique(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


def _restored(stored: Mapping[str, np.ndarray] | None, name: str, filtered: bool) -> KeyIndex | None:
    """The index `name` from stored tables, if they hold a well-formed one
    (what the C lookups accept; that it holds these keys, the cache's key says)."""
    if stored is None:
        return None
    table, filter_ = stored.get(f"{name}.table"), stored.get(f"{name}.filter")
    if table is None or filter_ is None or table.ndim != 2 or table.dtype != np.int64 or filter_.dtype != np.uint64:
        return None
    slots = table.shape[0]
    if table.shape[1] != 2 or slots < 16 or slots & (slots - 1) or filter_.shape != KeyIndex.filter_shape(slots, filtered):
        return None
    return KeyIndex.restored(table, filter_)


class Vocab:
    """What the model's inputs are made of, as stored beside it: character ids,
    the ids of character n-grams (orders 2, 3, …), the training words that
    give the word-match features and the words of an open lexicon that give
    a second set of them."""

    def __init__(self, chars: str, ngram_keys: dict[int, np.ndarray], word_keys: dict[int, np.ndarray],
                 lookup: Mapping[int, int] | None = None, lexicon_keys: dict[int, np.ndarray] | None = None,
                 tables: Mapping[str, np.ndarray] | None = None):
        """lookup: code point -> code point of its lookup form (traditional to
        simplified and the like), on top of the full-width fold.
        lexicon_keys: word keys by length (see word_keys_of) of an open lexicon,
        the same at training and at run time (training words are jackknifed).
        tables: the hash tables of these keys as an earlier Vocab built them
        (its tables()), used where their shapes fit; the rest are built."""
        self.chars = chars
        self.lookup = dict(lookup or {})
        self.size = len(chars) + _FIRST_ID
        self.ngram_keys = {n: np.asarray(k, dtype=np.int64) for n, k in sorted(ngram_keys.items())}
        self.word_keys = {n: np.asarray(k, dtype=np.int64) for n, k in sorted(word_keys.items())}
        self.lexicon_keys = {n: np.asarray(k, dtype=np.int64) for n, k in sorted((lexicon_keys or {}).items())}
        # The tables stop above the last code point that folds or has an id:
        # every code point past them is itself in lookup form and UNK (a
        # full-range table cost ~20 ms of every start).
        char_cps = codepoints(chars)
        self._limit = 1 + max(int(_FULLWIDTH[-1]), *self.lookup.keys(), *self.lookup.values(),
                              int(char_cps.max(initial=0)))
        self._fold = fold_table(self.lookup, self._limit)
        table = np.full(self._limit + 1, UNK, dtype=np.int64)  # table[limit]: any code point past it
        table[char_cps] = np.arange(_FIRST_ID, self.size)
        table[: self._limit] = table[self._fold]
        self._table = table
        self._gram_index = _build_gram_index(self.size, self.ngram_keys, self.word_keys, self.lexicon_keys, tables)

    def tables(self) -> dict[str, np.ndarray]:
        """The hash tables behind the lookups, by name: what Vocab(tables=…)
        takes back for the same keys."""
        result = {}
        for n, index in self._gram_index.items():
            result[f"grams{n}.table"] = index.table
            result[f"grams{n}.filter"] = index.filter
        return result

    @property
    def ngram_sizes(self) -> dict[int, int]:
        return {n: len(k) + _FIRST_ID for n, k in self.ngram_keys.items()}

    @property
    def input_names(self) -> list[str]:
        """The graph input names of the char ids and of each array features() returns, in order."""
        names = ["chars", *(f"ngrams{n}" for n in self.ngram_keys)]
        return names + (["words"] if self.word_feature_count else [])

    @property
    def word_feature_count(self) -> int:
        return 2 * (len(self.word_keys) + len(self.lexicon_keys))

    def lookup_form(self, text: str) -> str:
        """`text` with each character replaced by its lookup form (same length)."""
        return from_codepoints(self.lookup_codepoints(codepoints(text)))

    def lookup_codepoints(self, cps: np.ndarray) -> np.ndarray:
        folded = self._fold[np.minimum(cps, self._limit - 1)]
        return np.where(cps < self._limit, folded, cps)

    def classify(self, cps: np.ndarray, spaces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(space, folded, kept, char_ids) of a batch's code points, in one C
        pass: whether each is whitespace (`spaces`: bool by code point, False
        past its end), each one's lookup form (lookup_codepoints), the
        positions that are not whitespace, and their char ids (char_ids_of)."""
        cps = np.ascontiguousarray(cps, dtype=np.uint32)
        space = np.empty(len(cps), dtype=np.bool_)
        folded = np.empty(len(cps), dtype=np.uint32)
        kept = np.empty(len(cps), dtype=np.int64)
        char_ids = np.empty(len(cps), dtype=np.int64)
        count = _core.classify(cps, np.ascontiguousarray(spaces, dtype=np.bool_).view(np.uint8), self._fold,
                               self._table, space.view(np.uint8), folded, kept, char_ids)
        return space, folded, kept[:count], char_ids[:count]

    def char_ids(self, text: str) -> np.ndarray:
        return self.char_ids_of(codepoints(text))

    def char_ids_of(self, cps: np.ndarray) -> np.ndarray:
        return self._table[np.minimum(cps, self._limit)]

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
        word of each length begins / ends at each char: training words (or
        `word_keys`), then the lexicon's words."""
        if word_keys is None:
            word_keys, index = self.word_keys, self._gram_index
        else:
            index = _build_gram_index(self.size, self.ngram_keys, word_keys, self.lexicon_keys)
        # Each column pair: (flag bit, length) of the matches it shows.
        columns = [(_WORD, n) for n in word_keys] + [(_LEXICON, n) for n in self.lexicon_keys]
        lengths = list(index)
        # values[row]: the value of the n-gram at each position, n = lengths[row].
        # Only where the first n - 1 characters begin a longer word can n of
        # them be one: a length no order needs is looked up only there.
        gated = bytes(n not in self.ngram_keys and n - 1 in index for n in lengths)
        values = np.empty((len(lengths), len(char_ids)), dtype=np.int64)
        _core.grams(np.ascontiguousarray(char_ids, dtype=np.int64),
                    np.ascontiguousarray(last, dtype=np.bool_).view(np.uint8), self.size,
                    np.array(lengths, dtype=np.int64), tuple(index[n].table for n in lengths),
                    tuple(index[n].filter for n in lengths), gated, _PREFIX << _FLAGS_SHIFT, values)
        ngram_ids = {}
        for n in self.ngram_keys:
            low = values[lengths.index(n)] & _ID_MASK
            ngram_ids[n] = np.where(low == 0, UNK, low)
        result = [ngram_ids[n] for n in self.ngram_keys]
        if columns:
            matches = np.empty((len(char_ids), 2 * len(columns)), dtype=np.float32)
            _core.word_matches(values, np.array([lengths.index(n) for _, n in columns], dtype=np.int64),
                               np.array([bit << _FLAGS_SHIFT for bit, _ in columns], dtype=np.int64),
                               np.array([n for _, n in columns], dtype=np.int64), matches)
            result.append(matches)
        return result

    @classmethod
    def build(cls, sequences: list[str], min_char_count: int, orders: tuple[int, ...],
              min_ngram_count: int, words=(), word_max_len: int = 0,
              lookup: Mapping[int, int] | None = None, lexicon=()) -> "Vocab":
        """Vocabulary of the training sequences, counted in their lookup form;
        rare items stay UNK so the model learns what to do with unseen ones."""
        from collections import Counter

        char_counts = Counter(normalize("".join(sequences), lookup))
        chars = "".join(sorted(c for c, n in char_counts.items() if n >= min_char_count))
        partial = cls(chars, {}, {}, lookup)
        ids = [partial.char_ids(s) for s in sequences if s]
        flat = np.concatenate(ids)
        last = np.zeros(len(flat), dtype=bool)
        last[np.cumsum([len(i) for i in ids]) - 1] = True
        ngram_keys = {}
        for n, all_keys in _ngram_keys(flat, last, partial.size, orders).items():
            keys, counts = np.unique(all_keys, return_counts=True)
            ngram_keys[n] = keys[counts >= min_ngram_count]
        word_keys = partial.word_keys_of(words, word_max_len) if word_max_len else {}
        lexicon_keys = partial.word_keys_of(lexicon, word_max_len) if word_max_len and lexicon else {}
        return cls(chars, ngram_keys, word_keys, lookup, lexicon_keys)
