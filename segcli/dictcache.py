"""On-disk cache of compiled user-dictionary automata, in a format that cannot run code.

Compiling the Aho-Corasick automaton of a large dictionary takes seconds (a
million words: about 20 s, nearly all of it inside pyahocorasick), so
:mod:`segcli.dictionary` keeps compiled automata here, keyed by
:func:`cache_key` (sha256 of the words, this format's version, the
pyahocorasick version and the platform).

Why not pickle
--------------
Loading a pickle runs whatever code it names, so a cache directory that
someone else can write to would let them run code as the user.  A file here
holds only bytes and integers:

* a 16-byte magic (``MAGIC``, which carries the format version);
* a 4-byte little-endian length and a JSON header: the key, the automaton's
  kind, store, key type, word count and longest word, the sizes of the node
  chunks and their CRC-32;
* the node chunks themselves: the raw trie nodes that pyahocorasick's own
  ``__reduce__`` produces for an automaton of ints (``STORE_INTS``).

Reading one parses the JSON, checks every field and the CRC-32, and hands
the chunks to ``ahocorasick.Automaton(...)``, which copies them into nodes
in C; no Python object is created from the file's contents, and nothing is
unpickled.  (pyahocorasick's own ``save``/``load`` cannot run code for an
automaton of ints either, but its ``load`` takes about 4 s for a million
words, against 0.15 s for this.)

Where it lives, and who may write it
------------------------------------
See :mod:`segcli.cachedir`: ``$SEG_CACHE_DIR``, else
``$XDG_CACHE_HOME/seg``, else ``~/.cache/seg``; only files that only the
user could have written are read, and an unsafe ``$SEG_CACHE_DIR`` is a
:class:`~segcli.errors.CacheError`. Any other failure (a damaged or foreign
file, a full disk) means a miss: the caller builds the automaton, as it
would without a cache. At most ``CACHE_MAX_FILES`` files are kept, the least
recently used ones go first.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import struct
import sys
import zlib
from collections.abc import Sequence

import ahocorasick

from .cachedir import cache_dir, open_dir, open_file, prune, write_file

__all__ = ["CACHE_MAX_FILES", "MAGIC", "SUFFIX", "cache_dir", "cache_key", "load", "path_of", "store"]

#: At most this many compiled dictionaries are kept.
CACHE_MAX_FILES = 8

#: First bytes of every cache file; the last digits are the format version.
MAGIC = b"seg-userdict-v03"

#: Cache files are named KEY + SUFFIX.
SUFFIX = ".aho"

_KEY = re.compile(r"[0-9a-f]{64}")
_CACHE_NAME = re.compile(_KEY.pattern + re.escape(SUFFIX))
#: Files of the pickle-based format (read by nothing now) and its temporary
#: files, removed when storing.
_LEGACY_NAME = re.compile(r"[0-9a-f]{64}\.pkl|\.tmp-\w{8}\.pkl")

_HEADER_MAX = 1 << 16
_LEN = struct.Struct("<I")
_COUNT = struct.Struct("=q")  # pyahocorasick's per-chunk node count (Py_ssize_t)

# pyahocorasick's constructor, when it rebuilds an automaton of ints from raw
# nodes, releases a reference to None that it does not own (and only gives one
# back, by accident, when the automaton is freed); before Python 3.12 None is not
# immortal, and a few thousand such automata alive at once abort the
# interpreter.  Each load pays that reference back here.
_NONE_DEBT: list[None] | None = [] if sys.version_info < (3, 12) else None


@functools.lru_cache(maxsize=1)
def _build_tag() -> bytes:
    """What must match for the raw nodes of one build to be read by another."""
    from importlib import metadata

    try:
        version = metadata.version("pyahocorasick")
    except metadata.PackageNotFoundError:
        version = "unknown:" + str(getattr(ahocorasick, "__file__", ""))
    return "\0".join([
        version, str(ahocorasick.unicode), platform.machine(), sys.byteorder,
        str(struct.calcsize("P")), str(sys.maxunicode),
    ]).encode()


def cache_key(words: Sequence[str]) -> str:
    """The key of an automaton compiled from ``words`` (in this order)."""
    h = hashlib.sha256(MAGIC + b"\0")
    h.update(_build_tag() + b"\0")
    h.update(str(len(words)).encode() + b"\0")
    h.update("\0".join(words).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _check_key(key: str) -> None:
    if not (isinstance(key, str) and _KEY.fullmatch(key)):
        raise ValueError(f"not a cache key: {key!r}")


def path_of(key: str) -> str:
    """Where the automaton of ``key`` is cached (it may not exist)."""
    return os.path.join(cache_dir(), key + SUFFIX)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def load(key: str, words_count: int) -> ahocorasick.Automaton | None:
    """The cached automaton of ``key`` holding ``words_count`` words, or None.

    Never unpickles; reads only a safe file in a safe directory (see the
    module's doc).  Raises CacheError for an unsafe $SEG_CACHE_DIR."""
    _check_key(key)
    dfd = open_dir(create=False)
    if dfd is None:
        return None
    try:
        return _read(dfd, key, words_count)
    finally:
        os.close(dfd)


def _read(dfd: int, key: str, words_count: int) -> ahocorasick.Automaton | None:
    opened = open_file(dfd, key + SUFFIX)
    if opened is None:
        return None
    f, size = opened
    with f:
        try:
            chunks, args = _read_payload(f, key, words_count, size)
        except (OSError, ValueError, TypeError, KeyError, RecursionError, struct.error):
            return None
        try:
            automaton = ahocorasick.Automaton(chunks, *args, None)
        except (ValueError, TypeError, MemoryError):
            return None
        if _NONE_DEBT is not None:
            _NONE_DEBT.append(None)
        del chunks
        if (automaton.kind != ahocorasick.AHOCORASICK or automaton.store != ahocorasick.STORE_INTS
                or len(automaton) != words_count):
            return None  # pragma: no cover - the header was checked
        return automaton


def _read_payload(f, key: str, words_count: int, size: int):
    """(node chunks, constructor arguments) of a cache file; ValueError if it
    is not exactly what :func:`store` writes for this key."""
    if f.read(len(MAGIC)) != MAGIC:
        raise ValueError("not a cache file of this version")
    (n,) = _LEN.unpack(f.read(_LEN.size))
    if not 0 < n <= _HEADER_MAX:
        raise ValueError("bad header length")
    header = json.loads(f.read(n).decode("utf-8"))
    if not isinstance(header, dict) or header.get("key") != key:
        raise ValueError("another key")
    kind, store, key_type = header["kind"], header["store"], header["key_type"]
    count, longest, sizes, crc = header["words"], header["longest"], header["chunks"], header["crc32"]
    if not isinstance(sizes, list) or not all(
            type(x) is int for x in [kind, store, key_type, count, longest, crc, *sizes]):
        raise ValueError("bad header")
    if (kind != ahocorasick.AHOCORASICK or store != ahocorasick.STORE_INTS
            or key_type != ahocorasick.KEY_STRING or count != words_count or not 0 < count < 2**31
            or not 0 < longest < 2**31 or not sizes or min(sizes) <= _COUNT.size
            or len(MAGIC) + _LEN.size + n + sum(sizes) != size):
        raise ValueError("bad header")
    chunks = []
    running = 0
    for s in sizes:
        chunk = f.read(s)
        if len(chunk) != s or _COUNT.unpack_from(chunk)[0] <= 0:
            raise ValueError("truncated")
        running = zlib.crc32(chunk, running)
        chunks.append(chunk)
    if running != crc:
        raise ValueError("checksum mismatch")
    return chunks, (kind, store, key_type, count, longest)


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def store(key: str, automaton: ahocorasick.Automaton) -> bool:
    """Cache ``automaton`` (of ints, made into an Aho-Corasick automaton)
    under ``key``: atomically, mode 0600, in a 0700 directory; prunes old
    files.  Returns whether it was stored; failures are not errors.  Raises
    CacheError for an unsafe $SEG_CACHE_DIR."""
    if automaton.kind != ahocorasick.AHOCORASICK or automaton.store != ahocorasick.STORE_INTS:
        raise ValueError("only an Aho-Corasick automaton of ints can be cached")
    _check_key(key)
    dfd = open_dir(create=True)
    if dfd is None:
        return False
    try:
        if not _write(dfd, key, automaton):
            return False
        prune(dfd, key + SUFFIX, _CACHE_NAME, CACHE_MAX_FILES, also=_LEGACY_NAME)
        return True
    finally:
        os.close(dfd)


def _write(dfd: int, key: str, automaton: ahocorasick.Automaton) -> bool:
    _, (chunks, kind, store_, key_type, count, longest, values) = automaton.__reduce__()
    if values is not None:  # pragma: no cover - STORE_INTS never has values
        return False
    crc = 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
    header = json.dumps({
        "key": key, "kind": kind, "store": store_, "key_type": key_type, "words": count,
        "longest": longest, "chunks": [len(c) for c in chunks], "crc32": crc,
    }).encode()

    def pieces():
        yield MAGIC + _LEN.pack(len(header)) + header
        chunks.reverse()
        while chunks:  # release each chunk once written
            yield chunks.pop()

    return write_file(dfd, key + SUFFIX, pieces())
