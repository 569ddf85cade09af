"""Tests for segcli.evaluate: SIGHAN-2005-style word-level scoring."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segcli.evaluate import Scores, compare, format_report, mean_word_length, read_segmented, read_word_list

# ---------------------------------------------------------------------------
# Hand-worked examples.
#
# Line A  gold 我们|喜欢|北京|天安门        spans (0,2)(2,4)(4,6)(6,9)
#         pred 我们|喜|欢|北京天安门        spans (0,2)(2,3)(3,4)(4,9)
#         -> gold 4, pred 4, correct 1 (我们)
# Line B  gold 他|来到|了|网易|杭研|大厦   spans (0,1)(1,3)(3,4)(4,6)(6,8)(8,10)
#         pred 他|来到|了|网易杭研|大厦     spans (0,1)(1,3)(3,4)(4,8)(8,10)
#         -> gold 6, pred 5, correct 4 (他 来到 了 大厦)
# A+B     gold 10, pred 9, correct 5: P = 5/9, R = 1/2, F1 = 2C/(G+P) = 10/19
# Line C  gold 张三|在|杭研   spans (0,2)(2,3)(3,5)
#         pred 张|三|在|杭研  spans (0,1)(1,2)(2,3)(3,5)
#         -> gold 3, pred 4, correct 2 (在 杭研): P = 1/2, R = 2/3, F1 = 4/7
# ---------------------------------------------------------------------------

GOLD_A = ["我们", "喜欢", "北京", "天安门"]
PRED_A = ["我们", "喜", "欢", "北京天安门"]
GOLD_B = ["他", "来到", "了", "网易", "杭研", "大厦"]
PRED_B = ["他", "来到", "了", "网易杭研", "大厦"]
GOLD_C = ["张三", "在", "杭研"]
PRED_C = ["张", "三", "在", "杭研"]

VOCAB_AB = {"我们", "喜欢", "北京", "他", "来到", "了", "大厦"}

CASES = [
    pytest.param(
        [GOLD_A], [PRED_A], None,
        dict(gold_words=4, pred_words=4, correct=1,
             precision=1 / 4, recall=1 / 4, f1=1 / 4,
             oov_rate=None, oov_recall=None, iv_recall=None),
        id="A-no-vocab",
    ),
    pytest.param(
        [GOLD_B], [PRED_B], None,
        dict(gold_words=6, pred_words=5, correct=4,
             precision=4 / 5, recall=4 / 6, f1=8 / 11,
             oov_rate=None, oov_recall=None, iv_recall=None),
        id="B-no-vocab",
    ),
    # OOV gold words: 天安门 网易 杭研 (none correct) -> rate 3/10, recall 0/3.
    # IV gold words: 我们✓ 喜欢✗ 北京✗ 他✓ 来到✓ 了✓ 大厦✓ -> 5/7.
    pytest.param(
        [GOLD_A, GOLD_B], [PRED_A, PRED_B], VOCAB_AB,
        dict(gold_words=10, pred_words=9, correct=5,
             precision=5 / 9, recall=1 / 2, f1=10 / 19,
             oov_rate=3 / 10, oov_recall=0.0, iv_recall=5 / 7),
        id="AB-vocab",
    ),
    # Adding 网易 to the vocabulary: OOV = 天安门 杭研 -> rate 2/10; IV 5/8.
    pytest.param(
        [GOLD_A, GOLD_B], [PRED_A, PRED_B], VOCAB_AB | {"网易"},
        dict(gold_words=10, pred_words=9, correct=5,
             precision=5 / 9, recall=1 / 2, f1=10 / 19,
             oov_rate=2 / 10, oov_recall=0.0, iv_recall=5 / 8),
        id="AB-vocab-plus-one",
    ),
    # OOV gold words: 张三✗ 杭研✓ -> rate 2/3, recall 1/2; IV: 在✓ -> 1/1.
    # The vocabulary is a list here: any Collection must work.
    pytest.param(
        [GOLD_C], [PRED_C], ["在"],
        dict(gold_words=3, pred_words=4, correct=2,
             precision=1 / 2, recall=2 / 3, f1=4 / 7,
             oov_rate=2 / 3, oov_recall=1 / 2, iv_recall=1.0),
        id="C-oov-hit",
    ),
    # An empty vocabulary: everything is OOV, IV recall is 0/0 -> 0.
    pytest.param(
        [GOLD_C], [PRED_C], frozenset(),
        dict(gold_words=3, pred_words=4, correct=2,
             precision=1 / 2, recall=2 / 3, f1=4 / 7,
             oov_rate=1.0, oov_recall=2 / 3, iv_recall=0.0),
        id="C-empty-vocab",
    ),
    # All three lines together: gold 13, pred 13, correct 7.
    pytest.param(
        [GOLD_A, GOLD_B, GOLD_C], [PRED_A, PRED_B, PRED_C], None,
        dict(gold_words=13, pred_words=13, correct=7,
             precision=7 / 13, recall=7 / 13, f1=7 / 13,
             oov_rate=None, oov_recall=None, iv_recall=None),
        id="ABC",
    ),
    # Same boundaries at both ends but different split inside: no credit.
    pytest.param(
        [["ab", "cd"]], [["a", "bc", "d"]], None,
        dict(gold_words=2, pred_words=3, correct=0,
             precision=0.0, recall=0.0, f1=0.0,
             oov_rate=None, oov_recall=None, iv_recall=None),
        id="no-credit-for-one-boundary",
    ),
    # Identical single-character words, with a repeated word.
    pytest.param(
        [["的", "的", "的"]], [["的的", "的"]], {"的"},
        dict(gold_words=3, pred_words=2, correct=1,
             precision=1 / 2, recall=1 / 3, f1=2 / 5,
             oov_rate=0.0, oov_recall=0.0, iv_recall=1 / 3),
        id="repeated-words-by-position",
    ),
]


def _check(s: Scores, expected: dict) -> None:
    for key, want in expected.items():
        got = getattr(s, key)
        if want is None or key in ("gold_words", "pred_words", "correct"):
            assert got == want, key
        else:
            assert got == pytest.approx(want), key


@pytest.mark.parametrize("gold, pred, vocab, expected", CASES)
def test_hand_worked(gold, pred, vocab, expected):
    s = compare(gold, pred, vocab)
    _check(s, expected)
    assert s.mismatched_lines == ()


@pytest.mark.parametrize("gold, pred, vocab, expected", CASES)
def test_accepts_generators_and_tuples(gold, pred, vocab, expected):
    s = compare((tuple(line) for line in gold), iter(pred), vocab)
    _check(s, expected)


@pytest.mark.parametrize("vocab", [None, {"我们", "他"}, set()])
def test_identical_input_scores_one(vocab):
    gold = [GOLD_A, GOLD_B, GOLD_C]
    s = compare(gold, [list(x) for x in gold], vocab)
    assert (s.gold_words, s.pred_words, s.correct) == (13, 13, 13)
    assert s.precision == s.recall == s.f1 == 1.0
    if vocab is None:
        assert (s.oov_rate, s.oov_recall, s.iv_recall) == (None, None, None)
    elif vocab:
        assert s.oov_recall == 1.0 and s.iv_recall == 1.0
        assert s.oov_rate == pytest.approx(11 / 13)


def test_mismatched_lines_reported_and_excluded():
    # Line 2: characters differ (a typo); line 4: prediction dropped a char.
    gold = [GOLD_A, ["你", "好"], GOLD_B, ["再见"], GOLD_C]
    pred = [PRED_A, ["你", "们"], PRED_B, ["再"], PRED_C]
    s = compare(gold, pred, VOCAB_AB)
    assert s.mismatched_lines == (2, 4)
    clean = compare([GOLD_A, GOLD_B, GOLD_C], [PRED_A, PRED_B, PRED_C], VOCAB_AB)
    assert s.to_dict() | {"mismatched_lines": []} == clean.to_dict()
    assert (s.gold_words, s.pred_words, s.correct) == (13, 13, 7)


def test_all_lines_mismatched():
    s = compare([["甲"], ["乙"]], [["丙"], ["丁"]], {"甲"})
    assert s.mismatched_lines == (1, 2)
    assert (s.gold_words, s.pred_words, s.correct) == (0, 0, 0)
    assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)
    assert (s.oov_rate, s.oov_recall, s.iv_recall) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "n_gold, n_pred",
    [(3, 2), (2, 3), (0, 1), (1, 0), (5, 0)],
)
def test_length_mismatch_raises(n_gold, n_pred):
    gold = ([["一"]] * n_gold)
    pred = ([["一"]] * n_pred)
    with pytest.raises(ValueError) as exc:
        compare(gold, pred)
    assert str(exc.value) == f"gold has {n_gold} lines, prediction has {n_pred}"
    with pytest.raises(ValueError) as exc:  # also from one-shot iterators
        compare(iter(gold), (x for x in pred))
    assert str(exc.value) == f"gold has {n_gold} lines, prediction has {n_pred}"


def test_empty_lines_count_nothing():
    base = compare([GOLD_A, GOLD_B], [PRED_A, PRED_B], VOCAB_AB)
    padded = compare([[], GOLD_A, [], [], GOLD_B, []], [[], PRED_A, [], [], PRED_B, []], VOCAB_AB)
    assert padded == base
    assert padded.mismatched_lines == ()


def test_whitespace_and_empty_tokens_are_not_words():
    s = compare([["我们", "", " "], ["喜 欢"]], [["我", "们"], ["喜欢", "\t"]])
    assert s.mismatched_lines == ()
    assert (s.gold_words, s.pred_words, s.correct) == (2, 3, 1)


@pytest.mark.parametrize(
    "gold, pred",
    [
        ([], []),
        ([[]], [[]]),
        ([[], [], []], [[], [], []]),
        ([["ab"]], [["a", "b"]]),  # nothing correct: P = R = 0, F1 = 0/0 -> 0
    ],
)
def test_f1_of_zero_over_zero_is_zero(gold, pred):
    s = compare(gold, pred, set())
    assert s.correct == 0
    assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)
    assert s.mismatched_lines == ()
    assert all(isinstance(v, float) for v in (s.oov_rate, s.oov_recall, s.iv_recall))


def test_line_given_as_string_is_rejected():
    with pytest.raises(TypeError, match="gold line 2"):
        compare([["我们"], "我们"], [["我们"], ["我们"]])


def test_to_dict_is_json_serialisable():
    s = compare([GOLD_A, ["x"]], [PRED_A, ["y"]], VOCAB_AB)
    d = json.loads(json.dumps(s.to_dict()))
    assert d["mismatched_lines"] == [2]
    assert d["gold_words"] == 4 and d["correct"] == 1
    assert set(d) == {
        "gold_words", "pred_words", "correct", "precision", "recall", "f1",
        "oov_rate", "oov_recall", "iv_recall", "mismatched_lines",
    }
    assert json.loads(json.dumps(compare([], []).to_dict()))["oov_rate"] is None


# ---------------------------------------------------------------------------
# Reading files.
# ---------------------------------------------------------------------------

def test_read_segmented_bom_crlf_and_empty_lines(tmp_path):
    p = tmp_path / "gold.utf8"
    p.write_bytes("\ufeff我们  喜欢\r\n\r\n 北京\t天安门 \r\n".encode("utf-8"))
    want = [["我们", "喜欢"], [], ["北京", "天安门"]]
    assert read_segmented(p) == want
    assert read_segmented(str(p)) == want
    with open(p, encoding="utf-8", newline="") as f:  # an open file: lines keep \r\n
        assert read_segmented(f) == want


def test_read_segmented_without_final_newline(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("a b\nc", encoding="utf-8")
    assert read_segmented(p) == [["a", "b"], ["c"]]
    p.write_text("", encoding="utf-8")
    assert read_segmented(p) == []
    p.write_text("\n", encoding="utf-8")
    assert read_segmented(p) == [[]]


def test_read_segmented_lines():
    assert read_segmented(["\ufeff他 来到\n", "了\r\n", ""]) == [["他", "来到"], ["了"], []]


def test_read_word_list(tmp_path):
    p = tmp_path / "words.txt"
    p.write_bytes("\ufeff我们\r\n喜欢 北京\r\n\r\n我们\r\n".encode("utf-8"))
    assert read_word_list(p) == {"我们", "喜欢", "北京"}


def test_files_end_to_end(tmp_path):
    g = tmp_path / "gold"
    pr = tmp_path / "pred"
    g.write_text("\n".join(" ".join(x) for x in (GOLD_A, GOLD_B)) + "\n", encoding="utf-8")
    pr.write_bytes(("\ufeff" + "\r\n".join("  ".join(x) for x in (PRED_A, PRED_B)) + "\r\n").encode())
    s = compare(read_segmented(g), read_segmented(pr), VOCAB_AB)
    _check(s, CASES[2].values[3])


# ---------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------

def test_format_report_without_vocab():
    s = compare([GOLD_A, GOLD_B], [PRED_A, PRED_B])
    text = format_report(s)
    lines = text.splitlines()
    assert "precision" in text and "0.5556" in text
    assert "0.5000" in text and "0.5263" in text  # R = 1/2, F1 = 10/19
    assert "OOV" not in text and "IV recall" not in text
    assert not any("excluded" in line for line in lines)
    # Aligned: every value column ends at the same position.
    assert len({len(line) for line in lines}) == 1
    assert any(line.startswith("gold words") and line.endswith(" 10") for line in lines)


def test_format_report_with_vocab_and_mismatches():
    s = compare([GOLD_A, ["x"], GOLD_B], [PRED_A, ["y"], PRED_B], VOCAB_AB)
    text = format_report(s)
    assert "OOV rate" in text and "0.3000" in text
    assert "OOV recall" in text and "IV recall" in text and "0.7143" in text
    assert text.splitlines()[-1] == "not scored (the text differs between gold and prediction): line 2"


def test_format_report_truncates_mismatch_list():
    n = 25
    s = compare([["a"]] * n, [["b"]] * n)
    last = format_report(s).splitlines()[-1]
    assert last.endswith(": lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 \u2026 and 5 more")
    assert ", 21" not in last
    s = compare([["a"]] * 20, [["b"]] * 20)
    last = format_report(s).splitlines()[-1]
    assert last.endswith(", 19, 20") and "more" not in last


@pytest.mark.parametrize("lines, expected", [
    ([], 0.0),
    ([["迈向", "充满", "希望"], ["的", "新", "世纪"]], 10 / 6),
    ([["迈向充满希望的新世纪"]], 10.0),  # not segmented: a line is one "word"
    ([[" 迈向 ", "", "  "], ["好"]], 3 / 2),  # whitespace is no character, an empty token no word
])
def test_mean_word_length(lines, expected):
    assert mean_word_length(lines) == pytest.approx(expected)


# ---------------------------------------------------------------------------
# Properties (kept small: the machine is busy).
# ---------------------------------------------------------------------------

def _segment(text: str, cuts: set[int]) -> list[str]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def _naive(gold: list[str], pred: list[str]) -> int:
    def spans(ws):
        out, i = set(), 0
        for w in ws:
            out.add((i, i + len(w)))
            i += len(w)
        return out

    return len(spans(gold) & spans(pred))


_text = st.text(alphabet="我们喜欢北京天安门", min_size=0, max_size=12)
_cuts = st.sets(st.integers(min_value=1, max_value=11), max_size=11)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_text, _cuts, _cuts), max_size=4))
def test_property_matches_naive_and_bounds(rows):
    gold = [_segment(t, a) for t, a, _ in rows]
    pred = [_segment(t, b) for t, _, b in rows]
    s = compare(gold, pred, {"我们", "北京"})
    assert s.mismatched_lines == ()
    assert s.correct == sum(_naive(g, p) for g, p in zip(gold, pred))
    assert s.gold_words == sum(map(len, gold)) and s.pred_words == sum(map(len, pred))
    assert 0 <= s.correct <= min(s.gold_words, s.pred_words)
    for v in (s.precision, s.recall, s.f1, s.oov_rate, s.oov_recall, s.iv_recall):
        assert 0.0 <= v <= 1.0
    if s.gold_words + s.pred_words:
        assert s.f1 == pytest.approx(2 * s.correct / (s.gold_words + s.pred_words))
    # Swapping gold and prediction swaps precision and recall.
    r = compare(pred, gold)
    assert (r.precision, r.recall) == pytest.approx((s.recall, s.precision))
    assert compare(gold, gold).f1 == (1.0 if s.gold_words else 0.0)
