"""The C walk over a dictionary's automaton (csrc/match.c through segcli.trie):
it finds exactly what pyahocorasick's own iter finds, in the same order, as its
Python twins do; it never reads or writes outside its arrays, whatever they
hold; and a dictionary matched through it cuts exactly as through pyahocorasick."""

import itertools
import math
import mmap

import ahocorasick
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segcli import _core, dictionary, trie
from segcli.dictionary import UserDictionary
from segcli.encode import codepoints

FORCE = math.inf


# --- twins ------------------------------------------------------------------------


def fields(columns):
    """The per-node lists first (one item more), fail, suffix, value and letter of a trie's columns."""
    records = columns["nodes"].astype(np.int64)
    first, fail, suffix, value = (records[:, k].tolist() for k in range(len(trie.FIELDS)))
    return first, fail[:-1], suffix[:-1], value[:-1], columns["letter"].astype(np.int64).tolist()


def _walk_twin(columns, cps):
    """trie_walk in Python: each node's children by a scan, the words along the
    fail links one by one (as pyahocorasick's iter reports them)."""
    first, fail, _, value, letter = fields(columns)

    def child(node, c):
        return next((k for k in range(first[node], first[node + 1]) if letter[k] == c), 0)

    found, state = [], 0
    for i, c in enumerate(cps.tolist()):
        node = state
        while not child(node, c) and node:
            node = fail[node]
        state = child(node, c)
        node = state
        while node:
            if value[node] >= 0:
                found.append((i, value[node]))
            node = fail[node]
    return found


def _singles_twin(chars, ids, cps):
    """single_matches (and a table of them) with numpy, as dictionary.py found one-character words before."""
    if not len(chars):
        return [], []
    at = np.searchsorted(chars, cps)
    hit = np.flatnonzero(chars[np.minimum(at, len(chars) - 1)] == cps)
    return hit.tolist(), ids[at[hit]].tolist()


def _check_twin(columns, longest, lengths=None, ids=None):
    """trie_check in Python: the number of words, or ValueError."""
    first, fail, suffix, value, letter = fields(columns)
    n = len(value)
    if first[0] != 1 or first[n] != n or fail[0] or suffix[0] or value[0] != -1 or letter[0] or any(
            columns["nodes"][n, 1:]):
        raise ValueError("not a tree")
    depth = [0] * n
    for u in range(n):
        kids = range(first[u], first[u + 1])
        if first[u] < u + 1 or first[u + 1] < first[u] or first[u + 1] > n:
            raise ValueError("not a tree")
        if any(letter[k] > 0x10FFFF or (k > first[u] and letter[k] <= letter[k - 1]) for k in kids):
            raise ValueError("letters out of order")
        for k in kids:
            depth[k] = depth[u] + 1
    if max(depth) > longest:
        raise ValueError("too deep")
    for v in range(1, n):
        f = fail[v]
        if not 0 <= f < n or depth[f] >= depth[v] or suffix[v] != (f if value[f] >= 0 else suffix[f]):
            raise ValueError("bad link")
    if min(value) < -1:
        raise ValueError("bad word id")
    words = {v: value[v] for v in range(1, n) if value[v] >= 0}
    if lengths is not None:
        if sorted(words.values()) != sorted(ids) or any(lengths[i] != depth[v] for v, i in words.items()):
            raise ValueError("other words")
    return len(words)


# --- helpers ----------------------------------------------------------------------


def pyahocorasick_built(words):
    made = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for i, word in enumerate(words):
        made.add_word(word, i)
    made.make_automaton()
    return made


def numpy_built(words):
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    return trie.build(list(words), np.arange(len(words)), lengths), lengths


def walked(nodes, text):
    ends, ids = trie.Trie(nodes).matches(codepoints(text))
    return list(zip(ends.tolist(), ids.tolist()))


# Few letters, one of them beyond the BMP: many shared prefixes and
# suffixes, long chains of fail links, one-character words.
LETTERS = "abc微\U0001F600"
WORDS = st.lists(st.text(LETTERS, min_size=1, max_size=8), min_size=1, max_size=30, unique=True)
TEXTS = st.text(LETTERS + "x", max_size=80)


# --- the walk ---------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(WORDS, TEXTS)
def test_walk_finds_what_pyahocorasick_finds_in_its_order(words, text):
    reference = pyahocorasick_built(words)
    want = list(reference.iter(text))
    nodes, lengths = numpy_built(words)
    assert trie.check(nodes, lengths, np.arange(len(words))) == len(words)
    assert walked(nodes, text) == want
    assert _walk_twin(nodes.columns, codepoints(text)) == want
    taken = trie.of_automaton(reference)  # pyahocorasick's own nodes, renumbered
    assert walked(taken, text) == want
    assert {k: v.tolist() for k, v in taken.columns.items()} == {k: v.tolist() for k, v in nodes.columns.items()}


