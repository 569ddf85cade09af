"""Read stage: lines of text from binary streams, in pieces of bounded size.

UTF-8 unless another encoding is named (--encoding). Invalid bytes are
decoded with surrogateescape and written back the same way, so seg never
changes or drops a byte it does not understand; a file that looks like
another encoding is reported, once, to whoever asked (read_inputs' `warn`).
"""

from __future__ import annotations

import codecs
import contextlib
import re
import sys
from typing import BinaryIO, Callable, Iterator, NamedTuple, Sequence

from . import files
from .errors import InputError

ENCODING_ERRORS = "surrogateescape"
PIECE_BYTES = 1 << 18  # a longer line is read, and segmented, in pieces of about this size
_BOM = b"\xef\xbb\xbf"
_LINE_ENDS = (b"", b"\n", b"\r\n")  # what may follow the last read of a line
# A piece ends after the last of these in its second half, where there is one.
_CUTS = ("。", "！", "？", "；", "!", "?", ";", " ", "\t", "，", ",")
# The encodings seg reads in which ASCII is not ASCII (see check_encoding).
_WIDE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
_ASCII = "".join(map(chr, range(128)))
SAMPLE_BYTES = 8192  # the most of a file's start that is looked at to tell whether it is UTF-8
_ESCAPES = re.compile("[\udc80-\udcff]")
# Escapes, and the whitespace between them in a line that a delimiter "" takes away.
_ESCAPE_RUNS = re.compile("[\udc80-\udcff](?:[^\\S\\n]*[\udc80-\udcff])*")
_SPACES = re.compile("[^\\S\\n]+")
_NON_ASCII = re.compile(b"[\x80-\xff]")


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


def read_pieces(stream: BinaryIO, piece_bytes: int = PIECE_BYTES, encoding: str = "utf-8") -> Iterator[Piece]:
    """The stream's lines as pieces of at most about `piece_bytes`, so memory
    stays bounded whatever the line length. A piece boundary becomes a word
    boundary: it is put after punctuation or a space where the piece has one.
    Where a line is cut depends on its bytes alone, not on how it ends (\\n,
    \\r\\n or the stream's end); a line that fits in `piece_bytes` (its
    terminator not counted) is one piece. In another `encoding` than UTF-8
    (see check_encoding), pieces are counted in characters."""
    piece_bytes = max(piece_bytes, 2)  # a "\r\n" is one read
    encoding = check_encoding(encoding)
    if encoding != "utf-8":
        return _pieces_of_text(_DecodedLines(stream, encoding), piece_bytes)
    return _utf8_pieces(stream, piece_bytes)


def _utf8_pieces(stream: BinaryIO, piece_bytes: int) -> Iterator[Piece]:
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


def _pieces_of_text(lines: _DecodedLines, piece_chars: int) -> Iterator[Piece]:
    """_utf8_pieces over text already decoded: the same reads, counted in characters."""
    line = _Line()
    text = lines.readline(piece_chars)
    if text.startswith("\ufeff"):
        text = text[1:] or lines.readline(piece_chars)
    while text:
        if text.endswith("\n"):
            yield line.end(text)
            text = lines.readline(piece_chars)
            continue
        following = lines.readline(piece_chars)
        if following in ("", "\n", "\r\n"):
            yield line.end(text + following)
            text = lines.readline(piece_chars) if following else ""
        else:
            yield line.add(text)
            text = following


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


