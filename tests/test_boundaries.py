"""Boundaries: punctuation, symbols and emoji stand apart from words, and Latin
from Han unless a known word spans them (segcli/boundaries.py)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segcli import _core, atoms, boundaries
from segcli.decode import B, E, HARD, M, S, decode_one, word_spans
from segcli.encode import codepoints


def marked(segmenter, text: str, standard: str = "pku") -> str:
    """`text` with a | at each cut the rules require (outside atoms)."""
    cps = codepoints(text)
    folded = segmenter.vocab.lookup_codepoints(cps)
    cuts = boundaries.required_cuts(folded, cps, segmenter.vocab, standard, *atoms.find_codepoints(folded))
    pieces, at = [], 0
    for i in cuts.tolist():
        pieces.append(text[at : i + 1])
        at = i + 1
    return "|".join(pieces + [text[at:]])


# The text with | where a cut is required; the standard is pku unless given.
CASES = [
    ("[打赏]", "weibo", "[|打赏|]"),
    ("[打赏]", "pku", "[|打赏|]"),
    ("[关于博主]", "weibo", "[|关于博主|]"),
    ("[关于博主]", "pku", "[关于博主]"),  # People's Daily 1998's brackets: the model decides
    ("[雷锋车]", "pku", "[雷锋车]"),
    ("[关于博主](/about)，[PPT下载]", "pku", "[|关于博主|]|(|/|about|)|，|[|PPT|下载|]"),  # markdown, ASCII
    ("（[中央人民广播电台]记者", "pku", "（|[中央人民广播电台]|记者"),
    ("［注意］这里有坑", "pku", "［|注意|］|这里有坑"),  # full-width: never People's Daily's markup
    ("【公告】《通知》「引」『号』“好”", "weibo", "【|公告|】|《|通知|》|「|引|」|『|号|』|“|好|”"),
    ("谢谢🙏", "pku", "谢谢|🙏"),
    ("加油💪我们能赢", "pku", "加油|💪|我们能赢"),
    ("哈哈😂😂", "pku", "哈哈|😂|😂"),
    ("点赞👍🏻👍", "weibo", "点赞|👍🏻|👍"),
    ("国旗🇨🇳🇺🇸", "pku", "国旗|🇨🇳|🇺🇸"),
    ("一家👨\u200d👩\u200d👧好", "pku", "一家|👨\u200d👩\u200d👧|好"),
    ("爱你❤️了", "pku", "爱你|❤️|了"),
    ("这个模型有百万token的上下文", "pku", "这个模型有百万|token|的上下文"),
    ("在GitHub上Star数很多", "pku", "在|GitHub|上|Star|数很多"),
    ("Bi-MEMM比CRF效果好", "pku", "Bi-MEMM|比|CRF|效果好"),
    ("C++和C#都是", "pku", "C++|和|C#|都是"),
    ("用Node.js和.NET写", "pku", "用|Node.js|和|.NET|写"),
    ("i.e.即，U.S.A.的，１．加强", "pku", "i.e|.|即|，|U.S.A|.|的|，|１．加强"),  # a dot ends an abbreviation
    ("买A股和T恤，唱卡拉OK，办IC卡", "pku", "买|A股和|T恤|，|唱卡拉OK|，|办|IC卡"),  # known words
    ("1998年3月5G手机", "pku", "1998年3月5G|手机"),  # digits next to Han: the model decides
    ("Q3财报，Win10系统，MP3格式，歼7E型", "pku", "Q3|财报|，|Win10|系统|，|MP3|格式|，|歼7E型"),  # a Latin word's digit; 歼7E型: a known word
    ("他说：“好！”", "pku", "他说|：|“|好|！|”"),
    ("好——他说……。”", "pku", "好|——|他说|……|。|”"),  # runs of one character: the model
    ("嗯。。。。。。对！！真的？？，，、、", "pku", "嗯|。|。|。|。|。|。|对|！|！|真的|？|？|，|，|、|、"),  # sentence marks: each
    ("好...---~~===", "pku", "好|...|---|~~|==="),  # other runs: inside each, the model
    ("中文\u200b分词，\u200b\u200b数组", "pku", "中文|\u200b|分词|，|\u200b\u200b|数组"),  # zero-width spaces: boundaries
    ("中\u2060文，中\ufeff文", "pku", "中\u2060文|，|中\ufeff文"),  # a word joiner forbids a break: a mark
    ("真的？！", "pku", "真的|？|！"),
    ("道—琼斯，铁木尔·达瓦买提，元／平方米，AT&T", "pku", "道—琼斯|，|铁木尔·达瓦买提|，|元／平方米|，|AT&T"),
    ("比分３∶０，２·１３，１／３，4×100", "pku", "比分３∶０|，|２·１３|，|１／３|，|4×100"),
    ("２‰，28℃左右，¥99", "pku", "２‰|，|28℃|左右|，|¥99"),
    ("增长30%的，直-18", "pku", "增长30%|的|，|直-18"),  # a number's sign: the model decides
    ("二○○一年", "pku", "二○○一年"),
    ("参见https://host/path\\#frag。", "pku", "参见|https://host/path\\#frag|。"),
    ("链接(https://a.com/x)和\\\\", "pku", "链接|(|https://a.com/x|)|和|\\\\"),
    ("#话题#@张三", "weibo", "#|话题|#|@|张三"),
    ("见/usr/bin和/data/目录，9.60元/KG", "pku", "见|/usr/bin|和|/data/|目录|，|9.60元/KG"),  # a path's slash next to Han
    ("按0️⃣1️⃣或#⃣好", "pku", "按|0️⃣|1️⃣|或|#⃣|好"),  # a keycap is an emoji
    ("五星⭐⭐好评，任务✅✅，🐈‍⬛好", "pku", "五星|⭐|⭐|好评|，|任务|✅|✅|，|🐈‍⬛|好"),  # emoji below U+1F000
    ("★★★好评", "pku", "★★★|好评"),  # a symbol, not an emoji: its run is the model's
    ("a\u0301好", "pku", "a\u0301|好"),  # a combining mark belongs to its letter
]


@pytest.mark.parametrize("text, standard, expected", CASES)
def test_required_cuts(segmenter, text, standard, expected):
    assert marked(segmenter, text, standard) == expected


def test_a_user_dictionary_word_is_exempt(segmenter):
    from segcli import Segmenter

    seg = Segmenter(entries={"C#大法": "force", "微博[哈哈]": "force", "谢谢🙏": None, "Star数": None, "A.I.": 1e6})
    assert seg.cut("我爱C#大法，刷微博[哈哈]") == ["我", "爱", "C#大法", "，", "刷", "微博[哈哈]"]
    assert seg.cut("谢谢🙏，Star数") == ["谢谢🙏", "，", "Star数"]  # listed words
    assert "A.I." in seg.cut("A.I.时代")  # a multiplier: the rules leave its inside to the model and the dictionary


def test_unknown_code_points_are_classified_once_and_alike():
    text = "ℌ⁂ǅ𝔸₿"  # letters, punctuation and a currency sign never seen before
    first = boundaries._classes(codepoints(text)).tolist()
    assert boundaries.UNKNOWN not in first
    assert boundaries._classes(codepoints(text)).tolist() == first
    assert first[1] == boundaries.PUNCT and first[4] == boundaries.PUNCT


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scores=st.lists(st.tuples(*[st.floats(-50, 0)] * 4), min_size=2, max_size=30), data=st.data())
def test_no_path_joins_across_a_required_cut(scores, data):
    scores = np.array(scores, dtype=np.float32)
    cuts = np.array(sorted(data.draw(st.sets(st.integers(0, len(scores) - 2)))), dtype=np.int64)
    boundaries.constrain(scores, cuts)
    ends = {b for _, b in word_spans(decode_one(scores, np.zeros((4, 4), np.float32)))}
    assert all(i + 1 in ends for i in cuts.tolist())


def test_constrain_takes_only_the_joining_tags():
    scores = np.zeros((3, 4), dtype=np.float32)
    boundaries.constrain(scores, np.array([0]))
    assert scores[0, [S, E]].tolist() == [0, 0] and scores[0, [B, M]].tolist() == [-HARD, -HARD]
    assert scores[1, [S, B]].tolist() == [0, 0] and scores[1, [M, E]].tolist() == [-HARD, -HARD]
    assert not scores[2].any()


def pair_cuts_twin(folded, cps, bits, atom_starts, atom_ends, span_starts, span_ends):
    """boundaries.pair_cuts in numpy: the C loop's twin."""
    from segcli.boundaries import (CONNECTOR, DIGIT, DIGIT_CONNECTOR, EMOJI, HAN, KEYCAP, LATIN, MARK, NONE,
                                   UNIT, _classes)

    n = len(folded)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    classes = _classes(folded)
    base = classes.copy()
    for i in range(n):  # a mark takes its base character's class; a keycap makes it an emoji
        if classes[i] == KEYCAP:
            base[i] = EMOJI
        elif classes[i] == MARK and i > 0:
            base[i] = base[i - 1]
    # The digit, # or * that begins a keycap is an emoji to the character before it.
    keycap_start = [i + 1 < n and (classes[i] == DIGIT or folded[i] in (0x23, 0x2A))
                    and (folded[i + 1] == 0x20E3 or (folded[i + 1] == 0xFE0F and i + 2 < n and folded[i + 2] == 0x20E3))
                    for i in range(n)]
    rights = np.where(keycap_start, EMOJI, classes)
    is_word = np.isin(classes, [HAN, LATIN, DIGIT, boundaries.LETTER])
    base_word = np.isin(base, [HAN, LATIN, DIGIT, boundaries.LETTER])
    base_punct = np.isin(base, [boundaries.PUNCT, CONNECTOR, DIGIT_CONNECTOR, UNIT])
    is_punct = np.isin(rights, [boundaries.PUNCT, CONNECTOR, DIGIT_CONNECTOR, UNIT])
    right_word = np.isin(rights, [HAN, LATIN, DIGIT, boundaries.LETTER])
    cuts, deferred = [], []
    for i in range(n - 1):
        left, right = base[i], rights[i + 1]
        before_word = i > 0 and base_word[i - 1]
        before_digit = i > 0 and base[i - 1] == DIGIT
        after_word = i + 2 < n and is_word[i + 2]
        after_digit = i + 2 < n and classes[i + 2] == DIGIT
        kind = 0
        if right in (MARK, KEYCAP):
            continue
        if bits & 1:
            cut = False
            if base_punct[i] and right_word[i + 1]:
                dot_between = folded[i] == 0x2E and i > 0 and {base[i - 1], right} == {LATIN, HAN}
                cut = not ((left == CONNECTOR and before_word and not dot_between)
                           or (left == DIGIT_CONNECTOR and before_digit and right == DIGIT)
                           or (left == UNIT and right == DIGIT))
            elif base_word[i] and is_punct[i + 1]:
                dot_between = folded[i + 1] == 0x2E and i + 2 < n and {left, classes[i + 2]} == {LATIN, HAN}
                cut = not ((right == CONNECTOR and after_word and not dot_between)
                           or (right == DIGIT_CONNECTOR and left == DIGIT and after_digit)
                           or (right == UNIT and left == DIGIT))
            if cut:
                kind = 2 if bits & 16 and (cps[i] == 0x5B or cps[i + 1] == 0x5D) else 1
        repeated_apart = folded[i] == folded[i + 1] and chr(folded[i]) in boundaries.REPEATS_APART
        if not kind and bits & 2 and base_punct[i] and is_punct[i + 1] and (folded[i] != folded[i + 1]
                                                                           or repeated_apart):
            kind = 1
        if not kind and bits & 4 and ((left == EMOJI and right != NONE) or (right == EMOJI and left != NONE)):
            kind = 1
        if not kind and bits & 8 and {left, right} == {LATIN, HAN}:
            kind = 2
        path_edge = ((left == HAN and folded[i + 1] == 0x2F and i + 1 in list(atom_starts))
                     or (folded[i] == 0x2F and classes[i + 1] == HAN and i + 1 in list(atom_ends)))
        if not kind and bits & 1 and path_edge:
            kind = 1
        ends_latin_word = [a for a, b in zip(atom_starts, atom_ends) if b == i + 1 and LATIN in classes[a:i]]
        if not kind and bits & 8 and left == DIGIT and right == HAN and ends_latin_word:
            kind = 2
        if not kind or any(a <= i and i + 2 <= b for a, b in zip(atom_starts, atom_ends)):
            continue
        if any(a <= i and i + 2 <= b for a, b in zip(span_starts, span_ends)):
            continue
        (cuts if kind == 1 else deferred).append(i)
    return np.array(cuts, np.int64), np.array(deferred, np.int64)


