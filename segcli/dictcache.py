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

Who may write the cache
-----------------------
Defence in depth: the C code that rebuilds the nodes trusts its input, so
only files that only the user could have written are read.  The directory is
opened once and checked through its file descriptor (owned by the user, not
writable by group or others); every file is opened relative to it without
following symbolic links and checked the same way (a regular file, owned by
the user, not group- or world-writable).  Directories are created 0700 and
files 0600, written to a temporary name and renamed into place.

The directory is ``$SEG_CACHE_DIR``, else ``$XDG_CACHE_HOME/seg``, else
``~/.cache/seg``.  When ``$SEG_CACHE_DIR`` names a directory that exists but
is unsafe (someone else's, group- or world-writable) or is not a directory,
:class:`~segcli.errors.CacheError` says so in one line; for the default
location the cache is skipped silently.  Any other failure (a directory that
cannot be created, a full disk, a damaged or foreign file) means a miss: the
caller builds the automaton, as it would without a cache.  At most
``CACHE_MAX_FILES`` files are kept, the least recently used ones go first.
The cache is POSIX-only; elsewhere every lookup misses.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import secrets
import stat
import struct
import sys
import time
import zlib
from collections.abc import Sequence

import ahocorasick

from .errors import CacheError

__all__ = ["CACHE_MAX_FILES", "MAGIC", "SUFFIX", "cache_dir", "cache_key", "load", "path_of", "store"]

#: At most this many compiled dictionaries are kept.
CACHE_MAX_FILES = 8

#: First bytes of every cache file; the last digits are the format version.
MAGIC = b"seg-userdict-v03"

#: Cache files are named KEY + SUFFIX.
SUFFIX = ".aho"

_KEY = re.compile(r"[0-9a-f]{64}")
_CACHE_NAME = re.compile(_KEY.pattern + re.escape(SUFFIX))
_TMP_NAME = re.compile(r"\.tmp-[0-9a-f]{16}" + re.escape(SUFFIX) + r"|\.tmp-\w{8}\.pkl")
#: Files of the pickle-based format (read by nothing now), removed when storing.
_LEGACY_NAME = re.compile(r"[0-9a-f]{64}\.pkl")

#: Temporary files older than this (seconds) were left by a crash: removed.
_STALE_TMP_S = 3600

_HEADER_MAX = 1 << 16
_LEN = struct.Struct("<I")
_COUNT = struct.Struct("=q")  # pyahocorasick's per-chunk node count (Py_ssize_t)

_POSIX = (os.name == "posix" and hasattr(os, "O_DIRECTORY") and hasattr(os, "O_NOFOLLOW")
          and os.open in os.supports_dir_fd)

# pyahocorasick's constructor, when it rebuilds an automaton of ints from raw
# nodes, releases a reference to None that it does not own (and only gives one
# back, by accident, when the automaton is freed); before Python 3.12 None is not
# immortal, and a few thousand such automata alive at once abort the
# interpreter.  Each load pays that reference back here.
_NONE_DEBT: list[None] | None = [] if sys.version_info < (3, 12) else None


def cache_dir() -> str:
    """The per-user cache directory for compiled dictionaries."""
    d = os.environ.get("SEG_CACHE_DIR")
    if d:
        return d
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.join(xdg, "seg")
    return os.path.join(os.path.expanduser("~"), ".cache", "seg")


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
# The directory
# --------------------------------------------------------------------------


def _unsafe(st: os.stat_result) -> str | None:
    """Why a file or directory with this status must not be trusted, or None."""
    if st.st_uid != os.geteuid():
        return f"owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    if st.st_mode & 0o022:
        return f"writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def _open_dir(create: bool) -> int | None:
    """A file descriptor of the verified cache directory, or None to skip the
    cache.  Raises CacheError when $SEG_CACHE_DIR names an unsafe directory."""
    if not _POSIX:
        return None
    named = bool(os.environ.get("SEG_CACHE_DIR"))
    d = cache_dir()
    created = False
    if create:
        try:
            os.makedirs(d, mode=0o700)
            created = True
        except FileExistsError:
            pass
        except (OSError, ValueError):  # cannot be created (ValueError: a NUL in the name)
            return None
    try:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        if named and os.path.exists(d):
            raise CacheError(f"cache directory {d} (SEG_CACHE_DIR) is not a directory") from None
        return None
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        if created and st.st_uid == os.geteuid():
            os.fchmod(fd, 0o700)  # whatever the umask left
            st = os.fstat(fd)
        why = _unsafe(st)
    except OSError:
        why = "cannot be checked"
    if why is None:
        return fd
    os.close(fd)
    if named:
        raise CacheError(f"unsafe cache directory {d} (SEG_CACHE_DIR): {why}; "
                         f"use a private directory (chmod 700) or unset SEG_CACHE_DIR")
    return None


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def load(key: str, words_count: int) -> ahocorasick.Automaton | None:
    """The cached automaton of ``key`` holding ``words_count`` words, or None.

    Never unpickles; reads only a safe file in a safe directory (see the
    module's doc).  Raises CacheError for an unsafe $SEG_CACHE_DIR."""
    _check_key(key)
    dfd = _open_dir(create=False)
    if dfd is None:
        return None
    try:
        return _read(dfd, key, words_count)
    finally:
        os.close(dfd)


def _read(dfd: int, key: str, words_count: int) -> ahocorasick.Automaton | None:
    try:
        fd = os.open(key + SUFFIX, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
    except (OSError, ValueError):
        return None
    with open(fd, "rb") as f:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or _unsafe(st) is not None:
                return None
            size = st.st_size
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
        try:
            os.utime(fd)  # recently used: pruned last
        except (OSError, NotImplementedError):
            pass
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
    dfd = _open_dir(create=True)
    if dfd is None:
        return False
    try:
        if not _write(dfd, key, automaton):
            return False
        _prune(dfd, keep=key + SUFFIX)
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
    tmp = f".tmp-{secrets.token_hex(8)}{SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd)
    except OSError:
        return False
    try:
        with open(fd, "wb") as f:
            os.fchmod(fd, 0o600)
            f.write(MAGIC + _LEN.pack(len(header)) + header)
            chunks.reverse()
            while chunks:  # release each chunk once written
                f.write(chunks.pop())
        os.replace(tmp, key + SUFFIX, src_dir_fd=dfd, dst_dir_fd=dfd)
        tmp = None
        return True
    except OSError:
        return False
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass


def _prune(dfd: int, keep: str) -> None:
    """Keep the CACHE_MAX_FILES most recently used files; drop legacy pickles
    and temporary files left by a crash.  Only names this module (or the
    pickle cache before it) gives are touched."""
    try:
        with os.scandir(dfd) as entries:
            listing = [(e.name, e.stat(follow_symlinks=False).st_mtime) for e in entries]
    except OSError:
        return
    now = time.time()
    files = sorted(((mtime, name) for name, mtime in listing
                    if _CACHE_NAME.fullmatch(name) and name != keep), reverse=True)
    doomed = [name for _, name in files[CACHE_MAX_FILES - 1:]]
    doomed += [name for name, mtime in listing
               if _LEGACY_NAME.fullmatch(name) or (_TMP_NAME.fullmatch(name) and now - mtime > _STALE_TMP_S)]
    for name in doomed:
        try:
            os.unlink(name, dir_fd=dfd)
        except OSError:
            pass
