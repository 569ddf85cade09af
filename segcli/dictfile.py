"""Dictionary files and entries: parsing lines and multipliers into (word, multiplier) pairs.

File format
-----------
* UTF-8; a leading BOM is accepted, CRLF line ends are accepted.
* The whitespace around each line is stripped.  Blank lines and lines whose
  first non-space character is ``#`` are skipped.
* ``word,multiplier`` -- the line is split on its LAST comma, so a word may
  contain commas when a multiplier is given (``1,000,5`` is the word
  ``1,000`` with multiplier 5).  Whitespace around the word and around the
  multiplier is ignored.  The multiplier is written as in :func:`parse_multiplier`:
  a non-negative plain ASCII decimal number (``10``, ``0.1``, ``2e3``), ``0``
  (forbid) or ``force``.
* ``word`` alone (no comma) gets ``DEFAULT_MULTIPLIER`` (10).
* A word must be non-empty and must not contain whitespace (it could never
  be a single token).
* No line may be longer than ``MAX_LINE_BYTES`` and none may hold a NUL byte:
  such a file is not a dictionary (``--dict /dev/zero``), and is refused
  after reading at most a piece of it.
* Malformed lines raise :class:`DictError` whose ``str`` is exactly
  ``FILE:LINE: reason``, e.g. ``add.txt:3: multiplier 'abc' is not a
  number``; the first bad line of a file is the one reported.  A missing or
  unreadable file, or a directory, gives ``FILE: reason``; invalid UTF-8
  gives ``FILE:LINE: invalid UTF-8 ...``.
* Several files may be given: later files override earlier ones; within and
  across files the last line for a word wins.  :func:`load_dicts` returns how
  many such duplicates it saw, so the CLI can warn in one line.

Files are read in pieces of whole lines of about ``_PIECE_BYTES``, so memory
stays bounded by the piece and the entries, whatever the file, and a stop
signal is acted on between two pieces.
"""

from __future__ import annotations

import codecs
import itertools
import math
import os
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import numpy as np

from . import files
from .errors import DictError

__all__ = [
    "DEFAULT_MULTIPLIER",
    "MAX_LINE_BYTES",
    "MAX_WORD_LENGTH",
    "check_entry",
    "contains_whitespace",
    "load_dicts",
    "parse_dict",
    "parse_multiplier",
]

#: Multiplier of a line that holds only a word.
DEFAULT_MULTIPLIER = 10.0

#: The longest line a dictionary may hold: far beyond any word (a word is
#: one token of a line of text), short enough that a file that is not a
#: dictionary is refused before it is read into memory.
MAX_LINE_BYTES = 4096

#: The longest word a dictionary may hold, in characters: no line of a file
#: holds more, and pyahocorasick frees its trie recursively (the trie of one
#: word of a million characters crashed it).
MAX_WORD_LENGTH = MAX_LINE_BYTES

#: Files are read this many bytes at a time (cut at the last line end).
_PIECE_BYTES = 1 << 22

_WHITESPACE = re.compile(r"\s")
_SPACE_BUT_NEWLINE = re.compile(r"[^\S\n]")
_LINE_WITHOUT_COMMA = re.compile(r"^[^,\n]+$", re.MULTILINE)
_TWO_COMMAS = re.compile(r",[^\n]*,")

# Every spelling float() takes that is a plain ASCII decimal number; float()
# alone would also take "1_000", full-width and Arabic-Indic digits.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INFINITY = re.compile(r"\+?inf(?:inity)?", re.IGNORECASE)
_NEGATIVE_INFINITY = re.compile(r"-inf(?:inity)?", re.IGNORECASE)


def contains_whitespace(text: str) -> bool:
    """Whether ``text`` holds any whitespace (a dictionary word may not)."""
    return _WHITESPACE.search(text) is not None


# --------------------------------------------------------------------------
# Multipliers: the one rule for files and for the API
# --------------------------------------------------------------------------


def _multiplier(raw: str) -> float | str:
    """The multiplier a file (or a string given to the API) spells, or the
    reason (a str) why it is invalid.  ``raw`` is already stripped."""
    if _DECIMAL.fullmatch(raw) is None:
        if raw.lower() == "force":
            return math.inf
        if _INFINITY.fullmatch(raw):
            return f"multiplier {raw!r} is infinite (write 'force' to force a word)"
        if _NEGATIVE_INFINITY.fullmatch(raw):
            return f"multiplier {raw!r} is negative"
        return f"multiplier {raw!r} is not a number"
    k = float(raw)
    nonzero = raw.lower().partition("e")[0].strip("+-0.") != ""
    if k < 0 or (raw[0] == "-" and nonzero):
        return f"multiplier {raw!r} is negative"
    if math.isinf(k):
        return f"multiplier {raw!r} is too large"
    if k == 0 and nonzero:
        return f"multiplier {raw!r} is too small to be told from 0 (write 0 to forbid the word)"
    return k + 0.0  # "-0" is 0, not -0.0


