"""The optional integrations against the real libraries: spaCy, Hugging Face
tokenizers, Spark. Each README snippet runs here as written."""

import os
import shutil
import sys

import pytest

from conftest import DEV_LINES

TEXT = "扫描二维码，关注微信号。"


# --- spaCy -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def spacy():
    return pytest.importorskip("spacy", reason="the spacy extra is not installed: pip install '.[spacy]'")


def test_spacy_readme_snippet(spacy, segmenter):
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"@tokenizers": "seg.Tokenizer.v1",
                                                           "standard": "pku", "dicts": []}}})
    doc = nlp("扫描二维码，关注微信号。")
    assert [t.text for t in doc] == segmenter.cut(TEXT)


@pytest.mark.parametrize("text", ["关注 微信号。", "  两个空格  后面\n换行\t制表 ", "", " "])
def test_spacy_keeps_whitespace(spacy, text):
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"@tokenizers": "seg.Tokenizer.v1"}}})
    doc = nlp(text)
    assert doc.text == text


def test_spacy_to_disk_keeps_runtime_dictionary_entries(spacy, tmp_path):
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"@tokenizers": "seg.Tokenizer.v1", "standard": "pku"}}})
    nlp.tokenizer.segmenter.add_word("关注微", "force")
    assert "关注微" in [t.text for t in nlp(TEXT)]
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert [t.text for t in loaded(TEXT)] == [t.text for t in nlp(TEXT)]
    assert dict(loaded.tokenizer.segmenter.entries) == dict(nlp.tokenizer.segmenter.entries)


@pytest.mark.parametrize("n_process", [1, 2])
def test_spacy_pipe(spacy, segmenter, n_process):
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"@tokenizers": "seg.Tokenizer.v1", "standard": "pku"}}})
    docs = list(nlp.pipe(DEV_LINES, n_process=n_process))
    assert [[t.text for t in doc] for doc in docs] == [segmenter.cut(line) for line in DEV_LINES]


# --- Hugging Face tokenizers -----------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizers():
    return pytest.importorskip("tokenizers", reason="the hf extra is not installed: pip install '.[hf]'")


def wordpiece_tokenizer(tokenizers, pre_tokenizer, handle_chinese_chars=False):
    from tokenizers import Tokenizer, models, normalizers

    chars = sorted(set("".join(DEV_LINES)))
    vocab = {"[UNK]": 0, **{c: i + 1 for i, c in enumerate(chars)}}
    for word in ["二维码", "关注", "微信", "扫描"]:
        vocab.setdefault(word, len(vocab))
    for c in chars:
        vocab.setdefault("##" + c, len(vocab))
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(handle_chinese_chars=handle_chinese_chars, lowercase=False)
    tokenizer.pre_tokenizer = pre_tokenizer
    return tokenizer


