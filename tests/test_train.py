"""Training code: the objectives against brute force, and a smoke run end to end."""

import itertools
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch", reason="training tests need torch (pip install .[train])")

from segcli import corpus, train  # noqa: E402


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


def test_smoke_training_run_exports_a_working_model(tmp_path, seg_env):
    out = tmp_path / "model"
    run = subprocess.run(
        [sys.executable, "-m", "segcli", "train", "--smoke", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=seg_env,
    )
    assert run.returncode == 0, run.stderr
    for name in ("model.onnx", "vocab.json", "ngrams.npz", "transitions.json", "metadata.json", "training.png"):
        assert (out / name).is_file()
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
