"""Fuzzing the dictionary parser and the CLI's input path with hypothesis.

CI runs a few hundred examples each; a longer campaign is

    SEG_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py

Inputs that once broke seg are pinned below with @example.
"""

import io
import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from segcli.dictionary import DictError, UserDictionary, load_dicts
from segcli.reader import read_pieces
from conftest import run

EXAMPLES = int(os.environ.get("SEG_FUZZ_EXAMPLES", "150"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Bytes that look like dictionaries and text: CJK, separators, digits, BOMs,
# line ends, invalid UTF-8.
PIECES = ["微", "信", "号", "科学", ",", "，", "#", " ", "\t", "\r", "\n", "0", "1", "0.5", "force", "inf",
          "nan", "-", "e", "\ufeff", "\x00", "😀"]
bytes_like_text = st.one_of(
    st.binary(max_size=200),
    st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=3)), max_size=60).map(
        lambda parts: b"".join(p.encode() if isinstance(p, str) else p for p in parts)
    ),
)


@fuzz
@given(bytes_like_text)
@example(b"\xef\xbb\xbf")
@example(b"a,1\r\na,2\n")
def test_dictionary_parser_accepts_or_reports_one_line(tmp_path, data):
    path = tmp_path / "d.txt"
    path.write_bytes(data)
    try:
        entries, duplicates = load_dicts([path])
    except DictError as e:
        message = str(e)
        assert message.startswith(str(path)) and "\n" not in message
        return
    assert duplicates <= data.count(b"\n")  # only a second line for a word is a duplicate
    UserDictionary(entries)  # whatever parses also compiles


def _nonspace(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


@fuzz
@given(bytes_like_text, st.integers(4, 64), st.sampled_from(["text", "jsonl"]))
@example(b"a\n\xef\xbb\xbfb\n", 64, "text")  # a BOM inside: once broke the word features
@example(b"\xe5\xad\x97" * 30, 8, "text")  # a line cut into pieces between characters
def test_input_path_is_lossless(segmenter, data, piece_bytes, fmt):
    out = io.BytesIO()
    run(segmenter, read_pieces(io.BytesIO(data), piece_bytes), out, fmt=fmt)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    lines = body.decode("utf-8", "surrogateescape").split("\n")
    if lines[-1] == "":
        lines.pop()
    produced = out.getvalue().decode("utf-8", "surrogateescape").split("\n")
    assert produced.pop() == ""
    assert len(produced) == len(lines)
    if fmt == "text":
        assert [_nonspace(p) for p in produced] == [_nonspace(x) for x in lines]


@fuzz
@given(
    st.dictionaries(st.text("微信号科学空间", min_size=1, max_size=4),
                    st.one_of(st.floats(0, 100), st.just("force")), max_size=6),
    st.text("微信号科学空间，。 ", max_size=40),
)
def test_any_dictionary_keeps_every_character(segmenter, entries, text):
    from segcli import Segmenter

    custom = Segmenter(threads=1)
    for word, multiplier in entries.items():
        custom.add_word(word, multiplier)
    words = custom.cut(text)
    assert "".join(words) == _nonspace(text)
    assert all(w and not any(ch.isspace() for ch in w) for w in words)