@settings(max_examples=200, deadline=None)
@given(WORDS, TEXTS)
def test_matches_takes_layers_in_turn_then_single_characters(words, text):
    multi = [w for w in words if len(w) > 1]
    split = (len(multi) + 1) // 2
    layers = ()
    if multi:
        layers = (trie.Trie(trie.build(multi, np.arange(split), np.array([len(w) for w in multi]))),)
    if split < len(multi):
        overlay = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for i in range(split, len(multi)):
            overlay.add_word(multi[i], i)
        overlay.make_automaton()
        layers += (overlay,)
    chars = np.array(sorted(ord(w) for w in words if len(w) == 1), dtype=np.int64)
    char_ids = np.arange(100, 100 + len(chars), dtype=np.int64)
    ends, ids = trie.matches(layers, (chars, char_ids), codepoints(text))
    want = [m for layer in layers for m in pyahocorasick_built_like(layer, multi).iter(text)]
    single_ends, single_ids = _singles_twin(chars, char_ids, codepoints(text))
    want += list(zip(single_ends, single_ids))
    assert list(zip(ends.tolist(), ids.tolist())) == want
    assert ends.dtype == ids.dtype == np.int64


def pyahocorasick_built_like(layer, words):
    """pyahocorasick's automaton of the words of a layer (with their ids)."""
    if isinstance(layer, ahocorasick.Automaton):
        return layer
    made = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for i, word in enumerate(words):
        if layer.get(word, None) == i:
            made.add_word(word, i)
    made.make_automaton()
    return made


@pytest.mark.parametrize("words, text", [
    (["a"], ""),                                                   # empty text
    (["a" * k for k in range(1, 40)], "a" * 300),                  # 39 matches a position: past the first room
    (["\U0001F600\U0001F601", "\U0001F601", "\ud800\udc00"], "\U0001F600\U0001F601\ud800\udc00x"),
    ([chr(c) for c in range(0x4E00, 0x4E40)] + ["一丁", "丁七"], "一丁七丁一x"),  # a root wide enough for a table
    (["ab", "b", "bab", "abab", "babab", "c" + "ab" * 20], "cabababababab" * 3),
])
def test_contrived(words, text):
    want = list(pyahocorasick_built(words).iter(text))
    nodes, _ = numpy_built(words)
    assert walked(nodes, text) == want == _walk_twin(nodes.columns, codepoints(text))


def test_a_short_room_is_counted_past_and_never_overrun():
    nodes, _ = numpy_built(["a" * k for k in range(1, 11)])
    cps = codepoints("a" * 20)
    ends, ids = np.full(100, -7, dtype=np.int64), np.full(100, -7, dtype=np.int64)
    found = _core.trie_walk(cps, nodes.columns["nodes"], nodes.columns["letter"], np.empty(0, np.uint32),
                            nodes.longest, ends[:5], ids[:5])
    want = list(pyahocorasick_built(["a" * k for k in range(1, 11)]).iter("a" * 20))
    assert found == len(want) == 155
    assert list(zip(ends[:5].tolist(), ids[:5].tolist())) == want[:5]
    assert (ends[5:] == -7).all() and (ids[5:] == -7).all()
    assert walked(nodes, "a" * 20) == want  # Trie.matches makes room and walks again


# --- arrays that are not an automaton -------------------------------------------------


def damaged(nodes, name, at, value):
    """nodes with ``name`` (a field or "letter") of node ``at`` set to ``value``."""
    columns = {k: v.copy() for k, v in nodes.columns.items()}
    if name == "letter":
        columns["letter"][at] = value
    else:
        columns["nodes"][at, trie.FIELDS.index(name)] = value
    return trie.Nodes(columns, nodes.words, nodes.longest)


@pytest.mark.parametrize("name, at, value", [
    ("first", 0, 0),        # the root its own child
    ("first", 2, 1),        # children before their parent
    ("first", -1, 99),      # past the nodes
    ("letter", 2, 0x110000),
    ("letter", 3, 97),      # out of order among the root's children
    ("fail", 5, 5),         # a node its own link: an endless walk
    ("fail", 4, 99),
    ("suffix", 5, 0),       # not the link the fail links make
    ("suffix", 5, 99),
    ("value", 5, -2),
    ("value", 0, 0),        # the root a word
    ("value", 5, 3),        # another word's id (twice)
    ("value", -1, 5),       # the record after the last node holds only where its children end
    ("fail", 4, -1),
])
def test_damage_is_refused_and_never_read_outside(name, at, value):
    nodes, lengths = numpy_built(["abc", "bc", "c", "bd"])
    assert trie.check(nodes, lengths, np.arange(4)) == 4
    bad = damaged(nodes, name, at, value)
    with pytest.raises(ValueError):
        trie.check(bad, lengths, np.arange(4))
    with pytest.raises(ValueError):
        _check_twin(bad.columns, bad.longest, lengths, list(range(4)))
    try:
        walked(bad, "abcbdcabx" * 5)
    except ValueError:
        pass


