"""The Python API: text preservation, determinism, windowing, add_word, threads."""

import io
import math
import subprocess
import threading

import numpy as np
import pytest
from conftest import DEV_LINES, ROOT, dev_text, python_c, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import segcli.score
from segcli import Segmenter, stream
from segcli.dictionary import DictError

# --- the text-preservation property -------------------------------------------

SPECIAL = (
    "扫描二维码关注微信号中国经济发展的良好势头"  # CJK
    "𠀀𠀁𪚥𫝀"  # CJK extension B and beyond (outside the BMP)
    "ＡＢｃ１２３，。！？　"  # full-width forms, ideographic space
    "abcXYZ0123.,;-"  # Latin, digits, ASCII punctuation
    "😀👍🏽\u200d❤️"  # emoji, a skin-tone modifier, ZWJ, variation selector
    "e\u0301a\u0308\u20dd"  # combining marks
    "مرحباשלום\u200f\u202e"  # RTL scripts and bidi controls
    "\x00\x01\x07\x1b\x7f\x80\x9f"  # control characters, NUL
    " \t\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u205f\u3000"  # whitespace
    "\ufeff\ufffd\uffff"  # BOM inside a line, replacement char, noncharacter
)
# Any code point except "\n" (lines are split on it) and lone surrogates,
# which are not text (run() covers the surrogateescape ones separately).
chars = st.one_of(
    st.sampled_from(SPECIAL),
    st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)),
)
lines_strategy = st.lists(st.text(chars, max_size=40), max_size=8)
ESCAPES = "\udc80\udcff\udce4"  # invalid UTF-8 bytes as surrogateescape decodes them


def check_line(line: str, words: list[str]) -> None:
    """Every non-whitespace character once, in order, unchanged; no word spans
    whitespace, so the words tile each whitespace-separated run exactly."""
    runs = line.split()  # str.split() splits on exactly the str.isspace() characters
    assert all(w and not any(c.isspace() for c in w) for w in words), words
    i = 0
    for run_ in runs:
        pos = 0
        while pos < len(run_):
            assert i < len(words), (line, words)
            assert run_.startswith(words[i], pos), (line, words)
            pos += len(words[i])
            i += 1
    assert i == len(words), (line, words)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines_strategy)
def test_api_keeps_every_character(segmenter, lines):
    result = list(segmenter.cut_lines(lines))
    assert len(result) == len(lines)
    for line, words in zip(lines, result):
        check_line(line, words)
    spans = [s for batch in stream.pipe(lines, segmenter._spans_batch, threads=segmenter.threads) for s in batch]
    assert [line for line, _ in spans] == lines
    for (line, offsets), words in zip(spans, result):
        assert [line[a:b] for a, b in offsets] == words
        assert all(a < b for a, b in offsets)
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(offsets, offsets[1:]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(st.one_of(chars, st.sampled_from(ESCAPES)), max_size=40), max_size=8),
       delimiter=st.sampled_from([" ", "/", " | ", "\t"]))
def test_run_keeps_every_character(segmenter, lines, delimiter):
    out = io.BytesIO()
    run(segmenter, lines, out, delimiter=delimiter)
    data = out.getvalue()
    assert data.count(b"\n") == len(lines)
    assert data.endswith(b"\n") or not lines
    # Compared as bytes: escapes that spell valid UTF-8 together (\udce4\udc80\udc80)
    # are written as those bytes, which read back as a character (䀀).
    got = data.split(b"\n")[:-1]
    for line, out_line in zip(lines, got):
        expected = delimiter.join(segmenter.cut(line)).encode("utf-8", "surrogateescape")
        assert out_line == expected
        check_line(line, segmenter.cut(line))


