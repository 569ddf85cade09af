"""Atoms: Latin words, numbers, URLs and the like are never split inside."""

import sys
import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segcli import _core, atoms
from segcli.decode import B, E, HARD, S, decode_one, word_spans
from segcli.encode import codepoints

# text, the atoms found in it (those of two or more characters)
CASES = [
    ("Hello world", ["Hello", "world"]),
    ("please check the license", ["please", "check", "the", "license"]),
    ("don't e-mail", ["don't", "e-mail"]),
    ("iPhone15和5G，H2O", ["iPhone15", "5G", "H2O"]),
    ("GPT-4o的效果比GPT-3.5好", ["GPT-4o", "GPT-3.5"]),
    ("COVID-19疫情", ["COVID-19"]),
    ("售价1,299.00元", ["1,299.00"]),
    ("1,2,3", []),  # not groups of three: single digits, no atom
    ("增长-3.5%以上", ["-3.5%"]),
    ("1993-2013年", ["1993", "2013"]),  # two groups: a range, not one atom
    ("第1-4名", []),
    ("电话138-0013-8000", ["138-0013-8000"]),
    ("2024-01-05和2024/1/5", ["2024-01-05", "2024/1/5"]),
    ("14:52到19:30:05", ["14:52", "19:30:05"]),
    ("访问https://www.cc98.org/topic/123查看", ["https://www.cc98.org/topic/123"]),
    ("见www.example.com。", ["www.example.com"]),
    ("写信给name.x@example.com吧", ["name.x@example.com"]),
    ("一家\U0001F468\u200d\U0001F469\u200d\U0001F467", ["\U0001F468\u200d\U0001F469\u200d\U0001F467"]),
    ("@张三 #话题# ！！", []),  # the corpora cut these
    ("卡拉OK和A股", ["OK"]),
    ("C++和C#都是编程语言，g++、F#", ["C++", "C#", "g++", "F#"]),
    ("C++11和3#楼", ["C++", "11"]),  # 3#: building No. 3
    ("用Node.js和ASP.NET、.NET写", ["Node.js", "ASP.NET", ".NET"]),
    ("变量snake_case", ["snake_case"]),
    ("参见https://host/path\\#frag和\\_x", ["https://host/path\\#frag"]),  # markdown escapes
    ("[链接](https://a.com/x)和\\\\", ["https://a.com/x"]),
    ("见https://en.wikipedia.org/wiki/Foo_(bar)。", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    ("(https://a.com/x(y", ["https://a.com/x"]),  # parentheses only in pairs
    ("国旗\U0001F1E8\U0001F1F3\U0001F1FA\U0001F1F8", ["\U0001F1E8\U0001F1F3", "\U0001F1FA\U0001F1F8"]),
    ("按1\ufe0f\u20e3或#\u20e3", ["1\ufe0f\u20e3", "#\u20e3"]),
    ("点赞\U0001F44D\U0001F3FB\U0001F44D", ["\U0001F44D\U0001F3FB"]),
    # Paths: home, dot and drive relative, absolute with two parts or more,
    # backslashed parts after a space; a link's /about and 元/平方米 are not.
    ("配置在~/.bashrc里，见./data/和../scripts/run.sh", ["~/.bashrc", "./data/", "../scripts/run.sh"]),
    ("日志在/var/log/nginx/access.log里，放到/usr/local/bin/下", ["/var/log/nginx/access.log", "/usr/local/bin/"]),
    ("看C:\\Users\\admin\\AppData目录，D:/data/train.csv。", ["C:\\Users\\admin\\AppData", "D:/data/train.csv"]),
    ("C:\\Program Files\\Python311\\python.exe", ["C:\\Program", "Files\\Python311\\python.exe"]),
    ("[关于](/about)，元/平方米，km/h，见/usr/bin。", ["about", "km", "/usr/bin"]),
    ("运行python3 sort.py --size 1000 --dry-run", ["python3", "sort.py", "--size", "1000", "--dry-run"]),
    ("a--b，——中国", []),
    # A URL's Han parts between two of its delimiters are in it; at its end, not.
    ("搜https://www.google.com/search?q=分词&hl=zh看看", ["https://www.google.com/search?q=分词&hl=zh"]),
    ("http://a.com/路径/x.html和ftp://a.b/文件/", ["http://a.com/路径/x.html", "ftp://a.b/文件/"]),
    ("https://zh.wikipedia.org/wiki/分词查看，https://a.com/x或/usr/bin",
     ["https://zh.wikipedia.org/wiki/", "https://a.com/x", "/usr/bin"]),
    # ... unless the end is plain: a query value before the end or punctuation, a URL in brackets.
    ("详见[维基百科](https://zh.wikipedia.org/wiki/快速排序)。", ["https://zh.wikipedia.org/wiki/快速排序"]),
    ("见（https://a.cn/文档/安装）", ["https://a.cn/文档/安装"]),
    ("网址是https://example.com/搜索?q=中文", ["https://example.com/搜索?q=中文"]),
    ("搜https://s.cn/?q=分词，或https://s.cn/?q=分词 好", ["https://s.cn/?q=分词", "https://s.cn/?q=分词"]),
    ("(https://a.cn/x查看)和https://a.cn/?q=分词a", ["https://a.cn/x", "https://a.cn/?q="]),
    ("/usr/local/中文/bin", ["/usr/local/", "bin"]),  # a path is ASCII
    ("====分割线====，a==b，x = 1", ["====", "====", "=="]),  # one = is no run
    ("## 标题，#话题##话题#", []),  # nor are runs of #
]


@pytest.mark.parametrize("text, expected", CASES)
def test_atoms_found(text, expected):
    starts, ends = atoms.find(text)
    assert [text[a:b] for a, b in zip(starts.tolist(), ends.tolist())] == expected


def test_every_pattern_has_a_case():
    names = {name for name, _, _ in atoms.PATTERNS}
    assert names == {"url", "email", "keycap", "path", "option", "digit groups", "clock time", "latin word",
                     "number", "emoji sequence", "equals run"}
    for _, _, examples in atoms.PATTERNS:  # the documented examples are atoms themselves
        for example in examples.split(", "):
            starts, ends = atoms.find(example)
            assert (starts.tolist(), ends.tolist()) == ([0], [len(example)]), example


def test_forced_words_win_over_atoms():
    starts, ends = np.array([0, 10]), np.array([6, 14])
    kept = atoms.without_overlaps(starts, ends, np.array([2, 20]), np.array([4, 22]))
    assert [k.tolist() for k in kept] == [[10], [14]]
    kept = atoms.without_overlaps(starts, ends, np.array([5]), np.array([11]))  # across both edges
    assert [k.tolist() for k in kept] == [[], []]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scores=st.lists(st.tuples(*[st.floats(-50, 0)] * 4), min_size=2, max_size=30), data=st.data())