class _DecodedLines:
    """A binary stream in another encoding as lines of text: readline(limit)
    as a binary stream's, `limit` in characters. Bytes that do not decode,
    or whose text would not encode back to them, are kept as surrogate
    escapes; in UTF-16 and UTF-32, bytes below 0x80 cannot be (a broken
    code unit): there, an InputError."""

    BLOCK_BYTES = 1 << 16

    def __init__(self, stream: BinaryIO, encoding: str):
        self._read = getattr(stream, "read1", stream.read)  # read1: what has come, as a pipe or terminal gives it
        self._encoding = encoding
        # A few encodings decode two byte sequences to one text (Big5 does):
        # in those that keep ASCII as it is, every block is checked, and
        # every byte can be escaped (one below 0x80 as its ASCII character).
        self._keeps_ascii = encoding not in _WIDE
        self._decoder = codecs.getincrementaldecoder(encoding)(_ESCAPE_ANY if self._keeps_ascii else ENCODING_ERRORS)
        self._text = ""
        self._at = 0  # _text[:_at] is handed out
        self._ended = False
        self._lines_before = 0  # in the blocks before _text's last

    def readline(self, limit: int) -> str:
        while True:
            end = self._text.find("\n", self._at, self._at + limit)
            if end >= 0:
                end += 1
                break
            if self._ended or len(self._text) - self._at >= limit:
                end = min(len(self._text), self._at + limit)
                break
            self._read_block()
        line = self._text[self._at:end]
        self._at = end
        return line

    def _read_block(self) -> None:
        data = self._read(self.BLOCK_BYTES)
        held, flags = self._decoder.getstate()
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as e:  # the error handler could not escape them
            raise InputError(self._where(e, flags)) from None
        if self._keeps_ascii:
            text = self._exactly(held + data, text)
        self._lines_before += self._text.count("\n", 0, self._at)
        self._text = self._text[self._at:] + text
        self._at = 0
        self._ended = not data
        if _ESCAPES.search(text):
            self._check_escapes()

    def _check_escapes(self) -> None:
        """The output is UTF-8 until it is encoded again (encoding.py), each
        escaped byte written as it was: a run of them (whitespace between
        them may go) that reads as UTF-8 text the encoding has would be taken
        for that text there. Text it lacks is known to stand for bytes."""
        for run in _ESCAPE_RUNS.finditer(self._text):
            data = _SPACES.sub("", run.group()).encode("utf-8", ENCODING_ERRORS)
            text = _ESCAPES.sub("", data.decode("utf-8", ENCODING_ERRORS))
            if any(_encodes_to(char, None, self._encoding) for char in text):
                line = self._lines_before + self._text.count("\n", 0, run.start()) + 1
                bad = " ".join(f"{byte:02x}" for byte in data)
                raise InputError(f"line {line}: bytes {bad} are not {self._encoding}, and seg cannot keep them "
                                 f"(together they read as UTF-8 for {text!r})")

    def _exactly(self, data: bytes, text: str) -> str:
        """`text`, decoded from `data` but for the bytes the decoder still
        holds, where it encodes back to them; else decoded one character at
        a time, the characters that do not encode back escaped."""
        held = self._decoder.getstate()[0]
        data = data[: len(data) - len(held)]
        try:
            if text.encode(self._encoding, ENCODING_ERRORS) == data:
                return text
        except UnicodeEncodeError:
            pass
        decoder = codecs.getincrementaldecoder(self._encoding)(_ESCAPE_ANY)
        parts = []
        group = b""
        for byte in data:
            group += bytes((byte,))
            chars = decoder.decode(group[-1:])
            if chars:
                parts.append(chars if _encodes_to(chars, group, self._encoding) else _escaped(group))
                group = b""
        return "".join(parts) + _escaped(group)

    def _where(self, error: UnicodeDecodeError, flags: int) -> str:
        decoder = codecs.getincrementaldecoder(self._encoding)("replace")
        decoder.setstate((b"", flags))
        line = self._lines_before + self._text.count("\n") + decoder.decode(error.object[: error.start]).count("\n")
        bad = " ".join(f"{byte:02x}" for byte in error.object[error.start : error.end])
        return f"line {line + 1}: not {self._encoding} ({error.reason}: bytes {bad}), and seg cannot keep these bytes"


