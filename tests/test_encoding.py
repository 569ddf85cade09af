"""Input and output in other encodings than UTF-8 (--encoding), and the
warning for an input that looks like one: every byte kept, whatever it is."""

import io
import re
import subprocess

import pytest
from conftest import SEG
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from segcli import stream
from segcli.writer import Format
from segcli.encoding import EncodedOutput, encoded_output
from segcli.errors import InputError
from segcli.reader import ForeignInput, check_encoding, looks_foreign, read_inputs, read_pieces

TEXT = "扫描二维码，关注微信号。\n2024年GDP增长5.2%，约41.8万亿元。\r\n价格是1,000元"
TRADITIONAL = "掃描二維碼，關注微信號。\n2024年增長5.2%，約41.8萬億元。\r\n價格是1,000元"  # for Big5


def as_is(pieces):
    """A renderer that writes each piece's text as it is (no words): what
    comes out is what the reader read."""
    return [piece.text.encode("utf-8", "surrogateescape") for piece in pieces]


def through(data: bytes, encoding: str, piece_bytes: int = 1 << 18) -> bytes:
    """`data` read in `encoding`, written back in it (the pieces of a long
    line joined by nothing)."""
    out = io.BytesIO()
    with encoded_output(out, encoding) as encoded:
        stream.run(as_is, read_pieces(io.BytesIO(data), piece_bytes, encoding=encoding), encoded, Format("text", ""))
    return out.getvalue()


# --- telling UTF-8 from what is not ---------------------------------------------------

@pytest.mark.parametrize(("sample", "guess"), [
    (b"", None),
    (b"plain ASCII\n", None),
    (TEXT.encode(), None),
    (TEXT.encode() + b"\xff", None),  # a stray byte or three in UTF-8
    (b"\xff" + TEXT.encode()[:-1] + b"\xfe\x80", None),
    (TEXT.encode()[:-1], None),  # a character cut short at the end of the sample
    (TEXT.encode("gbk"), "gbk"),
    ("你好\n".encode("gbk"), "gbk"),
    ((TEXT + "𠀀").encode("gb18030"), "gb18030"),  # not in GBK
    (TEXT.encode("utf-16"), "utf-16"),  # a BOM
    (TEXT.encode("utf-16-le"), "utf-16-le"),
    (TEXT.encode("utf-16-be"), "utf-16-be"),
    ("Ça coûte 1 000 € à l'été, déjà.\n".encode("cp1252"), ""),  # not UTF-8, not GBK either
])
def test_looks_foreign(sample, guess):
    assert looks_foreign(sample) == guess


@pytest.mark.parametrize(("guess", "message"), [
    ("gbk", "a.txt does not look like UTF-8 (it may be GBK): what is not UTF-8 in it is passed through uncut; "
            "try --encoding gbk"),
    ("", "a.txt does not look like UTF-8: what is not UTF-8 in it is passed through uncut; "
         "name its encoding with --encoding"),
])
def test_foreign_input_says_what_to_do_in_one_line(guess, message):
    assert str(ForeignInput("a.txt", guess)) == message


def test_read_inputs_warns_once_a_file_and_only_for_a_foreign_one(tmp_path):
    files = {"gbk.txt": (TEXT * 50).encode("gbk"), "utf8.txt": (TEXT * 50).encode(),
             "utf16.txt": (TEXT * 50).encode("utf-16"), "stray.txt": TEXT.encode() + b"\xff\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    warnings = []
    names = [str(tmp_path / name) for name in files]
    pieces = list(read_inputs(names, warn=warnings.append))
    assert warnings == [ForeignInput(names[0], "gbk"), ForeignInput(names[2], "utf-16")]
    lines = sum(data.count(b"\n") + (not data.endswith(b"\n")) for data in files.values())
    assert len([piece for piece in pieces if piece.ends_line]) == lines  # every line is read
    warnings.clear()
    list(read_inputs(names[:1], encoding="gbk", warn=warnings.append))  # named: no guessing
    assert warnings == []


# --- reading and writing other encodings ----------------------------------------------

@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "big5"])
@pytest.mark.parametrize("piece_bytes", [8, 1 << 18])
def test_other_encodings_are_read_as_text_and_written_back_byte_for_byte(encoding, piece_bytes):
    text = TRADITIONAL if encoding == "big5" else TEXT
    data = text.encode(encoding)
    lines = ["".join(p.text for p in line) for line in _lines(read_pieces(io.BytesIO(data), piece_bytes,
                                                                          encoding=encoding))]
    assert lines == text.replace("\r\n", "\n").split("\n")
    assert through(data, encoding, piece_bytes) == (text.replace("\r\n", "\n") + "\n").encode(encoding)