def test_no_path_cuts_inside_an_atom(scores, data):
    scores = np.array(scores, dtype=np.float32)
    n = len(scores)
    start = data.draw(st.integers(0, n - 2))
    end = data.draw(st.integers(start + 2, n))
    atoms.constrain(scores, np.array([start]), np.array([end]))
    tags = decode_one(scores, np.zeros((4, 4), np.float32))
    cuts = {b for _, b in word_spans(tags)} | {a for a, _ in word_spans(tags)}
    assert not any(start < c < end for c in cuts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.text(st.sampled_from("扫描二维码关注的 ，。a1-"), max_size=6),
    atom=st.sampled_from([atom for _, found in CASES for atom in found]),
    after=st.text(st.sampled_from("扫描二维码关注的 ，。"), max_size=6),
)
def test_segmenter_never_splits_an_atom(segmenter, before, atom, after):
    text = before + atom + after
    starts, ends = atoms.find(text)
    words = segmenter.cut(text)
    offsets, at = [], 0
    for word in words:
        at = text.index(word, at)
        offsets.append((at, at + len(word)))
        at += len(word)
    cuts = {a for a, _ in offsets} | {b for _, b in offsets}
    for a, b in zip(starts.tolist(), ends.tolist()):
        assert not any(a < c < b for c in cuts), (text, words, text[a:b])


