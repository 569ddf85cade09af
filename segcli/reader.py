"""Read stage: lines of UTF-8 from binary streams, in pieces of bounded size.

Invalid bytes are decoded with surrogateescape and written back the same way,
so seg never changes or drops a byte it does not understand.
"""

from __future__ import annotations

from typing import BinaryIO, Iterator, NamedTuple

ENCODING_ERRORS = "surrogateescape"
PIECE_BYTES = 1 << 18  # a longer line is read, and segmented, in pieces of about this size
_BOM = b"\xef\xbb\xbf"
# A piece ends after the last of these in its second half, where there is one.
_CUTS = tuple(s.encode() for s in ("。", "！", "？", "；", "!", "?", ";", " ", "\t", "，", ","))


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
    carry = b""
    start = 0
    first = True
    while True:
        chunk = stream.readline(piece_bytes)
        raw = carry + chunk
        if not raw:
            return
        if first:
            first = False
            if raw.startswith(_BOM):
                raw = raw[len(_BOM):]
                if not raw and len(chunk) < piece_bytes:  # the stream was just a BOM
                    return
        if raw.endswith(b"\n") or len(chunk) < piece_bytes:  # a line's end, or the stream's
            carry = b""
            if raw.endswith(b"\n"):
                raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            yield Piece(raw.decode("utf-8", ENCODING_ERRORS), start, True)
            start = 0
        else:
            cut = _cut_point(raw)
            carry = raw[cut:]
            text = raw[:cut].decode("utf-8", ENCODING_ERRORS)
            yield Piece(text, start, False)
            start += len(text)


def _cut_point(raw: bytes) -> int:
    best = 0
    for sep in _CUTS:
        at = raw.rfind(sep, len(raw) // 2)
        if at >= 0:
            best = max(best, at + len(sep))
    if best:
        return best
    # No such place: cut before the last character's first byte, never inside
    # a UTF-8 sequence (at most 3 continuation bytes follow a first byte).
    cut = len(raw) - 1
    while cut > len(raw) - 4 and 0x80 <= raw[cut] < 0xC0:
        cut -= 1
    return cut
