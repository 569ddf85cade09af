"""Reading dictionary files (segcli.dictfile) in bounded pieces: a file that is
not a dictionary (`--dict /dev/zero`, one endless line, a binary file) is
refused in one line after at most a piece of it, in bounded memory, and a stop
signal ends a run that is reading an endless dictionary."""

import os
import signal
import subprocess
import threading

import pytest
from conftest import SEG

from segcli import dictfile
from segcli.dictfile import MAX_LINE_BYTES, load_dicts
from segcli.errors import DictError

LONG = "line longer than any dictionary entry (over 4096 bytes): is this a dictionary?"
BINARY = "a binary file, not a dictionary"

# The address space a run may use: seg itself needs a few hundred MB; the
# whole of /dev/zero, or of an endless pipe, would not fit.
MEMORY_LIMIT_KB = 2 * 1024 * 1024


def limited(argv):
    """argv run with its address space limited (as `ulimit -v` does)."""
    return ["sh", "-c", f'ulimit -v {MEMORY_LIMIT_KB} && exec "$@"', "sh", *argv]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("扫描二维码，关注微信号。\n", encoding="utf-8")
    return path


def test_dev_zero_is_refused_in_one_line_in_bounded_memory(seg_env, text_file):
    proc = subprocess.run(limited([*SEG, "--dict", "/dev/zero", str(text_file)]), env=seg_env,
                          capture_output=True, timeout=120)
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert proc.stderr.decode() == f"seg: error: /dev/zero:1: a NUL byte (column 1): {BINARY}\n"


class Feeder(threading.Thread):
    """Writes `chunk` into a FIFO for ever (until its reader goes away),
    counting the bytes that got through."""

    def __init__(self, fifo, chunk: bytes):
        super().__init__(daemon=True)
        self.fifo, self.chunk, self.written = fifo, chunk, 0
        self.through = threading.Event()  # set once `until` bytes got through
        self.until = 0

    def run(self):
        try:
            with open(self.fifo, "wb", buffering=0) as f:
                while True:
                    self.written += f.write(self.chunk)
                    if self.written >= self.until:
                        self.through.set()
        except OSError:  # the reader went away (EPIPE)
            self.through.set()


def endless_dictionary(tmp_path, chunk: bytes, until: int = 0) -> Feeder:
    fifo = tmp_path / "endless.txt"
    os.mkfifo(fifo)
    feeder = Feeder(fifo, chunk)
    feeder.until = until
    feeder.start()
    return feeder


def test_an_endless_line_is_refused_after_a_piece(tmp_path, seg_env, text_file):
    feeder = endless_dictionary(tmp_path, b"x" * 65536)
    proc = subprocess.run(limited([*SEG, "--dict", str(feeder.fifo), str(text_file)]), env=seg_env,
                          capture_output=True, timeout=120)
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert proc.stderr.decode() == f"seg: error: {feeder.fifo}:1: {LONG}\n"
    assert feeder.written <= 3 * dictfile._PIECE_BYTES  # what the pipe holds besides one piece


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_reading_of_an_endless_dictionary(tmp_path, seg_env, text_file, signum):
    # Valid lines for ever: the file is read piece after piece, never refused.
    feeder = endless_dictionary(tmp_path, "词\n".encode() * 16384, until=4 * dictfile._PIECE_BYTES)
    proc = subprocess.Popen(limited([*SEG, "--dict", str(feeder.fifo), str(text_file)]), env=seg_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert feeder.through.wait(120), "seg never read the dictionary"
        assert proc.poll() is None
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert (proc.returncode, stdout, stderr) == (128 + signum, b"", b"")
    # Stopped where it was, not once the endless file had filled the memory
    # allowed (as when the whole file was read at once: 2 GB, then MemoryError).
    feeder.join(60)
    assert feeder.written < feeder.until + 16 * dictfile._PIECE_BYTES


# --- what a bad file says, and where --------------------------------------------

FILES = {
    "a line too long": (b"ok\n\n" + b"x" * (MAX_LINE_BYTES + 1) + b"\nok2\n", f"F:3: {LONG}"),
    "the last line too long, no line end": (b"ok\n" + "微".encode() * 2000, f"F:2: {LONG}"),
    "a NUL": ("微信\n号\0码\n".encode(), f"F:2: a NUL byte (column 4): {BINARY}"),
    "a NUL after a BOM": (b"\xef\xbb\xbf\0", f"F:1: a NUL byte (column 1): {BINARY}"),
    "a NUL before a long line": (b"a\0\n" + b"x" * 5000, f"F:1: a NUL byte (column 2): {BINARY}"),
    "a long line before a NUL": (b"x" * 5000 + b"\na\0", f"F:1: {LONG}"),
    "invalid UTF-8 before a NUL": (b"ok\n\xff\n\0", "F:2: invalid UTF-8 (byte 0xff at column 1)"),
}


@pytest.mark.parametrize("piece_bytes", [dictfile._PIECE_BYTES, 7, MAX_LINE_BYTES + 3])
@pytest.mark.parametrize("case", FILES)
def test_the_first_bad_line_is_the_one_reported_whatever_the_pieces(tmp_path, monkeypatch, case, piece_bytes):
    content, message = FILES[case]
    monkeypatch.setattr(dictfile, "_PIECE_BYTES", piece_bytes)
    path = tmp_path / "F"
    path.write_bytes(content)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DictError) as info:
        load_dicts(["F"])
    assert str(info.value) == message


@pytest.mark.parametrize("piece_bytes", [dictfile._PIECE_BYTES, 5, MAX_LINE_BYTES + 1])
def test_the_longest_line_allowed_and_the_longest_word(tmp_path, monkeypatch, piece_bytes):
    monkeypatch.setattr(dictfile, "_PIECE_BYTES", piece_bytes)
    longest = "x" * (MAX_LINE_BYTES - 2) + ",2"
    path = tmp_path / "d.txt"
    path.write_text(f"\ufeff微信\r\n{longest}\n号码,3", encoding="utf-8")
    assert load_dicts([path]) == ({"微信": 10.0, "x" * (MAX_LINE_BYTES - 2): 2.0, "号码": 3.0}, 0)
