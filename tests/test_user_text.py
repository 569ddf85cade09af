"""Text as users paste it (blogs, chat, reviews, tech news): brackets,
punctuation, emoji, URLs and Latin words stand apart from the Chinese around
them, through the API and through `seg`.

Only what the rules and the atoms fix is pinned (the model gets retrained):
each case lists tokens that must come out whole, in order, and every output
must pass the same checks as the property test below.
"""

import subprocess
import unicodedata

import pytest
from conftest import SEG
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from segcli import atoms, boundaries

# (text, standard, tokens that must be words of their own, in this order)
CASES = [
    ("[打赏]", "pku", ["[", "]"]),
    ("[关于博主]", "weibo", ["[", "]"]),
    ("［注意］这里有坑", "pku", ["［", "］"]),
    ("谢谢🙏", "pku", ["🙏"]),
    ("加油💪我们能赢", "pku", ["💪"]),
    ("这个模型有百万token的上下文", "pku", ["token"]),
    ("这个项目在GitHub上Star数很多", "pku", ["GitHub", "Star"]),
    ("Bi-MEMM比CRF效果好", "pku", ["Bi-MEMM", "CRF"]),
    ("C++和C#都是编程语言", "pku", ["C++", "C#"]),
    ("点赞👍满分💯", "weibo", ["👍", "💯"]),
    ("参见https://host/path\\#frag。", "pku", ["https://host/path\\#frag", "。"]),
    ("详见[文档](https://example.com/docs)。", "pku", ["[", "]", "(", "https://example.com/docs", ")", "。"]),
    ("[关于博主](/about) [打赏](/donate)", "pku", ["[", "]", "(", ")", "[", "]", "(", ")"]),
    ("链接：https://a.com/x\\\\后面", "pku", ["：", "https://a.com/x"]),
    ("哈哈哈😂😂笑死我了！！", "weibo", ["😂", "😂"]),
    ("物流很快👍👍，包装完好，五星好评", "pku", ["👍", "👍", "，", "，"]),
    ("用pip install numpy安装后，import numpy as np即可", "pku", ["pip", "install", "numpy", "，", "import", "numpy",
                                                            "as", "np"]),
    ("Python3.9的f-string很好用", "pku", ["Python3.9", "f-string"]),
    ("在Vue.js和Node.js里写.NET代码", "pku", ["Vue.js", "Node.js", ".NET"]),
    ("国旗🇨🇳飘扬", "pku", ["🇨🇳"]),
    ("一家人👨\u200d👩\u200d👧出游，点赞👍🏻", "pku", ["👨\u200d👩\u200d👧", "，", "👍🏻"]),
    ("《三体》真好看！", "pku", ["《", "》", "！"]),
    ("他说：“明天见。”", "pku", ["：", "“", "。", "”"]),
    ("【转发】微博抽奖，速来～", "weibo", ["【", "】", "，"]),
    ("价格¥99，折扣30%，库存1,299件", "pku", ["，", "30%", "，", "1,299"]),
    ("#今日话题#大家怎么看？@小明", "weibo", ["#", "#", "？", "@"]),
    ("变量max_len设为512，见config.yaml", "pku", ["max_len", "，", "config.yaml"]),
    ("新款iPhone15售价5999元起（含税）", "pku", ["iPhone15", "（", "）"]),
    ("这家店的T恤不错~", "pku", []),
    # Paths are atoms; a Latin letter, a dot or a ~ next to Han cuts.
    ("配置文件在~/.bashrc里，Windows用户请看C:\\Users\\admin\\AppData目录。", "pku",
     ["~/.bashrc", "里", "，", "Windows", "C:\\Users\\admin\\AppData", "。"]),
    ("把数据放在D:/data/train.csv，或者./data/目录下。", "pku", ["D:/data/train.csv", "，"]),
    ("运行../scripts/run.sh之前先source ~/.zshrc。", "pku", ["../scripts/run.sh", "source", "~/.zshrc", "。"]),
    ("见/usr/bin/python3，进入/data/目录", "pku", ["见", "/usr/bin/python3", "，", "/data/", "目录"]),
    ("见/usr/bin/python3", "weibo", ["见", "/usr/bin/python3"]),
    ("安装路径是C:\\Program Files\\Python311\\python.exe", "pku", ["C:\\Program", "Files\\Python311\\python.exe"]),
    ("运行：python3 sort.py --size 1000", "pku", ["：", "python3", "sort.py", "--size", "1000"]),
    ("搜索https://www.google.com/search?q=分词&hl=zh看看。", "pku",
     ["https://www.google.com/search?q=分词&hl=zh", "。"]),
    ("打开http://a.com/路径?x=1试试", "weibo", ["http://a.com/路径?x=1"]),
    # A mark (combining accent, variation selector, keycap) is never a word of its own.
    ("cafe\u0301很好，a\u0301好", "pku", ["cafe\u0301", "，", "a\u0301"]),
    ("好\ufe0f的，葛\U000E0100城", "pku", ["，"]),
    ("按12️⃣号", "pku", ["12️⃣"]),
    # A Latin word's last digit and the Han after it: a change of script.
    ("看Q3财报", "pku", ["Q3"]),
    ("MP4格式", "pku", ["MP4"]),
    ("MP4格式", "weibo", ["MP4"]),
    ("Q3财报", "ctb", ["Q3"]),
    # Emoji below U+1F000 and keycaps are emoji: one token each.
    ("五星⭐⭐⭐⭐⭐推荐", "pku", ["⭐", "⭐", "⭐", "⭐", "⭐"]),
    ("任务✅✅完成，❌❌失败", "weibo", ["✅", "✅", "，", "❌", "❌"]),
    ("黑猫🐈‍⬛真可爱", "pku", ["🐈‍⬛"]),
    ("按0️⃣1️⃣选择，或按#️⃣返回", "pku", ["0️⃣", "1️⃣", "，", "#️⃣"]),
    # Repeated sentence and clause marks: a token each, as the corpora write
    # them (seg gave 嗯 。。。。。 。 under pku).
    ("嗯。。。。。。", "pku", ["嗯", "。", "。", "。", "。", "。", "。"]),
    ("太好了!!!真的？？？", "pku", ["!", "!", "!", "真的", "？", "？", "？"]),
    ("快来！！！！！", "weibo", ["！", "！", "！", "！", "！"]),
    ("好的，，、、", "ctb", ["，", "，", "、", "、"]),
    # A run of = is one token (seg gave = = = = 分割线 = = = =).
    ("====分割线====", "pku", ["====", "分割线", "===="]),
    ("如果a==b就返回", "weibo", ["==", "b"]),
    # A zero-width space is a boundary: a token of its own (seg gave
    # 中文\u200b分词, abc\u200bdef, 数组\u200b聚类 as one).
    ("中文\u200b分词", "pku", ["中文", "\u200b", "分词"]),
    ("abc\u200bdef，数组\u200b聚类", "pku", ["abc", "\u200b", "def", "，", "\u200b"]),
    ("谢谢\u200b🙏，你好\u200b世界", "weibo", ["谢谢", "\u200b", "🙏", "，", "\u200b", "世界"]),
]

