"""Dictionaries as users write them (issue 25): a listed word sticks, jieba's
dictionaries load as they are, mistakes are caught in one line with file and
line, a dictionary may be an open file. Cases go through the API and, where a
person would meet them, through `seg` itself."""

import io
import os
import subprocess
import warnings
from pathlib import Path

import pytest
from conftest import SEG
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from segcli import atoms, dictfile
from segcli.dictfile import DictWarning, read_dicts
from segcli.dictionary import UserDictionary
from segcli.encode import codepoints
from segcli.errors import DictError

# jieba's test/userdict.txt (benchmarks/experiments/jieba_dict.py reads it
# too), and the sentences of its test/test_userdict.py.
JIEBA_TEST_DICT = (Path(__file__).parent / "jieba_userdict.txt").read_text(encoding="utf-8")
JIEBA_SENTENCES = {
    "李小福是创新办主任也是云计算方面的专家; 什么是八一双鹿": ["李小福", "创新办", "云计算", "八一双鹿"],
    "例如我输入一个带“韩玉赏鉴”的标题，在自定义词库中也增加了此词为N类": ["韩玉赏鉴"],
    "「台中」正確應該不會被切開": ["台中"],
    "此時又可以分出來凱特琳了。easy_install 好用": ["凱特琳", "easy_install", "好用"],
}