@settings(max_examples=300, deadline=None)
@given(WORDS, TEXTS, st.sampled_from(("letter",) + trie.FIELDS), st.integers(0, 10**6),
       st.one_of(st.integers(-3, 40), st.integers(-2**31, 2**32 - 1)))
def test_any_damage_checks_or_walks_safely(words, text, name, at, value):
    nodes, lengths = numpy_built(words)
    if name == "letter":
        value = value % 2**32
    else:
        value = (value + 2**31) % 2**32 - 2**31
    bad = damaged(nodes, name, at % (len(nodes.columns["letter"]) + (name != "letter")), value)
    try:
        count = trie.check(bad, lengths, np.arange(len(words)))
    except ValueError:
        with pytest.raises(ValueError):
            _check_twin(bad.columns, bad.longest, lengths, list(range(len(words))))
    else:
        assert count == _check_twin(bad.columns, bad.longest, lengths, list(range(len(words)))) == len(words)
    try:
        walked(bad, text)  # within its arrays, whatever it finds
    except ValueError:
        pass


def test_check_without_ids_counts_the_words():
    nodes, _ = numpy_built(["ab", "b"])
    assert trie.check(nodes) == 2 == _check_twin(nodes.columns, nodes.longest)
    with pytest.raises(ValueError, match="deeper"):
        trie.check(trie.Nodes(nodes.columns, 2, 1))


NO_TABLE = np.empty(0, np.int32)


@pytest.mark.parametrize("call", [
    lambda c, r, z: _core.trie_walk(c, r[:4], z[:1], z[:0], 1, *[np.empty(1, np.int64)] * 2),   # nodes: 2 records
    lambda c, r, z: _core.trie_walk(c, r[:8], z[:1], z[:7], 1, *[np.empty(1, np.int64)] * 2),   # root: 65536
    lambda c, r, z: _core.trie_walk(c, r[:8], z[:1], z[:0], 1, np.empty(2, np.int64), np.empty(1, np.int64)),
    lambda c, r, z: _core.single_matches(c, NO_TABLE, np.zeros(2, np.int64), np.zeros(1, np.int64),
                                         *[np.empty(9, np.int64)] * 2),
    lambda c, r, z: _core.single_matches(c, NO_TABLE, np.zeros(2, np.int64), np.zeros(2, np.int64),
                                         *[np.empty(2, np.int64)] * 2),
    lambda c, r, z: _core.trie_check(r[:8], z[:1], 1, np.zeros(0, np.int64), np.zeros(1, np.int64)),
])
def test_wrong_sizes_are_value_errors(call):
    with pytest.raises(ValueError):
        call(codepoints("abc"), np.zeros(16, np.int32), np.zeros(8, np.uint32))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(LETTERS + "xyz"), unique=True), TEXTS)
def test_single_matches_is_its_twin(letters, text):
    chars = np.array(sorted(map(ord, letters)), dtype=np.int64)
    ids = np.arange(len(chars), dtype=np.int64)[::-1].copy()
    cps = codepoints(text)
    want = _singles_twin(chars, ids, cps)
    for table in (NO_TABLE, *trie._single_table(chars, ids)[:1]):  # by binary search alone, and as seg calls it
        narrow = len(table)
        ends, found = np.empty(len(cps), np.int64), np.empty(len(cps), np.int64)
        count = _core.single_matches(cps, table, chars[chars >= narrow], ids[chars >= narrow], ends, found)
        assert (ends[:count].tolist(), found[:count].tolist()) == want


# --- the Trie as seg uses it, and pyahocorasick's automata through it -------------------


def test_trie_answers_as_pyahocorasick():
    words = ["微信", "信号", "微信号", "号"]
    nodes, _ = numpy_built(words)
    made = trie.automaton(nodes)
    assert len(made) == 4 and made.kind == ahocorasick.AHOCORASICK and made.store == ahocorasick.STORE_INTS
    assert [made.get(w) for w in words] == [0, 1, 2, 3]
    assert made.get("微", None) is None and made.get("", "none") == "none" and made.get("微信号码", 0) == 0
    with pytest.raises(KeyError):
        made.get("信")