_TWIN_CHARS = list("好的中文aZ09.-·/:∶%‰，。！？!?、[]［］（）“”—…@#*+") + ["\u200b", "\ufeff", "😂", "\U0001F3FB", "\u0301", "\u200d", " ", "\n",
                                                                    "ℌ", "α", "한", "\u20e3", "\ufe0f", "⭐", "★"]


@settings(max_examples=300, deadline=None)
@given(chars=st.lists(st.sampled_from(_TWIN_CHARS), max_size=40), bits=st.integers(0, 31), data=st.data())
def test_pair_cuts_agree_with_their_numpy_twin(chars, bits, data):
    text = "".join(chars)
    cps = codepoints(text).astype(np.uint32)
    folded = cps.copy()
    folded[(folded >= 0xFF01) & (folded <= 0xFF5E)] -= 0xFEE0
    n = len(cps)
    bounds = sorted(data.draw(st.sets(st.integers(0, n), max_size=6)))
    atom_starts, atom_ends = np.array(bounds[0::2][: len(bounds) // 2], np.int64), np.array(bounds[1::2], np.int64)
    spans = data.draw(st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), max_size=3))
    span_starts = np.array([min(a, b) for a, b in spans], np.int64)
    span_ends = np.array([max(a, b) for a, b in spans], np.int64)
    got = boundaries.pair_cuts(folded, cps, bits, atom_starts, atom_ends, span_starts, span_ends)
    want = pair_cuts_twin(folded, cps, bits, atom_starts, atom_ends, span_starts, span_ends)
    assert [g.tolist() for g in got] == [w.tolist() for w in want]


