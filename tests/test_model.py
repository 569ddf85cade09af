"""The model directory: loading the shipped model, saving and loading back, errors."""

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
    assert shipped.transitions.shape == (4, 4) and shipped.transitions.dtype == np.float32
    assert shipped.onnx_path == shipped.directory / "model.onnx" and shipped.onnx_path.is_file()
    architecture = shipped.metadata["architecture"]
    assert shipped.context == architecture["context"] > 0
    assert shipped.gap == architecture["kernel"] // 2 * max(1, *architecture["dilations"]) >= 1
    words = shipped.train_words()
    assert words and all(isinstance(w, str) and w for w in words)


def test_load_takes_a_string_path(shipped):
    again = model.load(str(shipped.directory))
    assert again.directory == shipped.directory and again.vocab.chars == shipped.vocab.chars


def _toy(tmp_path):
    vocab = Vocab("中人国民", {2: np.array([7, 30, 31], np.int64)}, {})
    vocab = Vocab(vocab.chars, vocab.ngram_keys, vocab.word_keys_of({"中国", "人民", "国人民"}, 3))
    transitions = np.arange(16, dtype=np.float32).reshape(4, 4) / 7
    metadata = {"format": model.FORMAT, "architecture": {"context": 5, "kernel": 3, "dilations": [1, 2]},
                "note": "中文"}
    directory = tmp_path / "toy"
    model.save(directory, vocab=vocab, transitions=transitions, train_words={"人民", "中国", "国"},
               metadata=metadata)
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
    np.testing.assert_array_equal(loaded.transitions, transitions)
    assert loaded.train_words() == {"人民", "中国", "国"}
    assert (loaded.context, loaded.gap) == (5, 2)
    ids = loaded.vocab.char_ids("中国人民x")
    np.testing.assert_array_equal(ids, vocab.char_ids("中国人民x"))


def test_saved_files_keep_their_format(tmp_path):
    directory, vocab, transitions, metadata = _toy(tmp_path)
    assert (directory / "vocab.json").read_bytes() == json.dumps({"chars": "中人国民"}, ensure_ascii=False).encode()
    assert (directory / "transitions.json").read_text() == json.dumps(transitions.tolist()) + "\n"
    assert (directory / "train_words.txt").read_text(encoding="utf-8") == "中国\n人民\n国\n"
    assert (directory / "metadata.json").read_text(encoding="utf-8") == (
        json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    with np.load(directory / "ngrams.npz") as stored:
        assert sorted(stored.files) == ["order_2", "words_2", "words_3"]


def test_saving_the_shipped_model_reproduces_its_files(shipped, tmp_path):
    model.save(tmp_path, vocab=shipped.vocab, transitions=shipped.transitions,
               train_words=shipped.train_words(), metadata=shipped.metadata)
    for name in (model.VOCAB_FILE, model.TRANSITIONS_FILE, model.TRAIN_WORDS_FILE, model.METADATA_FILE):
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
        (model.TRANSITIONS_FILE, b"[[1, 2], [3, 4]]"),
        (model.TRANSITIONS_FILE, b"[[1, 2], [3]]"),
        (model.TRANSITIONS_FILE, b"nope"),
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


def test_default_dir_is_the_checkout_or_installed_models():
    directory = model.default_dir()
    assert directory.name == "models" and (directory / model.MODEL_FILE).is_file()


def test_a_copy_of_the_shipped_model_loads_alike(shipped, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(shipped.directory, copy)
    loaded = model.load(copy)
    assert loaded.metadata == shipped.metadata
    np.testing.assert_array_equal(loaded.transitions, shipped.transitions)
