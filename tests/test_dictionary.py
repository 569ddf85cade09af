"""Tests for user dictionaries (segcli.dictionary, segcli.dictfile): parsing, scoring, cache."""

import math
import os
import pty
import select
import signal
import subprocess
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import SEG
from reference_viterbi import viterbi_reference

from segcli import dictcache, dictfile, dictionary
from segcli.decode import HARD
from segcli.dictionary import (
    DEFAULT_MULTIPLIER,
    DictError,
    UserDictionary,
    load_dicts,
    parse_dict,
)

S, B, M, E = range(4)
LN10 = math.log(10)
TRANS = np.zeros((4, 4), np.float32)
FORCE = math.inf
ALPHABET = "abc"  # for property tests: few letters, many matches


# --- helpers ----------------------------------------------------------------


def tags_of(cut):
    """s/b/m/e tags of a list of words."""
    tags = []
    for w in cut:
        tags += [S] if len(w) == 1 else [B] + [M] * (len(w) - 2) + [E]
    return tags


def model_scores(cut, strength):
    """Scores of a 'model' that prefers ``cut``: 0 for its tag, -strength else."""
    tags = tags_of(cut)
    scores = np.full((len(tags), 4), -strength, np.float32)
    scores[np.arange(len(tags)), tags] = 0.0
    return scores


def words_of(text, tags):
    out, start = [], 0
    for i, t in enumerate(tags):
        if t in (S, E):
            out.append(text[start:i + 1])
            start = i + 1
    assert start == len(text)
    return out


def naive_apply(entries, text, scores):
    """Per-character reference of UserDictionary.apply (slow, obvious)."""
    scores = scores.astype(np.float64)
    forced = []
    for w, k in entries.items():
        if k == 1:
            continue
        lk = 0.0 if k == math.inf else (-HARD if k == 0 else math.log(k))
        for i in range(len(text) - len(w) + 1):
            if text[i:i + len(w)] != w:
                continue
            for j, t in enumerate(tags_of([w])):
                scores[i + j, t] += lk
            if k == math.inf:
                forced.append((i, len(w)))
    forced.sort(key=lambda o: (o[0], -o[1]))
    free = 0
    for i, n in forced:
        if i < free:
            continue
        free = i + n
        for j, t in enumerate(tags_of([text[i:i + n]])):
            row = scores[i + j]
            req = row[t]
            row[:] = np.minimum(row, req - HARD)
            row[t] = req
    return scores


