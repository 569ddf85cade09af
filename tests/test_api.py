"""The jieba-style API: search mode, tokenize, load_dict, dictionary entries
as data, and a Segmenter that pickles."""

import json
import pickle
import subprocess

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
