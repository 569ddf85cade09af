"""Byte-for-byte outputs of the shipped model (see tests/golden/regenerate.py)."""

from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


def _regenerate():
    import importlib.util

    spec = importlib.util.spec_from_file_location("regenerate", GOLDEN / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_golden_files_are_pinned_to_the_shipped_model():
    pinned = (GOLDEN / "MODEL").read_text().strip()
    assert _regenerate().model_sha256() == pinned, (
        "the shipped model changed: if on purpose, run python tests/golden/regenerate.py and review the diff"
    )


@pytest.mark.parametrize("name", ["expected.txt", "expected_dict.txt", "expected_ctb.txt", "expected_weibo.txt"])
def test_golden_output(name):
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert _regenerate().outputs()[name] == expected
