"""The model directory: loading the shipped model, saving and loading back, errors."""

import io
import json
import shutil

import numpy as np
import pytest

from segcli import model
from segcli.encode import Vocab
from segcli.errors import ModelError, SegError

FILES = (model.MODEL_FILE, model.VOCAB_FILE, model.NGRAMS_FILE, model.TRANSITIONS_FILE,
         model.TRAIN_WORDS_FILE, model.METADATA_FILE)


@pytest.fixture(scope="module")
def shipped():
    return model.load()


def test_the_shipped_model_loads(shipped):
    assert shipped.directory == model.default_dir()
    assert shipped.vocab.size > 2 and shipped.vocab.chars
    assert shipped.default_standard == "pku" and "pku" in shipped.descriptions
    assert list(shipped.transitions) == list(shipped.standards)
    for matrix in shipped.transitions.values():
        assert matrix.shape == (4, 4) and matrix.dtype == np.float32
    assert shipped.standard_input == (len(shipped.standards) > 1 and shipped.format >= 2)
    assert shipped.onnx_path == shipped.directory / "model.onnx" and shipped.onnx_path.is_file()
    architecture = shipped.metadata["architecture"]
    assert shipped.context == architecture["context"] > 0
    assert shipped.gap == architecture["kernel"] // 2 * max(1, *architecture["dilations"]) >= 1
    words = shipped.train_words()
    assert words and all(isinstance(w, str) and w for w in words)
    assert shipped.train_words("pku") <= words
    assert shipped.dev_scores("pku")["f1"] > 0.9


def test_load_takes_a_string_path(shipped):
    again = model.load(str(shipped.directory))
    assert again.directory == shipped.directory and again.vocab.chars == shipped.vocab.chars


def _toy(tmp_path, fmt=model.FORMAT):
    """A model directory of two standards, "pku" and "weibo" (format 1: "pku" only)."""
    vocab = Vocab("中人国民", {2: np.array([7, 30, 31], np.int64)}, {})
    vocab = Vocab(vocab.chars, vocab.ngram_keys, vocab.word_keys_of({"中国", "人民", "国人民"}, 3))
    matrix = np.arange(16, dtype=np.float32).reshape(4, 4) / 7
    architecture = {"context": 5, "kernel": 3, "dilations": [1, 2]}
    metadata = {"format": fmt, "architecture": architecture, "note": "中文"}
    words = {"pku": {"人民", "中国"}, "weibo": {"国", "人民"}}
    if fmt == 1:
        transitions, standard_words = matrix, None
        metadata["dev"] = {"f1": 0.5}
    else:
        transitions = {"pku": matrix, "weibo": -matrix}
        standard_words = words
        architecture.update(standard_input=True, standard_dim=16)
        metadata["standards"] = [{"name": "pku", "description": "PKU", "corpora": []},
                                 {"name": "weibo", "description": "Weibo", "corpora": []}]
        metadata["dev"] = {"pku": {"f1": 0.5}, "weibo": {"f1": 0.25}}
    directory = tmp_path / "toy"
    model.save(directory, vocab=vocab, transitions=transitions, train_words={"人民", "中国", "国"},
               metadata=metadata, standard_words=standard_words)
    (directory / model.MODEL_FILE).write_bytes(b"")  # load() only checks that it is there
    return directory, vocab, transitions, metadata


def test_save_then_load_round_trips(tmp_path):
    directory, vocab, transitions, metadata = _toy(tmp_path)
    loaded = model.load(directory)
    assert loaded.metadata == metadata
    assert loaded.vocab.chars == vocab.chars
    assert loaded.vocab.ngram_keys.keys() == vocab.ngram_keys.keys()
    assert loaded.vocab.word_keys.keys() == vocab.word_keys.keys() == {2, 3}
    for n in vocab.ngram_keys:
        np.testing.assert_array_equal(loaded.vocab.ngram_keys[n], vocab.ngram_keys[n])
    for n in vocab.word_keys:
        np.testing.assert_array_equal(loaded.vocab.word_keys[n], vocab.word_keys[n])
    assert list(loaded.transitions) == ["pku", "weibo"]
    for name in ("pku", "weibo"):
        np.testing.assert_array_equal(loaded.transitions[name], transitions[name])
        assert loaded.transitions[name].dtype == np.float32
    assert loaded.train_words() == {"人民", "中国", "国"}
    assert loaded.train_words("pku") == {"人民", "中国"} and loaded.train_words("weibo") == {"国", "人民"}
    assert (loaded.context, loaded.gap) == (5, 2)
    assert loaded.format == 2 and loaded.standards == ("pku", "weibo") and loaded.standard_input
    assert loaded.descriptions == {"pku": "PKU", "weibo": "Weibo"}
    assert (loaded.default_standard, loaded.standard_id("pku"), loaded.standard_id("weibo")) == ("pku", 0, 1)
    assert loaded.dev_scores() == {"f1": 0.5} and loaded.dev_scores("weibo") == {"f1": 0.25}
    ids = loaded.vocab.char_ids("中国人民x")
    np.testing.assert_array_equal(ids, vocab.char_ids("中国人民x"))


