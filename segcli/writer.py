"""Write stage: words back to bytes, as delimited text or as JSON lines."""

from __future__ import annotations

import json
from typing import Sequence

from .reader import ENCODING_ERRORS

FORMATS = ("text", "jsonl")


def format_text(line: str, spans: Sequence[tuple[int, int]], delimiter: str) -> bytes:
    return (delimiter.join([line[a:b] for a, b in spans]) + "\n").encode("utf-8", ENCODING_ERRORS)


def format_jsonl(line: str, spans: Sequence[tuple[int, int]], delimiter: str) -> bytes:
    tokens = [{"word": line[a:b], "start": a, "end": b} for a, b in spans]
    # ensure_ascii keeps undecodable input bytes (lone surrogates) valid JSON.
    return (json.dumps({"tokens": tokens}, ensure_ascii=True) + "\n").encode("ascii")


FORMATTERS = {"text": format_text, "jsonl": format_jsonl}
