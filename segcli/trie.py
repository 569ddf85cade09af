"""Aho-Corasick automata as arrays: built from words with numpy, walked in C.

Why not pyahocorasick's objects
-------------------------------
For a large dictionary pyahocorasick's add_word and make_automaton take
long (2 million random words of 2-6 Han characters: about 18 s of add_word
calls and 50 s of make_automaton on this project's 2 shared cores), each is
C code that never returns to the interpreter (a Ctrl-C waited for it), its
iter makes a Python tuple per match, and it scans a node's children one by
one (the root of a Chinese lexicon has one for nearly every character).
Here the trie and its links are computed by numpy calls of a fraction of a
second each, between which Python acts on signals; the finished arrays are
what :mod:`segcli.dictcache` stores and maps back, and what the C walk
(``segcli._core.trie_walk``, csrc/match.c) reads.  Every automaton of a
dictionary is built here, small ones and ``updated``'s overlays too (quicker
at any size than pyahocorasick's build and taking its nodes);
:func:`of_automaton` takes the nodes of an automaton pyahocorasick built into
the same arrays (the tests' reference, and automata given to :func:`matches`).

The arrays
----------
Nodes are numbered level by level (the root, 0, first), within a level by
(parent, letter), so every node's children are contiguous and in the order
of their letters, found by binary search in ``letter`` (the letter of the
edge into each node).  ``nodes`` holds a record per node, and one after
the last: its first child (the children of ``u`` are ``first[u] ..
first[u + 1] - 1``), its fail link (the node of the longest proper suffix
of ``u``'s word in the trie), its suffix link (the first node on its chain
of fail links where a word ends, 0 for none: the walk reports the words
ending at a position without visiting the nodes between) and the id of the
word ending there (-1 for none); one record is one read for the walk.  The
root's children are also found by a table of the letters below 0x10000,
made when a Trie is: it is the widest node and the most visited.  (A hash
table of the children of all wide nodes was tried: no faster on the
benchmark text with jieba's dictionary, slower with a million random words,
whose walk waits on memory more than on the searches.)

Fail links
----------
The fail link of the child of ``u`` by letter ``c`` is found from ``u``'s:
follow fail links from ``fail(u)`` to the first node with a child by ``c``
(that child is the link) or to the root. All nodes walk at once, one step
per round: a node starts once its parent's link is known, and one that
reaches a node whose own link is not known yet waits for it there. Each step
goes to a shallower node, so along any root-to-leaf path the walks add up to
no more than the path's length, and the rounds stay near twice the longest
word in all but contrived dictionaries.
"""

from __future__ import annotations

import array
import struct
import sys
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import ahocorasick
import numpy as np

from . import _core
from .encode import codepoints, from_codepoints

__all__ = ["COLUMNS", "LAYOUT_OK", "Nodes", "Trie", "automaton", "build", "check", "matches", "of_automaton"]

# pyahocorasick's raw node (Automaton_pickle.c, trienode.h; x86-64 and the
# like, UCS-4 letters): a chunk is a node count (Py_ssize_t) and then per
# node its output (8 bytes), fail link (8), number of children (4),
# end-of-word flag (1), 3 bytes of padding and then per child its letter (4)
# and node number (8). Counted here in 4-byte words. Nodes are numbered from
# 1 (the root) in the order they come; a fail link 0 is none (the root's).
_COUNT = struct.Struct("=q")
_NODE_WORDS, _PAIR_WORDS = 6, 3
#: Whether pyahocorasick's raw nodes are laid out as read here (of_automaton).
LAYOUT_OK = (struct.calcsize("P") == 8 and sys.byteorder == "little" and sys.maxunicode > 0xFFFF
             and bool(ahocorasick.unicode))

#: The arrays of a trie and their dtypes: ``nodes`` holds a record of
#: FIELDS per node and one more, ``letter`` one item per node (see the
#: module's doc).
COLUMNS = {"nodes": "<i4", "letter": "<u4"}
FIELDS = ("first", "fail", "suffix", "value")

_RANK_BITS = 21  # a letter's rank, below 0x110000, in the low bits of an edge key
_ROOT_TABLE = 0x10000  # letters below this find the root's child in a table (csrc/match.c)
_ROOT_TABLE_FROM = 16  # children of the root from which the table pays
_NO_TABLE = np.empty(0, dtype=np.uint32)


class Nodes(NamedTuple):
    """An automaton of ints as arrays (see COLUMNS), the number of its words
    and the length of the longest."""

    columns: dict[str, np.ndarray]
    words: int
    longest: int


