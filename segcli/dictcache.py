"""On-disk cache of compiled user-dictionary automata, in a format that cannot run code.

Compiling the Aho-Corasick automaton of a large dictionary takes seconds
(see :mod:`segcli.trie`), so :mod:`segcli.dictionary` keeps compiled
automata here, keyed by
:func:`cache_key` (sha256 of the words, this format's version, the
pyahocorasick version and the platform).

Why not pickle
--------------
Loading a pickle runs whatever code it names, so a cache directory that
someone else can write to would let them run code as the user.  A file here
holds only bytes and integers, framed as :mod:`segcli.cachefile` frames both
caches (a 16-byte ``MAGIC`` carrying the format version, a JSON header, raw
arrays and a CRC-32 over all of it): the header has the key, the
automaton's kind, store, key type, word count and longest word; the arrays
are the trie's nodes as :mod:`segcli.trie` holds them, one entry per node
(its output, fail link, number of children and end-of-word flag) and one
per edge (its letter and child), numbered as pyahocorasick's raw nodes are.

Why every node is checked
-------------------------
pyahocorasick rebuilds an automaton from raw nodes (its unpickling) trusting
them: a child numbered 0 is a pointer it never set, a node with two parents
is freed twice, a fail link to a deeper node loops. So a file that passes
the checksum (which catches damage, not a deliberate change with the
checksum recomputed) is checked whole, with numpy, before any of it reaches
pyahocorasick: the edges form one tree over all the nodes, rooted at node 1
and no deeper than the longest word; every fail link goes to a shallower
node (the root's to none); and the end-of-word nodes hold exactly the ids
the caller expects, each at the depth of its word's length.  Only then are
the nodes laid out as the bytes pyahocorasick reads (one chunk) and handed
to ``ahocorasick.Automaton(...)``, which copies them into nodes in C; no
Python object is created from the file's contents, and nothing is
unpickled.  (pyahocorasick's own ``save``/``load`` cannot run code for an
automaton of ints either, but its ``load`` takes about 4 s for a million
words, against 0.15 s for this.)  A file that was changed and its checksum
recomputed can still make a well-formed automaton of other words; it cannot
crash seg.

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
import os
import platform
import re
import struct
import sys
from collections.abc import Sequence

import ahocorasick
import numpy as np

from . import cachefile, trie
from .cachedir import cache_dir, open_dir, prune, write_file

__all__ = ["CACHE_MAX_FILES", "MAGIC", "SUFFIX", "cache_dir", "cache_key", "load", "path_of", "store"]

#: At most this many compiled dictionaries are kept.
CACHE_MAX_FILES = 8

#: First bytes of every cache file; the last digits are the format version.
MAGIC = b"seg-userdict-v04"

#: Cache files are named KEY + SUFFIX.
SUFFIX = ".aho"

_KEY = re.compile(r"[0-9a-f]{64}")
_CACHE_NAME = re.compile(_KEY.pattern + re.escape(SUFFIX))
#: Files of the pickle-based format (read by nothing now) and its temporary
#: files, removed when storing.
_LEGACY_NAME = re.compile(r"[0-9a-f]{64}\.pkl|\.tmp-\w{8}\.pkl")

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


def load(key: str, words_count: int, ids: np.ndarray | None = None,
         lengths: np.ndarray | None = None) -> ahocorasick.Automaton | None:
    """The cached automaton of ``key`` holding ``words_count`` words, or None.

    With ``ids`` (sorted) and ``lengths`` (every word's length, by id), the
    automaton must map a word of each length to exactly those ids; without
    them, its ids are only known to be below 2**31.  Never unpickles; reads
    only a safe file in a safe directory (see the module's doc).  Raises
    CacheError for an unsafe $SEG_CACHE_DIR."""
    _check_key(key)
    if not trie.LAYOUT_OK:  # pragma: no cover - another layout of raw nodes than the one checked here
        return None
    dfd = open_dir(create=False)
    if dfd is None:
        return None
    try:
        read = cachefile.read(dfd, key + SUFFIX, MAGIC)
    finally:
        os.close(dfd)
    if read is None:
        return None
    header, columns = read
    del read
    try:
        count, longest = _checked(header, columns, key, words_count, ids, lengths)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None
    try:
        automaton = trie.automaton(trie.Nodes(columns, count, longest))
    except (ValueError, TypeError, MemoryError):  # pragma: no cover - all it checks was checked
        return None
    del columns
    if (automaton.kind != ahocorasick.AHOCORASICK or automaton.store != ahocorasick.STORE_INTS
            or len(automaton) != words_count):
        return None  # pragma: no cover - the header was checked
    return automaton


def _checked(header: dict, columns: dict[str, np.ndarray], key: str, words_count: int,
             ids: np.ndarray | None, lengths: np.ndarray | None) -> tuple[int, int]:
    """The word count and longest word's length from a file's header, once
    its nodes are checked to be what pyahocorasick can take (see the module's
    doc); ValueError (or the like) if not."""
    if header.get("key") != key or sorted(columns) != sorted(trie.COLUMNS) or any(
            columns[name].dtype.str != dtype or columns[name].ndim != 1 for name, dtype in trie.COLUMNS.items()):
        raise ValueError("another key or layout")
    kind, store, key_type, count, longest = (header[k] for k in ("kind", "store", "key_type", "words", "longest"))
    if not all(type(x) is int for x in (kind, store, key_type, count, longest)):
        raise ValueError("bad header")
    if (kind != ahocorasick.AHOCORASICK or store != ahocorasick.STORE_INTS or key_type != ahocorasick.KEY_STRING
            or count != words_count or not 0 < count < 2**31 or not 0 < longest < 2**31):
        raise ValueError("bad header")
    output, fail, children, eow, letter, child = (columns[name] for name in trie.COLUMNS)
    n = len(children)
    # One tree: every node but the root (node 1) is the child of exactly one
    # edge, so there are n - 1 edges, each to a node in 2..n, each node once.
    if (not 1 < n < 2**31 or len(output) != n or len(fail) != n or len(eow) != n or len(letter) != n - 1
            or len(child) != n - 1 or int(children.sum(dtype=np.int64)) != n - 1):
        raise ValueError("not a tree")
    if (int(child.min()) < 2 or int(child.max()) > n or np.bincount(child.astype(np.int64), minlength=n + 1)[2:].min() != 1
            or int(letter.max()) > sys.maxunicode or int(eow.max()) > 1 or eow[0]):
        raise ValueError("not a tree")
    # Depths, level by level from the root; a node no level reaches is on a
    # cycle, and a level deeper than the longest word would overrun
    # pyahocorasick's buffers of that length.
    depth = np.full(n + 1, -1, dtype=np.int64)
    depth[1] = 0
    first = np.cumsum(children, dtype=np.int64) - children
    frontier = np.ones(1, dtype=np.int64)
    level = 0
    while True:
        counts = children[frontier - 1].astype(np.int64)
        total = int(counts.sum())
        if not total:
            break
        level += 1
        if level > longest:
            raise ValueError("deeper than the longest word")
        offsets = np.repeat(first[frontier - 1] - (np.cumsum(counts) - counts), counts) + np.arange(total)
        frontier = child[offsets].astype(np.int64)
        depth[frontier] = level
    if (depth[1:] < 0).any():
        raise ValueError("not a tree")
    # Fail links: the root's to none, every other node's to a shallower one,
    # so that following them always ends at the root.
    if fail[0] or int(fail[1:].min()) < 1 or int(fail.max()) > n or (depth[fail[1:].astype(np.int64)] >= depth[2:]).any():
        raise ValueError("bad fail link")
    words = np.flatnonzero(eow)
    if len(words) != count:
        raise ValueError("another word count")
    values = output[words]
    if ids is None or lengths is None:
        if int(values.max()) >= 2**31:
            raise ValueError("bad word id")
    else:
        order = np.argsort(values)
        if not np.array_equal(values[order], ids) or not np.array_equal(
                depth[words + 1][order], np.asarray(lengths)[ids]):
            raise ValueError("other words")
    return count, longest


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def store(key: str, automaton: ahocorasick.Automaton, nodes: trie.Nodes | None = None) -> bool:
    """Cache ``automaton`` (of ints, made into an Aho-Corasick automaton)
    under ``key``: atomically, mode 0600, in a 0700 directory; prunes old
    files. ``nodes``, when at hand, are its nodes (see segcli.trie): taking
    them from the automaton costs a pass over every node. Returns whether it
    was stored; failures are not errors. Raises CacheError for an unsafe
    $SEG_CACHE_DIR."""
    if automaton.kind != ahocorasick.AHOCORASICK or automaton.store != ahocorasick.STORE_INTS:
        raise ValueError("only an Aho-Corasick automaton of ints can be cached")
    _check_key(key)
    if not trie.LAYOUT_OK:  # pragma: no cover
        return False
    dfd = open_dir(create=True)
    if dfd is None:
        return False
    try:
        if not _write(dfd, key, nodes if nodes is not None else trie.of_automaton(automaton)):
            return False
        prune(dfd, key + SUFFIX, _CACHE_NAME, CACHE_MAX_FILES, also=_LEGACY_NAME)
        return True
    finally:
        os.close(dfd)


def _write(dfd: int, key: str, nodes: trie.Nodes) -> bool:
    pieces = cachefile.pack(MAGIC, {"key": key, "kind": ahocorasick.AHOCORASICK, "store": ahocorasick.STORE_INTS,
                                    "key_type": ahocorasick.KEY_STRING, "words": nodes.words,
                                    "longest": nodes.longest}, nodes.columns)
    return pieces is not None and write_file(dfd, key + SUFFIX, pieces)
