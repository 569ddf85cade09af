"""Pure-numpy twin of segcli._core's build and find, as KeyIndex ran before
the loops moved to C: a few vectorised passes per lookup. A table is
(slots, 2) int64: each slot's key, then its value."""

import numpy as np

EMPTY = 0  # keys are positive
MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing


def slots(keys: np.ndarray, bits: int) -> np.ndarray:
    hashed = keys.astype(np.uint64) * MULTIPLIER
    return (hashed >> np.uint64(64 - bits)).astype(np.int64)


def build(keys: np.ndarray, values: np.ndarray, bits: int) -> np.ndarray:
    """The table of keys[i] -> values[i], OR-ed for a repeated key."""
    keys, inverse = np.unique(keys, return_inverse=True)
    merged = np.zeros(len(keys), dtype=np.int64)
    np.bitwise_or.at(merged, inverse, values)
    values = merged
    mask = (1 << bits) - 1
    table_keys = np.full(1 << bits, EMPTY, dtype=np.int64)
    table_values = np.zeros(1 << bits, dtype=np.int64)
    pending = np.arange(len(keys))
    wanted_slots = slots(keys, bits)
    while len(pending):  # each round, each free slot takes one contender
        wanted = wanted_slots[pending]
        free = table_keys[wanted] == EMPTY
        taken, first_of = np.unique(wanted[free], return_index=True)
        winners = pending[free][first_of]
        table_keys[taken] = keys[winners]
        table_values[taken] = values[winners]
        pending = np.setdiff1d(pending, winners, assume_unique=True)
        wanted_slots[pending] = (wanted_slots[pending] + 1) & mask
    return np.stack([table_keys, table_values], axis=1)


def find(table: np.ndarray, keys: np.ndarray, missing: int) -> np.ndarray:
    table_keys, table_values = table[:, 0], table[:, 1]
    bits = len(table_keys).bit_length() - 1
    mask = len(table_keys) - 1
    probe = slots(keys, bits)
    stored = table_keys[probe]
    found = (stored == keys) & (stored != EMPTY)
    out = np.where(found, table_values[probe], missing)
    pending = np.flatnonzero(~found & (stored != EMPTY))
    probe = probe[pending]
    while len(pending):  # most keys settle at the first probe; collisions walk on
        probe = (probe + 1) & mask
        stored = table_keys[probe]
        hit = (stored == keys[pending]) & (stored != EMPTY)
        out[pending[hit]] = table_values[probe[hit]]
        go_on = ~hit & (stored != EMPTY)
        pending, probe = pending[go_on], probe[go_on]
    return out


def grams(char_ids: np.ndarray, last: np.ndarray, size: int, lengths: list[int], tables: list[np.ndarray],
          gated: list[bool], gate: int) -> np.ndarray:
    """_core.grams as numpy computed it before: the keys of every order by
    encode._ngram_keys, each length looked up in its table (0: missing), a
    gated length only where the length before has a bit of `gate`."""
    from segcli.encode import _ngram_keys

    keys = _ngram_keys(char_ids, last, size, set(lengths))
    values = np.zeros((len(lengths), len(char_ids)), dtype=np.int64)
    for row, n in enumerate(lengths):
        found = find(tables[row], keys[n], 0)
        values[row] = np.where(values[row - 1] & gate, found, 0) if gated[row] else found
    return values
