"""The part-of-speech head (issue 26, model side): the tagged corpus reader,
the head's training on the frozen encoder (a smoke run on a tiny corpus),
its place in the graph, the scorer's pos output, the metadata."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training tests need torch (pip install .[train])")
onnx = pytest.importorskip("onnx", reason="training tests need onnx (pip install .[train])")

from segcli import corpus, model  # noqa: E402
from segcli.errors import CorpusError, ModelError  # noqa: E402
from segcli.score import Scorer  # noqa: E402
from segcli.segmenter import Segmenter  # noqa: E402
from segcli.training import pos, posgraph  # noqa: E402

SENTENCES = [
    "我们/r 喜欢/v 北京/ns 。/w",
    "他/r 在/p 上海/ns 工作/v ，/w 很/d 忙/a 。/w",
    "中国/ns 人民/n 决心/d 继承/v 遗志/n 。/w",
    "１９９８年/t 新年/t 讲话/n",
    "江/nr 泽民/nr 发表/v 讲话/n 。/w",
    "经济/n 发展/vn 很/d 快/a",
]


@pytest.fixture(scope="module")
def tagged_corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("pos_corpus") / "tagged.txt"
    path.write_text("\n".join(SENTENCES * 5) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def with_head(tmp_path_factory, tagged_corpus):
    """The shipped model with a head trained a few steps on the tiny corpus,
    through the command anyone runs."""
    out = tmp_path_factory.mktemp("pos_model")
    status = pos.main(["--model", str(model.default_dir()), "--out", str(out), "--corpus", str(tagged_corpus),
                       "--smoke", "--set", "max_steps=3"])
    assert status == 0
    return out


@pytest.fixture(scope="module")
def without_head(tmp_path_factory, with_head):
    """A model directory as they were before heads: the same graph less the head, no "pos" metadata."""
    out = tmp_path_factory.mktemp("plain_model")
    for path in with_head.iterdir():
        shutil.copy2(path, out / path.name)
    onnx.save(posgraph.without_head(onnx.load(str(with_head / model.MODEL_FILE))), str(out / model.MODEL_FILE))
    metadata = json.loads((out / model.METADATA_FILE).read_text(encoding="utf-8"))
    del metadata["pos"]
    model.save_metadata(out, metadata)
    return out


def _scorer(directory):
    loaded = model.load(directory)
    return Scorer(loaded.onnx_path, gap=loaded.gap, context=loaded.context, input_names=loaded.vocab.input_names)


LINES = ["我们喜欢北京。", "他在上海工作，很忙。", "Hello 世界 2026年", "", "  ", "中国人民决心继承遗志。" * 300]


def _batch(lines):
    return Segmenter(threads=1)._encode(lines)


@pytest.mark.parametrize(("line", "expected"), [
    ("迈向/v  充满/v  希望/n", [("迈向", "v"), ("充满", "v"), ("希望", "n")]),
    ("1/2/m 。/w", [("1/2", "m"), ("。", "w")]),  # the tag follows the last /
    ("//w", [("/", "w")]),
    ("一九九八年/t\t新年/t", [("一九九八年", "t"), ("新年", "t")]),
])
def test_tagged_corpus_lines_are_word_tag_pairs(tmp_path, line, expected):
    path = tmp_path / "c.txt"
    path.write_text(f"{line}\n\n", encoding="utf-8")
    assert corpus.read_tagged_corpus(path) == [expected]


@pytest.mark.parametrize("bad", ["你好", "你好/", "/n", "a/n b"])
def test_a_token_without_word_or_tag_is_a_corpus_error_naming_its_line(tmp_path, bad):
    path = tmp_path / "c.txt"
    path.write_text(f"好/a\n{bad}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"line 2: '"):
        corpus.read_tagged_corpus(path)


def test_an_empty_tagged_corpus_is_a_corpus_error(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\n \n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no tagged lines"):
        corpus.read_tagged_corpus(path)


def test_the_tag_set_is_most_frequent_first_ties_by_name():
    lines = [[("a", "v"), ("b", "n"), ("c", "n")], [("d", "w"), ("e", "a")]]
    assert pos.tag_set(lines) == ["n", "a", "v", "w"]


def test_each_character_is_labelled_with_its_words_tag():
    labels = pos.char_labels([("我们", "r"), ("喜欢", "v"), ("。", "w"), ("x", "zz")], {"r": 0, "v": 1, "w": 2})
    assert labels.tolist() == [0, 0, 1, 1, 2, -100]


def test_the_head_cuts_exactly_as_the_model_without_it(with_head, without_head):
    lines = LINES + ["".join(token.rpartition("/")[0] for token in s.split()) for s in SENTENCES]
    assert (list(Segmenter(with_head, threads=1).cut_lines(lines))
            == list(Segmenter(without_head, threads=1).cut_lines(lines)))
    batch = _batch(LINES)
    args = (batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends)
    plain = _scorer(without_head).score(*args)
    assert np.array_equal(_scorer(with_head).score(*args), plain)
    scores, tags = _scorer(with_head).score(*args, pos=True)
    assert np.array_equal(scores, plain)


def test_pos_scores_are_one_row_a_kept_character(with_head):
    batch = _batch(LINES)
    scores, tags = _scorer(with_head).score(batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends,
                                            pos=True)
    assert scores.shape == (len(batch.kept), 4)
    assert tags.shape == (len(batch.kept), len(model.load(with_head).pos_tags))
    assert tags.dtype == np.float32 and np.isfinite(tags).all()


def test_pos_scores_of_a_line_do_not_depend_on_its_neighbours(with_head):
    scorer = _scorer(with_head)

    def tags_of(lines):
        batch = _batch(lines)
        return scorer.score(batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends, pos=True)[1]

    line, long_line = "他在上海工作，很忙。", "中国人民决心继承遗志。" * 300  # several rows of the scorer's stream
    alone = tags_of([line])
    after_a_short_line = tags_of(["我们喜欢北京。", line, long_line])
    after_a_long_line = tags_of([long_line, line])
    assert np.array_equal(after_a_short_line[len("我们喜欢北京。") :][: len(line)], alone)
    assert np.array_equal(after_a_long_line[len(long_line) :], alone)


def test_no_characters_no_rows(with_head):
    batch = _batch(["x"])
    empty = np.empty(0, dtype=batch.char_ids.dtype)
    scores, tags = _scorer(with_head).score(empty, [f[:0] for f in batch.features], np.empty(0, np.int64),
                                            np.empty(0, np.int64), pos=True)
    assert scores.shape == (0, 4) and tags.shape[0] == 0


def test_without_with_pos_the_head_computes_nothing(with_head):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(with_head / model.MODEL_FILE), providers=["CPUExecutionProvider"])
    feed = _scorer(with_head).feeds(*(lambda b: (b.char_ids, b.features, b.seq_starts, b.seq_ends))(_batch(LINES)))[0]
    assert feed[model.WITH_POS_INPUT] == np.array(False)
    assert session.run([model.POS_OUTPUT], feed)[0].size == 0
    assert session.run([model.POS_OUTPUT], {**feed, model.WITH_POS_INPUT: np.array(True)})[0].size > 0


def test_the_metadata_records_the_tags_and_the_training(with_head, tagged_corpus):
    loaded = model.load(with_head)
    record = loaded.metadata["pos"]
    assert loaded.pos_tags == tuple(pos.tag_set(corpus.read_tagged_corpus(tagged_corpus)))
    assert record["trained_on"]["sha256"] == corpus.sha256(tagged_corpus)
    assert record["trained_on"]["lines"] == len(SENTENCES) * 5
    assert record["trained_on"]["standard"] == "pku"
    assert set(record["dev"]) >= {"tag_accuracy", "joint_f1", "tag_accuracy_gold_cut", "words"}
    # The segmentation metadata is the original model's.
    original = model.load().metadata
    assert {k: v for k, v in loaded.metadata.items() if k != "pos"} == {k: v for k, v in original.items()
                                                                        if k != "pos"}


def test_a_model_without_a_head_has_no_tags_and_refuses_pos(without_head):
    assert model.load(without_head).pos_tags is None
    scorer = _scorer(without_head)
    assert not scorer.has_pos
    batch = _batch(LINES)
    with pytest.raises(ModelError, match="no part-of-speech head"):
        scorer.score(batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends, pos=True)


def test_training_again_replaces_the_head(with_head, tagged_corpus, tmp_path):
    pos.train_pos(with_head, tmp_path, pos.PosConfig(corpus=str(tagged_corpus), epochs=1, max_steps=2),
                  progress=False)
    graph = onnx.load(str(tmp_path / model.MODEL_FILE)).graph
    assert [o.name for o in graph.output] == ["scores", model.POS_OUTPUT]
    assert sum(node.op_type == "If" for node in graph.node) == 1


@pytest.mark.parametrize("value", ["n v", {"tags": []}, {"tags": ["n", "n"]}, {"tags": [1]}, {"tags": [""]},
                                   {"dev": {}}])
def test_damaged_pos_metadata_is_a_model_error(with_head, tmp_path, value):
    for path in with_head.iterdir():
        shutil.copy2(path, tmp_path / path.name)
    metadata = json.loads((tmp_path / model.METADATA_FILE).read_text(encoding="utf-8"))
    metadata["pos"] = value
    model.save_metadata(tmp_path, metadata)
    with pytest.raises(ModelError, match="metadata.json.*pos"):
        model.load(tmp_path)


def test_the_shipped_head_equals_the_trained_one_but_for_int8_rounding():
    torch.manual_seed(0)
    head = pos.Head(8, 5, 6, 20, 16).eval()
    hidden = torch.randn(2, 8, 7)
    chars = torch.randint(0, 20, (2, 7))
    bigrams = torch.randint(0, 1000, (2, 7))
    trained = head(hidden, chars, bigrams)
    shipped = torch.log_softmax(pos.Int8Head(head)(hidden, chars, bigrams), -1)
    assert torch.allclose(trained, shipped, atol=0.02)


@pytest.mark.parametrize(("mid", "char_offsets", "bigram_offsets"), [
    (6, (-1, 0, 1), (-1, 0)),  # the shipped layout
    (0, (-1, 0, 1), (-1, 0)),  # no hidden units: the rows and the state's projection are the scores
    (6, (-2, 1), (0,)),
    (6, (0,), (1, -1)),
])
def test_the_exported_head_computes_what_torch_does(mid, char_offsets, bigram_offsets):
    import onnxruntime

    torch.manual_seed(0)
    head = pos.Head(8, 5, mid, 20, 16, char_offsets=char_offsets, bigram_offsets=bigram_offsets).eval()
    exported = pos.export_head(head, 8)
    session = onnxruntime.InferenceSession(exported.SerializeToString(), providers=["CPUExecutionProvider"])
    hidden = torch.randn(3, 8, 11)
    chars = torch.randint(0, 20, (3, 11))
    bigrams = torch.randint(0, 1000, (3, 11))
    expected = pos.Int8Head(head)(hidden, chars, bigrams).detach().numpy()
    got = session.run(None, {"hidden": hidden.numpy(), "chars": chars.numpy(), "ngrams2": bigrams.numpy()})[0]
    assert np.abs(got - expected).max() < 1e-4


@pytest.mark.parametrize(("settings", "message"), [
    (["nope=1"], "unknown setting 'nope=1'"),
    (["mid=big"], "setting mid needs a value like 64"),
    (["mid"], "unknown setting 'mid'"),
])
def test_a_bad_setting_is_a_usage_error(settings, message, tmp_path, seg_env):
    args = [sys.executable, "-m", "segcli.training.pos", "--out", "unused"]
    for setting in settings:
        args += ["--set", setting]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=seg_env, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr


def test_a_missing_tagged_corpus_is_a_one_line_error(tmp_path, seg_env):
    done = subprocess.run([sys.executable, "-m", "segcli.training.pos", "--out", str(tmp_path / "out"),
                           "--corpus", str(tmp_path / "missing.txt")], capture_output=True, text=True, timeout=120,
                          env=seg_env, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"seg: error: tagged corpus file not found: {tmp_path / 'missing.txt'}"]


def test_the_head_graph_keeps_the_int8_table_and_onnxruntime_folds_its_float_copies(tmp_path):
    """The file holds the table once, int8; in the session's optimised
    graph no node reads it and none casts (each part a float initializer)."""
    import onnxruntime

    torch.manual_seed(0)
    exported = pos.export_head(pos.Head(8, 5, 6, 20, 16).eval(), 8)
    assert [t.data_type for t in exported.graph.initializer if t.name == "table"] == [onnx.TensorProto.INT8]
    options = onnxruntime.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    onnxruntime.InferenceSession(exported.SerializeToString(), options, providers=["CPUExecutionProvider"])
    optimised = onnx.load(str(tmp_path / "optimised.onnx"))
    assert "Cast" not in {n.op_type for n in optimised.graph.node}
    assert not [n.name for n in optimised.graph.node if "table" in n.input]
    assert sum(n.op_type == "Gather" for n in optimised.graph.node) == 5


def test_reexport_gives_the_heads_tags_in_the_current_layout(with_head, tmp_path):
    """--reexport of a model with a head: the same pos scores to float
    rounding, the same tags, the same cut, and the layout in the metadata;
    again on its own output, nothing changes."""
    out, again = tmp_path / "reexported", tmp_path / "again"
    assert pos.main(["--reexport", "--model", str(with_head), "--out", str(out)]) == 0
    assert pos.main(["--reexport", "--model", str(out), "--out", str(again)]) == 0
    batch = _batch(LINES)
    scores = [_scorer(d).score(batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends, pos=True)
              for d in (with_head, out, again)]
    for other in scores[1:]:
        assert np.array_equal(scores[0][0], other[0])
        assert np.abs(scores[0][1] - other[1]).max() < 1e-4
    texts = [line for line in LINES if line.strip()]
    tagged = [[Segmenter(d, threads=1).tag(text) for text in texts] for d in (with_head, out, again)]
    assert tagged[0] == tagged[1] == tagged[2]
    metadata = json.loads((again / model.METADATA_FILE).read_text(encoding="utf-8"))["pos"]
    assert metadata["graph"]["layout"] == "segcli.training.posgraph.head_graph"
    assert "--reexport" in metadata["graph"]["reexported"]


def test_reexport_of_a_model_without_a_head_is_a_one_line_error(without_head, tmp_path, capsys):
    assert pos.main(["--reexport", "--model", str(without_head), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"seg: error: the model {without_head} has no part-of-speech head to re-export"]