def write(tmp_path, text, name="d.txt", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def cut_with(tmp_path, lines, text):
    """`text` cut with a dictionary of `lines`, through the API and through seg."""
    from segcli import Segmenter

    path = write(tmp_path, lines)
    api = " ".join(Segmenter(dicts=[path]).cut(text))
    done = subprocess.run([*SEG, "--dict", str(path)], input=(text + "\n").encode(), capture_output=True,
                          cwd=tmp_path)  # not the checkout, which would shadow the installed package
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == api + "\n"
    return api


# --- a listed word sticks -----------------------------------------------------------

# (dictionary lines, text, a word that must come out whole); without the
# dictionary the shipped model cuts each of these words.
STICKS = [
    ("科学空间\n", "科学空间是一个博客。", "科学空间"),                  # a bare word
    ("直播带货 5\n", "他在直播带货。", "直播带货"),                      # jieba: a word the model does not know
    ("元宇宙 nz\n", "我们在元宇宙里开会。", "元宇宙"),                    # jieba: no frequency
    ("科学空间,force\n", "科学空间是一个博客。", "科学空间"),
    ("科学空间,force,nz\n", "科学空间是一个博客。", "科学空间"),           # a tag after force
    ("元宇宙\n宇宙\n", "我们在元宇宙里开会。", "元宇宙"),                 # contains a listed word: the model picks
]


@pytest.mark.parametrize("lines, text, word", STICKS)
def test_a_listed_word_is_cut_whole(tmp_path, segmenter, lines, text, word):
    assert word not in segmenter.cut(text)
    assert word in cut_with(tmp_path, lines, text).split(" ")


def test_add_word_without_a_multiplier_sticks(segmenter):
    from segcli import Segmenter

    fresh = Segmenter()
    fresh.add_word("科学空间")
    assert fresh.cut("科学空间是一个博客。")[0] == "科学空间"
    assert fresh.entries["科学空间"] is None
    fresh.add_word("科学空间", 10)  # a multiplier keeps the seed's meaning: x10 is not enough here
    assert fresh.cut("科学空间是一个博客。") == segmenter.cut("科学空间是一个博客。")


def test_a_listed_word_gives_way_to_a_forbidden_and_a_forced_one(tmp_path):
    assert cut_with(tmp_path, "科学空间\n空间,0\n", "科学空间是一个博客。").split(" ")[0] != "科学空间"
    assert cut_with(tmp_path, "科学空间\n空间是,force\n", "科学空间是一个博客。").startswith("科学 空间是 ")


def test_one_character_words_do_not_shred_text(tmp_path, segmenter):
    text = "这个超快的物流收到了"
    assert cut_with(tmp_path, "超\n快\n物\n流\n收\n到\n", text) == " ".join(segmenter.cut(text))


def test_overlapping_listed_words_are_cut_as_the_model_prefers(tmp_path, segmenter):
    # 南京市 / 市长 / 长江 / 大桥 overlap: the model's own cut is one way of
    # covering them with listed words, and it is the one taken (leftmost-
    # longest would give 南京市 长江 大桥 too, but 市长 江 大桥 for 南京市长江大桥 in
    # a dictionary without 南京市).
    text = "南京市长江大桥"
    assert cut_with(tmp_path, "南京市\n市长\n长江\n大桥\n", text) == "南京市 长江 大桥"
    assert cut_with(tmp_path, "南京\n市长\n长江\n大桥\n", text) == "南京 市 长江 大桥"


def test_jiebas_test_dictionary_keeps_every_listed_word_whole(tmp_path):
    from segcli import Segmenter

    path = write(tmp_path, JIEBA_TEST_DICT, "userdict.txt")
    with pytest.warns(DictWarning, match=r"userdict\.txt:10: word 'Edu Trust认证' contains whitespace"):
        segmenter = Segmenter(dicts=[path])
    for sentence, listed in JIEBA_SENTENCES.items():
        words = segmenter.cut(sentence)
        assert [w for w in listed if w in words] == listed, words
    assert segmenter._dictionary.tag_of("李小福") == "nr"
    assert segmenter._dictionary.tag_of("凯特琳") == "nz"  # in its lookup form, as matched
    assert segmenter._dictionary.tag_of("台中") is None


def test_jiebas_test_dictionary_through_seg(tmp_path):
    path = write(tmp_path, JIEBA_TEST_DICT, "userdict.txt")
    text = "".join(sentence + "\n" for sentence in JIEBA_SENTENCES)
    done = subprocess.run([*SEG, "--dict", str(path)], input=text.encode(), capture_output=True, cwd=tmp_path)
    assert done.returncode == 0
    assert f"{path}:10: word 'Edu Trust认证' contains whitespace" in done.stderr.decode()
    for line, listed in zip(done.stdout.decode().splitlines(), JIEBA_SENTENCES.values()):
        assert all(w in line.split(" ") for w in listed), line


# --- what a line means ---------------------------------------------------------------

LINES = [
    # (line, (word, value, tag)); value None: listed, "counted": a jieba frequency line
    ("科学空间", ("科学空间", None, None)),
    ("科学空间,10", ("科学空间", 10.0, None)),
    ("科学空间,0", ("科学空间", 0.0, None)),
    ("科学空间,force", ("科学空间", float("inf"), None)),
    ("科学空间 , 10 ", ("科学空间", 10.0, None)),
    ("科学空间,10,nz", ("科学空间", 10.0, "nz")),
    ("科学空间,FORCE,N", ("科学空间", float("inf"), "N")),
    ("科学空间,0,v", ("科学空间", 0.0, "v")),
    ("1,000,10", ("1,000", 10.0, None)),
    ("1,000,10,m", ("1,000", 10.0, "m")),
    ("a,b,10", ("a,b", 10.0, None)),
    ("x,10,force", ("x,10", float("inf"), None)),  # force is a multiplier, never a tag
    ("云计算 5", ("云计算", "counted", None)),
    ("李小福 2 nr", ("李小福", "counted", "nr")),
    ("凱特琳 nz", ("凱特琳", None, "nz")),
    ("台中", ("台中", None, None)),
    ("AT&T 3 nz", ("AT&T", "counted", "nz")),
    ("云计算   5   n", ("云计算", "counted", "n")),
    ("1,000 3 m", ("1,000", "counted", "m")),
    ("12:30", ("12:30", None, None)),  # a colon after a digit is part of a word
    ("1:1", ("1:1", None, None)),
    ("C#", ("C#", None, None)),
]


@pytest.mark.parametrize("line, want", LINES)
def test_what_a_line_means(tmp_path, line, want):
    word, value, tag = want
    assert tuple(dictfile._parse_line(line)) == want
    contents = read_dicts(write(tmp_path, line + "\n"))
    assert contents.entries == {word: None if value == "counted" else value}
    assert contents.tags == ({word: tag} if tag else {})
    assert contents.warnings == []


# (line, the message, error or warning): a warning skips the line.
MESSAGES = [
    ("科学空间，force", "a full-width comma before 'force': did you mean ','? "
                      "(a multiplier: 科学空间,force; a jieba frequency: 科学空间 force)", "error"),
    ("科学空间;10", "a semicolon before '10': did you mean ','? (a multiplier: 科学空间,10; a jieba frequency: "
                 "科学空间 10)", "error"),
    ("科学空间:10", "a colon before '10': did you mean ','? (a multiplier: 科学空间,10; a jieba frequency: "
                 "科学空间 10)", "error"),
    ("科学空间：１０", "a full-width colon before '１０': did you mean ','? (a multiplier: 科学空间,１０; a jieba "
                   "frequency: 科学空间 １０)", "error"),
    ("科学空间；force", "a full-width semicolon before 'force': did you mean ','? (a multiplier: 科学空间,force; "
                      "a jieba frequency: 科学空间 force)", "error"),
    ("科学空间\t10", "a tab before '10': did you mean ','? (a multiplier: 科学空间,10; a jieba frequency: "
                   "科学空间 10)", "error"),
    ("科学空间,nz", "multiplier 'nz' is not a number (a tag follows a multiplier: 科学空间,10,nz; or jieba's "
                  "科学空间 nz)", "error"),
    ("科学空间,1 0", "multiplier '1 0' is not a number", "error"),
    ("1,000 3", "multiplier '000 3' is not a number", "error"),  # numbers alone after a comma
    ("科学空间,10,名词", "multiplier '名词' is not a number", "error"),
    ("科学空间,,nz", "multiplier 'nz' is not a number (a tag follows a multiplier: 科学空间,,10,nz; or jieba's "
                   "科学空间, nz)", "error"),
    ("Edu Trust认证 2000", "word 'Edu Trust认证' contains whitespace: seg cuts at every space, so it can never be "
                         "one word; skipped", "warning"),
    ("New York,10", "word 'New York' contains whitespace: seg cuts at every space, so it can never be one word; "
                    "skipped", "warning"),
    ("云计算 5.5", "word '云计算 5.5' contains whitespace: seg cuts at every space, so it can never be one word; "
                 "skipped", "warning"),
    ("\u200b", "word '\\u200b' is only invisible characters: it can never match; skipped", "warning"),
    ("\ufeff\u200d", "word '\\ufeff\\u200d' is only invisible characters: it can never match; skipped", "warning"),
]


@pytest.mark.parametrize("line, message, kind", MESSAGES)
def test_a_mistake_is_one_line_with_file_and_line(tmp_path, line, message, kind):
    path = write(tmp_path, f"# header\n好用\n{line}\n")
    if kind == "error":
        with pytest.raises(DictError) as info:
            read_dicts(path)
        assert str(info.value) == f"{path}:3: {message}"
    else:
        contents = read_dicts(path)
        assert [str(w) for w in contents.warnings] == [f"{path}:3: {message}"]
        assert (contents.warnings[0].file, contents.warnings[0].line) == (str(path), 3)
        assert list(contents.entries) == ["好用"]


@pytest.mark.parametrize("line, message, kind", [MESSAGES[0], MESSAGES[5], MESSAGES[10]])
def test_a_mistake_through_seg(tmp_path, seg_env, line, message, kind):
    path = write(tmp_path, f"# header\n好用\n{line}\n")
    done = subprocess.run([*SEG, "--dict", str(path)], input="好用\n".encode(), capture_output=True, env=seg_env)
    if kind == "error":
        assert (done.returncode, done.stdout, done.stderr.decode()) == (1, b"", f"seg: error: {path}:3: {message}\n")
    else:
        assert (done.returncode, done.stdout) == (0, "好用\n".encode())
        assert f"{path}:3: {message}" in done.stderr.decode()


ENCODINGS = [
    ("gbk", "科学空间\n台中,10\n", "GBK"),
    ("gb18030", "科学空间\n𠀀\n", "GB18030"),
    ("big5", "軟體工程師\n資料庫\n臺中\n", "BIG5"),
    ("utf-16", "科学空间\n台中\n", "UTF-16"),  # with its BOM
    ("utf-16-le", "科学空间\n台中\n", "UTF-16LE"),
    ("utf-16-be", "科学空间\nab\n", "UTF-16BE"),
]


@pytest.mark.parametrize("codec, text, name", ENCODINGS)
def test_a_dictionary_not_in_utf8_names_its_encoding_and_the_fix(tmp_path, codec, text, name):
    path = write(tmp_path, text, "dict.txt", codec)
    with pytest.raises(DictError) as info:
        read_dicts(path)
    message = str(info.value)
    assert message.startswith(f"{path}:1: ")
    assert message.endswith(f": the file looks like {name}, and dictionaries are UTF-8; convert it with "
                            f"iconv -f {name} -t UTF-8 {path} > {tmp_path / 'dict'}.utf8.txt")
    converted = subprocess.run(["iconv", "-f", name, "-t", "UTF-8", str(path)], capture_output=True, check=True)
    assert converted.stdout.decode().lstrip("\ufeff") == text


def test_bytes_of_no_known_encoding_say_only_what_is_wrong(tmp_path):
    path = tmp_path / "d.txt"
    path.write_bytes(b"ok\n\xff\xfe\xff\n")
    with pytest.raises(DictError) as info:
        read_dicts(path)
    assert str(info.value) == f"{path}:2: invalid UTF-8 (byte 0xff at column 1)"


# --- a path or an open file ---------------------------------------------------------------


@pytest.mark.parametrize("opener", [
    lambda p: str(p), lambda p: p, lambda p: open(p, encoding="utf-8"), lambda p: open(p, "rb"),
    lambda p: io.StringIO(p.read_text(encoding="utf-8")), lambda p: io.BytesIO(p.read_bytes()),
], ids=["str", "Path", "text file", "binary file", "StringIO", "BytesIO"])
def test_a_dictionary_is_a_path_or_an_open_file(tmp_path, opener):
    from segcli import Segmenter

    path = write(tmp_path, "\ufeff科学空间\n李小福 2 nr\n")
    text = "科学空间是一个博客。李小福是主任"
    source = opener(path)
    in_init = Segmenter(dicts=source).cut(text)
    source = opener(path)
    loaded = Segmenter()
    loaded.load_dict(source)
    assert in_init == loaded.cut(text)
    assert "科学空间" in in_init and "李小福" in in_init
    assert loaded._dictionary.tag_of("李小福") == "nr"
    if hasattr(source, "closed"):
        assert not source.closed  # the caller's file stays the caller's


def test_a_text_file_opened_in_another_encoding_is_one_line(tmp_path):
    from segcli import Segmenter

    path = write(tmp_path, "科学空间\n", encoding="gbk")
    with open(path, encoding="utf-8") as f, pytest.raises(DictError) as info:
        Segmenter().load_dict(f)
    assert str(info.value).startswith(f"{path}: cannot read it as text (invalid start byte): open it with ")


def test_load_dict_warns_of_skipped_lines(tmp_path):
    from segcli import Segmenter

    segmenter = Segmenter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        segmenter.load_dict(io.StringIO("a b c d\n好用\n"))
    assert [str(w.message) for w in caught] == [
        "<dictionary>:1: word 'a b c' contains whitespace: seg cuts at every space, so it can never be one word; "
        "skipped"]
    assert caught[0].category is DictWarning


# --- jieba frequency lines -----------------------------------------------------------------


def test_a_frequency_line_of_a_word_the_model_knows_is_left_to_the_model(tmp_path, segmenter):
    from segcli import Segmenter

    # 物流 and 超快 are words the model knows (jieba's dictionary): a count says nothing new.
    path = write(tmp_path, "物流 10000 n\n超快 3 a\n李小福 2 nr\n")
    with_dict = Segmenter(dicts=[path])
    assert dict(with_dict.entries) == {"物流": 1.0, "超快": 1.0, "李小福": None}
    text = "这个超快的物流收到了"
    assert with_dict.cut(text) == segmenter.cut(text)
    assert with_dict._dictionary.tag_of("物流") == "n"


def test_model_knows_the_training_and_lexicon_words():
    from segcli import Segmenter
    from segcli.dictionary import model_knows

    knows = model_knows(Segmenter().vocab)
    assert knows(["物流", "中华人民", "李小福", "物", "", "𠀀𠀀"]).tolist() == [True, True, False, False, False, False]
    # Longer than the model's word lists: known where made of known words of two characters or more.
    assert knows(["中华人民共和国", "全国人大常委会", "韩玉赏鉴八一双鹿", "李小福李小福"]).tolist() == [True, True, False, False]


# --- interface 1: word spans and tags -------------------------------------------------------


def test_word_spans_are_every_occurrence_of_a_listed_forced_or_encouraged_word():
    dictionary = UserDictionary({"南京市": None, "市长": float("inf"), "长江": 2.0, "大桥": 0.5, "江大": 0.0,
                                 "南": None})
    starts, ends = dictionary.word_spans_codepoints(codepoints("南京市长江大桥南京市"))
    # 南 (one character) has no inside for the boundary rules to keep whole.
    assert list(zip(starts.tolist(), ends.tolist())) == [(0, 3), (2, 4), (3, 5), (7, 10)]
    for text in ("", "x"):
        assert [a.tolist() for a in dictionary.word_spans_codepoints(codepoints(text))] == [[], []]


def test_tags_follow_the_entries():
    dictionary = UserDictionary({"李小福": None, "台中": 5.0}, tags={"李小福": "nr", "别的": "n"})
    assert dictionary.tag_of("李小福") == "nr" and dictionary.tag_of("台中") is None
    assert dict(dictionary.tags) == {"李小福": "nr"}  # a tag of no entry is dropped
    updated = dictionary.updated({"台中": None}, {"台中": "ns"})
    assert (updated.tag_of("台中"), updated.tag_of("李小福")) == ("ns", "nr")
    assert updated.removed(["李小福"]).tag_of("李小福") is None
    with pytest.raises(DictError):
        UserDictionary({"a": None}, tags={"a": ""})


def test_add_word_takes_a_tag():
    from segcli import Segmenter

    segmenter = Segmenter()
    segmenter.add_word("李小福", tag="nr")
    assert segmenter._dictionary.tag_of("李小福") == "nr"
    with pytest.raises(DictError):
        segmenter.add_word("李小福", tag="n r")


def test_a_removed_word_is_no_piece_of_a_cluster():
    import numpy as np

    text = "南京市长江大桥"
    dictionary = UserDictionary({"南京市": None, "市长": None, "南京": 1.0})
    removed = dictionary.removed(["南京"])
    fresh = UserDictionary({"南京市": None, "市长": None})
    for d in (removed, fresh):
        d.apply(text, np.zeros((len(text), 4), np.float32))
    got = np.zeros((len(text), 4), np.float32)
    removed.apply(text, got)
    want = np.zeros((len(text), 4), np.float32)
    fresh.apply(text, want)
    np.testing.assert_array_equal(got, want)


# --- the property: a listed word that overlaps nothing comes out whole ----------------------

HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"


@st.composite
def listed_case(draw):
    chars = draw(st.text(alphabet=HAN[:60], min_size=1, max_size=40))
    words = draw(st.lists(st.text(alphabet=HAN[:60], min_size=2, max_size=4), min_size=1, max_size=6, unique=True))
    word = draw(st.sampled_from(words))
    at = draw(st.integers(0, len(chars)))
    text = chars[:at] + word + chars[at:]
    # Two characters or more: forbidding a character to be a word of its own
    # makes it join a neighbour, which may be a listed word beside it.
    forbidden = draw(st.lists(st.text(alphabet=HAN[:60], min_size=2, max_size=3), max_size=3))
    weights = draw(st.lists(st.tuples(st.text(alphabet=HAN[:60], min_size=1, max_size=3),
                                      st.floats(0.1, 100)), max_size=3))
    return text, word, words, forbidden, weights


def occurrences(text, word):
    return [(i, i + len(word)) for i in range(len(text) - len(word) + 1) if text.startswith(word, i)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(listed_case())
@example(("一一上", "一一", ["一一"], [], [("一", 11.0)]))
@example(("一一上", "一一", ["一一"], [], [("一", 0.5)]))
def test_a_listed_word_that_overlaps_nothing_comes_out_whole(segmenter, case):
    text, word, words, forbidden, weights = case
    entries = {**{w: k for w, k in weights}, **dict.fromkeys(forbidden, 0.0), **dict.fromkeys(words, None)}
    segmenter.replace_entries(entries)
    try:
        spans = segmenter.spans(text)
    finally:
        segmenter.replace_entries({})
    # What may cut it otherwise: another listed word, a forbidden one, and a
    # word the dictionary does not discourage (k >= 1: a piece the model may
    # cut the listed word into, dictionary.py; hypothesis found 一一 with 一 x11).
    others = [span for w, k in entries.items() if (k is None and w != word) or k == 0.0 or (k is not None and k >= 1)
              for span in occurrences(text, w)]
    others += list(zip(*[a.tolist() for a in atoms.find(segmenter.vocab.lookup_form(text))]))
    mine = occurrences(text, word)
    for start, end in mine:
        overlapped = others + [span for span in mine if span != (start, end)]  # 一一 in 一一一 overlaps itself
        if not any(a < end and start < b for a, b in overlapped):
            assert (start, end) in spans, (text, word, spans)


def test_search_mode_knows_a_listed_word():
    # Fails until Segmenter._search_words reads a listed word's None as known
    # (segmenter.py: `k is None or k > 0`); it raised TypeError.
    from segcli import Segmenter

    segmenter = Segmenter(entries={"带货": None, "直播带货": None})
    assert segmenter.cut("他在直播带货", mode="search") == ["他", "在", "直播", "带货", "直播带货"]


def test_a_batch_walked_once_answers_for_its_own_dictionary():
    import numpy as np

    cps = codepoints("南京市长江大桥")
    first, second = UserDictionary({"南京市": None}), UserDictionary({"长江": None})
    scores = np.zeros((len(cps), 4), np.float32)
    first.apply_codepoints(cps, scores)
    assert [a.tolist() for a in first.word_spans_codepoints(cps)] == [[0], [3]]
    assert [a.tolist() for a in second.word_spans_codepoints(cps)] == [[3], [5]]
    other = codepoints("长江")
    assert [a.tolist() for a in second.word_spans_codepoints(other)] == [[0], [2]]


# Dictionary tags travel with the dictionary wherever it goes as data: they
# were dropped by pickling (--jobs, Spark), replace_entries and spaCy's
# to_disk/from_disk, which rebuilt the dictionary from its entries alone.
TAGGED = {"李小福": "nr", "创新办": "i"}


def test_pickling_keeps_dictionary_tags():
    import pickle

    from segcli import Segmenter

    original = Segmenter(dicts=[io.StringIO(JIEBA_TEST_DICT)])
    copy = pickle.loads(pickle.dumps(original))
    assert {w: copy._dictionary.tag_of(w) for w in TAGGED} == TAGGED
    assert dict(copy._dictionary.tags) == dict(original._dictionary.tags)


def test_replace_entries_takes_tags(segmenter):
    segmenter.replace_entries(dict.fromkeys(TAGGED, None), tags=TAGGED)
    try:
        assert {w: segmenter._dictionary.tag_of(w) for w in TAGGED} == TAGGED
    finally:
        segmenter.replace_entries({})


def test_replace_entries_refuses_a_bad_tag(segmenter):
    with pytest.raises(DictError, match="tag '' of '李小福'"):
        segmenter.replace_entries({"李小福": None}, tags={"李小福": ""})


def test_spacy_to_disk_keeps_dictionary_tags(tmp_path):
    spacy = pytest.importorskip("spacy", reason="the spacy extra is not installed: pip install '.[spacy]'")
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"@tokenizers": "seg.Tokenizer.v1", "standard": "pku"}}})
    nlp.tokenizer.segmenter.load_dict(io.StringIO(JIEBA_TEST_DICT))
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert dict(loaded.tokenizer.segmenter._dictionary.tags) == dict(nlp.tokenizer.segmenter._dictionary.tags)
    assert {w: loaded.tokenizer.segmenter._dictionary.tag_of(w) for w in TAGGED} == TAGGED


def test_seg_warns_of_skipped_lines_when_the_dictionary_comes_from_the_cache(tmp_path, seg_env):
    from segcli import dictcache

    words = [f"词{i:06d}" for i in range(dictcache.FILES_MIN_BYTES // 10 + 1)]  # large enough to be kept whole
    path = write(tmp_path, "\n".join(words[:5] + ["Edu Trust认证 2000"] + words[5:]) + "\n")
    env = {**seg_env, "SEG_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([*SEG, "--dict", str(path)], input="词000003好用\n".encode(), capture_output=True, env=env,
                           cwd=tmp_path) for _ in range(2)]  # cold, then from the cache
    assert [f for f in os.listdir(tmp_path / "cache") if f.endswith(dictcache.FILES_SUFFIX)]
    for done in runs:
        assert done.returncode == 0 and done.stdout == runs[0].stdout
        assert f"seg: warning: {path}:6: word 'Edu Trust认证' contains whitespace" in done.stderr.decode()
