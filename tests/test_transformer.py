"""The BERT-style encoder option: trained from scratch and from a local BERT
checkpoint for a few steps, exported, and run by the normal pipeline."""

import subprocess
import sys

import numpy as np
import pytest

from conftest import DEV_LINES, dev_text

torch = pytest.importorskip("torch", reason="training needs the train extra")

TEXT = "扫描二维码，关注微信号。"


def train(args, seg_env, out):
    run = subprocess.run([sys.executable, "-m", "segcli", "train", "--smoke", "--encoder", "transformer",
                          "--out", str(out), *args], capture_output=True, text=True, timeout=600, env=seg_env)
    return run


@pytest.fixture(scope="module")
def scratch_model(tmp_path_factory, seg_env):
    out = tmp_path_factory.mktemp("transformer") / "model"
    run = train([], seg_env, out)
    assert run.returncode == 0, run.stderr
    return out, run


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A randomly initialised BERT saved with transformers, its vocabulary the
    characters of the smoke corpus: what a downloaded checkpoint looks like."""
    transformers = pytest.importorskip("transformers", reason="--init needs transformers (the train extra)")
    from segcli.corpus import default_corpus, read_corpus

    chars = sorted({c for words in read_corpus(default_corpus())[:1000] for w in words for c in w})
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    config = transformers.BertConfig(vocab_size=len(tokens), hidden_size=32, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("bert") / "tiny-bert"
    transformers.BertModel(config).save_pretrained(str(path))
    (path / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bert_model(tmp_path_factory, seg_env, tiny_bert):
    out = tmp_path_factory.mktemp("bert-tagger") / "model"
    run = train(["--init", str(tiny_bert)], seg_env, out)
    assert run.returncode == 0, run.stderr
    return out, run


def cut(seg_env, model_dir, text, *args):
    return subprocess.run([sys.executable, "-m", "segcli", "--model", str(model_dir), *args],
                          input=(text + "\n").encode(), capture_output=True, env=seg_env)


@pytest.mark.parametrize("which", ["scratch_model", "bert_model"])
def test_trained_transformer_segments_through_the_cli_with_a_dictionary(which, request, seg_env, tmp_path):
    out, run = request.getfixturevalue(which)
    from segcli import model

    loaded = model.load(out)
    assert loaded.metadata["encoder"]["type"] == ("bert" if which == "bert_model" else "transformer")
    assert loaded.window > 0 and loaded.metadata["onnx_max_abs_diff"] < 1e-3
    # Every position the runtime uses was trained: no row longer than the training lines.
    assert loaded.window <= loaded.metadata["config"]["max_train_len"]
    assert "quantization" not in loaded.metadata  # int8 is for the convolutional encoder
    plain = cut(seg_env, out, TEXT)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.decode().replace(" ", "").strip() == TEXT
    dictionary = tmp_path / "d.txt"
    dictionary.write_text("关注微,force\n", encoding="utf-8")
    forced = cut(seg_env, out, TEXT, "--dict", str(dictionary))
    assert forced.returncode == 0 and "关注微" in forced.stdout.decode().split()


@pytest.mark.parametrize("which", ["scratch_model", "bert_model"])
def test_a_line_scores_the_same_alone_batched_and_windowed(which, request):
    out, _ = request.getfixturevalue(which)
    from segcli import Segmenter

    segmenter = Segmenter(out, threads=1)
    long_line = dev_text(3 * segmenter._scorer.window)  # several overlapping windows
    lines = [*DEV_LINES, long_line, "", "好"]
    batched = [segmenter._spans_batch(lines[i:i + 3]) for i in range(0, len(lines), 3)]
    alone = [segmenter._spans_batch([line])[0] for line in lines]
    assert [s for batch in batched for s in batch] == alone
    assert "".join(segmenter.cut(long_line)) == long_line


def test_windows_cover_every_position_once_with_their_core():
    from segcli.score import Scorer

    scorer = Scorer.__new__(Scorer)
    scorer.window = 64
    ids = np.arange(2, 302, dtype=np.int64)
    starts, ends = np.array([0, 10, 200]), np.array([10, 200, 300])
    covered = np.zeros(len(ids), int)
    for chars, _, group in scorer._windows(ids, [], starts, ends):
        assert chars.shape[1] % 32 == 0 and chars.shape[1] <= 64
        for row, (first, last, core_first, core_last) in enumerate(group):
            assert first <= core_first < core_last <= last and last - first <= 64
            assert (chars[row, : last - first] == ids[first:last]).all() and (chars[row, last - first:] == 0).all()
            assert any(s <= first and last <= e for s, e in zip(starts, ends))  # never across sequences
            covered[core_first:core_last] += 1
    assert (covered == 1).all()


def test_windows_wider_than_a_run_still_move_on():
    from segcli.score import RUN_CHARS, Scorer

    scorer = Scorer.__new__(Scorer)
    scorer.window = RUN_CHARS + 4000
    ids = np.full(RUN_CHARS + 1000, 5, dtype=np.int64)
    runs = scorer._windows(ids, [], np.array([0]), np.array([len(ids)]))
    assert len(runs) == 1 and len(runs[0][2]) == 1


def test_init_that_is_not_a_checkpoint_is_a_one_line_error(tmp_path, seg_env):
    run = train(["--init", str(tmp_path / "missing")], seg_env, tmp_path / "out")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"seg: error: --init {tmp_path / 'missing'}: not a Hugging Face checkpoint directory (no config.json)"]


def test_device_cuda_without_a_cuda_provider_is_a_one_line_error(seg_env):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has a CUDA provider")
    run = subprocess.run([sys.executable, "-m", "segcli", "--device", "cuda"], input="你好\n".encode(),
                         capture_output=True, env=seg_env)
    assert run.returncode == 1
    assert run.stderr.decode().strip().splitlines() == [
        "seg: error: --device cuda: this onnxruntime has no CUDA provider (pip install onnxruntime-gpu)"]


def test_training_on_cuda_without_one_is_a_one_line_error(tmp_path, seg_env):
    if torch.cuda.is_available():
        pytest.skip("this PyTorch sees a CUDA device")
    run = subprocess.run([sys.executable, "-m", "segcli", "train", "--smoke", "--set", "device=cuda",
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300, env=seg_env)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "seg: error: device=cuda: this PyTorch sees no CUDA device (a CPU build, or no GPU)")