def _escape_any(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return _escaped(error.object[error.start : error.end]), error.end


_ESCAPE_ANY = "segcli.escape"  # surrogateescape, and bytes below 0x80 as their ASCII characters
codecs.register_error(_ESCAPE_ANY, _escape_any)


def _encodes_to(text: str, data: bytes | None, encoding: str) -> bool:
    """Whether `text` encodes (to `data`, where given)."""
    try:
        encoded = text.encode(encoding, ENCODING_ERRORS)
    except UnicodeEncodeError:
        return False
    return data is None or encoded == data


def _escaped(data: bytes) -> str:
    """`data` as text that encodes back to it in an encoding that keeps ASCII as it is."""
    return "".join(chr(0xDC00 + byte) if byte >= 0x80 else chr(byte) for byte in data)


def check_encoding(name: str) -> str:
    """Python's name of the text encoding called `name`: "utf-8" for any
    spelling of it (or of utf-8-sig: a leading BOM is always dropped).
    InputError for a name Python knows no such encoding by, or for one that
    seg cannot read losslessly: one in which ASCII bytes may mean something
    else (ISO-2022, HZ, UTF-7, EBCDIC), but for UTF-16 and UTF-32."""
    try:
        codec = codecs.lookup(name)
        "".encode(codec.name)  # a LookupError for a codec that is not a text encoding (base64)
    except (LookupError, ValueError):
        raise InputError(f"unknown encoding: {name}") from None
    if codec.name in ("utf-8", "utf-8-sig"):
        return "utf-8"
    # In ISO-2022 an escape sequence gives ASCII bytes another meaning up to the next one.
    if codec.name not in _WIDE and (codec.name.startswith("iso2022") or not _keeps_ascii(codec.name)):
        raise InputError(f"unsupported encoding: {name} (seg reads encodings in which ASCII is always ASCII, "
                         "and UTF-16 and UTF-32)")
    return codec.name


def _keeps_ascii(encoding: str) -> bool:
    try:
        return _ASCII.encode(encoding) == _ASCII.encode() and _ASCII.encode().decode(encoding) == _ASCII
    except UnicodeError:
        return False


def check_inputs(names: Sequence[str]) -> None:
    """Raises InputError for the first file that cannot be opened, so that a
    missing one is reported before any output ("-" is standard input)."""
    for name in names:
        if name != "-":
            files.open_binary(name, InputError).close()


class ForeignInput(NamedTuple):
    """A warning: an input that is read as UTF-8 looks like another encoding."""

    name: str  # the file, or "standard input"
    encoding: str  # the one it may be in ("gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"), or ""

    def __str__(self) -> str:
        if not self.encoding:
            return (f"{self.name} does not look like UTF-8: what is not UTF-8 in it is passed through uncut; "
                    "name its encoding with --encoding")
        return (f"{self.name} does not look like UTF-8 (it may be {self.encoding.upper()}): what is not UTF-8 "
                f"in it is passed through uncut; try --encoding {self.encoding}")


def read_inputs(names: Sequence[str], encoding: str = "utf-8",
                warn: Callable[[ForeignInput], None] | None = None) -> Iterator[Piece]:
    """The pieces of each named file in turn (standard input for "-" or no
    names), in `encoding`; a file that cannot be opened or read raises
    InputError. Read as UTF-8, a file whose first bytes look like another
    encoding is passed to `warn`, once, before its first piece."""
    encoding = check_encoding(encoding)
    for name in names or ("-",):
        where = "standard input" if name == "-" else name
        with contextlib.ExitStack() as closing:
            stream = stdin() if name == "-" else closing.enter_context(files.open_binary(name, InputError))
            try:
                if warn is not None and encoding == "utf-8":
                    guess = looks_foreign(_first_bytes(stream))
                    if guess is not None:
                        warn(ForeignInput(where, guess))
                yield from read_pieces(stream, encoding=encoding)
            except OSError as e:
                raise InputError(files.describe(where, e)) from None
            except InputError as e:  # from decoding: say where
                raise InputError(f"{where}: {e}") from None


def _first_bytes(stream: BinaryIO) -> bytes:
    """What a buffered stream has read ahead (one read's worth), without taking it."""
    peek = getattr(stream, "peek", None)
    return peek(SAMPLE_BYTES)[:SAMPLE_BYTES] if peek is not None else b""


def looks_foreign(sample: bytes) -> str | None:
    """None where `sample`, a stream's first bytes, may well be UTF-8: it
    is, or only a few of its bytes are not. Otherwise the encoding it may be
    in (see ForeignInput.encoding): a UTF-16 BOM or NUL bytes (which text
    in UTF-8 has none of) say UTF-16; bytes that are not UTF-8 but are GBK
    (or GB18030) say that."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    nuls = sample.count(0)
    if nuls >= 2 and nuls * 64 >= len(sample):
        # ASCII in UTF-16 has its NUL second (little-endian) or first.
        odd = sample[1::2].count(0)
        return "utf-16-le" if odd * 2 >= nuls else "utf-16-be"
    text = codecs.getincrementaldecoder("utf-8")(ENCODING_ERRORS).decode(sample)  # a character cut short waits
    invalid = len(_ESCAPES.findall(text))
    if invalid < 4 or invalid * 4 < len(_NON_ASCII.findall(sample)):  # a few stray bytes in UTF-8
        return None
    for encoding in ("gbk", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample)
            return encoding
        except UnicodeDecodeError:
            pass
    return ""


def stdin() -> BinaryIO:
    if sys.stdin is None:  # started with stdin closed (`seg <&-`)
        raise InputError("standard input is closed")
    return sys.stdin.buffer
