"""Score stage: the exported tagger, run by onnxruntime over packed rows.

The scorer owns its windowing. For a convolutional graph, sequences are laid
end to end in one stream, cut into rows of a fixed width, scored, and the
scores put back in place. For an attention graph (one that takes `segments`
and `positions`), each sequence is cut into overlapping windows of at most
the model's window, each window gets a row of its own (left-aligned, so its
sums run in the same order in any batch), and each position keeps the scores
of the window where it lies in the core.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np
import onnxruntime

from . import _core
from .encode import PAD
from .errors import ModelError
from .model import WITH_POS_INPUT

WINDOW = 2048  # characters in a row handed to the model
RUN_CHARS = 4096  # characters per onnxruntime run: bounds its memory (each scoring thread keeps ~8 KB a character; 16384 was no faster)
STANDARD_INPUT = "standard"  # the input that names the segmentation standard
SEGMENTS_INPUT = "segments"  # an attention graph's sequence numbers (0: padding)
POSITIONS_INPUT = "positions"  # and each position's place in its sequence
ROW_ALIGN = 32  # attention rows are padded to a multiple of this


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

    def __init__(self, model_path: Path, gap: int, context: int, standard_id: int = 0, *,
                 input_names: list[str] | None = None, window: int = 0, device: str = "cpu"):
        """input_names: the graph input names of the char ids and then each
        feature, in the order score() receives them (default: the graph's
        own inputs in order); a graph may leave some out. window: an
        attention graph's longest row. device: "cpu", or "cuda" (raises
        ModelError where onnxruntime has no CUDA provider)."""
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
                raise ModelError("--device cuda: this onnxruntime has no CUDA provider "
                                 "(pip install onnxruntime-gpu)")
            providers = ["CUDAExecutionProvider"]
        elif device != "cpu":
            raise ModelError(f"unknown device {device!r}: cpu or cuda")
        options = onnxruntime.SessionOptions()
        # One thread per run: split across threads, a convolution's sums come
        # out a few ulps different depending on the batch's shape, which could
        # flip a near-tie. Parallelism comes from running batches concurrently.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            # onnxruntime prints its provider fallback notices with print(): never into our output.
            with contextlib.redirect_stdout(sys.stderr):
                self._session = onnxruntime.InferenceSession(str(model_path), options, providers=providers)
        except (OSError, RuntimeError, *_ONNXRUNTIME_ERRORS) as e:  # a damaged or foreign file
            first_line = (str(e).strip().splitlines() or [""])[0]
            raise ModelError(f"cannot load model: {model_path}: {type(e).__name__}: {first_line}") from None
        if device == "cuda":
            if self._session.get_providers()[0] != "CUDAExecutionProvider":  # it fell back to the CPU
                raise ModelError("--device cuda: onnxruntime could not start its CUDA provider "
                                 "(driver or CUDA libraries missing?)")
            self._session.disable_fallback()
        names = [i.name for i in self._session.get_inputs()]
        layout = {STANDARD_INPUT, SEGMENTS_INPUT, POSITIONS_INPUT, WITH_POS_INPUT}
        self._scores_output = self._session.get_outputs()[0].name  # the scores are the graph's first output
        self._inputs = input_names or [name for name in names if name not in layout]
        self._in_graph = set(names)
        # A multi-standard graph takes the standard's id, one per row; the
        # graph itself says whether it does.
        self._standard_id = standard_id if STANDARD_INPUT in names else None
        self.attention = SEGMENTS_INPUT in names
        if self.attention and window < 1:
            raise ModelError(f"cannot load model: {model_path}: an attention graph needs a window")
        self.window = window
        self.gap = gap
        self.context = context

    def run(self, chars: np.ndarray, features: list[np.ndarray]) -> np.ndarray:
        """Log-probabilities of s, b, m, e: float32 (rows, length, 4).
        Inputs: the char ids, then the other features in the model's input order."""
        return self._session.run([self._scores_output], self._feed(chars, features))[0]

    def _feed(self, chars: np.ndarray, features: list[np.ndarray]) -> dict[str, np.ndarray]:
        feed = {name: value for name, value in zip(self._inputs, [chars, *features]) if name in self._in_graph}
        if WITH_POS_INPUT in self._in_graph:  # an older graph with its tagging head inside: not run
            feed[WITH_POS_INPUT] = np.array(False)
        if self._standard_id is not None:
            feed[STANDARD_INPUT] = np.full(len(chars), self._standard_id, dtype=np.int64)
        if self.attention:
            real = (chars != PAD).astype(np.int64)
            feed[SEGMENTS_INPUT] = real
            feed[POSITIONS_INPUT] = np.maximum(np.cumsum(real, axis=1) - 1, 0)
        return feed

    def score(self, char_ids: np.ndarray, features: list[np.ndarray], starts: np.ndarray,
              ends: np.ndarray) -> np.ndarray:
        """(len(char_ids), 4) scores of the back-to-back sequences [starts[k], ends[k])."""
        if not len(char_ids):
            return np.empty((0, 4), dtype=np.float32)
        runs, place = self._plan(char_ids, features, starts, ends)
        return place([self.run(chars, others) for chars, others in runs])

    def feeds(self, char_ids: np.ndarray, features: list[np.ndarray], starts: np.ndarray,
              ends: np.ndarray) -> list[dict[str, np.ndarray]]:
        """The onnxruntime feeds that score() runs for these sequences."""
        if not len(char_ids):
            return []
        return [self._feed(chars, others) for chars, others in self._plan(char_ids, features, starts, ends)[0]]

    def _plan(self, char_ids, features, starts, ends):
        """([(chars, features) of each onnxruntime run], place): place(outputs
        of those runs, width=4) puts the scores (or another output of that
        width) back as (len(char_ids), width)."""
        if self.attention:
            runs = self._windows(char_ids, features, starts, ends)

            def place(outputs, width=4):
                scores = np.empty((len(char_ids), width), dtype=np.float32)
                for out, (_, _, group) in zip(outputs, runs):
                    for row, (first, _, core_first, core_last) in enumerate(group):
                        scores[core_first:core_last] = out[row, core_first - first : core_last - first]
                return scores

            return [(chars, others) for chars, others, _ in runs], place
        runs, stream_at, margin, core = self._rows(char_ids, features, starts, ends)

        def place(outputs, width=4):
            packed = np.ascontiguousarray(np.concatenate(outputs), dtype=np.float32)
            scores = np.empty((len(char_ids), width), dtype=np.float32)
            _core.unpack_rows(packed, scores.itemsize * width, stream_at, margin, core, scores)
            return scores

        return runs, place

    def _windows(self, char_ids, features, starts, ends):
        """Runs of an attention graph: [(chars, features, pieces)], each piece
        (first, last + 1, core first, core last + 1) in char_ids positions and
        left-aligned in a row of its own, the rows of one run padded to one width."""
        overlap = self.window // 4
        core = self.window - 2 * overlap
        pieces = []  # (first, last + 1, core first, core last + 1), positions into char_ids
        for start, end in zip(starts.tolist(), ends.tolist()):
            if end - start <= self.window:
                pieces.append((start, end, start, end))
                continue
            for at in range(start, end, core):
                first, last = max(start, at - overlap), min(end, at + core + overlap)
                pieces.append((first, last, at, min(end, at + core)))
        pieces.sort(key=lambda p: p[1] - p[0])  # similar lengths share a run
        runs = []
        i = 0
        while i < len(pieces):
            width = -(-(pieces[i][1] - pieces[i][0]) // ROW_ALIGN) * ROW_ALIGN
            j = i
            # At least one piece a run, however wide, so the loop always moves on.
            while (j < len(pieces) and pieces[j][1] - pieces[j][0] <= width
                   and (j == i or (j - i + 1) * width <= RUN_CHARS)):
                j += 1
            group = pieces[i:j]
            chars = np.full((len(group), width), PAD, dtype=char_ids.dtype)
            others = [np.zeros((len(group), width, *f.shape[1:]), dtype=f.dtype) for f in features]
            for row, (first, last, _, _) in enumerate(group):
                chars[row, : last - first] = char_ids[first:last]
                for matrix, values in zip(others, features):
                    matrix[row, : last - first] = values[first:last]
            runs.append((chars, others, group))
            i = j
        return runs

    def _rows(self, char_ids, features, starts, ends):
        """A convolutional graph's runs: ([(chars, features) of each run],
        where each character sits in the stream, margin, core)."""
        # The sequences go end to end in one stream, self.gap PAD positions
        # apart. The stream is cut into rows of WINDOW characters whose scored
        # core is framed by enough context that the scores equal scoring each
        # sequence whole. Long rows keep the convolutions' matrix products
        # efficient (padding short lines to a common length ran 2.4 times slower).
        lengths = ends - starts
        stream_at = np.arange(len(char_ids), dtype=np.int64) + self.gap * np.repeat(np.arange(len(lengths)), lengths)
        size = int(stream_at[-1]) + 1
        if size <= WINDOW:
            margin, core = 0, size
        else:
            margin = max(16, 2 * self.context)
            core = WINDOW - 2 * margin
        rows, width = -(-size // core), core + 2 * margin
        inputs = []
        # Every blank is zeros: PAD, and no word matches.
        for values in (char_ids, *features):
            values = np.ascontiguousarray(values)
            packed = np.empty((rows, width, *values.shape[1:]), dtype=values.dtype)
            item_bytes = values.itemsize * int(np.prod(values.shape[1:], dtype=np.int64))
            _core.pack_rows(values, item_bytes, stream_at, margin, core, packed)
            inputs.append(packed)
        step = max(1, RUN_CHARS // width)
        runs = [(inputs[0][r : r + step], [m[r : r + step] for m in inputs[1:]]) for r in range(0, rows, step)]
        return runs, stream_at, margin, core