def build(words: list[str], ids: np.ndarray, lengths: np.ndarray) -> Nodes:
    """The automaton of ``words[i] -> i`` for ``i`` in ``ids`` (distinct,
    non-empty words; ``lengths[i]`` is ``len(words[i])``; ids below 2**31)."""
    ids = np.asarray(ids, dtype=np.int64)
    word_lengths = np.asarray(lengths, dtype=np.int64)[ids]
    order = np.argsort(-word_lengths, kind="stable")  # longest first: the words that reach a depth are a prefix
    ids, word_lengths = ids[order], word_lengths[order]
    del order
    points = codepoints("".join(map(words.__getitem__, ids.tolist())))
    starts = np.cumsum(word_lengths) - word_lengths
    # A letter's rank is its place among the letters, so children go in the order of their letters.
    rank = np.bincount(points)  # (np.unique sorts: seconds for a million words, this is one pass)
    letters = np.flatnonzero(rank)
    rank[letters] = np.arange(len(letters))

    # Level by level: the node of every word's prefix of each length.
    longest = int(word_lengths[0])
    reaching = np.searchsorted(-word_lengths, -np.arange(1, longest + 2), side="right")
    node = np.zeros(len(ids), dtype=np.int64)
    parents, ranks, ends, values, level_ends = [np.zeros(1, np.int64)], [np.zeros(1, np.int64)], [], [], [1]
    count = 1
    for depth in range(1, longest + 1):
        alive = int(reaching[depth - 1])
        keys = (node[:alive] << _RANK_BITS) | rank[points[starts[:alive] + depth - 1]]
        level, inverse = np.unique(keys, return_inverse=True)
        node[:alive] = count + inverse.reshape(-1)
        parents.append(level >> _RANK_BITS)
        ranks.append(level & ((1 << _RANK_BITS) - 1))
        count += len(level)
        level_ends.append(count)
        finished = slice(int(reaching[depth]), alive)  # the words of this length
        ends.append(node[finished])
        values.append(ids[finished])
    del node, points, starts, keys, level, inverse
    parent, letter_rank = np.concatenate(parents), np.concatenate(ranks)
    del parents, ranks
    fail = _fail_links(parent, letter_rank, len(letters))
    value = np.full(count, -1, dtype=np.int32)
    value[np.concatenate(ends)] = np.concatenate(values)
    letter = letters[letter_rank].astype(COLUMNS["letter"])
    letter[0] = 0
    children = np.bincount(parent[1:], minlength=count)
    del parent, letter_rank
    return Nodes(_arrays(children, letter, fail, value, level_ends), len(ids), longest)


def _arrays(children: np.ndarray, letter: np.ndarray, fail: np.ndarray, value: np.ndarray,
            level_ends: Sequence[int]) -> dict[str, np.ndarray]:
    """The columns of nodes numbered level by level (the levels end before
    ``level_ends``), from every node's number of children, letter, fail link
    (the root's: itself) and value."""
    n = len(children)
    nodes = np.zeros((n + 1, len(FIELDS)), dtype=COLUMNS["nodes"])
    first, suffix = nodes[:, FIELDS.index("first")], nodes[:n, FIELDS.index("suffix")]
    first[0] = 1
    first[1:] = np.cumsum(children) + 1
    nodes[:n, FIELDS.index("fail")] = fail
    nodes[:n, FIELDS.index("value")] = value
    for start, end in zip(level_ends, level_ends[1:]):  # a fail link goes to a level done before
        links = fail[start:end]
        suffix[start:end] = np.where(value[links] >= 0, links, suffix[links])
    return {"nodes": nodes, "letter": letter}


def _fail_links(parent: np.ndarray, letter_rank: np.ndarray, letters: int) -> np.ndarray:
    """Every node's fail link (the root's: itself), from the trie's nodes in
    level order (see the module's doc)."""
    n = len(parent)
    edge_keys = (parent[1:] << _RANK_BITS) | letter_rank[1:]  # edge k leads to node k + 1; sorted
    children = np.bincount(parent[1:], minlength=n)
    first_child = np.cumsum(children) - children + 1
    root_child = np.zeros(letters, dtype=np.int64)  # most walks end at the root: a table for its edges
    root_child[letter_rank[1:children[0] + 1]] = np.arange(1, children[0] + 1)
    fail = np.full(n, -1, dtype=np.int64)
    fail[: children[0] + 1] = 0  # the root's and its children's
    walking, at = _children_of(np.arange(1, children[0] + 1), children, first_child, fail)
    while len(walking):
        found = _edge(at, letter_rank[walking], root_child, edge_keys)
        settled = (found > 0) | (at == 0)
        done = walking[settled]
        fail[done] = found[settled]
        walking, at = walking[~settled], at[~settled]
        further = fail[at]
        ready = further >= 0  # the others wait for that node's link
        at[ready] = further[ready]
        started, starts_at = _children_of(done, children, first_child, fail)
        walking, at = np.concatenate([walking, started]), np.concatenate([at, starts_at])
    return fail


