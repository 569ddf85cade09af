"""Output in another encoding than UTF-8 (--encoding): seg's output bytes,
UTF-8 with the input's undecodable bytes as they were, re-encoded on their
way out. The input side is reader.read_pieces(..., encoding=...).
"""

from __future__ import annotations

import codecs
import contextlib
import re
from typing import BinaryIO, Iterator

from .errors import InputError
from .reader import ENCODING_ERRORS, check_encoding
from .writer import write_whole

# What the reader decoded an undecodable input byte to (surrogateescape).
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")


def _as_utf8(error: UnicodeError) -> tuple[bytes, int]:
    # Everything seg writes is the input's text, which the encoding has, or
    # a delimiter checked to be in it: text it lacks can only be undecodable
    # input bytes that happen to read as UTF-8 (the reader refuses those
    # that would read as text the encoding has).
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return error.object[error.start : error.end].encode("utf-8", ENCODING_ERRORS), error.end


_AS_UTF8 = "segcli.as-utf8"
codecs.register_error(_AS_UTF8, _as_utf8)


class EncodedOutput:
    """A binary output that takes seg's UTF-8 and writes it in `encoding`:
    the bytes an input had that did not decode go out as they came in. For
    writer.write_whole, which writes to it as to any stream without a file
    descriptor (and which this one writes the encoded bytes with).
    `delimiter`: the text seg puts between words, which must be in the
    encoding (an InputError if not)."""

    def __init__(self, out: BinaryIO, encoding: str, delimiter: str = " "):
        try:
            _ESCAPED_BYTES.sub("", delimiter).encode(encoding)
        except UnicodeEncodeError as e:
            raise InputError(f"the delimiter {delimiter!r} cannot be written in {encoding} "
                             f"({e.object[e.start]!r} is not in it)") from None
        self._out = out
        self._decoder = codecs.getincrementaldecoder("utf-8")(ENCODING_ERRORS)
        self._encoder = codecs.getincrementalencoder(encoding)(_AS_UTF8)
        self.name = getattr(out, "name", None)  # for write_whole's messages

    def write(self, data: bytes) -> int:
        write_whole(self._out, self._encoded(self._decoder.decode(data)))
        return len(data)

    def flush(self) -> None:
        """Nothing waits here: every write went out whole."""

    def finish(self) -> None:
        """Writes what ends the encoded output (a stateful encoding's reset)."""
        write_whole(self._out, self._encoded(self._decoder.decode(b"", final=True), final=True))

    def _encoded(self, text: str, final: bool = False) -> bytes:
        parts = []
        at = 0
        for escaped in _ESCAPED_BYTES.finditer(text):
            parts.append(self._encoder.encode(text[at:escaped.start()]))
            parts.append(escaped.group().encode("utf-8", ENCODING_ERRORS))  # the bytes themselves
            at = escaped.end()
        parts.append(self._encoder.encode(text[at:], final))
        return b"".join(parts)


@contextlib.contextmanager
def encoded_output(out: BinaryIO, encoding: str, delimiter: str = " ") -> Iterator[BinaryIO]:
    """`out` itself for UTF-8; else an EncodedOutput around it, finished
    when the block ends without an error."""
    encoding = check_encoding(encoding)
    if encoding == "utf-8":
        yield out
        return
    encoded = EncodedOutput(out, encoding, delimiter)
    yield encoded
    encoded.finish()