@pytest.mark.parametrize("line, words", [
    ("", []),
    ("   \t\u3000 ", []),
    ("中", ["中"]),
    (" 中 ", ["中"]),
    ("a b", ["a", "b"]),
    ("中\u3000国", ["中", "国"]),
    ("𠀀", ["𠀀"]),
    ("\x00", ["\x00"]),
    ("a\udc80", None),  # one run of two characters: one or two words
])
def test_fixed_cases(segmenter, line, words):
    got = segmenter.cut(line)
    check_line(line, got)
    if words is not None:
        assert got == words


def test_empty_lines_are_kept(segmenter):
    lines = ["", "扫描二维码", "", "", " ", "关注"]
    result = list(segmenter.cut_lines(lines))
    assert len(result) == len(lines)
    assert result[0] == result[2] == result[3] == result[4] == []


# --- determinism ---------------------------------------------------------------

MIXED = [*DEV_LINES, "", "  ", "a\udc80b 中文", "𠀀𠀁微信号", "x" * 300, dev_text(3000)]


@pytest.mark.parametrize("batch_chars", [1, 7, 100, 5000, None])
def test_batching_does_not_change_output(segmenter, batch_chars):
    expected = [segmenter.cut(line) for line in MIXED]
    kwargs = {} if batch_chars is None else {"batch_chars": batch_chars}
    assert list(segmenter.cut_lines(MIXED, **kwargs)) == expected
    assert list(segmenter.cut_lines(MIXED[::-1], **kwargs)) == expected[::-1]


@pytest.mark.parametrize("window", [64, 300, None])  # None: the shipped _WINDOW
def test_long_line_equals_unwindowed(segmenter, monkeypatch, window):
    line = dev_text(10_500) + " 扫描 二维码 " + dev_text(500)
    assert len(line) > segcli.score.WINDOW
    if window is not None:
        monkeypatch.setattr(segcli.score, "WINDOW", window)
    windowed = segmenter.cut(line)
    monkeypatch.setattr(segcli.score, "WINDOW", 10**6)
    assert segmenter.cut(line) == windowed
    check_line(line, windowed)


# --- add_word -----------------------------------------------------------------

TEXT = "扫描二维码，关注微信号。"


@pytest.mark.parametrize("word, multiplier, check", [
    ("微信号", 1e6, lambda words: "微信号" in words),
    ("微信号", "force", lambda words: "微信号" in words),
    ("微信号", "FORCE", lambda words: "微信号" in words),
    ("微信号", math.inf, lambda words: "微信号" in words),
    ("码，关注微", "force", lambda words: "码，关注微" in words),  # no model would pick this
    ("二", "force", lambda words: "二" in words),
    ("二维码", 0, lambda words: "二维码" not in words),
    ("扫描", 0, lambda words: "扫描" not in words),
])
def test_add_word(word, multiplier, check):
    s = Segmenter()
    s.add_word(word, multiplier)
    words = s.cut(TEXT)
    check_line(TEXT, words)
    assert check(words), words


def test_add_word_later_call_wins_and_forbid_then_force():
    s = Segmenter()
    s.add_word("码，关", 0)
    s.add_word("码，关", "force")
    assert "码，关" in s.cut(TEXT)
    s.add_word("码，关", 0)
    assert "码，关" not in s.cut(TEXT)


def test_forced_words_beyond_the_bmp():
    # Offsets are code points: a forced word after astral characters must
    # still land on the right characters.
    s = Segmenter()
    s.add_word("信号𠀀", "force")
    line = "😀𠀀𠁀关注微信号𠀀。"
    words = s.cut(line)
    check_line(line, words)
    assert "信号𠀀" in words


@pytest.mark.parametrize("word, multiplier", [
    ("", 10), ("a b", 10), ("a\nb", 10), ("a\u3000b", 10), (None, 10), (b"ab", 10), (3, 10),
    ("ab", -1), ("ab", float("nan")), ("ab", "many"), ("ab", ""), ("ab", [1]),
])
def test_invalid_add_word_raises(word, multiplier):
    s = Segmenter()
    before = s.cut(TEXT)
    with pytest.raises(DictError):
        s.add_word(word, multiplier)
    assert s.cut(TEXT) == before


