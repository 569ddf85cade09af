"""Dictionary files and entries: parsing lines into words, values and tags.

File format
-----------
* UTF-8; a leading BOM is accepted, CRLF line ends are accepted.  Bytes
  that are not UTF-8 are an error that names the encoding they look like
  (GBK, GB18030, Big5, UTF-16: found by decoding) and the ``iconv`` line
  that converts the file.
* The whitespace around each line is stripped.  Blank lines and lines whose
  first non-space character is ``#`` are skipped.
* seg's comma form, ``word[,k|force][,tag]``:

  - ``word`` alone: the word is listed (``LISTED``): it sticks, see
    :mod:`segcli.dictionary`.
  - ``word,k``: the tag probabilities of each occurrence multiplied by ``k``,
    a non-negative plain ASCII decimal number (``10``, ``0.1``, ``2e3``, as
    :func:`parse_multiplier` reads it); ``word,0`` forbids the word,
    ``word,force`` (any case) forces it.
  - ``word,k,tag`` / ``word,force,tag``: the same with a part-of-speech tag,
    a final field of ASCII letters after a multiplier or ``force``.
  - The line is split on its LAST comma (and, for a tag, the one before),
    so a word may hold commas: ``1,000,5`` is the word ``1,000`` with
    multiplier 5, ``1,000,5,m`` the same tagged ``m``; ``x,10,force`` is the
    word ``x,10`` forced (``force`` is never a tag).  Whitespace around the
    word, multiplier and tag is ignored.
* jieba's form, ``word [freq] [tag]``, fields a space apart (jieba's own
  rule: the word is everything before an optional `` freq`` of ASCII digits
  and an optional `` tag`` of lower-case ASCII letters): ``台中`` and
  ``凱特琳 nz`` are listed words; a line with a frequency (``云计算 5``,
  ``李小福 2 nr``) is ``COUNTED``: the Segmenter leaves it to its model where
  the model knows the word, and lists it otherwise (see :func:`read_dicts`).
  A comma line is read so when what follows its last comma is not a
  multiplier and holds a space, unless it is numbers alone: ``1,000 3 m`` is
  the word ``1,000``; ``word,1 0`` is an error.
* Errors (:class:`DictError`, ``str`` exactly ``FILE:LINE: reason``; the
  first bad line of a file is the one reported): a bad multiplier, an
  empty word, a tag with no multiplier before it (``word,nz``: says where a
  tag goes), and a word joined to what looks like a multiplier or ``force``
  (full-width digits and letters too) by a full-width comma, a semicolon, a
  colon or a tab, full-width or not: ``科学空间，force``, ``科学空间;10``,
  ``科学空间:10``, ``科学空间\t10`` ("did you mean ','?"); a colon after a digit
  is part of a word (``1:1``, ``12:30``).  A missing or unreadable file, or a
  directory, gives ``FILE: reason``.
* Warnings (:class:`DictWarning`, ``FILE:LINE: reason``; the line is
  skipped, the rest of the file read): a word that holds whitespace, in
  either form (``Edu Trust认证 2000``: seg cuts at every space, so it can
  never be one word), and a word made only of invisible (format)
  characters, which can never match.
* No line may be longer than ``MAX_LINE_BYTES`` and none may hold a NUL byte:
  such a file is not a dictionary (``--dict /dev/zero``), and is refused
  after reading at most a piece of it.
* Several files may be given: later files override earlier ones; within and
  across files the last line for a word wins (its tag too, where the later
  line gives one).  :func:`read_dicts` counts such duplicates, so the CLI
  can warn in one line.
* A dictionary is a path or an open file, text or binary (as jieba's
  load_userdict takes); an open file is read and left open.

Files are read in pieces of whole lines (:mod:`segcli.dictread`), so memory
stays bounded by the piece and the entries, whatever the file, and a stop
signal is acted on between two pieces.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from .dictread import MAX_LINE_BYTES, pieces, source_name
from .errors import DictError

__all__ = [
    "COUNTED",
    "Contents",
    "DEFAULT_MULTIPLIER",
    "DictWarning",
    "LISTED",
    "MAX_LINE_BYTES",
    "MAX_WORD_LENGTH",
    "check_entry",
    "contains_whitespace",
    "load_dicts",
    "parse_dict",
    "parse_multiplier",
    "read_dicts",
]

#: The multiplier a bare line gave before listed words stuck; kept as a
#: name for callers.
DEFAULT_MULTIPLIER = 10.0

#: The value of a listed word (a line that holds only a word): it sticks.
LISTED = None


#: The longest word a dictionary may hold, in characters: no line of a file
#: holds more, and pyahocorasick frees its trie recursively (the trie of one
#: word of a million characters crashed it).
MAX_WORD_LENGTH = MAX_LINE_BYTES


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


def check_entry(word, k) -> float | None:
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
    if k is LISTED:
        return LISTED
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
# Parsing lines
# --------------------------------------------------------------------------


class DictWarning(UserWarning):
    """A dictionary line that is skipped (it can never be one token, or
    never match), with the file and line it is on: ``str`` is one line,
    ``FILE:LINE: reason``."""

    def __init__(self, message: str, file: str = "", line: int = 0):
        super().__init__(message)
        self.file = file
        self.line = line


class _Line(NamedTuple):
    """What a line of a file says: a word, its value (a multiplier, LISTED
    or COUNTED), its tag or None."""

    word: str
    value: float | str | None
    tag: str | None


#: The value of a jieba line with a frequency (``word 5 [tag]``), until the
#: Segmenter decides it (see segcli.dictionary.resolve_counted): a word its
#: model already knows is left to the model, any other is LISTED.
COUNTED = "counted"

# jieba's rule (its re_userdict), with runs of spaces: the word is everything
# before an optional frequency and an optional tag.
_JIEBA_LINE = re.compile(r"(.+?)(?: +([0-9]+))?(?: +([a-z]+))?")
# The same for whole lines of a text, whose word holds no whitespace.
_JIEBA_ROW = re.compile(r"^ *([^\s]+)(?: +([0-9]+))?(?: +([a-z]+))? *\r?$", re.MULTILINE)
_ODD_SPACE = re.compile(r"[^\S\n\r ]|\r(?!\n)")
_COMMENT = re.compile(r"^[ \r]*#", re.MULTILINE)
_LOOSE_SPACE = re.compile(r"^ | $|  |^\n", re.MULTILINE)
_NONBLANK = re.compile(r"^[ \r]*[^\s]", re.MULTILINE)
_TAG = re.compile(r"[A-Za-z]+")
# A separator that is not seg's (nor jieba's) before what looks like a
# multiplier or 'force' (after NFKC: full-width digits and letters too).
_WRONG_SEPARATOR = re.compile(r"(.*?[^\s，;；:：])\s*([，;；:：\t])\s*([^\s，;；:：]+)")
_NUMBER_OR_FORCE = re.compile(r"(?:force|" + _DECIMAL.pattern + r")", re.IGNORECASE)
_SEPARATOR_NAMES = {"，": "a full-width comma", ";": "a semicolon", "；": "a full-width semicolon",
                    ":": "a colon", "：": "a full-width colon", "\t": "a tab"}
#: Characters a line holds that the bulk parser leaves to the line parser:
#: possible wrong separators and invisible (format) characters.
_LINE_PARSER_CHARS = re.compile("[，;；:：\t\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                                "\ufeff\ufff9-\ufffb]")


def _wrong_separator(line: str) -> str | None:
    """Why ``line`` is a mistake (a word and a multiplier joined by
    something else than ','), or None."""
    match = _WRONG_SEPARATOR.fullmatch(line)
    if match is None:
        return None
    word, separator, value = match.groups()
    if _NUMBER_OR_FORCE.fullmatch(unicodedata.normalize("NFKC", value)) is None:
        return None
    if separator in ":：" and word[-1].isdigit():  # 1:1, 12:30 are words
        return None
    return (f"{_SEPARATOR_NAMES[separator]} before {value!r}: did you mean ','? "
            f"(a multiplier: {word},{value}; a jieba frequency: {word} {value})")


def _invisible(word: str) -> bool:
    """Whether ``word`` is made only of characters that show nothing
    (format characters such as a byte-order mark or a zero-width space)."""
    return all(unicodedata.category(c) == "Cf" for c in word)


def _parse_line(line: str) -> _Line | DictWarning | str:
    """A stripped, non-blank, non-comment line: what it says, a warning
    (the line is skipped), or the reason it is an error (a str)."""
    word, comma, raw = line.rpartition(",")
    tag = None
    value: float | str | None
    if comma:
        word, raw = word.strip(), raw.strip()
        if _TAG.fullmatch(raw) and raw.lower() != "force" and "," in word:
            head, _, raw_k = word.rpartition(",")
            k = _multiplier(raw_k.strip())
            if not isinstance(k, str):
                word, raw, tag = head.strip(), raw_k.strip(), raw
        value = _multiplier(raw) if raw else "missing multiplier after ','"
        if isinstance(value, str):
            # jieba's form may hold a comma in its word (1,000 3 m); numbers
            # alone after a comma (微信号,1 0) are a multiplier mistyped.
            if " " not in raw or all(not isinstance(_multiplier(part), str) for part in raw.split()):
                if _TAG.fullmatch(raw) and tag is None and raw.lower() not in ("nan", "inf", "infinity"):
                    value += f" (a tag follows a multiplier: {word},10,{raw}; or jieba's {word} {raw})"
                return value
            comma = ""  # jieba's form, whose word holds a comma: 1,000 3 m
        elif not word:
            return "empty word"
    if not comma:
        mistake = _wrong_separator(line)
        if mistake is not None:
            return mistake
        word, frequency, tag = _JIEBA_LINE.fullmatch(line).groups()
        value = LISTED if frequency is None else COUNTED
    if contains_whitespace(word):
        return DictWarning(f"word {word!r} contains whitespace: seg cuts at every space, so it can never be one "
                           "word; skipped")
    if _invisible(word):
        return DictWarning(f"word {word!r} is only invisible characters: it can never match; skipped")
    return _Line(word, value, tag)


def _parse_lines(text: str, name: str, first_line: int = 1,
                 skipped: list[DictWarning] | None = None) -> list[_Line]:
    """Line-by-line parser: the reference, and the one that reports errors
    (``first_line`` is the number of the first line of ``text``); skipped
    lines' warnings go to ``skipped``."""
    out: list[_Line] = []
    append = out.append
    for lineno, line in enumerate(text.split("\n"), first_line):
        line = line.strip()
        if not line or line[0] == "#":
            continue
        parsed = _parse_line(line)
        if isinstance(parsed, _Line):
            if len(parsed.word) > MAX_WORD_LENGTH:
                raise DictError(f"{name}:{lineno}: word longer than {MAX_WORD_LENGTH} characters")
            append(parsed)
        elif isinstance(parsed, DictWarning):
            if skipped is not None:
                skipped.append(DictWarning(f"{name}:{lineno}: {parsed}", name, lineno))
        else:
            raise DictError(f"{name}:{lineno}: {parsed}")
    return out


