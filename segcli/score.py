"""Score stage: the exported tagger, run by onnxruntime over packed rows.

The scorer owns its windowing: sequences are laid end to end in one stream,
cut into rows of a fixed width, scored, and the scores put back in place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime

from .encode import PAD
from .errors import ModelError

WINDOW = 2048  # characters in a row handed to the model
RUN_CHARS = 16384  # characters per onnxruntime run: bounds its memory
STANDARD_INPUT = "standard"  # the input that names the segmentation standard


# onnxruntime's own exception types (they derive from Exception only).
_ONNXRUNTIME_ERRORS = tuple(
    error for error in vars(onnxruntime.capi.onnxruntime_pybind11_state).values()
    if isinstance(error, type) and issubclass(error, Exception)
)


class Scorer:
    """One InferenceSession per process; safe to call from many threads.

    gap: PAD positions between packed sequences; the model zeroes PAD
    positions after every layer, so as many as one convolution reaches keep
    neighbours apart. context: characters on each side that can influence a
    position's scores, which sizes the margins of a windowed row.
    """

    def __init__(self, model_path: Path, gap: int, context: int, standard_id: int = 0):
        options = onnxruntime.SessionOptions()
        # One thread per run: split across threads, a convolution's sums come
        # out a few ulps different depending on the batch's shape, which could
        # flip a near-tie. Parallelism comes from running batches concurrently.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
        except (OSError, RuntimeError, *_ONNXRUNTIME_ERRORS) as e:  # a damaged or foreign file
            first_line = (str(e).strip().splitlines() or [""])[0]
            raise ModelError(f"cannot load model: {model_path}: {type(e).__name__}: {first_line}") from None
        names = [i.name for i in self._session.get_inputs()]
        self._inputs = [name for name in names if name != STANDARD_INPUT]
        # A multi-standard graph takes the standard's id, one per row; the
        # graph itself says whether it does.
        self._standard_id = standard_id if STANDARD_INPUT in names else None
        self.gap = gap
        self.context = context

    def run(self, chars: np.ndarray, features: list[np.ndarray]) -> np.ndarray:
        """Log-probabilities of s, b, m, e: float32 (rows, length, 4).
        Inputs: the char ids, then the other features in the model's input order."""
        return self._session.run(None, self._feed(chars, features))[0]

    def _feed(self, chars: np.ndarray, features: list[np.ndarray]) -> dict[str, np.ndarray]:
        feed = dict(zip(self._inputs, [chars, *features]))
        if self._standard_id is not None:
            feed[STANDARD_INPUT] = np.full(len(chars), self._standard_id, dtype=np.int64)
        return feed

    def score(self, char_ids: np.ndarray, features: list[np.ndarray], starts: np.ndarray,
              ends: np.ndarray) -> np.ndarray:
        """(len(char_ids), 4) scores of the back-to-back sequences [starts[k], ends[k])."""
        if not len(char_ids):
            return np.empty((0, 4), dtype=np.float32)
        rows, stream_at, margin, core = self._rows(char_ids, features, starts, ends)
        scores = np.concatenate([self.run(chars, others) for chars, others in rows])
        return scores[:, margin : margin + core].reshape(-1, 4)[stream_at]

    def feeds(self, char_ids: np.ndarray, features: list[np.ndarray], starts: np.ndarray,
              ends: np.ndarray) -> list[dict[str, np.ndarray]]:
        """The onnxruntime feeds that score() runs for these sequences."""
        if not len(char_ids):
            return []
        return [self._feed(chars, others) for chars, others in self._rows(char_ids, features, starts, ends)[0]]

    def _rows(self, char_ids, features, starts, ends):
        """([(chars, features) of each run], where each character sits in the
        stream, margin, core)."""
        # The sequences go end to end in one stream, self.gap PAD positions
        # apart. The stream is cut into rows of WINDOW characters whose scored
        # core is framed by enough context that the scores equal scoring each
        # sequence whole. Long rows keep the convolutions' matrix products
        # efficient (padding short lines to a common length ran 2.4 times slower).
        lengths = ends - starts
        stream_at = np.arange(len(char_ids)) + self.gap * np.repeat(np.arange(len(lengths)), lengths)
        size = int(stream_at[-1]) + 1
        if size <= WINDOW:
            margin, core = 0, size
        else:
            margin = max(16, 2 * self.context)
            core = WINDOW - 2 * margin
        index = (np.arange(0, size, core) - margin)[:, None] + np.arange(core + 2 * margin)
        outside = (index < 0) | (index >= size)
        inputs = []
        for values, blank in ((char_ids, PAD), *((f, 0) for f in features)):  # 0: PAD, no word matches
            stream = np.full((size, *values.shape[1:]), blank, dtype=values.dtype)
            stream[stream_at] = values
            rows = stream[np.clip(index, 0, size - 1)]
            rows[outside] = blank
            inputs.append(rows)
        step = max(1, RUN_CHARS // index.shape[1])
        runs = [(inputs[0][r : r + step], [m[r : r + step] for m in inputs[1:]]) for r in range(0, len(index), step)]
        return runs, stream_at, margin, core
