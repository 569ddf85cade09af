"""Stop signals (SIGINT, SIGTERM, SIGHUP) at any moment of a `seg` run, from
its first statement to well into a `seg --jobs N` run.

Each run must end with status 128 + signal, print no traceback, leave no
worker process behind and write only whole lines. Its input never ends (the
test feeds the lines round and round until seg is gone), so however fast seg
gets it is always still running when the signal comes. At the start, a
signal sent as seg imports each of its modules in turn must end it the same
way. CI runs a few runs; the full campaigns (300 runs into the work, 600
into the first 150 ms) are

    pytest -m stress -rP tests/test_stop_signals.py

the start-up one printing how many of its signals came during Python's own
start-up, before seg's first statement, and what those did.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import SEG, dev_text

LINES = [dev_text(120)[: 60 + k % 60] for k in range(30000)]
STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
SIGNAL_NAMES = [signum.name for signum in STOP_SIGNALS]


DATA = ("\n".join(LINES) + "\n").encode()


def feed_forever(proc: subprocess.Popen) -> threading.Thread:
    """Writes LINES to the process's stdin again and again until it goes away."""
    def feed():
        try:
            while True:
                proc.stdin.write(DATA)
        except (BrokenPipeError, OSError, ValueError):  # seg has ended (or stdin was closed)
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    return feeder


def _read_in_threads(proc: subprocess.Popen) -> tuple[list[bytes], list[bytes], list[threading.Thread]]:
    """Reads the process's stdout and stderr to their ends, each in a thread
    of its own; each list holds its stream's bytes once its thread is done."""
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read())) for s, b in
               ((proc.stdout, out), (proc.stderr, err))]
    for reader in readers:
        reader.start()
    return out, err, readers


def _write_and_close(stream, data: bytes) -> None:
    try:
        stream.write(data)
        stream.close()
    except (BrokenPipeError, OSError, ValueError):  # seg has ended
        pass


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has installed its own SIGTERM handler (SigCgt in
    /proc), the last of seg's stop handlers (segcli/__main__.py): from then
    on seg, not Python's start-up, answers signals."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def _stat(pid) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _session_members(sid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(entry)
            if fields is not None and int(fields[3]) == sid and fields[0] != "Z":  # fields[3]: session id
                members.append(int(entry))
    return members


def _workers_of(pid: int) -> list[int]:
    """The --jobs workers seg has started (its children running segcli.workers)."""
    workers = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    for child in children:
        try:
            if b"segcli.workers" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(int(child))
        except OSError:
            pass
    return workers


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def interrupted_run(seg_env, jobs: int, signum: int, delay: float) -> None:
    # Its own session: the SIGINT goes to the whole process group, as Ctrl-C in
    # a terminal does (--jobs workers have groups of their own, so only seg gets
    # it); SIGTERM goes to seg alone, as `kill` does. Workers stay in the
    # session, so the check for processes left behind sees them.
    proc = subprocess.Popen(SEG + ["--jobs", str(jobs)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=seg_env, start_new_session=True)
    feed_forever(proc)
    out, err, readers = _read_in_threads(proc)
    try:
        deadline = time.monotonic() + 60
        while not _catches_sigterm(proc.pid) and proc.poll() is None:
            assert time.monotonic() < deadline, "seg never installed its signal handlers"
            time.sleep(0.005)
        time.sleep(delay)
        # Where workers have sessions of their own (Python < 3.11) the session
        # check below cannot see them: those already started are checked by pid.
        workers = _workers_of(proc.pid)
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)
        else:
            os.kill(proc.pid, signum)
        status = proc.wait(timeout=60)
        for reader in readers:
            reader.join(timeout=60)
        stdout, stderr = out[0], err[0]
        context = f"--jobs {jobs}, signal {signum} after {delay:.3f}s: status {status}, stderr {stderr[-500:]!r}"
        assert status == 128 + signum, context
        assert stderr == b"", context
        text = stdout.decode()
        assert text == "" or text.endswith("\n"), context
        got = text.split("\n")[:-1]
        expected = LINES * (len(got) // len(LINES) + 1)
        assert [line.replace(" ", "") for line in got] == expected[: len(got)], context
        deadline = time.monotonic() + 10
        while (_session_members(proc.pid) or any(map(_alive, workers))) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _session_members(proc.pid) == [], f"processes left behind; {context}"
        assert not any(map(_alive, workers)), f"workers left behind; {context}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        proc.stdin.close()


@pytest.mark.parametrize("jobs", [2, 3])
@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=SIGNAL_NAMES)
def test_stop_signal_while_running(seg_env, jobs, signum):
    rng = random.Random(f"{jobs}-{signum}")
    for _ in range(2):
        interrupted_run(seg_env, jobs, signum, rng.uniform(0, 2.5))