def _parse_columns(text: str) -> tuple[list[str], list[float | str | None] | None, dict[str, str] | None] | None:
    """Bulk parser for valid text: (words, values, tags), the values None
    when every line holds just a word, the tags None when no line gives one;
    ``None`` if anything looks wrong (the line parser then finds the error).
    Bulk string operations only: no Python work per line unless lines carry
    both a multiplier and spaces or comments."""
    if _LINE_PARSER_CHARS.search(text):
        return None
    spaced = _SPACE_BUT_NEWLINE.search(text) is not None
    if spaced and "," not in text and _ODD_SPACE.search(text) is None and _COMMENT.search(text) is None:
        return _parse_jieba_columns(text)
    if not spaced and "#" not in text:
        # The common shapes of large files, without a list of lines: no
        # whitespace but "\n" means that split() drops exactly the empty lines.
        if "," not in text:
            return text.split(), None, None
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
        return words, None, None
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


def _parse_jieba_columns(text: str) -> tuple[list[str], list[str | None], dict[str, str] | None] | None:
    """jieba's ``word [freq] [tag]`` lines in bulk (spaces and line ends
    only, no comma, no comment): None unless every line that is not blank
    has that shape with a word free of whitespace."""
    if "\r" not in text and _LOOSE_SPACE.search(text) is None:
        # jieba's dict.txt's shape: "word freq tag" on every line, one space
        # apart, as columns of split() (a line of another shape shifts them,
        # which the count of spaces or the columns' characters give away).
        tokens = text.split()
        lines = len(tokens) // 3
        if len(tokens) == 3 * lines and text.count(" ") == 2 * lines and text.count("\n") - text.count("\n\n") \
                in (lines, lines - 1):
            frequencies, tags = "".join(tokens[1::3]), "".join(tokens[2::3])
            if frequencies.isascii() and frequencies.isdigit() and tags.isascii() and tags.isalpha() \
                    and tags.islower():
                words = tokens[0::3]
                return words, [COUNTED] * lines, dict(zip(words, tokens[2::3]))
    rows = _JIEBA_ROW.findall(text)
    if len(rows) != len(_NONBLANK.findall(text)):
        return None
    words = [row[0] for row in rows]
    values = [COUNTED if row[1] else LISTED for row in rows]
    tags = {row[0]: row[2] for row in rows if row[2]}
    return words, values, tags or None


