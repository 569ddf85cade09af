"""Rewrites the golden outputs from the shipped model.

Run this only when the model changes on purpose, then review the diff:
    python tests/golden/regenerate.py && git diff tests/golden
"""

import hashlib
from pathlib import Path

from segcli import Segmenter
from segcli.segmenter import default_model_dir

HERE = Path(__file__).parent


def model_sha256() -> str:
    return hashlib.sha256((default_model_dir() / "model.onnx").read_bytes()).hexdigest()


def outputs() -> dict[str, str]:
    lines = (HERE / "input.txt").read_text(encoding="utf-8").splitlines()
    result = {}
    for name, dicts in (("expected.txt", ()), ("expected_dict.txt", (HERE / "dict.txt",))):
        segmenter = Segmenter(dicts=dicts)
        result[name] = "".join(" ".join(words) + "\n" for words in segmenter.cut_lines(lines))
    return result


if __name__ == "__main__":
    for name, text in outputs().items():
        (HERE / name).write_text(text, encoding="utf-8")
    (HERE / "MODEL").write_text(model_sha256() + "\n")
    print("golden files rewritten for model", model_sha256()[:12])
