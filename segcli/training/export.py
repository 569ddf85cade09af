"""Shipping the trained network: ONNX export checked against onnxruntime, then (optionally) static int8."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..encode import Vocab
from ..errors import ModelError
from ..evaluate import compare
from ..model import save_metadata
from ..score import POSITIONS_INPUT, SEGMENTS_INPUT, STANDARD_INPUT
from .config import Config
from .data import Encoded
from .network import AttentionLogProbs, LogProbs, Tagger


#: How far onnxruntime may differ from PyTorch at export. Attention's softmax
#: and layer norms in fp32, fused differently by onnxruntime, land within
#: 1e-3 of PyTorch (measured: a few 1e-5 on small models), a convolution
#: within 1e-4.
EXPORT_TOLERANCE = {"fcn": 1e-4, "transformer": 1e-3}


def export_onnx(model: nn.Module, data: Encoded, vocab: Vocab, path: Path) -> float:
    """Writes the ONNX model and returns the largest difference between
    onnxruntime and PyTorch on dev batches; refuses to ship above
    EXPORT_TOLERANCE. Inputs: chars, ngrams<n>…, words (if any), standard (if
    the model takes one: int64 (batch,)), and for an attention encoder
    segments and positions (int64 (batch, length)); output: scores (batch,
    length, 4). Inputs the graph does not use are left out of it."""
    import onnxruntime

    from .. import transformer

    attention = not isinstance(model, Tagger)
    names = vocab.input_names
    wrapped = AttentionLogProbs(model, len(names) - 1) if attention else LogProbs(model)
    with_standard = model.standard_emb is not None

    def inputs(batch):
        chars, features, _ = data.tensors(batch)
        layout = list(transformer.default_layout(chars)) if attention else []
        return (chars, *features, *([data.standard_tensor(batch)] if with_standard else []), *layout)

    axes = {n: {0: "batch", 1: "length"} for n in [*names, "scores"]}
    if with_standard:
        names.append(STANDARD_INPUT)
        axes[STANDARD_INPUT] = {0: "batch"}
    if attention:
        names += [SEGMENTS_INPUT, POSITIONS_INPUT]
        axes.update({n: {0: "batch", 1: "length"} for n in names[-2:]})
    torch.onnx.export(
        wrapped,
        inputs(data.batches[len(data.batches) // 2]),
        str(path),
        input_names=names,
        output_names=["scores"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    wrapped.eval()  # the exporter restores the training mode it found
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    in_graph = {i.name for i in session.get_inputs()}
    limit = EXPORT_TOLERANCE["transformer" if attention else "fcn"]
    worst = 0.0
    with torch.no_grad():
        for batch in data.batches[:: max(1, len(data.batches) // 8)]:
            tensors = inputs(batch)
            expected = wrapped(*tensors).numpy()
            feed = {name: t.numpy() for name, t in zip(names, tensors) if name in in_graph}
            got = session.run(None, feed)[0]
            worst = max(worst, float(np.abs(expected - got).max()))
    if worst >= limit:
        raise ModelError(f"onnxruntime differs from PyTorch by {worst:.2e} (limit {limit:.0e})")
    return worst


def quantize_model(out: Path, meta: dict, splits: list, cfg: Config) -> dict:
    """Quantises the exported model in `out` (segcli.quantize), calibrated on
    the first cfg.quantize_lines training lines of each corpus; scores every
    dev split through the runtime with it and records both in the metadata."""
    from .. import quantize
    from ..segmenter import Segmenter

    started = time.time()
    record = quantize.static_int8(out, quantize.calibration_lines(splits, cfg.quantize_lines))
    record["dev_f1"] = {}
    segmenters: dict[str, Segmenter] = {}
    for sp in splits:
        standard = sp.source.standard
        if standard not in segmenters:
            segmenters[standard] = Segmenter(out, standard=standard)
        segmenter = segmenters[standard]
        predicted = list(segmenter.cut_lines(["".join(words) for words in sp.dev]))
        record["dev_f1"][sp.info["path"]] = round(compare(sp.dev, predicted).f1, 6)
    record["seconds"] = round(time.time() - started, 1)
    meta = {**meta, "quantization": record}
    save_metadata(out, meta)
    per_corpus = ", ".join(f"{name} {f1:.4f}" for name, f1 in record["dev_f1"].items())
    print(f"quantised to int8 ({record['fp32_bytes'] / 1e6:.1f} MB -> {record['int8_bytes'] / 1e6:.1f} MB); "
          f"dev F1 through the runtime: {per_corpus}", flush=True)
    return meta



def directory_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 1e6

