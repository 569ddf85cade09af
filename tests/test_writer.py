"""Write stage: the C text renderer and word lists against their twins and
against the general (spans) path."""

import io
import subprocess
import sys

import numpy as np
import pytest
import reference_render
from hypothesis import given, settings
from conftest import SEG, dev_text
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


NO_LABELS = (np.empty(0, np.int64), b"", np.empty(0, np.int64))


@SETTINGS
@given(tagged_batches(), st.sampled_from(["", " ", "/", " | ", "、"]),
       st.lists(st.text(st.sampled_from("/_nv词\udc80"), max_size=3), min_size=1, max_size=4), st.randoms())
def test_render_text_with_labels_agrees_with_its_twin(batch, delimiter, labels, rng):
    """Each word followed by its label (seg --pos's /tag), labels of any length, the empty one too."""
    cps, tags, space, starts, ends = batch
    text = "".join(map(chr, cps.tolist()))
    lines = [text[a:b] for a, b in zip(starts.tolist(), ends.tolist())]
    count = sum(map(len, reference_render.words(lines, tags, space, starts, ends)))
    word_labels = np.array([rng.randrange(len(labels)) for _ in range(count)], np.int64)
    expected = reference_render.render_text(*batch, delimiter.encode(), word_labels,
                                            [label.encode("utf-8", "surrogateescape") for label in labels])
    assert writer.text_bodies(*batch, delimiter, word_labels, labels) == expected


@pytest.mark.parametrize("word_labels, label_ends, error", [
    ([0], [2], "one label a word"),  # one word too few
    ([0, 0, 0], [2], "one label a word"),  # one too many
    ([0, 1], [2], "a label that label_ends has not"),
    ([0, -1], [2], "a label that label_ends has not"),
    ([0, 0], [3], "within labels"),
    ([0, 0], [2, 1], "ascending"),
])
def test_render_text_checks_its_labels(word_labels, label_ends, error):
    cps = np.array([0x4E2D, 0x6587], np.uint32)
    with pytest.raises(ValueError, match=error):
        _core.render_text(cps, np.zeros(2, np.uint8), np.zeros(2, np.uint8), np.array([0], np.int64),
                          np.array([2], np.int64), b" ", np.empty(64, np.uint8), np.empty(1, np.int64),
                          np.array(word_labels, np.int64), b"/n", np.array(label_ends, np.int64))


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
                          np.array([4, 4], np.int64), b"", np.empty(16, np.uint8), np.empty(2, np.int64), *NO_LABELS)


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
                          np.empty(1, np.int64), *NO_LABELS)


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


# --- a long line's pieces go out as they come (bounded memory) --------------------

STYLES = {"text": (b"", b"/", b"\n"), "jsonl": (b'{"tokens": [', b", ", b"]}\n")}  # head, separator, tail


@pytest.mark.parametrize("fmt", list(STYLES))
def test_a_pieces_bytes_are_ready_before_its_line_ends(fmt):
    head, separator, tail = STYLES[fmt]
    line_writer = writer.Format(fmt, "/").line_writer()
    line_writer.add(Piece("甲乙", 0, False), b"first")
    assert line_writer.ready() == head + b"first"
    line_writer.add(Piece("  ", 2, False), b"")  # a piece of whitespace alone has no words
    line_writer.add(Piece("丙", 4, False), b"second")
    assert line_writer.ready() == separator + b"second"
    line_writer.add(Piece("", 5, True), b"")
    assert line_writer.ready() == tail
    assert line_writer.ready() == b""


@SETTINGS
@given(st.sampled_from(list(STYLES)),
       st.lists(st.lists(st.tuples(st.sampled_from([b"", b"x", b"yz"]), st.booleans()), min_size=1, max_size=5),
                max_size=5))
def test_ready_bytes_add_up_to_whole_lines_wherever_they_are_taken(fmt, lines):
    # lines: each line's pieces, as (body, whether ready() is called after it).
    head, separator, tail = STYLES[fmt]
    line_writer = writer.Format(fmt, "/").line_writer()
    written = b""
    for pieces in lines:
        for k, (piece_body, take) in enumerate(pieces):
            line_writer.add(Piece("", 0, k == len(pieces) - 1), piece_body)
            if take:
                written += line_writer.ready()
    written += line_writer.ready()
    assert written == b"".join(head + separator.join(b for b, _ in pieces if b) + tail for pieces in lines)


def test_stream_run_writes_a_long_lines_pieces_while_it_is_cut():
    from segcli import stream

    events = []
    pieces = [Piece(text, 4 * k, k == 4) for k, text in enumerate(["第一句。", "第二句。", "第三句。", "第四句。", "完"])]

    def render(batch):
        events.extend(("render", piece.start) for piece in batch)
        return [piece.text.encode() for piece in batch]

    def write(out, data):
        events.append(("write", data))
        out.write(data)

    out = io.BytesIO()
    stream.run(render, pieces, out, writer.Format("text", "/"), batch_chars=1, write=write)
    assert out.getvalue() == "第一句。/第二句。/第三句。/第四句。/完\n".encode()
    # Each piece's bytes are written before the next piece is even cut: no write holds the line.
    assert events[:4] == [("render", 0), ("write", "第一句。".encode()), ("render", 4), ("write", "/第二句。".encode())]
    assert max(len(data) for kind, data in events if kind == "write") < len(out.getvalue()) / 2


def peak_rss_mb(seg_env, source, out) -> float:
    """seg's peak RSS on `source`, in a fresh parent: the peak is seg's own, no earlier child's."""
    measure = ("import resource, subprocess, sys; "
               "r = subprocess.run(sys.argv[1:], stdin=sys.stdin, stdout=sys.stdout); "
               "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
               "sys.exit(r.returncode)")
    with open(source, "rb") as stdin, open(out, "wb") as stdout:
        run = subprocess.run([sys.executable, "-c", measure, *SEG], stdin=stdin, stdout=stdout,
                             stderr=subprocess.PIPE, env=seg_env)
    assert run.returncode == 0, run.stderr
    return int(run.stderr.decode().strip().splitlines()[-1]) / 1024


@pytest.mark.corpus
def test_memory_does_not_grow_with_the_length_of_a_line(tmp_path, seg_env):
    # 8 and 32 MB on one line (~70 s in all on 2 busy cores). While a line's
    # output was held whole, the peak grew with it: 177 and 211 MB here, 1.43 MB
    # a MB of line (40 MB: 233 MB; 150 MB: 484 MB). Pieces written as they come:
    # 150 MB for a 10 or a 40 MB line (40 MB in lines of 100 characters: 139 MB).
    text = dev_text(11_000_000).encode()[:32_000_000].decode("utf-8", "ignore")
    peaks = {}
    for size in (8_000_000, 32_000_000):
        source, out = tmp_path / f"line{size}.txt", tmp_path / f"out{size}.txt"
        source.write_bytes(text.encode()[:size].decode("utf-8", "ignore").encode())
        peaks[size] = peak_rss_mb(seg_env, source, out)
        output = out.read_bytes()
        assert output.count(b"\n") == 1 and output.replace(b" ", b"").rstrip(b"\n") == source.read_bytes()
    growth = (peaks[32_000_000] - peaks[8_000_000]) / 24
    assert growth < 0.25, f"peak RSS {peaks} MB: {growth:.2f} MB more a MB of line"
