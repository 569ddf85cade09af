"""Rewrites the golden outputs from the shipped model.

Run this only when the model changes on purpose, then review the diff:
    python tests/golden/regenerate.py && git diff tests/golden
"""

import hashlib
from pathlib import Path

from segcli import Segmenter
from segcli.model import LOOKUP_FILE, MODEL_FILE, NGRAMS_FILE, TRANSITIONS_FILE, VOCAB_FILE, default_dir

HERE = Path(__file__).parent


def model_sha256() -> str:
    """One hash over every model file that decides the output."""
    digest = hashlib.sha256()
    for name in (MODEL_FILE, NGRAMS_FILE, VOCAB_FILE, TRANSITIONS_FILE, LOOKUP_FILE):
        path = default_dir() / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    return digest.hexdigest()


def outputs() -> dict[str, str]:
    lines = (HERE / "input.txt").read_text(encoding="utf-8").splitlines()
    result = {}
    for name, dicts, standard in (("expected.txt", (), "pku"), ("expected_dict.txt", (HERE / "dict.txt",), "pku"),
                                  ("expected_ctb.txt", (), "ctb"), ("expected_weibo.txt", (), "weibo")):
        segmenter = Segmenter(dicts=dicts, standard=standard)
        result[name] = "".join(" ".join(words) + "\n" for words in segmenter.cut_lines(lines))
    return result


if __name__ == "__main__":
    for name, text in outputs().items():
        (HERE / name).write_text(text, encoding="utf-8")
    (HERE / "MODEL").write_text(model_sha256() + "\n")
    print("golden files rewritten for model", model_sha256()[:12])
