"""Python and numpy twins of segcli._core.word_features and word_head
(csrc/tags.c): the word head's features hashed one by one in Python, and
the head's arithmetic as numpy array operations in the same order."""

import numpy as np

LINE_START, LINE_END, JOIN, PICTURE, LENGTH = 0x110000, 0x110001, 0x110002, 0x110003, 0x110010
MASK64 = (1 << 64) - 1


def bucket(salt: int, units, buckets: int) -> int:
    """FNV-1a over 32-bit units from a salted start, splitmix64's finaliser, the low bits."""
    h = 0xCBF29CE484222325 ^ ((salt * 0x9E3779B97F4A7C15) & MASK64)
    for unit in units:
        h = ((h ^ unit) * 0x100000001B3) & MASK64
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & MASK64
    h ^= h >> 31
    return h & (buckets - 1)


def unit(c: int) -> int:
    """Digits are 0, ASCII letters a, U+1F000..U+1FFFF (emoji) one picture."""
    if 0x30 <= c <= 0x39:
        return 0x30
    if 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A:
        return 0x61
    return PICTURE if 0x1F000 <= c < 0x20000 else c


def word_features(cps, space, starts, ends, line_starts, line_ends, buckets: int) -> np.ndarray:
    rows = []
    c = [unit(int(x)) for x in cps]
    for a, b, lo, hi in zip(starts, ends, line_starts, line_ends):
        w = c[a:b]
        left = [c[i] for i in range(lo, a) if not space[i]][-2:]  # the two before, in text order
        right = [c[i] for i in range(b, hi) if not space[i]][:2]
        before = left[-1] if left else LINE_START
        after = right[0] if right else LINE_END
        row = [
            bucket(1, w, buckets), bucket(2, w[:1], buckets), bucket(3, w[-1:], buckets),
            bucket(4, [LENGTH + min(len(w), 4), w[-1]], buckets),
            bucket(5, w[:2], buckets) if len(w) >= 3 else -1, bucket(6, w[-2:], buckets) if len(w) >= 3 else -1,
            bucket(7, [before], buckets), bucket(8, [after], buckets), bucket(9, left or [LINE_START], buckets),
            bucket(10, right or [LINE_END], buckets), bucket(11, [*w, JOIN, after], buckets),
            bucket(12, [before, JOIN, *w], buckets),
        ]
        rows.append(row)
    return np.array(rows, dtype=np.int32).reshape(-1, 12)


def word_logits(features, table, scales, biases, weights, out_biases) -> np.ndarray:
    """Each word's tag scores in float32: the rows' sums scaled, then biased
    (two roundings), each unit above 0 weighting its row of weights, added in
    order of the unit."""
    used = features >= 0
    sums = (table[np.where(used, features, 0)].astype(np.int64) * used[..., None]).sum(axis=1)
    logits = np.repeat(out_biases[None, :], len(features), axis=0)
    with np.errstate(invalid="ignore", over="ignore"):
        hidden = scales[None, :] * sums.astype(np.float32) + biases[None, :]
        for d in range(table.shape[1]):
            active = hidden[:, d] > 0
            logits[active] += hidden[active, d][:, None] * weights[d][None, :]
    return logits


def word_head(features, table, scales, biases, weights, out_biases) -> np.ndarray:
    """The first largest score of each word, a NaN counting as -inf."""
    logits = word_logits(features, table, scales, biases, weights, out_biases)
    return np.where(np.isnan(logits), -np.inf, logits).argmax(axis=1)