def _lines(pieces):
    line = []
    for piece in pieces:
        line.append(piece)
        if piece.ends_line:
            yield line
            line = []


@pytest.mark.parametrize("ending", ["", "\n", "\r\n"])
def test_other_encodings_cut_a_last_line_the_same_whatever_its_ending(ending):
    expected = list(read_pieces(io.BytesIO(("x" * 20 + "价格是1,000元\n").encode("utf-16")), 16,
                                encoding="utf-16"))
    got = list(read_pieces(io.BytesIO(("x" * 20 + "价格是1,000元" + ending).encode("utf-16")), 16,
                           encoding="utf-16"))
    assert got == expected


line_of_bytes = st.binary(max_size=40).filter(lambda line: b"\n" not in line and not line.endswith(b"\r"))


@settings(max_examples=200, deadline=None)
@given(st.lists(line_of_bytes, min_size=1, max_size=6), st.sampled_from(["gbk", "gb18030", "big5", "cp1252",
                                                                         "shift_jis"]),
       st.integers(2, 30))
def test_any_bytes_come_back_as_they_were_or_are_a_one_line_error(lines, encoding, piece_bytes):
    data = b"\n".join(lines) + b"\n"
    assume(not data.decode(encoding, "replace").startswith("\ufeff"))  # a leading BOM is dropped
    try:
        assert through(data, encoding, piece_bytes) == data
    except InputError as e:  # undecodable bytes that would read as UTF-8 text, once a delimiter "" joins them
        number, bad = re.match(r"line (\d+): bytes ([0-9a-f ]+) are not ", str(e)).groups()
        line = lines[int(number) - 1]
        assert all(bytes.fromhex(byte) in line for byte in bad.split()) and "\n" not in str(e)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=20).map(lambda b: b[: len(b) // 2 * 2]), min_size=1, max_size=6),
       st.sampled_from(["utf-16-le", "utf-16-be"]))
def test_utf16_bytes_come_back_as_they_were_or_are_a_one_line_error(units, encoding):
    newline = "\n".encode(encoding)
    lines = [b"".join(line[k:k + 2] for k in range(0, len(line), 2) if line[k:k + 2] not in (newline, b"\x0d\x00"[
        ::1 if encoding == "utf-16-le" else -1])) for line in units]
    data = newline.join(lines) + newline
    assume(not data.decode(encoding, "replace").startswith("\ufeff"))
    try:
        assert through(data, encoding) == data
    except InputError as e:
        assert str(e).startswith("line ") and "\n" not in str(e)


@pytest.mark.parametrize(("data", "message"), [
    (b"a\x00\n\x00\x00\xd8b\x00", "line 2: not utf-16-le (illegal UTF-16 surrogate: bytes 00 d8)"),
    (b"a\x00\n\x00b", "line 2: not utf-16-le (truncated data: bytes 62)"),
    # Two broken code units whose bytes read as UTF-8 (U+0700) in the output, before it is encoded again.
    (b"a\x00\n\x00\x80\xdc\x80\xdc", "line 2: bytes 80 dc 80 dc are not utf-16-le"),
])
def test_utf16_bytes_that_cannot_be_kept_are_a_one_line_error(data, message):
    with pytest.raises(InputError) as raised:
        through(data, "utf-16-le")
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_bytes_that_would_read_as_utf8_text_the_encoding_has_are_a_one_line_error():
    with pytest.raises(InputError, match=r"^line 2: bytes c2 a7 are not gbk, and seg cannot keep them "
                                         r"\(together they read as UTF-8 for '§'\)$"):
        through(b"a\n\xc2 \xa7\n", "gbk")  # a delimiter "" would join them


@pytest.mark.parametrize("broken", [b"\x81", b"\x80\xdc", b"\x80\xdc\x00\xdc"[:2] + b"a\x00" + b"\x80\xdc"])
def test_broken_utf16_bytes_of_80_or_above_are_kept(broken):
    data = "a\n".encode("utf-16-le") + broken
    assert through(data, "utf-16-le") == data + "\n".encode("utf-16-le")


@pytest.mark.parametrize(("data", "encoding"), [
    (b"\xc2\x80\n", "big5"),  # not Big5; reads as U+0080 in UTF-8, which Big5 lacks
    (b"\xc2 \x80\n", "gbk"),
    (b"\xc2\n\xa7\n", "gbk"),  # U+00A7 is in GBK, but a line's end stays between them
])
def test_bytes_that_are_not_the_encoding_and_read_as_utf8_it_lacks_are_kept(data, encoding):
    assert through(data, encoding) == data


def test_a_delimiter_the_output_encoding_lacks_is_a_one_line_error():
    with pytest.raises(InputError, match=r"^the delimiter ' 😀 ' cannot be written in gbk \('😀' is not in it\)$"):
        EncodedOutput(io.BytesIO(), "gbk", " 😀 ")


@pytest.mark.parametrize(("name", "expected"), [
    ("utf-8", "utf-8"), ("UTF8", "utf-8"), ("utf_8", "utf-8"), ("utf-8-sig", "utf-8"),
    ("GBK", "gbk"), ("gb2312", "gb2312"), ("GB18030", "gb18030"), ("UTF-16", "utf-16"), ("latin-1", "iso8859-1"),
])
def test_check_encoding_names_the_codec(name, expected):
    assert check_encoding(name) == expected


@pytest.mark.parametrize(("name", "message"), [
    ("nope", "unknown encoding: nope"),
    ("base64", "unknown encoding: base64"),  # a codec, but not of text
    ("", "unknown encoding: "),
    ("hz", "unsupported encoding: hz"),
    ("iso2022_jp", "unsupported encoding: iso2022_jp"),
    ("utf-7", "unsupported encoding: utf-7"),
    ("cp500", "unsupported encoding: cp500"),  # EBCDIC
])
def test_check_encoding_refuses_what_it_cannot_read_losslessly(name, message):
    with pytest.raises(InputError) as raised:
        check_encoding(name)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_utf8_output_is_the_stream_itself():
    out = io.BytesIO()
    with encoded_output(out, "UTF8") as encoded:
        assert encoded is out


# --- the command ---------------------------------------------------------------------

def seg(seg_env, *args, input=b""):
    return subprocess.run(SEG + list(args), input=input, env=seg_env, capture_output=True, timeout=120)


def _nonspace(data: bytes) -> bytes:
    return re.sub(rb"\s", b"", data)


@pytest.fixture(scope="module")
def cut_in_utf8(tmp_path_factory, seg_env):
    """seg's output for TEXT (and its Big5 twin) in UTF-8, by format."""
    path = tmp_path_factory.mktemp("utf8") / "text.txt"
    cuts = {}
    for name, text in (("simplified", TEXT), ("traditional", TRADITIONAL)):
        path.write_bytes(text.encode("utf-8"))  # as written: no newline translation
        for fmt in ("text", "jsonl"):
            proc = seg(seg_env, "--format", fmt, str(path))
            assert (proc.returncode, proc.stderr) == (0, b"")
            cuts[name, fmt] = proc.stdout.decode()
    return cuts


def test_foreign_files_are_passed_through_with_one_warning_each(tmp_path, seg_env):
    files = {"a.txt": TEXT.encode("gbk"), "b.txt": TEXT.encode(), "c.txt": (TEXT * 3).encode("gbk"),
             "d.txt": TEXT.encode("utf-16"), "e.txt": TEXT.encode() + b"\xff\n"}  # e: one stray byte in UTF-8
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    proc = seg(seg_env, *(str(tmp_path / name) for name in files))
    assert proc.returncode == 0
    assert proc.stderr.decode().splitlines() == [
        f"seg: warning: {tmp_path / 'a.txt'} does not look like UTF-8 (it may be GBK): what is not UTF-8 in it is "
        "passed through uncut; try --encoding gbk",
        f"seg: warning: {tmp_path / 'c.txt'} does not look like UTF-8 (it may be GBK): what is not UTF-8 in it is "
        "passed through uncut; try --encoding gbk",
        f"seg: warning: {tmp_path / 'd.txt'} does not look like UTF-8 (it may be UTF-16): what is not UTF-8 in it "
        "is passed through uncut; try --encoding utf-16",
    ]
    assert _nonspace(proc.stdout) == _nonspace(b"".join(data + b"\n" for data in files.values()))


def test_foreign_standard_input_is_named_so(seg_env):
    proc = seg(seg_env, input=TEXT.encode("gbk"))
    assert proc.returncode == 0
    assert proc.stderr.decode() == ("seg: warning: standard input does not look like UTF-8 (it may be GBK): what "
                                    "is not UTF-8 in it is passed through uncut; try --encoding gbk\n")
    assert _nonspace(proc.stdout) == _nonspace(TEXT.encode("gbk"))


@pytest.mark.parametrize(("encoding", "text"), [("gbk", "simplified"), ("GB18030", "simplified"),
                                                ("utf-16", "simplified"), ("utf-16-be", "simplified"),
                                                ("big5", "traditional")])
@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_encoding_cuts_as_utf8_is_cut_and_writes_in_the_encoding(tmp_path, seg_env, cut_in_utf8, encoding, text,
                                                                 fmt):
    path = tmp_path / "in.txt"
    path.write_bytes((TEXT if text == "simplified" else TRADITIONAL).encode(encoding))
    proc = seg(seg_env, "--encoding", encoding, "--format", fmt, str(path))
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert proc.stdout.decode(encoding) == cut_in_utf8[text, fmt]


@pytest.mark.parametrize("args", [["-o", "{out}"], ["--jobs", "2"], ["--batch-chars", "3"]])
def test_encoding_with_output_file_and_jobs(tmp_path, seg_env, cut_in_utf8, args):
    path, out = tmp_path / "in.txt", tmp_path / "out.txt"
    path.write_bytes(TEXT.encode("gbk"))
    proc = seg(seg_env, "--encoding", "gbk", *(arg.format(out=out) for arg in args), str(path))
    assert (proc.returncode, proc.stderr) == (0, b"")
    written = out.read_bytes() if "-o" in args else proc.stdout
    assert written.decode("gbk") == cut_in_utf8["simplified", "text"]


@pytest.mark.parametrize(("args", "data", "message"), [
    (["--encoding", "nope"], b"", "unknown encoding: nope"),
    (["--encoding", "base64"], b"", "unknown encoding: base64"),
    (["--encoding", "hz"], b"", "unsupported encoding: hz (seg reads encodings in which ASCII is always ASCII, "
                                "and UTF-16 and UTF-32)"),
    (["--encoding", "gbk", "-d", "😀"], b"", "the delimiter '😀' cannot be written in gbk ('😀' is not in it)"),
    (["--encoding", "utf-16-le"], "好\n".encode("utf-16-le") + b"\x00\xd8a\x00",
     "standard input: line 2: not utf-16-le (illegal UTF-16 surrogate: bytes 00 d8), and seg cannot keep these "
     "bytes"),
])
def test_encoding_errors_are_one_line(seg_env, args, data, message):
    proc = seg(seg_env, *args, input=data)
    assert proc.returncode == 1
    assert proc.stderr.decode() == f"seg: error: {message}\n"


def test_named_utf8_is_the_plain_path(seg_env):
    data = TEXT.encode() + b"\xff\xfe\n"
    plain, named = seg(seg_env, input=data), seg(seg_env, "--encoding", "UTF8", input=data)
    assert (named.returncode, named.stderr, named.stdout) == (0, b"", plain.stdout)
    assert _nonspace(plain.stdout) == _nonspace(data)
