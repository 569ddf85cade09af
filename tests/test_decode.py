"""Tests for the constrained Viterbi decoder (segcli.decode / segcli._core)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference_viterbi import viterbi_reference

from segcli import _core
from segcli import decode as decode_module
from segcli.decode import LEGAL, TAGS, decode, decode_one, tags_of, word_spans

SETTINGS = settings(max_examples=200, deadline=None)
NAN, INF = float("nan"), float("inf")
SENTINEL = 0xAB

# --- strategies -------------------------------------------------------------

finite = st.floats(-30, 30, width=32)
small_int = st.integers(-2, 2).map(float)  # few distinct values -> many ties
nasty = st.one_of(finite, st.sampled_from([NAN, INF, -INF, 0.0]))


def score_arrays(elements, max_rows=25):
    return st.integers(0, max_rows).flatmap(
        lambda n: hnp.arrays(np.float32, (n, 4), elements=elements))


def trans_arrays(elements):
    return hnp.arrays(np.float32, (4, 4), elements=elements)


@st.composite
def segmentations(draw, n):
    """Disjoint segments over [0, n), some empty, with gaps left uncovered."""
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=8)) + [0, n])
    segs = [(a, b) for a, b in zip(cuts, cuts[1:]) if draw(st.booleans())]
    segs = draw(st.permutations(segs))
    return (np.array([a for a, _ in segs], np.int64).reshape(-1),
            np.array([b for _, b in segs], np.int64).reshape(-1))


@st.composite
def problems(draw, elements):
    scores = draw(score_arrays(elements))
    trans = draw(trans_arrays(elements))
    starts, ends = draw(segmentations(len(scores)))
    return scores, starts, ends, trans


def run_c(scores, starts, ends, trans):
    """Call the extension directly, with a sentinel-filled output."""
    out = np.full(len(scores), SENTINEL, np.uint8)
    _core.viterbi(scores, starts, ends, trans, out)
    return out


def assert_legal(tags):
    if len(tags) == 0:
        return
    assert tags.max() < 4
    assert TAGS[tags[0]] in "sb", tags
    assert TAGS[tags[-1]] in "se", tags
    assert LEGAL[tags[:-1], tags[1:]].all(), tags


def tagstr(tags):
    return "".join(TAGS[t] for t in tags)


# --- agreement with the reference --------------------------------------------


def check_against_reference(problem):
    scores, starts, ends, trans = problem
    out = run_c(scores, starts, ends, trans)
    covered = np.zeros(len(scores), bool)
    for a, b in zip(starts, ends):
        expected = viterbi_reference(scores[a:b], trans)
        np.testing.assert_array_equal(out[a:b], expected)
        assert_legal(out[a:b])
        covered[a:b] = True
    assert (out[~covered] == SENTINEL).all()
    via_decode = decode(scores, starts, ends, trans)
    np.testing.assert_array_equal(via_decode[covered], out[covered])
    assert (via_decode[~covered] == 0).all()


@SETTINGS
@given(problems(finite))
def test_matches_reference_random_floats(problem):
    check_against_reference(problem)


@SETTINGS
@given(problems(small_int))
def test_matches_reference_small_ints(problem):
    check_against_reference(problem)


@SETTINGS
@given(score_arrays(small_int, max_rows=12), trans_arrays(small_int))
def test_ties_whole_array(scores, trans):
    np.testing.assert_array_equal(decode_one(scores, trans), viterbi_reference(scores, trans))


@SETTINGS
@given(problems(nasty))
def test_nonfinite_inputs_give_legal_sequences(problem):
    scores, starts, ends, trans = problem
    out = run_c(scores, starts, ends, trans)
    for a, b in zip(starts, ends):
        assert_legal(out[a:b])
        np.testing.assert_array_equal(out[a:b], viterbi_reference(scores[a:b], trans))


@SETTINGS
@given(problems(st.one_of(finite, small_int)))
def test_batch_equals_each_segment_alone(problem):
    scores, starts, ends, trans = problem
    batch = decode(scores, starts, ends, trans)
    for a, b in zip(starts, ends):
        np.testing.assert_array_equal(batch[a:b], decode_one(scores[a:b], trans))


@SETTINGS
@given(score_arrays(finite, max_rows=10), trans_arrays(finite))
def test_illegal_transition_values_are_ignored(scores, trans):
    rigged = trans.copy()
    rigged[~LEGAL] = np.float32(1e30)
    np.testing.assert_array_equal(decode_one(scores, rigged), decode_one(scores, trans))


# --- hand cases ---------------------------------------------------------------


def rows(*prefs, hi=5.0):
    """One row per tag letter: that tag scores hi, the others 0."""
    out = np.zeros((len(prefs), 4), np.float32)
    for t, p in enumerate(prefs):
        out[t, TAGS.index(p)] = hi
    return out


ZERO_T = np.zeros((4, 4), np.float32)


def T(**pairs):
    """Transition matrix, zero except e.g. T(mm=2.0) for m -> m."""
    out = ZERO_T.copy()
    for k, v in pairs.items():
        out[TAGS.index(k[0]), TAGS.index(k[1])] = v
    return out


HAND_CASES = [
    # (id, scores, transitions, expected)
    ("empty", np.zeros((0, 4), np.float32), ZERO_T, ""),
    ("single char is always s", rows("b"), ZERO_T, "s"),
    ("single char e preferred", rows("e"), ZERO_T, "s"),
    ("two-char word", rows("b", "e"), ZERO_T, "be"),
    ("four-char word", rows("b", "m", "m", "e"), ZERO_T, "bmme"),
    ("mixed", rows("s", "b", "e", "s", "b", "m", "e"), ZERO_T, "sbesbme"),
    ("m at start is repaired", rows("m", "e"), ZERO_T, "be"),
    ("b at end is repaired", rows("s", "b"), ZERO_T, "ss"),
    ("all ties -> lowest index", np.zeros((3, 4), np.float32), ZERO_T, "sss"),
    ("all -inf", np.full((3, 4), -INF, np.float32), ZERO_T, "sss"),
    ("all nan", np.full((3, 4), NAN, np.float32), ZERO_T, "sss"),
    ("nan transitions", np.zeros((3, 4), np.float32), np.full((4, 4), NAN, np.float32), "sss"),
    ("+inf m self-loop", rows("b", "m", "m", "e"), T(mm=INF), "bmme"),
    ("tie bme/sbe: s wins at step 1", rows("s", "m", "e"), ZERO_T, "sbe"),
    ("huge illegal s->m ignored", rows("s", "m", "e"), T(sm=1e30, se=1e30, bs=1e30), "sbe"),
    ("huge illegal transitions ignored", rows("b", "m", "e"), np.where(LEGAL, 0, 1e30).astype(np.float32), "bme"),
    ("transition outweighs emission", np.array([[0, 1, 0, 0], [0, 0, 0, 1]], np.float32), T(be=-10), "ss"),
]


@pytest.mark.parametrize("scores, trans, expected", [c[1:] for c in HAND_CASES],
                         ids=[c[0] for c in HAND_CASES])
def test_hand_cases(scores, trans, expected):
    got = decode_one(scores, trans)
    assert got.dtype == np.uint8
    assert tagstr(got) == expected
    np.testing.assert_array_equal(got, viterbi_reference(scores, trans))


def test_legal_table():
    pairs = {TAGS[i] + TAGS[j] for i, j in zip(*np.nonzero(LEGAL))}
    assert pairs == {"ss", "sb", "bm", "be", "mm", "me", "es", "eb"}
    assert LEGAL.dtype == bool and not LEGAL.flags.writeable
    with pytest.raises(ValueError):
        LEGAL[0, 0] = False


# --- bounds and validation -----------------------------------------------------

BAD_BOUNDS = [
    # (starts, ends) over N = 5 rows
    ([-1], [2]),
    ([3], [2]),
    ([0], [6]),
    ([6], [6]),
    ([0, 2], [2, 7]),
    ([np.iinfo(np.int64).min], [0]),
    ([0], [np.iinfo(np.int64).max]),
]


@pytest.mark.parametrize("starts, ends", BAD_BOUNDS)
def test_bad_bounds_raise(starts, ends):
    scores = np.zeros((5, 4), np.float32)
    s, e = np.array(starts, np.int64), np.array(ends, np.int64)
    out = np.full(5, SENTINEL, np.uint8)
    with pytest.raises(ValueError, match="segment"):
        _core.viterbi(scores, s, e, ZERO_T, out)
    assert (out == SENTINEL).all()  # validated before anything is written
    with pytest.raises(ValueError, match="segment"):
        decode(scores, s, e, ZERO_T)


@pytest.mark.parametrize("starts, ends", [([0], [0]), ([5], [5]), ([0, 0, 5], [0, 5, 5])])
def test_edge_bounds_accepted(starts, ends):
    out = decode(np.zeros((5, 4), np.float32), starts, ends, ZERO_T)
    if 5 in np.subtract(ends, starts):  # the whole array is a segment: a legal cut of it
        assert out[0] in (0, 1) and out[-1] in (0, 3)
    else:  # only empty segments: nothing decoded
        assert out.tolist() == [0] * 5


Z = np.zeros((5, 4), np.float32)
ONE = np.array([0], np.int64)
FIVE = np.array([5], np.int64)

BAD_DECODE_ARGS = [
    # (id, scores, starts, ends, transitions, message fragment)
    ("scores 1-D", np.zeros(20, np.float32), ONE, FIVE, ZERO_T, "scores"),
    ("scores 3 cols", np.zeros((5, 3), np.float32), ONE, FIVE, ZERO_T, "scores"),
    ("scores 3-D", np.zeros((5, 4, 1), np.float32), ONE, FIVE, ZERO_T, "scores"),
    ("scores complex", Z.astype(np.complex64), ONE, FIVE, ZERO_T, "scores"),
    ("scores strings", np.full((5, 4), "x"), ONE, FIVE, ZERO_T, "scores"),
    ("transitions 3x4", Z, ONE, FIVE, np.zeros((3, 4), np.float32), "transitions"),
    ("transitions flat", Z, ONE, FIVE, np.zeros(16, np.float32), "transitions"),
    ("transitions object", Z, ONE, FIVE, np.zeros((4, 4), object), "transitions"),
    ("starts float", Z, np.array([0.0]), FIVE, ZERO_T, "starts"),
    ("ends float", Z, ONE, np.array([5.0]), ZERO_T, "ends"),
    ("starts 2-D", Z, ONE.reshape(1, 1), FIVE.reshape(1, 1), ZERO_T, "starts"),
    ("length mismatch", Z, np.array([0, 1], np.int64), FIVE, ZERO_T, "starts"),
]


@pytest.mark.parametrize("scores, starts, ends, trans, msg", [c[1:] for c in BAD_DECODE_ARGS],
                         ids=[c[0] for c in BAD_DECODE_ARGS])
def test_decode_rejects_bad_arguments(scores, starts, ends, trans, msg):
    with pytest.raises(ValueError, match=msg):
        decode(scores, starts, ends, trans)


def test_decode_converts_compatible_inputs():
    scores = np.asfortranarray(rows("s", "b", "e"), dtype=np.float64)
    assert not scores.flags.c_contiguous
    got = decode(scores, [0], [3], ZERO_T.astype(np.float64).tolist())
    assert tagstr(got) == "sbe"
    assert tagstr(decode(rows("b", "e"), np.array([0], np.int32), np.array([2], np.uint8), ZERO_T)) == "be"
    assert len(decode(np.zeros((0, 4)), [], [], ZERO_T)) == 0


def f32(n):
    return np.zeros(n, np.float32)


BAD_C_ARGS = [
    # (id, scores, starts, ends, transitions, out, exception)
    ("scores float64", np.zeros((5, 4)), ONE, FIVE, ZERO_T, np.zeros(5, np.uint8), ValueError),
    ("scores ragged", f32(19), ONE, FIVE, ZERO_T, np.zeros(5, np.uint8), ValueError),
    ("starts int32", Z, ONE.astype(np.int32), FIVE, ZERO_T, np.zeros(5, np.uint8), ValueError),
    ("ends int32", Z, ONE, FIVE.astype(np.int32), ZERO_T, np.zeros(5, np.uint8), ValueError),
    ("starts/ends lengths", Z, np.array([0, 0], np.int64), FIVE, ZERO_T, np.zeros(5, np.uint8), ValueError),
    ("transitions 15", Z, ONE, FIVE, f32(15), np.zeros(5, np.uint8), ValueError),
    ("transitions float64", Z, ONE, FIVE, np.zeros((4, 4)), np.zeros(5, np.uint8), ValueError),
    ("out short", Z, ONE, FIVE, ZERO_T, np.zeros(4, np.uint8), ValueError),
    ("out long", Z, ONE, FIVE, ZERO_T, np.zeros(6, np.uint8), ValueError),
    ("out int64", Z, ONE, FIVE, ZERO_T, np.zeros(5, np.int64), ValueError),
    ("out read-only", Z, ONE, FIVE, ZERO_T, bytes(5), TypeError),
    ("scores not a buffer", Z.tolist(), ONE, FIVE, ZERO_T, np.zeros(5, np.uint8), TypeError),
    ("scores non-contiguous", np.zeros((5, 8), np.float32)[:, ::2], ONE, FIVE, ZERO_T,
     np.zeros(5, np.uint8), (TypeError, ValueError, BufferError)),
]


@pytest.mark.parametrize("scores, starts, ends, trans, out, exc", [c[1:] for c in BAD_C_ARGS],
                         ids=[c[0] for c in BAD_C_ARGS])
def test_extension_checks_buffers(scores, starts, ends, trans, out, exc):
    with pytest.raises(exc):
        _core.viterbi(scores, starts, ends, trans, out)


def test_extension_accepts_empty_everything():
    out = np.zeros(0, np.uint8)
    assert _core.viterbi(np.zeros((0, 4), np.float32), np.zeros(0, np.int64),
                            np.zeros(0, np.int64), ZERO_T, out) is None


# --- the tag alphabet ----------------------------------------------------------


def test_extension_exports_the_tag_ids_of_decode():
    assert (_core.S, _core.B, _core.M, _core.E) == (
        decode_module.S, decode_module.B, decode_module.M, decode_module.E)
    assert [TAGS[t] for t in (decode_module.S, decode_module.B, decode_module.M, decode_module.E)] == list("sbme")


def test_the_stub_declares_every_function_of_the_extension():
    import ast
    from pathlib import Path

    stub = ast.parse((Path(_core.__file__).parent / "_core.pyi").read_text(encoding="utf-8"))
    declared = {node.name for node in stub.body if isinstance(node, ast.FunctionDef)}
    exported = {name for name, value in vars(_core).items() if callable(value) and not name.startswith("_")}
    assert declared == exported


words = st.lists(st.text(st.characters(codec="utf-8"), min_size=1, max_size=6), max_size=8)


@SETTINGS
@given(words)
def test_tags_of_spells_each_word(ws):
    expected = "".join("s" if len(w) == 1 else "b" + "m" * (len(w) - 2) + "e" for w in ws)
    tags = tags_of(ws)
    assert tags.dtype == np.uint8
    assert "".join(TAGS[t] for t in tags) == expected


@SETTINGS
@given(words)
def test_word_spans_give_back_the_words(ws):
    text = "".join(ws)
    assert [text[a:b] for a, b in word_spans(tags_of(ws))] == ws


def test_word_spans_close_an_open_word_at_the_end():
    assert word_spans(np.array([0, 1, 2], np.uint8)) == [(0, 1), (1, 3)]
    assert word_spans(np.array([], np.uint8)) == []