@pytest.mark.stress
@pytest.mark.parametrize("run", range(50))
@pytest.mark.parametrize("jobs", [2, 3])
@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=SIGNAL_NAMES)
def test_stop_signal_stress(seg_env, jobs, signum, run):
    # Moments from the handlers' installation to well into the output:
    # model loading, workers starting, chunks being fed, results collected.
    interrupted_run(seg_env, jobs, signum, random.Random(f"{jobs}-{signum}-{run}").uniform(0, 3.0))


def test_a_killed_worker_is_one_line_error(seg_env):
    proc = subprocess.Popen(SEG + ["--jobs", "2"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=seg_env)
    feed_forever(proc)
    try:
        deadline = time.monotonic() + 60
        workers = []
        while not workers:
            assert time.monotonic() < deadline and proc.poll() is None, "no worker started"
            time.sleep(0.05)
            workers = _workers_of(proc.pid)
        os.kill(workers[0], signal.SIGKILL)
        assert proc.wait(timeout=60) == 1
        stderr = proc.stderr.read().decode()
        assert stderr.startswith("seg: error: a worker process ended unexpectedly") and stderr.count("\n") == 1
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stderr.close()


def test_workers_of_a_killed_seg_end_quietly(seg_env):
    # SIGKILL leaves seg no say: its workers see their pipes close and end
    # at once, without a traceback (their stderr is seg's).
    proc = subprocess.Popen(SEG + ["--jobs", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=seg_env, start_new_session=True)
    feed_forever(proc)
    try:
        deadline = time.monotonic() + 60
        while len(workers := _workers_of(proc.pid)) < 2 or not proc.stdout.read(1):
            assert time.monotonic() < deadline and proc.poll() is None, "no output from two workers"
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 10
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, workers))
        proc.stdout.close()
        assert proc.stderr.read() == b""  # every holder of the pipe is gone: this returns
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.stdin.close()
        proc.stderr.close()


@pytest.mark.parametrize("signum, args", [
    pytest.param(signal.SIGHUP, [], id="SIGHUP"),  # nohup
    pytest.param(signal.SIGHUP, ["--jobs", "2"], id="SIGHUP --jobs 2"),
    pytest.param(signal.SIGINT, [], id="SIGINT"),  # `seg ... &` in a script
    pytest.param(signal.SIGTERM, [], id="SIGTERM"),
])
def test_a_stop_signal_ignored_at_start_stays_ignored(seg_env, signum, args):
    """The signal, sent again and again from seg's start to its end, neither
    kills seg nor stops its work."""
    text = "".join(line + "\n" for line in LINES[:600])
    proc = subprocess.Popen(SEG + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=seg_env, preexec_fn=lambda: signal.signal(signum, signal.SIG_IGN))
    out, err, readers = _read_in_threads(proc)
    feeder = threading.Thread(target=_write_and_close, args=(proc.stdin, text.encode()), daemon=True)
    feeder.start()
    try:
        deadline = time.monotonic() + 120
        while _alive(proc.pid):  # never reaped meanwhile, so the pid cannot be another process's
            assert time.monotonic() < deadline, "seg did not finish"
            os.kill(proc.pid, signum)
            time.sleep(0.005)
        assert proc.wait() == 0
        for thread in (feeder, *readers):
            thread.join(timeout=60)
        assert err[0] == b""
        assert [line.replace(" ", "") for line in out[0].decode().splitlines()] == LINES[:600]
    finally:
        proc.kill()
        proc.wait()


# --- the start ------------------------------------------------------------------------

# What pip's `seg` script and `python -m segcli` run, after a hook that makes
# the process send itself `signum` as it first looks for `trigger`: one moment
# of seg's start hit exactly, whatever the machine's speed.
SIGNAL_AT_IMPORT = """\
import os, sys

signum, trigger = int(sys.argv[1]), sys.argv[2]
del sys.argv[1:]


class SignalAtImport:
    def find_spec(self, name, path=None, target=None):
        if name == trigger:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signum)
        return None  # the import goes on as usual


sys.meta_path.insert(0, SignalAtImport())
"""
ENTRIES = {
    "seg": "from segcli.__main__ import main\nsys.exit(main())",
    "python -m segcli": "import runpy\nrunpy.run_module('segcli', run_name='__main__', alter_sys=True)",
}


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=SIGNAL_NAMES)
@pytest.mark.parametrize("entry, trigger", [
    ("seg", "segcli.exits"),  # the first import after the stop handlers, seg's first statements
    ("python -m segcli", "segcli.exits"),
    ("seg", "click"),  # the command line (SIGHUP killed seg until the command's own policy was in place)
    ("seg", "numpy"),  # the model's libraries: numpy before that policy, onnxruntime after
    ("seg", "onnxruntime"),
])
def test_a_stop_signal_during_seg_s_imports_ends_it_quietly(seg_env, tmp_path, entry, trigger, signum):
    proc = subprocess.run([sys.executable, "-c", SIGNAL_AT_IMPORT + ENTRIES[entry], str(int(signum)), trigger],
                          input=(LINES[0] + "\n").encode(), capture_output=True, env=seg_env, cwd=tmp_path,
                          timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (128 + signum, b"", "")


STARTS = 100  # runs of the start-up campaign, for each command and signal


def _console_script() -> list[str]:
    """The `seg` command pip wrote beside this Python: what a user runs."""
    script = Path(sys.executable).with_name("seg")
    if not script.exists():
        pytest.skip(f"no {script}: segcli is not installed in this Python's environment")
    return [str(script)]


_SEG_FRAME = re.compile(rb'File "[^"]*[/\\]segcli[/\\]([^"/\\]+)", line (\d+)')


def _handlers_line() -> int:
    """The line of segcli/__main__.py that installs the stop handlers."""
    import segcli

    source = Path(segcli.__file__).with_name("__main__.py").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(source, 1) if "_signal.signal(" in line)


