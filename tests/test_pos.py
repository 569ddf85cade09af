"""Part-of-speech tags as a user meets them: seg --pos, Segmenter.tag,
tokenize(pos=True), tag_lines, jsonl, spaCy's tag_ and pos_, seg eval
with tags, dictionary tags, the atom table, a model without a head.

The tests run the shipped model (its tagging head); SEG_POS_TEST_MODEL
names another model directory to run them on (a model before it ships).
No test pins a tag the model chooses, except the golden files (pinned to
the model: tests/golden/regenerate_pos.py) and what the table fixes
(atoms, punctuation, dictionary tags).
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from conftest import DEV_LINES, SEG, cli_runner

from segcli import Segmenter, atoms, pos
from segcli.errors import ModelError
from segcli.encode import codepoints
from segcli.evaluate import compare, split_tags
from segcli.model import METADATA_FILE, default_dir

MODEL = os.environ.get("SEG_POS_TEST_MODEL") or None
MODEL_ARGS = ["--model", MODEL] if MODEL else []
GOLDEN = Path(__file__).parent / "golden"
# Upper-case Universal POS tags (https://universaldependencies.org/u/pos/), and spaCy's SPACE.
UPOS = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X", "SPACE"}


@pytest.fixture(scope="module")
def tagger():
    return Segmenter(MODEL)


@pytest.fixture(scope="module")
def headless(tmp_path_factory):
    """A copy of the model whose metadata names no tagging head."""
    source = Path(MODEL) if MODEL else default_dir()
    target = tmp_path_factory.mktemp("headless")
    for path in source.iterdir():
        if path.is_file():
            (target / path.name).symlink_to(path.resolve())
    metadata = json.loads((source / METADATA_FILE).read_text(encoding="utf-8"))
    metadata.pop("pos", None)
    (target / METADATA_FILE).unlink()
    (target / METADATA_FILE).write_text(json.dumps(metadata), encoding="utf-8")
    return target


def seg(args, text, env, check=True):
    proc = subprocess.run([*SEG, *MODEL_ARGS, *args], input=text.encode(), capture_output=True, env=env)
    if check:
        assert proc.returncode == 0, proc.stderr.decode()
    return proc


def split_tagged(line: str, delimiter: str = " ", pos_delimiter: str = "/"):
    return [tuple(token.rsplit(pos_delimiter, 1)) for token in line.split(delimiter)] if line else []


# --- the library -----------------------------------------------------------------

def test_the_model_has_a_tagging_head_with_pku_tags(tagger):
    assert tagger.pos_tags is not None
    assert {"n", "v", "w", "m", "nr", "ns", "nt", "u", "d", "p"} <= set(tagger.pos_tags)


@pytest.mark.parametrize("text", [*DEV_LINES, "", "  ", " 北京 大学\t生命 ", "访问 https://www.cc98.org 😀"])
def test_tag_gives_a_tag_of_the_model_to_each_word_of_cut(tagger, text):
    tagged = tagger.tag(text)
    assert [word for word, _ in tagged] == tagger.cut(text)
    assert all(tag in tagger.pos_tags for _, tag in tagged)


def test_tokenize_with_pos_is_tokenize_and_tag(tagger):
    text = "  中共中央总书记、国家主席江泽民发表新年讲话。 "
    tokens = list(tagger.tokenize(text, pos=True))
    assert [t[:3] for t in tokens] == list(tagger.tokenize(text))
    assert [(t[0], t[3]) for t in tokens] == tagger.tag(text)


def test_tag_lines_is_tag_of_each_line(tagger):
    lines = [*DEV_LINES, "", "   ", "一"]
    assert list(tagger.tag_lines(lines)) == [tagger.tag(line) for line in lines]
    assert list(tagger.tag_lines(iter(lines), batch_chars=7)) == [tagger.tag(line) for line in lines]


@pytest.mark.parametrize("lines, message", [
    ("一行", "tag_lines() takes an iterable of lines (str), not a str"),
    (b"bytes", "tag_lines() takes an iterable of lines (str), not bytes"),
    (["ok", 3], "tag_lines() takes lines (str), but item 1 is int"),
])
def test_tag_lines_names_itself_in_its_type_errors(tagger, lines, message):
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(tagger.tag_lines(lines))


def test_search_mode_tags_every_token(tagger):
    text = "中华人民共和国成立了。"
    tagged = tagger.tag(text, mode="search")
    assert [word for word, _ in tagged] == tagger.cut(text, mode="search")
    assert [(w, s, e) for w, s, e, _ in tagger.tokenize(text, mode="search", pos=True)] == list(
        tagger.tokenize(text, mode="search"))
    # A word that is also a token of the default cut gets the same tag there.
    default = dict(tagger.tag(text))
    assert all(tag == default[word] for word, tag in tagged if word in default)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.sampled_from("中国人民的新世纪，。 1a2😀\t.,-@/:ＡＢ１２"), max_size=30))
def test_tag_is_cut_with_a_tag_for_any_text(tagger, text):
    tagged = tagger.tag(text)
    assert [word for word, _ in tagged] == tagger.cut(text)
    assert all(isinstance(tag, str) and tag for _, tag in tagged)


def test_tags_of_a_cut_do_not_change_it(tagger):
    """Tagging never moves a cut: the same words with and without the head asked."""
    for standard in tagger.standards:
        other = Segmenter(MODEL, standard=standard)
        assert [[w for w, _ in p] for p in other.tag_lines(DEV_LINES)] == list(other.cut_lines(DEV_LINES))


def test_plain_cutting_never_reads_the_head_and_tagging_scores_as_plain_does(monkeypatch):
    """seg without --pos costs nothing: the head is not even read; with it,
    the characters are scored as often and the same way as without."""
    segmenter = Segmenter(MODEL)
    calls = []
    score = segmenter._scorer.score

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return score(*args, **kwargs)

    monkeypatch.setattr(segmenter._scorer, "score", spy)
    segmenter.cut(DEV_LINES[0])
    list(segmenter.cut_lines(DEV_LINES))
    list(segmenter.tokenize(DEV_LINES[1], mode="search"))
    assert segmenter._loaded_pos_head is None
    plain = len(calls)
    list(segmenter.tag_lines(DEV_LINES))
    assert segmenter._loaded_pos_head is not None
    assert len(calls) - plain == plain - 2 and not any(calls)


# --- the atom table -----------------------------------------------------------------

def test_every_atom_kind_has_a_tag():
    assert {name for name, _, _ in atoms.PATTERNS} <= set(pos.ATOM_TAGS)


@pytest.mark.parametrize("word, tag", [
    ("1,299.00", "m"), ("-3.5%", "m"), ("5", "m"), ("1998", "m"),
    ("138-0013-8000", "m"), ("2024/1/5", "m"), ("19:30", "m"),
    ("iPhone15", "nx"), ("GPT-4o", "nx"), ("A", "nx"), ("don't", "nx"),
    ("https://www.cc98.org/topic/123", "nx"), ("www.example.com", "nx"), ("name@example.com", "nx"),
    ("😀", "w"), ("👨\u200d👩\u200d👧", "w"), ("1\ufe0f\u20e3", "w"),
    (",", "w"), ("。", "w"), ("——", "w"), ("……", "w"), ("《", "w"), ("●", "w"), ("±", "w"), ("!?", "w"),
    ("℃", "q"), ("°", "q"),
    ("2024年", None), ("A股", None), ("北京", None), ("", None),
])
def test_kind_tags(word, tag):
    assert pos.kind_tag(word) == tag


def test_the_one_character_table_is_kind_tag():
    names, kinds = pos._single_kinds()
    assert [c for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF
            and names[kinds[c]] != pos._kind_tag(chr(c))] == []


@pytest.mark.parametrize("word, tag", [
    ("１，２９９．００", "m"), ("１９９８", "m"), ("ＩＭＦ", "nx"), ("，", "w"), ("！", "w"), ("（", "w"),
])
def test_full_width_words_get_the_tag_of_their_lookup_form(tagger, word, tag):
    # Spaces around the word keep its cut the model's business no more.
    assert tagger.tag(f"甲 {word} 乙")[1] == (word, tag)


@pytest.mark.parametrize("word, tag", [
    ("https://www.cc98.org/topic/123", "nx"), ("name@example.com", "nx"), ("1,299.00", "m"), ("iPhone15", "nx"),
    ("😀", "w"), ("，", "w"), ("。", "w"),
])
def test_atoms_and_punctuation_get_the_tables_tag(tagger, word, tag):
    assert (word, tag) in tagger.tag(f"看 {word} 了")


@pytest.mark.parametrize("tag, word, upos", [
    ("n", "希望", "NOUN"), ("nr", "江泽民", "PROPN"), ("v", "发表", "VERB"), ("vn", "发展", "NOUN"),
    ("m", "一九九八", "NUM"), ("q", "张", "NOUN"), ("w", "，", "PUNCT"), ("w", "●", "SYM"), ("w", "😀", "SYM"),
    ("u", "的", "PART"), ("p", "在", "ADP"), ("c", "和", "CCONJ"), ("r", "我", "PRON"), ("d", "不", "ADV"),
    ("unknown", "词", "X"),
])
def test_universal(tag, word, upos):
    assert pos.universal(tag, word) == upos


def test_every_tag_of_the_model_has_a_universal_pos(tagger):
    assert set(tagger.pos_tags) <= set(pos.UNIVERSAL)
    assert set(pos.UNIVERSAL.values()) <= UPOS


# --- dictionary tags ------------------------------------------------------------------

@pytest.mark.parametrize("line", ["科学空间,force,nz", "科学空间 10 nz", "科学空间 nz"])
def test_a_dictionary_tag_wins(tmp_path, line):
    path = tmp_path / "dict.txt"
    path.write_text(line + "\n", encoding="utf-8")
    segmenter = Segmenter(MODEL, [path])
    assert ("科学空间", "nz") in segmenter.tag("科学空间是一个博客。")
    # Matched in its lookup form: the traditional spelling too.
    assert ("科學空間", "nz") in segmenter.tag("科學空間是一個博客。")


def test_a_dictionary_tag_after_a_multiplier_tags_the_word_wherever_it_is_cut(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("科学空间,10,nz\n", encoding="utf-8")
    segmenter = Segmenter(MODEL, [path])
    assert segmenter._dictionary.tag_of("科学空间") == "nz"
    tagged = [pair for text in ["科学空间", "科学空间是一个博客。", *DEV_LINES] for pair in segmenter.tag(text)]
    assert all(tag == "nz" for word, tag in tagged if word == "科学空间")


def test_a_dictionary_tag_wins_over_the_atom_table(tagger):
    from segcli.dictionary import UserDictionary

    segmenter = Segmenter(MODEL)
    segmenter._dictionary = UserDictionary({"iPhone15": float("inf")}, tags={"iPhone15": "nz"})
    assert ("iPhone15", "nz") in segmenter.tag("我用 iPhone15 拍照")
    assert ("iPhone15", "nx") in tagger.tag("我用 iPhone15 拍照")


def test_a_dictionary_without_tags_leaves_the_models(tagger, tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("科学空间,force\n", encoding="utf-8")
    segmenter = Segmenter(MODEL, [path])
    tagged = dict(segmenter.tag("科学空间是一个博客。"))
    assert tagged["科学空间"] in tagger.pos_tags


# --- a model without a head -------------------------------------------------------------

def test_tags_of_a_model_without_a_head_are_an_error_at_the_call(headless):
    segmenter = Segmenter(headless)
    assert segmenter.pos_tags is None
    assert segmenter.cut(DEV_LINES[1]) == Segmenter(MODEL).cut(DEV_LINES[1])  # cutting works as before
    for call in (lambda: segmenter.tag("你好"), lambda: segmenter.tokenize("你好", pos=True),
                 lambda: segmenter.tag_lines(["你好"])):
        with pytest.raises(pos.NoTaggingHead) as caught:
            call()
        assert isinstance(caught.value, ModelError) and "no part-of-speech head" in str(caught.value)


@pytest.mark.parametrize("args", [["--pos"], ["--pos", "--jobs", "2"], ["--pos", "--format", "jsonl"]])
def test_seg_pos_without_a_head_is_one_line(headless, seg_env, args):
    proc = subprocess.run([*SEG, "--model", str(headless), *args], input="你好\n".encode(), capture_output=True,
                          env=seg_env)
    assert proc.returncode == 1 and proc.stdout == b""
    assert proc.stderr.decode() == (f"seg: error: the model {headless} has no part-of-speech head: tags need a "
                                    "model trained with them (seg's shipped model has one)\n")


# --- seg --pos -------------------------------------------------------------------------

TEXT = "\n".join([*DEV_LINES, "", "  北京大学   生命科学学院 ", "访问 https://www.cc98.org 😀"]) + "\n"


def test_seg_pos_writes_word_slash_tag(tagger, seg_env):
    plain = seg([], TEXT, seg_env).stdout.decode().splitlines()
    tagged = seg(["--pos"], TEXT, seg_env).stdout.decode().splitlines()
    assert len(tagged) == len(plain)
    for line, words, text in zip(tagged, plain, TEXT.splitlines()):
        pairs = split_tagged(line)
        assert " ".join(w for w, _ in pairs) == words
        assert pairs == tagger.tag(text)


@pytest.mark.parametrize("args, delimiter, pos_delimiter", [
    (["--pos-delimiter", "_"], " ", "_"), (["-d", "|", "--pos-delimiter", "#"], "|", "#"), (["-d", "  "], "  ", "/"),
])
def test_seg_pos_delimiters(tagger, seg_env, args, delimiter, pos_delimiter):
    out = seg(["--pos", *args], TEXT, seg_env).stdout.decode().splitlines()
    assert [split_tagged(line, delimiter, pos_delimiter) for line in out] == [
        [(w, t) for w, t in tagger.tag(text)] for text in TEXT.splitlines()]


def test_seg_pos_jsonl_adds_pos_to_every_token(tagger, seg_env):
    plain = [json.loads(line) for line in seg(["--format", "jsonl"], TEXT, seg_env).stdout.decode().splitlines()]
    tagged = [json.loads(line) for line in seg(["--format", "jsonl", "--pos"], TEXT, seg_env).stdout.decode().splitlines()]
    for line, plain_line, text in zip(tagged, plain, TEXT.splitlines()):
        assert [{k: v for k, v in token.items() if k != "pos"} for token in line["tokens"]] == plain_line["tokens"]
        assert [(token["word"], token["pos"]) for token in line["tokens"]] == tagger.tag(text)


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
@pytest.mark.parametrize("mode", ["default", "search"])
def test_seg_pos_jobs_and_batches_write_the_same(seg_env, fmt, mode):
    args = ["--pos", "--format", fmt, "--mode", mode]
    one = seg(args, TEXT * 3, seg_env).stdout
    assert seg([*args, "--jobs", "2"], TEXT * 3, seg_env).stdout == one
    assert seg([*args, "--batch-chars", "5"], TEXT * 3, seg_env).stdout == one


def test_seg_pos_search_mode_tags_the_search_tokens(tagger, seg_env):
    out = seg(["--pos", "--mode", "search"], TEXT, seg_env).stdout.decode().splitlines()
    plain = seg(["--mode", "search"], TEXT, seg_env).stdout.decode().splitlines()
    assert [" ".join(w for w, _ in split_tagged(line)) for line in out] == plain
    assert [split_tagged(line) for line in out] == [tagger.tag(text, mode="search") for text in TEXT.splitlines()]


def test_seg_pos_other_encodings(seg_env):
    utf8 = seg(["--pos"], TEXT, seg_env).stdout
    proc = subprocess.run([*SEG, *MODEL_ARGS, "--pos", "--encoding", "gbk"], input=TEXT.replace("😀", "").encode("gbk"),
                          capture_output=True, env=seg_env)
    assert proc.returncode == 0
    assert proc.stdout.decode("gbk") == seg(["--pos"], TEXT.replace("😀", ""), seg_env).stdout.decode()
    assert utf8


def test_seg_pos_keeps_every_byte(seg_env):
    data = "a\udcff\udcfe中文\udce4\udcb8 好\n\udced\udca0\udc80x\n北京。\n".encode("utf-8", "surrogateescape")
    plain = subprocess.run([*SEG, *MODEL_ARGS], input=data, capture_output=True, env=seg_env).stdout
    tagged = subprocess.run([*SEG, *MODEL_ARGS, "--pos"], input=data, capture_output=True, env=seg_env).stdout
    assert [[token.rsplit(b"/", 1)[0] for token in line.split(b" ")] for line in tagged.split(b"\n")] == [
        line.split(b" ") for line in plain.split(b"\n")]


def test_seg_pos_delimiter_the_encoding_lacks_is_one_line(seg_env):
    proc = seg(["--pos", "--pos-delimiter", "😀", "--encoding", "gbk"], "你好\n", seg_env, check=False)
    assert proc.returncode == 1 and proc.stderr.decode().startswith("seg: error: the delimiter")


def test_golden_output_with_tags():
    import importlib.util

    spec = importlib.util.spec_from_file_location("regenerate_pos", GOLDEN / "regenerate_pos.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.model_sha256() == (GOLDEN / "MODEL_POS").read_text().strip(), (
        "the shipped model's tagging head changed: if on purpose, run python tests/golden/regenerate_pos.py "
        "and review the diff")
    for name, text in module.outputs().items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), name


# --- seg eval with tags ------------------------------------------------------------------

@pytest.mark.parametrize("lines, expected", [
    (["迈向/v 充满/v 希望/n"], ([["迈向", "充满", "希望"]], [["v", "v", "n"]])),
    (["1/2/m 的/u", ""], ([["1/2", "的"], []], [["m", "u"], []])),
    (["//w 你/r"], ([["/", "你"]], [["w", "r"]])),
    (["迈向 充满"], None), (["迈向/v 充满"], None), (["/v"], None), (["迈向/"], None), (["迈向/12"], None),
    ([""], None), ([], None),
])
def test_split_tags(lines, expected):
    assert split_tags([line.split() for line in lines]) == expected


def test_split_tags_with_another_delimiter():
    assert split_tags([["迈向_v", "a_b_n"]], "_") == ([["迈向", "a_b"]], [["v", "n"]])


@pytest.mark.parametrize("gold, pred, scores", [
    # (gold words/tags, pred words/tags, (correct, pos_correct, pos_f1, tag_accuracy))
    ([("迈向", "v"), ("希望", "n")], [("迈向", "v"), ("希望", "n")], (2, 2, 1.0, 1.0)),
    ([("迈向", "v"), ("希望", "n")], [("迈向", "v"), ("希望", "v")], (2, 1, 0.5, 0.5)),
    ([("迈向", "v"), ("希望", "n")], [("迈", "v"), ("向", "v"), ("希望", "n")], (1, 1, 0.4, 1.0)),
    ([("迈向", "v"), ("希望", "n")], [("迈向希望", "v")], (0, 0, 0.0, 0.0)),
])
def test_compare_with_tags(gold, pred, scores):
    result = compare([[w for w, _ in gold]], [[w for w, _ in pred]], gold_tags=[[t for _, t in gold]],
                     pred_tags=[[t for _, t in pred]])
    assert (result.correct, result.pos_correct, round(result.pos_f1, 6), result.tag_accuracy) == scores


def test_compare_without_tags_reports_none_of_them():
    result = compare([["迈向", "希望"]], [["迈向", "希望"]])
    assert result.pos_f1 is None and "pos_f1" not in result.to_dict() and "joint" not in format_report(result)


def test_compare_refuses_tags_that_do_not_match_the_words():
    with pytest.raises(ValueError, match="gold line 1 has 2 words but 1 tags"):
        compare([["迈向", "希望"]], [["迈向", "希望"]], gold_tags=[["v"]], pred_tags=[["v", "n"]])
    with pytest.raises(ValueError, match="both"):
        compare([["迈向"]], [["迈向"]], gold_tags=[["v"]])


def format_report(scores):
    from segcli.evaluate import format_report as report

    return report(scores)


def test_seg_eval_scores_tags_of_tagged_gold(tagger, tmp_path):
    from segcli.cli import main

    gold = tmp_path / "gold.txt"
    truth = [tagger.tag(line) for line in DEV_LINES]
    gold.write_text("".join(" ".join(f"{w}/{t}" for w, t in pairs) + "\n" for pairs in truth), encoding="utf-8")
    result = cli_runner().invoke(main, ["eval", str(gold), "--json", *MODEL_ARGS])
    assert result.exit_code == 0, result.stderr
    scores = json.loads(result.stdout)
    assert (scores["f1"], scores["pos_f1"], scores["tag_accuracy"]) == (1.0, 1.0, 1.0)
    # One tag wrong in the gold: one word right in span only.
    w, t = truth[0][0]
    truth[0][0] = (w, "x" if t != "x" else "n")
    gold.write_text("".join(" ".join(f"{w}/{t}" for w, t in pairs) + "\n" for pairs in truth), encoding="utf-8")
    scores = json.loads(cli_runner().invoke(main, ["eval", str(gold), "--json", *MODEL_ARGS]).stdout)
    words = sum(map(len, truth))
    assert scores["correct"] == words and scores["pos_correct"] == words - 1
    assert scores["tag_accuracy"] == pytest.approx((words - 1) / words)
    report = cli_runner().invoke(main, ["eval", str(gold), *MODEL_ARGS]).stdout
    assert "joint F1" in report and "tag accuracy" in report


def test_seg_eval_with_tagged_pred_and_another_delimiter(tmp_path):
    from segcli.cli import main

    gold, pred = tmp_path / "gold.txt", tmp_path / "pred.txt"
    gold.write_text("迈向_v 充满_v 希望_n\n", encoding="utf-8")
    pred.write_text("迈向_v 充满_a 希望_n\n", encoding="utf-8")
    result = cli_runner().invoke(main, ["eval", str(gold), "--pred", str(pred), "--pos-delimiter", "_", "--json",
                                        "--train-words", str(gold)])
    scores = json.loads(result.stdout)
    assert (scores["correct"], scores["pos_correct"]) == (3, 2)


def test_seg_eval_tagged_gold_untagged_pred_scores_the_cut_and_says_so(tmp_path):
    from segcli.cli import main

    gold, pred = tmp_path / "gold.txt", tmp_path / "pred.txt"
    gold.write_text("迈向/v 充满/v 希望/n\n", encoding="utf-8")
    pred.write_text("迈向 充满 希望\n", encoding="utf-8")
    result = cli_runner().invoke(main, ["eval", str(gold), "--pred", str(pred), "--json", "--train-words", str(pred)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["f1"] == 1.0 and "pos_f1" not in json.loads(result.stdout)
    assert result.stderr == (f"seg: warning: the gold has tags, but {pred} has no tags: only the segmentation "
                             "is scored\n")


def test_seg_eval_untagged_gold_is_scored_as_before(tmp_path):
    from segcli.cli import main

    gold = tmp_path / "gold.txt"
    gold.write_text("迈向 充满 希望\n", encoding="utf-8")
    result = cli_runner().invoke(main, ["eval", str(gold), "--pred", str(gold), "--json", "--train-words", str(gold)])
    assert set(json.loads(result.stdout)) == {"gold_words", "pred_words", "correct", "precision", "recall", "f1",
                                              "oov_rate", "oov_recall", "iv_recall", "mismatched_lines"}


# --- spaCy ---------------------------------------------------------------------------------

def test_spacy_tokens_get_pku_tags_and_universal_pos(tagger):
    spacy = pytest.importorskip("spacy", reason="the spacy extra is not installed: pip install '.[spacy]'")
    config = {"@tokenizers": "seg.Tokenizer.v1", **({"model": MODEL} if MODEL else {})}
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": config}})
    text = "  中共中央总书记、国家主席江泽民发表新年讲话。  访问 https://www.cc98.org 😀"
    doc = nlp(text)
    assert doc.text == text
    words = [(t.text, t.tag_, t.pos_) for t in doc if not t.is_space]
    assert [(w, tag) for w, tag, _ in words] == tagger.tag(text)
    assert all(upos == pos.universal(tag, w) for w, tag, upos in words)
    assert all((t.tag_, t.pos_) == ("_SP", "SPACE") for t in doc if t.is_space)


# --- a word's tag id in C (csrc/tags.c) and its numpy twin -------------------------------

@st.composite
def lines_and_words(draw):
    """(code points, space, word starts, ends, line starts, line ends): a few
    lines end to end, words anywhere inside them (overlapping, as search
    mode's), code points from a small set (so features collide), some of
    them space (which the context skips)."""
    cps = draw(st.lists(st.sampled_from([0x4E00, 0x4E8C, 0x597D, 0x61, 0x5A, 0x30, 0x39, 0xFF0C, 0x1F600, 0x1F44D,
                                         0x20BB7, 0x10FFFF, 0x20]), min_size=1, max_size=14))
    space = np.array([draw(st.booleans()) for _ in cps], bool)
    cuts = sorted(set(draw(st.lists(st.integers(1, len(cps) - 1), max_size=3)))) if len(cps) > 1 else []
    bounds = [0, *cuts, len(cps)]
    words = []
    for lo, hi in zip(bounds, bounds[1:]):
        for _ in range(draw(st.integers(0, 4))):
            a = draw(st.integers(lo, hi - 1))
            words.append((a, draw(st.integers(a + 1, hi)), lo, hi))
    columns = [np.array([w[i] for w in words], np.int64) for i in range(4)]
    return np.array(cps, np.uint32), space, *columns


@given(lines_and_words(), st.sampled_from([1, 2, 8, 1 << 17]))
@settings(max_examples=300, deadline=None)
def test_word_features_are_the_python_twins(case, buckets):
    import reference_tags

    cps, space, starts, ends, line_starts, line_ends = case
    expected = reference_tags.word_features(cps, space, starts, ends, line_starts, line_ends, buckets)
    got = pos.word_features(cps, space, starts, ends, line_starts, line_ends, buckets)
    assert got.tolist() == expected.tolist()


@st.composite
def heads_and_features(draw):
    """A small head and features of a few words: int8 rows at the extremes,
    weights from a small set (so tags tie), -1 among the features."""
    buckets, width, tags = draw(st.sampled_from([1, 2, 8])), draw(st.integers(1, 5)), draw(st.sampled_from(
        [1, 2, 3, 5, 8, 16, 44]))
    floats = st.sampled_from([-2.0, -0.5, 0.0, 0.5, 1.0, 3.0, 1e-30, float("inf"), float("-inf"), float("nan")])
    arrays = {
        "table": np.array(draw(st.lists(st.integers(-128, 127), min_size=buckets * width, max_size=buckets * width)),
                          np.int8).reshape(buckets, width),
        "scales": np.array(draw(st.lists(floats, min_size=width, max_size=width)), np.float32),
        "biases": np.array(draw(st.lists(floats, min_size=width, max_size=width)), np.float32),
        "weights": np.array(draw(st.lists(floats, min_size=width * tags, max_size=width * tags)),
                            np.float32).reshape(width, tags),
        "out_biases": np.array(draw(st.lists(floats, min_size=tags, max_size=tags)), np.float32),
    }
    words = draw(st.integers(0, 6))
    features = np.array(draw(st.lists(st.integers(-1, buckets - 1), min_size=12 * words, max_size=12 * words)),
                        np.int32).reshape(words, 12)
    return arrays, features


@given(heads_and_features())
@settings(max_examples=300, deadline=None)
def test_word_head_tags_are_the_numpy_twins(case):
    import reference_tags

    arrays, features = case
    expected = reference_tags.word_head(features, **arrays)
    # WordHead pads the tags to blocks of 8 (the C fast path); unpadded, the C loop takes them one by one.
    assert pos.WordHead(**arrays).tag_ids(features).tolist() == expected.tolist()
    from segcli import _core

    ids = np.empty(len(features), np.int64)
    _core.word_head(features, arrays["table"], arrays["table"].shape[1], arrays["scales"], arrays["biases"],
                    arrays["weights"], arrays["out_biases"], ids)
    assert ids.tolist() == expected.tolist()


def test_the_shipped_head_tags_as_its_twin_on_real_text(tagger):
    import reference_tags

    head = tagger._pos_head()
    text = "迈向充满希望的新世纪——一九九八年新年讲话（附图片１张）"
    cps = tagger.vocab.lookup_codepoints(codepoints(text))
    starts = np.arange(len(text) - 1, dtype=np.int64)
    ends = starts + 2
    lows, highs = np.zeros_like(starts), np.full_like(starts, len(text))
    space = np.zeros(len(cps), bool)
    features = pos.word_features(cps, space, starts, ends, lows, highs, head.buckets)
    assert features.tolist() == reference_tags.word_features(cps, space, starts, ends, lows, highs,
                                                             head.buckets).tolist()
    arrays = {name: getattr(head, name) for name in ("table", "scales", "biases", "weights", "out_biases")}
    assert head.tag_ids(features).tolist() == reference_tags.word_head(features, **arrays).tolist()


@pytest.mark.parametrize("starts, ends, line_starts, line_ends, buckets", [
    ([0], [0], [0], [3], 8),  # a word of no character
    ([2], [4], [0], [3], 8),  # past its line
    ([0], [2], [1], [3], 8),  # before its line
    ([0], [4], [0], [4], 8),  # its line past the code points
    ([0], [1], [0], [3, 3], 8),  # not one line bound a word
    ([0], [1], [0], [3], 6),  # buckets not a power of two
    ([0], [1], [0], [3], 0),
])
def test_word_features_in_c_refuse_words_outside_their_lines(starts, ends, line_starts, line_ends, buckets):
    from segcli import _core

    with pytest.raises(ValueError):
        _core.word_features(np.zeros(3, np.uint32), np.zeros(3, np.uint8), np.array(starts, np.int64),
                            np.array(ends, np.int64), np.array(line_starts, np.int64),
                            np.array(line_ends, np.int64), buckets, np.empty((len(starts), 12), np.int32))


def test_word_features_in_c_refuse_space_of_another_length():
    from segcli import _core

    one = np.array([0], np.int64)
    with pytest.raises(ValueError, match="space"):
        _core.word_features(np.zeros(3, np.uint32), np.zeros(2, np.uint8), one, one + 1, one, one + 3, 8,
                            np.empty((1, 12), np.int32))


@pytest.mark.parametrize("feature, width, weights_shape", [
    (8, 2, (2, 3)),  # a bucket past the table
    (-2, 2, (2, 3)),
    (0, 3, (2, 3)),  # the table not rows of width
    (0, 2, (3, 3)),  # weights not width rows
])
def test_word_head_in_c_refuses_buckets_outside_the_table(feature, width, weights_shape):
    from segcli import _core

    features = np.full((1, 12), -1, np.int32)
    features[0, 0] = feature
    with pytest.raises(ValueError):
        _core.word_head(features, np.zeros((8, 2), np.int8), width, np.ones(width, np.float32),
                        np.zeros(width, np.float32), np.zeros(weights_shape, np.float32), np.zeros(3, np.float32),
                        np.empty(1, np.int64))


# --- one dictionary a batch, one mode table ---------------------------------------------------

def test_tags_are_the_dictionary_the_batch_was_cut_with(tmp_path):
    """add_word between a batch's cut and its tags: the words keep the tags
    of the dictionary that cut them."""
    path = tmp_path / "dict.txt"
    path.write_text("科学空间,force,nz\n", encoding="utf-8")
    segmenter = Segmenter(MODEL, [path])
    cut = segmenter._tag

    def cut_then_add_word(lines):
        segmenter.add_word("科学空间", "force", tag="nz")
        tagged = cut(lines)
        segmenter.add_word("科学空间", "force", tag="vn")
        return tagged

    segmenter._tag = cut_then_add_word
    assert ("科学空间", "nz") in segmenter.tag("科学空间是一个博客。")
    assert ("科学空间", "nz") in [(w, t) for w, _, _, t in segmenter.tokenize("科学空间是博客", pos=True)]
    assert ("科学空间", "nz") in segmenter.tag("科学空间是一个博客。", mode="search")
    segmenter._tag = cut
    assert ("科学空间", "vn") in segmenter.tag("科学空间是一个博客。")


@pytest.mark.parametrize("mode", ["fast", "", None, ["default"]])
def test_an_unknown_mode_is_one_value_error_with_and_without_tags(tagger, mode):
    with pytest.raises(ValueError, match="unknown mode"):
        tagger.cut("科学空间", mode=mode)
    with pytest.raises(ValueError, match="unknown mode"):
        tagger.tag("科学空间", mode=mode)


def test_every_mode_cuts_the_same_with_and_without_tags(tagger):
    from segcli.segmenter import MODES

    text = "中华人民共和国成立了。我用 iPhone15 拍照"
    for mode in MODES:
        assert [w for w, _ in tagger.tag(text, mode=mode)] == tagger.cut(text, mode=mode)