def test_classes_agree_with_the_c_loop():
    # csrc/atoms.c numbers the classes and rule bits as boundaries.py does:
    # a class per rule, each seen through the C loop.
    from segcli.boundaries import Rules

    assert Rules().bits("pku") == 31 and Rules().bits("ctb") == 15
    assert Rules(punctuation=False, emoji=False, punctuation_runs=False, latin_han=False).bits("pku") == 16
    cases = {"好，": 1, "a好": 8, "。”": 2, "😂😂": 4, "!!": 2, "好\u200b": 1}
    for text, bit in cases.items():
        cps = codepoints(text).astype(np.uint32)
        cuts, deferred = boundaries.pair_cuts(cps, cps, bit, np.empty(0, np.int64), np.empty(0, np.int64))
        assert len(cuts) + len(deferred) == 1, text
        cuts, deferred = boundaries.pair_cuts(cps, cps, 31 & ~bit, np.empty(0, np.int64), np.empty(0, np.int64))
        assert len(cuts) + len(deferred) == 0, text


def test_known_words_span_agrees_with_a_set_of_words(segmenter):
    vocab = segmenter.vocab
    text = "买A股和T恤，唱卡拉OK，办IC卡，GitHub上，B超"
    folded = vocab.lookup_codepoints(codepoints(text)).astype(np.uint32)
    at = np.array([i for i in range(len(text) - 1) if {text[i].isascii(), text[i + 1].isascii()} == {True, False}
                   and "，" not in text[i:i + 2]], np.int64)
    keys = {n: set(vocab.word_keys.get(n, np.empty(0)).tolist()) | set(vocab.lexicon_keys.get(n, np.empty(0)).tolist())
            for n in range(2, 6)}

    def known(word):
        found = vocab.word_keys_of([word], len(word)).get(len(word))
        return found is not None and len(found) == 1 and int(found[0]) in keys[len(word)]

    want = [any(known(text[a:b]) for a in range(max(0, i - 3), i + 1) for b in range(i + 2, min(len(text), a + 5) + 1))
            for i in at.tolist()]
    assert boundaries._known_words_span(folded, at, vocab).tolist() == want
    assert any(want) and not all(want)