def _outcome(signum: int, status: int, out: bytes, err: bytes) -> str:
    """What a run stopped by `signum` did, in words: "clean" is what seg
    promises. A KeyboardInterrupt is placed by its innermost frame in seg's
    code; Python's own start-up has many ways to report one (a fatal error in
    init_import_site or init_sys_streams; site's 'Error processing line' of a
    .pth file; 'Exception ignored in' a callback, 'Failed checking if argv[0]
    is an import path entry', where the signal is lost and the run goes on),
    told apart by their first line."""
    if status == 128 + signum and err == b"" and (out == b"" or out.endswith(b"\n")):
        return "clean"
    if status == -signum and err == b"" and out == b"":
        return "killed by the signal"
    if signum == signal.SIGINT and b"KeyboardInterrupt" in err:
        frames = _SEG_FRAME.findall(err)  # outermost first
        if not frames:
            where = "in Python's start-up"
        else:
            name, line = frames[-1][0].decode(), int(frames[-1][1])
            if not (name == "__init__.py" or (name == "__main__.py" and line <= _handlers_line())):
                return f"a KeyboardInterrupt in seg's code, segcli/{name} line {line}: stderr {err[-300:]!r}"
            where = f"in segcli/{name}, before the stop handlers"  # __init__ runs before __main__
        first_line = re.sub(r" at 0x[0-9a-f]+", "", err.split(b"\n", 1)[0].decode())
        return f"a KeyboardInterrupt {where}: status {status}, {first_line!r}"
    return f"status {status}, stdout {out[-100:]!r}, stderr {err[-300:]!r}"


def _before_seg(outcome: str) -> bool:
    """Whether it is what a signal that came before seg's stop handlers may do:
    what Python does (killed by it before Python's SIGINT handler, whatever
    Python's start-up makes of a KeyboardInterrupt), seg's handlers just in
    time, or a KeyboardInterrupt in the package's __init__ or in __main__'s
    lines before the handlers."""
    return outcome in ("clean", "killed by the signal") or outcome.startswith(
        ("a KeyboardInterrupt in Python's start-up", "a KeyboardInterrupt in segcli/"))


def stopped_at_start(command: list[str], seg_env, signum: int, delay: float) -> tuple[str, bool]:
    """Starts `command` on one line (stdin left open: it waits for more), sends
    it `signum` `delay` seconds later; returns what the run did and whether
    seg's handlers were in place before the signal went."""
    started = time.monotonic()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=seg_env)
    try:
        proc.stdin.write((LINES[0] + "\n").encode())
        proc.stdin.flush()
        time.sleep(max(0.0, started + delay - time.monotonic()))
        handled = _catches_sigterm(proc.pid)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    return _outcome(signum, proc.returncode, out, err), handled


@pytest.mark.stress
@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=SIGNAL_NAMES)
@pytest.mark.parametrize("entry", ["seg", "python -m segcli"])
def test_stop_signal_at_start_stress(seg_env, entry, signum):
    # Moments in the first 150 ms, Python's start-up included: once seg's
    # handlers are in place every run must be clean; before, the signal meets
    # Python (_before_seg), and the tally says how often.
    command = _console_script() if entry == "seg" else SEG
    rng = random.Random(f"start-{entry}-{signum}")
    tally: Counter = Counter()
    for _ in range(STARTS):
        delay = rng.uniform(0, 0.150)
        outcome, handled = stopped_at_start(command, seg_env, signum, delay)
        context = f"{entry}, signal {signum} after {delay * 1000:.0f} ms: {outcome}"
        assert (outcome == "clean") if handled else _before_seg(outcome), context
        tally["after seg's handlers" if handled else f"before them: {outcome}"] += 1
    print(f"{entry}, {signal.Signals(signum).name}, {STARTS} runs in the first 150 ms:",
          "; ".join(f"{count} {what}" for what, count in sorted(tally.items())))
