"""The part-of-speech head (issue 26, model side): the tagged corpus reader,
the word head's training (a smoke run on a tiny corpus), its file beside
an untouched graph, the metadata, and the int8 head against the float one."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training tests need torch (pip install .[train])")

from segcli import corpus, model  # noqa: E402
from segcli.errors import CorpusError, ModelError  # noqa: E402
from segcli.pos import NoTaggingHead, WordHead  # noqa: E402
from segcli.segmenter import Segmenter  # noqa: E402
from segcli.training import pos  # noqa: E402

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
                       "--smoke", "--set", "max_steps=3", "--set", "buckets=1024"])
    assert status == 0
    return out


@pytest.fixture(scope="module")
def without_head(tmp_path_factory, with_head):
    """A model directory as one without a head: no head file, no "pos" metadata."""
    out = tmp_path_factory.mktemp("plain_model")
    for path in with_head.iterdir():
        if path.name != model.POS_HEAD_FILE:
            shutil.copy2(path, out / path.name)
    metadata = json.loads((out / model.METADATA_FILE).read_text(encoding="utf-8"))
    del metadata["pos"]
    model.save_metadata(out, metadata)
    return out


LINES = ["我们喜欢北京。", "他在上海工作，很忙。", "Hello 世界 2026年", "", "  ", "中国人民决心继承遗志。" * 300]


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


def test_the_head_leaves_the_graph_and_the_cut_as_they_were(with_head, without_head):
    assert (with_head / model.MODEL_FILE).read_bytes() == (model.default_dir() / model.MODEL_FILE).read_bytes()
    lines = LINES + ["".join(token.rpartition("/")[0] for token in s.split()) for s in SENTENCES]
    assert (list(Segmenter(with_head, threads=1).cut_lines(lines))
            == list(Segmenter(without_head, threads=1).cut_lines(lines)))


def test_training_features_are_the_runtimes_on_the_same_cut():
    """A tag from `seg --pos` is the head's tag of the features training saw:
    the words of a cut, fed to training's gold_features, get the same tags."""
    segmenter = Segmenter(threads=1)
    head = segmenter._pos_head()
    texts = ["迈向充满希望的新世纪", "中国人民决心继承遗志。", "他在上海工作，很忙。", "经济发展很快"]
    tagged = [segmenter.tag(text) for text in texts]
    features = pos.gold_features([[(w, "") for w, _ in line] for line in tagged], segmenter.vocab.lookup_codepoints,
                                 head.buckets)
    names = segmenter.pos_tags
    expected = [names[i] for i in head.tag_ids(features).tolist()]
    got = [tag for line in tagged for _, tag in line]
    words = [word for line in tagged for word, _ in line]
    model_made = [k for k, w in enumerate(words) if all("\u4e00" <= c <= "\u9fff" for c in w)]  # no kind tag
    assert len(model_made) > 10
    assert [got[k] for k in model_made] == [expected[k] for k in model_made]


@pytest.mark.parametrize("spaced", ["我们 喜欢 北京", "我们  喜欢\t北京 "])
def test_whitespace_between_words_is_no_context(spaced):
    """The tagged training text has no whitespace: a word's neighbours are
    the characters around it with whitespace left out."""
    segmenter = Segmenter(threads=1)
    assert [pair for pair in segmenter.tag(spaced) if not pair[0].isspace()] == segmenter.tag("我们喜欢北京")


def test_the_metadata_records_the_tags_and_the_training(with_head, tagged_corpus):
    loaded = model.load(with_head)
    record = loaded.metadata["pos"]
    assert loaded.pos_tags == tuple(pos.tag_set(corpus.read_tagged_corpus(tagged_corpus)))
    assert record["trained_on"]["sha256"] == corpus.sha256(tagged_corpus)
    assert record["trained_on"]["lines"] == len(SENTENCES) * 5
    assert record["trained_on"]["head"]["buckets"] == 1024
    assert record["dev"]["standard"] == "pku"
    assert set(record["dev"]) >= {"tag_accuracy", "joint_f1", "tag_accuracy_gold_cut", "words"}
    # The segmentation metadata is the original model's.
    original = model.load().metadata
    assert {k: v for k, v in loaded.metadata.items() if k != "pos"} == {k: v for k, v in original.items()
                                                                        if k != "pos"}


