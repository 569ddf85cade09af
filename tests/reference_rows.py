"""Numpy twins of segcli._core.pack_rows and unpack_rows, as the scorer laid
out rows before the loops moved to C."""

import numpy as np


def pack_rows(values: np.ndarray, stream_at: np.ndarray, margin: int, core: int, rows: int) -> np.ndarray:
    """(rows, core + 2 * margin, *item) zeros, values[j] at stream position stream_at[j]."""
    width = core + 2 * margin
    padded = np.zeros((rows * core + 2 * margin, *values.shape[1:]), dtype=values.dtype)
    padded[margin + stream_at] = values
    overlapping = np.lib.stride_tricks.as_strided(
        padded, (rows, width, *values.shape[1:]), (core * padded.strides[0], *padded.strides), writeable=False)
    return np.ascontiguousarray(overlapping)


def unpack_rows(packed: np.ndarray, stream_at: np.ndarray, margin: int, core: int) -> np.ndarray:
    return packed[:, margin : margin + core].reshape(-1, *packed.shape[2:])[stream_at]
