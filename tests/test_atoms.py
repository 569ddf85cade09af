"""Atoms: Latin words, numbers, URLs and the like are never split inside."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segcli import atoms
from segcli.decode import decode_one, word_spans

# text, the atoms found in it (those of two or more characters)
CASES = [
    ("Hello world", ["Hello", "world"]),
    ("please check the license", ["please", "check", "the", "license"]),
    ("don't e-mail", ["don't", "e-mail"]),
    ("iPhone15和5G，H2O", ["iPhone15", "5G", "H2O"]),
    ("GPT-4o的效果比GPT-3.5好", ["GPT-4o", "GPT-3.5"]),
    ("COVID-19疫情", ["COVID-19"]),
    ("售价1,299.00元", ["1,299.00"]),
    ("1,2,3", []),  # not groups of three: single digits, no atom
    ("增长-3.5%以上", ["-3.5%"]),
    ("1993-2013年", ["1993", "2013"]),  # two groups: a range, not one atom
    ("第1-4名", []),
    ("电话138-0013-8000", ["138-0013-8000"]),
    ("2024-01-05和2024/1/5", ["2024-01-05", "2024/1/5"]),
    ("14:52到19:30:05", ["14:52", "19:30:05"]),
    ("访问https://www.cc98.org/topic/123查看", ["https://www.cc98.org/topic/123"]),
    ("见www.example.com。", ["www.example.com"]),
    ("写信给name.x@example.com吧", ["name.x@example.com"]),
    ("一家\U0001F468\u200d\U0001F469\u200d\U0001F467", ["\U0001F468\u200d\U0001F469\u200d\U0001F467"]),
    ("@张三 #话题# ！！", []),  # the corpora cut these
    ("卡拉OK和A股", ["OK"]),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_atoms_found(text, expected):
    starts, ends = atoms.find(text)
    assert [text[a:b] for a, b in zip(starts.tolist(), ends.tolist())] == expected


def test_every_pattern_has_a_case():
    names = {name for name, _, _ in atoms.PATTERNS}
    assert names == {"url", "email", "digit groups", "clock time", "latin word", "number", "emoji sequence"}
    for _, _, examples in atoms.PATTERNS:  # the documented examples are atoms themselves
        for example in examples.split(", "):
            starts, ends = atoms.find(example)
            assert (starts.tolist(), ends.tolist()) == ([0], [len(example)]), example


def test_forced_words_win_over_atoms():
    starts, ends = np.array([0, 10]), np.array([6, 14])
    kept = atoms.without_overlaps(starts, ends, np.array([2, 20]), np.array([4, 22]))
    assert [k.tolist() for k in kept] == [[10], [14]]
    kept = atoms.without_overlaps(starts, ends, np.array([5]), np.array([11]))  # across both edges
    assert [k.tolist() for k in kept] == [[], []]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scores=st.lists(st.tuples(*[st.floats(-50, 0)] * 4), min_size=2, max_size=30), data=st.data())
def test_no_path_cuts_inside_an_atom(scores, data):
    scores = np.array(scores, dtype=np.float32)
    n = len(scores)
    start = data.draw(st.integers(0, n - 2))
    end = data.draw(st.integers(start + 2, n))
    atoms.constrain(scores, np.array([start]), np.array([end]))
    tags = decode_one(scores, np.zeros((4, 4), np.float32))
    cuts = {b for _, b in word_spans(tags)} | {a for a, _ in word_spans(tags)}
    assert not any(start < c < end for c in cuts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.text(st.sampled_from("扫描二维码关注的 ，。a1-"), max_size=6),
    atom=st.sampled_from([atom for _, found in CASES for atom in found]),
    after=st.text(st.sampled_from("扫描二维码关注的 ，。"), max_size=6),
)
def test_segmenter_never_splits_an_atom(segmenter, before, atom, after):
    text = before + atom + after
    starts, ends = atoms.find(text)
    words = segmenter.cut(text)
    offsets, at = [], 0
    for word in words:
        at = text.index(word, at)
        offsets.append((at, at + len(word)))
        at += len(word)
    cuts = {a for a, _ in offsets} | {b for _, b in offsets}
    for a, b in zip(starts.tolist(), ends.tolist()):
        assert not any(a < c < b for c in cuts), (text, words, text[a:b])


ATOM_ALPHABET = "中文年A股aZ09.,:/-_@#%+'’ \n\t\u3000👍👨\u200d\ufe0f\u20e3🇨🇳☀http:wwe，。"


@settings(max_examples=500, deadline=None)
@given(st.text(ATOM_ALPHABET, max_size=60) | st.text(max_size=30))
def test_find_equals_the_expression_over_the_whole_text(text):
    whole = [m.span() for m in atoms._ATOM.finditer(text) if m.end() - m.start() > 1]
    starts, ends = atoms.find(text)
    assert list(zip(starts.tolist(), ends.tolist())) == whole


def _consumed_code_points(parsed) -> set[int]:
    """Every code point the parsed expression can consume (lookarounds left out)."""
    from re import _constants as c

    found: set[int] = set()
    for op, av in parsed:
        if op is c.LITERAL:
            found.add(av)
        elif op is c.IN:
            for item_op, item in av:
                if item_op is c.LITERAL:
                    found.add(item)
                elif item_op is c.RANGE:
                    found.update(range(item[0], item[1] + 1))
                else:  # a category or a negated class would need a wider table
                    raise AssertionError(f"atoms.find cannot prefilter {item_op}")
        elif op is c.BRANCH:
            for branch in av[1]:
                found |= _consumed_code_points(branch)
        elif op is c.SUBPATTERN:
            found |= _consumed_code_points(av[3])
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            found |= _consumed_code_points(av[2])
        elif op in (c.ASSERT, c.ASSERT_NOT, c.AT):
            continue
        else:
            raise AssertionError(f"atoms.find cannot prefilter {op}")
    return found


def test_every_character_an_atom_can_hold_is_an_atom_character():
    # find() runs the expression only over runs of these characters: one a
    # pattern can consume but the table lacks would silently lose atoms.
    from re import _parser

    consumed = _consumed_code_points(_parser.parse(atoms._ATOM.pattern))
    assert consumed and all(atoms._ATOM_CHAR[cp] for cp in consumed)