def parse_multiplier(raw: str) -> float:
    """The multiplier spelt ``raw`` (surrounding whitespace ignored):
    ``force`` (any case) is ``math.inf``; otherwise a non-negative plain
    ASCII decimal number (``10``, ``0.5``, ``2e3``; not ``1_000``, ``１０``,
    ``inf`` or ``nan``) whose value is finite and, unless it is written as
    zero, not rounded to 0.  Raises :class:`DictError`."""
    k = _multiplier(raw.strip())
    if isinstance(k, str):
        raise DictError(k)
    return k


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_entry(word, k) -> float:
    """The multiplier of a valid (word, multiplier) pair, as stored: math.inf
    for 'force'; raises DictError otherwise, whatever is wrong (a bool, None
    or a list too: DictError, not TypeError, so that one ``except`` catches
    every bad entry).  A string multiplier is parsed as in a file
    (:func:`parse_multiplier`: 'force', never 'inf'); a number must be >= 0
    and finite, or exactly ``math.inf`` (force), and must not be rounded to 0
    as a float (``10**-400``, a Decimal; a float literal ``1e-400`` is 0.0
    before seg sees it, so it forbids); a bool is not a number."""
    if not isinstance(word, str) or not word:
        raise DictError(f"invalid dictionary word {word!r}: must be a non-empty string")
    if contains_whitespace(word):
        raise DictError(f"dictionary word {word!r} contains whitespace")
    if len(word) > MAX_WORD_LENGTH:
        raise DictError(f"dictionary word {_short_repr(word)} is longer than {MAX_WORD_LENGTH} characters")
    if isinstance(k, str):
        return parse_multiplier(k)
    if isinstance(k, (bool, np.bool_)):  # True is not a multiplier of 1
        raise DictError(f"multiplier {k!r} for {word!r} is not a number")
    try:
        value = float(k)
    except OverflowError:  # an int (or Fraction) beyond any float
        raise DictError(f"multiplier {_short_repr(k)} for {word!r} is too large") from None
    except (TypeError, ValueError):
        raise DictError(f"multiplier {_short_repr(k)} for {word!r} is not a number") from None
    if math.isnan(value) or value < 0:
        raise DictError(f"multiplier {_short_repr(k)} for {word!r} must be >= 0 or math.inf")
    if math.isinf(value) and not k == math.inf:  # e.g. Decimal('1e400'): too large, not force
        raise DictError(f"multiplier {_short_repr(k)} for {word!r} is too large")
    if value == 0 and k != 0:
        raise DictError(f"multiplier {_short_repr(k)} for {word!r} is too small to be told from 0 "
                        "(write 0 to forbid the word)")
    return value + 0.0


# --------------------------------------------------------------------------
# Reading files in bounded pieces
# --------------------------------------------------------------------------


#: How a dictionary file that cannot be read is reported.
_CANNOT_READ = "{name}: cannot read: {reason}"


def _open(name: str) -> BinaryIO:
    if os.path.isdir(name):
        raise DictError(f"{name}: is a directory")
    return files.open_binary(name, DictError, _CANNOT_READ)


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
        errors.append((data.rfind(b"\n", 0, nul) + 1, _line_error(
            name, data, nul, first_line, "a NUL byte (column {column}): a binary file, not a dictionary")))
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
        return good[:line_start].decode("utf-8"), _line_error(
            name, good, exc.start, first_line, f"invalid UTF-8 (byte 0x{good[exc.start]:02x} at column {{column}})")


def _pieces(name: str) -> Iterator[tuple[str, int]]:
    """(text, number of its first line) for pieces of whole lines of the
    file, in order.  A bad line (NUL, too long, invalid UTF-8) raises once
    the lines before it have been yielded, so the first bad line of the file
    is always the one reported, and at most one piece of a file that is not
    a dictionary is read."""
    with _open(name) as f:
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


# --------------------------------------------------------------------------
# Parsing lines
# --------------------------------------------------------------------------


def _parse_lines(text: str, name: str, first_line: int = 1) -> list[tuple[str, float]]:
    """Line-by-line parser: the reference, and the one that reports errors
    (``first_line`` is the number of the first line of ``text``)."""
    out: list[tuple[str, float]] = []
    append = out.append
    ws = _WHITESPACE.search
    for lineno, line in enumerate(text.split("\n"), first_line):
        line = line.strip()
        if not line or line[0] == "#":
            continue
        word, comma, raw = line.rpartition(",")
        if comma:
            word = word.strip()
            raw = raw.strip()
            if not raw:
                raise DictError(f"{name}:{lineno}: missing multiplier after ','")
            k = _multiplier(raw)
            if isinstance(k, str):
                raise DictError(f"{name}:{lineno}: {k}")
        else:
            word = raw  # rpartition puts the whole line last when no comma
            k = DEFAULT_MULTIPLIER
        if not word:
            raise DictError(f"{name}:{lineno}: empty word")
        if ws(word):
            raise DictError(f"{name}:{lineno}: word {word!r} contains whitespace")
        append((word, k))
    return out


