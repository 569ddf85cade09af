"""Read stage: lines of UTF-8 from binary streams, in pieces of bounded size.

Invalid bytes are decoded with surrogateescape and written back the same way,
so seg never changes or drops a byte it does not understand.
"""

from __future__ import annotations

import codecs
import sys
from typing import BinaryIO, Iterator, NamedTuple, Sequence

from .errors import InputError

ENCODING_ERRORS = "surrogateescape"
PIECE_BYTES = 1 << 18  # a longer line is read, and segmented, in pieces of about this size
_BOM = b"\xef\xbb\xbf"
# A piece ends after the last of these in its second half, where there is one.
_CUTS = ("。", "！", "？", "；", "!", "?", ";", " ", "\t", "，", ",")


class Piece(NamedTuple):
    text: str
    start: int  # character offset of `text` in its line
    ends_line: bool


def read_lines(stream: BinaryIO) -> Iterator[str]:
    """Whole lines without their terminator (\\n or \\r\\n); a leading BOM is dropped."""
    line: list[str] = []
    for piece in read_pieces(stream):
        line.append(piece.text)
        if piece.ends_line:
            yield "".join(line)
            line = []


def read_pieces(stream: BinaryIO, piece_bytes: int = PIECE_BYTES) -> Iterator[Piece]:
    """The stream's lines as pieces of at most about `piece_bytes`, so memory
    stays bounded whatever the line length. A piece boundary becomes a word
    boundary: it is put after punctuation or a space where the piece has one."""
    # The incremental decoder keeps a character split between two reads whole.
    decoder = codecs.getincrementaldecoder("utf-8")(ENCODING_ERRORS)
    pending = ""  # decoded, not yet handed out, of the current line
    start = 0
    chunk = stream.readline(piece_bytes)
    if chunk.startswith(_BOM):
        chunk = chunk[len(_BOM):]
    while True:
        pending += decoder.decode(chunk, final=not chunk)
        if chunk.endswith(b"\n") or (not chunk and (pending or start)):  # a line's end, or the stream's
            line = pending[:-1] if pending.endswith("\n") else pending
            yield Piece(line[:-1] if line.endswith("\r") and pending.endswith("\n") else line, start, True)
            pending, start = "", 0
        elif pending:
            cut = _cut_point(pending)
            if cut == len(pending) and pending.endswith("\r"):
                cut -= 1  # perhaps the first half of a "\r\n"
            if cut:
                yield Piece(pending[:cut], start, False)
                pending, start = pending[cut:], start + cut
        if not chunk:
            return
        chunk = stream.readline(piece_bytes)


def _cut_point(text: str) -> int:
    best = max(text.rfind(sep, len(text) // 2) + 1 for sep in _CUTS)
    return best or len(text)  # no such place: any character boundary will do


def check_inputs(names: Sequence[str]) -> None:
    """Raises InputError for the first file that cannot be opened, so that a
    missing one is reported before any output ("-" is standard input)."""
    for name in names:
        if name != "-":
            _open(name).close()


def read_inputs(names: Sequence[str]) -> Iterator[Piece]:
    """The pieces of each named file in turn (standard input for "-" or no
    names); a file that cannot be opened or read raises InputError."""
    for name in names or ("-",):
        if name == "-":
            yield from read_pieces(stdin())
            continue
        with _open(name) as stream:
            try:
                yield from read_pieces(stream)
            except OSError as e:
                raise InputError(f"{name}: {e.strerror}") from None


def stdin() -> BinaryIO:
    if sys.stdin is None:  # started with stdin closed (`seg <&-`)
        raise InputError("standard input is closed")
    return sys.stdin.buffer


def _open(name: str) -> BinaryIO:
    try:
        return open(name, "rb")
    except OSError as e:
        raise InputError(f"{name}: {e.strerror}") from None