# Characters the rules always keep apart from a word character (brackets,
# quotes, sentence punctuation, symbols) and emoji.
APART = "，。！？、；「」『』【】《》（）“”‘!?;\"<>{}()［］…#@*^|★"
EMOJI = ["😂", "👍", "🙏", "💪", "🇨🇳", "👍🏻", "👨\u200d👩\u200d👧", "❤️", "⭐", "✅", "🐈\u200d⬛", "0️⃣", "#⃣"]
WORD = "我们的好东西数组模型中文abcXYZ019１２"


def is_mark(char: str) -> bool:
    """Whether char belongs to the character before it (a zero-width space is a boundary)."""
    return unicodedata.category(char) in ("Mn", "Me", "Cf") and char not in boundaries.INVISIBLE_SPACES


def is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def apart(char: str) -> bool:
    return (char in APART or char in boundaries.INVISIBLE_SPACES or unicodedata.category(char) == "So"
            or ord(char) >= 0x1F000)


def is_emoji(text: str, i: int) -> bool:
    """Whether text[i] is an emoji: a picture by default, or a keycap's digit, # or *."""
    if ord(text[i]) >= 0x1F000 or any(a <= ord(text[i]) <= b for a, b in atoms.EMOJI_PRESENTATION):
        return True
    rest = text[i + 1 : i + 3]
    return text[i] in "0123456789#*" and (rest[:1] == "\u20e3" or rest == "\ufe0f\u20e3")


