"""Training's entry points (``seg train`` and the tests import them from here); the code is in segcli.training.

Only `seg train` imports this module, so `import segcli` never pulls in torch.
"""

from __future__ import annotations

from .training.config import SMOKE, Config, parse_settings, plan
from .training.data import Encoded, training_sequences
from .training.export import EXPORT_TOLERANCE, export_onnx, quantize_model
from .training.loop import train
from .training.losses import LOSSES, bimemm_loss, crf_loss, softmax_loss
from .training.network import AttentionLogProbs, LogProbs, Tagger, attention_window, make_encoder, training_device
from .training.plot import plot
from .training.predict import predict_words

__all__ = [
    "EXPORT_TOLERANCE",
    "LOSSES",
    "SMOKE",
    "AttentionLogProbs",
    "Config",
    "Encoded",
    "LogProbs",
    "Tagger",
    "attention_window",
    "bimemm_loss",
    "crf_loss",
    "export_onnx",
    "make_encoder",
    "parse_settings",
    "plan",
    "plot",
    "predict_words",
    "quantize_model",
    "softmax_loss",
    "train",
    "training_device",
    "training_sequences",
]