def write(tmp_path, name, content, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return p


# --- decoding: the README example ---------------------------------------------

README = "扫描二维码，关注微信号。"
README_MODEL = ["扫描", "二维码", "，", "关注", "微", "信号", "。"]


def test_readme_example():
    scores = model_scores(README_MODEL, 1.0)
    assert words_of(README, viterbi_reference(scores, TRANS)) == README_MODEL
    UserDictionary({"微信号": 10}).apply(README, scores)
    assert words_of(README, viterbi_reference(scores, TRANS)) == [
        "扫描", "二维码", "，", "关注", "微信号", "。"]


# --- decoding: a table of hand-made cases --------------------------------------

CASES = [
    # id, text, model's cut, model strength, entries, expected cut
    ("k>1 joins", "关注微信号", ["关注", "微", "信号"], 1.0,
     {"微信号": 10}, ["关注", "微信号"]),
    ("k>1 too weak", "关注微信号", ["关注", "微", "信号"], 5.0,
     {"微信号": 10}, ["关注", "微", "信号"]),
    ("k<1 splits", "信号", ["信号"], 1.0,
     {"信号": 0.1}, ["信", "号"]),
    ("k=1 is neutral", "信号", ["信号"], 0.01,
     {"信号": 1, "信": 1}, ["信号"]),
    ("force beats a strong model", "关注微信号", ["关注", "微", "信号"], 50.0,
     {"微信号": FORCE}, ["关注", "微信号"]),
    ("force one char", "信号灯", ["信号灯"], 50.0,
     {"号": FORCE}, ["信", "号", "灯"]),
    ("0 forbids", "信号", ["信号"], 50.0,
     {"信号": 0}, ["信", "号"]),
    ("0 forbids a one-char word", "信号", ["信", "号"], 50.0,
     {"信": 0}, ["信号"]),
    ("one-char word boosts s", "信号", ["信号"], 1.0,
     {"信": 10}, ["信", "号"]),
    ("one overlapping word alone is too weak", "研究生命", ["研究", "生命"], 1.0,
     {"研究生": 3}, ["研究", "生命"]),
    ("overlapping matches accumulate", "研究生命", ["研究", "生命"], 1.0,
     {"研究生": 3, "究生": 3}, ["研究生", "命"]),
    ("word occurring twice, both boosted", "微信号和微信号", ["微", "信号", "和", "微", "信号"], 1.0,
     {"微信号": 10}, ["微信号", "和", "微信号"]),
    ("forced conflict: leftmost wins", "南京市长江大桥", ["南京", "市长", "江", "大桥"], 1.0,
     {"市长": FORCE, "南京市": FORCE}, ["南京市", "长", "江", "大桥"]),
    ("forced conflict: longest wins at equal start", "南京市长江大桥", ["南京", "市长", "江", "大桥"], 1.0,
     {"长江": FORCE, "长江大桥": FORCE}, ["南京", "市", "长江大桥"]),
    ("forced conflict: a dropped match blocks nothing", "南京市长江大桥", ["南京市", "长江", "大桥"], 1.0,
     {"南京": FORCE, "京市": FORCE, "市长": FORCE}, ["南京", "市长", "江", "大桥"]),
    ("force beats a forbidding word", "信号", ["信", "号"], 1.0,
     {"信号": FORCE, "号": 0, "信": 10}, ["信号"]),
    ("Latin, digits and punctuation", "用C++写", ["用", "C", "+", "+", "写"], 1.0,
     {"C++": 10}, ["用", "C++", "写"]),
    ("word longer than the text", "信号", ["信号"], 1.0,
     {"信号灯亮了": 0.0}, ["信号"]),
]


@pytest.mark.parametrize(
    "text, model, strength, entries, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decoded_cut(text, model, strength, entries, expected):
    assert "".join(model) == text and "".join(expected) == text
    scores = model_scores(model, strength)
    UserDictionary(entries).apply(text, scores)
    assert np.isfinite(scores).all()
    assert words_of(text, viterbi_reference(scores, TRANS)) == expected
    np.testing.assert_allclose(scores, naive_apply(entries, text, model_scores(model, strength)),
                               rtol=1e-6, atol=1e-3)


# --- apply: exact arithmetic -----------------------------------------------------


def test_apply_exact_deltas():
    text = "研究生命\n中华人民共和国"
    scores = np.zeros((len(text), 4), np.float32)
    UserDictionary({"研究生": 10, "研究": 10, "生命": 10, "中华人民共和国": 0.5, "国": 2}).apply(text, scores)
    want = np.zeros((len(text), 4))
    want[0, B] = 2 * LN10          # 研: b of 研究 and of 研究生
    want[1, E] = LN10              # 究: e of 研究
    want[1, M] = LN10              # 究: m of 研究生
    want[2, E] = LN10              # 生: e of 研究生
    want[2, B] = LN10              # 生: b of 生命
    want[3, E] = LN10              # 命
    h = math.log(0.5)
    want[5, B] = h
    want[6:11, M] = h
    want[11, E] = h
    want[11, S] = math.log(2)
    np.testing.assert_allclose(scores, want, rtol=1e-6)


def test_matches_do_not_cross_lines():
    text = "微信\n号"
    scores = np.zeros((len(text), 4), np.float32)
    UserDictionary({"微信号": 10, "信号": 10}).apply(text, scores)
    assert not scores.any()


def test_zero_is_finite_hard_penalty():
    scores = np.zeros((3, 4), np.float32)
    UserDictionary({"abc": 0}).apply("abc", scores)
    assert np.isfinite(scores).all()
    np.testing.assert_array_equal(scores[:, [B, M, E]].diagonal(), [-HARD] * 3)


def test_forced_rows():
    scores = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    orig = scores.copy()
    UserDictionary({"bcd": FORCE, "f": FORCE}).apply("abcdef", scores)
    for i, req in [(1, B), (2, M), (3, E), (5, S)]:
        assert scores[i, req] == orig[i, req]
        others = [t for t in range(4) if t != req]
        assert (scores[i, others] <= orig[i, req] - HARD + 1e-2).all()
    np.testing.assert_array_equal(scores[[0, 4]], orig[[0, 4]])


def test_empty_dictionary_and_no_match_are_noops():
    scores = np.ones((4, 4), np.float32)
    empty = UserDictionary({})
    assert len(empty) == 0
    empty.apply("微信号码", scores)
    UserDictionary({"xyz": 10}).apply("微信号码", scores)
    UserDictionary({"微信号码子": 10}).apply("微信号码", scores)  # longer than the text
    np.testing.assert_array_equal(scores, np.ones((4, 4)))
    UserDictionary({"a": 10}).apply("", np.zeros((0, 4), np.float32))


def test_raw_text_matching_latin_digits_punctuation(tmp_path):
    p = write(tmp_path, "d.txt", "C++,10\niPhone15,10\nA,B,10\n2024年,10\n")
    entries, _ = load_dicts([p])
    assert entries == {"C++": 10, "iPhone15": 10, "A,B": 10, "2024年": 10}
    text = "我用C++在2024年买iphone15和iPhone15，A,B"
    scores = np.zeros((len(text), 4), np.float32)
    UserDictionary(entries).apply(text, scores)
    np.testing.assert_allclose(scores, naive_apply(entries, text, np.zeros_like(scores)), rtol=1e-6)
    lower = text.index("iphone15")  # matching is case-sensitive
    assert not scores[lower:lower + 8].any()
    upper = text.index("iPhone15")
    assert scores[upper, B] == pytest.approx(LN10)
    assert scores[text.index("A,B") + 2, E] == pytest.approx(LN10)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        UserDictionary({"a": 10}).apply("ab", np.zeros((3, 4), np.float32))


def test_updated_returns_new_dictionary():
    d = UserDictionary({"微信": 10})
    d2 = d.updated({"微信号": FORCE, "微信": 0.5})
    assert len(d) == 1 and dict(d.entries) == {"微信": 10}
    assert dict(d2.entries) == {"微信": 0.5, "微信号": FORCE}
    assert len(d2) == 2 and "微信号" in d2
    with pytest.raises(TypeError):
        d.entries["x"] = 1  # read-only view


def test_updated_overlay_and_recompile(monkeypatch):
    monkeypatch.setattr(dictionary, "OVERLAY_MAX", 3)
    text = "关注微信号和信号灯"
    d = UserDictionary({"微信号": 10, "信号": 1})
    steps = [{"信号灯": FORCE}, {"信号": 0.1, "和": 2}, {"微信号": 1}, {"关注": 5, "注": 0}, {"信号灯": 3}]
    merged = dict(d.entries)
    for extra in steps:
        d = d.updated(extra)
        merged.update(extra)
        assert dict(d.entries) == merged
        np.testing.assert_array_equal(_applied(d, text), _applied(UserDictionary(merged), text))
    assert d.updated({}) is d


def test_updated_from_empty():
    d = UserDictionary({}).updated({"信号": 10}).updated({"号": FORCE})
    np.testing.assert_array_equal(_applied(d, "信号"), _applied(UserDictionary({"信号": 10, "号": FORCE}), "信号"))


@settings(max_examples=100, deadline=None)
@given(
    base=st.dictionaries(st.text(ALPHABET, min_size=1, max_size=3),
                         st.sampled_from([0.0, 0.5, 1.0, 3.0, FORCE]), max_size=5),
    steps=st.lists(st.dictionaries(st.text(ALPHABET, min_size=1, max_size=3),
                                   st.sampled_from([0.0, 0.5, 1.0, 3.0, FORCE]), max_size=3),
                   max_size=4),
    text=st.text(ALPHABET + "\n", max_size=20),
)
def test_updated_equals_fresh_build(base, steps, text):
    d, merged = UserDictionary(base), dict(base)
    for extra in steps:
        d = d.updated(extra)
        merged.update(extra)
    np.testing.assert_array_equal(_applied(d, text), _applied(UserDictionary(merged), text))


@pytest.mark.parametrize("entries", [{"": 1}, {"a b": 1}, {"a": -1}, {"a": math.nan}, {"a": "x"}, {3: 1},
                                     {"a" * (dictfile.MAX_WORD_LENGTH + 1): 2.0}])
def test_bad_entries_raise(entries):
    with pytest.raises(DictError):
        UserDictionary(entries)


def test_a_word_longer_than_any_line_of_a_file_is_refused_not_a_crash():
    # pyahocorasick frees its trie recursively: a word of a million characters crashed it.
    longest = "微" * dictfile.MAX_WORD_LENGTH
    assert len(UserDictionary({longest: 2.0}, use_cache=False)) == 1
    with pytest.raises(DictError) as info:
        UserDictionary({"微" * 10**6: 2.0}, use_cache=False)
    assert str(info.value) == f"dictionary word '{'微' * 36}... is longer than {dictfile.MAX_WORD_LENGTH} characters"



@settings(max_examples=150, deadline=None)
@given(
    text=st.text(ALPHABET + "\n", max_size=30),
    entries=st.dictionaries(
        st.text(ALPHABET, min_size=1, max_size=4),
        st.sampled_from([0.0, 0.1, 1.0, 2.0, 10.0, FORCE]), max_size=6),
)
def test_apply_matches_naive_reference(text, entries):
    rng = np.random.default_rng(len(text))
    scores = rng.normal(size=(len(text), 4)).astype(np.float32)
    want = naive_apply(entries, text, scores)
    UserDictionary(entries).apply(text, scores)
    np.testing.assert_allclose(scores, want, rtol=1e-6, atol=2e-3)


# --- parsing --------------------------------------------------------------------

BAD_LINES = [
    ("微信号,abc", "multiplier 'abc' is not a number (a tag follows a multiplier: 微信号,10,abc; or jieba's 微信号 abc)"),
    ("微信号,1 0", "multiplier '1 0' is not a number"),
    ("微信号,-1", "multiplier '-1' is negative"),
    ("微信号,-inf", "multiplier '-inf' is negative"),
    ("微信号,nan", "multiplier 'nan' is not a number"),
    ("微信号,inf", "multiplier 'inf' is infinite (write 'force' to force a word)"),
    ("微信号,", "missing multiplier after ','"),
    (",", "missing multiplier after ','"),
    (",10", "empty word"),
    (" , force", "empty word"),
    ("a,b", "multiplier 'b' is not a number (a tag follows a multiplier: a,10,b; or jieba's a b)"),
]


@pytest.mark.parametrize("line, reason", BAD_LINES)
def test_malformed_line(tmp_path, line, reason):
    p = write(tmp_path, "add.txt", f"# header\n\n{line}\nok,2\n")
    with pytest.raises(DictError) as info:
        load_dicts([p])
    assert str(info.value) == f"{p}:3: {reason}"


def test_first_error_is_reported(tmp_path):
    p = write(tmp_path, "add.txt", "a,1\nb,x\nc,y\n")
    with pytest.raises(DictError, match=r":2: multiplier 'x'"):
        parse_dict(p)


def test_format_features(tmp_path):
    content = (
        "\ufeff# comment\r\n"
        "   # indented comment\r\n"
        "\r\n"
        "  微信号,10  \r\n"
        "默认\r\n"
        "1,000,5\r\n"
        "强制 , FoRcE\r\n"
        "禁止,0\r\n"
        "弱,0.1\r\n"
        "科学,2e1\r\n"
        "a#b,3"
    )
    p = write(tmp_path, "d.txt", content)
    entries, dups = load_dicts([p])
    assert dups == 0
    assert entries == {"微信号": 10.0, "默认": None, "1,000": 5.0, "强制": FORCE,
                       "禁止": 0.0, "弱": 0.1, "科学": 20.0, "a#b": 3.0}
    assert DEFAULT_MULTIPLIER == 10.0


def test_last_wins_and_duplicates_counted(tmp_path):
    p1 = write(tmp_path, "1.txt", "a,1\nb,3\na,2\n")
    p2 = write(tmp_path, "2.txt", "a,5\nc\n")
    entries, dups = load_dicts([p1, p2])
    assert entries == {"a": 5.0, "b": 3.0, "c": None}
    assert dups == 2
    entries, dups = load_dicts([p2, p1])
    assert entries["a"] == 2.0 and dups == 2
    assert load_dicts([]) == ({}, 0)


def test_empty_and_comment_only_files(tmp_path):
    assert load_dicts([write(tmp_path, "e.txt", "")]) == ({}, 0)
    assert load_dicts([write(tmp_path, "c.txt", "\ufeff# only\n\n   \n")]) == ({}, 0)


def test_directory_is_an_error(tmp_path):
    with pytest.raises(DictError) as info:
        load_dicts([tmp_path])
    assert str(info.value) == f"{tmp_path}: is a directory"


def test_missing_file_is_an_error(tmp_path):
    p = tmp_path / "nope.txt"
    with pytest.raises(DictError) as info:
        load_dicts([p])
    assert str(info.value).startswith(f"{p}: cannot read: ")


def test_invalid_utf8_reports_line(tmp_path):
    p = write(tmp_path, "bad.txt", "ok,1\n".encode() + b"bad\xff,2\n")
    with pytest.raises(DictError) as info:
        load_dicts([p])
    assert str(info.value) == f"{p}:2: invalid UTF-8 (byte 0xff at column 4)"
    p = write(tmp_path, "gbk.txt", "微信号,10\n", encoding="gbk")
    with pytest.raises(DictError, match=r"gbk\.txt:1: invalid UTF-8"):
        load_dicts([p])


def test_dict_error_is_value_error():
    assert issubclass(DictError, ValueError)


def bulk_parse(text):
    """The bulk parser's answer as merged_lines gives the line parser's, or
    None where it gives up (the line parser then reports)."""
    columns = dictfile._parse_columns(text)
    if columns is None:
        return None
    words, values, tags = columns
    values = values if values is not None else [None] * len(words)
    return list(zip(words, values)), tags or {}


def merged_lines(text):
    """The line parser's (word, value) pairs and the last tag each word is given."""
    lines = dictfile._parse_lines(text, "f")
    return [(line.word, line.value) for line in lines], {line.word: line.tag for line in lines if line.tag}


LINE_PARTS = ["a", "微", ",", " ", "#", "\r", "\t", "1", "0", ".", "-", "e", "force", "nan", "\u3000", "inf",
              " 5", " n", "，", ";", ":", "\ufeff"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(LINE_PARTS), max_size=6).map("".join), max_size=6))
