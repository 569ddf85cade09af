"""On-disk cache of compiled user dictionaries, in a format that cannot run code.

Compiling the Aho-Corasick automaton of a large dictionary takes seconds
(see :mod:`segcli.trie`), and parsing its files about a second a million
lines, so two things are kept here:

* compiled automata, keyed by :func:`cache_key` (sha256 of this format's
  version and the words), for dictionaries given as data (``SUFFIX``);
* whole dictionaries read from files (:func:`from_files`, ``FILES_SUFFIX``):
  keyed by the files' bytes and all that what their lines mean depends on
  (the model's vocabulary and lexicon, which decide jieba frequency lines;
  ``GRAMMAR``; seg's version), holding the words, multipliers, tags, the
  automaton, the duplicate count and the warnings of the lines skipped, so
  that a cached load reads and hashes the files and maps the arrays: no
  line is parsed, no Python object made per word.

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
import stat
from collections.abc import Sequence
from typing import NamedTuple

import ahocorasick
import numpy as np

from . import __version__, cachefile, trie
from .cachedir import cache_dir
from .dictfile import MAX_WORD_LENGTH, DictWarning, read_dicts
from .dictread import source_name
from .dictrules import in_lookup_form, model_knows
from .dictionary import UserDictionary, _compiled_of
from .encode import codepoints, from_codepoints

__all__ = ["CACHE_MAX_FILES", "FILES_MAGIC", "FILES_SUFFIX", "Loaded", "MAGIC", "SUFFIX", "cache_dir", "cache_key",
           "from_files", "load", "path_of", "store"]

#: At most this many compiled dictionaries are kept.
CACHE_MAX_FILES = 8

#: First bytes of every cache file; the last digits are the format version.
MAGIC = b"seg-userdict-v05"

#: Cache files are named KEY + SUFFIX.
SUFFIX = ".aho"

#: First bytes of a file of a dictionary read from files; the last digits are the format version.
FILES_MAGIC = b"seg-dictfile-v01"

#: Files of dictionaries read from files are named KEY + FILES_SUFFIX.
FILES_SUFFIX = ".dict"

#: What the lines of a dictionary file mean, as segcli.dictfile and
#: segcli.dictrules read them: bump it with any change there, and the
#: dictionaries cached before are read anew.
GRAMMAR = 1

#: Dictionary files of fewer bytes than this in all are parsed at every load
#: (milliseconds), not cached whole; nor are files of more than
#: FILES_MAX_BYTES, which hashing would make a slow refusal of a file that is
#: no dictionary (the parse refuses one after a piece).
FILES_MIN_BYTES = 200_000
FILES_MAX_BYTES = 1 << 30

_KEY = re.compile(r"[0-9a-f]{64}")
_CACHE_NAME = re.compile(_KEY.pattern + re.escape(SUFFIX))
_FILES_NAME = re.compile(_KEY.pattern + re.escape(FILES_SUFFIX))
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
    read = cachefile.load(key + SUFFIX, MAGIC)
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
    pieces = cachefile.pack(MAGIC, {"key": key, "kind": ahocorasick.AHOCORASICK, "store": ahocorasick.STORE_INTS,
                                    "key_type": ahocorasick.KEY_STRING, "words": nodes.words,
                                    "longest": nodes.longest}, nodes.columns)
    return pieces is not None and cachefile.save(key + SUFFIX, pieces, _CACHE_NAME, CACHE_MAX_FILES, also=_LEGACY_NAME)


# --------------------------------------------------------------------------
# Dictionaries read from files
# --------------------------------------------------------------------------


class Loaded(NamedTuple):
    """A dictionary read from files, how many of their lines repeated a word
    seen before, and the warnings of the lines skipped, in file order."""

    dictionary: UserDictionary
    duplicates: int
    warnings: list[DictWarning]


def from_files(sources, vocab=None, progress=None, use_cache: bool = True) -> Loaded:
    """The dictionary of these files (paths or open files, as
    :func:`segcli.dictfile.read_dicts` takes them), its words in the lookup
    form of ``vocab`` and its jieba frequency lines decided by the model
    behind it (:func:`segcli.dictrules.model_knows`; without one, listed).
    Paths to regular files of ``FILES_MIN_BYTES`` or more in all are read
    from the cache where they were read before, byte for byte, with the same
    vocabulary, and kept there otherwise.  Raises DictError for a bad file,
    CacheError for an unsafe $SEG_CACHE_DIR."""
    if isinstance(sources, (str, bytes, os.PathLike)) or hasattr(sources, "read"):
        sources = [sources]
    sources = list(sources)
    key = files_key(sources, vocab) if use_cache else None
    if key is not None:
        loaded = _load_files(key, sources)
        if loaded is not None:
            return loaded
    contents = read_dicts(sources, known=model_knows(vocab) if vocab is not None else None)
    entries, tags, duplicates, skipped = contents
    del contents  # the words as read go once they are in their lookup form
    if vocab is not None:
        entries = in_lookup_form(vocab, entries)
        tags = in_lookup_form(vocab, tags)
    dictionary = UserDictionary(entries, tags=tags, use_cache=use_cache and key is None, progress=progress,
                                _kept=key is not None)
    del entries, tags
    if key is not None and files_key(sources, vocab) == key:  # not if a file changed while it was read
        _store_files(key, dictionary, duplicates, skipped, sources)
    return Loaded(dictionary, duplicates, skipped)


def files_key(sources: list, vocab=None) -> str | None:
    """The key of the dictionary of these files read with ``vocab``; None
    where it is not kept whole: not all of them paths of regular files that
    can be read, fewer than FILES_MIN_BYTES or more than FILES_MAX_BYTES in
    all, or a NUL byte in one (no dictionary: the parse says so at once)."""
    if not sources or not all(isinstance(s, (str, bytes, os.PathLike)) for s in sources):
        return None
    try:
        sizes = [os.stat(source) for source in sources]  # before opening: a FIFO would block
        if not all(stat.S_ISREG(st.st_mode) for st in sizes) \
                or not FILES_MIN_BYTES <= sum(st.st_size for st in sizes) <= FILES_MAX_BYTES:
            return None
        h = hashlib.sha256(FILES_MAGIC + f"\0{GRAMMAR}\0{__version__}\0".encode())
        h.update(vocab_key(vocab).encode() if vocab is not None else b"no model")
        for source in sources:
            with open(source, "rb") as f:
                h.update(b"\0file\0")
                for block in iter(lambda: f.read(1 << 20), b""):  # memory bounded as the parse's
                    if b"\0" in block:
                        return None
                    h.update(block)
    except (OSError, ValueError):  # reported by the parse, which reads them again
        return None
    return h.hexdigest()


def vocab_key(vocab) -> str:
    """What a dictionary's words depend on in a model (see from_files): its
    characters and lookup form, its training words' and lexicon's keys."""
    h = hashlib.sha256(b"vocab\0")
    h.update(vocab.chars.encode("utf-8", "surrogatepass"))
    h.update(repr(sorted(vocab.lookup.items())).encode())
    for group in (vocab.word_keys, vocab.lexicon_keys):
        h.update(b"\0group")
        for n, keys in group.items():
            h.update(f"\0{n}:{len(keys)}\0".encode())
            h.update(np.ascontiguousarray(keys, dtype="<i8").tobytes())
    return h.hexdigest()


_FILES_COLUMNS = {"text": "<u4", "lengths": "<i8", "mults": "<f8", "tag_ids": "<i4", "tag_names": "<u4",
                  "chars": "<i8", "char_ids": "<i8"}


def _store_files(key: str, dictionary: UserDictionary, duplicates: int, warnings: list[DictWarning],
                 sources: list) -> bool:
    parts = dictionary.parts()
    if parts is None or any("\n" in name for name in parts["tag_names"]):
        return False
    skipped = []
    for warning in warnings:  # kept as (file's place, line, reason): the key does not cover names
        at = [i for i, source in enumerate(sources) if source_name(source) == warning.file]
        prefix = f"{warning.file}:{warning.line}: "
        if not at or not str(warning).startswith(prefix):
            return False
        skipped.append([at[0], warning.line, str(warning)[len(prefix):]])
    columns = {"text": parts["text"], "lengths": parts["lengths"], "mults": parts["mults"],
               "tag_ids": parts["tag_ids"], "tag_names": codepoints("\n".join(parts["tag_names"])),
               "chars": parts["singles"][0], "char_ids": parts["singles"][1]}
    nodes = parts["nodes"]
    if nodes is not None:
        columns.update(nodes.columns)
    fields = {"key": key, "words": len(dictionary), "tags": len(parts["tag_names"]),
              "automaton_words": nodes.words if nodes is not None else 0,
              "longest": nodes.longest if nodes is not None else 0,
              "duplicates": duplicates, "warnings": skipped}
    pieces = cachefile.pack(FILES_MAGIC, fields, columns)
    return pieces is not None and cachefile.save(key + FILES_SUFFIX, pieces, _FILES_NAME, CACHE_MAX_FILES)


def _load_files(key: str, sources: list) -> Loaded | None:
    read = cachefile.load(key + FILES_SUFFIX, FILES_MAGIC)
    if read is None:
        return None
    try:
        return _checked_files(*read, key, sources)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, UnicodeDecodeError):
        return None


def _checked_files(header: dict, columns: dict[str, np.ndarray], key: str, sources: list) -> Loaded:
    """The dictionary a file of FILES_MAGIC holds, once its arrays are
    checked to be one (the words' lengths and separators, multipliers, tags,
    one-character words, and the automaton as :func:`segcli.trie.check`
    checks it); ValueError (or the like) if not."""
    if header.get("key") != key:
        raise ValueError("another key")
    count, tags, multi, longest, duplicates = (header[k] for k in ("words", "tags", "automaton_words", "longest",
                                                                     "duplicates"))
    if not all(type(x) is int and 0 <= x < 2**31 for x in (count, tags, multi, longest, duplicates)):
        raise ValueError("bad header")
    skipped = []
    for index, line, reason in header["warnings"]:
        if type(index) is not int or not 0 <= index < len(sources) or type(line) is not int or type(reason) is not str:
            raise ValueError("bad warning")
        name = source_name(sources[index])
        skipped.append(DictWarning(f"{name}:{line}: {reason}", name, line))
    node_columns = {name: columns.pop(name) for name in trie.COLUMNS if name in columns}
    if sorted(columns) != sorted(_FILES_COLUMNS) or any(columns[n].dtype.str != d for n, d in _FILES_COLUMNS.items()):
        raise ValueError("other arrays")
    text, lengths, mults, tag_ids, tag_text, chars, char_ids = (columns[n] for n in _FILES_COLUMNS)
    if not (len(lengths) == len(mults) == len(tag_ids) == count) or text.ndim != 1:
        raise ValueError("another word count")
    ends = np.cumsum(lengths) + np.arange(count)  # where each word's separator is
    if count and (lengths.min() < 1 or lengths.max() > MAX_WORD_LENGTH or len(text) != ends[-1]
                  or not (text[ends[:-1]] == _SEPARATOR).all()
                  or int(np.count_nonzero(text == _SEPARATOR)) != count - 1):
        raise ValueError("bad words")
    if not count and len(text):
        raise ValueError("bad words")
    if not (np.isnan(mults) | (mults >= 0)).all():
        raise ValueError("bad multipliers")
    names = tuple(from_codepoints(tag_text).split("\n")) if tags else ()
    if len(names) != tags or not all(names) or (tags == 0 and len(tag_text)) \
            or (count and (tag_ids.min() < -1 or tag_ids.max() >= tags)):
        raise ValueError("bad tags")
    singles = np.flatnonzero(lengths == 1)
    if (len(chars) != len(singles) or len(char_ids) != len(singles) or (len(chars) and chars[0] < 0)
            or not (np.diff(chars) > 0).all() or not np.array_equal(np.sort(char_ids), singles)):
        raise ValueError("bad one-character words")
    nodes = None
    longer = np.flatnonzero(lengths > 1)
    if len(longer) != multi:
        raise ValueError("another automaton")
    if multi:
        nodes = trie.Nodes(node_columns, multi, longest)
        if trie.check(nodes, lengths, longer) != multi:
            raise ValueError("another automaton")
    elif node_columns:
        raise ValueError("an automaton of no words")
    return Loaded(UserDictionary(_compiled=_compiled_of(text, lengths, mults, tag_ids, names, (chars, char_ids),
                                                        nodes)), duplicates, skipped)


_SEPARATOR = ord("\n")
