"""The progress bar: drawn only for a person watching a file of known size."""

import io
import os
import pty
import select
import subprocess

from conftest import SEG
from segcli import progress
from segcli.reader import Piece


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bar_counts_bytes_and_characters_and_clears_its_line():
    clock = Clock()
    out = io.StringIO()
    bar = progress.Bar(30, out, clock=clock)
    pieces = [Piece("你好", 0, True), Piece("世界和", 0, True)]  # 6 + 1 and 9 + 1 bytes
    seen = []
    for piece in progress.track(pieces, bar):
        clock.now += 1.0
        seen.append(piece)
    assert seen == pieces
    assert (bar.bytes, bar.chars) == (17, 5)
    assert "57%" in bar.line(2.0) and "17 B/30 B" in bar.line(2.0)
    assert out.getvalue().endswith("\r\x1b[K")


def test_no_bar_when_not_a_terminal_or_quiet(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("你好\n", encoding="utf-8")
    assert progress.wanted([str(path)], quiet=False, stderr=io.StringIO(), stdout_is_terminal=False) is None
    assert progress.wanted([str(path)], quiet=True, stderr=Terminal(), stdout_is_terminal=False) is None
    assert progress.wanted([str(path)], quiet=False, stderr=Terminal(), stdout_is_terminal=True) is None
    assert progress.wanted([str(path)], quiet=False, stderr=Terminal(), stdout_is_terminal=False) == \
        path.stat().st_size


def test_closing_twice_clears_once_and_a_closed_bar_draws_nothing():
    out = io.StringIO()
    bar = progress.Bar(10, out)
    bar.close()
    bar.close()
    bar.advance(5, 2)
    assert out.getvalue() == "\r\x1b[K"


def test_no_bar_for_a_pipe(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert progress.input_bytes([str(fifo)]) is None


def test_bar_drawn_on_a_terminal_stderr_only(seg_env, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("扫描二维码，关注微信号。\n" * 2000, encoding="utf-8")
    expected = subprocess.run([*SEG, str(path)], capture_output=True, env=seg_env, check=True).stdout
    main, side = pty.openpty()
    try:
        done = subprocess.run([*SEG, str(path)], stdout=subprocess.PIPE, stderr=side, env=seg_env, check=True)
        os.close(side)
        side = None
        drawn = b""
        while select.select([main], [], [], 0.5)[0]:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal's other end is closed
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if side is not None:
            os.close(side)
        os.close(main)
    assert done.stdout == expected
    assert b"%" in drawn and b"chars/s" in drawn and drawn.endswith(b"\r\x1b[K")


def test_quiet_output_is_unchanged(seg_env, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("扫描二维码，关注微信号。\n", encoding="utf-8")
    loud = subprocess.run([*SEG, str(path)], capture_output=True, env=seg_env, check=True)
    quiet = subprocess.run([*SEG, "--quiet", str(path)], capture_output=True, env=seg_env, check=True)
    assert loud.stdout == quiet.stdout and loud.stderr == quiet.stderr == b""
