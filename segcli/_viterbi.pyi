"""Private constrained Viterbi loop; use segcli.decode instead."""

from typing import Final

from typing_extensions import Buffer

# The tag ids (s, b, m, e); segcli.decode owns them, these mirror the C enum.
S: Final = 0
B: Final = 1
M: Final = 2
E: Final = 3

def viterbi(
    scores: Buffer,
    starts: Buffer,
    ends: Buffer,
    transitions: Buffer,
    out: Buffer,
    /,
) -> None:
    """Decode each segment ``[starts[k], ends[k])`` into ``out``.

    scores: C-contiguous float32, N rows x 4 tags (s, b, m, e), log space.
    starts, ends: int64, K items each; 0 <= start <= end <= N is checked.
    transitions: float32 4 x 4; [i][j] scores i -> j on top of the hard
        constraints (illegal transitions are never taken).
    out: writable uint8 of N items; only rows inside a segment are written.

    Ties go to the lowest tag index (s before e at the end).  Any input,
    -inf and NaN included, yields a legal sequence.  Raises ValueError on
    wrong item sizes, lengths or bounds, MemoryError if the workspace
    cannot be allocated.  The GIL is released while decoding.
    """