def test_a_model_without_a_head_has_no_tags_and_refuses_pos(without_head):
    assert model.load(without_head).pos_tags is None
    with pytest.raises(NoTaggingHead, match="no part-of-speech head"):
        Segmenter(without_head).tag("我们喜欢北京")


def test_training_again_replaces_the_head(with_head, tagged_corpus, tmp_path):
    pos.train_pos(with_head, tmp_path, pos.PosConfig(corpus=str(tagged_corpus), epochs=1, max_steps=2, buckets=64,
                                                     width=3), progress=False)
    arrays = model.load(tmp_path).pos_head()
    assert arrays["table"].shape == (64, 3)
    assert (tmp_path / model.MODEL_FILE).read_bytes() == (with_head / model.MODEL_FILE).read_bytes()


@pytest.mark.parametrize("value", ["n v", {"tags": []}, {"tags": ["n", "n"]}, {"tags": [1]}, {"tags": [""]}, {"tags": ["a b"]},
                                   {"dev": {}}])
def test_damaged_pos_metadata_is_a_model_error(with_head, tmp_path, value):
    for path in with_head.iterdir():
        shutil.copy2(path, tmp_path / path.name)
    metadata = json.loads((tmp_path / model.METADATA_FILE).read_text(encoding="utf-8"))
    metadata["pos"] = value
    model.save_metadata(tmp_path, metadata)
    with pytest.raises(ModelError, match="metadata.json.*pos"):
        model.load(tmp_path)


def _damaged_heads():
    good = {"table": np.zeros((8, 2), np.int8), "scales": np.ones(2, np.float32), "biases": np.zeros(2, np.float32),
            "weights": np.zeros((2, 4), np.float32), "out_biases": np.zeros(4, np.float32)}
    yield "missing array", {k: v for k, v in good.items() if k != "scales"}
    yield "float table", {**good, "table": good["table"].astype(np.float32)}
    yield "6 buckets", {**good, "table": np.zeros((6, 2), np.int8)}
    yield "wrong tags", {**good, "weights": np.zeros((2, 5), np.float32), "out_biases": np.zeros(5, np.float32)}
    yield "wrong width", {**good, "biases": np.zeros(3, np.float32)}
    yield "not an archive", None


@pytest.mark.parametrize("arrays", [a for _, a in _damaged_heads()], ids=[n for n, _ in _damaged_heads()])
def test_a_damaged_head_file_is_a_one_line_model_error_naming_it(with_head, tmp_path, arrays):
    for path in with_head.iterdir():
        shutil.copy2(path, tmp_path / path.name)
    metadata = json.loads((tmp_path / model.METADATA_FILE).read_text(encoding="utf-8"))
    model.save_metadata(tmp_path, {**metadata, "pos": {**metadata["pos"], "tags": ["n", "v", "w", "u"]}})
    head = tmp_path / model.POS_HEAD_FILE
    if arrays is None:
        head.write_bytes(b"not a zip")
    else:
        np.savez(head, **arrays)
    with pytest.raises(ModelError, match=f"{model.POS_HEAD_FILE}") as caught:
        Segmenter(tmp_path).tag("我们")
    assert "\n" not in str(caught.value)


def test_the_int8_head_is_the_trained_one_within_its_rounding():
    """Each row's rounding moves a unit by at most half its scale, so a tag
    score moves by at most 12 features x that, weighted: the int8 head's
    scores (the runtime's twin) are the float head's within that bound."""
    import reference_tags

    torch.manual_seed(0)
    buckets, width, tags = 64, 6, 5
    head = pos.Head(buckets, width, tags).eval()
    with torch.no_grad():
        head.bias.uniform_(-0.5, 0.5)
    arrays = pos.quantised(head, buckets)
    rng = np.random.default_rng(0)
    features = rng.integers(-1, buckets, size=(200, 12)).astype(np.int32)
    with torch.no_grad():
        trained = head(torch.from_numpy(np.where(features < 0, buckets, features).astype(np.int64))).numpy()
    shipped = reference_tags.word_logits(features, **arrays)
    bound = (12 * arrays["scales"] / 2) @ np.abs(arrays["weights"]) + 1e-5
    assert (np.abs(shipped - trained) <= bound).all()
    assert (WordHead(**arrays).tag_ids(features) == trained.argmax(axis=1)).mean() > 0.9


@pytest.mark.parametrize(("settings", "message"), [
    (["nope=1"], "unknown setting 'nope=1'"),
    (["width=big"], "setting width needs a value like 16"),
    (["width"], "unknown setting 'width'"),
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


