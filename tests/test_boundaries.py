"""Boundaries: punctuation, symbols and emoji stand apart from words, and Latin
from Han unless a known word spans them (segcli/boundaries.py)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segcli import atoms, boundaries
from segcli.decode import B, E, HARD, M, S, decode_one, word_spans
from segcli.encode import codepoints


def marked(segmenter, text: str, standard: str = "pku") -> str:
    """`text` with a | at each cut the rules require (outside atoms)."""
    cps = codepoints(text)
    folded = segmenter.vocab.lookup_codepoints(cps)
    found = atoms.find_codepoints(folded)
    cuts = boundaries.required_cuts(folded, cps, segmenter.vocab, standard, *found)
    cuts = cuts[~boundaries.inside(cuts, *found)]
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
    ("买A股和T恤，唱卡拉OK，办IC卡", "pku", "买|A股和|T恤|，|唱卡拉OK|，|办|IC卡"),  # known words
    ("1998年3月5G手机", "pku", "1998年3月5G|手机"),  # digits next to Han: the model decides
    ("他说：“好！”", "pku", "他说|：|“|好|！|”"),
    ("好——他说……。”", "pku", "好|——|他说|……|。|”"),  # runs of one character: the model
    ("真的？！", "pku", "真的|？|！"),
    ("道—琼斯，铁木尔·达瓦买提，元／平方米，AT&T", "pku", "道—琼斯|，|铁木尔·达瓦买提|，|元／平方米|，|AT&T"),
    ("比分３∶０，２·１３，１／３，4×100", "pku", "比分３∶０|，|２·１３|，|１／３|，|4×100"),
    ("２‰，28℃左右，¥99", "pku", "２‰|，|28℃|左右|，|¥99"),
    ("增长30%的，直-18", "pku", "增长30%|的|，|直-18"),  # a number's sign: the model decides
    ("二○○一年", "pku", "二○○一年"),
    ("参见https://host/path\\#frag。", "pku", "参见|https://host/path\\#frag|。"),
    ("链接(https://a.com/x)和\\\\", "pku", "链接|(|https://a.com/x|)|和|\\\\"),
    ("#话题#@张三", "weibo", "#|话题|#|@|张三"),
    ("a\u0301好", "pku", "a\u0301|好"),  # a combining mark belongs to its letter
]


@pytest.mark.parametrize("text, standard, expected", CASES)
def test_required_cuts(segmenter, text, standard, expected):
    assert marked(segmenter, text, standard) == expected


def test_a_user_dictionary_word_is_exempt(segmenter):
    from segcli import Segmenter

    seg = Segmenter(entries={"C#大法": "force", "微博[哈哈]": "force"})
    assert seg.cut("我爱C#大法，刷微博[哈哈]") == ["我", "爱", "C#大法", "，", "刷", "微博[哈哈]"]


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


@pytest.mark.parametrize("pairs, starts, ends, expected", [
    ([0, 1, 2, 3], [1], [3], [False, True, False, False]),
    ([0, 4, 6], [0, 2], [3, 8], [True, True, True]),  # overlapping spans
    ([5], [], [], [False]),
])
def test_inside(pairs, starts, ends, expected):
    got = boundaries.inside(np.array(pairs), np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64))
    assert got.tolist() == expected
