"""The one file format of both caches: a magic, a JSON header and raw arrays, all under one CRC-32.

A cache file is

* a 16-byte magic (the cache's own, whose last digits are its version);
* a 4-byte little-endian length of the header;
* the 4-byte little-endian CRC-32 of everything else in the file: the magic
  and length above, the header and every array, to the last byte;
* the JSON header: what the cache puts there (its key first) and, per array,
  its name, dtype, shape and offset;
* the arrays' raw bytes, each at a 64-byte boundary, and nothing after the last.

Reading one maps it, checks the CRC-32 over all of it before anything else
is looked at, then the header and that every array lies inside the file;
anything else is ValueError (a miss for the caches). The checksum is what
catches a file damaged by a crash (zeroed from some block on, with its size,
mode and owner intact) or by the disk; it does not stop a deliberate change
with the checksum recomputed, so what the arrays hold is still checked by
each cache before it is used (and the C code checks every index it follows).
Nothing in a file is executed or unpickled.

Where files live and who may write them: :mod:`segcli.cachedir`.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import struct
import zlib
from collections.abc import Mapping

import numpy as np

from .cachedir import open_dir, open_file, prune, write_file

MAGIC_SIZE = 16
_PREFIX = struct.Struct("<II")  # header length, CRC-32
_START = MAGIC_SIZE + _PREFIX.size
_HEADER_MAX = 1 << 16
_ALIGN = 64
_DTYPES = {d: np.dtype(d) for d in ("<i8", "<u8", "<i4", "<u4", "|u1", "<f8")}


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def pack(magic: bytes, fields: Mapping, arrays: Mapping[str, np.ndarray]) -> list | None:
    """The pieces of the file holding `fields` (JSON-able; "key" among them)
    and the arrays (int64, uint64, int32, uint32, uint8 or float64), checksum included;
    None if the header would be too long."""
    if len(magic) != MAGIC_SIZE:
        raise ValueError("a cache's magic is 16 bytes")
    prepared = {name: np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for name, a in arrays.items()}
    for name, a in prepared.items():
        if a.dtype.str not in _DTYPES:
            raise ValueError(f"{name}: only int64, uint64, int32, uint32, uint8 and float64 arrays are cached, "
                             f"not {a.dtype}")
    # Offsets depend on the header's length, which depends on the offsets: lay
    # the arrays out after room for a header of the longest offsets first.
    room = len(json.dumps({**fields, "arrays": [[name, a.dtype.str, list(a.shape), 10**15]
                                                for name, a in prepared.items()]}).encode())
    offset = _aligned(_START + room)
    entries = []
    for name, a in prepared.items():
        entries.append([name, a.dtype.str, list(a.shape), offset])
        offset = _aligned(offset + a.nbytes)
    header = json.dumps({**fields, "arrays": entries}).encode()
    if len(header) > _HEADER_MAX:
        return None
    pieces = [header]
    at = _START + len(header)
    for (_, _, _, where), a in zip(entries, prepared.values()):
        pieces.append(bytes(where - at))
        pieces.append(a.data.cast("B"))
        at = where + a.nbytes
    length = _PREFIX.pack(len(header), 0)[:4]
    crc = zlib.crc32(length, zlib.crc32(magic))
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
    return [magic + length + _PREFIX.pack(0, crc)[4:], *pieces]


def load(name: str, magic: bytes) -> tuple[dict, dict[str, np.ndarray]] | None:
    """read() of the file `name` in the cache directory; None where there is
    none. Raises CacheError for an unsafe $SEG_CACHE_DIR."""
    dfd = open_dir(create=False)
    if dfd is None:
        return None
    try:
        return read(dfd, name, magic)
    finally:
        os.close(dfd)


def save(name: str, pieces: list, names: re.Pattern, max_files: int, also: re.Pattern | None = None) -> bool:
    """Writes the pieces (of pack) as the file `name` of the cache directory
    and prunes it (segcli.cachedir.prune: `names`, `max_files`, `also`).
    Returns whether it was written; failures are not errors. Raises
    CacheError for an unsafe $SEG_CACHE_DIR."""
    dfd = open_dir(create=True)
    if dfd is None:
        return False
    try:
        if not write_file(dfd, name, pieces):
            return False
        prune(dfd, name, names, max_files, also=also)
        return True
    finally:
        os.close(dfd)


def read(dfd: int, name: str, magic: bytes) -> tuple[dict, dict[str, np.ndarray]] | None:
    """(header, arrays) of the file `name` in the cache directory, the arrays
    read-only and memory-mapped; None if there is none, it is not a safe file
    (segcli.cachedir) or not exactly a file of this magic, checksum and all."""
    opened = open_file(dfd, name)
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
        return unpack(mapped, magic)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, MemoryError,
            struct.error, UnicodeDecodeError):  # whatever a damaged header makes json or numpy raise
        return None  # the mapping goes with the last array made from it


def unpack(data, magic: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) of a whole file's bytes (the arrays are views of
    them); ValueError (or the like) unless it is exactly what pack() wrote."""
    size = len(data)
    if size < _START or data[:MAGIC_SIZE] != magic:
        raise ValueError("not a file of this cache and version")
    n, crc = _PREFIX.unpack_from(data, MAGIC_SIZE)
    with memoryview(data) as view:
        if zlib.crc32(view[_START:], zlib.crc32(view[: MAGIC_SIZE + 4])) != crc:
            raise ValueError("checksum mismatch")
    if not 0 < n <= _HEADER_MAX:
        raise ValueError("bad header length")
    header = json.loads(bytes(data[_START : _START + n]).decode("utf-8"))
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), list):
        raise ValueError("bad header")
    arrays = {}
    end = _START + n
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
        arrays[name] = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape)
    if end != size:
        raise ValueError("trailing bytes")
    return header, arrays
