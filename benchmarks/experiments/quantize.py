"""Static int8 quantisation of the shipped model, measured: raw onnxruntime
speed on the same inputs, and dev F1 on every corpus of the recipe.

    seg train --recipe models/recipe.json --set quantize=false --out runs/fp32
    python benchmarks/experiments/quantize.py --model runs/fp32 --out runs/int8

Static (QDQ, scales calibrated once on training text and then fixed), never
dynamic: dynamic quantisation derives activation scales from each batch, so a
line's output would depend on its neighbours. The quantisation is `seg
train`'s own (segcli.quantize.static_int8, as the shipped model got it);
this writes a full model directory (a copy of --model with the quantised
graph) and prints a table.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import common
from devsets import dev_sets
from segcli import corpus, model, quantize
from segcli.evaluate import compare
from segcli.segmenter import Segmenter


def raw_seconds(model_path: Path, feeds: list[dict], runs: int) -> list[float]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])

    def run_all() -> None:
        for feed in feeds:
            session.run(None, feed)

    return common.timed(run_all, runs)[0]


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--model", type=Path, default=model.default_dir())
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--calibration-lines", type=int, default=300, help="training lines per corpus file")
    parser.add_argument("--ops", default=",".join(quantize.OPS), help="operator types to quantise, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sets = dev_sets()
    splits = [corpus.load(source, args.calibration_lines) for source in corpus.read_recipe(common.RECIPE).sources]
    if args.out.exists():
        shutil.rmtree(args.out)
    shutil.copytree(args.model, args.out)
    quantize.static_int8(args.out, quantize.calibration_lines(splits, args.calibration_lines), args.ops.split(","))

    all_lines = {}
    for _, standard, gold in sets:
        all_lines.setdefault(standard, []).extend("".join(w) for w in gold)
    feeds = quantize.calibration_feeds(args.model, {s: lines[:2000] for s, lines in all_lines.items()})
    chars = sum(int((feed["chars"] > 1).sum()) for feed in feeds)
    fp32 = raw_seconds(args.model / model.MODEL_FILE, feeds, args.runs)
    int8 = raw_seconds(args.out / model.MODEL_FILE, feeds, args.runs)
    print(f"\nraw onnxruntime, one thread, {chars:,} characters, median of {args.runs} (min–max):")
    for name, times in (("fp32", fp32), ("int8", int8)):
        print(f"  {name}: {common.spread([chars / t / 1e3 for t in times], ',.0f')}k chars/s")
    print(f"  model.onnx: fp32 {(args.model / model.MODEL_FILE).stat().st_size / 1e6:.1f} MB, "
          f"int8 {(args.out / model.MODEL_FILE).stat().st_size / 1e6:.1f} MB\n")
    rows = []
    for name, standard, gold in sets:
        texts = ["".join(w) for w in gold]
        f1 = [compare(gold, list(Segmenter(d, standard=standard).cut_lines(texts))).f1 for d in (args.model, args.out)]
        rows.append([name, standard, f"{f1[0]:.4f}", f"{f1[1]:.4f}", f"{f1[1] - f1[0]:+.4f}"])
    print(common.table(["corpus", "standard", "fp32 F1", "int8 F1", "difference"], rows, "llrrr"))


if __name__ == "__main__":
    main()
