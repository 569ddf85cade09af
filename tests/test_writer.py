"""Write stage: the C text renderer and word lists against their twins and
against the general (spans) path."""

import numpy as np
import pytest
import reference_render
from hypothesis import given, settings
from hypothesis import strategies as st

from segcli import _core, writer
from segcli.segmenter import renderer
from segcli.reader import Piece

SETTINGS = settings(max_examples=300, deadline=None)
# Code points that matter to UTF-8 and to surrogateescape: 1 to 4 bytes, the
# escaped input bytes U+DC80..U+DCFF, and other surrogates (not encodable).
CODE_POINTS = st.one_of(st.integers(0, 0x7F), st.integers(0x80, 0x7FF), st.integers(0x800, 0xFFFF),
                        st.integers(0xDC80, 0xDCFF), st.integers(0x10000, 0x10FFFF))


@st.composite
def tagged_batches(draw):
    n = draw(st.integers(0, 40))
    cps = np.array(draw(st.lists(CODE_POINTS, min_size=n, max_size=n)), np.uint32)
    tags = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), np.uint8)
    space = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=5)))
    starts, ends = [0, *cuts], [*cuts, n]
    return cps, tags, space, np.array(starts, np.int64), np.array(ends, np.int64)


@SETTINGS
@given(tagged_batches(), st.sampled_from(["", " ", "/", " | ", "、"]))
def test_render_text_agrees_with_its_twin(batch, delimiter):
    expected = reference_render.render_text(*batch, delimiter.encode())
    assert writer.text_bodies(*batch, delimiter) == expected


@SETTINGS
@given(tagged_batches())
def test_words_agree_with_their_twin(batch):
    cps, tags, space, starts, ends = batch
    text = "".join(map(chr, cps.tolist()))
    lines = [text[a:b] for a, b in zip(starts.tolist(), ends.tolist())]
    assert _core.words(tuple(lines), tags, space.view(np.uint8), starts, ends) == reference_render.words(
        lines, tags, space, starts, ends)


def test_render_text_refuses_overlapping_lines():
    # Each code point written once is what sizes out: two lines over the same
    # code points would write past it.
    cps = np.full(4, 0x10000, np.uint32)  # 4 bytes each: out exactly full for one pass
    with pytest.raises(ValueError, match="in order, apart"):
        _core.render_text(cps, np.zeros(4, np.uint8), np.zeros(4, np.uint8), np.array([0, 0], np.int64),
                          np.array([4, 4], np.int64), b"", np.empty(16, np.uint8), np.empty(2, np.int64))


def test_words_refuse_a_line_of_another_length():
    with pytest.raises(ValueError, match="expected a str of 2"):
        _core.words(("abc",), np.zeros(2, np.uint8), np.zeros(2, np.uint8), np.array([0]), np.array([2]))


@pytest.mark.parametrize("out_size, line, error", [
    (3, (0, 1), "needs"),
    (40, (0, 5), "within"),
    (40, (2, 1), "within"),
])
def test_render_text_checks_sizes_and_bounds(out_size, line, error):
    cps = np.array([0x4E2D, 0x6587], np.uint32)
    with pytest.raises(ValueError, match=error):
        _core.render_text(cps, np.zeros(2, np.uint8), np.zeros(2, np.uint8), np.array([line[0]], np.int64),
                          np.array([line[1]], np.int64), b" ", np.empty(out_size, np.uint8),
                          np.empty(1, np.int64))


LINES = ["扫描二维码，关注微信号。", "", "  ", "hello  world 你好 ", "a\udc80b 𠀀ｆｕｌｌ", "2026年12月2日，https://a.cn/x?y=1",
         "第一句。第二句！" * 40, "\t中\u3000文\t"]


@pytest.mark.parametrize("fmt, delimiter, mode", [("text", " ", "default"), ("text", "/", "default"),
                                                  ("text", "", "default"), ("jsonl", " ", "default"),
                                                  ("text", " ", "search")])
def test_renderer_equals_the_spans_path(segmenter, fmt, delimiter, mode):
    pieces = [Piece(line, 0, True) for line in LINES]
    output = writer.Format(fmt, delimiter)
    general = output.renderer(segmenter._spans_function(mode))(pieces)
    assert renderer(segmenter, output, mode)(pieces) == general


def test_words_equal_the_spans_path(segmenter):
    expected = [[line[a:b] for a, b in spans] for line, spans in zip(LINES, segmenter._spans_batch(LINES))]
    assert segmenter._words_batch(LINES) == expected
    assert list(segmenter.cut_lines(LINES, batch_chars=50)) == expected
    assert [segmenter.cut(line) for line in LINES] == expected
    assert segmenter.cut("\n".join(LINES)) == [w for words in expected for w in words]


def test_a_surrogate_that_is_no_input_byte_takes_the_general_path(segmenter):
    # Only the API can hand over such a string; the general path decides what happens.
    line = "中\ud800文"
    with pytest.raises(UnicodeEncodeError):
        writer.body("text", line, [(0, 3)], 0, " ")
    with pytest.raises(UnicodeEncodeError):
        renderer(segmenter)([Piece(line, 0, True)])
