"""segcli.files, the one place that turns a file that cannot be opened or read
into a one-line error of the caller's type; and each of its callers, asked to
read the same unreadable paths, saying so in its own words."""

from __future__ import annotations

import pytest

from segcli import corpus, dictfile, files, wordlist
from segcli.errors import CorpusError, DictError, InputError

# How each reader of a user-named file reports one it cannot read.
READERS = {
    "dictionary": (dictfile.parse_dict, DictError, "{name}: cannot read: {reason}"),
    "word list": (wordlist.read_word_list, InputError, "{name}: {reason}"),
    "segmented file": (wordlist.read_segmented, InputError, "{name}: {reason}"),
    "recipe": (corpus.read_recipe, CorpusError, "recipe {name}: {reason}"),
    "corpus": (corpus.read_corpus, CorpusError, "corpus {name}: {reason}"),
}

# (path under tmp_path, or a name the OS cannot take; the reason said)
FAILURES = {
    "missing": ("nope.txt", "No such file or directory"),
    "directory": ("", "Is a directory"),  # tmp_path itself
    "NUL in the name": ("a\0b.txt", "embedded null byte"),
}


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("reader", READERS)
def test_every_reader_says_in_one_line_why_it_cannot_read_a_file(tmp_path, reader, failure):
    read, error, message = READERS[reader]
    name, reason = FAILURES[failure]
    path = tmp_path / name
    if reader == "dictionary" and failure == "directory":
        message, reason = "{name}: {reason}", "is a directory"  # its words since it had them
    with pytest.raises(error) as info:
        read(path)
    assert str(info.value) == message.format(name=path, reason=reason)


def test_a_lexicon_that_is_a_directory_is_one_line(tmp_path):
    with pytest.raises(CorpusError) as info:
        corpus.read_lexicon(tmp_path)
    assert str(info.value) == f"lexicon {tmp_path}: Is a directory"


@pytest.mark.parametrize(
    ("content", "start"),
    [
        (b"\xff", 0),
        (b"ok\n" * 5000 + b"\xc3", 15000),  # counted from the start of the file, not of a buffer
        (b"\xe4\xbd\xa0\xe5\xa5", 3),
    ],
)
def test_invalid_utf8_names_the_byte_from_the_start_of_the_file(tmp_path, content, start):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        files.read_text(path, InputError)
    assert str(info.value) == f"{path}: invalid UTF-8 at byte {start}"


def test_read_text_keeps_line_ends_and_a_bom_unless_told(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("\ufeffa\r\nb\rc".encode())
    assert files.read_text(path, InputError) == "\ufeffa\r\nb\rc"
    assert files.read_text(path, InputError, encoding="utf-8-sig") == "a\r\nb\rc"


@pytest.mark.parametrize("opener", [files.open_binary, files.open_for_writing])
def test_opening_fails_as_the_callers_error_type(tmp_path, opener):
    with pytest.raises(DictError, match=r"^x: \S.*tmp"):
        opener(tmp_path, DictError, "x: {reason} ({name})")
    with pytest.raises(InputError, match="^None: "):
        opener(None, InputError)


def test_opened_files_are_binary(tmp_path):
    path = tmp_path / "w.bin"
    with files.open_for_writing(path, InputError) as f:
        f.write(b"\0\xff")
    with files.open_binary(path, InputError) as f:
        assert f.read() == b"\0\xff"
