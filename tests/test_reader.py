"""Read stage: lines in bounded pieces, every byte kept."""

import io

import pytest
from conftest import dev_text, run
from hypothesis import given, settings
from hypothesis import strategies as st

from segcli.reader import read_lines, read_pieces

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
