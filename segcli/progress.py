"""A progress bar on stderr for long runs over files of known size.

Drawn only when a person watches (stderr is a terminal) and the total is
known (every input a regular file, standard input included when it is
redirected from one); never on pipes, never in the output.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from typing import Iterable, Iterator, Sequence, TextIO

from .reader import ENCODING_ERRORS, Piece

REDRAW_SECONDS = 0.2


def input_bytes(names: Sequence[str]) -> int | None:
    """The total size of the inputs ("-" or none: standard input), or None
    when one of them is not a regular file (a pipe, a terminal)."""
    total = 0
    for name in names or ("-",):
        try:
            info = os.fstat(sys.stdin.fileno()) if name == "-" else os.stat(name)
        except (OSError, AttributeError, ValueError):  # stdin closed or replaced
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        total += info.st_size
    return total


def wanted(names: Sequence[str], quiet: bool, *, stdout_is_terminal: bool,
           stderr: TextIO | None = None) -> int | None:
    """The total to draw a bar against, or None when no bar should be drawn
    (quiet, stderr not a terminal, output going to a terminal, or a total
    that is not known)."""
    stderr = stderr if stderr is not None else sys.stderr
    if quiet or stderr is None or not stderr.isatty() or stdout_is_terminal:
        return None
    total = input_bytes(names)
    return total or None


class Bar:
    """bytes read of total, characters per second, time left: one line,
    redrawn in place at most every REDRAW_SECONDS."""

    def __init__(self, total_bytes: int, out: TextIO, clock=time.monotonic):
        self.total = total_bytes
        self.out = out
        self.clock = clock
        self.started = clock()
        self.drawn_at = 0.0
        self.bytes = 0
        self.chars = 0
        self.closed = False

    def advance(self, nbytes: int, nchars: int) -> None:
        self.bytes += nbytes
        self.chars += nchars
        now = self.clock()
        if not self.closed and now - self.drawn_at >= REDRAW_SECONDS:
            self.drawn_at = now
            self.out.write("\r" + self.line(now))
            self.out.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        done = min(self.bytes / self.total, 1.0) if self.total else 1.0
        rate = self.chars / elapsed
        left = elapsed * (1 - done) / done if done > 0 else None
        width = 24
        filled = int(done * width)
        eta = _duration(left) if left is not None else "?"
        return (f"seg [{'#' * filled}{'.' * (width - filled)}] {done:4.0%} "
                f"{_size(self.bytes)}/{_size(self.total)}  {rate / 1000:,.0f}k chars/s  {eta} left ")

    def close(self) -> None:
        """Clears the bar's line (once; later calls and draws do nothing)."""
        if self.closed:
            return
        self.closed = True
        self.out.write("\r\x1b[K")  # leaves the terminal line as it was
        self.out.flush()


def track(pieces: Iterable[Piece], bar: Bar) -> Iterator[Piece]:
    """The pieces unchanged, counted on the bar as they are read."""
    try:
        for piece in pieces:
            nbytes = len(piece.text.encode("utf-8", ENCODING_ERRORS)) + piece.ends_line
            bar.advance(nbytes, len(piece.text))
            yield piece
    finally:
        bar.close()


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
