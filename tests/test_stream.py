"""Streaming (stream.run, stream.pipe): batches in order, answers that never
wait on a stalled input, and the exit policy's part in writing (exits.py):
the library raises, only the command's installed policy ends the process."""

import ast
import io
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import DEV_LINES, python_c, run
from hypothesis import given, settings
from hypothesis import strategies as st

import segcli
from segcli import Segmenter
from segcli.stream import pipe


@pytest.mark.parametrize("threads", [1, 2])
def test_run_answers_each_line_before_the_input_continues(threads):
    segmenter = Segmenter(threads=threads)
    written = threading.Event()

    class Out(io.BytesIO):
        def write(self, data):
            written.set()
            return super().write(data)

    def lines():
        for line in ["扫描二维码", "", "关注微信号"]:
            written.clear()
            yield line
            # A reader that blocks after one line (a terminal, tail -f) must
            # not be kept waiting for its answer.
            assert written.wait(timeout=30), f"no answer to {line!r} while the input waits"

    out = Out()
    run(segmenter, lines(), out, batch_chars=1)
    assert out.getvalue().count(b"\n") == 3


def test_run_default_batches_lines():
    segmenter = Segmenter(threads=1)  # threads close a batch early when the input stalls
    pulled = []

    def lines():
        for k in range(50):
            pulled.append(k)
            yield DEV_LINES[k % len(DEV_LINES)]

    class Out(io.BytesIO):
        def write(self, data):
            writes.append(len(pulled))
            return super().write(data)

    writes = []
    run(segmenter, lines(), Out())
    assert writes == [50]  # a few KB: one batch


@pytest.mark.parametrize("kind", [list, tuple, iter])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_pipe_answers_every_item_in_order_however_the_items_come(kind, threads):
    """Items in memory skip the reader thread; a generator goes through it:
    either way each batch comes back whole, in input order, batches closing
    at batch_chars, while batches finish out of order on the threads."""
    items = [f"{k:03d}" * (1 + k % 7) for k in range(300)]

    def slow_upper(batch):
        time.sleep(0.001 * (len(batch) % 3))  # later batches may finish first
        return [item.upper() + "!" for item in batch]

    batches = list(pipe(kind(items), slow_upper, threads=threads, batch_chars=40))
    assert [item for batch in batches for item, _ in batch] == items
    assert all(result == item.upper() + "!" for batch in batches for item, result in batch)
    assert all(sum(len(item) + 1 for item, _ in batch[:-1]) < 40 for batch in batches)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("ab", max_size=20), max_size=30), st.integers(1, 60))
def test_pipe_cuts_items_in_memory_as_it_cuts_a_stream(items, batch_chars):
    def cut(source):
        return [[item for item, _ in batch] for batch in pipe(source, list, batch_chars=batch_chars)]

    assert cut(items) == cut(iter(items))


def test_pipe_raises_what_reading_raised_after_what_came_before():
    def items():
        yield from ["a", "b", "c"]
        raise OSError("the disk went away")

    seen = []
    with pytest.raises(OSError, match="the disk went away"):
        for batch in pipe(items(), lambda batch: batch, threads=2, batch_chars=1):
            seen += [item for item, _ in batch]
    assert seen == ["a", "b", "c"]


# --- the exit policy: only the command ends the process -------------------------------

LIBRARY = ("segmenter.py", "stream.py", "writer.py", "reader.py", "decode.py", "encode.py", "score.py",
           "dictionary.py", "atoms.py", "model.py")


@pytest.mark.parametrize("name", LIBRARY)
def test_library_modules_never_end_the_process(name):
    tree = ast.parse((Path(segcli.__file__).parent / name).read_text(encoding="utf-8"))
    calls = {f"{node.func.value.id}.{node.func.attr}" for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assert not calls & {"os._exit", "sys.exit", "os.abort"}
    assert "exits" not in imported and not any("exit_now" in name for name in imported)


# A stop signal that comes in the middle of a write: the out's write sends it.
STOP_DURING_A_WRITE = """
import io, os, signal, sys
from segcli import exits, stream, writer

class Out(io.BytesIO):
    def write(self, data):
        os.kill(os.getpid(), signal.SIGINT)
        sys.stderr.write("written ")
        return super().write(data)

signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, whoever started this
write = writer.write_whole
if sys.argv[1] == "policy":
    exits.exit_on_signals()
    write = exits.deferring_stops(write)
try:
    stream.run(lambda pieces: [piece.text.encode() for piece in pieces], ["a", "b"], Out(), batch_chars=1,
               write=write)
except KeyboardInterrupt:
    sys.stderr.write("raised")
"""


@pytest.mark.parametrize("policy, status, stderr", [
    ("none", 0, "raised"),  # the library: the interrupt reaches the caller
    ("policy", 130, "written "),  # the command's: the lines go out whole, then the process ends
])
def test_a_stop_during_a_write_ends_the_process_only_under_the_commands_policy(seg_env, policy, status, stderr):
    proc = subprocess.run(python_c(STOP_DURING_A_WRITE, policy), env=seg_env, capture_output=True,
                          timeout=60)
    assert (proc.returncode, proc.stderr.decode()) == (status, stderr)


def test_exit_now_kills_the_workers_it_knows_of(seg_env):
    code = ("import subprocess, sys; from segcli import exits; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            "exits.live_workers.add(p); print(p.pid, flush=True); exits.exit_now(3)")
    proc = subprocess.run(python_c(code), env=seg_env, capture_output=True, timeout=60)
    assert proc.returncode == 3
    pid = int(proc.stdout)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped, not left running