def _with_multipliers(words: list[str], raws: list[str | None]) -> tuple[list[str], list[float | None], None] | None:
    """(words, multipliers, no tags) from raw multiplier strings (None: a
    listed word); None if a word is empty or a multiplier is invalid."""
    if words and min(map(len, words)) == 0:
        return None
    table: dict[str | None, float] = {}
    for raw in set(raws):
        k = LISTED if raw is None else _multiplier(raw)
        if isinstance(k, str):  # an error (also for an empty multiplier)
            return None
        table[raw] = k
    return words, list(map(table.__getitem__, raws)), None


class _Piece(NamedTuple):
    """The entries of a piece of a file: words, their values (None: all
    LISTED), tags (None: none), and the warnings of its skipped lines."""

    words: list[str]
    values: list[float | str | None] | None
    tags: dict[str, str] | None
    warnings: list[DictWarning]


def _parse_pieces(source) -> Iterator[_Piece]:
    name = source_name(source)
    for text, first_line in pieces(source):
        columns = _parse_columns(text)
        if columns is not None:
            yield _Piece(*columns, [])
            continue
        skipped: list[DictWarning] = []
        lines = _parse_lines(text, name, first_line, skipped)  # raises with the line number
        del text
        tags = {line.word: line.tag for line in lines if line.tag is not None}
        yield _Piece([line.word for line in lines], [line.value for line in lines], tags or None, skipped)