def bad_joins(text: str, words: list[str], lookup_form) -> list[str]:
    """The words that join a punctuation or emoji character with a word
    character (or an emoji with anything) outside an atom."""
    starts, ends = atoms.find(lookup_form(text))
    spans = list(zip(starts.tolist(), ends.tolist()))
    bad, at = [], 0
    for word in words:
        at = text.index(word, at)
        for i in range(at, at + len(word) - 1):
            base = i
            while base > at and is_mark(text[base]):
                base -= 1  # a mark belongs to the character before it
            a, b = text[base], text[i + 1]
            if is_mark(b) or any(s <= i and i + 2 <= e for s, e in spans):
                continue
            emoji = is_emoji(text, base) or is_emoji(text, i + 1)
            if emoji or (apart(a) and is_word_char(b)) or (is_word_char(a) and apart(b)):
                bad.append(word)
                break
        at += len(word)
    return bad


def check(text: str, words: list[str], lookup_form) -> None:
    assert "".join(words) == "".join(text.split()), "lossless: every character but whitespace in one word"
    at, alone = 0, []
    for word in words:
        at = text.index(word, at)
        base = at - 1
        while base >= 0 and is_mark(text[base]):
            base -= 1  # marks after a line's start or whitespace have no base to go with
        if is_mark(word[0]) and base >= 0 and not text[base].isspace():
            alone.append(word)  # a mark goes with the character before it
        at += len(word)
    assert not alone
    assert not bad_joins(text, words, lookup_form)


def in_order(tokens: list[str], words: list[str]) -> bool:
    rest = iter(words)
    return all(any(word == token for word in rest) for token in tokens)


@pytest.fixture(scope="module")
def segmenters():
    from segcli import Segmenter

    return {standard: Segmenter(standard=standard) for standard in {"ctb", *(standard for _, standard, _ in CASES)}}


@pytest.mark.parametrize("text, standard, tokens", CASES)
def test_api(segmenters, text, standard, tokens):
    segmenter = segmenters[standard]
    words = segmenter.cut(text)
    check(text, words, segmenter.vocab.lookup_form)
    assert in_order(tokens, words), words
    assert [w for w, _, _ in segmenter.tokenize(text)] == words
    assert segmenter.cut(text) == words  # deterministic