def test_fast_parser_agrees_with_line_parser(lines):
    text = "\n".join(lines)
    try:
        want = merged_lines(text)
    except DictError:
        want = None
    got = bulk_parse(text)
    if got is not None:  # where the bulk parser answers, it agrees (and the text is valid)
        assert got == want


# --- example file -----------------------------------------------------------------


def test_example_dictionary_parses():
    path = os.path.join(os.path.dirname(__file__), os.pardir, "dicts", "example.txt")
    entries, dups = load_dicts([path])
    assert entries["微信号"] == 10.0
    assert FORCE in entries.values() and 0.1 in entries.values()
    scores = model_scores(README_MODEL, 1.0)
    UserDictionary(entries).apply(README, scores)
    assert words_of(README, viterbi_reference(scores, TRANS)) == [
        "扫描", "二维码", "，", "关注", "微信号", "。"]


# --- cache ------------------------------------------------------------------------


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("SEG_CACHE_DIR", str(d))
    monkeypatch.setattr(dictionary, "CACHE_MIN_ENTRIES", 1)
    return d


def _stores(monkeypatch):
    calls = []
    real = dictcache.store
    monkeypatch.setattr(dictcache, "store", lambda *a: (calls.append(a), real(*a))[1])
    return calls


ENTRIES = {"微信号": 10, "信号": 0.5, "号": FORCE}


