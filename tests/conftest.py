"""Shared fixtures for the segmenter and CLI tests.

No test pins a segmentation the model chooses (the model gets retrained);
only what a dictionary forces, or what the contract fixes (one-character
lines, whitespace boundaries, byte pass-through), is compared exactly.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# The tests (and the seg processes they start) keep their caches in a private
# directory of their own, never in the user's ~/.cache/seg.
if not os.environ.get("SEG_CACHE_DIR"):
    os.environ["SEG_CACHE_DIR"] = tempfile.mkdtemp(prefix="seg-tests-cache-")
    atexit.register(shutil.rmtree, os.environ["SEG_CACHE_DIR"], True)

ROOT = Path(__file__).resolve().parent.parent

# Newswire-like sentences, the kind of text the model is trained on.
DEV_LINES = [
    "扫描二维码，关注微信号。",
    "中共中央总书记、国家主席江泽民发表了新年讲话。",
    "一九九八年，中国经济保持了持续快速健康发展的良好势头。",
    "国务院总理在人民大会堂会见了来访的外国代表团。",
    "这次会议的主要任务是研究部署明年的经济工作。",
    "他说，科技进步和创新是经济发展的决定性因素。",
    "北京市政府决定进一步加强城市交通管理。",
    "记者从有关部门获悉，全国粮食总产量达到四千九百亿公斤。",
    "今天天气很好，我们去公园散步吧！",
    "2024年GDP增长5.2%，全年进出口总额约41.8万亿元。",
]


def dev_text(chars: int) -> str:
    """At least `chars` characters of dev-like text on one line."""
    text = "".join(DEV_LINES)
    return text * (chars // len(text) + 1)


@pytest.fixture(scope="session")
def segmenter():
    from segcli import Segmenter

    return Segmenter()


@pytest.fixture(scope="session")
def seg_env():
    """Environment for `python -m segcli` subprocesses that import the same
    segcli as these tests: the installed package in CI (the checkout has no
    compiled extension), the checkout when PYTHONPATH points at it."""
    import segcli

    env = dict(os.environ)
    package_parent = str(Path(segcli.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_parent, *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONSAFEPATH"] = "1"  # the working directory (a checkout) must not shadow it
    env.pop("PYTHONWARNINGS", None)
    return env


if sys.version_info >= (3, 11):
    SEG = [sys.executable, "-m", "segcli"]
else:
    # No PYTHONSAFEPATH before 3.11: `-m` would put the working directory (a
    # checkout without the compiled extension) first on sys.path; a script
    # puts its own directory there (tests/, no segcli in it). A path, not
    # code, so that SEG also stands in shell command lines.
    SEG = [sys.executable, str(Path(__file__).with_name("seg_main.py"))]


def python_c(code: str, *args: str) -> list[str]:
    """argv for `python -c CODE ARGS` that, run with seg_env, imports the same
    segcli as these tests, on every Python (see SEG)."""
    if sys.version_info < (3, 11):
        code = "import sys; del sys.path[0]\n" + code
    return [sys.executable, "-c", code, *args]


def cli_runner():
    """A CliRunner that keeps stderr apart on every click version."""
    import inspect

    from click.testing import CliRunner

    # click < 8.2 mixes stderr into stdout unless told not to; 8.2 dropped the flag.
    if "mix_stderr" in inspect.signature(CliRunner).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


def run(segmenter, lines, out, delimiter=" ", fmt="text", batch_chars=None):
    """stream.run with a Segmenter's renderer, as `seg` runs it."""
    from segcli import stream, writer
    from segcli.segmenter import renderer

    output = writer.Format(fmt, delimiter)
    stream.run(renderer(segmenter, output), lines, out, output, threads=segmenter.threads, batch_chars=batch_chars)
