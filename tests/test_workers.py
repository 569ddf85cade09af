"""The --jobs worker processes (workers.run_parallel): the same output as one
process, and no worker left behind when one cannot start or cannot be sent
its factory."""

import io
import sys

import pytest
from conftest import DEV_LINES, dev_text, run

from segcli import exits
from segcli.errors import WorkerDied
from segcli.segmenter import Recipe
from segcli.workers import run_parallel
from segcli.writer import Format

JOB_LINES = [*DEV_LINES * 30, "", "a\udc80b 𠀀", dev_text(5000), "  ", *DEV_LINES]


@pytest.mark.parametrize("fmt, delimiter", [("text", " "), ("jsonl", " "), ("text", "/")])
def test_run_parallel_equals_run(tmp_path, fmt, delimiter):
    d = tmp_path / "d.txt"
    d.write_text("码，关注微,force\n", encoding="utf-8")
    from segcli import Segmenter

    serial = io.BytesIO()
    run(Segmenter(dicts=[d]), JOB_LINES, serial, delimiter, fmt)
    parallel = io.BytesIO()
    run_parallel(Recipe(None, (str(d),)), iter(JOB_LINES), parallel, Format(fmt, delimiter), jobs=2,
                 chunk_chars=300)
    assert parallel.getvalue() == serial.getvalue()
    assert parallel.getvalue().count(b"\n") == len(JOB_LINES)
    if fmt == "text":
        assert "码，关注微".encode() in parallel.getvalue()


def test_run_parallel_leaves_no_worker_when_the_factory_cannot_travel():
    def local_factory(output):  # not importable by a worker: pickling refuses it
        raise AssertionError("never called")

    with pytest.raises(Exception, match="local_factory|pickle"):
        run_parallel(local_factory, iter(["你好"]), io.BytesIO(), jobs=2)
    assert not exits.live_workers


def test_run_parallel_without_an_interpreter_to_start_is_a_worker_error(monkeypatch):
    monkeypatch.setattr(sys, "executable", "")  # as in an embedded Python
    with pytest.raises(WorkerDied, match="cannot start a worker process"):
        run_parallel(Recipe(None), iter(["你好"]), io.BytesIO(), jobs=2)
    assert not exits.live_workers
