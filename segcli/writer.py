"""Write stage: words back to bytes, as delimited text or as JSON lines.

A long line arrives in pieces (see reader.read_pieces); LineWriter frames the
pieces' words into one output line.
"""

from __future__ import annotations

import json
from typing import BinaryIO, Sequence

import numpy as np

from . import _core
from .errors import InputError
from .reader import ENCODING_ERRORS, Piece

FORMATS = ("text", "jsonl")
Spans = Sequence[tuple[int, int]]


def _text_body(text: str, spans: Spans, start: int, delimiter: str) -> bytes:
    return delimiter.join([text[a:b] for a, b in spans]).encode("utf-8", ENCODING_ERRORS)


def _jsonl_body(text: str, spans: Spans, start: int, delimiter: str) -> bytes:
    # UTF-8 as it is; only the lone surrogates that stand for undecodable
    # input bytes cannot be encoded, and backslashreplace writes them as the
    # JSON escape \udcXX, so the line stays valid JSON.
    return ", ".join(
        json.dumps({"word": text[a:b], "start": start + a, "end": start + b}, ensure_ascii=False) for a, b in spans
    ).encode("utf-8", "backslashreplace")


# format: (line head, body of one piece's words, separator between pieces, line tail)
_STYLES = {
    "text": (b"", _text_body, None, b"\n"),
    "jsonl": (b'{"tokens": [', _jsonl_body, b", ", b"]}\n"),
}


def body(fmt: str, text: str, spans: Spans, start: int, delimiter: str) -> bytes:
    """The words of one piece of a line, whose first character is at `start`."""
    return _STYLES[fmt][1](text, spans, start, delimiter)


def text_bodies(cps: np.ndarray, tags: np.ndarray, space: np.ndarray, line_starts: np.ndarray,
                line_ends: np.ndarray, delimiter: str) -> list[bytes] | None:
    """The "text" body of each line of a tagged batch in one C call, equal to
    body("text", …) of its words (see decode.word_bounds): cps are the
    batch's code points, tags one per code point, space marks whitespace
    (in no word), lines [line_starts[k], line_ends[k]). None where a code
    point cannot be written (a surrogate that stands for no input byte): the
    caller then takes the general path, which fails or passes as it would."""
    separator = delimiter.encode("utf-8", ENCODING_ERRORS)
    cps = np.ascontiguousarray(cps, dtype=np.uint32)
    out = np.empty(len(cps) * (4 + len(separator)), dtype=np.uint8)
    body_ends = np.empty(len(line_starts), dtype=np.int64)
    written = _core.render_text(cps, np.ascontiguousarray(tags, dtype=np.uint8),
                                np.ascontiguousarray(space, dtype=np.uint8),
                                np.ascontiguousarray(line_starts, dtype=np.int64),
                                np.ascontiguousarray(line_ends, dtype=np.int64), separator, out, body_ends)
    if written < 0:
        return None
    data = out[:written].tobytes()
    cuts = [0, *body_ends.tolist()]
    return [data[a:b] for a, b in zip(cuts, cuts[1:])]


def open_output(name: str) -> BinaryIO:
    try:
        return open(name, "wb")
    except OSError as e:
        raise InputError(f"{name}: {e.strerror}") from None


class LineWriter:
    """Frames the bodies of consecutive pieces into whole output lines: a
    batch can end inside a long line, whose rest waits for the next batch."""

    def __init__(self, fmt: str, delimiter: str):
        self._head, _, separator, self._tail = _STYLES[fmt]
        self._separator = separator if separator is not None else delimiter.encode("utf-8", ENCODING_ERRORS)
        self._open = False
        self._has_words = False
        self._parts: list[bytes] = []
        self._whole = 0  # how many of _parts make up whole lines

    def add(self, piece: Piece, piece_body: bytes) -> None:
        """Adds the body of the next piece (see body())."""
        if not self._open:
            self._parts.append(self._head)
            self._open, self._has_words = True, False
        if piece_body:
            if self._has_words:
                self._parts.append(self._separator)
            self._parts.append(piece_body)
            self._has_words = True
        if piece.ends_line:
            self._parts.append(self._tail)
            self._open = False
            self._whole = len(self._parts)

    def whole_lines(self) -> bytes:
        """The lines completed since the last call, as bytes to write."""
        data = b"".join(self._parts[: self._whole])
        del self._parts[: self._whole]
        self._whole = 0
        return data
