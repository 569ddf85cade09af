"""The jieba-style API: search mode, tokenize, load_dict, dictionary entries
as data, a Segmenter that pickles, and calls that refuse what they cannot mean."""

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from conftest import DEV_LINES, SEG

LONG_WORD = "中华人民共和国"


def reference_search(segmenter, text, known):
    """jieba's cut_for_search over seg's default words."""
    out = []
    for word in segmenter.cut(text):
        for n in (2, 3):
            if len(word) > n:
                out += [word[i:i + n] for i in range(len(word) - n + 1) if word[i:i + n] in known]
        out.append(word)
    return out


@pytest.fixture()
def fresh():
    from segcli import Segmenter

    return Segmenter()


def test_search_mode_puts_known_sub_words_before_long_words(fresh):
    fresh.add_word(LONG_WORD, "force")
    text = f"{LONG_WORD}成立了"
    words = fresh.cut(text, mode="search")
    assert LONG_WORD in words
    before = words[: words.index(LONG_WORD)]
    assert "人民" in before and "中华" in before  # training words of the pku standard
    known = fresh._model.train_words("pku")
    assert words == reference_search(fresh, text, known)


def test_search_mode_knows_dictionary_words_and_forgets_forbidden_ones(fresh):
    fresh.add_word(LONG_WORD, "force")
    fresh.add_word("和国", 5)      # not a training word: known through the dictionary
    fresh.add_word("人民", 0)      # forbidden: no longer known
    words = fresh.cut(LONG_WORD, mode="search")
    assert "和国" in words and "人民" not in words
    assert words[-1] == LONG_WORD


@pytest.mark.parametrize("line", DEV_LINES)
def test_default_mode_is_unchanged_and_search_contains_it(segmenter, line):
    default = segmenter.cut(line)
    assert segmenter.cut(line, mode="default") == default
    search = segmenter.cut(line, mode="search")
    remaining = iter(search)
    assert all(word in remaining for word in default)  # default words in order, extras between


def test_tokenize_gives_offsets_like_jieba(segmenter):
    text = "扫描二维码，关注 微信号。"
    tokens = list(segmenter.tokenize(text))
    assert [w for w, _, _ in tokens] == segmenter.cut(text)
    assert all(text[a:b] == w for w, a, b in tokens)
    search = list(segmenter.tokenize(text, mode="search"))
    assert all(text[a:b] == w for w, a, b in search)


def test_unknown_mode_raises(segmenter):
    with pytest.raises(ValueError, match="unknown mode"):
        segmenter.cut("你好", mode="fast")


def test_load_dict_adds_a_file_at_runtime(fresh, tmp_path):
    path = tmp_path / "user.txt"
    path.write_text("关注微,force\n", encoding="utf-8")
    assert "关注微" not in fresh.cut("扫描二维码，关注微信号。")
    fresh.load_dict(path)
    assert "关注微" in fresh.cut("扫描二维码，关注微信号。")


def test_entries_given_as_data_apply_like_a_file(tmp_path):
    from segcli import Segmenter

    path = tmp_path / "user.txt"
    path.write_text("关注微,force\n", encoding="utf-8")
    text = "扫描二维码，关注微信号。"
    assert Segmenter(entries={"关注微": "force"}).cut(text) == Segmenter(dicts=[path]).cut(text)


def test_pickle_round_trip_keeps_the_dictionary_and_standard(tmp_path):
    from segcli import Segmenter

    original = Segmenter(standard="ctb", entries={"关注微": "force"})
    original.add_word("信号。", "force")
    copy = pickle.loads(pickle.dumps(original))
    assert copy.standard == "ctb"
    assert dict(copy.entries) == dict(original.entries)
    for line in [*DEV_LINES, "扫描二维码，关注微信号。"]:
        assert copy.cut(line) == original.cut(line)


def test_replace_entries_replaces_the_whole_dictionary(fresh):
    fresh.add_word("关注微", "force")
    fresh.replace_entries({"二维": 10})
    assert dict(fresh.entries) == {"二维": 10.0}


