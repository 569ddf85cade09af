"""Read stage: lines of UTF-8 from binary streams.

Invalid bytes are decoded with surrogateescape and written back the same way,
so seg never changes or drops a byte it does not understand.
"""

from __future__ import annotations

from typing import BinaryIO, Iterator

ENCODING_ERRORS = "surrogateescape"


def read_lines(stream: BinaryIO) -> Iterator[str]:
    """Lines without their terminator (\\n or \\r\\n); a leading BOM is dropped."""
    first = True
    for raw in stream:
        if raw.endswith(b"\n"):
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        if first:
            first = False
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
        yield raw.decode("utf-8", ENCODING_ERRORS)