@pytest.mark.parametrize("standard", sorted({standard for _, standard, _ in CASES}))
def test_cli_cuts_as_the_api(segmenters, seg_env, standard):
    texts = [text for text, s, _ in CASES if s == standard]
    proc = subprocess.run(SEG + ["--standard", standard], input="\n".join(texts + [""]).encode(), env=seg_env,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().split("\n")
    assert lines[:-1] == [" ".join(segmenters[standard].cut(text)) for text in texts] and lines[-1] == ""


def test_a_batch_cuts_as_single_lines(segmenters):
    texts = [text for text, s, _ in CASES if s == "pku"]
    segmenter = segmenters["pku"]
    assert list(segmenter.cut_lines(texts)) == [segmenter.cut(text) for text in texts]


STANDARDS = ["pku", "weibo", "ctb"]


def segmenter_property(examples: int):
    """Hypothesis settings for a property over the module's segmenters (slow to build, built once)."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


pieces = st.one_of(st.sampled_from(list(APART)), st.sampled_from(EMOJI), st.sampled_from(list(WORD)),
                   st.sampled_from([" ", "-", "·", "/", ".", "C++", "C#", "https://a.com/x", "10%", "—", "\u200b",
                                    "\ufeff"]))


@segmenter_property(examples=150)
@given(parts=st.lists(pieces, min_size=1, max_size=25), standard=st.sampled_from(STANDARDS))
@example(parts=["\ufeff", "\ufeff"], standard="pku")  # found by CI: marks with no base, each alone
def test_no_word_mixes_punctuation_or_emoji_with_a_word_character(segmenters, parts, standard):
    segmenter = segmenters[standard]
    text = "".join(parts)
    words = segmenter.cut(text)
    check(text, words, segmenter.vocab.lookup_form)
    assert segmenter.cut(text) == words


# Search mode (--mode search): (text, standard, shorter words it once took
# from inside an atom, the atoms: each comes out once, whole). A shorter word
# never begins or ends strictly inside an atom.
SEARCH_CASES = [
    ("访问cc98.org和https://github.com/foo查看C++教程", "pku", ["98", "8."], ["cc98.org", "C++"]),
    ("1998年3月5日", "pku", ["19", "99", "98", "199", "998"], []),
    ("2024年GDP增长5.2%", "pku", ["20", "02", "24", "024", "5.", "2%", "5.2"], ["GDP", "5.2%"]),
    ("售价¥1,299.00元", "pku", ["29", "99", "9.", "299"], []),
    ("电话138-0013-8000", "pku", ["13", "38", "01", "80", "138", "800"], ["138-0013-8000"]),
    ("邮箱name2010@example.com", "pku", ["20", "01", "10", "201", "010"], ["name2010@example.com"]),
    ("版本v1.2.3发布了", "pku", ["1.", "2.", "1.2", "2.3"], ["v1.2.3"]),
    ("在19:30:05开会", "pku", ["19", "30"], ["19:30:05"]),
    ("iPhone15售价5999元", "weibo", ["15", "59", "99"], ["iPhone15"]),
    ("Python3.11很快，RTX4090显卡", "pku", ["3.", "11", "3.1", "40", "90", "409"], ["Python3.11", "RTX4090"]),
    ("共12345678人", "ctb", ["12", "23", "34", "123", "234"], []),
]


def search_check(segmenter, text: str, tokens: list[tuple[str, int, int]]) -> None:
    """Every token of search mode is text[a:b]; the default words come out in
    order; no shorter word begins or ends strictly inside an atom."""
    assert all(text[a:b] == word for word, a, b in tokens)
    default = segmenter.cut(text)
    rest = iter(word for word, _, _ in tokens)
    assert all(word in rest for word in default)
    starts, ends = atoms.find(segmenter.vocab.lookup_form(text))
    inner = {i for s, e in zip(starts.tolist(), ends.tolist()) for i in range(s + 1, e)}
    assert not [word for word, a, b in tokens if a in inner or b in inner]


@pytest.mark.parametrize("text, standard, taken, whole", SEARCH_CASES)
def test_search_mode_adds_no_word_from_inside_an_atom(segmenters, text, standard, taken, whole):
    segmenter = segmenters[standard]
    words = segmenter.cut(text, mode="search")
    search_check(segmenter, text, list(segmenter.tokenize(text, mode="search")))
    assert [token for token in taken if token in words] == []
    assert [words.count(atom) for atom in whole] == [1] * len(whole), words


@pytest.mark.parametrize("standard", sorted({standard for _, standard, _, _ in SEARCH_CASES}))
def test_cli_search_mode_cuts_as_the_api(segmenters, seg_env, standard):
    cases = [(text, taken) for text, s, taken, _ in SEARCH_CASES if s == standard]
    proc = subprocess.run(SEG + ["--standard", standard, "--mode", "search"],
                          input="".join(text + "\n" for text, _ in cases).encode(), env=seg_env, capture_output=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().split("\n")
    assert [[token for token in taken if token in line.split(" ")] for (_, taken), line in zip(cases, lines)] == [
        []] * len(cases)
    assert lines[:-1] == [" ".join(segmenters[standard].cut(text, mode="search")) for text, _ in cases]


search_pieces = st.one_of(st.sampled_from(list(WORD)), st.sampled_from(["1998年", "12345", "5.2%", "v1.2.3", "cc98.org",
                                                                        "19:30", "中华人民共和国", "C++", "，", " "]))


@segmenter_property(examples=100)
@given(parts=st.lists(search_pieces, min_size=1, max_size=20), standard=st.sampled_from(STANDARDS))
def test_search_words_never_cut_into_an_atom(segmenters, parts, standard):
    segmenter = segmenters[standard]
    text = "".join(parts)
    search_check(segmenter, text, list(segmenter.tokenize(text, mode="search")))