def _children_of(nodes: np.ndarray, children: np.ndarray, first_child: np.ndarray,
                 fail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The children of ``nodes`` and where their walks start (their parent's link)."""
    counts = children[nodes]
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    kids = np.repeat(first_child[nodes] - offsets, counts) + np.arange(total)
    return kids, np.repeat(fail[nodes], counts)


def _edge(at: np.ndarray, letter_rank: np.ndarray, root_child: np.ndarray, edge_keys: np.ndarray) -> np.ndarray:
    """The child of each node ``at`` by each letter, 0 where it has none."""
    found = np.zeros(len(at), dtype=np.int64)
    from_root = at == 0
    found[from_root] = root_child[letter_rank[from_root]]
    inner = np.flatnonzero(~from_root)
    if len(inner):
        keys = (at[inner] << _RANK_BITS) | letter_rank[inner]
        order = np.argsort(keys)  # sorted queries: a binary search in a large array stays in cache
        keys, inner = keys[order], inner[order]
        where = np.minimum(np.searchsorted(edge_keys, keys), len(edge_keys) - 1)
        hit = edge_keys[where] == keys
        found[inner[hit]] = where[hit] + 1
    return found


def check(nodes: Nodes, lengths: np.ndarray | None = None, ids: np.ndarray | None = None) -> int:
    """The number of words of ``nodes`` once they are checked to be an
    automaton the walk can take (one tree numbered as the module's doc says,
    no deeper than ``nodes.longest``, fail links to shallower nodes, suffix
    links as they make them) and, with ``lengths`` (every word's length, by
    id), to hold exactly the words ``ids`` at nodes of their length;
    ValueError if not.  The walk itself never reads outside the arrays, but
    over arrays that are not an automaton it finds nonsense."""
    columns = nodes.columns
    if (sorted(columns) != sorted(COLUMNS) or any(columns[name].dtype.str != dtype for name, dtype in COLUMNS.items())
            or columns["letter"].ndim != 1 or columns["nodes"].shape != (len(columns["letter"]) + 1, len(FIELDS))):
        raise ValueError("other arrays than an automaton's")
    no_ids = np.empty(0, dtype=np.int64)
    return _core.trie_check(columns["nodes"], columns["letter"], nodes.longest,
                            no_ids if lengths is None else np.ascontiguousarray(lengths, dtype=np.int64),
                            no_ids if ids is None else np.ascontiguousarray(ids, dtype=np.int64))


class Trie:
    """An automaton of ints walked in C, with the part of pyahocorasick's
    Automaton that seg uses (``iter``, ``get``, ``len``, ``kind``,
    ``store``).  Its arrays may be a cache file's, mapped: they are never
    written."""

    __slots__ = ("nodes", "_arrays", "_root")
    kind = ahocorasick.AHOCORASICK
    store = ahocorasick.STORE_INTS

    def __init__(self, nodes: Nodes) -> None:
        self.nodes = nodes
        # The C walk reads items in this machine's byte order (no copy where it is little-endian).
        self._arrays = tuple(np.ascontiguousarray(nodes.columns[name], dtype=np.dtype(dtype).newbyteorder("="))
                             for name, dtype in COLUMNS.items())
        records, letter = self._arrays
        lo = min(max(int(records[0, 0]), 0), len(letter))  # bounded: the walk checks, not this
        hi = min(max(int(records[1, 0]), lo), len(letter))
        self._root = _NO_TABLE
        if hi - lo >= _ROOT_TABLE_FROM:
            root = np.zeros(_ROOT_TABLE, dtype=np.uint32)
            letters = letter[lo:hi]
            narrow = letters < _ROOT_TABLE
            root[letters[narrow]] = np.arange(lo, hi, dtype=np.uint32)[narrow]
            self._root = root

    def __len__(self) -> int:
        return self.nodes.words

    def matches(self, cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ends, ids) of every occurrence of a word in the code points
        ``cps`` (uint32), in the order of pyahocorasick's iter."""
        room = len(cps) + 16  # most texts have fewer matches than characters
        while True:
            ends = np.empty(room, dtype=np.int64)
            ids = np.empty(room, dtype=np.int64)
            found = _core.trie_walk(cps, *self._arrays, self._root, self.nodes.longest, ends, ids)
            if found <= room:
                return ends[:found], ids[:found]
            room = found

    def iter(self, text: str) -> Iterator[tuple[int, int]]:
        """(end, id) of every occurrence of a word in ``text``, as pyahocorasick's iter."""
        ends, ids = self.matches(codepoints(text))
        return zip(ends.tolist(), ids.tolist())

    def get(self, word: str, *default: object) -> object:
        """The id of ``word``, else ``default`` (KeyError without one), as pyahocorasick's get."""
        records, letter = self._arrays
        node = 0
        for point in map(ord, word):
            lo, hi = int(records[node, 0]), int(records[node + 1, 0])
            node = lo + int(np.searchsorted(letter[lo:hi], point))
            if node >= hi or letter[node] != point:
                break
        else:
            value = int(records[node, FIELDS.index("value")])
            if word and value >= 0:
                return value
        if default:
            return default[0]
        raise KeyError(word)


def automaton(nodes: Nodes) -> Trie:
    """The automaton of these nodes, which must be well-formed (see
    :func:`check` for nodes that come from a file)."""
    return Trie(nodes)


def matches(layers: Sequence[Trie | ahocorasick.Automaton], singles: tuple[np.ndarray, np.ndarray],
            cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ends, ids) as int64 arrays: every occurrence in the code points
    ``cps`` of a word of each automaton of ``layers`` in turn, in the order
    of pyahocorasick's iter, then of the one-character words ``singles``
    (sorted int64 code points, their ids; arrays that never change, as a
    dictionary's) in the order of the text."""
    cps = np.ascontiguousarray(cps, dtype=np.uint32)
    found = []
    text = None
    for layer in layers:
        trie = _as_trie(layer)
        if trie is not None:
            found.append(trie.matches(cps))
        else:  # pragma: no cover - where pyahocorasick's raw nodes cannot be read
            text = from_codepoints(cps) if text is None else text
            flat = np.fromiter((x for match in layer.iter(text) for x in match), dtype=np.int64)
            found.append((flat[0::2], flat[1::2]))
    if len(singles[0]):
        ends, at = np.empty(len(cps), dtype=np.int64), np.empty(len(cps), dtype=np.int64)
        count = _core.single_matches(cps, *_single_table(*singles), ends, at)
        found.append((ends[:count], at[:count]))
    if len(found) == 1:
        return found[0]
    if not found:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate([e for e, _ in found]), np.concatenate([i for _, i in found])


# The one-character words of the dictionary last matched, as single_matches
# takes them: a table of the ids of those below _SINGLES_TABLE (one read a
# character, where a binary search among thousands takes a dozen), the
# others for a binary search.  Made at its first match and kept for the
# next batches, held by weak references to the arrays it was made of (a
# dictionary's are read-only: they never change).
_SINGLES_TABLE = 0x10000
_singles_made: tuple = (lambda: None, lambda: None, ())


def _single_table(chars: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, ...]:
    global _singles_made
    chars_of, ids_of, made = _singles_made
    if chars_of() is chars and ids_of() is ids:
        return made
    points = np.ascontiguousarray(chars, dtype=np.int64)
    values = np.ascontiguousarray(ids, dtype=np.int64)
    narrow = int(np.searchsorted(points, _SINGLES_TABLE))
    table = np.full(int(points[narrow - 1]) + 1 if narrow else 0, -1, dtype=np.int32)
    table[points[:narrow]] = values[:narrow]
    made = (table, points[narrow:], values[narrow:])
    _singles_made = (weakref.ref(chars), weakref.ref(ids), made)  # one assignment: threads see all or none
    return made


# pyahocorasick's automata given to matches walked as Tries:
# each is taken into arrays once, at its first walk, and kept while it is
# one of the last few walked (keyed by id, the automaton held so that its id
# is not reused meanwhile: they take no weak references).
_TAKEN_MAX = 8
_taken: dict[int, tuple[ahocorasick.Automaton, Trie]] = {}
_taken_lock = threading.Lock()


def _as_trie(layer: Trie | ahocorasick.Automaton) -> Trie | None:
    if isinstance(layer, Trie):
        return layer
    if not LAYOUT_OK:  # pragma: no cover
        return None
    with _taken_lock:
        held = _taken.pop(id(layer), None)
        if held is None or held[0] is not layer:
            held = (layer, Trie(of_automaton(layer)))
        _taken[id(layer)] = held  # now the most recently walked
        while len(_taken) > _TAKEN_MAX:
            del _taken[next(iter(_taken))]  # the least recently walked
        return held[1]


def of_automaton(made: ahocorasick.Automaton) -> Nodes:
    """The nodes of an automaton of ints that pyahocorasick built, numbered
    as the module's doc says (its padding, bytes of whatever memory it had,
    left out)."""
    if made.kind != ahocorasick.AHOCORASICK or made.store != ahocorasick.STORE_INTS:
        raise ValueError("only an Aho-Corasick automaton of ints is held as Nodes")
    _, (chunks, _kind, _store, key_type, count, longest, values) = made.__reduce__()
    if key_type != ahocorasick.KEY_STRING or values is not None:
        raise ValueError("only an automaton of strings to ints is held as Nodes")
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("output", "fail", "children", "eow", "letter",
                                                                "child")}
    for chunk in chunks:
        (nodes,) = _COUNT.unpack_from(chunk)
        words = memoryview(chunk)[_COUNT.size : _COUNT.size + (len(chunk) - _COUNT.size) // 4 * 4].cast("I")
        starts = array.array("q")
        at = 0
        for _ in range(nodes):  # nodes are of varying size: found one after the other
            starts.append(at)
            at += _NODE_WORDS + _PAIR_WORDS * words[at + 4]
        raw = np.frombuffer(words, dtype="<u4")
        at_ = np.frombuffer(starts, dtype=np.int64)
        children = raw[at_ + 4]
        parts["output"].append(raw[at_] | raw[at_ + 1].astype(np.uint64) << np.uint64(32))
        parts["fail"].append(raw[at_ + 2] | raw[at_ + 3].astype(np.uint64) << np.uint64(32))
        parts["children"].append(children)
        parts["eow"].append((raw[at_ + 5] & 0xFF).astype(bool))
        first = np.cumsum(children, dtype=np.int64) - children
        pair_at = (np.repeat(at_ + _NODE_WORDS - _PAIR_WORDS * first, children)
                   + _PAIR_WORDS * np.arange(int(children.sum(dtype=np.int64))))
        parts["letter"].append(raw[pair_at])
        parts["child"].append(raw[pair_at + 1] | raw[pair_at + 2].astype(np.uint64) << np.uint64(32))
    raw_nodes = {name: np.concatenate(p) for name, p in parts.items()}
    return Nodes(_renumbered(**raw_nodes), count, longest)


def _renumbered(output: np.ndarray, fail: np.ndarray, children: np.ndarray, eow: np.ndarray, letter: np.ndarray,
                child: np.ndarray) -> dict[str, np.ndarray]:
    """The columns of pyahocorasick's raw nodes (numbered from 1, the root
    first, in whatever order, a node's children in the order they were
    added), renumbered level by level."""
    n = len(children)
    children = children.astype(np.int64)
    first_edge = np.cumsum(children) - children
    child = child.astype(np.int64) - 1
    new = np.zeros(n, dtype=np.int64)  # the old root (0) stays 0
    new_letter = np.zeros(n, dtype=COLUMNS["letter"])
    frontier, count, level_ends = np.zeros(1, dtype=np.int64), 1, [1]
    while True:
        counts = children[frontier]
        total = int(counts.sum())
        if not total:
            break
        edges = np.repeat(first_edge[frontier] - (np.cumsum(counts) - counts), counts) + np.arange(total)
        owner = np.repeat(np.arange(len(frontier)), counts)
        edges = edges[np.lexsort((letter[edges], owner))]
        frontier = child[edges]
        new[frontier] = count + np.arange(total)
        new_letter[count : count + total] = letter[edges]
        count += total
        level_ends.append(count)
        if count > n:
            raise ValueError("not a tree")
    new_children = np.zeros(n, dtype=np.int64)
    new_children[new] = children
    new_fail = np.zeros(n, dtype=np.int64)
    linked = fail > 0  # the root's link is none, 0
    new_fail[new[linked]] = new[fail[linked].astype(np.int64) - 1]
    if int(output[eow].max(initial=0)) >= 2**31:
        raise ValueError("word ids must be below 2**31")
    value = np.full(n, -1, dtype=np.int32)
    value[new[eow]] = output[eow]
    return _arrays(new_children, new_letter, new_fail, value, level_ends)
