"""Heavy checks, kept out of CI: `pytest -m corpus` (needs `pip install .[train]`)."""

import json
import subprocess
import sys

import pytest
from conftest import SEG, dev_text

pytestmark = pytest.mark.corpus


def test_shipped_model_scores_its_recorded_dev_f1(tmp_path, seg_env):
    from segcli import Segmenter, corpus

    _, dev = corpus.split(corpus.read_corpus(corpus.default_corpus()))
    gold = tmp_path / "dev.txt"
    gold.write_text("".join(" ".join(words) + "\n" for words in dev), encoding="utf-8")
    run = subprocess.run(SEG + ["eval", str(gold), "--json"], capture_output=True, text=True, env=seg_env)
    assert run.returncode == 0, run.stderr
    scores = json.loads(run.stdout)
    recorded = Segmenter().metadata["dev"]
    assert scores["f1"] == pytest.approx(recorded["f1"], abs=1e-9)
    assert scores["oov_recall"] == pytest.approx(recorded["oov_recall"], abs=1e-9)
    assert scores["f1"] >= 0.96


def test_a_20_mb_line_segments_in_bounded_memory(tmp_path, seg_env):
    line = tmp_path / "line.txt"
    text = dev_text(7_000_000)
    line.write_bytes(text.encode()[:20_000_000].decode("utf-8", "ignore").encode())
    # A fresh parent, so that the peak is seg's own and no earlier child's.
    measure = ("import resource, subprocess, sys; "
               "r = subprocess.run(sys.argv[1:], stdin=sys.stdin, stdout=subprocess.PIPE); "
               "sys.stdout.buffer.write(r.stdout); "
               "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
               "sys.exit(r.returncode)")
    with open(line, "rb") as stdin:
        run = subprocess.run([sys.executable, "-c", measure, *SEG], stdin=stdin, capture_output=True, env=seg_env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count(b"\n") == 1
    assert run.stdout.replace(b" ", b"").rstrip(b"\n") == line.read_bytes()
    peak_mb = int(run.stderr.decode().strip().splitlines()[-1]) / 1024
    assert peak_mb < 1024, f"peak RSS {peak_mb:.0f} MB"
