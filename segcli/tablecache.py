"""On-disk cache of a model's hash tables (and the keys they hold), memory-mapped at start.

Reading the shipped model's keys (~600k n-gram and word keys, 4.9 MB) and
filling its lookup tables (encode.KeyIndex, ~30 MB) took ~35 ms of every
start, a sixth of `echo 你好 | seg`. Read and built once, they are kept
here and mapped read-only: a start touches only the pages its text looks
up, and processes on one machine (`--jobs` workers, Spark executors) share
one copy. What goes in is the caller's (model.py: the tables and the keys).

A file is the 16-byte ``MAGIC`` (its last digits are this format's
version, to be raised whenever the tables' layout or hashing changes) and
then what :mod:`segcli.cachefile` frames for both caches: a JSON header (the
key; per array its name, dtype, shape and offset), the arrays' raw bytes and
a CRC-32 over all of it. Reading one checks the checksum over the whole
file first (a file zeroed from some block on by a crash, its size and mode
intact, is a miss, rebuilt and replaced), then the header and the file's
exact size; nothing in it is executed or unpickled, and the C lookups check
every table's shape themselves, so even a changed file with its checksum
recomputed can give wrong ids but never make them read outside a table.
The checksum costs ~15 ms a start for the shipped model's 35 MB (zlib's
CRC-32 over the mapped file, which also brings every page in: a start
without it touches only those its text looks up), against ~35 ms to build
the tables. Files are written whole (a temporary name, renamed) and trusted
as in :mod:`segcli.cachedir` (the user's own, in the user's own directory),
which also says where they live. seg never changes a file in place, and
pruning only unlinks (a process keeps what it mapped); a file truncated in
place by something else while a process has it mapped ends that process
with SIGBUS, as with any memory-mapped file.

The key names what the tables are made of: the model's stored keys (the
caller passes the CRC-32 and size of each array as the model file records
them, and the vocabulary's size, which the keys' digits count in), the
tables' layout (encode.KeyIndex.LAYOUT) and this format. At most ``CACHE_MAX_FILES`` table files are kept.
"""

from __future__ import annotations

import json
import os
import re
import sys
import zlib
from collections.abc import Mapping

import numpy as np

from . import cachefile
from .cachedir import open_dir, prune, write_file

#: First bytes of every table file; the last digits are the format version.
MAGIC = b"seg-tables--v002"

SUFFIX = ".tables"

#: At most this many models' tables are kept (each is tens of MB).
CACHE_MAX_FILES = 3

#: Models with fewer keys than this have their tables built, not cached:
#: building them takes about as long as mapping them (the shipped model: ~600k).
MIN_KEYS = 100_000

_NAME = re.compile(r"[0-9a-f]{16}" + re.escape(SUFFIX))
_DTYPES = ("<i8", "<u8")


def key_of(parts: list) -> str:
    """The key of the tables made from `parts` (JSON-able: what the tables
    are built from), for this format and byte order."""
    return json.dumps([MAGIC.decode(), sys.byteorder, parts], separators=(",", ":"))


def _file_name(key: str) -> str:
    data = key.encode()
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{SUFFIX}"


def load(key: str) -> dict[str, np.ndarray] | None:
    """The cached arrays of `key` (read-only, memory-mapped), or None.
    Raises CacheError for an unsafe $SEG_CACHE_DIR."""
    dfd = open_dir(create=False)
    if dfd is None:
        return None
    try:
        read = cachefile.read(dfd, _file_name(key), MAGIC)
    finally:
        os.close(dfd)
    if read is None:
        return None
    header, arrays = read
    if header.get("key") != key or any(a.dtype.str not in _DTYPES for a in arrays.values()):
        return None
    return arrays


def store(key: str, arrays: Mapping[str, np.ndarray]) -> bool:
    """Caches the arrays (int64 or uint64) under `key`. Returns whether they
    were stored; failures are not errors. Raises CacheError for an unsafe
    $SEG_CACHE_DIR."""
    for name, a in arrays.items():
        if a.dtype.newbyteorder("<").str not in _DTYPES:
            raise ValueError(f"{name}: only int64 and uint64 arrays are cached, not {a.dtype}")
    pieces = cachefile.pack(MAGIC, {"key": key}, arrays)
    if pieces is None:
        return False
    dfd = open_dir(create=True)
    if dfd is None:
        return False
    try:
        name = _file_name(key)
        if not write_file(dfd, name, pieces):
            return False
        prune(dfd, name, _NAME, CACHE_MAX_FILES)
        return True
    finally:
        os.close(dfd)
