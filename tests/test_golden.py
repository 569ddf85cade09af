"""Byte-for-byte outputs of the shipped model (see tests/golden/regenerate.py)."""

from pathlib import Path

import pytest
from conftest import cli_runner

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


# The README's shell examples: (input, arguments, output), each shown there as is.
README_EXAMPLES = [
    ("扫描二维码，关注微信号。", [], "扫描 二维码 ， 关注 微信号 。"),
    ("科学空间是一个博客。", [], "科学 空间 是 一个 博客 。"),
    ("科学空间是一个博客。", ["--dict", "dicts/example.txt"], "科学空间 是 一个 博客 。"),
    ("我们在元宇宙里开会。", ["--dict", "dicts/example.txt"], "我们 在 元宇宙 里 开会 。"),
    ("他在直播带货。", [], "他 在 直播 带货 。"),
    ("他在直播带货。", ["--dict", "dicts/example.txt"], "他 在 直播带货 。"),
]


@pytest.mark.parametrize("text, args, expected", README_EXAMPLES)
def test_readme_examples_print_what_they_show(text, args, expected):
    from segcli.cli import main

    root = GOLDEN.parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8") + (root / "dicts" / "README.md").read_text(encoding="utf-8")
    assert expected in readme
    args = [str(root / a) if a.endswith(".txt") else a for a in args]
    result = cli_runner().invoke(main, args, input=(text + "\n").encode())
    assert result.exit_code == 0 and result.stdout == expected + "\n"
