"""Read stage: lines in bounded pieces, every byte kept."""

import io
import subprocess

import pytest
from conftest import SEG, dev_text, run
from hypothesis import example, given, settings
from hypothesis import strategies as st

from segcli.reader import PIECE_BYTES, read_lines, read_pieces

text_strategy = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\n"), max_size=400
)


@settings(max_examples=150, deadline=None)
@given(st.lists(text_strategy, max_size=5), st.integers(8, 64), st.binary(max_size=20))
def test_pieces_put_back_together_are_the_lines(lines, piece_bytes, junk):
    data = "\n".join(lines).encode() + junk
    pieces = list(read_pieces(io.BytesIO(data), piece_bytes))
    joined, line = [], []
    for piece in pieces:
        assert piece.start == sum(map(len, line))
        line.append(piece.text)
        if piece.ends_line:
            joined.append("".join(line))
            line = []
    assert not line
    kept = data[3:] if data.startswith(b"\xef\xbb\xbf") else data  # a leading BOM is dropped
    *ended, last = kept.decode("utf-8", "surrogateescape").split("\n")
    expected = [x[:-1] if x.endswith("\r") else x for x in ended] + ([last] if last else [])
    assert joined == expected
    if not junk:  # valid UTF-8 is never cut inside a character
        assert not any("\udc80" <= ch <= "\udcff" for p in pieces for ch in p.text)


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"", []),
        (b"\n", [""]),
        (b"a\r\nb", ["a", "b"]),
        (b"\xef\xbb\xbfa\n\xef\xbb\xbfb\n", ["a", "\ufeffb"]),  # only a leading BOM is dropped
        (b"\xff\xfe\n", ["\udcff\udcfe"]),
    ],
)
def test_read_lines(data, lines):
    assert list(read_lines(io.BytesIO(data))) == lines


def test_a_long_line_in_pieces_matches_the_whole_line_away_from_the_cuts(segmenter):
    line = dev_text(20_000)
    pieces = list(read_pieces(io.BytesIO(line.encode()), piece_bytes=4096))
    assert len(pieces) > 10
    cuts = [p.start for p in pieces[1:]]

    def spans(out: bytes) -> set:
        words = out.decode().rstrip("\n").split(" ")
        ends = [0]
        for w in words:
            ends.append(ends[-1] + len(w))
        return {(a, b) for a, b in zip(ends, ends[1:]) if all(b <= c - 20 or a >= c + 20 for c in cuts)}

    whole, in_pieces = io.BytesIO(), io.BytesIO()
    run(segmenter, [line], whole)
    run(segmenter, pieces, in_pieces)
    assert in_pieces.getvalue().count(b"\n") == 1
    assert in_pieces.getvalue().replace(b" ", b"") == whole.getvalue().replace(b" ", b"")
    assert spans(in_pieces.getvalue()) == spans(whole.getvalue())


def test_jsonl_offsets_run_on_across_pieces(segmenter):
    import json

    line = dev_text(3_000)
    out = io.BytesIO()
    run(segmenter, list(read_pieces(io.BytesIO(line.encode()), piece_bytes=1024)), out, fmt="jsonl")
    (record,) = [json.loads(x) for x in out.getvalue().splitlines()]
    assert all(line[t["start"] : t["end"]] == t["word"] for t in record["tokens"])
    assert "".join(t["word"] for t in record["tokens"]) == line


# --- the same text is cut the same whatever its line ending ---------------------------

# Atoms a cut inside a piece boundary would break, and plain text.
TEXTS = [
    "价格是1,000元",
    "访问https://example.com/a,b?x=1,y=2了解详情",
    "他用iPhone拍照,然后发给Alice",
    "今天😀很开心👍🏽,真的",
    "2024年GDP增长5.2%，全年进出口总额约41.8万亿元。",
    "扫描二维码，关注微信号。\n价格是1,000元",  # only the last line's ending varies
]
ENDINGS = {"none": "", "LF": "\n", "CRLF": "\r\n"}


