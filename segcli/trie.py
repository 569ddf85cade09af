"""Aho-Corasick automata as arrays of nodes: built from words with numpy, handed to pyahocorasick whole.

Why not pyahocorasick's add_word and make_automaton
---------------------------------------------------
For a large dictionary they take long (2 million random words of 2-6 Han
characters: about 18 s of add_word calls and 50 s of make_automaton on this
project's 2 shared cores), and each is C code that never returns to the
interpreter, so a Ctrl-C or SIGTERM waited for it (27 s, measured). Here the
trie and its fail links are computed by numpy calls of a fraction of a second
each, between which Python acts on signals, and the finished nodes go to
pyahocorasick's constructor in its raw layout (what it unpickles, and what
:mod:`segcli.dictcache` stores): one C call, about a second for those 2
million words.

The trie
--------
Nodes are numbered level by level (the root first), within a level by
(parent, letter), so every node's edges are contiguous and the (parent,
letter) keys of all edges are sorted: one ``searchsorted`` finds any edge.
Letters are ranked by their frequency among the words' characters, and a
node's children go in that order: pyahocorasick scans a node's children one
by one, and the root has one for nearly every character.

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
from typing import NamedTuple

import ahocorasick
import numpy as np

from .encode import codepoints

__all__ = ["COLUMNS", "LAYOUT_OK", "Nodes", "automaton", "build", "of_automaton"]

# pyahocorasick's raw node (Automaton_pickle.c, trienode.h; x86-64 and the
# like, UCS-4 letters): a chunk is a node count (Py_ssize_t) and then per
# node its output (8 bytes), fail link (8), number of children (4),
# end-of-word flag (1), 3 bytes of padding and then per child its letter (4)
# and node number (8). Counted here in 4-byte words. Nodes are numbered from
# 1 (the root) in the order they come; a fail link 0 is none (the root's).
_COUNT = struct.Struct("=q")
_NODE_WORDS, _PAIR_WORDS = 6, 3
LAYOUT_OK = (struct.calcsize("P") == 8 and sys.byteorder == "little" and sys.maxunicode > 0xFFFF
             and bool(ahocorasick.unicode))

#: The arrays of a trie, one entry per node (output, fail, children, eow)
#: or per edge (letter, child), in node order, and their dtypes.
COLUMNS = {"output": "<u8", "fail": "<u8", "children": "<u4", "eow": "|u1", "letter": "<u4", "child": "<u8"}

# pyahocorasick's constructor, when it rebuilds an automaton of ints from raw
# nodes, releases a reference to None that it does not own (and only gives one
# back, by accident, when the automaton is freed); before Python 3.12 None is not
# immortal, and a few thousand such automata alive at once abort the
# interpreter.  Each one made here pays that reference back.
_NONE_DEBT: list[None] | None = [] if sys.version_info < (3, 12) else None

_RANK_BITS = 21  # a letter's rank, below 0x110000, in the low bits of an edge key


class Nodes(NamedTuple):
    """An automaton of ints as arrays (see COLUMNS), the number of its words
    and the length of the longest."""

    columns: dict[str, np.ndarray]
    words: int
    longest: int


def build(words: list[str], ids: np.ndarray, lengths: np.ndarray) -> Nodes:
    """The automaton of ``words[i] -> i`` for ``i`` in ``ids`` (distinct,
    non-empty words; ``lengths[i]`` is ``len(words[i])``)."""
    ids = np.asarray(ids, dtype=np.int64)
    word_lengths = np.asarray(lengths, dtype=np.int64)[ids]
    order = np.argsort(-word_lengths, kind="stable")  # longest first: the words that reach a depth are a prefix
    ids, word_lengths = ids[order], word_lengths[order]
    del order
    points = codepoints("".join(map(words.__getitem__, ids.tolist())))
    starts = np.cumsum(word_lengths) - word_lengths
    frequency = np.bincount(points)
    letters = np.flatnonzero(frequency)
    letters = letters[np.argsort(-frequency[letters], kind="stable")]
    rank = np.zeros(len(frequency), dtype=np.int64)
    rank[letters] = np.arange(len(letters))
    del frequency

    # Level by level: the node of every word's prefix of each length.
    longest = int(word_lengths[0])
    reaching = np.searchsorted(-word_lengths, -np.arange(1, longest + 2), side="right")
    node = np.zeros(len(ids), dtype=np.int64)
    parents, ranks, ends, values = [np.zeros(1, np.int64)], [np.zeros(1, np.int64)], [], []
    count = 1
    for depth in range(1, longest + 1):
        alive = int(reaching[depth - 1])
        keys = (node[:alive] << _RANK_BITS) | rank[points[starts[:alive] + depth - 1]]
        level, inverse = np.unique(keys, return_inverse=True)
        node[:alive] = count + inverse.reshape(-1)
        parents.append(level >> _RANK_BITS)
        ranks.append(level & ((1 << _RANK_BITS) - 1))
        count += len(level)
        finished = slice(int(reaching[depth]), alive)  # the words of this length
        ends.append(node[finished])
        values.append(ids[finished])
    del node, points, starts, keys, level, inverse
    parent, letter_rank = np.concatenate(parents), np.concatenate(ranks)
    del parents, ranks
    fail = _fail_links(parent, letter_rank, len(letters))

    ends_, values_ = np.concatenate(ends), np.concatenate(values)
    output = np.zeros(count, dtype=COLUMNS["output"])
    output[ends_] = values_
    eow = np.zeros(count, dtype=COLUMNS["eow"])
    eow[ends_] = 1
    fail += 1  # node numbers from 1; the root's link, none, is 0
    fail[0] = 0
    columns = {
        "output": output,
        "fail": fail.astype(COLUMNS["fail"]),
        "children": np.bincount(parent[1:], minlength=count).astype(COLUMNS["children"]),
        "eow": eow,
        "letter": letters[letter_rank[1:]].astype(COLUMNS["letter"]),
        "child": np.arange(2, count + 1, dtype=COLUMNS["child"]),
    }
    return Nodes(columns, len(ids), longest)


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


def automaton(nodes: Nodes) -> ahocorasick.Automaton:
    """The pyahocorasick automaton of these nodes, which must be a well-formed
    trie (see dictcache's checks for nodes that come from a file)."""
    chunk = _chunk(nodes.columns)
    made = ahocorasick.Automaton([chunk], ahocorasick.AHOCORASICK, ahocorasick.STORE_INTS,
                                 ahocorasick.KEY_STRING, nodes.words, nodes.longest, None)
    if _NONE_DEBT is not None:
        _NONE_DEBT.append(None)
    return made


def _chunk(columns: dict[str, np.ndarray]) -> bytes:
    """The nodes as the one chunk of raw bytes pyahocorasick reads."""
    children = columns["children"].astype(np.int64)
    n, pairs = len(children), len(columns["child"])
    size = _NODE_WORDS * n + _PAIR_WORDS * pairs
    raw = np.zeros(2 + size, dtype="<u4")
    raw[:2] = np.array([n], dtype="<i8").view("<u4")
    words = raw[2:]
    at = np.cumsum(_NODE_WORDS + _PAIR_WORDS * children) - (_NODE_WORDS + _PAIR_WORDS * children)
    for column, where in (("output", 0), ("fail", 2)):
        halves = columns[column].view("<u4")
        words[at + where], words[at + where + 1] = halves[0::2], halves[1::2]
    words[at + 4] = columns["children"]
    words[at + 5] = columns["eow"]
    first = np.cumsum(children) - children
    pair_at = np.repeat(at + _NODE_WORDS - _PAIR_WORDS * first, children) + _PAIR_WORDS * np.arange(pairs)
    words[pair_at] = columns["letter"]
    halves = columns["child"].view("<u4")
    words[pair_at + 1], words[pair_at + 2] = halves[0::2], halves[1::2]
    return raw.tobytes()


def of_automaton(made: ahocorasick.Automaton) -> Nodes:
    """The nodes of an automaton of ints that pyahocorasick built (its
    padding, bytes of whatever memory it had, left out)."""
    _, (chunks, _kind, _store, key_type, count, longest, values) = made.__reduce__()
    if key_type != ahocorasick.KEY_STRING or values is not None:
        raise ValueError("only an automaton of strings to ints is held as Nodes")
    parts: dict[str, list[np.ndarray]] = {name: [] for name in COLUMNS}
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
        parts["eow"].append((raw[at_ + 5] & 0xFF).astype(np.uint8))
        first = np.cumsum(children, dtype=np.int64) - children
        pair_at = (np.repeat(at_ + _NODE_WORDS - _PAIR_WORDS * first, children)
                   + _PAIR_WORDS * np.arange(int(children.sum(dtype=np.int64))))
        parts["letter"].append(raw[pair_at])
        parts["child"].append(raw[pair_at + 1] | raw[pair_at + 2].astype(np.uint64) << np.uint64(32))
    return Nodes({name: np.concatenate(p).astype(COLUMNS[name]) for name, p in parts.items()}, count, longest)
