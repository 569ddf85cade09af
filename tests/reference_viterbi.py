"""Pure-numpy reference for segcli._core.viterbi, one segment at a time.

Written independently of the C loop (it scans a LEGAL mask rather than a
predecessor table) but with the same arithmetic order in float64 and the same
documented tie-breaking, so the two agree bit for bit, NaN and -inf included.
"""

import numpy as np

S, B, M, E = range(4)
LEGAL = np.zeros((4, 4), dtype=bool)
for _i, _j in [(S, S), (S, B), (B, M), (B, E), (M, M), (M, E), (E, S), (E, B)]:
    LEGAL[_i, _j] = True


def viterbi_reference(scores, transitions) -> np.ndarray:
    """Best legal tag sequence (uint8) for one segment of (N, 4) scores."""
    scores = np.asarray(scores, dtype=np.float32).astype(np.float64)
    trans = np.asarray(transitions, dtype=np.float32).astype(np.float64)
    n = len(scores)
    tags = np.zeros(n, dtype=np.uint8)
    if n == 0:
        return tags
    delta = np.array([scores[0, S], scores[0, B], -np.inf, -np.inf])
    back = np.zeros((n, 4), dtype=np.uint8)
    with np.errstate(invalid="ignore"):  # -inf + inf gives NaN; the scan tolerates it
        delta = _forward(scores, trans, delta, back)
    tag = E if delta[E] > delta[S] else S
    tags[-1] = tag
    for t in range(n - 1, 0, -1):
        tag = back[t, tag]
        tags[t - 1] = tag
    return tags


def _forward(scores, trans, delta, back):
    for t in range(1, len(scores)):
        # Scan predecessors i = 0..3 for all four targets j at once: the
        # first legal i is taken unconditionally, later ones only if strictly
        # greater (so NaN never displaces a legal choice).
        best = np.full(4, np.nan)
        arg = np.full(4, -1)
        for i in range(4):
            v = delta[i] + trans[i]
            take = LEGAL[i] & ((arg < 0) | (v > best))
            best = np.where(take, v, best)
            arg = np.where(take, i, arg)
        back[t] = arg
        delta = best + scores[t]
    return delta
