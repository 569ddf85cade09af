"""How the `seg` process ends: exit statuses on stop signals, stops deferred
until the lines being written are out, worker processes killed on the way.

Process-wide policy, for the command line (cli.py, __main__.py) and the
--jobs workers only: the library (the Segmenter, stream, writer) never
imports this module and never ends the process; it raises or returns.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Callable, TypeVar

# SIGHUP too: with the workers in groups of their own, a closed terminal
# reaches only seg, which must take them with it.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])}
WRITE_GRACE_SECONDS = 2.0  # how long a stop signal waits for lines being written

#: This process's worker processes (subprocess.Popen), killed by exit_now;
#: workers.py adds and discards them.
live_workers: set = set()
_writing = threading.Event()  # a batch's output is going out
_exit_status: list[int] = []  # a stop signal came while it was

Write = TypeVar("Write", bound=Callable)


def exit_on_signals() -> None:
    """Makes SIGINT, SIGTERM and SIGHUP end the process with status 128 +
    signal, after the lines being written by a deferring_stops() write (never
    a traceback, never half a line); one that whoever started the process
    ignores (nohup) stays ignored. For the main thread of the command.

    It takes over from segcli/__main__.py's first statements, whose handlers
    for the same signals end the process at once while nothing is written."""
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) != signal.SIG_IGN:  # ignored by whoever started seg (nohup, `&`): left so
            signal.signal(signum, _on_stop_signal)


def deferring_stops(write: Write) -> Write:
    """`write` (see writer.write_whole) made whole under exit_on_signals: a
    stop signal that comes while it runs ends the process once it is done,
    so the output never ends in half a line."""
    def guarded(*args, **kwargs):
        _writing.set()
        try:
            write(*args, **kwargs)
        finally:
            _writing.clear()
        if _exit_status:
            exit_now(_exit_status[0])

    return guarded  # type: ignore[return-value]


def _on_stop_signal(signum, frame) -> None:
    if not _writing.is_set():
        exit_now(128 + signum)
    if not _exit_status:
        _exit_status.append(128 + signum)
        # A reader that has stopped reading would keep the write, and so this
        # process, blocked for ever: past a grace period, leave anyway.
        timer = threading.Timer(WRITE_GRACE_SECONDS, exit_now, (128 + signum,))
        timer.daemon = True
        timer.start()


def exit_now(status: int) -> None:
    """Ends the process without interpreter shutdown: a reader thread may be
    blocked inside stdin, and shutdown would abort on its lock (and tearing
    down numpy, onnxruntime and the model's tables took ~30 ms of every run).
    Nothing of ours is left to flush: every batch was written whole and
    flushed (stdout's text layer is the caller's to flush, see __main__).
    Worker processes go first, killed, so that none outlives its parent."""
    for process in list(live_workers):
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):  # already reaped, or not started
            pass
    for process in list(live_workers):
        try:
            process.wait(timeout=5)
        except Exception:  # subprocess.TimeoutExpired (not imported without --jobs), OSError
            pass
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(status)
