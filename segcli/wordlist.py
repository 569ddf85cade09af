"""Reading whitespace-segmented text: segmented corpora and word lists, from a file or lines.

The one reader of both: ``seg eval`` reads gold, predictions and word lists
with it (``segcli.evaluate`` re-exports them), and a model directory's
training-word lists are read with ``read_word_list``. Unreadable input
raises InputError, one line naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Union

from . import files
from .errors import InputError

PathOrLines = Union[str, bytes, "os.PathLike[str]", Iterable[str]]

_BOM = "\ufeff"


def _lines(path_or_lines: PathOrLines) -> Iterable[str]:
    """Lines of a UTF-8 file (BOM dropped, split on "\\n" only) or of an iterable."""
    if isinstance(path_or_lines, (str, bytes, os.PathLike)):
        text = files.read_text(path_or_lines, InputError)  # read_segmented drops a BOM, from files and iterables alike
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the final newline terminates, it does not start, a line
        return lines
    return path_or_lines


def read_segmented(path_or_lines: PathOrLines) -> list[list[str]]:
    """Read a segmented corpus: one sentence per line, words separated by whitespace.

    ``path_or_lines`` is a file path (str/bytes/PathLike; read as UTF-8) or an
    iterable of lines (e.g. an open text file or a list of strings). A leading
    BOM is dropped and CR/LF line endings are handled. Only "\\n" separates
    lines in a file, so line numbers agree with ``wc -l``/editors; empty lines
    are kept (as empty lists) so that gold and prediction stay aligned.
    """
    out: list[list[str]] = []
    for i, line in enumerate(_lines(path_or_lines)):
        if i == 0 and line.startswith(_BOM):
            line = line[1:]
        out.append(line.split())
    return out


def read_word_list(path_or_lines: PathOrLines) -> set[str]:
    """The set of all whitespace-separated tokens in a file or iterable of lines.

    Works for a word list (one word per line, as ``score.pl`` takes) and for a
    segmented training corpus alike.
    """
    words: set[str] = set()
    for line in read_segmented(path_or_lines):
        words.update(line)
    return words
