"""Reading dictionary files in bounded pieces of whole lines (the grammar
of their lines is segcli.dictfile's).

A dictionary is a path or an open file (text or binary, read and left
open).  Files are read in pieces of whole lines of about ``_PIECE_BYTES``,
so memory stays bounded by the piece and the entries, whatever the file,
and a stop signal is acted on between two pieces.  No line may be longer
than ``MAX_LINE_BYTES`` and none may hold a NUL byte: such a file is not a
dictionary (``--dict /dev/zero``), and is refused after reading at most a
piece of it.  Bytes that are not UTF-8 are refused with the encoding they
look like, found by decoding them (GBK, GB18030, Big5, UTF-16), and the
``iconv`` line that converts the file.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from . import files
from .errors import DictError

#: The longest line a dictionary may hold: far beyond any word (a word is
#: one token of a line of text), short enough that a file that is not a
#: dictionary is refused before it is read into memory.
MAX_LINE_BYTES = 4096

#: Files are read this many bytes at a time (cut at the last line end).
_PIECE_BYTES = 1 << 22

#: How a dictionary file that cannot be read is reported.
_CANNOT_READ = "{name}: cannot read: {reason}"


def _open(name: str) -> BinaryIO:
    if os.path.isdir(name):
        raise DictError(f"{name}: is a directory")
    return files.open_binary(name, DictError, _CANNOT_READ)


def source_name(source) -> str:
    """How messages name a dictionary: its path, or an open file's name."""
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        return os.fsdecode(name) if isinstance(name, (str, bytes)) else "<dictionary>"
    return os.fsdecode(os.fspath(source))


class _OpenFile:
    """An open file (text or binary) a caller gave, read as bytes and left
    open: a text file's characters come back as UTF-8."""

    def __init__(self, stream, name: str):
        self._stream, self._name = stream, name

    def __enter__(self) -> _OpenFile:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def read(self, size: int) -> bytes:
        try:
            data = self._stream.read(size)
        except UnicodeDecodeError as error:  # a text file opened in another encoding than its own
            raise DictError(f"{self._name}: cannot read it as text ({error.reason}): open it with "
                            "encoding='utf-8', or in binary mode ('rb')") from None
        if isinstance(data, str):
            return data.encode("utf-8", "surrogatepass")
        if not isinstance(data, (bytes, bytearray)):
            raise DictError(f"{self._name}: read() gave {type(data).__name__}, not text or bytes")
        return bytes(data)