def _applied(d, text="关注微信号"):
    scores = np.zeros((len(text), 4), np.float32)
    d.apply(text, scores)
    return scores


def test_cache_roundtrip(cache, monkeypatch):
    stores = _stores(monkeypatch)
    first = _applied(UserDictionary(ENTRIES))
    files = sorted(os.listdir(cache))
    assert len(files) == 1 and files[0].endswith(dictcache.SUFFIX) and len(stores) == 1
    second = _applied(UserDictionary(dict(ENTRIES)))  # a hit: nothing stored
    assert len(stores) == 1
    np.testing.assert_array_equal(first, second)
    UserDictionary({**ENTRIES, "信号": 0.25})  # other multipliers: the same automaton
    assert len(os.listdir(cache)) == 1
    UserDictionary({**ENTRIES, "扫描": 2})  # other words, other key
    assert len(os.listdir(cache)) == 2
    UserDictionary(ENTRIES, use_cache=False)
    assert len(stores) == 2


def test_cache_is_pruned(cache, monkeypatch):
    monkeypatch.setattr(dictcache, "CACHE_MAX_FILES", 2)
    for k in (2, 3, 4, 5):
        UserDictionary({"微信号" * k: 2})
    assert len(os.listdir(cache)) == 2


def test_corrupt_cache_falls_back(cache):
    want = _applied(UserDictionary(ENTRIES))
    for f in os.listdir(cache):
        (cache / f).write_bytes(b"garbage")
    np.testing.assert_array_equal(_applied(UserDictionary(ENTRIES)), want)


