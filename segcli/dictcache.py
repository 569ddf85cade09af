"""On-disk cache of compiled user-dictionary automata, in a format that cannot run code.

Compiling the Aho-Corasick automaton of a large dictionary takes seconds
(see :mod:`segcli.trie`), so :mod:`segcli.dictionary` keeps compiled
automata here, keyed by :func:`cache_key` (sha256 of this format's version
and the words).

Why not pickle
--------------
Loading a pickle runs whatever code it names, so a cache directory that
someone else can write to would let them run code as the user.  A file here
holds only bytes and integers, framed as :mod:`segcli.cachefile` frames both
caches (a 16-byte ``MAGIC`` carrying the format version, a JSON header, raw
arrays and a CRC-32 over all of it): the header has the key, the
automaton's kind, store, key type, word count and longest word; the arrays
are the automaton's as :mod:`segcli.trie` holds them (children, letters,
fail and suffix links and word ids, one entry per node).

Mapped, and checked whole
-------------------------
A file is mapped, and the automaton walks its arrays where they lie: no copy
and no object per node (a million words load in a fraction of a second, and
the pages are the file's, shared and given back as the system needs).  seg
only ever replaces a cache file by renaming a new one over it, which leaves
a mapped one whole; a file cut short in place under a running seg would end
it with SIGBUS, and only its user can do that.

A file that passes the checksum (which catches damage, not a deliberate
change with the checksum recomputed) is checked whole before it is used
(:func:`segcli.trie.check`, one pass in C): the nodes form one tree,
numbered level by level, no deeper than the longest word, each node's
letters in order; every fail link goes to a shallower node and every suffix
link is the one the fail links make; and the end-of-word nodes hold exactly
the ids the caller expects, each at the depth of its word's length.  No
Python object is created from the file's contents, and nothing is
unpickled; the walk checks every index it follows anyway.  A file that was
changed and its checksum recomputed can still make a well-formed automaton
of other words; it cannot crash seg.

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

import hashlib
import os
import re
from collections.abc import Sequence

import ahocorasick
import numpy as np

from . import cachefile, trie
from .cachedir import cache_dir, open_dir, prune, write_file

__all__ = ["CACHE_MAX_FILES", "MAGIC", "SUFFIX", "cache_dir", "cache_key", "load", "path_of", "store"]

#: At most this many compiled dictionaries are kept.
CACHE_MAX_FILES = 8

#: First bytes of every cache file; the last digits are the format version.
MAGIC = b"seg-userdict-v05"

#: Cache files are named KEY + SUFFIX.
SUFFIX = ".aho"

_KEY = re.compile(r"[0-9a-f]{64}")
_CACHE_NAME = re.compile(_KEY.pattern + re.escape(SUFFIX))
#: Files of the pickle-based format (read by nothing now) and its temporary
#: files, removed when storing.
_LEGACY_NAME = re.compile(r"[0-9a-f]{64}\.pkl|\.tmp-\w{8}\.pkl")


def cache_key(words: Sequence[str]) -> str:
    """The key of an automaton compiled from ``words`` (in this order)."""
    h = hashlib.sha256(MAGIC + b"\0")
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
         lengths: np.ndarray | None = None) -> trie.Trie | None:
    """The cached automaton of ``key`` holding ``words_count`` words, or None.

    With ``ids`` and ``lengths`` (every word's length, by id), the automaton
    must map a word of each length to exactly those ids.  Never unpickles;
    reads only a safe file in a safe directory (see the module's doc).
    Raises CacheError for an unsafe $SEG_CACHE_DIR."""
    _check_key(key)
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
    try:
        count, longest = _checked(header, columns, key, words_count, ids, lengths)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None
    return trie.Trie(trie.Nodes(columns, count, longest))


def _checked(header: dict, columns: dict[str, np.ndarray], key: str, words_count: int,
             ids: np.ndarray | None, lengths: np.ndarray | None) -> tuple[int, int]:
    """The word count and longest word's length from a file's header, once
    its arrays are checked to be the automaton the caller expects (see the
    module's doc); ValueError (or the like) if not."""
    if header.get("key") != key:
        raise ValueError("another key")
    kind, store, key_type, count, longest = (header[k] for k in ("kind", "store", "key_type", "words", "longest"))
    if not all(type(x) is int for x in (kind, store, key_type, count, longest)):
        raise ValueError("bad header")
    if (kind != ahocorasick.AHOCORASICK or store != ahocorasick.STORE_INTS or key_type != ahocorasick.KEY_STRING
            or count != words_count or not 0 < count < 2**31 or not 0 < longest < 2**31):
        raise ValueError("bad header")
    if (ids is None) != (lengths is None):
        raise TypeError("ids and lengths go together")
    if trie.check(trie.Nodes(columns, count, longest), lengths, ids) != count:
        raise ValueError("another word count")
    return count, longest


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def store(key: str, automaton: trie.Trie | ahocorasick.Automaton, nodes: trie.Nodes | None = None) -> bool:
    """Cache ``automaton`` (a Trie, or pyahocorasick's Aho-Corasick
    automaton of ints) under ``key``: atomically, mode 0600, in a 0700
    directory; prunes old files. ``nodes``, when at hand, are its nodes:
    taking them from pyahocorasick's automaton costs a pass over every node.
    Returns whether it was stored; failures are not errors. Raises
    CacheError for an unsafe $SEG_CACHE_DIR."""
    if automaton.kind != ahocorasick.AHOCORASICK or automaton.store != ahocorasick.STORE_INTS:
        raise ValueError("only an Aho-Corasick automaton of ints can be cached")
    _check_key(key)
    if nodes is None:
        if isinstance(automaton, trie.Trie):
            nodes = automaton.nodes
        elif trie.LAYOUT_OK:
            nodes = trie.of_automaton(automaton)
        else:  # pragma: no cover - pyahocorasick's raw nodes are laid out otherwise here
            return False
    dfd = open_dir(create=True)
    if dfd is None:
        return False
    try:
        if not _write(dfd, key, nodes):
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
