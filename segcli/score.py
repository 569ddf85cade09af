"""Score stage: the shipped ONNX tagger, run by onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime


class Scorer:
    """One InferenceSession per process; its run() is safe to call from many threads."""

    def __init__(self, model_path: Path):
        options = onnxruntime.SessionOptions()
        # One thread per run: split across threads, a convolution's sums come
        # out a few ulps different depending on the batch's shape, which could
        # flip a near-tie. Parallelism comes from running batches concurrently.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self._session.get_inputs()]

    def __call__(self, chars: np.ndarray, features: list[np.ndarray]) -> np.ndarray:
        """Log-probabilities of s, b, m, e: float32 (batch, length, 4).
        Inputs: the char ids, then the other features in the model's input order."""
        return self._session.run(None, dict(zip(self._inputs, [chars, *features])))[0]