def test_dictionary_file(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("# comment\n码，关注微,force\n", encoding="utf-8")
    assert "码，关注微" in Segmenter(dicts=[path]).cut(TEXT)


# --- remove_word ----------------------------------------------------------------

def test_remove_word_returns_the_model_to_itself():
    segmenter = Segmenter()
    plain = segmenter.cut(TEXT)
    segmenter.add_word("码，关注微", "force")
    assert "码，关注微" in segmenter.cut(TEXT)
    assert segmenter.remove_word("码，关注微") is True
    assert segmenter.cut(TEXT) == plain
    assert segmenter.remove_word("码，关注微") is False  # not there: a no-op
    assert segmenter.remove_word("从未加过") is False


def test_dictionary_applies_to_the_lookup_form():
    segmenter = Segmenter()
    segmenter.add_word("码，关注微", "force")  # simplified entry, traditional text
    assert "碼，關注微" in segmenter.cut("扫描二維碼，關注微信號。")
    segmenter.add_word("二維碼，關", "force")  # traditional entry, simplified text
    assert "二维码，关" in segmenter.cut("扫描二维码，关注微信号。")


def test_concurrent_cuts_see_one_dictionary_or_the_other():
    segmenter = Segmenter(threads=1)
    lines = [dev_text(40 + 7 * k)[: 30 + 7 * k] for k in range(12)]
    word = "码，关注微"
    without = [segmenter.cut(line) for line in lines]
    segmenter.add_word(word, "force")
    with_word = [segmenter.cut(line) for line in lines]
    assert with_word != without  # the word makes a difference on these lines
    segmenter.remove_word(word)
    stop = threading.Event()
    failures: list = []

    def toggle():
        while not stop.is_set():
            segmenter.add_word(word, "force")
            segmenter.remove_word(word)

    def cut():
        try:
            for _ in range(30):
                for k, line in enumerate(lines):
                    assert segmenter.cut(line) in (without[k], with_word[k]), line
                for k, words in enumerate(segmenter.cut_lines(lines)):
                    assert words in (without[k], with_word[k])
        except BaseException as e:  # reported by the main thread
            failures.append(e)

    toggler = threading.Thread(target=toggle)
    cutters = [threading.Thread(target=cut) for _ in range(8)]
    toggler.start()
    for thread in cutters:
        thread.start()
    for thread in cutters:
        thread.join()
    stop.set()
    toggler.join()
    assert failures == []


# --- threads -----------------------------------------------------------------

def test_shared_by_threads(segmenter):
    lines = [*DEV_LINES, dev_text(2500), "", "𠀀 abc"] * 3
    serial = [segmenter.cut(line) for line in lines]
    results: dict[int, list] = {}
    errors = []

    def work(k):
        try:
            results[k] = list(segmenter.cut_lines(lines[k:] + lines[:k], batch_chars=50 * (k + 1)))
        except Exception as e:  # surfaced below: a thread's failure must fail the test
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(8):
        assert results[k] == serial[k:] + serial[:k]


# --- imports ------------------------------------------------------------------

def test_import_does_not_load_torch(seg_env):
    code = ("import sys, segcli, segcli.cli\n"
            "segcli.Segmenter().cut('扫描二维码')\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "print('ok')")
    proc = subprocess.run(python_c(code), env=seg_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_the_space_table_is_str_isspace(segmenter):
    from segcli.segmenter import _SPACE_TABLE, _SPACES

    assert sorted(_SPACES) == [c for c in range(0x110000) if chr(c).isspace()]
    every = np.arange(0x110000 + 5, dtype=np.uint32)  # and a few past the last code point
    space = segmenter.vocab.classify(every, _SPACE_TABLE)[0]
    assert (np.flatnonzero(space) == sorted(_SPACES)).all()