def test_pyahocorasick_layers_are_taken_once_while_recent():
    automata = [pyahocorasick_built(["ab", "b" * k]) for k in range(2, 2 + trie._TAKEN_MAX + 2)]
    cps = codepoints("abbb")
    first = trie._as_trie(automata[0])
    assert trie._as_trie(automata[0]) is first
    for a in automata:
        trie.matches((a,), (np.empty(0, np.int64),) * 2, cps)
    assert len(trie._taken) <= trie._TAKEN_MAX
    assert trie._as_trie(automata[0]) is not first


# --- loading a cached dictionary maps it --------------------------------------------------


def test_a_cached_dictionary_walks_the_mapped_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SEG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(dictionary, "CACHE_MIN_ENTRIES", 1)
    entries = {"微信号": 10.0, "信号": 0.5, "关注": 3.0, "号": FORCE}
    text = "关注微信号，信号灯"
    want = np.zeros((len(text), 4), np.float32)
    UserDictionary(entries).apply(text, want)  # built, and stored
    loaded = UserDictionary(dict(entries))
    (base,) = loaded._layers
    assert isinstance(base, trie.Trie)
    for column in base._arrays:  # the file's pages, not a copy
        owner = column
        while isinstance(owner, np.ndarray):
            owner = owner.base
        owner = owner.obj if isinstance(owner, memoryview) else owner
        assert isinstance(owner, mmap.mmap) and not column.flags.writeable
    got = np.zeros((len(text), 4), np.float32)
    loaded.apply(text, got)
    assert got.tobytes() == want.tobytes()


# --- a dictionary cuts exactly as through pyahocorasick ----------------------------------


def _pyahocorasick_matches(layers, singles, cps):
    """trie.matches as dictionary.py matched before: pyahocorasick's iter of an
    automaton of each layer's words, then the one-character words by numpy."""
    text = cps.tobytes().decode("utf-32-le", "surrogatepass")
    automata = [layer if isinstance(layer, ahocorasick.Automaton) else _pyahocorasick_of(layer) for layer in layers]
    flat = np.fromiter(itertools.chain.from_iterable(itertools.chain.from_iterable(a.iter(text) for a in automata)),
                       dtype=np.int64)
    ends, ids = _singles_twin(singles[0], singles[1], cps)
    return np.concatenate([flat[0::2], ends]).astype(np.int64), np.concatenate([flat[1::2], ids]).astype(np.int64)


def _pyahocorasick_of(layer):
    """pyahocorasick's automaton of a Trie's words, read back from its arrays."""
    first, _, _, value, letter = fields(layer.nodes.columns)
    made = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    words = {0: ""}
    for u in range(len(value)):
        for k in range(first[u], first[u + 1]):
            words[k] = words[u] + chr(letter[k])
            if value[k] >= 0:
                made.add_word(words[k], value[k])
    made.make_automaton()
    return made


TEXT = "关注微信号，信号灯和号码。微信支付的二维码扫一扫；信号弱时号码不显示\n強制禁止弱科学1,000a#b"
ENTRIES = {"微信号": 10, "信号": 0.5, "号": FORCE, "关注": 3, "二维码": FORCE, "扫一扫": 0, "号码": 2e1,
           "微信支付": 1.5, "一": 0.1, "码": 4}


def test_scores_are_byte_identical_to_pyahocorasicks(monkeypatch):
    d = UserDictionary(ENTRIES, use_cache=False)
    stages = [d, d.updated({"信号灯": 2, "支付": FORCE, "微": 3}), d.updated({"码": 0.5}).removed(["号", "关注"])]
    stages.append(stages[1].updated({"显示": 7}))  # a second overlay replaces the first
    for stage in stages:
        got = np.random.default_rng(1).normal(size=(len(TEXT), 4)).astype(np.float32)
        want = got.copy()
        spans = stage.apply(TEXT, got)
        with monkeypatch.context() as m:
            m.setattr(trie, "matches", _pyahocorasick_matches)
            want_spans = stage.apply(TEXT, want)
        assert got.tobytes() == want.tobytes()
        assert [s.tolist() for s in spans] == [s.tolist() for s in want_spans]


def test_a_segmenter_cuts_as_through_pyahocorasick(tmp_path, monkeypatch):
    from segcli import Segmenter

    monkeypatch.setenv("SEG_CACHE_DIR", str(tmp_path / "cache"))
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("微信号,10\n信号,0.5\n二维码,force\n扫一扫,0\n", encoding="utf-8")
    two.write_text("号码,20\n微信支付\n码,4\n", encoding="utf-8")
    lines = TEXT.split("\n") * 3
    seg = Segmenter(dicts=[one, two])
    seg.add_word("信号灯", 5)
    seg.remove_word("信号")
    got = list(seg.cut_lines(lines))
    monkeypatch.setattr(trie, "matches", _pyahocorasick_matches)
    assert list(seg.cut_lines(lines)) == got
