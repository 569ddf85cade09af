"""On-disk cache of a model's hash tables (and the keys they hold), memory-mapped at start.

Reading the shipped model's keys (~600k n-gram and word keys, 4.9 MB) and
filling its lookup tables (encode.KeyIndex, ~30 MB) took ~35 ms of every
start, a sixth of `echo 你好 | seg`. Read and built once, they are kept
here and mapped read-only: a start touches only the pages its text looks
up, and processes on one machine (`--jobs` workers, Spark executors) share
one copy. What goes in is the caller's (model.py: the tables and the keys).

A file is the 16-byte ``MAGIC`` (its last digits are this format's
version, to be raised whenever the tables' layout or hashing changes), a
4-byte little-endian length, a JSON header — the key and, per array, its
name, dtype, shape and offset — and the arrays' raw bytes, each at a
64-byte boundary. Reading one checks all of that and the file's exact size;
nothing in it is executed or unpickled, and the C lookups check every
table's shape themselves, so a damaged file can give wrong ids but never
make them read outside a table. There is no checksum: summing 30 MB would
cost what the cache saves; files are written whole (a temporary name,
renamed) and trusted as in :mod:`segcli.cachedir` (the user's own, in the
user's own directory), which also says where they live. seg never changes
a file in place, and pruning only unlinks (a process keeps what it mapped);
a file truncated in place by something else while a process has it mapped
ends that process with SIGBUS, as with any memory-mapped file.

The key names what the tables are made of: the model's stored keys (the
caller passes the CRC-32 and size of each array as the model file records
them, and the vocabulary's size, which the keys' digits count in), the
tables' layout (encode.KeyIndex.LAYOUT) and this format. At most ``CACHE_MAX_FILES`` table files are kept.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import struct
import sys
import zlib
from collections.abc import Mapping

import numpy as np

from .cachedir import open_dir, open_file, prune, write_file

#: First bytes of every table file; the last digits are the format version.
MAGIC = b"seg-tables--v001"

SUFFIX = ".tables"

#: At most this many models' tables are kept (each is tens of MB).
CACHE_MAX_FILES = 3

#: Models with fewer keys than this have their tables built, not cached:
#: building them takes about as long as mapping them (the shipped model: ~600k).
MIN_KEYS = 100_000

_NAME = re.compile(r"[0-9a-f]{16}" + re.escape(SUFFIX))
_LEN = struct.Struct("<I")
_HEADER_MAX = 1 << 16
_ALIGN = 64
_DTYPES = {"<i8": np.dtype("<i8"), "<u8": np.dtype("<u8")}


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
        opened = open_file(dfd, _file_name(key))
    finally:
        os.close(dfd)
    if opened is None:
        return None
    f, size = opened
    with f:
        try:
            mapped = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) if size else None
        except (OSError, ValueError):
            return None
    if mapped is None:
        return None
    try:
        return _arrays(mapped, key, size)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, MemoryError,
            struct.error, UnicodeDecodeError):  # whatever a damaged header makes json or numpy raise
        return None  # the mapping goes with the last array made from it


def _arrays(mapped: mmap.mmap, key: str, size: int) -> dict[str, np.ndarray]:
    """The arrays of a mapped file; ValueError (or the like) unless it is
    exactly what store() writes for this key."""
    if mapped[: len(MAGIC)] != MAGIC:
        raise ValueError("not a table file of this version")
    (n,) = _LEN.unpack_from(mapped, len(MAGIC))
    if not 0 < n <= _HEADER_MAX:
        raise ValueError("bad header length")
    start = len(MAGIC) + _LEN.size
    header = json.loads(mapped[start : start + n].decode("utf-8"))
    if not isinstance(header, dict) or header.get("key") != key or not isinstance(header.get("arrays"), list):
        raise ValueError("another key")
    arrays = {}
    end = start + n
    for name, dtype_name, shape, offset in header["arrays"]:
        dtype = _DTYPES[dtype_name]
        if (not isinstance(name, str) or name in arrays or not isinstance(shape, list)
                or not all(type(d) is int and d >= 0 for d in shape) or type(offset) is not int
                or offset % _ALIGN or offset < end):
            raise ValueError("bad array entry")
        count = int(np.prod(shape, dtype=np.int64))
        end = offset + count * dtype.itemsize
        if end > size:
            raise ValueError("truncated")
        arrays[name] = np.frombuffer(mapped, dtype=dtype, count=count, offset=offset).reshape(shape)
    if end != size:
        raise ValueError("trailing bytes")
    return arrays


def store(key: str, arrays: Mapping[str, np.ndarray]) -> bool:
    """Caches the arrays (int64 or uint64) under `key`. Returns whether they
    were stored; failures are not errors. Raises CacheError for an unsafe
    $SEG_CACHE_DIR."""
    entries, offset = [], 0
    prepared = {name: np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for name, a in arrays.items()}
    for name, a in prepared.items():
        if a.dtype.str not in _DTYPES:
            raise ValueError(f"{name}: only int64 and uint64 arrays are cached, not {a.dtype}")
    # Offsets depend on the header's length, which depends on the offsets: lay
    # the arrays out after room for a header of the longest offsets first.
    room = len(json.dumps({"key": key, "arrays": [[name, a.dtype.str, list(a.shape), 10**15]
                                                  for name, a in prepared.items()]}).encode())
    offset = -(-(len(MAGIC) + _LEN.size + room) // _ALIGN) * _ALIGN
    for name, a in prepared.items():
        entries.append([name, a.dtype.str, list(a.shape), offset])
        offset = -(-(offset + a.nbytes) // _ALIGN) * _ALIGN
    header = json.dumps({"key": key, "arrays": entries}).encode()
    if len(header) > _HEADER_MAX:
        return False

    def pieces():
        at = len(MAGIC) + _LEN.size + len(header)
        yield MAGIC + _LEN.pack(len(header)) + header
        for (_, _, _, where), a in zip(entries, prepared.values()):
            yield bytes(where - at)
            yield a.data.cast("B")
            at = where + a.nbytes

    dfd = open_dir(create=True)
    if dfd is None:
        return False
    try:
        name = _file_name(key)
        if not write_file(dfd, name, pieces()):
            return False
        prune(dfd, name, _NAME, CACHE_MAX_FILES)
        return True
    finally:
        os.close(dfd)
