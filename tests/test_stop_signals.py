"""Ctrl-C and SIGTERM at random moments of a `seg --jobs N` run.

Each run must end with status 128 + signal, print no traceback, leave no
worker process behind and write only whole lines. Its input never ends (the
test feeds the lines round and round until seg is gone), so however fast seg
gets it is always still running when the signal comes. CI runs a few runs;
the full campaign (200 runs) is

    pytest -m stress tests/test_stop_signals.py
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import SEG, dev_text

LINES = [dev_text(120)[: 60 + k % 60] for k in range(30000)]


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


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has installed its own SIGTERM handler (SigCgt in
    /proc): from then on seg, not Python's start-up, answers signals."""
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
    out, err = [], []
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read())) for s, b in
               ((proc.stdout, out), (proc.stderr, err))]
    for reader in readers:
        reader.start()
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
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_stop_signal_while_running(seg_env, jobs, signum):
    rng = random.Random(f"{jobs}-{signum}")
    for _ in range(2):
        interrupted_run(seg_env, jobs, signum, rng.uniform(0, 2.5))


@pytest.mark.stress
@pytest.mark.parametrize("run", range(50))
@pytest.mark.parametrize("jobs", [2, 3])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
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


@pytest.mark.parametrize("args", [[], ["--jobs", "2"]])
def test_sighup_ignored_at_start_stays_ignored(seg_env, args):
    """As under nohup: seg neither dies of a SIGHUP nor stops its work."""
    text = "".join(line + "\n" for line in LINES[:3000])
    proc = subprocess.Popen(SEG + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=seg_env, preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    try:
        proc.stdin.write(text[: len(text) // 2].encode())
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while not _catches_sigterm(proc.pid):
            assert time.monotonic() < deadline and proc.poll() is None, "seg never installed its signal handlers"
            time.sleep(0.005)
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(text[len(text) // 2:].encode(), timeout=120)
        assert (proc.returncode, err) == (0, b"")
        assert [line.replace(" ", "") for line in out.decode().splitlines()] == LINES[:3000]
    finally:
        proc.kill()
        proc.wait()
