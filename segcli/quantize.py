"""Static int8 quantisation of an exported model directory (training time;
needs the `onnx` package of the train extra).

Static means QDQ with scales calibrated once, on training text as the
segmenter presents it to the model, and then fixed in the graph. Dynamic
quantisation is ruled out: it derives activation scales from each batch, so a
line's output would depend on its neighbours. Convolutions and the embedding
tables (Gather) are quantised: per-channel int8 weights, uint8 activations.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

from .model import MODEL_FILE

OPS = ("Conv", "Gather")


def calibration_lines(splits, per_corpus: int) -> dict[str, list[str]]:
    """The first `per_corpus` training lines of each corpus split, as text,
    grouped by standard: what the quantisation is calibrated on."""
    lines: dict[str, list[str]] = {}
    for split in splits:
        lines.setdefault(split.source.standard, []).extend("".join(w) for w in split.train[:per_corpus])
    return lines


def calibration_feeds(directory: Path, lines_by_standard: Mapping[str, Iterable[str]]) -> list[dict]:
    """The model's inputs for these lines, each cut by its standard."""
    from .segmenter import Segmenter

    feeds = []
    for standard, lines in lines_by_standard.items():
        segmenter = Segmenter(directory, standard=standard, threads=1)
        lines = list(lines)
        for start in range(0, len(lines), 256):
            feeds += segmenter._model_feeds(lines[start : start + 256])
    return feeds


def static_int8(directory: Path, lines_by_standard: Mapping[str, Iterable[str]], ops=OPS) -> dict:
    """Replaces directory/model.onnx by its static int8 quantisation,
    calibrated on the lines; returns what the metadata records of it."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    directory = Path(directory)
    lines_by_standard = {standard: list(lines) for standard, lines in lines_by_standard.items()}
    feeds = calibration_feeds(directory, lines_by_standard)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(feeds)

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory(prefix="seg-quantize-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        prepared = Path(tmp) / "prepared.onnx"
        shutil.copyfile(directory / MODEL_FILE, fp32)
        quant_pre_process(str(fp32), str(prepared))
        quantize_static(str(prepared), str(Path(tmp) / "int8.onnx"), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=list(ops))
        fp32_bytes = fp32.stat().st_size
        shutil.move(str(Path(tmp) / "int8.onnx"), directory / MODEL_FILE)
    return {
        "type": "static int8 (QDQ): per-channel int8 weights, uint8 activations, scales fixed at calibration",
        "ops": list(ops),
        "calibration_lines": {standard: len(lines) for standard, lines in lines_by_standard.items()},
        "fp32_bytes": fp32_bytes,
        "int8_bytes": (directory / MODEL_FILE).stat().st_size,
    }
