"""Rewrites the golden outputs with part-of-speech tags (seg --pos) from the shipped model.

Run this when the model or its tagging head changes on purpose, then review the diff:
    python tests/golden/regenerate_pos.py && git diff tests/golden
"""

import hashlib
import json
from pathlib import Path

from segcli import Segmenter
from segcli.model import METADATA_FILE, MODEL_FILE, POS_HEAD_FILE, default_dir

HERE = Path(__file__).parent
OUTPUTS = ("expected_pos.txt", "expected_pos_ctb.txt")


def model_sha256() -> str:
    """One hash over what decides the tags: the graph (the cut), the head
    and the tag names of its columns."""
    tags = json.loads((default_dir() / METADATA_FILE).read_text(encoding="utf-8")).get("pos", {}).get("tags")
    digest = hashlib.sha256((default_dir() / MODEL_FILE).read_bytes())
    digest.update((default_dir() / POS_HEAD_FILE).read_bytes())
    digest.update(json.dumps(tags).encode())
    return digest.hexdigest()


def outputs() -> dict[str, str]:
    """seg --pos of input.txt, cut by the pku and the ctb standard: tags are PKU's whichever standard cuts."""
    lines = (HERE / "input.txt").read_text(encoding="utf-8").splitlines()
    result = {}
    for name, standard in zip(OUTPUTS, ("pku", "ctb")):
        segmenter = Segmenter(standard=standard)
        result[name] = "".join(" ".join(f"{w}/{t}" for w, t in pairs) + "\n" for pairs in segmenter.tag_lines(lines))
    return result


if __name__ == "__main__":
    for name, text in outputs().items():
        (HERE / name).write_text(text, encoding="utf-8")
    (HERE / "MODEL_POS").write_text(model_sha256() + "\n")
    print("tagged golden files rewritten for model", model_sha256()[:12])
