"""Opening the files a user names: every failure one line of the caller's error type, naming the file.

What the operating system says (``No such file or directory``, ``Is a
directory``, ``Permission denied``) is the reason; a name it cannot even take
(a NUL in it, not a path at all) is said as Python says it. Each caller gives
the error type (InputError, DictError, ModelError, CorpusError...) and the
shape of its message around ``{name}`` and ``{reason}``, so that
``seg: error: …`` reads the same wherever the file was opened.
"""

from __future__ import annotations

import os
from typing import BinaryIO

#: The message of most callers: ``NAME: reason``.
NAME_AND_REASON = "{name}: {reason}"


def reason(error: BaseException) -> str:
    """Why opening, reading or writing a file failed, in a few words."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def describe(path, error: BaseException, message: str = NAME_AND_REASON) -> str:
    """The one-line message for ``error`` on ``path``, shaped by ``message``."""
    return message.format(name=_name(path), reason=reason(error))


def open_binary(path, error: type[Exception], message: str = NAME_AND_REASON) -> BinaryIO:
    """``path`` opened for reading, in binary; raises ``error`` with the
    one-line ``message`` (its ``{name}`` and ``{reason}`` filled in) when it
    cannot be opened."""
    return _open(path, "rb", error, message)


def open_for_writing(path, error: type[Exception], message: str = NAME_AND_REASON) -> BinaryIO:
    """``path`` opened for writing (created or truncated), in binary; raises
    as :func:`open_binary` does."""
    return _open(path, "wb", error, message)


def read_text(path, error: type[Exception], message: str = NAME_AND_REASON, encoding: str = "utf-8") -> str:
    """The whole file, decoded (line ends as they are); raises ``error`` when
    it cannot be opened or read, or is not valid ``encoding``
    (``invalid UTF-8 at byte N``, N counted from the start of the file)."""
    with open_binary(path, error, message) as f:
        try:
            data = f.read()
        except OSError as e:
            raise error(describe(path, e, message)) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise error(message.format(name=_name(path), reason=f"invalid UTF-8 at byte {e.start}")) from None


def _open(path, mode: str, error: type[Exception], message: str) -> BinaryIO:
    try:
        return open(path, mode)  # noqa: SIM115 - the caller closes it
    except (OSError, TypeError, ValueError) as e:  # ValueError: a NUL in the name; TypeError: not a path
        raise error(describe(path, e, message)) from None


def _name(path) -> str:
    try:
        return os.fsdecode(path)
    except TypeError:  # not a path at all
        return repr(path)