@pytest.mark.parametrize("call", [
    lambda: _core.boundary_cuts(np.zeros(3, np.uint32), np.zeros(2, np.uint32), boundaries._CLASS, 31,
                                *[np.empty(0, np.int64)] * 4, np.empty(3, np.int64), np.empty(3, np.int64)),
    lambda: _core.boundary_cuts(np.zeros(3, np.uint32), np.zeros(3, np.uint32), boundaries._CLASS, 31,
                                *[np.empty(0, np.int64)] * 4, np.empty(2, np.int64), np.empty(3, np.int64)),
    lambda: _core.require_cuts(np.zeros((3, 4), np.float32), np.array([2]), HARD),
    lambda: _core.require_cuts(np.zeros((3, 4), np.float32), np.array([-1]), HARD),
    lambda: _core.known_spans(np.ones(8, np.int64), 4, 3, 10, np.zeros(2, np.int64), np.array([2, 0, 3]),
                              np.zeros(2, np.uint8)),
    lambda: _core.known_spans(np.ones(8, np.int64), 3, 1, 10, np.zeros(2, np.int64), np.array([2, 0, 2]),
                              np.zeros(2, np.uint8)),  # rows of 3 do not make 8 ids
])
def test_the_c_loops_check_their_buffers(call):
    with pytest.raises(ValueError):
        call()