ATOM_ALPHABET = "中文年A股aZ09.,:/-_@#%+'’ \n\t\u3000👍👨\u200d\ufe0f\u20e3🇨🇳☀http:wwe，。"


@settings(max_examples=500, deadline=None)
@given(st.text(ATOM_ALPHABET, max_size=60) | st.text(max_size=30))
def test_find_equals_the_expression_over_the_whole_text(text):
    whole = [m.span() for m in atoms._ATOM.finditer(text) if m.end() - m.start() > 1]
    starts, ends = atoms.expression_atoms(np.ascontiguousarray(codepoints(text), dtype=np.uint32))
    assert list(zip(starts.tolist(), ends.tolist())) == whole
    # find: those, a URL's Han parts and each character with its marks, sorted and apart.
    found = list(zip(*(bounds.tolist() for bounds in atoms.find(text))))
    assert all(a < b <= c for (a, b), (c, _) in zip(found, found[1:] + [(len(text), None)]))
    assert all(any(c <= a and b <= d for c, d in found) for a, b in whole)
    def is_mark(char):
        return unicodedata.category(char) in ("Mn", "Me", "Cf")

    def base(i):  # the character a mark at i belongs to, if any
        while i > 0 and is_mark(text[i]):
            i -= 1
        return None if is_mark(text[i]) or text[i].isspace() or unicodedata.category(text[i])[0] == "C" else i

    marks = [i for i in range(1, len(text)) if is_mark(text[i]) and base(i) is not None]
    assert all(any(c <= base(i) < i < d for c, d in found) for i in marks)


def _sre_modules():
    """The regular-expression parser and its constants (private modules renamed in 3.11)."""
    if sys.version_info >= (3, 11):
        from re import _constants, _parser
    else:
        import sre_constants as _constants
        import sre_parse as _parser
    return _parser, _constants


def _consumed_code_points(parsed) -> set[int]:
    """Every code point the parsed expression can consume (lookarounds left out)."""
    _, c = _sre_modules()
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT) + ((c.POSSESSIVE_REPEAT,) if hasattr(c, "POSSESSIVE_REPEAT") else ())
    found: set[int] = set()
    for op, av in parsed:
        if op is c.LITERAL:
            found.add(av)
        elif op is c.IN:
            for item_op, item in av:
                if item_op is c.LITERAL:
                    found.add(item)
                elif item_op is c.RANGE:
                    found.update(range(item[0], item[1] + 1))
                else:  # a category or a negated class would need a wider table
                    raise AssertionError(f"atoms.find cannot prefilter {item_op}")
        elif op is c.BRANCH:
            for branch in av[1]:
                found |= _consumed_code_points(branch)
        elif op is c.SUBPATTERN:
            found |= _consumed_code_points(av[3])
        elif op in repeats:
            found |= _consumed_code_points(av[2])
        elif op in (c.ASSERT, c.ASSERT_NOT, c.AT):
            continue
        else:
            raise AssertionError(f"atoms.find cannot prefilter {op}")
    return found


def test_every_character_an_atom_can_hold_is_an_atom_character():
    # find() runs the expression only over runs of these characters: one a
    # pattern can consume but the table lacks would silently lose atoms.
    parser, _ = _sre_modules()
    consumed = _consumed_code_points(parser.parse(atoms._ATOM.pattern))
    assert consumed and all(atoms._ATOM_CHAR[cp] for cp in consumed)


# --- the C loops against the numpy they replaced ------------------------------------