def test_an_unknown_standard_is_a_model_error(tmp_path):
    loaded = model.load(_toy(tmp_path)[0])
    with pytest.raises(ModelError, match=r"^unknown standard 'ctb'; this model knows: pku, weibo$"):
        loaded.standard_id("ctb")
    with pytest.raises(ModelError):
        loaded.train_words("ctb")


def test_a_format_1_directory_loads_as_one_standard_pku(tmp_path):
    directory, vocab, matrix, metadata = _toy(tmp_path, fmt=1)
    assert (directory / "transitions.json").read_text() == json.dumps(matrix.tolist()) + "\n"
    assert not list(directory.glob("train_words_*"))
    loaded = model.load(directory)
    assert loaded.format == 1 and loaded.standards == ("pku",) and not loaded.standard_input
    assert list(loaded.transitions) == ["pku"]
    np.testing.assert_array_equal(loaded.transitions["pku"], matrix)
    assert loaded.descriptions["pku"].startswith("Peking University")
    assert loaded.train_words("pku") == loaded.train_words() == {"人民", "中国", "国"}
    assert loaded.dev_scores("pku") == {"f1": 0.5}


def test_saved_files_keep_their_format(tmp_path):
    directory, vocab, transitions, metadata = _toy(tmp_path)
    assert (directory / "vocab.json").read_bytes() == json.dumps({"chars": "中人国民"}, ensure_ascii=False).encode()
    assert (directory / "transitions.json").read_text() == json.dumps(
        {"pku": transitions["pku"].tolist(), "weibo": transitions["weibo"].tolist()}) + "\n"
    assert (directory / "train_words.txt").read_text(encoding="utf-8") == "中国\n人民\n国\n"
    assert (directory / "train_words_pku.txt").read_text(encoding="utf-8") == "中国\n人民\n"
    assert (directory / "train_words_weibo.txt").read_text(encoding="utf-8") == "人民\n国\n"
    assert (directory / "metadata.json").read_text(encoding="utf-8") == (
        json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    with np.load(directory / "ngrams.npz") as stored:
        assert sorted(stored.files) == ["order_2", "words_2", "words_3"]


def test_saving_the_shipped_model_reproduces_its_files(shipped, tmp_path):
    per_standard = shipped.format >= 2
    model.save(tmp_path, vocab=shipped.vocab, transitions=shipped.transitions,
               train_words=shipped.train_words(), metadata=shipped.metadata,
               standard_words={s: shipped.train_words(s) for s in shipped.standards} if per_standard else None)
    names = [model.VOCAB_FILE, model.TRANSITIONS_FILE, model.TRAIN_WORDS_FILE, model.METADATA_FILE]
    names += [model.train_words_file(s) for s in shipped.standards] if per_standard else []
    for name in names:
        assert (tmp_path / name).read_bytes() == (shipped.directory / name).read_bytes(), name


def test_a_model_without_a_word_list_has_no_train_words(tmp_path):
    directory = _toy(tmp_path)[0]
    (directory / model.TRAIN_WORDS_FILE).unlink()
    assert model.load(directory).train_words() is None


def test_a_missing_directory_is_a_model_error(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelError) as e:
        model.load(missing)
    assert isinstance(e.value, SegError)
    assert str(e.value) == f"cannot load model: {missing / 'metadata.json'}: No such file or directory"


@pytest.mark.parametrize("name", FILES)
def test_each_missing_file_is_named(tmp_path, name):
    directory = _toy(tmp_path)[0]
    (directory / name).unlink()
    if name == model.TRAIN_WORDS_FILE:
        assert model.load(directory).train_words() is None  # optional
        return
    with pytest.raises(ModelError, match=f"^cannot load model: .*{name}: No such file or directory$"):
        model.load(directory)


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (model.METADATA_FILE, b'{"architecture": {"context": 5, '),
        (model.METADATA_FILE, b"\xff\xfe"),
        (model.METADATA_FILE, b"[1, 2]"),
        (model.METADATA_FILE, b'{"architecture": {"context": 5, "kernel": 3}}'),
        (model.VOCAB_FILE, b'{"chars": 5}'),
        (model.VOCAB_FILE, b""),
        (model.NGRAMS_FILE, b"PK\x03\x04 damaged"),
        (model.NGRAMS_FILE, b"not a zip at all"),
        (model.NGRAMS_FILE, _npz(order_2=np.array([5, -3]))),  # keys are positive
        (model.NGRAMS_FILE, _npz(order_2=np.array([5, 0]))),
        (model.NGRAMS_FILE, _npz(words_2=np.array([[5, 6]]))),
        (model.NGRAMS_FILE, _npz(words_2=np.array([0.5]))),
        (model.NGRAMS_FILE, _npz(order_2=np.array([2**63], dtype=np.uint64))),  # past int64
        (model.NGRAMS_FILE, _npz(words_1=np.array([5]))),  # a word of one character: no key of its own
        (model.NGRAMS_FILE, _npz(words_30=np.array([5]))),  # 30 digits of the vocabulary overflow 64 bits
        (model.NGRAMS_FILE, _npz(words_99999999=np.array([5]))),  # would build a table a length
        (model.NGRAMS_FILE, _npz(order_x=np.array([5]))),  # no order
        (model.METADATA_FILE, b'{"format": 3, "architecture": {"context": 5, "kernel": 3, "dilations": [1]}}'),
        (model.METADATA_FILE, b'{"format": 2, "architecture": {"context": 5, "kernel": 3, "dilations": [1]}}'),
        (model.METADATA_FILE, b'{"format": 2, "architecture": {"context": 5, "kernel": 3, "dilations": [1]}, '
                              b'"standards": [{"name": "pku"}, {"name": "pku"}]}'),
        (model.METADATA_FILE, b'{"format": 2, "architecture": {"context": 5, "kernel": 3, "dilations": [1]}, '
                              b'"standards": [{"name": "P K U"}]}'),
        (model.TRANSITIONS_FILE, b"[[1, 2], [3, 4]]"),
        (model.TRANSITIONS_FILE, b"[[1, 2], [3]]"),
        (model.TRANSITIONS_FILE, b"nope"),
        (model.TRANSITIONS_FILE, json.dumps([[0] * 4] * 4).encode()),  # format 1 layout in a format 2 model
        (model.TRANSITIONS_FILE, json.dumps({"pku": [[0] * 4] * 4}).encode()),  # weibo missing
        (model.TRANSITIONS_FILE, json.dumps({"pku": [[0] * 4] * 4, "weibo": [[0] * 3] * 4}).encode()),
    ],
)
def test_a_damaged_file_is_a_one_line_model_error_naming_it(tmp_path, name, content):
    directory = _toy(tmp_path)[0]
    (directory / name).write_bytes(content)
    with pytest.raises(ModelError) as e:
        model.load(directory)
    message = str(e.value)
    assert message.startswith(f"cannot load model: {directory / name}: ")
    assert "\n" not in message


