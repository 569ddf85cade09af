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

from segcli import dictread
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
    assert feeder.written <= 3 * dictread._PIECE_BYTES  # what the pipe holds besides one piece


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_reading_of_an_endless_dictionary(tmp_path, seg_env, text_file, signum):
    # Valid lines for ever: the file is read piece after piece, never refused.
    feeder = endless_dictionary(tmp_path, "词\n".encode() * 16384, until=4 * dictread._PIECE_BYTES)
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
    assert feeder.written < feeder.until + 16 * dictread._PIECE_BYTES


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


@pytest.mark.parametrize("piece_bytes", [dictread._PIECE_BYTES, 7, MAX_LINE_BYTES + 3])
@pytest.mark.parametrize("case", FILES)
def test_the_first_bad_line_is_the_one_reported_whatever_the_pieces(tmp_path, monkeypatch, case, piece_bytes):
    content, message = FILES[case]
    monkeypatch.setattr(dictread, "_PIECE_BYTES", piece_bytes)
    path = tmp_path / "F"
    path.write_bytes(content)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DictError) as info:
        load_dicts(["F"])
    assert str(info.value) == message


@pytest.mark.parametrize("piece_bytes", [dictread._PIECE_BYTES, 5, MAX_LINE_BYTES + 1])
def test_the_longest_line_allowed_and_the_longest_word(tmp_path, monkeypatch, piece_bytes):
    monkeypatch.setattr(dictread, "_PIECE_BYTES", piece_bytes)
    longest = "x" * (MAX_LINE_BYTES - 2) + ",2"
    path = tmp_path / "d.txt"
    path.write_text(f"\ufeff微信\r\n{longest}\n号码,3", encoding="utf-8")
    assert load_dicts([path]) == ({"微信": None, "x" * (MAX_LINE_BYTES - 2): 2.0, "号码": 3.0}, 0)


# --- multipliers: one rule for files and the API ----------------------------------

INF = float("inf")

# A multiplier as written in a file line or given to add_word as a string:
# its value, or why it is refused (the same words for both).
SPELLED = {
    "10": 10.0, "0.1": 0.1, "2e3": 2000.0, "+5": 5.0, ".5": 0.5, "5.": 5.0, "2E-3": 0.002,
    " 5 ": 5.0,  # whitespace around it is not part of it
    "0": 0.0, "-0": 0.0, "0e5": 0.0, "0.000": 0.0,  # forbid
    "force": INF, "FORCE": INF, "Force": INF,
    "1_000": "multiplier '1_000' is not a number",
    "１０": "multiplier '１０' is not a number",  # full-width digits
    "١٠": "multiplier '١٠' is not a number",  # Arabic-Indic digits
    "٣.٥": "multiplier '٣.٥' is not a number",
    "0x10": "multiplier '0x10' is not a number",
    "1e": "multiplier '1e' is not a number",
    "nan": "multiplier 'nan' is not a number",
    "inf": "multiplier 'inf' is infinite (write 'force' to force a word)",
    "Infinity": "multiplier 'Infinity' is infinite (write 'force' to force a word)",
    "-1": "multiplier '-1' is negative",
    "-1e-400": "multiplier '-1e-400' is negative",
    "1e400": "multiplier '1e400' is too large",
    "1e-400": "multiplier '1e-400' is too small to be told from 0 (write 0 to forbid the word)",
    "0.1e-323": "multiplier '0.1e-323' is too small to be told from 0 (write 0 to forbid the word)",
}


@pytest.fixture(scope="module")
def segmenter():
    from segcli import Segmenter

    return Segmenter()


def added(segmenter, word, multiplier):
    """What add_word stores for `multiplier`, or the DictError it raises."""
    try:
        segmenter.add_word(word, multiplier)
    except DictError as e:
        return str(e)
    try:
        return segmenter.entries[word]
    finally:
        segmenter.remove_word(word)


@pytest.mark.parametrize("spelling", SPELLED)
def test_a_spelled_multiplier_means_the_same_in_a_file_and_to_add_word(tmp_path, monkeypatch, segmenter, spelling):
    want = SPELLED[spelling]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "F").write_text(f"微信,{spelling}\n", encoding="utf-8")
    try:
        in_file = load_dicts(["F"])[0]["微信"]
    except DictError as e:
        in_file = str(e)
    assert in_file == (want if isinstance(want, float) else f"F:1: {want}")
    assert added(segmenter, "微信", spelling) == want
    assert added(segmenter, "微信", spelling) == want


NUMBERS = [
    (10, 10.0), (0.5, 0.5), (5e-324, 5e-324), (10**300, 1e300),
    (0, 0.0), (0.0, 0.0), (-0.0, 0.0),  # forbid
    (1e-400, 0.0),  # a float literal that Python has already made 0.0: forbid
    (INF, INF),  # force
    (10**400, "multiplier 1000000000000000000000000000000000000... for '微信' is too large"),
    (-1, "multiplier -1 for '微信' must be >= 0 or math.inf"),
    (-INF, "multiplier -inf for '微信' must be >= 0 or math.inf"),
    (float("nan"), "multiplier nan for '微信' must be >= 0 or math.inf"),
    (True, "multiplier True for '微信' is not a number"),  # not 1
    (False, "multiplier False for '微信' is not a number"),  # not 0
    (None, None),  # no multiplier: the word is listed, as a bare line
    ([2], "multiplier [2] for '微信' is not a number"),
]


@pytest.mark.parametrize(("number", "want"), NUMBERS, ids=[repr(n)[:20] for n, _ in NUMBERS])
def test_a_number_given_to_add_word(segmenter, number, want):
    assert added(segmenter, "微信", number) == want


def test_numbers_of_other_types_follow_the_same_rule(segmenter):
    from decimal import Decimal
    from fractions import Fraction

    import numpy as np

    assert added(segmenter, "微信", Fraction(1, 4)) == 0.25
    assert added(segmenter, "微信", np.float32(2)) == 2.0
    assert added(segmenter, "微信", Decimal("1e400")) == "multiplier Decimal('1E+400') for '微信' is too large"
    assert added(segmenter, "微信", Decimal("1e-400")) == (
        "multiplier Decimal('1E-400') for '微信' is too small to be told from 0 (write 0 to forbid the word)")
    assert added(segmenter, "微信", np.True_) == f"multiplier {np.True_!r} for '微信' is not a number"
