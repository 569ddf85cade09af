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
_LINE_ENDS = (b"", b"\n", b"\r\n")  # what may follow the last read of a line
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
    boundary: it is put after punctuation or a space where the piece has one.
    Where a line is cut depends on its bytes alone, not on how it ends (\\n,
    \\r\\n or the stream's end); a line that fits in `piece_bytes` (its
    terminator not counted) is one piece."""
    piece_bytes = max(piece_bytes, 2)  # a "\r\n" is one read
    # The incremental decoder keeps a character split between two reads whole.
    decoder = codecs.getincrementaldecoder("utf-8")(ENCODING_ERRORS)
    line = _Line()
    data = stream.readline(piece_bytes)
    if data.startswith(_BOM):
        data = data[len(_BOM):] or stream.readline(piece_bytes)
    while data:
        if data.endswith(b"\n"):
            text = decoder.decode(data)
            if line.is_new():  # the common case, kept short: a whole line in one read
                yield Piece(text[:-2] if text.endswith("\r\n") else text[:-1], 0, True)
            else:
                yield line.end(text)
            data = stream.readline(piece_bytes)
            continue
        # A read without a "\n" ends its line where only a bare terminator
        # or the stream's end follows it, so its text is cut as it would be
        # with a "\n" there.
        following = stream.readline(piece_bytes)
        if following in _LINE_ENDS:
            yield line.end(decoder.decode(data + following, final=not following))
            data = stream.readline(piece_bytes) if following else b""
        else:
            piece = line.add(decoder.decode(data))
            if piece is not None:
                yield piece
            data = following


class _Line:
    """The line being read, handed out in pieces: text that ends the line, or
    at most a piece's worth of it at a time."""

    def __init__(self):
        self._pending = ""  # read, not yet handed out
        self._start = 0

    def is_new(self) -> bool:
        return not self._start and not self._pending

    def add(self, text: str) -> Piece | None:
        """The next piece of the line, given the next read of it that does not end it."""
        if not text:  # the read ended inside a character
            return None
        self._pending += text
        cut = _cut_point(self._pending)
        piece = Piece(self._pending[:cut], self._start, False)
        self._pending, self._start = self._pending[cut:], self._start + cut
        return piece

    def end(self, text: str) -> Piece:
        """The line's last piece, given its last read (with its terminator, if any)."""
        if self._pending:
            text, self._pending = self._pending + text, ""
        if text.endswith("\n"):
            text = text[:-2] if text.endswith("\r\n") else text[:-1]
        piece = Piece(text, self._start, True)
        self._start = 0
        return piece


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