def _runs_twin(cps: np.ndarray, table: np.ndarray) -> tuple[list, list]:
    """Runs of two or more table characters (numpy), and their code points joined, a newline after each."""
    flags = np.append(table, 0)[np.minimum(cps, len(table))].astype(np.int8)
    edges = np.diff(flags, prepend=0, append=0)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    long = ends - starts > 1
    runs = list(zip(starts[long].tolist(), ends[long].tolist()))
    joined = [c for a, b in runs for c in [*cps[a:b].tolist(), ord("\n")]]
    return runs, joined


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([0x41, 0x4E2D, 0x31, 0x20, 0x1F44D, 0x200D, 0x2019]),
                          st.integers(0, 0x10FFFF), st.just(0xFFFFFFFF)), max_size=50))
def test_atom_runs_agree_with_their_numpy_twin(cps):
    cps = np.array(cps, dtype=np.uint32)
    starts, ends = np.empty(len(cps) // 2 + 1, np.int64), np.empty(len(cps) // 2 + 1, np.int64)
    joined = np.empty(len(cps) + len(cps) // 2 + 1, np.uint32)
    count, length = _core.atom_runs(cps, atoms._ATOM_CHAR, starts, ends, joined)
    runs, twin_joined = _runs_twin(cps, atoms._ATOM_CHAR)
    assert list(zip(starts[:count].tolist(), ends[:count].tolist())) == runs
    assert joined[:length].tolist() == twin_joined


def _constrain_twin(scores: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    lengths = ends - starts
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    positions = np.repeat(starts, lengths) + offsets
    last = offsets == np.repeat(lengths - 1, lengths)
    scores[positions, S] -= HARD
    scores[positions[offsets > 0], B] -= HARD
    scores[positions[~last], E] -= HARD


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 30), st.data())
def test_constrain_agrees_with_its_numpy_twin(n, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=8)))
    spans = [(a, b) for a, b in zip(cuts[::2], cuts[1::2])]  # in order, apart (maybe empty)
    starts = np.array([a for a, _ in spans], np.int64)
    ends = np.array([b for _, b in spans], np.int64)
    scores = np.array(data.draw(st.lists(st.floats(-50, 0, width=32), min_size=4 * n, max_size=4 * n)),
                      np.float32).reshape(n, 4)
    twin = scores.copy()
    atoms.constrain(scores, starts, ends)
    _constrain_twin(twin, starts, ends)
    assert scores.tolist() == twin.tolist()


@pytest.mark.parametrize("starts, ends", [([2, 1], [3, 2]), ([0, 1], [2, 3]), ([3], [2]), ([0], [6]), ([-1], [1])])
def test_constrain_refuses_spans_out_of_order_overlapping_or_outside(starts, ends):
    with pytest.raises(ValueError, match="in order, apart and within"):
        atoms.constrain(np.zeros((5, 4), np.float32), np.array(starts), np.array(ends))


def test_constrain_reads_its_spans_before_writing():
    # ends shares memory with the scores: the writes must not change the
    # spans already checked (they did, and wrote past the array).
    memory = np.zeros(48, np.float32)
    scores = memory[:32].reshape(8, 4)
    ends = memory.view(np.uint8)[24:40].view(np.int64)
    ends[:] = [3, 8]
    _core.constrain(scores, np.array([2, 8], np.int64), ends, 1e4)
    assert scores[2, S] == -1e4 and not scores[3:].any()


def test_constrain_and_atom_runs_check_their_buffers():
    with pytest.raises(ValueError, match="float32"):
        atoms.constrain(np.zeros((5, 4), np.float64), np.array([0]), np.array([2]))
    with pytest.raises(ValueError, match="at least"):
        _core.atom_runs(np.zeros(6, np.uint32), atoms._ATOM_CHAR, np.empty(3, np.int64), np.empty(3, np.int64),
                        np.empty(9, np.uint32))