def _pieces(data: bytes, piece_bytes: int = PIECE_BYTES) -> list:
    return list(read_pieces(io.BytesIO(data), piece_bytes))


@pytest.mark.parametrize("ending", ["none", "CRLF"])
def test_seg_cuts_a_last_line_the_same_whatever_its_ending(tmp_path, seg_env, ending):
    def seg(line_end: str) -> bytes:
        files = []
        for number, text in enumerate(TEXTS):
            path = tmp_path / f"{line_end.encode().hex()}-{number}.txt"
            path.write_bytes((text.replace("\n", line_end or "\n") + line_end).encode())
            files.append(str(path))
        proc = subprocess.run(SEG + files, env=seg_env, capture_output=True, timeout=120)
        assert (proc.returncode, proc.stderr) == (0, b"")
        return proc.stdout

    expected = seg("\n")
    assert expected.count(b"\n") == sum(text.count("\n") + 1 for text in TEXTS)
    assert b"1,000" in expected and b"https://example.com/a,b?x=1,y=2" in expected
    assert seg(ENDINGS[ending]) == expected


@pytest.mark.parametrize("piece_bytes", [8, 16, 64, PIECE_BYTES])
@pytest.mark.parametrize("ending", ["none", "CRLF"])
@pytest.mark.parametrize("text", TEXTS)
def test_stream_cuts_a_line_the_same_whatever_its_ending(segmenter, text, ending, piece_bytes):
    def cut(line_end: str) -> bytes:
        out = io.BytesIO()
        data = (text.replace("\n", line_end or "\n") + line_end).encode()
        run(segmenter, read_pieces(io.BytesIO(data), piece_bytes), out)
        return out.getvalue()

    assert cut(ENDINGS[ending]) == cut("\n")


@pytest.mark.parametrize("extra", [-2, -1, 0, 1, 2])
@pytest.mark.parametrize("piece_bytes", [64, PIECE_BYTES])
def test_a_line_about_a_piece_long_is_cut_the_same_whatever_its_ending(extra, piece_bytes):
    tail = "价格是1,000元".encode()
    filler = ("扫描二维码，关注微信号。" * (piece_bytes // 10)).encode()
    line = filler[: piece_bytes + extra - len(tail)] + tail  # may end inside a character: a byte is a byte
    expected = _pieces(line + b"\n", piece_bytes)
    for ending in (b"", b"\r\n"):
        assert _pieces(line + ending, piece_bytes) == expected
    if len(line) <= piece_bytes:  # a line that fits in a piece is never cut
        assert len(expected) == 1


terminated_line = st.binary(max_size=90).filter(
    lambda line: b"\n" not in line and not line.endswith(b"\r") and not line.startswith(b"\xef\xbb\xbf")
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(terminated_line, st.sampled_from([b"\n", b"\r\n"])), min_size=1, max_size=6),
       st.booleans(), st.integers(1, 40))
@example([(b"12,000", b"\r\n")], True, 7)  # the "\r" fills a piece, the "\n" is the next read
@example([(b"12,000", b"\n")], True, 6)  # the text fills the piece exactly
def test_each_line_is_cut_as_if_read_alone_and_ended_by_a_newline(lines, last_ends, piece_bytes):
    """Reference: every line on its own, ended by "\\n". Neither its
    terminator nor what comes before or after it may move a piece boundary."""
    data = b"".join(line + end for line, end in lines)
    if not last_ends:
        data = data[: -len(lines[-1][1])]
    expected = [piece for line, _ in lines for piece in _pieces(line + b"\n", piece_bytes)]
    if not last_ends and not lines[-1][0]:  # an empty last line without a terminator is no line
        expected.pop()
    assert _pieces(data, piece_bytes) == expected
    for line, _ in lines:
        if len(line) <= max(piece_bytes, 2):
            assert len(_pieces(line + b"\n", piece_bytes)) == 1