def test_cli_search_mode_jsonl_offsets(seg_env):
    text = "中华人民共和国成立了\n"
    done = subprocess.run([*SEG, "--mode", "search", "--format", "jsonl"], input=text.encode(),
                          capture_output=True, env=seg_env, check=True)
    tokens = json.loads(done.stdout)["tokens"]
    assert all(text[t["start"]:t["end"]] == t["word"] for t in tokens)
    default = subprocess.run([*SEG], input=text.encode(), capture_output=True, env=seg_env, check=True)
    default_words = default.stdout.decode().split()
    assert len(tokens) >= len(default_words)
    assert [t["word"] for t in tokens if any(t["word"] == w for w in default_words)][-len(default_words):] \
        == default_words


def test_cli_search_mode_with_jobs_matches_one_process(seg_env, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("\n".join(DEV_LINES * 3) + "\n", encoding="utf-8")
    one = subprocess.run([*SEG, "--mode", "search", str(path)], capture_output=True, env=seg_env, check=True)
    two = subprocess.run([*SEG, "--mode", "search", "--jobs", "2", str(path)], capture_output=True, env=seg_env,
                         check=True)
    assert one.stdout == two.stdout and one.stdout.count(b"\n") == len(DEV_LINES) * 3


# --- arguments a call cannot mean: a TypeError naming what to pass ------------------

TEXT_CALLS = {
    "cut": lambda seg, text: seg.cut(text),
    "cut search": lambda seg, text: seg.cut(text, mode="search"),
    "tokenize": lambda seg, text: seg.tokenize(text),  # at the call, not once iterated
    "tokenize search": lambda seg, text: seg.tokenize(text, mode="search"),
    "spans": lambda seg, text: seg.spans(text),
    "remove_word": lambda seg, text: seg.remove_word(text),
}
# (argument, what the message must say): falsy ones used to cut to [] (an empty line).
NOT_TEXT = [
    (None, r"takes str, not NoneType$"),
    (0, r"takes str, not int$"),
    (False, r"takes str, not bool$"),
    ([], r"takes str, not list$"),
    (["扫描二维码"], r"takes str, not list$"),
    (3.5, r"takes str, not float$"),
    ("扫描".encode(), r"takes str, not bytes: decode it first, e\.g\. text\.decode\('utf-8'\)$"),
    (bytearray("扫描".encode()), r"takes str, not bytearray: decode it first"),
]


@pytest.mark.parametrize("call", list(TEXT_CALLS))
@pytest.mark.parametrize(("argument", "message"), NOT_TEXT)
def test_text_calls_refuse_what_is_not_a_str(segmenter, call, argument, message):
    name = call.split()[0]
    with pytest.raises(TypeError, match=rf"^{name}\(\) {message}"):
        TEXT_CALLS[call](segmenter, argument)


class Text(str):
    """A str subclass (numpy.str_, say): still text."""


@pytest.mark.parametrize("call", list(TEXT_CALLS))
def test_text_calls_take_a_str_subclass(segmenter, call):
    def result(text):
        answer = TEXT_CALLS[call](segmenter, text)
        return list(answer) if isinstance(answer, Iterator) else answer

    assert result(Text("扫描二维码，关注微信号。")) == result("扫描二维码，关注微信号。")


@pytest.fixture(scope="module", params=[1, 2], ids=["threads=1", "threads=2"])
def threaded(request):
    from segcli import Segmenter

    return Segmenter(threads=request.param)


# (lines, what the message must say): a str used to be cut a character a line.
NOT_LINES = [
    ("扫描\n关注", r"takes an iterable of lines \(str\), not a str: wrap it in a list or use str\.splitlines\(\)$"),
    ("扫描".encode(), r"takes an iterable of lines \(str\), not bytes: decode it first"),
    (bytearray(b"ab"), r"takes an iterable of lines \(str\), not bytearray: decode it first"),
    (None, r"takes an iterable of lines \(str\), not NoneType$"),
    (5, r"takes an iterable of lines \(str\), not int$"),
]


@pytest.mark.parametrize(("lines", "message"), NOT_LINES)
def test_cut_lines_refuses_what_is_not_lines_at_the_call(threaded, lines, message):
    with pytest.raises(TypeError, match=rf"^cut_lines\(\) {message}"):
        threaded.cut_lines(lines)  # not iterated: the call itself refuses


# (container, lines, the message): the index and type of the first line that is not a str.
BAD_LINES = [
    (list, ["扫描", None, "关注"], r"item 1 is NoneType$"),
    (list, ["", 0], r"item 1 is int$"),  # falsy lines used to pass as empty ones
    (tuple, ("扫描", "关注", b"x"), r"item 2 is bytes: decode it first \(or open the file in text mode\)$"),
    (list, [["扫描"]], r"item 0 is list$"),
    (iter, ["扫描", "关注", False], r"item 2 is bool$"),
    (iter, ["扫描", bytearray(b"x")], r"item 1 is bytearray: decode it first"),
    (lambda lines: (line for line in lines), ["扫描"] * 40 + [3.0], r"item 40 is float$"),
]


@pytest.mark.parametrize(("container", "lines", "message"), BAD_LINES)
def test_cut_lines_names_the_first_line_that_is_not_a_str(threaded, container, lines, message):
    with pytest.raises(TypeError, match=rf"^cut_lines\(\) takes lines \(str\), but {message}"):
        list(threaded.cut_lines(container(lines), batch_chars=8))


def test_cut_lines_still_takes_lines_from_a_file(threaded, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("扫描二维码\n\n关注微信号。\n", encoding="utf-8")
    with open(path, encoding="utf-8") as lines:
        assert list(threaded.cut_lines(lines)) == [threaded.cut("扫描二维码"), [], threaded.cut("关注微信号。")]


@pytest.mark.parametrize("entries", [None, [("二维", 10)], "二维"])
def test_replace_entries_refuses_what_is_not_a_mapping(fresh, entries):
    with pytest.raises(TypeError, match=r"^replace_entries\(\) takes a mapping word -> multiplier, not "):
        fresh.replace_entries(entries)


# --- a source checkout shadowing the installed package -------------------------------


def _run_in_a_checkout_without_the_compiled_part(tmp_path, *args):
    import numpy

    import segcli

    package = tmp_path / "segcli"
    package.mkdir()
    for source in Path(segcli.__file__).parent.glob("*.py"):  # the sources a clone has: no _core*.so
        shutil.copy(source, package)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONSAFEPATH", "PYTHONPATH")}
    # -S: no site, so no editable install's finder hands the checkout a _core
    # from elsewhere; PYTHONPATH has the dependencies (and, in CI, the
    # installed seg), behind the working directory as `python -c` and `-m` put it.
    env["PYTHONPATH"] = str(Path(numpy.__file__).parent.parent)
    done = subprocess.run([sys.executable, "-S", *args], cwd=tmp_path, env=env, input="你好\n",
                          capture_output=True, text=True)
    message = (f"segcli's compiled part (segcli._core, built for this Python) is missing from {package}: "
               "if that is a source checkout shadowing the installed package, run from another directory, "
               "or build it in place with `pip install -e .`")
    return done, message


def test_a_checkout_without_the_compiled_part_says_what_to_do(tmp_path):
    done, message = _run_in_a_checkout_without_the_compiled_part(tmp_path, "-c", "from segcli import Segmenter")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"ImportError: {message}"
    assert "cannot import name" not in done.stderr and "During handling" not in done.stderr


def test_seg_in_a_checkout_without_the_compiled_part_is_one_line(tmp_path):
    done, message = _run_in_a_checkout_without_the_compiled_part(tmp_path, "-m", "segcli")
    assert (done.returncode, done.stdout, done.stderr.splitlines()) == (1, "", [f"seg: error: {message}"])