def _resolved(piece: _Piece, known: Callable[[list[str]], Sequence[bool]] | None) -> list[float | None] | None:
    """The values of a piece with COUNTED decided: 1 (no effect of its own,
    see segcli.dictionary) for a word ``known`` says the model knows, LISTED
    for any other."""
    values = piece.values
    if values is None or COUNTED not in values:
        return values  # type: ignore[return-value]
    at = [i for i, value in enumerate(values) if value == COUNTED]
    knows = known([piece.words[i] for i in at]) if known is not None else [False] * len(at)
    values = list(values)
    for i, knows_it in zip(at, knows):
        values[i] = 1.0 if knows_it else LISTED
    return values  # type: ignore[return-value]


class Contents(NamedTuple):
    """What dictionary files hold, merged: word -> multiplier (None: listed,
    ``math.inf``: force), word -> tag, how many lines repeated a word seen
    before, and the warnings of the lines skipped, in file order."""

    entries: dict[str, float | None]
    tags: dict[str, str]
    duplicates: int
    warnings: list[DictWarning]


def read_dicts(sources, known: Callable[[list[str]], Sequence[bool]] | None = None) -> Contents:
    """Read and merge dictionary files (paths or open files, text or
    binary), later lines overriding earlier ones (a word's tag too, where
    the later line gives one).  ``known`` tells which words of jieba
    frequency lines the model knows (see COUNTED); without it every such word
    is listed.  Raises :class:`DictError` at the first bad line."""
    if isinstance(sources, (str, bytes, os.PathLike)) or hasattr(sources, "read"):
        sources = [sources]
    merged: dict[str, float | None] = {}
    tags: dict[str, str] = {}
    skipped: list[DictWarning] = []
    total = 0
    for source in sources:
        for piece in _parse_pieces(source):
            words, values = piece.words, _resolved(piece, known)
            total += len(words)
            skipped += piece.warnings
            if values is None:
                if merged:  # update() from a dict would hash every word twice
                    merged.update(zip(words, itertools.repeat(LISTED)))
                else:
                    merged = dict.fromkeys(words, LISTED)
            else:
                merged.update(zip(words, values))
            if piece.tags:
                tags.update(piece.tags)
            del words, values, piece
    return Contents(merged, tags, total - len(merged), skipped)


def parse_dict(path) -> list[tuple[str, float | None]]:
    """Parse one dictionary file into ``[(word, multiplier), ...]`` in file
    order: ``math.inf`` stands for ``force``, None for a listed word (jieba
    frequency lines too: no model decides them here).  Skipped lines are
    warned of (:class:`DictWarning`).  Raises :class:`DictError`."""
    pairs: list[tuple[str, float | None]] = []
    for piece in _parse_pieces(path):
        values = _resolved(piece, None)
        pairs.extend(zip(piece.words, values if values is not None else itertools.repeat(LISTED)))
        emit(piece.warnings)
    return pairs


def load_dicts(paths: Iterable) -> tuple[dict[str, float | None], int]:
    """Load and merge dictionary files, later lines overriding earlier ones.

    Returns ``(entries, duplicates)``: ``entries`` maps word -> multiplier
    (``math.inf`` = force, None = listed), ``duplicates`` counts lines whose
    word had already been seen (in the same file or an earlier one).  Skipped
    lines are warned of (:class:`DictWarning`); :func:`read_dicts` also gives
    the tags and hands the warnings back instead.
    """
    contents = read_dicts(paths)
    emit(contents.warnings)
    return contents.entries, contents.duplicates


def emit(dict_warnings: Iterable[DictWarning], stacklevel: int = 3) -> None:
    """Issue each warning through Python's warnings machinery."""
    for warning in dict_warnings:
        warnings.warn(warning, stacklevel=stacklevel)