def _parse_columns(text: str) -> tuple[list[str], list[float] | None] | None:
    """Bulk parser for valid text: (words, multipliers), the multipliers
    None when every line holds just a word; ``None`` if anything looks wrong
    (the line parser then finds the error).  Bulk string operations only: no
    Python work per line unless lines carry both a multiplier and spaces or
    comments."""
    spaced = _SPACE_BUT_NEWLINE.search(text) is not None
    if not spaced and "#" not in text:
        # The common shapes of large files, without a list of lines: no
        # whitespace but "\n" means that split() drops exactly the empty lines.
        if "," not in text:
            return text.split(), None
        if _TWO_COMMAS.search(text) is None and _LINE_WITHOUT_COMMA.search(text) is None:
            body = text.strip("\n")  # every line is now exactly "word,multiplier"
            body = ",".join(body.split()) if "\n\n" in body else body.replace("\n", ",")
            columns = body.split(",")
            del body
            words, raws = columns[0::2], columns[1::2]
            del columns
            return _with_multipliers(words, raws)
    lines = text.split("\n")
    if spaced:  # CRLF, indentation, spaces around commas...: strip every part
        lines = [line.strip() for line in lines]
    if "#" in text:
        lines = [line for line in lines if line and line[0] != "#"]
    else:
        lines = list(filter(None, lines))
    if "," not in text:
        words = lines
        if words and _WHITESPACE.search("".join(words)):
            return None
        return words, None
    parts = [line.rpartition(",") for line in lines]
    del lines
    if spaced:
        words = [w.strip() if c else r for w, c, r in parts]
        raws = [r.strip() if c else None for w, c, r in parts]
    else:
        words = [w if c else r for w, c, r in parts]
        raws = [r if c else None for w, c, r in parts]
    del parts
    if words and spaced and _WHITESPACE.search("".join(words)):
        return None
    return _with_multipliers(words, raws)


def _with_multipliers(words: list[str], raws: list[str | None]) -> tuple[list[str], list[float]] | None:
    """(words, multipliers) from raw multiplier strings (None: the default);
    None if a word is empty or a multiplier is invalid."""
    if words and min(map(len, words)) == 0:
        return None
    table: dict[str | None, float] = {}
    for raw in set(raws):
        k = DEFAULT_MULTIPLIER if raw is None else _multiplier(raw)
        if isinstance(k, str):  # an error (also for an empty multiplier)
            return None
        table[raw] = k
    return words, list(map(table.__getitem__, raws))


def _parse_pieces(path) -> Iterator[tuple[list[str], list[float] | None]]:
    """(words, multipliers or None for all default) for each piece of the file."""
    name = os.fspath(path)
    for text, first_line in _pieces(name):
        columns = _parse_columns(text)
        if columns is None:
            items = _parse_lines(text, name, first_line)  # raises with the line number
            columns = [w for w, _ in items], [k for _, k in items]
        del text
        yield columns


def parse_dict(path) -> list[tuple[str, float]]:
    """Parse one dictionary file into ``[(word, multiplier), ...]`` in file order.

    ``math.inf`` stands for ``force``.  Raises :class:`DictError`.
    """
    pairs: list[tuple[str, float]] = []
    for words, mults in _parse_pieces(path):
        pairs.extend(zip(words, mults if mults is not None else itertools.repeat(DEFAULT_MULTIPLIER)))
    return pairs


def load_dicts(paths: Iterable) -> tuple[dict[str, float], int]:
    """Load and merge dictionary files, later lines overriding earlier ones.

    Returns ``(entries, duplicates)``: ``entries`` maps word -> multiplier
    (``math.inf`` = force), ``duplicates`` counts lines whose word had
    already been seen (in the same file or an earlier one).
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    merged: dict[str, float] = {}
    total = 0
    for path in paths:
        for words, mults in _parse_pieces(path):
            total += len(words)
            if mults is None:
                if merged:  # update() from a dict would hash every word twice
                    merged.update(zip(words, itertools.repeat(DEFAULT_MULTIPLIER)))
                else:
                    merged = dict.fromkeys(words, DEFAULT_MULTIPLIER)
            else:
                merged.update(zip(words, mults))
            del words, mults
    return merged, total - len(merged)