def test_hf_readme_snippet(tokenizers, segmenter):
    from tokenizers import Tokenizer, models, normalizers

    import segcli.hf

    tokenizer = Tokenizer(models.WordPiece({"[UNK]": 0, "关注": 1, "微信": 2, "##号": 3}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(handle_chinese_chars=False)
    tokenizer.pre_tokenizer = segcli.hf.pre_tokenizer()
    encoding = tokenizer.encode("关注微信号")
    assert encoding.tokens == ["关注", "微信", "##号"]
    assert encoding.offsets == [(0, 2), (2, 4), (4, 5)]


@pytest.mark.parametrize("line", [*DEV_LINES, "关注 微信号。 hello world"])
def test_hf_offsets_map_back_and_words_never_straddle(tokenizers, segmenter, line):
    import segcli.hf

    tokenizer = wordpiece_tokenizer(tokenizers, segcli.hf.pre_tokenizer(segmenter))
    encoding = tokenizer.encode(line)
    spans = segmenter.spans(line)
    for token, (a, b), word_id in zip(encoding.tokens, encoding.offsets, encoding.word_ids):
        start, end = spans[word_id]
        assert start <= a < b <= end  # inside its own word
        assert token == "[UNK]" or line[a:b] == token.removeprefix("##")
    assert sorted(set(encoding.word_ids)) == list(range(len(spans)))


def test_hf_says_when_bert_normaliser_spaces_out_chinese(tokenizers, segmenter):
    import segcli.hf

    tokenizer = wordpiece_tokenizer(tokenizers, segcli.hf.pre_tokenizer(segmenter), handle_chinese_chars=True)
    with pytest.warns(UserWarning, match="handle_chinese_chars=False"):
        tokenizer.encode(DEV_LINES[1])


def test_hf_swap_before_save(tokenizers, segmenter, tmp_path):
    from tokenizers import Tokenizer, pre_tokenizers

    import segcli.hf

    tokenizer = wordpiece_tokenizer(tokenizers, segcli.hf.pre_tokenizer(segmenter))
    expected = tokenizer.encode(TEXT).tokens
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    loaded = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    loaded.pre_tokenizer = segcli.hf.pre_tokenizer(segmenter)
    assert loaded.encode(TEXT).tokens == expected


# --- Spark -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="the spark extra is not installed: pip install '.[spark]'")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (17) on PATH; none found")
    from pyspark.sql import SparkSession

    # Workers run $PYSPARK_PYTHON (default: python3 on PATH): the interpreter seg is installed in.
    # Workers run `python -m pyspark.daemon` in this directory: without
    # PYTHONSAFEPATH a source checkout here would shadow the installed segcli.
    before = {name: os.environ.get(name) for name in ("PYSPARK_PYTHON", "PYTHONSAFEPATH")}
    os.environ.update(PYSPARK_PYTHON=sys.executable, PYTHONSAFEPATH="1")
    session = (SparkSession.builder.master("local[2]").appName("seg-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate())
    yield session
    session.stop()
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.mark.spark
def test_spark_equals_segmenter_line_for_line(spark, segmenter):
    from segcli.spark import segment

    lines = [*DEV_LINES, "", "关注 微信号。", None]
    df = spark.createDataFrame([(i, t) for i, t in enumerate(lines)], "id int, text string").repartition(3)
    rows = sorted(segment(df, "text").collect(), key=lambda r: r.id)
    assert [r.words for r in rows] == [segmenter.cut(t) if t is not None else None for t in lines]


@pytest.mark.spark
def test_spark_dictionary_entries_reach_the_workers_and_offsets(spark):
    from segcli import Segmenter
    from segcli.spark import segment

    df = spark.createDataFrame([(TEXT,)], "text string")
    row = segment(df, "text", entries={"关注微": "force"}, offsets=True).collect()[0]
    assert "关注微" in [w.word for w in row.words]
    assert [(w.word, w.start, w.end) for w in row.words] == list(
        Segmenter(entries={"关注微": "force"}).tokenize(TEXT))


@pytest.mark.spark
def test_spark_ships_a_model_directory_from_the_driver(spark, tmp_path):
    from segcli import Segmenter, model
    from segcli.spark import segment

    copy = tmp_path / "my-model"
    shutil.copytree(model.default_dir(), copy)
    df = spark.createDataFrame([(line,) for line in DEV_LINES], "text string")
    rows = segment(df, "text", model=str(copy), standard="ctb").collect()
    ctb = Segmenter(copy, standard="ctb")
    assert sorted(r.words for r in rows) == sorted(ctb.cut(line) for line in DEV_LINES)


# --- the README's snippets, as written ----------------------------------------------------


def readme_snippets() -> dict[str, list[str]]:
    """The python blocks of the README's "Where you already work", by subsection."""
    import re

    from conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Where you already work", 1)[1].split("\n## ", 1)[0]
    result = {}
    for part in re.split(r"\n### ", section)[1:]:
        title = part.splitlines()[0]
        result[title] = re.findall(r"```python\n(.*?)```", part, flags=re.S)
    return result


SNIPPETS = readme_snippets()
NEEDS = {"spaCy": "spacy", "Hugging Face": "tokenizers", "Spark": "pyspark"}


def test_readme_has_every_snippet():
    titles = " ".join(SNIPPETS)
    assert all(name in titles for name in ["jieba", "spaCy", "Hugging Face", "Spark"])
    assert all(SNIPPETS.values())


@pytest.mark.parametrize("title", list(SNIPPETS))
def test_readme_snippet_runs_as_written(title, tmp_path, monkeypatch, capsys):
    for name, module in NEEDS.items():
        if name in title:
            pytest.importorskip(module, reason=f"the extra for {name} is not installed")
            if module == "pyspark" and shutil.which("java") is None:
                pytest.skip("Spark needs Java (17) on PATH; none found")
    monkeypatch.chdir(tmp_path)  # snippets may write files (tokenizer.json)
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    namespace: dict = {}
    for block in SNIPPETS[title]:
        exec(compile(block, f"README.md ({title})", "exec"), namespace)
    printed = capsys.readouterr().out
    # A print(...) line's trailing comment is what it prints.
    expected = [line.split("  # ", 1)[1].strip() for block in SNIPPETS[title] for line in block.splitlines()
                if line.startswith("print(") and "  # " in line]
    assert [line for line in expected if line not in printed] == []