def test_members_of_ngrams_npz_that_hold_no_keys_are_not_read(tmp_path):
    import zipfile

    directory, vocab = _toy(tmp_path)[:2]
    with zipfile.ZipFile(directory / model.NGRAMS_FILE, "a") as archive:
        archive.writestr("notes.txt", b"not an array")
        archive.writestr("extra.npy", _npz(x=np.array([0.5])))  # not a key array's name
    loaded = model.load(directory).vocab
    assert {n: k.tolist() for n, k in loaded.ngram_keys.items()} == {n: k.tolist() for n, k in vocab.ngram_keys.items()}


def test_a_damaged_word_list_is_a_model_error(tmp_path):
    directory = _toy(tmp_path)[0]
    (directory / model.TRAIN_WORDS_FILE).write_bytes(b"\xff\n")
    loaded = model.load(directory)  # read on demand only
    with pytest.raises(ModelError, match=r"train_words\.txt: invalid UTF-8 at byte 0$"):
        loaded.train_words()


def test_a_directory_in_place_of_a_file_is_a_model_error(tmp_path):
    directory = _toy(tmp_path)[0]
    (directory / model.TRANSITIONS_FILE).unlink()
    (directory / model.TRANSITIONS_FILE).mkdir()
    with pytest.raises(ModelError, match="transitions.json: Is a directory$"):
        model.load(directory)


def test_save_refuses_transitions_of_the_wrong_shape(tmp_path):
    vocab = Vocab("中", {}, {})
    with pytest.raises(ValueError):
        model.save(tmp_path, vocab=vocab, transitions=np.zeros((3, 4)), train_words=(), metadata={})
    with pytest.raises(ValueError):
        model.save(tmp_path, vocab=vocab, transitions=np.zeros((3, 4)), train_words=(), metadata={"format": 1})
    standards = {"format": 2, "standards": [{"name": "pku"}, {"name": "weibo"}]}
    with pytest.raises(ValueError):  # format 2 needs one matrix per standard
        model.save(tmp_path, vocab=vocab, transitions=np.zeros((4, 4)), train_words=(), metadata=standards)
    with pytest.raises(ValueError):
        model.save(tmp_path, vocab=vocab, transitions={"pku": np.zeros((4, 4))}, train_words=(), metadata=standards)


def test_default_dir_is_the_checkout_or_installed_models():
    directory = model.default_dir()
    assert directory.name == "models" and (directory / model.MODEL_FILE).is_file()


def test_a_copy_of_the_shipped_model_loads_alike(shipped, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(shipped.directory, copy)
    loaded = model.load(copy)
    assert loaded.metadata == shipped.metadata
    assert loaded.standards == shipped.standards and loaded.standard_input == shipped.standard_input
    for name, matrix in shipped.transitions.items():
        np.testing.assert_array_equal(loaded.transitions[name], matrix)