def _likely_encoding(data: bytes) -> str | None:
    """The encoding (as iconv names it) that bytes which are not UTF-8 are
    likely in, tried by decoding: UTF-16 (a BOM, or NULs every other byte),
    GBK (GB2312's characters), Big5, GB18030; None for none of them."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    if b"\0" in data:  # no text but UTF-16's (or UTF-32's) holds NULs
        even = data[: len(data) // 2 * 2]
        # ASCII (a line end) in UTF-16LE has its NUL second, in UTF-16BE first.
        order = (("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE"))
        if data[0::2].count(0) > data[1::2].count(0):
            order = order[::-1]
        for codec, name in order:
            try:
                text = even.decode(codec)
            except UnicodeDecodeError:
                continue
            if text.count("\n") >= 2 and "\0" not in text:  # lines of text, not bytes that happen to decode
                return name
        return None
    decoded = {}
    for codec in ("gbk", "big5", "gb18030"):
        try:
            decoded[codec] = data.decode(codec)
        except UnicodeDecodeError:
            pass
    gbk = decoded.get("gbk")
    # Big5's commonest characters read as GBK's kana, Greek, Cyrillic and box
    # drawing, which Chinese text in GBK hardly holds.
    if gbk is not None and not ("big5" in decoded and _GBK_RARE.search(gbk)):
        return "GBK"
    if "big5" in decoded:
        return "BIG5"
    return "GB18030" if "gb18030" in decoded else None


_GBK_RARE = re.compile("[\u0391-\u03c9\u0401-\u0451\u2500-\u257f\u3041-\u30f6]")


def _encoding_hint(name: str, data: bytes) -> str:
    """What to say of a file whose bytes ``data`` are not UTF-8."""
    encoding = _likely_encoding(data)
    if encoding is None:
        return ""
    return (f": the file looks like {encoding}, and dictionaries are UTF-8; convert it with "
            f"iconv -f {encoding} -t UTF-8 {name} > {os.path.splitext(name)[0]}.utf8.txt")


def _first_long_line(data: bytes) -> int | None:
    """Offset of the first line of ``data`` longer than MAX_LINE_BYTES."""
    if len(data) <= MAX_LINE_BYTES:
        return None
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
    starts = np.concatenate([[0], ends + 1])
    ends = np.concatenate([ends, [len(data)]])
    long = np.flatnonzero(ends - starts > MAX_LINE_BYTES)
    return int(starts[long[0]]) if len(long) else None


def _line_error(name: str, data: bytes, offset: int, first_line: int, reason: str) -> DictError:
    line = first_line + data.count(b"\n", 0, offset)
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return DictError(f"{name}:{line}: " + reason.format(column=column))


def _checked(name: str, whole: bytes, partial: bytes, first_line: int) -> tuple[str, DictError | None]:
    """The text of the lines of ``whole`` before its first bad one, and the
    error that bad line (or ``partial``, the start of the next line) makes,
    if any: a NUL byte, a line too long, invalid UTF-8."""
    data = whole + partial if b"\0" in partial or len(partial) > MAX_LINE_BYTES else whole
    nul = data.find(b"\0")
    long = _first_long_line(data)
    errors = []  # (start of the bad line, error)
    if nul >= 0:
        hint = _encoding_hint(name, data).replace("{", "{{").replace("}", "}}")
        errors.append((data.rfind(b"\n", 0, nul) + 1, _line_error(
            name, data, nul, first_line,
            "a NUL byte (column {column})" + (hint or ": a binary file, not a dictionary"))))
    if long is not None:
        errors.append((long, _line_error(
            name, data, long, first_line,
            f"line longer than any dictionary entry (over {MAX_LINE_BYTES} bytes): is this a dictionary?")))
    start, error = min(errors, key=lambda e: e[0]) if errors else (len(whole), None)
    good = whole[:start] if start < len(whole) else whole
    try:
        return good.decode("utf-8"), error
    except UnicodeDecodeError as exc:
        line_start = good.rfind(b"\n", 0, exc.start) + 1
        hint = _encoding_hint(name, data).replace("{", "{{").replace("}", "}}")
        return good[:line_start].decode("utf-8"), _line_error(
            name, good, exc.start, first_line,
            f"invalid UTF-8 (byte 0x{good[exc.start]:02x} at column {{column}})" + hint)


def pieces(source) -> Iterator[tuple[str, int]]:
    """(text, number of its first line) for pieces of whole lines of the
    file (a path, or an open file), in order.  A bad line (NUL, too long,
    invalid UTF-8) raises once the lines before it have been yielded, so the
    first bad line of the file is always the one reported, and at most one
    piece of a file that is not a dictionary is read."""
    name = source_name(source)
    with (_OpenFile(source, name) if hasattr(source, "read") else _open(name)) as f:
        first_line = 1
        carried = b""
        at_start = True
        while True:
            try:
                data = f.read(_PIECE_BYTES)
            except OSError as exc:
                raise DictError(files.describe(name, exc, _CANNOT_READ)) from None
            at_end = not data
            buf = carried + data if carried else data
            del data
            if at_start:
                if not at_end and len(buf) < len(codecs.BOM_UTF8) and codecs.BOM_UTF8.startswith(buf):
                    carried = buf  # a short read inside the BOM (a pipe)
                    continue
                if buf.startswith(codecs.BOM_UTF8):
                    buf = buf[len(codecs.BOM_UTF8):]
                at_start = False
            end = len(buf) if at_end else buf.rfind(b"\n") + 1
            whole, carried = buf[:end], buf[end:]
            del buf
            text, error = _checked(name, whole, carried, first_line)
            if text:
                yield text, first_line
                first_line += text.count("\n")
            if error is not None:
                raise error
            if at_end:
                return
