"""Static int8 quantisation of the shipped model, measured: raw onnxruntime
speed on the same inputs, and dev F1 on every corpus of the recipe.

    python benchmarks/quantize.py --out runs/int8 [--model models]

Static (QDQ, scales calibrated once on training text and then fixed), never
dynamic: dynamic quantisation derives activation scales from each batch, so a
line's output would depend on its neighbours. Writes a full model directory
(the quantised graph beside copies of the other files) and prints a table.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

try:
    import segcli
except ImportError:  # a source checkout without PYTHONPATH
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import segcli
from segcli import model
from segcli.evaluate import score
from segcli.segmenter import Segmenter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from devsets import RECIPE, dev_sets  # noqa: E402


def recorded_feeds(model_dir: Path, lines_by_standard: dict[str, list[str]]) -> list[dict]:
    """The onnxruntime feeds the segmenter builds for these lines."""
    feeds = []
    for standard, lines in lines_by_standard.items():
        segmenter = Segmenter(model_dir, standard=standard, threads=1)
        scorer = segmenter._scorer
        real = scorer._session.run

        def record(outputs, feed, real=real):
            feeds.append(dict(feed))
            return real(outputs, feed)

        scorer._session.run = record
        list(segmenter.cut_lines(lines))
    return feeds


def quantize(source: Path, out: Path, calibration: list[dict], ops: list[str]) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(calibration)

        def get_next(self):
            return next(self.items, None)

    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(source, out)
    prepared = out / "prepared.onnx"
    quant_pre_process(str(source / model.MODEL_FILE), str(prepared))
    quantize_static(str(prepared), str(out / model.MODEL_FILE), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    op_types_to_quantize=ops)
    prepared.unlink()


def raw_seconds(model_path: Path, feeds: list[dict], runs: int) -> list[float]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for feed in feeds:
            session.run(None, feed)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=model.default_dir())
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--calibration-lines", type=int, default=300, help="training lines per corpus file")
    parser.add_argument("--ops", default="Conv", help="operator types to quantise, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from segcli import corpus

    sets = dev_sets()
    calibration_lines: dict[str, list[str]] = {}
    for source in corpus.read_recipe(RECIPE).sources:
        train = corpus.load(source, args.calibration_lines).train
        calibration_lines.setdefault(source.standard, []).extend("".join(w) for w in train)
    quantize(args.model, args.out, recorded_feeds(args.model, calibration_lines), args.ops.split(","))

    all_lines = {}
    for _, standard, gold in sets:
        all_lines.setdefault(standard, []).extend("".join(w) for w in gold)
    feeds = recorded_feeds(args.model, {s: lines[:2000] for s, lines in all_lines.items()})
    chars = sum(int((feed["chars"] > 1).sum()) for feed in feeds)
    fp32 = raw_seconds(args.model / model.MODEL_FILE, feeds, args.runs)
    int8 = raw_seconds(args.out / model.MODEL_FILE, feeds, args.runs)
    print(f"\nraw onnxruntime, one thread, {chars:,} characters, median of {args.runs} (min–max):")
    for name, times in (("fp32", fp32), ("int8", int8)):
        print(f"  {name}: {chars / statistics.median(times) / 1e3:,.0f}k chars/s "
              f"({chars / max(times) / 1e3:,.0f}k–{chars / min(times) / 1e3:,.0f}k)")
    print(f"  model.onnx: fp32 {(args.model / model.MODEL_FILE).stat().st_size / 1e6:.1f} MB, "
          f"int8 {(args.out / model.MODEL_FILE).stat().st_size / 1e6:.1f} MB\n")
    print("| corpus | standard | fp32 F1 | int8 F1 | difference |")
    print("|---|---|--:|--:|--:|")
    for name, standard, gold in sets:
        texts = ["".join(w) for w in gold]
        f1 = [score(gold, list(Segmenter(d, standard=standard).cut_lines(texts))).f1 for d in (args.model, args.out)]
        print(f"| {name} | {standard} | {f1[0]:.4f} | {f1[1]:.4f} | {f1[1] - f1[0]:+.4f} |")


if __name__ == "__main__":
    main()