def test_unwritable_cache_falls_back(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("SEG_CACHE_DIR", str(blocker / "sub"))
    monkeypatch.setattr(dictionary, "CACHE_MIN_ENTRIES", 1)
    want = _applied(UserDictionary(ENTRIES, use_cache=False))
    np.testing.assert_array_equal(_applied(UserDictionary(ENTRIES)), want)


def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("SEG_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert dictcache.cache_dir() == os.path.join(str(tmp_path), "seg")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert dictcache.cache_dir() == os.path.join(str(tmp_path), ".cache", "seg")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as the XDG spec says
    assert dictcache.cache_dir() == os.path.join(str(tmp_path), ".cache", "seg")
    monkeypatch.setenv("SEG_CACHE_DIR", "/x/y")
    assert dictcache.cache_dir() == "/x/y"


# --- layering, updated/removed -------------------------------------------------------


def test_names_come_from_their_layers():
    from segcli import decode, errors

    assert dictionary.DictError is errors.DictError
    assert issubclass(DictError, errors.SegError)
    assert (dictionary.S, dictionary.B, dictionary.M, dictionary.E) == (decode.S, decode.B, decode.M, decode.E)


def test_compiled_arrays_are_read_only():
    d = UserDictionary({"微信号": 10, "号": FORCE}).updated({"信号": 2})
    for array in (d._len, d._logk, d._force, *d._singles):
        assert not array.flags.writeable


def test_updated_and_removed_share_the_base_automaton():
    d = UserDictionary({"微信号": 10, "信号": 2})
    base = d._layers[0]
    assert d.updated({"信号": 3})._layers == (base,)
    assert d.updated({"关注": 3})._layers[0] is base
    assert d.removed(["信号"])._layers == (base,)


def test_removed():
    text = "关注微信号和信号灯"
    d = UserDictionary({"微信号": 10, "信号": FORCE, "号": 0, "和": 1, "关注": 0.1})
    r = d.removed(["信号", "号", "和", "absent", "信号"])
    assert dict(r.entries) == {"微信号": 10, "关注": 0.1}
    assert len(d) == 5 and "信号" in d and "信号" not in r  # d untouched
    np.testing.assert_array_equal(_applied(r, text), _applied(UserDictionary({"微信号": 10, "关注": 0.1}), text))
    assert d.removed([]) is d and d.removed(["absent", 3]) is d
    back = r.updated({"信号": FORCE, "号": 0})  # ids of removed words are reused
    np.testing.assert_array_equal(_applied(back, text), _applied(UserDictionary({**dict(r.entries), "信号": FORCE, "号": 0}), text))
    with pytest.raises(TypeError):
        d.removed("信号")  # a string is not a list of words


def test_removed_overlay_words():
    d = UserDictionary({"微信号": 10}).updated({"信号灯": FORCE, "和": 2})
    r = d.removed(["信号灯", "和"])
    np.testing.assert_array_equal(_applied(r, "微信号和信号灯"), _applied(UserDictionary({"微信号": 10}), "微信号和信号灯"))


@settings(max_examples=100, deadline=None)
@given(
    base=st.dictionaries(st.text(ALPHABET, min_size=1, max_size=3),
                         st.sampled_from([0.0, 0.5, 1.0, 3.0, FORCE]), max_size=6),
    steps=st.lists(st.one_of(
        st.dictionaries(st.text(ALPHABET, min_size=1, max_size=3),
                        st.sampled_from([0.0, 0.5, 1.0, 3.0, FORCE]), max_size=3),
        st.lists(st.text(ALPHABET, min_size=1, max_size=3), max_size=3)), max_size=5),
    text=st.text(ALPHABET + "\n", max_size=20),
)
def test_updated_and_removed_equal_fresh_build(base, steps, text):
    d, merged = UserDictionary(base), dict(base)
    for step in steps:
        if isinstance(step, dict):
            d = d.updated(step)
            merged.update(step)
        else:
            d = d.removed(step)
            for w in step:
                merged.pop(w, None)
        assert dict(d.entries) == merged
    np.testing.assert_array_equal(_applied(d, text), _applied(UserDictionary(merged), text))


def test_string_multipliers_as_in_a_file():
    d = UserDictionary({"微信号": "10", "号": "Force", "信号": " 0 "})
    assert dict(d.entries) == {"微信号": 10.0, "号": FORCE, "信号": 0.0}


def test_large_dictionary_build_changes_nothing():
    """A large dictionary's words in another order (other ids, another
    automaton): the same scores."""
    rng = np.random.default_rng(3)
    words = {"".join(map(chr, rng.integers(0x4E00, 0x4E30, rng.integers(1, 6)))): float(k)
             for k in rng.choice([0.0, 0.5, 2.0, 10.0, FORCE], 30_000)}
    text = "".join(map(chr, rng.integers(0x4E00, 0x4E30, 3_000)))
    reversed_words = dict(reversed(list(words.items())))
    np.testing.assert_array_equal(_applied(UserDictionary(words, use_cache=False), text),
                                  _applied(UserDictionary(reversed_words, use_cache=False), text))


@pytest.mark.corpus
def test_a_stop_signal_ends_a_cold_compile_of_two_million_words_at_once(tmp_path, seg_env):
    """Outside CI (2 million words, ~1.5 GB): Ctrl-C right after seg says it
    is compiling, and moments into it, ends seg within seconds. While
    pyahocorasick built the automaton it waited 34 s (3 s in) and 56 s (30 s
    in) on this project's 2 shared cores; numpy's build takes ~10 s there,
    and its longest stretch without a chance to act on a signal is
    pyahocorasick's constructor taking the nodes (0.5-2 s)."""
    rng = np.random.default_rng(11)
    lengths = rng.integers(2, 7, 2_000_000)
    points = rng.integers(0x4E00, 0x9FA6, (len(lengths), 7)).astype("<u4")
    points[np.arange(len(lengths)), lengths] = ord("\n")
    text = points[np.arange(7) <= lengths[:, None]].tobytes().decode("utf-32-le")
    words = tmp_path / "words.txt"
    words.write_text(text, encoding="utf-8")
    (tmp_path / "in.txt").write_text("扫描二维码\n", encoding="utf-8")
    for delay in (0.0, 0.5, 1.5):
        env = dict(seg_env, SEG_CACHE_DIR=str(tmp_path / f"cache-{delay}"))  # empty: a cold compile
        controller, terminal = pty.openpty()  # a terminal for stderr: seg says when it starts compiling
        proc = subprocess.Popen([*SEG, "--dict", str(words), str(tmp_path / "in.txt")], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal)
        os.close(terminal)
        said = b""
        while b"compiling a dictionary" not in said:
            assert select.select([controller], [], [], 300)[0], said
            said += os.read(controller, 4096)
        time.sleep(delay)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 130
        assert time.monotonic() - sent < 3.0
        os.close(controller)


# --- the bulk parser on typical large files ------------------------------------------


@pytest.mark.parametrize("content", [
    "微信号\n信号\n\n号\n",                      # words only
    "微信号,10\n信号,0.5\n号,force\n",            # every line word,multiplier
    "微信号,10\r\n信号\r\n # c\r\n号,force\r\n",  # CRLF, a comment, mixed
    "1,000,5\n微信号,10\n",                       # a comma in a word
    "微信号,10\n信号\n",                          # one line without a multiplier
    "#x\n微信号\n",
    "云计算 5\n李小福 2 nr\n台中\n凱特琳 nz\n",   # jieba's form
    "AT&T 3 nz\nB超 3 n\n",                     # jieba's dict.txt
])
def test_bulk_parser_on_typical_files(content):
    assert bulk_parse(content) == merged_lines(content)


# --- apply's answer: the accepted forced occurrences ----------------------------------


def accepted_forced(entries, text):
    """Leftmost first, then longest, dropping overlaps: [(start, end), ...]."""
    found = sorted(((i, -len(w)) for w, k in entries.items() if k == FORCE
                    for i in range(len(text) - len(w) + 1) if text.startswith(w, i)))
    out, free = [], 0
    for i, neg in found:
        if i >= free:
            out.append((i, i - neg))
            free = i - neg
    return out


def test_apply_returns_accepted_forced_spans():
    text = "南京市长江大桥"
    entries = {"市长": FORCE, "南京市": FORCE, "大桥": FORCE, "江": 2}
    starts, ends = UserDictionary(entries).apply(text, np.zeros((len(text), 4), np.float32))
    assert starts.dtype == ends.dtype == np.int64
    assert list(zip(starts.tolist(), ends.tolist())) == [(0, 3), (5, 7)]
    for d, t in [(UserDictionary({"江": 2}), text), (UserDictionary({}), text), (UserDictionary(entries), ""),
                 (UserDictionary(entries), "无关")]:
        starts, ends = d.apply(t, np.zeros((len(t), 4), np.float32))
        assert len(starts) == len(ends) == 0


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(ALPHABET + "\n", max_size=30),
    entries=st.dictionaries(
        st.text(ALPHABET, min_size=1, max_size=4),
        st.sampled_from([0.0, 2.0, FORCE]), max_size=6),
)
def test_apply_forced_spans_match_reference(text, entries):
    starts, ends = UserDictionary(entries).apply(text, np.zeros((len(text), 4), np.float32))
    assert list(zip(starts.tolist(), ends.tolist())) == accepted_forced(entries, text)


def test_tags_follow_updated_and_removed_without_a_word_list():
    d = UserDictionary({"微信号": 10, "信号": None, "号": 0}, tags={"信号": "n", "不在": "v"})
    assert dict(d.tags) == {"信号": "n"} and d.tag_of("不在") is None
    u = d.updated({"二维码": None, "信号": 2}, {"二维码": "n", "号": "q"})
    assert dict(u.tags) == {"信号": "n", "二维码": "n", "号": "q"}  # 信号 keeps its tag, 号 (an entry) gets one
    r = u.removed(["信号", "二维码"])
    assert dict(r.tags) == {"号": "q"} and r.tag_of("信号") is None
    back = r.updated({"信号": None})
    assert back.tag_of("信号") is None and dict(back.entries) == {"微信号": 10.0, "号": 0.0, "信号": None}
    assert len(back) == 3 and "二维码" not in back and 3 not in back and "" not in back
