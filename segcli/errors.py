"""Typed errors of the library. Only the CLI turns them into `seg: error: …`
lines and exit statuses; library code raises them and never exits."""

from __future__ import annotations


class SegError(Exception):
    """A data error: bad input, dictionary, model or cache. Its str() is one
    line that names the file (and line) where that applies."""


class DictError(SegError, ValueError):
    """A user dictionary file or entry is malformed or unreadable."""


class ModelError(SegError):
    """A model directory is missing, incomplete or damaged."""


class UnknownStandardError(ModelError, ValueError):
    """The model knows no segmentation standard of that name."""


class InputError(SegError):
    """An input or output file cannot be opened, read or written."""


class CorpusError(SegError):
    """A training corpus cannot be found or read."""


class CacheError(SegError):
    """The dictionary cache directory the user named cannot be used safely."""


class WorkerDied(SegError):
    """A --jobs worker process ended without answering (killed, out of memory)."""
