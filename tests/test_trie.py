"""segcli.trie: Aho-Corasick automata built with numpy must find exactly what
pyahocorasick's own build finds, and be well-formed by the cache's checks."""

import ahocorasick
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segcli import dictcache, trie
from test_match import pyahocorasick_built

pytestmark = pytest.mark.skipif(not trie.LAYOUT_OK, reason="pyahocorasick's raw nodes are laid out otherwise here")


def numpy_built(words):
    ids = np.arange(len(words))
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    nodes = trie.build(list(words), ids, lengths)
    header = {"key": "k", "kind": ahocorasick.AHOCORASICK, "store": ahocorasick.STORE_INTS,
              "key_type": ahocorasick.KEY_STRING, "words": nodes.words, "longest": nodes.longest}
    # Every check the cache makes of a file's nodes holds for these.
    assert dictcache._checked(header, nodes.columns, "k", len(words), ids, lengths) == (len(words), max(lengths))
    return trie.automaton(nodes)


def assert_same_automaton(words, text):
    built, reference = numpy_built(words), pyahocorasick_built(words)
    assert sorted(built.iter(text)) == sorted(reference.iter(text))
    assert len(built) == len(reference) and built.kind == ahocorasick.AHOCORASICK
    assert [built.get(w, None) for w in words] == list(range(len(words)))
    assert built.get(text, None) == reference.get(text, None)


# Few letters: many shared prefixes and suffixes, long fail-link walks.
WORDS = st.lists(st.text("abcd微", min_size=1, max_size=9), min_size=1, max_size=40, unique=True)


@settings(max_examples=300, deadline=None)
@given(WORDS, st.text("abcd微x", max_size=80))
def test_finds_what_pyahocorasicks_build_finds(words, text):
    assert_same_automaton(words, text)


@pytest.mark.parametrize("words", [
    ["a" * 200],                                               # one long chain of fail links
    ["a" * k + "b" for k in range(0, 60, 7)] + ["a" * 61],     # walks down the a-chain of different lengths
    [chr(0x4E00 + 2 * d) * (d - 1) + chr(0x4E01 + 2 * d) for d in range(2, 80)],  # a long walk at every depth
    ["ab", "b", "bab", "abab", "babab", "c" + "ab" * 20],      # links into other branches
    ["a" * 50 + "b", "x" + "a" * 50 + "bd"],                  # a walk that must wait for a slow node's link
    ["\U0001F600\U0001F601", "\U0001F601", "\ud800\udc00"],    # beyond the BMP; a surrogate pair as two letters
])
def test_contrived_dictionaries(words):
    text = "".join(words) + "".join(reversed(words)) + "aab" * 30
    assert_same_automaton(words, text)


def test_a_subset_of_the_words_keeps_their_ids():
    words = ["微信", "信号", "关注", "号码", "微信号"]
    ids = np.array([1, 2, 4])
    lengths = np.array([len(w) for w in words])
    built = trie.automaton(trie.build(words, ids, lengths))
    assert sorted(built.iter("关注微信号码")) == [(1, 2), (4, 1), (4, 4)]
    assert built.get("微信", None) is None


@settings(max_examples=100, deadline=None)
@given(WORDS, st.text("abcd微x", max_size=80))
def test_nodes_taken_from_pyahocorasick_make_the_same_automaton(words, text):
    reference = pyahocorasick_built(words)
    again = trie.automaton(trie.of_automaton(reference))
    assert sorted(again.iter(text)) == sorted(reference.iter(text))
