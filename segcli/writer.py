"""Write stage: words back to bytes, as delimited text or as JSON lines.

A long line arrives in pieces (see reader.read_pieces); LineWriter frames the
pieces' words into one output line.
"""

from __future__ import annotations

import json
from typing import Sequence

from .reader import ENCODING_ERRORS

FORMATS = ("text", "jsonl")
Spans = Sequence[tuple[int, int]]


def _text_body(text: str, spans: Spans, start: int, delimiter: str) -> bytes:
    return delimiter.join([text[a:b] for a, b in spans]).encode("utf-8", ENCODING_ERRORS)


def _jsonl_body(text: str, spans: Spans, start: int, delimiter: str) -> bytes:
    # ensure_ascii keeps undecodable input bytes (lone surrogates) valid JSON.
    return ", ".join(
        json.dumps({"word": text[a:b], "start": start + a, "end": start + b}, ensure_ascii=True) for a, b in spans
    ).encode("ascii")


# format: (line head, body of one piece's words, separator between pieces, line tail)
_STYLES = {
    "text": (b"", _text_body, None, b"\n"),
    "jsonl": (b'{"tokens": [', _jsonl_body, b", ", b"]}\n"),
}


def body(fmt: str, text: str, spans: Spans, start: int, delimiter: str) -> bytes:
    """The words of one piece of a line, whose first character is at `start`."""
    return _STYLES[fmt][1](text, spans, start, delimiter)


class LineWriter:
    """Frames the bodies of consecutive pieces into whole output lines."""

    def __init__(self, fmt: str, delimiter: str):
        self._head, _, separator, self._tail = _STYLES[fmt]
        self._separator = separator if separator is not None else delimiter.encode("utf-8", ENCODING_ERRORS)
        self._open = False
        self._has_words = False

    def piece(self, piece_body: bytes, ends_line: bool) -> bytes:
        out = []
        if not self._open:
            out.append(self._head)
            self._open, self._has_words = True, False
        if piece_body:
            if self._has_words:
                out.append(self._separator)
            out.append(piece_body)
            self._has_words = True
        if ends_line:
            out.append(self._tail)
            self._open = False
        return b"".join(out)
